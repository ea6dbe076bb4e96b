/* The bandit's pure functions (bandit.h): Beta draws against their moments,
 * policy settings and their defaults, and the single-tier fast path of a
 * ranking picking exactly what the slot-by-slot path picks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bandit.h"

START_TEST(beta_draws_have_the_right_moments)
{
    static const double ab[][2] = { { 0.2, 19.8 }, { 1, 1 }, { 2.5, 7.5 }, { 40, 960 },
                                    { 0.5, 0.5 } };
    for (size_t c = 0; c < sizeof ab / sizeof ab[0]; c++) {
        double a = ab[c][0], b = ab[c][1], sum = 0, sq = 0;
        uint64_t rng = 99 + c;
        const int n = 200000;
        for (int i = 0; i < n; i++) {
            double x = bvt__draw_beta(&rng, a, b);
            ck_assert(x >= 0 && x <= 1);
            sum += x;
            sq += x * x;
        }
        double mean = a / (a + b), var = a * b / ((a + b) * (a + b) * (a + b + 1));
        double m = sum / n, v = sq / n - m * m;
        /* the mean within 5 standard errors, the variance within 3% */
        ck_assert_msg(fabs(m - mean) < 5 * sqrt(var / n), "Beta(%g, %g): mean %g, want %g", a,
                      b, m, mean);
        ck_assert_msg(fabs(v - var) < 0.03 * var, "Beta(%g, %g): var %g, want %g", a, b, v, var);
    }
}
END_TEST

START_TEST(normal_draws_have_the_right_moments)
{
    /* Through Gamma(a) for a large a, which is nearly a + sqrt(a) N(0, 1):
     * the normal generator's moments show in the standardised draws. */
    const double a = 1e6;
    uint64_t rng = 2024;
    double s1 = 0, s2 = 0, s4 = 0;
    int tail = 0;
    const int n = 400000;
    for (int i = 0; i < n; i++) {
        double b = bvt__draw_beta(&rng, a, a); /* mean 1/2, sd 1 / sqrt(8a + 4) */
        double z = (b - 0.5) * sqrt(8 * a + 4);
        s1 += z;
        s2 += z * z;
        s4 += z * z * z * z;
        tail += fabs(z) > 3.442619855899;
    }
    double mean = s1 / n, var = s2 / n - mean * mean, kurt = s4 / n / (var * var);
    ck_assert_msg(fabs(mean) < 5 / sqrt(n), "mean %g", mean);
    ck_assert_msg(fabs(var - 1) < 0.01, "variance %g", var);
    ck_assert_msg(fabs(kurt - 3) < 0.05, "kurtosis %g", kurt);
    /* P(|z| > 3.4426) = 5.76e-4: 230 expected of 400,000, +-5 sigma */
    ck_assert_msg(abs(tail - 230) < 76, "tail %d", tail);
}
END_TEST

START_TEST(policy_defaults_and_limits)
{
    bvt_policy p;
    ck_assert_int_eq(bvt__policy_resolve(NULL, &p, NULL), BVT_OK);
    ck_assert_uint_eq(p.kind, BVT_POLICY_THOMPSON);
    ck_assert(p.prior_rate == 0.01 && p.prior_strength == 20 && p.affinity_boost == 1);
    bvt_policy in = BVT_POLICY_INIT;
    in.kind = BVT_POLICY_EPSILON_GREEDY;
    in.affinity_boost = -1;
    ck_assert_int_eq(bvt__policy_resolve(&in, &p, NULL), BVT_OK);
    ck_assert(p.epsilon == 0.1 && p.affinity_boost == 0);
    /* the prior mean: rate x (1 + boost x affinity), at most 0.5 */
    ck_assert(fabs(bvt__prior_mean(&p, 1) - 0.01) < 1e-15);
    in.affinity_boost = 1000;
    ck_assert_int_eq(bvt__policy_resolve(&in, &p, NULL), BVT_OK);
    ck_assert(bvt__prior_mean(&p, 1) == 0.5);
    in.version = 2;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__policy_resolve(&in, &p, &err), BVT_EVERSION);
}
END_TEST

/* Rank arms[0..n) with the fast path (one tier), and the same arms plus one
 * of a lower priority (the slot-by-slot path): the slots must agree. */
static void same_slots(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                       uint64_t seed)
{
    bvt_arm all[33];
    memcpy(all, arms, n * sizeof *arms);
    /* weightless and worthless, so that neither UCB1's total of trials nor
     * softmax's best score changes */
    all[n] = (bvt_arm){ .a = 1e-300, .b = 1e-300, .value = 1e-9, .priority = -1,
                        .index = (uint32_t)n };
    uint8_t taken[33];
    uint32_t tier[33];
    double score[33], prob[33], f1[33], f2[33];
    bvt_pick trial[33], a[33], b[33];
    bvt_bandit_work w = { taken, tier, score, prob, trial };
    size_t na = bvt__bandit_rank(p, arms, n, k, seed, &w, a, f1);
    size_t nb = bvt__bandit_rank(p, all, n + 1, k, seed, &w, b, f2);
    ck_assert_uint_eq(na, k);
    ck_assert_uint_eq(nb, k);
    for (size_t j = 0; j < k; j++) {
        ck_assert_msg(a[j].arm == b[j].arm, "kind %u seed %llu slot %zu: %u vs %u", p->kind,
                      (unsigned long long)seed, j, a[j].arm, b[j].arm);
        ck_assert(a[j].score == b[j].score && a[j].propensity == b[j].propensity);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert(f1[i] == f2[i]);
}

START_TEST(fast_path_picks_as_the_slot_by_slot_path)
{
    bvt_arm arms[32];
    for (size_t i = 0; i < 32; i++) /* ties on purpose: every fourth arm repeats */
        arms[i] = (bvt_arm){ .a = 1 + (double)(i % 4 == 3 ? i - 1 : i) / 4, .b = 30, .value = 1,
                             .priority = 3, .index = (uint32_t)i };
    static const uint32_t kinds[] = { BVT_POLICY_GREEDY, BVT_POLICY_EPSILON_GREEDY,
                                      BVT_POLICY_UCB1, BVT_POLICY_THOMPSON, BVT_POLICY_SOFTMAX };
    for (size_t c = 0; c < 5; c++) {
        bvt_policy in = BVT_POLICY_INIT, p;
        in.kind = kinds[c];
        in.epsilon = 0.3;
        in.floor = kinds[c] == BVT_POLICY_THOMPSON ? 0 : 0.1; /* Thompson draws one more arm */
        ck_assert_int_eq(bvt__policy_resolve(&in, &p, NULL), BVT_OK);
        for (uint64_t seed = 0; seed < 200; seed++)
            same_slots(&p, arms, 32, 5, seed);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bandit");
    TCase *tc = tcase_create("bandit");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, beta_draws_have_the_right_moments);
    tcase_add_test(tc, normal_draws_have_the_right_moments);
    tcase_add_test(tc, policy_defaults_and_limits);
    tcase_add_test(tc, fast_path_picks_as_the_slot_by_slot_path);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
