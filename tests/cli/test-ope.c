/* test-ope.c — the estimators of `bvt ope` (examples/cli/ope.c) on values
 * worked out by hand: IPS, SNIPS, DR and their intervals, the cross-fitted
 * terms, and the reward model. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "ope.h"

static int near(double got, double want, double tol) { return fabs(got - want) <= tol; }

static ope_terms terms4(void)
{
    static double r[] = { 1, 0, 1, 0 }, w[] = { 2, 1, 0.5, 4 }, qa[] = { 0, 0, 0, 0 },
                  qpi[] = { 0, 0, 0, 0 };
    ope_terms t = { r, w, qa, qpi, 4 };
    return t;
}

START_TEST(ips_by_hand)
{
    /* r*w = 2, 0, 0.5, 0: mean 0.625; squared deviations sum to 2.6875,
     * sample variance 2.6875 / 3, half-width z * sqrt(var / 4). */
    ope_terms t = terms4();
    ope_estimate e;
    ope_ips(&t, &e);
    double half = OPE_Z95 * sqrt(2.6875 / 3 / 4);
    ck_assert(near(e.value, 0.625, 1e-15));
    ck_assert(near(e.ci_low, 0.625 - half, 1e-12) && near(e.ci_high, 0.625 + half, 1e-12));
    ck_assert(near(half, 0.9275380, 1e-6));
}
END_TEST

START_TEST(ips_of_the_logging_policy_is_the_ctr)
{
    /* w = 1 everywhere: IPS = clicks / rows exactly, and the interval is the
     * binomial one with the n - 1 variance. */
    enum { N = 10000, CLICKS = 46 };
    ope_terms t;
    ck_assert_int_eq(ope_terms_alloc(&t, N), 0);
    for (size_t i = 0; i < N; i++) {
        t.r[i] = i % 217 == 0 && i / 217 < CLICKS ? 1 : 0;
        t.w[i] = 1;
        t.qa[i] = t.qpi[i] = 0;
    }
    ope_estimate ips, sn;
    ope_ips(&t, &ips);
    ope_snips(&t, &sn);
    ck_assert(ips.value == 46.0 / 10000);
    ck_assert(sn.value == 46.0 / 10000);
    double p = 0.0046, half = OPE_Z95 * sqrt(p * (1 - p) * N / (N - 1) / N);
    ck_assert(near(ips.ci_high - ips.value, half, 1e-12));
    ck_assert(near(sn.ci_high - sn.value, half, 1e-12));
    ope_terms_free(&t);
}
END_TEST

START_TEST(snips_by_hand)
{
    /* V = 2.5 / 7.5 = 1/3; mean w 1.875; linearised w (r - V) / 1.875 =
     * 0.7111, -0.1778, 0.1778, -0.7111 (sum 0, squares sum 1.074568). */
    ope_terms t = terms4();
    ope_estimate e;
    ope_snips(&t, &e);
    double lin[4] = { 2 * (2.0 / 3) / 1.875, -(1.0 / 3) / 1.875, 0.5 * (2.0 / 3) / 1.875,
                      4 * -(1.0 / 3) / 1.875 };
    double ss = 0;
    for (int i = 0; i < 4; i++)
        ss += lin[i] * lin[i];
    double half = OPE_Z95 * sqrt(ss / 3 / 4);
    ck_assert(near(e.value, 1.0 / 3, 1e-15));
    ck_assert(near(e.ci_high, 1.0 / 3 + half, 1e-12) && near(e.ci_low, 1.0 / 3 - half, 1e-12));
    ck_assert(near(half, 0.5865086, 1e-6));
}
END_TEST

START_TEST(snips_undefined_without_weight)
{
    double r[] = { 1, 0 }, w[] = { 0, 0 }, z[] = { 0, 0 };
    ope_terms t = { r, w, z, z, 2 };
    ope_estimate e;
    ope_snips(&t, &e);
    ck_assert(isnan(e.value) && isnan(e.ci_low) && isnan(e.ci_high));
}
END_TEST

START_TEST(dr_by_hand)
{
    /* qpi + w (r - qa): 0.1 + 2 (1 - 0.2) = 1.7; 0.1 + 1 (0 - 0.3) = -0.2;
     * 0.3 + 0.5 (1 - 0.5) = 0.55; 0.3 + 4 (0 - 0.1) = -0.1.  Mean 0.4875. */
    double r[] = { 1, 0, 1, 0 }, w[] = { 2, 1, 0.5, 4 }, qa[] = { 0.2, 0.3, 0.5, 0.1 },
           qpi[] = { 0.1, 0.1, 0.3, 0.3 };
    ope_terms t = { r, w, qa, qpi, 4 };
    ope_estimate e;
    ope_dr(&t, &e);
    double x[4] = { 1.7, -0.2, 0.55, -0.1 }, ss = 0;
    for (int i = 0; i < 4; i++)
        ss += (x[i] - 0.4875) * (x[i] - 0.4875);
    double half = OPE_Z95 * sqrt(ss / 3 / 4);
    ck_assert(near(e.value, 0.4875, 1e-15));
    ck_assert(near(e.ci_low, 0.4875 - half, 1e-12) && near(e.ci_high, 0.4875 + half, 1e-12));
    /* With a zero model DR is IPS. */
    ope_terms t0 = terms4();
    ope_estimate a, b;
    ope_dr(&t0, &a);
    ope_ips(&t0, &b);
    ck_assert(a.value == b.value && a.ci_low == b.ci_low && a.ci_high == b.ci_high);
}
END_TEST

START_TEST(one_row_has_a_point_interval)
{
    double r[] = { 1 }, w[] = { 3 }, z[] = { 0 };
    ope_terms t = { r, w, z, z, 1 };
    ope_estimate e;
    ope_ips(&t, &e);
    ck_assert(e.value == 3 && e.ci_low == 3 && e.ci_high == 3);
}
END_TEST

/* 2 items; rows alternate folds 0, 1, 0, 1, ... */
static obd_row rows6[] = {
    { 0, 1, 1, 2, 0.5 }, /* fold 0 */
    { 1, 1, 0, 3, 0.5 }, /* fold 1 */
    { 1, 2, 1, 4, 0.25 },
    { 0, 1, 1, 5, 0.5 },
    { 0, 3, 0, 6, 0.5 },
    { 1, 2, 0, 7, 0.8 },
};

START_TEST(reward_model_by_hand)
{
    obd_log log = { rows6, 6, 3 };
    double q[OBD_POSITIONS * 2];
    /* Fold 0 (rows 0, 2, 4): position 1 has item 0 with 1 click in 1, so
     * m1 = 1, q(0,1) = (1 + 100) / 101 = 1, q(1,1) = (0 + 100) / 100 = 1;
     * position 2: item 1, 1 click in 1: m2 = 1; position 3: item 0, 0 in 1:
     * m3 = 0, q(0,3) = 0 / 101, q(1,3) = 0. */
    ck_assert_int_eq(ope_reward_fit(&log, 0, 2, q), 0);
    ck_assert(near(q[0], 1, 1e-15) && near(q[1], 1, 1e-15));
    ck_assert(near(q[2], 1, 1e-15) && near(q[3], 1, 1e-15));
    ck_assert(q[4] == 0 && q[5] == 0);
    /* Fold 1 (rows 1, 3, 5): position 1: item 1 0/1, item 0 1/1, m1 = 0.5:
     * q(0,1) = 51/101, q(1,1) = 50/101; position 2: item 1 0/1, m2 = 0:
     * q = 0; position 3: no rows, m3 = the fold's CTR 1/3. */
    ck_assert_int_eq(ope_reward_fit(&log, 1, 2, q), 0);
    ck_assert(near(q[0], 51.0 / 101, 1e-15) && near(q[1], 50.0 / 101, 1e-15));
    ck_assert(q[2] == 0 && q[3] == 0);
    ck_assert(near(q[4], 1.0 / 3, 1e-15) && near(q[5], 1.0 / 3, 1e-15));
    /* Counts per item. */
    double c[2], n[2];
    ope_counts(&log, -1, 2, c, n);
    ck_assert(c[0] == 2 && n[0] == 3 && c[1] == 1 && n[1] == 3);
    ope_counts(&log, 1, 2, c, n);
    ck_assert(c[0] == 1 && n[0] == 1 && c[1] == 0 && n[1] == 2);
}
END_TEST

START_TEST(terms_use_the_rows_fold)
{
    obd_log log = { rows6, 6, 3 };
    /* pi for fold 0 rows: item 0 always first; fold 1 rows: uniform. */
    double pi0[6] = { 1, 0, 0, 1, 0.5, 0.5 }, pi1[6] = { 0.5, 0.5, 0.5, 0.5, 0.5, 0.5 };
    double q0[6] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 }, q1[6] = { 0, 0, 0, 0, 0, 0 };
    const double *pi[2] = { pi0, pi1 }, *q[2] = { q0, q1 };
    ope_terms t;
    ck_assert_int_eq(ope_terms_alloc(&t, 6), 0);
    ope_terms_fill(&t, &log, 2, pi, q);
    /* row 0: fold 0, item 0 pos 1: w = 1 / 0.5, qa = 0.1, qpi = 1*0.1 + 0*0.2 */
    ck_assert(t.w[0] == 2 && t.qa[0] == 0.1 && near(t.qpi[0], 0.1, 1e-15) && t.r[0] == 1);
    /* row 1: fold 1: w = 0.5 / 0.5, q = 0 */
    ck_assert(t.w[1] == 1 && t.qa[1] == 0 && t.qpi[1] == 0 && t.r[1] == 0);
    /* row 2: fold 0, item 1 pos 2: w = 1 / 0.25, qa = 0.4, qpi = 0*0.3 + 1*0.4 */
    ck_assert(t.w[2] == 4 && t.qa[2] == 0.4 && near(t.qpi[2], 0.4, 1e-15));
    /* row 4: fold 0, item 0 pos 3: w = 0.5 / 0.5, qpi = 0.5*0.5 + 0.5*0.6 */
    ck_assert(t.w[4] == 1 && t.qa[4] == 0.5 && near(t.qpi[4], 0.55, 1e-15));
    ope_terms_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ope");
    TCase *tc = tcase_create("estimators");
    tcase_add_test(tc, ips_by_hand);
    tcase_add_test(tc, ips_of_the_logging_policy_is_the_ctr);
    tcase_add_test(tc, snips_by_hand);
    tcase_add_test(tc, snips_undefined_without_weight);
    tcase_add_test(tc, dr_by_hand);
    tcase_add_test(tc, one_row_has_a_point_interval);
    tcase_add_test(tc, reward_model_by_hand);
    tcase_add_test(tc, terms_use_the_rows_fold);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
