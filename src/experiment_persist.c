/* experiment_persist.c — (being written; stubs so the build links) */
#include "persist.h"
int bvt_experiments_save(bvt_engine *e, bvt_wbuf *w) { (void)e; (void)w; return BVT_OK; }
int bvt_experiments_load(bvt_engine *e, bvt_rbuf *r) { (void)e; (void)r; return BVT_OK; }
void bvt_experiments_user_save(const struct bvt_ext *x, bvt_wbuf *w) { (void)x; bvt_w_u8(w, 0); }
int bvt_experiments_user_load(struct bvt_ext *x, struct bvt_mem *m, bvt_rbuf *r) { (void)x; (void)m; return bvt_r_u8(r) == 0 && !r->bad ? BVT_OK : BVT_ECORRUPT; }
int bvt_experiments_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r) { (void)e; (void)op; (void)r; return BVT_ECORRUPT; }
