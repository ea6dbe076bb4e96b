/* bandit.h — what a ranking policy does with the eligible offers of one
 * request: Beta posteriors, seeded draws, and the choice of each slot with
 * the probability that the policy made it (its propensity).
 *
 * Pure functions over arrays the caller fills: no engine, no locks, no
 * allocation.  docs/offers.md has the formulas. */
#ifndef BVT_BANDIT_H
#define BVT_BANDIT_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Check `in` (NULL = all defaults) and fill every default into out.
 * BVT_OK, BVT_EINVAL or BVT_EVERSION with err naming the field. */
int bvt__policy_resolve(const bvt_policy *in, bvt_policy *out, bvt_error *err);

/* The prior mean for a user with `affinity` (0..1) to an offer's tags,
 * capped at 0.5 (the header's formula). */
static inline double bvt__prior_mean(const bvt_policy *p, double affinity)
{
    double m = p->prior_rate * (1 + p->affinity_boost * affinity);
    return m < 0.5 ? m : 0.5;
}

/* One eligible offer as the policy sees it. */
typedef struct bvt_arm {
    double a, b;       /* Beta posterior */
    double value;      /* what a response is worth (> 0) */
    int32_t priority;
    uint32_t index;    /* the caller's */
} bvt_arm;

/* One filled slot. */
typedef struct bvt_pick {
    uint32_t arm;      /* position in the arms array */
    double score;      /* what the policy ranked by */
    double propensity; /* P(this arm in this slot) over the policy's draws, -1 unknown */
} bvt_pick;

/* Slots whose propensity Monte-Carlo estimates (later ones stay -1). */
#define BVT_BANDIT_SLOTS_MC 64

/* Scratch for n arms: each array has n entries. */
typedef struct bvt_bandit_work {
    uint8_t *taken;
    uint32_t *tier;
    double *score;
    double *prob;
    bvt_pick *trial;   /* the Monte-Carlo rankings */
} bvt_bandit_work;

/* Fill up to k slots from n arms, highest priority tier first, each slot
 * chosen by the policy p (resolved) among the arms left in that tier;
 * Thompson sampling draws every posterior once and ranks by the draws.
 * Propensities are position-wise: exact for deterministic rankings and for
 * the first slot of all but Thompson sampling, else estimated from
 * p->propensity_draws rankings on a separate stream (-1 without draws).
 * first_p (n doubles, or NULL) receives each arm's probability of the first
 * slot (0 outside the top tier, -1 when not estimated).  Returns the slots
 * filled.  Deterministic in seed. */
size_t bvt__bandit_rank(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                       uint64_t seed, const bvt_bandit_work *w, bvt_pick *out, double *first_p);

/* The Monte-Carlo rankings made for n arms: p->propensity_draws, cut so
 * that draws x n stays within BVT_PROPENSITY_WORK_MAX (at least one). */
uint32_t bvt__propensity_draws(const bvt_policy *p, size_t n);

/* Draws from the library's seeded generator (rng.h). */
double bvt__draw_uniform(uint64_t *state); /* [0, 1) */
double bvt__draw_beta(uint64_t *state, double a, double b);

#endif
