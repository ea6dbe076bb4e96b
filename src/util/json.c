/* json.c — the JSON writer (json.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "json.h"

void bvt__json_put(bvt_json *w, const char *s, size_t n)
{
    if (n > SIZE_MAX - w->len) {
        w->len = SIZE_MAX; /* unreachable in practice; still never wraps */
        return;
    }
    /* len only grows, so once a piece misses, every later one does too:
     * what was written is always a prefix. */
    if (w->len + n < w->cap)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void bvt__json_lit(bvt_json *w, const char *s)
{
    bvt__json_put(w, s, strlen(s));
}

void bvt__json_u64(bvt_json *w, uint64_t v)
{
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    bvt__json_put(w, digits + i, sizeof digits - i);
}

void bvt__json_i64(bvt_json *w, int64_t v)
{
    if (v < 0) {
        bvt__json_put(w, "-", 1);
        bvt__json_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        bvt__json_u64(w, (uint64_t)v);
    }
}

void bvt__json_double(bvt_json *w, double v)
{
    if (!isfinite(v)) {
        bvt__json_lit(w, "null");
        return;
    }
    char text[32];
    /* the shortest of %.15g .. %.17g that reads back exactly */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (prec == 17 || strtod(text, NULL) == v)
            break;
    }
    bvt__json_lit(w, text);
}

void bvt__json_float(bvt_json *w, float v)
{
    if (!isfinite(v)) {
        bvt__json_lit(w, "null");
        return;
    }
    char text[32];
    /* the shortest of %.6g .. %.9g that reads back to the same float: a
     * value kept as a float (15.3f) prints 15.3, not the double it widens
     * to (15.300000190734863) */
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, (double)v);
        if (prec == 9 || strtof(text, NULL) == v)
            break;
    }
    bvt__json_lit(w, text);
}

void bvt__json_str(bvt_json *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    bvt__json_put(w, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        bvt__json_put(w, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            bvt__json_put(w, esc, 2);
        } else {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            bvt__json_put(w, esc, 6);
        }
        run = s + 1;
    }
    bvt__json_put(w, run, (size_t)(s - run));
    bvt__json_put(w, "\"", 1);
}

void bvt__json_hex(bvt_json *w, const uint64_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bvt__json_put(w, "\"", 1);
    for (size_t k = 0; k < n; k++) {
        char text[16];
        uint64_t x = v[k];
        for (int i = 15; i >= 0; i--, x >>= 4)
            text[i] = hex[x & 15];
        bvt__json_put(w, text, sizeof text);
    }
    bvt__json_put(w, "\"", 1);
}

int bvt__json_finish(bvt_json *w, size_t *out_len)
{
    *out_len = w->len;
    if (w->len >= w->cap)
        return BVT_ERANGE;
    w->buf[w->len] = '\0';
    return BVT_OK;
}
