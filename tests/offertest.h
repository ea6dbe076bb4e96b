/* offertest.h — what the offer, ranking and experiment suites share:
 * defining offers, feedback events naming them, and ranking one user. */
#ifndef BVT_OFFERTEST_H
#define BVT_OFFERTEST_H

#include "testutil.h"

/* Define o (fails the test unless it succeeds); the numeric id. */
uint32_t offer_ok(bvt_engine *e, const bvt_offer *o);

/* A plain offer with this id (tags, rule and caps unset). */
bvt_offer offer_named(const char *id);

/* Track a feedback event of `type` by `user` naming `offer` at t. */
void feedback_ok(bvt_engine *e, const char *user, uint32_t type, const char *offer, int64_t t,
                 double value);

/* Grant or deny `user` the ads purpose at t. */
void ads_consent(bvt_engine *e, const char *user, int granted, int64_t t);

#define RANK_MAX 64
/* A ranking and what bvt_rank() wrote, with room for RANK_MAX of each. */
typedef struct ranked {
    bvt_rank_result res;
    bvt_ranked_offer offers[RANK_MAX];
    bvt_exclusion excluded[RANK_MAX];
    bvt_offer_choice choices[RANK_MAX];
} ranked;

/* Rank for user at now with q's other fields as given (user and now are
 * set here); fails the test unless bvt_rank() returns BVT_OK. */
void rank_ok(bvt_engine *e, bvt_rank_request q, const char *user, int64_t now, ranked *out);

/* Why offer `id` was left out of r (0 when it was not). */
uint32_t exclusion_of(const ranked *r, const char *id);

/* 1 when offer `id` fills a slot of r. */
int ranked_has(const ranked *r, const char *id);

#endif
