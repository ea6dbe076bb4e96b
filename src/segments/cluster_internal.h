/* cluster_internal.h — the cluster model's layout and the feature math
 * that placing one user (cluster_model.c) and fitting a model
 * (cluster_fit.c) share, so both see the same numbers.  Only those two
 * files include it; the rest of the library sees the model through
 * cluster_model.h.  The helpers are static inline, as they were static in
 * the one file before the split: fitting calls them in its inner loops. */
#ifndef BVT_CLUSTER_INTERNAL_H
#define BVT_CLUSTER_INTERNAL_H

#include <math.h>
#include <string.h>

#include "category.h"
#include "cluster_model.h"

#define CAT_DIMS 64          /* top-level categories at most */
#define DIMS (CAT_DIMS + 3)  /* then log1p of recency days, purchase days, monetary */

struct bvt_cluster_model {
    uint32_t k;
    uint32_t cats;                     /* dimensions 0..cats-1: top-level categories */
    uint16_t cat[CAT_DIMS];            /* their ids, most common in the sample first */
    double mean[DIMS], sd[DIMS];       /* over the sample; sd 0 = not scaled */
    double base[DIMS];                 /* standardised affinity 0, per category dimension */
    double centroid[BVT_CLUSTERS_MAX][DIMS];
    struct bvt_cluster_model *older;   /* retired versions, freed with the engine */
};

/* One user's features before standardising.  cat[] holds top-level category
 * ids as read, then dimension indexes once mapped onto a model (categories
 * outside the model's dimensions dropped, x[] turned into log1p). */
typedef struct cl_user {
    uint16_t cat[BVT_TOP_K_MAX];
    float aff[BVT_TOP_K_MAX];   /* share of the user's interest under cat[i] */
    uint32_t n;
    double x[3];                /* recency days, purchase days, monetary total */
} cl_user;

/* Read r at now (under its shard's lock).  Affinity as env_interest()
 * computes it: the stored scores share one decay factor, so their shares
 * need no decay. */
static inline void extract(const bvt_categories *cats, const bvt_record *r, int64_t now, cl_user *u)
{
    double all = 0, in[BVT_TOP_K_MAX];
    u->n = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++) {
        if (!r->icat[i])
            continue;
        uint32_t top = r->icat[i];
        for (unsigned d = 1; d < BVT_CATEGORY_MAX_DEPTH; d++) {
            uint32_t p = bvt__categories_parent(cats, top);
            if (!p)
                break;
            top = p;
        }
        uint32_t j = 0;
        while (j < u->n && u->cat[j] != top)
            j++;
        if (j == u->n) {
            u->cat[u->n++] = (uint16_t)top;
            in[j] = 0;
        }
        in[j] += r->iscore[i];
        all += r->iscore[i];
    }
    for (uint32_t j = 0; j < u->n; j++)
        u->aff[j] = all > 0 ? (float)(in[j] / all) : 0.0f;
    u->x[0] = r->first_seen_ms && now > r->last_seen_ms
                  ? (double)(now - r->last_seen_ms) / (double)BVT_DAY_MS : 0;
    u->x[1] = r->purchase_days;
    u->x[2] = r->monetary_total > 0 ? r->monetary_total : 0;
}

/* Map u onto m's dimensions, in place. */
static inline void to_model(const bvt_cluster_model *m, cl_user *u)
{
    uint32_t kept = 0;
    for (uint32_t j = 0; j < u->n; j++) {
        uint32_t d = 0;
        while (d < m->cats && m->cat[d] != u->cat[j])
            d++;
        if (d == m->cats)
            continue;
        u->cat[kept] = (uint16_t)d;
        u->aff[kept++] = u->aff[j];
    }
    u->n = kept;
    for (int t = 0; t < 3; t++)
        u->x[t] = log1p(u->x[t]);
}

static inline double scale(const bvt_cluster_model *m, uint32_t d, double v)
{
    return m->sd[d] > 0 ? (v - m->mean[d]) / m->sd[d] : v - m->mean[d];
}

/* The standardised vector of a mapped user: the same code for fitting and
 * for placing a user, so both see the same numbers. */
static inline void fill(const bvt_cluster_model *m, const cl_user *u, double *z)
{
    memcpy(z, m->base, m->cats * sizeof *z);
    for (uint32_t j = 0; j < u->n; j++)
        z[u->cat[j]] = scale(m, u->cat[j], u->aff[j]);
    for (uint32_t t = 0; t < 3; t++)
        z[m->cats + t] = scale(m, m->cats + t, u->x[t]);
}

/* Nearest of the first k centroids (ties to the lower index).  A sum that
 * reaches the best so far stops early: the terms are not negative, so the
 * answer is the same as with full sums. */
static inline uint32_t nearest(const bvt_cluster_model *m, uint32_t k, const double *z,
                               double *out_d)
{
    uint32_t best = 0, dims = m->cats + 3;
    double bd = INFINITY;
    for (uint32_t c = 0; c < k; c++) {
        const double *x = m->centroid[c];
        double s = 0;
        for (uint32_t d = 0; d < dims && s < bd; d++)
            s += (z[d] - x[d]) * (z[d] - x[d]);
        if (s < bd) {
            bd = s;
            best = c;
        }
    }
    *out_d = bd;
    return best;
}

#endif
