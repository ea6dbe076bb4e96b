/* mem.c — accounted allocation for per-user memory. */
#include <stdlib.h>

#include "behavtarget.h"
#include "mem.h"

int bvt_mem_resize(bvt_mem *m, int kind, void **p, size_t old_size, size_t new_size)
{
    if (new_size == 0) {
        free(*p);
        *p = NULL;
        m->bytes[kind] -= old_size;
        return BVT_OK;
    }
    if (new_size > old_size && m->limit &&
        bvt_mem_total(m) + (new_size - old_size) > m->limit)
        return BVT_EFULL;
    void *q = realloc(*p, new_size);
    if (!q)
        return BVT_ENOMEM;
    *p = q;
    m->bytes[kind] += new_size;
    m->bytes[kind] -= old_size;
    return BVT_OK;
}

int bvt_mem_grow_small(bvt_mem *m, int kind, void **p, uint8_t *cap, uint32_t max, size_t elem)
{
    uint32_t want = *cap ? *cap * 2u : 2u;
    if (want > max)
        want = max;
    int rc = bvt_mem_resize(m, kind, p, *cap * elem, want * elem);
    if (rc == BVT_OK)
        *cap = (uint8_t)want;
    return rc;
}

uint64_t bvt_mem_total(const bvt_mem *m)
{
    uint64_t t = 0;
    for (int k = 0; k < BVT_MEM_KINDS; k++)
        t += m->bytes[k];
    return t;
}
