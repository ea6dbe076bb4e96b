/* cli_input.h — how bvt reads an input file: the options every reader
 * takes (event files for ingest, profile, segments and report; bvt rfm's
 * transactions and events), in one struct so that each reader applies them
 * the same way.
 *
 * A zeroed cli_input is the strict default: times read by BVT_TIME_AUTO,
 * fields from the columns of their own names, ',' between them, any
 * well-formed type name, returns refused, and the first bad record ends the
 * read.  The command-line flags that fill it are parsed in cli_input.c. */
#ifndef BVT_CLI_INPUT_H
#define BVT_CLI_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "cli_columns.h"
#include "cli_types.h"

/* A purchase with a negative value or quantity is a return (--returns). */
enum cli_returns {
    CLI_RETURNS_REJECT = 0,  /* a bad record (the default) */
    CLI_RETURNS_IGNORE = 1,  /* skipped and counted */
    CLI_RETURNS_SUBTRACT = 2 /* bvt rfm only: taken off the customer's earlier purchases */
};

typedef struct cli_input {
    uint32_t time_format;     /* enum bvt_time_format (--time-format); 0 = auto */
    const char *time_advice;  /* NULL: a refused time's message names --time-format; else
                                 what it ends with instead, for a reader whose user has no
                                 such option (the decision server: cli_time_read_advised) */
    cli_colmap columns;       /* --columns; n = 0: none */
    char delimiter;           /* --delimiter; 0 = ',' */
    const cli_types *vocab;   /* the types a file may name; NULL = any well-formed name */
    int returns;              /* enum cli_returns (--returns) */
    uint64_t max_errors;      /* bad records skipped before the read stops (--max-errors) */
    const char *rejects_path; /* --rejects FILE, or NULL */
    cli_types declared;       /* custom types of --custom-types and --types-file */
} cli_input;

#endif
