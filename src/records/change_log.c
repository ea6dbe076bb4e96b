/* change_log.c — the journal records of events and per-user changes
 * (change_log.h).  An event is journaled as resolved (key, type, ids,
 * matched search categories), so replay repeats exactly what was applied
 * and no raw id or search text is written. */
#include <string.h>

#include "change_log.h"

#define EVENT_RECORD_MAX 160 /* op, key and the resolved fields below */
#define SMALL_RECORD_MAX (BVT_ATTR_KEY_MAX + BVT_ATTR_VALUE_MAX + 64)
#define RECORD_MAX (SMALL_RECORD_MAX > EVENT_RECORD_MAX ? SMALL_RECORD_MAX : EVENT_RECORD_MAX)

static void put_key(bvt_wbuf *w, bvt_user_key k)
{
    bvt__w_u64(w, k.hi);
    bvt__w_u64(w, k.lo);
}

static void put_event(bvt_wbuf *w, const bvt_resolved_event *ev)
{
    bvt__w_u32(w, ev->type);
    bvt__w_u32(w, ev->category);
    bvt__w_i64(w, ev->t_ms);
    bvt__w_f64(w, ev->value);
    bvt__w_u64(w, ev->item_hash);
    bvt__w_u32(w, ev->quantity);
    bvt__w_i32(w, ev->dwell_ms);
    bvt__w_f32(w, ev->weight);
    bvt__w_u32(w, ev->offer);
    bvt__w_u8(w, (uint8_t)ev->offer_unknown);
    bvt__w_u8(w, (uint8_t)ev->n_search);
    for (uint32_t i = 0; i < ev->n_search; i++)
        bvt__w_u32(w, ev->search_cats[i]);
}

static int emit(bvt_engine *e, bvt_wbuf *w)
{
    return w->oom ? BVT_ENOMEM : bvt__persist_log_bytes(e, w->p, w->len);
}

#define BUDGET_HEAD (1 + 16 + 8) /* op, key, room */

int bvt__log_change(bvt_engine *e, bvt_user_key k, const void *rec, size_t n)
{
    const bvt_mem *m = &bvt__store_shard(&e->store, &k)->mem;
    if (!m->refused)
        return bvt__persist_log_bytes(e, rec, n);
    unsigned char buf[BUDGET_HEAD + RECORD_MAX];
    bvt_wbuf w = bvt__wbuf_fixed(buf, sizeof buf);
    bvt__w_u8(&w, BVT_OP_BUDGETED);
    put_key(&w, k);
    bvt__w_i64(&w, bvt__mem_room(m));
    bvt__w_bytes(&w, rec, n);
    return emit(e, &w);
}

static int emit_change(bvt_engine *e, bvt_user_key k, bvt_wbuf *w)
{
    return w->oom ? BVT_ENOMEM : bvt__log_change(e, k, w->p, w->len);
}

/* The categories an event record names (a snapshot erasing one must keep
 * it, or the journal restores it first: category.h). */
static int name_categories(bvt_engine *e, const bvt_resolved_event *ev)
{
    int rc = bvt__categories_named(e->cats, ev->category);
    for (uint32_t i = 0; i < ev->n_search && rc == BVT_OK; i++)
        rc = bvt__categories_named(e->cats, ev->search_cats[i]);
    return rc;
}

int bvt__log_event(bvt_engine *e, const bvt_record *r, const bvt_resolved_event *ev)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    int rc = name_categories(e, ev);
    if (rc != BVT_OK)
        return rc;
    unsigned char buf[EVENT_RECORD_MAX];
    bvt_wbuf w = bvt__wbuf_fixed(buf, sizeof buf);
    bvt_user_key k = { r->key_hi, r->key_lo };
    bvt__w_u8(&w, BVT_OP_EVENT);
    put_key(&w, k);
    put_event(&w, ev);
    return emit_change(e, k, &w);
}

int bvt__log_anon_event(bvt_engine *e, const bvt_resolved_event *ev)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    int rc = name_categories(e, ev);
    if (rc != BVT_OK)
        return rc;
    unsigned char buf[EVENT_RECORD_MAX];
    bvt_wbuf w = bvt__wbuf_fixed(buf, sizeof buf);
    bvt__w_u8(&w, BVT_OP_ANON_EVENT);
    put_event(&w, ev);
    return emit(e, &w);
}

/* A record of at most a few hundred bytes, built on the stack. */
#define SMALL_RECORD(w)                                                                    \
    unsigned char buf_[SMALL_RECORD_MAX];                                                  \
    bvt_wbuf w = bvt__wbuf_fixed(buf_, sizeof buf_)

int bvt__log_attr_set(bvt_engine *e, bvt_user_key k, const char *name, int kind, double number,
                     const char *string)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_ATTR_SET);
    put_key(&w, k);
    bvt__w_cstr(&w, name);
    bvt__w_u8(&w, (uint8_t)kind);
    if (kind == BVT_ATTR_NUMBER)
        bvt__w_f64(&w, number);
    else
        bvt__w_cstr(&w, string);
    return emit_change(e, k, &w);
}

int bvt__log_attr_unset(bvt_engine *e, bvt_user_key k, const char *name)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_ATTR_UNSET);
    put_key(&w, k);
    bvt__w_cstr(&w, name);
    return emit_change(e, k, &w);
}

int bvt__log_consent(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted, int64_t t_ms)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_CONSENT_SET);
    put_key(&w, k);
    bvt__w_u32(&w, purpose);
    bvt__w_u8(&w, granted != 0);
    bvt__w_i64(&w, t_ms);
    return emit_change(e, k, &w);
}

int bvt__log_alias(bvt_engine *e, bvt_user_key anon, bvt_user_key known)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_ALIAS);
    put_key(&w, anon);
    put_key(&w, known);
    return emit_change(e, known, &w);
}

int bvt__log_forget(bvt_engine *e, bvt_user_key k)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_FORGET);
    put_key(&w, k);
    return emit(e, &w);
}

int bvt__log_expire(bvt_engine *e, int64_t cutoff, uint64_t key_from, uint64_t key_to)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_EXPIRE);
    bvt__w_i64(&w, cutoff);
    bvt__w_u64(&w, key_from);
    bvt__w_u64(&w, key_to);
    return emit(e, &w);
}

int bvt__log_rejected(bvt_engine *e, uint64_t n)
{
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_REJECTED);
    bvt__w_u64(&w, n);
    return emit(e, &w);
}

int bvt__log_evict(void *engine, const bvt_user_key *victim)
{
    bvt_engine *e = engine;
    if (!bvt__sink_on(&e->sink))
        return BVT_OK;
    SMALL_RECORD(w);
    bvt__w_u8(&w, BVT_OP_EVICT);
    put_key(&w, *victim);
    return emit(e, &w);
}
