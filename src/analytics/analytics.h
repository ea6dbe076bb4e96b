/* analytics.h — the analytics-consent policy (bvt_options.analytics_policy)
 * as the tracking path applies it, and the anonymous aggregates.
 *
 * Anonymous aggregates: under BVT_ANALYTICS_ANONYMOUS an event of a user
 * without analytics consent is counted per (type, top-level category) in a
 * fixed open-addressing table of atomics, allocated with the engine, so
 * counting is lock-free and allocates nothing.  At most BVT_ANON_PAIRS
 * pairs are admitted (the table has twice the slots, so a probe always
 * ends); an event of a pair without room counts in the totals only. */
#ifndef BVT_ANALYTICS_H
#define BVT_ANALYTICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic_double.h"
#include "engine.h"

#define BVT_ANON_PAIRS 4096u
#define BVT_ANON_SLOTS (2 * BVT_ANON_PAIRS)

typedef struct bvt_anon_cell {
    _Atomic uint32_t key;   /* (type << 16 | top-level category) + 1; 0 = free */
    uint32_t unused;
    _Atomic uint64_t count;
    _Atomic double sum;
} bvt_anon_cell;

typedef struct bvt_anon {
    _Atomic uint32_t pairs; /* pairs admitted (reserved before a slot is claimed) */
    _Atomic uint64_t total_count;
    _Atomic double total_sum;
    bvt_anon_cell cells[BVT_ANON_SLOTS];
} bvt_anon;

int bvt__anon_new(bvt_anon **out);
void bvt__anon_free(bvt_anon *a);
size_t bvt__anon_bytes(const bvt_anon *a);

/* Put a saved pair back into a fresh table (snapshot load, one thread):
 * BVT_OK; BVT_EEXIST (key already there); BVT_ELIMIT (BVT_ANON_PAIRS
 * already admitted).  key is a table key (not 0). */
int bvt__anon_restore(bvt_anon *a, uint32_t key, uint64_t count, double sum);

/* 1 when, under the engine's analytics policy, an event of the user whose
 * profile is r (NULL: none yet, so no consent) must not touch profiles. */
static inline int bvt__analytics_blocked(const bvt_engine *e, const bvt_record *r)
{
    return e->analytics_policy != BVT_ANALYTICS_TRACK &&
           !(r && bvt__consent_granted(r->ext, BVT_PURPOSE_ANALYTICS));
}

/* What happens to such an event instead: BVT_ECONSENT under the drop
 * policy; under the anonymous policy it is counted and BVT_OK returned. */
int bvt__analytics_divert(bvt_engine *e, const bvt_resolved_event *ev);

/* Count ev in the anonymous aggregates whatever the policy now (replay:
 * the journal says it was counted), creating them when the engine has
 * none.  Single-threaded use only (opening).  BVT_OK; BVT_ENOMEM. */
int bvt__analytics_count(bvt_engine *e, const bvt_resolved_event *ev);

/* The anonymous aggregates, created when the engine has none (opening,
 * single-threaded).  BVT_OK; BVT_ENOMEM. */
int bvt__analytics_ensure(bvt_engine *e);

#endif
