/* offertest.c — helpers for the offer, ranking and experiment suites. */
#include <string.h>

#include "offertest.h"

uint32_t offer_ok(bvt_engine *e, const bvt_offer *o)
{
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_offer_define(e, o, &id, &err);
    ck_assert_msg(rc == BVT_OK, "define %s: %d %s", o->id, rc, err.message);
    ck_assert_uint_gt(id, 0);
    return id;
}

bvt_offer offer_named(const char *id)
{
    bvt_offer o = BVT_OFFER_INIT;
    o.id = id;
    return o;
}

void feedback_ok(bvt_engine *e, const char *user, uint32_t type, const char *offer, int64_t t,
                 double value)
{
    bvt_event ev = make_event(user, type, t, NULL, value);
    ev.offer_id = offer;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &ev, &err);
    ck_assert_msg(rc == BVT_OK, "feedback %u for %s: %d %s", type, offer, rc, err.message);
}

void ads_consent(bvt_engine *e, const char *user, int granted, int64_t t)
{
    ck_assert_int_eq(bvt_consent_set(e, user, strlen(user), BVT_PURPOSE_ADS, granted, t), BVT_OK);
}

void rank_ok(bvt_engine *e, bvt_rank_request q, const char *user, int64_t now, ranked *out)
{
    memset(out, 0, sizeof *out);
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = out->offers;
    res.offers_cap = RANK_MAX;
    res.excluded = out->excluded;
    res.excluded_cap = RANK_MAX;
    res.choices = out->choices;
    res.choices_cap = RANK_MAX;
    q.user_id = user;
    q.user_id_len = strlen(user);
    q.now = now;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_rank(e, &q, &res, &err);
    ck_assert_msg(rc == BVT_OK, "rank for %s: %d %s", user, rc, err.message);
    out->res = res;
}

uint32_t exclusion_of(const ranked *r, const char *id)
{
    for (size_t i = 0; i < r->res.n_excluded && i < RANK_MAX; i++)
        if (r->excluded[i].offer_id && strcmp(r->excluded[i].offer_id, id) == 0)
            return r->excluded[i].reason;
    return 0;
}

int ranked_has(const ranked *r, const char *id)
{
    for (size_t i = 0; i < r->res.n_offers && i < RANK_MAX; i++)
        if (strcmp(r->offers[i].offer_id, id) == 0)
            return 1;
    return 0;
}
