/* offer_codec.c — the byte encoding of the catalog's pieces (a policy, a
 * list of caps, one definition as text), shared by the journal records
 * (offer_log.c) and the snapshot section (offer_persist.c). */
#include "category.h"
#include "engine.h"
#include "offer_codec.h"

void bvt__offers_put_policy(bvt_wbuf *w, const bvt_policy *p)
{
    bvt__w_u32(w, p->kind);
    bvt__w_f64(w, p->epsilon);
    bvt__w_f64(w, p->temperature);
    bvt__w_f64(w, p->floor);
    bvt__w_f64(w, p->prior_rate);
    bvt__w_f64(w, p->prior_strength);
    bvt__w_f64(w, p->affinity_boost);
    bvt__w_u32(w, p->propensity_draws);
}

void bvt__offers_get_policy(bvt_rbuf *r, bvt_policy *p)
{
    bvt_policy init = BVT_POLICY_INIT;
    *p = init;
    p->kind = bvt__r_u32(r);
    p->epsilon = bvt__r_f64(r);
    p->temperature = bvt__r_f64(r);
    p->floor = bvt__r_f64(r);
    p->prior_rate = bvt__r_f64(r);
    p->prior_strength = bvt__r_f64(r);
    p->affinity_boost = bvt__r_f64(r);
    p->propensity_draws = bvt__r_u32(r);
}

void bvt__offers_put_caps(bvt_wbuf *w, const bvt_cap *caps, uint32_t n)
{
    bvt__w_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        bvt__w_u32(w, caps[i].max);
        bvt__w_i64(w, caps[i].window_ms);
    }
}

/* Values are checked by the define path; only the count bounds the array. */
uint32_t bvt__offers_get_caps(bvt_rbuf *r, bvt_cap *caps)
{
    uint32_t n = bvt__r_u32(r);
    if (n > BVT_OFFER_CAPS_MAX) {
        bvt__r_fail(r, "too many caps");
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        caps[i].max = bvt__r_u32(r);
        caps[i].window_ms = bvt__r_i64(r);
    }
    return r->bad ? 0 : n;
}

void bvt__offers_put_def(bvt_engine *e, bvt_wbuf *w, const bvt_offer_def *d)
{
    bvt__w_u32(w, d->id);
    bvt__w_cstr(w, bvt__interner_str(e->offers.names, d->id));
    bvt__w_u32(w, d->n_tags);
    for (uint32_t t = 0; t < d->n_tags; t++)
        bvt__w_cstr(w, bvt__categories_name(e->cats, d->tags[t]));
    bvt__w_cstr(w, d->rule_text);
    bvt__w_f64(w, d->value);
    bvt__w_u32(w, d->response);
    bvt__w_f64(w, d->cost);
    bvt__w_u32(w, d->cost_per);
    bvt__offers_put_caps(w, d->caps, d->n_caps);
    bvt__w_cstr(w, d->group ? bvt__interner_str(e->offers.group_names, d->group) : NULL);
    bvt__w_i64(w, d->cooloff_ms);
    bvt__w_i64(w, d->start_ms);
    bvt__w_i64(w, d->end_ms);
    bvt__w_i32(w, d->priority);
    bvt__w_u64(w, d->budget);
    bvt__w_u8(w, (uint8_t)d->personalised);
}


void bvt__offers_get_def(bvt_rbuf *r, bvt_offer *o, bvt_offer_def_text *t)
{
    bvt_offer init = BVT_OFFER_INIT;
    *o = init;
    t->id = bvt__r_u32(r);
    o->id = bvt__r_str(r, NULL);
    uint32_t n_tags = bvt__r_u32(r);
    if (n_tags > BVT_OFFER_TAGS_MAX)
        bvt__r_fail(r, "too many tags");
    for (uint32_t i = 0; i < n_tags && !r->bad; i++)
        t->tags[i] = bvt__r_str(r, NULL); /* NULL: refused by the define path */
    o->tags = t->tags;
    o->n_tags = r->bad ? 0 : n_tags;
    o->rule = bvt__r_str(r, NULL);
    o->value = bvt__r_f64(r);
    o->response = bvt__r_u32(r);
    o->cost = bvt__r_f64(r);
    o->cost_per = bvt__r_u32(r);
    o->n_caps = bvt__offers_get_caps(r, t->caps);
    o->caps = t->caps;
    o->group = bvt__r_str(r, NULL);
    o->cooloff_ms = bvt__r_i64(r);
    o->start_ms = bvt__r_i64(r);
    o->end_ms = bvt__r_i64(r);
    o->priority = bvt__r_i32(r);
    o->budget_impressions = bvt__r_u64(r);
    uint8_t personalised = bvt__r_u8(r);
    if (personalised > 1)
        bvt__r_fail(r, "personalised is not 0 or 1");
    o->personalised = personalised;
}
