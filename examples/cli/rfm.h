/* rfm.h — reading the input of `bvt rfm` into rows: a transactions file
 * (CSV with customer_id, date, value and optionally quantity), or an event
 * file (docs/events.md) whose purchases are the transactions.  Both are
 * read as the command's cli_input says (time format, --columns,
 * --delimiter, --max-errors, --rejects, --returns). */
#ifndef BVT_CLI_RFM_H
#define BVT_CLI_RFM_H

#include <stddef.h>
#include <stdint.h>

#include "cli_input.h"
#include "cli_rejects.h"
#include "cli_time.h"
#include "idmap.h"

#define DAY_MS 86400000LL

/* One transaction, kept until all are read so they can be ordered. */
typedef struct rfm_row {
    uint32_t customer; /* index in the customer map */
    uint32_t line;     /* saturates at UINT32_MAX */
    int64_t t_ms;
    double value;      /* < 0: a return of -value (only with --returns subtract) */
} rfm_row;

typedef struct rfm_input {
    /* in */
    const char *path;
    const cli_input *opts; /* how to read; NULL: the strict default */
    int64_t written_ms;    /* when the file was written, for the time check; 0: unknown */
    int has_end;
    int64_t end_day;   /* rows after this UTC day are dropped (with has_end) */
    size_t split_min;  /* bytes of rows from which two threads share the file;
                          0 = 4 MiB (the fuzz harness sets 1 to test the seam) */
    /* out */
    idmap customers;   /* index = rfm_row.customer */
    rfm_row *rows;     /* nrows rows, then room for as many as scratch */
    rfm_row *spare;    /* same size as the row area, for sorting */
    size_t nrows;
    int grouped;       /* each customer's rows are contiguous in the file */
    int64_t last_ms;   /* latest date kept */
    size_t alloc_bytes;
    int events;        /* the file was read as an event file */
    int returns;       /* some rows are returns (value < 0) */
    uint64_t records;  /* records read, bad ones and ignored returns included */
    cli_time_check times; /* misread times, to warn about (cli_time_check_warn) */
    cli_rejects rejects;  /* how the read went (cli_rejects_report); its file closed */
} rfm_input;

/* Read and check every row of buf[0..len); keep those up to the end day.
 * A file is an event file when it is JSON Lines or its header names
 * user_id and type but not customer_id (after --columns); else a
 * transactions file.  Bad rows are skipped within the --max-errors budget
 * (cli_rejects.h); past it, or on a row that ends the read, prints "PATH:LINE:
 * reason" and returns CLI_EXIT_FAIL.  Either way the counts are left in
 * in->rejects for the command to report.  Transactions files without quotes
 * and with at least split_min bytes of rows are parsed by two threads, with
 * the same result. */
int rfm_read(rfm_input *in, const char *buf, size_t len);

/* (rfm_events.c) rfm_read() of an event file: its purchases are the rows
 * (other types are checked, not kept).  On one thread. */
int rfm_read_events(rfm_input *in, const char *buf, size_t len);

/* (rfm_read.c) Room for the rows of buf[0..len) (at most one per 6
 * bytes) and as many for sorting; in->rows, in->spare.  0, or -1. */
int rfm_alloc_rows(rfm_input *in, size_t len, size_t *first_cap);

void rfm_input_free(rfm_input *in);

/* (rfm_returns.c) What rfm_subtract_returns() could not settle. */
typedef struct rfm_settled {
    uint64_t uncovered;     /* returns larger than the purchases before them */
    double uncovered_value; /* their excess, dropped */
} rfm_settled;

/* Settle the returns (value < 0) of one customer's rows[0..n), in time
 * order: each takes its amount off the purchases at or before its time,
 * the latest first, down to 0.  The returns' rows are left as they are
 * (not tracked).  stack: room for n indices. */
rfm_settled rfm_subtract_returns(rfm_row *rows, size_t n, size_t *stack);

#endif
