/* offer.h — the offer catalog (placeholder: the full module follows). */
#ifndef BVT_OFFER_H
#define BVT_OFFER_H

#include <stdint.h>

#include "behavtarget.h"

/* Slot of `segment` in the list of bvt_offer_segments_set(), or -1.  Bit
 * `slot` of a segment mask says the user is in that segment. */
int bvt_offer_segment_slot(bvt_engine *e, uint32_t segment);

#endif
