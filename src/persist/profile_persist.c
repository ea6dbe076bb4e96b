/* profile_persist.c — one profile in the snapshot's byte encoding: the
 * fixed record and everything hanging off it (history, cart, attributes,
 * consent, cap state, experiment assignments).  Loading allocates through
 * the shard's accounting exactly as the update paths do, so memory figures
 * and the budget see the same bytes, and checks every id and order the
 * readers rely on.  docs/format.md describes the layout. */
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "caps.h"
#include "cart.h"
#include "consent_state.h"
#include "engine.h"
#include "experiment.h"
#include "experiment_user.h"
#include "persist.h"
#include "profile_persist.h"

/* Sizes of the runs written with one room check (docs/format.md). */
#define FIXED_BYTES(top_k) (128u + 6u * (top_k) + 1u)
#define EVENT_BYTES 15u
#define DAY_BYTES 15u

static void mark_category(bvt_name_marks *m, uint32_t id)
{
    if (m && id)
        bvt__bits_set(m->cats, id);
}

static void save_history(const bvt_history *h, bvt_name_marks *m, bvt_wbuf *w)
{
    if (bvt__wbuf_reserve(w, 4 + (size_t)h->ev_len * EVENT_BYTES + 4 +
                                (size_t)h->day_len * DAY_BYTES + 4) != 0)
        return;
    unsigned char *p = w->p + w->len;
    bvt__st_u16(p, h->ev_cap);
    bvt__st_u16(p + 2, h->ev_len);
    p += 4;
    for (uint32_t i = 0; i < h->ev_len; i++, p += EVENT_BYTES) {
        const bvt_hist_event *ev = bvt__history_event_at(h, i);
        bvt__st_u64(p, (uint64_t)ev->t_ms);
        bvt__st_f32(p + 8, ev->value);
        bvt__st_u16(p + 12, ev->category);
        p[14] = ev->type;
        mark_category(m, ev->category);
    }
    bvt__st_u16(p, h->day_cap);
    bvt__st_u16(p + 2, h->day_len);
    p += 4;
    for (uint32_t i = 0; i < h->day_len; i++, p += DAY_BYTES) {
        const bvt_day_agg *d = &h->days[i];
        bvt__st_u32(p, (uint32_t)d->day);
        bvt__st_u16(p + 4, d->category);
        p[6] = d->type;
        bvt__st_u32(p + 7, d->count);
        bvt__st_f32(p + 11, d->value);
        mark_category(m, d->category);
    }
    bvt__st_u32(p, (uint32_t)h->complete_from_day);
    w->len = (size_t)(p + 4 - w->p);
}

static void save_ext(const bvt_ext *x, bvt_name_marks *m, bvt_wbuf *w)
{
    save_history(&x->hist, m, w);
    bvt__w_i64(w, x->last_checkout_ms);
    bvt__w_u8(w, x->cart_cap);
    bvt__w_u8(w, x->cart_len);
    for (uint32_t i = 0; i < x->cart_len; i++) {
        const bvt_cart_entry *c = &x->cart[i];
        bvt__w_u64(w, c->item_hash);
        bvt__w_i64(w, c->added_ms);
        bvt__w_f64(w, c->value);
        bvt__w_u32(w, c->quantity);
        bvt__w_u32(w, c->category);
        mark_category(m, c->category);
    }
    bvt__w_u8(w, x->attrs_cap);
    bvt__w_u8(w, x->attrs_len);
    for (uint32_t i = 0; i < x->attrs_len; i++) {
        const bvt_attr_entry *a = &x->attrs[i];
        bvt__w_u32(w, a->key);
        bvt__w_u8(w, (uint8_t)a->kind);
        if (a->kind == BVT_ATTR_NUMBER)
            bvt__w_f64(w, a->v.number);
        else
            bvt__w_u32(w, a->v.string);
        if (m) {
            bvt__bits_set(m->strings, a->key);
            if (a->kind == BVT_ATTR_STRING)
                bvt__bits_set(m->strings, a->v.string);
        }
    }
    bvt__consent_save(x, w);
    bvt__w_u8(w, x->caps_cap);
    bvt__w_u8(w, x->caps_len);
    for (uint32_t i = 0; i < x->caps_len; i++) {
        const bvt_cap_entry *c = x->caps[i];
        bvt__w_u32(w, c->key);
        bvt__w_u16(w, c->mask);
        bvt__w_u8(w, c->cap);
        bvt__w_u8(w, c->len);
        bvt__w_i64(w, c->dismissed_ms);
        for (uint32_t t = 0; t < c->len; t++)
            bvt__w_i64(w, c->times[t]);
    }
    bvt__experiments_user_save(x, w);
}

_Static_assert(BVT_EVENT_BUILTIN_COUNT == 12, "FIXED_BYTES counts 12 event types");

void bvt__profile_save(const bvt_record *r, uint32_t top_k, bvt_name_marks *m, bvt_wbuf *w)
{
    if (bvt__wbuf_reserve(w, FIXED_BYTES(top_k)) != 0)
        return;
    unsigned char *p = w->p + w->len;
    bvt__st_u64(p, r->key_hi);
    bvt__st_u64(p + 8, r->key_lo);
    bvt__st_u64(p + 16, (uint64_t)r->first_seen_ms);
    bvt__st_u64(p + 24, (uint64_t)r->last_seen_ms);
    bvt__st_u64(p + 32, (uint64_t)r->last_purchase_ms);
    bvt__st_f64(p + 40, r->monetary_total);
    bvt__st_f64(p + 48, r->first_day_value);
    bvt__st_u32(p + 56, (uint32_t)r->first_purchase_day);
    bvt__st_u32(p + 60, r->purchase_days);
    bvt__st_u32(p + 64, r->sessions);
    bvt__st_u32(p + 68, r->dwell_ds);
    bvt__st_u32(p + 72, r->events);
    bvt__st_u32(p + 76, (uint32_t)r->interest_landmark_min);
    for (uint32_t i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        bvt__st_u32(p + 80 + 4 * i, r->counts[i]);
    p += 128;
    for (uint32_t i = 0; i < top_k; i++, p += 6) {
        bvt__st_u16(p, r->icat[i]);
        bvt__st_f32(p + 2, r->iscore[i]);
        mark_category(m, r->icat[i]);
    }
    *p = r->ext != NULL;
    w->len += FIXED_BYTES(top_k);
    if (r->ext)
        save_ext(r->ext, m, w);
}

/* ---- loading ---- */

static int category_ok(const bvt_engine *e, uint32_t c)
{
    return c == 0 || bvt__categories_valid(e->cats, c);
}

/* A zeroed array of n elements accounted as kind, or an error. */
static int alloc_array(bvt_mem *m, int kind, void **p, size_t n, size_t elem)
{
    *p = NULL;
    if (n == 0)
        return BVT_OK;
    int rc = bvt__mem_resize(m, kind, p, 0, n * elem);
    if (rc == BVT_OK)
        memset(*p, 0, n * elem);
    return rc;
}

static int load_history(const bvt_engine *e, bvt_history *h, bvt_mem *m, bvt_rbuf *r)
{
    const bvt_history_cfg *cfg = &e->cfg.hist;
    uint32_t cap = bvt__r_u16(r), len = bvt__r_u16(r);
    if (len > cap || cap > cfg->max_events)
        return bvt__r_fail(r, "history events exceed their capacity"), BVT_ECORRUPT;
    int rc = alloc_array(m, BVT_MEM_HISTORY, (void **)&h->events, cap, sizeof *h->events);
    if (rc != BVT_OK)
        return rc;
    h->ev_cap = (uint16_t)cap;
    const unsigned char *p = bvt__r_bytes(r, (size_t)len * EVENT_BYTES);
    if (!p)
        return BVT_ECORRUPT;
    for (uint32_t i = 0; i < len; i++, p += EVENT_BYTES) {
        bvt_hist_event *ev = &h->events[i];
        ev->t_ms = (int64_t)bvt__ld_u64(p);
        ev->value = bvt__ld_f32(p + 8);
        ev->category = bvt__ld_u16(p + 12);
        ev->type = p[14];
        if (!category_ok(e, ev->category) || (i && ev->t_ms < h->events[i - 1].t_ms)) {
            r->pos -= (size_t)(len - i) * EVENT_BYTES;
            return bvt__r_fail(r, "history event out of order or of an unknown category"),
                   BVT_ECORRUPT;
        }
    }
    h->ev_len = (uint16_t)len;
    cap = bvt__r_u16(r);
    len = bvt__r_u16(r);
    if (len > cap || cap > cfg->max_days)
        return bvt__r_fail(r, "history days exceed their capacity"), BVT_ECORRUPT;
    rc = alloc_array(m, BVT_MEM_HISTORY, (void **)&h->days, cap, sizeof *h->days);
    if (rc != BVT_OK)
        return rc;
    h->day_cap = (uint16_t)cap;
    p = bvt__r_bytes(r, (size_t)len * DAY_BYTES);
    if (!p)
        return BVT_ECORRUPT;
    for (uint32_t i = 0; i < len; i++, p += DAY_BYTES) {
        bvt_day_agg *d = &h->days[i];
        d->day = (int32_t)bvt__ld_u32(p);
        d->category = bvt__ld_u16(p + 4);
        d->type = p[6];
        d->count = bvt__ld_u32(p + 7);
        d->value = bvt__ld_f32(p + 11);
        const bvt_day_agg *q = i ? &h->days[i - 1] : NULL;
        if (!category_ok(e, d->category) ||
            (q && (q->day > d->day || (q->day == d->day && (q->type > d->type ||
                                        (q->type == d->type && q->category >= d->category)))))) {
            r->pos -= (size_t)(len - i) * DAY_BYTES;
            return bvt__r_fail(r, "history days out of order or of an unknown category"),
                   BVT_ECORRUPT;
        }
    }
    h->day_len = (uint16_t)len;
    h->complete_from_day = bvt__r_i32(r);
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_cart(const bvt_engine *e, bvt_ext *x, bvt_mem *m, bvt_rbuf *r)
{
    x->last_checkout_ms = bvt__r_i64(r);
    uint32_t cap = bvt__r_u8(r), len = bvt__r_u8(r);
    if (len > cap || cap > e->cfg.cart_max)
        return bvt__r_fail(r, "cart items exceed their capacity"), BVT_ECORRUPT;
    int rc = alloc_array(m, BVT_MEM_CART, (void **)&x->cart, cap, sizeof *x->cart);
    if (rc != BVT_OK)
        return rc;
    x->cart_cap = (uint8_t)cap;
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        bvt_cart_entry *c = &x->cart[i];
        c->item_hash = bvt__r_u64(r);
        c->added_ms = bvt__r_i64(r);
        c->value = bvt__r_f64(r);
        c->quantity = bvt__r_u32(r);
        c->category = bvt__r_u32(r);
        if (!category_ok(e, c->category) || c->quantity == 0)
            return bvt__r_fail(r, "cart item with an unknown category or no quantity"),
                   BVT_ECORRUPT;
    }
    x->cart_len = (uint8_t)len;
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_attrs(const bvt_engine *e, bvt_ext *x, bvt_mem *m, bvt_rbuf *r)
{
    uint32_t cap = bvt__r_u8(r), len = bvt__r_u8(r);
    if (len > cap || cap > e->cfg.attrs_max)
        return bvt__r_fail(r, "attributes exceed their capacity"), BVT_ECORRUPT;
    int rc = alloc_array(m, BVT_MEM_ATTRS, (void **)&x->attrs, cap, sizeof *x->attrs);
    if (rc != BVT_OK)
        return rc;
    x->attrs_cap = (uint8_t)cap;
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        bvt_attr_entry *a = &x->attrs[i];
        a->key = bvt__r_u32(r);
        a->kind = bvt__r_u8(r);
        if (a->kind == BVT_ATTR_NUMBER)
            a->v.number = bvt__r_f64(r);
        else
            a->v.string = bvt__r_u32(r);
        if (!bvt__interner_str(e->strings, a->key) ||
            (a->kind != BVT_ATTR_NUMBER &&
             (a->kind != BVT_ATTR_STRING || !bvt__interner_str(e->strings, a->v.string))))
            return bvt__r_fail(r, "attribute with an unknown name, kind or string"), BVT_ECORRUPT;
    }
    x->attrs_len = (uint8_t)len;
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

/* The choices are consent_state.c's to decode; the engine bounds their ids. */
static int load_consent(const bvt_engine *e, bvt_ext *x, bvt_mem *m, bvt_rbuf *r)
{
    uint32_t purposes = atomic_load(&((bvt_engine *)e)->purposes.n);
    return bvt__consent_load(x, m, r, purposes);
}

static int load_caps(bvt_ext *x, bvt_mem *m, bvt_rbuf *r)
{
    uint32_t cap = bvt__r_u8(r), len = bvt__r_u8(r);
    if (len > cap || cap > BVT_USER_CAP_ENTRIES)
        return bvt__r_fail(r, "cap entries exceed their capacity"), BVT_ECORRUPT;
    int rc = alloc_array(m, BVT_MEM_ATTRS, (void **)&x->caps, cap, sizeof *x->caps);
    if (rc != BVT_OK)
        return rc;
    x->caps_cap = (uint8_t)cap;
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        uint32_t key = bvt__r_u32(r);
        uint16_t mask = bvt__r_u16(r);
        uint32_t depth = bvt__r_u8(r), held = bvt__r_u8(r);
        if (r->bad || key == 0 || depth == 0 || held > depth)
            return bvt__r_fail(r, "cap entry without a key or over its depth"), BVT_ECORRUPT;
        void *p = NULL;
        size_t size = sizeof(bvt_cap_entry) + depth * sizeof(int64_t);
        rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, 0, size);
        if (rc != BVT_OK)
            return rc;
        memset(p, 0, size);
        bvt_cap_entry *c = p;
        x->caps[i] = c;
        x->caps_len = (uint8_t)(i + 1);
        c->key = key;
        c->mask = mask;
        c->cap = (uint8_t)depth;
        c->dismissed_ms = bvt__r_i64(r);
        for (uint32_t t = 0; t < held; t++) {
            c->times[t] = bvt__r_i64(r);
            if (t && c->times[t] < c->times[t - 1])
                return bvt__r_fail(r, "cap times out of order"), BVT_ECORRUPT;
        }
        c->len = (uint8_t)held;
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_ext(bvt_engine *e, bvt_record *rec, bvt_mem *m, bvt_rbuf *r)
{
    int rc = bvt__profile_ext(rec, m);
    if (rc == BVT_OK)
        rc = load_history(e, &rec->ext->hist, m, r);
    if (rc == BVT_OK)
        rc = load_cart(e, rec->ext, m, r);
    if (rc == BVT_OK)
        rc = load_attrs(e, rec->ext, m, r);
    if (rc == BVT_OK)
        rc = load_consent(e, rec->ext, m, r);
    if (rc == BVT_OK)
        rc = load_caps(rec->ext, m, r);
    if (rc == BVT_OK)
        rc = bvt__experiments_user_load(rec->ext, m, r);
    if (rc == BVT_OK && (rc = bvt__experiments_user_check(e, rec->ext)) != BVT_OK)
        bvt__r_fail(r, "an assignment to an unknown experiment or variant");
    return rc;
}

int bvt__profile_load(bvt_engine *e, bvt_rbuf *r, uint32_t top_k)
{
    const unsigned char *p = bvt__r_bytes(r, FIXED_BYTES(top_k));
    if (!p)
        return BVT_ECORRUPT;
    r->pos -= FIXED_BYTES(top_k); /* positions of failures: the profile's start */
    bvt_user_key k = { bvt__ld_u64(p), bvt__ld_u64(p + 8) };
    if ((k.hi | k.lo) == 0)
        return bvt__r_fail(r, "profile without a key"), BVT_ECORRUPT;
    bvt_shard *sh = bvt__store_shard(&e->store, &k);
    /* The index slot is a cache miss in a large table: ask for it now and
     * parse the profile (into a record of our own) while it comes. */
    bvt__shard_prefetch(sh, &k);
    bvt_record tmp = { .key_hi = k.hi, .key_lo = k.lo }, *rec = &tmp;
    rec->first_seen_ms = (int64_t)bvt__ld_u64(p + 16);
    rec->last_seen_ms = (int64_t)bvt__ld_u64(p + 24);
    rec->last_purchase_ms = (int64_t)bvt__ld_u64(p + 32);
    rec->monetary_total = bvt__ld_f64(p + 40);
    rec->first_day_value = bvt__ld_f64(p + 48);
    rec->first_purchase_day = (int32_t)bvt__ld_u32(p + 56);
    rec->purchase_days = bvt__ld_u32(p + 60);
    rec->sessions = bvt__ld_u32(p + 64);
    rec->dwell_ds = bvt__ld_u32(p + 68);
    rec->events = bvt__ld_u32(p + 72);
    rec->interest_landmark_min = (int32_t)bvt__ld_u32(p + 76);
    for (uint32_t i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        rec->counts[i] = bvt__ld_u32(p + 80 + 4 * i);
    const unsigned char *q = p + 128;
    for (uint32_t i = 0; i < top_k; i++, q += 6) {
        rec->icat[i] = bvt__ld_u16(q);
        rec->iscore[i] = bvt__ld_f32(q + 2);
        if (!category_ok(e, rec->icat[i]))
            bvt__r_fail(r, "interest in an unknown category");
    }
    uint32_t has_ext = *q;
    if (has_ext > 1)
        bvt__r_fail(r, "bad profile flags");
    if (!r->bad)
        r->pos += FIXED_BYTES(top_k);
    int rc = r->bad ? BVT_ECORRUPT : has_ext ? load_ext(e, &tmp, &sh->mem, r) : BVT_OK;
    bvt_record *slot = NULL;
    if (rc == BVT_OK && bvt__shard_find(sh, &k)) {
        bvt__r_fail(r, "the same user twice");
        rc = BVT_ECORRUPT;
    }
    if (rc == BVT_OK)
        rc = bvt__shard_add(sh, &e->store, &k, NULL, &slot);
    if (rc != BVT_OK) {
        bvt__profile_release(&tmp, &sh->mem); /* whatever was attached */
        return rc;
    }
    *slot = tmp;
    return BVT_OK;
}
