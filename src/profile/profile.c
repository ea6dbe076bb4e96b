/* profile.c — applying events to a record and reading features from it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "caps.h"
#include "cart.h"
#include "consent_state.h"
#include "experiment_user.h"
#include "interest.h"
#include "profile.h"
#include "rfm.h"

int bvt__profile_ext(bvt_record *r, bvt_mem *m)
{
    if (r->ext)
        return BVT_OK;
    void *p = NULL;
    int rc = bvt__mem_resize(m, BVT_MEM_HISTORY, &p, 0, sizeof(bvt_ext));
    if (rc != BVT_OK)
        return rc;
    memset(p, 0, sizeof(bvt_ext));
    r->ext = p;
    r->ext->hist.complete_from_day = INT32_MIN;
    return BVT_OK;
}

void bvt__profile_release(bvt_record *r, bvt_mem *m)
{
    if (!r->ext)
        return;
    bvt__history_clear(&r->ext->hist, m);
    bvt__cart_release(r->ext, m);
    bvt__attrs_release(r->ext, m);
    bvt__consent_release(r->ext, m);
    bvt__experiments_user_release(r->ext, m);
    bvt__caps_release(r->ext, m);
    void *p = r->ext;
    bvt__mem_resize(m, BVT_MEM_HISTORY, &p, sizeof(bvt_ext), 0);
    r->ext = NULL;
}

static int history_enabled(const bvt_profile_cfg *cfg)
{
    return cfg->hist.max_events > 0 || cfg->hist.max_days > 0;
}

static int is_cart_event(uint32_t type)
{
    return type == BVT_EVENT_ADD_TO_CART || type == BVT_EVENT_REMOVE_FROM_CART ||
           type == BVT_EVENT_PURCHASE;
}

/* Did the user already buy on day d?  Only asked for a purchase that lands
 * strictly between the first and the last purchase day (a late event). */
static int purchased_on(const bvt_record *r, const bvt_profile_cfg *cfg, int32_t d)
{
    if (!r->ext || r->ext->hist.complete_from_day > d)
        return 0; /* unknown: count it as a new day (documented) */
    uint64_t n = 0;
    bvt__history_window(&r->ext->hist, &cfg->hist, BVT_EVENT_PURCHASE, 0,
                      (int64_t)d * BVT_DAY_MS - 1, (int64_t)(d + 1) * BVT_DAY_MS - 1, &n, NULL);
    return n > 0;
}

/* Whether a purchase on day d adds a purchase day; asked before the event
 * enters the history. */
static int is_new_purchase_day(const bvt_record *r, const bvt_profile_cfg *cfg, int32_t d)
{
    if (r->last_purchase_ms == 0)
        return 1;
    int32_t last = bvt__day_of(r->last_purchase_ms);
    if (d == r->first_purchase_day || d == last)
        return 0;
    if (d < r->first_purchase_day || d > last)
        return 1;
    return !purchased_on(r, cfg, d);
}

static void apply_purchase(bvt_record *r, int64_t t, double value, int new_day)
{
    int32_t d = bvt__day_of(t);
    if (r->last_purchase_ms == 0 || d < r->first_purchase_day) {
        r->first_purchase_day = d;
        r->first_day_value = value;
    } else if (d == r->first_purchase_day) {
        r->first_day_value += value;
    }
    r->purchase_days += new_day != 0;
    if (t > r->last_purchase_ms)
        r->last_purchase_ms = t;
    r->monetary_total += value;
}

static void apply_time(bvt_record *r, const bvt_profile_cfg *cfg, int64_t t)
{
    if (r->first_seen_ms == 0) {
        r->first_seen_ms = r->last_seen_ms = t;
        r->sessions = 1;
        return;
    }
    if (t > r->last_seen_ms) {
        if (t - r->last_seen_ms > cfg->session_gap_ms)
            r->sessions++;
        r->last_seen_ms = t;
    }
    if (t < r->first_seen_ms)
        r->first_seen_ms = t;
}

int bvt__profile_apply(bvt_record *r, const bvt_resolved_event *ev, const bvt_profile_cfg *cfg,
                      bvt_mem *m)
{
    /* Fallible steps first: nothing visible changes unless all succeed. */
    int cart = is_cart_event(ev->type) && cfg->cart_max > 0;
    if (history_enabled(cfg) || cart) {
        int rc = bvt__profile_ext(r, m);
        if (rc != BVT_OK)
            return rc;
    }
    if (cart && ev->type == BVT_EVENT_ADD_TO_CART) {
        int rc = bvt__cart_reserve(r->ext, cfg, m);
        if (rc != BVT_OK)
            return rc;
    }
    int new_day = ev->type == BVT_EVENT_PURCHASE &&
                  is_new_purchase_day(r, cfg, bvt__day_of(ev->t_ms));
    if (history_enabled(cfg)) {
        uint32_t hcat = ev->category ? ev->category : (ev->n_search ? ev->search_cats[0] : 0);
        int rc = bvt__history_add(&r->ext->hist, &cfg->hist, m, ev->t_ms, ev->type, hcat,
                                 ev->value);
        if (rc != BVT_OK)
            return rc;
    }

    apply_time(r, cfg, ev->t_ms);
    if (r->events != UINT32_MAX)
        r->events++;
    if (ev->type < BVT_EVENT_BUILTIN_COUNT && r->counts[ev->type] != UINT32_MAX)
        r->counts[ev->type]++;
    if (ev->type == BVT_EVENT_PURCHASE)
        apply_purchase(r, ev->t_ms, ev->value, new_day);
    if (ev->dwell_ms > 0) {
        uint64_t ds = (uint64_t)r->dwell_ds + (uint64_t)((ev->dwell_ms + 50) / 100);
        r->dwell_ds = ds > UINT32_MAX ? UINT32_MAX : (uint32_t)ds;
    }
    if (ev->weight > 0) {
        bvt__interest_add(r, cfg, ev->category, ev->weight, ev->t_ms);
        for (uint32_t i = 0; i < ev->n_search; i++)
            if (ev->search_cats[i] != ev->category)
                bvt__interest_add(r, cfg, ev->search_cats[i], ev->weight, ev->t_ms);
    }
    if (cart)
        bvt__cart_apply(r->ext, cfg, ev);
    return BVT_OK;
}

/* Move the byte accounting of everything hanging off r from one shard's
 * counters to another's, so later frees are charged where they were moved. */
static void move_accounting(const bvt_record *r, bvt_mem *to, bvt_mem *from)
{
    uint64_t b[BVT_MEM_KINDS] = { 0 };
    bvt__profile_ext_bytes(r, &b[BVT_MEM_HISTORY], &b[BVT_MEM_CART], &b[BVT_MEM_ATTRS]);
    for (int k = 0; k < BVT_MEM_KINDS; k++) {
        from->bytes[k] -= b[k];
        to->bytes[k] += b[k];
    }
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Purchase days of the union of two users: exact when the merged history
 * still holds every purchase day, otherwise the sum less a shared first day. */
static uint32_t merged_purchase_days(const bvt_record *dst, const bvt_record *src,
                                     int32_t first_day)
{
    const bvt_history *h = dst->ext ? &dst->ext->hist : NULL;
    if (h && h->complete_from_day <= first_day) {
        size_t n = bvt__history_daily(h, BVT_EVENT_PURCHASE, first_day,
                                     bvt__day_of(dst->last_purchase_ms > src->last_purchase_ms
                                                    ? dst->last_purchase_ms
                                                    : src->last_purchase_ms),
                                     NULL, NULL, 0);
        if (n > 0)
            return (uint32_t)n;
    }
    uint32_t n = add_sat(dst->purchase_days, src->purchase_days);
    return dst->first_purchase_day == src->first_purchase_day && n > 0 ? n - 1 : n;
}

int bvt__profile_merge(bvt_record *dst, bvt_record *src, const bvt_profile_cfg *cfg,
                      bvt_mem *mdst, bvt_mem *msrc)
{
    move_accounting(src, mdst, msrc);
    int rc = BVT_OK;
    if (src->ext && !dst->ext) {
        /* nothing to merge with: src's parts move over whole (no allocation
         * the budget could refuse) */
        dst->ext = src->ext;
        src->ext = NULL;
    } else if (src->ext) {
        rc = bvt__history_merge(&dst->ext->hist, &src->ext->hist, &cfg->hist, mdst);
        if (rc == BVT_OK) {
            bvt_ext *x = src->ext;
            for (uint32_t i = 0; i < x->cart_len; i++) {
                const bvt_cart_entry *e = &x->cart[i];
                bvt_resolved_event ev = { .type = BVT_EVENT_ADD_TO_CART, .category = e->category,
                                          .t_ms = e->added_ms, .value = e->value,
                                          .quantity = e->quantity, .item_hash = e->item_hash };
                if (bvt__cart_reserve(dst->ext, cfg, mdst) == BVT_OK)
                    bvt__cart_apply(dst->ext, cfg, &ev);
            }
            if (x->last_checkout_ms > dst->ext->last_checkout_ms)
                dst->ext->last_checkout_ms = x->last_checkout_ms;
            for (uint32_t i = 0; i < x->attrs_len; i++) {
                const bvt_attr_entry *a = &x->attrs[i];
                if (!bvt__attrs_get(dst->ext, a->key))
                    (void)bvt__attrs_set(dst->ext, cfg, mdst, a->key, (int)a->kind, a->v.number,
                                        a->v.string); /* known profile's attributes win */
            }
            bvt__consent_merge(dst->ext, x, mdst); /* per purpose the later choice */
            bvt__experiments_user_merge(dst->ext, x, mdst); /* known profile's variants win */
            bvt__caps_merge(dst->ext, x, mdst);
        }
    }
    if (rc != BVT_OK) {
        move_accounting(src, msrc, mdst);
        return rc;
    }

    if (src->last_purchase_ms != 0) {
        if (dst->last_purchase_ms == 0) {
            dst->first_purchase_day = src->first_purchase_day;
            dst->first_day_value = src->first_day_value;
            dst->purchase_days = src->purchase_days;
            dst->last_purchase_ms = src->last_purchase_ms;
        } else {
            int32_t first = dst->first_purchase_day < src->first_purchase_day
                                ? dst->first_purchase_day : src->first_purchase_day;
            dst->purchase_days = merged_purchase_days(dst, src, first);
            if (src->first_purchase_day < dst->first_purchase_day)
                dst->first_day_value = src->first_day_value;
            else if (src->first_purchase_day == dst->first_purchase_day)
                dst->first_day_value += src->first_day_value;
            dst->first_purchase_day = first;
            if (src->last_purchase_ms > dst->last_purchase_ms)
                dst->last_purchase_ms = src->last_purchase_ms;
        }
        dst->monetary_total += src->monetary_total;
    }
    if (src->first_seen_ms != 0) {
        if (dst->first_seen_ms == 0 || src->first_seen_ms < dst->first_seen_ms)
            dst->first_seen_ms = src->first_seen_ms;
        if (src->last_seen_ms > dst->last_seen_ms)
            dst->last_seen_ms = src->last_seen_ms;
    }
    dst->sessions = add_sat(dst->sessions, src->sessions);
    dst->dwell_ds = add_sat(dst->dwell_ds, src->dwell_ds);
    dst->events = add_sat(dst->events, src->events);
    for (int i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        dst->counts[i] = add_sat(dst->counts[i], src->counts[i]);
    bvt__interest_merge(dst, src, cfg);
    bvt__profile_release(src, mdst);
    return BVT_OK;
}

void bvt__profile_ext_bytes(const bvt_record *r, uint64_t *hist, uint64_t *cart, uint64_t *attrs)
{
    *hist = *cart = *attrs = 0;
    if (!r->ext)
        return;
    *hist = sizeof(bvt_ext) + bvt__history_bytes(&r->ext->hist);
    *cart = r->ext->cart_cap * sizeof(bvt_cart_entry);
    *attrs = r->ext->attrs_cap * sizeof(bvt_attr_entry) + bvt__consent_bytes(r->ext) +
             bvt__experiments_user_bytes(r->ext) + bvt__caps_bytes(r->ext);
}

void bvt__profile_features(const bvt_record *r, const bvt_rfm_cuts *cuts, int64_t now,
                          bvt_profile *p)
{
    uint32_t version = p->version;
    memset(p, 0, sizeof *p);
    p->version = version;
    p->first_seen_ms = r->first_seen_ms;
    p->last_seen_ms = r->last_seen_ms;
    p->recency_ms = bvt__record_recency(r, now);
    p->last_purchase_ms = r->last_purchase_ms;
    p->purchase_recency_ms = bvt__record_purchase_recency(r, now);
    p->purchases = r->counts[BVT_EVENT_PURCHASE];
    p->purchase_days = r->purchase_days;
    p->monetary_total = r->monetary_total;
    p->monetary_mean = bvt__record_monetary_mean(r);
    uint32_t scores[3];
    bvt__rfm_scores(cuts, r, scores);
    p->r_score = scores[BVT_RFM_R];
    p->f_score = scores[BVT_RFM_F];
    p->m_score = scores[BVT_RFM_M];
    memcpy(p->type_counts, r->counts, sizeof p->type_counts);
    p->events = r->events;
    p->impressions = r->counts[BVT_EVENT_IMPRESSION];
    p->clicks = r->counts[BVT_EVENT_CLICK];
    p->conversions = r->counts[BVT_EVENT_CONVERSION];
    p->ctr = bvt__record_ctr(r);
    p->conversion_rate = bvt__record_conversion_rate(r);
    p->interactions = bvt__record_interactions(r);
    p->sessions = r->sessions;
    p->dwell_ms = bvt__record_dwell_ms(r);
    p->mean_dwell_ms = bvt__record_mean_dwell_ms(r);
    bvt__cart_totals(r->ext, &p->cart_items, &p->cart_value, &p->cart_oldest_ms);
    p->interests = bvt__interest_count(r);
    if (r->ext) {
        p->attributes = r->ext->attrs_len;
        p->history_events = r->ext->hist.ev_len;
        p->history_day_slots = r->ext->hist.day_len;
    }
}
