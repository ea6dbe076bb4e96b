/* utf8.h — the one UTF-8 validator.  Every string the library keeps (and
 * may later write into JSON: exports, OpenRTB) passes it on the way in, so
 * what comes out is always valid UTF-8. */
#ifndef BVT_UTF8_H
#define BVT_UTF8_H

#include <stddef.h>

#include "behavtarget.h"

/* bvt_utf8_check() (behavtarget.h) finds the first bad byte. */

/* BVT_OK when s[0..len) is well-formed; otherwise BVT_EINVAL, with err (may
 * be NULL) naming `what` and its offset at the first bad byte. */
int bvt__utf8_require(const char *s, size_t len, const char *what, bvt_error *err);

/* A name the engine keeps (offer, group, experiment, variant): 1..max bytes
 * of UTF-8 without control characters (C0 or DEL).  BVT_OK with *out_len
 * (may be NULL) its length; else BVT_EINVAL naming `what`, with the offset
 * of the first bad byte (-1 for a bad length). */
int bvt__name_require(const char *s, size_t max, const char *what, size_t *out_len,
                     bvt_error *err);

#endif
