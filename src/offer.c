/* offer.c — placeholder until the offer catalog lands. */
#include "engine.h"
#include "offer.h"

int bvt_offer_segment_slot(bvt_engine *e, uint32_t segment) { (void)e; (void)segment; return -1; }
int bvt_offer_lookup(bvt_engine *e, const char *id, uint32_t *out_id)
{ (void)e; (void)id; (void)out_id; return BVT_ENOTFOUND; }
const char *bvt_offer_name(bvt_engine *e, uint32_t offer) { (void)e; (void)offer; return NULL; }
uint32_t bvt_offer_segment_mask_locked(bvt_engine *e, const struct bvt_record *r, int64_t now)
{ (void)e; (void)r; (void)now; return 0; }
