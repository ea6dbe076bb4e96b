/* rfm.h — reading the transactions file of `bvt rfm` into rows. */
#ifndef BVT_CLI_RFM_H
#define BVT_CLI_RFM_H

#include <stddef.h>
#include <stdint.h>

#include "idmap.h"

#define DAY_MS 86400000LL

/* One transaction, kept until all are read so they can be ordered. */
typedef struct rfm_row {
    uint32_t customer; /* index in the customer map */
    uint32_t line;     /* saturates at UINT32_MAX */
    int64_t t_ms;
    double value;
} rfm_row;

typedef struct rfm_input {
    /* in */
    const char *path;
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
} rfm_input;

/* Read and check every row of buf[0..len); keep those up to the end day.
 * On bad input prints "PATH:LINE: reason" and returns CLI_EXIT_FAIL.
 * Files without quotes and with at least split_min bytes of rows are parsed
 * by two threads, with the same result. */
int rfm_read(rfm_input *in, const char *buf, size_t len);

void rfm_input_free(rfm_input *in);

#endif
