/* offer_codec.c — the byte encoding of the catalog's pieces (a policy, a
 * list of caps, one definition as text), shared by the journal records
 * (offer_log.c) and the snapshot section (offer_persist.c). */
#include "category.h"
#include "engine.h"
#include "offer_codec.h"

void bvt_offers_put_policy(bvt_wbuf *w, const bvt_policy *p)
{
    bvt_w_u32(w, p->kind);
    bvt_w_f64(w, p->epsilon);
    bvt_w_f64(w, p->temperature);
    bvt_w_f64(w, p->floor);
    bvt_w_f64(w, p->prior_rate);
    bvt_w_f64(w, p->prior_strength);
    bvt_w_f64(w, p->affinity_boost);
    bvt_w_u32(w, p->propensity_draws);
}

void bvt_offers_get_policy(bvt_rbuf *r, bvt_policy *p)
{
    bvt_policy init = BVT_POLICY_INIT;
    *p = init;
    p->kind = bvt_r_u32(r);
    p->epsilon = bvt_r_f64(r);
    p->temperature = bvt_r_f64(r);
    p->floor = bvt_r_f64(r);
    p->prior_rate = bvt_r_f64(r);
    p->prior_strength = bvt_r_f64(r);
    p->affinity_boost = bvt_r_f64(r);
    p->propensity_draws = bvt_r_u32(r);
}

void bvt_offers_put_caps(bvt_wbuf *w, const bvt_cap *caps, uint32_t n)
{
    bvt_w_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        bvt_w_u32(w, caps[i].max);
        bvt_w_i64(w, caps[i].window_ms);
    }
}

/* Values are checked by the define path; only the count bounds the array. */
uint32_t bvt_offers_get_caps(bvt_rbuf *r, bvt_cap *caps)
{
    uint32_t n = bvt_r_u32(r);
    if (n > BVT_OFFER_CAPS_MAX) {
        bvt_r_fail(r, "too many caps");
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        caps[i].max = bvt_r_u32(r);
        caps[i].window_ms = bvt_r_i64(r);
    }
    return r->bad ? 0 : n;
}

void bvt_offers_put_def(bvt_engine *e, bvt_wbuf *w, const bvt_offer_def *d)
{
    bvt_w_u32(w, d->id);
    bvt_w_cstr(w, bvt_interner_str(e->offers.names, d->id));
    bvt_w_u32(w, d->n_tags);
    for (uint32_t t = 0; t < d->n_tags; t++)
        bvt_w_cstr(w, bvt_categories_name(e->cats, d->tags[t]));
    bvt_w_cstr(w, d->rule_text);
    bvt_w_f64(w, d->value);
    bvt_w_u32(w, d->response);
    bvt_w_f64(w, d->cost);
    bvt_w_u32(w, d->cost_per);
    bvt_offers_put_caps(w, d->caps, d->n_caps);
    bvt_w_cstr(w, d->group ? bvt_interner_str(e->offers.group_names, d->group) : NULL);
    bvt_w_i64(w, d->cooloff_ms);
    bvt_w_i64(w, d->start_ms);
    bvt_w_i64(w, d->end_ms);
    bvt_w_i32(w, d->priority);
    bvt_w_u64(w, d->budget);
    bvt_w_u8(w, (uint8_t)d->personalised);
}


void bvt_offers_get_def(bvt_rbuf *r, bvt_offer *o, bvt_offer_def_text *t)
{
    bvt_offer init = BVT_OFFER_INIT;
    *o = init;
    t->id = bvt_r_u32(r);
    o->id = bvt_r_str(r, NULL);
    uint32_t n_tags = bvt_r_u32(r);
    if (n_tags > BVT_OFFER_TAGS_MAX)
        bvt_r_fail(r, "too many tags");
    for (uint32_t i = 0; i < n_tags && !r->bad; i++)
        t->tags[i] = bvt_r_str(r, NULL); /* NULL: refused by the define path */
    o->tags = t->tags;
    o->n_tags = r->bad ? 0 : n_tags;
    o->rule = bvt_r_str(r, NULL);
    o->value = bvt_r_f64(r);
    o->response = bvt_r_u32(r);
    o->cost = bvt_r_f64(r);
    o->cost_per = bvt_r_u32(r);
    o->n_caps = bvt_offers_get_caps(r, t->caps);
    o->caps = t->caps;
    o->group = bvt_r_str(r, NULL);
    o->cooloff_ms = bvt_r_i64(r);
    o->start_ms = bvt_r_i64(r);
    o->end_ms = bvt_r_i64(r);
    o->priority = bvt_r_i32(r);
    o->budget_impressions = bvt_r_u64(r);
    uint8_t personalised = bvt_r_u8(r);
    if (personalised > 1)
        bvt_r_fail(r, "personalised is not 0 or 1");
    o->personalised = personalised;
}
