/* codec.c — the byte encoding of codec.h.  Values are stored
 * little-endian whatever the host, so files move between machines. */
#include <stdlib.h>

#include "codec.h"

void bvt__wbuf_free(bvt_wbuf *w)
{
    if (!w)
        return;
    if (!w->fixed)
        free(w->p);
    memset(w, 0, sizeof *w);
}

int bvt__wbuf_grow(bvt_wbuf *w, size_t n)
{
    if (w->oom)
        return -1;
    if (w->cap - w->len >= n)
        return 0;
    if (w->fixed) {
        w->oom = 1;
        return -1;
    }
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *p = realloc(w->p, cap);
    if (!p) {
        w->oom = 1;
        return -1;
    }
    w->p = p;
    w->cap = cap;
    return 0;
}

void bvt__w_str(bvt_wbuf *w, const char *s, size_t n)
{
    if (!s) {
        bvt__w_u32(w, UINT32_MAX);
        return;
    }
    bvt__w_u32(w, (uint32_t)n);
    bvt__w_bytes(w, s, n);
    bvt__w_u8(w, 0);
}

void bvt__w_cstr(bvt_wbuf *w, const char *s) { bvt__w_str(w, s, s ? strlen(s) : 0); }

int bvt__r_fail(bvt_rbuf *r, const char *why)
{
    if (!r->bad) {
        r->bad = 1;
        r->bad_pos = r->pos;
        r->why = why;
    }
    return 0;
}

const char *bvt__r_str(bvt_rbuf *r, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    uint32_t n = bvt__r_u32(r);
    if (r->bad || n == UINT32_MAX)
        return NULL;
    const char *s = bvt__r_bytes(r, (size_t)n + 1);
    if (!s)
        return NULL;
    if (s[n] != 0 || memchr(s, 0, n)) {
        r->pos -= (size_t)n + 1;
        bvt__r_fail(r, "string is not NUL-terminated or holds a NUL");
        return NULL;
    }
    if (out_len)
        *out_len = n;
    return s;
}

uint32_t bvt__r_count(bvt_rbuf *r, size_t min_elem_bytes)
{
    uint32_t n = bvt__r_u32(r);
    if (r->bad)
        return 0;
    if (min_elem_bytes == 0)
        min_elem_bytes = 1;
    if ((uint64_t)n > (r->len - r->pos) / min_elem_bytes) {
        r->pos -= 4;
        bvt__r_fail(r, "element count larger than the data");
        return 0;
    }
    return n;
}

int bvt__r_end(bvt_rbuf *r)
{
    if (!r->bad && r->pos != r->len)
        bvt__r_fail(r, "trailing bytes");
    return !r->bad;
}
