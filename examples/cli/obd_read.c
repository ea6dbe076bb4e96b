/* obd_read.c — the bandit log and the Beta priors of `bvt ope` (see
 * obd_read.h).  Everything is checked on reading, so the estimators only
 * ever see items in range, positions 1..3, clicks 0/1 and propensities in
 * (0, 1]. */
#include "obd_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csv.h"
#include "event_reader.h"

/* ---- the log ---------------------------------------------------------- */

enum { COL_ITEM, COL_POSITION, COL_CLICK, COL_PSCORE, COL_COUNT };
static const char *const col_names[COL_COUNT] = { "item_id", "position", "click",
                                                  "propensity_score" };

/* Printable prefix of a field, for messages. */
static const char *quote(char *dst, size_t cap, const char *p, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)p[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[k] = '\0';
    return dst;
}

static int read_header(const char *path, csv_reader *csv, int col[COL_COUNT], size_t *ncols)
{
    csv_field f[ER_MAX_COLUMNS];
    size_t line;
    const char *why;
    int rc = csv_next(csv, f, ER_MAX_COLUMNS, ncols, &line, &why);
    if (rc < 0) {
        cli_input_error(path, line, "header: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        cli_input_error(path, 1, "empty file: expected a header with item_id, position, "
                        "click, propensity_score");
        return CLI_EXIT_FAIL;
    }
    for (int k = 0; k < COL_COUNT; k++)
        col[k] = -1;
    size_t seen = *ncols < ER_MAX_COLUMNS ? *ncols : ER_MAX_COLUMNS;
    for (size_t i = 0; i < seen; i++) {
        for (int k = 0; k < COL_COUNT; k++) {
            if (f[i].n != strlen(col_names[k]) || memcmp(f[i].p, col_names[k], f[i].n) != 0)
                continue;
            if (col[k] >= 0) {
                cli_input_error(path, line, "header: column '%s' appears twice", col_names[k]);
                return CLI_EXIT_FAIL;
            }
            col[k] = (int)i;
        }
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (col[k] < 0) {
            cli_input_error(path, line, "header: missing column '%s' (a log needs item_id, "
                            "position, click, propensity_score)", col_names[k]);
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* Parse one record's four fields into row; 0, or -1 after printing. */
static int parse_row(const char *path, size_t line, const csv_field *f, const int col[COL_COUNT],
                     uint32_t n_items, obd_row *row)
{
    char q[48];
    const char *why;
    uint64_t u;
    double v;
    const csv_field *it = &f[col[COL_ITEM]], *po = &f[col[COL_POSITION]];
    const csv_field *cl = &f[col[COL_CLICK]], *ps = &f[col[COL_PSCORE]];

    if (er_parse_uint(it->p, it->n, UINT32_MAX, &u, &why) < 0) {
        cli_input_error(path, line, "item_id: %s in '%s'", why, quote(q, sizeof q, it->p, it->n));
        return -1;
    }
    if (u >= n_items) {
        cli_input_error(path, line, "item_id: %llu is out of range (the campaign has %u items, "
                        "0..%u)", (unsigned long long)u, n_items, n_items - 1);
        return -1;
    }
    row->item = (uint32_t)u;
    if (er_parse_uint(po->p, po->n, UINT32_MAX, &u, &why) < 0 || u < 1 || u > OBD_POSITIONS) {
        cli_input_error(path, line, "position: expected 1, 2 or 3, not '%s'",
                        quote(q, sizeof q, po->p, po->n));
        return -1;
    }
    row->position = (uint32_t)u;
    if (cl->n != 1 || (cl->p[0] != '0' && cl->p[0] != '1')) {
        cli_input_error(path, line, "click: expected 0 or 1, not '%s'",
                        quote(q, sizeof q, cl->p, cl->n));
        return -1;
    }
    row->click = (uint32_t)(cl->p[0] - '0');
    if (er_parse_value(ps->p, ps->n, &v, &why) < 0) {
        cli_input_error(path, line, "propensity_score: %s in '%s'", why,
                        quote(q, sizeof q, ps->p, ps->n));
        return -1;
    }
    if (!(v > 0) || v > 1) {
        cli_input_error(path, line, "propensity_score: %s must be in (0, 1] (the logging "
                        "policy's probability of this item in this position)",
                        quote(q, sizeof q, ps->p, ps->n));
        return -1;
    }
    row->pscore = v;
    row->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    return 0;
}

int obd_log_read(const char *path, const char *buf, size_t len, uint32_t n_items, obd_log *out)
{
    memset(out, 0, sizeof *out);
    char *scratch = malloc(CSV_MAX_RECORD);
    csv_field *f = malloc(ER_MAX_COLUMNS * sizeof *f);
    /* The shortest record, "0,1,0,1", is 7 bytes and a line end. */
    size_t cap = len / 8 + 1;
    obd_row *rows = malloc(cap * sizeof *rows);
    if (!scratch || !f || !rows) {
        free(scratch);
        free(f);
        free(rows);
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    csv_reader csv;
    int col[COL_COUNT];
    size_t ncols, n, line, nrows = 0;
    const char *why = NULL;
    uint64_t clicks = 0;
    int rc;

    csv_init(&csv, buf, len, scratch);
    int status = read_header(path, &csv, col, &ncols);
    while (status == 0 && (rc = csv_next(&csv, f, ER_MAX_COLUMNS, &n, &line, &why)) != 0) {
        if (rc < 0) {
            cli_input_error(path, line, "%s", why);
            status = CLI_EXIT_FAIL;
        } else if (n != ncols) {
            cli_input_error(path, line, "found %zu fields, the header has %zu", n, ncols);
            status = CLI_EXIT_FAIL;
        } else if (nrows == cap) { /* cannot happen: cap bounds the records */
            fprintf(stderr, "bvt: %s: too many rows\n", path);
            status = CLI_EXIT_FAIL;
        } else if (parse_row(path, line, f, col, n_items, &rows[nrows]) < 0) {
            status = CLI_EXIT_FAIL;
        } else {
            clicks += rows[nrows++].click;
        }
    }
    if (status == 0 && nrows == 0) {
        cli_input_error(path, csv.line, "no rows after the header: nothing to evaluate");
        status = CLI_EXIT_FAIL;
    }
    free(scratch);
    free(f);
    if (status != 0) {
        free(rows);
        return status;
    }
    out->rows = rows;
    out->n = nrows;
    out->clicks = clicks;
    return 0;
}

void obd_log_free(obd_log *log)
{
    if (!log)
        return;
    free(log->rows);
    memset(log, 0, sizeof *log);
}

/* ---- the priors ------------------------------------------------------- */

/* A growing list of numbers. */
typedef struct numlist {
    double *v;
    size_t n, cap;
    size_t line; /* where the key was, 0 when not seen */
} numlist;

static int numlist_push(numlist *l, double x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        double *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

typedef struct yaml_state {
    const char *path;
    const char *campaign;
    size_t line;
    int in_wanted;     /* the current top-level key is the campaign asked */
    size_t wanted_line;
    numlist *list;     /* where "- value" items go, or NULL to skip them */
    int any_key;       /* a key was seen before the item */
    numlist alpha, beta;
} yaml_state;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int yfail(yaml_state *y, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%zu: ", y->path, y->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

/* One number of a list: a whole number >= 1, optionally written "47.0". */
static int add_number(yaml_state *y, const char *p, size_t n)
{
    char q[48];
    const char *why;
    double v;
    const char *name = y->list == &y->alpha ? "alpha" : "beta";
    trim(&p, &n);
    if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
        p++;
        n -= 2;
    }
    if (er_parse_value(p, n, &v, &why) < 0)
        return yfail(y, "%s: expected a number, not '%s'", name, quote(q, sizeof q, p, n));
    if (v < 1 || v != floor(v) || v > OBD_MAX_PRIOR_EVENTS)
        return yfail(y, "%s: '%s' is not a whole number from 1 to 200000000 (priors are fed to "
                     "the engine as counts)", name, quote(q, sizeof q, p, n));
    if (y->list->n >= OBD_MAX_ITEMS)
        return yfail(y, "%s: more than 65535 items", name);
    if (numlist_push(y->list, v) < 0)
        return yfail(y, "out of memory");
    return 0;
}

/* "[1.0, 2.0, ...]" after a key. */
static int flow_list(yaml_state *y, const char *p, size_t n)
{
    if (n < 2 || p[0] != '[' || p[n - 1] != ']')
        return yfail(y, "%s: expected a list ('- value' lines or [a, b, ...]), not a single "
                     "value", y->list == &y->alpha ? "alpha" : "beta");
    p++;
    n -= 2;
    const char *end = p + n;
    trim(&p, &n);
    if (n == 0)
        return 0;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (add_number(y, p, (size_t)(stop - p)) < 0)
            return -1;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int yaml_line(yaml_state *y, const char *p, size_t n)
{
    char q[64];
    /* A comment starts at '#' at the line start or after a blank. */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t')) {
            n = i;
            break;
        }
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    size_t indent = 0;
    while (indent < n && p[indent] == ' ')
        indent++;
    if (indent == n)
        return 0;
    if (p[indent] == '\t')
        return yfail(y, "tab in the indentation (YAML indents with spaces)");
    const char *c = p + indent;
    size_t cn = n - indent;
    if (cn == 3 && memcmp(c, "---", 3) == 0 && indent == 0)
        return 0; /* document start */
    if (c[0] == '-' && (cn == 1 || c[1] == ' ')) {
        if (!y->any_key)
            return yfail(y, "list item before any key");
        return y->list ? add_number(y, c + 1, cn - 1) : 0;
    }
    const char *colon = memchr(c, ':', cn);
    if (!colon || (colon + 1 < c + cn && colon[1] != ' '))
        return yfail(y, "expected 'key:' or '- value', not '%s'", quote(q, sizeof q, c, cn));
    const char *key = c, *rest = colon + 1;
    size_t kn = (size_t)(colon - c), rn = (size_t)(c + cn - rest);
    trim(&key, &kn);
    trim(&rest, &rn);
    if (kn >= 2 && (key[0] == '"' || key[0] == '\'') && key[kn - 1] == key[0]) {
        key++;
        kn -= 2;
    }
    y->any_key = 1;
    y->list = NULL;
    if (indent == 0) {
        y->in_wanted = kn == strlen(y->campaign) && memcmp(key, y->campaign, kn) == 0;
        if (y->in_wanted) {
            if (y->wanted_line)
                return yfail(y, "campaign '%s' appears twice", y->campaign);
            if (rn)
                return yfail(y, "campaign '%s': expected alpha and beta on the lines below "
                             "(flow mappings are not read)", y->campaign);
            y->wanted_line = y->line;
        }
        return 0;
    }
    if (!y->in_wanted)
        return 0;
    numlist *l = NULL;
    if (kn == 5 && memcmp(key, "alpha", 5) == 0)
        l = &y->alpha;
    else if (kn == 4 && memcmp(key, "beta", 4) == 0)
        l = &y->beta;
    if (!l)
        return 0; /* some other setting of the campaign */
    if (l->line)
        return yfail(y, "campaign '%s': '%s' appears twice", y->campaign, l == &y->alpha ? "alpha" : "beta");
    l->line = y->line;
    y->list = l;
    return rn ? flow_list(y, rest, rn) : 0;
}

int obd_prior_read(const char *path, const char *buf, size_t len, const char *campaign,
                   obd_prior *out)
{
    yaml_state y;
    memset(&y, 0, sizeof y);
    memset(out, 0, sizeof *out);
    y.path = path;
    y.campaign = campaign;
    int failed = 0;
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len && !failed) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        y.line++;
        if (memchr(buf + pos, '\0', end - pos))
            failed = yfail(&y, "NUL byte in the file") < 0;
        else
            failed = yaml_line(&y, buf + pos, end - pos) < 0;
        pos = end + 1;
    }
    if (!failed && !y.wanted_line) {
        fprintf(stderr, "bvt: %s: no campaign '%s' in the file\n", path, campaign);
        failed = 1;
    }
    for (int k = 0; k < 2 && !failed; k++) {
        numlist *l = k ? &y.beta : &y.alpha;
        if (!l->line || l->n == 0) {
            y.line = l->line ? l->line : y.wanted_line;
            failed = yfail(&y, "campaign '%s': no %s list", campaign, k ? "beta" : "alpha") < 0;
        }
    }
    if (!failed && y.alpha.n != y.beta.n) {
        y.line = y.beta.line;
        failed = yfail(&y, "campaign '%s': alpha has %zu items, beta %zu", campaign, y.alpha.n,
                       y.beta.n) < 0;
    }
    if (!failed && y.alpha.n < OBD_POSITIONS) {
        y.line = y.alpha.line;
        failed = yfail(&y, "campaign '%s': fewer items than the 3 positions", campaign) < 0;
    }
    double total = 0;
    for (size_t i = 0; !failed && i < y.alpha.n; i++)
        total += y.alpha.v[i] + y.beta.v[i];
    if (!failed && total > OBD_MAX_PRIOR_EVENTS) {
        y.line = y.wanted_line;
        failed = yfail(&y, "campaign '%s': alpha + beta sum to more than 200000000 "
                       "pseudo-events", campaign) < 0;
    }
    if (failed) {
        free(y.alpha.v);
        free(y.beta.v);
        return CLI_EXIT_FAIL;
    }
    out->alpha = y.alpha.v;
    out->beta = y.beta.v;
    out->n_items = (uint32_t)y.alpha.n;
    return 0;
}

void obd_prior_free(obd_prior *p)
{
    if (!p)
        return;
    free(p->alpha);
    free(p->beta);
    memset(p, 0, sizeof *p);
}
