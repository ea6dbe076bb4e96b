/* test-keywords.c — search keyword map: tokenisation, replacement, limits
 * and matching beside concurrent replacement. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "behavtarget.h"
#include "keywords.h"
#include "testutil.h"

static bvt_keywords *make(void)
{
    bvt_keywords *k = NULL;
    ck_assert_int_eq(bvt__keywords_new(&k), BVT_OK);
    ck_assert_ptr_nonnull(k);
    return k;
}

static void set_ok(bvt_keywords *k, const char *w, uint32_t cat)
{
    ck_assert_msg(bvt__keywords_set(k, w, strlen(w), cat) == BVT_OK, "set \"%s\"", w);
}

#define W63 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"
#define W64 W63 "1"

/* Mapped by the table fixture below. */
static const struct {
    const char *word;
    uint32_t cat;
} fixture[] = {
    { "mattress", 10 }, { "MEMORY", 11 }, { "foam", 11 }, { "pillow", 12 },
    { "caf\xc3\xa9", 13 }, { "4k", 14 }, { "tv", 14 }, { W63, 15 },
    { "\xe5\xba\x8a", 16 }, /* a CJK word in UTF-8 */
};

static const struct {
    const char *text;
    size_t cap;
    uint32_t want[8];
    size_t nwant;
} matches[] = {
    { "mattress", 8, { 10 }, 1 },
    { "Memory Foam MATTRESS", 8, { 11, 10 }, 2 }, /* case; same category once */
    { "memory-foam,mattress!", 8, { 11, 10 }, 2 }, /* punctuation splits */
    { "  pillow\tmattress\n", 8, { 12, 10 }, 2 },
    { "mattress mattress pillow mattress", 8, { 10, 12 }, 2 },
    { "mattresses", 8, { 0 }, 0 },            /* whole words only */
    { "mattress_pillow", 8, { 10, 12 }, 2 },  /* '_' is not a word byte */
    { "Caf\xc3\xa9 visit", 8, { 13 }, 1 },    /* UTF-8 bytes kept */
    { "caf\xc3\xa9s", 8, { 0 }, 0 },          /* ...as part of the word */
    { "caf", 8, { 0 }, 0 },
    { "\xe5\xba\x8a pillow", 8, { 16, 12 }, 2 },
    { "4K TV", 8, { 14 }, 1 },
    { W63, 8, { 15 }, 1 },
    { W64, 8, { 0 }, 0 },                      /* > 63 bytes: ignored, not cut */
    { W64 " pillow", 8, { 12 }, 1 },
    { "pillow mattress foam", 1, { 12 }, 1 },  /* cap */
    { "pillow mattress foam", 2, { 12, 10 }, 2 },
    { "pillow", 0, { 0 }, 0 },
    { "", 8, { 0 }, 0 },
    { "!!! ... ???", 8, { 0 }, 0 },
};

START_TEST(match_table)
{
    bvt_keywords *k = make();
    for (size_t i = 0; i < sizeof fixture / sizeof fixture[0]; i++)
        set_ok(k, fixture[i].word, fixture[i].cat);
    ck_assert_uint_eq(bvt__keywords_count(k), sizeof fixture / sizeof fixture[0]);
    for (size_t i = 0; i < sizeof matches / sizeof matches[0]; i++) {
        uint32_t out[8] = { 0 };
        size_t n = bvt__keywords_match(k, matches[i].text, strlen(matches[i].text), out,
                                      matches[i].cap);
        ck_assert_msg(n == matches[i].nwant, "\"%s\": %zu ids, want %zu", matches[i].text, n,
                      matches[i].nwant);
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(out[j] == matches[i].want[j], "\"%s\": id[%zu] = %u, want %u",
                          matches[i].text, j, out[j], matches[i].want[j]);
        /* Nothing is written past what is returned. */
        for (size_t j = n; j < 8; j++)
            ck_assert_uint_eq(out[j], 0);
    }
    bvt__keywords_free(k);
}
END_TEST

START_TEST(only_len_bytes_read)
{
    bvt_keywords *k = make();
    set_ok(k, "pillow", 12);
    set_ok(k, "pill", 9);
    uint32_t out[4];
    ck_assert_uint_eq(bvt__keywords_match(k, "pillow", 4, out, 4), 1);
    ck_assert_uint_eq(out[0], 9);
    ck_assert_int_eq(bvt__keywords_set(k, "pillows", 6, 20), BVT_OK); /* "pillow" */
    ck_assert_uint_eq(bvt__keywords_match(k, "pillow", 6, out, 4), 1);
    ck_assert_uint_eq(out[0], 20);
    bvt__keywords_free(k);
}
END_TEST

START_TEST(replace_mapping)
{
    bvt_keywords *k = make();
    uint32_t out[4];
    set_ok(k, "mattress", 10);
    set_ok(k, "Mattress", 42); /* same word after lower-casing */
    ck_assert_uint_eq(bvt__keywords_count(k), 1);
    ck_assert_uint_eq(bvt__keywords_match(k, "mattress", 8, out, 4), 1);
    ck_assert_uint_eq(out[0], 42);
    bvt__keywords_free(k);
}
END_TEST

START_TEST(set_rejects_non_words)
{
    bvt_keywords *k = make();
    const char *bad[] = { "", "two words", "memory-foam", "a.b", "tab\t", W64, "x_y",
                          "caf\xe9", "\xc3", "\xed\xa0\x80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(bvt__keywords_set(k, bad[i], strlen(bad[i]), 5) == BVT_EINVAL, "\"%s\"",
                      bad[i]);
    ck_assert_int_eq(bvt__keywords_set(k, "ok", 2, 0), BVT_EINVAL); /* category 0 */
    ck_assert_int_eq(bvt__keywords_set(k, NULL, 2, 5), BVT_EINVAL);
    ck_assert_int_eq(bvt__keywords_set(NULL, "ok", 2, 5), BVT_EINVAL);
    ck_assert_uint_eq(bvt__keywords_count(k), 0);
    uint32_t out[2];
    ck_assert_uint_eq(bvt__keywords_match(k, "ok", 2, out, 2), 0);
    ck_assert_uint_eq(bvt__keywords_match(NULL, "ok", 2, out, 2), 0);
    bvt__keywords_free(k);
    bvt__keywords_free(NULL);
}
END_TEST

/* Through the engine: a keyword that is not UTF-8 is refused at its first
 * bad byte, and its category is not interned. */
START_TEST(engine_keyword_must_be_utf8)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = "keywords-suite-secret-0001";
    o.secret_len = strlen(o.secret);
    bvt_engine *e = engine_new_ok(&o);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_keyword_map(e, "matelas\xe9", "home/beds", &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 7);
    ck_assert_msg(strstr(err.message, "keyword") && strstr(err.message, "UTF-8"), "%s",
                  err.message);
    uint32_t id;
    ck_assert_int_eq(bvt_category_lookup(e, "home/beds", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_keyword_map(e, "two words", "home/beds", &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 3);
    ck_assert_int_eq(bvt_category_lookup(e, "home/beds", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_keyword_map(e, "matelas\xc3\xa9", "home/beds", &err), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(limit_reached)
{
    bvt_keywords *k = make();
    size_t bytes0 = bvt__keywords_bytes(k);
    char w[16];
    for (uint32_t i = 1; i <= BVT_KEYWORDS_MAX; i++) {
        int n = snprintf(w, sizeof w, "w%u", i);
        ck_assert_int_eq(bvt__keywords_set(k, w, (size_t)n, i), BVT_OK);
    }
    ck_assert_uint_eq(bvt__keywords_count(k), BVT_KEYWORDS_MAX);
    ck_assert_int_eq(bvt__keywords_set(k, "extra", 5, 1), BVT_ELIMIT);
    /* Replacing a known word still works when full. */
    ck_assert_int_eq(bvt__keywords_set(k, "w65535", 6, 7), BVT_OK);
    uint32_t out[4];
    ck_assert_uint_eq(bvt__keywords_match(k, "extra w65535 w1", 15, out, 4), 2);
    ck_assert_uint_eq(out[0], 7);
    ck_assert_uint_eq(out[1], 1);
    ck_assert_uint_gt(bvt__keywords_bytes(k), bytes0);
    bvt__keywords_free(k);
}
END_TEST

/* A writer flips a keyword between two categories and adds new words while
 * readers match; a reader only ever sees one of the two categories. */
struct conc {
    bvt_keywords *k;
    atomic_int done;
    atomic_int failures;
};

static void *conc_writer(void *arg)
{
    struct conc *c = arg;
    char w[16];
    for (uint32_t i = 0; i < 20000; i++) {
        if (bvt__keywords_set(c->k, "sofa", 4, i & 1 ? 100 : 200) != BVT_OK)
            atomic_fetch_add(&c->failures, 1);
        int n = snprintf(w, sizeof w, "w%u", i);
        if (bvt__keywords_set(c->k, w, (size_t)n, 300) != BVT_OK)
            atomic_fetch_add(&c->failures, 1);
    }
    atomic_store(&c->done, 1);
    return NULL;
}

static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    char text[64];
    uint32_t i = 0;
    while (!atomic_load(&c->done)) {
        uint32_t out[4];
        int len = snprintf(text, sizeof text, "red sofa w%u", i++ % 20000);
        size_t n = bvt__keywords_match(c->k, text, (size_t)len, out, 4);
        if (n < 1 || n > 2 || (out[0] != 100 && out[0] != 200) || (n == 2 && out[1] != 300))
            atomic_fetch_add(&c->failures, 1);
    }
    return NULL;
}

START_TEST(concurrent_replace_and_match)
{
    struct conc c;
    c.k = make();
    atomic_init(&c.done, 0);
    atomic_init(&c.failures, 0);
    set_ok(c.k, "sofa", 100);
    static const thread_fn threads[] = { conc_reader, conc_reader, conc_writer };
    run_threads(threads, sizeof threads / sizeof threads[0], &c);
    ck_assert_int_eq(atomic_load(&c.failures), 0);
    ck_assert_uint_eq(bvt__keywords_count(c.k), 20001);
    bvt__keywords_free(c.k);
}
END_TEST

static Suite *keywords_suite(void)
{
    Suite *s = suite_create("keywords");
    TCase *tc = tcase_create("keywords");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, match_table);
    tcase_add_test(tc, only_len_bytes_read);
    tcase_add_test(tc, replace_mapping);
    tcase_add_test(tc, set_rejects_non_words);
    tcase_add_test(tc, limit_reached);
    tcase_add_test(tc, engine_keyword_must_be_utf8);
    tcase_add_test(tc, concurrent_replace_and_match);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(keywords_suite()); }
