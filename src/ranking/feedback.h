/* feedback.h — what a tracked event means for offers and experiments: an
 * impression, click, conversion, dismissal, like, share or comment naming
 * an offer updates the user's cap state (caps.h), the offer's bandit
 * statistics and metrics (offer.h); impressions, clicks, conversions and
 * purchases are experiment outcomes (experiment.h).  Runs in the tracking
 * path under the shard lock, after the event passed validation. */
#ifndef BVT_FEEDBACK_H
#define BVT_FEEDBACK_H

#include "engine.h"
#include "offer.h"

/* 1 for the types that carry offer feedback. */
int bvt__feedback_type(uint32_t type);

/* Room the event needs in the user's cap state, before the profile is
 * updated.  set: the catalog, held by the caller for events naming a known
 * offer (else NULL: nothing to reserve).  BVT_OK, BVT_EFULL, BVT_ENOMEM
 * (then the event must be refused; nothing visible changed). */
int bvt__feedback_reserve(bvt_mem *m, bvt_record *r, const bvt_resolved_event *ev,
                         const bvt_offer_set *set);

/* After the profile took the event: caps, counters, experiment outcomes.
 * Never fails, never allocates. */
void bvt__feedback_apply(bvt_engine *e, bvt_record *r, const bvt_resolved_event *ev,
                        const bvt_offer_set *set);

#endif
