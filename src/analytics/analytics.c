/* analytics.c — the analytics-consent policy in the tracking path: what
 * happens to an event of a user without analytics consent, and the
 * anonymous aggregates it may be counted in instead (analytics.h). */
#include <stdlib.h>

#include "analytics.h"

int bvt__anon_new(bvt_anon **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? BVT_OK : BVT_ENOMEM;
}

void bvt__anon_free(bvt_anon *a)
{
    free(a);
}

size_t bvt__anon_bytes(const bvt_anon *a)
{
    return a ? sizeof *a : 0;
}

static uint32_t top_level(const bvt_categories *cats, uint32_t cat)
{
    for (uint32_t p; cat && (p = bvt__categories_parent(cats, cat)) != 0;)
        cat = p;
    return cat;
}

/* The cell of key, claiming a free one when the pair is new and admitted;
 * NULL when the table has no room for another pair. */
static bvt_anon_cell *anon_cell(bvt_anon *a, uint32_t key)
{
    int reserved = 0;
    for (uint32_t i = (key * 0x9E3779B1u) & (BVT_ANON_SLOTS - 1);; i = (i + 1) & (BVT_ANON_SLOTS - 1)) {
        bvt_anon_cell *c = &a->cells[i];
        uint32_t k = atomic_load_explicit(&c->key, memory_order_acquire);
        if (k == key) {
            if (reserved)
                atomic_fetch_sub_explicit(&a->pairs, 1, memory_order_relaxed);
            return c;
        }
        if (k != 0)
            continue;
        if (!reserved) { /* a new pair: admitted while fewer than BVT_ANON_PAIRS exist */
            if (atomic_fetch_add_explicit(&a->pairs, 1, memory_order_relaxed) >= BVT_ANON_PAIRS) {
                atomic_fetch_sub_explicit(&a->pairs, 1, memory_order_relaxed);
                return NULL;
            }
            reserved = 1;
        }
        uint32_t expect = 0;
        if (atomic_compare_exchange_strong_explicit(&c->key, &expect, key, memory_order_acq_rel,
                                                    memory_order_acquire))
            return c;
        if (expect == key) { /* another thread claimed it for the same pair */
            atomic_fetch_sub_explicit(&a->pairs, 1, memory_order_relaxed);
            return c;
        }
    }
}

int bvt__anon_restore(bvt_anon *a, uint32_t key, uint64_t count, double sum)
{
    for (uint32_t i = (key * 0x9E3779B1u) & (BVT_ANON_SLOTS - 1);; i = (i + 1) & (BVT_ANON_SLOTS - 1)) {
        bvt_anon_cell *c = &a->cells[i];
        uint32_t k = atomic_load_explicit(&c->key, memory_order_relaxed);
        if (k == key)
            return BVT_EEXIST;
        if (k != 0)
            continue;
        uint32_t pairs = atomic_load_explicit(&a->pairs, memory_order_relaxed);
        if (pairs >= BVT_ANON_PAIRS)
            return BVT_ELIMIT;
        atomic_store_explicit(&a->pairs, pairs + 1, memory_order_relaxed);
        atomic_store_explicit(&c->count, count, memory_order_relaxed);
        atomic_store_explicit(&c->sum, sum, memory_order_relaxed);
        atomic_store_explicit(&c->key, key, memory_order_release);
        return BVT_OK;
    }
}

static int count_anonymously(bvt_engine *e, const bvt_resolved_event *ev)
{
    uint32_t cat = ev->category ? ev->category : ev->n_search ? ev->search_cats[0] : 0;
    uint32_t top = top_level(e->cats, cat), key = (ev->type << 16 | top) + 1;
    bvt_anon *a = e->anon;
    bvt_anon_cell *c = anon_cell(a, key);
    /* the table names the category from now on: snapshots keep it */
    int rc = c && top ? bvt__categories_keep(e->cats, top) : BVT_OK;
    if (rc != BVT_OK)
        return rc;
    if (c) {
        atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
        bvt__atomic_add_double(&c->sum, ev->value);
    }
    atomic_fetch_add_explicit(&a->total_count, 1, memory_order_relaxed);
    bvt__atomic_add_double(&a->total_sum, ev->value);
    return BVT_OK;
}

int bvt__analytics_divert(bvt_engine *e, const bvt_resolved_event *ev)
{
    if (e->analytics_policy != BVT_ANALYTICS_ANONYMOUS || !e->anon)
        return BVT_ECONSENT;
    return count_anonymously(e, ev);
}

int bvt__analytics_ensure(bvt_engine *e)
{
    return e->anon ? BVT_OK : bvt__anon_new(&e->anon);
}

int bvt__analytics_count(bvt_engine *e, const bvt_resolved_event *ev)
{
    int rc = bvt__analytics_ensure(e);
    return rc == BVT_OK ? count_anonymously(e, ev) : rc;
}

int bvt_anonymous_counts(bvt_engine *e, uint32_t type, uint32_t category_id, uint64_t *out_count,
                         double *out_sum)
{
    if (out_count)
        *out_count = 0;
    if (out_sum)
        *out_sum = 0;
    if (!e || (type != BVT_ANY && !bvt__event_types_valid(&e->types, type)))
        return BVT_EINVAL;
    if (category_id != BVT_ANY && category_id != 0 &&
        (!bvt__categories_valid(e->cats, category_id) ||
         bvt__categories_parent(e->cats, category_id) != 0))
        return BVT_EINVAL;
    const bvt_anon *a = e->anon;
    if (!a)
        return BVT_OK;
    uint64_t n = 0;
    double sum = 0;
    if (type == BVT_ANY && category_id == BVT_ANY) {
        n = atomic_load_explicit(&((bvt_anon *)a)->total_count, memory_order_relaxed);
        sum = bvt__atomic_load_double(&a->total_sum);
    } else {
        for (uint32_t i = 0; i < BVT_ANON_SLOTS; i++) {
            const bvt_anon_cell *c = &a->cells[i];
            uint32_t k = atomic_load_explicit(&((bvt_anon_cell *)c)->key, memory_order_acquire);
            if (k == 0)
                continue;
            if ((type != BVT_ANY && (k - 1) >> 16 != type) ||
                (category_id != BVT_ANY && ((k - 1) & 0xFFFFu) != category_id))
                continue;
            n += atomic_load_explicit(&((bvt_anon_cell *)c)->count, memory_order_relaxed);
            sum += bvt__atomic_load_double(&c->sum);
        }
    }
    if (out_count)
        *out_count = n;
    if (out_sum)
        *out_sum = sum;
    return BVT_OK;
}

