/* rng.h — the library's one seeded generator (splitmix64): every random
 * choice (eviction sampling, reservoir samples, k-means seeding) follows
 * explicit state, so runs are reproducible. */
#ifndef BVT_RNG_H
#define BVT_RNG_H

#include <stdint.h>

static inline uint64_t bvt__rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
