/* bucketing.h — deterministic experiment bucketing: a user id hashed to a
 * number in [0, 1), bucket ranges cut from variant weights and coverage, and
 * the variant whose range holds the number.
 *
 * Two hashes.  The default, bvt__bucket_hash_xxh3, is XXH3-64 of
 * salt || 0x00 || id; its output for given bytes is pinned (a changed
 * mapping would move users between variants of running experiments).  The
 * GrowthBook-compatible one, bvt__bucket_hash_gb, reproduces the GrowthBook
 * SDKs' FNV-1a hashes (versions 1 and 2), so an experiment can assign users
 * exactly as a GrowthBook SDK would.  The range and choice functions follow
 * GrowthBook's getBucketRanges / chooseVariation / inNamespace /
 * getEqualWeights; docs/bucketing.md has the definitions.
 *
 * Pure functions: no state, no allocation, safe from any thread. */
#ifndef BVT_BUCKETING_H
#define BVT_BUCKETING_H

#include <stddef.h>

/* GrowthBook's hash(seed, value, version).  Strings are UTF-8 and hashed as
 * the UTF-16 code units JavaScript would see (the same as the bytes for
 * ASCII; an invalid UTF-8 byte counts as U+FFFD).
 *   version 1: (fnv1a32(value + seed) % 1000) / 1000
 *   version 2: (fnv1a32(decimal(fnv1a32(seed + value))) % 10000) / 10000
 * Sets *ok (if not NULL) to 1; for any other version sets it to 0 and
 * returns -1.0, which lies in no bucket range. */
double bvt__bucket_hash_gb(const char *seed, size_t seed_len, const char *value,
                          size_t value_len, int version, int *ok);

/* Our default: the top 53 bits of XXH3-64(salt || 0x00 || id), scaled to
 * [0, 1).  Stable across library versions and machines. */
double bvt__bucket_hash_xxh3(const void *salt, size_t salt_len, const void *id, size_t id_len);

/* GrowthBook's getBucketRanges: writes n ranges [lo, hi) to out and returns
 * n.  coverage is clamped to [0, 1] (NaN counts as 0).  weights (n_weights
 * of them) are replaced by equal weights when NULL, when n_weights != n, or
 * when their sum is below 0.99 or above 1.01.  Range i starts at the sum of
 * the weights before it and is coverage * weight[i] long. */
size_t bvt__bucket_ranges(size_t n, double coverage, const double *weights, size_t n_weights,
                         double (*out)[2]);

/* GrowthBook's chooseVariation: the index of the first of k ranges with
 * lo <= x < hi, or -1 when none holds x. */
int bvt__bucket_choose(double x, const double (*ranges)[2], size_t k);

/* GrowthBook's inNamespace: 1 when the version-1 hash of id with seed
 * "__" + ns lies in [lo, hi), else 0. */
int bvt__bucket_in_namespace(const char *id, size_t id_len, const char *ns, size_t ns_len,
                            double lo, double hi);

/* GrowthBook's getEqualWeights: writes n copies of 1/n to out, returns n. */
size_t bvt__bucket_equal_weights(size_t n, double *out);

#endif
