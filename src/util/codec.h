/* codec.h — little-endian byte encoding for snapshots and journal records.
 *
 * A bvt_wbuf grows as it is written; the first allocation failure sets
 * `oom` and later writes do nothing, so a writer checks once at the end.
 * A bvt_rbuf reads a buffer it does not own; the first overrun or failed
 * check sets `bad` (with the position and a reason) and later reads return
 * zeros, so a reader checks once at the end and never reads out of bounds.
 * Strings are written as u32 length, the bytes and a NUL; a NULL string as
 * length UINT32_MAX. */
#ifndef BVT_CODEC_H
#define BVT_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bvt_wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
    int fixed;         /* p is the caller's buffer: never reallocated */
} bvt_wbuf;

typedef struct bvt_rbuf {
    const unsigned char *p;
    size_t len, pos;
    int bad;           /* 1 after the first failure */
    size_t bad_pos;    /* where it happened */
    const char *why;   /* static text */
} bvt_rbuf;

#define BVT_WBUF_INIT { NULL, 0, 0, 0, 0 }

/* A writer into the caller's buffer (no allocation; overflow sets oom). */
static inline bvt_wbuf bvt__wbuf_fixed(void *buf, size_t cap)
{
    bvt_wbuf w = { (unsigned char *)buf, 0, cap, 0, 1 };
    return w;
}

/* Free w's bytes and reset it to empty (NULL is a no-op). */
void bvt__wbuf_free(bvt_wbuf *w);
/* Make room for n more bytes; 0 on success, -1 (and oom) on failure. */
int bvt__wbuf_grow(bvt_wbuf *w, size_t n);
static inline int bvt__wbuf_reserve(bvt_wbuf *w, size_t n)
{
    return !w->oom && w->cap - w->len >= n ? 0 : bvt__wbuf_grow(w, n);
}

/* Fixed-width values, inline: a profile is a few dozen of them, and a
 * snapshot millions of profiles. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BVT_LE16(v) __builtin_bswap16(v)
#define BVT_LE32(v) __builtin_bswap32(v)
#define BVT_LE64(v) __builtin_bswap64(v)
#else
#define BVT_LE16(v) (v)
#define BVT_LE32(v) (v)
#define BVT_LE64(v) (v)
#endif

/* Unchecked loads and stores at p, for a run of fields whose room the
 * caller checked once (bvt__r_bytes, bvt__wbuf_reserve). */
static inline uint16_t bvt__ld_u16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return BVT_LE16(v); }
static inline uint32_t bvt__ld_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return BVT_LE32(v); }
static inline uint64_t bvt__ld_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return BVT_LE64(v); }
static inline float bvt__ld_f32(const unsigned char *p) { uint32_t u = bvt__ld_u32(p); float v; memcpy(&v, &u, 4); return v; }
static inline double bvt__ld_f64(const unsigned char *p) { uint64_t u = bvt__ld_u64(p); double v; memcpy(&v, &u, 8); return v; }
static inline void bvt__st_u16(unsigned char *p, uint16_t v) { v = BVT_LE16(v); memcpy(p, &v, 2); }
static inline void bvt__st_u32(unsigned char *p, uint32_t v) { v = BVT_LE32(v); memcpy(p, &v, 4); }
static inline void bvt__st_u64(unsigned char *p, uint64_t v) { v = BVT_LE64(v); memcpy(p, &v, 8); }
static inline void bvt__st_f32(unsigned char *p, float f) { uint32_t u; memcpy(&u, &f, 4); bvt__st_u32(p, u); }
static inline void bvt__st_f64(unsigned char *p, double f) { uint64_t u; memcpy(&u, &f, 8); bvt__st_u64(p, u); }

static inline void bvt__w_bytes(bvt_wbuf *w, const void *p, size_t n)
{
    if (n == 0 || bvt__wbuf_reserve(w, n) != 0)
        return;
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static inline void bvt__w_u8(bvt_wbuf *w, uint8_t v) { bvt__w_bytes(w, &v, 1); }
static inline void bvt__w_u16(bvt_wbuf *w, uint16_t v) { v = BVT_LE16(v); bvt__w_bytes(w, &v, 2); }
static inline void bvt__w_u32(bvt_wbuf *w, uint32_t v) { v = BVT_LE32(v); bvt__w_bytes(w, &v, 4); }
static inline void bvt__w_u64(bvt_wbuf *w, uint64_t v) { v = BVT_LE64(v); bvt__w_bytes(w, &v, 8); }
static inline void bvt__w_i32(bvt_wbuf *w, int32_t v) { bvt__w_u32(w, (uint32_t)v); }
static inline void bvt__w_i64(bvt_wbuf *w, int64_t v) { bvt__w_u64(w, (uint64_t)v); }

static inline void bvt__w_f32(bvt_wbuf *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    bvt__w_u32(w, u);
}

static inline void bvt__w_f64(bvt_wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    bvt__w_u64(w, u);
}
/* s may be NULL (read back as NULL); n is its length in bytes. */
void bvt__w_str(bvt_wbuf *w, const char *s, size_t n);
/* The same for a NUL-terminated string or NULL. */
void bvt__w_cstr(bvt_wbuf *w, const char *s);

static inline void bvt__rbuf_init(bvt_rbuf *r, const void *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = (const unsigned char *)p;
    r->len = len;
}

/* Mark r bad at its current position (the first reason is kept); returns 0
 * so a check can read `return bvt__r_fail(r, "...")`. */
int bvt__r_fail(bvt_rbuf *r, const char *why);

/* n bytes in place, or NULL (and bad) when fewer remain. */
static inline const void *bvt__r_bytes(bvt_rbuf *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        if (!r->bad)
            bvt__r_fail(r, "unexpected end of data");
        return NULL;
    }
    const void *p = r->p + r->pos;
    r->pos += n;
    return p;
}

#define BVT_READER(name, type, n, swap)                                                    \
    static inline type name(bvt_rbuf *r)                                                   \
    {                                                                                      \
        type v = 0;                                                                        \
        const void *p = bvt__r_bytes(r, n);                                                 \
        if (p)                                                                             \
            memcpy(&v, p, n);                                                              \
        return (type)swap(v);                                                              \
    }
#define BVT_SAME(v) (v)
BVT_READER(bvt__r_u8, uint8_t, 1, BVT_SAME)
BVT_READER(bvt__r_u16, uint16_t, 2, BVT_LE16)
BVT_READER(bvt__r_u32, uint32_t, 4, BVT_LE32)
BVT_READER(bvt__r_u64, uint64_t, 8, BVT_LE64)
#undef BVT_READER
#undef BVT_SAME

static inline int32_t bvt__r_i32(bvt_rbuf *r) { return (int32_t)bvt__r_u32(r); }
static inline int64_t bvt__r_i64(bvt_rbuf *r) { return (int64_t)bvt__r_u64(r); }

static inline float bvt__r_f32(bvt_rbuf *r)
{
    uint32_t u = bvt__r_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static inline double bvt__r_f64(bvt_rbuf *r)
{
    uint64_t u = bvt__r_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
/* A string in place (NUL-terminated, no NUL inside), *out_len its length
 * (out_len may be NULL).  NULL for a NULL string or when bad: check r->bad. */
const char *bvt__r_str(bvt_rbuf *r, size_t *out_len);
/* A u32 element count, checked against what remains (each element takes at
 * least min_elem_bytes, >= 1): a corrupt count cannot ask for a huge
 * allocation.  0 and bad when it cannot fit. */
uint32_t bvt__r_count(bvt_rbuf *r, size_t min_elem_bytes);
/* Bytes left to read. */
static inline size_t bvt__r_left(const bvt_rbuf *r) { return r->bad ? 0 : r->len - r->pos; }
/* 1 when everything was read and nothing failed; otherwise marks r bad
 * ("trailing bytes") and returns 0. */
int bvt__r_end(bvt_rbuf *r);

#endif
