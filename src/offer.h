/* offer.h — the offer catalog (placeholder: the full module follows). */
#ifndef BVT_OFFER_H
#define BVT_OFFER_H

#include <stdint.h>

#include "behavtarget.h"

/* Slot of `segment` in the list of bvt_offer_segments_set(), or -1.  Bit
 * `slot` of a segment mask says the user is in that segment. */
int bvt_offer_segment_slot(bvt_engine *e, uint32_t segment);

struct bvt_record;
/* The user's offer-segment mask at `now` (bit i: in the segment of slot i);
 * 0 when no list is set.  Under the record's shard lock. */
uint32_t bvt_offer_segment_mask_locked(bvt_engine *e, const struct bvt_record *r, int64_t now);

#endif
