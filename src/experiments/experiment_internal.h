/* experiment_internal.h — what experiment.c (definitions, assignment,
 * counting), experiment_report.c (the report) and experiment_persist.c
 * (snapshots, journal) share: the engine-wide definitions and counters.
 * A profile's sticky entries are experiment_user.h's, included here.
 * Not part of the contract other modules call (that is experiment.h). */
#ifndef BVT_EXPERIMENT_INTERNAL_H
#define BVT_EXPERIMENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic_double.h"
#include "behavtarget.h"
#include "experiment.h"
#include "experiment_user.h"
#include "interner.h"

/* Counter rows: 0 = all users, 1 + i = users in offer segment slot i at
 * exposure. */
#define BVT_EXP_ROWS (1 + BVT_OFFER_SEGMENTS_MAX)
/* Distinct variant names ever used, over all experiments (their strings
 * are borrowed by reports until the engine is freed). */
#define BVT_EXP_VARIANT_NAMES_MAX (1u << 16)
#define BVT_EXP_NAME_MAX 63
#define BVT_EXP_SALT_MAX 255

/* One variant's (or the holdout's) counters in one row: one cache line. */
typedef struct bvt_exp_cell {
    _Atomic uint64_t users;
    _Atomic uint64_t impressions;
    _Atomic uint64_t clicks;
    _Atomic uint64_t conversions;
    _Atomic uint64_t converters;
    _Atomic double revenue;
    _Atomic double revenue_sq;   /* sum over users of (their revenue)^2 */
    _Atomic double cost;
} bvt_exp_cell;

/* What assignment reads: immutable once published and kept until the
 * registry is freed, so lock-free readers may use it without a reference
 * (see the comment on bvt_exp_slot).  Salt strings follow the struct. */
typedef struct bvt_exp_hot {
    struct bvt_exp_hot *older; /* every block of the registry, newest first */
    uint32_t kind;             /* enum bvt_hash_kind */
    uint32_t n;                /* variants */
    double holdout;
    double coverage;
    double ranges[BVT_VARIANTS_MAX][2];
    const char *salt;
    const char *hsalt;         /* salt + "/holdout" */
    size_t salt_len, hsalt_len;
} bvt_exp_hot;

struct bvt_experiment_def {
    _Atomic uint32_t refs;
    uint32_t id;
    uint32_t n;
    const bvt_exp_hot *hot;
    const char *name;                     /* interned: valid for the engine's life */
    const char *vname[BVT_VARIANTS_MAX];  /* interned */
    double weight[BVT_VARIANTS_MAX];      /* normalised to sum 1 */
    /* As the caller gave them, for snapshots and the journal: the ranges
     * of a GrowthBook hash use raw weights, and resolving a policy is not
     * idempotent, so defining again from these gives the same definition. */
    double raw_weight[BVT_VARIANTS_MAX];
    bvt_policy policy_given[BVT_VARIANTS_MAX];
    uint8_t has_policy[BVT_VARIANTS_MAX];
    uint8_t has_offers[BVT_VARIANTS_MAX];
    bvt_policy policy[BVT_VARIANTS_MAX];
    uint32_t n_offers[BVT_VARIANTS_MAX];
    uint32_t *offers[BVT_VARIANTS_MAX];   /* sorted, distinct */
    size_t bytes;
};

/* One experiment id.
 *
 * Why variant_of needs no lock: it reads only `hot`, an immutable block
 * published with a release store after it was filled, and never freed
 * before the registry (a redefinition publishes a new block, or reuses the
 * current one when the assignment parameters did not change, and chains the
 * old one on the registry's list).  A reader that loaded the old pointer
 * just before a redefinition finishes with a consistent old definition;
 * nothing it reads is ever written again.  The cost is a few hundred bytes
 * kept per assignment change, counted in bvt__experiments_bytes().
 *
 * The full definition (policies, offer sets) is reference counted, as
 * segments are: `lock` is held only to read `def` and take a reference, or
 * to swap it; the last reference frees a version.
 *
 * `cells` (BVT_EXP_ROWS x (n + 1): variants, then the holdout) is allocated
 * by the first definition, before `hot` is published, and kept for the
 * registry's life; `n` never changes after it. */
typedef struct bvt_exp_slot {
    pthread_mutex_t lock;
    bvt_experiment_def *def;          /* under lock */
    _Atomic(const bvt_exp_hot *) hot; /* NULL: never defined */
    _Atomic(bvt_exp_cell *) cells;
    uint32_t n;                       /* written once, before hot is published */
} bvt_exp_slot;

struct bvt_experiments {
    pthread_mutex_t define_lock; /* serialises definers */
    bvt_interner *names;         /* experiment name -> id */
    bvt_interner *vnames;        /* variant names */
    bvt_exp_hot *hots;           /* under define_lock */
    _Atomic size_t bytes;        /* hot blocks, cells and current definitions */
    bvt_exp_slot slots[BVT_EXPERIMENTS_MAX + 1];
};

/* Rows a segment mask can name: slots 0..BVT_EXP_ROWS - 2 (the mask,
 * BVT_EXP_ROW_MASK, is an entry's and so experiment_user.h's). */
_Static_assert(BVT_EXP_ROW_MASK == (1u << (BVT_EXP_ROWS - 1)) - 1u,
               "an entry's segment mask names counter rows 1..BVT_EXP_ROWS - 1");

/* 1..max bytes, none a control character (names, variant names, salts). */
int bvt__experiment_text_valid(const char *s, size_t max, size_t *out_len);

/* The cell of (row, column) in a slot's counters. */
static inline bvt_exp_cell *bvt__exp_cell_at(bvt_exp_cell *cells, uint32_t n, uint32_t row,
                                            uint32_t col)
{
    return &cells[row * (n + 1) + col];
}


/* The report of one counter row (0 = all users, 1 + slot for a segment).
 * BVT_OK, BVT_EINVAL (bad id, row or out), BVT_ENOTFOUND (not defined). */
int bvt__experiment_report_row(bvt_engine *e, uint32_t experiment, uint32_t row,
                              bvt_experiment_report *out);

/* As bvt__experiment_expose_locked, with the status: BVT_OK (also for a
 * user outside the experiment, nothing recorded), BVT_EFULL / BVT_ENOMEM
 * (budget or allocator), BVT_ELIMIT (BVT_EXP_USER_MAX assignments already)
 * — *out_variant is set in every case.  *out_log (may be NULL) receives
 * the status of the journal record appended when the profile changed. */
int bvt__experiment_expose_status(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m,
                                 bvt_record *r, const void *id, size_t len, int64_t now,
                                 uint32_t seg_mask, int32_t *out_variant, int *out_log);

/* ---- persistence (experiment_persist.c) ---- */

/* bvt_experiment_define without the journal (load, replay). */
int bvt__experiment_define_restore(bvt_engine *e, const bvt_experiment *exp, uint32_t *out_id,
                                  bvt_error *err);

/* Replay an assignment's outcome: the profile of k (created if absent, as
 * the original call created it) gets variant v of experiment `experiment`
 * exposed at now in the offer segments of seg_mask, through the path
 * bvt_experiment_assign() takes after hashing.  BVT_OK; BVT_ECORRUPT (no
 * such experiment or variant); BVT_EFULL; BVT_ENOMEM; BVT_ELIMIT. */
int bvt__experiment_replay_assign(bvt_engine *e, bvt_user_key k, uint32_t experiment, int32_t v,
                                 int64_t now, uint32_t seg_mask);

/* The journal records, under the module's locks (experiment_log.c):
 * a definition under define_lock right after publishing; an assignment
 * under the shard lock of r, naming r's key.  Status of bvt__persist_log(). */
/* A definition as the caller gave it (records and the snapshot section). */
void bvt__experiments_put_def(bvt_engine *e, bvt_wbuf *w, const bvt_experiment_def *d);
int bvt__experiments_log_define(bvt_engine *e, const bvt_experiment_def *d);
int bvt__experiments_log_assign(bvt_engine *e, const bvt_record *r, uint32_t experiment,
                               int32_t variant, int64_t now, uint32_t seg_mask);

#endif
