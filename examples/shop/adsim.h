/* adsim.h — the demo's ad-server simulation: offers ranked by bvt_rank()
 * for shop users whose clicks follow a hidden true response model.
 *
 * A sample of the shop's users is chosen up front; while the demo streams
 * the shop, adsim_observe() keeps their events, so each policy can run on a
 * fresh engine fed exactly the same history.  adsim_run() then replays one
 * request stream for uniform random, greedy and Thompson sampling, prints
 * the cumulative regret against the hidden model, checks every frequency
 * cap from what was served, and runs an A/B test (greedy against Thompson
 * sampling) through the experiments API.  Everything follows the seed.
 */
#ifndef ADSIM_H
#define ADSIM_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"
#include "shop.h"

typedef struct adsim adsim;

/* Choose the simulated users among the shop's.  Returns 0, or -1 when
 * memory runs out (*out is then NULL). */
int adsim_new(adsim **out, shop *s, uint64_t seed);

/* NULL is a no-op. */
void adsim_free(adsim *a);

/* Keep the events of the simulated users among ev[0..n), as tracked into
 * `e` (the engine shop_setup_engine() prepared: its category names are
 * read here).  Call it on every batch of the stream.  Returns 0, or -1
 * when memory runs out. */
int adsim_observe(adsim *a, bvt_engine *e, const bvt_event *ev, size_t n);

/* Run the simulation after the stream ended at `now`, reading the users'
 * interests (the hidden model's input) from `history`, the engine the
 * whole stream went into, and print the report on stdout.  Returns 0, or
 * -1 after printing the problem on stderr. */
int adsim_run(adsim *a, bvt_engine *history, int64_t now);

#endif
