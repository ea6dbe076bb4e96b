/* atomic_double.h — counters of money that many threads add to: a relaxed
 * atomic double and the compare-and-swap loop that adds to it (C11 has no
 * atomic add for floating point). */
#ifndef BVT_ATOMIC_DOUBLE_H
#define BVT_ATOMIC_DOUBLE_H

#include <stdatomic.h>

static inline void bvt_atomic_add_double(_Atomic double *p, double x)
{
    double old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, old + x, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static inline double bvt_atomic_load_double(const _Atomic double *p)
{
    return atomic_load_explicit((_Atomic double *)p, memory_order_relaxed);
}

#endif
