/* interest.h — per-user interest scores with exponential decay in O(1).
 *
 * Forward decay: each user's scores are kept relative to a landmark time L,
 * so an event of weight w at time t adds w * 2^((t - L) / h) and nothing
 * else has to be touched; the score at `now` is stored * 2^(-(now - L) / h).
 * Because every stored score shares L, they compare directly: top-K
 * replacement needs no decay pass.  When the exponent grows large the scores
 * are rescaled to a new landmark (O(K), rare). */
#ifndef BVT_INTEREST_H
#define BVT_INTEREST_H

#include "profile.h"

/* Credit `weight` at t_ms to category and its ancestors (weight * credit^d). */
void bvt__interest_add(bvt_record *r, const bvt_profile_cfg *cfg, uint32_t category,
                      double weight, int64_t t_ms);

/* Fold src's interests into dst's (alias merge). */
void bvt__interest_merge(bvt_record *dst, const bvt_record *src, const bvt_profile_cfg *cfg);

/* Number of interests held. */
uint32_t bvt__interest_count(const bvt_record *r);

/* Decayed scores at now, sorted descending; returns how many (<= cap). */
size_t bvt__interest_top(const bvt_record *r, const bvt_profile_cfg *cfg, int64_t now,
                        uint32_t *cats, double *scores, double *out_sum, size_t cap);

#endif
