/* registry_persist.c — (being written; stubs so the build links) */
#include "persist.h"
int bvt_names_save(bvt_engine *e, bvt_wbuf *w) { (void)e; (void)w; return BVT_OK; }
int bvt_names_load(bvt_engine *e, bvt_rbuf *r) { (void)e; (void)r; return BVT_OK; }
int bvt_segments_save(bvt_engine *e, bvt_wbuf *w) { (void)e; (void)w; return BVT_OK; }
int bvt_segments_load(bvt_engine *e, bvt_rbuf *r) { (void)e; (void)r; return BVT_OK; }
int bvt_derived_save(bvt_engine *e, bvt_wbuf *w) { (void)e; (void)w; return BVT_OK; }
int bvt_derived_load(bvt_engine *e, bvt_rbuf *r) { (void)e; (void)r; return BVT_OK; }
int bvt_registry_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r) { (void)e; (void)op; (void)r; return BVT_ECORRUPT; }
