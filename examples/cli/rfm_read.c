/* rfm_read.c — parse the transactions CSV of `bvt rfm` (see rfm.h).
 *
 * The file is split in two at a line end when it is large and has no quote
 * character (a quoted field could hide a line break at the split); each half
 * is parsed by its own thread into its own rows and customer map, and the
 * halves are merged.  Everything is checked before anything is tracked. */
#include "rfm.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "event_reader.h"

#define SPLIT_MIN_BYTES (4u << 20) /* below this one thread is as fast (rfm_input.split_min) */

enum { COL_CUSTOMER, COL_DATE, COL_VALUE, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "customer_id", "date", "value" };

/* The customer of the latest row waits while the next row is parsed, so
 * the hash slot it needs can be prefetched: on large files the map does not
 * fit in cache and this hides most of a memory miss per row. */
typedef struct pending {
    int live;
    size_t row;                /* index in the chunk's rows */
    const char *key;
    size_t len;
    idmap_hash h;
    long last;                 /* the previous row's customer, or -1 */
    idmap_hash last_h;
    int scattered;             /* a customer came back after another one */
    char copy[ER_MAX_USER_ID]; /* the key when it was unquoted into scratch */
} pending;

/* One half of the file. */
typedef struct chunk {
    const rfm_input *in;
    const char *buf;
    size_t len;
    size_t first_line;  /* line of buf[0]; relative (1) for the second half */
    size_t ncols;
    int col[COL_COUNT];
    idmap *map;
    rfm_row *rows;
    size_t nrows, cap;
    int64_t last_ms;
    pending pend;
    size_t end_line;    /* the csv reader's line after the last record */
    uint64_t records;
    int progress;       /* report progress (first half only) */
    int failed;         /* 1 bad input, 2 out of memory */
    size_t error_line;
    char error[256];
} chunk;

static int chunk_fail(chunk *c, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    c->failed = 1;
    c->error_line = line;
    return -1;
}

static const char *short_text(char *dst, size_t cap, const csv_field *f)
{
    size_t n = f->n < cap - 1 ? f->n : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)f->p[i];
        dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[n] = '\0';
    return dst;
}

/* Intern the waiting customer (if any), then let key wait (NULL: none). */
static int enqueue(chunk *c, const char *key, size_t len)
{
    pending *p = &c->pend;
    idmap_hash h = { 0, 0 };
    if (key) {
        h = idmap_hash_of(key, len);
        idmap_prefetch(c->map, h);
    }
    if (p->live) {
        long idx = p->last;
        /* Files are often grouped by customer: skip the lookup then. */
        if (idx < 0 || p->last_h.h != p->h.h || c->map->entries[idx].len != p->len
            || memcmp(c->map->entries[idx].key, p->key, p->len) != 0) {
            int is_new;
            idx = idmap_intern_hashed(c->map, p->key, p->len, p->h, &is_new);
            if (idx < 0)
                return -1;
            p->scattered |= !is_new;
        }
        c->rows[p->row].customer = (uint32_t)idx;
        p->last = idx;
        p->last_h = p->h;
        p->live = 0;
    }
    if (key) {
        if (key < c->buf || key >= c->buf + c->len) { /* scratch is reused by the next row */
            memcpy(p->copy, key, len);
            key = p->copy;
        }
        p->live = 1;
        p->row = c->nrows - 1;
        p->key = key;
        p->len = len;
        p->h = h;
    }
    return 0;
}

static void *parse_chunk(void *arg)
{
    chunk *c = arg;
    const rfm_input *in = c->in;
    char *scratch = malloc(CSV_MAX_RECORD);
    csv_reader csv;
    csv_field cols[ER_MAX_COLUMNS];
    size_t n, line = c->first_line;
    const char *why = NULL;
    char q[48];
    int rc;

    c->pend.last = -1;
    if (!scratch) {
        c->failed = 2;
        return NULL;
    }
    csv_init_at(&csv, c->buf, c->len, scratch, c->first_line);
    while ((rc = csv_next(&csv, cols, ER_MAX_COLUMNS, &n, &line, &why)) > 0) {
        if (++c->records % 1000000 == 0 && c->progress)
            cli_progress(in->path, c->records);
        if (n != c->ncols) {
            chunk_fail(c, line, "found %zu fields, the header has %zu", n, c->ncols);
            break;
        }
        const csv_field *cust = &cols[c->col[COL_CUSTOMER]];
        const csv_field *date = &cols[c->col[COL_DATE]];
        const csv_field *val = &cols[c->col[COL_VALUE]];
        int64_t t;
        double v;
        if (cust->n == 0 || cust->n > ER_MAX_USER_ID || memchr(cust->p, '\0', cust->n)) {
            chunk_fail(c, line, "customer_id: %s",
                       cust->n == 0 ? "empty"
                       : cust->n > ER_MAX_USER_ID ? "longer than 1024 bytes"
                                                  : "NUL byte in the value");
            break;
        }
        if (er_parse_time(date->p, date->n, &t, &why) < 0) {
            chunk_fail(c, line, "date: %s in '%s'", why, short_text(q, sizeof q, date));
            break;
        }
        if (er_parse_value(val->p, val->n, &v, &why) < 0) {
            chunk_fail(c, line, "value: %s in '%s'", why, short_text(q, sizeof q, val));
            break;
        }
        if (in->has_end && t / DAY_MS > in->end_day)
            continue; /* after the observation end: lifetimes drops it too */
        if (c->nrows == c->cap) { /* cannot happen: cap bounds the rows */
            c->failed = 2;
            break;
        }
        rfm_row *row = &c->rows[c->nrows++];
        row->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
        row->t_ms = t;
        row->value = v;
        if (t > c->last_ms)
            c->last_ms = t;
        if (enqueue(c, cust->p, cust->n) < 0) {
            c->failed = 2;
            break;
        }
    }
    if (!c->failed && rc < 0)
        chunk_fail(c, line, "%s", why);
    if (!c->failed && enqueue(c, NULL, 0) < 0)
        c->failed = 2;
    c->end_line = csv.line;
    free(scratch);
    return NULL;
}

/* Map the header's columns into c; returns 0 or an exit status. */
static int read_header(const rfm_input *in, csv_reader *csv, chunk *c)
{
    csv_field cols[ER_MAX_COLUMNS];
    size_t line;
    const char *why;
    int rc = csv_next(csv, cols, ER_MAX_COLUMNS, &c->ncols, &line, &why);
    if (rc < 0) {
        cli_input_error(in->path, line, "header: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        cli_input_error(in->path, 1, "empty file: expected the header customer_id,date,value");
        return CLI_EXIT_FAIL;
    }
    for (int k = 0; k < COL_COUNT; k++)
        c->col[k] = -1;
    for (size_t i = 0; i < c->ncols && i < ER_MAX_COLUMNS; i++) {
        for (int k = 0; k < COL_COUNT; k++) {
            if (cols[i].n != strlen(col_names[k]) || memcmp(cols[i].p, col_names[k], cols[i].n))
                continue;
            if (c->col[k] >= 0) {
                cli_input_error(in->path, line, "header: column '%s' appears twice", col_names[k]);
                return CLI_EXIT_FAIL;
            }
            c->col[k] = (int)i;
        }
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (c->col[k] < 0) {
            cli_input_error(in->path, line, "header: missing column '%s' (expected "
                            "customer_id,date,value)", col_names[k]);
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* Append the second half to the first: its customers are interned into the
 * first half's map, its rows renumbered and moved down. */
static int merge(rfm_input *in, chunk *a, chunk *b)
{
    uint32_t *remap = malloc((b->map->count ? b->map->count : 1) * sizeof *remap);
    if (!remap)
        return -1;
    int scattered = 0;
    for (size_t i = 0; i < b->map->count; i++) {
        int is_new;
        const idmap_entry *en = &b->map->entries[i];
        idmap_hash h = { en->hash, 0 }; /* the hash is kept; only the prefix is redone */
        memcpy(&h.prefix, en->key, en->len < 8 ? en->len : 8);
        long idx = idmap_intern_hashed(&in->customers, en->key, en->len, h, &is_new);
        if (idx < 0) {
            free(remap);
            return -1;
        }
        remap[i] = (uint32_t)idx;
        /* Only the customer at the seam may be in both halves. */
        scattered |= !is_new && !(i == 0 && a->pend.last == idx);
    }
    /* Lines of the second half were counted from 1. */
    size_t offset = a->end_line - 1;
    for (size_t k = 0; k < b->nrows; k++) {
        rfm_row r = b->rows[k];
        r.customer = remap[r.customer];
        r.line = r.line > UINT32_MAX - offset ? UINT32_MAX : r.line + (uint32_t)offset;
        a->rows[a->nrows + k] = r; /* never ahead of the source: a->nrows <= a->cap */
    }
    a->nrows += b->nrows;
    a->pend.scattered |= b->pend.scattered | scattered;
    if (b->last_ms > a->last_ms)
        a->last_ms = b->last_ms;
    free(remap);
    return 0;
}

int rfm_read(rfm_input *in, const char *buf, size_t len)
{
    static char header_scratch[CSV_MAX_RECORD];
    csv_reader csv;
    chunk *c = calloc(2, sizeof *c);
    idmap second;
    int rc = 0;

    idmap_init(&in->customers);
    idmap_init(&second);
    if (!c) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    csv_init(&csv, buf, len, header_scratch);
    rc = read_header(in, &csv, &c[0]);
    if (rc) {
        free(c);
        return rc;
    }

    size_t start = csv.pos, split = len;
    size_t split_min = in->split_min ? in->split_min : SPLIT_MIN_BYTES;
    if (len - start >= split_min && !memchr(buf + start, '"', len - start)) {
        const char *nl = memchr(buf + start + (len - start) / 2, '\n', (len - start) / 2);
        if (nl)
            split = (size_t)(nl - buf) + 1;
    }
    /* The shortest row, "a,1,1", takes 5 bytes and a line end: this bounds
     * the rows without a pass over the file, and pages of the bound that are
     * never written are never mapped. */
    size_t cap0 = (split - start) / 6 + 2, cap1 = (len - split) / 6 + 2;
    in->alloc_bytes = 2 * (cap0 + cap1) * sizeof(rfm_row);
    in->rows = cli_big_alloc(in->alloc_bytes);
    if (!in->rows) {
        free(c);
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    in->spare = in->rows + cap0 + cap1;

    for (int k = 0; k < 2; k++) {
        c[k].in = in;
        c[k].ncols = c[0].ncols;
        memcpy(c[k].col, c[0].col, sizeof c[0].col);
    }
    c[0].buf = buf + start;
    c[0].len = split - start;
    c[0].first_line = csv.line;
    c[0].map = &in->customers;
    c[0].rows = in->rows;
    c[0].cap = cap0;
    c[0].progress = 1;
    c[1].buf = buf + split;
    c[1].len = len - split;
    c[1].first_line = 1;
    c[1].map = &second;
    c[1].rows = in->rows + cap0;
    c[1].cap = cap1;

    pthread_t th;
    int threaded = split < len && pthread_create(&th, NULL, parse_chunk, &c[1]) == 0;
    parse_chunk(&c[0]);
    if (threaded)
        pthread_join(th, NULL);
    else if (split < len && !c[0].failed)
        parse_chunk(&c[1]);
    cli_progress_done(c[0].records + c[1].records);

    if (c[0].failed == 1) {
        cli_input_error(in->path, c[0].error_line, "%s", c[0].error);
        rc = CLI_EXIT_FAIL;
    } else if (c[0].failed == 0 && c[1].failed == 1) {
        cli_input_error(in->path, c[1].error_line - 1 + c[0].end_line, "%s", c[1].error);
        rc = CLI_EXIT_FAIL;
    } else if (c[0].failed || c[1].failed || (split < len && merge(in, &c[0], &c[1]) < 0)) {
        fprintf(stderr, "bvt: out of memory\n");
        rc = CLI_EXIT_FAIL;
    }
    in->nrows = c[0].nrows;
    in->grouped = !c[0].pend.scattered;
    in->last_ms = c[0].last_ms;
    idmap_free(&second);
    free(c);
    return rc;
}

void rfm_input_free(rfm_input *in)
{
    idmap_free(&in->customers);
    cli_big_free(in->rows, in->alloc_bytes);
    in->rows = NULL;
}
