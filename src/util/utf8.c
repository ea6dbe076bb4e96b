/* utf8.c — the UTF-8 validator (utf8.h). */
#include "utf8.h"

#include <string.h>

#include "error.h"

size_t bvt_utf8_check(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    if (!text)
        return 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The lead byte fixes the length and the range of the second byte;
         * the later ones are always 80..BF. */
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return i; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                return i;
        i += n;
    }
    return len;
}

int bvt__name_require(const char *s, size_t max, const char *what, size_t *out_len,
                     bvt_error *err)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n < 1 || n > max)
        return bvt__fail(err, BVT_EINVAL, -1, "%s must be 1..%zu bytes", what, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return bvt__fail(err, BVT_EINVAL, (int64_t)i, "%s has a control character at "
                            "offset %zu", what, i);
    int rc = bvt__utf8_require(s, n, what, err);
    if (rc == BVT_OK && out_len)
        *out_len = n;
    return rc;
}

int bvt__utf8_require(const char *s, size_t len, const char *what, bvt_error *err)
{
    size_t bad = bvt_utf8_check(s, len);
    if (bad == len)
        return BVT_OK;
    return bvt__fail(err, BVT_EINVAL, (int64_t)bad,
                    "%s is not valid UTF-8: byte 0x%02x at offset %zu", what,
                    (unsigned)(unsigned char)s[bad], bad);
}
