/* fuzz-rule.c — libFuzzer entry point for the rule compiler and evaluator.
 *
 * Each input is compiled as rule text with callbacks that accept any name
 * (up to a small limit, then BVT_ELIMIT, so that path runs too).  Besides
 * the sanitizers, the harness checks the compiler's promises: a failure
 * leaves *out NULL and reports its own code, an offset inside the text and a
 * message; a compiled rule evaluates to 0 or 1 against profiles with and
 * without attributes and context, and gives the same answer twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t names_used;

static int any_name(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    volatile char sink = 0;
    for (size_t i = 0; i < len; i++) /* every byte must be readable */
        sink ^= s[i];
    (void)sink;
    if (++names_used > 200)
        return BVT_ELIMIT;
    *out = (uint32_t)(len * 31 + (len ? (unsigned char)s[0] : 0)) % 64 + 1;
    return BVT_OK;
}

static int event_type(void *ud, const char *s, size_t len, uint32_t *out)
{
    if (len == 7 && memcmp(s, "nothing", 7) == 0)
        return BVT_ETYPE;
    return any_name(ud, s, len, out);
}

typedef struct profile {
    int full; /* attributes and context present */
} profile;

static double feature(void *ud, uint32_t f)
{
    (void)ud;
    if (f >= BVT_F_COUNT)
        abort();
    return f == BVT_F_RFM_SEGMENT ? 1 : (double)f * 1.5;
}
static double interest(void *ud, uint32_t c)
{
    (void)ud;
    return (c % 10) / 10.0;
}
static void window(void *ud, uint32_t type, uint32_t cat, int64_t ms, uint64_t *count,
                   double *sum)
{
    (void)ud;
    if (ms <= 0 || ms > 400LL * 86400000)
        abort();
    *count = (type + cat) % 4;
    *sum = (double)*count * 9.5;
}
static int carted(void *ud, int64_t ms)
{
    (void)ud;
    if (ms <= 0)
        abort();
    return 1;
}
static int viewed(void *ud, uint32_t cat, int64_t ms)
{
    (void)ud;
    if (ms <= 0)
        abort();
    return cat & 1;
}
static int attr(void *ud, uint32_t key, double *num, uint32_t *str)
{
    const profile *p = ud;
    if (!p->full)
        return 0;
    if (key & 1) {
        *num = key;
        return BVT_ATTR_NUMBER;
    }
    *str = key / 2;
    return BVT_ATTR_STRING;
}
static int context(void *ud, const char *key, size_t key_len, const char **value,
                   size_t *value_len)
{
    const profile *p = ud;
    if (!p->full || (key_len && key[0] == 'n')) /* keys starting with n: absent */
        return 0;
    *value = key_len % 2 ? "sports/football" : "21";
    *value_len = strlen(*value);
    return 1;
}
static int consent(void *ud, uint32_t purpose)
{
    (void)ud;
    return purpose & 1;
}
static int in_segment(void *ud, uint32_t seg)
{
    (void)ud;
    return (seg & 2) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the end is caught. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    names_used = 0;
    bvt_rule_names names = { NULL, event_type, any_name, any_name, any_name, any_name,
                             400LL * 86400000 };
    bvt_error err = BVT_ERROR_INIT;
    bvt_rule *r = (bvt_rule *)&err;
    int rc = bvt__rule_compile(&r, text, size, &names, &err);
    if (rc != BVT_OK) {
        if (r || err.code != rc || err.message[0] == '\0' || memchr(err.message, 0, 240) == NULL)
            abort();
        if (rc != BVT_ENOMEM && (err.offset < 0 || (uint64_t)err.offset > size))
            abort();
        free(text);
        return 0;
    }
    if (!r || bvt__rule_bytes(r) == 0)
        abort();
    const uint32_t *ids = NULL;
    size_t n = bvt__rule_segment_refs(r, &ids);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 1 || ids[i] > 64)
            abort();
    for (int full = 0; full < 2; full++) {
        profile p = { full };
        bvt_rule_env env = { &p, 1700000000000LL, feature, interest, window, carted, viewed,
                             attr, context, consent, in_segment };
        int a = bvt__rule_eval(r, &env), b = bvt__rule_eval(r, &env);
        if ((a != 0 && a != 1) || a != b)
            abort();
    }
    bvt__rule_free(r);
    free(text);
    return 0;
}
