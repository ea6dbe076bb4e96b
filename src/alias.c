/* alias.c — the alias map. */
#include <stdlib.h>
#include <string.h>

#include "alias.h"

static int same(const bvt_user_key *a, const bvt_user_key *b)
{
    return a->hi == b->hi && a->lo == b->lo;
}

static int empty(const bvt_user_key *k)
{
    return (k->hi | k->lo) == 0;
}

int bvt_aliases_init(bvt_aliases *a, uint32_t max)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    a->max = max;
    return BVT_OK;
}

void bvt_aliases_destroy(bvt_aliases *a)
{
    free(a->from);
    free(a->to);
    pthread_mutex_destroy(&a->lock);
}

static uint32_t slot_of(const bvt_aliases *a, const bvt_user_key *k)
{
    uint32_t i = (uint32_t)k->lo & a->mask;
    while (!empty(&a->from[i]) && !same(&a->from[i], k))
        i = (i + 1) & a->mask;
    return i;
}

int bvt_aliases_find(bvt_aliases *a, const bvt_user_key *k, bvt_user_key *to)
{
    if (atomic_load_explicit(&a->count, memory_order_acquire) == 0)
        return 0;
    pthread_mutex_lock(&a->lock);
    uint32_t i = slot_of(a, k);
    int found = !empty(&a->from[i]);
    if (found)
        *to = a->to[i];
    pthread_mutex_unlock(&a->lock);
    return found;
}

static int grow(bvt_aliases *a)
{
    uint32_t slots = a->from ? (a->mask + 1) * 2 : 64;
    bvt_user_key *from = calloc(slots, sizeof *from), *to = calloc(slots, sizeof *to);
    if (!from || !to) {
        free(from);
        free(to);
        return BVT_ENOMEM;
    }
    bvt_aliases old = *a;
    a->from = from;
    a->to = to;
    a->mask = slots - 1;
    if (old.from) {
        for (uint32_t i = 0; i <= old.mask; i++)
            if (!empty(&old.from[i])) {
                uint32_t j = slot_of(a, &old.from[i]);
                a->from[j] = old.from[i];
                a->to[j] = old.to[i];
            }
        free(old.from);
        free(old.to);
    }
    return BVT_OK;
}

int bvt_aliases_add(bvt_aliases *a, const bvt_user_key *anon, const bvt_user_key *known)
{
    pthread_mutex_lock(&a->lock);
    uint32_t n = atomic_load_explicit(&a->count, memory_order_relaxed);
    int rc = BVT_OK;
    if (a->from && !empty(&a->from[slot_of(a, known)]))
        rc = BVT_EEXIST;
    else if (a->from && !empty(&a->from[slot_of(a, anon)]))
        rc = same(&a->to[slot_of(a, anon)], known) ? BVT_OK : BVT_EEXIST;
    else if (n >= a->max)
        rc = BVT_ELIMIT;
    else if ((!a->from || (uint64_t)(n + 1) * 2 > a->mask + 1) && (rc = grow(a)) != BVT_OK)
        ;
    else {
        for (uint32_t i = 0; i <= a->mask; i++) /* aliases of anon follow it */
            if (!empty(&a->from[i]) && same(&a->to[i], anon))
                a->to[i] = *known;
        uint32_t i = slot_of(a, anon);
        a->from[i] = *anon;
        a->to[i] = *known;
        atomic_store_explicit(&a->count, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

size_t bvt_aliases_bytes(bvt_aliases *a)
{
    pthread_mutex_lock(&a->lock);
    size_t b = a->from ? (size_t)(a->mask + 1) * 2 * sizeof(bvt_user_key) : 0;
    pthread_mutex_unlock(&a->lock);
    return b;
}
