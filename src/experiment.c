/* experiment.c — placeholder until the experiments module lands. */
#include <stdlib.h>

#include "engine.h"
#include "experiment.h"

int bvt_experiments_new(struct bvt_experiments **out) { *out = NULL; return BVT_OK; }
void bvt_experiments_free(struct bvt_experiments *x) { (void)x; }
size_t bvt_experiments_bytes(const struct bvt_experiments *x) { (void)x; return 0; }
const bvt_experiment_def *bvt_experiment_acquire(bvt_engine *e, const char *name)
{ (void)e; (void)name; return NULL; }
void bvt_experiment_release(const bvt_experiment_def *d) { (void)d; }
int32_t bvt_experiment_expose_locked(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m,
                                     bvt_record *r, const void *id, size_t len, int64_t now,
                                     uint32_t seg_mask)
{ (void)e; (void)d; (void)m; (void)r; (void)id; (void)len; (void)now; (void)seg_mask; return BVT_VARIANT_NONE; }
const bvt_policy *bvt_experiment_variant_policy(const bvt_experiment_def *d, int32_t variant)
{ (void)d; (void)variant; return NULL; }
int bvt_experiment_variant_allows(const bvt_experiment_def *d, int32_t variant, uint32_t offer)
{ (void)d; (void)variant; (void)offer; return 1; }
void bvt_experiments_on_event(bvt_engine *e, const bvt_ext *x, const bvt_outcome *o)
{ (void)e; (void)x; (void)o; }
void bvt_experiments_user_release(bvt_ext *x, bvt_mem *m) { (void)x; (void)m; }
void bvt_experiments_user_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m) { (void)dst; (void)src; (void)m; }
size_t bvt_experiments_user_bytes(const bvt_ext *x) { (void)x; return 0; }
