/* ope.h — off-policy estimators of `bvt ope`: inverse propensity scoring
 * (IPS), self-normalised IPS (SNIPS) and doubly robust (DR), with 95%
 * normal-approximation intervals, and the per-(item, position) reward model
 * DR uses.  The formulas are in docs/evaluation.md.
 *
 * An action distribution pi is an array of OBD_POSITIONS * n_items
 * probabilities, pi[(position - 1) * n_items + item] = P(item in position);
 * each position's n_items entries sum to 1. */
#ifndef BVT_CLI_OPE_H
#define BVT_CLI_OPE_H

#include <stddef.h>
#include <stdint.h>

#include "obd_read.h"

/* Folds of the 2-fold cross-fitting: row k (0-based, file order) is in
 * fold k % 2.  What is learned from the log for the rows of one fold is
 * fitted on the other fold only. */
#define OPE_FOLDS 2

/* The reward model's shrinkage: each (item, position) CTR is pulled toward
 * its position's CTR with this many pseudo-impressions. */
#define OPE_Q_PRIOR 100.0

/* z of a two-sided 95% normal interval. */
#define OPE_Z95 1.959963984540054

typedef struct ope_estimate {
    double value;   /* the estimated CTR (NaN when undefined: SNIPS with sum w = 0) */
    double ci_low;  /* value -/+ OPE_Z95 * standard error */
    double ci_high;
} ope_estimate;

/* The terms of each row i, given pi_e and qhat for the row's fold:
 * r = click, w = pi_e(a|pos) / pi_b(a|pos), qa = qhat(a, pos),
 * qpi = sum over items b of pi_e(b|pos) * qhat(b, pos). */
typedef struct ope_terms {
    double *r, *w, *qa, *qpi;
    size_t n;
} ope_terms;

/* Allocate the four arrays for n rows; 0, or -1 when out of memory. */
int ope_terms_alloc(ope_terms *t, size_t n);
void ope_terms_free(ope_terms *t);

/* Fill t (allocated for log->n rows) from the cross-fitted pieces: pi[f]
 * and q[f] are the action distribution and reward model used for the rows
 * of fold f. */
void ope_terms_fill(ope_terms *t, const obd_log *log, uint32_t n_items,
                    const double *const pi[OPE_FOLDS], const double *const q[OPE_FOLDS]);

/* IPS: mean of r * w; interval from the sample variance of r * w. */
void ope_ips(const ope_terms *t, ope_estimate *out);
/* SNIPS: sum(r * w) / sum(w); interval from the linearised contributions
 * w * (r - V) / mean(w). */
void ope_snips(const ope_terms *t, ope_estimate *out);
/* DR: mean of qpi + w * (r - qa); interval from their sample variance. */
void ope_dr(const ope_terms *t, ope_estimate *out);

/* Per-item clicks and impressions of the rows of the log in fold `fold`
 * (-1: every row).  clicks and imps hold n_items entries each. */
void ope_counts(const obd_log *log, int fold, uint32_t n_items, double *clicks, double *imps);

/* The reward model qhat fitted on the rows in fold `fold` (-1: every row):
 * q[(pos - 1) * n_items + item] = (clicks + OPE_Q_PRIOR * m_pos) /
 * (impressions + OPE_Q_PRIOR), where m_pos is the CTR of the fitted rows in
 * that position (or of all fitted rows when none is in it; 0 without rows).
 * Returns 0, or -1 when out of memory. */
int ope_reward_fit(const obd_log *log, int fold, uint32_t n_items, double *q);

#endif
