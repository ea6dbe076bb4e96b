/* test-ope-log.c — logging decisions for off-policy evaluation, end to end
 * through the library: a Thompson-sampling ranking over six offers logs
 * 1,000 decisions of three slots with ope_log_decision() (bvt_rank()'s
 * position-wise propensities), clicks are simulated from known rates, the
 * CSV is read back by the `bvt ope` reader, and the same policy, rebuilt
 * independently by Monte-Carlo, is scored on its own log: its weights
 * average 1, in every slot, and its IPS is the log's CTR. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "obd_read.h"
#include "ope.h"
#include "ope_log.h"
#include "ope_policy.h"

#define N_ITEMS 6
#define ROUNDS 1000
#define DRAWS 300

/* Overlapping posteriors (CTRs 3% .. 0.5%, a thousand impressions each),
 * so every slot is uncertain. */
static const double alpha[N_ITEMS] = { 30, 25, 20, 15, 10, 5 };
static const double beta[N_ITEMS] = { 970, 975, 980, 985, 990, 995 };
/* The simulated users' click rates: item rate x position factor. */
static const double true_ctr[N_ITEMS] = { 0.30, 0.25, 0.20, 0.15, 0.10, 0.05 };
static const double pos_factor[OBD_POSITIONS] = { 1.0, 0.8, 0.6 };

static long item_of_id(const char *id) { return strtol(id + 5, NULL, 10); } /* "item-<i>" */

static double uniform(uint64_t *s)
{
    uint64_t x = (*s += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return (double)((x ^ (x >> 31)) >> 11) * 0x1.0p-53;
}

static void request(bvt_rank_request *req, const ope_evidence *ev, const bvt_policy *pol,
                    int round)
{
    bvt_rank_request init = BVT_RANK_REQUEST_INIT;
    *req = init;
    req->user_id = "visitor";
    req->user_id_len = 7;
    req->now = ev->last_ms + 1 + round;
    req->k = OBD_POSITIONS;
    req->policy = pol;
    /* The re-rankings of a decision use seeds seed + 1 .. seed + DRAWS:
     * rounds are spaced so they never share one. */
    req->seed = (uint64_t)round * (DRAWS + 1);
}

START_TEST(a_policy_scored_on_its_own_log_gets_its_ctr)
{
    double imps[N_ITEMS];
    for (int i = 0; i < N_ITEMS; i++)
        imps[i] = alpha[i] + beta[i];
    ope_evidence ev;
    ck_assert_int_eq(ope_evidence_new(&ev, N_ITEMS, alpha, imps), 0);
    bvt_policy pol = BVT_POLICY_INIT;
    pol.kind = BVT_POLICY_THOMPSON;
    pol.prior_strength = OPE_BTS_PRIOR_STRENGTH;

    cli_out o = { 0 };
    cli_out_printf(&o, "%s\n", OPE_LOG_HEADER);
    uint64_t row = 0, rng = 12345;
    for (int round = 0; round < ROUNDS; round++) {
        bvt_rank_request req;
        bvt_error err = BVT_ERROR_INIT;
        ope_logged_slot slots[OPE_LOG_SLOTS_MAX];
        size_t n;
        int clicks[OBD_POSITIONS];
        request(&req, &ev, &pol, round);
        ck_assert_int_eq(ope_log_decision(ev.engine, &req, DRAWS, slots, &n, &err), BVT_OK);
        ck_assert_uint_eq(n, OBD_POSITIONS);
        for (size_t s = 0; s < n; s++) {
            ck_assert(slots[s].propensity > 0 && slots[s].propensity <= 1);
            clicks[s] = uniform(&rng) < true_ctr[item_of_id(slots[s].offer_id)] * pos_factor[s];
        }
        ope_log_rows(&o, &row, "2024-01-01 00:00:00+00:00", slots, n, clicks, item_of_id);
    }
    ck_assert(!o.oom);

    /* Read back as `bvt ope` reads a log. */
    obd_log log;
    ck_assert_int_eq(obd_log_read("logged.csv", o.p, o.n, N_ITEMS, &log), 0);
    ck_assert_uint_eq(log.n, 3 * ROUNDS);
    double ctr = (double)log.clicks / (double)log.n;
    ck_assert(log.clicks > 300);

    /* The same policy rebuilt on its own engine and seed. */
    double pi[OBD_POSITIONS * N_ITEMS], q[OBD_POSITIONS * N_ITEMS] = { 0 };
    ck_assert_int_eq(ope_ts_distribution(N_ITEMS, alpha, imps, OPE_BTS_PRIOR_STRENGTH, 20000,
                                         777, pi), 0);
    const double *pis[OPE_FOLDS] = { pi, pi }, *qs[OPE_FOLDS] = { q, q };
    ope_terms t;
    ck_assert_int_eq(ope_terms_alloc(&t, log.n), 0);
    ope_terms_fill(&t, &log, N_ITEMS, pis, qs);
    double wsum = 0;
    for (size_t i = 0; i < t.n; i++)
        wsum += t.w[i];
    ope_estimate ips, sn;
    ope_ips(&t, &ips);
    ope_snips(&t, &sn);
    ck_assert_msg(fabs(wsum / t.n - 1) < 0.03, "mean weight %g", wsum / t.n);
    ck_assert_msg(fabs(ips.value - ctr) < 0.05 * ctr, "IPS %g, CTR %g", ips.value, ctr);
    ck_assert_msg(fabs(sn.value - ctr) < 0.03 * ctr, "SNIPS %g, CTR %g", sn.value, ctr);
    ck_assert(ips.ci_low <= ctr && ctr <= ips.ci_high);

    /* Every slot on its own: position-wise propensities weigh 1 on average
     * in each (conditional ones would not in slots 2 and 3). */
    double w_by_slot[OBD_POSITIONS] = { 0 };
    size_t rows_by_slot[OBD_POSITIONS] = { 0 };
    for (size_t i = 0; i < t.n; i++) {
        w_by_slot[log.rows[i].position - 1] += t.w[i];
        rows_by_slot[log.rows[i].position - 1]++;
    }
    printf("logged %zu rows, CTR %.5f; mean w %.4f (slots %.3f %.3f %.3f), IPS %.5f, SNIPS "
           "%.5f\n", log.n, ctr, wsum / t.n, w_by_slot[0] / rows_by_slot[0],
           w_by_slot[1] / rows_by_slot[1], w_by_slot[2] / rows_by_slot[2], ips.value, sn.value);
    for (int s = 0; s < OBD_POSITIONS; s++)
        ck_assert_msg(fabs(w_by_slot[s] / rows_by_slot[s] - 1) < 0.05, "slot %d mean weight %g",
                      s + 1, w_by_slot[s] / rows_by_slot[s]);

    ope_terms_free(&t);
    obd_log_free(&log);
    cli_out_free(&o);
    ope_evidence_free(&ev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ope-log");
    TCase *tc = tcase_create("logging");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_policy_scored_on_its_own_log_gets_its_ctr);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
