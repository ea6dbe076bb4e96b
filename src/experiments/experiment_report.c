/* experiment_report.c — an experiment's counters turned into rates, lifts
 * against the control (variant 0) and the sample-ratio-mismatch check.
 * The statistics are in stats.c; docs/experiments.md has the formulas. */
#include <string.h>

#include "engine.h"
#include "experiment.h"
#include "experiment_internal.h"
#include "offer.h"
#include "stats.h"

#define CONFIDENCE 0.95
#define SRM_ALPHA 0.001

/* Counters of one cell as plain numbers (relaxed reads while counting goes on). */
typedef struct cell_read {
    uint64_t users, impressions, clicks, conversions, converters;
    double revenue, revenue_sq, cost;
} cell_read;

static cell_read read_cell(const bvt_exp_cell *c)
{
    cell_read r;
    r.users = atomic_load_explicit(&c->users, memory_order_relaxed);
    r.impressions = atomic_load_explicit(&c->impressions, memory_order_relaxed);
    r.clicks = atomic_load_explicit(&c->clicks, memory_order_relaxed);
    r.conversions = atomic_load_explicit(&c->conversions, memory_order_relaxed);
    r.converters = atomic_load_explicit(&c->converters, memory_order_relaxed);
    r.revenue = bvt__atomic_load_double(&c->revenue);
    r.revenue_sq = bvt__atomic_load_double(&c->revenue_sq);
    r.cost = bvt__atomic_load_double(&c->cost);
    return r;
}

static double ratio(double a, double b)
{
    return b > 0.0 ? a / b : 0.0;
}

static void fill_variant(bvt_variant_report *out, const char *name, const cell_read *c)
{
    memset(out, 0, sizeof *out);
    out->name = name;
    out->users = c->users;
    out->impressions = c->impressions;
    out->clicks = c->clicks;
    out->conversions = c->conversions;
    out->converters = c->converters;
    out->revenue = c->revenue;
    out->cost = c->cost;
    out->ctr = ratio((double)c->clicks, (double)c->impressions);
    out->conversion_rate = ratio((double)c->converters, (double)c->users);
    out->revenue_per_user = ratio(c->revenue, (double)c->users);
    out->roi = c->cost > 0.0 ? (c->revenue - c->cost) / c->cost : 0.0;
}

/* Lifts of `v` against the control `c`. */
static void fill_lifts(bvt_variant_report *out, const cell_read *c, const cell_read *v)
{
    bvt__stats_two_proportion(c->clicks, c->impressions, v->clicks, v->impressions, CONFIDENCE,
                             &out->ctr_lift);
    bvt__stats_two_proportion(c->converters, c->users, v->converters, v->users, CONFIDENCE,
                             &out->conversion_lift);
    bvt__stats_welch(c->users, c->revenue, c->revenue_sq, v->users, v->revenue, v->revenue_sq,
                    CONFIDENCE, &out->revenue_lift);
}

int bvt__experiment_report_row(bvt_engine *e, uint32_t experiment, uint32_t row,
                              bvt_experiment_report *out)
{
    if (!e || !out || experiment == 0 || row >= BVT_EXP_ROWS || !e->experiments)
        return BVT_EINVAL;
    if (out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_EXPERIMENT_REPORT_VERSION)
        return BVT_EVERSION;
    if (experiment > BVT_EXPERIMENTS_MAX)
        return BVT_ENOTFOUND;
    bvt_exp_slot *s = &e->experiments->slots[experiment];
    pthread_mutex_lock(&s->lock);
    bvt_experiment_def *d = s->def;
    if (d)
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    if (!d)
        return BVT_ENOTFOUND;
    bvt_exp_cell *cells = atomic_load_explicit(&s->cells, memory_order_acquire);
    uint32_t n = s->n;

    uint32_t version = out->version;
    memset(out, 0, sizeof *out);
    out->version = version;
    out->n_variants = n;
    cell_read c[BVT_VARIANTS_MAX + 1];
    uint64_t users[BVT_VARIANTS_MAX];
    for (uint32_t v = 0; v <= n; v++)
        c[v] = read_cell(bvt__exp_cell_at(cells, n, row, v));
    for (uint32_t v = 0; v < n; v++) {
        fill_variant(&out->variants[v], d->vname[v], &c[v]);
        if (v > 0)
            fill_lifts(&out->variants[v], &c[0], &c[v]);
        users[v] = c[v].users;
    }
    fill_variant(&out->holdout, "holdout", &c[n]);
    fill_lifts(&out->holdout, &c[0], &c[n]);

    unsigned df = 0;
    out->srm_chi2 = bvt__stats_chi2_gof(users, d->weight, n, &df);
    out->srm_p_value = df > 0 ? bvt__stats_chi2_sf(out->srm_chi2, (double)df) : 1.0;
    out->srm_mismatch = out->srm_p_value < SRM_ALPHA;
    bvt__experiment_release(d);
    return BVT_OK;
}

int bvt_experiment_report_get(bvt_engine *e, uint32_t experiment, uint32_t segment,
                              bvt_experiment_report *out)
{
    if (!e || !out || experiment == 0)
        return BVT_EINVAL;
    uint32_t row = 0;
    if (segment != 0) {
        int slot = bvt__offer_segment_slot(e, segment);
        if (slot < 0 || slot >= BVT_EXP_ROWS - 1)
            return out->version == 0 ? BVT_EINVAL
                   : out->version > BVT_EXPERIMENT_REPORT_VERSION ? BVT_EVERSION : BVT_ENOTFOUND;
        row = 1 + (uint32_t)slot;
    }
    return bvt__experiment_report_row(e, experiment, row, out);
}
