/* cart.h — items added to the cart and not yet bought or removed.
 * Bounded by cfg->cart_max; runs under the shard lock. */
#ifndef BVT_CART_H
#define BVT_CART_H

#include "profile.h"

struct bvt_cart_entry {
    uint64_t item_hash; /* 0 = added without an item id */
    int64_t added_ms;
    double value;
    uint32_t quantity;
    uint32_t category;
};

/* Make room for one more item (allocation happens here, not in the update). */
int bvt__cart_reserve(bvt_ext *x, const bvt_profile_cfg *cfg, bvt_mem *m);

/* Give back room for items beyond cap (reserved for an event that was
 * then refused); the items held must fit. */
void bvt__cart_shrink(bvt_ext *x, bvt_mem *m, uint8_t cap);

/* Apply a cart-relevant event (add_to_cart, remove_from_cart, purchase). */
void bvt__cart_apply(bvt_ext *x, const bvt_profile_cfg *cfg, const bvt_resolved_event *ev);

void bvt__cart_release(bvt_ext *x, bvt_mem *m);

/* Retention: remove items added at or before cutoff_ms (their slots
 * zeroed) and forget a checkout time at or before it.  Returns the items
 * removed. */
uint32_t bvt__cart_expire(bvt_ext *x, int64_t cutoff_ms);

/* Totals for features. */
void bvt__cart_totals(const bvt_ext *x, uint32_t *items, double *value, int64_t *oldest);

/* Copy out, oldest first; returns how many were written. */
size_t bvt__cart_list(const bvt_ext *x, bvt_cart_item *out, size_t cap);

#endif
