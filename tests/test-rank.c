/* Ranking through the public API: each policy's choices and propensities,
 * determinism under a seed, priority tiers, candidate subsets, the
 * interest prior, Thompson sampling learning the best offer in a
 * simulation, bad requests, and ranking while feedback and definitions
 * change in other threads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "rank-suite-secret-key"
#include "offertest.h"

#include "rng.h"

static const bvt_rank_request plain = BVT_RANK_REQUEST_INIT;

/* n offers "o0".."o<n-1>" with value 1; offer i gets clicks[i] clicks out
 * of impressions[i] impressions from distinct users. */
static bvt_engine *engine_with_history(size_t n, const int *impressions, const int *clicks)
{
    bvt_engine *e = engine_default();
    char id[16], user[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "o%zu", i);
        offer_ok(e, &(bvt_offer){ .version = 1, .id = id, .value = 1 });
        for (int j = 0; impressions && j < impressions[i]; j++) {
            snprintf(user, sizeof user, "h%zu-%d", i, j);
            feedback_ok(e, user, BVT_EVENT_IMPRESSION, id, T0, 0);
            if (j < clicks[i])
                feedback_ok(e, user, BVT_EVENT_CLICK, id, T0 + 1, 0);
        }
    }
    return e;
}

static bvt_rank_request with_policy(const bvt_policy *p, size_t k, uint64_t seed)
{
    bvt_rank_request q = plain;
    q.policy = p;
    q.k = k;
    q.seed = seed;
    return q;
}

static double sum_choices(const ranked *r)
{
    double s = 0;
    for (size_t i = 0; i < r->res.n_choices; i++)
        s += r->choices[i].probability;
    return s;
}

static double choice_of(const ranked *r, const char *id, bvt_engine *e)
{
    uint32_t num;
    ck_assert_int_eq(bvt_offer_lookup(e, id, &num), BVT_OK);
    for (size_t i = 0; i < r->res.n_choices; i++)
        if (r->choices[i].offer == num)
            return r->choices[i].probability;
    return -2;
}

static const int imps[] = { 100, 100, 100, 100 };
static const int hits[] = { 1, 10, 3, 0 };

START_TEST(greedy_takes_the_best_estimate)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_GREEDY;
    ranked r;
    rank_ok(e, with_policy(&p, 3, 1), "u", T0 + HOUR, &r);
    ck_assert_uint_eq(r.res.n_offers, 3);
    ck_assert_str_eq(r.offers[0].offer_id, "o1");
    ck_assert_str_eq(r.offers[1].offer_id, "o2");
    ck_assert_str_eq(r.offers[2].offer_id, "o0");
    /* Beta(20 x 0.01 + 10, 20 x 0.99 + 90): the mean, value 1 */
    ck_assert(close_rel(r.offers[0].estimate, 10.2 / 120.0, 1e-12));
    ck_assert(close_rel(r.offers[0].score, 10.2 / 120.0, 1e-12));
    for (int i = 0; i < 3; i++)
        ck_assert(r.offers[i].propensity == 1.0);
    ck_assert(choice_of(&r, "o1", e) == 1.0);
    ck_assert(sum_choices(&r) == 1.0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(epsilon_greedy_and_floor_propensities)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_EPSILON_GREEDY;
    p.epsilon = 0.2;
    ranked r;
    int best_first = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        rank_ok(e, with_policy(&p, 2, seed), "u", T0 + HOUR, &r);
        ck_assert(fabs(sum_choices(&r) - 1) < 1e-12);
        ck_assert(close_rel(choice_of(&r, "o1", e), 0.8 + 0.2 / 4, 1e-12));
        ck_assert(close_rel(choice_of(&r, "o3", e), 0.2 / 4, 1e-12));
        int best = strcmp(r.offers[0].offer_id, "o1") == 0;
        best_first += best;
        ck_assert(close_rel(r.offers[0].propensity, best ? 0.85 : 0.05, 1e-12));
        /* a later slot's probability depends on the earlier: not without draws */
        ck_assert(r.offers[1].propensity == -1);
    }
    /* 2000 draws at p = 0.85: 1700 +- 4 sigma (64) */
    ck_assert_msg(abs(best_first - 1700) < 64, "best first %d of 2000", best_first);
    /* with draws, the second slot's position-wise probability is estimated:
     * it agrees with how often that offer lands second over seeds */
    p.propensity_draws = 4000;
    rank_ok(e, with_policy(&p, 2, 5), "u", T0 + HOUR, &r);
    ck_assert(close_rel(r.offers[0].propensity, strcmp(r.offers[0].offer_id, "o1") ? 0.05 : 0.85,
                        1e-12)); /* the first slot stays exact */
    char second[8];
    snprintf(second, sizeof second, "%s", r.offers[1].offer_id);
    double estimated = r.offers[1].propensity;
    p.propensity_draws = 0;
    int lands = 0;
    for (uint64_t seed = 0; seed < 4000; seed++) {
        rank_ok(e, with_policy(&p, 2, seed), "u", T0 + HOUR, &r);
        lands += strcmp(r.offers[1].offer_id, second) == 0;
    }
    ck_assert_msg(fabs(estimated - lands / 4000.0) < 0.03, "slot 2: estimated %f, landed %f",
                  estimated, lands / 4000.0);
    /* the floor mixes uniform choice into a greedy policy */
    p.kind = BVT_POLICY_GREEDY;
    p.floor = 0.4;
    rank_ok(e, with_policy(&p, 1, 7), "u", T0 + HOUR, &r);
    ck_assert(close_rel(choice_of(&r, "o1", e), 0.6 + 0.1, 1e-12));
    ck_assert(close_rel(choice_of(&r, "o0", e), 0.1, 1e-12));
    bvt_engine_free(e);
}
END_TEST

START_TEST(softmax_follows_its_formula)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_SOFTMAX;
    p.temperature = 0.5;
    ranked r;
    rank_ok(e, with_policy(&p, 1, 3), "u", T0 + HOUR, &r);
    /* means (a / (a + b)) of o0..o3: 1.2/120, 10.2/120, 3.2/120, 0.2/120 */
    double mean[4] = { 1.2 / 120, 10.2 / 120, 3.2 / 120, 0.2 / 120 }, w[4], sum = 0;
    for (int i = 0; i < 4; i++)
        sum += w[i] = exp((mean[i] / mean[1] - 1) / 0.5);
    char id[8];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "o%d", i);
        ck_assert(close_rel(choice_of(&r, id, e), w[i] / sum, 1e-9));
    }
    ck_assert(fabs(sum_choices(&r) - 1) < 1e-12);
    bvt_engine_free(e);
}
END_TEST

START_TEST(thompson_is_reproducible_and_estimates_propensities)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy p = BVT_POLICY_INIT; /* Thompson sampling by default */
    ranked a, b;
    rank_ok(e, with_policy(NULL, 3, 42), "u", T0 + HOUR, &a);
    rank_ok(e, with_policy(NULL, 3, 42), "u", T0 + HOUR, &b);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(a.offers[i].offer_id, b.offers[i].offer_id);
        ck_assert(a.offers[i].score == b.offers[i].score);
        ck_assert(a.offers[i].propensity == -1); /* not estimated without draws */
    }
    int differs = 0;
    for (uint64_t seed = 0; seed < 50 && !differs; seed++) {
        rank_ok(e, with_policy(NULL, 3, seed), "u", T0 + HOUR, &b);
        for (int i = 0; i < 3; i++)
            differs |= strcmp(a.offers[i].offer_id, b.offers[i].offer_id) != 0;
    }
    ck_assert_msg(differs, "50 seeds gave one ranking");
    p.propensity_draws = 4000;
    rank_ok(e, with_policy(&p, 2, 42), "u", T0 + HOUR, &a);
    ck_assert(fabs(sum_choices(&a) - 1) < 1e-12);
    ck_assert(a.offers[0].propensity > 0 && a.offers[0].propensity <= 1);
    /* asking for propensities leaves the ranking as it was */
    rank_ok(e, with_policy(NULL, 2, 42), "u", T0 + HOUR, &b);
    ck_assert_str_eq(a.offers[0].offer_id, b.offers[0].offer_id);
    /* the estimate agrees with the frequency of first places over seeds */
    int first_o1 = 0;
    for (uint64_t seed = 0; seed < 4000; seed++) {
        rank_ok(e, with_policy(NULL, 1, seed), "u", T0 + HOUR, &b);
        first_o1 += strcmp(b.offers[0].offer_id, "o1") == 0;
    }
    double pe = choice_of(&a, "o1", e), pf = first_o1 / 4000.0;
    ck_assert_msg(fabs(pe - pf) < 0.04, "MC %f vs frequency %f", pe, pf);
    bvt_engine_free(e);
}
END_TEST

START_TEST(ucb1_explores_then_exploits)
{
    static const int few[] = { 2, 200, 200 }, few_hits[] = { 0, 20, 2 };
    bvt_engine *e = engine_with_history(3, few, few_hits);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_UCB1;
    ranked r;
    rank_ok(e, with_policy(&p, 3, 1), "u", T0 + HOUR, &r);
    /* o0 has the fewest trials: its bound is widest */
    ck_assert_str_eq(r.offers[0].offer_id, "o0");
    double n0 = 22, n = 22 + 220 + 220;
    ck_assert(close_rel(r.offers[0].score, 0.2 / n0 + sqrt(2 * log(n) / n0), 1e-9));
    ck_assert(r.offers[0].propensity == 1.0);
    ck_assert_str_eq(r.offers[1].offer_id, "o1");
    bvt_engine_free(e);
}
END_TEST

START_TEST(priority_tiers_fill_first)
{
    bvt_engine *e = engine_with_history(3, imps, hits);
    bvt_offer house = offer_named("house");
    house.priority = -1;
    offer_ok(e, &house);
    bvt_offer sponsor = offer_named("sponsor");
    sponsor.priority = 5;
    offer_ok(e, &sponsor);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_GREEDY;
    ranked r;
    rank_ok(e, with_policy(&p, 5, 1), "u", T0 + HOUR, &r);
    ck_assert_uint_eq(r.res.n_offers, 5);
    ck_assert_str_eq(r.offers[0].offer_id, "sponsor");
    ck_assert_str_eq(r.offers[1].offer_id, "o1");
    ck_assert_str_eq(r.offers[4].offer_id, "house");
    ck_assert(choice_of(&r, "sponsor", e) == 1.0);
    ck_assert(choice_of(&r, "o1", e) == 0.0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(candidates_subset_and_slots)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    const char *cands[] = { "o3", "nope", "o0", "o3", NULL };
    bvt_rank_request q = with_policy(NULL, 5, 9);
    q.candidates = cands;
    q.n_candidates = 5;
    ranked r;
    rank_ok(e, q, "u", T0, &r);
    ck_assert_uint_eq(r.res.n_offers, 2); /* repeats ranked once */
    ck_assert(ranked_has(&r, "o3") && ranked_has(&r, "o0"));
    ck_assert_uint_eq(r.res.n_choices, 2);
    ck_assert_uint_eq(r.res.n_excluded, 2); /* "nope" and the NULL entry */
    ck_assert_uint_eq(exclusion_of(&r, "nope"), BVT_EXCLUDED_UNKNOWN);
    uint32_t ids[2];
    ck_assert_int_eq(bvt_offer_lookup(e, "o1", &ids[0]), BVT_OK);
    ids[1] = 999;
    q.candidates = NULL;
    q.candidate_ids = ids;
    q.n_candidates = 2;
    rank_ok(e, q, "u", T0, &r);
    ck_assert_uint_eq(r.res.n_offers, 1);
    ck_assert_str_eq(r.offers[0].offer_id, "o1");
    ck_assert_uint_eq(r.excluded[0].reason, BVT_EXCLUDED_UNKNOWN);
    /* a result with smaller arrays still counts everything */
    bvt_ranked_offer one;
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = &one;
    res.offers_cap = 1;
    bvt_rank_request all = with_policy(NULL, 3, 1);
    all.user_id = "u";
    all.user_id_len = 1;
    all.now = T0;
    ck_assert_int_eq(bvt_rank(e, &all, &res, NULL), BVT_OK);
    ck_assert_uint_eq(res.n_offers, 3);
    ck_assert_uint_eq(res.n_choices, 4);
    bvt_engine_free(e);
}
END_TEST

START_TEST(interest_affinity_raises_the_prior)
{
    bvt_engine *e = engine_default();
    const char *run[] = { "sports/running" }, *cook[] = { "home/kitchen" };
    bvt_offer a = offer_named("shoes"), b = offer_named("pans");
    a.tags = run;
    a.n_tags = 1;
    b.tags = cook;
    b.n_tags = 1;
    offer_ok(e, &a);
    offer_ok(e, &b);
    track_ok(e, "runner", BVT_EVENT_PAGE_VIEW, T0, "sports/running/trail", 0);
    track_ok(e, "runner", BVT_EVENT_PAGE_VIEW, T0, "home/kitchen", 0);
    track_ok(e, "runner", BVT_EVENT_ADD_TO_CART, T0, "sports/running", 10);
    ads_consent(e, "runner", 1, T0);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_GREEDY;
    ranked r;
    rank_ok(e, with_policy(&p, 2, 1), "runner", T0 + HOUR, &r);
    ck_assert_str_eq(r.offers[0].offer_id, "shoes");
    ck_assert(r.offers[0].estimate > r.offers[1].estimate);
    ck_assert(r.offers[0].estimate <= 0.02 + 1e-12); /* 0.01 x (1 + affinity <= 1) */
    /* without ads consent the prior ignores interests */
    ads_consent(e, "runner", 0, T0 + 1);
    rank_ok(e, with_policy(&p, 2, 1), "runner", T0 + HOUR, &r);
    ck_assert(r.offers[0].estimate == r.offers[1].estimate);
    ck_assert(close_rel(r.offers[0].estimate, 0.01, 1e-12));
    bvt_engine_free(e);
}
END_TEST

/* A hidden response model: offer i is clicked with probability truth[i];
 * the share of the last `tail` rounds that went to the best offer, o2. */
static double simulate(uint32_t kind, int rounds, int tail, uint64_t world)
{
    static const double truth[] = { 0.02, 0.03, 0.08, 0.04, 0.01 };
    bvt_engine *e = engine_with_history(5, NULL, NULL);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = kind;
    uint64_t rng = world;
    int best_in_tail = 0;
    char user[32];
    for (int t = 0; t < rounds; t++) {
        snprintf(user, sizeof user, "sim-%d", t % 5000);
        ranked r;
        rank_ok(e, with_policy(&p, 1, world * 1000003 + (uint64_t)t), user, T0 + t, &r);
        ck_assert_uint_eq(r.res.n_offers, 1);
        int arm = r.offers[0].offer_id[1] - '0';
        feedback_ok(e, user, BVT_EVENT_IMPRESSION, r.offers[0].offer_id, T0 + t, 0);
        if ((double)(bvt__rng_next(&rng) >> 11) * 0x1.0p-53 < truth[arm])
            feedback_ok(e, user, BVT_EVENT_CLICK, r.offers[0].offer_id, T0 + t, 0);
        best_in_tail += t >= rounds - tail && arm == 2;
    }
    bvt_engine_free(e);
    return (double)best_in_tail / tail;
}

START_TEST(thompson_learns_the_best_offer)
{
    /* in each of 3 simulated worlds the best offer takes most of the end */
    for (uint64_t world = 1; world <= 3; world++) {
        double share = simulate(BVT_POLICY_THOMPSON, 15000, 2000, world);
        ck_assert_msg(share > 0.8, "world %llu: the best offer took %.3f of the last 2000 "
                      "rounds", (unsigned long long)world, share);
    }
}
END_TEST

START_TEST(bad_requests)
{
    bvt_engine *e = engine_with_history(2, NULL, NULL);
    bvt_ranked_offer out[2];
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = out;
    res.offers_cap = 2;
    bvt_rank_request q = plain;
    q.user_id = "u";
    q.user_id_len = 1;
    q.now = T0;
    ck_assert_int_eq(bvt_rank(NULL, &q, &res, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_rank(e, NULL, &res, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_rank(e, &q, NULL, NULL), BVT_EINVAL);
    bvt_error err = BVT_ERROR_INIT;
    struct { const char *label; bvt_rank_request q; bvt_rank_result res; int expect; } cases[8];
    size_t n = 0;
    for (size_t i = 0; i < 8; i++)
        cases[i].q = q, cases[i].res = res;
    cases[n].label = "request version 0", cases[n].q.version = 0, cases[n++].expect = BVT_EINVAL;
    cases[n].label = "request too new", cases[n].q.version = 9, cases[n++].expect = BVT_EVERSION;
    cases[n].label = "result too new", cases[n].res.version = 9, cases[n++].expect = BVT_EVERSION;
    cases[n].label = "no user", cases[n].q.user_id = NULL, cases[n++].expect = BVT_EINVAL;
    cases[n].label = "now 0", cases[n].q.now = 0, cases[n++].expect = BVT_EINVAL;
    cases[n].label = "candidates missing", cases[n].q.n_candidates = 2, cases[n++].expect = BVT_EINVAL;
    cases[n].label = "array missing", cases[n].res.offers = NULL, cases[n++].expect = BVT_EINVAL;
    cases[n].label = "unknown experiment", cases[n].q.experiment = "nope",
    cases[n++].expect = BVT_ENOTFOUND;
    for (size_t i = 0; i < n; i++) {
        int rc = bvt_rank(e, &cases[i].q, &cases[i].res, &err);
        ck_assert_msg(rc == cases[i].expect, "%s: %d, want %d", cases[i].label, rc,
                      cases[i].expect);
    }
    const bvt_policy bad[] = { { 1, 9, 0, 0, 0, 0, 0, 0, 0 }, { 1, 2, 1.5, 0, 0, 0, 0, 0, 0 },
                               { 1, 3, 0, -1, 0, 0, 0, 0, 0 }, { 1, 1, 0, 0, 2, 0, 0, 0, 0 },
                               { 1, 1, 0, 0, 0, NAN, 0, 0, 0 }, { 1, 1, 0, 0, 0, 0, -5, 0, 0 },
                               { 0, 1, 0, 0, 0, 0, 0, 0, 0 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q.policy = &bad[i];
        ck_assert_int_eq(bvt_rank(e, &q, &res, NULL), BVT_EINVAL);
        ck_assert_int_eq(bvt_policy_set(e, &bad[i], NULL), BVT_EINVAL);
    }
    bvt_engine_free(e);
}
END_TEST

/* What one call may be asked to do is bounded: each count over its limit
 * is refused with a message naming it, and changes nothing. */
static int rank_err(bvt_engine *e, bvt_rank_request q, bvt_error *err)
{
    bvt_ranked_offer out[4];
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = out;
    res.offers_cap = 4;
    q.user_id = "u";
    q.user_id_len = 1;
    q.now = T0 + HOUR;
    bvt_error_init(err);
    return bvt_rank(e, &q, &res, err);
}

#define ck_assert_names(err, a, b) \
    ck_assert_msg(strstr((err).message, a) && strstr((err).message, b), "%s", (err).message)

START_TEST(per_call_counts_are_bounded)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_error err = BVT_ERROR_INIT;
    bvt_policy p = BVT_POLICY_INIT;
    /* The case: one bvt_rank then ran for minutes. */
    p.propensity_draws = 4000000000u;
    ck_assert_int_eq(bvt_policy_set(e, &p, &err), BVT_EINVAL);
    ck_assert_names(err, "propensity_draws", "10000");
    ranked r; /* the engine's policy is still the default: nothing estimated */
    rank_ok(e, with_policy(NULL, 2, 1), "u", T0 + HOUR, &r);
    ck_assert(r.offers[1].propensity == -1);
    p.propensity_draws = BVT_PROPENSITY_DRAWS_MAX + 1;
    ck_assert_int_eq(rank_err(e, with_policy(&p, 1, 1), &err), BVT_EINVAL);
    ck_assert_names(err, "propensity_draws", "BVT_PROPENSITY_DRAWS_MAX");
    p.propensity_draws = BVT_PROPENSITY_DRAWS_MAX;
    ck_assert_int_eq(bvt_policy_set(e, &p, &err), BVT_OK);
    ck_assert_int_eq(rank_err(e, with_policy(NULL, BVT_RANK_SLOTS_MAX + 1, 1), &err),
                     BVT_EINVAL);
    ck_assert_names(err, "k (257", "BVT_RANK_SLOTS_MAX");
    ck_assert_int_eq(rank_err(e, with_policy(NULL, BVT_RANK_SLOTS_MAX, 1), &err), BVT_OK);
    uint32_t ids[1] = { 1 };
    bvt_rank_request q = with_policy(NULL, 1, 1);
    q.candidate_ids = ids;
    q.n_candidates = (size_t)BVT_RANK_CANDIDATES_MAX + 1;
    ck_assert_int_eq(rank_err(e, q, &err), BVT_EINVAL);
    ck_assert_names(err, "n_candidates", "BVT_RANK_CANDIDATES_MAX");
    const char *keys[BVT_CONTEXT_KEYS_MAX + 1], *values[BVT_CONTEXT_KEYS_MAX + 1];
    for (int i = 0; i <= BVT_CONTEXT_KEYS_MAX; i++)
        keys[i] = "k", values[i] = "v";
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.keys = keys;
    ctx.values = values;
    ctx.n = BVT_CONTEXT_KEYS_MAX + 1;
    q = with_policy(NULL, 1, 1);
    q.ctx = &ctx;
    ck_assert_int_eq(rank_err(e, q, &err), BVT_EINVAL);
    ck_assert_names(err, "context", "BVT_CONTEXT_KEYS_MAX");
    ctx.n = BVT_CONTEXT_KEYS_MAX;
    ck_assert_int_eq(rank_err(e, q, &err), BVT_OK);
    /* A variant's policy is held to the same limit. */
    bvt_policy greedy = BVT_POLICY_INIT, many = BVT_POLICY_INIT;
    greedy.kind = BVT_POLICY_GREEDY;
    many.propensity_draws = 4000000000u;
    bvt_variant vars[2] = { { "a", 1, &greedy, NULL, 0 }, { "b", 1, &many, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "draws";
    x.variants = vars;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, &err), BVT_EINVAL);
    ck_assert_names(err, "propensity_draws", "10000");
    ck_assert_int_eq(bvt_experiment_lookup(e, "draws", ids), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

/* Many eligible offers cut the draws (BVT_PROPENSITY_WORK_MAX): the call
 * stays short and its estimates are over the draws made. */
START_TEST(propensity_work_is_bounded)
{
    enum { N = 2000 };
    bvt_engine *e = engine_default();
    static bvt_offer offers[N];
    static char names[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "o%d", i);
        offers[i] = offer_named(names[i]);
        offers[i].value = 1 + i % 3;
    }
    ck_assert_int_eq(bvt_offer_define_batch(e, offers, N, NULL, NULL, NULL), BVT_OK);
    bvt_policy p = BVT_POLICY_INIT; /* Thompson: every slot estimated */
    p.propensity_draws = BVT_PROPENSITY_DRAWS_MAX;
    ranked r;
    rank_ok(e, with_policy(&p, 3, 7), "u", T0, &r);
    double made = BVT_PROPENSITY_WORK_MAX / N; /* 250 draws, not 10,000 */
    for (int s = 0; s < 3; s++) {
        double hits_plus_one = r.offers[s].propensity * (made + 1);
        ck_assert_msg(fabs(hits_plus_one - round(hits_plus_one)) < 1e-6 && hits_plus_one >= 1,
                      "slot %d: propensity %g is not (hits + 1) / %g", s, r.offers[s].propensity,
                      made + 1);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(engine_policy_is_the_default)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = BVT_POLICY_GREEDY;
    ck_assert_int_eq(bvt_policy_set(e, &p, NULL), BVT_OK);
    ranked r;
    for (uint64_t seed = 0; seed < 20; seed++) {
        rank_ok(e, with_policy(NULL, 1, seed), "u", T0, &r);
        ck_assert_str_eq(r.offers[0].offer_id, "o1");
        ck_assert(r.offers[0].propensity == 1.0);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(experiment_variants_switch_policy_and_offers)
{
    bvt_engine *e = engine_with_history(4, imps, hits);
    bvt_policy greedy = BVT_POLICY_INIT;
    greedy.kind = BVT_POLICY_GREEDY;
    const char *only_o3[] = { "o3" };
    bvt_variant v[2] = { { "control", 0.5, NULL, NULL, 0 }, { "narrow", 0.5, &greedy, only_o3, 1 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "ranker";
    x.variants = v;
    x.n_variants = 2;
    uint32_t id;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &id, NULL), BVT_OK);
    bvt_rank_request q = with_policy(NULL, 4, 1);
    q.experiment = "ranker";
    int seen[2] = { 0, 0 };
    char user[32];
    for (int u = 0; u < 200; u++) {
        snprintf(user, sizeof user, "exp-user-%d", u);
        ranked r;
        rank_ok(e, q, user, T0 + HOUR, &r);
        int32_t want;
        ck_assert_int_eq(bvt_experiment_variant_of(e, id, user, strlen(user), &want), BVT_OK);
        ck_assert_int_eq(r.res.variant, want);
        ck_assert(want == 0 || want == 1);
        seen[want]++;
        if (want == 1) { /* only o3, ranked greedily: propensity 1 */
            ck_assert_uint_eq(r.res.n_offers, 1);
            ck_assert_str_eq(r.offers[0].offer_id, "o3");
            ck_assert(r.offers[0].propensity == 1.0);
            ck_assert_uint_eq(exclusion_of(&r, "o1"), BVT_EXCLUDED_VARIANT);
        } else { /* every offer, by the engine's Thompson sampling */
            ck_assert_uint_eq(r.res.n_offers, 4);
            ck_assert(r.offers[0].propensity == -1);
        }
        /* the exposure is recorded: the user now exists, and stays in the variant */
        ck_assert_int_eq(bvt_user_exists(e, user, strlen(user)), 1);
    }
    ck_assert(seen[0] > 60 && seen[1] > 60);
    bvt_experiment_report rep;
    memset(&rep, 0, sizeof rep);
    rep.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &rep), BVT_OK);
    ck_assert_uint_eq(rep.variants[0].users, (uint64_t)seen[0]);
    ck_assert_uint_eq(rep.variants[1].users, (uint64_t)seen[1]);
    /* ranking again does not count the user twice */
    ranked r;
    rank_ok(e, q, "exp-user-0", T0 + 2 * HOUR, &r);
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &rep), BVT_OK);
    ck_assert_uint_eq(rep.variants[0].users + rep.variants[1].users, 200);
    bvt_engine_free(e);
}
END_TEST

/* ---- concurrency: ranking while feedback and definitions change ---- */

typedef struct shared {
    bvt_engine *e;
    _Atomic int stop;
} shared;

static void *ranker(void *arg)
{
    shared *s = arg;
    bvt_ranked_offer out[4];
    for (int i = 0; i < 3000; i++) {
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        res.offers = out;
        res.offers_cap = 4;
        bvt_rank_request q = with_policy(NULL, 4, (uint64_t)i);
        q.user_id = "u";
        q.user_id_len = 1;
        q.now = T0 + i;
        ck_assert_int_eq(bvt_rank(s->e, &q, &res, NULL), BVT_OK);
        ck_assert_uint_le(res.n_offers, 4);
        for (size_t j = 0; j < res.n_offers && j < 4; j++)
            ck_assert(out[j].offer_id && out[j].offer_id[0] == 'o');
    }
    return NULL;
}

static void *clicker(void *arg)
{
    shared *s = arg;
    char id[8];
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "o%d", i % 6);
        feedback_ok(s->e, "u", i % 3 ? BVT_EVENT_IMPRESSION : BVT_EVENT_CLICK, id, T0 + i, 0);
    }
    return NULL;
}

static void *definer(void *arg)
{
    shared *s = arg;
    char id[8];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "o%d", i % 6);
        if (i % 4 == 3)
            (void)bvt_offer_remove(s->e, id, NULL);
        else
            offer_ok(s->e, &(bvt_offer){ .version = 1, .id = id, .value = i % 5 });
    }
    return NULL;
}

START_TEST(ranking_while_things_change)
{
    shared s = { engine_with_history(4, NULL, NULL), 0 };
    thread_fn fns[] = { ranker, ranker, clicker, definer };
    run_threads(fns, 4, &s);
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(s.e, BVT_ALL_OFFERS, 0, &m), BVT_OK);
    /* every event counted once: o4 and o5 were unknown until first defined */
    ck_assert_uint_eq(m.impressions + m.clicks + bvt_metrics_unattributed(s.e), 3000);
    bvt_engine_free(s.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rank");
    TCase *tc = tcase_create("rank");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, greedy_takes_the_best_estimate);
    tcase_add_test(tc, epsilon_greedy_and_floor_propensities);
    tcase_add_test(tc, softmax_follows_its_formula);
    tcase_add_test(tc, thompson_is_reproducible_and_estimates_propensities);
    tcase_add_test(tc, ucb1_explores_then_exploits);
    tcase_add_test(tc, priority_tiers_fill_first);
    tcase_add_test(tc, candidates_subset_and_slots);
    tcase_add_test(tc, interest_affinity_raises_the_prior);
    tcase_add_test(tc, thompson_learns_the_best_offer);
    tcase_add_test(tc, bad_requests);
    tcase_add_test(tc, per_call_counts_are_bounded);
    tcase_add_test(tc, propensity_work_is_bounded);
    tcase_add_test(tc, engine_policy_is_the_default);
    tcase_add_test(tc, experiment_variants_switch_policy_and_offers);
    tcase_add_test(tc, ranking_while_things_change);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
