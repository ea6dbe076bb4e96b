/* mem.c — accounted allocation for per-user memory. */
#include <stdlib.h>

#include "behavtarget.h"
#include "mem.h"

/* A table that grows makes room for a new user, which replay always
 * admits (the journal holds what a full table refused or evicted); the
 * rest is what the change did with the room it had. */
static int refuse(const bvt_mem *m, int kind, size_t growth)
{
    if (m->scripted && kind != BVT_MEM_TABLE)
        return (int64_t)(bvt__mem_total(m) - m->begun_at) + (int64_t)growth > m->room;
    return m->limit && bvt__mem_total(m) + growth > m->limit;
}

void bvt__mem_begin(bvt_mem *m)
{
    m->begun_at = bvt__mem_total(m);
    m->refused = 0;
}

int64_t bvt__mem_room(const bvt_mem *m)
{
    return (int64_t)m->limit - (int64_t)m->begun_at;
}

void bvt__mem_script(bvt_mem *m, int64_t room)
{
    m->scripted = 1;
    m->room = room;
}

void bvt__mem_unscript(bvt_mem *m)
{
    m->scripted = 0;
}

int bvt__mem_resize(bvt_mem *m, int kind, void **p, size_t old_size, size_t new_size)
{
    if (new_size == 0) {
        free(*p);
        *p = NULL;
        m->bytes[kind] -= old_size;
        return BVT_OK;
    }
    if (new_size > old_size && refuse(m, kind, new_size - old_size)) {
        m->refused = 1;
        return BVT_EFULL;
    }
    void *q = realloc(*p, new_size);
    if (!q)
        return BVT_ENOMEM;
    *p = q;
    m->bytes[kind] += new_size;
    m->bytes[kind] -= old_size;
    return BVT_OK;
}

int bvt__mem_grow_small(bvt_mem *m, int kind, void **p, uint8_t *cap, uint32_t max, size_t elem)
{
    uint32_t want = *cap ? *cap * 2u : 2u;
    if (want > max)
        want = max;
    int rc = bvt__mem_resize(m, kind, p, *cap * elem, want * elem);
    if (rc == BVT_OK)
        *cap = (uint8_t)want;
    return rc;
}

uint64_t bvt__mem_total(const bvt_mem *m)
{
    uint64_t t = 0;
    for (int k = 0; k < BVT_MEM_KINDS; k++)
        t += m->bytes[k];
    return t;
}
