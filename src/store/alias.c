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

int bvt__aliases_init(bvt_aliases *a, uint32_t max)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    a->max = max;
    return BVT_OK;
}

void bvt__aliases_destroy(bvt_aliases *a)
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

int bvt__aliases_find(bvt_aliases *a, const bvt_user_key *k, bvt_user_key *to)
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

int bvt__aliases_add(bvt_aliases *a, const bvt_user_key *anon, const bvt_user_key *known)
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

/* Empty slot i by backward-shift deletion: each later entry of the probe
 * run moves into the hole unless its home lies cyclically in (hole, j]. */
static void remove_slot(bvt_aliases *a, uint32_t i)
{
    uint32_t mask = a->mask;
    for (uint32_t j = (i + 1) & mask; !empty(&a->from[j]); j = (j + 1) & mask) {
        uint32_t home = (uint32_t)a->from[j].lo & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            a->from[i] = a->from[j];
            a->to[i] = a->to[j];
            i = j;
        }
    }
    memset(&a->from[i], 0, sizeof a->from[i]);
    memset(&a->to[i], 0, sizeof a->to[i]);
    atomic_fetch_sub_explicit(&a->count, 1, memory_order_release);
}

/* Remove every entry for which doomed() holds.  A removal may shift a later
 * entry into the slot just examined, so the slot is examined again; one
 * that wraps around past the end into a slot already passed is caught by
 * the next pass (at most one more when nothing moves). */
static uint32_t remove_where(bvt_aliases *a, int (*doomed)(const bvt_aliases *, uint32_t,
                                                           const void *), const void *ud)
{
    uint32_t removed = 0;
    for (int again = 1; again && a->from;) {
        again = 0;
        for (uint32_t i = 0; i <= a->mask;) {
            if (!empty(&a->from[i]) && doomed(a, i, ud)) {
                remove_slot(a, i);
                removed++;
                again = 1;
            } else {
                i++;
            }
        }
    }
    return removed;
}

typedef struct forget_keys {
    const bvt_user_key *id, *target;
} forget_keys;

static int forget_doomed(const bvt_aliases *a, uint32_t i, const void *ud)
{
    const forget_keys *k = ud;
    return same(&a->from[i], k->id) || same(&a->to[i], k->target);
}

uint32_t bvt__aliases_forget(bvt_aliases *a, const bvt_user_key *id, const bvt_user_key *target)
{
    if (atomic_load_explicit(&a->count, memory_order_acquire) == 0)
        return 0;
    forget_keys k = { id, target };
    pthread_mutex_lock(&a->lock);
    uint32_t n = remove_where(a, forget_doomed, &k);
    pthread_mutex_unlock(&a->lock);
    return n;
}

typedef struct target_list {
    const bvt_user_key *keys;
    size_t n;
} target_list;

static int target_doomed(const bvt_aliases *a, uint32_t i, const void *ud)
{
    const target_list *t = ud;
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bvt__user_key_cmp(&t->keys[mid], &a->to[i]);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint32_t bvt__aliases_remove_targets(bvt_aliases *a, const bvt_user_key *targets, size_t n)
{
    if (n == 0 || atomic_load_explicit(&a->count, memory_order_acquire) == 0)
        return 0;
    target_list t = { targets, n };
    pthread_mutex_lock(&a->lock);
    uint32_t removed = remove_where(a, target_doomed, &t);
    pthread_mutex_unlock(&a->lock);
    return removed;
}

void bvt__aliases_foreach_to(bvt_aliases *a, const bvt_user_key *target,
                            void (*fn)(const bvt_user_key *from, void *ud), void *ud)
{
    if (atomic_load_explicit(&a->count, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&a->lock);
    for (uint32_t i = 0; a->from && i <= a->mask; i++)
        if (!empty(&a->from[i]) && same(&a->to[i], target))
            fn(&a->from[i], ud);
    pthread_mutex_unlock(&a->lock);
}

void bvt__aliases_foreach(bvt_aliases *a,
                         void (*fn)(const bvt_user_key *from, const bvt_user_key *to, void *ud),
                         void *ud)
{
    pthread_mutex_lock(&a->lock);
    for (uint32_t i = 0; a->from && i <= a->mask; i++)
        if (!empty(&a->from[i]))
            fn(&a->from[i], &a->to[i], ud);
    pthread_mutex_unlock(&a->lock);
}

size_t bvt__aliases_bytes(bvt_aliases *a)
{
    pthread_mutex_lock(&a->lock);
    size_t b = a->from ? (size_t)(a->mask + 1) * 2 * sizeof(bvt_user_key) : 0;
    pthread_mutex_unlock(&a->lock);
    return b;
}
