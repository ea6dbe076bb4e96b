/* decide.c — POST /decide: rank offers for a user and say what the user's
 * consent lets out about them: the profile's counts and the segments as
 * OpenRTB user.data (consent.c decides which). */
#include "ds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An integer member within [lo, hi]: 1 found, 0 absent, -1 bad. */
static int int_member(const jb_object *o, const char *key, long long lo, long long hi,
                      long long *out)
{
    const jb_member *m = jb_get(o, key);
    if (!m || m->kind == JB_NULL)
        return 0;
    if (m->kind != JB_NUMBER)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(m->text, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 1;
}

/* The profile counts the page shows (and the tests check). */
static void profile_json(bvt_engine *engine, const char *uid, int64_t now, jo_buf *out)
{
    bvt_profile p = { .version = BVT_PROFILE_VERSION };
    if (bvt_profile_get(engine, uid, strlen(uid), now, &p) != BVT_OK) {
        JO_LIT(out, "null");
        return;
    }
    jo_printf(out, "{\"events\":%llu,\"page_views\":%u,\"add_to_cart\":%u,\"cart_items\":%u}",
              (unsigned long long)p.events, p.type_counts[BVT_EVENT_PAGE_VIEW],
              p.type_counts[BVT_EVENT_ADD_TO_CART], p.cart_items);
}

static void openrtb_json(bvt_engine *engine, const char *uid, int64_t now, jo_buf *out)
{
    char small[1024];
    size_t len = 0;
    int rc = bvt_segments_openrtb(engine, uid, strlen(uid), now, NULL, DS_PROVIDER, NULL, 0,
                                  small, sizeof small, &len);
    if (rc == BVT_OK) {
        jo_raw(out, small, len);
        return;
    }
    if (rc == BVT_ERANGE) {
        char *big = malloc(len + 1);
        size_t len2 = 0;
        if (big && bvt_segments_openrtb(engine, uid, strlen(uid), now, NULL, DS_PROVIDER, NULL,
                                        0, big, len + 1, &len2) == BVT_OK) {
            jo_raw(out, big, len2);
            free(big);
            return;
        }
        free(big);
    }
    JO_LIT(out, "[]"); /* an unknown user has no segments */
}

/* The request's fields: 0, or -1 with the reply. */
static int read_fields(const jb_object *o, int64_t *now, long long *k, bvt_context *ctx,
                       ds_reply *rep)
{
    const jb_member *m = jb_get(o, "now");
    if (m && m->kind != JB_NULL) {
        char why[300];
        if (m->kind != JB_NUMBER && m->kind != JB_STRING) {
            ds_reply_error(rep, 400, "now: a time, ISO 8601 text or epoch milliseconds");
            return -1;
        }
        if (ds_time_read(m->text, strlen(m->text), now, why, sizeof why) != 0) {
            ds_reply_error(rep, 400, "now: %s", why);
            return -1;
        }
    }
    if (int_member(o, "k", 1, DS_MAX_K, k) < 0) {
        ds_reply_error(rep, 400, "k: an integer 1..%d", DS_MAX_K);
        return -1;
    }
    const jb_member *page = jb_get(o, "page");
    if (page && page->kind != JB_STRING && page->kind != JB_NULL) {
        ds_reply_error(rep, 400, "page: must be a category path string");
        return -1;
    }
    ctx->page_category = page && page->kind == JB_STRING ? page->text : NULL;
    return 0;
}

/* Rank and write the reply: every part about the user through the consent
 * gate. */
static void decide(const ds_request *req, const char *uid, int64_t now, size_t k,
                  const bvt_context *ctx, int64_t start_ns, ds_reply *rep)
{
    bvt_engine *engine = req->srv->engine;
    bvt_ranked_offer slots[DS_MAX_K];
    bvt_rank_request rq = BVT_RANK_REQUEST_INIT;
    rq.user_id = uid;
    rq.user_id_len = strlen(uid);
    rq.now = now;
    rq.ctx = ctx;
    rq.k = k;
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = slots;
    res.offers_cap = DS_MAX_K;
    bvt_error err = BVT_ERROR_INIT;
    uint32_t granted = ds_consent_read(engine, uid);
    int rc = bvt_rank(engine, &rq, &res, &err);
    if (rc != BVT_OK)
        DS_FAIL(rep, ds_status_of(rc), "rank: %s",
                err.message[0] ? err.message : bvt_strerror(rc));
    /* bvt_rank() enforces the offers' consent (ads) itself, reading it
     * after us: a withdrawal meanwhile gives a non-personalised ranking, and
     * a personalised one here means ads were granted meanwhile, so the reply
     * reports the choices as they are now. */
    if (res.personalised && !ds_consent_allows(granted, DS_OUT_OFFERS))
        granted = ds_consent_read(engine, uid);
    jo_buf out = { 0 };
    jo_printf(&out, "{\"now\":%lld,\"personalised\":%s,\"offers\":[", (long long)now,
              res.personalised ? "true" : "false");
    for (size_t i = 0; i < res.n_offers && i < DS_MAX_K; i++) {
        if (i)
            JO_LIT(&out, ",");
        JO_LIT(&out, "{\"id\":");
        jo_string(&out, slots[i].offer_id, strlen(slots[i].offer_id));
        jo_printf(&out, ",\"score\":%.6g}", slots[i].score);
    }
    JO_LIT(&out, "],\"consent\":");
    ds_consent_json(granted, &out);
    JO_LIT(&out, ",\"profile\":");
    if (ds_consent_allows(granted, DS_OUT_PROFILE))
        profile_json(engine, uid, now, &out);
    else
        JO_LIT(&out, "null");
    JO_LIT(&out, ",\"user\":{\"data\":");
    if (ds_consent_allows(granted, DS_OUT_SEGMENTS))
        openrtb_json(engine, uid, now, &out);
    else
        JO_LIT(&out, "[]");
    JO_LIT(&out, "}}\n");
    jo_reply(&out, rep);
    if (rep->status == 200)
        ds_metrics_decision(req->srv->metrics, res.personalised, ds_clock_ns() - start_ns);
}

void ds_decide(const ds_request *req, ds_reply *rep)
{
    static const char *const known[] = { "uid", "now", "k", "page", NULL };
    int64_t start = ds_clock_ns();
    jb_object *o = malloc(sizeof *o);
    if (!o)
        DS_FAIL(rep, 503, "out of memory");
    ds_fresh_uid fresh;
    const char *uid;
    int64_t now = ds_now_ms();
    long long k = 1;
    bvt_context ctx = BVT_CONTEXT_INIT;
    if (ds_body_open(req, rep, o, known, &fresh, &uid) == 0 &&
        read_fields(o, &now, &k, &ctx, rep) == 0)
        decide(req, uid, now, (size_t)k, &ctx, start, rep);
    free(o);
}
