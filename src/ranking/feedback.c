/* feedback.c — offer feedback and experiment outcomes from tracked events. */
#include "caps.h"
#include "experiment.h"
#include "feedback.h"

int bvt__feedback_type(uint32_t type)
{
    switch (type) {
    case BVT_EVENT_IMPRESSION: case BVT_EVENT_CLICK: case BVT_EVENT_CONVERSION:
    case BVT_EVENT_DISMISS: case BVT_EVENT_LIKE: case BVT_EVENT_SHARE: case BVT_EVENT_COMMENT:
        return 1;
    default:
        return 0;
    }
}

static const bvt_offer_def *def_of(const bvt_offer_set *set, uint32_t offer)
{
    return offer <= set->max_id ? set->by_id[offer] : NULL;
}

int bvt__feedback_reserve(bvt_mem *m, bvt_record *r, const bvt_resolved_event *ev,
                         const bvt_offer_set *set)
{
    if (!set || (ev->type != BVT_EVENT_IMPRESSION && ev->type != BVT_EVENT_DISMISS))
        return BVT_OK;
    const bvt_offer_def *d = def_of(set, ev->offer);
    int rc = bvt__profile_ext(r, m);
    if (rc == BVT_OK)
        rc = bvt__caps_reserve(r->ext, m, ev->offer, d ? bvt__offer_cap_depth(set, d) : 1, 0);
    if (rc == BVT_OK && d && d->group && ev->type == BVT_EVENT_IMPRESSION)
        rc = bvt__caps_reserve(r->ext, m, d->group | BVT_CAP_GROUP_BIT,
                              bvt__offer_cap_depth(set, d), ev->offer);
    return rc;
}

static void count(_Atomic uint64_t *p)
{
    atomic_fetch_add_explicit(p, 1, memory_order_relaxed);
}

/* The offer part; sets *revenue and *cost to what the event earned and cost. */
static void offer_feedback(bvt_engine *e, bvt_record *r, const bvt_resolved_event *ev,
                           const bvt_offer_set *set, double *revenue, double *cost)
{
    bvt_offer_counters *c = bvt__offer_counters_of(&e->offers, ev->offer);
    const bvt_offer_def *d = def_of(set, ev->offer);
    *revenue = *cost = 0;
    if (!c) { /* the id's first definition is under way (or ran out of memory) */
        count(&e->offers.unattributed);
        return;
    }
    uint32_t response = d ? d->response : BVT_EVENT_CLICK;
    uint32_t mask;
    if (ev->type == BVT_EVENT_IMPRESSION) {
        mask = bvt__offer_set_mask(e, set, r, ev->t_ms);
        bvt__caps_impression(r->ext, ev->offer, ev->t_ms, mask);
        if (d && d->group)
            bvt__caps_impression(r->ext, d->group | BVT_CAP_GROUP_BIT, ev->t_ms, 0);
        count(&bvt__offer_arm(&e->offers, ev->offer, bvt__offer_bucket(mask))->trials);
    } else {
        /* credited where the user was at the offer's last impression */
        const bvt_cap_entry *ce = bvt__caps_find(r->ext, ev->offer);
        mask = ce ? ce->mask : bvt__offer_set_mask(e, set, r, ev->t_ms);
        if (ev->type == BVT_EVENT_DISMISS)
            bvt__caps_dismiss(r->ext, ev->offer, ev->t_ms);
        if (ev->type == response)
            count(&bvt__offer_arm(&e->offers, ev->offer, bvt__offer_bucket(mask))->responses);
    }
    *revenue = ev->type == response ? (ev->value > 0 ? ev->value : d ? d->value : 0) : 0;
    *cost = d && ev->type == d->cost_per ? d->cost : 0;
    /* row 0 (everyone), and 1 + each offer segment the user is in */
    for (uint32_t rows = mask << 1 | 1u; rows; rows &= rows - 1) {
        bvt_offer_row *row = &c->rows[__builtin_ctz(rows)];
        switch (ev->type) {
        case BVT_EVENT_IMPRESSION: count(&row->impressions); break;
        case BVT_EVENT_CLICK: count(&row->clicks); count(&row->engagements); break;
        case BVT_EVENT_CONVERSION: count(&row->conversions); break;
        case BVT_EVENT_DISMISS: count(&row->dismissals); break;
        default: count(&row->engagements); break; /* like, share, comment */
        }
        if (*revenue > 0)
            bvt__atomic_add_double(&row->revenue, *revenue);
        if (*cost > 0)
            bvt__atomic_add_double(&row->cost, *cost);
    }
}

static int is_outcome(uint32_t type)
{
    return type == BVT_EVENT_IMPRESSION || type == BVT_EVENT_CLICK ||
           type == BVT_EVENT_CONVERSION || type == BVT_EVENT_PURCHASE;
}

void bvt__feedback_apply(bvt_engine *e, bvt_record *r, const bvt_resolved_event *ev,
                        const bvt_offer_set *set)
{
    double revenue = ev->type == BVT_EVENT_PURCHASE ? ev->value : 0, cost = 0;
    if (ev->offer_unknown)
        count(&e->offers.unattributed);
    else if (set)
        offer_feedback(e, r, ev, set, &revenue, &cost);
    if (r->ext && r->ext->experiments && is_outcome(ev->type)) {
        bvt_outcome o = { .type = ev->type, .offer = set ? ev->offer : 0, .t_ms = ev->t_ms,
                          .revenue = revenue, .cost = cost };
        bvt__experiments_on_event(e, r->ext, &o);
    }
}
