/* fuzz-rfm.c — libFuzzer entry point for the transactions reader of
 * `bvt rfm` (examples/cli/rfm_read.c).
 *
 * Each input is read three ways: whole, on one thread; split between two
 * threads wherever a line end allows (split_min = 1, so small inputs take
 * the path a large file takes); and whole with an end day (the middle
 * row's day).  Besides the sanitizers, the harness checks the reader's
 * promises (rfm.h):
 *  - a failure is CLI_EXIT_FAIL with exactly one message, at a line inside
 *    the input, the same line and text all three ways (rows are checked
 *    before the end day drops them);
 *  - accepted rows have a customer in the map (1..1024 bytes, no NUL), a
 *    line inside the input and increasing, a time > 0 and a finite value
 *    >= 0; last_ms is the latest time and `grouped` says whether each
 *    customer's rows are contiguous;
 *  - the split read gives the same rows, customers (in the same order),
 *    last_ms and grouped as the whole read;
 *  - with an end day the rows are exactly the whole read's rows up to that
 *    day;
 *  - read leniently (two bad rows skipped, returns and the time format
 *    chosen by the first bytes), whole and split agree on the outcome, the
 *    messages, the rows, the counts of bad rows and returns, and the
 *    misread times. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rfm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader reports bad lines through the CLI's cli_input_error(): the
 * harness keeps the last message instead of printing it. */
static size_t errors, error_line;
static char error_text[512];

void cli_input_error(const char *path, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
    if (!path || n <= 0)
        abort();
    errors++;
    error_line = line;
}

typedef struct outcome {
    int rc;
    size_t errors, line;
    char text[512];
} outcome;

static outcome read_with(rfm_input *in, const uint8_t *data, size_t size)
{
    outcome o;
    errors = 0;
    error_line = 0;
    error_text[0] = '\0';
    in->path = "fuzz.csv";
    o.rc = rfm_read(in, (const char *)data, size);
    o.errors = errors;
    o.line = error_line;
    memcpy(o.text, error_text, sizeof o.text);
    return o;
}

static int same_outcome(const outcome *a, const outcome *b)
{
    return a->rc == b->rc && a->errors == b->errors && a->line == b->line &&
           strcmp(a->text, b->text) == 0;
}

static void check_rows(const rfm_input *in, size_t lines, int returns)
{
    int64_t last = 0;
    int contiguous = 1;
    for (size_t i = 0; i < in->nrows; i++) {
        const rfm_row *r = &in->rows[i];
        if (r->customer >= in->customers.count || r->line < (in->events ? 1u : 2u) ||
            r->line > lines ||
            (i > 0 && r->line <= in->rows[i - 1].line) || r->t_ms <= 0 ||
            !isfinite(r->value) || (r->value < 0 && !returns))
            abort();
        if (r->t_ms > last)
            last = r->t_ms;
        /* a customer seen before, but not on the previous row */
        if (i > 0 && r->customer != in->rows[i - 1].customer)
            for (size_t j = 0; j + 1 < i && contiguous; j++)
                contiguous = in->rows[j].customer != r->customer;
    }
    if (in->nrows > 0 && (last != in->last_ms || contiguous != in->grouped))
        abort();
    for (size_t c = 0; c < in->customers.count; c++) {
        const idmap_entry *en = &in->customers.entries[c];
        if (en->len == 0 || en->len > 1024 || memchr(en->key, '\0', en->len) ||
            en->key[en->len] != '\0')
            abort();
    }
}

/* b read the same rows, customers (in the same order), last_ms and
 * grouped as a. */
static void same_rows(const rfm_input *a, const rfm_input *b)
{
    if (b->nrows != a->nrows || b->customers.count != a->customers.count ||
        b->last_ms != a->last_ms || b->grouped != a->grouped || b->returns != a->returns)
        abort();
    for (size_t i = 0; i < a->nrows; i++) {
        const rfm_row *x = &a->rows[i], *y = &b->rows[i];
        if (x->customer != y->customer || x->line != y->line || x->t_ms != y->t_ms ||
            memcmp(&x->value, &y->value, sizeof x->value) != 0)
            abort();
    }
    for (size_t c = 0; c < a->customers.count; c++)
        if (strcmp(a->customers.entries[c].key, b->customers.entries[c].key) != 0)
            abort();
}

/* Leniently, whole and split: the same outcome and the same read. */
static void lenient(const uint8_t *data, size_t size, size_t lines)
{
    static cli_input opts; /* a few KiB */
    memset(&opts, 0, sizeof opts);
    opts.max_errors = 2;
    opts.returns = size ? data[0] % 3 : 0;
    opts.time_format = size > 1 ? data[1] % 5 : 0;
    rfm_input whole = { 0 }, split = { 0 };
    whole.opts = split.opts = &opts;
    split.split_min = 1;
    outcome w = read_with(&whole, data, size);
    outcome s = read_with(&split, data, size);
    if (!same_outcome(&w, &s) || whole.records != split.records ||
        whole.rejects.rejected != split.rejects.rejected ||
        whole.rejects.returns_ignored != split.rejects.returns_ignored ||
        whole.rejects.stopped != split.rejects.stopped)
        abort();
    if (w.rc == 0) {
        if (whole.times.early != split.times.early ||
            whole.times.early_line != split.times.early_line)
            abort();
        if (w.errors != whole.rejects.rejected || whole.rejects.rejected > 2)
            abort(); /* each skipped row printed once */
        check_rows(&whole, lines, opts.returns == CLI_RETURNS_SUBTRACT);
        same_rows(&whole, &split);
    } else if (w.rc != CLI_EXIT_FAIL || w.errors < 1 || w.line < 1 || w.line > lines) {
        abort();
    }
    rfm_input_free(&whole);
    rfm_input_free(&split);
}

static const char *key_of(const rfm_input *in, const rfm_row *r)
{
    return in->customers.entries[r->customer].key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    rfm_input whole = { 0 }, split = { 0 }, ended = { 0 };
    outcome w = read_with(&whole, data, size);
    split.split_min = 1;
    outcome s = read_with(&split, data, size);
    if (!same_outcome(&w, &s))
        abort();
    if (w.rc != 0) {
        if (w.rc != CLI_EXIT_FAIL || w.errors != 1 || w.line < 1 || w.line > lines)
            abort();
    } else {
        if (w.errors != 0 || (whole.nrows == 0 && whole.customers.count != 0))
            abort();
        check_rows(&whole, lines, 0);
        same_rows(&whole, &split);
    }

    /* An end day from the middle row drops the rows after it, nothing else. */
    ended.has_end = 1;
    ended.end_day = whole.nrows ? whole.rows[whole.nrows / 2].t_ms / DAY_MS : 0;
    outcome e = read_with(&ended, data, size);
    if (!same_outcome(&w, &e))
        abort();
    if (w.rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < whole.nrows; i++) {
            const rfm_row *a = &whole.rows[i];
            if (a->t_ms / DAY_MS > ended.end_day)
                continue;
            if (k >= ended.nrows)
                abort();
            const rfm_row *b = &ended.rows[k++];
            if (a->line != b->line || a->t_ms != b->t_ms ||
                strcmp(key_of(&whole, a), key_of(&ended, b)) != 0)
                abort();
        }
        if (k != ended.nrows)
            abort();
    }
    rfm_input_free(&whole);
    rfm_input_free(&split);
    rfm_input_free(&ended);
    lenient(data, size, lines);
    return 0;
}
