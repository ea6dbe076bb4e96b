/* registry_log.h — the journal hooks of the registries and the RFM cut
 * points' encoding and publishing (registry_log.c). */
#ifndef BVT_REGISTRY_LOG_H
#define BVT_REGISTRY_LOG_H

#include "engine.h"

/* Give the category tree, the keyword map and the segment registry their
 * journal hooks (engine creation, after the built-in segments, before the
 * engine is returned). */
void bvt__registry_attach(bvt_engine *e);

/* Publish freshly computed cut points (the older ones are retired, freed
 * with the engine) and journal them (BVT_OP_RFM_CUTS).  The caller holds
 * e->rfm_lock.  Takes cuts.  BVT_EIO before publishing when the journal has
 * failed (cuts freed, nothing changes); otherwise the journal's status. */
int bvt__rfm_publish(bvt_engine *e, bvt_rfm_cuts *cuts);

/* Publish cut points loaded or replayed, without a record; cuts equal to
 * the current ones are dropped (replay is idempotent).  Takes cuts; the
 * caller holds e->rfm_lock. */
void bvt__rfm_republish(bvt_engine *e, bvt_rfm_cuts *cuts);

/* Cut points in records and the DERIVED section: a layout byte, then the
 * cuts.  The reader takes the layout byte read by the caller; BVT_OK with
 * *out allocated, BVT_ECORRUPT (r failed), BVT_ENOMEM. */
void bvt__rfm_cuts_write(const bvt_rfm_cuts *c, bvt_wbuf *w);
int bvt__rfm_cuts_read(bvt_rbuf *r, uint32_t layout, bvt_rfm_cuts **out);

#endif
