/* json_out.c — building JSON replies in a growing buffer. */
#include "ds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(jo_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void jo_raw(jo_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void jo_printf(jo_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1; /* only short numbers and words go through here */
        return;
    }
    jo_raw(b, tmp, (size_t)n);
}

/* Well-formed text, escaped. */
static void escaped(jo_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jo_raw(b, s + run, i - run);
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            jo_raw(b, e, 2);
        } else {
            jo_printf(b, "\\u%04x", c);
        }
        run = i + 1;
    }
    jo_raw(b, s + run, n - run);
}

void jo_string(jo_buf *b, const char *s, size_t n)
{
    jo_raw(b, "\"", 1);
    /* Messages may quote what a client sent: each ill-formed byte becomes
     * U+FFFD (the library's validator finds them). */
    for (size_t i = 0; i < n;) {
        size_t good = bvt_utf8_check(s + i, n - i);
        escaped(b, s + i, good);
        i += good;
        if (i < n) {
            JO_LIT(b, "\\ufffd");
            i++;
        }
    }
    jo_raw(b, "\"", 1);
}

void jo_reply(jo_buf *b, ds_reply *rep)
{
    if (b->failed) {
        free(b->p);
        ds_reply_error(rep, 503, "out of memory");
    } else {
        ds_reply_json(rep, 200, b->p, b->len);
    }
}
