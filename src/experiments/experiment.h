/* experiment.h — A/B experiments: definitions, deterministic and sticky
 * assignment, exposure and outcome counters per variant and segment, and
 * the report with its statistics (stats.h).
 *
 * Definitions are published as immutable, reference-counted versions, as
 * segments are; counters live outside the versions (per experiment id, for
 * the engine's life) and are updated with relaxed atomics from the tracking
 * path.  Each profile keeps its sticky assignments in a small block hanging
 * off its ext (accounted as BVT_MEM_ATTRS, experiment_user.h); the per-user
 * functions run under the shard lock of the record. */
#ifndef BVT_EXPERIMENT_H
#define BVT_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"
#include "experiment_user.h"
#include "mem.h"
#include "profile.h"

struct bvt_experiments;                       /* the registry, one per engine */
typedef struct bvt_experiment_def bvt_experiment_def; /* one immutable definition */

int bvt__experiments_new(struct bvt_experiments **out);
void bvt__experiments_free(struct bvt_experiments *x);
/* Bytes held by the registry (definitions and counters). */
size_t bvt__experiments_bytes(const struct bvt_experiments *x);

/* ---- ranking (rank.c) ---- */

/* The current definition of experiment `name` with a reference taken, or
 * NULL when none is defined; release it when done. */
const bvt_experiment_def *bvt__experiment_acquire(bvt_engine *e, const char *name);
void bvt__experiment_release(const bvt_experiment_def *d);

/* The user's variant: the sticky one recorded in r, else the hashed one,
 * which is then recorded and the exposure counted (seg_mask: bit i set when
 * the user is in offer segment slot i, see offer.h).  r may be NULL (no
 * profile): the hashed variant, nothing recorded.  Under r's shard lock, m
 * being that shard's accounting.  When the sticky entry cannot be stored
 * (BVT_EFULL, BVT_ENOMEM) the hashed variant is still returned. */
int32_t bvt__experiment_expose_locked(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m,
                                     bvt_record *r, const void *id, size_t len, int64_t now,
                                     uint32_t seg_mask);

/* The policy a variant ranks with, resolved (bandit.h), or NULL to keep the
 * engine's (also for BVT_VARIANT_NONE and BVT_VARIANT_HOLDOUT). */
const bvt_policy *bvt__experiment_variant_policy(const bvt_experiment_def *d, int32_t variant);

/* 1 when `offer` is ranked in the variant: always when the variant has no
 * offer set, and for BVT_VARIANT_NONE and BVT_VARIANT_HOLDOUT. */
int bvt__experiment_variant_allows(const bvt_experiment_def *d, int32_t variant, uint32_t offer);

/* ---- outcomes (feedback.c, under the shard lock) ---- */

/* One tracked event as an experiment outcome. */
typedef struct bvt_outcome {
    uint32_t type;   /* impression, click, conversion or purchase */
    uint32_t offer;  /* numeric offer id, 0 = none */
    int64_t t_ms;    /* event time: counts for assignments exposed at or before it */
    double revenue;  /* what the event earned (metrics' definition; a purchase's value) */
    double cost;     /* what it cost */
} bvt_outcome;

/* Credit the event to every variant the user (x may be NULL) is assigned
 * to; updates the user's entries (converted, revenue so far). */
void bvt__experiments_on_event(bvt_engine *e, bvt_ext *x, const bvt_outcome *o);

/* ---- profiles' sticky assignments ---- */

/* Their block (release, merge, bytes, reading, encoding) is plain data in
 * experiment_user.h, which the profile layer calls without this module. */

/* BVT_OK when every assignment of x (a loaded profile's) names an
 * experiment defined in e and one of its variants, else BVT_ECORRUPT.  The
 * profile decoder (bvt__experiments_user_load, experiment_user.h) has no
 * engine to check against; call this once the profile's ext is loaded. */
int bvt__experiments_user_check(bvt_engine *e, const bvt_ext *x);

/* ---- reading (export, retention) ---- */

/* Name of an experiment id ever defined, or NULL.  Lock-free. */
const char *bvt__experiments_name(const struct bvt_experiments *x, uint32_t id);

#endif
