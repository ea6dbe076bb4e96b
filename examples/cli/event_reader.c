/* event_reader.c — CSV and JSON Lines event records (see event_reader.h). */
#include "event_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_time.h"

const char *const er_field_names[ER_F_COUNT] = {
    "user_id", "timestamp", "type", "category", "item_id",
    "value", "quantity", "offer_id", "dwell_ms", "search_text",
};
#define field_names er_field_names

static const cli_input strict_input; /* zeroed: the strict default */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- error text ------------------------------------------------------ */

/* An error in the record being read (field: "" for the record as a whole;
 * kind: a static short reason).  The reader stays at the next record. */
static int fail_in(er_reader *r, size_t line, const char *field, const char *kind,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int fail_in(er_reader *r, size_t line, const char *field, const char *kind,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->error_line = line;
    r->error_field = field;
    r->error_kind = kind;
    return -1;
}

/* An error after which the next record cannot be found: sticky. */
#define fail_fatal(r, line, kind, ...) \
    ((r)->failed = 1, (r)->error_raw.p = NULL, fail_in((r), (line), "", (kind), __VA_ARGS__))

/* A short, printable copy of input text for messages. */
static const char *quote_text(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0, limit = cap - 4;
    for (size_t i = 0; i < n && o < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (o == limit && n > limit) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

size_t er_error_line(const er_reader *r) { return r->error_line; }

const char *er_error(const er_reader *r) { return r->error; }

const char *er_error_field(const er_reader *r) { return r->error_field ? r->error_field : ""; }

const char *er_error_kind(const er_reader *r) { return r->error_kind ? r->error_kind : ""; }

int er_error_fatal(const er_reader *r) { return r->failed; }

er_slice er_error_record(const er_reader *r) { return r->error_raw; }

/* ---- field parsers --------------------------------------------------- */

int er_parse_value(const char *s, size_t n, double *out, const char **why)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    *why = "expected a number >= 0";
    if (n == 0) {
        *why = "empty";
        return -1;
    }
    /* Fast path: up to 15 digits with an optional point is exact in a double
     * and m / 10^k is then correctly rounded. */
    {
        uint64_t m = 0;
        size_t i = 0, nd = 0, frac = 0;
        int point = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (is_digit(c)) {
                m = m * 10 + (uint64_t)(c - '0');
                nd++;
                frac += point;
            } else if (c == '.' && !point) {
                point = 1;
            } else {
                break;
            }
            if (nd > 15)
                break;
        }
        if (i == n && nd > 0) {
            *out = (double)m / pow10[frac];
            return 0;
        }
    }
    /* General form: [+-] digits [. digits] [e [+-] digits], validated here
     * because strtod also takes hex, "inf", "nan" and leading spaces. */
    size_t i = 0, nd = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (i < n && is_digit(s[i]))
        i++, nd++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, nd++;
    }
    if (nd == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ne = 0;
        while (i < n && is_digit(s[i]))
            i++, ne++;
        if (ne == 0)
            return -1;
    }
    if (i != n)
        return -1;
    char tmp[80];
    if (n >= sizeof tmp) {
        *why = "number longer than 79 characters";
        return -1;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v)) {
        *why = "number out of range";
        return -1;
    }
    if (v < 0) {
        *why = "must be >= 0";
        return -1;
    }
    *out = v == 0 ? 0.0 : v; /* no -0 */
    return 0;
}

int er_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why)
{
    uint64_t v = 0;
    if (n == 0) {
        *why = "empty";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            *why = "expected a whole number";
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max) {
            *why = "number out of range";
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* ---- record validation (both formats) -------------------------------- */

/* The library's category rule, checked here so the message names the line. */
static const char *category_problem(const char *s, size_t n)
{
    if (n > 255)
        return "longer than 255 bytes";
    size_t levels = 1, seg = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (seg == 0)
                return "empty path segment";
            seg = 0;
            levels++;
        } else {
            seg++;
        }
    }
    if (seg == 0)
        return "empty path segment";
    if (levels > 16)
        return "more than 16 levels";
    return NULL;
}

static int check_type(er_reader *r, size_t line, const er_slice *t)
{
    char q[64], msg[256];
    const cli_types *vocab = r->in->vocab;
    if (vocab && !cli_types_has(vocab, t->p, t->n))
        return fail_in(r, line, field_names[ER_F_TYPE], "unknown event type", "%s: %s",
                       r->label[ER_F_TYPE],
                       cli_types_unknown(vocab, t->p, t->n, msg, sizeof msg));
    if (!vocab && !cli_types_valid_name(t->p, t->n))
        return fail_in(r, line, field_names[ER_F_TYPE], "not a type name",
                       "%s: '%s' is not a type name (1..31 of a-z, 0-9, _)",
                       r->label[ER_F_TYPE], quote_text(q, sizeof q, t->p, t->n));
    return 0;
}

/* value and quantity; a purchase with a negative one is a return. */
static int read_amounts(er_reader *r, size_t line, const er_slice *raw, er_record *rec)
{
    char q[64];
    const char *why;
    const er_slice *v = &raw[ER_F_VALUE], *qt = &raw[ER_F_QUANTITY];
    int purchase = rec->type.n == 8 && memcmp(rec->type.p, "purchase", 8) == 0;
    int neg_value = 0, neg_qty = 0;
    if (v->p && v->n > 0) {
        const char *p = v->p;
        size_t n = v->n;
        if (purchase)
            er_strip_minus(&p, &n, &neg_value);
        if (er_parse_value(p, n, &rec->value, &why) < 0)
            return fail_in(r, line, field_names[ER_F_VALUE], why, "%s: %s in '%s'",
                           r->label[ER_F_VALUE], why, quote_text(q, sizeof q, v->p, v->n));
        neg_value &= rec->value > 0;
    }
    if (qt->p && qt->n > 0) {
        const char *p = qt->p;
        size_t n = qt->n;
        uint64_t u;
        if (purchase)
            er_strip_minus(&p, &n, &neg_qty);
        if (er_parse_uint(p, n, UINT32_MAX, &u, &why) < 0)
            return fail_in(r, line, field_names[ER_F_QUANTITY], why, "%s: %s in '%s'",
                           r->label[ER_F_QUANTITY], why, quote_text(q, sizeof q, qt->p, qt->n));
        rec->quantity = (uint32_t)u;
        neg_qty &= u > 0;
    }
    if (!neg_value && !neg_qty)
        return 0;
    if (r->in->returns == CLI_RETURNS_REJECT) {
        int f = neg_value ? ER_F_VALUE : ER_F_QUANTITY;
        const er_slice *t = neg_value ? v : qt;
        return fail_in(r, line, field_names[f], "a return",
                       "%s: must be >= 0 in '%s' (a purchase with a negative value or "
                       "quantity is a return: see --returns)",
                       r->label[f], quote_text(q, sizeof q, t->p, t->n));
    }
    rec->is_return = 1;
    return 0;
}

/* Convert the raw text of each field into a record.  raw[f].p == NULL means
 * the field is absent (no column, no key, or JSON null). */
static int fill_record(er_reader *r, size_t line, const er_slice *raw, er_record *rec)
{
    char q[64], why[256];
    const char *kind;
    uint64_t u;
    const char *static_why;

    er_slice whole = rec->raw;
    memset(rec, 0, sizeof *rec);
    rec->line = line;
    rec->raw = whole;
    for (int f = 0; f < ER_F_COUNT; f++) {
        if (raw[f].p && memchr(raw[f].p, '\0', raw[f].n))
            return fail_in(r, line, field_names[f], "NUL byte", "%s: NUL byte in the value",
                           r->label[f]);
    }
    static const int required[] = { ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE };
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        int f = required[k];
        if (!raw[f].p || raw[f].n == 0)
            return fail_in(r, line, field_names[f], "missing or empty", "%s: missing or empty",
                           r->label[f]);
    }
    rec->user_id = raw[ER_F_USER_ID];
    if (rec->user_id.n > ER_MAX_USER_ID)
        return fail_in(r, line, field_names[ER_F_USER_ID], "too long",
                       "%s: longer than %d bytes", r->label[ER_F_USER_ID], ER_MAX_USER_ID);

    const er_slice *t = &raw[ER_F_TIMESTAMP];
    if ((r->in->time_advice
             ? cli_time_read_advised(t->p, t->n, r->in->time_format, r->in->time_advice,
                                     &rec->time_ms, why, sizeof why, &kind)
             : cli_time_read(t->p, t->n, r->in->time_format, "--time-format", &rec->time_ms,
                             why, sizeof why, &kind)) < 0)
        return fail_in(r, line, field_names[ER_F_TIMESTAMP], kind, "%s: %s",
                       r->label[ER_F_TIMESTAMP], why);

    rec->type = raw[ER_F_TYPE];
    if (check_type(r, line, &rec->type) < 0)
        return -1;

    if (raw[ER_F_CATEGORY].p && raw[ER_F_CATEGORY].n > 0) {
        const er_slice *c = &raw[ER_F_CATEGORY];
        const char *p = category_problem(c->p, c->n);
        if (p)
            return fail_in(r, line, field_names[ER_F_CATEGORY], p, "%s: %s in '%s'",
                           r->label[ER_F_CATEGORY], p, quote_text(q, sizeof q, c->p, c->n));
        rec->category = *c;
    }
    if (raw[ER_F_ITEM_ID].p)
        rec->item_id = raw[ER_F_ITEM_ID];
    if (raw[ER_F_OFFER_ID].p)
        rec->offer_id = raw[ER_F_OFFER_ID];
    if (raw[ER_F_SEARCH_TEXT].p)
        rec->search_text = raw[ER_F_SEARCH_TEXT];

    if (read_amounts(r, line, raw, rec) < 0)
        return -1;
    const er_slice *v = &raw[ER_F_DWELL_MS];
    if (v->p && v->n > 0) {
        if (er_parse_uint(v->p, v->n, ER_MAX_DWELL_MS, &u, &static_why) < 0)
            return fail_in(r, line, field_names[ER_F_DWELL_MS], static_why,
                           "%s: %s (0..%d) in '%s'", r->label[ER_F_DWELL_MS], static_why,
                           ER_MAX_DWELL_MS, quote_text(q, sizeof q, v->p, v->n));
        rec->dwell_ms = (int64_t)u;
    }
    return 0;
}

static int field_of(const er_reader *r, const char *s, size_t n)
{
    return cli_columns_field_of(&r->in->columns, field_names, ER_F_COUNT, s, n);
}

/* ---- CSV ------------------------------------------------------------- */

static int csv_open(er_reader *r)
{
    csv_field cols[ER_MAX_COLUMNS];
    size_t n, line;
    const char *why;
    char msg[256];

    int rc = csv_next(&r->csv, cols, ER_MAX_COLUMNS, &n, &line, &why);
    if (rc < 0)
        return fail_fatal(r, line, "bad header", "header: %s", why);
    if (rc == 0)
        return fail_fatal(r, 1, "empty file", "empty file: expected a header line");
    if (cli_columns_map_header(&r->in->columns, field_names, ER_F_COUNT, cols, n,
                               ER_MAX_COLUMNS, r->column_of, msg, sizeof msg) < 0)
        return fail_fatal(r, line, "bad header", "header: %s", msg);
    static const int required[] = { ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE };
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        if (r->column_of[required[k]] < 0) {
            cli_columns_missing(&r->in->columns, field_names[required[k]],
                                "(the header must name user_id, timestamp and type)", msg,
                                sizeof msg);
            return fail_fatal(r, line, "bad header", "%s", msg);
        }
    }
    r->columns = n;
    return 0;
}

static int csv_record(er_reader *r, er_record *rec)
{
    csv_field cols[ER_MAX_COLUMNS];
    er_slice raw[ER_F_COUNT];
    size_t n, line;
    const char *why;

    int rc = csv_next(&r->csv, cols, ER_MAX_COLUMNS, &n, &line, &why);
    if (rc < 0)
        return fail_fatal(r, line, "bad CSV", "%s", why);
    if (rc == 0)
        return 0;
    rec->raw.p = r->csv.buf + r->csv.rec_start;
    rec->raw.n = r->csv.rec_end - r->csv.rec_start;
    r->error_raw = rec->raw;
    if (n != r->columns)
        return fail_in(r, line, "", "wrong number of fields",
                       "found %zu fields, the header has %zu", n, r->columns);
    for (int f = 0; f < ER_F_COUNT; f++) {
        raw[f].p = NULL;
        raw[f].n = 0;
        if (r->column_of[f] >= 0) {
            raw[f].p = cols[r->column_of[f]].p;
            raw[f].n = cols[r->column_of[f]].n;
        }
    }
    if (fill_record(r, line, raw, rec) < 0)
        return -1;
    return 1;
}

/* ---- JSON Lines ------------------------------------------------------- */

typedef struct jcur {
    const char *s;
    size_t n, i;
} jcur;

static void jws(jcur *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\r'))
        c->i++;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char h = s[k];
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (unsigned)(h - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decode the string at c->i (on its opening quote) into r->scratch at *sp.
 * The decoded text is never longer than the encoded text, and a line is at
 * most ER_MAX_LINE bytes, so the scratch area cannot overflow. */
static int jstring(er_reader *r, jcur *c, size_t *sp, er_slice *out, const char **why)
{
    char *d = r->scratch;
    size_t o = *sp;
    c->i++;
    for (;;) {
        if (c->i >= c->n) {
            *why = "unterminated string";
            return -1;
        }
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == '"') {
            c->i++;
            break;
        }
        if (ch < 0x20) {
            *why = "control character in a string (escape it)";
            return -1;
        }
        if (ch != '\\') {
            d[o++] = (char)ch;
            c->i++;
            continue;
        }
        if (c->i + 1 >= c->n) {
            *why = "unterminated string";
            return -1;
        }
        char e = c->s[c->i + 1];
        c->i += 2;
        switch (e) {
        case '"': d[o++] = '"'; break;
        case '\\': d[o++] = '\\'; break;
        case '/': d[o++] = '/'; break;
        case 'b': d[o++] = '\b'; break;
        case 'f': d[o++] = '\f'; break;
        case 'n': d[o++] = '\n'; break;
        case 'r': d[o++] = '\r'; break;
        case 't': d[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (c->i + 4 > c->n || hex4(c->s + c->i, &cp) < 0) {
                *why = "bad \\u escape";
                return -1;
            }
            c->i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                *why = "unpaired surrogate in a \\u escape";
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (c->i + 6 > c->n || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u'
                    || hex4(c->s + c->i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    *why = "unpaired surrogate in a \\u escape";
                    return -1;
                }
                c->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp < 0x80) {
                d[o++] = (char)cp;
            } else if (cp < 0x800) {
                d[o++] = (char)(0xC0 | (cp >> 6));
                d[o++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                d[o++] = (char)(0xE0 | (cp >> 12));
                d[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                d[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                d[o++] = (char)(0xF0 | (cp >> 18));
                d[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                d[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                d[o++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            *why = "bad escape in a string";
            return -1;
        }
    }
    out->p = d + *sp;
    out->n = o - *sp;
    *sp = o;
    return 0;
}

/* A JSON number; the slice is its text. */
static int jnumber(jcur *c, er_slice *out, const char **why)
{
    size_t b = c->i;
    *why = "bad number";
    if (c->i < c->n && c->s[c->i] == '-')
        c->i++;
    if (c->i >= c->n || !is_digit(c->s[c->i]))
        return -1;
    if (c->s[c->i] == '0')
        c->i++;
    else
        while (c->i < c->n && is_digit(c->s[c->i]))
            c->i++;
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        if (c->i >= c->n || !is_digit(c->s[c->i]))
            return -1;
        while (c->i < c->n && is_digit(c->s[c->i]))
            c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        if (c->i >= c->n || !is_digit(c->s[c->i]))
            return -1;
        while (c->i < c->n && is_digit(c->s[c->i]))
            c->i++;
    }
    out->p = c->s + b;
    out->n = c->i - b;
    return 0;
}

static int jword(jcur *c, const char *w)
{
    size_t n = strlen(w);
    if (c->n - c->i < n || memcmp(c->s + c->i, w, n) != 0)
        return 0;
    c->i += n;
    return 1;
}

/* Skip an object or array that belongs to a key we do not read.  Nesting is
 * tracked in a 64-bit stack (1 = object), so deeper input is refused rather
 * than recursed into. */
static int jskip_nested(jcur *c, const char **why)
{
    uint64_t stack = 0;
    int depth = 0;
    for (;;) {
        if (c->i >= c->n) {
            *why = "unterminated object or array";
            return -1;
        }
        char ch = c->s[c->i];
        if (ch == '{' || ch == '[') {
            if (depth == 64) {
                *why = "nesting deeper than 64 levels";
                return -1;
            }
            stack = (stack << 1) | (ch == '{');
            depth++;
            c->i++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0 || (int)(stack & 1) != (ch == '}')) {
                *why = "mismatched bracket";
                return -1;
            }
            stack >>= 1;
            depth--;
            c->i++;
            if (depth == 0)
                return 0;
        } else if (ch == '"') {
            /* Skipped, not decoded: decoding would overwrite values already
             * kept in the scratch area. */
            c->i++;
            while (c->i < c->n && c->s[c->i] != '"')
                c->i += c->s[c->i] == '\\' ? 2 : 1;
            if (c->i >= c->n) {
                *why = "unterminated string";
                return -1;
            }
            c->i++;
        } else {
            c->i++;
        }
    }
}

static int jsonl_record(er_reader *r, er_record *rec)
{
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        const char *s = r->buf + r->pos;
        size_t rest = r->len - r->pos;
        const char *nl = memchr(s, '\n', rest);
        size_t n = nl ? (size_t)(nl - s) : rest;
        size_t line = r->line;
        r->pos += nl ? n + 1 : n;
        r->line++;
        rec->raw.p = s;
        rec->raw.n = n > 0 && s[n - 1] == '\r' ? n - 1 : n;
        r->error_raw = rec->raw;
        if (n > ER_MAX_LINE)
            return fail_in(r, line, "", "line too long", "line longer than %d bytes", ER_MAX_LINE);

        jcur c = { s, n, 0 };
        jws(&c);
        if (c.i == c.n)
            continue; /* blank line */

        er_slice raw[ER_F_COUNT];
        const char *why = NULL;
        size_t sp = 0;
        char q[64];
        memset(raw, 0, sizeof raw);
        if (s[c.i] != '{')
            return fail_in(r, line, "", "bad JSON", "expected a JSON object starting with '{'");
        c.i++;
        jws(&c);
        if (c.i < c.n && s[c.i] == '}') {
            c.i++;
        } else {
            for (;;) {
                er_slice key, val = { NULL, 0 };
                jws(&c);
                if (c.i >= c.n || s[c.i] != '"')
                    return fail_in(r, line, "", "bad JSON",
                                   "expected a key in double quotes at column %zu", c.i + 1);
                size_t key_sp = sp;
                if (jstring(r, &c, &sp, &key, &why) < 0)
                    return fail_in(r, line, "", "bad JSON", "%s at column %zu", why, c.i + 1);
                int f = field_of(r, key.p, key.n);
                if (f < 0)
                    sp = key_sp; /* unknown keys keep nothing */
                else if (raw[f].p)
                    return fail_in(r, line, field_names[f], "key twice", "key '%s' appears twice",
                                   field_names[f]);
                jws(&c);
                if (c.i >= c.n || s[c.i] != ':')
                    return fail_in(r, line, "", "bad JSON", "expected ':' at column %zu", c.i + 1);
                c.i++;
                jws(&c);
                if (c.i >= c.n)
                    return fail_in(r, line, "", "bad JSON", "missing value at column %zu", c.i + 1);
                char ch = s[c.i];
                int rc = 0;
                if (ch == '"') {
                    size_t val_sp = sp;
                    rc = jstring(r, &c, &sp, &val, &why);
                    if (f < 0)
                        sp = val_sp;
                } else if (ch == '-' || is_digit(ch)) {
                    rc = jnumber(&c, &val, &why);
                } else if (jword(&c, "null")) {
                    val.p = NULL; /* absent */
                } else if (jword(&c, "true") || jword(&c, "false")) {
                    if (f >= 0)
                        return fail_in(r, line, field_names[f], "not a string or a number",
                                       "%s: expected a string or a number", r->label[f]);
                } else if (ch == '{' || ch == '[') {
                    if (f >= 0)
                        return fail_in(r, line, field_names[f], "not a string or a number",
                                       "%s: expected a string or a number", r->label[f]);
                    rc = jskip_nested(&c, &why);
                    sp = key_sp;
                } else {
                    return fail_in(r, line, "", "bad JSON", "unexpected '%s' at column %zu",
                                quote_text(q, 8, s + c.i, 1), c.i + 1);
                }
                if (rc < 0)
                    return fail_in(r, line, "", "bad JSON", "%s at column %zu", why, c.i + 1);
                if (f >= 0) {
                    /* A present key with null stays absent but still counts
                     * for the duplicate check. */
                    raw[f] = val;
                    if (!raw[f].p) {
                        raw[f].p = "";
                        raw[f].n = 0;
                    }
                }
                jws(&c);
                if (c.i < c.n && s[c.i] == ',') {
                    c.i++;
                    continue;
                }
                if (c.i < c.n && s[c.i] == '}') {
                    c.i++;
                    break;
                }
                return fail_in(r, line, "", "bad JSON", "expected ',' or '}' at column %zu",
                               c.i + 1);
            }
        }
        jws(&c);
        if (c.i < c.n)
            return fail_in(r, line, "", "bad JSON",
                           "unexpected text after the object at column %zu", c.i + 1);
        if (fill_record(r, line, raw, rec) < 0)
            return -1;
        return 1;
    }
}

/* ---- entry points ---------------------------------------------------- */

enum er_format er_sniff(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    return i < len && buf[i] == '{' ? ER_JSONL : ER_CSV;
}

int er_open_with(er_reader *r, const char *buf, size_t len, enum er_format format,
                 const cli_input *in)
{
    r->format = format;
    r->in = in ? in : &strict_input;
    r->failed = 0;
    r->error_line = 0;
    r->error_field = r->error_kind = NULL;
    r->error_raw.p = NULL;
    r->error_raw.n = 0;
    r->error[0] = '\0';
    for (int f = 0; f < ER_F_COUNT; f++)
        cli_columns_label(&r->in->columns, field_names[f], r->label[f], sizeof r->label[f]);
    if (format == ER_CSV) {
        csv_init(&r->csv, buf, len, r->scratch);
        if (r->in->delimiter)
            csv_set_delimiter(&r->csv, r->in->delimiter);
        return csv_open(r);
    }
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->line = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    return 0;
}

int er_open(er_reader *r, const char *buf, size_t len, enum er_format format)
{
    return er_open_with(r, buf, len, format, NULL);
}

int er_next(er_reader *r, er_record *rec)
{
    if (r->failed)
        return -1;
    rec->raw.p = NULL;
    rec->raw.n = 0;
    r->error_raw = rec->raw;
    return r->format == ER_CSV ? csv_record(r, rec) : jsonl_record(r, rec);
}
