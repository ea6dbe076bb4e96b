/* cli_time.h — reading times: the one helper every reader of bvt uses
 * (event files, bvt rfm's transactions, --now and --end).
 *
 * Times are read by the library's bvt_time_parse() under a format: the
 * default (BVT_TIME_AUTO) takes ISO 8601 and integers that can only be
 * epoch milliseconds, and refuses the 8-digit and 9-10-digit integers that
 * could mean two things; --time-format names the format instead.  A read
 * time must be after 1970-01-01T00:00:00Z, since event times are > 0.
 *
 * After a file is read, times that are probably misread are warned about
 * once per kind, with a count (cli_time_check): times before 1990, and
 * times more than a day after the file was written (its modification time:
 * a file cannot record events from after it was written). */
#ifndef BVT_CLI_TIME_H
#define BVT_CLI_TIME_H

#include <stddef.h>
#include <stdint.h>

#include <behavtarget.h>

/* 1990-01-01T00:00:00Z and one day, in epoch milliseconds. */
#define CLI_TIME_1990_MS 631152000000LL
#define CLI_TIME_DAY_MS 86400000LL

/* The names --time-format takes, for messages. */
#define CLI_TIME_FORMATS "auto, iso, yyyymmdd, epoch-s or epoch-ms"

/* A --time-format name into *out (enum bvt_time_format); 0, or -1 for a
 * name not in CLI_TIME_FORMATS. */
int cli_time_format_of(const char *name, uint32_t *out);

/* Short reasons a time is refused, for counting refusals by reason. */
#define CLI_TIME_AMBIGUOUS "ambiguous time"
#define CLI_TIME_NOT_A_TIME "not a time of the format"
#define CLI_TIME_TOO_EARLY "time not after 1970"

/* Read s[0..n) as a time of `format` (enum bvt_time_format) into *out,
 * which is then > 0.  Returns 0, or -1 with the reason in why[0..cap)
 * (the library's message, which quotes the text) and *kind set to one of
 * the short reasons above.  `option`, when not NULL, names the option that
 * chooses the format and is added to the message of an ambiguous time
 * ("... choose the format (yyyymmdd or epoch-ms) with --time-format"). */
int cli_time_read(const char *s, size_t n, uint32_t format, const char *option, int64_t *out,
                  char *why, size_t cap, const char **kind);

/* cli_time_read() for a reader whose user has no option that chooses the
 * format (the decision server's clients): the message of a refused time
 * ends with "; " and `advice` (such as "send ISO 8601 text or epoch
 * milliseconds"), which takes the place of the library's advice to choose
 * a format. */
int cli_time_read_advised(const char *s, size_t n, uint32_t format, const char *advice,
                          int64_t *out, char *why, size_t cap, const char **kind);

/* Times of a file that are probably misread: counted while reading, then
 * warned about once per kind. */
typedef struct cli_time_check {
    int64_t written_ms; /* the file's modification time; <= 0: not checked */
    uint64_t early, late;
    size_t early_line, late_line; /* the first line of each kind */
} cli_time_check;

/* A check for a file written at written_ms (<= 0: only the 1990 check). */
void cli_time_check_init(cli_time_check *c, int64_t written_ms);

/* Count time t, read on line `line` (lines come in increasing order). */
static inline void cli_time_check_add(cli_time_check *c, int64_t t, size_t line)
{
    if (t < CLI_TIME_1990_MS) {
        if (c->early++ == 0)
            c->early_line = line;
    } else if (c->written_ms > 0 && t > c->written_ms + CLI_TIME_DAY_MS) {
        if (c->late++ == 0)
            c->late_line = line;
    }
}

/* Add the counts of `from`, whose lines are from_line_offset lower than
 * the file's (a part of the file read on its own). */
void cli_time_check_merge(cli_time_check *into, const cli_time_check *from,
                          size_t from_line_offset);

/* One line on stderr per kind with a count, e.g.
 * "bvt: warning: PATH: 12 times before 1990-01-01 (first at line 7): check --time-format". */
void cli_time_check_warn(const cli_time_check *c, const char *path);


#endif
