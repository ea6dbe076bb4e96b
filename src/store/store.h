/* store.h — the profile store: shards of fixed-size records.
 *
 * Each shard has a mutex, an open-addressing index (linear probing, 8-byte
 * slots holding a 32-bit tag and the record number) and its records in
 * chunks that never move, so iteration can resume by record number.
 * Removed records become free slots (key 0) reused by new users; nothing is
 * compacted, so a concurrent iteration never skips a user.
 * The key's top bits pick the shard, its low bits the index slot. */
#ifndef BVT_STORE_H
#define BVT_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "behavtarget.h"
#include "mem.h"
#include "profile.h"

#define BVT_CHUNK_BITS 5 /* 32 records a chunk: small slack per shard */
#define BVT_CHUNK_RECORDS (1u << BVT_CHUNK_BITS)

struct bvt_store;

typedef struct bvt_shard {
    pthread_mutex_t lock;
    struct bvt_store *store;
    uint64_t *index;        /* slot = tag << 32 | (record number + 1); 0 = empty */
    uint32_t index_mask;
    uint32_t live;          /* records in use */
    uint32_t high_water;    /* record numbers handed out */
    uint32_t free_head;     /* record number + 1 of a free record, 0 = none */
    bvt_record **chunks;
    uint32_t n_chunks;
    uint64_t generation;    /* bumps when records are added or removed */
    uint64_t events_accepted;
    uint64_t evicted;
    uint64_t rng;           /* eviction sampling */
    bvt_mem mem;
    struct bvt_shard_debt *snap; /* a snapshot's copy of this shard still to make, or NULL */
} __attribute__((aligned(64))) bvt_shard;

/* Told of each eviction under the victim's shard lock, before it goes (the
 * journal records evictions, so replay never has to choose a victim).  A
 * non-OK return cancels the eviction. */
typedef int (*bvt_evict_fn)(void *ud, const bvt_user_key *victim);

/* Releases a record's variable parts (its bvt_ext: history, cart,
 * attributes, consent, experiment entries, caps) into m before the store
 * frees or reuses the record.  The engine installs bvt__profile_release
 * (engine.c): the store stays below profile.c, whose release reaches
 * consent and experiments. */
typedef void (*bvt_release_fn)(void *ud, bvt_record *r, bvt_mem *m);

typedef struct bvt_store {
    bvt_shard *shards;
    uint32_t n_shards;
    uint32_t shard_shift;   /* 64 - log2(n_shards) */
    uint32_t full_policy;
    uint64_t max_users;     /* 0 = unlimited */
    uint64_t memory_budget; /* as given; 0 = unlimited */
    _Atomic uint64_t users; /* live records in all shards */
    bvt_evict_fn on_evict;  /* or NULL */
    void *on_evict_ud;
    bvt_release_fn release; /* or NULL: records never get variable parts */
    void *release_ud;
} bvt_store;

int bvt__store_init(bvt_store *s, uint32_t shards, uint64_t max_users, uint64_t memory_budget,
                   uint32_t full_policy);
void bvt__store_destroy(bvt_store *s);

/* Set the user limit and memory budget (0 = none).  Replay runs with none:
 * what the limits decided when the journal was written is in it.  No shard
 * lock is taken: only while nobody else uses the store. */
void bvt__store_set_limits(bvt_store *s, uint64_t max_users, uint64_t memory_budget);

/* Take every shard lock, in index order (the only order two holders may
 * use), and release them: a snapshot's cut, and a definition published
 * against the events that read it (bvt__persist_hold). */
void bvt__store_lock_all(bvt_store *s);
void bvt__store_unlock_all(bvt_store *s);

/* Size every shard's index for `users` in all (loading a snapshot), so
 * adding them never rehashes.  No shard lock is taken: only for a store
 * nobody else uses yet.  BVT_OK; BVT_EFULL (budget); BVT_ENOMEM. */
int bvt__store_presize(bvt_store *s, uint64_t users);

static inline bvt_shard *bvt__store_shard(const bvt_store *s, const bvt_user_key *k)
{
    return &s->shards[s->n_shards == 1 ? 0 : k->hi >> s->shard_shift];
}

static inline bvt_record *bvt__shard_record(const bvt_shard *sh, uint32_t num)
{
    return &sh->chunks[num >> BVT_CHUNK_BITS][num & (BVT_CHUNK_RECORDS - 1)];
}

/* Hint the cache about k's index slot. */
static inline void bvt__shard_prefetch(const bvt_shard *sh, const bvt_user_key *k)
{
    if (sh->index)
        __builtin_prefetch(&sh->index[k->lo & sh->index_mask]);
}

/* A copy of a shard a snapshot still owes (snapshot.c embeds this first in
 * its job): pay() makes it, the shard's lock held, and clears sh->snap. */
typedef struct bvt_shard_debt {
    void (*pay)(bvt_shard *sh);
} bvt_shard_debt;

/* Lock a shard.  Every shard lock goes through here (or bvt__shard_trylock):
 * a snapshot in progress marks the shards it has yet to copy, and whoever
 * locks one first copies it, so nothing changes a shard before its copy
 * and tracking waits for one shard's copy at most (snapshot.c). */
static inline void bvt__shard_lock(bvt_shard *sh)
{
    pthread_mutex_lock(&sh->lock);
    if (sh->snap)
        sh->snap->pay(sh);
    bvt__mem_begin(&sh->mem); /* what the lock is taken for is one change */
}

/* As bvt__shard_lock when the lock is free; 0 when taken, else non-zero. */
static inline int bvt__shard_trylock(bvt_shard *sh)
{
    if (pthread_mutex_trylock(&sh->lock) != 0)
        return -1;
    if (sh->snap)
        sh->snap->pay(sh);
    bvt__mem_begin(&sh->mem);
    return 0;
}

/* The rest run with sh->lock held. */

/* Record of k, or NULL. */
bvt_record *bvt__shard_find(bvt_shard *sh, const bvt_user_key *k);

/* Add a zeroed record for k (which must be absent).  When the store is at
 * max_users, or the shard's memory budget refuses the space, the full
 * policy decides: BVT_EFULL, or evict an approximately least-recently-seen
 * record other than `keep` (may be NULL) — from this shard, or from another
 * shard whose lock is free at that moment.  BVT_OK, BVT_EFULL or BVT_ENOMEM. */
int bvt__shard_add(bvt_shard *sh, const bvt_store *s, const bvt_user_key *k,
                  const bvt_record *keep, bvt_record **out);

/* As bvt__shard_add for a record that takes the place of `replaced`, which
 * the caller removes right after (aliasing): the user count may pass
 * max_users for that moment, so a full table can still resolve identities. */
int bvt__shard_add_replacing(bvt_shard *sh, const bvt_store *s, const bvt_user_key *k,
                            const bvt_record *replaced, bvt_record **out);

/* Remove k's record as an eviction (counted, on_evict not called): the
 * replay of a journaled eviction.  BVT_OK or BVT_ENOTFOUND. */
int bvt__shard_evict_key(bvt_shard *sh, const bvt_user_key *k);

/* Release r's profile (through s->release) and remove it. */
void bvt__shard_remove(bvt_shard *sh, bvt_record *r);
/* The same for the live record number num (a pass by record number need
 * not search the chunks for it). */
void bvt__shard_remove_at(bvt_shard *sh, uint32_t num);

/* Evict one approximately least-recently-seen record other than keep, if
 * the policy allows.  BVT_OK; BVT_EFULL (reject policy, or nothing else);
 * or what on_evict returned. */
int bvt__shard_evict_one(bvt_shard *sh, const bvt_store *s, const bvt_record *keep);

static inline int bvt__record_live(const bvt_record *r)
{
    return (r->key_hi | r->key_lo) != 0;
}

#endif
