/* test-consent.c — consent per purpose: built-in and registered purposes,
 * recording and reading choices (not granted by default, late choices
 * ignored), profiles created by a choice, aliasing, memory accounting, and
 * rules that read consent through segments.  Public API only. */
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "consent-test-secret-0123456789"
#include "testutil.h"

static int set(bvt_engine *e, const char *user, uint32_t purpose, int granted, int64_t t)
{
    return bvt_consent_set(e, user, strlen(user), purpose, granted, t);
}

/* The user's answer for purpose; fails the test unless the call succeeds. */
static int granted(bvt_engine *e, const char *user, uint32_t purpose)
{
    int g = -1;
    int rc = bvt_consent_get(e, user, strlen(user), purpose, &g);
    ck_assert_msg(rc == BVT_OK, "consent of %s for %u: %d", user, purpose, rc);
    ck_assert(g == 0 || g == 1);
    return g;
}

static uint32_t purpose_id(bvt_engine *e, const char *name, int create)
{
    uint32_t id = UINT32_MAX;
    int rc = bvt_consent_purpose(e, name, create, &id);
    ck_assert_msg(rc == BVT_OK, "purpose %s: %d", name, rc);
    return id;
}

static uint32_t define_ok(bvt_engine *e, const char *name, const char *rule)
{
    bvt_error err = BVT_ERROR_INIT;
    uint32_t id = 0;
    int rc = bvt_segment_define(e, name, rule, &id, &err);
    ck_assert_msg(rc == BVT_OK, "define %s: %d %s", name, rc, err.message);
    return id;
}

static int in(bvt_engine *e, const char *user, uint32_t segment, int64_t now)
{
    uint32_t ids[64];
    size_t n = 0;
    ck_assert_int_eq(bvt_segments_of(e, user, strlen(user), now, NULL, ids, 64, &n), BVT_OK);
    for (size_t i = 0; i < n && i < 64; i++)
        if (ids[i] == segment)
            return 1;
    return 0;
}

START_TEST(builtin_purposes)
{
    bvt_engine *e = engine_default();
    ck_assert_uint_eq(purpose_id(e, "personalisation", 0), BVT_PURPOSE_PERSONALISATION);
    ck_assert_uint_eq(purpose_id(e, "ads", 0), BVT_PURPOSE_ADS);
    ck_assert_uint_eq(purpose_id(e, "analytics", 0), BVT_PURPOSE_ANALYTICS);
    /* Registering a built-in name gives the built-in id. */
    ck_assert_uint_eq(purpose_id(e, "ads", 1), BVT_PURPOSE_ADS);
    uint32_t id = 77;
    ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 0, &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_consent_purpose(e, "ad", 0, &id), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

START_TEST(register_purposes)
{
    bvt_engine *e = engine_default();
    uint32_t news = purpose_id(e, "newsletter", 1);
    ck_assert_uint_eq(news, 3);
    ck_assert_uint_eq(purpose_id(e, "newsletter", 1), news); /* again: same id */
    ck_assert_uint_eq(purpose_id(e, "newsletter", 0), news);
    ck_assert_uint_eq(purpose_id(e, "profiling_v2", 1), 4);
    /* Purposes are per engine. */
    bvt_engine *other = engine_default();
    uint32_t id;
    ck_assert_int_eq(bvt_consent_purpose(other, "newsletter", 0, &id), BVT_ENOTFOUND);
    bvt_engine_free(other);
    bvt_engine_free(e);
}
END_TEST

START_TEST(purpose_limit)
{
    bvt_engine *e = engine_default();
    char name[32];
    for (uint32_t i = 3; i < BVT_PURPOSES_MAX; i++) {
        snprintf(name, sizeof name, "purpose_%u", i);
        ck_assert_uint_eq(purpose_id(e, name, 1), i);
    }
    uint32_t id = 99;
    ck_assert_int_eq(bvt_consent_purpose(e, "one_too_many", 1, &id), BVT_ELIMIT);
    ck_assert_int_eq(bvt_consent_purpose(e, "one_too_many", 0, &id), BVT_ENOTFOUND);
    /* Known names still resolve, built-in or registered, at the limit. */
    ck_assert_uint_eq(purpose_id(e, "purpose_31", 1), 31);
    ck_assert_uint_eq(purpose_id(e, "analytics", 1), BVT_PURPOSE_ANALYTICS);
    /* The last id works like any other. */
    ck_assert_int_eq(set(e, "u", 31, 1, T0), BVT_OK);
    ck_assert_int_eq(granted(e, "u", 31), 1);
    ck_assert_int_eq(granted(e, "u", 30), 0);
    bvt_engine_free(e);
}
END_TEST

static const char *const bad_names[] = {
    "", "Ads", "ads-email", "ads email", "é", "ads.x",
    "abcdefghijklmnopqrstuvwxyz012345", /* 32 bytes */
};

START_TEST(bad_purpose_names)
{
    bvt_engine *e = engine_default();
    uint32_t id = 55;
    ck_assert_int_eq(bvt_consent_purpose(e, bad_names[_i], 1, &id), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_purpose(e, bad_names[_i], 0, &id), BVT_EINVAL);
    ck_assert_uint_eq(id, 55);
    /* Nothing was registered: the next purpose still gets id 3. */
    ck_assert_uint_eq(purpose_id(e, "abcdefghijklmnopqrstuvwxyz01234", 1), 3); /* 31 bytes */
    bvt_engine_free(e);
}
END_TEST

START_TEST(purpose_arguments)
{
    bvt_engine *e = engine_default();
    uint32_t id;
    ck_assert_int_eq(bvt_consent_purpose(NULL, "ads", 0, &id), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_purpose(e, NULL, 1, &id), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_purpose(e, "ads", 0, NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

START_TEST(set_and_get)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ANALYTICS), 0);
    /* Any non-zero value grants; withdrawing later denies. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ANALYTICS, 7, T0 + 1), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ANALYTICS), 1);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 0, T0 + MIN), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 0);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ANALYTICS), 1);
    /* Choices are per user. */
    track_ok(e, "v", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(granted(e, "v", BVT_PURPOSE_ANALYTICS), 0);
    /* A registered purpose works like a built-in one. */
    uint32_t news = purpose_id(e, "newsletter", 1);
    ck_assert_int_eq(set(e, "v", news, 1, T0), BVT_OK);
    ck_assert_int_eq(granted(e, "v", news), 1);
    ck_assert_int_eq(granted(e, "u", news), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(not_granted_by_default)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0, "books", 20);
    for (uint32_t p = 0; p < 3; p++)
        ck_assert_int_eq(granted(e, "u", p), 0);
    /* An unknown user: not found, and the answer is still "not granted". */
    int g = 1;
    ck_assert_int_eq(bvt_consent_get(e, "nobody", 6, BVT_PURPOSE_ADS, &g), BVT_ENOTFOUND);
    ck_assert_int_eq(g, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(late_choice_ignored)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0 + 10 * MIN), BVT_OK);
    /* A withdrawal made earlier but arriving later changes nothing. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 0, T0 + 5 * MIN), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 1);
    /* The order is per purpose: an early time for another purpose counts. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ANALYTICS), 1);
    /* A newer choice applies. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 0, T0 + 11 * MIN), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 0);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0 + 10 * MIN), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(equal_times_denial_wins)
{
    bvt_engine *e = engine_default();
    /* Either arrival order gives the same answer. */
    ck_assert_int_eq(set(e, "a", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert_int_eq(set(e, "a", BVT_PURPOSE_ADS, 0, T0), BVT_OK);
    ck_assert_int_eq(set(e, "b", BVT_PURPOSE_ADS, 0, T0), BVT_OK);
    ck_assert_int_eq(set(e, "b", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert_int_eq(granted(e, "a", BVT_PURPOSE_ADS), 0);
    ck_assert_int_eq(granted(e, "b", BVT_PURPOSE_ADS), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(choice_creates_profile)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 0);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ANALYTICS, 0, T0), BVT_OK);
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 1);
    bvt_profile p = profile_of(e, "u", T0);
    ck_assert_int_eq(p.first_seen_ms, 0);
    ck_assert_uint_eq(p.events, 0);
    ck_assert_uint_eq(stats_of(e).users, 1);
    /* Events later land on the same profile and keep the choice. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + MIN, NULL, 0);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(profile_of(e, "u", T0 + MIN).first_seen_ms, T0 + MIN);
    bvt_engine_free(e);
}
END_TEST

START_TEST(choice_on_full_table)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 1;
    o.full_policy = BVT_FULL_REJECT;
    bvt_engine *e = engine_with(&o);
    ck_assert_int_eq(set(e, "first", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert_int_eq(set(e, "second", BVT_PURPOSE_ADS, 1, T0), BVT_EFULL);
    ck_assert_int_eq(bvt_user_exists(e, "second", 6), 0);
    ck_assert_int_eq(set(e, "first", BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(choice_arguments)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    int g;
    ck_assert_int_eq(bvt_consent_set(NULL, "u", 1, BVT_PURPOSE_ADS, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_set(e, NULL, 1, BVT_PURPOSE_ADS, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_set(e, "u", 0, BVT_PURPOSE_ADS, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_set(e, "u", 1, BVT_PURPOSE_ADS, 1, 0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_set(e, "u", 1, BVT_PURPOSE_ADS, 1, -5), BVT_EINVAL);
    /* Ids not registered (yet), and ids past the limit. */
    ck_assert_int_eq(bvt_consent_set(e, "u", 1, 3, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_set(e, "u", 1, BVT_PURPOSES_MAX, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_get(e, "u", 1, 3, &g), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_get(e, "u", 1, UINT32_MAX, &g), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_get(e, "u", 1, BVT_PURPOSE_ADS, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_consent_get(NULL, "u", 1, BVT_PURPOSE_ADS, &g), BVT_EINVAL);
    /* Nothing refused created a profile or a choice. */
    ck_assert_int_eq(bvt_user_exists(e, "?", 1), 0);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 0);
    ck_assert_uint_eq(stats_of(e).users, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(alias_keeps_later_choice)
{
    bvt_engine *e = engine_default();
    uint32_t news = purpose_id(e, "newsletter", 1);
    track_ok(e, "anon", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "known", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    /* ads: the anonymous grant is later; analytics: the known denial is later. */
    ck_assert_int_eq(set(e, "known", BVT_PURPOSE_ADS, 0, T0 + 1 * MIN), BVT_OK);
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ADS, 1, T0 + 2 * MIN), BVT_OK);
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ANALYTICS, 1, T0 + 3 * MIN), BVT_OK);
    ck_assert_int_eq(set(e, "known", BVT_PURPOSE_ANALYTICS, 0, T0 + 4 * MIN), BVT_OK);
    /* Chosen on one side only. */
    ck_assert_int_eq(set(e, "anon", news, 1, T0), BVT_OK);
    ck_assert_int_eq(set(e, "known", BVT_PURPOSE_PERSONALISATION, 1, T0), BVT_OK);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_user_alias(e, "anon", 4, "known", 5, &err), BVT_OK);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ANALYTICS), 0);
    ck_assert_int_eq(granted(e, "known", news), 1);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_PERSONALISATION), 1);
    /* The merged times keep ordering later choices, through either id. */
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ADS, 0, T0 + 90 * 1000), BVT_OK); /* late */
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ANALYTICS, 1, T0 + 5 * MIN), BVT_OK);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ANALYTICS), 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(alias_onto_profile_without_choices)
{
    bvt_engine *e = engine_default();
    track_ok(e, "known", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert_int_eq(set(e, "anon", BVT_PURPOSE_ANALYTICS, 0, T0 + MIN), BVT_OK);
    uint64_t before = stats_of(e).bytes_attributes;
    ck_assert_int_eq(bvt_user_alias(e, "anon", 4, "known", 5, NULL), BVT_OK);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ANALYTICS), 0);
    ck_assert_int_eq(set(e, "known", BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK); /* late */
    ck_assert_int_eq(granted(e, "known", BVT_PURPOSE_ANALYTICS), 0);
    /* The choices moved; nothing was lost or counted twice. */
    ck_assert_uint_eq(stats_of(e).bytes_attributes, before);
    bvt_engine_free(e);
}
END_TEST

START_TEST(memory_accounted)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    uint64_t b0 = stats_of(e).bytes_attributes;
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    uint64_t b1 = stats_of(e).bytes_attributes;
    ck_assert_uint_gt(b1, b0);
    /* A new purpose takes room; a new choice for a known purpose does not. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    uint64_t b2 = stats_of(e).bytes_attributes;
    ck_assert_uint_gt(b2, b1);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 0, T0 + MIN), BVT_OK);
    ck_assert_uint_eq(stats_of(e).bytes_attributes, b2);
    /* Bounded: one small entry per purpose at most. */
    for (uint32_t p = 3; p < BVT_PURPOSES_MAX; p++) {
        char name[16];
        snprintf(name, sizeof name, "p%u", p);
        ck_assert_uint_eq(purpose_id(e, name, 1), p);
        ck_assert_int_eq(set(e, "u", p, 1, T0), BVT_OK);
    }
    uint64_t all = stats_of(e).bytes_attributes - b0;
    ck_assert_uint_le(all, BVT_PURPOSES_MAX * 32);
    bvt_stats s = stats_of(e);
    ck_assert_uint_le(s.bytes_attributes, s.bytes_total);
    bvt_engine_free(e);
}
END_TEST

START_TEST(segment_reads_consent)
{
    bvt_engine *e = engine_default();
    uint32_t seg = define_ok(e, "cart_ads", "carted_not_bought(24h) and consent(ads)");
    bvt_event ev = make_event("u", BVT_EVENT_ADD_TO_CART, T0, "electronics/tv", 499);
    ev.item_id = "tv-55";
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ev.user_id = "w";
    ev.user_id_len = 1;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    /* Carted, but no consent given: out. */
    ck_assert(!in(e, "u", seg, T0 + HOUR));
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0 + MIN), BVT_OK);
    ck_assert(in(e, "u", seg, T0 + HOUR));
    /* Consent for another purpose does not count. */
    ck_assert_int_eq(set(e, "w", BVT_PURPOSE_ANALYTICS, 1, T0 + MIN), BVT_OK);
    ck_assert(!in(e, "w", seg, T0 + HOUR));
    uint64_t count = 0;
    ck_assert_int_eq(bvt_segment_members(e, seg, T0 + HOUR, NULL, NULL, NULL, &count), BVT_OK);
    ck_assert_uint_eq(count, 1);
    /* Withdrawn: out at once. */
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 0, T0 + 2 * MIN), BVT_OK);
    ck_assert(!in(e, "u", seg, T0 + HOUR));
    /* Consent alone is not enough either. */
    ck_assert_int_eq(set(e, "c", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert(!in(e, "c", seg, T0 + HOUR));
    /* A string names the purpose too; not() reads the denial. */
    uint32_t no_analytics = define_ok(e, "no_analytics", "not consent(\"analytics\")");
    ck_assert(in(e, "u", no_analytics, T0 + HOUR));
    ck_assert(!in(e, "w", no_analytics, T0 + HOUR));
    bvt_engine_free(e);
}
END_TEST

START_TEST(unknown_purpose_in_rule)
{
    bvt_engine *e = engine_default();
    const char *rule = "carted_not_bought(24h) and consent(newsletter)";
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "news", rule, NULL, &err), BVT_ENOTFOUND);
    ck_assert_int_eq(err.code, BVT_ENOTFOUND);
    ck_assert_int_eq(err.offset, strstr(rule, "newsletter") - rule);
    ck_assert_ptr_nonnull(strstr(err.message, "newsletter"));
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "news", &id), BVT_ENOTFOUND);
    /* Compiling did not register the name. */
    ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 0, &id), BVT_ENOTFOUND);
    /* Registered first, the same rule compiles and reads the new purpose. */
    uint32_t news = purpose_id(e, "newsletter", 1);
    uint32_t seg = define_ok(e, "news", "consent(newsletter)");
    ck_assert_int_eq(set(e, "u", news, 1, T0), BVT_OK);
    ck_assert_int_eq(set(e, "v", BVT_PURPOSE_ADS, 1, T0), BVT_OK);
    ck_assert(in(e, "u", seg, T0 + MIN));
    ck_assert(!in(e, "v", seg, T0 + MIN));
    bvt_engine_free(e);
}
END_TEST

/* Threads registering the same names, in opposite orders, agree on every id. */
#define RACE_NAMES 20
static bvt_engine *race_engine;
static uint32_t race_ids[2][RACE_NAMES];

static void register_all(int row)
{
    char name[16];
    for (int i = 0; i < RACE_NAMES; i++) {
        int k = row ? RACE_NAMES - 1 - i : i;
        snprintf(name, sizeof name, "n%d", k);
        if (bvt_consent_purpose(race_engine, name, 1, &race_ids[row][k]) != BVT_OK)
            race_ids[row][k] = UINT32_MAX;
    }
}

static void *register_forward(void *arg)
{
    (void)arg;
    register_all(0);
    return NULL;
}

static void *register_backward(void *arg)
{
    (void)arg;
    register_all(1);
    return NULL;
}

START_TEST(concurrent_registration)
{
    race_engine = engine_default();
    const thread_fn fns[2] = { register_forward, register_backward };
    run_threads(fns, 2, NULL);
    uint32_t seen = 0;
    for (int k = 0; k < RACE_NAMES; k++) {
        ck_assert_uint_eq(race_ids[0][k], race_ids[1][k]);
        ck_assert_uint_ge(race_ids[0][k], 3);
        ck_assert_uint_lt(race_ids[0][k], 3 + RACE_NAMES);
        ck_assert(!(seen >> race_ids[0][k] & 1u)); /* distinct */
        seen |= 1u << race_ids[0][k];
    }
    bvt_engine_free(race_engine);
}
END_TEST

/* bvt_consent_set_v2 (@since 1.1) fills err on every failure; the 1.0
 * call, now the same code with err NULL, answers as before. */
#define ERR_HAS(err, text) \
    ck_assert_msg(strstr((err).message, (text)) != NULL, "message: %s", (err).message)

START_TEST(choice_v2_explains)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 1;
    bvt_engine *e = engine_with(&o);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_consent_set_v2(NULL, "u", 1, BVT_PURPOSE_ADS, 1, T0, &err), BVT_EINVAL);
    ERR_HAS(err, "engine is NULL");
    ck_assert_int_eq(bvt_consent_set_v2(e, "u", 0, BVT_PURPOSE_ADS, 1, T0, &err), BVT_EINVAL);
    ERR_HAS(err, "user id must be 1..1024 bytes");
    ck_assert_int_eq(bvt_consent_set_v2(e, "u", 1, 7, 1, T0, &err), BVT_EINVAL);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ERR_HAS(err, "purpose 7 is not a purpose id");
    ck_assert_int_eq(bvt_consent_set_v2(e, "u", 1, BVT_PURPOSE_ADS, 1, 0, &err), BVT_EINVAL);
    ERR_HAS(err, "time_ms must be > 0");
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 0);
    /* A refused change: no room for a second profile. */
    ck_assert_int_eq(bvt_consent_set_v2(e, "u", 1, BVT_PURPOSE_ADS, 1, T0, &err), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 1);
    ck_assert_int_eq(bvt_consent_set_v2(e, "v", 1, BVT_PURPOSE_ADS, 1, T0, &err), BVT_EFULL);
    ck_assert_int_eq(err.code, BVT_EFULL);
    ERR_HAS(err, "no room for a new profile");
    ERR_HAS(err, "consent choice");
    ck_assert_int_eq(bvt_user_exists(e, "v", 1), 0);
    ck_assert_int_eq(bvt_consent_set_v2(e, "u", 1, BVT_PURPOSE_ADS, 0, T0, NULL), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 0);
    /* The 1.0 call: the same answers. */
    ck_assert_int_eq(set(e, "v", BVT_PURPOSE_ADS, 1, T0), BVT_EFULL);
    ck_assert_int_eq(bvt_consent_set(e, "u", 1, 7, 1, T0), BVT_EINVAL);
    ck_assert_int_eq(set(e, "u", BVT_PURPOSE_ADS, 1, T0 + 1), BVT_OK);
    ck_assert_int_eq(granted(e, "u", BVT_PURPOSE_ADS), 1);
    bvt_engine_free(e);
}
END_TEST

static Suite *consent_suite(void)
{
    Suite *s = suite_create("consent");
    TCase *tc = tcase_create("consent");
    tcase_add_test(tc, builtin_purposes);
    tcase_add_test(tc, register_purposes);
    tcase_add_test(tc, purpose_limit);
    tcase_add_loop_test(tc, bad_purpose_names, 0,
                        (int)(sizeof bad_names / sizeof bad_names[0]));
    tcase_add_test(tc, purpose_arguments);
    tcase_add_test(tc, set_and_get);
    tcase_add_test(tc, not_granted_by_default);
    tcase_add_test(tc, late_choice_ignored);
    tcase_add_test(tc, equal_times_denial_wins);
    tcase_add_test(tc, choice_creates_profile);
    tcase_add_test(tc, choice_on_full_table);
    tcase_add_test(tc, choice_arguments);
    tcase_add_test(tc, choice_v2_explains);
    tcase_add_test(tc, alias_keeps_later_choice);
    tcase_add_test(tc, alias_onto_profile_without_choices);
    tcase_add_test(tc, memory_accounted);
    tcase_add_test(tc, segment_reads_consent);
    tcase_add_test(tc, unknown_purpose_in_rule);
    tcase_add_test(tc, concurrent_registration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(consent_suite()); }
