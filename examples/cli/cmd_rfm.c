/* cmd_rfm.c — `bvt rfm`: the lifetimes summary of a transactions CSV,
 * computed by the library (each row is a purchase event).
 *
 * Benchmarked against pandas on ~700k rows, so the costs that matter are
 * memory ones: rows live in one huge-page array, are grouped by customer with
 * an LSD radix sort (streaming, not a random scatter), and each customer's
 * events reach the library together, which keeps the profile in cache. */
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "event_reader.h"

static const char usage[] =
    "usage: bvt rfm --input FILE [--end YYYY-MM-DD] [--unit-days N]\n"
    "\n"
    "Read transactions (CSV with columns customer_id,date,value) and print\n"
    "customer_id,frequency,recency,T,monetary_value per customer, sorted by\n"
    "customer_id, as lifetimes' summary_data_from_transaction_data does.\n"
    "  --end        observation end day (default: the last date in FILE);\n"
    "               later rows are ignored\n"
    "  --unit-days  days per time unit (default 1; 7 gives weeks)\n";

#define DAY_MS 86400000LL

enum { COL_CUSTOMER, COL_DATE, COL_VALUE, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "customer_id", "date", "value" };

/* One transaction, kept until all are read so they can be ordered. */
typedef struct rfm_row {
    uint32_t customer; /* index in the id map */
    uint32_t line;     /* saturates at UINT32_MAX */
    int64_t t_ms;
    double value;
} rfm_row;

typedef struct rfm_state {
    const char *path;
    bvt_engine *engine;
    idmap customers;
    rfm_row *rows, *spare; /* 2 x cap rows in one allocation */
    size_t nrows, cap, alloc_bytes;
} rfm_state;

/* One thread's share of the ingestion: rows [begin, end) of the grouped
 * array (whole customers), fed in batches.  An error is kept, not printed,
 * so the main thread reports it. */
typedef struct tracker {
    const rfm_state *S;
    rfm_row *rows, *scratch;
    size_t begin, end;
    bvt_event events[CLI_BATCH];
    size_t lines[CLI_BATCH];
    size_t n;
    int failed;
    size_t error_line;
    char error[sizeof(((bvt_error *)0)->message)];
} tracker;

static void oom(void) { fprintf(stderr, "bvt: out of memory\n"); }

static int flush(tracker *T)
{
    if (T->n == 0)
        return 0;
    bvt_batch_error first;
    bvt_error err = BVT_ERROR_INIT;
    size_t failed = 0;
    int rc = bvt_event_track_batch(T->S->engine, T->events, T->n, &first, 1, &failed, &err);
    if (rc != BVT_OK || failed > 0) {
        size_t idx = failed > 0 && first.index < T->n ? first.index : 0;
        int code = failed > 0 ? first.code : rc;
        T->failed = 1;
        T->error_line = T->lines[idx];
        snprintf(T->error, sizeof T->error, "%s",
                 err.message[0] ? err.message : bvt_strerror(code));
        return -1;
    }
    T->n = 0;
    return 0;
}

static const char *short_text(char *dst, size_t cap, const csv_field *f)
{
    size_t n = f->n < cap - 1 ? f->n : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)f->p[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[n] = '\0';
    return dst;
}

/* Map the header's columns; returns 0 or an exit status. */
static int read_header(rfm_state *S, csv_reader *csv, int col[COL_COUNT], size_t *ncols)
{
    csv_field cols[ER_MAX_COLUMNS];
    size_t line;
    const char *why;
    int rc = csv_next(csv, cols, ER_MAX_COLUMNS, ncols, &line, &why);
    if (rc < 0) {
        cli_input_error(S->path, line, "header: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        cli_input_error(S->path, 1, "empty file: expected the header customer_id,date,value");
        return CLI_EXIT_FAIL;
    }
    for (int k = 0; k < COL_COUNT; k++)
        col[k] = -1;
    for (size_t i = 0; i < *ncols && i < ER_MAX_COLUMNS; i++) {
        for (int k = 0; k < COL_COUNT; k++) {
            if (cols[i].n != strlen(col_names[k]) || memcmp(cols[i].p, col_names[k], cols[i].n))
                continue;
            if (col[k] >= 0) {
                cli_input_error(S->path, line, "header: column '%s' appears twice", col_names[k]);
                return CLI_EXIT_FAIL;
            }
            col[k] = (int)i;
        }
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (col[k] < 0) {
            cli_input_error(S->path, line, "header: missing column '%s' (expected "
                            "customer_id,date,value)", col_names[k]);
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* The customer of the latest row waits while the next row is parsed, so
 * the hash slot it needs can be prefetched: on large files the map does not
 * fit in cache and this hides most of a memory miss per row. */
typedef struct pending {
    int live;
    size_t row;         /* index in S->rows */
    const char *key;
    size_t len;
    idmap_hash h;
    long last;          /* index of the previous row's customer, or -1 */
    idmap_hash last_h;
    char copy[ER_MAX_USER_ID]; /* the key when it was unquoted into scratch */
} pending;

/* Intern the waiting customer (if any), then let key wait (NULL: none). */
static int enqueue(rfm_state *S, pending *p, const char *key, size_t len, const char *buf,
                   size_t buf_len)
{
    idmap_hash h = { 0, 0 };
    if (key) {
        h = idmap_hash_of(key, len);
        idmap_prefetch(&S->customers, h);
    }
    if (p->live) {
        long idx = p->last;
        /* Files are often grouped by customer: skip the lookup then. */
        if (idx < 0 || p->last_h.h != p->h.h || S->customers.entries[idx].len != p->len
            || memcmp(S->customers.entries[idx].key, p->key, p->len) != 0)
            idx = idmap_intern_hashed(&S->customers, p->key, p->len, p->h, NULL);
        if (idx < 0)
            return -1;
        S->rows[p->row].customer = (uint32_t)idx;
        p->last = idx;
        p->last_h = p->h;
        p->live = 0;
    }
    if (key) {
        if (key < buf || key >= buf + buf_len) { /* scratch is reused by the next row */
            memcpy(p->copy, key, len);
            key = p->copy;
        }
        p->live = 1;
        p->row = S->nrows - 1;
        p->key = key;
        p->len = len;
        p->h = h;
    }
    return 0;
}

/* Read and check every row; keep those up to the end day in S->rows.
 * *last_ms receives the latest date kept. */
static int read_rows(rfm_state *S, const char *buf, size_t len, int has_end, int64_t end_day,
                     int64_t *last_ms)
{
    static char scratch[CSV_MAX_RECORD];
    csv_reader csv;
    csv_field cols[ER_MAX_COLUMNS];
    int col[COL_COUNT];
    size_t ncols, n, line = 1;
    const char *why = NULL;
    char q[48];

    csv_init(&csv, buf, len, scratch);
    int rc = read_header(S, &csv, col, &ncols);
    if (rc)
        return rc;

    /* Size the rows once.  The shortest row, "a,1,1", takes 5 bytes and a
     * line end: this bounds the row count without a pass over the file, and
     * pages of the bound that are never written are never mapped. */
    size_t cap = (len - csv.pos) / 6 + 2;
    S->alloc_bytes = 2 * cap * sizeof(rfm_row);
    S->rows = cli_big_alloc(S->alloc_bytes);
    if (!S->rows) {
        oom();
        return CLI_EXIT_FAIL;
    }
    S->spare = S->rows + cap;
    S->cap = cap;

    pending pend = { 0 };
    pend.last = -1;
    uint64_t count = 0;
    *last_ms = 0;
    while ((rc = csv_next(&csv, cols, ER_MAX_COLUMNS, &n, &line, &why)) > 0) {
        if (++count % 1000000 == 0)
            cli_progress(S->path, count);
        if (n != ncols) {
            cli_input_error(S->path, line, "found %zu fields, the header has %zu", n, ncols);
            return CLI_EXIT_FAIL;
        }
        const csv_field *cust = &cols[col[COL_CUSTOMER]];
        const csv_field *date = &cols[col[COL_DATE]];
        const csv_field *val = &cols[col[COL_VALUE]];
        int64_t t;
        double v;
        if (cust->n == 0 || cust->n > ER_MAX_USER_ID || memchr(cust->p, '\0', cust->n)) {
            cli_input_error(S->path, line, "customer_id: %s",
                            cust->n == 0 ? "empty"
                            : cust->n > ER_MAX_USER_ID ? "longer than 1024 bytes"
                                                       : "NUL byte in the value");
            return CLI_EXIT_FAIL;
        }
        if (er_parse_time(date->p, date->n, &t, &why) < 0) {
            cli_input_error(S->path, line, "date: %s in '%s'", why, short_text(q, sizeof q, date));
            return CLI_EXIT_FAIL;
        }
        if (er_parse_value(val->p, val->n, &v, &why) < 0) {
            cli_input_error(S->path, line, "value: %s in '%s'", why, short_text(q, sizeof q, val));
            return CLI_EXIT_FAIL;
        }
        if (has_end && t / DAY_MS > end_day)
            continue; /* after the observation end: lifetimes drops it too */
        if (S->nrows == S->cap) { /* cannot happen: cap bounds the rows */
            oom();
            return CLI_EXIT_FAIL;
        }
        rfm_row *row = &S->rows[S->nrows++];
        row->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
        row->t_ms = t;
        row->value = v;
        if (t > *last_ms)
            *last_ms = t;
        if (enqueue(S, &pend, cust->p, cust->n, buf, len) < 0) {
            oom();
            return CLI_EXIT_FAIL;
        }
    }
    if (enqueue(S, &pend, NULL, 0, buf, len) < 0) {
        oom();
        return CLI_EXIT_FAIL;
    }
    cli_progress_done(count);
    if (rc < 0) {
        cli_input_error(S->path, line, "%s", why);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Time order, file order among equal times (so results never depend on the
 * sort). */
static int before(const rfm_row *x, const rfm_row *y)
{
    return x->t_ms < y->t_ms || (x->t_ms == y->t_ms && x->line < y->line);
}

/* Stable sort of a[0..n) by time, using tmp[0..n) as scratch: insertion
 * sort on runs of 16, then bottom-up merges.  Nothing is allocated. */
static void sort_by_time(rfm_row *a, rfm_row *tmp, size_t n)
{
    for (size_t b = 0; b < n; b += 16) {
        size_t e = b + 16 < n ? b + 16 : n;
        for (size_t i = b + 1; i < e; i++) {
            rfm_row x = a[i];
            size_t j = i;
            while (j > b && before(&x, &a[j - 1])) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
    }
    rfm_row *src = a, *dst = tmp;
    for (size_t w = 16; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = before(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        rfm_row *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Track the rows customer by customer, each customer's in time order.
 * Time order matters: the library counts a late purchase older than a
 * user's exact history as a new purchase day, so an unsorted file fed as
 * it comes would overcount frequency. */
static void *track_range(void *arg)
{
    tracker *T = arg;
    const rfm_row *stop = T->rows + T->end;
    bvt_event proto = BVT_EVENT_INIT;
    proto.type = BVT_EVENT_PURCHASE;
    for (rfm_row *b = T->rows + T->begin; b < stop;) {
        uint32_t c = b->customer;
        rfm_row *e = b + 1;
        int sorted = 1;
        for (; e < stop && e->customer == c; e++)
            sorted &= !before(e, e - 1);
        if (!sorted)
            sort_by_time(b, T->scratch + (b - T->rows), (size_t)(e - b));
        const idmap_entry *id = &T->S->customers.entries[c];
        for (; b < e; b++) {
            bvt_event *ev = &T->events[T->n];
            *ev = proto;
            ev->user_id = id->key;
            ev->user_id_len = id->len;
            ev->time_ms = b->t_ms;
            ev->value = b->value;
            T->lines[T->n++] = b->line;
            if (T->n == CLI_BATCH && flush(T) < 0)
                return NULL;
        }
    }
    flush(T);
    return NULL;
}

/* Rows below which a second thread costs more than it saves. */
#define THREAD_MIN_ROWS 100000

static int track_rows(rfm_state *S)
{
    size_t n = S->nrows, nc = S->customers.count;
    /* LSD radix sort on the customer index, a byte per pass. */
    rfm_row *src = S->rows, *dst = S->spare;
    for (unsigned shift = 0; shift < 32 && nc > 1 && (nc - 1) >> shift; shift += 8) {
        size_t count[257] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[((src[i].customer >> shift) & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].customer >> shift) & 0xff]++] = src[i];
        rfm_row *t = src;
        src = dst;
        dst = t;
    }

    /* Two halves split between customers, tracked concurrently (the engine
     * is thread-safe; customers are independent). */
    tracker *T = calloc(2, sizeof *T);
    if (!T) {
        oom();
        return CLI_EXIT_FAIL;
    }
    size_t mid = n / 2;
    while (mid > 0 && mid < n && src[mid].customer == src[mid - 1].customer)
        mid++;
    for (int k = 0; k < 2; k++) {
        T[k].S = S;
        T[k].rows = src;
        T[k].scratch = dst;
        T[k].begin = k ? mid : 0;
        T[k].end = k ? n : mid;
    }
    pthread_t th;
    int threaded = n >= THREAD_MIN_ROWS && pthread_create(&th, NULL, track_range, &T[1]) == 0;
    track_range(&T[0]);
    if (threaded)
        pthread_join(th, NULL);
    else if (!T[0].failed)
        track_range(&T[1]);

    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        if (T[k].failed) {
            cli_input_error(S->path, T[k].error_line, "rejected: %s", T[k].error);
            rc = CLI_EXIT_FAIL;
        }
    }
    free(T);
    return rc;
}

/* Ids with a comma, quote or line break are quoted as RFC 4180 says. */
static void out_csv_field(cli_out *o, const char *s, size_t n)
{
    if (!strpbrk(s, ",\"\r\n")) {
        cli_out_bytes(o, s, n);
        return;
    }
    cli_out_bytes(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            cli_out_bytes(o, "\"\"", 2);
        else
            cli_out_bytes(o, s + i, 1);
    }
    cli_out_bytes(o, "\"", 1);
}

/* Sort key: the first 8 bytes big-endian, so most comparisons need no
 * pointer chase. */
typedef struct key_order {
    uint64_t prefix;
    const idmap_entry *entry;
} key_order;

static int by_key(const void *a, const void *b)
{
    const key_order *x = a, *y = b;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    size_t n = x->entry->len < y->entry->len ? x->entry->len : y->entry->len;
    int c = memcmp(x->entry->key, y->entry->key, n);
    if (c)
        return c;
    return (x->entry->len > y->entry->len) - (x->entry->len < y->entry->len);
}

static int print_summaries(rfm_state *S, int64_t end_ms, int64_t unit_ms)
{
    const idmap *m = &S->customers;
    key_order *order = malloc((m->count ? m->count : 1) * sizeof *order);
    if (!order) {
        oom();
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < m->count; i++) {
        const idmap_entry *en = &m->entries[i];
        uint64_t p = 0;
        for (size_t k = 0; k < 8; k++)
            p = p << 8 | (k < en->len ? (unsigned char)en->key[k] : 0);
        order[i].prefix = p;
        order[i].entry = en;
    }
    qsort(order, m->count, sizeof *order, by_key);

    cli_out o = { 0 };
    cli_out_printf(&o, "customer_id,frequency,recency,T,monetary_value\n");
    for (size_t i = 0; i < m->count; i++) {
        const idmap_entry *c = order[i].entry;
        bvt_rfm_summary s;
        int rc = bvt_rfm_summary_get(S->engine, c->key, c->len, end_ms, unit_ms, &s);
        if (rc != BVT_OK) {
            fprintf(stderr, "bvt: summary of customer '%s': %s\n", c->key, bvt_strerror(rc));
            cli_out_free(&o);
            free(order);
            return CLI_EXIT_FAIL;
        }
        out_csv_field(&o, c->key, c->len);
        cli_out_bytes(&o, ",", 1);
        cli_out_fixed6(&o, s.frequency);
        cli_out_bytes(&o, ",", 1);
        cli_out_fixed6(&o, s.recency);
        cli_out_bytes(&o, ",", 1);
        cli_out_fixed6(&o, s.T);
        cli_out_bytes(&o, ",", 1);
        cli_out_fixed6(&o, s.monetary_value);
        cli_out_bytes(&o, "\n", 1);
    }
    free(order);
    return cli_out_flush(&o);
}

int cmd_rfm(int argc, char **argv)
{
    const char *input = NULL, *end_text = NULL, *unit_text = NULL;
    const cli_opt opts[] = { { "input", &input }, { "end", &end_text }, { "unit-days", &unit_text } };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, 3, NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    if (!input)
        return cli_usage_error(usage, "rfm needs --input FILE");
    const char *why;
    int64_t end_ms = 0;
    uint64_t unit_days = 1;
    if (end_text && er_parse_time(end_text, strlen(end_text), &end_ms, &why) < 0)
        return cli_usage_error(usage, "--end: %s in '%s'", why, end_text);
    if (unit_text && (er_parse_uint(unit_text, strlen(unit_text), 100000, &unit_days, &why) < 0
                      || unit_days == 0))
        return cli_usage_error(usage, "--unit-days: expected a whole number from 1 to 100000, "
                               "not '%s'", unit_text);

    cli_file f;
    if (cli_file_load(&f, input) < 0)
        return CLI_EXIT_FAIL;
    rfm_state *S = calloc(1, sizeof *S);
    if (!S) {
        cli_file_free(&f);
        oom();
        return CLI_EXIT_FAIL;
    }
    S->path = input;
    idmap_init(&S->customers);
    /* The summary asked below is always at or after each customer's last
     * tracked purchase, and purchases arrive in time order, so the library
     * answers from its RFM counters: the behaviour history is never read,
     * and keeping it minimal makes tracking much cheaper. */
    bvt_options eo = BVT_OPTIONS_INIT;
    eo.history_events = 1;
    eo.history_day_slots = 1;
    rc = cli_engine_new(&S->engine, &eo);
    int64_t last_ms = 0;
    if (rc == 0)
        rc = read_rows(S, f.data, f.len, end_text != NULL, end_ms / DAY_MS, &last_ms);
    if (rc == 0)
        rc = track_rows(S);
    /* The last millisecond of the end day: at or after every kept row. */
    int64_t end_at = end_text ? (end_ms / DAY_MS + 1) * DAY_MS - 1 : last_ms;
    if (rc == 0)
        rc = print_summaries(S, end_at, (int64_t)unit_days * DAY_MS);
    bvt_engine_free(S->engine);
    idmap_free(&S->customers);
    cli_big_free(S->rows, S->alloc_bytes);
    free(S);
    cli_file_free(&f);
    return rc;
}
