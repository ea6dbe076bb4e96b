/* cli_rejects.h — bad records of an input file: the error budget of
 * --max-errors, the --rejects file, and the counts a lenient run prints.
 *
 * Every reader hands each bad record to cli_rejects_take() in file order.
 * With the default budget (0) the first one is printed as "FILE:LINE:
 * reason" and ends the read, as bvt always did.  With --max-errors N the
 * first N are skipped — written to the --rejects file as CSV
 * (line,field,reason,record), or without one printed on stderr — and the
 * next one ends the read.  A record after which the reader cannot find the
 * next one (a quote never closed, a bad header) ends it whatever the
 * budget.  The readers only print "FILE:LINE: reason" lines; the command
 * prints how the read went (cli_rejects_report()). */
#ifndef BVT_CLI_REJECTS_H
#define BVT_CLI_REJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_input.h"

/* One bad record. */
typedef struct cli_reject {
    size_t line;
    const char *field; /* static: the field ("value"), or "" for the whole record */
    const char *kind;  /* static short reason, to count by ("expected a number >= 0") */
    const char *raw;   /* the record as written (borrowed from the input), or NULL */
    size_t raw_len;
    int fatal;         /* the reader cannot go on after it */
    uint64_t record;   /* records read up to this one, it included; 0: not counted */
} cli_reject;

/* Bad records kept in memory, for a reader that parses parts of a file on
 * several threads and hands them over in file order afterwards. */
typedef struct cli_reject_list {
    cli_reject *v;
    size_t *reason_at; /* offset of each reason in text */
    size_t n, cap;
    char *text;
    size_t text_n, text_cap;
    int oom;
} cli_reject_list;

/* Keep r with its reason; -1 when out of memory. */
int cli_reject_list_add(cli_reject_list *l, const cli_reject *r, const char *reason);
void cli_reject_list_free(cli_reject_list *l);

#define CLI_REJECT_KINDS 32 /* reasons counted apart; later ones count as "other" */

/* The budget, the file and the counts of one read. */
typedef struct cli_rejects {
    const char *path;      /* the input, for messages */
    uint64_t max_errors;
    const char *out_path;  /* --rejects, or NULL */
    FILE *out;
    int lenient;           /* --max-errors > 0 or --rejects: print the counts */
    int stopped;           /* the read ended at a bad record: */
    int stop_fatal;        /* one after which the file cannot be read */
    size_t stop_line;
    uint64_t stop_record;  /* its cli_reject.record */
    uint64_t rejected, returns_ignored;
    size_t nkinds;
    struct {
        const char *field, *kind;
        uint64_t n;
    } kinds[CLI_REJECT_KINDS];
} cli_rejects;

/* Start a read of path with in's budget and rejects file (in may be NULL:
 * strict).  Returns 0, or CLI_EXIT_FAIL after printing "bvt: FILE: reason"
 * when the rejects file cannot be created. */
int cli_rejects_open(cli_rejects *s, const char *path, const cli_input *in);

/* One bad record with its reason ("value: expected a number >= 0 in
 * 'x'").  Returns 0 when it was skipped, or CLI_EXIT_FAIL when the read
 * must stop (the reason has been printed as "FILE:LINE: reason"). */
int cli_rejects_take(cli_rejects *s, const cli_reject *r, const char *reason);

/* Hand over the records of l in order, their lines raised by line_offset
 * and their record counts by record_offset; stops at the first that ends
 * the read.  0 or CLI_EXIT_FAIL. */
int cli_rejects_take_list(cli_rejects *s, const cli_reject_list *l, size_t line_offset,
                          uint64_t record_offset);

/* Close the rejects file.  Returns 0, or CLI_EXIT_FAIL when it could not
 * be written (printed). */
int cli_rejects_close(cli_rejects *s);

/* How a read of `records` records (accepted, skipped and returns ignored)
 * went, on stderr, in a lenient run or when returns were ignored: why it
 * stopped, if it did ("bvt: FILE: stopped at line 4: more than 1 bad
 * record (--max-errors 1)"), the counts ("bvt: FILE: 10 records read: 7
 * accepted, 2 rejected, 1 return ignored") and one line per reason. */
void cli_rejects_report(const cli_rejects *s, uint64_t records);

#endif
