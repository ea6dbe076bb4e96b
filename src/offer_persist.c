/* offer_persist.c — (being written; stubs so the build links) */
#include "persist.h"
int bvt_offers_save(bvt_engine *e, bvt_wbuf *w) { (void)e; (void)w; return BVT_OK; }
int bvt_offers_load(bvt_engine *e, bvt_rbuf *r) { (void)e; (void)r; return BVT_OK; }
int bvt_offers_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r) { (void)e; (void)op; (void)r; return BVT_ECORRUPT; }
