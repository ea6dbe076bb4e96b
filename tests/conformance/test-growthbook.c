/* test-growthbook.c — the GrowthBook-compatible bucketing against the
 * GrowthBook SDK's own conformance cases (../shared/data/growthbook, see
 * SOURCE.md there; MIT, Copyright (c) 2023 GrowthBook, Inc.).
 *
 * Every case of the sections hash, getBucketRange, chooseVariation,
 * inNamespace and getEqualWeights is checked; a failing case is printed by
 * name and the failures are counted.  hash, chooseVariation and inNamespace
 * must match exactly; ranges and weights must agree after the SDK harness's
 * floor-to-1e-8, and within 1e-9 (ranges) or 1e-8 (weights, whose expected
 * values are cut to 8 decimals).  A small JSON reader, enough for this
 * file, is part of the test.
 *
 * The experiments module in GrowthBook mode is checked against the same
 * cases: every getBucketRange and chooseVariation case that maps onto an
 * experiment definition (2..16 variants, coverage in 0..1, one weight per
 * variant, weights GrowthBook would use as given) is defined as an
 * experiment with hash versions 1 and 2, and bvt_experiment_variant_of must
 * put users where the case's ranges say; the cases that do not map are
 * named and skipped.
 *
 * Usage: test-growthbook DATA_DIR (or env BVT_SHARED_DATA); exits 77 when
 * the data is absent. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "bucketing.h"
#include "experiment_internal.h"

/* ---- a tiny JSON reader ------------------------------------------------ */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jv {
    jtype type;
    double num;         /* J_NUM; J_BOOL as 0 or 1 */
    char *str;          /* J_STR (UTF-8, NUL-terminated); J_OBJ member key */
    size_t len;         /* J_STR byte length; J_ARR / J_OBJ item count */
    struct jv *items;   /* J_ARR elements; J_OBJ values */
    char **keys;        /* J_OBJ keys */
} jv;

typedef struct jparser {
    const char *p, *end;
    const char *err;
} jparser;

static void ws(jparser *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int jfail(jparser *j, const char *why)
{
    if (!j->err)
        j->err = why;
    return -1;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(jparser *j, unsigned long *out)
{
    if (j->end - j->p < 4)
        return jfail(j, "short \\u escape");
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned long)(c - 'A' + 10);
        else
            return jfail(j, "bad \\u escape");
    }
    *out = v;
    return 0;
}

/* A string at j->p (after the opening quote); the decoded text is never
 * longer than the source. */
static int parse_string(jparser *j, char **out, size_t *len)
{
    char *o = malloc((size_t)(j->end - j->p) + 1);
    if (!o)
        return jfail(j, "out of memory");
    size_t n = 0;
    for (;;) {
        if (j->p >= j->end) {
            free(o);
            return jfail(j, "unterminated string");
        }
        char c = *j->p++;
        if (c == '"')
            break;
        if (c != '\\') {
            o[n++] = c;
            continue;
        }
        if (j->p >= j->end) {
            free(o);
            return jfail(j, "unterminated escape");
        }
        c = *j->p++;
        unsigned long cp;
        switch (c) {
        case '"': case '\\': case '/': o[n++] = c; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u':
            if (hex4(j, &cp) < 0) {
                free(o);
                return -1;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
                j->p[1] == 'u') {
                unsigned long lo;
                j->p += 2;
                if (hex4(j, &lo) < 0) {
                    free(o);
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            n += put_utf8(o + n, cp);
            break;
        default:
            free(o);
            return jfail(j, "bad escape");
        }
    }
    o[n] = 0;
    *out = o;
    *len = n;
    return 0;
}

static int parse_value(jparser *j, jv *v, int depth);

/* Items of an array or object, up to the closing bracket. */
static int parse_items(jparser *j, jv *v, char close, int depth)
{
    size_t cap = 0;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (v->len == cap) {
            cap = cap ? cap * 2 : 4;
            jv *items = realloc(v->items, cap * sizeof *items);
            char **keys = close == '}' ? realloc(v->keys, cap * sizeof *keys) : NULL;
            if (items)
                v->items = items;
            if (keys)
                v->keys = keys;
            if (!items || (close == '}' && !keys))
                return jfail(j, "out of memory");
        }
        ws(j);
        if (close == '}') {
            size_t klen;
            if (j->p >= j->end || *j->p != '"')
                return jfail(j, "expected a key");
            j->p++;
            if (parse_string(j, &v->keys[v->len], &klen) < 0)
                return -1;
            ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(v->keys[v->len]);
                return jfail(j, "expected ':'");
            }
            j->p++;
        }
        if (parse_value(j, &v->items[v->len], depth + 1) < 0) {
            if (close == '}')
                free(v->keys[v->len]);
            return -1;
        }
        v->len++;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return 0;
        }
        return jfail(j, "expected ',' or a closing bracket");
    }
}

static int parse_value(jparser *j, jv *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > 64)
        return jfail(j, "nested too deep");
    ws(j);
    if (j->p >= j->end)
        return jfail(j, "unexpected end");
    char c = *j->p;
    if (c == '"') {
        j->p++;
        v->type = J_STR;
        return parse_string(j, &v->str, &v->len);
    }
    if (c == '[' || c == '{') {
        j->p++;
        v->type = c == '[' ? J_ARR : J_OBJ;
        return parse_items(j, v, c == '[' ? ']' : '}', depth);
    }
    static const struct { const char *word; jtype type; double num; } words[] = {
        {"null", J_NULL, 0}, {"true", J_BOOL, 1}, {"false", J_BOOL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i].word, n) == 0) {
            j->p += n;
            v->type = words[i].type;
            v->num = words[i].num;
            return 0;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        /* strtod rounds correctly, as JavaScript's number parsing does. */
        char *after;
        v->type = J_NUM;
        v->num = strtod(j->p, &after);
        if (after == j->p || after > j->end)
            return jfail(j, "bad number");
        j->p = after;
        return 0;
    }
    return jfail(j, "unexpected character");
}

static void jv_free(jv *v)
{
    free(v->str);
    for (size_t i = 0; i < v->len && v->items; i++) {
        jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static const jv *member(const jv *obj, const char *key)
{
    if (obj->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

/* ---- the cases --------------------------------------------------------- */

static jv root;

/* The section's array; fails the test unless it has `want` cases (the counts
 * in SOURCE.md), so a reader that lost cases cannot pass. */
static const jv *section(const char *name, size_t want)
{
    const jv *s = member(&root, name);
    ck_assert_msg(s && s->type == J_ARR, "no array \"%s\"", name);
    ck_assert_msg(s->len == want, "%s: %zu cases, expected %zu", name, s->len, want);
    return s;
}

/* Item i of array a when it has type t, else NULL. */
static const jv *at(const jv *a, size_t i, jtype t)
{
    if (!a || a->type != J_ARR || i >= a->len || a->items[i].type != t)
        return NULL;
    return &a->items[i];
}

/* The SDK harness compares Math.floor(x * 1e8) / 1e8. */
static double harness_round(double x)
{
    return floor(x * 1e8) / 1e8;
}

/* The harness's test, and within tol: 1e-9 for ranges; 1e-8 for weights,
 * whose expected values are themselves cut to 8 decimals (0.33333333). */
static int close_enough(double got, double want, double tol)
{
    return fabs(got - want) <= tol && harness_round(got) == harness_round(want);
}

static int failures;

static void report(const char *sect, const char *name, const char *detail)
{
    fprintf(stderr, "FAIL %s: \"%s\": %s\n", sect, name, detail);
    failures++;
}

START_TEST(hash_cases)
{
    const jv *s = section("hash", 15);
    failures = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *seed = at(c, 0, J_STR), *value = at(c, 1, J_STR), *ver = at(c, 2, J_NUM);
        const jv *want = at(c, 3, J_NUM), *want_null = at(c, 3, J_NULL);
        char name[160], detail[160];
        snprintf(name, sizeof name, "hash(%s, %s, %g)", seed ? seed->str : "?",
                 value ? value->str : "?", ver ? ver->num : -1.0);
        if (!seed || !value || !ver || (!want && !want_null)) {
            report("hash", name, "malformed case");
            continue;
        }
        int ok = -1;
        double got = bvt__bucket_hash_gb(seed->str, seed->len, value->str, value->len,
                                        (int)ver->num, &ok);
        if (want_null ? ok != 0 : !(ok == 1 && got == want->num)) {
            snprintf(detail, sizeof detail, "got %.17g (ok %d), expected %s%.17g", got, ok,
                     want_null ? "null " : "", want ? want->num : 0.0);
            report("hash", name, detail);
        }
    }
    ck_assert_msg(failures == 0, "hash: %d of %zu cases failed", failures, s->len);
}
END_TEST

/* Ranges from a JSON array of [lo, hi] pairs; returns the count or -1. */
static long read_ranges(const jv *a, double (*out)[2], size_t cap)
{
    if (!a || a->type != J_ARR || a->len > cap)
        return -1;
    for (size_t i = 0; i < a->len; i++) {
        const jv *lo = at(&a->items[i], 0, J_NUM), *hi = at(&a->items[i], 1, J_NUM);
        if (!lo || !hi || a->items[i].len != 2)
            return -1;
        out[i][0] = lo->num;
        out[i][1] = hi->num;
    }
    return (long)a->len;
}

START_TEST(bucket_range_cases)
{
    const jv *s = section("getBucketRange", 13);
    failures = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *name = at(c, 0, J_STR), *args = at(c, 1, J_ARR);
        const jv *n = at(args, 0, J_NUM), *cov = at(args, 1, J_NUM);
        const jv *wa = at(args, 2, J_ARR);
        double want[16][2], got[16][2], w[16];
        long nwant = read_ranges(at(c, 2, J_ARR), want, 16);
        const char *nm = name ? name->str : "?";
        if (!name || !n || !cov || (!wa && !at(args, 2, J_NULL)) || nwant < 0 ||
            n->num < 0 || n->num > 16 || (wa && wa->len > 16)) {
            report("getBucketRange", nm, "malformed case");
            continue;
        }
        for (size_t k = 0; wa && k < wa->len; k++) {
            const jv *x = at(wa, k, J_NUM);
            w[k] = x ? x->num : NAN;
        }
        size_t k = bvt__bucket_ranges((size_t)n->num, cov->num, wa ? w : NULL,
                                     wa ? wa->len : 0, got);
        char detail[200];
        if (k != (size_t)nwant) {
            snprintf(detail, sizeof detail, "%zu ranges, expected %ld", k, nwant);
            report("getBucketRange", nm, detail);
            continue;
        }
        for (size_t r = 0; r < k; r++)
            if (!close_enough(got[r][0], want[r][0], 1e-9) ||
                !close_enough(got[r][1], want[r][1], 1e-9)) {
                snprintf(detail, sizeof detail, "range %zu is [%.17g, %.17g], expected [%g, %g]",
                         r, got[r][0], got[r][1], want[r][0], want[r][1]);
                report("getBucketRange", nm, detail);
                break;
            }
    }
    ck_assert_msg(failures == 0, "getBucketRange: %d of %zu cases failed", failures, s->len);
}
END_TEST

START_TEST(choose_variation_cases)
{
    const jv *s = section("chooseVariation", 13);
    failures = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *name = at(c, 0, J_STR), *x = at(c, 1, J_NUM), *want = at(c, 3, J_NUM);
        double ranges[16][2];
        long k = read_ranges(at(c, 2, J_ARR), ranges, 16);
        const char *nm = name ? name->str : "?";
        if (!name || !x || !want || k < 0) {
            report("chooseVariation", nm, "malformed case");
            continue;
        }
        int got = bvt__bucket_choose(x->num, (const double (*)[2])ranges, (size_t)k);
        if (got != (int)want->num) {
            char detail[80];
            snprintf(detail, sizeof detail, "got %d, expected %g", got, want->num);
            report("chooseVariation", nm, detail);
        }
    }
    ck_assert_msg(failures == 0, "chooseVariation: %d of %zu cases failed", failures, s->len);
}
END_TEST

START_TEST(namespace_cases)
{
    const jv *s = section("inNamespace", 16);
    failures = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *name = at(c, 0, J_STR), *id = at(c, 1, J_STR), *ns = at(c, 2, J_ARR);
        const jv *nsid = at(ns, 0, J_STR), *lo = at(ns, 1, J_NUM), *hi = at(ns, 2, J_NUM);
        const jv *want = at(c, 3, J_BOOL);
        const char *nm = name ? name->str : "?";
        if (!name || !id || !nsid || !lo || !hi || !want) {
            report("inNamespace", nm, "malformed case");
            continue;
        }
        int got = bvt__bucket_in_namespace(id->str, id->len, nsid->str, nsid->len, lo->num,
                                          hi->num);
        if (got != (int)want->num) {
            char detail[80];
            snprintf(detail, sizeof detail, "got %s, expected %s", got ? "true" : "false",
                     want->num ? "true" : "false");
            report("inNamespace", nm, detail);
        }
    }
    ck_assert_msg(failures == 0, "inNamespace: %d of %zu cases failed", failures, s->len);
}
END_TEST

START_TEST(equal_weight_cases)
{
    const jv *s = section("getEqualWeights", 6);
    failures = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *n = at(c, 0, J_NUM), *want = at(c, 1, J_ARR);
        char name[40], detail[120];
        snprintf(name, sizeof name, "getEqualWeights(%g)", n ? n->num : 0.0);
        if (!n || !want || n->num > 64 || want->len > 64) {
            report("getEqualWeights", name, "malformed case");
            continue;
        }
        double got[64];
        /* The SDK's n <= 0 (the cases use -1) is our n = 0. */
        size_t k = bvt__bucket_equal_weights(n->num > 0 ? (size_t)n->num : 0, got);
        if (k != want->len) {
            snprintf(detail, sizeof detail, "%zu weights, expected %zu", k, want->len);
            report("getEqualWeights", name, detail);
            continue;
        }
        for (size_t r = 0; r < k; r++) {
            const jv *x = at(want, r, J_NUM);
            if (!x || !close_enough(got[r], x->num, 1e-8)) {
                snprintf(detail, sizeof detail, "weight %zu is %.17g, expected %.17g", r,
                         got[r], x ? x->num : NAN);
                report("getEqualWeights", name, detail);
                break;
            }
        }
    }
    ck_assert_msg(failures == 0, "getEqualWeights: %d of %zu cases failed", failures, s->len);
}
END_TEST

/* ---- the same cases through experiment definitions ------------------- */

#define GB_SEED "gb-conformance-seed"

static bvt_engine *gb_engine(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    bvt_engine *e = NULL;
    o.secret = "growthbook-conformance-secret-0123";
    o.secret_len = strlen(o.secret);
    ck_assert_int_eq(bvt_engine_new(&e, &o, NULL), BVT_OK);
    return e;
}

/* Define name as n variants with these weights (NULL: all 0, equal). */
static int gb_define(bvt_engine *e, const char *name, int version, size_t n, const double *w,
                     double coverage, uint32_t *id)
{
    static const char *const vn[16] = { "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
                                        "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15" };
    bvt_variant v[16];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < n; i++) {
        v[i].name = vn[i];
        v[i].weight = w ? w[i] : 0.0;
    }
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = name;
    x.salt = GB_SEED;
    x.hash = version == 1 ? BVT_HASH_GROWTHBOOK_V1 : BVT_HASH_GROWTHBOOK_V2;
    x.variants = v;
    x.n_variants = n;
    x.coverage = coverage;
    return bvt_experiment_define(e, &x, id, NULL);
}

/* Users id-0 .. id-(N-1) through variant_of against the given ranges;
 * each range of non-zero width must be reached by some user. */
static int gb_check_users(bvt_engine *e, uint32_t id, int version, const double (*want)[2],
                          size_t n, const char *nm)
{
    enum { N = 30000 };
    unsigned hits[16] = { 0 };
    char u[32], detail[200];
    for (int i = 0; i < N; i++) {
        snprintf(u, sizeof u, "id-%d", i);
        int32_t got = 99;
        if (bvt_experiment_variant_of(e, id, u, strlen(u), &got) != BVT_OK) {
            report("experiment getBucketRange", nm, "variant_of failed");
            return -1;
        }
        double x = bvt__bucket_hash_gb(GB_SEED, strlen(GB_SEED), u, strlen(u), version, NULL);
        int expect = bvt__bucket_choose(x, want, n);
        if (got != (expect < 0 ? BVT_VARIANT_NONE : expect)) {
            snprintf(detail, sizeof detail, "v%d: %s (hash %.4f) got %d, expected %d", version,
                     u, x, got, expect);
            report("experiment getBucketRange", nm, detail);
            return -1;
        }
        if (expect >= 0)
            hits[expect]++;
    }
    for (size_t r = 0; r < n; r++)
        if (want[r][1] > want[r][0] + 2e-3 && hits[r] == 0) {
            snprintf(detail, sizeof detail, "v%d: no user reached range %zu", version, r);
            report("experiment getBucketRange", nm, detail);
            return -1;
        }
    return 0;
}

START_TEST(experiment_bucket_range_cases)
{
    const jv *s = section("getBucketRange", 13);
    bvt_engine *e = gb_engine();
    failures = 0;
    int mapped = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *name = at(c, 0, J_STR), *args = at(c, 1, J_ARR);
        const jv *n = at(args, 0, J_NUM), *cov = at(args, 1, J_NUM), *wa = at(args, 2, J_ARR);
        double want[16][2], w[16], sum = 0;
        long nwant = read_ranges(at(c, 2, J_ARR), want, 16);
        const char *nm = name ? name->str : "?";
        if (!name || !n || !cov || nwant < 0) {
            report("experiment getBucketRange", nm, "malformed case");
            continue;
        }
        const char *why = NULL;
        if (n->num < 2 || n->num > 16)
            why = "variant count outside 2..16";
        else if (!(cov->num >= 0 && cov->num <= 1))
            why = "coverage outside 0..1 (a definition error here)";
        else if (wa && wa->len != (size_t)n->num)
            why = "not one weight per variant";
        for (size_t k = 0; !why && wa && k < wa->len; k++) {
            const jv *x = at(wa, k, J_NUM);
            if (!x || x->num < 0)
                why = "a weight that is not a number >= 0";
            else
                sum += (w[k] = x->num);
        }
        if (!why && wa && !(sum >= 0.99 && sum <= 1.01))
            why = "GrowthBook replaces these weights by equal ones; a definition normalises them";
        if (why) {
            fprintf(stderr, "skip getBucketRange \"%s\": %s\n", nm, why);
            continue;
        }
        for (int version = 1; version <= 2; version++) {
            char ename[64];
            uint32_t id;
            snprintf(ename, sizeof ename, "range-%zu-v%d", i, version);
            if (gb_define(e, ename, version, (size_t)n->num, wa ? w : NULL, cov->num, &id) !=
                BVT_OK) {
                report("experiment getBucketRange", nm, "definition refused");
                continue;
            }
            /* The definition's ranges are the case's, as the harness compares
             * them; users are then checked against the unrounded ones, which
             * are the SDK's own arithmetic (the case's 0.04 is 0.2 * 0.2 =
             * 0.04000000000000001 cut to 8 decimals, and a user hashing to
             * exactly 0.04 is inside it in the SDK). */
            const bvt_experiment_def *d = bvt__experiment_acquire(e, ename);
            double exact[16][2];
            int same = d && d->n == (uint32_t)nwant;
            for (long r = 0; same && r < nwant; r++) {
                exact[r][0] = d->hot->ranges[r][0];
                exact[r][1] = d->hot->ranges[r][1];
                same = close_enough(exact[r][0], want[r][0], 1e-9) &&
                       close_enough(exact[r][1], want[r][1], 1e-9);
            }
            bvt__experiment_release(d);
            if (!same) {
                report("experiment getBucketRange", nm, "the definition's ranges differ");
                continue;
            }
            gb_check_users(e, id, version, (const double (*)[2])exact, (size_t)nwant, nm);
        }
        mapped++;
    }
    fprintf(stderr, "experiment getBucketRange: %d of %zu cases mapped and checked\n", mapped,
            s->len);
    bvt_engine_free(e);
    ck_assert_msg(failures == 0, "experiment getBucketRange: %d failures", failures);
    ck_assert_int_ge(mapped, 8);
}
END_TEST

/* The definition whose ranges are these: weight i from the starts, the
 * coverage from each range's share of its slot.  0 when they are not of
 * that shape. */
static int ranges_to_definition(const double (*r)[2], size_t n, double *w, double *coverage)
{
    double cov = -1;
    for (size_t i = 0; i < n; i++) {
        double next = i + 1 < n ? r[i + 1][0] : 1.0;
        w[i] = next - r[i][0];
        if (w[i] < 0 || r[i][1] < r[i][0])
            return 0;
        if (w[i] > 0) {
            double c = (r[i][1] - r[i][0]) / w[i];
            if (cov >= 0 && fabs(c - cov) > 1e-12)
                return 0;
            cov = c;
        } else if (r[i][1] != r[i][0]) {
            return 0;
        }
    }
    if (r[0][0] != 0.0 || cov < 0 || cov > 1)
        return 0;
    *coverage = cov;
    return 1;
}

START_TEST(experiment_choose_variation_cases)
{
    const jv *s = section("chooseVariation", 13);
    bvt_engine *e = gb_engine();
    failures = 0;
    int mapped = 0;
    for (size_t i = 0; i < s->len; i++) {
        const jv *c = &s->items[i];
        const jv *name = at(c, 0, J_STR), *x = at(c, 1, J_NUM), *want = at(c, 3, J_NUM);
        double ranges[16][2], w[16], cov;
        long k = read_ranges(at(c, 2, J_ARR), ranges, 16);
        const char *nm = name ? name->str : "?";
        if (!name || !x || !want || k < 0) {
            report("experiment chooseVariation", nm, "malformed case");
            continue;
        }
        if (k < 2 || !ranges_to_definition((const double (*)[2])ranges, (size_t)k, w, &cov)) {
            fprintf(stderr, "skip chooseVariation \"%s\": the ranges are no definition's\n", nm);
            continue;
        }
        for (int version = 1; version <= 2; version++) {
            char ename[64], detail[200];
            uint32_t id;
            snprintf(ename, sizeof ename, "choose-%zu-v%d", i, version);
            if (gb_define(e, ename, version, (size_t)k, w, cov, &id) != BVT_OK) {
                report("experiment chooseVariation", nm, "definition refused");
                continue;
            }
            /* The definition's ranges are the case's. */
            const bvt_experiment_def *d = bvt__experiment_acquire(e, ename);
            int same = 1;
            for (long r = 0; r < k; r++)
                same &= fabs(d->hot->ranges[r][0] - ranges[r][0]) < 1e-12 &&
                        fabs(d->hot->ranges[r][1] - ranges[r][1]) < 1e-12;
            bvt__experiment_release(d);
            if (!same) {
                report("experiment chooseVariation", nm, "the definition's ranges differ");
                continue;
            }
            /* A user whose hash is exactly the case's x. */
            char u[32];
            int found = 0;
            for (int t = 0; t < 2000000 && !found; t++) {
                snprintf(u, sizeof u, "cv-%d", t);
                found = bvt__bucket_hash_gb(GB_SEED, strlen(GB_SEED), u, strlen(u), version,
                                           NULL) == x->num;
            }
            if (!found) {
                snprintf(detail, sizeof detail, "v%d: no user id hashes to %g", version, x->num);
                report("experiment chooseVariation", nm, detail);
                continue;
            }
            int32_t got = 99;
            bvt_experiment_variant_of(e, id, u, strlen(u), &got);
            int expect = (int)want->num;
            if (got != (expect < 0 ? BVT_VARIANT_NONE : expect)) {
                snprintf(detail, sizeof detail, "v%d: %s got %d, expected %d", version, u, got,
                         expect);
                report("experiment chooseVariation", nm, detail);
            }
        }
        mapped++;
    }
    fprintf(stderr, "experiment chooseVariation: %d of %zu cases mapped and checked\n", mapped,
            s->len);
    bvt_engine_free(e);
    ck_assert_msg(failures == 0, "experiment chooseVariation: %d failures", failures);
    ck_assert_int_ge(mapped, 12);
}
END_TEST

static Suite *growthbook_suite(void)
{
    Suite *s = suite_create("growthbook");
    TCase *tc = tcase_create("cases");
    tcase_add_test(tc, hash_cases);
    tcase_add_test(tc, bucket_range_cases);
    tcase_add_test(tc, choose_variation_cases);
    tcase_add_test(tc, namespace_cases);
    tcase_add_test(tc, equal_weight_cases);
    tcase_add_test(tc, experiment_bucket_range_cases);
    tcase_add_test(tc, experiment_choose_variation_cases);
    suite_add_tcase(s, tc);
    return s;
}

/* 0, 77 when the file is absent, or 1 when it cannot be read as JSON. */
static int load(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/growthbook/bucketing_cases.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "skipping: cannot open %s\n", path);
        return 77;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(text, cap + 1);
            if (!t) {
                free(text);
                fclose(f);
                fprintf(stderr, "%s: out of memory\n", path);
                return 1;
            }
            text = t;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    text[len] = 0; /* strtod must stop inside the buffer */
    jparser j = {text, text + len, NULL};
    int rc = parse_value(&j, &root, 0);
    ws(&j);
    if (rc == 0 && j.p != j.end)
        rc = jfail(&j, "trailing text");
    if (rc == 0 && root.type != J_OBJ)
        rc = jfail(&j, "not an object");
    if (rc < 0)
        fprintf(stderr, "%s: byte %ld: %s\n", path, (long)(j.p - text), j.err);
    free(text);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("BVT_SHARED_DATA");
    if (!dir) {
        fprintf(stderr, "skipping: no data folder given (argument or BVT_SHARED_DATA)\n");
        return 77;
    }
    int rc = load(dir);
    if (rc)
        return rc;
    SRunner *sr = srunner_create(growthbook_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    jv_free(&root);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
