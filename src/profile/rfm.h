/* rfm.h — RFM scoring cut points and the lifetimes / BTYD summary. */
#ifndef BVT_RFM_H
#define BVT_RFM_H

#include "profile.h"

/* Scores rank buyers, so each of the five levels holds a fifth of them
 * even where values tie (most buyers buy on one day only).  A buyer's rank
 * in one dimension is by its value, ties broken by the other two values
 * (in the order below: more frequent, then higher spend, then more recent
 * ranks higher) and last by the user's keyed hash: arbitrary, but the same
 * at every refresh.  R uses the time of the last purchase. */
enum bvt_rfm_dim { BVT_RFM_R = 0, BVT_RFM_F = 1, BVT_RFM_M = 2 };

/* A buyer's place in one dimension: the values compared in turn, then the
 * tie-break.  Cut points have the same form. */
typedef struct bvt_rfm_rank {
    double v[3];
    uint64_t tie;
} bvt_rfm_rank;

/* Quintile cut points from the last refresh: a buyer ranked above k cut
 * points of a dimension scores k + 1 there. */
typedef struct bvt_rfm_cuts {
    bvt_rfm_rank cut[3][4]; /* [enum bvt_rfm_dim][k] */
    int64_t refreshed_ms;
    uint64_t buyers;
    struct bvt_rfm_cuts *older; /* retired versions, freed with the engine */
} bvt_rfm_cuts;

/* One buyer as a refresh samples it. */
typedef struct bvt_rfm_buyer {
    double last_purchase, days, monetary;
    uint64_t tie;
} bvt_rfm_buyer;

void bvt__rfm_buyer_of(const bvt_record *r, bvt_rfm_buyer *out);

/* r's three scores 1..5 against cuts; all 0 when cuts is NULL or r has no
 * purchase. */
void bvt__rfm_scores(const bvt_rfm_cuts *cuts, const bvt_record *r, uint32_t out[3]);

/* The cut points of n buyers.  BVT_OK; BVT_ENOMEM. */
int bvt__rfm_cuts_compute(const bvt_rfm_buyer *buyers, size_t n, bvt_rfm_cuts *out);

/* -1, 0, 1 as a ranks below, equal to or above b. */
int bvt__rfm_rank_cmp(const bvt_rfm_rank *a, const bvt_rfm_rank *b);

/* The summary of r's purchases up to the day of end_ms; see the public doc. */
int bvt__rfm_summary_of(const bvt_record *r, int64_t end_ms, int64_t unit_ms,
                       bvt_rfm_summary *out);

#endif
