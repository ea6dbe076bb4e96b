/* bits.h — a bit per id, settable from any thread (relaxed atomics: the
 * caller orders the readers, e.g. by a lock the setters released). */
#ifndef BVT_BITS_H
#define BVT_BITS_H

#include <stdatomic.h>
#include <stdint.h>

/* Words for the bits of ids 0..n-1. */
#define BVT_BITS_WORDS(n) (((size_t)(n) + 63) / 64)

static inline void bvt__bits_set(_Atomic uint64_t *bits, uint32_t i)
{
    uint64_t bit = 1ull << (i & 63);
    /* most ids are marked many times: read first, write once */
    if (!(atomic_load_explicit(&bits[i >> 6], memory_order_relaxed) & bit))
        atomic_fetch_or_explicit(&bits[i >> 6], bit, memory_order_relaxed);
}

static inline int bvt__bits_has(const _Atomic uint64_t *bits, uint32_t i)
{
    return (atomic_load_explicit(&bits[i >> 6], memory_order_relaxed) >> (i & 63)) & 1;
}

#endif
