/* test-cart.c — what a user has carted and not bought or removed, as the
 * caller reads it with bvt_profile_cart() and in bvt_profile.  Public API
 * only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "cart-test-secret-0123456789"
#include "testutil.h"

static void ev(bvt_engine *e, uint32_t type, int64_t t, const char *item, const char *cat,
               double value, uint32_t qty)
{
    bvt_event x = make_event("u", type, t, cat, value);
    x.item_id = item;
    x.quantity = qty;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &x, &err);
    ck_assert_msg(rc == BVT_OK, "track: %d %s", rc, err.message);
}

static void add(bvt_engine *e, int64_t t, const char *item, const char *cat, double value,
                uint32_t qty)
{
    ev(e, BVT_EVENT_ADD_TO_CART, t, item, cat, value, qty);
}

static uint64_t h(const char *item) { return bvt_item_hash(item, strlen(item)); }

struct cart {
    size_t n;
    bvt_cart_item it[64];
};

/* Read the cart and check that the profile summary agrees with it. */
static struct cart cart_of(bvt_engine *e)
{
    struct cart c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, c.it, 64, &c.n), BVT_OK);
    bvt_profile p = profile_of(e, "u", T0 + 100 * DAY);
    double value = 0;
    int64_t oldest = 0;
    for (size_t i = 0; i < c.n; i++) {
        value += c.it[i].value;
        if (!oldest || c.it[i].added_ms < oldest)
            oldest = c.it[i].added_ms;
        if (i)
            ck_assert_msg(c.it[i - 1].added_ms <= c.it[i].added_ms, "cart not oldest first");
    }
    ck_assert_msg(p.cart_items == c.n, "profile says %u items, cart has %zu", p.cart_items,
                  c.n);
    ck_assert_msg(fabs(p.cart_value - value) < 1e-9, "profile value %g, cart %g",
                  p.cart_value, value);
    ck_assert_int_eq(p.cart_oldest_ms, oldest);
    return c;
}

static const bvt_cart_item *find(const struct cart *c, const char *item)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->it[i].item_hash == h(item))
            return &c->it[i];
    return NULL;
}

static uint32_t cat_id(bvt_engine *e, const char *path)
{
    uint32_t id = 0;
    ck_assert_int_eq(bvt_category_lookup(e, path, &id), BVT_OK);
    return id;
}

/* sku1 (shoes/run, 10) at 1h, sku2 (shoes/trail, 2 x 2.5) at 2h, sku3 (hats, 7) at 3h. */
static bvt_engine *three_items(void)
{
    bvt_engine *e = engine_default();
    add(e, T0 + 1 * HOUR, "sku1", "shoes/run", 10, 1);
    add(e, T0 + 2 * HOUR, "sku2", "shoes/trail", 5, 2);
    add(e, T0 + 3 * HOUR, "sku3", "hats", 7, 0); /* quantity 0 reads as 1 */
    return e;
}

START_TEST(adds_are_listed_oldest_first)
{
    bvt_engine *e = three_items();
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.it[0].item_hash, h("sku1"));
    ck_assert_uint_eq(c.it[0].category_id, cat_id(e, "shoes/run"));
    ck_assert_uint_eq(c.it[0].quantity, 1);
    ck_assert(c.it[0].value == 10);
    ck_assert_int_eq(c.it[0].added_ms, T0 + 1 * HOUR);
    ck_assert_uint_eq(c.it[1].item_hash, h("sku2"));
    ck_assert_uint_eq(c.it[1].quantity, 2);
    ck_assert(c.it[1].value == 5); /* the event's value is its total */
    ck_assert_uint_eq(c.it[2].item_hash, h("sku3"));
    ck_assert_uint_eq(c.it[2].category_id, cat_id(e, "hats"));
    ck_assert_uint_eq(c.it[2].quantity, 1);

    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_uint_eq(p.cart_items, 3);
    ck_assert(fabs(p.cart_value - 22) < 1e-9);
    ck_assert_int_eq(p.cart_oldest_ms, T0 + 1 * HOUR);
    bvt_engine_free(e);
}
END_TEST

START_TEST(same_item_adds_up)
{
    bvt_engine *e = three_items();
    add(e, T0 + 4 * HOUR, "sku1", "shoes/run", 12, 3);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 3);
    const bvt_cart_item *it = find(&c, "sku1");
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(it->quantity, 4);
    ck_assert(fabs(it->value - 22) < 1e-9);
    ck_assert_int_eq(it->added_ms, T0 + 4 * HOUR);
    /* sku1 was re-added last, so sku2 is now the oldest. */
    ck_assert_uint_eq(c.it[0].item_hash, h("sku2"));
    ck_assert_uint_eq(c.it[2].item_hash, h("sku1"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(late_add_takes_its_place)
{
    bvt_engine *e = three_items();
    add(e, T0 + 30 * MIN, "early", "hats", 1, 1); /* before sku1 */
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_uint_eq(c.it[0].item_hash, h("early"));
    ck_assert_int_eq(c.it[0].added_ms, T0 + 30 * MIN);
    bvt_engine_free(e);
}
END_TEST

START_TEST(remove_item)
{
    bvt_engine *e = three_items();
    ev(e, BVT_EVENT_REMOVE_FROM_CART, T0 + 4 * HOUR, "sku2", NULL, 0, 0);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_null(find(&c, "sku2"));
    ck_assert_ptr_nonnull(find(&c, "sku1"));
    ck_assert_ptr_nonnull(find(&c, "sku3"));
    /* Removing something not in the cart changes nothing. */
    ev(e, BVT_EVENT_REMOVE_FROM_CART, T0 + 5 * HOUR, "never-added", NULL, 0, 0);
    ck_assert_uint_eq(cart_of(e).n, 2);
    bvt_engine_free(e);
}
END_TEST

START_TEST(remove_by_category)
{
    bvt_engine *e = three_items();
    add(e, T0 + 4 * HOUR, "sku4", "shoes/run", 3, 1);
    ev(e, BVT_EVENT_REMOVE_FROM_CART, T0 + 5 * HOUR, NULL, "shoes/run", 0, 0);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_null(find(&c, "sku1"));
    ck_assert_ptr_null(find(&c, "sku4"));
    ck_assert_ptr_nonnull(find(&c, "sku2"));
    ck_assert_ptr_nonnull(find(&c, "sku3"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(purchase_of_item_removes_it)
{
    bvt_engine *e = three_items();
    ev(e, BVT_EVENT_PURCHASE, T0 + 4 * HOUR, "sku3", "hats", 7, 1);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_ptr_null(find(&c, "sku3"));
    /* Buying something that was never carted leaves the cart alone. */
    ev(e, BVT_EVENT_PURCHASE, T0 + 5 * HOUR, "other", NULL, 9, 1);
    ck_assert_uint_eq(cart_of(e).n, 2);
    bvt_engine_free(e);
}
END_TEST

START_TEST(checkout_empties_cart)
{
    bvt_engine *e = three_items();
    const int64_t checkout = T0 + 5 * HOUR;
    ev(e, BVT_EVENT_PURCHASE, checkout, NULL, NULL, 22, 0);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 0);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_uint_eq(p.cart_items, 0);
    ck_assert(p.cart_value == 0);
    ck_assert_int_eq(p.cart_oldest_ms, 0);

    /* An add older than the checkout, tracked late, was part of it. */
    add(e, checkout - HOUR, "late", "hats", 4, 1);
    ck_assert_uint_eq(cart_of(e).n, 0);
    /* A newer add starts a new cart. */
    add(e, checkout + HOUR, "next", "hats", 6, 1);
    c = cart_of(e);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(c.it[0].item_hash, h("next"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(full_cart_drops_oldest)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.cart_items = 3;
    bvt_engine *e = engine_with(&o);
    char item[16];
    for (int i = 0; i < 5; i++) {
        snprintf(item, sizeof item, "sku%d", i);
        add(e, T0 + i * HOUR, item, "c", 1 + i, 1);
    }
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.it[0].item_hash, h("sku2"));
    ck_assert_uint_eq(c.it[1].item_hash, h("sku3"));
    ck_assert_uint_eq(c.it[2].item_hash, h("sku4"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(default_cart_holds_32)
{
    bvt_engine *e = engine_default();
    char item[16];
    for (int i = 0; i < 40; i++) {
        snprintf(item, sizeof item, "sku%d", i);
        add(e, T0 + i * MIN, item, NULL, 1, 1);
    }
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 32);
    for (int i = 0; i < 32; i++) {
        snprintf(item, sizeof item, "sku%d", i + 8);
        ck_assert_uint_eq(c.it[i].item_hash, h(item));
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(cart_without_item_id)
{
    bvt_engine *e = engine_default();
    add(e, T0, NULL, "books", 9, 1);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 1);
    ck_assert_uint_eq(c.it[0].item_hash, 0);
    ck_assert_uint_eq(c.it[0].category_id, cat_id(e, "books"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(cart_output_capacity)
{
    bvt_engine *e = three_items();
    bvt_cart_item one;
    size_t n = 99;
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, &one, 1, &n), BVT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(one.item_hash, h("sku1")); /* the oldest */
    n = 99;
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(cart_of_user_without_cart)
{
    bvt_engine *e = engine_default();
    ev(e, BVT_EVENT_PAGE_VIEW, T0, NULL, NULL, 0, 0);
    struct cart c = cart_of(e);
    ck_assert_uint_eq(c.n, 0);
    bvt_cart_item it[2];
    size_t n;
    ck_assert_int_eq(bvt_profile_cart(e, "nobody", 6, it, 2, &n), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_profile_cart(NULL, "u", 1, it, 2, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_cart(e, NULL, 1, it, 2, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_cart(e, "u", 0, it, 2, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, NULL, 2, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, it, 2, NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

static Suite *cart_suite(void)
{
    Suite *s = suite_create("cart");
    TCase *tc = tcase_create("cart");
    tcase_add_test(tc, adds_are_listed_oldest_first);
    tcase_add_test(tc, same_item_adds_up);
    tcase_add_test(tc, late_add_takes_its_place);
    tcase_add_test(tc, remove_item);
    tcase_add_test(tc, remove_by_category);
    tcase_add_test(tc, purchase_of_item_removes_it);
    tcase_add_test(tc, checkout_empties_cart);
    tcase_add_test(tc, full_cart_drops_oldest);
    tcase_add_test(tc, default_cart_holds_32);
    tcase_add_test(tc, cart_without_item_id);
    tcase_add_test(tc, cart_output_capacity);
    tcase_add_test(tc, cart_of_user_without_cart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(cart_suite()); }
