/* change_log.c — the journal records of events and per-user changes
 * (change_log.h).  An event is journaled as resolved (key, type, ids,
 * matched search categories), so replay repeats exactly what was applied
 * and no raw id or search text is written. */
#include <math.h>
#include <string.h>

#include "analytics.h"
#include "change_log.h"

#define EVENT_RECORD_MAX 160 /* op, key and the resolved fields below */
#define SMALL_RECORD_MAX (BVT_ATTR_KEY_MAX + BVT_ATTR_VALUE_MAX + 64)
#define RECORD_MAX (SMALL_RECORD_MAX > EVENT_RECORD_MAX ? SMALL_RECORD_MAX : EVENT_RECORD_MAX)

static void put_key(bvt_wbuf *w, bvt_user_key k)
{
    bvt_w_u64(w, k.hi);
    bvt_w_u64(w, k.lo);
}

static bvt_user_key get_key(bvt_rbuf *r)
{
    bvt_user_key k;
    k.hi = bvt_r_u64(r);
    k.lo = bvt_r_u64(r);
    if ((k.hi | k.lo) == 0)
        bvt_r_fail(r, "a record names no user");
    return k;
}

static void put_event(bvt_wbuf *w, const bvt_resolved_event *ev)
{
    bvt_w_u32(w, ev->type);
    bvt_w_u32(w, ev->category);
    bvt_w_i64(w, ev->t_ms);
    bvt_w_f64(w, ev->value);
    bvt_w_u64(w, ev->item_hash);
    bvt_w_u32(w, ev->quantity);
    bvt_w_i32(w, ev->dwell_ms);
    bvt_w_f32(w, ev->weight);
    bvt_w_u32(w, ev->offer);
    bvt_w_u8(w, (uint8_t)ev->offer_unknown);
    bvt_w_u8(w, (uint8_t)ev->n_search);
    for (uint32_t i = 0; i < ev->n_search; i++)
        bvt_w_u32(w, ev->search_cats[i]);
}

static int category_ok(const bvt_engine *e, uint32_t c)
{
    return c == 0 || bvt_categories_valid(e->cats, c);
}

static void get_event(const bvt_engine *e, bvt_rbuf *r, bvt_resolved_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = bvt_r_u32(r);
    ev->category = bvt_r_u32(r);
    ev->t_ms = bvt_r_i64(r);
    ev->value = bvt_r_f64(r);
    ev->item_hash = bvt_r_u64(r);
    ev->quantity = bvt_r_u32(r);
    ev->dwell_ms = bvt_r_i32(r);
    ev->weight = bvt_r_f32(r);
    ev->offer = bvt_r_u32(r);
    ev->offer_unknown = bvt_r_u8(r);
    ev->n_search = bvt_r_u8(r);
    const uint32_t max = sizeof ev->search_cats / sizeof ev->search_cats[0];
    if (ev->n_search > max)
        bvt_r_fail(r, "too many search categories");
    for (uint32_t i = 0; i < ev->n_search && !r->bad; i++)
        if (!category_ok(e, ev->search_cats[i] = bvt_r_u32(r)))
            bvt_r_fail(r, "an event names an unknown category");
    if (r->bad)
        return;
    if (!bvt_event_types_valid(&e->types, ev->type) || !category_ok(e, ev->category) ||
        ev->t_ms <= 0 || !isfinite(ev->value) || ev->value < 0 || ev->quantity == 0 ||
        ev->dwell_ms < 0 || !isfinite(ev->weight) || ev->offer_unknown > 1)
        bvt_r_fail(r, "an event that tracking would have refused");
}

static int emit(bvt_engine *e, bvt_wbuf *w)
{
    return w->oom ? BVT_ENOMEM : bvt_persist_log_bytes(e, w->p, w->len);
}

#define BUDGET_HEAD (1 + 16 + 8) /* op, key, room */

int bvt_log_change(bvt_engine *e, bvt_user_key k, const void *rec, size_t n)
{
    const bvt_mem *m = &bvt_store_shard(&e->store, &k)->mem;
    if (!m->refused)
        return bvt_persist_log_bytes(e, rec, n);
    unsigned char buf[BUDGET_HEAD + RECORD_MAX];
    bvt_wbuf w = bvt_wbuf_fixed(buf, sizeof buf);
    bvt_w_u8(&w, BVT_OP_BUDGETED);
    put_key(&w, k);
    bvt_w_i64(&w, bvt_mem_room(m));
    bvt_w_bytes(&w, rec, n);
    return emit(e, &w);
}

static int emit_change(bvt_engine *e, bvt_user_key k, bvt_wbuf *w)
{
    return w->oom ? BVT_ENOMEM : bvt_log_change(e, k, w->p, w->len);
}

/* The categories an event record names (a snapshot erasing one must keep
 * it, or the journal restores it first: category.h). */
static int name_categories(bvt_engine *e, const bvt_resolved_event *ev)
{
    int rc = bvt_categories_named(e->cats, ev->category);
    for (uint32_t i = 0; i < ev->n_search && rc == BVT_OK; i++)
        rc = bvt_categories_named(e->cats, ev->search_cats[i]);
    return rc;
}

int bvt_log_event(bvt_engine *e, const bvt_record *r, const bvt_resolved_event *ev)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    int rc = name_categories(e, ev);
    if (rc != BVT_OK)
        return rc;
    unsigned char buf[EVENT_RECORD_MAX];
    bvt_wbuf w = bvt_wbuf_fixed(buf, sizeof buf);
    bvt_user_key k = { r->key_hi, r->key_lo };
    bvt_w_u8(&w, BVT_OP_EVENT);
    put_key(&w, k);
    put_event(&w, ev);
    return emit_change(e, k, &w);
}

int bvt_log_anon_event(bvt_engine *e, const bvt_resolved_event *ev)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    int rc = name_categories(e, ev);
    if (rc != BVT_OK)
        return rc;
    unsigned char buf[EVENT_RECORD_MAX];
    bvt_wbuf w = bvt_wbuf_fixed(buf, sizeof buf);
    bvt_w_u8(&w, BVT_OP_ANON_EVENT);
    put_event(&w, ev);
    return emit(e, &w);
}

/* A record of at most a few hundred bytes, built on the stack. */
#define SMALL_RECORD(w)                                                                    \
    unsigned char buf_[SMALL_RECORD_MAX];                                                  \
    bvt_wbuf w = bvt_wbuf_fixed(buf_, sizeof buf_)

int bvt_log_attr_set(bvt_engine *e, bvt_user_key k, const char *name, int kind, double number,
                     const char *string)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_ATTR_SET);
    put_key(&w, k);
    bvt_w_cstr(&w, name);
    bvt_w_u8(&w, (uint8_t)kind);
    if (kind == BVT_ATTR_NUMBER)
        bvt_w_f64(&w, number);
    else
        bvt_w_cstr(&w, string);
    return emit_change(e, k, &w);
}

int bvt_log_attr_unset(bvt_engine *e, bvt_user_key k, const char *name)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_ATTR_UNSET);
    put_key(&w, k);
    bvt_w_cstr(&w, name);
    return emit_change(e, k, &w);
}

int bvt_log_consent(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted, int64_t t_ms)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_CONSENT_SET);
    put_key(&w, k);
    bvt_w_u32(&w, purpose);
    bvt_w_u8(&w, granted != 0);
    bvt_w_i64(&w, t_ms);
    return emit_change(e, k, &w);
}

int bvt_log_alias(bvt_engine *e, bvt_user_key anon, bvt_user_key known)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_ALIAS);
    put_key(&w, anon);
    put_key(&w, known);
    return emit_change(e, known, &w);
}

int bvt_log_forget(bvt_engine *e, bvt_user_key k)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_FORGET);
    put_key(&w, k);
    return emit(e, &w);
}

int bvt_log_expire(bvt_engine *e, int64_t cutoff, uint64_t key_from, uint64_t key_to)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_EXPIRE);
    bvt_w_i64(&w, cutoff);
    bvt_w_u64(&w, key_from);
    bvt_w_u64(&w, key_to);
    return emit(e, &w);
}

int bvt_log_rejected(bvt_engine *e, uint64_t n)
{
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_REJECTED);
    bvt_w_u64(&w, n);
    return emit(e, &w);
}

int bvt_log_evict(void *engine, const bvt_user_key *victim)
{
    bvt_engine *e = engine;
    if (!bvt_log_on(e))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt_w_u8(&w, BVT_OP_EVICT);
    put_key(&w, *victim);
    return emit(e, &w);
}

/* ---- replay ---- */

bvt_mem *bvt_change_budget(bvt_engine *e, bvt_rbuf *r, int64_t *room)
{
    bvt_user_key k = get_key(r);
    *room = bvt_r_i64(r);
    return r->bad ? NULL : &bvt_store_shard(&e->store, &k)->mem;
}

static int replay_attr_set(bvt_engine *e, bvt_rbuf *r)
{
    bvt_user_key k = get_key(r);
    size_t n;
    const char *name = bvt_r_str(r, &n);
    uint32_t kind = bvt_r_u8(r);
    double number = 0;
    const char *string = NULL;
    if (kind == BVT_ATTR_NUMBER)
        number = bvt_r_f64(r);
    else if (kind == BVT_ATTR_STRING)
        string = bvt_r_str(r, NULL);
    if (!bvt_r_end(r) || !bvt_attr_text_ok(name, BVT_ATTR_KEY_MAX) || strlen(name) != n ||
        (kind == BVT_ATTR_NUMBER ? !isfinite(number)
                                 : kind != BVT_ATTR_STRING ||
                                       !bvt_attr_text_ok(string, BVT_ATTR_VALUE_MAX)))
        return bvt_r_fail(r, "bad attribute record"), BVT_ECORRUPT;
    return bvt_attr_set_key(e, k, name, (int)kind, number, string);
}

static int replay_attr_unset(bvt_engine *e, bvt_rbuf *r)
{
    bvt_user_key k = get_key(r);
    size_t n;
    const char *name = bvt_r_str(r, &n);
    if (!bvt_r_end(r) || !name || n == 0 || n > BVT_ATTR_KEY_MAX)
        return bvt_r_fail(r, "bad attribute record"), BVT_ECORRUPT;
    int rc = bvt_attr_unset_key(e, k, name);
    return rc == BVT_ENOTFOUND ? BVT_OK : rc;
}

int bvt_change_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    bvt_resolved_event ev;
    bvt_user_key k, k2;
    switch (op) {
    case BVT_OP_EVENT:
        k = get_key(r);
        get_event(e, r, &ev);
        return bvt_r_end(r) ? bvt_track_apply_key(e, k, &ev) : BVT_ECORRUPT;
    case BVT_OP_ANON_EVENT:
        get_event(e, r, &ev);
        return bvt_r_end(r) ? bvt_analytics_count(e, &ev) : BVT_ECORRUPT;
    case BVT_OP_ATTR_SET:
        return replay_attr_set(e, r);
    case BVT_OP_ATTR_UNSET:
        return replay_attr_unset(e, r);
    case BVT_OP_CONSENT_SET: {
        k = get_key(r);
        uint32_t purpose = bvt_r_u32(r), granted = bvt_r_u8(r);
        int64_t t = bvt_r_i64(r);
        if (!bvt_r_end(r) || granted > 1 || t <= 0 ||
            purpose >= atomic_load(&e->purposes.n))
            return bvt_r_fail(r, "bad consent record"), BVT_ECORRUPT;
        return bvt_consent_set_key(e, k, purpose, (int)granted, t);
    }
    case BVT_OP_ALIAS:
        k = get_key(r);
        k2 = get_key(r);
        if (!bvt_r_end(r) || bvt_user_key_cmp(&k, &k2) == 0)
            return bvt_r_fail(r, "bad alias record"), BVT_ECORRUPT;
        return bvt_user_alias_keys(e, k, k2);
    case BVT_OP_FORGET:
        k = get_key(r);
        return bvt_r_end(r) ? bvt_user_forget_key(e, k) : BVT_ECORRUPT;
    case BVT_OP_EXPIRE: {
        int64_t cutoff = bvt_r_i64(r);
        uint64_t from = bvt_r_u64(r), to = bvt_r_u64(r);
        if (!bvt_r_end(r) || cutoff <= 0 || from > to)
            return bvt_r_fail(r, "bad expire record"), BVT_ECORRUPT;
        bvt_expire_keys(e, cutoff, from, to);
        return BVT_OK;
    }
    case BVT_OP_REJECTED: {
        uint64_t n = bvt_r_u64(r);
        if (!bvt_r_end(r) || n == 0)
            return bvt_r_fail(r, "bad rejected-events record"), BVT_ECORRUPT;
        atomic_fetch_add_explicit(&e->events_rejected, n, memory_order_relaxed);
        return BVT_OK;
    }
    case BVT_OP_EVICT: {
        k = get_key(r);
        if (!bvt_r_end(r))
            return BVT_ECORRUPT;
        return bvt_shard_evict_key(bvt_store_shard(&e->store, &k), &k);
    }
    default:
        return bvt_r_fail(r, "unknown record type"), BVT_ECORRUPT;
    }
}
