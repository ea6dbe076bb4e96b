/* error.h — filling the caller's optional bvt_error. */
#ifndef BVT_ERROR_H
#define BVT_ERROR_H

#include "behavtarget.h"

#if defined(__GNUC__)
#define BVT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BVT_PRINTF(a, b)
#endif

/* Record code, offset (-1 if none) and a formatted message in err (which
 * may be NULL) and return code, so callers can write
 * `return bvt__fail(err, BVT_EINVAL, -1, "...")`. */
int bvt__fail(bvt_error *err, int code, int64_t offset, const char *fmt, ...) BVT_PRINTF(4, 5);

#endif
