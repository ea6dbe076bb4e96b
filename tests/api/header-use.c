/*
 * header-use.c — uses every public type and INIT macro of behavtarget.h so
 * the header is checked on its own as C89 and as C++ (check-header.sh).
 * Compiled only, never linked: the function names must resolve in the
 * declarations, not in a library.  Keep it C89: declarations first, no //.
 */
#include <behavtarget.h>
#include <behavtarget.h> /* include guard works */

int header_use(void);

static int count_user(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    (void)key;
    (void)p;
    (void)ud;
    return 0;
}

int header_use(void)
{
    bvt_error err = BVT_ERROR_INIT;
    bvt_options opts = BVT_OPTIONS_INIT;
    bvt_stats stats = BVT_STATS_INIT;
    bvt_event ev = BVT_EVENT_INIT;
    bvt_profile prof;
    bvt_interest interest;
    bvt_cart_item item;
    bvt_batch_error failure;
    bvt_rfm_summary summary;
    bvt_user_key key;
    bvt_user_fn fn = count_user;
    bvt_engine *engine = NULL;
    int (*track)(bvt_engine *, const bvt_event *, bvt_error *) = bvt_event_track;
    enum bvt_status st = BVT_OK;
    enum bvt_event_type type = BVT_EVENT_PURCHASE;
    enum bvt_full_policy policy = BVT_FULL_EVICT_LRU;
    enum bvt_attr_kind kind = BVT_ATTR_STRING;
    enum bvt_analytics_policy analytics = BVT_ANALYTICS_ANONYMOUS;
    int (*forget)(bvt_engine *, const void *, size_t, bvt_error *) = bvt_user_forget;
    int (*expire)(bvt_engine *, int64_t, uint64_t *) = bvt_engine_expire;
    char version_ok[BVT_VERSION_NUMBER == 10000 * BVT_VERSION_MAJOR +
                    100 * BVT_VERSION_MINOR + BVT_VERSION_PATCH ? 1 : -1];

    bvt_profile_init(&prof);
    interest.category_id = 0;
    item.quantity = 0;
    failure.index = 0;
    summary.T = 0.0;
    key.hi = key.lo = 0;
    version_ok[0] = BVT_VERSION_STRING[0];
    ev.type = (uint32_t)type;
    opts.full_policy = (uint32_t)policy;
    opts.analytics_policy = (uint32_t)analytics;
    opts.retention_ms = 30;
    opts.segments_need_consent = 1;
    (void)engine;
    (void)track;
    (void)fn;
    (void)kind;
    (void)forget;
    (void)expire;
    return (int)st + (int)BVT_ESYNTAX + (int)BVT_EVENT_TYPE_MAX + version_ok[0] +
           (int)ev.type + (int)opts.full_policy + err.code + (int)stats.version +
           (int)interest.category_id + (int)item.quantity + (int)failure.index +
           (int)summary.T + (int)key.hi + (int)BVT_ECONSENT + (int)opts.retention_ms +
           (int)BVT_ANY;
}
