/* cli.h — pieces shared by the bvt commands: files, options, errors,
 * buffered output, the engine and its secret, and loading event files. */
#ifndef BVT_CLI_CLI_H
#define BVT_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <behavtarget.h>

#include "cli_input.h"
#include "idmap.h"

/* Exit statuses (docs/cli.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* bad input or a failure while running */
#define CLI_EXIT_USAGE 2 /* bad command line or environment */

/* Events per bvt_event_track_batch() call. */
#define CLI_BATCH 4096

/* A whole input file in memory (mapped when it is a regular file). */
typedef struct cli_file {
    const char *data;
    size_t len;
    void *map;      /* munmap() this, or */
    char *heap;     /* free() this */
    size_t map_len;
} cli_file;

/* Load path; on failure prints "bvt: PATH: reason" and returns -1. */
int cli_file_load(cli_file *f, const char *path);
void cli_file_free(cli_file *f);

/* When path was last written (its modification time), in epoch ms; the
 * current time for what is not a regular file (a pipe is written now).
 * The reference of the "after the file was written" time check. */
int64_t cli_file_written_ms(const char *path);

/* "PATH:LINE: reason" on stderr. */
void cli_input_error(const char *path, size_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* "PATH:LINE:COL: reason" on stderr (rules files: COL is the 1-based byte
 * in the line). */
void cli_input_error_at(const char *path, size_t line, size_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* One option of a command: --name VALUE (or --name=VALUE). */
typedef struct cli_opt {
    const char *name; /* without the dashes */
    const char **value;
} cli_opt;

/* Parse argv[1..] of a command.  Returns -1 to go on, or an exit status:
 * 0 after printing usage for --help, CLI_EXIT_USAGE after printing the
 * problem and usage on stderr. */
int cli_parse(int argc, char **argv, const char *usage, const cli_opt *opts, size_t nopts,
              const char **positional, size_t max_positional, size_t *npositional);

/* Take the option --name that has no value (a flag) out of argv, before
 * cli_parse(), which knows only options with values: *argc shrinks, and
 * the result says whether it was there.  A value of another option that
 * reads "--name" stays (every other option takes one), as does anything
 * after "--". */
int cli_take_flag(int *argc, char **argv, const char *name);

/* Print "bvt: message" and usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- reading files (cli_input.c) ------------------------------------ */

/* The reading options of the commands that read a file (docs/cli.md,
 * "Reading files"), as given on the command line. */
typedef struct cli_input_args {
    const char *time_format, *columns, *delimiter, *custom_types, *types_file, *max_errors,
        *rejects, *returns;
} cli_input_args;

/* Their entries in a command's cli_opt table. */
#define CLI_INPUT_OPTS(a)                                                              \
    { "time-format", &(a).time_format }, { "columns", &(a).columns },                  \
        { "delimiter", &(a).delimiter }, { "custom-types", &(a).custom_types },        \
        { "types-file", &(a).types_file }, { "max-errors", &(a).max_errors },          \
        { "rejects", &(a).rejects }, { "returns", &(a).returns }

/* Their usage text. */
#define CLI_INPUT_USAGE                                                                    \
    "Reading the file (docs/cli.md, \"Reading files\"):\n"                               \
    "  --time-format F    how times are written: auto (the default: ISO 8601, or an\n"    \
    "                     integer that can only be epoch ms; 8-10 digits are refused\n"   \
    "                     as ambiguous), iso, yyyymmdd, epoch-s or epoch-ms\n"            \
    "  --columns F=COL,.. read field F from column (or JSON key) COL\n"                   \
    "  --delimiter C      CSV field delimiter: , (default) ; | or \\t\n"                 \
    "  --custom-types A,B event types besides the built-in ones (others are refused)\n"   \
    "  --types-file FILE  the same, one name per line\n"                                  \
    "  --max-errors N     skip up to N bad records (default 0: stop at the first)\n"      \
    "  --rejects FILE     write skipped records to FILE (CSV: line,field,reason,record)\n" \
    "  --returns MODE     a purchase with a negative value or quantity: reject (the\n"    \
    "                     default: a bad record) or ignore (skipped and counted)"

/* Check the values of a into *in (zeroed first; in->declared gets the
 * custom types).  fields[0..nfields): the reader's field names, that
 * --columns may map (NULL: checked when the file is opened).  rfm: the
 * command is bvt rfm, which alone can subtract returns.  Returns -1 to go
 * on, or an exit status after printing the problem (and usage). */
int cli_input_parse(const cli_input_args *a, cli_input *in, const char *usage,
                    const char *const *fields, size_t nfields, int rfm);

/* The name of the first reading option given in a ("--time-format"), or
 * NULL when none is. */
const char *cli_input_args_given(const cli_input_args *a);

/* The event types a file may name: the declared custom types, registered
 * in e (interest weight 1) when e is not NULL, and every type e (or, when
 * NULL, the library) knows.  Returns 0, or CLI_EXIT_FAIL after printing
 * why the library refused a declared type. */
int cli_input_vocabulary(bvt_engine *e, const cli_input *in, cli_types *vocab);

/* A time given on the command line (--now, --end), read as the files'
 * default (BVT_TIME_AUTO) reads it.  Returns 0, or CLI_EXIT_USAGE after
 * printing "bvt: OPTION: reason" and usage. */
int cli_time_option(const char *option, const char *text, int64_t *out, const char *usage);

/* (cli_engine.c) Create an engine with opts (NULL = defaults) and the
 * user-id secret read from secret_file (--secret-file: the whole file, one
 * trailing newline stripped) when not NULL, else from BVT_SECRET, else the
 * built-in key.  Returns 0 or an exit status after printing the problem
 * (CLI_EXIT_USAGE for a secret that is missing, short or unreadable). */
int cli_engine_new(bvt_engine **out, const bvt_options *opts, const char *secret_file);

/* How a command opens a state directory (cli_state_open). */
typedef struct cli_state {
    const char *dir;
    const char *secret_file; /* --secret-file, or NULL for BVT_SECRET */
    /* Engine options given on the command line (BVT_OPTIONS_GIVEN: the
     * library refuses a data-shaping one that differs from DIR's), or NULL
     * for the ones DIR records (the defaults for a DIR that records none). */
    const bvt_options *opts;
    uint32_t access;   /* enum bvt_state_access */
    uint32_t journal;  /* enum bvt_journal_mode; BVT_JOURNAL_OFF when read-only */
    uint32_t group_ms; /* 0 = the library's default */
    int create;        /* a missing dir is created (ingest), else an error: a
                        * mistyped name must not read as an empty state */
} cli_state;

/* (cli_engine.c) Open cs->dir with bvt_engine_open(): the one place the
 * commands open a state directory.  The secret comes from cs->secret_file
 * or BVT_SECRET; the built-in key is refused (CLI_EXIT_USAGE), since a
 * state written with a public key protects no id.  Returns 0, or
 * CLI_EXIT_FAIL after printing "bvt: DIR: reason" (damage that a repair
 * can drop names `bvt repair --state DIR`). */
int cli_state_open(bvt_engine **out, const cli_state *cs);

/* The library's message for a failed call, or the status's text. */
const char *cli_error_text(const bvt_error *err, int rc);

/* (cli_support.c) Large arrays (rows of a big file): anonymous memory with transparent huge
 * pages requested, which cuts page-fault time several-fold.  NULL when out of
 * memory.  Free with the same size. */
void *cli_big_alloc(size_t bytes);
void cli_big_free(void *p, size_t bytes);

/* Seconds from a monotonic clock (for events_per_s; the library itself
 * never reads a clock). */
double cli_seconds(void);

/* Output is built in memory and written at the end, so a command that
 * fails half way prints nothing on stdout. */
typedef struct cli_out {
    char *p;
    size_t n, cap;
    int oom;
} cli_out;

void cli_out_printf(cli_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_out_bytes(cli_out *o, const char *s, size_t n);
/* Make room for n more bytes up front (an estimate; output still grows). */
void cli_out_reserve(cli_out *o, size_t n);
/* A number rounded to 6 decimals, trailing zeros removed ("30.428571", "2", "0.5"). */
void cli_out_fixed6(cli_out *o, double v);
/* A CSV field, quoted RFC 4180 style when it holds a comma, quote or line
 * break. */
void cli_out_csv_field(cli_out *o, const char *s, size_t n);
/* A JSON string literal, escaped. */
void cli_out_json_string(cli_out *o, const char *s, size_t n);
/* The shortest decimal that reads back to v (%.15g .. %.17g; "15.3", not
 * "15.300000000000001"), never -0: how bvt prints a number the library
 * holds at full precision, as the library's own JSON does. */
void cli_out_double(cli_out *o, double v);
/* A JSON number as cli_out_double(), or null when not finite. */
void cli_out_json_number(cli_out *o, double v);
/* The time ms as a JSON string in ISO 8601 UTC (bvt_time_format(), the
 * form of every *_iso member), or null for 0 (it never happened). */
void cli_out_json_time(cli_out *o, int64_t ms);
/* Write to stdout and free; returns 0 or CLI_EXIT_FAIL. */
int cli_out_flush(cli_out *o);
void cli_out_free(cli_out *o);

/* Loading an event file into an engine (ingest, profile, segments, report). */
typedef struct cli_load {
    /* in: how to read the file (NULL: the strict default); its declared
     * custom types are registered in the engine first */
    const cli_input *input;
    /* in: a user whose item ids are remembered (to name cart items), or NULL */
    const char *watch_user;
    size_t watch_len;
    /* in: when set (and idmap_init'ed), every user id is interned here, so
     * that keyed hashes from the engine can be mapped back to raw ids */
    idmap *users;
    /* in: when > 0, records later than this are read and checked but not
     * tracked (and not counted in events) */
    int64_t until_ms;
    /* in: when > 0, no batch crosses a multiple of this many events, so
     * after_batch sees every multiple */
    uint64_t batch_every;
    /* in: when set, called after each batch is tracked, with the number of
     * records done so far (events tracked, and records skipped as bad or
     * as ignored returns); a non-zero result stops the load and is
     * returned */
    int (*after_batch)(void *ud, uint64_t tracked);
    void *after_batch_ud;
    /* out */
    idmap watch_items;  /* item ids of watch_user; init'ed by cli_load_events */
    uint64_t events;    /* events tracked */
    uint64_t skipped;   /* records skipped (bad records under --max-errors, returns) */
    int64_t last_ms;    /* latest event time in the file */
    double seconds;     /* wall time spent parsing and tracking */
} cli_load;

/* Parse the file (CSV or JSON Lines, by content) and track every event in
 * batches.  Returns 0, or CLI_EXIT_FAIL after printing "PATH:LINE: reason"
 * (a bad record past the --max-errors budget, or the library refusing an
 * event).  The caller frees ld->watch_items with idmap_free(). */
int cli_load_events(bvt_engine *e, const char *path, const char *buf, size_t len,
                    cli_load *ld);

/* (cli_source.c) Where an analysis command (profile, segments, report,
 * rfm) finds its events: a file tracked into a fresh engine (--events
 * FILE), or a state directory opened read-only with the options it records
 * (--state DIR: its last checkpoint plus its journal; no file changes, and
 * other readers may share it).  Each command runs the same code on either;
 * only what a state directory cannot hold differs (raw user ids, item ids). */
typedef struct cli_source {
    const char *events;      /* --events FILE (rfm: --input FILE), or NULL */
    const char *state;       /* --state DIR, or NULL */
    const char *secret_file; /* --secret-file, or NULL for BVT_SECRET */
    cli_load load;           /* how FILE is tracked (in) and what it held (out) */
    cli_file file;           /* FILE's bytes, read by cli_source_engine() */
} cli_source;

/* Exactly one of the file (file_opt: "--events FILE", rfm's "--input
 * FILE") and --state, and no reading option (ia) with --state, whose
 * events were read when they were tracked: -1 when so, else the usage
 * error (exit status) after printing it, naming cmd. */
int cli_source_check(const cli_source *src, const cli_input_args *ia, const char *file_opt,
                     const char *usage, const char *cmd);

/* The engine: for FILE, a fresh one with opts (NULL = the library's
 * defaults) after reading FILE (cli_source_track() tracks it); for DIR,
 * DIR opened read-only (refused while a writer holds it).  0 or an exit
 * status after printing why. */
int cli_source_engine(cli_source *src, const bvt_options *opts, bvt_engine **out);

/* Track FILE's events into e (nothing to do for DIR, which holds them). */
int cli_source_track(cli_source *src, bvt_engine *e);

/* The latest event time into *out: FILE's, or DIR's (the largest
 * last_seen_ms of its profiles, one pass over them); 0 when there are no
 * events.  0, or an exit status after printing why. */
int cli_source_last_ms(cli_source *src, bvt_engine *e, int64_t *out);

/* FILE or DIR, for messages. */
const char *cli_source_name(const cli_source *src);

void cli_source_free(cli_source *src);

/* A user's keyed hash as 32 lowercase hex digits (hi then lo), as `bvt
 * export` names users: what a state directory knows them by. */
#define CLI_KEY_HEX 33
void cli_key_hex(const bvt_user_key *k, char out[CLI_KEY_HEX]);

/* Segments defined from a rules file, in file order. */
typedef struct cli_rule_def {
    char *name;
    uint32_t id;
} cli_rule_def;

typedef struct cli_rule_set {
    cli_rule_def *defs;
    size_t n, cap;
} cli_rule_set;

/* A space or tab: what separates and surrounds fields in definition files. */
static inline int cli_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* (cli_lines.c) Call fn for each line of a definitions file (rules, offers) that is
 * neither blank nor a '#' comment, with its 1-based number and its bytes
 * (no '\n', no trailing '\r').  Stops at fn's first non-zero result and
 * returns it; 0 when every line was taken. */
int cli_each_line(const char *buf, size_t len,
                  int (*fn)(void *ud, size_t line, const char *p, size_t n), void *ud);

/* Define the segments of a rules file (one "name: rule" per line; blank
 * lines and '#' comments skipped) with bvt_segment_define().  Returns 0, or
 * CLI_EXIT_FAIL after printing "PATH:LINE:COL: reason".  The caller frees rs
 * with cli_rule_set_free() (also after a failure). */
int cli_rules_define(bvt_engine *e, const char *path, const char *buf, size_t len,
                     cli_rule_set *rs);
void cli_rule_set_free(cli_rule_set *rs);

/* (cli_support.c) Progress on stderr every million lines, only when stderr
 * is a terminal. */
void cli_progress(const char *path, uint64_t lines);
void cli_progress_done(uint64_t lines);

/* What `bvt rfm` asks, from its command line. */
typedef struct cli_rfm_ask {
    int has_end;     /* --end given */
    int64_t end_ms;  /* --end, any time of the end day */
    int64_t unit_ms; /* --unit-days in ms */
    int scores;      /* --scores */
} cli_rfm_ask;

/* (cmd_rfm.c) The end the summaries are asked at: the last ms of --end's
 * day, else last_ms (the latest purchase read). */
int64_t cli_rfm_end_ms(const cli_rfm_ask *ask, int64_t last_ms);
/* (cmd_rfm.c) The output of `bvt rfm`, one way for a file and a state: the
 * header, with id_column first, and one customer's line (scores: NULL, or
 * r, f, m with --scores). */
void cli_rfm_header(cli_out *o, const char *id_column, int scores);
void cli_rfm_row(cli_out *o, const char *id, size_t len, const bvt_rfm_summary *s,
                 const uint32_t *scores);
/* (rfm_state.c) `bvt rfm --state DIR`: every buyer DIR holds, by keyed
 * hash.  Returns an exit status. */
int cli_rfm_state(cli_source *src, const cli_rfm_ask *ask);

int cmd_rfm(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_segments(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_ope(int argc, char **argv);
/* (cmd_state.c) the commands on a state directory */
int cmd_stats(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_repair(int argc, char **argv);

/* (cmd_ingest.c) The key=value lines of `bvt ingest` for e after ld. */
int cli_print_ingest(bvt_engine *e, const cli_load *ld);

/* (ingest_state.c) `bvt ingest --state`: track the events of path (its
 * bytes buf, len, read as in says) into the state directory cs describes;
 * with ack_every > 0 print "acked K" lines as the records become durable;
 * then the ingest key=value lines.  Returns an exit status. */
int cli_ingest_state(const char *path, const char *buf, size_t len, const cli_state *cs,
                     uint64_t ack_every, const cli_input *in);

#endif
