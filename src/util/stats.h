/* stats.h — the statistics experiment reports need, as pure functions:
 * the normal distribution, the two-proportion z test, Welch's test for a
 * difference of means (normal approximation), and the chi-square
 * goodness-of-fit test with its p-value from the regularised upper
 * incomplete gamma function.
 *
 * No state, no allocation, safe from any thread.  docs/experiments.md has
 * the formulas. */
#ifndef BVT_STATS_H
#define BVT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Phi(x), the standard normal CDF. */
double bvt__stats_norm_cdf(double x);

/* Two-sided p-value of a standard normal statistic: P(|Z| >= |z|). */
double bvt__stats_norm_p2(double z);

/* Phi^-1(p) for p in (0, 1), to full double precision; -inf at 0, +inf at
 * 1, NaN outside [0, 1]. */
double bvt__stats_norm_quantile(double p);

/* Q(a, x) = Gamma(a, x) / Gamma(a), the regularised upper incomplete gamma
 * function, for a > 0, x >= 0 (NaN otherwise). */
double bvt__stats_gamma_q(double a, double x);

/* P(X >= x) for X chi-square with df > 0 degrees of freedom. */
double bvt__stats_chi2_sf(double x, double df);

/* Compare the rate x1 / n1 (variant) with x0 / n0 (control), at confidence
 * level `conf` (0.95 for the report).  Fills out:
 *   absolute = p1 - p0, its interval from the unpooled standard error,
 *   p_value from the pooled z statistic (two-sided),
 *   relative = p1 / p0 - 1 (0 when p0 = 0), its interval by the delta method
 *   on log(p1 / p0), whose variance is (1 - p0) / x0 + (1 - p1) / x1.
 * Without trials on either side everything is 0 and p_value 1.  An interval
 * that cannot be computed (zero variance; a zero count for the relative one)
 * collapses to its estimate; an undefined test has p_value 1. */
void bvt__stats_two_proportion(uint64_t x0, uint64_t n0, uint64_t x1, uint64_t n1, double conf,
                              bvt_lift *out);

/* Compare the mean of variant values (n1 values, their sum and sum of
 * squares) with the control's, Welch's way with the normal approximation:
 *   absolute = m1 - m0, se = sqrt(s0^2 / n0 + s1^2 / n1) with the sample
 *   variances s^2 = (sumsq - sum^2 / n) / (n - 1), z = absolute / se;
 *   relative = m1 / m0 - 1 (0 when m0 = 0), its interval by the delta method
 *   on log(m1 / m0), variance s0^2 / (n0 m0^2) + s1^2 / (n1 m1^2) (both means
 *   > 0).
 * Needs n >= 2 on both sides for a test (else p_value 1 and the intervals
 * collapse; with n = 0 on a side everything is 0). */
void bvt__stats_welch(uint64_t n0, double sum0, double sumsq0, uint64_t n1, double sum1,
                     double sumsq1, double conf, bvt_lift *out);

/* Pearson's chi-square of k observed counts against expected shares p
 * (which sum to 1): sum (o_i - N p_i)^2 / (N p_i) over the cells with
 * p_i > 0; a count in a cell with p_i = 0 makes it +inf.  *df (may be NULL)
 * receives the degrees of freedom, the cells with p_i > 0 less one (0 when
 * there are no observations).  Returns the statistic (0 without
 * observations). */
double bvt__stats_chi2_gof(const uint64_t *obs, const double *p, size_t k, unsigned *df);

#endif
