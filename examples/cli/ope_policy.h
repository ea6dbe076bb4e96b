/* ope_policy.h — the action distributions pi_e(item | position) of the
 * policies `bvt ope` evaluates (layout in ope.h).
 *
 * A policy is a function: given the per-item clicks and impressions of the
 * training rows (the other fold of the log being evaluated), fill pi.  The
 * random and BTS policies ignore the counts; the bvt policy learns from them.
 * Thompson-sampling distributions are estimated by Monte-Carlo through the
 * library: one offer per item, the evidence tracked as impression and click
 * events, then bvt_rank() (k = 3, BVT_POLICY_THOMPSON) with a new seed per
 * draw for a user the engine does not know, counting which item lands in
 * which slot. */
#ifndef BVT_CLI_OPE_POLICY_H
#define BVT_CLI_OPE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <behavtarget.h>

#include "obd_read.h"

/* Prior strength of the BTS policy: the campaign's Beta(alpha, beta) is fed
 * as alpha clicks in alpha + beta impressions, and the engine's own prior
 * adds this many pseudo-impressions, so the posterior is Beta(alpha, beta)
 * up to 1e-6. */
#define OPE_BTS_PRIOR_STRENGTH 1e-6

/* Default Monte-Carlo rankings per distribution, and default seed. */
#define OPE_DEFAULT_DRAWS 20000u
#define OPE_DEFAULT_SEED 20201124u

typedef struct ope_policy_ctx {
    uint32_t n_items;
    const obd_prior *prior; /* the BTS policy's Beta priors */
    uint32_t draws;         /* Monte-Carlo rankings */
    uint64_t seed;          /* seed of the first draw; each draw derives its own */
} ope_policy_ctx;

/* Fill pi (OBD_POSITIONS * n_items).  clicks and imps: per-item counts of
 * the training rows (NULL for a policy that learns nothing).  Returns 0, or
 * CLI_EXIT_FAIL after printing the problem. */
typedef int (*ope_policy_fn)(const ope_policy_ctx *ctx, const double *clicks,
                             const double *imps, double *pi);

/* Uniform: 1 / n_items in every position (the random logging policy). */
int ope_policy_random(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                      double *pi);
/* Bernoulli Thompson sampling from the campaign's Beta(alpha, beta). */
int ope_policy_bts(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                   double *pi);
/* The library's Thompson-sampling ranking with its default prior, trained
 * on clicks and imps. */
int ope_policy_bvt(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                   double *pi);

/* A fresh engine holding one offer per item ("item-<i>") and the evidence
 * tracked as events for one user: imps[i] impressions of item i, the first
 * clicks[i] of them each followed by a click (whole numbers, clicks <=
 * imps).  The engine's counts are checked against what was tracked. */
typedef struct ope_evidence {
    bvt_engine *engine;
    uint32_t n_items;
    uint32_t *item_of;  /* numeric offer id -> item (UINT32_MAX: none); BVT_OFFERS_MAX + 1 */
    uint32_t *offer_of; /* item -> numeric offer id */
    char (*ids)[16];    /* item -> offer id string */
    int64_t last_ms;    /* time of the last event tracked: rank after it */
} ope_evidence;

/* Returns 0, or CLI_EXIT_FAIL after printing the problem (ev is then
 * empty). */
int ope_evidence_new(ope_evidence *ev, uint32_t n_items, const double *clicks,
                     const double *imps);
/* Free the engine and maps; an empty or zeroed ev is fine. */
void ope_evidence_free(ope_evidence *ev);

/* The Monte-Carlo estimate behind both Thompson policies: the position
 * distribution of bvt_rank() after feeding item i clicks[i] clicks in
 * imps[i] impressions (whole numbers, clicks <= imps); prior_strength > 0
 * sets the policy's prior_strength, 0 keeps the library's default prior.
 * Returns 0, or CLI_EXIT_FAIL after printing the problem. */
int ope_ts_distribution(uint32_t n_items, const double *clicks, const double *imps,
                        double prior_strength, uint32_t draws, uint64_t seed, double *pi);

#endif
