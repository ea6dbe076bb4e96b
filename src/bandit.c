/* bandit.c — policies: resolving their settings, Beta posterior draws, and
 * filling slots with the probability of each choice. */
#include <math.h>
#include <string.h>

#include "bandit.h"
#include "error.h"
#include "rng.h"

#define DEFAULT_EPSILON 0.1
#define DEFAULT_TEMPERATURE 0.1
#define DEFAULT_PRIOR_RATE 0.01
#define DEFAULT_PRIOR_STRENGTH 20.0
#define DEFAULT_AFFINITY_BOOST 1.0
#define PRIOR_MEAN_MAX 0.5

static int in_unit(double x)
{
    return x >= 0 && x <= 1; /* NaN fails */
}

int bvt_policy_resolve(const bvt_policy *in, bvt_policy *out, bvt_error *err)
{
    bvt_policy p = BVT_POLICY_INIT;
    if (in) {
        if (in->version == 0)
            return bvt_fail(err, BVT_EINVAL, -1, "policy.version is 0: use BVT_POLICY_INIT");
        if (in->version > BVT_POLICY_VERSION)
            return bvt_fail(err, BVT_EVERSION, -1, "policy.version %u is newer than this library",
                            in->version);
        p = *in;
        p.version = BVT_POLICY_VERSION;
    }
    if (p.kind > BVT_POLICY_UCB1)
        return bvt_fail(err, BVT_EINVAL, -1, "policy.kind %u is not a bvt_policy_kind", p.kind);
    if (!in_unit(p.epsilon) || !in_unit(p.floor) || !in_unit(p.prior_rate))
        return bvt_fail(err, BVT_EINVAL, -1, "epsilon, floor and prior_rate must be in 0..1");
    if (!(p.temperature >= 0) || !(p.prior_strength >= 0) || isinf(p.temperature) ||
        isinf(p.prior_strength) || isnan(p.affinity_boost) || isinf(p.affinity_boost))
        return bvt_fail(err, BVT_EINVAL, -1, "temperature and prior_strength must be finite "
                        "and >= 0, affinity_boost finite");
    if (p.kind == 0)
        p.kind = BVT_POLICY_THOMPSON;
    if (p.epsilon == 0 && p.kind == BVT_POLICY_EPSILON_GREEDY)
        p.epsilon = DEFAULT_EPSILON;
    if (p.temperature == 0)
        p.temperature = DEFAULT_TEMPERATURE;
    if (p.prior_rate == 0)
        p.prior_rate = DEFAULT_PRIOR_RATE;
    if (p.prior_strength == 0)
        p.prior_strength = DEFAULT_PRIOR_STRENGTH;
    p.affinity_boost = p.affinity_boost == 0 ? DEFAULT_AFFINITY_BOOST
                       : p.affinity_boost < 0 ? 0 : p.affinity_boost;
    *out = p;
    return BVT_OK;
}

double bvt_prior_mean(const bvt_policy *p, double affinity)
{
    double m = p->prior_rate * (1 + p->affinity_boost * affinity);
    return m < PRIOR_MEAN_MAX ? m : PRIOR_MEAN_MAX;
}

/* ---- draws ---- */

double bvt_draw_uniform(uint64_t *state)
{
    return (double)(bvt_rng_next(state) >> 11) * 0x1.0p-53;
}

static double draw_normal(uint64_t *state)
{
    /* Marsaglia's polar method; the second value is dropped so a draw's
     * result depends only on the generator state. */
    for (;;) {
        double u = 2 * bvt_draw_uniform(state) - 1, v = 2 * bvt_draw_uniform(state) - 1;
        double s = u * u + v * v;
        if (s > 0 && s < 1)
            return u * sqrt(-2 * log(s) / s);
    }
}

/* Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through Gamma(shape + 1). */
static double draw_gamma(uint64_t *state, double shape)
{
    double boost = 1;
    if (shape < 1) {
        double u = bvt_draw_uniform(state);
        boost = pow(u > 0 ? u : 0x1.0p-53, 1 / shape);
        shape += 1;
    }
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = draw_normal(state), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = bvt_draw_uniform(state);
        if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
            return boost * d * v;
    }
}

double bvt_draw_beta(uint64_t *state, double a, double b)
{
    double x = draw_gamma(state, a), y = draw_gamma(state, b);
    return x + y > 0 ? x / (x + y) : 0.5;
}

/* ---- filling slots ---- */

static double mean_of(const bvt_arm *arm)
{
    return arm->a / (arm->a + arm->b);
}

/* The deterministic score of an arm (Thompson's is drawn). */
static double base_score(const bvt_policy *p, const bvt_arm *arm, double log_total)
{
    double m = mean_of(arm);
    if (p->kind == BVT_POLICY_UCB1)
        m += sqrt(2 * log_total / (arm->a + arm->b));
    return m * arm->value;
}

/* The arms of the highest priority tier not yet taken: their positions in
 * tier[], returned count. */
static size_t top_tier(const bvt_arm *arms, size_t n, const uint8_t *taken, uint32_t *tier)
{
    int32_t best = INT32_MIN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!taken[i] && arms[i].priority > best)
            best = arms[i].priority;
    for (size_t i = 0; i < n; i++)
        if (!taken[i] && arms[i].priority == best)
            tier[m++] = (uint32_t)i;
    return m;
}

/* p[j] for tier member j under a policy whose choice is a distribution
 * (all but Thompson), with the floor mixed in. */
static void distribution(const bvt_policy *p, const double *score, size_t m, double *prob)
{
    size_t best = 0;
    for (size_t j = 1; j < m; j++)
        if (score[j] > score[best])
            best = j;
    double explore = p->kind == BVT_POLICY_EPSILON_GREEDY ? p->epsilon : 0;
    if (p->kind == BVT_POLICY_SOFTMAX && score[best] > 0) {
        double sum = 0;
        for (size_t j = 0; j < m; j++)
            sum += prob[j] = exp((score[j] / score[best] - 1) / p->temperature);
        for (size_t j = 0; j < m; j++)
            prob[j] /= sum;
    } else if (p->kind == BVT_POLICY_SOFTMAX) {
        for (size_t j = 0; j < m; j++)
            prob[j] = 1.0 / (double)m; /* no signal yet: uniform */
    } else {
        for (size_t j = 0; j < m; j++)
            prob[j] = explore / (double)m + (j == best ? 1 - explore : 0);
    }
    for (size_t j = 0; j < m; j++)
        prob[j] = (1 - p->floor) * prob[j] + p->floor / (double)m;
}

static size_t sample(const double *prob, size_t m, double u)
{
    double acc = 0;
    for (size_t j = 0; j + 1 < m; j++)
        if (u < (acc += prob[j]))
            return j;
    return m - 1;
}

/* Thompson: the tier member whose draw x value is highest; *score set. */
static size_t thompson_pick(const bvt_arm *arms, const uint32_t *tier, size_t m, uint64_t *rng,
                            double *score)
{
    size_t best = 0;
    double top = -1;
    for (size_t j = 0; j < m; j++) {
        const bvt_arm *arm = &arms[tier[j]];
        double s = bvt_draw_beta(rng, arm->a, arm->b) * arm->value;
        if (s > top)
            top = s, best = j;
    }
    *score = top;
    return best;
}

/* Thompson's choice probabilities by Monte-Carlo on their own stream (so
 * asking for them does not change the ranking), floor mixed in. */
static void thompson_distribution(const bvt_policy *p, const bvt_arm *arms, const uint32_t *tier,
                                  size_t m, uint64_t stream, double *prob)
{
    memset(prob, 0, m * sizeof *prob);
    double s;
    for (uint32_t d = 0; d < p->propensity_draws; d++)
        prob[thompson_pick(arms, tier, m, &stream, &s)] += 1;
    for (size_t j = 0; j < m; j++)
        prob[j] = (1 - p->floor) * prob[j] / p->propensity_draws + p->floor / (double)m;
}

size_t bvt_bandit_rank(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                       uint64_t seed, const bvt_bandit_work *w, bvt_pick *out, double *first_p)
{
    uint64_t rng = seed;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += arms[i].a + arms[i].b;
    double log_total = log(total > 1 ? total : 1);
    memset(w->taken, 0, n);
    if (first_p)
        for (size_t i = 0; i < n; i++)
            first_p[i] = 0;
    size_t filled = 0;
    for (; filled < k; filled++) {
        size_t m = top_tier(arms, n, w->taken, w->tier), j;
        if (m == 0)
            break;
        double score, propensity = -1;
        if (p->kind == BVT_POLICY_THOMPSON) {
            if (p->floor > 0 && bvt_draw_uniform(&rng) < p->floor) {
                j = (size_t)(bvt_draw_uniform(&rng) * (double)m);
                score = base_score(p, &arms[w->tier[j]], log_total);
            } else {
                j = thompson_pick(arms, w->tier, m, &rng, &score);
            }
            if (p->propensity_draws) {
                uint64_t stream = seed ^ 0xA0761D6478BD642Full ^ (filled * 0x9E3779B97F4A7C15ull);
                thompson_distribution(p, arms, w->tier, m, stream, w->prob);
                propensity = w->prob[j];
            }
        } else {
            for (size_t t = 0; t < m; t++)
                w->score[t] = base_score(p, &arms[w->tier[t]], log_total);
            distribution(p, w->score, m, w->prob);
            j = sample(w->prob, m, bvt_draw_uniform(&rng));
            score = w->score[j];
            propensity = w->prob[j];
        }
        if (filled == 0 && first_p)
            for (size_t t = 0; t < m; t++)
                first_p[w->tier[t]] = propensity < 0 ? -1 : w->prob[t];
        out[filled] = (bvt_pick){ .arm = w->tier[j], .score = score, .propensity = propensity };
        w->taken[w->tier[j]] = 1;
    }
    return filled;
}
