/* rfm.h — RFM scoring cut points and the lifetimes / BTYD summary. */
#ifndef BVT_RFM_H
#define BVT_RFM_H

#include "profile.h"

/* Quintile cut points from the last refresh: a value above k cut points
 * scores k + 1.  R uses the time of the last purchase. */
typedef struct bvt_rfm_cuts {
    double r[4], f[4], m[4];
    int64_t refreshed_ms;
    uint64_t buyers;
    struct bvt_rfm_cuts *older; /* retired versions, freed with the engine */
} bvt_rfm_cuts;

/* Score 1..5 of value against cuts (0 when cuts is NULL). */
uint32_t bvt_rfm_score(const double cuts[4], double value);

/* Cut points from n values (sorted in place). */
void bvt_rfm_quintiles(double *values, size_t n, double cuts[4]);

/* The summary of r's purchases up to the day of end_ms; see the public doc. */
int bvt_rfm_summary_of(const bvt_record *r, int64_t end_ms, int64_t unit_ms,
                       bvt_rfm_summary *out);

#endif
