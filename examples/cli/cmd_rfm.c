/* cmd_rfm.c — `bvt rfm`: the lifetimes summary of a transactions CSV,
 * computed by the library (each row is a purchase event). */
#include "cli.h"

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
    rfm_row *rows; /* one growing array, not one allocation per row */
    size_t nrows, cap;
    bvt_event events[CLI_BATCH];
    size_t lines[CLI_BATCH];
    size_t n;
} rfm_state;

static int flush(rfm_state *S)
{
    if (S->n == 0)
        return 0;
    bvt_batch_error first;
    bvt_error err = BVT_ERROR_INIT;
    size_t failed = 0;
    int rc = bvt_event_track_batch(S->engine, S->events, S->n, &first, 1, &failed, &err);
    if (rc != BVT_OK || failed > 0) {
        size_t idx = failed > 0 && first.index < S->n ? first.index : 0;
        int code = failed > 0 ? first.code : rc;
        cli_input_error(S->path, S->lines[idx], "rejected: %s",
                        err.message[0] ? err.message : bvt_strerror(code));
        return CLI_EXIT_FAIL;
    }
    S->n = 0;
    return 0;
}

static int grow_rows(rfm_state *S)
{
    size_t cap = S->cap ? S->cap * 2 : 65536;
    rfm_row *r = realloc(S->rows, cap * sizeof *r);
    if (!r)
        return -1;
    S->rows = r;
    S->cap = cap;
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

/* Read every row up to the end day into S->rows.  *last_ms receives the
 * latest date kept. */
static int read_rows(rfm_state *S, const char *buf, size_t len, int has_end, int64_t end_day,
                     int64_t *last_ms)
{
    static char scratch[CSV_MAX_RECORD];
    csv_reader csv;
    csv_field cols[ER_MAX_COLUMNS];
    int col[COL_COUNT] = { -1, -1, -1 };
    size_t ncols, n, line;
    const char *why;
    char q[48];

    csv_init(&csv, buf, len, scratch);
    int rc = csv_next(&csv, cols, ER_MAX_COLUMNS, &ncols, &line, &why);
    if (rc < 0) {
        cli_input_error(S->path, line, "header: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        cli_input_error(S->path, 1, "empty file: expected the header customer_id,date,value");
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < ncols && i < ER_MAX_COLUMNS; i++) {
        for (int k = 0; k < COL_COUNT; k++) {
            if (cols[i].n == strlen(col_names[k]) && memcmp(cols[i].p, col_names[k], cols[i].n) == 0) {
                if (col[k] >= 0) {
                    cli_input_error(S->path, line, "header: column '%s' appears twice", col_names[k]);
                    return CLI_EXIT_FAIL;
                }
                col[k] = (int)i;
            }
        }
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (col[k] < 0) {
            cli_input_error(S->path, line, "header: missing column '%s' (expected "
                            "customer_id,date,value)", col_names[k]);
            return CLI_EXIT_FAIL;
        }
    }

    uint64_t rows = 0;
    long prev = -1;
    /* Size the row array once: a data row needs at least one line. */
    size_t lines_left = 1;
    for (const char *p = buf + csv.pos, *e = buf + len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        lines_left++;
    S->rows = malloc(lines_left * sizeof *S->rows);
    if (!S->rows) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    S->cap = lines_left;
    *last_ms = 0;
    while ((rc = csv_next(&csv, cols, ER_MAX_COLUMNS, &n, &line, &why)) > 0) {
        if (++rows % 1000000 == 0)
            cli_progress(S->path, rows);
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
                            : cust->n > ER_MAX_USER_ID ? "longer than 1024 bytes" : "NUL byte in the value");
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
        /* Files are often grouped by customer: skip the lookup then. */
        long idx = prev;
        if (idx < 0 || S->customers.entries[idx].len != cust->n
            || memcmp(S->customers.entries[idx].key, cust->p, cust->n) != 0)
            idx = idmap_intern(&S->customers, cust->p, cust->n, NULL);
        if (idx < 0 || (S->nrows == S->cap && grow_rows(S) < 0)) {
            fprintf(stderr, "bvt: out of memory\n");
            return CLI_EXIT_FAIL;
        }
        prev = idx;
        rfm_row *row = &S->rows[S->nrows++];
        row->customer = (uint32_t)idx;
        row->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
        row->t_ms = t;
        row->value = v;
        if (t > *last_ms)
            *last_ms = t;
    }
    cli_progress_done(rows);
    if (rc < 0) {
        cli_input_error(S->path, line, "%s", why);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const rfm_row *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Track the rows customer by customer, each customer's in time order.
 * Time order matters: the library counts a late purchase older than a
 * user's exact history as a new purchase day, so an unsorted file would
 * overcount frequency.  Grouping by customer also keeps each profile in
 * cache while its events are applied. */
static int track_rows(rfm_state *S)
{
    size_t n = S->nrows, nc = S->customers.count;
    rfm_row *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    /* LSD radix sort on the customer index, a byte per pass: each pass
     * streams through memory, unlike a one-step scatter over ~20 MB. */
    rfm_row *src = S->rows, *dst = tmp;
    for (unsigned shift = 0; shift < 32 && (nc - 1) >> shift; shift += 8) {
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

    int rc = 0;
    bvt_event proto = BVT_EVENT_INIT;
    proto.type = BVT_EVENT_PURCHASE;
    for (size_t b = 0; b < n && rc == 0;) {
        uint32_t c = src[b].customer;
        size_t e = b + 1;
        int sorted = 1;
        while (e < n && src[e].customer == c) {
            sorted &= by_time(&src[e - 1], &src[e]) <= 0;
            e++;
        }
        if (!sorted) {
            if (e - b <= 32) { /* insertion sort: small groups are the rule */
                for (size_t i = b + 1; i < e; i++) {
                    rfm_row x = src[i];
                    size_t j = i;
                    while (j > b && by_time(&src[j - 1], &x) > 0) {
                        src[j] = src[j - 1];
                        j--;
                    }
                    src[j] = x;
                }
            } else {
                qsort(src + b, e - b, sizeof *src, by_time);
            }
        }
        const idmap_entry *id = &S->customers.entries[c];
        for (size_t i = b; i < e && rc == 0; i++) {
            bvt_event *ev = &S->events[S->n];
            *ev = proto;
            ev->user_id = id->key;
            ev->user_id_len = id->len;
            ev->time_ms = src[i].t_ms;
            ev->value = src[i].value;
            S->lines[S->n++] = src[i].line;
            if (S->n == CLI_BATCH)
                rc = flush(S);
        }
        b = e;
    }
    if (rc == 0)
        rc = flush(S);
    free(tmp);
    return rc;
}

static const idmap *sort_map; /* qsort has no context argument in C11 */

static int by_key(const void *a, const void *b)
{
    const idmap_entry *x = &sort_map->entries[*(const uint32_t *)a];
    const idmap_entry *y = &sort_map->entries[*(const uint32_t *)b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
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

static int print_summaries(rfm_state *S, int64_t end_ms, int64_t unit_ms)
{
    const idmap *m = &S->customers;
    uint32_t *order = malloc((m->count ? m->count : 1) * sizeof *order);
    if (!order) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < m->count; i++)
        order[i] = (uint32_t)i;
    sort_map = m;
    qsort(order, m->count, sizeof *order, by_key);

    cli_out o = { 0 };
    cli_out_printf(&o, "customer_id,frequency,recency,T,monetary_value\n");
    for (size_t i = 0; i < m->count; i++) {
        const idmap_entry *c = &m->entries[order[i]];
        bvt_rfm_summary s;
        int rc = bvt_rfm_summary_get(S->engine, c->key, c->len, end_ms, unit_ms, &s);
        if (rc != BVT_OK) {
            fprintf(stderr, "bvt: summary of customer '%s': %s\n", c->key, bvt_strerror(rc));
            cli_out_free(&o);
            free(order);
            return CLI_EXIT_FAIL;
        }
        out_csv_field(&o, c->key, c->len);
        cli_out_printf(&o, ",%.0f,", s.frequency);
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
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    S->path = input;
    idmap_init(&S->customers);
    rc = cli_engine_new(&S->engine, NULL);
    int64_t last_ms = 0;
    if (rc == 0)
        rc = read_rows(S, f.data, f.len, end_text != NULL, end_ms / DAY_MS, &last_ms);
    if (rc == 0)
        rc = track_rows(S);
    if (rc == 0)
        rc = print_summaries(S, end_text ? end_ms : last_ms, (int64_t)unit_days * DAY_MS);
    bvt_engine_free(S->engine);
    idmap_free(&S->customers);
    free(S->rows);
    free(S);
    cli_file_free(&f);
    return rc;
}
