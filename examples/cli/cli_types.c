/* cli_types.c — the vocabulary of event types (see cli_types.h). */
#include "cli_types.h"

#include <stdio.h>
#include <string.h>

int cli_types_valid_name(const char *s, size_t n)
{
    if (n < 1 || n > CLI_TYPE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int cli_types_has(const cli_types *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->len[i] == n && memcmp(t->name[i], s, n) == 0)
            return 1;
    return 0;
}

int cli_types_add(cli_types *t, const char *s, size_t n)
{
    if (!cli_types_valid_name(s, n))
        return -1;
    if (cli_types_has(t, s, n))
        return 0;
    if (t->n == BVT_EVENT_TYPE_MAX)
        return -1;
    memcpy(t->name[t->n], s, n);
    t->name[t->n][n] = '\0';
    t->len[t->n++] = (uint8_t)n;
    return 0;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Equal when case, '_', '-' and spaces are ignored ("PageView", "Page View"). */
static int same_folded(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && (a[i] == '_' || a[i] == '-' || a[i] == ' '))
            i++;
        while (j < bn && (b[j] == '_' || b[j] == '-' || b[j] == ' '))
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        if (fold(a[i++]) != fold(b[j++]))
            return 0;
    }
}

/* Levenshtein distance of a and b, or 3 when it is more than 2 (names are
 * at most 31 bytes of the vocabulary; longer input is never near). */
static int distance(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > bn + 2 || bn > an + 2 || an > 64)
        return 3;
    unsigned row[66];
    for (size_t j = 0; j <= bn; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= an; i++) {
        unsigned diag = row[0], best = row[0] = (unsigned)i;
        for (size_t j = 1; j <= bn; j++) {
            unsigned up = row[j];
            unsigned v = diag + (fold(a[i - 1]) != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > 2)
            return 3;
    }
    return row[bn] > 2 ? 3 : (int)row[bn];
}

const char *cli_types_near(const cli_types *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n; i++)
        if (same_folded(s, n, t->name[i], t->len[i]))
            return t->name[i];
    const char *best = NULL;
    int best_d = 3;
    for (size_t i = 0; i < t->n; i++) {
        int d = distance(s, n, t->name[i], t->len[i]);
        if (d < best_d) {
            best_d = d;
            best = t->name[i];
        }
    }
    return best;
}

/* s[0..n) without blanks around it. */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

int cli_types_add_list(cli_types *t, const char *text, size_t len, int one_per_line,
                       char *why, size_t cap)
{
    char sep = one_per_line ? '\n' : ',';
    size_t line = 0;
    for (size_t at = 0; at <= len;) {
        const char *end = memchr(text + at, sep, len - at);
        size_t stop = end ? (size_t)(end - text) : len;
        const char *s = text + at;
        size_t n = stop - at;
        at = stop + 1;
        line++;
        trim(&s, &n);
        if (one_per_line && (n == 0 || s[0] == '#')) {
            if (!end)
                break;
            continue;
        }
        char where[32] = "";
        if (one_per_line)
            snprintf(where, sizeof where, "line %zu: ", line);
        if (!cli_types_valid_name(s, n)) {
            snprintf(why, cap, "%s'%.*s' is not a type name (1..31 of a-z, 0-9, _)", where,
                     (int)(n > 40 ? 40 : n), s);
            return -1;
        }
        if (cli_types_add(t, s, n) < 0) {
            snprintf(why, cap, "%smore than %d types", where, BVT_EVENT_TYPE_MAX);
            return -1;
        }
        if (!end)
            break;
    }
    return 0;
}

const char *cli_types_unknown(const cli_types *t, const char *s, size_t n, char *buf,
                              size_t cap)
{
    char q[48];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < sizeof q; i++) {
        unsigned char c = (unsigned char)s[i];
        q[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (o < n && o + 4 >= sizeof q) {
        memcpy(q + o, "...", 3);
        o += 3;
    }
    q[o] = '\0';
    const char *near = cli_types_near(t, s, n);
    snprintf(buf, cap, "unknown event type '%s'%s%s%s; declare custom types with "
             "--custom-types or --types-file", q, near ? " (did you mean " : "",
             near ? near : "", near ? "?)" : "");
    return buf;
}
