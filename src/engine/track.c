/* track.c — validating events and applying them, one at a time or in
 * batches with prefetching and one lock per run of same-shard events. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_keys.h"
#include "error.h"
#include "feedback.h"
#include "analytics.h"
#include "caps.h"
#include "cart.h"
#include "change_log.h"
#include "user_update.h"

/* Events resolved and sorted by shard at a time: large enough that each
 * shard's run (about BATCH_BLOCK / shards events) fills the prefetch
 * pipeline.  Blocks come from a small pool in the engine (no allocation in
 * steady state, no large stack frame). */
#define BATCH_BLOCK 4096u
#define MAX_DWELL_MS 86400000LL

/* Validate ev and resolve everything the profile update needs, without
 * touching any profile.  Category paths may be interned here. */
static int resolve(bvt_engine *e, const bvt_event *ev, bvt_resolved_event *out,
                   bvt_user_key *key, bvt_error *err)
{
    if (!ev)
        return bvt__fail(err, BVT_EINVAL, -1, "event is NULL");
    if (ev->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "event.version is 0: use BVT_EVENT_INIT");
    if (ev->version > BVT_EVENT_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "event.version %u is newer than this library",
                        ev->version);
    if (!bvt__event_types_valid(&e->types, ev->type))
        return bvt__fail(err, BVT_ETYPE, -1, "unknown event type %u", ev->type);
    if (!bvt__user_id_valid(ev->user_id, ev->user_id_len))
        return bvt__fail(err, BVT_EINVAL, -1, "user id must be 1..%d bytes", BVT_USER_ID_MAX);
    if (ev->time_ms <= 0)
        return bvt__fail(err, BVT_EINVAL, -1, "time_ms must be > 0 (epoch milliseconds)");
    if (!isfinite(ev->value) || ev->value < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "value must be finite and >= 0");
    if (ev->dwell_ms < 0 || ev->dwell_ms > MAX_DWELL_MS)
        return bvt__fail(err, BVT_EINVAL, -1, "dwell_ms must be 0..86400000");
    memset(out, 0, sizeof *out);
    if (ev->category) {
        int rc = bvt__categories_intern(e->cats, ev->category, strlen(ev->category),
                                       &out->category, err);
        if (rc != BVT_OK)
            return rc;
    } else if (ev->category_id) {
        if (!bvt__categories_valid(e->cats, ev->category_id))
            return bvt__fail(err, BVT_EINVAL, -1, "unknown category_id %u", ev->category_id);
        out->category = ev->category_id;
    }
    if (ev->type == BVT_EVENT_SEARCH && ev->search_text)
        out->n_search = (uint32_t)bvt__keywords_match(e->keywords, ev->search_text,
                                                     strlen(ev->search_text), out->search_cats,
                                                     sizeof out->search_cats /
                                                         sizeof out->search_cats[0]);
    out->type = ev->type;
    out->t_ms = ev->time_ms;
    out->value = ev->value;
    out->quantity = ev->quantity ? ev->quantity : 1;
    if (ev->item_id && (ev->type == BVT_EVENT_ADD_TO_CART ||
                        ev->type == BVT_EVENT_REMOVE_FROM_CART || ev->type == BVT_EVENT_PURCHASE))
        out->item_hash = bvt_item_hash(ev->item_id, strlen(ev->item_id));
    if (ev->offer_id && bvt__feedback_type(ev->type)) {
        out->offer = bvt__interner_find(e->offers.names, ev->offer_id, strlen(ev->offer_id));
        out->offer_unknown = out->offer == 0;
    }
    out->dwell_ms = (int32_t)ev->dwell_ms;
    out->weight = (float)bvt__event_types_weight(&e->types, ev->type);
    *key = bvt__engine_key(e, ev->user_id, ev->user_id_len);
    return BVT_OK;
}

/* What reserving room for an event may change before the event is refused
 * (the ext block, the cart's room, the cap state), so a refusal can give it
 * back: it then changes nothing, memory figures included — it is not
 * journaled, and replay must rebuild what the engine held. */
typedef struct room_mark {
    int had_ext;
    uint8_t cart_cap;
    bvt_caps_mark caps;
} room_mark;

static void room_mark_take(const bvt_record *r, room_mark *mk)
{
    mk->had_ext = r->ext != NULL;
    mk->cart_cap = r->ext ? r->ext->cart_cap : 0;
    bvt__caps_mark_take(r->ext, &mk->caps);
}

static void room_give_back(bvt_record *r, bvt_mem *m, const room_mark *mk)
{
    if (!mk->had_ext) { /* everything hanging off r is this event's, and empty */
        bvt__profile_release(r, m);
        return;
    }
    bvt__caps_undo(r->ext, m, &mk->caps);
    bvt__cart_shrink(r->ext, m, mk->cart_cap);
}

/* One event, as a change of the user's profile (user_update.h). */
typedef struct event_change {
    bvt_engine *e;
    const bvt_resolved_event *ev;
    bvt_offer_set *offers; /* what its offer feedback reads */
    int offers_taken;
} event_change;

/* One attempt: offer feedback reserves its room first, and what a refused
 * attempt reserved is given back, so a refusal changes nothing.  The offer
 * catalog is taken at the first attempt, under the shard lock: a
 * definition published while changes are journaled holds every shard lock
 * (bvt__persist_hold), so the event reads the catalog its record follows. */
static int event_apply(void *ctx, bvt_shard *sh, bvt_record *r)
{
    event_change *c = ctx;
    room_mark mk;
    if (!c->offers_taken) {
        c->offers = c->ev->offer ? bvt__offers_acquire(&c->e->offers) : NULL;
        c->offers_taken = 1;
    }
    bvt__mem_begin(&sh->mem); /* each attempt is the change (batches share a lock) */
    room_mark_take(r, &mk);
    int rc = bvt__feedback_reserve(&sh->mem, r, c->ev, c->offers);
    if (rc == BVT_OK)
        rc = bvt__profile_apply(r, c->ev, &c->e->cfg, &sh->mem);
    if (rc != BVT_OK)
        room_give_back(r, &sh->mem, &mk);
    return rc;
}

static int event_commit(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const event_change *c = ctx;
    sh->events_accepted++;
    bvt__feedback_apply(c->e, r, c->ev, c->offers);
    return bvt__log_event(c->e, r, c->ev); /* under the shard lock: see persist.h */
}

/* A budget refusal evicts (policy permitting) and retries; a profile
 * created for this event goes again on failure. */
#define EVENT_UPDATE(c) \
    { .change = event_apply, .commit = event_commit, .ctx = &(c), .flags = BVT_UPDATE_EVICT }

/* Apply under the shard lock the caller holds (r found, or created). */
static int apply_locked(bvt_engine *e, bvt_shard *sh, bvt_record *r, int created,
                        const bvt_resolved_event *ev)
{
    event_change c = { e, ev, NULL, 0 };
    bvt_user_change u = EVENT_UPDATE(c);
    int rc = bvt__user_update_locked(e, sh, r, created, &u);
    bvt__offers_release(c.offers);
    return rc;
}

/* An event of a user without analytics consent, counted anonymously
 * (the shard lock held, so the journal sees it exactly once). */
static int divert(bvt_engine *e, const bvt_resolved_event *ev)
{
    int rc = bvt__analytics_divert(e, ev);
    return rc == BVT_OK ? bvt__log_anon_event(e, ev) : rc;
}

int bvt__track_apply_key(bvt_engine *e, bvt_user_key k, const bvt_resolved_event *ev)
{
    event_change c = { e, ev, NULL, 0 };
    bvt_user_change u = EVENT_UPDATE(c);
    u.flags |= BVT_UPDATE_CREATE;
    int rc = bvt__user_update(e, k, &u);
    bvt__offers_release(c.offers);
    return rc;
}

/* The whole path for one resolved event: the analytics policy, then as
 * bvt__track_apply_key. */
int bvt__track_key(bvt_engine *e, bvt_user_key k, const bvt_resolved_event *ev)
{
    if (e->analytics_policy == BVT_ANALYTICS_TRACK)
        return bvt__track_apply_key(e, k, ev);
    /* Consent first, before a profile is created (or another evicted). */
    bvt_shard *sh;
    bvt_record *r = bvt__engine_lock_key(e, k, &sh);
    int rc = bvt__analytics_blocked(e, r) ? divert(e, ev) : apply_locked(e, sh, r, 0, ev);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

/* Count refused events; journaled too, so the count survives a reopen
 * (best effort: a failed journal is reported by the next call).  Under a
 * shard lock, which a checkpoint's cut holds: the count and its record
 * fall on the same side of the cut, so a reopen never counts them twice. */
static void count_rejected(bvt_engine *e, uint64_t n)
{
    bvt_shard *sh = &e->store.shards[0];
    bvt__shard_lock(sh);
    atomic_fetch_add_explicit(&e->events_rejected, n, memory_order_relaxed);
    (void)bvt__log_rejected(e, n);
    pthread_mutex_unlock(&sh->lock);
}

/* A refused event's count is a change like any other: under
 * BVT_JOURNAL_ALWAYS it is durable when the call returns (a SIGKILL right
 * after it lost the count).  The refusal stays the call's status. */
static int rejected(bvt_engine *e, int rc)
{
    count_rejected(e, 1);
    (void)bvt__persist_commit(e);
    return rc;
}

int bvt_event_track(bvt_engine *e, const bvt_event *ev, bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    bvt_resolved_event rev;
    bvt_user_key k;
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK)
        return bvt__fail(err, rc, -1, "the journal has failed: nothing is accepted");
    rc = resolve(e, ev, &rev, &k, err); /* fills err itself */
    if (rc == BVT_OK) {
        rc = bvt__track_key(e, k, &rev);
        if (rc == BVT_OK)
            rc = bvt__persist_commit(e);
        if (rc != BVT_OK)
            bvt__fail(err, rc, -1, "%s", rc == BVT_EFULL ? "user table or memory budget full"
                                                        : bvt_strerror(rc));
    }
    return rc == BVT_OK ? rc : rejected(e, rc);
}

/* ---- batches ---- */

typedef struct batch_block {
    bvt_resolved_event ev[BATCH_BLOCK];
    bvt_user_key key[BATCH_BLOCK];
    uint16_t shard[BATCH_BLOCK];
    uint16_t order[BATCH_BLOCK]; /* block positions sorted by shard, stable */
    int code[BATCH_BLOCK];
} batch_block;

/* The record k's index slot points at, without confirming the key: good
 * enough for a prefetch, never used to update anything. */
static inline const bvt_record *guess_record(const bvt_shard *sh, const bvt_user_key *k)
{
    uint32_t tag = (uint32_t)k->hi;
    for (uint32_t i = (uint32_t)k->lo & sh->index_mask, probes = 0; probes < 4;
         i = (i + 1) & sh->index_mask, probes++) {
        uint64_t v = sh->index[i];
        if (v == 0)
            return NULL;
        if ((uint32_t)(v >> 32) == tag)
            return bvt__shard_record(sh, (uint32_t)v - 1);
    }
    return NULL;
}

static inline void prefetch_record(const bvt_shard *sh, const bvt_user_key *k)
{
    const char *r = (const char *)guess_record(sh, k);
    if (!r)
        return;
    for (size_t off = 0; off < sizeof(bvt_record); off += 64)
        __builtin_prefetch(r + off, 1);
    __builtin_prefetch(r + sizeof(bvt_record) - 1, 1);
}

/* Third stage: the record is in cache by now; fetch what hangs off it. */
static inline void prefetch_ext(const bvt_shard *sh, const bvt_user_key *k)
{
    const bvt_record *r = guess_record(sh, k);
    if (r && r->ext)
        __builtin_prefetch(r->ext, 1);
}

static inline void prefetch_history(const bvt_shard *sh, const bvt_user_key *k)
{
    const bvt_record *r = guess_record(sh, k);
    if (r && r->ext)
        bvt__history_prefetch(&r->ext->hist);
}

/* Under the reject policy, which new users get the last free places must
 * follow event order, as single calls would: a block that may fill the
 * table is applied in order, one lock per run of same-shard neighbours. */
static int keep_order(bvt_engine *e, size_t m)
{
    const bvt_store *s = &e->store;
    return s->max_users && s->full_policy == BVT_FULL_REJECT &&
           atomic_load_explicit(&((bvt_store *)s)->users, memory_order_relaxed) + m > s->max_users;
}

static void sort_by_shard(batch_block *b, size_t n, uint32_t n_shards, int keep)
{
    if (n_shards == 1 || keep) {
        for (size_t i = 0; i < n; i++)
            b->order[i] = (uint16_t)i;
        return;
    }
    uint32_t start[4097] = { 0 };
    for (size_t i = 0; i < n; i++)
        start[b->shard[i] + 1]++;
    for (uint32_t s = 0; s < n_shards; s++)
        start[s + 1] += start[s];
    for (size_t i = 0; i < n; i++)
        b->order[start[b->shard[i]]++] = (uint16_t)i;
}

/* Apply the valid events of a block, one lock per run of the same shard. */
static void apply_block(bvt_engine *e, batch_block *b, size_t n)
{
    /* Prefetch distances: each stage needs the previous one's line. */
    enum { D_INDEX = 16, D_RECORD = 8, D_EXT = 4, D_HISTORY = 2 };
    size_t i = 0;
    while (i < n) {
        uint32_t s = b->shard[b->order[i]];
        size_t end = i;
        while (end < n && b->shard[b->order[end]] == s)
            end++;
        bvt_shard *sh = &e->store.shards[s];
        bvt__shard_lock(sh);
        for (size_t j = i; j < end && j < i + D_INDEX; j++)
            bvt__shard_prefetch(sh, &b->key[b->order[j]]);
        for (size_t j = i; j < end && j < i + D_RECORD; j++)
            prefetch_record(sh, &b->key[b->order[j]]);
        for (size_t j = i; j < end; j++) {
            if (j + D_INDEX < end)
                bvt__shard_prefetch(sh, &b->key[b->order[j + D_INDEX]]);
            if (j + D_RECORD < end)
                prefetch_record(sh, &b->key[b->order[j + D_RECORD]]);
            if (j + D_EXT < end)
                prefetch_ext(sh, &b->key[b->order[j + D_EXT]]);
            if (j + D_HISTORY < end)
                prefetch_history(sh, &b->key[b->order[j + D_HISTORY]]);
            uint16_t p = b->order[j];
            if (b->code[p] != BVT_OK)
                continue;
            bvt_record *r = bvt__shard_find(sh, &b->key[p]);
            int created = 0;
            bvt_user_key to;
            if (!r && bvt__aliases_find(&e->aliases, &b->key[p], &to)) {
                /* rare: the profile lives under another key, maybe another shard */
                pthread_mutex_unlock(&sh->lock);
                b->code[p] = bvt__track_key(e, to, &b->ev[p]);
                bvt__shard_lock(sh);
                continue;
            }
            if (bvt__analytics_blocked(e, r)) { /* before a profile is created */
                b->code[p] = divert(e, &b->ev[p]);
                continue;
            }
            if (!r) {
                b->code[p] = bvt__shard_add(sh, &e->store, &b->key[p], NULL, &r);
                if (b->code[p] != BVT_OK)
                    continue;
                created = 1;
            }
            b->code[p] = apply_locked(e, sh, r, created, &b->ev[p]);
        }
        pthread_mutex_unlock(&sh->lock);
        i = end;
    }
}

/* A block from the engine's pool, or a new one. */
static batch_block *block_take(bvt_engine *e)
{
    batch_block *b = NULL;
    pthread_mutex_lock(&e->pool_lock);
    if (e->pool_len)
        b = e->pool[--e->pool_len];
    pthread_mutex_unlock(&e->pool_lock);
    return b ? b : malloc(sizeof *b);
}

static void block_give(bvt_engine *e, batch_block *b)
{
    pthread_mutex_lock(&e->pool_lock);
    if (e->pool_len < BVT_BATCH_POOL)
        e->pool[e->pool_len++] = b, b = NULL;
    pthread_mutex_unlock(&e->pool_lock);
    free(b);
}

void bvt__batch_pool_scrub(bvt_engine *e)
{
    pthread_mutex_lock(&e->pool_lock);
    for (uint32_t i = 0; i < e->pool_len; i++)
        memset(e->pool[i]->key, 0, sizeof e->pool[i]->key);
    pthread_mutex_unlock(&e->pool_lock);
}

void bvt__batch_pool_free(bvt_engine *e)
{
    while (e->pool_len)
        free(e->pool[--e->pool_len]);
}

int bvt_event_track_batch(bvt_engine *e, const bvt_event *events, size_t n,
                          bvt_batch_error *failures, size_t failures_cap, size_t *out_failed,
                          bvt_error *err)
{
    if (out_failed)
        *out_failed = 0;
    if (!e || (!events && n > 0))
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL, or events is NULL with n > 0");
    if (n > BVT_EVENT_BATCH_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "n (%zu events) is above the limit "
                        "BVT_EVENT_BATCH_MAX (%d): send them in several calls", n,
                        BVT_EVENT_BATCH_MAX);
    if (n == 0)
        return BVT_OK;
    int jrc = bvt__persist_check(e);
    if (jrc != BVT_OK)
        return bvt__fail(err, jrc, -1, "the journal has failed: nothing is accepted");
    batch_block *b = block_take(e);
    if (!b)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory for a batch block");
    size_t failed = 0;
    int first_rc = BVT_OK;
    for (size_t base = 0; base < n; base += BATCH_BLOCK) {
        size_t m = n - base < BATCH_BLOCK ? n - base : BATCH_BLOCK, block_failed = 0;
        for (size_t i = 0; i < m; i++) {
            /* resolve() writes err only on failure: detail for the first one */
            b->code[i] = resolve(e, &events[base + i], &b->ev[i], &b->key[i],
                                 first_rc == BVT_OK ? err : NULL);
            b->shard[i] = b->code[i] == BVT_OK
                              ? (uint16_t)(bvt__store_shard(&e->store, &b->key[i]) - e->store.shards)
                              : 0;
            if (b->code[i] != BVT_OK && first_rc == BVT_OK) {
                first_rc = b->code[i];
                if (err)
                    err->offset = (int64_t)(base + i);
            }
        }
        sort_by_shard(b, m, e->store.n_shards, keep_order(e, m));
        apply_block(e, b, m);
        for (size_t i = 0; i < m; i++) {
            if (b->code[i] == BVT_OK)
                continue;
            if (failed < failures_cap && failures)
                failures[failed] = (bvt_batch_error){ base + i, b->code[i] };
            if (failed == 0 && first_rc == BVT_OK)
                first_rc = b->code[i];
            if (failed == 0 && err && err->offset != (int64_t)(base + i))
                bvt__fail(err, b->code[i], (int64_t)(base + i), "event %zu: %s", base + i,
                         bvt_strerror(b->code[i]));
            failed++;
            block_failed++;
        }
        if (block_failed)
            count_rejected(e, block_failed);
    }
    block_give(e, b);
    if (out_failed)
        *out_failed = failed;
    jrc = bvt__persist_commit(e);
    if (jrc != BVT_OK) /* the accepted events are in memory, not durable */
        return bvt__fail(err, jrc, -1, "the journal failed: the batch is not durable");
    return failed ? first_rc : BVT_OK;
}
