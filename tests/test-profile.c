/* test-profile.c — the features a caller reads back with bvt_profile_get():
 * the RFM record, counts per type, engagement, sessions, dwell time, and
 * identity resolution (aliases).  Public API only. */
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "profile-test-secret-0123456789"
#include "testutil.h"

static void track_n(bvt_engine *e, const char *user, uint32_t type, int n, int64_t t)
{
    for (int i = 0; i < n; i++)
        track_ok(e, user, type, t + i, NULL, 0);
}

/* ---------------------------------------------------------------- RFM record */

START_TEST(rfm_record_counts_days_and_money)
{
    bvt_engine *e = engine_default();
    const int64_t D = T0 + 10 * DAY;
    track_ok(e, "u", BVT_EVENT_PURCHASE, D + 10 * HOUR, NULL, 10);
    track_ok(e, "u", BVT_EVENT_PURCHASE, D + 15 * HOUR, NULL, 20);
    /* value is the order total: quantity does not multiply it */
    bvt_event ev = make_event("u", BVT_EVENT_PURCHASE, D + 2 * DAY + 9 * HOUR, NULL, 5);
    ev.quantity = 3;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, D + 3 * DAY, NULL, 0);
    /* late: a page view before everything, and a purchase on a day already seen */
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, D - DAY, NULL, 0);
    track_ok(e, "u", BVT_EVENT_PURCHASE, D + 8 * HOUR, NULL, 1);

    const int64_t now = D + 5 * DAY;
    bvt_profile p = profile_of(e, "u", now);
    ck_assert_uint_eq(p.purchases, 4);
    ck_assert_uint_eq(p.purchase_days, 2);
    ck_assert(close_rel(p.monetary_total, 36.0, 1e-12));
    ck_assert(close_rel(p.monetary_mean, 9.0, 1e-12));
    ck_assert_int_eq(p.first_seen_ms, D - DAY);
    ck_assert_int_eq(p.last_seen_ms, D + 3 * DAY);
    ck_assert_int_eq(p.recency_ms, 2 * DAY);
    ck_assert_int_eq(p.last_purchase_ms, D + 2 * DAY + 9 * HOUR);
    ck_assert_int_eq(p.purchase_recency_ms, 2 * DAY + 15 * HOUR);
    ck_assert_uint_eq(p.type_counts[BVT_EVENT_PURCHASE], 4);
    ck_assert_uint_eq(p.type_counts[BVT_EVENT_PAGE_VIEW], 2);
    ck_assert_uint_eq(p.events, 6);
    ck_assert_uint_eq(p.r_score, 0); /* no refresh yet */
    ck_assert_uint_eq(p.f_score, 0);
    ck_assert_uint_eq(p.m_score, 0);

    /* A late purchase on a new, earlier day is a new day and the new first event. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, D - 2 * DAY, NULL, 4);
    p = profile_of(e, "u", now);
    ck_assert_uint_eq(p.purchases, 5);
    ck_assert_uint_eq(p.purchase_days, 3);
    ck_assert(close_rel(p.monetary_total, 40.0, 1e-12));
    ck_assert(close_rel(p.monetary_mean, 8.0, 1e-12));
    ck_assert_int_eq(p.first_seen_ms, D - 2 * DAY);
    ck_assert_int_eq(p.last_purchase_ms, D + 2 * DAY + 9 * HOUR);
    bvt_engine_free(e);
}
END_TEST

START_TEST(rfm_record_utc_day_boundaries)
{
    bvt_engine *e = engine_default();
    /* 23:59:59.999 and 00:00:00.000 are different UTC days. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + DAY - 1, NULL, 1);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + DAY, NULL, 1);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + 2 * DAY - 1, NULL, 1);
    bvt_profile p = profile_of(e, "u", T0 + 3 * DAY);
    ck_assert_uint_eq(p.purchases, 3);
    ck_assert_uint_eq(p.purchase_days, 2);
    bvt_engine_free(e);
}
END_TEST

START_TEST(rfm_record_without_purchases)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + HOUR, NULL, 0);
    track_ok(e, "u", BVT_EVENT_ADD_TO_CART, T0 + 2 * HOUR, NULL, 30);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_uint_eq(p.purchases, 0);
    ck_assert_uint_eq(p.purchase_days, 0);
    ck_assert_int_eq(p.last_purchase_ms, 0);
    ck_assert_int_eq(p.purchase_recency_ms, -1);
    ck_assert(p.monetary_total == 0.0);
    ck_assert(p.monetary_mean == 0.0);
    ck_assert_int_eq(p.first_seen_ms, T0 + HOUR);
    ck_assert_int_eq(p.recency_ms, DAY - 2 * HOUR);
    bvt_engine_free(e);
}
END_TEST

START_TEST(durations_clamp_at_zero)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + DAY, NULL, 3);
    bvt_profile p = profile_of(e, "u", T0 + HOUR); /* before the event */
    ck_assert_int_eq(p.recency_ms, 0);
    ck_assert_int_eq(p.purchase_recency_ms, 0);
    ck_assert_int_eq(p.last_seen_ms, T0 + DAY);
    bvt_engine_free(e);
}
END_TEST

START_TEST(type_counts_per_builtin_type)
{
    bvt_engine *e = engine_default();
    uint64_t total = 0;
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++) {
        track_n(e, "u", t, (int)t + 1, T0 + (int64_t)t * HOUR);
        total += t + 1;
    }
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        ck_assert_msg(p.type_counts[t] == t + 1, "type %u counted %u", t, p.type_counts[t]);
    ck_assert_uint_eq(p.events, total);
    ck_assert_uint_eq(p.purchases, p.type_counts[BVT_EVENT_PURCHASE]);
    ck_assert_uint_eq(p.impressions, p.type_counts[BVT_EVENT_IMPRESSION]);
    ck_assert_uint_eq(p.clicks, p.type_counts[BVT_EVENT_CLICK]);
    ck_assert_uint_eq(p.conversions, p.type_counts[BVT_EVENT_CONVERSION]);
    ck_assert_uint_eq(p.interactions, p.type_counts[BVT_EVENT_LIKE] +
                                          p.type_counts[BVT_EVENT_SHARE] +
                                          p.type_counts[BVT_EVENT_COMMENT]);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- engagement */

struct engagement_case {
    int impressions, clicks, conversions, likes, shares, comments;
    double ctr, conversion_rate;
};

static const struct engagement_case engagement[] = {
    { 10, 3, 1, 2, 1, 4, 0.3, 1.0 / 3.0 },
    { 0, 4, 2, 0, 0, 0, 0.0, 0.5 },  /* clicks without impressions */
    { 5, 0, 2, 0, 0, 1, 0.0, 0.0 },  /* conversions without clicks */
    { 0, 0, 0, 3, 0, 0, 0.0, 0.0 },
    { 8, 8, 8, 0, 5, 0, 1.0, 1.0 },
};

START_TEST(engagement_rates)
{
    const struct engagement_case *c = &engagement[_i];
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0); /* so the user exists */
    track_n(e, "u", BVT_EVENT_IMPRESSION, c->impressions, T0 + 1 * HOUR);
    track_n(e, "u", BVT_EVENT_CLICK, c->clicks, T0 + 2 * HOUR);
    track_n(e, "u", BVT_EVENT_CONVERSION, c->conversions, T0 + 3 * HOUR);
    track_n(e, "u", BVT_EVENT_LIKE, c->likes, T0 + 4 * HOUR);
    track_n(e, "u", BVT_EVENT_SHARE, c->shares, T0 + 5 * HOUR);
    track_n(e, "u", BVT_EVENT_COMMENT, c->comments, T0 + 6 * HOUR);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_uint_eq(p.impressions, c->impressions);
    ck_assert_uint_eq(p.clicks, c->clicks);
    ck_assert_uint_eq(p.conversions, c->conversions);
    ck_assert_uint_eq(p.interactions, c->likes + c->shares + c->comments);
    ck_assert_msg(close_rel(p.ctr, c->ctr, 1e-12), "ctr %g want %g", p.ctr, c->ctr);
    ck_assert_msg(close_rel(p.conversion_rate, c->conversion_rate, 1e-12),
                  "conversion rate %g want %g", p.conversion_rate, c->conversion_rate);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- sessions */

struct session_case {
    const char *label;
    int64_t gap; /* option; 0 = default 30 min */
    int n;
    int64_t t[8]; /* offsets from T0, in tracking order */
    uint32_t sessions;
};

static const struct session_case session_cases[] = {
    { "one event", 0, 1, { 0 }, 1 },
    { "exactly the gap apart", 0, 2, { 0, 30 * MIN }, 1 },
    { "one ms more than the gap", 0, 2, { 0, 30 * MIN + 1 }, 2 },
    { "chain of short gaps", 0, 5, { 0, 25 * MIN, 50 * MIN, 75 * MIN, 100 * MIN }, 1 },
    { "three visits", 0, 3, { 0, 2 * HOUR, 4 * HOUR }, 3 },
    { "late event before", 0, 2, { 2 * HOUR, 0 }, 1 },
    { "late event between", 0, 3, { 0, 2 * HOUR, 1 * HOUR }, 2 },
    { "late event then a new visit", 0, 3, { 2 * HOUR, 0, 5 * HOUR }, 2 },
    { "same millisecond", 0, 3, { 0, 0, 0 }, 1 },
    { "gap option", 1000, 4, { 0, 1000, 2001, 3002 }, 3 },
    { "long gap option", 2 * HOUR, 3, { 0, 90 * MIN, 4 * HOUR }, 2 },
};

START_TEST(sessions_by_gap)
{
    const struct session_case *c = &session_cases[_i];
    bvt_options o = BVT_OPTIONS_INIT;
    o.session_gap_ms = c->gap;
    bvt_engine *e = engine_with(&o);
    for (int i = 0; i < c->n; i++)
        track_ok(e, "u", i % 2 ? BVT_EVENT_CLICK : BVT_EVENT_PAGE_VIEW, T0 + c->t[i], NULL, 0);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_msg(p.sessions == c->sessions, "%s: %u sessions, want %u", c->label, p.sessions,
                  c->sessions);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- dwell */

START_TEST(dwell_kept_to_100ms)
{
    bvt_engine *e = engine_default();
    static const int64_t dwell[] = { 1234, 5678, 49, 51 }; /* 1200 + 5700 + 0 + 100 */
    for (int i = 0; i < 4; i++) {
        bvt_event ev = make_event("u", BVT_EVENT_PAGE_VIEW, T0 + i * MIN, NULL, 0);
        ev.dwell_ms = dwell[i];
        ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    }
    track_ok(e, "u", BVT_EVENT_CLICK, T0 + 10 * MIN, NULL, 0);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_int_eq(p.dwell_ms, 7000);
    ck_assert(close_rel(p.mean_dwell_ms, 1750.0, 1e-12));

    /* A full day of dwell is kept whole. */
    bvt_event ev = make_event("v", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ev.dwell_ms = 86400000;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ev.dwell_ms = 0;
    ev.time_ms = T0 + HOUR;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    p = profile_of(e, "v", T0 + DAY);
    ck_assert_int_eq(p.dwell_ms, 86400000);
    ck_assert(close_rel(p.mean_dwell_ms, 43200000.0, 1e-12));

    /* No page views: mean 0. */
    track_ok(e, "w", BVT_EVENT_CLICK, T0, NULL, 0);
    p = profile_of(e, "w", T0 + DAY);
    ck_assert_int_eq(p.dwell_ms, 0);
    ck_assert(p.mean_dwell_ms == 0.0);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- reading */

START_TEST(profile_get_arguments)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "nobody", 6, T0, &p), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_profile_get(NULL, "u", 1, T0, &p), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_get(e, NULL, 1, T0, &p), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_get(e, "u", 0, T0, &p), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, 0, &p), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0, NULL), BVT_EINVAL);
    p.version = BVT_PROFILE_VERSION + 1;
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0, &p), BVT_EVERSION);
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 1);
    ck_assert_int_eq(bvt_user_exists(e, "nobody", 6), 0);
    ck_assert_int_eq(bvt_user_exists(NULL, "u", 1), 0);
    ck_assert_int_eq(bvt_user_exists(e, NULL, 1), 0);
    ck_assert_int_eq(bvt_user_exists(e, "u", 0), 0);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- aliases */

static int alias(bvt_engine *e, const char *anon, const char *known)
{
    return bvt_user_alias(e, anon, strlen(anon), known, strlen(known), NULL);
}

static double score_of(bvt_engine *e, const char *user, const char *cat, int64_t now)
{
    bvt_interest in[16];
    size_t n = 0;
    ck_assert_int_eq(bvt_profile_interests(e, user, strlen(user), now, in, 16, &n), BVT_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].category, cat) == 0)
            return in[i].score;
    return 0.0;
}

/* Track an event that names an item. */
static void track_item(bvt_engine *e, const char *user, uint32_t type, int64_t t,
                       double value, const char *item)
{
    bvt_event ev = make_event(user, type, t, NULL, value);
    ev.item_id = item;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
}

START_TEST(alias_merges_anonymous_into_known)
{
    bvt_engine *e = engine_default();
    const char *anon = "cookie-1", *known = "alice";
    for (int i = 1; i <= 3; i++)
        track_ok(e, anon, BVT_EVENT_PAGE_VIEW, T0 + i * HOUR, "sports/running", 0);
    /* Purchases name an item so that neither is a whole-cart checkout. */
    track_item(e, anon, BVT_EVENT_PURCHASE, T0 + 3 * HOUR + MIN, 50, "order-a");
    track_item(e, anon, BVT_EVENT_ADD_TO_CART, T0 + 3 * HOUR + 2 * MIN, 80, "shoe");
    ck_assert_int_eq(bvt_attr_set_string(e, anon, strlen(anon), "age_band", "25-34"), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string(e, anon, strlen(anon), "plan", "free"), BVT_OK);

    const int64_t K = T0 + DAY;
    track_ok(e, known, BVT_EVENT_PAGE_VIEW, K + 5 * HOUR, "books", 0);
    track_ok(e, known, BVT_EVENT_PAGE_VIEW, K + 6 * HOUR, "books", 0);
    track_item(e, known, BVT_EVENT_PURCHASE, K + 6 * HOUR + MIN, 20, "order-k");
    track_item(e, known, BVT_EVENT_ADD_TO_CART, K + 6 * HOUR + 2 * MIN, 15, "novel");
    ck_assert_int_eq(bvt_attr_set_string(e, known, strlen(known), "plan", "pro"), BVT_OK);

    const int64_t now = T0 + 3 * DAY;
    double running = score_of(e, anon, "sports/running", now);
    double sports = score_of(e, anon, "sports", now);
    double books = score_of(e, known, "books", now);
    ck_assert(running > 0 && sports > 0 && books > 0);
    ck_assert_uint_eq(stats_of(e).users, 2);

    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_user_alias(e, anon, strlen(anon), known, strlen(known), &err), BVT_OK);
    ck_assert_uint_eq(stats_of(e).users, 1);

    bvt_profile p = profile_of(e, known, now);
    ck_assert_uint_eq(p.events, 9);
    ck_assert_uint_eq(p.type_counts[BVT_EVENT_PAGE_VIEW], 5);
    ck_assert_uint_eq(p.purchases, 2);
    ck_assert_uint_eq(p.purchase_days, 2);
    ck_assert(close_rel(p.monetary_total, 70, 1e-12));
    ck_assert_int_eq(p.first_seen_ms, T0 + HOUR);
    ck_assert_int_eq(p.last_seen_ms, K + 6 * HOUR + 2 * MIN);
    ck_assert_int_eq(p.last_purchase_ms, K + 6 * HOUR + MIN);
    ck_assert_uint_eq(p.cart_items, 2);
    ck_assert(close_rel(p.cart_value, 95, 1e-12));
    ck_assert_msg(close_rel(score_of(e, known, "sports/running", now), running, 1e-4),
                  "merged running %g want %g", score_of(e, known, "sports/running", now),
                  running);
    ck_assert(close_rel(score_of(e, known, "sports", now), sports, 1e-4));
    ck_assert(close_rel(score_of(e, known, "books", now), books, 1e-4));
    uint64_t n = 0;
    ck_assert_int_eq(bvt_history_count(e, known, strlen(known), BVT_EVENT_PAGE_VIEW, NULL,
                                       7 * DAY, now, &n, NULL), BVT_OK);
    ck_assert_uint_eq(n, 5);

    /* Attributes: the known profile wins; the anonymous one's others survive. */
    const char *s = NULL;
    ck_assert_int_eq(bvt_attr_get(e, known, strlen(known), "plan", NULL, NULL, &s), BVT_OK);
    ck_assert_str_eq(s, "pro");
    ck_assert_int_eq(bvt_attr_get(e, known, strlen(known), "age_band", NULL, NULL, &s), BVT_OK);
    ck_assert_str_eq(s, "25-34");

    /* The anonymous id now reads and writes the known profile. */
    ck_assert_int_eq(bvt_user_exists(e, anon, strlen(anon)), 1);
    p = profile_of(e, anon, now);
    ck_assert_uint_eq(p.events, 9);
    track_ok(e, anon, BVT_EVENT_CLICK, K + 7 * HOUR, NULL, 0);
    p = profile_of(e, known, now);
    ck_assert_uint_eq(p.events, 10);
    ck_assert_uint_eq(p.clicks, 1);
    ck_assert_uint_eq(stats_of(e).users, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(alias_rules)
{
    bvt_engine *e = engine_default();
    track_ok(e, "bob", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "c2", BVT_EVENT_PURCHASE, T0 + HOUR, NULL, 7);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_user_alias(e, "bob", 3, "bob", 3, &err), BVT_EINVAL);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ck_assert_int_eq(bvt_user_alias(e, NULL, 3, "bob", 3, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_alias(e, "x", 1, NULL, 3, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_alias(e, "x", 0, "bob", 3, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_alias(NULL, "x", 1, "bob", 3, NULL), BVT_EINVAL);

    /* Anonymous id without a profile: only the alias is recorded. */
    ck_assert_int_eq(alias(e, "ghost", "bob"), BVT_OK);
    ck_assert_uint_eq(stats_of(e).users, 2);
    track_ok(e, "ghost", BVT_EVENT_PAGE_VIEW, T0 + 2 * HOUR, NULL, 0);
    ck_assert_uint_eq(profile_of(e, "bob", T0 + DAY).events, 2);
    ck_assert_uint_eq(stats_of(e).users, 2);

    /* Known id without a profile: the anonymous profile moves. */
    ck_assert_int_eq(alias(e, "c2", "carol"), BVT_OK);
    ck_assert_uint_eq(stats_of(e).users, 2);
    bvt_profile p = profile_of(e, "carol", T0 + DAY);
    ck_assert_uint_eq(p.purchases, 1);
    ck_assert(close_rel(p.monetary_total, 7, 1e-12));
    ck_assert_int_eq(p.first_seen_ms, T0 + HOUR);

    /* An alias cannot be a target, and an alias cannot be re-pointed. */
    ck_assert_int_eq(alias(e, "someone", "ghost"), BVT_EEXIST);
    ck_assert_int_eq(alias(e, "ghost", "carol"), BVT_EEXIST);
    ck_assert_uint_eq(profile_of(e, "bob", T0 + DAY).events, 2);
    bvt_engine_free(e);
}
END_TEST

/* An id aliased to an anonymous id follows it when that one is merged. */
START_TEST(alias_chain_follows_through)
{
    bvt_engine *e = engine_default();
    track_ok(e, "anon", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "known", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0);
    ck_assert_int_eq(alias(e, "device", "anon"), BVT_OK);
    ck_assert_int_eq(alias(e, "anon", "known"), BVT_OK);
    track_ok(e, "device", BVT_EVENT_CLICK, T0 + 2, NULL, 0);
    ck_assert_uint_eq(stats_of(e).users, 1);
    bvt_profile p = profile_of(e, "known", T0 + DAY);
    ck_assert_uint_eq(p.events, 3);
    ck_assert_uint_eq(p.clicks, 1);
    ck_assert_uint_eq(profile_of(e, "device", T0 + DAY).events, 3);
    /* Closing the loop would make a cycle. */
    ck_assert_int_eq(alias(e, "known", "device"), BVT_EEXIST);
    bvt_engine_free(e);
}
END_TEST

START_TEST(alias_table_bounded)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 8; /* aliases: 1/4 of that */
    bvt_engine *e = engine_with(&o);
    track_ok(e, "k", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(alias(e, "a1", "k"), BVT_OK);
    ck_assert_int_eq(alias(e, "a2", "k"), BVT_OK);
    ck_assert_int_eq(alias(e, "a3", "k"), BVT_ELIMIT);
    track_ok(e, "a2", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0);
    ck_assert_uint_eq(profile_of(e, "k", T0 + DAY).events, 2);
    bvt_engine_free(e);
}
END_TEST

/* A login on a full table (reject policy) still resolves the identity: the
 * anonymous profile moves to the known id instead of needing a new slot. */
START_TEST(alias_works_on_a_full_table)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.max_users = 8;
    o.full_policy = BVT_FULL_REJECT;
    bvt_engine *e = engine_with(&o);
    char id[8];
    for (int i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "u%d", i);
        track_ok(e, id, BVT_EVENT_PAGE_VIEW, T0 + i, NULL, 0);
    }
    track_ok(e, "cookie", BVT_EVENT_PAGE_VIEW, T0 + 10, NULL, 0);
    ck_assert_int_eq(alias(e, "cookie", "login"), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "login", T0 + DAY).events, 1);
    ck_assert_uint_eq(profile_of(e, "cookie", T0 + DAY).events, 1); /* the alias leads there */
    bvt_stats st = BVT_STATS_INIT;
    ck_assert_int_eq(bvt_engine_stats(e, &st), BVT_OK);
    ck_assert_uint_eq(st.users, 8);
    bvt_engine_free(e);
}
END_TEST

static Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("rfm");
    tcase_add_test(tc, rfm_record_counts_days_and_money);
    tcase_add_test(tc, rfm_record_utc_day_boundaries);
    tcase_add_test(tc, rfm_record_without_purchases);
    tcase_add_test(tc, durations_clamp_at_zero);
    tcase_add_test(tc, type_counts_per_builtin_type);
    suite_add_tcase(s, tc);

    tc = tcase_create("engagement");
    tcase_add_loop_test(tc, engagement_rates, 0,
                        (int)(sizeof engagement / sizeof engagement[0]));
    tcase_add_loop_test(tc, sessions_by_gap, 0,
                        (int)(sizeof session_cases / sizeof session_cases[0]));
    tcase_add_test(tc, dwell_kept_to_100ms);
    tcase_add_test(tc, profile_get_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("alias");
    tcase_add_test(tc, alias_merges_anonymous_into_known);
    tcase_add_test(tc, alias_rules);
    tcase_add_test(tc, alias_chain_follows_through);
    tcase_add_test(tc, alias_table_bounded);
    tcase_add_test(tc, alias_works_on_a_full_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(profile_suite()); }
