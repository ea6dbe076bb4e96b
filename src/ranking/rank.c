/* rank.c — ranking offers for one user at `now`: each candidate through
 * eligibility (schedule, budget, consent, experiment variant, rule,
 * cool-off, caps), the eligible ones scored from their bandit posterior with
 * the user's interest affinity as the prior, and the slots filled by the
 * policy (bandit.c). */
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "caps.h"
#include "engine.h"
#include "engine_keys.h"
#include "error.h"
#include "experiment.h"
#include "persist.h"
#include "profile_env.h"

/* Candidates a pooled working block holds; larger requests get their own. */
#define RANK_BLOCK 4096u

/* ---- what ranking reads of the user, under the shard lock ---- */

/* What ranking reads about the user, gathered once into small
 * open-addressing tables, so each offer costs a probe or two: the user's cap
 * entries by key (kept without ads consent too), and the interest scores
 * summed over each category's subtree (every interest credits itself and
 * its ancestors). */
#define CAP_SLOTS 128u     /* > BVT_USER_CAP_ENTRIES */
#define SUBTREE_SLOTS 512u /* > 16 interests x 16 levels */

/* Lives in the pooled working block: a slot is in use when its stamp is
 * the current call's, so nothing is cleared between calls. */
typedef struct user_view {
    uint32_t stamp;                        /* this call's */
    uint32_t n_caps;
    uint32_t cap_stamp[CAP_SLOTS];
    const bvt_cap_entry *caps[CAP_SLOTS];
    uint32_t cat_stamp[SUBTREE_SLOTS];
    uint32_t cat[SUBTREE_SLOTS];
    double share[SUBTREE_SLOTS];           /* subtree score / all scores */
} user_view;

static void view_begin(user_view *v)
{
    if (++v->stamp == 0) { /* wrapped: forget every stamp */
        memset(v->cap_stamp, 0, sizeof v->cap_stamp);
        memset(v->cat_stamp, 0, sizeof v->cat_stamp);
        v->stamp = 1;
    }
    v->n_caps = 0;
}

static uint32_t cap_slot(const user_view *v, uint32_t key)
{
    uint32_t i = (key * 0x9E3779B1u) >> 25; /* 7 bits */
    while (v->cap_stamp[i] == v->stamp && v->caps[i]->key != key)
        i = (i + 1) & (CAP_SLOTS - 1);
    return i;
}

static void view_caps(user_view *v, const bvt_ext *x)
{
    for (uint32_t i = 0; x && i < x->caps_len; i++) {
        uint32_t slot = cap_slot(v, x->caps[i]->key);
        v->cap_stamp[slot] = v->stamp;
        v->caps[slot] = x->caps[i];
        v->n_caps++;
    }
}

static const bvt_cap_entry *cap_entry(const user_view *v, uint32_t key)
{
    if (!v->n_caps)
        return NULL;
    uint32_t slot = cap_slot(v, key);
    return v->cap_stamp[slot] == v->stamp ? v->caps[slot] : NULL;
}

static uint32_t subtree_slot(const user_view *v, uint32_t cat)
{
    uint32_t i = (cat * 0x9E3779B1u) >> 23; /* 9 bits */
    while (v->cat_stamp[i] == v->stamp && v->cat[i] != cat)
        i = (i + 1) & (SUBTREE_SLOTS - 1);
    return i;
}

static void view_interests(user_view *v, const bvt_engine *e, const bvt_record *r)
{
    double total = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++)
        total += r->icat[i] ? r->iscore[i] : 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX && total > 0; i++) {
        double share = r->iscore[i] / total;
        for (uint32_t c = r->icat[i]; c; c = bvt__categories_parent(e->cats, c)) {
            uint32_t slot = subtree_slot(v, c);
            if (v->cat_stamp[slot] != v->stamp)
                v->cat_stamp[slot] = v->stamp, v->cat[slot] = c, v->share[slot] = 0;
            v->share[slot] += share;
        }
    }
}

/* The user's highest affinity (share of interest) to one of h's tags. */
static double affinity(const user_view *v, const bvt_offer_hot *h)
{
    double best = 0;
    for (uint32_t t = 0; t < h->n_tags; t++) {
        uint32_t slot = subtree_slot(v, h->tags[t]);
        if (v->cat_stamp[slot] == v->stamp && v->share[slot] > best)
            best = v->share[slot];
    }
    return best;
}

/* ---- working blocks (pooled in the engine: no allocation per call) ---- */

typedef struct rank_work {
    size_t cap;
    uint32_t generation;            /* marks candidates seen by this call */
    uint32_t *seen;                 /* BVT_OFFERS_MAX + 1: generation of last sight */
    uint32_t *ids;                  /* offer id of each arm */
    bvt_arm *arms;
    bvt_pick *picks;
    double *first_p;
    bvt_bandit_work bw;
    user_view view;
} rank_work;

static rank_work *work_new(size_t cap)
{
    rank_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cap = cap;
    w->seen = calloc(BVT_OFFERS_MAX + 1, sizeof *w->seen);
    w->ids = malloc(cap * sizeof *w->ids);
    w->arms = malloc(cap * sizeof *w->arms);
    w->picks = malloc(cap * sizeof *w->picks);
    w->first_p = malloc(cap * sizeof *w->first_p);
    w->bw.taken = malloc(cap);
    w->bw.tier = malloc(cap * sizeof *w->bw.tier);
    w->bw.score = malloc(cap * sizeof *w->bw.score);
    w->bw.prob = malloc(cap * sizeof *w->bw.prob);
    w->bw.trial = malloc(cap * sizeof *w->bw.trial);
    if (!w->seen || !w->ids || !w->arms || !w->picks || !w->first_p || !w->bw.taken ||
        !w->bw.tier || !w->bw.score || !w->bw.prob || !w->bw.trial) {
        bvt__rank_work_free(w);
        return NULL;
    }
    return w;
}

void bvt__rank_work_free(rank_work *w)
{
    if (!w)
        return;
    free(w->seen);
    free(w->ids);
    free(w->arms);
    free(w->picks);
    free(w->first_p);
    free(w->bw.taken);
    free(w->bw.tier);
    free(w->bw.score);
    free(w->bw.prob);
    free(w->bw.trial);
    free(w);
}

static rank_work *work_take(bvt_engine *e, size_t n)
{
    rank_work *w = NULL;
    if (n <= RANK_BLOCK) {
        pthread_mutex_lock(&e->pool_lock);
        if (e->rank_pool_len)
            w = e->rank_pool[--e->rank_pool_len];
        pthread_mutex_unlock(&e->pool_lock);
    }
    return w ? w : work_new(n > RANK_BLOCK ? n : RANK_BLOCK);
}

static void work_give(bvt_engine *e, rank_work *w)
{
    if (w->cap == RANK_BLOCK) {
        pthread_mutex_lock(&e->pool_lock);
        if (e->rank_pool_len < BVT_RANK_POOL)
            e->rank_pool[e->rank_pool_len++] = w, w = NULL;
        pthread_mutex_unlock(&e->pool_lock);
    }
    bvt__rank_work_free(w);
}

/* ---- checking the request ---- */

static int check_request(const bvt_rank_request *q, const bvt_rank_result *res, bvt_error *err)
{
    if (!q || !res)
        return bvt__fail(err, BVT_EINVAL, -1, "request and result are required");
    if (q->version == 0 || res->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "request and result versions must be set "
                        "(BVT_RANK_REQUEST_INIT, BVT_RANK_RESULT_INIT)");
    if (q->version > BVT_RANK_REQUEST_VERSION || res->version > BVT_RANK_RESULT_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "rank request or result version is newer "
                        "than this library");
    if (!bvt__user_id_valid(q->user_id, q->user_id_len))
        return bvt__fail(err, BVT_EINVAL, -1, "user id must be 1..%d bytes", BVT_USER_ID_MAX);
    if (q->now <= 0)
        return bvt__fail(err, BVT_EINVAL, -1, "now must be > 0 (epoch milliseconds)");
    if (q->n_candidates && !q->candidates && !q->candidate_ids)
        return bvt__fail(err, BVT_EINVAL, -1, "n_candidates > 0 without candidates");
    if ((!res->offers && res->offers_cap) || (!res->excluded && res->excluded_cap) ||
        (!res->choices && res->choices_cap))
        return bvt__fail(err, BVT_EINVAL, -1, "a result array is NULL with a capacity");
    if (q->n_candidates > BVT_RANK_CANDIDATES_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "n_candidates (%zu) is above the limit "
                        "BVT_RANK_CANDIDATES_MAX (%d)", q->n_candidates, BVT_RANK_CANDIDATES_MAX);
    if (q->k > BVT_RANK_SLOTS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "k (%zu slots) is above the limit "
                        "BVT_RANK_SLOTS_MAX (%d)", q->k, BVT_RANK_SLOTS_MAX);
    return bvt__context_check(q->ctx, err);
}

/* ---- eligibility ---- */

static int capped(const bvt_cap_entry *ce, const bvt_cap *caps, uint32_t n, int64_t now)
{
    return n && bvt__caps_reached(ce, caps, n, now);
}

/* Why h cannot be shown, or 0. */
static uint32_t exclusion(const bvt_offer_set *set, const bvt_offer_hot *h, int64_t now,
                          int consented, const bvt_experiment_def *exp, int32_t variant,
                          bvt_profile_env *env, const user_view *v)
{
    if ((h->start_ms && now < h->start_ms) || (h->end_ms && now >= h->end_ms))
        return BVT_EXCLUDED_SCHEDULE;
    if (h->budget &&
        atomic_load_explicit(&h->stats->rows[0].impressions, memory_order_relaxed) >= h->budget)
        return BVT_EXCLUDED_BUDGET;
    if (h->personalised && !consented)
        return BVT_EXCLUDED_CONSENT;
    if (exp && !bvt__experiment_variant_allows(exp, variant, h->id))
        return BVT_EXCLUDED_VARIANT;
    if (h->rule && !bvt__profile_env_rule(env, h->rule))
        return BVT_EXCLUDED_RULE;
    if (!h->per_user || !v->n_caps)
        return 0;
    const bvt_cap_entry *ce = cap_entry(v, h->id);
    if (h->cooloff_ms && ce && ce->dismissed_ms && ce->dismissed_ms <= now &&
        now - ce->dismissed_ms < h->cooloff_ms)
        return BVT_EXCLUDED_COOLOFF;
    if (capped(ce, h->caps, h->n_caps, now))
        return BVT_EXCLUDED_CAP;
    const bvt_offer_group *g = h->group ? &set->groups[h->group] : NULL;
    if (g && capped(cap_entry(v, h->group | BVT_CAP_GROUP_BIT), g->caps, g->n_caps, now))
        return BVT_EXCLUDED_GROUP_CAP;
    return 0;
}

static void note_exclusion(bvt_rank_result *res, uint32_t offer, const char *name,
                           uint32_t reason)
{
    if (res->n_excluded < res->excluded_cap)
        res->excluded[res->n_excluded] = (bvt_exclusion){ offer, name, reason };
    res->n_excluded++;
}

/* The candidate at position i, or NULL (an unknown id, noted, or a repeat). */
static const bvt_offer_hot *candidate(bvt_engine *e, const bvt_rank_request *q,
                                      const bvt_offer_set *set, size_t i, rank_work *w,
                                      bvt_rank_result *res)
{
    uint32_t id;
    const char *name = NULL;
    if (!q->candidates && !q->candidate_ids)
        return &set->hot[i];
    if (q->candidates) {
        name = q->candidates[i];
        id = name ? bvt__interner_find(e->offers.names, name, strlen(name)) : 0;
    } else {
        id = q->candidate_ids[i];
    }
    uint32_t at = id && id <= set->max_id ? set->hot_of[id] : 0;
    if (!at) {
        note_exclusion(res, id <= BVT_OFFERS_MAX ? id : 0, name ? name : bvt_offer_name(e, id),
                       BVT_EXCLUDED_UNKNOWN);
        return NULL;
    }
    if (w->seen[id] == w->generation)
        return NULL; /* listed twice: ranked once */
    w->seen[id] = w->generation;
    return &set->hot[at - 1];
}

/* One ranking's view of eligibility and scores. */
typedef struct eligibility {
    bvt_engine *e;
    const bvt_rank_request *q;
    const bvt_offer_set *set;
    const bvt_experiment_def *exp;
    int32_t variant;
    int consented;
    bvt_profile_env *env;
    const user_view *view;
    const bvt_policy *policy;
    uint32_t bucket;
} eligibility;

/* The n candidates through eligibility: the eligible ones become arms
 * (w->arms, their ids in w->ids), the others exclusions in res.  Under the
 * user's shard lock.  Returns the number of arms. */
static size_t gather(const eligibility *el, size_t n, rank_work *w, bvt_rank_result *res)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const bvt_offer_hot *h = candidate(el->e, el->q, el->set, i, w, res);
        if (!h)
            continue;
        uint32_t why = exclusion(el->set, h, el->q->now, el->consented, el->exp, el->variant,
                                 el->env, el->view);
        if (why) {
            note_exclusion(res, h->id, bvt_offer_name(el->e, h->id), why);
            continue;
        }
        const bvt_arm_stats *st = bvt__offer_arm(&el->e->offers, h->id, el->bucket);
        uint64_t trials = atomic_load_explicit(&st->trials, memory_order_relaxed);
        uint64_t hits = atomic_load_explicit(&st->responses, memory_order_relaxed);
        double prior = bvt__prior_mean(el->policy, el->consented ? affinity(el->view, h) : 0);
        w->ids[m] = h->id;
        w->arms[m] = (bvt_arm){ .a = el->policy->prior_strength * prior + (double)hits,
                                .b = el->policy->prior_strength * (1 - prior) +
                                     (double)(trials > hits ? trials - hits : 0),
                                .value = h->score_value, .priority = h->priority,
                                .index = (uint32_t)m };
        m++;
    }
    return m;
}

int bvt_rank(bvt_engine *e, const bvt_rank_request *q, bvt_rank_result *res, bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    int rc = check_request(q, res, err);
    if (rc != BVT_OK)
        return rc;
    bvt_policy policy;
    if (q->policy && (rc = bvt__policy_resolve(q->policy, &policy, err)) != BVT_OK)
        return rc;
    res->n_offers = res->n_excluded = res->n_choices = 0;
    res->personalised = 0;
    res->variant = BVT_VARIANT_NONE;
    res->bucket = 0;

    const bvt_experiment_def *exp = q->experiment ? bvt__experiment_acquire(e, q->experiment) : NULL;
    if (q->experiment && !exp)
        return bvt__fail(err, BVT_ENOTFOUND, -1, "no experiment '%.63s'", q->experiment);
    if (exp && bvt__persist_check(e) != BVT_OK) { /* an exposure would not be journaled */
        bvt__experiment_release(exp);
        return bvt__fail(err, BVT_EIO, -1, "the journal has failed: no exposure can be recorded");
    }
    bvt_offer_set *set = bvt__offers_acquire(&e->offers);
    size_t n = q->candidates || q->candidate_ids ? q->n_candidates : set->n;
    rank_work *w = work_take(e, n);
    if (!w) {
        bvt__offers_release(set);
        bvt__experiment_release(exp);
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory for %zu candidates", n);
    }
    if (++w->generation == 0) { /* wrapped: forget every mark */
        memset(w->seen, 0, (BVT_OFFERS_MAX + 1) * sizeof *w->seen);
        w->generation = 1;
    }
    bvt_segment_set *segs = bvt__segments_acquire(&e->segments);
    uint8_t memo[BVT_SEGMENTS_MAX + 1];
    bvt_profile_env env;
    bvt__profile_env_init(&env, e, segs, q->ctx, q->now, segs->has_refs ? memo : NULL);

    bvt_user_key key = bvt__engine_key(e, q->user_id, q->user_id_len);
    bvt_shard *sh;
    bvt_record *r = NULL;
    int created = 0;
    if (!exp || bvt__engine_lock_or_create(e, key, &sh, &r, &created) != BVT_OK)
        r = bvt__engine_lock_key(e, key, &sh); /* a full table still gets a ranking */
    static const bvt_record nobody; /* what rules see of an unknown or unconsenting user */
    int consented = r && bvt__consent_granted(r->ext, BVT_PURPOSE_ADS);
    user_view *view = &w->view;
    view_begin(view);
    view_caps(view, r ? r->ext : NULL);
    uint32_t mask = 0;
    if (consented) {
        view_interests(view, e, r);
        if (set->n_segments) { /* read without context, as tracking reads them */
            env.ctx = NULL;
            bvt__profile_env_user(&env, r);
            mask = bvt__offer_mask_in(set, &env);
            env.ctx = q->ctx;
        }
    }
    bvt__profile_env_user(&env, consented ? r : &nobody); /* forgets the mask's memo */
    if (exp) {
        res->variant = bvt__experiment_expose_locked(e, exp, &sh->mem, r, q->user_id,
                                                    q->user_id_len, q->now, mask);
        bvt_exp_assignment a;
        if (created && r && !bvt__experiments_user_at(r->ext, 0, &a)) {
            /* nothing recorded (outside coverage, no room): no profile either */
            bvt__shard_remove(sh, r);
            r = NULL;
        }
    }
    /* the request's policy, else the variant's (resolved when defined), else
     * the engine's */
    const bvt_policy *variant_policy = exp ? bvt__experiment_variant_policy(exp, res->variant)
                                           : NULL;
    const bvt_policy *chosen = q->policy ? &policy : variant_policy ? variant_policy
                                                                    : &set->policy;
    uint32_t bucket = bvt__offer_bucket(mask);
    eligibility el = { e, q, set, exp, res->variant, consented, &env, view, chosen, bucket };
    size_t m = gather(&el, n, w, res);
    pthread_mutex_unlock(&sh->lock);
    bvt__segments_release(segs);

    size_t k = q->k ? q->k : 1;
    size_t filled = bvt__bandit_rank(chosen, w->arms, m, k < m ? k : m, q->seed ^ key.lo,
                                    &w->bw, w->picks, res->choices_cap ? w->first_p : NULL);
    for (size_t s = 0; s < filled && s < res->offers_cap; s++) {
        const bvt_arm *arm = &w->arms[w->picks[s].arm];
        uint32_t id = w->ids[w->picks[s].arm];
        res->offers[s] = (bvt_ranked_offer){ .offer = id, .offer_id = bvt_offer_name(e, id),
                                             .score = w->picks[s].score,
                                             .estimate = arm->a / (arm->a + arm->b),
                                             .propensity = w->picks[s].propensity };
    }
    for (size_t i = 0; i < m && i < res->choices_cap; i++)
        res->choices[i] = (bvt_offer_choice){ w->ids[i], w->first_p[i] };
    res->n_offers = filled;
    res->n_choices = m;
    res->personalised = consented;
    res->bucket = bucket;
    work_give(e, w);
    bvt__offers_release(set);
    bvt__experiment_release(exp);
    if (exp && bvt__persist_commit(e) != BVT_OK) /* the exposure is not durable */
        return bvt__fail(err, BVT_EIO, -1, "the journal failed: the exposure is not durable");
    return BVT_OK;
}

void bvt_rank_request_init(bvt_rank_request *req)
{
    if (req) {
        bvt_rank_request init = BVT_RANK_REQUEST_INIT;
        *req = init;
    }
}

void bvt_rank_result_init(bvt_rank_result *res)
{
    if (res) {
        bvt_rank_result init = BVT_RANK_RESULT_INIT;
        *res = init;
    }
}
