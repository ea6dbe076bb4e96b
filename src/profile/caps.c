/* caps.c — per-user frequency-cap state (see caps.h). */
#include <string.h>

#include "caps.h"

static size_t entry_size(uint32_t cap)
{
    return sizeof(bvt_cap_entry) + cap * sizeof(int64_t);
}

static int find_index(const bvt_ext *x, uint32_t key)
{
    for (uint32_t i = 0; x && i < x->caps_len; i++)
        if (x->caps[i]->key == key)
            return (int)i;
    return -1;
}

const bvt_cap_entry *bvt__caps_find(const bvt_ext *x, uint32_t key)
{
    int i = find_index(x, key);
    return i < 0 ? NULL : x->caps[i];
}

static int64_t last_activity(const bvt_cap_entry *e)
{
    int64_t t = e->len ? e->times[e->len - 1] : 0;
    return t > e->dismissed_ms ? t : e->dismissed_ms;
}

static void drop_entry(bvt_ext *x, bvt_mem *m, uint32_t i)
{
    void *p = x->caps[i];
    bvt__mem_resize(m, BVT_MEM_ATTRS, &p, entry_size(x->caps[i]->cap), 0);
    x->caps[i] = x->caps[--x->caps_len];
}

int bvt__caps_reserve(bvt_ext *x, bvt_mem *m, uint32_t key, uint32_t depth, uint32_t keep)
{
    int i = find_index(x, key);
    if (i >= 0 && x->caps[i]->cap >= depth)
        return BVT_OK;
    if (i >= 0) { /* the offer's caps grew: widen, keeping the times */
        void *p = x->caps[i];
        int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, entry_size(x->caps[i]->cap),
                                entry_size(depth));
        if (rc == BVT_OK) {
            x->caps[i] = p;
            x->caps[i]->cap = (uint8_t)depth;
        }
        return rc;
    }
    /* the entry first: when the array cannot grow it is given back, so a
     * refusal leaves nothing grown */
    void *p = NULL;
    int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, 0, entry_size(depth));
    if (rc != BVT_OK)
        return rc;
    if (x->caps_len == x->caps_cap && x->caps_cap < BVT_USER_CAP_ENTRIES) {
        rc = bvt__mem_grow_small(m, BVT_MEM_ATTRS, (void **)&x->caps, &x->caps_cap,
                                BVT_USER_CAP_ENTRIES, sizeof *x->caps);
        if (rc != BVT_OK) {
            bvt__mem_resize(m, BVT_MEM_ATTRS, &p, entry_size(depth), 0);
            return rc;
        }
    }
    if (x->caps_len == BVT_USER_CAP_ENTRIES) { /* bounded: the entry idle longest goes */
        uint32_t idle = x->caps[0]->key == keep;
        for (uint32_t j = idle + 1; j < x->caps_len; j++)
            if (x->caps[j]->key != keep && last_activity(x->caps[j]) < last_activity(x->caps[idle]))
                idle = j;
        drop_entry(x, m, idle);
    }
    bvt_cap_entry *e = p;
    memset(e, 0, sizeof *e);
    e->key = key;
    e->cap = (uint8_t)depth;
    x->caps[x->caps_len++] = e;
    return BVT_OK;
}

void bvt__caps_mark_take(const bvt_ext *x, bvt_caps_mark *mk)
{
    mk->len = x ? x->caps_len : 0;
    mk->cap = x ? x->caps_cap : 0;
    for (uint32_t i = 0; i < mk->len; i++) {
        mk->depth[i] = x->caps[i]->cap;
        mk->key[i] = x->caps[i]->key;
    }
}

void bvt__caps_undo(bvt_ext *x, bvt_mem *m, const bvt_caps_mark *mk)
{
    if (!x)
        return;
    while (x->caps_len > mk->len) /* appended last, and empty */
        drop_entry(x, m, x->caps_len - 1u);
    /* a full table made room in place: the new entry is the one mk lacks */
    for (uint32_t i = x->caps_len; i-- > 0;) {
        const bvt_cap_entry *e = x->caps[i];
        int known = 0;
        for (uint32_t j = 0; j < mk->len && !known; j++)
            known = mk->key[j] == e->key;
        if (!known && e->len == 0 && e->dismissed_ms == 0)
            drop_entry(x, m, i);
    }
    for (uint32_t i = 0; i < x->caps_len && i < mk->len; i++) {
        bvt_cap_entry *e = x->caps[i];
        if (e->key != mk->key[i] || e->cap <= mk->depth[i] || e->len > mk->depth[i])
            continue;
        void *p = e;
        if (bvt__mem_resize(m, BVT_MEM_ATTRS, &p, entry_size(e->cap), entry_size(mk->depth[i])) ==
            BVT_OK) {
            x->caps[i] = p;
            x->caps[i]->cap = mk->depth[i];
        }
    }
    if (x->caps_cap > mk->cap && x->caps_len <= mk->cap) {
        void *p = x->caps;
        if (bvt__mem_resize(m, BVT_MEM_ATTRS, &p, x->caps_cap * sizeof *x->caps,
                           mk->cap * sizeof *x->caps) == BVT_OK) {
            x->caps = p;
            x->caps_cap = mk->cap;
        }
    }
}

void bvt__caps_impression(bvt_ext *x, uint32_t key, int64_t t, uint32_t mask)
{
    int i = find_index(x, key);
    if (i < 0)
        return;
    bvt_cap_entry *e = x->caps[i];
    uint32_t n = e->len;
    if (n == e->cap) {
        if (t <= e->times[0])
            return; /* older than every time held: no cap can need it */
        memmove(e->times, e->times + 1, --n * sizeof *e->times);
    }
    uint32_t at = n;
    while (at > 0 && e->times[at - 1] > t)
        at--;
    memmove(e->times + at + 1, e->times + at, (n - at) * sizeof *e->times);
    e->times[at] = t;
    e->len = (uint8_t)(n + 1);
    if (at == n) /* the latest impression decides where a click is credited */
        e->mask = (uint16_t)mask;
}

void bvt__caps_dismiss(bvt_ext *x, uint32_t key, int64_t t)
{
    int i = find_index(x, key);
    if (i >= 0 && t > x->caps[i]->dismissed_ms)
        x->caps[i]->dismissed_ms = t;
}

int bvt__caps_reached(const bvt_cap_entry *e, const bvt_cap *caps, uint32_t n, int64_t now)
{
    if (!e)
        return 0;
    /* times[lo..hi) are those at or before now, ascending */
    uint32_t hi = e->len;
    while (hi > 0 && e->times[hi - 1] > now)
        hi--;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t max = caps[c].max;
        /* reached when the max-th latest impression is inside the window */
        if (hi >= max && e->times[hi - max] > now - caps[c].window_ms)
            return 1;
    }
    return 0;
}

uint32_t bvt__caps_expire(bvt_ext *x, bvt_mem *m, int64_t cutoff_ms)
{
    uint32_t removed = 0;
    for (uint32_t i = x->caps_len; i-- > 0;) {
        bvt_cap_entry *e = x->caps[i];
        uint32_t old = 0;
        while (old < e->len && e->times[old] <= cutoff_ms)
            old++;
        memmove(e->times, e->times + old, (e->len - old) * sizeof *e->times);
        memset(e->times + (e->len - old), 0, old * sizeof *e->times);
        e->len = (uint8_t)(e->len - old);
        if (e->dismissed_ms <= cutoff_ms)
            e->dismissed_ms = 0;
        if (e->len == 0 && e->dismissed_ms == 0) {
            drop_entry(x, m, i);
            removed++;
        }
    }
    return removed;
}

int bvt__caps_read(const bvt_ext *x, uint32_t i, uint32_t *key, const int64_t **times,
                  uint32_t *n_times, int64_t *dismissed_ms)
{
    if (!x || i >= x->caps_len)
        return 0;
    const bvt_cap_entry *e = x->caps[i];
    *key = e->key;
    *times = e->times;
    *n_times = e->len;
    *dismissed_ms = e->dismissed_ms;
    return 1;
}

void bvt__caps_release(bvt_ext *x, bvt_mem *m)
{
    while (x->caps_len)
        drop_entry(x, m, x->caps_len - 1);
    void *p = x->caps;
    bvt__mem_resize(m, BVT_MEM_ATTRS, &p, x->caps_cap * sizeof *x->caps, 0);
    x->caps = NULL;
    x->caps_cap = 0;
}

void bvt__caps_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m)
{
    for (uint32_t i = 0; i < src->caps_len; i++) {
        const bvt_cap_entry *s = src->caps[i];
        if (bvt__caps_reserve(dst, m, s->key, s->cap, 0) != BVT_OK)
            continue; /* best effort under the budget, as carts and attributes */
        for (uint32_t j = 0; j < s->len; j++)
            bvt__caps_impression(dst, s->key, s->times[j], s->mask);
        if (s->dismissed_ms)
            bvt__caps_dismiss(dst, s->key, s->dismissed_ms);
    }
    bvt__caps_release(src, m);
}

size_t bvt__caps_bytes(const bvt_ext *x)
{
    size_t n = x->caps_cap * sizeof *x->caps;
    for (uint32_t i = 0; i < x->caps_len; i++)
        n += entry_size(x->caps[i]->cap);
    return n;
}
