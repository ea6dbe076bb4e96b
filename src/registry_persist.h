/* registry_persist.h — what registry_persist.c gives the rest of the engine
 * besides its persist.h sections: the journal hooks of the registries and
 * publishing RFM cut points with their record. */
#ifndef BVT_REGISTRY_PERSIST_H
#define BVT_REGISTRY_PERSIST_H

#include "engine.h"

/* Give the category tree, the keyword map and the segment registry their
 * journal hooks (engine creation, after the built-in segments, before the
 * engine is returned). */
void bvt_registry_attach(bvt_engine *e);

/* Publish freshly computed cut points (the older ones are retired, freed
 * with the engine) and journal them (BVT_OP_RFM_CUTS).  The caller holds
 * e->rfm_lock.  Takes cuts.  BVT_EIO before publishing when the journal has
 * failed (cuts freed, nothing changes); otherwise the journal's status. */
int bvt_rfm_publish(bvt_engine *e, bvt_rfm_cuts *cuts);

#endif
