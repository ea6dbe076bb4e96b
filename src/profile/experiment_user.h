/* experiment_user.h — one profile's sticky experiment assignments, as plain
 * data in the profile's ext: a small block of entries, one per experiment
 * the user was exposed to, each with its variant, first exposure, offer
 * segments at that exposure and what the user earned the variant since.
 *
 * Owns: the entry layout, finding an entry and making room for one,
 * merging two profiles' entries, bytes, release, reading them out, and the
 * block's snapshot encoding.  The profile layer (profile.c,
 * profile_persist.c) calls this, not experiment.c, so it stays below the
 * engine.
 *
 * May call: mem.h (accounting) and codec.h (encoding) only: no engine,
 * store locks, journal, segments, rules or offers.  Definitions, hashing,
 * counters and the check of a loaded profile against the defined
 * experiments are experiment.h's.  Every function runs under the shard
 * lock of the record; the block is accounted as BVT_MEM_ATTRS. */
#ifndef BVT_EXPERIMENT_USER_H
#define BVT_EXPERIMENT_USER_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"
#include "codec.h"
#include "mem.h"
#include "profile.h"

/* Sticky assignments one profile keeps. */
#define BVT_EXP_USER_MAX 32

/* Offer segment slots an entry's seg_mask can name (offer.h): bit i is
 * slot i, counted in counter row 1 + i (experiment_internal.h). */
#define BVT_EXP_ROW_MASK ((1u << BVT_OFFER_SEGMENTS_MAX) - 1u)

/* One sticky assignment of a profile. */
typedef struct bvt_exp_entry {
    int64_t exposed_ms;   /* earliest exposure seen */
    double revenue;       /* the user's revenue credited to the variant so far */
    uint32_t seg_mask;    /* offer segments at the first exposure */
    uint16_t experiment;
    int8_t variant;       /* 0..n-1 or BVT_VARIANT_HOLDOUT */
    uint8_t converted;    /* a conversion or purchase already counted */
} bvt_exp_entry;

/* A profile's block of entries (accounted as BVT_MEM_ATTRS); cap grows
 * 2, 4, 8, 16, 32. */
struct bvt_exp_user {
    uint8_t len, cap;
    bvt_exp_entry e[];
};

_Static_assert(BVT_EXPERIMENTS_MAX <= UINT16_MAX, "entry ids are 16 bits");
_Static_assert(BVT_EXP_USER_MAX <= UINT8_MAX, "entry counts are 8 bits");

/* Bytes of a block of cap entries (0 for none). */
static inline size_t bvt__exp_user_size(uint32_t cap)
{
    return cap ? sizeof(struct bvt_exp_user) + cap * sizeof(bvt_exp_entry) : 0;
}

/* x's entry for experiment, or NULL (x may be NULL). */
bvt_exp_entry *bvt__exp_user_find(const bvt_ext *x, uint32_t experiment);

/* Room for one more entry in x's block (allocated or grown through m):
 * BVT_OK, BVT_ELIMIT (BVT_EXP_USER_MAX entries already), BVT_EFULL,
 * BVT_ENOMEM.  The caller appends at e[len++]. */
int bvt__exp_user_reserve(bvt_ext *x, bvt_mem *m);

/* ---- profile lifecycle (profile.c) ---- */

void bvt__experiments_user_release(bvt_ext *x, bvt_mem *m);
/* Aliasing: dst keeps its own assignments; src's others move over
 * (best effort under the budget); src keeps none afterwards. */
void bvt__experiments_user_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m);
size_t bvt__experiments_user_bytes(const bvt_ext *x);

/* ---- reading (export, retention) ---- */

/* One sticky assignment of a profile. */
typedef struct bvt_exp_assignment {
    uint32_t experiment; /* numeric id */
    int32_t variant;     /* 0..n-1 or BVT_VARIANT_HOLDOUT */
    int64_t exposed_ms;  /* earliest exposure */
} bvt_exp_assignment;

/* Assignment i of x (may be NULL): 1 and *out set, 0 past the end. */
int bvt__experiments_user_at(const bvt_ext *x, uint32_t i, bvt_exp_assignment *out);

/* ---- the snapshot encoding (part of the profile's, profile_persist.c) ---- */

/* One profile's sticky experiment assignments; load allocates through m
 * (BVT_EFULL/BVT_ENOMEM from the budget, BVT_ECORRUPT).  Load checks each
 * entry on its own; whether it names an experiment and variant the engine
 * defines is bvt__experiments_user_check's (experiment.h). */
void bvt__experiments_user_save(const bvt_ext *x, bvt_wbuf *w);
int bvt__experiments_user_load(bvt_ext *x, bvt_mem *m, bvt_rbuf *r);

#endif
