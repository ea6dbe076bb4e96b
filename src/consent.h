/* consent.h — consent per purpose: the engine's purpose names and each
 * profile's recorded choices.
 *
 * Purposes are ids 0..31: three built in, the rest registered by name and
 * never removed (compiled rules keep their ids).  Registration is serialised
 * by a mutex and published with a release store of the count, so lock-free
 * readers that see an id valid also see its name.
 *
 * A profile keeps what rules read, the granted purposes, as a mask in its
 * ext; and, once the user has chosen anything, a small block with the latest
 * choice per purpose and its time, which orders late arrivals and merges.
 * No block means no choice: nothing is granted.  The profile functions run
 * under the shard lock; the block is accounted as BVT_MEM_ATTRS. */
#ifndef BVT_CONSENT_H
#define BVT_CONSENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* BVT_PURPOSES_MAX (32, public) ids fit the ext's 32-bit mask. */
#define BVT_PURPOSE_NAME_MAX 31

typedef struct bvt_purposes {
    pthread_mutex_t lock; /* serialises registration */
    _Atomic uint32_t n;   /* ids below n are valid */
    char names[BVT_PURPOSES_MAX][BVT_PURPOSE_NAME_MAX + 1];
} bvt_purposes;

void bvt_purposes_init(bvt_purposes *p);
void bvt_purposes_destroy(bvt_purposes *p);

/* Id of a purpose name (len bytes, no NUL needed): BVT_OK or BVT_ENOTFOUND. */
int bvt_purposes_find(const bvt_purposes *p, const char *name, size_t len, uint32_t *out);

/* One user's latest choice for one purpose. */
typedef struct bvt_consent_choice {
    int64_t t_ms;
    uint32_t purpose;
    uint32_t granted; /* 0 or 1 */
} bvt_consent_choice;

/* The choices a user ever made, one per purpose, in no order. */
struct bvt_consent_log {
    uint32_t len;
    uint32_t unused;
    bvt_consent_choice c[];
};

/* Record a choice unless the user's last one for the purpose is later (at
 * equal times a denial wins, so the order of arrival does not matter).
 * BVT_OK; BVT_EFULL / BVT_ENOMEM when a first choice for the purpose cannot
 * be stored (x is then unchanged). */
int bvt_consent_record(bvt_ext *x, bvt_mem *m, uint32_t purpose, int granted, int64_t t_ms);

/* 1 if x has purpose granted (x may be NULL). */
static inline int bvt_consent_granted(const bvt_ext *x, uint32_t purpose)
{
    return x && purpose < BVT_PURPOSES_MAX && (x->consent_granted >> purpose & 1u);
}

/* Fold src's choices into dst, per purpose the later one; src keeps no
 * block afterwards.  m accounts dst (and already holds src's bytes). */
void bvt_consent_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m);

/* Bytes of x's block. */
size_t bvt_consent_bytes(const bvt_ext *x);

void bvt_consent_release(bvt_ext *x, bvt_mem *m);

#endif
