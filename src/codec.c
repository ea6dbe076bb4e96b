/* codec.c — the byte encoding of codec.h.  Values are stored
 * little-endian whatever the host, so files move between machines. */
#include <stdlib.h>

#include "codec.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE16(v) __builtin_bswap16(v)
#define LE32(v) __builtin_bswap32(v)
#define LE64(v) __builtin_bswap64(v)
#else
#define LE16(v) (v)
#define LE32(v) (v)
#define LE64(v) (v)
#endif

void bvt_wbuf_free(bvt_wbuf *w)
{
    if (!w)
        return;
    if (!w->fixed)
        free(w->p);
    memset(w, 0, sizeof *w);
}

int bvt_wbuf_reserve(bvt_wbuf *w, size_t n)
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

void bvt_w_bytes(bvt_wbuf *w, const void *p, size_t n)
{
    if (n == 0 || bvt_wbuf_reserve(w, n) != 0)
        return;
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

void bvt_w_u8(bvt_wbuf *w, uint8_t v) { bvt_w_bytes(w, &v, 1); }
void bvt_w_u16(bvt_wbuf *w, uint16_t v) { v = LE16(v); bvt_w_bytes(w, &v, 2); }
void bvt_w_u32(bvt_wbuf *w, uint32_t v) { v = LE32(v); bvt_w_bytes(w, &v, 4); }
void bvt_w_u64(bvt_wbuf *w, uint64_t v) { v = LE64(v); bvt_w_bytes(w, &v, 8); }
void bvt_w_i32(bvt_wbuf *w, int32_t v) { bvt_w_u32(w, (uint32_t)v); }
void bvt_w_i64(bvt_wbuf *w, int64_t v) { bvt_w_u64(w, (uint64_t)v); }

void bvt_w_f32(bvt_wbuf *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    bvt_w_u32(w, u);
}

void bvt_w_f64(bvt_wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    bvt_w_u64(w, u);
}

void bvt_w_str(bvt_wbuf *w, const char *s, size_t n)
{
    if (!s) {
        bvt_w_u32(w, UINT32_MAX);
        return;
    }
    bvt_w_u32(w, (uint32_t)n);
    bvt_w_bytes(w, s, n);
    bvt_w_u8(w, 0);
}

void bvt_w_cstr(bvt_wbuf *w, const char *s) { bvt_w_str(w, s, s ? strlen(s) : 0); }

int bvt_r_fail(bvt_rbuf *r, const char *why)
{
    if (!r->bad) {
        r->bad = 1;
        r->bad_pos = r->pos;
        r->why = why;
    }
    return 0;
}

const void *bvt_r_bytes(bvt_rbuf *r, size_t n)
{
    if (r->bad)
        return NULL;
    if (r->len - r->pos < n) {
        bvt_r_fail(r, "unexpected end of data");
        return NULL;
    }
    const void *p = r->p + r->pos;
    r->pos += n;
    return p;
}

#define READER(name, type, n, swap)                                                        \
    type name(bvt_rbuf *r)                                                                 \
    {                                                                                      \
        type v = 0;                                                                        \
        const void *p = bvt_r_bytes(r, n);                                                 \
        if (p)                                                                             \
            memcpy(&v, p, n);                                                              \
        return swap(v);                                                                    \
    }
#define SAME(v) (v)
READER(bvt_r_u8, uint8_t, 1, SAME)
READER(bvt_r_u16, uint16_t, 2, LE16)
READER(bvt_r_u32, uint32_t, 4, LE32)
READER(bvt_r_u64, uint64_t, 8, LE64)

int32_t bvt_r_i32(bvt_rbuf *r) { return (int32_t)bvt_r_u32(r); }
int64_t bvt_r_i64(bvt_rbuf *r) { return (int64_t)bvt_r_u64(r); }

float bvt_r_f32(bvt_rbuf *r)
{
    uint32_t u = bvt_r_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

double bvt_r_f64(bvt_rbuf *r)
{
    uint64_t u = bvt_r_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

const char *bvt_r_str(bvt_rbuf *r, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    uint32_t n = bvt_r_u32(r);
    if (r->bad || n == UINT32_MAX)
        return NULL;
    const char *s = bvt_r_bytes(r, (size_t)n + 1);
    if (!s)
        return NULL;
    if (s[n] != 0 || memchr(s, 0, n)) {
        r->pos -= (size_t)n + 1;
        bvt_r_fail(r, "string is not NUL-terminated or holds a NUL");
        return NULL;
    }
    if (out_len)
        *out_len = n;
    return s;
}

uint32_t bvt_r_count(bvt_rbuf *r, size_t min_elem_bytes)
{
    uint32_t n = bvt_r_u32(r);
    if (r->bad)
        return 0;
    if (min_elem_bytes == 0)
        min_elem_bytes = 1;
    if ((uint64_t)n > (r->len - r->pos) / min_elem_bytes) {
        r->pos -= 4;
        bvt_r_fail(r, "element count larger than the data");
        return 0;
    }
    return n;
}

int bvt_r_end(bvt_rbuf *r)
{
    if (!r->bad && r->pos != r->len)
        bvt_r_fail(r, "trailing bytes");
    return !r->bad;
}
