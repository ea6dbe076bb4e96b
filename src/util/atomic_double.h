/* atomic_double.h — counters of money that many threads add to: a relaxed
 * atomic double and the compare-and-swap loop that adds to it (C11 has no
 * atomic add for floating point), saturating at DBL_MAX. */
#ifndef BVT_ATOMIC_DOUBLE_H
#define BVT_ATOMIC_DOUBLE_H

#include <float.h>
#include <stdatomic.h>

/* a + b, at most DBL_MAX.  Sums of money saturate rather than become
 * infinite: snapshots refuse a counter that is not finite, so one absurd
 * amount (a purchase of 1e200, whose square a variance adds) must not
 * leave a state that saves but cannot be loaded. */
static inline double bvt__add_saturated(double a, double b)
{
    double sum = a + b;
    return sum < DBL_MAX ? sum : DBL_MAX;
}

static inline void bvt__atomic_add_double(_Atomic double *p, double x)
{
    double old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, bvt__add_saturated(old, x),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

static inline double bvt__atomic_load_double(const _Atomic double *p)
{
    return atomic_load_explicit((_Atomic double *)p, memory_order_relaxed);
}

#endif
