/* test-rfm.c — the lifetimes (BTYD) summary of a user's purchases and the
 * population RFM quintile scores, checked against values computed by hand
 * and by an exact quintile computation here.  Public API only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "rfm-test-secret-0123456789"
#include "testutil.h"

#define WEEK (7 * DAY)

static void buy(bvt_engine *e, const char *user, int64_t t, double value)
{
    track_ok(e, user, BVT_EVENT_PURCHASE, t, NULL, value);
}

static int summary(bvt_engine *e, const char *user, int64_t end, int64_t unit,
                   bvt_rfm_summary *out)
{
    memset(out, 0, sizeof *out);
    return bvt_rfm_summary_get(e, user, strlen(user), end, unit, out);
}

static void assert_summary(const bvt_rfm_summary *s, double f, double r, double T, double m,
                           const char *label)
{
    ck_assert_msg(close_rel(s->frequency, f, 1e-9) && close_rel(s->recency, r, 1e-9) &&
                      close_rel(s->T, T, 1e-9) && close_rel(s->monetary_value, m, 1e-9),
                  "%s: got F %g R %g T %g M %g, want F %g R %g T %g M %g", label,
                  s->frequency, s->recency, s->T, s->monetary_value, f, r, T, m);
}

/* ---------------------------------------------------------------- summary */

/* Purchases of user "a" (day 0 is T0): two on day 0 (10 + 5), day 3 (20), two on
 * day 10 (30 + 6). */
struct purchase {
    int64_t t;
    double v;
};
static const struct purchase case_a[] = {
    { T0 + 10 * HOUR, 10 },
    { T0 + 18 * HOUR, 5 },
    { T0 + 3 * DAY + 12 * HOUR, 20 },
    { T0 + 10 * DAY + 9 * HOUR, 30 },
    { T0 + 10 * DAY + 20 * HOUR, 6 },
};
#define NA (sizeof case_a / sizeof case_a[0])

static bvt_engine *engine_case_a(void)
{
    bvt_engine *e = engine_default();
    for (size_t i = 0; i < NA; i++)
        buy(e, "a", case_a[i].t, case_a[i].v);
    /* The same purchases, out of time order, with other events between. */
    static const int order[NA] = { 3, 0, 4, 2, 1 };
    for (size_t i = 0; i < NA; i++) {
        buy(e, "a_late", case_a[order[i]].t, case_a[order[i]].v);
        track_ok(e, "a_late", BVT_EVENT_PAGE_VIEW, case_a[order[i]].t + 1, NULL, 99);
    }
    /* Only the purchases up to day 3. */
    for (size_t i = 0; i < 3; i++)
        buy(e, "a_prefix", case_a[i].t, case_a[i].v);
    return e;
}

struct summary_case {
    const char *label;
    int64_t end, unit;
    double f, r, T, m;
};

static const struct summary_case summaries[] = {
    { "days", T0 + 20 * DAY + 12 * HOUR, DAY, 2, 10, 20, 28 },
    { "end at the day's start", T0 + 20 * DAY, DAY, 2, 10, 20, 28 },
    { "end at the day's last ms", T0 + 21 * DAY - 1, DAY, 2, 10, 20, 28 },
    { "weeks", T0 + 20 * DAY + 12 * HOUR, WEEK, 2, 10.0 / 7, 20.0 / 7, 28 },
    { "hours", T0 + 20 * DAY + 12 * HOUR, HOUR, 2, 240, 480, 28 },
    { "end on the last purchase day", T0 + 10 * DAY + 1, DAY, 2, 10, 10, 28 },
    { "end before the last day", T0 + 5 * DAY + 23 * HOUR, DAY, 1, 3, 5, 20 },
    { "end early on a purchase day", T0 + 3 * DAY + HOUR, DAY, 1, 3, 3, 20 },
    { "end on the first day", T0 + 23 * HOUR, DAY, 0, 0, 0, 0 },
    { "end before the last day, in weeks", T0 + 9 * DAY, WEEK, 1, 3.0 / 7, 9.0 / 7, 20 },
};

START_TEST(summary_by_hand)
{
    const struct summary_case *c = &summaries[_i];
    bvt_engine *e = engine_case_a();
    bvt_rfm_summary s;
    ck_assert_int_eq(summary(e, "a", c->end, c->unit, &s), BVT_OK);
    assert_summary(&s, c->f, c->r, c->T, c->m, c->label);
    /* Arrival order does not matter. */
    ck_assert_int_eq(summary(e, "a_late", c->end, c->unit, &s), BVT_OK);
    assert_summary(&s, c->f, c->r, c->T, c->m, c->label);
    bvt_engine_free(e);
}
END_TEST

/* Ending before some purchases answers as if they had never been sent. */
START_TEST(summary_early_end_matches_prefix)
{
    bvt_engine *e = engine_case_a();
    static const int64_t ends[] = { T0 + 3 * DAY + HOUR, T0 + 5 * DAY, T0 + 9 * DAY + 23 * HOUR };
    static const int64_t units[] = { DAY, WEEK, HOUR };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
            bvt_rfm_summary full, prefix;
            ck_assert_int_eq(summary(e, "a", ends[i], units[u], &full), BVT_OK);
            ck_assert_int_eq(summary(e, "a_prefix", ends[i], units[u], &prefix), BVT_OK);
            assert_summary(&full, prefix.frequency, prefix.recency, prefix.T,
                           prefix.monetary_value, "early end vs prefix");
        }
    bvt_engine_free(e);
}
END_TEST

START_TEST(summary_one_time_buyer)
{
    bvt_engine *e = engine_default();
    buy(e, "one", T0 + 5 * DAY + 9 * HOUR, 12);
    buy(e, "one", T0 + 5 * DAY + 15 * HOUR, 3); /* same day: still one purchase day */
    track_ok(e, "one", BVT_EVENT_PAGE_VIEW, T0 + 8 * DAY, NULL, 0);
    bvt_rfm_summary s;
    ck_assert_int_eq(summary(e, "one", T0 + 12 * DAY + 6 * HOUR, DAY, &s), BVT_OK);
    assert_summary(&s, 0, 0, 7, 0, "one-time buyer");
    ck_assert_int_eq(summary(e, "one", T0 + 12 * DAY, WEEK, &s), BVT_OK);
    assert_summary(&s, 0, 0, 1, 0, "one-time buyer in weeks");
    bvt_engine_free(e);
}
END_TEST

START_TEST(summary_not_found)
{
    bvt_engine *e = engine_case_a();
    track_ok(e, "browser", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "browser", BVT_EVENT_ADD_TO_CART, T0 + 1, NULL, 10);
    bvt_rfm_summary s;
    ck_assert_int_eq(summary(e, "a", T0 - 1, DAY, &s), BVT_ENOTFOUND); /* the day before */
    ck_assert_int_eq(summary(e, "a", T0 - DAY, DAY, &s), BVT_ENOTFOUND);
    ck_assert_int_eq(summary(e, "browser", T0 + DAY, DAY, &s), BVT_ENOTFOUND);
    ck_assert_int_eq(summary(e, "nobody", T0 + DAY, DAY, &s), BVT_ENOTFOUND);
    ck_assert_int_eq(summary(e, "a", T0 + DAY, 0, &s), BVT_EINVAL);
    ck_assert_int_eq(summary(e, "a", T0 + DAY, -DAY, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get(e, "a", 1, T0 + DAY, DAY, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get(NULL, "a", 1, T0 + DAY, DAY, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get(e, NULL, 1, T0 + DAY, DAY, &s), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

/* By key (a state directory holds no raw ids): the same summary as by id,
 * for every case, and an alias's key leads to its profile as the id does. */
START_TEST(summary_by_key)
{
    bvt_engine *e = engine_case_a();
    ck_assert_int_eq(bvt_user_alias(e, "cookie", 6, "a", 1, NULL), BVT_OK);
    for (size_t i = 0; i < sizeof summaries / sizeof summaries[0]; i++) {
        const struct summary_case *c = &summaries[i];
        bvt_rfm_summary by_id, by_key, by_alias;
        bvt_user_key k, alias;
        ck_assert_int_eq(bvt_user_key_of(e, "a", 1, &k), BVT_OK);
        ck_assert_int_eq(bvt_user_key_of(e, "cookie", 6, &alias), BVT_OK);
        ck_assert_int_eq(summary(e, "a", c->end, c->unit, &by_id), BVT_OK);
        ck_assert_int_eq(bvt_rfm_summary_get_key(e, &k, c->end, c->unit, &by_key), BVT_OK);
        ck_assert_int_eq(bvt_rfm_summary_get_key(e, &alias, c->end, c->unit, &by_alias), BVT_OK);
        ck_assert_msg(memcmp(&by_id, &by_key, sizeof by_id) == 0, "%s", c->label);
        ck_assert_msg(memcmp(&by_id, &by_alias, sizeof by_id) == 0, "%s (alias)", c->label);
    }
    bvt_user_key nobody = { 1, 2 }, k;
    bvt_rfm_summary s;
    ck_assert_int_eq(bvt_user_key_of(e, "a", 1, &k), BVT_OK);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, &nobody, T0 + DAY, DAY, &s), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, &k, T0 - DAY, DAY, &s), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, NULL, T0 + DAY, DAY, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get_key(NULL, &k, T0 + DAY, DAY, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, &k, T0 + DAY, 0, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, &k, 0, DAY, &s), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_summary_get_key(e, &k, T0 + DAY, DAY, NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

/* With a tiny history, old purchases leave it: exact at or after the last
 * purchase, BVT_ERANGE before it. */
START_TEST(summary_beyond_history)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.history_events = 1;
    o.history_day_slots = 1;
    bvt_engine *e = engine_with(&o);
    for (int d = 0; d < 4; d++)
        buy(e, "u", T0 + d * DAY + HOUR, 10.0 * (d + 1));
    bvt_rfm_summary s;
    ck_assert_int_eq(summary(e, "u", T0 + 5 * DAY, DAY, &s), BVT_OK);
    assert_summary(&s, 3, 3, 5, 30, "exact from the record");
    ck_assert_int_eq(summary(e, "u", T0 + 3 * DAY + 2 * HOUR, DAY, &s), BVT_OK);
    assert_summary(&s, 3, 3, 3, 30, "end on the last purchase day");
    ck_assert_int_eq(summary(e, "u", T0 + 2 * DAY, DAY, &s), BVT_ERANGE);
    bvt_engine_free(e);
}
END_TEST

/* Money keeps its cents: a large first order does not blur small repeats. */
START_TEST(summary_keeps_cents)
{
    bvt_engine *e = engine_default();
    buy(e, "u", T0 + HOUR, 123456.78);
    buy(e, "u", T0 + HOUR + MIN, 0.01);
    buy(e, "u", T0 + DAY + HOUR, 10.00);
    buy(e, "u", T0 + 2 * DAY + HOUR, 10.02);
    bvt_rfm_summary s;
    ck_assert_int_eq(summary(e, "u", T0 + 3 * DAY, DAY, &s), BVT_OK);
    ck_assert_msg(fabs(s.monetary_value - 10.01) < 1e-6, "monetary_value %.9f, want 10.01",
                  s.monetary_value);
    bvt_profile p = profile_of(e, "u", T0 + 3 * DAY);
    ck_assert_msg(fabs(p.monetary_total - 123476.81) < 1e-6, "monetary_total %.9f",
                  p.monetary_total);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- scores */

#define NBUY 5000
#define NNON 300

/* Distinct values from coprime strides. */
static int perm_m(int i) { return (i * 1237 + 11) % NBUY; }
static int perm_r(int i) { return (i * 3011 + 7) % NBUY; }
static double total_of(int i) { return 1.0 + perm_m(i); }
static int64_t last_of(int i) { return T0 + 30 * DAY + (int64_t)perm_r(i) * MIN; }
static int days_of(int i) { return i % 2 ? 2 : 1; }

static bvt_engine *buyers(void)
{
    bvt_engine *e = engine_default();
    char id[16];
    for (int i = 0; i < NBUY; i++) {
        snprintf(id, sizeof id, "b%04d", i);
        if (days_of(i) == 2)
            buy(e, id, T0 + 10 * DAY + i, 0.0); /* an earlier purchase day, worth 0 */
        buy(e, id, last_of(i), total_of(i));
    }
    for (int i = 0; i < NNON; i++) {
        snprintf(id, sizeof id, "n%d", i);
        track_ok(e, id, BVT_EVENT_PAGE_VIEW, T0 + 20 * DAY + i, NULL, 0);
        track_ok(e, id, BVT_EVENT_ADD_TO_CART, T0 + 20 * DAY + i, NULL, 5);
    }
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank quintile cut points; score = 1 + cut points strictly below. */
static void cuts_of(const double *v, size_t n, double cuts[4])
{
    double *s = malloc(n * sizeof *s);
    ck_assert_ptr_nonnull(s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    for (int k = 1; k <= 4; k++) {
        size_t rank = (size_t)ceil((double)k * (double)n / 5.0); /* 1-based */
        cuts[k - 1] = s[rank - 1];
    }
    free(s);
}

static uint32_t exact_score(const double cuts[4], double v)
{
    uint32_t sc = 1;
    for (int k = 0; k < 4; k++)
        sc += v > cuts[k];
    return sc;
}

struct scores {
    uint32_t r[NBUY], f[NBUY], m[NBUY];
};

static void read_scores(bvt_engine *e, struct scores *sc)
{
    char id[16];
    for (int i = 0; i < NBUY; i++) {
        snprintf(id, sizeof id, "b%04d", i);
        bvt_profile p = profile_of(e, id, T0 + 40 * DAY);
        ck_assert_uint_eq(p.purchase_days, (uint32_t)days_of(i));
        sc->r[i] = p.r_score;
        sc->f[i] = p.f_score;
        sc->m[i] = p.m_score;
    }
}

/* Each score holds ~20% of users and matches the exact quintile, but for a
 * few users right at a cut point (quantile conventions differ by one rank). */
static void assert_quintiles(const uint32_t *got, const double *values, const char *what)
{
    double cuts[4];
    cuts_of(values, NBUY, cuts);
    int per_score[6] = { 0 };
    int mismatches = 0;
    for (int i = 0; i < NBUY; i++) {
        ck_assert_msg(got[i] >= 1 && got[i] <= 5, "%s score %u out of 1..5", what, got[i]);
        per_score[got[i]]++;
        uint32_t want = exact_score(cuts, values[i]);
        if (got[i] != want) {
            mismatches++;
            ck_assert_msg(got[i] + 1 == want || got[i] == want + 1,
                          "%s: user %d value %g scored %u, exact %u", what, i, values[i],
                          got[i], want);
        }
    }
    ck_assert_msg(mismatches <= 8, "%s: %d users off their exact quintile", what, mismatches);
    for (int s = 1; s <= 5; s++)
        ck_assert_msg(abs(per_score[s] - NBUY / 5) <= 4, "%s score %d held by %d users", what,
                      s, per_score[s]);
}

START_TEST(scores_are_zero_before_refresh)
{
    bvt_engine *e = buyers();
    static struct scores sc;
    read_scores(e, &sc);
    for (int i = 0; i < NBUY; i++)
        ck_assert(sc.r[i] == 0 && sc.f[i] == 0 && sc.m[i] == 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(refresh_splits_into_quintiles)
{
    bvt_engine *e = buyers();
    uint64_t nb = 0;
    ck_assert_int_eq(bvt_rfm_refresh(e, T0 + 40 * DAY, &nb), BVT_OK);
    ck_assert_uint_eq(nb, NBUY);

    static struct scores sc;
    static double rv[NBUY], mv[NBUY];
    read_scores(e, &sc);
    for (int i = 0; i < NBUY; i++) {
        rv[i] = (double)last_of(i);
        mv[i] = total_of(i);
    }
    assert_quintiles(sc.r, rv, "R");
    assert_quintiles(sc.m, mv, "M");

    /* F: half the buyers have 1 purchase day, half 2.  Scores rank buyers,
     * so each level still holds a fifth: ties in days are broken by spend
     * (then recency, then the keyed hash), and a buyer with more days never
     * scores below one with fewer. */
    int per_f[6] = { 0 };
    for (int i = 0; i < NBUY; i++) {
        ck_assert(sc.f[i] >= 1 && sc.f[i] <= 5);
        per_f[sc.f[i]]++;
    }
    for (int s = 1; s <= 5; s++)
        ck_assert_msg(abs(per_f[s] - NBUY / 5) <= 1, "F score %d held by %d users", s, per_f[s]);
    for (int i = 0; i < NBUY; i++)
        for (int j = 0; j < NBUY; j += 7) {
            int above = days_of(i) > days_of(j) ||
                        (days_of(i) == days_of(j) && total_of(i) > total_of(j));
            ck_assert_msg(!above || sc.f[i] >= sc.f[j], "F: user %d ranks above %d but "
                          "scored %u < %u", i, j, sc.f[i], sc.f[j]);
        }

    /* Non-buyers are not scored. */
    char id[16];
    for (int i = 0; i < NNON; i++) {
        snprintf(id, sizeof id, "n%d", i);
        bvt_profile p = profile_of(e, id, T0 + 40 * DAY);
        ck_assert(p.r_score == 0 && p.f_score == 0 && p.m_score == 0);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(new_buyers_scored_against_stored_cuts)
{
    bvt_engine *e = buyers();
    ck_assert_int_eq(bvt_rfm_refresh(e, T0 + 40 * DAY, NULL), BVT_OK);
    buy(e, "big", T0 + 35 * DAY, 1e6);             /* most recent, largest */
    buy(e, "small", T0 + 1 * DAY, 0.5);            /* oldest, smallest */
    buy(e, "small", T0 + 1 * DAY + HOUR, 0.25);    /* same day */
    bvt_profile p = profile_of(e, "big", T0 + 40 * DAY);
    ck_assert_uint_eq(p.r_score, 5);
    ck_assert_uint_eq(p.m_score, 5);
    /* one day but the highest spend: above every one-day buyer (the lower
     * two fifths and part of the third), below the two-day ones */
    ck_assert_uint_eq(p.f_score, 3);
    p = profile_of(e, "small", T0 + 40 * DAY);
    ck_assert_uint_eq(p.r_score, 1);
    ck_assert_uint_eq(p.m_score, 1);
    ck_assert_uint_eq(p.f_score, 1);

    uint64_t nb = 0;
    ck_assert_int_eq(bvt_rfm_refresh(e, T0 + 41 * DAY, &nb), BVT_OK);
    ck_assert_uint_eq(nb, NBUY + 2);
    bvt_engine_free(e);
}
END_TEST

START_TEST(refresh_arguments)
{
    bvt_engine *e = engine_default();
    uint64_t nb = 99;
    ck_assert_int_eq(bvt_rfm_refresh(e, T0, &nb), BVT_OK);
    ck_assert_uint_eq(nb, 0);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(bvt_rfm_refresh(e, T0, &nb), BVT_OK);
    ck_assert_uint_eq(nb, 0);
    ck_assert_int_eq(bvt_rfm_refresh(NULL, T0, &nb), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_refresh(e, 0, &nb), BVT_EINVAL);
    ck_assert_int_eq(bvt_rfm_refresh(e, -1, NULL), BVT_EINVAL);

    /* One buyer: every cut point is its own value, so it scores 1. */
    buy(e, "solo", T0 + HOUR, 5);
    ck_assert_int_eq(bvt_rfm_refresh(e, T0 + DAY, &nb), BVT_OK);
    ck_assert_uint_eq(nb, 1);
    bvt_profile p = profile_of(e, "solo", T0 + DAY);
    ck_assert_uint_eq(p.r_score, 1);
    ck_assert_uint_eq(p.f_score, 1);
    ck_assert_uint_eq(p.m_score, 1);
    bvt_engine_free(e);
}
END_TEST

static Suite *rfm_suite(void)
{
    Suite *s = suite_create("rfm");
    TCase *tc = tcase_create("summary");
    tcase_add_loop_test(tc, summary_by_hand, 0, (int)(sizeof summaries / sizeof summaries[0]));
    tcase_add_test(tc, summary_early_end_matches_prefix);
    tcase_add_test(tc, summary_one_time_buyer);
    tcase_add_test(tc, summary_not_found);
    tcase_add_test(tc, summary_by_key);
    tcase_add_test(tc, summary_beyond_history);
    tcase_add_test(tc, summary_keeps_cents);
    suite_add_tcase(s, tc);

    tc = tcase_create("scores");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, scores_are_zero_before_refresh);
    tcase_add_test(tc, refresh_splits_into_quintiles);
    tcase_add_test(tc, new_buyers_scored_against_stored_cuts);
    tcase_add_test(tc, refresh_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(rfm_suite()); }
