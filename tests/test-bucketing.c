/* test-bucketing.c — experiment bucketing: the GrowthBook hashes (ASCII and
 * the UTF-16 view of non-ASCII ids), the XXH3 default (pinned output, salt
 * separation, short and long keys alike), bucket ranges, choosing a range,
 * namespaces, equal weights, and how evenly 100,000 ids spread over three
 * variants.  The full GrowthBook case list runs in
 * tests/conformance/test-growthbook.c. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucketing.h"
#include "hash.h"
#include "testutil.h"

/* XXH3-64 of "exp-1\0user-1" and of "\0", from libxxhash itself. */
#define XXH3_PINNED_1 ((double)(0x576a19e13a3fed7dULL >> 11) * 0x1.0p-53)
#define XXH3_PINNED_2 ((double)(0xc44bdff4074eecdbULL >> 11) * 0x1.0p-53)

static double gb(const char *seed, const char *value, int version)
{
    int ok = -1;
    double x = bvt__bucket_hash_gb(seed, strlen(seed), value, strlen(value), version, &ok);
    ck_assert_msg(ok == 1, "hash(%s, %s, %d) not ok", seed, value, version);
    return x;
}

static double xx(const char *salt, const char *id)
{
    return bvt__bucket_hash_xxh3(salt, strlen(salt), id, strlen(id));
}

START_TEST(gb_hash_versions)
{
    /* Worked examples from the SDK's cases: v1 hashes value + seed, v2
     * hashes the decimal form of fnv1a32(seed + value). */
    ck_assert(gb("", "a", 1) == 0.22);
    ck_assert(gb("b", "a", 1) == 0.946);
    ck_assert(gb("seed", "a", 2) == 0.0505);
    ck_assert(gb("foo", "ab", 2) == 0.2575);
    /* The order of seed and value matters. */
    ck_assert(gb("a", "b", 1) != gb("b", "a", 1));
}
END_TEST

START_TEST(gb_hash_unknown_version)
{
    int ok = 1;
    double x = bvt__bucket_hash_gb("abc", 3, "def", 3, 99, &ok);
    ck_assert_int_eq(ok, 0);
    ck_assert(x < 0.0);
    double r[2][2];
    bvt__bucket_ranges(2, 1.0, NULL, 0, r);
    ck_assert_int_eq(bvt__bucket_choose(x, (const double (*)[2])r, 2), -1);
    ok = 1;
    bvt__bucket_hash_gb("abc", 3, "def", 3, 0, &ok);
    ck_assert_int_eq(ok, 0);
    /* ok may be NULL. */
    ck_assert(bvt__bucket_hash_gb("", 0, "a", 1, 1, NULL) == 0.22);
}
END_TEST

START_TEST(gb_hash_utf16)
{
    /* JavaScript hashes UTF-16 code units: "é" is one unit 0xE9, not the two
     * bytes C3 A9 (which as units give 0.217); U+1F600 is a surrogate pair.
     * Expected values from the SDK's algorithm over UTF-16. */
    ck_assert(gb("", "\xc3\xa9", 1) == 0.94);
    ck_assert(gb("x", "\xf0\x9f\x98\x80", 1) == 0.192);
    ck_assert(gb("s", "caf\xc3\xa9", 2) == 0.2437);
    ck_assert(gb("s", "\xf0\x9f\x98\x80", 2) == 0.2801);
    /* An invalid byte is read as U+FFFD (0.456), as a browser decodes it. */
    ck_assert(gb("", "\xff", 1) == 0.456);
    ck_assert(gb("", "\xef\xbf\xbd", 1) == 0.456);
    /* Explicit lengths: bytes after value_len are not hashed. */
    int ok;
    ck_assert(bvt__bucket_hash_gb("", 0, "ab", 1, 1, &ok) == 0.22);
}
END_TEST

START_TEST(xxh3_pinned_and_in_range)
{
    /* Pinned: a change here moves users of running experiments. */
    ck_assert_msg(xx("exp-1", "user-1") == XXH3_PINNED_1, "got %.17g", xx("exp-1", "user-1"));
    ck_assert_msg(xx("", "") == XXH3_PINNED_2, "got %.17g", xx("", ""));
    /* The separator keeps salt and id apart. */
    ck_assert(xx("ab", "c") != xx("a", "bc"));
    ck_assert(xx("exp-1", "user-1") != xx("exp-2", "user-1"));
    /* NULL with length 0 is the empty string. */
    ck_assert(bvt__bucket_hash_xxh3(NULL, 0, NULL, 0) == xx("", ""));
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "u%d", i);
        double x = xx("s", id);
        ck_assert(x >= 0.0 && x < 1.0);
    }
}
END_TEST

START_TEST(xxh3_long_keys)
{
    /* Keys too long for the stack copy are streamed; the digest must equal
     * XXH3 of the concatenation, across the boundary. */
    size_t lens[] = {0, 1, 100, 254, 255, 256, 300, 5000};
    size_t nl = sizeof lens / sizeof lens[0];
    char *big = malloc(5000);
    unsigned char *cat = malloc(10001);
    ck_assert(big && cat);
    for (size_t i = 0; i < 5000; i++)
        big[i] = (char)('a' + i * 7 % 26);
    for (size_t a = 0; a < nl; a++)
        for (size_t b = 0; b < nl; b++) {
            size_t lb = lens[b] > 4983 ? 4983 : lens[b]; /* id starts at big + 17 */
            memcpy(cat, big, lens[a]);
            cat[lens[a]] = 0;
            memcpy(cat + lens[a] + 1, big + 17, lb);
            uint64_t h = XXH3_64bits(cat, lens[a] + 1 + lb);
            double want = (double)(h >> 11) * 0x1.0p-53;
            double got = bvt__bucket_hash_xxh3(big, lens[a], big + 17, lb);
            ck_assert_msg(got == want, "salt %zu id %zu", lens[a], lb);
        }
    free(big);
    free(cat);
}
END_TEST

static void ranges_eq(const double (*got)[2], const double (*want)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_msg(fabs(got[i][j] - want[i][j]) < 1e-9, "range %zu[%d]: %.17g != %.17g",
                          i, j, got[i][j], want[i][j]);
}

START_TEST(ranges_coverage_and_weights)
{
    double r[4][2];
    const double (*cr)[2] = (const double (*)[2])r;
    ck_assert_uint_eq(bvt__bucket_ranges(2, 0.5, NULL, 0, r), 2);
    ranges_eq(cr, (const double[][2]){{0, 0.25}, {0.5, 0.75}}, 2);

    const double w3[] = {0.2, 0.3, 0.5};
    ck_assert_uint_eq(bvt__bucket_ranges(3, 0.2, w3, 3, r), 3);
    ranges_eq(cr, (const double[][2]){{0, 0.04}, {0.2, 0.26}, {0.5, 0.6}}, 3);

    /* Coverage is clamped; NaN counts as no coverage. */
    bvt__bucket_ranges(2, -0.2, NULL, 0, r);
    ranges_eq(cr, (const double[][2]){{0, 0}, {0.5, 0.5}}, 2);
    bvt__bucket_ranges(2, 1.5, NULL, 0, r);
    ranges_eq(cr, (const double[][2]){{0, 0.5}, {0.5, 1}}, 2);
    bvt__bucket_ranges(2, NAN, NULL, 0, r);
    ranges_eq(cr, (const double[][2]){{0, 0}, {0.5, 0.5}}, 2);

    /* Bad weights fall back to equal ones: wrong count, sum off by > 0.01. */
    const double w_short[] = {0.4, 0.4, 0.2};
    bvt__bucket_ranges(4, 1, w_short, 3, r);
    ranges_eq(cr, (const double[][2]){{0, 0.25}, {0.25, 0.5}, {0.5, 0.75}, {0.75, 1}}, 4);
    const double w_low[] = {0.4, 0.1}, w_high[] = {0.7, 0.6}, w_nan[] = {NAN, 0.5};
    bvt__bucket_ranges(2, 1, w_low, 2, r);
    ranges_eq(cr, (const double[][2]){{0, 0.5}, {0.5, 1}}, 2);
    bvt__bucket_ranges(2, 1, w_high, 2, r);
    ranges_eq(cr, (const double[][2]){{0, 0.5}, {0.5, 1}}, 2);
    bvt__bucket_ranges(2, 1, w_nan, 2, r);
    ranges_eq(cr, (const double[][2]){{0, 0.5}, {0.5, 1}}, 2);
    /* Within 0.01 of 1 the weights are used as given. */
    const double w_near[] = {0.4, 0.5999};
    bvt__bucket_ranges(2, 1, w_near, 2, r);
    ranges_eq(cr, (const double[][2]){{0, 0.4}, {0.4, 0.9999}}, 2);

    ck_assert_uint_eq(bvt__bucket_ranges(0, 1, NULL, 0, r), 0);
}
END_TEST

START_TEST(choose_half_open)
{
    const double even[][2] = {{0, 0.5}, {0.5, 1}};
    ck_assert_int_eq(bvt__bucket_choose(0.0, even, 2), 0);
    ck_assert_int_eq(bvt__bucket_choose(0.4999, even, 2), 0);
    ck_assert_int_eq(bvt__bucket_choose(0.5, even, 2), 1);
    ck_assert_int_eq(bvt__bucket_choose(1.0, even, 2), -1);
    const double gaps[][2] = {{0, 0.25}, {0.5, 0.75}};
    ck_assert_int_eq(bvt__bucket_choose(0.25, gaps, 2), -1);
    ck_assert_int_eq(bvt__bucket_choose(0.6, gaps, 2), 1);
    /* A zero-width range never matches. */
    const double zero[][2] = {{0, 0.5}, {0.5, 0.5}, {0.5, 1}};
    ck_assert_int_eq(bvt__bucket_choose(0.5, zero, 3), 2);
    ck_assert_int_eq(bvt__bucket_choose(0.5, zero, 0), -1);
    ck_assert_int_eq(bvt__bucket_choose(NAN, even, 2), -1);
}
END_TEST

START_TEST(namespaces)
{
    /* "1" + "__namespace1" hashes (v1) to 0.68. */
    ck_assert_int_eq(bvt__bucket_in_namespace("1", 1, "namespace1", 10, 0, 0.4), 0);
    ck_assert_int_eq(bvt__bucket_in_namespace("1", 1, "namespace1", 10, 0.4, 1), 1);
    ck_assert_int_eq(bvt__bucket_in_namespace("1", 1, "namespace1", 10, 0.68, 0.681), 1);
    ck_assert_int_eq(bvt__bucket_in_namespace("1", 1, "namespace1", 10, 0.6, 0.68), 0);
    ck_assert_int_eq(bvt__bucket_in_namespace("1", 1, "namespace1", 10, 0.68, 0.68), 0);
    ck_assert(gb("__namespace1", "1", 1) == 0.68);
    /* "3" + "__namespace2" is 0.335. */
    ck_assert_int_eq(bvt__bucket_in_namespace("3", 1, "namespace2", 10, 0, 0.4), 1);
}
END_TEST

START_TEST(equal_weights)
{
    double w[3] = {-1, -1, -1};
    ck_assert_uint_eq(bvt__bucket_equal_weights(0, w), 0);
    ck_assert(w[0] == -1);
    ck_assert_uint_eq(bvt__bucket_equal_weights(1, w), 1);
    ck_assert(w[0] == 1.0);
    ck_assert_uint_eq(bvt__bucket_equal_weights(3, w), 3);
    for (int i = 0; i < 3; i++)
        ck_assert(w[i] == 1.0 / 3.0);
}
END_TEST

START_TEST(xxh3_spreads_evenly_and_sticks)
{
    enum { IDS = 100000 };
    double r[3][2];
    const double (*cr)[2] = (const double (*)[2])r;
    bvt__bucket_ranges(3, 1.0, NULL, 0, r);
    static signed char first[IDS];
    size_t count[3] = {0, 0, 0};
    char id[32];
    for (int i = 0; i < IDS; i++) {
        int n = snprintf(id, sizeof id, "user-%d", i);
        int v = bvt__bucket_choose(bvt__bucket_hash_xxh3("exp-1", 5, id, (size_t)n), cr, 3);
        ck_assert(v >= 0 && v < 3);
        first[i] = (signed char)v;
        count[v]++;
    }
    for (int v = 0; v < 3; v++)
        ck_assert_msg(fabs((double)count[v] / IDS - 1.0 / 3.0) < 0.01, "variant %d: %zu of %d",
                      v, count[v], IDS);
    /* The same id gets the same variant every time. */
    for (int i = IDS - 1; i >= 0; i -= 7) {
        int n = snprintf(id, sizeof id, "user-%d", i);
        int v = bvt__bucket_choose(bvt__bucket_hash_xxh3("exp-1", 5, id, (size_t)n), cr, 3);
        ck_assert_int_eq(v, first[i]);
    }
    /* Another salt reshuffles: many users change variant. */
    size_t moved = 0;
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(id, sizeof id, "user-%d", i);
        moved += bvt__bucket_choose(bvt__bucket_hash_xxh3("exp-2", 5, id, (size_t)n), cr, 3) !=
                 first[i];
    }
    ck_assert_msg(moved > 1500 && moved < 2500, "moved %zu of 3000", moved);
}
END_TEST

static Suite *bucketing_suite(void)
{
    Suite *s = suite_create("bucketing");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gb_hash_versions);
    tcase_add_test(tc, gb_hash_unknown_version);
    tcase_add_test(tc, gb_hash_utf16);
    tcase_add_test(tc, xxh3_pinned_and_in_range);
    tcase_add_test(tc, xxh3_long_keys);
    tcase_add_test(tc, ranges_coverage_and_weights);
    tcase_add_test(tc, choose_half_open);
    tcase_add_test(tc, namespaces);
    tcase_add_test(tc, equal_weights);
    tcase_add_test(tc, xxh3_spreads_evenly_and_sticks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(bucketing_suite());
}
