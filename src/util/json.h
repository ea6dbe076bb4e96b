/* json.h — writing JSON into a caller's buffer without allocating.
 *
 * The writer keeps counting past the end of the buffer, so a short buffer
 * still learns the exact length it needs; what was written is always a
 * prefix of the whole (once a piece misses, every later one does too).
 * Used by the OpenRTB export and the data subject export. */
#ifndef BVT_JSON_H
#define BVT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct bvt_json {
    char *buf;
    size_t cap;
    size_t len; /* bytes of the whole output so far, written or not */
} bvt_json;

static inline bvt_json bvt__json_start(char *buf, size_t cap)
{
    bvt_json w = { buf, cap, 0 };
    return w;
}

/* n raw bytes. */
void bvt__json_put(bvt_json *w, const char *s, size_t n);
/* A NUL-terminated literal, raw. */
void bvt__json_lit(bvt_json *w, const char *s);
void bvt__json_u64(bvt_json *w, uint64_t v);
void bvt__json_i64(bvt_json *w, int64_t v);
/* Shortest text that reads back to the same double ("%.17g" at most);
 * null for NaN and infinities, which JSON cannot hold. */
void bvt__json_double(bvt_json *w, double v);
/* The same for a value stored as a float: the shortest text that reads
 * back to the same float ("%.9g" at most). */
void bvt__json_float(bvt_json *w, float v);
/* A JSON string (RFC 8259 section 7): quote and backslash escaped, control
 * characters as \u00XX, every other byte (UTF-8 included) as it is. */
void bvt__json_str(bvt_json *w, const char *s);
/* The n words of v as one string of 16 * n lowercase hex digits, most
 * significant first (keys, item hashes). */
void bvt__json_hex(bvt_json *w, const uint64_t *v, size_t n);

/* NUL-terminate and report: *out_len = the whole length; BVT_OK when it
 * fit with its NUL, else BVT_ERANGE. */
int bvt__json_finish(bvt_json *w, size_t *out_len);

#endif
