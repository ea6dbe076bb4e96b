/* attrs.c — a small unsorted array per profile: attributes are few. */
#include <string.h>

#include "attrs.h"

static bvt_attr_entry *find(const bvt_ext *x, uint32_t key)
{
    for (uint32_t i = 0; i < x->attrs_len; i++)
        if (x->attrs[i].key == key)
            return &x->attrs[i];
    return NULL;
}

int bvt__attrs_set(bvt_ext *x, const bvt_profile_cfg *cfg, bvt_mem *m, uint32_t key,
                  int kind, double number, uint32_t string)
{
    bvt_attr_entry *e = find(x, key);
    if (!e) {
        if (x->attrs_len >= cfg->attrs_max)
            return BVT_ELIMIT;
        if (x->attrs_len == x->attrs_cap) {
            void *p = x->attrs;
            int rc = bvt__mem_grow_small(m, BVT_MEM_ATTRS, &p, &x->attrs_cap, cfg->attrs_max,
                                        sizeof *x->attrs);
            x->attrs = p;
            if (rc != BVT_OK)
                return rc;
        }
        e = &x->attrs[x->attrs_len++];
        e->key = key;
    }
    e->kind = (uint32_t)kind;
    if (kind == BVT_ATTR_NUMBER)
        e->v.number = number;
    else
        e->v.string = string;
    return BVT_OK;
}

const bvt_attr_entry *bvt__attrs_get(const bvt_ext *x, uint32_t key)
{
    return x ? find(x, key) : NULL;
}

int bvt__attrs_unset(bvt_ext *x, uint32_t key)
{
    bvt_attr_entry *e = x ? find(x, key) : NULL;
    if (!e)
        return BVT_ENOTFOUND;
    *e = x->attrs[--x->attrs_len];
    return BVT_OK;
}

void bvt__attrs_release(bvt_ext *x, bvt_mem *m)
{
    void *p = x->attrs;
    bvt__mem_resize(m, BVT_MEM_ATTRS, &p, x->attrs_cap * sizeof *x->attrs, 0);
    x->attrs = NULL;
    x->attrs_len = x->attrs_cap = 0;
}
