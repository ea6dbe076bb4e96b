/* consent_state.h — one profile's consent choices, as plain data in the
 * profile's ext: the mask of granted purposes rules read and, once the user
 * has chosen anything, a small block with the latest choice per purpose and
 * its time, which orders late arrivals and merges.  No block means no
 * choice: nothing is granted.
 *
 * Owns: the block's layout, recording a choice, merging two profiles'
 * choices, its bytes and release, and its snapshot encoding.  The profile
 * layer (profile.c, profile_persist.c) calls this, not consent.c, so it
 * stays below the engine.
 *
 * May call: mem.h (accounting) and codec.h (encoding) only: no engine,
 * store locks, journal, segments, rules or offers.  Purpose names and the
 * public calls are consent.h's; a purpose here is only an id below
 * BVT_PURPOSES_MAX.  Every function runs under the shard lock of the
 * record; the block is accounted as BVT_MEM_ATTRS. */
#ifndef BVT_CONSENT_STATE_H
#define BVT_CONSENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"
#include "codec.h"
#include "mem.h"
#include "profile.h"

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
int bvt__consent_record(bvt_ext *x, bvt_mem *m, uint32_t purpose, int granted, int64_t t_ms);

/* 1 if x has purpose granted (x may be NULL). */
static inline int bvt__consent_granted(const bvt_ext *x, uint32_t purpose)
{
    return x && purpose < BVT_PURPOSES_MAX && (x->consent_granted >> purpose & 1u);
}

/* Fold src's choices into dst, per purpose the later one; src keeps no
 * block afterwards.  m accounts dst (and already holds src's bytes). */
void bvt__consent_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m);

/* Bytes of x's block. */
size_t bvt__consent_bytes(const bvt_ext *x);

void bvt__consent_release(bvt_ext *x, bvt_mem *m);

/* ---- the snapshot encoding (part of the profile's, docs/format.md) ---- */

/* Append x's granted mask and choices to w. */
void bvt__consent_save(const bvt_ext *x, bvt_wbuf *w);

/* Read what bvt__consent_save wrote into x (a fresh ext: no block yet),
 * allocating through m; purposes is the engine's count of purpose ids, which
 * every choice must stay below.  BVT_OK; BVT_ECORRUPT (r marked bad);
 * BVT_EFULL / BVT_ENOMEM from the budget.  What was attached on failure is
 * left for the caller's bvt__consent_release. */
int bvt__consent_load(bvt_ext *x, bvt_mem *m, bvt_rbuf *r, uint32_t purposes);

#endif
