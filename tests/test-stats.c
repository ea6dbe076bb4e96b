/* test-stats.c — the experiment statistics (src/stats.c) against values
 * worked out by hand below: the normal CDF and quantile at table points,
 * chi-square tail probabilities where the incomplete gamma has a closed
 * form, the two-proportion z test, Welch's test and the chi-square
 * goodness of fit.  White box: pure functions, no engine. */
#include <math.h>

#include "testutil.h"
#include "stats.h"

/* |got - want| <= tol * max(1, |want|). */
#define ck_near(got, want, tol)                                                            \
    do {                                                                                   \
        double g_ = (got), w_ = (want), t_ = (tol) * (fabs(w_) > 1.0 ? fabs(w_) : 1.0);    \
        ck_assert_msg(fabs(g_ - w_) <= t_, "%s = %.17g, expected %.17g", #got, g_, w_);    \
    } while (0)

/* Relative agreement, for tail probabilities far below 1. */
#define ck_rel(got, want, rel)                                                             \
    do {                                                                                   \
        double g_ = (got), w_ = (want);                                                    \
        ck_assert_msg(fabs(g_ - w_) <= (rel) * fabs(w_), "%s = %.17g, expected %.17g", #got, \
                      g_, w_);                                                             \
    } while (0)

/* Table values: Phi(0) = 1/2, Phi(1.96) = 0.9750021048517795,
 * Phi(-1) = 0.15865525393145707 (= erfc(1/sqrt 2) / 2). */
static const struct { double x, cdf; } cdf_cases[] = {
    { 0.0, 0.5 },
    { 1.96, 0.9750021048517795 },
    { -1.0, 0.15865525393145707 },
    { -8.0, 6.220960574271819e-16 },
};

START_TEST(normal_cdf)
{
    ck_rel(bvt__stats_norm_cdf(cdf_cases[_i].x), cdf_cases[_i].cdf, 1e-13);
}
END_TEST

/* Quantiles: z_0.975 = 1.959963984540054, z_0.95 = 1.6448536269514722,
 * z_0.5 = 0, z_1e-10 = -6.3613409024040557; and the inverse of the CDF at
 * many points. */
START_TEST(normal_quantile)
{
    ck_near(bvt__stats_norm_quantile(0.975), 1.959963984540054, 1e-14);
    ck_near(bvt__stats_norm_quantile(0.025), -1.959963984540054, 1e-14);
    ck_near(bvt__stats_norm_quantile(0.95), 1.6448536269514722, 1e-14);
    ck_near(bvt__stats_norm_quantile(0.5), 0.0, 1e-15);
    ck_near(bvt__stats_norm_quantile(1e-10), -6.3613409024040557, 1e-13);
    ck_assert(isinf(bvt__stats_norm_quantile(0.0)) && bvt__stats_norm_quantile(0.0) < 0);
    ck_assert(isinf(bvt__stats_norm_quantile(1.0)) && bvt__stats_norm_quantile(1.0) > 0);
    ck_assert(isnan(bvt__stats_norm_quantile(-0.1)));
    ck_assert(isnan(bvt__stats_norm_quantile(1.5)));
    ck_assert(isnan(bvt__stats_norm_quantile(NAN)));
    for (double p = 0.0005; p < 1.0; p += 0.0131)
        ck_near(bvt__stats_norm_cdf(bvt__stats_norm_quantile(p)), p, 1e-14);
    ck_near(bvt__stats_norm_p2(1.959963984540054), 0.05, 1e-14);
    ck_near(bvt__stats_norm_p2(-1.959963984540054), 0.05, 1e-14);
    ck_near(bvt__stats_norm_p2(0.0), 1.0, 0);
}
END_TEST

/* Chi-square tails with closed forms:
 *   df 1: Q = erfc(sqrt(x / 2));           x = 3.841458820694124 -> 0.05
 *   df 2: Q = exp(-x / 2);                 x = 2 -> e^-1 = 0.36787944117144233
 *   df 3: Q = erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2); x = 3 -> 0.391625176271089
 *   df 4: Q = exp(-x/2) (1 + x/2);         x = 6 -> 4 e^-3 = 0.19914827347145578
 *                                          x = 50 -> 26 e^-25 = 3.610865404890645e-10
 *   df 20: Q = exp(-x/2) sum_{k<10} (x/2)^k / k!;  x = 200 -> 1.1253473960842733e-31
 * and the 5% points of the usual table: df 10 -> 18.307038053275146,
 * df 3 -> 7.814727903251178. */
static const struct { double x, df, q, rel; } chi2_cases[] = {
    { 3.841458820694124, 1, 0.05, 1e-12 },
    { 1e-3, 1, 0.9747728793699604, 1e-12 },
    { 2.0, 2, 0.36787944117144233, 1e-13 },
    { 3.0, 3, 0.391625176271089, 1e-12 },
    { 6.0, 4, 0.19914827347145578, 1e-13 },
    { 50.0, 4, 3.610865404890645e-10, 1e-11 },
    { 200.0, 20, 1.1253473960842733e-31, 1e-10 },
    { 18.307038053275146, 10, 0.05, 1e-11 },
    { 7.814727903251178, 3, 0.05, 1e-11 },
    { 0.0, 5, 1.0, 0 },
};

START_TEST(chi_square_tail)
{
    ck_rel(bvt__stats_chi2_sf(chi2_cases[_i].x, chi2_cases[_i].df), chi2_cases[_i].q,
           chi2_cases[_i].rel);
}
END_TEST

START_TEST(chi_square_edges)
{
    ck_assert(bvt__stats_chi2_sf(INFINITY, 3) == 0.0);
    ck_assert(isnan(bvt__stats_chi2_sf(1.0, 0)));
    ck_assert(isnan(bvt__stats_gamma_q(-1.0, 1.0)));
    ck_assert(isnan(bvt__stats_gamma_q(1.0, -1.0)));
    /* Q(1, x) = e^-x on both sides of the series / fraction switch (x = a + 1). */
    for (double x = 0.25; x < 40; x *= 1.7)
        ck_rel(bvt__stats_gamma_q(1.0, x), exp(-x), 1e-12);
}
END_TEST

/* Control 100 of 1000, variant 130 of 1000.
 *   p0 = 0.1, p1 = 0.13, difference 0.03.
 *   pooled p = 230 / 2000 = 0.115; se_pool = sqrt(0.115 * 0.885 * (2 / 1000))
 *     = sqrt(0.00020355) = 0.014267095009146046; z = 0.03 / se_pool = 2.102740605622114;
 *     p = erfc(z / sqrt 2) = 0.03548845046647473.
 *   unpooled se = sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000) = sqrt(0.0002031)
 *     = 0.014251315728731857; 95% CI 0.03 -+ 1.959963984540054 * se
 *     = [0.0020679344393763656, 0.057932065560623636].
 *   relative 0.13 / 0.1 - 1 = 0.3; var(log ratio) = 0.9 / 100 + 0.87 / 130
 *     = 0.015692307692307693; CI exp(ln 1.3 -+ 1.96 * 0.12527) - 1
 *     = [0.01698427097104549, 0.6617759470226023]. */
START_TEST(two_proportion_known)
{
    bvt_lift l;
    bvt__stats_two_proportion(100, 1000, 130, 1000, 0.95, &l);
    ck_near(l.absolute, 0.03, 1e-15);
    ck_near(l.abs_low, 0.0020679344393763656, 1e-13);
    ck_near(l.abs_high, 0.057932065560623636, 1e-13);
    ck_rel(l.p_value, 0.03548845046647473, 1e-11);
    ck_near(l.relative, 0.3, 1e-14);
    ck_near(l.rel_low, 0.01698427097104549, 1e-12);
    ck_near(l.rel_high, 0.6617759470226023, 1e-12);
    /* Swapped: the same test from the other side. */
    bvt__stats_two_proportion(130, 1000, 100, 1000, 0.95, &l);
    ck_near(l.absolute, -0.03, 1e-15);
    ck_rel(l.p_value, 0.03548845046647473, 1e-11);
}
END_TEST

START_TEST(two_proportion_degenerate)
{
    bvt_lift l;
    bvt__stats_two_proportion(0, 0, 5, 10, 0.95, &l); /* no control trials */
    ck_assert(l.absolute == 0 && l.relative == 0 && l.p_value == 1.0);
    bvt__stats_two_proportion(0, 100, 0, 100, 0.95, &l); /* nothing happened anywhere */
    ck_assert(l.absolute == 0 && l.abs_low == 0 && l.abs_high == 0 && l.p_value == 1.0);
    bvt__stats_two_proportion(0, 100, 5, 100, 0.95, &l); /* control 0: relative 0 */
    ck_near(l.absolute, 0.05, 1e-15);
    ck_assert(l.relative == 0 && l.rel_low == 0 && l.rel_high == 0);
    ck_assert(l.p_value < 0.05);
    bvt__stats_two_proportion(5, 100, 0, 100, 0.95, &l); /* variant 0: -100%, no interval */
    ck_near(l.relative, -1.0, 1e-15);
    ck_assert(l.rel_low == l.relative && l.rel_high == l.relative);
    bvt__stats_two_proportion(150, 100, 5, 100, 0.95, &l); /* a count past its trials */
    ck_assert(l.absolute >= -1.0 && isfinite(l.p_value));
}
END_TEST

/* Per-user values: control {0, 0, 10, 20, 0}, variant {5, 15, 0, 30, 10, 0}.
 *   control: n 5, sum 30, sum of squares 500, mean 6, variance (500 - 180) / 4 = 80;
 *   variant: n 6, sum 60, sum of squares 25 + 225 + 900 + 100 = 1250, mean 10,
 *     variance (1250 - 600) / 5 = 130.
 *   se = sqrt(80 / 5 + 130 / 6) = sqrt(16 + 21.6667) = 6.137317546507323;
 *   z = 4 / se = 0.651750535912282; p = erfc(z / sqrt 2) = 0.5145621158269517;
 *   CI 4 -+ 1.96 se = [-8.028921352840081, 16.02892135284008].
 *   relative 10 / 6 - 1 = 0.6666666666666667; var(log ratio)
 *     = 80 / (5 * 36) + 130 / (6 * 100) = 0.44444 + 0.21667 = 0.66111;
 *   CI exp(ln(5/3) -+ 1.96 * 0.81309) - 1 = [-0.661352787902961, 7.202570930900826]. */
START_TEST(welch_known)
{
    bvt_lift l;
    bvt__stats_welch(5, 30, 500, 6, 60, 1250, 0.95, &l);
    ck_near(l.absolute, 4.0, 1e-14);
    ck_near(l.abs_low, -8.028921352840081, 1e-12);
    ck_near(l.abs_high, 16.02892135284008, 1e-12);
    ck_rel(l.p_value, 0.5145621158269517, 1e-12);
    ck_near(l.relative, 0.6666666666666667, 1e-14);
    ck_near(l.rel_low, -0.661352787902961, 1e-12);
    ck_near(l.rel_high, 7.202570930900826, 1e-12);
}
END_TEST

START_TEST(welch_degenerate)
{
    bvt_lift l;
    bvt__stats_welch(0, 0, 0, 3, 3, 3, 0.95, &l);
    ck_assert(l.absolute == 0 && l.p_value == 1.0);
    bvt__stats_welch(1, 5, 25, 1, 7, 49, 0.95, &l); /* one user a side: no test */
    ck_near(l.absolute, 2.0, 1e-15);
    ck_assert(l.abs_low == 2.0 && l.abs_high == 2.0 && l.p_value == 1.0);
    bvt__stats_welch(4, 0, 0, 4, 0, 0, 0.95, &l); /* nobody earned anything */
    ck_assert(l.absolute == 0 && l.relative == 0 && l.p_value == 1.0);
    bvt__stats_welch(4, 8, 16, 4, 12, 36, 0.95, &l); /* constant 2 against constant 3 */
    ck_near(l.absolute, 1.0, 1e-15);
    ck_assert(l.p_value == 0.0);
}
END_TEST

/* Goodness of fit.
 *   5100 / 4900 against 1/2 : 1/2: chi2 = 2 * 100^2 / 5000 = 4, df 1,
 *     p = erfc(sqrt 2) = 0.04550026389635844.
 *   520 / 240 / 240 against 1/2, 1/4, 1/4: chi2 = 400/500 + 100/250 + 100/250
 *     = 1.6, df 2, p = e^-0.8 = 0.44932896411722156. */
START_TEST(chi_square_fit)
{
    unsigned df = 99;
    uint64_t two[] = { 5100, 4900 };
    double half[] = { 0.5, 0.5 };
    double chi = bvt__stats_chi2_gof(two, half, 2, &df);
    ck_near(chi, 4.0, 1e-12);
    ck_assert_uint_eq(df, 1);
    ck_rel(bvt__stats_chi2_sf(chi, df), 0.04550026389635844, 1e-11);

    uint64_t three[] = { 520, 240, 240 };
    double w3[] = { 0.5, 0.25, 0.25 };
    chi = bvt__stats_chi2_gof(three, w3, 3, &df);
    ck_near(chi, 1.6, 1e-12);
    ck_assert_uint_eq(df, 2);
    ck_rel(bvt__stats_chi2_sf(chi, df), 0.44932896411722156, 1e-12);

    uint64_t none[] = { 0, 0 };
    ck_assert(bvt__stats_chi2_gof(none, half, 2, &df) == 0.0);
    ck_assert_uint_eq(df, 0);
    /* A zero-weight cell: empty is fine (it adds no degree of freedom),
     * occupied is an infinite mismatch. */
    uint64_t z3[] = { 50, 50, 0 };
    double wz[] = { 0.5, 0.5, 0.0 };
    ck_near(bvt__stats_chi2_gof(z3, wz, 3, &df), 0.0, 0);
    ck_assert_uint_eq(df, 1);
    z3[2] = 1;
    ck_assert(isinf(bvt__stats_chi2_gof(z3, wz, 3, &df)));
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_loop_test(tc, normal_cdf, 0, (int)(sizeof cdf_cases / sizeof cdf_cases[0]));
    tcase_add_test(tc, normal_quantile);
    tcase_add_loop_test(tc, chi_square_tail, 0, (int)(sizeof chi2_cases / sizeof chi2_cases[0]));
    tcase_add_test(tc, chi_square_edges);
    tcase_add_test(tc, two_proportion_known);
    tcase_add_test(tc, two_proportion_degenerate);
    tcase_add_test(tc, welch_known);
    tcase_add_test(tc, welch_degenerate);
    tcase_add_test(tc, chi_square_fit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(stats_suite()); }
