/* test-experiment-track.c — experiment outcomes through the public
 * tracking path: bvt_event_track of impressions, clicks, conversions and
 * purchases must reach the experiment counters of the users' variants.
 * Public API only. */
#include <string.h>

#define TEST_SECRET "experiment-track-secret-0123456789"
#include "testutil.h"

static bvt_experiment_report report(bvt_engine *e, uint32_t id)
{
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &r), BVT_OK);
    return r;
}

START_TEST(tracked_outcomes_counted)
{
    bvt_engine *e = engine_default();
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "b", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "tracked";
    x.variants = v;
    x.n_variants = 2;
    uint32_t id;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &id, NULL), BVT_OK);
    int32_t var;
    ck_assert_int_eq(bvt_experiment_assign(e, id, "ann", 3, T0 + HOUR, &var), BVT_OK);
    /* Before the exposure: not an outcome. */
    track_ok(e, "ann", BVT_EVENT_IMPRESSION, T0, NULL, 0);
    track_ok(e, "ann", BVT_EVENT_IMPRESSION, T0 + 2 * HOUR, NULL, 0);
    track_ok(e, "ann", BVT_EVENT_IMPRESSION, T0 + 3 * HOUR, NULL, 0);
    track_ok(e, "ann", BVT_EVENT_CLICK, T0 + 3 * HOUR, NULL, 0);
    track_ok(e, "ann", BVT_EVENT_CONVERSION, T0 + 4 * HOUR, NULL, 0);
    track_ok(e, "ann", BVT_EVENT_PURCHASE, T0 + 5 * HOUR, NULL, 42.5);
    track_ok(e, "ann", BVT_EVENT_PAGE_VIEW, T0 + 5 * HOUR, NULL, 0);
    bvt_experiment_report r = report(e, id);
    const bvt_variant_report *a = &r.variants[var];
    ck_assert_uint_eq(a->users, 1);
    ck_assert_uint_eq(a->impressions, 2);
    ck_assert_uint_eq(a->clicks, 1);
    ck_assert_uint_eq(a->conversions, 1);
    ck_assert_uint_eq(a->converters, 1);
    ck_assert(close_rel(a->revenue, 42.5, 1e-12));
    const bvt_variant_report *o = &r.variants[1 - var];
    ck_assert_uint_eq(o->users + o->impressions + o->clicks, 0);
    bvt_engine_free(e);
}
END_TEST

static Suite *experiment_track_suite(void)
{
    Suite *s = suite_create("experiment-track");
    TCase *tc = tcase_create("track");
    tcase_add_test(tc, tracked_outcomes_counted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(experiment_track_suite()); }
