/* rfm_read.c — parse the transactions CSV of `bvt rfm` (see rfm.h); an
 * event file goes to rfm_events.c.
 *
 * The file is split in two at a line end when it is large and has no quote
 * character (a quoted field could hide a line break at the split); each half
 * is parsed by its own thread into its own rows, customer map and bad rows,
 * and the halves are merged: the bad rows are then handed to the error
 * budget in file order, so the read ends where it would on one thread.
 * Everything is checked before anything is tracked. */
#include "rfm.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_rejects.h"
#include "csv.h"
#include "event_reader.h"

#define SPLIT_MIN_BYTES (4u << 20) /* below this one thread is as fast (rfm_input.split_min) */

enum { COL_CUSTOMER, COL_DATE, COL_VALUE, COL_QUANTITY, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "customer_id", "date", "value", "quantity" };
static const cli_input strict_input; /* zeroed: the strict default */

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

/* The header: where each field is, and its name in messages. */
typedef struct header {
    size_t ncols;
    int16_t col[COL_COUNT]; /* quantity may be -1 (no column) */
    char label[COL_COUNT][80];
} header;

/* One half of the file. */
typedef struct chunk {
    const rfm_input *in;
    const cli_input *opts;
    const header *hd;
    const char *buf;
    size_t len;
    size_t first_line;  /* line of buf[0]; relative (1) for the second half */
    idmap *map;
    rfm_row *rows;
    size_t nrows, cap;
    int64_t last_ms;
    pending pend;
    size_t end_line;    /* the csv reader's line after the last record */
    uint64_t records;
    uint64_t returns_ignored;
    int returns;        /* a row is a return to subtract */
    int progress;       /* report progress (first half only) */
    int failed;         /* 1 the read ends in this half (see rejects), 2 out of memory */
    cli_reject_list rejects; /* bad rows, in line order */
    cli_time_check times;
    const char *raw;    /* the row being read, as written */
    size_t raw_n;
} chunk;

/* A bad row: kept for the error budget.  Returns -1 when this half must
 * stop (the row ends the read, the half has more bad rows than the budget,
 * or memory ran out), else 0. */
static int chunk_reject(chunk *c, size_t line, const char *field, const char *kind, int fatal,
                        const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static int chunk_reject(chunk *c, size_t line, const char *field, const char *kind, int fatal,
                        const char *fmt, ...)
{
    char reason[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cli_reject r = { line, field, kind, c->raw, c->raw_n, fatal, c->records };
    if (cli_reject_list_add(&c->rejects, &r, reason) < 0) {
        c->failed = 2;
        return -1;
    }
    if (fatal || c->rejects.n > c->opts->max_errors) {
        c->failed = 1;
        return -1;
    }
    return 0;
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

/* value and quantity of a row; a negative one makes it a return.  Returns
 * 1 to keep the row, 0 to skip it, -1 to stop. */
static int row_amount(chunk *c, const csv_field *cols, size_t line, double *v)
{
    const header *hd = c->hd;
    const csv_field *val = &cols[hd->col[COL_VALUE]];
    const char *p = val->p, *why;
    size_t n = val->n;
    char q[48];
    int neg = 0, neg_qty = 0;
    er_strip_minus(&p, &n, &neg);
    if (er_parse_value(p, n, v, &why) < 0)
        return chunk_reject(c, line, col_names[COL_VALUE], why, 0, "%s: %s in '%s'",
                            hd->label[COL_VALUE], why, short_text(q, sizeof q, val));
    neg &= *v > 0;
    if (hd->col[COL_QUANTITY] >= 0) {
        const csv_field *qt = &cols[hd->col[COL_QUANTITY]];
        uint64_t u = 0;
        p = qt->p;
        n = qt->n;
        er_strip_minus(&p, &n, &neg_qty);
        if (n > 0 && er_parse_uint(p, n, UINT32_MAX, &u, &why) < 0)
            return chunk_reject(c, line, col_names[COL_QUANTITY], why, 0, "%s: %s in '%s'",
                                hd->label[COL_QUANTITY], why, short_text(q, sizeof q, qt));
        neg_qty &= u > 0;
    }
    if (!neg && !neg_qty)
        return 1;
    switch (c->opts->returns) {
    case CLI_RETURNS_IGNORE:
        c->returns_ignored++;
        return 0;
    case CLI_RETURNS_SUBTRACT:
        c->returns = 1;
        *v = -*v;
        return 1;
    default: {
        int k = neg ? COL_VALUE : COL_QUANTITY;
        return chunk_reject(c, line, col_names[k], "a return", 0,
                            "%s: must be >= 0 in '%s' (a row with a negative value or "
                            "quantity is a return: see --returns)",
                            hd->label[k], short_text(q, sizeof q, &cols[hd->col[k]]));
    }
    }
}

/* One row: 1 kept, 0 skipped (bad within the budget, an ignored return,
 * after the end day), -1 stop. */
static int parse_row(chunk *c, const csv_field *cols, size_t n, size_t line)
{
    const rfm_input *in = c->in;
    const header *hd = c->hd;
    char why[256];
    const char *kind;
    if (n != hd->ncols)
        return chunk_reject(c, line, "", "wrong number of fields", 0,
                            "found %zu fields, the header has %zu", n, hd->ncols);
    const csv_field *cust = &cols[hd->col[COL_CUSTOMER]];
    const csv_field *date = &cols[hd->col[COL_DATE]];
    if (cust->n == 0 || cust->n > ER_MAX_USER_ID || memchr(cust->p, '\0', cust->n)) {
        const char *what = cust->n == 0 ? "empty"
                           : cust->n > ER_MAX_USER_ID ? "longer than 1024 bytes"
                                                      : "NUL byte in the value";
        return chunk_reject(c, line, col_names[COL_CUSTOMER], what, 0, "%s: %s",
                            hd->label[COL_CUSTOMER], what);
    }
    int64_t t;
    if (cli_time_read(date->p, date->n, c->opts->time_format, "--time-format", &t, why,
                      sizeof why, &kind) < 0)
        return chunk_reject(c, line, col_names[COL_DATE], kind, 0, "%s: %s",
                            hd->label[COL_DATE], why);
    double v;
    int keep = row_amount(c, cols, line, &v);
    if (keep <= 0)
        return keep;
    cli_time_check_add(&c->times, t, line);
    if (in->has_end && t / DAY_MS > in->end_day)
        return 0; /* after the observation end: lifetimes drops it too */
    if (c->nrows == c->cap) { /* cannot happen: cap bounds the rows */
        c->failed = 2;
        return -1;
    }
    rfm_row *row = &c->rows[c->nrows++];
    row->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    row->t_ms = t;
    row->value = v;
    if (t > c->last_ms)
        c->last_ms = t;
    if (enqueue(c, cust->p, cust->n) < 0) {
        c->failed = 2;
        return -1;
    }
    return 1;
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
    int rc;

    c->pend.last = -1;
    if (!scratch) {
        c->failed = 2;
        return NULL;
    }
    csv_init_at(&csv, c->buf, c->len, scratch, c->first_line);
    if (c->opts->delimiter)
        csv_set_delimiter(&csv, c->opts->delimiter);
    while ((rc = csv_next(&csv, cols, ER_MAX_COLUMNS, &n, &line, &why)) > 0) {
        if (++c->records % 1000000 == 0 && c->progress)
            cli_progress(in->path, c->records);
        c->raw = c->buf + csv.rec_start;
        c->raw_n = csv.rec_end - csv.rec_start;
        if (parse_row(c, cols, n, line) < 0)
            break;
    }
    if (!c->failed && rc < 0) {
        c->records++;
        c->raw = NULL;
        c->raw_n = 0;
        chunk_reject(c, line, "", "bad CSV", 1, "%s", why);
    }
    if (!c->failed && enqueue(c, NULL, 0) < 0)
        c->failed = 2;
    c->end_line = csv.line;
    free(scratch);
    return NULL;
}

#define EXPECTED "(expected customer_id,date,value; an event file names user_id, timestamp " \
                 "and type)"

/* A header that cannot be read ends the read; returns CLI_EXIT_FAIL. */
static int header_error(cli_rejects *rj, size_t line, const char *reason)
{
    cli_reject r = { line, "", "bad header", NULL, 0, 1, 0 };
    return cli_rejects_take(rj, &r, reason);
}

/* Whether the CSV header of buf names user_id and type but not
 * customer_id (after --columns): an event file. */
static int header_of_events(const cli_input *o, const char *buf, size_t len, char *scratch)
{
    csv_reader csv;
    csv_field cols[ER_MAX_COLUMNS];
    size_t n, line;
    const char *why;
    char msg[320];
    int16_t tx[COL_COUNT], ev[ER_F_COUNT];
    csv_init(&csv, buf, len, scratch);
    if (o->delimiter)
        csv_set_delimiter(&csv, o->delimiter);
    if (csv_next(&csv, cols, ER_MAX_COLUMNS, &n, &line, &why) <= 0)
        return 0;
    if (cli_columns_map_header(&o->columns, col_names, COL_COUNT, cols, n, ER_MAX_COLUMNS, tx,
                               msg, sizeof msg) == 0 && tx[COL_CUSTOMER] >= 0)
        return 0;
    return cli_columns_map_header(&o->columns, er_field_names, ER_F_COUNT, cols, n,
                                  ER_MAX_COLUMNS, ev, msg, sizeof msg) == 0
           && ev[ER_F_USER_ID] >= 0 && ev[ER_F_TYPE] >= 0;
}

/* Map the header's columns into hd.  Returns 0, or an exit status. */
static int read_header(const cli_input *o, cli_rejects *rj, csv_reader *csv, header *hd)
{
    csv_field cols[ER_MAX_COLUMNS];
    size_t line;
    const char *why;
    char msg[384];
    int rc = csv_next(csv, cols, ER_MAX_COLUMNS, &hd->ncols, &line, &why);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "header: %s", why);
        return header_error(rj, line, msg);
    }
    if (rc == 0)
        return header_error(rj, 1, "empty file: expected the header customer_id,date,value "
                            "(or an event file's)");
    if (cli_columns_map_header(&o->columns, col_names, COL_COUNT, cols, hd->ncols,
                               ER_MAX_COLUMNS, hd->col, msg, sizeof msg) < 0)
        return header_error(rj, line, msg);
    for (int k = 0; k < COL_QUANTITY; k++) { /* quantity is optional */
        if (hd->col[k] < 0) {
            cli_columns_missing(&o->columns, col_names[k], EXPECTED, msg, sizeof msg);
            return header_error(rj, line, msg);
        }
    }
    char why2[320];
    if (cli_columns_check(&o->columns, col_names, COL_COUNT, "transactions files", why2,
                          sizeof why2) < 0) {
        snprintf(msg, sizeof msg, "header: --columns: %s", why2);
        return header_error(rj, line, msg);
    }
    for (int k = 0; k < COL_COUNT; k++)
        cli_columns_label(&o->columns, col_names[k], hd->label[k], sizeof hd->label[k]);
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

int rfm_alloc_rows(rfm_input *in, size_t len, size_t *first_cap)
{
    /* The shortest row, "a,1,1", takes 5 bytes and a line end: this bounds
     * the rows without a pass over the file, and pages of the bound that are
     * never written are never mapped. */
    size_t cap = len / 6 + 4;
    in->alloc_bytes = 2 * cap * sizeof(rfm_row);
    in->rows = cli_big_alloc(in->alloc_bytes);
    if (!in->rows) {
        fprintf(stderr, "bvt: out of memory\n");
        return -1;
    }
    in->spare = in->rows + cap;
    *first_cap = cap;
    return 0;
}

/* The halves' bad rows to the budget in file order, then the halves
 * merged.  Returns 0 or CLI_EXIT_FAIL (printed). */
static int finish(rfm_input *in, cli_rejects *rj, chunk *c, int split)
{
    if (c[0].failed == 2 || (c[0].failed == 0 && c[1].failed == 2)) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    /* The read ends at the same record as on one thread, whatever the
     * other half read meanwhile. */
    if (cli_rejects_take_list(rj, &c[0].rejects, 0, 0)) {
        in->records = rj->stop_record;
        return CLI_EXIT_FAIL;
    }
    /* c[0] went to its end: the second half's lines were counted from 1. */
    if (cli_rejects_take_list(rj, &c[1].rejects, c[0].end_line - 1, c[0].records)) {
        in->records = rj->stop_record;
        return CLI_EXIT_FAIL;
    }
    if (split && merge(in, &c[0], &c[1]) < 0) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    rj->returns_ignored = c[0].returns_ignored + c[1].returns_ignored;
    in->returns = c[0].returns | c[1].returns;
    cli_time_check_merge(&in->times, &c[0].times, 0);
    cli_time_check_merge(&in->times, &c[1].times, c[0].end_line - 1);
    return 0;
}

/* Parse the rows after the header (at csv->pos) in one or two halves. */
static int read_rows(rfm_input *in, const cli_input *o, cli_rejects *rj, const header *hd,
                     const csv_reader *csv, const char *buf, size_t len)
{
    chunk *c = calloc(2, sizeof *c);
    idmap second;
    idmap_init(&second);
    size_t start = csv->pos, split = len, cap0;
    size_t split_min = in->split_min ? in->split_min : SPLIT_MIN_BYTES;
    if (len - start >= split_min && !memchr(buf + start, '"', len - start)) {
        const char *nl = memchr(buf + start + (len - start) / 2, '\n', (len - start) / 2);
        if (nl)
            split = (size_t)(nl - buf) + 1;
    }
    if (!c || rfm_alloc_rows(in, len - start, &cap0) < 0) {
        free(c);
        if (!c)
            fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    size_t cap1 = (len - split) / 6 + 2;
    cap0 -= cap1; /* each half's bound: a row needs 6 bytes, whichever half holds it */
    for (int k = 0; k < 2; k++) {
        c[k].in = in;
        c[k].opts = o;
        c[k].hd = hd;
        cli_time_check_init(&c[k].times, in->written_ms);
    }
    c[0].buf = buf + start;
    c[0].len = split - start;
    c[0].first_line = csv->line;
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
    in->records = c[0].records + c[1].records;
    cli_progress_done(in->records);

    int rc = finish(in, rj, c, split < len);
    in->nrows = c[0].nrows;
    in->grouped = !c[0].pend.scattered;
    in->last_ms = c[0].last_ms;
    for (int k = 0; k < 2; k++)
        cli_reject_list_free(&c[k].rejects);
    idmap_free(&second);
    free(c);
    return rc;
}

int rfm_read(rfm_input *in, const char *buf, size_t len)
{
    static char header_scratch[CSV_MAX_RECORD];
    const cli_input *o = in->opts ? in->opts : &strict_input;
    csv_reader csv;
    header hd;

    idmap_init(&in->customers);
    cli_time_check_init(&in->times, in->written_ms);
    memset(&in->rejects, 0, sizeof in->rejects);
    in->records = 0;
    if (er_sniff(buf, len) == ER_JSONL || header_of_events(o, buf, len, header_scratch))
        return rfm_read_events(in, buf, len);
    cli_rejects *rj = &in->rejects;
    int rc = cli_rejects_open(rj, in->path, o);
    if (rc)
        return rc;
    csv_init(&csv, buf, len, header_scratch);
    if (o->delimiter)
        csv_set_delimiter(&csv, o->delimiter);
    rc = read_header(o, rj, &csv, &hd);
    if (rc == 0)
        rc = read_rows(in, o, rj, &hd, &csv, buf, len);
    int rc2 = cli_rejects_close(rj);
    return rc ? rc : rc2;
}

void rfm_input_free(rfm_input *in)
{
    idmap_free(&in->customers);
    cli_big_free(in->rows, in->alloc_bytes);
    in->rows = NULL;
}
