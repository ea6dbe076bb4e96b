/* alias.h — ids merged into another profile (identity resolution).
 * A small open-addressing map anon key → known key under one mutex; the
 * track path asks it only when a user is not found, and skips it entirely
 * while no alias exists. */
#ifndef BVT_ALIAS_H
#define BVT_ALIAS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "behavtarget.h"

typedef struct bvt_aliases {
    pthread_mutex_t lock;
    bvt_user_key *from, *to; /* slot empty when from is (0, 0) */
    uint32_t mask, max;
    _Atomic uint32_t count;
} bvt_aliases;

int bvt__aliases_init(bvt_aliases *a, uint32_t max);
void bvt__aliases_destroy(bvt_aliases *a);

/* 1 and *to set when k is an alias, else 0. */
int bvt__aliases_find(bvt_aliases *a, const bvt_user_key *k, bvt_user_key *to);

/* Record anon → known; earlier aliases of anon's own id now point to known.
 * BVT_OK; BVT_EEXIST (anon is an alias of another id, or known is an alias);
 * BVT_ELIMIT; BVT_ENOMEM. */
int bvt__aliases_add(bvt_aliases *a, const bvt_user_key *anon, const bvt_user_key *known);

/* Remove id's own entry and every entry that points to target (erasure);
 * returns how many went.  Deletion shifts the following entries of the
 * probe run back (no tombstones), so lookups stay as short as before. */
uint32_t bvt__aliases_forget(bvt_aliases *a, const bvt_user_key *id, const bvt_user_key *target);

/* Remove every entry pointing to one of the n targets, sorted by
 * bvt__user_key_cmp (retention); returns how many went. */
uint32_t bvt__aliases_remove_targets(bvt_aliases *a, const bvt_user_key *targets, size_t n);

/* Call fn for the source key of every entry pointing to target, under the
 * map's lock (export); fn must not call back into the map. */
void bvt__aliases_foreach_to(bvt_aliases *a, const bvt_user_key *target,
                            void (*fn)(const bvt_user_key *from, void *ud), void *ud);

/* Call fn for every entry, under the map's lock (snapshots); fn must not
 * call back into the map. */
void bvt__aliases_foreach(bvt_aliases *a,
                         void (*fn)(const bvt_user_key *from, const bvt_user_key *to, void *ud),
                         void *ud);

/* Order of keys (hi, then lo): <0, 0, >0. */
static inline int bvt__user_key_cmp(const bvt_user_key *x, const bvt_user_key *y)
{
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

size_t bvt__aliases_bytes(bvt_aliases *a);

#endif
