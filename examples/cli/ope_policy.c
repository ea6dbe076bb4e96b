/* ope_policy.c — action distributions of the evaluated policies (see
 * ope_policy.h).  The Thompson-sampling ones come from the library's own
 * ranking: no Beta sampler here. */
#include "ope_policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int ope_policy_random(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                      double *pi)
{
    (void)clicks;
    (void)imps;
    size_t cells = (size_t)OBD_POSITIONS * ctx->n_items;
    for (size_t c = 0; c < cells; c++)
        pi[c] = 1.0 / ctx->n_items;
    return 0;
}

int ope_policy_bts(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                   double *pi)
{
    (void)clicks;
    (void)imps;
    const obd_prior *p = ctx->prior;
    double *n = malloc(p->n_items * sizeof *n);
    if (!n) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    for (uint32_t i = 0; i < p->n_items; i++)
        n[i] = p->alpha[i] + p->beta[i];
    int rc = ope_ts_distribution(p->n_items, p->alpha, n, OPE_BTS_PRIOR_STRENGTH, ctx->draws,
                                 ctx->seed, pi);
    free(n);
    return rc;
}

int ope_policy_bvt(const ope_policy_ctx *ctx, const double *clicks, const double *imps,
                   double *pi)
{
    return ope_ts_distribution(ctx->n_items, clicks, imps, 0, ctx->draws, ctx->seed, pi);
}

/* ---- Monte-Carlo through bvt_rank() ------------------------------------ */

#define EPOCH_MS 1577836800000LL /* 2020-01-01: any time > 0 would do */
#define DRAW_THREADS_MAX 8
#define DRAWS_PER_THREAD_MIN 5000

static const char trainer[] = "ope-evidence";  /* the user the evidence is tracked for */
static const char stranger[] = "ope-new-user"; /* never tracked: the non-personalised ranking */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

typedef struct draw_job {
    bvt_engine *engine;
    const bvt_policy *policy;
    const uint32_t *item_of; /* numeric offer id -> item (UINT32_MAX: none) */
    uint32_t n_items;
    int64_t now;
    uint64_t seed;
    uint32_t first, end;     /* draws [first, end) */
    double *count;           /* OBD_POSITIONS * n_items */
    int rc;
    char error[sizeof(((bvt_error *)0)->message)];
} draw_job;

static void *run_draws(void *arg)
{
    draw_job *J = arg;
    bvt_ranked_offer slots[OBD_POSITIONS];
    for (uint32_t d = J->first; d < J->end; d++) {
        bvt_rank_request req = BVT_RANK_REQUEST_INIT;
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        bvt_error err = BVT_ERROR_INIT;
        req.user_id = stranger;
        req.user_id_len = sizeof stranger - 1;
        req.now = J->now;
        req.k = OBD_POSITIONS;
        req.policy = J->policy;
        /* A different seed per draw, the same for a draw whoever runs it,
         * so the counts do not depend on the threads. */
        req.seed = splitmix64(J->seed ^ splitmix64(d));
        res.offers = slots;
        res.offers_cap = OBD_POSITIONS;
        int rc = bvt_rank(J->engine, &req, &res, &err);
        if (rc != BVT_OK) {
            J->rc = rc;
            snprintf(J->error, sizeof J->error, "%s", err.message[0] ? err.message : bvt_strerror(rc));
            return NULL;
        }
        size_t filled = res.n_offers < OBD_POSITIONS ? res.n_offers : OBD_POSITIONS;
        for (size_t s = 0; s < filled; s++) {
            uint32_t o = slots[s].offer;
            if (o > BVT_OFFERS_MAX || J->item_of[o] == UINT32_MAX) {
                J->rc = BVT_ENOTFOUND;
                snprintf(J->error, sizeof J->error, "ranked an offer that is not an item (%u)", o);
                return NULL;
            }
            J->count[s * J->n_items + J->item_of[o]] += 1;
        }
    }
    return NULL;
}

typedef struct feeder {
    bvt_engine *engine;
    bvt_event *batch;
    size_t n;
    int64_t t; /* time of the last event */
} feeder;

static int feeder_flush(feeder *F)
{
    if (F->n == 0)
        return 0;
    bvt_batch_error first;
    bvt_error err = BVT_ERROR_INIT;
    size_t failed = 0;
    int rc = bvt_event_track_batch(F->engine, F->batch, F->n, &first, 1, &failed, &err);
    if (rc != BVT_OK || failed > 0) {
        fprintf(stderr, "bvt: tracking the evidence of the policy: %s\n",
                err.message[0] ? err.message : bvt_strerror(failed ? first.code : rc));
        return CLI_EXIT_FAIL;
    }
    F->n = 0;
    return 0;
}

static int feeder_push(feeder *F, uint32_t type, const char *offer_id)
{
    bvt_event *ev = &F->batch[F->n++];
    bvt_event proto = BVT_EVENT_INIT;
    *ev = proto;
    ev->type = type;
    ev->user_id = trainer;
    ev->user_id_len = sizeof trainer - 1;
    ev->offer_id = offer_id;
    ev->time_ms = ++F->t;
    return F->n == CLI_BATCH ? feeder_flush(F) : 0;
}

/* Track item i's evidence: imps[i] impressions, the first clicks[i] of
 * them each followed by a click, one millisecond apart.  *t: the time of
 * the last event. */
static int feed(bvt_engine *e, uint32_t n_items, const double *clicks, const double *imps,
                char (*ids)[16], int64_t *t)
{
    feeder F = { e, malloc(CLI_BATCH * sizeof(bvt_event)), 0, *t };
    if (!F.batch) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int rc = 0;
    for (uint32_t i = 0; i < n_items && rc == 0; i++) {
        uint64_t ni = (uint64_t)imps[i], nc = (uint64_t)clicks[i];
        for (uint64_t k = 0; k < ni && rc == 0; k++) {
            rc = feeder_push(&F, BVT_EVENT_IMPRESSION, ids[i]);
            if (rc == 0 && k < nc)
                rc = feeder_push(&F, BVT_EVENT_CLICK, ids[i]);
        }
    }
    if (rc == 0)
        rc = feeder_flush(&F);
    *t = F.t;
    free(F.batch);
    return rc;
}

void ope_evidence_free(ope_evidence *ev)
{
    if (!ev)
        return;
    bvt_engine_free(ev->engine);
    free(ev->item_of);
    free(ev->offer_of);
    free(ev->ids);
    memset(ev, 0, sizeof *ev);
}

int ope_evidence_new(ope_evidence *ev, uint32_t n_items, const double *clicks,
                     const double *imps)
{
    memset(ev, 0, sizeof *ev);
    bvt_options eo = BVT_OPTIONS_INIT;
    eo.max_users = 16;
    if (cli_engine_new(&ev->engine, &eo, NULL))
        return CLI_EXIT_FAIL;
    ev->n_items = n_items;
    ev->ids = malloc(n_items * sizeof *ev->ids);
    /* Numeric offer ids are 1..BVT_OFFERS_MAX: the map covers them all, so
     * it does not depend on how the engine numbers offers. */
    ev->item_of = malloc((BVT_OFFERS_MAX + 1u) * sizeof *ev->item_of);
    ev->offer_of = malloc(n_items * sizeof *ev->offer_of);
    if (!ev->ids || !ev->item_of || !ev->offer_of) {
        fprintf(stderr, "bvt: out of memory\n");
        ope_evidence_free(ev);
        return CLI_EXIT_FAIL;
    }
    for (uint32_t k = 0; k <= BVT_OFFERS_MAX; k++)
        ev->item_of[k] = UINT32_MAX;
    int rc = 0;
    /* One offer per item. */
    for (uint32_t i = 0; rc == 0 && i < n_items; i++) {
        bvt_offer o = BVT_OFFER_INIT;
        bvt_error err = BVT_ERROR_INIT;
        uint32_t id = 0;
        snprintf(ev->ids[i], sizeof ev->ids[i], "item-%u", i);
        o.id = ev->ids[i];
        int drc = bvt_offer_define(ev->engine, &o, &id, &err);
        if (drc != BVT_OK || id == 0 || id > BVT_OFFERS_MAX) {
            fprintf(stderr, "bvt: defining offer %s: %s\n", ev->ids[i],
                    drc != BVT_OK ? (err.message[0] ? err.message : bvt_strerror(drc))
                                  : "unexpected numeric id");
            rc = CLI_EXIT_FAIL;
            break;
        }
        ev->item_of[id] = i;
        ev->offer_of[i] = id;
    }
    ev->last_ms = EPOCH_MS;
    if (rc == 0)
        rc = feed(ev->engine, n_items, clicks, imps, ev->ids, &ev->last_ms);
    /* Check the library counted every piece of evidence where it belongs. */
    for (uint32_t i = 0; rc == 0 && i < n_items; i++) {
        bvt_metrics m = BVT_METRICS_INIT;
        int mrc = bvt_metrics_get(ev->engine, ev->offer_of[i], 0, &m);
        if (mrc != BVT_OK || (double)m.impressions != imps[i] || (double)m.clicks != clicks[i]) {
            fprintf(stderr, "bvt: offer %s counts %llu impressions and %llu clicks, %.0f and %.0f "
                    "were tracked\n", ev->ids[i], (unsigned long long)m.impressions,
                    (unsigned long long)m.clicks, imps[i], clicks[i]);
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc)
        ope_evidence_free(ev);
    return rc;
}

int ope_ts_distribution(uint32_t n_items, const double *clicks, const double *imps,
                        double prior_strength, uint32_t draws, uint64_t seed, double *pi)
{
    size_t cells = (size_t)OBD_POSITIONS * n_items;
    ope_evidence ev;
    int rc = ope_evidence_new(&ev, n_items, clicks, imps);
    if (rc)
        return rc;
    draw_job *jobs = calloc(DRAW_THREADS_MAX, sizeof *jobs);
    double *count = calloc((size_t)DRAW_THREADS_MAX * cells, sizeof *count);
    if (!jobs || !count) {
        fprintf(stderr, "bvt: out of memory\n");
        rc = CLI_EXIT_FAIL;
    }

    bvt_policy pol = BVT_POLICY_INIT;
    pol.kind = BVT_POLICY_THOMPSON;
    pol.prior_strength = prior_strength; /* 0: the default */
    /* The engine is thread-safe: draws are shared among the processors.
     * Each draw's seed depends only on its number, so the counts (whole
     * numbers, summed exactly) do not depend on how many threads ran. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = cpus < 1 ? 1 : cpus > DRAW_THREADS_MAX ? DRAW_THREADS_MAX : (int)cpus;
    while (nthreads > 1 && draws / (uint32_t)nthreads < DRAWS_PER_THREAD_MIN)
        nthreads--;
    pthread_t th[DRAW_THREADS_MAX];
    int started[DRAW_THREADS_MAX] = { 0 };
    for (int k = 0; rc == 0 && k < nthreads; k++) {
        draw_job *J = &jobs[k];
        J->engine = ev.engine;
        J->policy = &pol;
        J->item_of = ev.item_of;
        J->n_items = n_items;
        J->now = ev.last_ms + 1;
        J->seed = seed;
        J->first = (uint32_t)((uint64_t)draws * (uint64_t)k / (uint64_t)nthreads);
        J->end = (uint32_t)((uint64_t)draws * (uint64_t)(k + 1) / (uint64_t)nthreads);
        J->count = count + (size_t)k * cells;
        if (k > 0)
            started[k] = pthread_create(&th[k], NULL, run_draws, J) == 0;
    }
    if (rc == 0) {
        run_draws(&jobs[0]);
        for (int k = 1; k < nthreads; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else
                run_draws(&jobs[k]);
        }
        for (int k = 0; k < nthreads && rc == 0; k++) {
            if (jobs[k].rc != 0) {
                fprintf(stderr, "bvt: ranking: %s\n", jobs[k].error);
                rc = CLI_EXIT_FAIL;
            }
        }
    }
    if (rc == 0) {
        for (size_t c = 0; c < cells; c++) {
            double s = 0;
            for (int k = 0; k < nthreads; k++)
                s += count[(size_t)k * cells + c];
            pi[c] = s / draws;
        }
    }
    free(count);
    free(jobs);
    ope_evidence_free(&ev);
    return rc;
}
