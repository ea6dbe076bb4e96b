/* bucketing.c — user ids to numbers in [0, 1), and numbers to variants.
 * The GrowthBook functions mirror packages/sdk-js/src/util.ts (MIT,
 * GrowthBook, Inc.) step for step, floating point included, so that the
 * SDK's conformance cases hold exactly. */
#include "bucketing.h"

#include <stdint.h>
#include <string.h>

#include "hash.h"

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv_unit(uint32_t h, uint32_t unit)
{
    return (h ^ unit) * FNV_PRIME;
}

/* Feed one UTF-16 code unit per JavaScript charCodeAt: a code point above
 * U+FFFF becomes its surrogate pair. */
static uint32_t fnv_code_point(uint32_t h, uint32_t cp)
{
    if (cp < 0x10000)
        return fnv_unit(h, cp);
    cp -= 0x10000;
    h = fnv_unit(h, 0xD800 + (cp >> 10));
    return fnv_unit(h, 0xDC00 + (cp & 0x3FF));
}

/* Continue FNV-1a over the UTF-16 form of UTF-8 text.  Ill-formed input is
 * decoded as a browser's TextDecoder would: each maximal ill-formed prefix
 * becomes one U+FFFD. */
static uint32_t fnv_utf8(uint32_t h, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned b = s[i];
        if (b < 0x80) {
            h = fnv_unit(h, b);
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            cp = b & 0x0F;
            if (b == 0xE0)
                lo = 0xA0;
            else if (b == 0xED)
                hi = 0x9F; /* no surrogates */
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            cp = b & 0x07;
            if (b == 0xF0)
                lo = 0x90;
            else if (b == 0xF4)
                hi = 0x8F; /* nothing above U+10FFFF */
        } else {
            h = fnv_unit(h, 0xFFFD);
            i++;
            continue;
        }
        size_t j = i + 1;
        size_t got = 0;
        while (got < need && j < len) {
            unsigned c = s[j];
            if (c < lo || c > hi)
                break;
            cp = (cp << 6) | (c & 0x3F);
            lo = 0x80;
            hi = 0xBF;
            j++;
            got++;
        }
        h = got == need ? fnv_code_point(h, cp) : fnv_unit(h, 0xFFFD);
        i = j;
    }
    return h;
}

double bvt__bucket_hash_gb(const char *seed, size_t seed_len, const char *value,
                          size_t value_len, int version, int *ok)
{
    if (version == 1) {
        uint32_t h = fnv_utf8(fnv_utf8(FNV_BASIS, value, value_len), seed, seed_len);
        if (ok)
            *ok = 1;
        return (double)(h % 1000u) / 1000.0;
    }
    if (version == 2) {
        uint32_t h = fnv_utf8(fnv_utf8(FNV_BASIS, seed, seed_len), value, value_len);
        char digits[16];
        size_t n = 0;
        do { /* decimal, most significant digit last */
            digits[n++] = (char)('0' + h % 10u);
            h /= 10u;
        } while (h);
        uint32_t h2 = FNV_BASIS;
        while (n)
            h2 = fnv_unit(h2, (unsigned char)digits[--n]);
        if (ok)
            *ok = 1;
        return (double)(h2 % 10000u) / 10000.0;
    }
    if (ok)
        *ok = 0;
    return -1.0;
}

double bvt__bucket_hash_xxh3(const void *salt, size_t salt_len, const void *id, size_t id_len)
{
    uint64_t h;
    unsigned char buf[256];
    if (salt_len < sizeof buf && id_len < sizeof buf - 1 - salt_len) {
        /* Short keys (nearly all): one-shot over a stack copy. */
        if (salt_len)
            memcpy(buf, salt, salt_len);
        buf[salt_len] = 0;
        if (id_len)
            memcpy(buf + salt_len + 1, id, id_len);
        h = XXH3_64bits(buf, salt_len + 1 + id_len);
    } else {
        /* Same digest, streamed; XXH3 streaming equals one-shot. */
        XXH3_state_t st;
        static const unsigned char zero = 0;
        XXH3_64bits_reset(&st);
        XXH3_64bits_update(&st, salt, salt_len);
        XXH3_64bits_update(&st, &zero, 1);
        XXH3_64bits_update(&st, id, id_len);
        h = XXH3_64bits_digest(&st);
    }
    return (double)(h >> 11) * 0x1.0p-53;
}

size_t bvt__bucket_equal_weights(size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 1.0 / (double)n;
    return n;
}

size_t bvt__bucket_ranges(size_t n, double coverage, const double *weights, size_t n_weights,
                         double (*out)[2])
{
    if (!(coverage >= 0.0)) /* also NaN */
        coverage = 0.0;
    else if (coverage > 1.0)
        coverage = 1.0;

    int equal = !weights || n_weights != n;
    if (!equal) {
        double total = 0.0; /* left to right, as the SDK sums */
        for (size_t i = 0; i < n; i++)
            total += weights[i];
        equal = !(total >= 0.99 && total <= 1.01);
    }

    double cumulative = 0.0;
    for (size_t i = 0; i < n; i++) {
        double w = equal ? 1.0 / (double)n : weights[i];
        double start = cumulative;
        cumulative += w;
        out[i][0] = start;
        out[i][1] = start + coverage * w;
    }
    return n;
}

int bvt__bucket_choose(double x, const double (*ranges)[2], size_t k)
{
    for (size_t i = 0; i < k && i < (size_t)INT32_MAX; i++)
        if (x >= ranges[i][0] && x < ranges[i][1])
            return (int)i;
    return -1;
}

int bvt__bucket_in_namespace(const char *id, size_t id_len, const char *ns, size_t ns_len,
                            double lo, double hi)
{
    /* hash("__" + ns, id, 1) hashes id + "__" + ns. */
    uint32_t h = fnv_utf8(FNV_BASIS, id, id_len);
    h = fnv_unit(fnv_unit(h, '_'), '_');
    h = fnv_utf8(h, ns, ns_len);
    double x = (double)(h % 1000u) / 1000.0;
    return x >= lo && x < hi;
}
