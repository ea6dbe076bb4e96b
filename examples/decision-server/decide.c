/* decide.c — POST /decide (rank offers for a user, with the user's
 * segments as OpenRTB user.data) and POST /consent (the page's consent
 * banner).  Both take a small flat JSON object. */
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

/* Keys outside `known` are an error: a typo must not silently change the
 * decision. */
static const char *unknown_key(const jb_object *o, const char *const *known)
{
    for (size_t i = 0; i < o->n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], o->m[i].key) != 0)
            k++;
        if (!known[k])
            return o->m[i].key;
    }
    return NULL;
}

/* Parse the body and find the user; on failure the reply is filled. */
static int open_body(const ds_request *req, ds_reply *rep, jb_object *o,
                     const char *const *known, const char **uid)
{
    const char *why;
    if (jb_parse(o, req->body, req->body_len, &why) != 0) {
        ds_reply_error(rep, 400, "body: %s", why);
        return -1;
    }
    const char *bad = unknown_key(o, known);
    if (bad) {
        ds_reply_error(rep, 400, "body: unknown key '%.64s'", bad);
        return -1;
    }
    const jb_member *u = jb_get(o, "uid");
    if (u && u->kind != JB_STRING && u->kind != JB_NULL) {
        ds_reply_error(rep, 400, "uid: must be a string");
        return -1;
    }
    *uid = ds_request_uid(req, u && u->kind == JB_STRING ? u->text : NULL);
    if (!*uid) {
        ds_reply_error(rep, 400, "no user: send a uid, or the bvt_uid cookie");
        return -1;
    }
    return 0;
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

void ds_decide(const ds_request *req, ds_reply *rep)
{
    static const char *const known[] = { "uid", "now", "k", "page", NULL };
    jb_object *o = malloc(sizeof *o);
    if (!o)
        DS_FAIL(rep, 503, "out of memory");
    const char *uid;
    long long now = ds_now_ms(), k = 1;
    if (open_body(req, rep, o, known, &uid) != 0)
        goto done;
    if (int_member(o, "now", 1, 253402300799999LL, &now) < 0) {
        ds_reply_error(rep, 400, "now: epoch milliseconds, an integer > 0");
        goto done;
    }
    if (int_member(o, "k", 1, DS_MAX_K, &k) < 0) {
        ds_reply_error(rep, 400, "k: an integer 1..%d", DS_MAX_K);
        goto done;
    }
    const jb_member *page = jb_get(o, "page");
    if (page && page->kind != JB_STRING && page->kind != JB_NULL) {
        ds_reply_error(rep, 400, "page: must be a category path string");
        goto done;
    }
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.page_category = page && page->kind == JB_STRING ? page->text : NULL;

    bvt_ranked_offer slots[DS_MAX_K];
    bvt_rank_request rq = BVT_RANK_REQUEST_INIT;
    rq.user_id = uid;
    rq.user_id_len = strlen(uid);
    rq.now = now;
    rq.ctx = &ctx;
    rq.k = (size_t)k;
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = slots;
    res.offers_cap = DS_MAX_K;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_rank(req->engine, &rq, &res, &err);
    if (rc != BVT_OK) {
        ds_reply_error(rep, 400, "rank: %s", err.message[0] ? err.message : bvt_strerror(rc));
        goto done;
    }
    jo_buf out = { 0 };
    jo_printf(&out, "{\"now\":%lld,\"personalised\":%s,\"offers\":[", now,
              res.personalised ? "true" : "false");
    for (size_t i = 0; i < res.n_offers && i < DS_MAX_K; i++) {
        if (i)
            JO_LIT(&out, ",");
        JO_LIT(&out, "{\"id\":");
        jo_string(&out, slots[i].offer_id, strlen(slots[i].offer_id));
        jo_printf(&out, ",\"score\":%.6g}", slots[i].score);
    }
    JO_LIT(&out, "],\"profile\":");
    profile_json(req->engine, uid, now, &out);
    JO_LIT(&out, ",\"user\":{\"data\":");
    openrtb_json(req->engine, uid, now, &out);
    JO_LIT(&out, "}}\n");
    if (out.failed) {
        free(out.p);
        ds_reply_error(rep, 503, "out of memory");
    } else {
        ds_reply_json(rep, 200, out.p, out.len);
    }
done:
    free(o);
}

void ds_consent(const ds_request *req, ds_reply *rep)
{
    static const char *const known[] = { "uid", "ads", NULL };
    jb_object *o = malloc(sizeof *o);
    if (!o)
        DS_FAIL(rep, 503, "out of memory");
    const char *uid;
    if (open_body(req, rep, o, known, &uid) != 0)
        goto done;
    const jb_member *ads = jb_get(o, "ads");
    if (!ads || (ads->kind != JB_TRUE && ads->kind != JB_FALSE)) {
        ds_reply_error(rep, 400, "ads: true or false");
        goto done;
    }
    int rc = bvt_consent_set(req->engine, uid, strlen(uid), BVT_PURPOSE_ADS,
                             ads->kind == JB_TRUE, ds_now_ms());
    if (rc != BVT_OK) {
        ds_reply_error(rep, rc == BVT_EFULL || rc == BVT_ENOMEM ? 503 : 400, "consent: %s",
                      bvt_strerror(rc));
        goto done;
    }
    char *body = strdup(ads->kind == JB_TRUE ? "{\"ads\":true}\n" : "{\"ads\":false}\n");
    if (!body)
        ds_reply_error(rep, 503, "out of memory");
    else
        ds_reply_json(rep, 200, body, strlen(body));
done:
    free(o);
}
