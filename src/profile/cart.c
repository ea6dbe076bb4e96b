/* cart.c — the cart: adds accumulate per item, removals and purchases
 * clear what was added no later than they happened, so late events land
 * where they belong in time. */
#include <string.h>

#include "cart.h"
#include "category.h"

int bvt__cart_reserve(bvt_ext *x, const bvt_profile_cfg *cfg, bvt_mem *m)
{
    if (x->cart_len < x->cart_cap || x->cart_cap >= cfg->cart_max)
        return BVT_OK; /* room, or full and the oldest will make room */
    void *p = x->cart;
    int rc = bvt__mem_grow_small(m, BVT_MEM_CART, &p, &x->cart_cap, cfg->cart_max,
                                sizeof *x->cart);
    x->cart = p;
    return rc == BVT_OK || x->cart_len ? BVT_OK : rc; /* a full cart drops its oldest */
}

void bvt__cart_shrink(bvt_ext *x, bvt_mem *m, uint8_t cap)
{
    if (x->cart_cap <= cap || x->cart_len > cap)
        return;
    void *p = x->cart;
    if (bvt__mem_resize(m, BVT_MEM_CART, &p, x->cart_cap * sizeof *x->cart,
                       cap * sizeof *x->cart) == BVT_OK) {
        x->cart = p;
        x->cart_cap = cap;
    }
}

static void remove_at(bvt_ext *x, uint32_t i)
{
    memmove(&x->cart[i], &x->cart[i + 1], (x->cart_len - i - 1) * sizeof *x->cart);
    x->cart_len--;
}

/* Remove entries added no later than t that match. */
static void remove_matching(bvt_ext *x, const bvt_profile_cfg *cfg, uint64_t item,
                            uint32_t category, int64_t t)
{
    for (uint32_t i = x->cart_len; i-- > 0;) {
        const bvt_cart_entry *e = &x->cart[i];
        int match = item ? e->item_hash == item
                         : (category == 0 || bvt__categories_within(cfg->cats, e->category, category));
        if (match && e->added_ms <= t)
            remove_at(x, i);
    }
}

static void add(bvt_ext *x, const bvt_resolved_event *ev)
{
    if (ev->t_ms < x->last_checkout_ms)
        return; /* bought in a checkout tracked earlier */
    uint32_t oldest = 0;
    for (uint32_t i = 0; i < x->cart_len; i++) {
        bvt_cart_entry *e = &x->cart[i];
        if (e->item_hash == ev->item_hash && e->category == ev->category) {
            e->quantity += ev->quantity;
            e->value += ev->value;
            if (ev->t_ms > e->added_ms)
                e->added_ms = ev->t_ms;
            return;
        }
        if (e->added_ms < x->cart[oldest].added_ms)
            oldest = i;
    }
    if (x->cart_cap == 0)
        return; /* carts disabled */
    if (x->cart_len == x->cart_cap)
        remove_at(x, oldest);
    x->cart[x->cart_len++] = (bvt_cart_entry){ ev->item_hash, ev->t_ms, ev->value,
                                              ev->quantity, ev->category };
}

void bvt__cart_apply(bvt_ext *x, const bvt_profile_cfg *cfg, const bvt_resolved_event *ev)
{
    switch (ev->type) {
    case BVT_EVENT_ADD_TO_CART:
        add(x, ev);
        break;
    case BVT_EVENT_REMOVE_FROM_CART:
        remove_matching(x, cfg, ev->item_hash, ev->item_hash ? 0 : ev->category, ev->t_ms);
        break;
    case BVT_EVENT_PURCHASE:
        if (!ev->item_hash && ev->t_ms > x->last_checkout_ms)
            x->last_checkout_ms = ev->t_ms;
        remove_matching(x, cfg, ev->item_hash, 0, ev->t_ms);
        break;
    default:
        break;
    }
}

uint32_t bvt__cart_expire(bvt_ext *x, int64_t cutoff_ms)
{
    uint32_t removed = 0;
    for (uint32_t i = x->cart_len; i-- > 0;)
        if (x->cart[i].added_ms <= cutoff_ms) {
            remove_at(x, i);
            memset(&x->cart[x->cart_len], 0, sizeof x->cart[0]);
            removed++;
        }
    if (x->last_checkout_ms <= cutoff_ms)
        x->last_checkout_ms = 0;
    return removed;
}

void bvt__cart_release(bvt_ext *x, bvt_mem *m)
{
    void *p = x->cart;
    bvt__mem_resize(m, BVT_MEM_CART, &p, x->cart_cap * sizeof *x->cart, 0);
    x->cart = NULL;
    x->cart_len = x->cart_cap = 0;
}

void bvt__cart_totals(const bvt_ext *x, uint32_t *items, double *value, int64_t *oldest)
{
    *items = 0;
    *value = 0;
    *oldest = 0;
    if (!x)
        return;
    for (uint32_t i = 0; i < x->cart_len; i++) {
        *items += 1;
        *value += x->cart[i].value;
        if (*oldest == 0 || x->cart[i].added_ms < *oldest)
            *oldest = x->cart[i].added_ms;
    }
}

size_t bvt__cart_list(const bvt_ext *x, bvt_cart_item *out, size_t cap)
{
    if (!x)
        return 0;
    /* Entries are kept in insertion order; report them oldest first by time. */
    bvt_cart_item sorted[256];
    size_t n = 0;
    for (uint32_t i = 0; i < x->cart_len; i++) {
        const bvt_cart_entry *e = &x->cart[i];
        size_t j = n++;
        while (j > 0 && sorted[j - 1].added_ms > e->added_ms) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = (bvt_cart_item){ e->item_hash, e->category, e->quantity, e->value,
                                     e->added_ms };
    }
    if (n > cap)
        n = cap;
    if (n)
        memcpy(out, sorted, n * sizeof *out);
    return n;
}
