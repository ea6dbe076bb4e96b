/* offer_metrics.c — the metrics read from each offer's counters: one
 * offer's or all offers' totals for every user or one offer segment's
 * row, with the rates derived from them (bvt_metrics_get), and the count
 * of feedback events no defined offer could be credited with.  The counters themselves are
 * written by the tracking path (feedback.c) and allocated and zeroed by
 * the catalog (offer.c) as offers are defined and the segment list
 * changes.  Calls: the catalog for a segment's slot and an offer's
 * counters (offer.h); nothing in offer.c calls here. */
#include "engine.h"
#include "offer.h"

/* ---- metrics ---- */

static void add_row(bvt_metrics *m, const bvt_offer_row *r)
{
    m->impressions += atomic_load_explicit(&r->impressions, memory_order_relaxed);
    m->clicks += atomic_load_explicit(&r->clicks, memory_order_relaxed);
    m->conversions += atomic_load_explicit(&r->conversions, memory_order_relaxed);
    m->dismissals += atomic_load_explicit(&r->dismissals, memory_order_relaxed);
    m->engagements += atomic_load_explicit(&r->engagements, memory_order_relaxed);
    m->revenue += atomic_load_explicit(&r->revenue, memory_order_relaxed);
    m->cost += atomic_load_explicit(&r->cost, memory_order_relaxed);
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

int bvt_metrics_get(bvt_engine *e, uint32_t offer, uint32_t segment, bvt_metrics *out)
{
    if (!e || !out || out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_METRICS_VERSION)
        return BVT_EVERSION;
    bvt_offers *o = &e->offers;
    int row = 0;
    if (segment) {
        row = bvt__offer_segment_slot(e, segment) + 1;
        if (row == 0)
            return BVT_ENOTFOUND;
    }
    uint32_t n = bvt__interner_count(o->names);
    if (offer > n || (offer && !bvt__offer_counters_of(o, offer)))
        return BVT_ENOTFOUND;
    bvt_metrics m = BVT_METRICS_INIT;
    for (uint32_t id = offer ? offer : 1; id <= (offer ? offer : n); id++) {
        const bvt_offer_counters *c = bvt__offer_counters_of(o, id);
        if (c)
            add_row(&m, &c->rows[row]);
    }
    m.ctr = ratio((double)m.clicks, (double)m.impressions);
    m.conversion_rate = ratio((double)m.conversions, (double)m.clicks);
    m.engagement_rate = ratio((double)m.engagements, (double)m.impressions);
    m.roi = m.cost > 0 ? (m.revenue - m.cost) / m.cost : 0;
    *out = m;
    return BVT_OK;
}

uint64_t bvt_metrics_unattributed(bvt_engine *e)
{
    return e ? atomic_load_explicit(&e->offers.unattributed, memory_order_relaxed) : 0;
}
