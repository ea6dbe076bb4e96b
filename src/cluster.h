/* cluster.h — behavioural clusters: the k-means model a run publishes and
 * the nearest centroid of one user under it (the rule feature `cluster`).
 * The model is immutable once published; retired models stay allocated
 * until the engine is freed, so a reader never sees one go.  See
 * docs/clusters.md. */
#ifndef BVT_CLUSTER_H
#define BVT_CLUSTER_H

#include <stdint.h>

#include "behavtarget.h"
#include "profile.h"

typedef struct bvt_cluster_model bvt_cluster_model;

/* 1-based index of r's nearest centroid at now under the engine's current
 * model; 0 when no run has published one.  Runs under the lock of r's
 * shard and allocates nothing. */
uint32_t bvt_cluster_of(const bvt_engine *e, const bvt_record *r, int64_t now);

/* Free m and every model it retired (engine teardown); NULL is a no-op. */
void bvt_cluster_models_free(bvt_cluster_model *m);

#endif
