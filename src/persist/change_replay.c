/* change_replay.c — replaying the journal records of events and per-user
 * changes (change_log.c writes them): each repeats the call that made the
 * change, so this file sits above tracking, users, consent and privacy,
 * which it calls; nothing below calls it. */
#include <math.h>
#include <string.h>

#include "analytics.h"
#include "change_replay.h"

static bvt_user_key get_key(bvt_rbuf *r)
{
    bvt_user_key k;
    k.hi = bvt__r_u64(r);
    k.lo = bvt__r_u64(r);
    if ((k.hi | k.lo) == 0)
        bvt__r_fail(r, "a record names no user");
    return k;
}

static int category_ok(const bvt_engine *e, uint32_t c)
{
    return c == 0 || bvt__categories_valid(e->cats, c);
}

static void get_event(const bvt_engine *e, bvt_rbuf *r, bvt_resolved_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = bvt__r_u32(r);
    ev->category = bvt__r_u32(r);
    ev->t_ms = bvt__r_i64(r);
    ev->value = bvt__r_f64(r);
    ev->item_hash = bvt__r_u64(r);
    ev->quantity = bvt__r_u32(r);
    ev->dwell_ms = bvt__r_i32(r);
    ev->weight = bvt__r_f32(r);
    ev->offer = bvt__r_u32(r);
    ev->offer_unknown = bvt__r_u8(r);
    ev->n_search = bvt__r_u8(r);
    const uint32_t max = sizeof ev->search_cats / sizeof ev->search_cats[0];
    if (ev->n_search > max)
        bvt__r_fail(r, "too many search categories");
    for (uint32_t i = 0; i < ev->n_search && !r->bad; i++)
        if (!category_ok(e, ev->search_cats[i] = bvt__r_u32(r)))
            bvt__r_fail(r, "an event names an unknown category");
    if (r->bad)
        return;
    if (!bvt__event_types_valid(&e->types, ev->type) || !category_ok(e, ev->category) ||
        ev->t_ms <= 0 || !isfinite(ev->value) || ev->value < 0 || ev->quantity == 0 ||
        ev->dwell_ms < 0 || !isfinite(ev->weight) || ev->offer_unknown > 1)
        bvt__r_fail(r, "an event that tracking would have refused");
}

bvt_mem *bvt__change_budget(bvt_engine *e, bvt_rbuf *r, int64_t *room)
{
    bvt_user_key k = get_key(r);
    *room = bvt__r_i64(r);
    return r->bad ? NULL : &bvt__store_shard(&e->store, &k)->mem;
}

static int replay_attr_set(bvt_engine *e, bvt_rbuf *r)
{
    bvt_user_key k = get_key(r);
    size_t n;
    const char *name = bvt__r_str(r, &n);
    uint32_t kind = bvt__r_u8(r);
    double number = 0;
    const char *string = NULL;
    if (kind == BVT_ATTR_NUMBER)
        number = bvt__r_f64(r);
    else if (kind == BVT_ATTR_STRING)
        string = bvt__r_str(r, NULL);
    if (!bvt__r_end(r) || !bvt__attr_text_ok(name, BVT_ATTR_KEY_MAX) || strlen(name) != n ||
        (kind == BVT_ATTR_NUMBER ? !isfinite(number)
                                 : kind != BVT_ATTR_STRING ||
                                       !bvt__attr_text_ok(string, BVT_ATTR_VALUE_MAX)))
        return bvt__r_fail(r, "bad attribute record"), BVT_ECORRUPT;
    return bvt__attr_set_key(e, k, name, (int)kind, number, string, NULL);
}

static int replay_attr_unset(bvt_engine *e, bvt_rbuf *r)
{
    bvt_user_key k = get_key(r);
    size_t n;
    const char *name = bvt__r_str(r, &n);
    if (!bvt__r_end(r) || !name || n == 0 || n > BVT_ATTR_KEY_MAX)
        return bvt__r_fail(r, "bad attribute record"), BVT_ECORRUPT;
    int rc = bvt__attr_unset_key(e, k, name, NULL);
    return rc == BVT_ENOTFOUND ? BVT_OK : rc;
}

int bvt__change_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    bvt_resolved_event ev;
    bvt_user_key k, k2;
    switch (op) {
    case BVT_OP_EVENT:
        k = get_key(r);
        get_event(e, r, &ev);
        return bvt__r_end(r) ? bvt__track_apply_key(e, k, &ev) : BVT_ECORRUPT;
    case BVT_OP_ANON_EVENT:
        get_event(e, r, &ev);
        return bvt__r_end(r) ? bvt__analytics_count(e, &ev) : BVT_ECORRUPT;
    case BVT_OP_ATTR_SET:
        return replay_attr_set(e, r);
    case BVT_OP_ATTR_UNSET:
        return replay_attr_unset(e, r);
    case BVT_OP_CONSENT_SET: {
        k = get_key(r);
        uint32_t purpose = bvt__r_u32(r), granted = bvt__r_u8(r);
        int64_t t = bvt__r_i64(r);
        if (!bvt__r_end(r) || granted > 1 || t <= 0 ||
            purpose >= atomic_load(&e->purposes.n))
            return bvt__r_fail(r, "bad consent record"), BVT_ECORRUPT;
        return bvt__consent_set_key(e, k, purpose, (int)granted, t, NULL);
    }
    case BVT_OP_ALIAS:
        k = get_key(r);
        k2 = get_key(r);
        if (!bvt__r_end(r) || bvt__user_key_cmp(&k, &k2) == 0)
            return bvt__r_fail(r, "bad alias record"), BVT_ECORRUPT;
        return bvt__user_alias_keys(e, k, k2);
    case BVT_OP_FORGET:
        k = get_key(r);
        return bvt__r_end(r) ? bvt__user_forget_key(e, k) : BVT_ECORRUPT;
    case BVT_OP_EXPIRE: {
        int64_t cutoff = bvt__r_i64(r);
        uint64_t from = bvt__r_u64(r), to = bvt__r_u64(r);
        if (!bvt__r_end(r) || cutoff <= 0 || from > to)
            return bvt__r_fail(r, "bad expire record"), BVT_ECORRUPT;
        bvt__expire_keys(e, cutoff, from, to);
        return BVT_OK;
    }
    case BVT_OP_REJECTED: {
        uint64_t n = bvt__r_u64(r);
        if (!bvt__r_end(r) || n == 0)
            return bvt__r_fail(r, "bad rejected-events record"), BVT_ECORRUPT;
        atomic_fetch_add_explicit(&e->events_rejected, n, memory_order_relaxed);
        return BVT_OK;
    }
    case BVT_OP_EVICT: {
        k = get_key(r);
        if (!bvt__r_end(r))
            return BVT_ECORRUPT;
        return bvt__shard_evict_key(bvt__store_shard(&e->store, &k), &k);
    }
    default:
        return bvt__r_fail(r, "unknown record type"), BVT_ECORRUPT;
    }
}
