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
#include "progress.h"
#include "shop.h"

#define ADSIM_POLICIES 3 /* random, greedy, Thompson sampling */
#define ADSIM_POINTS 50  /* cumulative regret is recorded after every 2% of the requests */

/* One policy run alone on its own engine. */
typedef struct adsim_policy_result {
    const char *name;             /* static */
    double regret[ADSIM_POINTS];  /* expected clicks lost to the best eligible offer, cumulative,
                                     after (i + 1) / ADSIM_POINTS of the requests */
    uint64_t impressions, clicks;
    double best;                  /* expected clicks of the best eligible offer every time */
} adsim_policy_result;

/* One arm of the A/B test. */
typedef struct adsim_arm {
    const char *name;             /* the variant's name (static) */
    uint64_t users, impressions, clicks;
    double ctr;                   /* measured */
    double true_ctr;              /* expected, from the hidden model */
    double regret_rate;           /* expected clicks lost per impression in the test */
    double alone_regret_rate;     /* the same policy's, run alone */
} adsim_arm;

/* What adsim_run() found, for reports. */
typedef struct adsim_result {
    int ran;                      /* 0: no users, nothing below is set */
    uint32_t users, consenting, matched, offers, days;
    uint64_t requests;
    adsim_policy_result policy[ADSIM_POLICIES];
    uint64_t over_cap;            /* impressions over a cap, every run */
    int ab_ran;                   /* 0: the experiments API is not in this build */
    adsim_arm arm[2];             /* control, treatment */
    bvt_lift lift;                /* CTR of the treatment against the control */
    double srm_p;
    int srm_mismatch;
} adsim_result;

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
 * whole stream went into; print the report on stdout, a progress line per
 * run on `pg`, and fill *out.  Returns 0, or -1 after printing the problem
 * on stderr. */
int adsim_run(adsim *a, bvt_engine *history, int64_t now, progress *pg, adsim_result *out);

/* Why the A/B test and the regret of the policies run alone can disagree,
 * with this run's figures: one or two sentences into buf (plain text).
 * The text report and the HTML report both print it. */
void adsim_explain_ab(const adsim_result *r, char *buf, size_t n);

#endif
