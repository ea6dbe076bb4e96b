/* test-interner.c — the string → id table: dense ids, lookups, limits,
 * erased and forgotten ids, owner flags and counts, and lock-free lookups
 * running beside inserts. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "interner.h"
#include "testutil.h"

static bvt_interner *make(uint32_t max_ids)
{
    bvt_interner *in = NULL;
    ck_assert_int_eq(bvt__interner_new(&in, max_ids), BVT_OK);
    ck_assert_ptr_nonnull(in);
    return in;
}

START_TEST(ids_dense_from_one)
{
    bvt_interner *in = make(100);
    const char *words[] = { "shoes", "shoe", "shoes/red", "s", "" };
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t id = 0;
        int fresh = 0;
        ck_assert_int_eq(bvt__interner_intern(in, words[i], strlen(words[i]), 100 + i, &id, &fresh),
                         BVT_OK);
        ck_assert_uint_eq(id, i + 1);
        ck_assert_int_eq(fresh, 1);
    }
    ck_assert_uint_eq(bvt__interner_count(in), 5);
    for (uint32_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(bvt__interner_find(in, words[i], strlen(words[i])), i + 1);
        ck_assert_str_eq(bvt__interner_str(in, i + 1), words[i]);
        ck_assert_uint_eq(bvt__interner_len(in, i + 1), strlen(words[i]));
        ck_assert_uint_eq(bvt__interner_payload(in, i + 1), 100 + i);
    }
    bvt__interner_free(in);
}
END_TEST

START_TEST(reintern_keeps_id_and_payload)
{
    bvt_interner *in = make(100);
    uint32_t a = 0, b = 0;
    int fresh = -1;
    ck_assert_int_eq(bvt__interner_intern(in, "mattress", 8, 7, &a, &fresh), BVT_OK);
    ck_assert_int_eq(fresh, 1);
    ck_assert_int_eq(bvt__interner_intern(in, "mattress", 8, 99, &b, &fresh), BVT_OK);
    ck_assert_int_eq(fresh, 0);
    ck_assert_uint_eq(a, b);
    ck_assert_uint_eq(bvt__interner_payload(in, a), 7);
    ck_assert_uint_eq(bvt__interner_count(in), 1);
    /* out_new may be NULL */
    ck_assert_int_eq(bvt__interner_intern(in, "pillow", 6, 0, &b, NULL), BVT_OK);
    ck_assert_uint_eq(b, 2);
    bvt__interner_free(in);
}
END_TEST

START_TEST(unknown_ids_and_strings)
{
    bvt_interner *in = make(100);
    uint32_t id;
    ck_assert_int_eq(bvt__interner_intern(in, "abc", 3, 5, &id, NULL), BVT_OK);
    ck_assert_uint_eq(bvt__interner_find(in, "ab", 2), 0);
    ck_assert_uint_eq(bvt__interner_find(in, "abcd", 4), 0);
    ck_assert_uint_eq(bvt__interner_find(in, "abcd", 3), id); /* only len bytes count */
    ck_assert_uint_eq(bvt__interner_find(in, "ABC", 3), 0);
    ck_assert_ptr_null(bvt__interner_str(in, 0));
    ck_assert_ptr_null(bvt__interner_str(in, 2));
    ck_assert_uint_eq(bvt__interner_len(in, 2), 0);
    ck_assert_uint_eq(bvt__interner_payload(in, 0), 0);
    ck_assert_uint_eq(bvt__interner_payload(in, 2), 0);
    ck_assert_uint_eq(bvt__interner_find(NULL, "abc", 3), 0);
    ck_assert_uint_eq(bvt__interner_count(NULL), 0);
    bvt__interner_free(NULL);
    bvt__interner_free(in);
}
END_TEST

START_TEST(binary_strings)
{
    bvt_interner *in = make(100);
    const char a[] = { 'x', '\0', 'y' }, b[] = { 'x', '\0', 'z' };
    uint32_t ia, ib;
    ck_assert_int_eq(bvt__interner_intern(in, a, 3, 0, &ia, NULL), BVT_OK);
    ck_assert_int_eq(bvt__interner_intern(in, b, 3, 0, &ib, NULL), BVT_OK);
    ck_assert_uint_ne(ia, ib);
    ck_assert_uint_eq(bvt__interner_len(in, ia), 3);
    ck_assert_int_eq(memcmp(bvt__interner_str(in, ib), b, 3), 0);
    ck_assert_int_eq(bvt__interner_str(in, ib)[3], '\0');
    bvt__interner_free(in);
}
END_TEST

START_TEST(many_strings_survive_growth)
{
    enum { N = 20000 };
    bvt_interner *in = make(N);
    size_t bytes0 = bvt__interner_bytes(in);
    char buf[64];
    const char *first = NULL;
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(buf, sizeof buf, "item-%u", i * 7919u);
        uint32_t id;
        ck_assert_int_eq(bvt__interner_intern(in, buf, (size_t)n, i, &id, NULL), BVT_OK);
        ck_assert_uint_eq(id, i + 1);
        if (i == 0)
            first = bvt__interner_str(in, 1);
    }
    /* Strings never move: a pointer taken early is still the string. */
    ck_assert_ptr_eq(bvt__interner_str(in, 1), first);
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(buf, sizeof buf, "item-%u", i * 7919u);
        uint32_t id = bvt__interner_find(in, buf, (size_t)n);
        ck_assert_uint_eq(id, i + 1);
        ck_assert_str_eq(bvt__interner_str(in, id), buf);
        ck_assert_uint_eq(bvt__interner_payload(in, id), i);
    }
    ck_assert_uint_gt(bvt__interner_bytes(in), bytes0 + (size_t)N * 8);
    bvt__interner_free(in);
}
END_TEST

/* An erased id keeps its number, holds no string and is never found; its
 * text interned again gets a new id; restoring gives it a string back. */
START_TEST(erased_ids)
{
    bvt_interner *in = make(4000);
    uint32_t a, gone, b, again;
    ck_assert_int_eq(bvt__interner_intern(in, "a", 1, 0, &a, NULL), BVT_OK);
    ck_assert_int_eq(bvt__interner_add_erased(in, &gone), BVT_OK);
    ck_assert_int_eq(bvt__interner_intern(in, "b", 1, 0, &b, NULL), BVT_OK);
    ck_assert_uint_eq(gone, 2);
    ck_assert_uint_eq(b, 3);
    ck_assert_ptr_null(bvt__interner_str(in, gone));
    ck_assert_uint_eq(bvt__interner_len(in, gone), 0);
    ck_assert_uint_eq(bvt__interner_count(in), 3);
    ck_assert_int_eq(bvt__interner_intern(in, "old", 3, 0, &again, NULL), BVT_OK);
    ck_assert_uint_eq(again, 4);

    ck_assert_int_eq(bvt__interner_restore(in, gone, "a", 1, 0), BVT_EINVAL); /* known */
    ck_assert_int_eq(bvt__interner_restore(in, b, "zz", 2, 0), BVT_EINVAL);   /* not erased */
    ck_assert_int_eq(bvt__interner_restore(in, 9, "zz", 2, 0), BVT_EINVAL);   /* unknown */
    ck_assert_int_eq(bvt__interner_restore(in, gone, "zz", 2, 7), BVT_OK);
    ck_assert_uint_eq(bvt__interner_find(in, "zz", 2), gone);
    ck_assert_str_eq(bvt__interner_str(in, gone), "zz");
    ck_assert_uint_eq(bvt__interner_payload(in, gone), 7);
    ck_assert_int_eq(bvt__interner_restore(in, gone, "yy", 2, 0), BVT_EINVAL);

    /* growth rehashes the strings only */
    char buf[32];
    for (int i = 0; i < 1000; i++) {
        uint32_t id;
        int n = snprintf(buf, sizeof buf, "s%d", i);
        ck_assert_int_eq(bvt__interner_add_erased(in, &id), BVT_OK);
        ck_assert_int_eq(bvt__interner_intern(in, buf, (size_t)n, 0, &id, NULL), BVT_OK);
        ck_assert_uint_eq(id, 4 + 2 * (uint32_t)i + 2);
    }
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(buf, sizeof buf, "s%d", i);
        ck_assert_uint_eq(bvt__interner_find(in, buf, (size_t)n), 4 + 2 * (uint32_t)i + 2);
        ck_assert_ptr_null(bvt__interner_str(in, 4 + 2 * (uint32_t)i + 1));
    }
    ck_assert_uint_eq(bvt__interner_find(in, "zz", 2), gone);
    bvt__interner_free(in);

    in = make(2);
    ck_assert_int_eq(bvt__interner_add_erased(in, &gone), BVT_OK);
    ck_assert_int_eq(bvt__interner_add_erased(in, &gone), BVT_OK);
    ck_assert_int_eq(bvt__interner_add_erased(in, &gone), BVT_ELIMIT);
    ck_assert_int_eq(bvt__interner_intern(in, "a", 1, 0, &a, NULL), BVT_ELIMIT);
    bvt__interner_free(in);
}
END_TEST

START_TEST(owner_flags)
{
    bvt_interner *in = make(10);
    uint32_t a;
    ck_assert_int_eq(bvt__interner_intern(in, "a", 1, 0, &a, NULL), BVT_OK);
    ck_assert_uint_eq(bvt__interner_flags(in, a), 0);
    bvt__interner_flags_set(in, a, 5);
    bvt__interner_flags_set(in, a, 2);
    ck_assert_uint_eq(bvt__interner_flags(in, a), 7);
    bvt__interner_flags_clear(in, a, 4);
    ck_assert_uint_eq(bvt__interner_flags(in, a), 3);
    bvt__interner_flags_set(in, 9, 1); /* unknown ids: ignored */
    ck_assert_uint_eq(bvt__interner_flags(in, 9), 0);
    ck_assert_uint_eq(bvt__interner_flags(in, 0), 0);
    bvt__interner_free(in);
}
END_TEST

/* A forgotten id keeps its number and string but is never found again:
 * the same text gets a new id, lookups of other strings (whose probe
 * chains may pass its slot) still work, before and after the table grows. */
START_TEST(forgotten_ids)
{
    bvt_interner *in = make(4096);
    char buf[32];
    uint32_t id;
    for (uint32_t i = 1; i <= 12; i++) {
        snprintf(buf, sizeof buf, "s%u", i);
        ck_assert_int_eq(bvt__interner_intern(in, buf, strlen(buf), 0, &id, NULL), BVT_OK);
    }
    for (uint32_t i = 1; i <= 12; i += 3)
        ck_assert_int_eq(bvt__interner_forget(in, i), 1);
    ck_assert_int_eq(bvt__interner_forget(in, 1), 0);  /* already */
    ck_assert_int_eq(bvt__interner_forget(in, 99), 0); /* unknown */
    ck_assert(!bvt__interner_live(in, 1) && bvt__interner_live(in, 2));
    ck_assert_str_eq(bvt__interner_str(in, 1), "s1"); /* for readers that hold it */
    for (uint32_t i = 1; i <= 12; i++) {
        snprintf(buf, sizeof buf, "s%u", i);
        ck_assert_uint_eq(bvt__interner_find(in, buf, strlen(buf)), i % 3 == 1 ? 0 : i);
    }
    int fresh = 0;
    ck_assert_int_eq(bvt__interner_intern(in, "s4", 2, 0, &id, &fresh), BVT_OK);
    ck_assert(fresh);
    ck_assert_uint_eq(id, 13);
    for (uint32_t i = 14; i <= 2000; i++) { /* growth drops the forgotten slots */
        snprintf(buf, sizeof buf, "t%u", i);
        ck_assert_int_eq(bvt__interner_intern(in, buf, strlen(buf), 0, &id, NULL), BVT_OK);
        ck_assert_uint_eq(id, i);
    }
    for (uint32_t i = 1; i <= 12; i++) {
        snprintf(buf, sizeof buf, "s%u", i);
        uint32_t want = i == 4 ? 13 : i % 3 == 1 ? 0 : i;
        ck_assert_uint_eq(bvt__interner_find(in, buf, strlen(buf)), want);
    }
    /* owner counts */
    ck_assert_uint_eq(bvt__interner_refs(in, 2), 0);
    ck_assert_uint_eq(bvt__interner_ref(in, 2), 1);
    ck_assert_uint_eq(bvt__interner_ref(in, 2), 2);
    ck_assert_uint_eq(bvt__interner_unref(in, 2), 1);
    ck_assert_uint_eq(bvt__interner_unref(in, 2), 0);
    ck_assert_uint_eq(bvt__interner_unref(in, 2), 0); /* never below 0 */
    ck_assert_uint_eq(bvt__interner_ref(in, 5000), 0); /* unknown */
    bvt__interner_free(in);
}
END_TEST

START_TEST(limit_reached)
{
    bvt_interner *in = make(3);
    uint32_t id = 0;
    ck_assert_int_eq(bvt__interner_intern(in, "a", 1, 0, &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt__interner_intern(in, "b", 1, 0, &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt__interner_intern(in, "c", 1, 0, &id, NULL), BVT_OK);
    ck_assert_uint_eq(id, 3);
    id = 42;
    ck_assert_int_eq(bvt__interner_intern(in, "d", 1, 0, &id, NULL), BVT_ELIMIT);
    ck_assert_uint_eq(id, 42);
    ck_assert_uint_eq(bvt__interner_count(in), 3);
    ck_assert_uint_eq(bvt__interner_find(in, "d", 1), 0);
    /* Known strings still resolve when full. */
    ck_assert_int_eq(bvt__interner_intern(in, "b", 1, 0, &id, NULL), BVT_OK);
    ck_assert_uint_eq(id, 2);
    bvt__interner_free(in);
}
END_TEST

START_TEST(bad_arguments)
{
    bvt_interner *in = NULL;
    ck_assert_int_eq(bvt__interner_new(&in, 0), BVT_EINVAL);
    ck_assert_ptr_null(in);
    ck_assert_int_eq(bvt__interner_new(NULL, 5), BVT_EINVAL);
    in = make(5);
    uint32_t id;
    ck_assert_int_eq(bvt__interner_intern(in, NULL, 3, 0, &id, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt__interner_intern(in, "a", 1, 0, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt__interner_intern(NULL, "a", 1, 0, &id, NULL), BVT_EINVAL);
    ck_assert_uint_eq(bvt__interner_count(in), 0);
    bvt__interner_free(in);
}
END_TEST

/* Two writers intern the same strings in opposite orders while two readers
 * look them up; every id a reader sees must map back to its string. */
enum { CONC_N = 20000 };

struct conc {
    bvt_interner *in;
    atomic_uint progress[2]; /* next index per writer; relaxed, so no ordering */
    atomic_int writers_done;
    atomic_int failures;
    atomic_long found;
};

static int conc_key(char *buf, size_t size, uint32_t i)
{
    return snprintf(buf, size, "cat/%u/x", i);
}

static void *conc_writer(void *arg)
{
    struct conc *c = arg;
    static atomic_int which;
    int reverse = atomic_fetch_add(&which, 1) & 1;
    char buf[32];
    for (uint32_t j = 0; j < CONC_N; j++) {
        uint32_t i = reverse ? CONC_N - 1 - j : j;
        atomic_store_explicit(&c->progress[reverse], i, memory_order_relaxed);
        int n = conc_key(buf, sizeof buf, i);
        uint32_t id = 0;
        if (bvt__interner_intern(c->in, buf, (size_t)n, i, &id, NULL) != BVT_OK ||
            bvt__interner_payload(c->in, id) != i)
            atomic_fetch_add(&c->failures, 1);
    }
    atomic_fetch_add(&c->writers_done, 1);
    return NULL;
}

/* Look up the keys each writer is about to insert, so lookups race with the
 * insert that publishes them. */
static void *conc_reader(void *arg)
{
    struct conc *c = arg;
    char buf[32];
    long found = 0;
    for (uint32_t round = 0; atomic_load(&c->writers_done) < 2; round++) {
        int w = (int)(round & 1);
        uint32_t p = atomic_load_explicit(&c->progress[w], memory_order_relaxed);
        for (uint32_t d = 0; d < 4; d++) {
            uint32_t i = w ? p - d : p + d;
            if (i >= CONC_N)
                break;
            int n = conc_key(buf, sizeof buf, i);
            uint32_t id = bvt__interner_find(c->in, buf, (size_t)n);
            if (!id)
                continue;
            found++;
            const char *s = bvt__interner_str(c->in, id);
            if (!s || strcmp(s, buf) != 0 || bvt__interner_len(c->in, id) != (size_t)n ||
                bvt__interner_payload(c->in, id) != i)
                atomic_fetch_add(&c->failures, 1);
        }
        /* Any id up to the published count must already be readable. */
        if (round % 64 == 0) {
            uint32_t count = bvt__interner_count(c->in);
            if (count && !bvt__interner_str(c->in, count))
                atomic_fetch_add(&c->failures, 1);
        }
    }
    atomic_fetch_add(&c->found, found);
    return NULL;
}

START_TEST(concurrent_insert_and_lookup)
{
    struct conc c;
    c.in = make(CONC_N);
    atomic_init(&c.progress[0], 0);
    atomic_init(&c.progress[1], CONC_N - 1);
    atomic_init(&c.writers_done, 0);
    atomic_init(&c.failures, 0);
    atomic_init(&c.found, 0);
    static const thread_fn threads[] = { conc_reader, conc_reader, conc_writer, conc_writer };
    run_threads(threads, sizeof threads / sizeof threads[0], &c);
    ck_assert_int_eq(atomic_load(&c.failures), 0);
    ck_assert_uint_eq(bvt__interner_count(c.in), CONC_N);
    ck_assert_int_gt(atomic_load(&c.found), 0); /* the readers did race */
    /* Ids stay dense and unique whoever inserted them. */
    char *seen = calloc(CONC_N + 1, 1);
    char buf[32];
    for (uint32_t i = 0; i < CONC_N; i++) {
        int n = conc_key(buf, sizeof buf, i);
        uint32_t id = bvt__interner_find(c.in, buf, (size_t)n);
        ck_assert_uint_ge(id, 1);
        ck_assert_uint_le(id, CONC_N);
        ck_assert_int_eq(seen[id], 0);
        seen[id] = 1;
    }
    free(seen);
    bvt__interner_free(c.in);
}
END_TEST

static Suite *interner_suite(void)
{
    Suite *s = suite_create("interner");
    TCase *tc = tcase_create("interner");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ids_dense_from_one);
    tcase_add_test(tc, reintern_keeps_id_and_payload);
    tcase_add_test(tc, unknown_ids_and_strings);
    tcase_add_test(tc, binary_strings);
    tcase_add_test(tc, many_strings_survive_growth);
    tcase_add_test(tc, erased_ids);
    tcase_add_test(tc, owner_flags);
    tcase_add_test(tc, forgotten_ids);
    tcase_add_test(tc, limit_reached);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, concurrent_insert_and_lookup);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(interner_suite()); }
