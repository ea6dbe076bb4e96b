/* cluster_model.h — the behavioural cluster model a k-means run publishes
 * and the nearest centroid of one user under it (the rule feature
 * `cluster`); defined in cluster_model.c.  The model is immutable once
 * published; retired models stay allocated until the engine is freed, so a
 * reader never sees one go.  The run itself is cluster_fit.c's
 * (bvt_cluster_run, public).  See docs/clusters.md. */
#ifndef BVT_CLUSTER_MODEL_H
#define BVT_CLUSTER_MODEL_H

#include <stdint.h>

#include "behavtarget.h"
#include "codec.h"
#include "profile.h"

typedef struct bvt_cluster_model bvt_cluster_model;

/* 1-based index of r's nearest centroid at now under the engine's current
 * model; 0 when no run has published one.  Runs under the lock of r's
 * shard and allocates nothing. */
uint32_t bvt__cluster_of(const bvt_engine *e, const bvt_record *r, int64_t now);

/* Free m and every model it retired (engine teardown); NULL is a no-op. */
void bvt__cluster_models_free(bvt_cluster_model *m);

/* ---- persistence (registry_persist.c) ---- */

/* The model's bytes: k, the category dimensions, mean and sd per
 * dimension, the centroids (what placing a user needs; the rest is
 * derived on reading). */
void bvt__cluster_model_write(const bvt_cluster_model *m, bvt_wbuf *w);
/* Mark in marks (may be NULL) the categories m names (persist.h). */
struct bvt_name_marks;
void bvt__cluster_model_mark(const bvt_cluster_model *m, struct bvt_name_marks *marks);

/* A model from bytes, every field checked (k, dimension count, category
 * ids top-level in e, finite numbers): BVT_OK with *out; BVT_ECORRUPT (r
 * bad); BVT_ENOMEM. */
int bvt__cluster_model_read(const bvt_engine *e, bvt_rbuf *r, bvt_cluster_model **out);

/* ---- publishing; the caller holds e->rfm_lock ---- */

/* Make m the successor of the current model: m's categories are pinned,
 * the current model's unpinned, and the current model is retired behind
 * m.  Takes m (freed on failure: a category pin's status).  Readers see m
 * only from bvt__cluster_model_store(); a run journals in between
 * (cluster_fit.c). */
int bvt__cluster_model_adopt(bvt_engine *e, bvt_cluster_model *m);

/* Publish the adopted m: every reader of e->clusters sees it from here. */
void bvt__cluster_model_store(bvt_engine *e, bvt_cluster_model *m);

/* Publish m as the current model without journaling it (snapshot load,
 * journal replay): a model equal to the current one is freed instead, so
 * replaying it twice changes nothing.  Takes m; BVT_OK, or a status of
 * comparing the models or pinning m's categories. */
int bvt__cluster_restore(bvt_engine *e, bvt_cluster_model *m);

#endif
