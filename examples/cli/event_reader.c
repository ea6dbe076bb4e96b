/* event_reader.c — CSV and JSON Lines event records (see event_reader.h). */
#include "event_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[ER_F_COUNT] = {
    "user_id", "timestamp", "type", "category", "item_id",
    "value", "quantity", "offer_id", "dwell_ms", "search_text",
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- error text ------------------------------------------------------ */

static int fail(er_reader *r, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->failed = 1;
    r->error_line = line;
    return -1;
}

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

/* ---- field parsers --------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01, proleptic Gregorian. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* n digits at s as a number, or -1 if any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int er_parse_time(const char *s, size_t n, int64_t *out, const char **why)
{
    if (n == 0) {
        *why = "empty";
        return -1;
    }
    size_t nd = 0;
    while (nd < n && is_digit(s[nd]))
        nd++;
    if (nd == n) { /* epoch milliseconds */
        if (n > 18) {
            *why = "epoch milliseconds out of range";
            return -1;
        }
        int64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (s[i] - '0');
        if (v <= 0) {
            *why = "time must be after 1970-01-01T00:00:00Z";
            return -1;
        }
        *out = v;
        return 0;
    }
    *why = "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM] or epoch milliseconds";
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || mo < 0 || d < 0)
        return -1;
    if (mo < 1 || mo > 12) {
        *why = "month out of range";
        return -1;
    }
    if (d < 1 || d > days_in_month(y, mo)) {
        *why = "day out of range";
        return -1;
    }
    int64_t ms = days_from_civil(y, mo, d) * 86400000;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || n < 19 || s[13] != ':'
            || s[16] != ':')
            return -1;
        int hh = digits(s + 11, 2), mm = digits(s + 14, 2), ss = digits(s + 17, 2);
        if (hh < 0 || mm < 0 || ss < 0)
            return -1;
        if (hh > 23 || mm > 59 || ss > 59) {
            *why = "time of day out of range";
            return -1;
        }
        ms += ((int64_t)hh * 3600 + mm * 60 + ss) * 1000;
        size_t i = 19;
        if (i < n && s[i] == '.') {
            size_t f0 = ++i;
            int frac = 0;
            while (i < n && is_digit(s[i])) {
                if (i - f0 < 3)
                    frac = frac * 10 + (s[i] - '0');
                i++;
            }
            size_t nf = i - f0;
            if (nf == 0 || nf > 9)
                return -1;
            for (size_t k = nf; k < 3; k++)
                frac *= 10;
            ms += frac;
        }
        if (i < n) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
                i++;
            } else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':') {
                int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
                if (oh < 0 || om < 0)
                    return -1;
                if (oh > 23 || om > 59) {
                    *why = "time zone offset out of range";
                    return -1;
                }
                int64_t off = ((int64_t)oh * 60 + om) * 60000;
                ms -= s[i] == '+' ? off : -off;
                i = n;
            } else {
                return -1;
            }
        }
    }
    if (ms <= 0) {
        *why = "time must be after 1970-01-01T00:00:00Z";
        return -1;
    }
    *out = ms;
    return 0;
}

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

static int valid_type_name(const char *s, size_t n)
{
    if (n < 1 || n > ER_MAX_TYPE_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_'))
            return 0;
    }
    return 1;
}

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

/* Convert the raw text of each field into a record.  raw[f].p == NULL means
 * the field is absent (no column, no key, or JSON null). */
static int fill_record(er_reader *r, size_t line, const er_slice *raw, er_record *rec)
{
    char q[64];
    const char *why;

    memset(rec, 0, sizeof *rec);
    rec->line = line;
    for (int f = 0; f < ER_F_COUNT; f++) {
        if (raw[f].p && memchr(raw[f].p, '\0', raw[f].n))
            return fail(r, line, "%s: NUL byte in the value", field_names[f]);
    }
    static const int required[] = { ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE };
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        int f = required[k];
        if (!raw[f].p || raw[f].n == 0)
            return fail(r, line, "%s: missing or empty", field_names[f]);
    }
    rec->user_id = raw[ER_F_USER_ID];
    if (rec->user_id.n > ER_MAX_USER_ID)
        return fail(r, line, "user_id: longer than %d bytes", ER_MAX_USER_ID);

    const er_slice *t = &raw[ER_F_TIMESTAMP];
    if (r->read_time) {
        char reason[200];
        if (r->read_time(t->p, t->n, &rec->time_ms, reason, sizeof reason) < 0)
            return fail(r, line, "timestamp: %s", reason);
    } else if (er_parse_time(t->p, t->n, &rec->time_ms, &why) < 0) {
        return fail(r, line, "timestamp: %s in '%s'", why, quote_text(q, sizeof q, t->p, t->n));
    }

    rec->type = raw[ER_F_TYPE];
    if (!valid_type_name(rec->type.p, rec->type.n))
        return fail(r, line, "type: '%s' is not a type name (1..31 of a-z, 0-9, _)",
                    quote_text(q, sizeof q, rec->type.p, rec->type.n));

    if (raw[ER_F_CATEGORY].p && raw[ER_F_CATEGORY].n > 0) {
        const er_slice *c = &raw[ER_F_CATEGORY];
        const char *p = category_problem(c->p, c->n);
        if (p)
            return fail(r, line, "category: %s in '%s'", p, quote_text(q, sizeof q, c->p, c->n));
        rec->category = *c;
    }
    if (raw[ER_F_ITEM_ID].p)
        rec->item_id = raw[ER_F_ITEM_ID];
    if (raw[ER_F_OFFER_ID].p)
        rec->offer_id = raw[ER_F_OFFER_ID];
    if (raw[ER_F_SEARCH_TEXT].p)
        rec->search_text = raw[ER_F_SEARCH_TEXT];

    const er_slice *v = &raw[ER_F_VALUE];
    if (v->p && v->n > 0 && er_parse_value(v->p, v->n, &rec->value, &why) < 0)
        return fail(r, line, "value: %s in '%s'", why, quote_text(q, sizeof q, v->p, v->n));

    uint64_t u;
    v = &raw[ER_F_QUANTITY];
    if (v->p && v->n > 0) {
        if (er_parse_uint(v->p, v->n, UINT32_MAX, &u, &why) < 0)
            return fail(r, line, "quantity: %s in '%s'", why, quote_text(q, sizeof q, v->p, v->n));
        rec->quantity = (uint32_t)u;
    }
    v = &raw[ER_F_DWELL_MS];
    if (v->p && v->n > 0) {
        if (er_parse_uint(v->p, v->n, ER_MAX_DWELL_MS, &u, &why) < 0)
            return fail(r, line, "dwell_ms: %s (0..%d) in '%s'", why, ER_MAX_DWELL_MS,
                        quote_text(q, sizeof q, v->p, v->n));
        rec->dwell_ms = (int64_t)u;
    }
    return 0;
}

static int field_of(const char *s, size_t n)
{
    for (int f = 0; f < ER_F_COUNT; f++) {
        if (strlen(field_names[f]) == n && memcmp(field_names[f], s, n) == 0)
            return f;
    }
    return -1;
}

/* ---- CSV ------------------------------------------------------------- */

static int csv_open(er_reader *r)
{
    csv_field cols[ER_MAX_COLUMNS];
    size_t n, line;
    const char *why;
    char q[64];

    int rc = csv_next(&r->csv, cols, ER_MAX_COLUMNS, &n, &line, &why);
    if (rc < 0)
        return fail(r, line, "header: %s", why);
    if (rc == 0)
        return fail(r, 1, "empty file: expected a header line");
    for (int f = 0; f < ER_F_COUNT; f++)
        r->column_of[f] = -1;
    for (size_t i = 0; i < n && i < ER_MAX_COLUMNS; i++) {
        int f = field_of(cols[i].p, cols[i].n);
        if (f < 0)
            continue; /* extra columns are ignored */
        if (r->column_of[f] >= 0)
            return fail(r, line, "header: column '%s' appears twice",
                        quote_text(q, sizeof q, cols[i].p, cols[i].n));
        r->column_of[f] = (int16_t)i;
    }
    static const int required[] = { ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE };
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        if (r->column_of[required[k]] < 0)
            return fail(r, line, "header: missing column '%s' (the header must name "
                        "user_id, timestamp and type)", field_names[required[k]]);
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
        return fail(r, line, "%s", why);
    if (rc == 0)
        return 0;
    if (n != r->columns)
        return fail(r, line, "found %zu fields, the header has %zu", n, r->columns);
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
        if (n > ER_MAX_LINE)
            return fail(r, line, "line longer than %d bytes", ER_MAX_LINE);

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
            return fail(r, line, "expected a JSON object starting with '{'");
        c.i++;
        jws(&c);
        if (c.i < c.n && s[c.i] == '}') {
            c.i++;
        } else {
            for (;;) {
                er_slice key, val = { NULL, 0 };
                jws(&c);
                if (c.i >= c.n || s[c.i] != '"')
                    return fail(r, line, "expected a key in double quotes at column %zu", c.i + 1);
                size_t key_sp = sp;
                if (jstring(r, &c, &sp, &key, &why) < 0)
                    return fail(r, line, "%s at column %zu", why, c.i + 1);
                int f = field_of(key.p, key.n);
                if (f < 0)
                    sp = key_sp; /* unknown keys keep nothing */
                else if (raw[f].p)
                    return fail(r, line, "key '%s' appears twice", field_names[f]);
                jws(&c);
                if (c.i >= c.n || s[c.i] != ':')
                    return fail(r, line, "expected ':' at column %zu", c.i + 1);
                c.i++;
                jws(&c);
                if (c.i >= c.n)
                    return fail(r, line, "missing value at column %zu", c.i + 1);
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
                        return fail(r, line, "%s: expected a string or a number",
                                    field_names[f]);
                } else if (ch == '{' || ch == '[') {
                    if (f >= 0)
                        return fail(r, line, "%s: expected a string or a number",
                                    field_names[f]);
                    rc = jskip_nested(&c, &why);
                    sp = key_sp;
                } else {
                    return fail(r, line, "unexpected '%s' at column %zu",
                                quote_text(q, 8, s + c.i, 1), c.i + 1);
                }
                if (rc < 0)
                    return fail(r, line, "%s at column %zu", why, c.i + 1);
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
                return fail(r, line, "expected ',' or '}' at column %zu", c.i + 1);
            }
        }
        jws(&c);
        if (c.i < c.n)
            return fail(r, line, "unexpected text after the object at column %zu", c.i + 1);
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

int er_open(er_reader *r, const char *buf, size_t len, enum er_format format)
{
    r->format = format;
    r->read_time = NULL;
    r->failed = 0;
    r->error_line = 0;
    r->error[0] = '\0';
    if (format == ER_CSV) {
        csv_init(&r->csv, buf, len, r->scratch);
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

int er_next(er_reader *r, er_record *rec)
{
    if (r->failed)
        return -1;
    return r->format == ER_CSV ? csv_record(r, rec) : jsonl_record(r, rec);
}
