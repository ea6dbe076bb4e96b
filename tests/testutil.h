/* testutil.h — what the Check suites share: times, an engine under the
 * suite's key, building and tracking events, reading profiles and statistics,
 * starting threads and running a suite.  Helpers that fail a check do so
 * in the calling test, like a ck_assert written there. */
#ifndef BVT_TESTUTIL_H
#define BVT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"
#include "jsoncheck.h"

/* Times in milliseconds; the tests count from T0. */
#define MIN 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL
#define T0 (19700LL * DAY) /* a UTC midnight in Dec 2023 */

/* A new engine with these options, which must carry a key; fails the test
 * if it cannot be made. */
bvt_engine *engine_new_ok(bvt_options *o);

/* A suite that makes engines defines TEST_SECRET (a string literal) before
 * including this header.  Each suite keeps its own key: users hash, and so
 * fall into shards and slots, as they did when its tests were written. */
#ifdef TEST_SECRET
static inline void set_test_secret(bvt_options *o)
{
    o->secret = TEST_SECRET;
    o->secret_len = sizeof TEST_SECRET - 1;
}

/* A new engine with these options under the suite's key. */
static inline bvt_engine *engine_with(bvt_options *o)
{
    set_test_secret(o);
    return engine_new_ok(o);
}

static inline bvt_engine *engine_default(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    return engine_with(&o);
}
#endif

/* An event of `user` (a C string) with the fields most tests set. */
bvt_event make_event(const char *user, uint32_t type, int64_t t, const char *category,
                     double value);

/* Track such an event: track_event() returns the status, track_ok() fails
 * the test unless it is BVT_OK. */
int track_event(bvt_engine *e, const char *user, uint32_t type, int64_t t,
                const char *category, double value);
void track_ok(bvt_engine *e, const char *user, uint32_t type, int64_t t,
              const char *category, double value);

/* Read back; both fail the test unless the call succeeds. */
bvt_profile profile_of(bvt_engine *e, const char *user, int64_t now);
bvt_stats stats_of(bvt_engine *e);

/* a and b agree to within `rel` of the larger (and 1e-12 absolute). */
int close_rel(double a, double b, double rel);

/* Start one thread per function, each given `arg`, and wait for them all. */
typedef void *(*thread_fn)(void *);
void run_threads(const thread_fn *fns, size_t n, void *arg);

/* Run every test of the suite; the exit status for main(). */
int run_suite(Suite *s);

#endif
