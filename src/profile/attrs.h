/* attrs.h — caller-set attributes of a profile (demographic, psychographic).
 * Keys and string values are interned engine-wide; a profile holds at most
 * cfg->attrs_max entries.  Runs under the shard lock. */
#ifndef BVT_ATTRS_H
#define BVT_ATTRS_H

#include "profile.h"

struct bvt_attr_entry {
    uint32_t key;  /* interned key id */
    uint32_t kind; /* enum bvt_attr_kind */
    union {
        double number;
        uint32_t string; /* interned value id */
    } v;
};

/* Set key to (kind, value).  BVT_OK; BVT_ELIMIT (a new key beyond attrs_max);
 * BVT_EFULL / BVT_ENOMEM. */
int bvt__attrs_set(bvt_ext *x, const bvt_profile_cfg *cfg, bvt_mem *m, uint32_t key,
                  int kind, double number, uint32_t string);

/* Entry for key, or NULL. */
const bvt_attr_entry *bvt__attrs_get(const bvt_ext *x, uint32_t key);

/* BVT_OK or BVT_ENOTFOUND. */
int bvt__attrs_unset(bvt_ext *x, uint32_t key);

void bvt__attrs_release(bvt_ext *x, bvt_mem *m);

#endif
