/* bandit.c — policies: resolving their settings, Beta posterior draws, and
 * filling slots with the probability of each choice. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "bandit.h"
#include "error.h"
#include "rng.h"

#define DEFAULT_EPSILON 0.1
#define DEFAULT_TEMPERATURE 0.1
#define DEFAULT_PRIOR_RATE 0.01
#define DEFAULT_PRIOR_STRENGTH 20.0
#define DEFAULT_AFFINITY_BOOST 1.0

static int in_unit(double x)
{
    return x >= 0 && x <= 1; /* NaN fails */
}

int bvt__policy_resolve(const bvt_policy *in, bvt_policy *out, bvt_error *err)
{
    bvt_policy p = BVT_POLICY_INIT;
    if (in) {
        if (in->version == 0)
            return bvt__fail(err, BVT_EINVAL, -1, "policy.version is 0: use BVT_POLICY_INIT");
        if (in->version > BVT_POLICY_VERSION)
            return bvt__fail(err, BVT_EVERSION, -1, "policy.version %u is newer than this library",
                            in->version);
        p = *in;
        p.version = BVT_POLICY_VERSION;
    }
    if (p.kind > BVT_POLICY_UCB1)
        return bvt__fail(err, BVT_EINVAL, -1, "policy.kind %u is not a bvt_policy_kind", p.kind);
    if (p.propensity_draws > BVT_PROPENSITY_DRAWS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "policy.propensity_draws %u is above the limit "
                        "BVT_PROPENSITY_DRAWS_MAX (%u)", p.propensity_draws,
                        BVT_PROPENSITY_DRAWS_MAX);
    if (!in_unit(p.epsilon) || !in_unit(p.floor) || !in_unit(p.prior_rate))
        return bvt__fail(err, BVT_EINVAL, -1, "epsilon, floor and prior_rate must be in 0..1");
    if (!(p.temperature >= 0) || !(p.prior_strength >= 0) || isinf(p.temperature) ||
        isinf(p.prior_strength) || isnan(p.affinity_boost) || isinf(p.affinity_boost))
        return bvt__fail(err, BVT_EINVAL, -1, "temperature and prior_strength must be finite "
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

/* ---- draws ---- */

double bvt__draw_uniform(uint64_t *state)
{
    return (double)(bvt__rng_next(state) >> 11) * 0x1.0p-53;
}

/* Standard normal draws by the ziggurat method (Marsaglia and Tsang, 2000)
 * with 128 layers: one 64-bit draw and a multiply almost every time.  The
 * layer index and the 32-bit value come from different bits of the draw. */
#define ZIG_LAYERS 128
#define ZIG_R 3.442619855899 /* where the tail starts */

static struct {
    uint32_t k[ZIG_LAYERS]; /* accept |value| below this without more work */
    double w[ZIG_LAYERS];   /* value scale of each layer */
    double f[ZIG_LAYERS];   /* density at each layer's edge */
} zig;
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void)
{
    const double m = 2147483648.0, area = 9.91256303526217e-3; /* each layer's area */
    double x = ZIG_R, prev = x, q = area / exp(-0.5 * x * x);
    zig.k[0] = (uint32_t)(x / q * m);
    zig.k[1] = 0;
    zig.w[0] = q / m;
    zig.w[ZIG_LAYERS - 1] = x / m;
    zig.f[0] = 1;
    zig.f[ZIG_LAYERS - 1] = exp(-0.5 * x * x);
    for (int i = ZIG_LAYERS - 2; i >= 1; i--) {
        x = sqrt(-2 * log(area / x + exp(-0.5 * x * x)));
        zig.k[i + 1] = (uint32_t)(x / prev * m);
        prev = x;
        zig.f[i] = exp(-0.5 * x * x);
        zig.w[i] = x / m;
    }
}

static double unit_open(uint64_t *state) /* (0, 1]: safe for log */
{
    return (double)((bvt__rng_next(state) >> 11) + 1) * 0x1.0p-53;
}

static double draw_normal(uint64_t *state)
{
    pthread_once(&zig_once, zig_init);
    for (;;) {
        uint64_t r = bvt__rng_next(state);
        int32_t h = (int32_t)(uint32_t)r;
        uint32_t i = (uint32_t)(r >> 32) & (ZIG_LAYERS - 1);
        uint32_t mag = h < 0 ? 0u - (uint32_t)h : (uint32_t)h;
        double x = h * zig.w[i];
        if (mag < zig.k[i])
            return x;
        if (i == 0) { /* the tail beyond ZIG_R */
            double t, y;
            do {
                t = -log(unit_open(state)) / ZIG_R;
                y = -log(unit_open(state));
            } while (y + y < t * t);
            return h > 0 ? ZIG_R + t : -ZIG_R - t;
        }
        if (zig.f[i] + bvt__draw_uniform(state) * (zig.f[i - 1] - zig.f[i]) < exp(-0.5 * x * x))
            return x;
    }
}

/* Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through Gamma(shape + 1). */
static double draw_gamma(uint64_t *state, double shape)
{
    double boost = 1;
    if (shape < 1) {
        double u = bvt__draw_uniform(state);
        boost = pow(u > 0 ? u : 0x1.0p-53, 1 / shape);
        shape += 1;
    }
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = draw_normal(state), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = bvt__draw_uniform(state);
        if (u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)))
            return boost * d * v;
    }
}

double bvt__draw_beta(uint64_t *state, double a, double b)
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

/* One slot's choice: the arm (a position in arms), what it was ranked by,
 * and its probability when the slot's choice is exact (-1 otherwise). */
typedef struct slot {
    size_t arm;
    double score, propensity;
} slot;

/* Greedy, epsilon-greedy, UCB1 and Thompson (whose scores are this
 * ranking's draws): a uniform pick among the tier with probability x
 * (epsilon and the floor combined), else the best score.  One pass finds
 * the tier, its size and its best; a second only to explore.  first_p, when
 * given, gets every tier member's probability. */
static int explore_or_best(const bvt_policy *p, const bvt_arm *arms, const double *score,
                           size_t n, const uint8_t *taken, uint64_t *rng, double *first_p,
                           slot *out)
{
    int32_t prio = INT32_MIN;
    size_t m = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        if (taken[i] || arms[i].priority < prio)
            continue;
        if (arms[i].priority > prio)
            prio = arms[i].priority, m = 0, best = i;
        m++;
        if (score[i] > score[best])
            best = i;
    }
    if (m == 0)
        return 0;
    double eps = p->kind == BVT_POLICY_EPSILON_GREEDY ? p->epsilon : 0;
    double x = 1 - (1 - p->floor) * (1 - eps);
    size_t pick = best;
    if (x > 0) {
        double u = bvt__draw_uniform(rng);
        size_t nth = u < x ? (size_t)(u / x * (double)m) : m;
        for (size_t i = 0; nth < m && i < n; i++)
            if (!taken[i] && arms[i].priority == prio && nth-- == 0) {
                pick = i;
                break;
            }
    }
    int exact = p->kind != BVT_POLICY_THOMPSON; /* Thompson's best is itself a draw */
    for (size_t i = 0; first_p && i < n; i++)
        if (!taken[i] && arms[i].priority == prio)
            first_p[i] = exact ? x / (double)m + (i == best ? 1 - x : 0) : -1;
    *out = (slot){ pick, score[pick], exact ? x / (double)m + (pick == best ? 1 - x : 0) : -1 };
    return 1;
}

/* Softmax: weight[i] = exp((score / best score - 1) / temperature), the best
 * being over all eligible offers, so the weights are computed once per
 * ranking and each slot renormalises over the offers left; the floor is
 * mixed in; inverse-CDF sampling. */
static int softmax(const bvt_policy *p, const bvt_arm *arms, const double *weight, size_t n,
                   const bvt_bandit_work *w, uint64_t *rng, double *first_p, slot *out)
{
    size_t m = top_tier(arms, n, w->taken, w->tier);
    if (m == 0)
        return 0;
    double sum = 0;
    for (size_t j = 0; j < m; j++)
        sum += weight[w->tier[j]];
    for (size_t j = 0; j < m; j++)
        w->prob[j] = (1 - p->floor) * weight[w->tier[j]] / sum + p->floor / (double)m;
    double u = bvt__draw_uniform(rng), acc = 0;
    size_t j = 0;
    while (j + 1 < m && u >= (acc += w->prob[j]))
        j++;
    for (size_t t = 0; first_p && t < m; t++)
        first_p[w->tier[t]] = w->prob[t];
    *out = (slot){ w->tier[j], mean_of(&arms[w->tier[j]]) * arms[w->tier[j]].value, w->prob[j] };
    return 1;
}

/* explore_or_best over a single tier, for k <= FAST_SLOTS: the best k
 * scores are found in one pass, so a slot costs a look at them instead of a
 * scan of every arm (a scan only when the slot explores).  Picks exactly
 * what slot-by-slot explore_or_best would: ties go to the lower position,
 * and the random draws are the same. */
#define FAST_SLOTS 64

static size_t one_tier(const bvt_policy *p, size_t n, size_t k, const double *score,
                       uint8_t *taken, uint64_t *rng, bvt_pick *out, double *first_p)
{
    uint32_t top[FAST_SLOTS];
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (nt == k && !(score[i] > score[top[k - 1]]))
            continue;
        size_t at = nt < k ? nt++ : k - 1;
        while (at > 0 && score[i] > score[top[at - 1]]) { /* stable: after equals */
            top[at] = top[at - 1];
            at--;
        }
        top[at] = (uint32_t)i;
    }
    double eps = p->kind == BVT_POLICY_EPSILON_GREEDY ? p->epsilon : 0;
    double x = 1 - (1 - p->floor) * (1 - eps);
    int exact = p->kind != BVT_POLICY_THOMPSON;
    size_t filled = 0;
    for (; filled < k && filled < n; filled++) {
        size_t m = n - filled, best = 0;
        for (size_t t = 0; t < nt; t++)
            if (!taken[top[t]]) {
                best = top[t];
                break;
            }
        size_t pick = best;
        if (x > 0) {
            double u = bvt__draw_uniform(rng);
            size_t nth = u < x ? (size_t)(u / x * (double)m) : m;
            for (size_t i = 0; nth < m && i < n; i++)
                if (!taken[i] && nth-- == 0) {
                    pick = i;
                    break;
                }
        }
        for (size_t i = 0; filled == 0 && first_p && i < n; i++)
            first_p[i] = exact ? x / (double)m + (i == best ? 1 - x : 0) : -1;
        out[filled] = (bvt_pick){ .arm = (uint32_t)pick, .score = score[pick],
                                  .propensity = exact ? x / (double)m + (pick == best ? 1 - x : 0)
                                                      : -1 };
        taken[pick] = 1;
    }
    return filled;
}

/* softmax over a single tier: two passes over the arms a slot (the sum of
 * the weights left, then the draw) instead of softmax()'s five, with the
 * same arithmetic in the same order, so the picks are the same. */
static size_t softmax_one_tier(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                               const double *weight, uint8_t *taken, uint64_t *rng,
                               bvt_pick *out, double *first_p)
{
    size_t filled = 0;
    for (; filled < k && filled < n; filled++) {
        size_t m = n - filled, last = 0;
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            if (!taken[i])
                sum += weight[i], last = i;
        double u = bvt__draw_uniform(rng), acc = 0, prob = 0;
        size_t pick = last;
        for (size_t i = 0; i < n; i++) {
            if (taken[i])
                continue;
            double pi = (1 - p->floor) * weight[i] / sum + p->floor / (double)m;
            if (filled == 0 && first_p)
                first_p[i] = pi;
            if (pick == last && i != last && u < (acc += pi)) {
                pick = i;
                prob = pi;
                if (!(filled == 0 && first_p))
                    break;
            }
        }
        if (pick == last)
            prob = (1 - p->floor) * weight[last] / sum + p->floor / (double)m;
        out[filled] = (bvt_pick){ .arm = (uint32_t)pick,
                                  .score = mean_of(&arms[pick]) * arms[pick].value,
                                  .propensity = prob };
        taken[pick] = 1;
    }
    return filled;
}

/* One ranking from seed: the slots in out[0..k), returned count.  Scores
 * are deterministic (computed by the caller into w->score) except for
 * Thompson sampling, which draws each arm's posterior once here.
 * single_tier: every arm has the same priority. */
static size_t rank_once(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                        int single_tier, uint64_t seed, const bvt_bandit_work *w,
                        bvt_pick *out, double *first_p)
{
    uint64_t rng = seed;
    if (p->kind == BVT_POLICY_THOMPSON)
        for (size_t i = 0; i < n; i++)
            w->score[i] = bvt__draw_beta(&rng, arms[i].a, arms[i].b) * arms[i].value;
    memset(w->taken, 0, n);
    if (single_tier && p->kind == BVT_POLICY_SOFTMAX)
        return softmax_one_tier(p, arms, n, k, w->score, w->taken, &rng, out, first_p);
    if (single_tier && k <= FAST_SLOTS)
        return one_tier(p, n, k, w->score, w->taken, &rng, out, first_p);
    size_t filled = 0;
    for (; filled < k; filled++) {
        double *fp = filled == 0 ? first_p : NULL;
        slot s;
        int ok = p->kind == BVT_POLICY_SOFTMAX
                     ? softmax(p, arms, w->score, n, w, &rng, fp, &s)
                     : explore_or_best(p, arms, w->score, n, w->taken, &rng, fp, &s);
        if (!ok)
            break;
        out[filled] = (bvt_pick){ .arm = (uint32_t)s.arm, .score = s.score,
                                  .propensity = s.propensity };
        w->taken[s.arm] = 1;
    }
    return filled;
}

uint32_t bvt__propensity_draws(const bvt_policy *p, size_t n)
{
    /* Each draw ranks the n arms again: the work of one call stays bounded
     * whatever the catalog (header, BVT_PROPENSITY_WORK_MAX). */
    size_t most = n > 1 ? BVT_PROPENSITY_WORK_MAX / n : BVT_PROPENSITY_WORK_MAX;
    if (most < 1)
        most = 1;
    return p->propensity_draws < most ? p->propensity_draws : (uint32_t)most;
}

static int deterministic(const bvt_policy *p)
{
    return (p->kind == BVT_POLICY_GREEDY || p->kind == BVT_POLICY_UCB1) && p->floor == 0;
}

size_t bvt__bandit_rank(const bvt_policy *p, const bvt_arm *arms, size_t n, size_t k,
                       uint64_t seed, const bvt_bandit_work *w, bvt_pick *out, double *first_p)
{
    if (p->kind != BVT_POLICY_THOMPSON) { /* deterministic scores: once for every ranking */
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += arms[i].a + arms[i].b;
        double log_total = log(total > 1 ? total : 1);
        for (size_t i = 0; i < n; i++)
            w->score[i] = base_score(p, &arms[i], log_total);
    }
    if (p->kind == BVT_POLICY_SOFTMAX) { /* scores become weights, once */
        double top = 0;
        for (size_t i = 0; i < n; i++)
            top = w->score[i] > top ? w->score[i] : top;
        for (size_t i = 0; i < n; i++) /* no signal yet (top 0): uniform */
            w->score[i] = top > 0 ? exp((w->score[i] / top - 1) / p->temperature) : 1;
    }
    for (size_t i = 0; first_p && i < n; i++)
        first_p[i] = 0;
    int single_tier = 1;
    for (size_t i = 1; i < n && single_tier; i++)
        single_tier = arms[i].priority == arms[0].priority;
    size_t filled = rank_once(p, arms, n, k, single_tier, seed, w, out, first_p);
    if (deterministic(p)) {
        for (size_t j = 0; j < filled; j++)
            out[j].propensity = 1;
        return filled;
    }
    for (size_t j = 1; j < filled; j++)
        out[j].propensity = -1; /* a later slot's probability needs the earlier slots' */
    if (!p->propensity_draws)
        return filled;
    /* Monte-Carlo over whole rankings on a stream of their own (so asking
     * leaves the ranking as it is): how often each slot's offer lands there,
     * and, for Thompson sampling, every arm's share of the first slot.  The
     * ranking given counts as one of them, so what happened never gets 0. */
    uint32_t hits[BVT_BANDIT_SLOTS_MC];
    size_t slots = filled < BVT_BANDIT_SLOTS_MC ? filled : BVT_BANDIT_SLOTS_MC;
    for (size_t j = 0; j < slots; j++)
        hits[j] = 1;
    int first_by_mc = p->kind == BVT_POLICY_THOMPSON && first_p;
    for (size_t i = 0; first_by_mc && i < n; i++)
        first_p[i] = i == out[0].arm;
    uint64_t stream = seed ^ 0xA0761D6478BD642Full;
    uint32_t draws = bvt__propensity_draws(p, n);
    for (uint32_t d = 0; d < draws; d++) {
        size_t got = rank_once(p, arms, n, slots, single_tier, bvt__rng_next(&stream), w,
                               w->trial, NULL);
        for (size_t j = 0; j < got; j++)
            hits[j] += w->trial[j].arm == out[j].arm;
        if (first_by_mc && got)
            first_p[w->trial[0].arm] += 1;
    }
    double rankings = (double)draws + 1;
    for (size_t j = 0; j < slots; j++)
        if (j > 0 || out[0].propensity < 0) /* the first slot's may be exact already */
            out[j].propensity = hits[j] / rankings;
    for (size_t i = 0; first_by_mc && i < n; i++)
        first_p[i] /= rankings;
    return filled;
}
