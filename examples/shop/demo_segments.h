/* demo_segments.h — the segments section of the demo report. */
#ifndef DEMO_SEGMENTS_H
#define DEMO_SEGMENTS_H

#include <stdint.h>

#include "behavtarget.h"
#include "shop.h"

/* The raw id of a keyed hash (the demo keeps that map; the library does not). */
typedef const char *(*demo_raw_id_fn)(const bvt_user_key *key, void *ud);

void demo_segments_report(bvt_engine *e, const shop *s, int64_t now, uint32_t users,
                          uint64_t profiles, uint64_t buyers, demo_raw_id_fn raw_id, void *ud);

#endif
