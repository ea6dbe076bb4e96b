/* cluster.h — behavioural clusters: the k-means model a run publishes and
 * the nearest centroid of one user under it (the rule feature `cluster`).
 * The model is immutable once published; retired models stay allocated
 * until the engine is freed, so a reader never sees one go.  See
 * docs/clusters.md. */
#ifndef BVT_CLUSTER_H
#define BVT_CLUSTER_H

#include <stdint.h>

#include "behavtarget.h"
#include "codec.h"
#include "profile.h"

typedef struct bvt_cluster_model bvt_cluster_model;

/* 1-based index of r's nearest centroid at now under the engine's current
 * model; 0 when no run has published one.  Runs under the lock of r's
 * shard and allocates nothing. */
uint32_t bvt_cluster_of(const bvt_engine *e, const bvt_record *r, int64_t now);

/* Free m and every model it retired (engine teardown); NULL is a no-op. */
void bvt_cluster_models_free(bvt_cluster_model *m);

/* ---- persistence (registry_persist.c) ---- */

/* The model's bytes: k, the category dimensions, mean and sd per
 * dimension, the centroids (what placing a user needs; the rest is
 * derived on reading). */
void bvt_cluster_model_write(const bvt_cluster_model *m, bvt_wbuf *w);
/* Mark in marks (may be NULL) the categories m names (persist.h). */
struct bvt_name_marks;
void bvt_cluster_model_mark(const bvt_cluster_model *m, struct bvt_name_marks *marks);

/* A model from bytes, every field checked (k, dimension count, category
 * ids top-level in e, finite numbers): BVT_OK with *out; BVT_ECORRUPT (r
 * bad); BVT_ENOMEM. */
int bvt_cluster_model_read(const bvt_engine *e, bvt_rbuf *r, bvt_cluster_model **out);

/* Publish m as the current model (the older one is retired) and journal
 * it (BVT_OP_CLUSTERS); the caller holds e->rfm_lock.  Takes m; returns
 * the journal's status.  With `restore` (snapshot load, journal replay)
 * nothing is journaled and a model equal to the current one is freed
 * instead of published, so replaying it twice changes nothing. */
int bvt_cluster_publish(bvt_engine *e, bvt_cluster_model *m, int restore);

#endif
