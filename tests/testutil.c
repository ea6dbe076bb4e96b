/* testutil.c — helpers shared by the Check suites (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

bvt_engine *engine_new_ok(bvt_options *o)
{
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&e, o, &err);
    ck_assert_msg(rc == BVT_OK, "bvt_engine_new: %d %s", rc, err.message);
    ck_assert_ptr_nonnull(e);
    return e;
}

bvt_event make_event(const char *user, uint32_t type, int64_t t, const char *category,
                     double value)
{
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = type;
    ev.user_id = user;
    ev.user_id_len = strlen(user);
    ev.time_ms = t;
    ev.category = category;
    ev.value = value;
    return ev;
}

int track_event(bvt_engine *e, const char *user, uint32_t type, int64_t t,
                const char *category, double value)
{
    bvt_event ev = make_event(user, type, t, category, value);
    return bvt_event_track(e, &ev, NULL);
}

void track_ok(bvt_engine *e, const char *user, uint32_t type, int64_t t,
              const char *category, double value)
{
    bvt_event ev = make_event(user, type, t, category, value);
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &ev, &err);
    ck_assert_msg(rc == BVT_OK, "track %s type %u: %d %s", user, type, rc, err.message);
}

bvt_profile profile_of(bvt_engine *e, const char *user, int64_t now)
{
    bvt_profile p;
    bvt_profile_init(&p);
    int rc = bvt_profile_get(e, user, strlen(user), now, &p);
    ck_assert_msg(rc == BVT_OK, "profile of %s: %d", user, rc);
    return p;
}

bvt_stats stats_of(bvt_engine *e)
{
    bvt_stats s = BVT_STATS_INIT;
    ck_assert_int_eq(bvt_engine_stats(e, &s), BVT_OK);
    return s;
}

int close_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

void run_threads(const thread_fn *fns, size_t n, void *arg)
{
    pthread_t *t = calloc(n, sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fns[i], arg), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
