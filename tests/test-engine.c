/* test-engine.c — the engine as a caller sees it: options, lifecycle,
 * statistics, the user table's limits, iteration, identity hashing, status
 * texts and version.  Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "engine-test-secret-0123456789"
#include "testutil.h"

static int pv(bvt_engine *e, const char *user, int64_t t)
{
    return track_event(e, user, BVT_EVENT_PAGE_VIEW, t, NULL, 0.0);
}

static int exists(bvt_engine *e, const char *user)
{
    return bvt_user_exists(e, user, strlen(user));
}

/* ---------------------------------------------------------------- version */

START_TEST(version_matches_macros)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", BVT_VERSION_MAJOR, BVT_VERSION_MINOR,
             BVT_VERSION_PATCH);
    ck_assert_ptr_nonnull(bvt_version());
    ck_assert_str_eq(bvt_version(), buf);
    ck_assert_str_eq(bvt_version(), BVT_VERSION_STRING);
    ck_assert_int_eq(bvt_version_number(), BVT_VERSION_NUMBER);
    ck_assert_int_eq(bvt_version_number(), BVT_VERSION_MAJOR * 10000 +
                                               BVT_VERSION_MINOR * 100 + BVT_VERSION_PATCH);
}
END_TEST

START_TEST(strerror_every_code_distinct)
{
    static const int codes[] = {
        BVT_OK, BVT_EINVAL, BVT_ENOMEM, BVT_ENOTFOUND, BVT_EFULL, BVT_ELIMIT, BVT_EEXIST,
        BVT_ETYPE, BVT_ERANGE, BVT_EVERSION, BVT_EIO, BVT_ECORRUPT, BVT_ESYNTAX,
    };
    size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = bvt_strerror(-9999);
    ck_assert_ptr_nonnull(unknown);
    ck_assert_str_eq(unknown, "unknown error");
    ck_assert_str_eq(bvt_strerror(1), "unknown error");
    for (size_t i = 0; i < n; i++) {
        const char *s = bvt_strerror(codes[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "code %d has no text", codes[i]);
        ck_assert_msg(strcmp(s, unknown) != 0, "code %d reads as unknown", codes[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, bvt_strerror(codes[j])) != 0,
                          "codes %d and %d share the text '%s'", codes[i], codes[j], s);
    }
}
END_TEST

START_TEST(status_values_pinned)
{
    ck_assert_int_eq(BVT_OK, 0);
    ck_assert_int_eq(BVT_EINVAL, -1);
    ck_assert_int_eq(BVT_ENOTFOUND, -3);
    ck_assert_int_eq(BVT_EFULL, -4);
    ck_assert_int_eq(BVT_ESYNTAX, -12);
}
END_TEST

START_TEST(init_functions_match_macros)
{
    bvt_options o;
    memset(&o, 0xab, sizeof o);
    bvt_options_init(&o);
    ck_assert_uint_eq(o.version, BVT_OPTIONS_VERSION);
    ck_assert_uint_eq(o.shards, 0);
    ck_assert_uint_eq(o.max_users, 0);
    ck_assert_uint_eq(o.top_interests, 0);
    ck_assert(o.ancestor_credit == 0.0);
    ck_assert_ptr_null(o.secret);
    ck_assert_ptr_null(o.type_weights);
    ck_assert_uint_eq(o.type_weights_len, 0);

    bvt_error err;
    memset(&err, 0x5a, sizeof err);
    bvt_error_init(&err);
    ck_assert_uint_eq(err.version, BVT_ERROR_VERSION);
    ck_assert_int_eq(err.code, 0);
    ck_assert_int_eq(err.offset, -1);
    ck_assert_int_eq(err.message[0], 0);

    bvt_event ev;
    memset(&ev, 0x5a, sizeof ev);
    bvt_event_init(&ev);
    ck_assert_uint_eq(ev.version, BVT_EVENT_VERSION);
    ck_assert_ptr_null(ev.user_id);
    ck_assert_ptr_null(ev.category);
    ck_assert_int_eq(ev.time_ms, 0);

    bvt_profile p;
    memset(&p, 0x5a, sizeof p);
    bvt_profile_init(&p);
    ck_assert_uint_eq(p.version, BVT_PROFILE_VERSION);

    /* NULL is a no-op for all of them. */
    bvt_options_init(NULL);
    bvt_error_init(NULL);
    bvt_event_init(NULL);
    bvt_profile_init(NULL);
    bvt_engine_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- options */

START_TEST(engine_new_all_defaults)
{
    bvt_engine *e = engine_default();
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 0);
    ck_assert_uint_eq(s.events_accepted, 0);
    ck_assert_uint_eq(s.events_rejected, 0);
    ck_assert_uint_eq(s.users_evicted, 0);
    ck_assert_uint_gt(s.record_bytes, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(engine_new_secret_is_copied)
{
    char *secret = malloc(32);
    memcpy(secret, "a-secret-of-32-bytes-0123456789x", 32);
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = secret;
    o.secret_len = 32;
    bvt_engine *e = NULL;
    ck_assert_int_eq(bvt_engine_new(&e, &o, NULL), BVT_OK);
    bvt_user_key k1, k2;
    ck_assert_int_eq(bvt_user_key_of(e, "alice", 5, &k1), BVT_OK);
    memset(secret, 0, 32);
    free(secret);
    ck_assert_int_eq(bvt_user_key_of(e, "alice", 5, &k2), BVT_OK);
    ck_assert(k1.hi == k2.hi && k1.lo == k2.lo);
    bvt_engine_free(e);
}
END_TEST

/* Options that must be refused, and the word the message must contain. */
static const double bad_weights_neg[BVT_EVENT_BUILTIN_COUNT] = { 1, -1 };
static const double bad_weights_nan[1] = { NAN };
static const double ok_weights[BVT_EVENT_BUILTIN_COUNT + 1] = { 1 };

struct bad_option {
    const char *label;
    void (*apply)(bvt_options *o);
    int expect;
    const char *word; /* must appear in err.message; NULL to skip */
};

#define MUT(fn, stmt) static void fn(bvt_options *o) { stmt; }
MUT(m_shards_3, o->shards = 3)
MUT(m_shards_8192, o->shards = 8192)
MUT(m_shards_6, o->shards = 6)
MUT(m_top_17, o->top_interests = 17)
MUT(m_credit_big, o->ancestor_credit = 1.5)
MUT(m_credit_nan, o->ancestor_credit = NAN)
MUT(m_hist_events, o->history_events = 4097)
MUT(m_hist_days, o->history_day_slots = 65536)
MUT(m_cart_items, o->cart_items = 256)
MUT(m_max_attrs, o->max_attributes = 256)
MUT(m_policy, o->full_policy = 2)
MUT(m_half_life, o->interest_half_life_ms = -1)
MUT(m_horizon, o->history_horizon_ms = -5)
MUT(m_gap, o->session_gap_ms = -1)
MUT(m_weights_len, (o->type_weights = ok_weights,
                    o->type_weights_len = BVT_EVENT_BUILTIN_COUNT + 1))
MUT(m_weights_neg, (o->type_weights = bad_weights_neg,
                    o->type_weights_len = BVT_EVENT_BUILTIN_COUNT))
MUT(m_weights_nan, (o->type_weights = bad_weights_nan, o->type_weights_len = 1))
MUT(m_secret_15, o->secret_len = 15)
MUT(m_secret_null, (o->secret = NULL, o->secret_len = 0))
MUT(m_secret_null_len, (o->secret = NULL, o->secret_len = 32))
static char big_secret[BVT_SECRET_MAX + 1];
MUT(m_secret_long, (o->secret = big_secret, o->secret_len = BVT_SECRET_MAX + 1))
MUT(m_version_2, o->version = BVT_OPTIONS_VERSION + 1)
#undef MUT

static const struct bad_option bad_options[] = {
    { "shards not a power of two", m_shards_3, BVT_EINVAL, "shards" },
    { "shards 6", m_shards_6, BVT_EINVAL, "shards" },
    { "shards > 4096", m_shards_8192, BVT_EINVAL, "shards" },
    { "top_interests 17", m_top_17, BVT_EINVAL, "top_interests" },
    { "ancestor_credit 1.5", m_credit_big, BVT_EINVAL, "ancestor_credit" },
    { "ancestor_credit NaN", m_credit_nan, BVT_EINVAL, "ancestor_credit" },
    { "history_events 4097", m_hist_events, BVT_EINVAL, "history_events" },
    { "history_day_slots 65536", m_hist_days, BVT_EINVAL, "history_day_slots" },
    { "cart_items 256", m_cart_items, BVT_EINVAL, "cart_items" },
    { "max_attributes 256", m_max_attrs, BVT_EINVAL, "max_attributes" },
    { "full_policy 2", m_policy, BVT_EINVAL, "full_policy" },
    { "negative half life", m_half_life, BVT_EINVAL, "interest_half_life_ms" },
    { "negative horizon", m_horizon, BVT_EINVAL, "history_horizon_ms" },
    { "negative session gap", m_gap, BVT_EINVAL, "session_gap_ms" },
    { "too many type weights", m_weights_len, BVT_EINVAL, "type_weights" },
    { "negative type weight", m_weights_neg, BVT_EINVAL, "type_weights" },
    { "NaN type weight", m_weights_nan, BVT_EINVAL, "type_weights" },
    { "secret 15 bytes", m_secret_15, BVT_EINVAL, "secret" },
    { "no secret", m_secret_null, BVT_EINVAL, "secret" },
    { "NULL secret with a length", m_secret_null_len, BVT_EINVAL, "secret" },
    { "secret over BVT_SECRET_MAX", m_secret_long, BVT_EINVAL, "BVT_SECRET_MAX" },
    { "version too new", m_version_2, BVT_EVERSION, NULL },
};

START_TEST(engine_new_rejects_bad_option)
{
    const struct bad_option *c = &bad_options[_i];
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    c->apply(&o);
    bvt_engine *e = (bvt_engine *)&o; /* not NULL: must be reset on failure */
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&e, &o, &err);
    ck_assert_msg(rc == c->expect, "%s: got %d (%s), want %d", c->label, rc,
                  bvt_strerror(rc), c->expect);
    ck_assert_msg(e == NULL, "%s: *out not NULL on failure", c->label);
    ck_assert_int_eq(err.code, c->expect);
    if (c->word)
        ck_assert_msg(strstr(err.message, c->word) != NULL,
                      "%s: message '%s' does not name '%s'", c->label, err.message, c->word);
    /* Without an error struct the call fails the same way. */
    e = (bvt_engine *)&o;
    ck_assert_int_eq(bvt_engine_new(&e, &o, NULL), c->expect);
    ck_assert_ptr_null(e);
}
END_TEST

START_TEST(engine_new_null_arguments)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    ck_assert_int_eq(bvt_engine_new(NULL, &o, NULL), BVT_EINVAL);
    bvt_engine *e = (bvt_engine *)&o;
    ck_assert_int_eq(bvt_engine_new(&e, NULL, NULL), BVT_EINVAL);
    ck_assert_ptr_null(e);
}
END_TEST

/* Values at the edge of each range are accepted. */
struct good_option {
    const char *label;
    void (*apply)(bvt_options *o);
};

#define MUT(fn, stmt) static void fn(bvt_options *o) { stmt; }
MUT(g_shards_1, o->shards = 1)
MUT(g_shards_4096, o->shards = 4096)
MUT(g_top_1, o->top_interests = 1)
MUT(g_top_16, o->top_interests = 16)
MUT(g_credit_neg, o->ancestor_credit = -3.0)
MUT(g_credit_1, o->ancestor_credit = 1.0)
MUT(g_hist, (o->history_events = 4096, o->history_day_slots = 65535))
MUT(g_cart, o->cart_items = 255)
MUT(g_attrs, o->max_attributes = 255)
MUT(g_evict, (o->full_policy = BVT_FULL_EVICT_LRU, o->max_users = 1))
MUT(g_secret_16, o->secret_len = 16)
MUT(g_secret_max, (o->secret = big_secret, o->secret_len = BVT_SECRET_MAX))
MUT(g_weights, (o->type_weights = ok_weights, o->type_weights_len = BVT_EVENT_BUILTIN_COUNT))
MUT(g_budget, o->memory_budget = 1u << 20)
#undef MUT

static const struct good_option good_options[] = {
    { "shards 1", g_shards_1 }, { "shards 4096", g_shards_4096 },
    { "top_interests 1", g_top_1 }, { "top_interests 16", g_top_16 },
    { "negative ancestor_credit", g_credit_neg }, { "ancestor_credit 1", g_credit_1 },
    { "history maxima", g_hist }, { "cart_items 255", g_cart },
    { "max_attributes 255", g_attrs }, { "evict policy", g_evict },
    { "secret of 16 bytes", g_secret_16 }, { "secret of BVT_SECRET_MAX", g_secret_max }, { "all type weights", g_weights },
    { "memory budget", g_budget },
};

START_TEST(engine_new_accepts_edge_option)
{
    const struct good_option *c = &good_options[_i];
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    c->apply(&o);
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&e, &o, &err);
    ck_assert_msg(rc == BVT_OK, "%s: %d %s", c->label, rc, err.message);
    ck_assert_int_eq(pv(e, "u", T0), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- stats */

START_TEST(stats_count_users_and_events)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(pv(e, "a", T0), BVT_OK);
    ck_assert_int_eq(pv(e, "a", T0 + 1), BVT_OK);
    ck_assert_int_eq(pv(e, "b", T0 + 2), BVT_OK);
    ck_assert_int_eq(track_event(e, "c", BVT_EVENT_PURCHASE, T0 + 3, "x/y/z", 9.5), BVT_OK);
    ck_assert_int_eq(pv(e, "c", 0), BVT_EINVAL);
    ck_assert_int_eq(track_event(e, "c", 99, T0, NULL, 0), BVT_ETYPE);

    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 3);
    ck_assert_uint_eq(s.events_accepted, 4);
    ck_assert_uint_eq(s.events_rejected, 2);
    ck_assert_uint_eq(s.users_evicted, 0);
    ck_assert_uint_eq(s.categories, 3); /* x, x/y, x/y/z */
    ck_assert_uint_gt(s.record_bytes, 0);
    ck_assert_uint_ge(s.bytes_table, (uint64_t)s.record_bytes * 3);
    ck_assert_uint_eq(s.bytes_total, s.bytes_table + s.bytes_history + s.bytes_cart +
                                         s.bytes_attributes + s.bytes_registry);
    ck_assert_uint_gt(s.bytes_history, 0);
    ck_assert(fabs(s.bytes_per_user - (double)s.bytes_table / 3.0) < 1e-9);
    bvt_engine_free(e);
}
END_TEST

START_TEST(stats_arguments)
{
    bvt_engine *e = engine_default();
    bvt_stats s = BVT_STATS_INIT;
    ck_assert_int_eq(bvt_engine_stats(NULL, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_engine_stats(e, NULL), BVT_EINVAL);
    s.version = BVT_STATS_VERSION + 1;
    ck_assert_int_eq(bvt_engine_stats(e, &s), BVT_EVERSION);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- store */

START_TEST(full_reject_refuses_new_users_only)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 10;
    o.full_policy = BVT_FULL_REJECT;
    bvt_engine *e = engine_with(&o);
    char id[16];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "user%d", i);
        ck_assert_int_eq(pv(e, id, T0 + i), BVT_OK);
    }
    bvt_error err = BVT_ERROR_INIT;
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = BVT_EVENT_PAGE_VIEW;
    ev.user_id = "newcomer";
    ev.user_id_len = 8;
    ev.time_ms = T0 + 100;
    ck_assert_int_eq(bvt_event_track(e, &ev, &err), BVT_EFULL);
    ck_assert_int_eq(err.code, BVT_EFULL);
    ck_assert(!exists(e, "newcomer"));
    /* Known users keep being tracked. */
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "user%d", i);
        ck_assert_int_eq(pv(e, id, T0 + 200 + i), BVT_OK);
    }
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "user3", 5, T0 + 1000, &p), BVT_OK);
    ck_assert_uint_eq(p.events, 2);

    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 10);
    ck_assert_uint_eq(s.events_accepted, 20);
    ck_assert_uint_eq(s.events_rejected, 1);
    ck_assert_uint_eq(s.users_evicted, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(full_evict_keeps_recent_users)
{
    enum { MAX = 8, N = 64 };
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.max_users = MAX;
    o.full_policy = BVT_FULL_EVICT_LRU;
    bvt_engine *e = engine_with(&o);
    char id[16];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "user%d", i);
        ck_assert_int_eq(pv(e, id, T0 + (int64_t)i * 1000), BVT_OK);
        bvt_stats s = stats_of(e);
        ck_assert_uint_le(s.users, MAX);
        ck_assert_uint_eq(s.users + s.users_evicted, (uint64_t)i + 1);
        /* The most recently seen half always survives. */
        for (int j = i; j >= 0 && j > i - MAX / 2; j--) {
            snprintf(id, sizeof id, "user%d", j);
            ck_assert_msg(exists(e, id), "user%d evicted after user%d arrived", j, i);
        }
    }
    bvt_stats s = stats_of(e);
    ck_assert_uint_ge(s.users, MAX / 2);
    ck_assert_uint_eq(s.events_accepted, N);
    ck_assert_uint_eq(s.events_rejected, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(full_evict_is_lru_not_fifo)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.max_users = 8;
    o.full_policy = BVT_FULL_EVICT_LRU;
    bvt_engine *e = engine_with(&o);
    char id[16];
    ck_assert_int_eq(pv(e, "hot", T0), BVT_OK);
    for (int i = 0; i < 100; i++) {
        int64_t t = T0 + (int64_t)(i + 1) * 1000;
        snprintf(id, sizeof id, "cold%d", i);
        ck_assert_int_eq(pv(e, id, t), BVT_OK);
        ck_assert_int_eq(pv(e, "hot", t + 1), BVT_OK);
        ck_assert_msg(exists(e, "hot"), "the busiest user was evicted at step %d", i);
    }
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "hot", 3, T0 + 200000, &p), BVT_OK);
    ck_assert_uint_eq(p.events, 101);
    ck_assert_uint_gt(stats_of(e).users_evicted, 0);
    bvt_engine_free(e);
}
END_TEST

static void budget_run(uint32_t policy)
{
    const uint64_t budget = 512u * 1024u;
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 4;
    o.memory_budget = budget;
    o.full_policy = policy;
    bvt_engine *e = engine_with(&o);
    char id[24], cat[24];
    uint64_t ok = 0, full = 0;
    for (int i = 0; i < 40000; i++) {
        int u = (i * 7919) % 4000;
        snprintf(id, sizeof id, "user-%d", u);
        snprintf(cat, sizeof cat, "c%d/s%d", i % 13, i % 7);
        bvt_event ev = BVT_EVENT_INIT;
        ev.type = (uint32_t)(i % BVT_EVENT_BUILTIN_COUNT);
        ev.user_id = id;
        ev.user_id_len = strlen(id);
        ev.time_ms = T0 + (int64_t)i * 60000;
        ev.category = cat;
        ev.value = (double)(i % 50);
        char item[16];
        snprintf(item, sizeof item, "item%d", i % 97);
        ev.item_id = item;
        int rc = bvt_event_track(e, &ev, NULL);
        ck_assert_msg(rc == BVT_OK || rc == BVT_EFULL, "event %d: %d", i, rc);
        if (rc == BVT_OK)
            ok++;
        else
            full++;
        if (i % 997 == 0) {
            rc = bvt_attr_set_number(e, id, strlen(id), "score", i);
            ck_assert_msg(rc == BVT_OK || rc == BVT_EFULL, "attribute %d: %d", i, rc);
        }
        if (i % 5000 == 4999) {
            bvt_stats s = stats_of(e);
            ck_assert_msg(s.bytes_total - s.bytes_registry <= budget,
                          "after %d events: %llu bytes held for a budget of %llu", i + 1,
                          (unsigned long long)(s.bytes_total - s.bytes_registry),
                          (unsigned long long)budget);
        }
    }
    bvt_stats s = stats_of(e);
    ck_assert_uint_le(s.bytes_total - s.bytes_registry, budget);
    ck_assert_uint_gt(ok, 0);
    ck_assert_uint_gt(s.users, 0);
    ck_assert_uint_eq(s.events_accepted, ok);
    ck_assert_uint_eq(s.events_rejected, full);
    if (policy == BVT_FULL_EVICT_LRU)
        ck_assert_uint_gt(s.users_evicted, 0);
    bvt_engine_free(e);
}

START_TEST(memory_budget_never_exceeded_evict) { budget_run(BVT_FULL_EVICT_LRU); }
END_TEST

START_TEST(memory_budget_never_exceeded_reject) { budget_run(BVT_FULL_REJECT); }
END_TEST

/* ---------------------------------------------------------------- iteration */

#define NUSERS 50

struct visit {
    bvt_engine *e;
    int seen[NUSERS];
    int calls;
    int stop_after;
    int bad;
};

static int find_user(bvt_engine *e, const bvt_user_key *k)
{
    char id[16];
    for (int i = 0; i < NUSERS; i++) {
        bvt_user_key m;
        snprintf(id, sizeof id, "member-%d", i);
        ck_assert_int_eq(bvt_user_key_of(e, id, strlen(id), &m), BVT_OK);
        if (m.hi == k->hi && m.lo == k->lo)
            return i;
    }
    return -1;
}

static int visit_fn(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    struct visit *v = ud;
    v->calls++;
    int i = find_user(v->e, key);
    if (i < 0) {
        v->bad++;
        return 0;
    }
    v->seen[i]++;
    /* member-i has i+1 page views and a purchase of value i. */
    if (p->events != (uint64_t)i + 2 || p->type_counts[BVT_EVENT_PAGE_VIEW] != (uint32_t)i + 1 ||
        p->purchases != 1 || p->monetary_total != (double)i ||
        p->last_seen_ms != T0 + 1000 + i || p->recency_ms != 5000 - i)
        v->bad++;
    if (v->stop_after && v->calls == v->stop_after)
        return 42;
    return 0;
}

static bvt_engine *population(void)
{
    bvt_engine *e = engine_default();
    char id[16];
    for (int i = 0; i < NUSERS; i++) {
        snprintf(id, sizeof id, "member-%d", i);
        for (int k = 0; k <= i; k++)
            ck_assert_int_eq(pv(e, id, T0 + k), BVT_OK);
        ck_assert_int_eq(track_event(e, id, BVT_EVENT_PURCHASE, T0 + 1000 + i, NULL, i), BVT_OK);
    }
    return e;
}

START_TEST(foreach_visits_each_user_once)
{
    bvt_engine *e = population();
    struct visit v;
    memset(&v, 0, sizeof v);
    v.e = e;
    ck_assert_int_eq(bvt_engine_foreach_user(e, T0 + 6000, visit_fn, &v), BVT_OK);
    ck_assert_int_eq(v.calls, NUSERS);
    ck_assert_int_eq(v.bad, 0);
    for (int i = 0; i < NUSERS; i++)
        ck_assert_msg(v.seen[i] == 1, "member-%d visited %d times", i, v.seen[i]);
    bvt_engine_free(e);
}
END_TEST

START_TEST(foreach_stops_with_callback_value)
{
    bvt_engine *e = population();
    struct visit v;
    memset(&v, 0, sizeof v);
    v.e = e;
    v.stop_after = 3;
    ck_assert_int_eq(bvt_engine_foreach_user(e, T0 + 6000, visit_fn, &v), 42);
    ck_assert_int_eq(v.calls, 3);
    ck_assert_int_eq(bvt_engine_foreach_user(NULL, T0, visit_fn, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_engine_foreach_user(e, T0, NULL, &v), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

static int count_fn(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    (void)key;
    (void)p;
    ++*(int *)ud;
    return 0;
}

START_TEST(foreach_empty_engine)
{
    bvt_engine *e = engine_default();
    int n = 0;
    ck_assert_int_eq(bvt_engine_foreach_user(e, T0, count_fn, &n), BVT_OK);
    ck_assert_int_eq(n, 0);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- identity */

START_TEST(user_key_is_keyed_and_stable)
{
    bvt_engine *a = engine_default();
    bvt_engine *b = engine_default();
    bvt_options o = BVT_OPTIONS_INIT;
    static const char other[] = "a-completely-different-secret!!";
    o.secret = other;
    o.secret_len = sizeof other - 1;
    bvt_engine *c = NULL;
    ck_assert_int_eq(bvt_engine_new(&c, &o, NULL), BVT_OK);

    static const char id[] = "ABCDEFGHIJKLMNOP"; /* 16 bytes, like a key */
    bvt_user_key ka, kb, kc, ka2;
    ck_assert_int_eq(bvt_user_key_of(a, id, 16, &ka), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(a, id, 16, &ka2), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(b, id, 16, &kb), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(c, id, 16, &kc), BVT_OK);
    ck_assert(ka.hi == ka2.hi && ka.lo == ka2.lo);
    ck_assert_msg(ka.hi == kb.hi && ka.lo == kb.lo, "same secret, different keys");
    ck_assert_msg(ka.hi != kc.hi || ka.lo != kc.lo, "different secrets, same key");

    /* The raw id does not appear in the key, not even in part. */
    unsigned char kbytes[16];
    memcpy(kbytes, &ka.hi, 8);
    memcpy(kbytes + 8, &ka.lo, 8);
    for (int off = 0; off + 4 <= 16; off++)
        for (int w = 0; w + 4 <= 16; w++)
            ck_assert_msg(memcmp(kbytes + w, id + off, 4) != 0,
                          "key holds raw id bytes %d..%d", off, off + 3);

    /* Length counts, not NUL termination; one byte changes the key. */
    bvt_user_key n1, n2, n3;
    ck_assert_int_eq(bvt_user_key_of(a, "a\0b", 3, &n1), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(a, "a\0c", 3, &n2), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(a, "a", 1, &n3), BVT_OK);
    ck_assert(n1.hi != n2.hi || n1.lo != n2.lo);
    ck_assert(n1.hi != n3.hi || n1.lo != n3.lo);

    ck_assert_int_eq(bvt_user_key_of(NULL, id, 16, &ka), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_key_of(a, NULL, 16, &ka), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_key_of(a, id, 0, &ka), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_key_of(a, id, 16, NULL), BVT_EINVAL);
    bvt_engine_free(a);
    bvt_engine_free(b);
    bvt_engine_free(c);
}
END_TEST

static int key_fn(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    (void)p;
    *(bvt_user_key *)ud = *key;
    return 0;
}

START_TEST(foreach_reports_the_keyed_hash)
{
    bvt_engine *e = engine_default();
    static const char id[] = "someone@example.com";
    ck_assert_int_eq(pv(e, id, T0), BVT_OK);
    bvt_user_key got = { 0, 0 }, want;
    ck_assert_int_eq(bvt_engine_foreach_user(e, T0, key_fn, &got), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(e, id, strlen(id), &want), BVT_OK);
    ck_assert(got.hi == want.hi && got.lo == want.lo);
    bvt_engine_free(e);
}
END_TEST

START_TEST(same_id_same_profile)
{
    bvt_engine *e = engine_default();
    char buf1[8], buf2[8];
    memcpy(buf1, "u\0x1", 4);
    memcpy(buf2, "u\0x1", 4);
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = BVT_EVENT_PAGE_VIEW;
    ev.user_id = buf1;
    ev.user_id_len = 4;
    ev.time_ms = T0;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ev.user_id = buf2;
    ev.time_ms = T0 + 5;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ev.user_id_len = 3; /* "u\0x" is someone else */
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ck_assert_uint_eq(stats_of(e).users, 2);
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "u\0x1", 4, T0 + 10, &p), BVT_OK);
    ck_assert_uint_eq(p.events, 2);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- categories, items */

START_TEST(category_registry)
{
    bvt_engine *e = engine_default();
    uint32_t leaf = 0, mid = 0, top = 0, again = 0;
    ck_assert_int_eq(bvt_category_intern(e, "home/bedroom/mattresses", &leaf, NULL), BVT_OK);
    ck_assert_int_eq(bvt_category_lookup(e, "home/bedroom", &mid), BVT_OK);
    ck_assert_int_eq(bvt_category_lookup(e, "home", &top), BVT_OK);
    ck_assert_uint_ge(leaf, 1);
    ck_assert_uint_le(leaf, 3);
    ck_assert_uint_ge(top, 1);
    ck_assert_uint_le(top, 3);
    ck_assert(leaf != mid && mid != top && leaf != top);
    ck_assert_uint_eq(bvt_category_parent(e, leaf), mid);
    ck_assert_uint_eq(bvt_category_parent(e, mid), top);
    ck_assert_uint_eq(bvt_category_parent(e, top), 0);
    ck_assert_uint_eq(bvt_category_parent(e, 999), 0);
    ck_assert_str_eq(bvt_category_name(e, leaf), "home/bedroom/mattresses");
    ck_assert_str_eq(bvt_category_name(e, top), "home");
    ck_assert_ptr_null(bvt_category_name(e, 999));
    ck_assert_ptr_null(bvt_category_name(e, 0));
    ck_assert_int_eq(bvt_category_intern(e, "home/bedroom/mattresses", &again, NULL), BVT_OK);
    ck_assert_uint_eq(again, leaf);
    ck_assert_int_eq(bvt_category_lookup(e, "garden", &again), BVT_ENOTFOUND);
    ck_assert_uint_eq(stats_of(e).categories, 3);

    static const char *bad[] = { "", "/a", "a/", "a//b", NULL };
    for (int i = 0; bad[i]; i++) {
        bvt_error err = BVT_ERROR_INIT;
        ck_assert_msg(bvt_category_intern(e, bad[i], &again, &err) == BVT_EINVAL,
                      "'%s' accepted", bad[i]);
        ck_assert_int_eq(err.code, BVT_EINVAL);
    }
    ck_assert_int_eq(bvt_category_intern(e, NULL, &again, NULL), BVT_EINVAL);
    ck_assert_uint_eq(stats_of(e).categories, 3);
    bvt_engine_free(e);
}
END_TEST

START_TEST(item_hash_is_xxh3_seed0)
{
    ck_assert_uint_eq(bvt_item_hash("", 0), 0x2d06800538d394c2ULL);
    ck_assert_uint_eq(bvt_item_hash("sku-1", 5), 0xde7c83fa11a4bfb7ULL);
    ck_assert(bvt_item_hash("sku-1", 5) != bvt_item_hash("sku-2", 5));
}
END_TEST

/* BVT_NONE turns the variable parts off: no history, cart or attributes
 * are kept, and only the fixed record costs memory. */
START_TEST(none_keeps_only_the_record)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.history_events = BVT_NONE;
    o.history_day_slots = BVT_NONE;
    o.cart_items = BVT_NONE;
    o.max_attributes = BVT_NONE;
    bvt_engine *e = engine_with(&o);
    ck_assert_int_eq(pv(e, "u", T0), BVT_OK);
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = BVT_EVENT_ADD_TO_CART;
    ev.user_id = "u";
    ev.user_id_len = 1;
    ev.time_ms = T0 + 1;
    ev.item_id = "sku";
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_number(e, "u", 1, "age", 30), BVT_ELIMIT);
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0 + 2, &p), BVT_OK);
    ck_assert_uint_eq(p.events, 2);
    ck_assert_uint_eq(p.cart_items, 0);
    ck_assert_uint_eq(p.history_events, 0);
    uint64_t n = 99;
    ck_assert_int_eq(bvt_history_count(e, "u", 1, UINT32_MAX, NULL, 1000, T0 + 2, &n, NULL),
                     BVT_OK);
    ck_assert_uint_eq(n, 0);
    bvt_stats st = stats_of(e);
    ck_assert_uint_eq(st.bytes_history + st.bytes_cart + st.bytes_attributes, 0);
    bvt_engine_free(e);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, version_matches_macros);
    tcase_add_test(tc, strerror_every_code_distinct);
    tcase_add_test(tc, status_values_pinned);
    tcase_add_test(tc, init_functions_match_macros);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_add_test(tc, engine_new_all_defaults);
    tcase_add_test(tc, engine_new_secret_is_copied);
    tcase_add_loop_test(tc, engine_new_rejects_bad_option, 0,
                        (int)(sizeof bad_options / sizeof bad_options[0]));
    tcase_add_test(tc, engine_new_null_arguments);
    tcase_add_loop_test(tc, engine_new_accepts_edge_option, 0,
                        (int)(sizeof good_options / sizeof good_options[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("stats");
    tcase_add_test(tc, stats_count_users_and_events);
    tcase_add_test(tc, none_keeps_only_the_record);
    tcase_add_test(tc, stats_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, full_reject_refuses_new_users_only);
    tcase_add_test(tc, full_evict_keeps_recent_users);
    tcase_add_test(tc, full_evict_is_lru_not_fifo);
    tcase_add_test(tc, memory_budget_never_exceeded_evict);
    tcase_add_test(tc, memory_budget_never_exceeded_reject);
    suite_add_tcase(s, tc);

    tc = tcase_create("iteration");
    tcase_add_test(tc, foreach_visits_each_user_once);
    tcase_add_test(tc, foreach_stops_with_callback_value);
    tcase_add_test(tc, foreach_empty_engine);
    tcase_add_test(tc, foreach_reports_the_keyed_hash);
    suite_add_tcase(s, tc);

    tc = tcase_create("identity");
    tcase_add_test(tc, user_key_is_keyed_and_stable);
    tcase_add_test(tc, same_id_same_profile);
    suite_add_tcase(s, tc);

    tc = tcase_create("registries");
    tcase_add_test(tc, category_registry);
    tcase_add_test(tc, item_hash_is_xxh3_seed0);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(engine_suite()); }
