/* cli_columns.c — --columns and --delimiter (see cli_columns.h). */
#include "cli_columns.h"

#include <stdio.h>
#include <string.h>

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

/* A printable, bounded copy of s[0..n) for messages. */
static const char *shown(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (o + 4 >= cap && o < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

int cli_columns_parse(cli_colmap *m, const char *spec, char *why, size_t cap)
{
    m->n = 0;
    for (const char *p = spec;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char q[64];
        if (!eq || eq == p || eq + 1 == p + n) {
            snprintf(why, cap, "expected field=COLUMN, not '%s'", shown(q, sizeof q, p, n));
            return -1;
        }
        if (m->n == CLI_COLUMNS_MAX) {
            snprintf(why, cap, "at most %d pairs", CLI_COLUMNS_MAX);
            return -1;
        }
        size_t fl = (size_t)(eq - p), cl = n - fl - 1;
        for (size_t i = 0; i < m->n; i++) {
            if (same(m->pair[i].field, m->pair[i].field_len, p, fl)) {
                snprintf(why, cap, "field '%s' given twice", shown(q, sizeof q, p, fl));
                return -1;
            }
            if (same(m->pair[i].column, m->pair[i].column_len, eq + 1, cl)) {
                snprintf(why, cap, "column '%s' given for two fields",
                         shown(q, sizeof q, eq + 1, cl));
                return -1;
            }
        }
        m->pair[m->n].field = p;
        m->pair[m->n].field_len = fl;
        m->pair[m->n].column = eq + 1;
        m->pair[m->n].column_len = cl;
        m->n++;
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int index_of(const char *const *fields, size_t n, const char *s, size_t len)
{
    for (size_t f = 0; f < n; f++)
        if (same(fields[f], strlen(fields[f]), s, len))
            return (int)f;
    return -1;
}

int cli_columns_check(const cli_colmap *m, const char *const *fields, size_t n,
                      const char *what, char *why, size_t cap)
{
    for (size_t i = 0; m && i < m->n; i++) {
        if (index_of(fields, n, m->pair[i].field, m->pair[i].field_len) >= 0)
            continue;
        char q[64];
        int o = snprintf(why, cap, "'%s' is not a field of %s (",
                         shown(q, sizeof q, m->pair[i].field, m->pair[i].field_len), what);
        for (size_t f = 0; f < n && o > 0 && (size_t)o < cap; f++)
            o += snprintf(why + o, cap - (size_t)o, "%s%s", f ? ", " : "", fields[f]);
        if (o > 0 && (size_t)o < cap)
            snprintf(why + o, cap - (size_t)o, ")");
        return -1;
    }
    return 0;
}

/* The index of the pair that maps field, or -1. */
static int pair_of_field(const cli_colmap *m, const char *field, size_t len)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (same(m->pair[i].field, m->pair[i].field_len, field, len))
            return (int)i;
    return -1;
}

int cli_columns_field_of(const cli_colmap *m, const char *const *fields, size_t n,
                         const char *name, size_t len)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (same(m->pair[i].column, m->pair[i].column_len, name, len))
            return index_of(fields, n, m->pair[i].field, m->pair[i].field_len);
    int f = index_of(fields, n, name, len);
    if (f >= 0 && pair_of_field(m, fields[f], strlen(fields[f])) >= 0)
        return -1; /* that field is read from another column */
    return f;
}

const char *cli_columns_label(const cli_colmap *m, const char *field, char *buf, size_t cap)
{
    int p = pair_of_field(m, field, strlen(field));
    char q[64];
    if (p < 0)
        snprintf(buf, cap, "%s", field);
    else
        snprintf(buf, cap, "%s (column '%s')", field,
                 shown(q, sizeof q, m->pair[p].column, m->pair[p].column_len));
    return buf;
}

int cli_columns_map_header(const cli_colmap *m, const char *const *fields, size_t n,
                           const csv_field *cols, size_t ncols, size_t max_cols,
                           int16_t *col_of, char *why, size_t cap)
{
    for (size_t f = 0; f < n; f++)
        col_of[f] = -1;
    for (size_t i = 0; i < ncols && i < max_cols; i++) {
        int f = cli_columns_field_of(m, fields, n, cols[i].p, cols[i].n);
        if (f < 0)
            continue; /* other columns are ignored */
        if (col_of[f] >= 0) {
            char q[64];
            snprintf(why, cap, "column '%s' appears twice",
                     shown(q, sizeof q, cols[i].p, cols[i].n));
            return -1;
        }
        col_of[f] = (int16_t)i;
    }
    return 0;
}

void cli_columns_missing(const cli_colmap *m, const char *field, const char *expected,
                         char *buf, size_t cap)
{
    int p = pair_of_field(m, field, strlen(field));
    char q[64];
    int o;
    if (p < 0)
        o = snprintf(buf, cap, "header: missing column '%s'", field);
    else
        o = snprintf(buf, cap, "header: missing column '%s' (%s, from --columns)",
                     shown(q, sizeof q, m->pair[p].column, m->pair[p].column_len), field);
    if (expected && o > 0 && (size_t)o < cap)
        snprintf(buf + o, cap - (size_t)o, " %s", expected);
}

int cli_delimiter_of(const char *text, char *out)
{
    if (strcmp(text, "\\t") == 0 || strcmp(text, "tab") == 0 || strcmp(text, "\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(text) == 1 && strchr(",;|", text[0])) {
        *out = text[0];
        return 0;
    }
    return -1;
}
