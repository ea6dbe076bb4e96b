/* Segment registry through the public API: defining, replacing, removing,
 * cycles, evaluation for one user with a context, audiences, and
 * definitions changing while other threads evaluate. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "segment-suite-secret-key"
#include "testutil.h"

static uint32_t define_ok(bvt_engine *e, const char *name, const char *rule)
{
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_segment_define(e, name, rule, &id, &err);
    ck_assert_msg(rc == BVT_OK, "%s: %s: %d %s", name, rule, rc, err.message);
    ck_assert_uint_gt(id, 0);
    return id;
}

/* Is `user` in segment `name` at now (no context)? */
static int in(bvt_engine *e, const char *user, const char *name, int64_t now,
              const bvt_context *ctx)
{
    uint32_t want, ids[64];
    size_t n;
    ck_assert_int_eq(bvt_segment_lookup(e, name, &want), BVT_OK);
    ck_assert_int_eq(bvt_segments_of(e, user, strlen(user), now, ctx, ids, 64, &n), BVT_OK);
    for (size_t i = 0; i < n && i < 64; i++)
        if (ids[i] == want)
            return 1;
    return 0;
}

START_TEST(define_replace_remove_list)
{
    bvt_engine *e = engine_default();
    size_t builtin;
    ck_assert_int_eq(bvt_segment_list(e, NULL, 0, &builtin), BVT_OK);
    uint32_t a = define_ok(e, "buyers", "purchases > 0");
    uint32_t b = define_ok(e, "browsers", "page_views >= 3");
    ck_assert_uint_ne(a, b);
    ck_assert_str_eq(bvt_segment_name(e, a), "buyers");
    /* Replacing keeps the id and the place in the list. */
    ck_assert_uint_eq(define_ok(e, "buyers", "purchases >= 2"), a);
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t n;
    ck_assert_int_eq(bvt_segment_list(e, ids, BVT_SEGMENTS_MAX, &n), BVT_OK);
    ck_assert_uint_eq(n, builtin + 2);
    ck_assert_uint_eq(ids[builtin], a);
    ck_assert_uint_eq(ids[builtin + 1], b);
    ck_assert_int_eq(bvt_segment_remove(e, "buyers", NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_remove(e, "buyers", NULL), BVT_ENOTFOUND);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "buyers", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_list(e, ids, BVT_SEGMENTS_MAX, &n), BVT_OK);
    ck_assert_uint_eq(n, builtin + 1);
    /* A name keeps its id if defined again. */
    ck_assert_uint_eq(define_ok(e, "buyers", "purchases > 0"), a);
    bvt_engine_free(e);
}
END_TEST

START_TEST(define_errors_change_nothing)
{
    bvt_engine *e = engine_default();
    define_ok(e, "keep", "page_views > 0");
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "keep", "page_views >", NULL, &err), BVT_ESYNTAX);
    ck_assert_int_ge(err.offset, 0);
    ck_assert_int_eq(bvt_segment_define(e, "", "page_views > 0", NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(bvt_segment_define(e, "x", NULL, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(bvt_segment_define(e, "x", "in_segment(\"nope\")", NULL, &err),
                     BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_define(e, "x", "count(page_view, *, 500d) > 0", NULL, &err),
                     BVT_ERANGE);
    /* "keep" still holds its old rule. */
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert(in(e, "u", "keep", T0 + 1, NULL));
    bvt_engine_free(e);
}
END_TEST

/* Segment names and rule text are kept and exported (OpenRTB, the data
 * subject export): they must be UTF-8, and the error points at the first
 * bad byte of the name or the rule. */
START_TEST(names_and_rules_must_be_utf8)
{
    bvt_engine *e = engine_default();
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "Fans \xf0\x9f\x98", "page_views > 0", NULL, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(err.offset, 5);
    ck_assert_msg(strstr(err.message, "segment name") && strstr(err.message, "UTF-8"), "%s",
                  err.message);
    ck_assert_int_eq(bvt_segment_define(e, "Fans", "attr.team == \"M\xfcnchen\"", NULL, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(err.offset, 15);
    ck_assert_msg(strstr(err.message, "rule"), "%s", err.message);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "Fans", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_define(e, "Fans \xf0\x9f\x98\x80",
                                        "attr.team == \"M\xc3\xbcnchen\"", NULL, &err),
                     BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(cycles_refused_and_references_protected)
{
    bvt_engine *e = engine_default();
    define_ok(e, "a", "page_views > 0");
    define_ok(e, "b", "in_segment(\"a\") and purchases > 0");
    define_ok(e, "c", "in_segment(\"b\")");
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "a", "in_segment(\"c\")", NULL, &err), BVT_ECYCLE);
    ck_assert_int_eq(bvt_segment_define(e, "c", "in_segment(\"c\")", NULL, &err), BVT_ECYCLE);
    ck_assert_int_eq(bvt_segment_remove(e, "a", &err), BVT_EEXIST);
    ck_assert_ptr_nonnull(strstr(err.message, "'b'"));
    /* After the cycle attempts, the old definitions still answer. */
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + 1, NULL, 5);
    ck_assert(in(e, "u", "c", T0 + 2, NULL));
    ck_assert_int_eq(bvt_segment_remove(e, "c", NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_remove(e, "b", NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_remove(e, "a", NULL), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

/* Windows slide: an event leaves a 7d window exactly 7 days later. */
START_TEST(window_slides_exactly)
{
    bvt_engine *e = engine_default();
    define_ok(e, "mattress_lookers",
              "count(page_view, \"home/bedroom/mattresses\", 7d) >= 2 and "
              "not did(purchase, \"home/bedroom\", 7d)");
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "home/bedroom/mattresses", 0);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + HOUR, "home/bedroom/mattresses", 0);
    ck_assert(in(e, "u", "mattress_lookers", T0 + HOUR, NULL));
    ck_assert(in(e, "u", "mattress_lookers", T0 + 7 * DAY - 1, NULL));
    ck_assert(!in(e, "u", "mattress_lookers", T0 + 7 * DAY, NULL)); /* first view left */
    /* A purchase in the parent category takes the user out. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 + 2 * HOUR, "home/bedroom/mattresses", 300);
    ck_assert(!in(e, "u", "mattress_lookers", T0 + 3 * HOUR, NULL));
    bvt_engine_free(e);
}
END_TEST

START_TEST(retargeting_cart_abandoners)
{
    bvt_engine *e = engine_default();
    define_ok(e, "abandoners", "carted_not_bought(24h)");
    define_ok(e, "tv_lookers", "viewed_not_bought(\"electronics/tv\", 3d)");
    bvt_event ev = make_event("u", BVT_EVENT_ADD_TO_CART, T0, "electronics/tv", 499);
    ev.item_id = "tv-55";
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 - HOUR, "electronics/tv", 0);
    ck_assert(in(e, "u", "abandoners", T0 + HOUR, NULL));
    ck_assert(in(e, "u", "tv_lookers", T0 + HOUR, NULL));
    ck_assert(!in(e, "u", "abandoners", T0 + DAY, NULL)); /* added 24h ago: out */
    /* The purchase after the cart removes the user from both. */
    ev = make_event("u", BVT_EVENT_PURCHASE, T0 + 2 * HOUR, "electronics/tv", 499);
    ev.item_id = "tv-55";
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ck_assert(!in(e, "u", "abandoners", T0 + 3 * HOUR, NULL));
    ck_assert(!in(e, "u", "tv_lookers", T0 + 3 * HOUR, NULL));
    bvt_engine_free(e);
}
END_TEST

START_TEST(context_and_attributes)
{
    bvt_engine *e = engine_default();
    define_ok(e, "mobile_sports_tonight",
              "ctx.device == \"mobile\" and ctx.page_category == \"sports\" and "
              "ctx.hour >= 18");
    define_ok(e, "young_earners", "attr.age_band == \"25-34\" and attr.income >= 50000");
    define_ok(e, "campaign", "ctx.campaign == \"spring\"");
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_context c = BVT_CONTEXT_INIT;
    c.device = "mobile";
    c.page_category = "sports";
    c.hour = 20;
    ck_assert(in(e, "u", "mobile_sports_tonight", T0, &c));
    c.hour = 9;
    ck_assert(!in(e, "u", "mobile_sports_tonight", T0, &c));
    ck_assert(!in(e, "u", "mobile_sports_tonight", T0, NULL));
    const char *keys[] = { "campaign" }, *values[] = { "spring" };
    c.keys = keys;
    c.values = values;
    c.n = 1;
    ck_assert(in(e, "u", "campaign", T0, &c));
    ck_assert(!in(e, "u", "young_earners", T0, NULL));
    ck_assert_int_eq(bvt_attr_set_string(e, "u", 1, "age_band", "25-34"), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_number(e, "u", 1, "income", 61000), BVT_OK);
    ck_assert(in(e, "u", "young_earners", T0, NULL));
    ck_assert_int_eq(bvt_attr_set_number(e, "u", 1, "income", 20000), BVT_OK);
    ck_assert(!in(e, "u", "young_earners", T0, NULL));
    bvt_engine_free(e);
}
END_TEST

START_TEST(context_version_checked)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ok(e, "any", "events > 0");
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_context c = BVT_CONTEXT_INIT;
    c.version = BVT_CONTEXT_VERSION + 1;
    uint32_t ids[64];
    size_t n;
    uint64_t count;
    ck_assert_int_eq(bvt_segments_of(e, "u", 1, T0, &c, ids, 64, &n), BVT_EVERSION);
    ck_assert_int_eq(bvt_segment_members(e, id, T0, &c, NULL, NULL, &count), BVT_EVERSION);
    c.version = 0;
    ck_assert_int_eq(bvt_segments_of(e, "u", 1, T0, &c, ids, 64, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_segment_members(e, id, T0, &c, NULL, NULL, &count), BVT_EINVAL);
    /* Rules scan the keys once per read: their number is bounded. */
    const char *keys[BVT_CONTEXT_KEYS_MAX + 1], *values[BVT_CONTEXT_KEYS_MAX + 1];
    for (int i = 0; i <= BVT_CONTEXT_KEYS_MAX; i++)
        keys[i] = "k", values[i] = "v";
    c.version = BVT_CONTEXT_VERSION;
    c.keys = keys;
    c.values = values;
    c.n = BVT_CONTEXT_KEYS_MAX + 1;
    ck_assert_int_eq(bvt_segments_of(e, "u", 1, T0, &c, ids, 64, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_segment_members(e, id, T0, &c, NULL, NULL, &count), BVT_EINVAL);
    c.n = BVT_CONTEXT_KEYS_MAX;
    ck_assert_int_eq(bvt_segments_of(e, "u", 1, T0, &c, ids, 64, &n), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

static int collect(const bvt_user_key *k, void *ud)
{
    (void)k;
    (*(int *)ud)++;
    return 0;
}

START_TEST(audience_members_and_count)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ok(e, "even_buyers", "purchases >= 1");
    char user[16];
    for (int i = 0; i < 3000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        track_ok(e, user, i % 2 ? BVT_EVENT_PAGE_VIEW : BVT_EVENT_PURCHASE, T0 + i, NULL, 1);
    }
    uint64_t count = 0;
    int visited = 0;
    ck_assert_int_eq(bvt_segment_members(e, id, T0 + DAY, NULL, collect, &visited, &count),
                     BVT_OK);
    ck_assert_uint_eq(count, 1500);
    ck_assert_int_eq(visited, 1500);
    ck_assert_int_eq(bvt_segment_members(e, id, T0 + DAY, NULL, NULL, NULL, &count), BVT_OK);
    ck_assert_uint_eq(count, 1500);
    ck_assert_int_eq(bvt_segment_members(e, 999, T0, NULL, NULL, NULL, &count), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

START_TEST(builtin_segments_protected_and_rfm)
{
    bvt_engine *e = engine_default();
    uint32_t champions;
    ck_assert_int_eq(bvt_segment_lookup(e, "Champions", &champions), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "Champions", "true", NULL, NULL), BVT_EEXIST);
    ck_assert_int_eq(bvt_segment_remove(e, "Champions", NULL), BVT_EEXIST);
    /* 100 buyers with rising spend and frequency: the best are Champions. */
    char user[16];
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof user, "b%d", i);
        for (int k = 0; k <= i / 20; k++)
            track_ok(e, user, BVT_EVENT_PURCHASE, T0 + i * HOUR + k * DAY, NULL, 10.0 + i);
    }
    ck_assert_int_eq(bvt_rfm_refresh(e, T0 + 10 * DAY, NULL), BVT_OK);
    ck_assert(in(e, "b99", "Champions", T0 + 10 * DAY, NULL));
    ck_assert(!in(e, "b0", "Champions", T0 + 10 * DAY, NULL));
    bvt_engine_free(e);
}
END_TEST

/* Definitions change while other threads evaluate: evaluation never sees a
 * half-made version (run under ThreadSanitizer in make test). */
typedef struct shared {
    bvt_engine *e;
    _Atomic int stop;
} shared;

static void *redefine(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < 300; i++) {
        char rule[64];
        snprintf(rule, sizeof rule, "page_views >= %d", i % 5);
        ck_assert_int_eq(bvt_segment_define(s->e, "flip", rule, NULL, NULL), BVT_OK);
        if (i % 50 == 0)
            bvt_segment_remove(s->e, "flip", NULL);
    }
    atomic_store(&s->stop, 1);
    return NULL;
}

/* Whatever version a reader sees, the built-ins stay and "u" (one page
 * view, one session) stays a New Visitor. */
static void *evaluate(void *arg)
{
    shared *s = arg;
    uint32_t ids[64], new_visitor;
    size_t n;
    ck_assert_int_eq(bvt_segment_lookup(s->e, "New Visitor", &new_visitor), BVT_OK);
    while (!atomic_load(&s->stop)) {
        ck_assert_int_eq(bvt_segments_of(s->e, "u", 1, T0 + 1, NULL, ids, 64, &n), BVT_OK);
        int found = 0;
        for (size_t i = 0; i < n && i < 64; i++)
            found |= ids[i] == new_visitor;
        ck_assert(found);
    }
    return NULL;
}

START_TEST(definitions_change_under_readers)
{
    shared s = { engine_default(), 0 };
    track_ok(s.e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    thread_fn fns[] = { redefine, evaluate, evaluate };
    run_threads(fns, 3, &s);
    bvt_engine_free(s.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_create("segment");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, define_replace_remove_list);
    tcase_add_test(tc, define_errors_change_nothing);
    tcase_add_test(tc, names_and_rules_must_be_utf8);
    tcase_add_test(tc, cycles_refused_and_references_protected);
    tcase_add_test(tc, window_slides_exactly);
    tcase_add_test(tc, retargeting_cart_abandoners);
    tcase_add_test(tc, context_and_attributes);
    tcase_add_test(tc, context_version_checked);
    tcase_add_test(tc, audience_members_and_count);
    tcase_add_test(tc, builtin_segments_protected_and_rfm);
    tcase_add_test(tc, definitions_change_under_readers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
