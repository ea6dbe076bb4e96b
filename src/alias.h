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

int bvt_aliases_init(bvt_aliases *a, uint32_t max);
void bvt_aliases_destroy(bvt_aliases *a);

/* 1 and *to set when k is an alias, else 0. */
int bvt_aliases_find(bvt_aliases *a, const bvt_user_key *k, bvt_user_key *to);

/* Record anon → known; earlier aliases of anon's own id now point to known.
 * BVT_OK; BVT_EEXIST (anon is an alias of another id, or known is an alias);
 * BVT_ELIMIT; BVT_ENOMEM. */
int bvt_aliases_add(bvt_aliases *a, const bvt_user_key *anon, const bvt_user_key *known);

size_t bvt_aliases_bytes(bvt_aliases *a);

#endif
