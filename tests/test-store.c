/* White-box tests of the sharded store: index, free slots, eviction, limits. */
#include <check.h>
#include <stdlib.h>

#include "store.h"

static bvt_user_key key_n(uint64_t n)
{
    /* spread like a hash, never (0, 0) */
    uint64_t z = n * 0x9E3779B97F4A7C15ull + 1;
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    return (bvt_user_key){ z ^ (z >> 29), n + 1 };
}

static bvt_record *add(bvt_store *s, uint64_t n, int expect)
{
    bvt_user_key k = key_n(n);
    bvt_shard *sh = bvt__store_shard(s, &k);
    bvt_record *r = NULL;
    int rc = bvt__shard_add(sh, s, &k, NULL, &r);
    ck_assert_int_eq(rc, expect);
    return r;
}

static bvt_record *find(bvt_store *s, uint64_t n)
{
    bvt_user_key k = key_n(n);
    return bvt__shard_find(bvt__store_shard(s, &k), &k);
}

START_TEST(find_after_add_and_growth)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 4, 0, 0, BVT_FULL_REJECT), BVT_OK);
    for (uint64_t n = 0; n < 20000; n++)
        add(&s, n, BVT_OK)->last_seen_ms = (int64_t)n + 1;
    for (uint64_t n = 0; n < 20000; n++) {
        bvt_record *r = find(&s, n);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->last_seen_ms, (int64_t)n + 1);
    }
    ck_assert_ptr_null(find(&s, 20000));
    ck_assert_uint_eq(atomic_load(&s.users), 20000);
    bvt__store_destroy(&s);
}
END_TEST

/* Removing keeps every other key findable (backward-shift deletion) and the
 * freed record is reused by the next new user. */
START_TEST(remove_keeps_others_and_reuses_slot)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 1, 0, 0, BVT_FULL_REJECT), BVT_OK);
    for (uint64_t n = 0; n < 3000; n++)
        add(&s, n, BVT_OK);
    bvt_shard *sh = &s.shards[0];
    uint32_t high = sh->high_water;
    for (uint64_t n = 0; n < 3000; n += 3)
        bvt__shard_remove(sh, find(&s, n));
    for (uint64_t n = 0; n < 3000; n++)
        ck_assert_msg((find(&s, n) != NULL) == (n % 3 != 0), "key %llu", (unsigned long long)n);
    for (uint64_t n = 3000; n < 4000; n++)
        add(&s, n, BVT_OK);
    ck_assert_uint_eq(sh->high_water, high); /* all 1000 reused freed records */
    ck_assert_uint_eq(sh->live, 3000);
    bvt__store_destroy(&s);
}
END_TEST

START_TEST(max_users_is_global_with_reject)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 16, 10, 0, BVT_FULL_REJECT), BVT_OK);
    for (uint64_t n = 0; n < 10; n++)
        add(&s, n, BVT_OK);
    add(&s, 10, BVT_EFULL);
    ck_assert_uint_eq(atomic_load(&s.users), 10);
    bvt__store_destroy(&s);
}
END_TEST

/* With 16 shards and room for 3 users, a new user in an empty shard must
 * evict from another shard. */
START_TEST(evict_crosses_shards_and_takes_oldest)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 16, 3, 0, BVT_FULL_EVICT_LRU), BVT_OK);
    for (uint64_t n = 0; n < 200; n++) {
        bvt_record *r = add(&s, n, BVT_OK);
        r->last_seen_ms = (int64_t)n + 1;
        ck_assert_uint_le(atomic_load(&s.users), 3);
    }
    /* The latest user always survives; evictions were counted. */
    ck_assert_ptr_nonnull(find(&s, 199));
    uint64_t evicted = 0;
    for (uint32_t i = 0; i < s.n_shards; i++)
        evicted += s.shards[i].evicted;
    ck_assert_uint_eq(evicted, 197);
    bvt__store_destroy(&s);
}
END_TEST

START_TEST(evict_picks_least_recently_seen_in_shard)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 1, 0, 0, BVT_FULL_EVICT_LRU), BVT_OK);
    for (uint64_t n = 0; n < 8; n++)
        add(&s, n, BVT_OK)->last_seen_ms = 1000 - (int64_t)n; /* user 7 is the oldest */
    ck_assert_int_eq(bvt__shard_evict_one(&s.shards[0], &s, NULL), BVT_OK);
    ck_assert_ptr_null(find(&s, 7));
    /* `keep` is never chosen, even when it is the oldest. */
    bvt_record *keep = find(&s, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(bvt__shard_evict_one(&s.shards[0], &s, keep), BVT_OK);
    ck_assert_ptr_nonnull(find(&s, 6));
    ck_assert_int_eq(bvt__shard_evict_one(&s.shards[0], &s, keep), BVT_EFULL);
    bvt__store_destroy(&s);
}
END_TEST

START_TEST(reject_policy_never_evicts)
{
    bvt_store s;
    ck_assert_int_eq(bvt__store_init(&s, 1, 0, 0, BVT_FULL_REJECT), BVT_OK);
    add(&s, 1, BVT_OK);
    ck_assert_int_eq(bvt__shard_evict_one(&s.shards[0], &s, NULL), BVT_EFULL);
    bvt__store_destroy(&s);
}
END_TEST

/* Table memory is accounted and bounded by the budget. */
START_TEST(budget_bounds_table_memory)
{
    bvt_store s;
    const uint64_t budget = 4 * (sizeof(bvt_shard) + 65536);
    ck_assert_int_eq(bvt__store_init(&s, 4, 0, budget, BVT_FULL_REJECT), BVT_OK);
    int full = 0;
    for (uint64_t n = 0; n < 100000 && !full; n++) {
        bvt_user_key k = key_n(n);
        bvt_shard *sh = bvt__store_shard(&s, &k);
        bvt_record *r;
        int rc = bvt__shard_add(sh, &s, &k, NULL, &r);
        ck_assert(rc == BVT_OK || rc == BVT_EFULL);
        full = rc == BVT_EFULL;
    }
    ck_assert(full);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_le(bvt__mem_total(&s.shards[i].mem), s.shards[i].mem.limit);
    bvt__store_destroy(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, find_after_add_and_growth);
    tcase_add_test(tc, remove_keeps_others_and_reuses_slot);
    tcase_add_test(tc, max_users_is_global_with_reject);
    tcase_add_test(tc, evict_crosses_shards_and_takes_oldest);
    tcase_add_test(tc, evict_picks_least_recently_seen_in_shard);
    tcase_add_test(tc, reject_policy_never_evicts);
    tcase_add_test(tc, budget_bounds_table_memory);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
