/* store.c — sharded open-addressing table of fixed-size records. */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "store.h"

#define MIN_INDEX 64u
/* A free record keeps the next free record number + 1 in its `events`. */
#define NEXT_FREE(r) ((r)->events)

static uint32_t next_pow2(uint64_t v)
{
    uint32_t p = MIN_INDEX;
    while (p < v && p < (1u << 31))
        p <<= 1;
    return p;
}

/* Hand r's variable parts back through the engine's release hook. */
static void release_record(const bvt_store *s, bvt_record *r, bvt_mem *m)
{
    if (s->release)
        s->release(s->release_ud, r, m);
}

static int index_alloc(bvt_shard *sh, uint32_t slots)
{
    void *p = NULL;
    int rc = bvt__mem_resize(&sh->mem, BVT_MEM_TABLE, &p, 0, (size_t)slots * sizeof(uint64_t));
    if (rc != BVT_OK)
        return rc;
    memset(p, 0, (size_t)slots * sizeof(uint64_t));
    sh->index = p;
    sh->index_mask = slots - 1;
    return BVT_OK;
}

/* Each shard's part of the budget, which covers per-user memory: the
 * shard structs themselves are fixed. */
static uint64_t shard_budget(const bvt_store *s, uint64_t memory_budget)
{
    uint64_t fixed = sizeof(bvt_shard) * s->n_shards;
    return memory_budget ? (memory_budget - fixed) / s->n_shards : 0;
}

void bvt__store_set_limits(bvt_store *s, uint64_t max_users, uint64_t memory_budget)
{
    s->max_users = max_users;
    s->memory_budget = memory_budget;
    for (uint32_t i = 0; i < s->n_shards; i++)
        s->shards[i].mem.limit = shard_budget(s, memory_budget);
}

void bvt__store_lock_all(bvt_store *s)
{
    for (uint32_t i = 0; i < s->n_shards; i++)
        pthread_mutex_lock(&s->shards[i].lock);
}

void bvt__store_unlock_all(bvt_store *s)
{
    for (uint32_t i = 0; i < s->n_shards; i++)
        pthread_mutex_unlock(&s->shards[i].lock);
}

int bvt__store_init(bvt_store *s, uint32_t shards, uint64_t max_users, uint64_t memory_budget,
                   uint32_t full_policy)
{
    memset(s, 0, sizeof *s);
    s->shards = aligned_alloc(64, sizeof(bvt_shard) * shards);
    if (!s->shards)
        return BVT_ENOMEM;
    memset(s->shards, 0, sizeof(bvt_shard) * shards);
    s->n_shards = shards;
    uint32_t bits = 0;
    while ((1u << bits) < shards)
        bits++;
    s->shard_shift = 64 - bits;
    s->full_policy = full_policy;
    s->max_users = max_users;
    s->memory_budget = memory_budget;
    /* Shards fill unevenly: presize for the mean plus a margin. */
    uint64_t per_shard = max_users ? (max_users + shards - 1) / shards : 0;
    per_shard += per_shard / 8 + (per_shard ? 16 : 0);
    for (uint32_t i = 0; i < shards; i++) {
        bvt_shard *sh = &s->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->store = s;
        sh->mem.limit = shard_budget(s, memory_budget);
        sh->rng = 0x9E3779B97F4A7C15ull * (i + 1);
        /* Presize for the limit (load <= 3/4) so a full table never rehashes. */
        uint64_t want = per_shard ? per_shard * 4 / 3 + 1 : MIN_INDEX;
        int rc = index_alloc(sh, next_pow2(want));
        if (rc != BVT_OK) {
            s->n_shards = i + 1;
            bvt__store_destroy(s);
            return rc;
        }
    }
    return BVT_OK;
}

void bvt__store_destroy(bvt_store *s)
{
    if (!s->shards)
        return;
    for (uint32_t i = 0; i < s->n_shards; i++) {
        bvt_shard *sh = &s->shards[i];
        for (uint32_t n = 0; n < sh->high_water; n++) {
            bvt_record *r = bvt__shard_record(sh, n);
            if (bvt__record_live(r))
                release_record(s, r, &sh->mem);
        }
        for (uint32_t c = 0; c < sh->n_chunks; c++)
            free(sh->chunks[c]);
        free(sh->chunks);
        free(sh->index);
        pthread_mutex_destroy(&sh->lock);
    }
    free(s->shards);
    s->shards = NULL;
}

static inline uint64_t slot_value(const bvt_user_key *k, uint32_t num)
{
    return (uint64_t)(uint32_t)k->hi << 32 | (uint64_t)(num + 1);
}

bvt_record *bvt__shard_find(bvt_shard *sh, const bvt_user_key *k)
{
    uint32_t tag = (uint32_t)k->hi;
    for (uint32_t i = (uint32_t)k->lo & sh->index_mask;; i = (i + 1) & sh->index_mask) {
        uint64_t v = sh->index[i];
        if (v == 0)
            return NULL;
        if ((uint32_t)(v >> 32) == tag) {
            bvt_record *r = bvt__shard_record(sh, (uint32_t)v - 1);
            if (r->key_hi == k->hi && r->key_lo == k->lo)
                return r;
        }
    }
}

static void index_insert(uint64_t *index, uint32_t mask, uint64_t key_lo, uint64_t value)
{
    uint32_t i = (uint32_t)key_lo & mask;
    while (index[i])
        i = (i + 1) & mask;
    index[i] = value;
}

/* Rehash into `slots` (a power of two larger than now). */
static int index_resize(bvt_shard *sh, uint32_t slots)
{
    uint64_t *old = sh->index;
    uint32_t old_slots = sh->index_mask + 1;
    sh->index = NULL;
    int rc = index_alloc(sh, slots);
    if (rc != BVT_OK) {
        sh->index = old;
        return rc;
    }
    for (uint32_t i = 0; i < old_slots; i++)
        if (old[i]) {
            const bvt_record *r = bvt__shard_record(sh, (uint32_t)old[i] - 1);
            index_insert(sh->index, sh->index_mask, r->key_lo, old[i]);
        }
    void *p = old;
    bvt__mem_resize(&sh->mem, BVT_MEM_TABLE, &p, (size_t)old_slots * sizeof(uint64_t), 0);
    return BVT_OK;
}

static int index_grow(bvt_shard *sh)
{
    return index_resize(sh, (sh->index_mask + 1) * 2);
}

int bvt__store_presize(bvt_store *s, uint64_t users)
{
    uint64_t per_shard = (users + s->n_shards - 1) / s->n_shards;
    per_shard += per_shard / 8 + 16; /* shards fill unevenly */
    uint32_t want = next_pow2(per_shard * 4 / 3 + 1);
    for (uint32_t i = 0; i < s->n_shards; i++) {
        bvt_shard *sh = &s->shards[i];
        if (sh->index_mask + 1 < want) {
            int rc = index_resize(sh, want);
            if (rc != BVT_OK)
                return rc;
        }
    }
    return BVT_OK;
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void index_remove(bvt_shard *sh, const bvt_record *r, uint32_t num)
{
    uint32_t mask = sh->index_mask;
    uint64_t want = (uint64_t)(uint32_t)r->key_hi << 32 | (uint64_t)(num + 1);
    uint32_t i = (uint32_t)r->key_lo & mask;
    while (sh->index[i] != want)
        i = (i + 1) & mask;
    for (uint32_t j = (i + 1) & mask; sh->index[j]; j = (j + 1) & mask) {
        const bvt_record *o = bvt__shard_record(sh, (uint32_t)sh->index[j] - 1);
        uint32_t home = (uint32_t)o->key_lo & mask;
        /* move j back to i unless its home lies cyclically in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            sh->index[i] = sh->index[j];
            i = j;
        }
    }
    sh->index[i] = 0;
}

static uint32_t record_number(const bvt_shard *sh, const bvt_record *r)
{
    for (uint32_t c = 0; c < sh->n_chunks; c++) {
        const bvt_record *base = sh->chunks[c];
        if (r >= base && r < base + BVT_CHUNK_RECORDS)
            return c * BVT_CHUNK_RECORDS + (uint32_t)(r - base);
    }
    abort(); /* not ours: a bug */
}

static void remove_numbered(bvt_shard *sh, bvt_record *r, uint32_t num)
{
    release_record(sh->store, r, &sh->mem);
    index_remove(sh, r, num);
    memset(r, 0, sizeof *r);
    NEXT_FREE(r) = sh->free_head;
    sh->free_head = num + 1;
    sh->live--;
    sh->generation++;
    atomic_fetch_sub_explicit(&sh->store->users, 1, memory_order_relaxed);
}

void bvt__shard_remove(bvt_shard *sh, bvt_record *r)
{
    remove_numbered(sh, r, record_number(sh, r));
}

void bvt__shard_remove_at(bvt_shard *sh, uint32_t num)
{
    remove_numbered(sh, bvt__shard_record(sh, num), num);
}

int bvt__shard_evict_one(bvt_shard *sh, const bvt_store *s, const bvt_record *keep)
{
    if (s->full_policy != BVT_FULL_EVICT_LRU || sh->high_water == 0)
        return BVT_EFULL;
    /* Sample like Redis' approximate LRU: the oldest of a few random users. */
    bvt_record *victim = NULL;
    uint32_t victim_num = 0;
    for (int tries = 0, seen = 0; tries < 64 && seen < 16; tries++) {
        uint32_t n = (uint32_t)(bvt__rng_next(&sh->rng) % sh->high_water);
        bvt_record *r = bvt__shard_record(sh, n);
        if (!bvt__record_live(r) || r == keep)
            continue;
        seen++;
        if (!victim || r->last_seen_ms < victim->last_seen_ms) {
            victim = r;
            victim_num = n;
        }
    }
    for (uint32_t n = 0; n < sh->high_water && !victim; n++) {
        bvt_record *r = bvt__shard_record(sh, n); /* sparse shard: first live record */
        if (bvt__record_live(r) && r != keep) {
            victim = r;
            victim_num = n;
        }
    }
    if (!victim)
        return BVT_EFULL;
    if (s->on_evict) {
        int rc = s->on_evict(s->on_evict_ud, &(bvt_user_key){ victim->key_hi, victim->key_lo });
        if (rc != BVT_OK)
            return rc;
    }
    remove_numbered(sh, victim, victim_num);
    sh->evicted++;
    /* the change that needed the room starts again from here, as replay
     * starts it after the eviction's record (mem.h) */
    bvt__mem_begin(&sh->mem);
    return BVT_OK;
}

int bvt__shard_evict_key(bvt_shard *sh, const bvt_user_key *k)
{
    bvt_record *r = bvt__shard_find(sh, k);
    if (!r)
        return BVT_ENOTFOUND;
    bvt__shard_remove(sh, r);
    sh->evicted++;
    return BVT_OK;
}

/* A record number for a new user: a free one, or a fresh one in a chunk. */
static int take_record(bvt_shard *sh, uint32_t *out)
{
    if (sh->free_head) {
        *out = sh->free_head - 1;
        sh->free_head = NEXT_FREE(bvt__shard_record(sh, *out));
        return BVT_OK;
    }
    if (sh->high_water == UINT32_MAX - 1)
        return BVT_EFULL;
    if (sh->high_water == sh->n_chunks * BVT_CHUNK_RECORDS) {
        void *list = sh->chunks;
        int rc = bvt__mem_resize(&sh->mem, BVT_MEM_TABLE, &list,
                                sh->n_chunks * sizeof(bvt_record *),
                                (sh->n_chunks + 1) * sizeof(bvt_record *));
        if (rc != BVT_OK)
            return rc;
        sh->chunks = list;
        void *chunk = NULL;
        rc = bvt__mem_resize(&sh->mem, BVT_MEM_TABLE, &chunk, 0,
                            BVT_CHUNK_RECORDS * sizeof(bvt_record));
        if (rc != BVT_OK)
            return rc; /* the longer list is harmless */
        memset(chunk, 0, BVT_CHUNK_RECORDS * sizeof(bvt_record));
        sh->chunks[sh->n_chunks++] = chunk;
    }
    *out = sh->high_water++;
    return BVT_OK;
}

/* Count one more user against max_users, evicting when the policy allows:
 * from this shard, else from any other shard whose lock is free (trylock,
 * so two shards never wait on each other). */
static int reserve_user(bvt_shard *sh, const bvt_store *s, const bvt_record *keep)
{
    bvt_store *st = (bvt_store *)s;
    for (;;) {
        uint64_t n = atomic_fetch_add_explicit(&st->users, 1, memory_order_relaxed);
        if (!s->max_users || n < s->max_users)
            return BVT_OK;
        atomic_fetch_sub_explicit(&st->users, 1, memory_order_relaxed);
        if (s->full_policy != BVT_FULL_EVICT_LRU)
            return BVT_EFULL;
        if (bvt__shard_evict_one(sh, s, keep) == BVT_OK)
            continue;
        int evicted = 0;
        for (uint32_t i = 0; i < s->n_shards && !evicted; i++) {
            bvt_shard *o = &s->shards[i];
            if (o == sh || bvt__shard_trylock(o) != 0)
                continue;
            evicted = bvt__shard_evict_one(o, s, NULL) == BVT_OK;
            pthread_mutex_unlock(&o->lock);
        }
        if (!evicted)
            return BVT_EFULL;
    }
}

static int add_record(bvt_shard *sh, const bvt_store *s, const bvt_user_key *k,
                      const bvt_record *keep, bvt_record **out, int within_limit)
{
    int rc = BVT_OK;
    if (within_limit)
        rc = reserve_user(sh, s, keep);
    else
        atomic_fetch_add_explicit(&sh->store->users, 1, memory_order_relaxed);
    if (rc != BVT_OK)
        return rc;
    while ((uint64_t)(sh->live + 1) * 4 > (uint64_t)(sh->index_mask + 1) * 3) {
        rc = index_grow(sh);
        if (rc == BVT_EFULL)
            rc = bvt__shard_evict_one(sh, s, keep);
        if (rc != BVT_OK)
            goto unreserve;
    }
    uint32_t num;
    while ((rc = take_record(sh, &num)) != BVT_OK)
        if (rc != BVT_EFULL || bvt__shard_evict_one(sh, s, keep) != BVT_OK)
            goto unreserve;
    bvt_record *r = bvt__shard_record(sh, num);
    memset(r, 0, sizeof *r);
    r->key_hi = k->hi;
    r->key_lo = k->lo;
    index_insert(sh->index, sh->index_mask, k->lo, slot_value(k, num));
    sh->live++;
    sh->generation++;
    *out = r;
    return BVT_OK;
unreserve:
    atomic_fetch_sub_explicit(&sh->store->users, 1, memory_order_relaxed);
    return rc;
}

int bvt__shard_add(bvt_shard *sh, const bvt_store *s, const bvt_user_key *k,
                  const bvt_record *keep, bvt_record **out)
{
    return add_record(sh, s, k, keep, out, 1);
}

int bvt__shard_add_replacing(bvt_shard *sh, const bvt_store *s, const bvt_user_key *k,
                            const bvt_record *replaced, bvt_record **out)
{
    return add_record(sh, s, k, replaced, out, 0);
}
