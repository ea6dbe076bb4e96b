/* cluster_model.c — the published cluster model (docs/clusters.md):
 * which cluster a profile is in (bvt__cluster_of, the rule feature
 * `cluster`), the model's bytes (write, read, the names it marks), freeing
 * the retired models, and publishing the model pointer (its category pins
 * move with it).
 *
 * A low file: profile_env.c calls it while evaluating rules, so it may call
 * only the category registry (category.c) and the byte codec (codec.c) —
 * never segments, the journal or the shards.  Fitting, the segments and
 * journaling a new model are cluster_fit.c's. */
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"
#include "cluster_model.h"
#include "engine.h"
#include "persist.h"

uint32_t bvt__cluster_of(const bvt_engine *e, const bvt_record *r, int64_t now)
{
    const bvt_cluster_model *m = atomic_load_explicit(&e->clusters, memory_order_acquire);
    if (!m)
        return 0;
    cl_user u;
    double z[DIMS], d;
    extract(e->cats, r, now, &u);
    to_model(m, &u);
    fill(m, &u, z);
    return nearest(m, m->k, z, &d) + 1;
}

void bvt__cluster_models_free(bvt_cluster_model *m)
{
    while (m) {
        bvt_cluster_model *older = m->older;
        free(m);
        m = older;
    }
}

/* ---- persistence ---- */

void bvt__cluster_model_mark(const bvt_cluster_model *m, struct bvt_name_marks *marks)
{
    for (uint32_t d = 0; marks && d < m->cats; d++)
        bvt__bits_set(marks->cats, m->cat[d]);
}

/* u32 k, u32 cats, cats x u16 category id, (cats + 3) x (f64 mean, f64 sd),
 * k x (cats + 3) x f64 centroid. */
void bvt__cluster_model_write(const bvt_cluster_model *m, bvt_wbuf *w)
{
    uint32_t dims = m->cats + 3;
    bvt__w_u32(w, m->k);
    bvt__w_u32(w, m->cats);
    for (uint32_t d = 0; d < m->cats; d++)
        bvt__w_u16(w, m->cat[d]);
    for (uint32_t d = 0; d < dims; d++) {
        bvt__w_f64(w, m->mean[d]);
        bvt__w_f64(w, m->sd[d]);
    }
    for (uint32_t c = 0; c < m->k; c++)
        for (uint32_t d = 0; d < dims; d++)
            bvt__w_f64(w, m->centroid[c][d]);
}

static double finite_f64(bvt_rbuf *r)
{
    double v = bvt__r_f64(r);
    if (!isfinite(v))
        bvt__r_fail(r, "cluster model: number not finite");
    return v;
}

int bvt__cluster_model_read(const bvt_engine *e, bvt_rbuf *r, bvt_cluster_model **out)
{
    *out = NULL;
    uint32_t k = bvt__r_u32(r), cats = bvt__r_u32(r);
    if (!r->bad && (k < 2 || k > BVT_CLUSTERS_MAX || cats > CAT_DIMS))
        bvt__r_fail(r, "cluster model: k or dimension count out of range");
    if (r->bad)
        return BVT_ECORRUPT;
    bvt_cluster_model *m = calloc(1, sizeof *m);
    if (!m)
        return BVT_ENOMEM;
    m->k = k;
    m->cats = cats;
    uint32_t dims = cats + 3;
    for (uint32_t d = 0; d < cats && !r->bad; d++) {
        m->cat[d] = bvt__r_u16(r);
        if (!r->bad && (!bvt__categories_valid(e->cats, m->cat[d]) ||
                        bvt__categories_parent(e->cats, m->cat[d]) != 0))
            bvt__r_fail(r, "cluster model: not a top-level category");
    }
    for (uint32_t d = 0; d < dims && !r->bad; d++) {
        m->mean[d] = finite_f64(r);
        m->sd[d] = finite_f64(r);
        if (!r->bad && m->sd[d] < 0)
            bvt__r_fail(r, "cluster model: negative standard deviation");
    }
    for (uint32_t c = 0; c < k && !r->bad; c++)
        for (uint32_t d = 0; d < dims && !r->bad; d++)
            m->centroid[c][d] = finite_f64(r);
    if (r->bad) {
        free(m);
        return BVT_ECORRUPT;
    }
    for (uint32_t d = 0; d < cats; d++) /* as standardise() derives it (cluster_fit.c) */
        m->base[d] = scale(m, d, 0);
    *out = m;
    return BVT_OK;
}

static int same_model(const bvt_cluster_model *a, const bvt_cluster_model *b, int *out)
{
    bvt_wbuf x = BVT_WBUF_INIT, y = BVT_WBUF_INIT;
    bvt__cluster_model_write(a, &x);
    bvt__cluster_model_write(b, &y);
    int rc = x.oom || y.oom ? BVT_ENOMEM : BVT_OK;
    *out = rc == BVT_OK && x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
    bvt__wbuf_free(&x);
    bvt__wbuf_free(&y);
    return rc;
}

int bvt__cluster_model_adopt(bvt_engine *e, bvt_cluster_model *m)
{
    bvt_cluster_model *cur = atomic_load_explicit(&e->clusters, memory_order_relaxed);
    /* The model names its categories while it is the current one: snapshots
     * keep them (the one it replaces no longer names its own). */
    int rc = BVT_OK;
    uint32_t d = 0;
    for (; d < m->cats && rc == BVT_OK; d++)
        rc = bvt__categories_pin(e->cats, m->cat[d]);
    if (rc != BVT_OK) {
        while (--d > 0) /* the last one failed: not pinned */
            bvt__categories_unpin(e->cats, m->cat[d - 1]);
        free(m);
        return rc;
    }
    for (uint32_t k = 0; cur && k < cur->cats; k++)
        bvt__categories_unpin(e->cats, cur->cat[k]);
    m->older = cur;
    return BVT_OK;
}

void bvt__cluster_model_store(bvt_engine *e, bvt_cluster_model *m)
{
    atomic_store_explicit(&e->clusters, m, memory_order_release);
}

int bvt__cluster_restore(bvt_engine *e, bvt_cluster_model *m)
{
    bvt_cluster_model *cur = atomic_load_explicit(&e->clusters, memory_order_relaxed);
    if (cur) {
        int same = 0, rc = same_model(cur, m, &same);
        if (rc != BVT_OK || same) {
            free(m);
            return rc;
        }
    }
    int rc = bvt__cluster_model_adopt(e, m);
    if (rc != BVT_OK)
        return rc;
    bvt__cluster_model_store(e, m);
    return BVT_OK;
}
