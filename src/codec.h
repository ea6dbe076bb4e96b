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
static inline bvt_wbuf bvt_wbuf_fixed(void *buf, size_t cap)
{
    bvt_wbuf w = { (unsigned char *)buf, 0, cap, 0, 1 };
    return w;
}

/* Free w's bytes and reset it to empty (NULL is a no-op). */
void bvt_wbuf_free(bvt_wbuf *w);
/* Make room for n more bytes; 0 on success, -1 (and oom) on failure. */
int bvt_wbuf_reserve(bvt_wbuf *w, size_t n);
void bvt_w_bytes(bvt_wbuf *w, const void *p, size_t n);
void bvt_w_u8(bvt_wbuf *w, uint8_t v);
void bvt_w_u16(bvt_wbuf *w, uint16_t v);
void bvt_w_u32(bvt_wbuf *w, uint32_t v);
void bvt_w_u64(bvt_wbuf *w, uint64_t v);
void bvt_w_i32(bvt_wbuf *w, int32_t v);
void bvt_w_i64(bvt_wbuf *w, int64_t v);
void bvt_w_f32(bvt_wbuf *w, float v);
void bvt_w_f64(bvt_wbuf *w, double v);
/* s may be NULL (read back as NULL); n is its length in bytes. */
void bvt_w_str(bvt_wbuf *w, const char *s, size_t n);
/* The same for a NUL-terminated string or NULL. */
void bvt_w_cstr(bvt_wbuf *w, const char *s);

static inline void bvt_rbuf_init(bvt_rbuf *r, const void *p, size_t len)
{
    memset(r, 0, sizeof *r);
    r->p = (const unsigned char *)p;
    r->len = len;
}

/* Mark r bad at its current position (the first reason is kept); returns 0
 * so a check can read `return bvt_r_fail(r, "...")`. */
int bvt_r_fail(bvt_rbuf *r, const char *why);
/* n bytes in place, or NULL (and bad) when fewer remain. */
const void *bvt_r_bytes(bvt_rbuf *r, size_t n);
uint8_t bvt_r_u8(bvt_rbuf *r);
uint16_t bvt_r_u16(bvt_rbuf *r);
uint32_t bvt_r_u32(bvt_rbuf *r);
uint64_t bvt_r_u64(bvt_rbuf *r);
int32_t bvt_r_i32(bvt_rbuf *r);
int64_t bvt_r_i64(bvt_rbuf *r);
float bvt_r_f32(bvt_rbuf *r);
double bvt_r_f64(bvt_rbuf *r);
/* A string in place (NUL-terminated, no NUL inside), *out_len its length
 * (out_len may be NULL).  NULL for a NULL string or when bad: check r->bad. */
const char *bvt_r_str(bvt_rbuf *r, size_t *out_len);
/* A u32 element count, checked against what remains (each element takes at
 * least min_elem_bytes, >= 1): a corrupt count cannot ask for a huge
 * allocation.  0 and bad when it cannot fit. */
uint32_t bvt_r_count(bvt_rbuf *r, size_t min_elem_bytes);
/* Bytes left to read. */
static inline size_t bvt_r_left(const bvt_rbuf *r) { return r->bad ? 0 : r->len - r->pos; }
/* 1 when everything was read and nothing failed; otherwise marks r bad
 * ("trailing bytes") and returns 0. */
int bvt_r_end(bvt_rbuf *r);

#endif
