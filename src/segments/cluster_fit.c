/* cluster_fit.c — a k-means run (bvt_cluster_run, docs/clusters.md) over
 * interest and RFM features.  A run samples users under each shard's lock
 * in turn, fits without locks, defines the segments "Cluster 1" ..
 * "Cluster k" as `cluster == i`, publishes and journals the model and,
 * when asked for a report, assigns the whole population in a second pass.
 *
 * A high file: it may call the shards, segments (segment_eval.c,
 * segment.c), the journal (persist.h) and the model (cluster_model.c).
 * Nothing below it calls it: placing a user under the published model is
 * cluster_model.c's, so rules (profile_env.c) never reach the run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"
#include "cluster_internal.h"
#include "cluster_model.h"
#include "rng.h"
#include "engine.h"
#include "error.h"
#include "persist.h"

#define DEFAULT_K 8u
#define DEFAULT_ITERATIONS 50u
#define DEFAULT_SAMPLE 200000u
#define CHUNK 1024u          /* users copied per lock hold in the second pass */

static double uniform(uint64_t *state)
{
    return (double)(bvt__rng_next(state) >> 11) * 0x1.0p-53;
}

/* ---- sampling ---- */

/* Reservoir sample (Algorithm R) of up to `want` users, shard by shard in
 * record order, each shard's lock held over its own scan. */
static int sample_users(bvt_engine *e, int64_t now, uint64_t want, uint64_t *rng,
                        cl_user **out, size_t *out_n)
{
    cl_user *pts = NULL;
    size_t n = 0, cap = 0;
    uint64_t seen = 0;
    int rc = BVT_OK;
    for (uint32_t s = 0; s < e->store.n_shards && rc == BVT_OK; s++) {
        bvt_shard *sh = &e->store.shards[s];
        bvt__shard_lock(sh);
        for (uint32_t num = 0; num < sh->high_water; num++) {
            const bvt_record *r = bvt__shard_record(sh, num);
            if (!bvt__record_live(r))
                continue;
            uint64_t slot = seen < want ? seen : bvt__rng_next(rng) % (seen + 1);
            seen++;
            if (slot >= want)
                continue;
            if (slot == n) {
                if (n == cap) {
                    size_t grow = cap ? cap * 2 : 1024;
                    if (grow > want)
                        grow = (size_t)want;
                    cl_user *p = realloc(pts, grow * sizeof *p);
                    if (!p) {
                        rc = BVT_ENOMEM;
                        break;
                    }
                    pts = p;
                    cap = grow;
                }
                n++;
            }
            extract(e->cats, r, now, &pts[slot]);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    if (rc != BVT_OK) {
        free(pts);
        return rc;
    }
    *out = pts;
    *out_n = n;
    return BVT_OK;
}

/* The dimensions: the top-level categories most users of the sample have
 * (ties to the lower id), at most CAT_DIMS. */
static int choose_dimensions(bvt_cluster_model *m, const cl_user *pts, size_t n)
{
    uint32_t *count = calloc(BVT_CATEGORY_MAX_ID + 1, sizeof *count);
    if (!count)
        return BVT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < pts[i].n; j++)
            count[pts[i].cat[j]]++;
    m->cats = 0;
    for (uint32_t id = 1; id <= BVT_CATEGORY_MAX_ID; id++) {
        if (!count[id])
            continue;
        uint32_t at = m->cats < CAT_DIMS ? m->cats++ : CAT_DIMS;
        /* insertion into the kept list, descending by count */
        while (at > 0 && count[m->cat[at - 1]] < count[id]) {
            if (at < CAT_DIMS)
                m->cat[at] = m->cat[at - 1];
            at--;
        }
        if (at < CAT_DIMS)
            m->cat[at] = (uint16_t)id;
    }
    free(count);
    return BVT_OK;
}

/* Mean and standard deviation of every dimension over the mapped sample,
 * two passes, in sample order. */
static void standardise(bvt_cluster_model *m, const cl_user *pts, size_t n)
{
    uint32_t dims = m->cats + 3;
    double sum[DIMS] = { 0 }, ss[DIMS] = { 0 };
    size_t nz[DIMS] = { 0 };
    for (size_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < pts[i].n; j++)
            sum[pts[i].cat[j]] += pts[i].aff[j];
        for (uint32_t t = 0; t < 3; t++)
            sum[m->cats + t] += pts[i].x[t];
    }
    for (uint32_t d = 0; d < dims; d++)
        m->mean[d] = sum[d] / (double)n;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < pts[i].n; j++) {
            double v = pts[i].aff[j] - m->mean[pts[i].cat[j]];
            ss[pts[i].cat[j]] += v * v;
            nz[pts[i].cat[j]]++;
        }
        for (uint32_t t = 0; t < 3; t++) {
            double v = pts[i].x[t] - m->mean[m->cats + t];
            ss[m->cats + t] += v * v;
        }
    }
    for (uint32_t d = 0; d < m->cats; d++) /* the users at affinity 0 */
        ss[d] += (double)(n - nz[d]) * m->mean[d] * m->mean[d];
    for (uint32_t d = 0; d < dims; d++) {
        double sd = sqrt(ss[d] / (double)n);
        m->sd[d] = sd > 1e-12 * (fabs(m->mean[d]) + 1) ? sd : 0;
    }
    for (uint32_t d = 0; d < m->cats; d++)
        m->base[d] = scale(m, d, 0);
}

/* ---- fitting ---- */

static double dist2(const double *a, const double *b, uint32_t dims)
{
    double s = 0;
    for (uint32_t d = 0; d < dims; d++)
        s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
}

typedef struct fit {
    bvt_cluster_model *m;
    const cl_user *pts;
    size_t n;
    uint32_t k;
    uint8_t *assign;
    double *dist;      /* squared distance to the assigned centroid */
} fit;

/* k-means++: the first centroid uniformly, each next one with probability
 * proportional to the squared distance to the nearest chosen so far. */
static void seed_centroids(fit *f, uint64_t *rng)
{
    bvt_cluster_model *m = f->m;
    uint32_t dims = m->cats + 3;
    double z[DIMS];
    fill(m, &f->pts[bvt__rng_next(rng) % f->n], m->centroid[0]);
    for (size_t i = 0; i < f->n; i++) {
        fill(m, &f->pts[i], z);
        f->dist[i] = dist2(z, m->centroid[0], dims);
    }
    for (uint32_t c = 1; c < f->k; c++) {
        double total = 0;
        for (size_t i = 0; i < f->n; i++)
            total += f->dist[i];
        size_t pick = 0;
        if (total > 0) {
            double target = uniform(rng) * total, cum = 0;
            pick = f->n;
            for (size_t i = 0; i < f->n && pick == f->n; i++) {
                cum += f->dist[i];
                if (cum > target && f->dist[i] > 0)
                    pick = i;
            }
            while (pick == f->n || f->dist[pick] == 0) /* rounding at the end */
                pick = pick == f->n ? f->n - 1 : pick - 1;
        } else {
            pick = (size_t)(bvt__rng_next(rng) % f->n); /* every point is already a centroid */
        }
        fill(m, &f->pts[pick], m->centroid[c]);
        for (size_t i = 0; i < f->n; i++) {
            fill(m, &f->pts[i], z);
            double d = dist2(z, m->centroid[c], dims);
            if (d < f->dist[i])
                f->dist[i] = d;
        }
    }
}

/* Assign every point to its nearest centroid; returns how many moved. */
static size_t assign_all(fit *f, int first)
{
    size_t moved = 0;
    double z[DIMS];
    for (size_t i = 0; i < f->n; i++) {
        fill(f->m, &f->pts[i], z);
        uint32_t c = nearest(f->m, f->k, z, &f->dist[i]);
        if (first || f->assign[i] != c)
            moved++;
        f->assign[i] = (uint8_t)c;
    }
    return moved;
}

/* Move each centroid to the mean of its points.  A centroid left without
 * points takes the point farthest from its own centroid.  Returns 1 if a
 * centroid was moved that way. */
static int update_centroids(fit *f)
{
    bvt_cluster_model *m = f->m;
    uint32_t dims = m->cats + 3;
    size_t count[BVT_CLUSTERS_MAX] = { 0 };
    double z[DIMS];
    memset(m->centroid, 0, sizeof m->centroid);
    for (size_t i = 0; i < f->n; i++) {
        double *c = m->centroid[f->assign[i]];
        fill(m, &f->pts[i], z);
        for (uint32_t d = 0; d < dims; d++)
            c[d] += z[d];
        count[f->assign[i]]++;
    }
    int reseeded = 0;
    for (uint32_t c = 0; c < f->k; c++) {
        if (count[c]) {
            for (uint32_t d = 0; d < dims; d++)
                m->centroid[c][d] /= (double)count[c];
            continue;
        }
        size_t far = 0;
        for (size_t i = 1; i < f->n; i++)
            if (f->dist[i] > f->dist[far])
                far = i;
        if (f->dist[far] > 0) {
            fill(m, &f->pts[far], m->centroid[c]);
            f->dist[far] = 0; /* not taken twice */
            reseeded = 1;
        }
    }
    return reseeded;
}

/* Seed and run Lloyd iterations; returns the iterations run. */
static uint32_t lloyd(fit *f, uint64_t *rng, uint32_t max_iterations)
{
    seed_centroids(f, rng);
    assign_all(f, 1);
    uint32_t it = 0;
    while (it < max_iterations) {
        int reseeded = update_centroids(f);
        it++;
        if (assign_all(f, 0) == 0 && !reseeded)
            break;
    }
    return it;
}

/* ---- segments ---- */

static void cluster_name(char *buf, size_t cap, uint32_t i)
{
    snprintf(buf, cap, "Cluster %u", i);
}

static int define_segments(bvt_engine *e, uint32_t k, uint32_t *ids, bvt_error *err)
{
    for (uint32_t i = 1; i <= k; i++) {
        char name[32], rule[32];
        cluster_name(name, sizeof name, i);
        snprintf(rule, sizeof rule, "cluster == %u", i);
        int rc = bvt__segment_define_internal(e, name, rule, 1, &ids[i - 1], err);
        if (rc != BVT_OK)
            return rc;
    }
    return BVT_OK;
}

/* Remove the segments of an earlier, larger k.  One that another rule names
 * in in_segment() stays (and matches nobody).  BVT_OK, or the journal's
 * status when a removal could not be journaled. */
static int drop_segments_beyond(bvt_engine *e, uint32_t k)
{
    for (uint32_t i = k + 1; i <= BVT_CLUSTERS_MAX; i++) {
        char name[32];
        cluster_name(name, sizeof name, i);
        uint32_t id = bvt__interner_find(e->segments.names, name, strlen(name)), blocker;
        int rc = id ? bvt__segments_drop_builtin(&e->segments, id, &blocker) : BVT_OK;
        if (rc != BVT_OK && rc != BVT_ENOTFOUND && rc != BVT_EEXIST)
            return rc;
    }
    return BVT_OK;
}

/* ---- the report: every user assigned ---- */

typedef struct cl_acc {
    uint64_t n;
    double recency, frequency, monetary;
    double aff[CAT_DIMS];
} cl_acc;

static void add_user(const bvt_cluster_model *m, cl_acc *acc, cl_user *u)
{
    double raw[3] = { u->x[0], u->x[1], u->x[2] }, z[DIMS], d;
    to_model(m, u);
    fill(m, u, z);
    cl_acc *a = &acc[nearest(m, m->k, z, &d)];
    a->n++;
    a->recency += raw[0];
    a->frequency += raw[1];
    a->monetary += raw[2];
    for (uint32_t j = 0; j < u->n; j++)
        a->aff[u->cat[j]] += u->aff[j];
}

static int assign_population(bvt_engine *e, const bvt_cluster_model *m, int64_t now,
                             bvt_cluster_report *out)
{
    cl_user *buf = malloc(CHUNK * sizeof *buf);
    cl_acc *acc = calloc(BVT_CLUSTERS_MAX, sizeof *acc);
    if (!buf || !acc) {
        free(buf);
        free(acc);
        return BVT_ENOMEM;
    }
    for (uint32_t s = 0; s < e->store.n_shards; s++) {
        bvt_shard *sh = &e->store.shards[s];
        for (uint32_t next = 0, end;;) {
            size_t n = 0;
            bvt__shard_lock(sh);
            end = sh->high_water;
            for (; next < end && n < CHUNK; next++) {
                const bvt_record *r = bvt__shard_record(sh, next);
                if (bvt__record_live(r))
                    extract(e->cats, r, now, &buf[n++]);
            }
            pthread_mutex_unlock(&sh->lock);
            for (size_t i = 0; i < n; i++)
                add_user(m, acc, &buf[i]);
            if (next >= end)
                break;
        }
    }
    for (uint32_t c = 0; c < m->k; c++) {
        bvt_cluster_info *ci = &out->clusters[c];
        const cl_acc *a = &acc[c];
        out->users += a->n;
        ci->size = a->n;
        if (!a->n)
            continue;
        ci->mean_recency_days = a->recency / (double)a->n;
        ci->mean_frequency = a->frequency / (double)a->n;
        ci->mean_monetary = a->monetary / (double)a->n;
        for (uint32_t t = 0; t < 3; t++) { /* highest mean affinity, ties to the commoner */
            int best = -1;
            for (uint32_t d = 0; d < m->cats; d++) {
                int taken = 0;
                for (uint32_t p = 0; p < t; p++)
                    taken |= ci->top_categories[p] == m->cat[d];
                if (!taken && a->aff[d] > 0 && (best < 0 || a->aff[d] > a->aff[best]))
                    best = (int)d;
            }
            if (best < 0)
                break;
            ci->top_categories[t] = m->cat[best];
            ci->top_affinity[t] = a->aff[best] / (double)a->n;
        }
    }
    free(buf);
    free(acc);
    return BVT_OK;
}

/* ---- publishing ---- */

/* Publish m as the current model (the older one is retired) and journal it
 * (BVT_OP_CLUSTERS); the caller holds e->rfm_lock.  Takes m; returns the
 * journal's status.  Snapshot load and replay publish through
 * bvt__cluster_restore() instead, which journals nothing. */
static int publish(bvt_engine *e, bvt_cluster_model *m)
{
    int rc = bvt__cluster_model_adopt(e, m);
    if (rc != BVT_OK)
        return rc;
    /* segments read the model: events are held off (persist.h) */
    bvt__persist_hold(e);
    bvt__cluster_model_store(e, m);
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_CLUSTERS);
    bvt__cluster_model_write(m, &w);
    return bvt__persist_log_release(e, &w);
}

/* ---- the run ---- */

static int check_args(bvt_engine *e, int64_t now, const bvt_cluster_options *opts,
                      const bvt_cluster_report *out, bvt_cluster_options *o, bvt_error *err)
{
    if (!e || now <= 0)
        return bvt__fail(err, BVT_EINVAL, -1, "engine and now > 0 are required");
    if (opts && opts->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "opts.version is 0: use BVT_CLUSTER_OPTIONS_INIT");
    if (opts && opts->version > BVT_CLUSTER_OPTIONS_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "opts.version %u is newer than this library (%u)",
                        opts->version, BVT_CLUSTER_OPTIONS_VERSION);
    if (out && out->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "out.version is 0: set BVT_CLUSTER_REPORT_VERSION");
    if (out && out->version > BVT_CLUSTER_REPORT_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "out.version %u is newer than this library (%u)",
                        out->version, BVT_CLUSTER_REPORT_VERSION);
    bvt_cluster_options dflt = BVT_CLUSTER_OPTIONS_INIT;
    *o = opts ? *opts : dflt;
    o->k = o->k ? o->k : DEFAULT_K;
    o->max_iterations = o->max_iterations ? o->max_iterations : DEFAULT_ITERATIONS;
    o->sample = o->sample ? o->sample : DEFAULT_SAMPLE;
    if (o->k < 2 || o->k > BVT_CLUSTERS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "k must be 2..%d", BVT_CLUSTERS_MAX);
    if (o->max_iterations > BVT_CLUSTER_ITERATIONS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "max_iterations %u is above the limit "
                        "BVT_CLUSTER_ITERATIONS_MAX (%u)", o->max_iterations,
                        BVT_CLUSTER_ITERATIONS_MAX);
    if (o->sample > BVT_CLUSTER_SAMPLE_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "sample %llu is above the limit "
                        "BVT_CLUSTER_SAMPLE_MAX (%u)", (unsigned long long)o->sample,
                        BVT_CLUSTER_SAMPLE_MAX);
    return BVT_OK;
}

/* Fit a model from the sample (mapped in place onto its dimensions). */
static int fit_model(cl_user *pts, size_t n, const bvt_cluster_options *o, uint64_t *rng,
                     bvt_cluster_model *m, uint32_t *out_iterations, double *out_inertia)
{
    int rc = choose_dimensions(m, pts, n);
    if (rc != BVT_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        to_model(m, &pts[i]);
    standardise(m, pts, n);
    fit f = { .m = m, .pts = pts, .n = n, .k = o->k,
              .assign = malloc(n), .dist = malloc(n * sizeof(double)) };
    if (!f.assign || !f.dist) {
        free(f.assign);
        free(f.dist);
        return BVT_ENOMEM;
    }
    *out_iterations = lloyd(&f, rng, o->max_iterations);
    double inertia = 0;
    for (size_t i = 0; i < n; i++)
        inertia += f.dist[i];
    *out_inertia = inertia;
    free(f.assign);
    free(f.dist);
    return BVT_OK;
}

int bvt_cluster_run(bvt_engine *e, int64_t now, const bvt_cluster_options *opts,
                    bvt_cluster_report *out, bvt_error *err)
{
    bvt_cluster_options o = BVT_CLUSTER_OPTIONS_INIT;
    int rc = check_args(e, now, opts, out, &o, err);
    if (rc != BVT_OK)
        return rc;
    if ((rc = bvt__persist_check(e)) != BVT_OK)
        return bvt__fail(err, rc, -1, "the journal has failed: nothing can change");
    bvt_cluster_model *m = calloc(1, sizeof *m);
    if (!m)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    m->k = o.k;
    uint64_t rng = o.seed;
    cl_user *pts = NULL;
    size_t n = 0;
    uint32_t iterations = 0, ids[BVT_CLUSTERS_MAX];
    double inertia = 0;

    pthread_mutex_lock(&e->rfm_lock);
    rc = sample_users(e, now, o.sample, &rng, &pts, &n);
    if (rc == BVT_OK && n < o.k)
        rc = bvt__fail(err, BVT_EINVAL, -1, "%zu users sampled, fewer than k = %u", n, o.k);
    if (rc == BVT_OK)
        rc = fit_model(pts, n, &o, &rng, m, &iterations, &inertia);
    free(pts);
    if (rc == BVT_ENOMEM)
        rc = bvt__fail(err, rc, -1, "out of memory fitting %zu users", n);
    /* The segments first: if one cannot be defined, the old model stays. */
    if (rc == BVT_OK)
        rc = define_segments(e, o.k, ids, err);
    if (rc != BVT_OK) {
        pthread_mutex_unlock(&e->rfm_lock);
        free(m);
        return rc;
    }
    /* Journaled in order: the segments (by their module), the model, the drops. */
    int logged = publish(e, m);
    if (logged != BVT_OK) {
        pthread_mutex_unlock(&e->rfm_lock);
        return bvt__fail(err, logged, -1, "cannot journal the model: %s", bvt_strerror(logged));
    }
    if ((logged = drop_segments_beyond(e, o.k)) != BVT_OK) {
        pthread_mutex_unlock(&e->rfm_lock);
        return bvt__fail(err, logged, -1, "cannot journal a removed segment: %s",
                        bvt_strerror(logged));
    }
    if (out) {
        uint32_t version = out->version;
        memset(out, 0, sizeof *out);
        out->version = version;
        out->k = o.k;
        out->iterations = iterations;
        out->inertia = inertia;
        for (uint32_t c = 0; c < o.k; c++)
            out->clusters[c].segment = ids[c];
        rc = assign_population(e, m, now, out);
        if (rc != BVT_OK)
            rc = bvt__fail(err, rc, -1, "out of memory for the report (the clusters are defined)");
    }
    pthread_mutex_unlock(&e->rfm_lock);
    return rc;
}
