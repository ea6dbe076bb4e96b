/* stats.c — normal distribution, two-proportion and Welch tests, and the
 * chi-square p-value (see stats.h; formulas in docs/experiments.md). */
#include <math.h>

#include "stats.h"

#define SQRT1_2 0.70710678118654752440 /* 1 / sqrt(2) */
#define SQRT_2PI 2.50662827463100050242

double bvt__stats_norm_cdf(double x)
{
    return 0.5 * erfc(-x * SQRT1_2);
}

double bvt__stats_norm_p2(double z)
{
    if (isnan(z))
        return 1.0;
    return erfc(fabs(z) * SQRT1_2); /* 2 (1 - Phi(|z|)), without cancellation */
}

double bvt__stats_norm_quantile(double p)
{
    if (isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    /* Work in the lower tail, where 0.5 erfc(-x / sqrt 2) keeps its
     * relative precision. */
    double q = p < 0.5 ? p : 1.0 - p;
    if (q == 0.5)
        return 0.0;
    /* Start: Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4). */
    double t = sqrt(-2.0 * log(q));
    double x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                         (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    /* Halley's steps on Phi(x) - q; each roughly triples the correct digits. */
    for (int i = 0; i < 3; i++) {
        double e = 0.5 * erfc(-x * SQRT1_2) - q;
        double u = e * SQRT_2PI * exp(0.5 * x * x);
        x -= u / (1.0 + 0.5 * x * u);
    }
    return p < 0.5 ? x : -x;
}

#define TINY 1e-300
#define EPS 1e-16
#define ITERATIONS 10000

/* P(a, x) by its power series; converges fast for x < a + 1. */
static double gamma_p_series(double a, double x, double log_front)
{
    double term = 1.0 / a, sum = term, ap = a;
    for (int i = 0; i < ITERATIONS; i++) {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if (fabs(term) < fabs(sum) * EPS)
            break;
    }
    return sum * exp(log_front);
}

/* Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1. */
static double gamma_q_fraction(double a, double x, double log_front)
{
    double b = x + 1.0 - a;
    double c = 1.0 / TINY;
    double d = 1.0 / b;
    double h = d;
    for (int i = 1; i < ITERATIONS; i++) {
        double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < TINY)
            d = TINY;
        c = b + an / c;
        if (fabs(c) < TINY)
            c = TINY;
        d = 1.0 / d;
        double step = d * c;
        h *= step;
        if (fabs(step - 1.0) < EPS)
            break;
    }
    return h * exp(log_front);
}

double bvt__stats_gamma_q(double a, double x)
{
    if (!(a > 0.0) || !(x >= 0.0) || isinf(a))
        return NAN;
    if (x == 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    int sign;
    /* x^a e^-x / Gamma(a), in logs; lgamma_r: lgamma's sign global is not
     * thread-safe. */
    double log_front = a * log(x) - x - lgamma_r(a, &sign);
    if (x < a + 1.0) {
        double p = gamma_p_series(a, x, log_front);
        return p >= 1.0 ? 0.0 : 1.0 - p;
    }
    double q = gamma_q_fraction(a, x, log_front);
    return q < 0.0 ? 0.0 : q > 1.0 ? 1.0 : q;
}

double bvt__stats_chi2_sf(double x, double df)
{
    if (!(df > 0.0) || isnan(x))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    return bvt__stats_gamma_q(0.5 * df, 0.5 * x);
}

static void lift_clear(bvt_lift *out)
{
    out->absolute = out->abs_low = out->abs_high = 0.0;
    out->relative = out->rel_low = out->rel_high = 0.0;
    out->p_value = 1.0;
}

/* exp(log_ratio +- z * se) - 1 around a relative lift. */
static void relative_interval(bvt_lift *out, double ratio, double var_log, double zc)
{
    out->relative = ratio - 1.0;
    out->rel_low = out->rel_high = out->relative;
    if (ratio > 0.0 && var_log > 0.0 && isfinite(var_log)) {
        double lr = log(ratio), h = zc * sqrt(var_log);
        out->rel_low = exp(lr - h) - 1.0;
        out->rel_high = exp(lr + h) - 1.0;
    }
}

static double critical(double conf)
{
    if (!(conf > 0.0 && conf < 1.0))
        conf = 0.95;
    return bvt__stats_norm_quantile(0.5 + 0.5 * conf);
}

void bvt__stats_two_proportion(uint64_t x0, uint64_t n0, uint64_t x1, uint64_t n1, double conf,
                              bvt_lift *out)
{
    lift_clear(out);
    if (n0 == 0 || n1 == 0)
        return;
    if (x0 > n0)
        x0 = n0; /* counted concurrently: a rate never passes 1 */
    if (x1 > n1)
        x1 = n1;
    double zc = critical(conf);
    double N0 = (double)n0, N1 = (double)n1;
    double p0 = (double)x0 / N0, p1 = (double)x1 / N1;
    double diff = p1 - p0;
    double se = sqrt(p0 * (1.0 - p0) / N0 + p1 * (1.0 - p1) / N1);
    out->absolute = diff;
    out->abs_low = diff - zc * se;
    out->abs_high = diff + zc * se;
    double pool = (double)(x0 + x1) / (N0 + N1);
    double se_pool = sqrt(pool * (1.0 - pool) * (1.0 / N0 + 1.0 / N1));
    out->p_value = se_pool > 0.0 ? bvt__stats_norm_p2(diff / se_pool) : 1.0;
    if (x0 == 0) {
        out->relative = out->rel_low = out->rel_high = 0.0;
        return;
    }
    double var_log = x1 ? (1.0 - p0) / (double)x0 + (1.0 - p1) / (double)x1 : 0.0;
    relative_interval(out, p1 / p0, var_log, zc);
}

void bvt__stats_welch(uint64_t n0, double sum0, double sumsq0, uint64_t n1, double sum1,
                     double sumsq1, double conf, bvt_lift *out)
{
    lift_clear(out);
    if (n0 == 0 || n1 == 0)
        return;
    double zc = critical(conf);
    double N0 = (double)n0, N1 = (double)n1;
    double m0 = sum0 / N0, m1 = sum1 / N1;
    double diff = m1 - m0;
    out->absolute = out->abs_low = out->abs_high = diff;
    out->relative = out->rel_low = out->rel_high = m0 != 0.0 ? m1 / m0 - 1.0 : 0.0;
    if (n0 < 2 || n1 < 2)
        return;
    /* Sample variances; rounding (or counters read while they move) can
     * make sumsq - sum^2 / n slightly negative. */
    double v0 = (sumsq0 - sum0 * m0) / (N0 - 1.0);
    double v1 = (sumsq1 - sum1 * m1) / (N1 - 1.0);
    v0 = v0 > 0.0 ? v0 : 0.0;
    v1 = v1 > 0.0 ? v1 : 0.0;
    double se = sqrt(v0 / N0 + v1 / N1);
    if (se > 0.0) {
        out->abs_low = diff - zc * se;
        out->abs_high = diff + zc * se;
        out->p_value = bvt__stats_norm_p2(diff / se);
    } else {
        out->p_value = diff == 0.0 ? 1.0 : 0.0; /* two constant groups */
    }
    if (m0 > 0.0 && m1 > 0.0)
        relative_interval(out, m1 / m0, v0 / (N0 * m0 * m0) + v1 / (N1 * m1 * m1), zc);
}

double bvt__stats_chi2_gof(const uint64_t *obs, const double *p, size_t k, unsigned *df)
{
    double total = 0.0;
    unsigned cells = 0;
    for (size_t i = 0; i < k; i++) {
        total += (double)obs[i];
        cells += p[i] > 0.0;
    }
    if (df)
        *df = total > 0.0 && cells > 0 ? cells - 1 : 0;
    if (total <= 0.0)
        return 0.0;
    double chi2 = 0.0;
    for (size_t i = 0; i < k; i++) {
        if (p[i] > 0.0) {
            double expect = total * p[i], d = (double)obs[i] - expect;
            chi2 += d * d / expect;
        } else if (obs[i] > 0) {
            return INFINITY;
        }
    }
    return chi2;
}
