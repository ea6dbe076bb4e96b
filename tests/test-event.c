/* test-event.c — tracking events through the public API: validation (a
 * refused event changes nothing), batches, event types (built-in and
 * custom) and the windowed behaviour history. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "event-test-secret-0123456789"
#include "testutil.h"

static uint64_t hcount(bvt_engine *e, const char *user, uint32_t type, const char *cat,
                       int64_t window, int64_t now, double *sum)
{
    uint64_t n = 0;
    double s = 0;
    int rc = bvt_history_count(e, user, strlen(user), type, cat, window, now, &n, &s);
    ck_assert_msg(rc == BVT_OK, "history_count: %d", rc);
    if (sum)
        *sum = s;
    return n;
}

/* ---------------------------------------------------------------- validation */

static char long_id[1100];
static char long_cat[300];
static char deep_cat[64];
static char ok_deep_cat[64];
static char ok_long_cat[300];

static void init_bufs(void)
{
    memset(long_id, 'x', sizeof long_id);
    long_id[sizeof long_id - 1] = 0;
    memset(long_cat, 'c', 256);
    long_cat[256] = 0;
    memset(ok_long_cat, 'c', 255);
    ok_long_cat[255] = 0;
    /* 17 levels "a/a/.../a" and 16 levels. */
    char *p = deep_cat;
    for (int i = 0; i < 17; i++) {
        if (i)
            *p++ = '/';
        *p++ = 'a';
    }
    *p = 0;
    memcpy(ok_deep_cat, deep_cat, 31);
    ok_deep_cat[31] = 0;
}

struct bad_event {
    const char *label;
    void (*apply)(bvt_event *ev);
    int expect;
};

#define MUT(fn, stmt) static void fn(bvt_event *ev) { stmt; }
MUT(b_type_13, ev->type = BVT_EVENT_DISMISS + 1)
MUT(b_type_15, ev->type = 15)
MUT(b_type_16, ev->type = BVT_EVENT_CUSTOM_FIRST)
MUT(b_type_64, ev->type = BVT_EVENT_TYPE_MAX)
MUT(b_type_max, ev->type = UINT32_MAX)
MUT(b_time_0, ev->time_ms = 0)
MUT(b_time_neg, ev->time_ms = -1)
MUT(b_time_min, ev->time_ms = INT64_MIN)
MUT(b_user_null, ev->user_id = NULL)
MUT(b_user_empty, ev->user_id_len = 0)
MUT(b_user_long, (ev->user_id = long_id, ev->user_id_len = 1025))
MUT(b_value_neg, ev->value = -0.01)
MUT(b_value_nan, ev->value = NAN)
MUT(b_value_inf, ev->value = INFINITY)
MUT(b_value_ninf, ev->value = -INFINITY)
MUT(b_dwell_neg, ev->dwell_ms = -1)
MUT(b_dwell_big, ev->dwell_ms = 86400001)
MUT(b_cat_empty, ev->category = "")
MUT(b_cat_lead, ev->category = "/a")
MUT(b_cat_trail, ev->category = "a/")
MUT(b_cat_double, ev->category = "a//b")
MUT(b_cat_deep, ev->category = deep_cat)
MUT(b_cat_long, ev->category = long_cat)
MUT(b_cat_id, (ev->category = NULL, ev->category_id = 999))
MUT(b_cat_bytes, ev->category = "shoes/\xff\xfe")
MUT(b_cat_overlong, ev->category = "a\xc0\xaf" "b")
MUT(b_cat_surrogate, ev->category = "a/\xed\xa0\x80")
MUT(b_cat_cut, ev->category = "caf\xc3")
MUT(b_version, ev->version = BVT_EVENT_VERSION + 1)
#undef MUT

static const struct bad_event bad_events[] = {
    { "type 13 (reserved, not built in)", b_type_13, BVT_ETYPE },
    { "type 15 (gap)", b_type_15, BVT_ETYPE },
    { "type 16 (unregistered custom)", b_type_16, BVT_ETYPE },
    { "type 64", b_type_64, BVT_ETYPE },
    { "type UINT32_MAX", b_type_max, BVT_ETYPE },
    { "time 0", b_time_0, BVT_EINVAL },
    { "time -1", b_time_neg, BVT_EINVAL },
    { "time INT64_MIN", b_time_min, BVT_EINVAL },
    { "NULL user id", b_user_null, BVT_EINVAL },
    { "empty user id", b_user_empty, BVT_EINVAL },
    { "user id of 1025 bytes", b_user_long, BVT_EINVAL },
    { "negative value", b_value_neg, BVT_EINVAL },
    { "NaN value", b_value_nan, BVT_EINVAL },
    { "infinite value", b_value_inf, BVT_EINVAL },
    { "minus infinite value", b_value_ninf, BVT_EINVAL },
    { "negative dwell", b_dwell_neg, BVT_EINVAL },
    { "dwell over a day", b_dwell_big, BVT_EINVAL },
    { "empty category", b_cat_empty, BVT_EINVAL },
    { "category with leading /", b_cat_lead, BVT_EINVAL },
    { "category with trailing /", b_cat_trail, BVT_EINVAL },
    { "category with empty segment", b_cat_double, BVT_EINVAL },
    { "category of 17 levels", b_cat_deep, BVT_EINVAL },
    { "category of 256 bytes", b_cat_long, BVT_EINVAL },
    { "unknown category_id", b_cat_id, BVT_EINVAL },
    { "category not UTF-8", b_cat_bytes, BVT_EINVAL },
    { "category with an overlong '/'", b_cat_overlong, BVT_EINVAL },
    { "category with a surrogate", b_cat_surrogate, BVT_EINVAL },
    { "category cut mid-character", b_cat_cut, BVT_EINVAL },
    { "event version too new", b_version, BVT_EVERSION },
};

/* Compare what a refused event could have touched. */
static void assert_same_profile(const bvt_profile *a, const bvt_profile *b, const char *label)
{
    ck_assert_msg(a->events == b->events && a->first_seen_ms == b->first_seen_ms &&
                      a->last_seen_ms == b->last_seen_ms && a->purchases == b->purchases &&
                      a->monetary_total == b->monetary_total && a->sessions == b->sessions &&
                      a->dwell_ms == b->dwell_ms && a->interests == b->interests &&
                      a->history_events == b->history_events &&
                      memcmp(a->type_counts, b->type_counts, sizeof a->type_counts) == 0,
                  "%s: a refused event changed the profile", label);
}

START_TEST(refused_event_changes_nothing)
{
    const struct bad_event *c = &bad_events[_i];
    init_bufs();
    bvt_engine *e = engine_default();
    ck_assert_int_eq(track_event(e, "known", BVT_EVENT_PAGE_VIEW, T0, "old/cat", 0), BVT_OK);
    bvt_profile before = profile_of(e, "known", T0 + DAY);
    static const char *users[] = { "known", "fresh" };
    for (int u = 0; u < 2; u++) {
        bvt_stats s0 = stats_of(e);
        /* A valid event for this user except for the one field under test;
         * its category is new so interning it would show. */
        bvt_event ev = make_event(users[u], BVT_EVENT_PURCHASE, T0 + HOUR, "new/category", 5.0);
        ev.dwell_ms = 1500;
        ev.item_id = "sku";
        c->apply(&ev);
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_event_track(e, &ev, &err);
        ck_assert_msg(rc == c->expect, "%s (%s): got %d (%s), want %d", c->label, users[u],
                      rc, bvt_strerror(rc), c->expect);
        ck_assert_int_eq(err.code, c->expect);
        ck_assert_msg(err.message[0] != 0, "%s: no message", c->label);

        bvt_stats s1 = stats_of(e);
        ck_assert_msg(s1.users == s0.users, "%s: users %llu -> %llu", c->label,
                      (unsigned long long)s0.users, (unsigned long long)s1.users);
        ck_assert_uint_eq(s1.events_accepted, s0.events_accepted);
        ck_assert_uint_eq(s1.events_rejected, s0.events_rejected + 1);
        ck_assert_msg(s1.categories == s0.categories, "%s: categories %u -> %u", c->label,
                      s0.categories, s1.categories);
        ck_assert_uint_eq(s1.bytes_history, s0.bytes_history);
        ck_assert_uint_eq(s1.bytes_cart, s0.bytes_cart);
        ck_assert_msg(!bvt_user_exists(e, "fresh", 5), "%s: profile created", c->label);
        bvt_profile after = profile_of(e, "known", T0 + DAY);
        assert_same_profile(&before, &after, c->label);
    }
    bvt_engine_free(e);
}
END_TEST

struct good_event {
    const char *label;
    void (*apply)(bvt_event *ev);
};

#define MUT(fn, stmt) static void fn(bvt_event *ev) { stmt; }
MUT(g_user_1024, (ev->user_id = long_id, ev->user_id_len = 1024))
MUT(g_user_1, ev->user_id_len = 1)
MUT(g_dwell_0, ev->dwell_ms = 0)
MUT(g_dwell_max, ev->dwell_ms = 86400000)
MUT(g_value_0, ev->value = 0.0)
MUT(g_cat_16, ev->category = ok_deep_cat)
MUT(g_cat_255, ev->category = ok_long_cat)
MUT(g_cat_none, (ev->category = NULL, ev->category_id = 0))
MUT(g_qty_0, ev->quantity = 0)
MUT(g_time_1, ev->time_ms = 1)
MUT(g_utf8_cat, ev->category = "caf\xc3\xa9/cr\xc3\xa8me")
#undef MUT

static const struct good_event good_events[] = {
    { "user id of 1024 bytes", g_user_1024 }, { "user id of 1 byte", g_user_1 },
    { "dwell 0", g_dwell_0 },                 { "dwell of a full day", g_dwell_max },
    { "value 0", g_value_0 },                 { "category of 16 levels", g_cat_16 },
    { "category of 255 bytes", g_cat_255 },   { "no category", g_cat_none },
    { "quantity 0", g_qty_0 },                { "time 1 ms", g_time_1 },
    { "UTF-8 category", g_utf8_cat },
};

START_TEST(edge_event_accepted)
{
    const struct good_event *c = &good_events[_i];
    init_bufs();
    bvt_engine *e = engine_default();
    bvt_event ev = make_event("someone", BVT_EVENT_PAGE_VIEW, T0, "a/b", 2.0);
    ev.dwell_ms = 100;
    c->apply(&ev);
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &ev, &err);
    ck_assert_msg(rc == BVT_OK, "%s: %d %s", c->label, rc, err.message);
    ck_assert(bvt_user_exists(e, ev.user_id, ev.user_id_len));
    ck_assert_uint_eq(stats_of(e).events_accepted, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(track_null_arguments)
{
    bvt_engine *e = engine_default();
    bvt_event ev = make_event("u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(bvt_event_track(NULL, &ev, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_track(e, NULL, NULL), BVT_EINVAL);
    ck_assert_uint_eq(stats_of(e).users, 0);
    bvt_engine_free(e);
}
END_TEST

/* The offset of a refused category is its first bad byte. */
START_TEST(category_utf8_offset)
{
    bvt_engine *e = engine_default();
    bvt_event ev = make_event("u", BVT_EVENT_PAGE_VIEW, T0, "home/caf\xc3\xa9/\xe9t\xe9", 0);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_event_track(e, &ev, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 11);
    ck_assert_msg(strstr(err.message, "category") && strstr(err.message, "UTF-8"), "%s",
                  err.message);
    ev.category = "home/caf\xc3\xa9/\xc3\xa9t\xc3\xa9";
    ck_assert_int_eq(bvt_event_track(e, &ev, &err), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(category_id_equals_path)
{
    bvt_engine *e = engine_default();
    uint32_t id = 0;
    ck_assert_int_eq(bvt_category_intern(e, "x/y", &id, NULL), BVT_OK);
    bvt_event ev = make_event("u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ev.category_id = id;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 1, "x/y", 0), BVT_OK);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PAGE_VIEW, "x/y", DAY, T0 + 10, NULL), 2);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- batches */

START_TEST(batch_keeps_good_reports_bad)
{
    bvt_engine *e = engine_default();
    bvt_event evs[7];
    evs[0] = make_event("u1", BVT_EVENT_PAGE_VIEW, T0 + 1, "a", 0);
    evs[1] = make_event("u1", BVT_EVENT_PAGE_VIEW, 0, "a", 0);         /* bad time */
    evs[2] = make_event("u1", BVT_EVENT_CLICK, T0 + 2, "a", 0);
    evs[3] = make_event("u2", 77, T0 + 3, NULL, 0);                    /* bad type */
    evs[4] = make_event("u2", BVT_EVENT_PURCHASE, T0 + 4, NULL, 12.5);
    evs[5] = make_event("u3", BVT_EVENT_PURCHASE, T0 + 5, NULL, -1.0); /* bad value */
    evs[6] = make_event("u1", BVT_EVENT_PAGE_VIEW, T0 + 6, "a", 0);
    bvt_batch_error fails[4]; /* capacity 2 given; the rest must stay untouched */
    memset(fails, 0xff, sizeof fails);
    size_t nfailed = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track_batch(e, evs, 7, fails, 2, &nfailed, &err);
    ck_assert_msg(fails[2].index == SIZE_MAX && fails[3].index == SIZE_MAX,
                  "failures written beyond failures_cap");
    ck_assert_int_eq(rc, BVT_EINVAL); /* the first failure's code */
    ck_assert_uint_eq(nfailed, 3);    /* counts beyond the capacity */
    ck_assert_uint_eq(fails[0].index, 1);
    ck_assert_int_eq(fails[0].code, BVT_EINVAL);
    ck_assert_uint_eq(fails[1].index, 3);
    ck_assert_int_eq(fails[1].code, BVT_ETYPE);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ck_assert_int_eq(err.offset, 1);

    bvt_profile p = profile_of(e, "u1", T0 + 10);
    ck_assert_uint_eq(p.events, 3);
    ck_assert_uint_eq(p.clicks, 1);
    p = profile_of(e, "u2", T0 + 10);
    ck_assert_uint_eq(p.events, 1);
    ck_assert_uint_eq(p.purchases, 1);
    ck_assert(!bvt_user_exists(e, "u3", 2));
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.events_accepted, 4);
    ck_assert_uint_eq(s.events_rejected, 3);
    ck_assert_uint_eq(s.users, 2);
    bvt_engine_free(e);
}
END_TEST

START_TEST(batch_failure_list_in_order)
{
    bvt_engine *e = engine_default();
    enum { N = 40 };
    bvt_event evs[N];
    char ids[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "u%d", i % 5);
        evs[i] = make_event(ids[i], BVT_EVENT_PAGE_VIEW, T0 + i, NULL, 0);
        if (i % 3 == 2)
            evs[i].type = 200; /* ETYPE */
        if (i % 7 == 6)
            evs[i].dwell_ms = -5; /* EINVAL (and ETYPE if both: either is an error) */
    }
    bvt_batch_error fails[N];
    size_t nfailed = 0;
    int rc = bvt_event_track_batch(e, evs, N, fails, N, &nfailed, NULL);
    size_t want = 0;
    for (int i = 0; i < N; i++)
        if (i % 3 == 2 || i % 7 == 6) {
            ck_assert_uint_lt(want, nfailed);
            ck_assert_uint_eq(fails[want].index, (size_t)i);
            if (i % 3 != 2)
                ck_assert_int_eq(fails[want].code, BVT_EINVAL);
            else if (i % 7 != 6)
                ck_assert_int_eq(fails[want].code, BVT_ETYPE);
            else
                ck_assert(fails[want].code == BVT_ETYPE || fails[want].code == BVT_EINVAL);
            want++;
        }
    ck_assert_uint_eq(nfailed, want);
    ck_assert_int_eq(rc, BVT_ETYPE); /* index 2 fails first */
    ck_assert_uint_eq(stats_of(e).events_accepted, N - want);

    /* Without a failure array the count still comes back. */
    nfailed = 0;
    rc = bvt_event_track_batch(e, evs, N, NULL, 0, &nfailed, NULL);
    ck_assert_int_eq(rc, BVT_ETYPE);
    ck_assert_uint_eq(nfailed, want);
    ck_assert_uint_eq(stats_of(e).events_accepted, 2 * (N - want));
    bvt_engine_free(e);
}
END_TEST

/* Checked under several keys: the key decides each user's shard, and which
 * new users get the last places must follow event order whatever it is. */
START_TEST(batch_reports_full_table)
{
    char secret[32];
    snprintf(secret, sizeof secret, "batch-full-table-secret-%d", _i);
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 2;
    o.secret = secret;
    o.secret_len = strlen(secret);
    bvt_engine *e = NULL;
    ck_assert_int_eq(bvt_engine_new(&e, &o, NULL), BVT_OK);
    bvt_event evs[5] = {
        make_event("a", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
        make_event("b", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
        make_event("c", BVT_EVENT_PAGE_VIEW, T0, NULL, 0), /* third user: refused */
        make_event("a", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0),
        make_event("d", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
    };
    bvt_batch_error fails[5];
    size_t nfailed = 0;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_event_track_batch(e, evs, 5, fails, 5, &nfailed, &err), BVT_EFULL);
    ck_assert_uint_eq(nfailed, 2);
    ck_assert_uint_eq(fails[0].index, 2);
    ck_assert_int_eq(fails[0].code, BVT_EFULL);
    ck_assert_uint_eq(fails[1].index, 4);
    ck_assert_int_eq(fails[1].code, BVT_EFULL);
    ck_assert_int_eq(err.offset, 2);
    ck_assert_uint_eq(profile_of(e, "a", T0 + 10).events, 2);
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 2);
    ck_assert_uint_eq(s.events_accepted, 3);
    ck_assert_uint_eq(s.events_rejected, 2);
    bvt_engine_free(e);
}
END_TEST

/* A batch larger than BVT_EVENT_BATCH_MAX is refused whole, before any
 * event is read; the limit itself is accepted. */
START_TEST(batch_size_is_bounded)
{
    bvt_engine *e = engine_default();
    size_t n = (size_t)BVT_EVENT_BATCH_MAX + 1;
    bvt_event *evs = malloc(n * sizeof *evs);
    ck_assert_ptr_nonnull(evs);
    char user[16];
    snprintf(user, sizeof user, "batcher");
    for (size_t i = 0; i < n; i++)
        evs[i] = make_event(user, BVT_EVENT_PAGE_VIEW, T0 + (int64_t)i, NULL, 0);
    size_t failed = 7;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_event_track_batch(e, evs, n, NULL, 0, &failed, &err), BVT_EINVAL);
    ck_assert_uint_eq(failed, 0);
    ck_assert_msg(strstr(err.message, "BVT_EVENT_BATCH_MAX") && strstr(err.message, "65536"),
                  "%s", err.message);
    ck_assert(!bvt_user_exists(e, user, strlen(user)));
    ck_assert_int_eq(bvt_event_track_batch(e, evs, n - 1, NULL, 0, &failed, &err), BVT_OK);
    ck_assert_uint_eq(profile_of(e, user, T0 + DAY * 2).events, BVT_EVENT_BATCH_MAX);
    free(evs);
    bvt_engine_free(e);
}
END_TEST

START_TEST(batch_all_good_and_empty)
{
    bvt_engine *e = engine_default();
    bvt_event evs[3] = {
        make_event("a", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
        make_event("b", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
        make_event("a", BVT_EVENT_CLICK, T0 + 1, NULL, 0),
    };
    size_t nfailed = 99;
    ck_assert_int_eq(bvt_event_track_batch(e, evs, 3, NULL, 0, &nfailed, NULL), BVT_OK);
    ck_assert_uint_eq(nfailed, 0);
    nfailed = 99;
    ck_assert_int_eq(bvt_event_track_batch(e, evs, 0, NULL, 0, &nfailed, NULL), BVT_OK);
    ck_assert_uint_eq(nfailed, 0);
    ck_assert_int_eq(bvt_event_track_batch(e, NULL, 0, NULL, 0, NULL, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_track_batch(e, NULL, 2, NULL, 0, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_track_batch(NULL, evs, 3, NULL, 0, NULL, NULL), BVT_EINVAL);
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.events_accepted, 3);
    ck_assert_uint_eq(s.users, 2);
    bvt_engine_free(e);
}
END_TEST

/* A late event never opens a session, so the order of application shows in
 * the session count. */
START_TEST(batch_applies_one_users_events_in_order)
{
    bvt_engine *e = engine_default();
    bvt_event fwd[4] = {
        make_event("fwd", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
        make_event("other", BVT_EVENT_PAGE_VIEW, T0 + 5 * HOUR, NULL, 0),
        make_event("fwd", BVT_EVENT_PAGE_VIEW, T0 + 2 * HOUR, NULL, 0),
        make_event("fwd", BVT_EVENT_PAGE_VIEW, T0 + 4 * HOUR, NULL, 0),
    };
    bvt_event rev[4] = {
        make_event("rev", BVT_EVENT_PAGE_VIEW, T0 + 4 * HOUR, NULL, 0),
        make_event("other", BVT_EVENT_PAGE_VIEW, T0 + 6 * HOUR, NULL, 0),
        make_event("rev", BVT_EVENT_PAGE_VIEW, T0 + 2 * HOUR, NULL, 0),
        make_event("rev", BVT_EVENT_PAGE_VIEW, T0, NULL, 0),
    };
    ck_assert_int_eq(bvt_event_track_batch(e, fwd, 4, NULL, 0, NULL, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_track_batch(e, rev, 4, NULL, 0, NULL, NULL), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "fwd", T0 + DAY).sessions, 3);
    ck_assert_uint_eq(profile_of(e, "rev", T0 + DAY).sessions, 1);
    bvt_engine_free(e);
}
END_TEST

static void assert_profiles_equal(bvt_engine *a, bvt_engine *b, const char *user, int64_t now)
{
    bvt_profile pa = profile_of(a, user, now), pb = profile_of(b, user, now);
    ck_assert_msg(pa.events == pb.events && pa.first_seen_ms == pb.first_seen_ms &&
                      pa.last_seen_ms == pb.last_seen_ms && pa.purchases == pb.purchases &&
                      pa.purchase_days == pb.purchase_days &&
                      pa.monetary_total == pb.monetary_total && pa.sessions == pb.sessions &&
                      pa.dwell_ms == pb.dwell_ms && pa.cart_items == pb.cart_items &&
                      pa.cart_value == pb.cart_value && pa.interests == pb.interests &&
                      pa.clicks == pb.clicks && pa.impressions == pb.impressions &&
                      memcmp(pa.type_counts, pb.type_counts, sizeof pa.type_counts) == 0,
                  "%s: batch and single tracking disagree", user);
    bvt_interest ia[16], ib[16];
    size_t na = 0, nb = 0;
    ck_assert_int_eq(bvt_profile_interests(a, user, strlen(user), now, ia, 16, &na), BVT_OK);
    ck_assert_int_eq(bvt_profile_interests(b, user, strlen(user), now, ib, 16, &nb), BVT_OK);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(ia[i].category, ib[i].category);
        ck_assert(fabs(ia[i].score - ib[i].score) <= 1e-9 * fabs(ib[i].score));
    }
}

START_TEST(batch_equals_single_tracking)
{
    enum { N = 1200, USERS = 37 };
    bvt_engine *a = engine_default();
    bvt_engine *b = engine_default();
    static bvt_event evs[N];
    static char ids[N][12], cats[N][16], items[N][8];
    unsigned x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        int u = (int)((x >> 8) % USERS);
        snprintf(ids[i], sizeof ids[i], "user%d", u);
        snprintf(cats[i], sizeof cats[i], "c%u/s%u", (x >> 4) % 5, (x >> 12) % 3);
        snprintf(items[i], sizeof items[i], "i%u", (x >> 16) % 6);
        uint32_t type = (x >> 20) % BVT_EVENT_BUILTIN_COUNT;
        /* Mostly forward in time with some late events. */
        int64_t t = T0 + (int64_t)i * 7 * MIN - (int64_t)((x >> 3) % 4 == 0) * 3 * HOUR;
        evs[i] = make_event(ids[i], type, t, cats[i], (double)((x >> 5) % 40));
        evs[i].item_id = items[i];
        evs[i].dwell_ms = (int64_t)((x >> 7) % 5000);
        if (i % 101 == 100)
            evs[i].time_ms = 0; /* a bad one now and then */
    }
    size_t nfailed = 0;
    int rc = bvt_event_track_batch(a, evs, N, NULL, 0, &nfailed, NULL);
    ck_assert_int_eq(rc, BVT_EINVAL);
    size_t single_failed = 0;
    for (int i = 0; i < N; i++)
        if (bvt_event_track(b, &evs[i], NULL) != BVT_OK)
            single_failed++;
    ck_assert_uint_eq(nfailed, single_failed);
    ck_assert_uint_eq(nfailed, N / 101);
    bvt_stats sa = stats_of(a), sb = stats_of(b);
    ck_assert_uint_eq(sa.users, sb.users);
    ck_assert_uint_eq(sa.events_accepted, sb.events_accepted);
    char id[12];
    for (int u = 0; u < USERS; u++) {
        snprintf(id, sizeof id, "user%d", u);
        if (bvt_user_exists(b, id, strlen(id)))
            assert_profiles_equal(a, b, id, T0 + (int64_t)N * 7 * MIN + DAY);
    }
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

/* ---------------------------------------------------------------- event types */

START_TEST(builtin_type_names)
{
    static const char *names[BVT_EVENT_BUILTIN_COUNT] = {
        "page_view", "search", "add_to_cart", "remove_from_cart", "purchase", "impression",
        "click", "conversion", "like", "share", "comment", "email_open",
    };
    bvt_engine *e = engine_default();
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++) {
        ck_assert_ptr_nonnull(bvt_event_type_name(NULL, t));
        ck_assert_str_eq(bvt_event_type_name(NULL, t), names[t]);
        ck_assert_str_eq(bvt_event_type_name(e, t), names[t]);
        uint32_t got = 999;
        ck_assert_int_eq(bvt_event_type_lookup(NULL, names[t], &got), BVT_OK);
        ck_assert_uint_eq(got, t);
        got = 999;
        ck_assert_int_eq(bvt_event_type_lookup(e, names[t], &got), BVT_OK);
        ck_assert_uint_eq(got, t);
    }
    /* dismiss has no profile counter, so it sits just past the counted types */
    ck_assert_str_eq(bvt_event_type_name(NULL, BVT_EVENT_DISMISS), "dismiss");
    uint32_t dismiss = 0;
    ck_assert_int_eq(bvt_event_type_lookup(NULL, "dismiss", &dismiss), BVT_OK);
    ck_assert_uint_eq(dismiss, BVT_EVENT_DISMISS);
    ck_assert_ptr_null(bvt_event_type_name(NULL, BVT_EVENT_DISMISS + 1));
    ck_assert_ptr_null(bvt_event_type_name(e, BVT_EVENT_CUSTOM_FIRST));
    ck_assert_ptr_null(bvt_event_type_name(e, UINT32_MAX));
    uint32_t got;
    ck_assert_int_eq(bvt_event_type_lookup(e, "nope", &got), BVT_ETYPE);
    ck_assert_int_eq(bvt_event_type_lookup(e, "PAGE_VIEW", &got), BVT_ETYPE);
    ck_assert_int_eq(bvt_event_type_lookup(e, NULL, &got), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_lookup(e, "click", NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

START_TEST(default_type_weights)
{
    static const double w[BVT_EVENT_BUILTIN_COUNT] = {
        1, 1.5, 4, 0, 8, 0, 2, 8, 2, 3, 2, 0.5,
    };
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        ck_assert_msg(bvt_default_type_weight(t) == w[t], "type %u: %g", t,
                      bvt_default_type_weight(t));
    ck_assert(bvt_default_type_weight(BVT_EVENT_BUILTIN_COUNT) == -1);
    ck_assert(bvt_default_type_weight(BVT_EVENT_CUSTOM_FIRST) == -1);
    ck_assert(bvt_default_type_weight(UINT32_MAX) == -1);
}
END_TEST

START_TEST(custom_type_register)
{
    bvt_engine *e = engine_default();
    uint32_t id = 0, again = 0, got = 0;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_event_type_register(e, "video_complete", 3.0, &id, &err), BVT_OK);
    ck_assert_uint_ge(id, BVT_EVENT_CUSTOM_FIRST);
    ck_assert_uint_lt(id, BVT_EVENT_TYPE_MAX);
    ck_assert_str_eq(bvt_event_type_name(e, id), "video_complete");
    ck_assert_ptr_null(bvt_event_type_name(NULL, id));
    ck_assert_int_eq(bvt_event_type_lookup(e, "video_complete", &got), BVT_OK);
    ck_assert_uint_eq(got, id);
    ck_assert_int_eq(bvt_event_type_lookup(NULL, "video_complete", &got), BVT_ETYPE);

    ck_assert_int_eq(bvt_event_type_register(e, "video_complete", 3.0, &again, NULL), BVT_OK);
    ck_assert_uint_eq(again, id);
    ck_assert_int_eq(bvt_event_type_register(e, "video_complete", 4.0, &again, &err),
                     BVT_EEXIST);
    ck_assert_int_eq(err.code, BVT_EEXIST);

    /* Built-in names stay built in. */
    int rc = bvt_event_type_register(e, "click", 2.0, &again, NULL);
    ck_assert_msg(rc == BVT_EEXIST || rc == BVT_EINVAL, "registering 'click': %d", rc);
    ck_assert_int_eq(bvt_event_type_lookup(e, "click", &got), BVT_OK);
    ck_assert_uint_eq(got, BVT_EVENT_CLICK);

    static const char *bad_names[] = {
        "", "Video", "a-b", "a b", "caf\xc3\xa9", "abcdefghijklmnopqrstuvwxyz012345", NULL,
    };
    for (int i = 0; bad_names[i]; i++)
        ck_assert_msg(bvt_event_type_register(e, bad_names[i], 1.0, &again, NULL) == BVT_EINVAL,
                      "name '%s' accepted", bad_names[i]);
    ck_assert_int_eq(bvt_event_type_register(e, "abcdefghijklmnopqrstuvwxyz01234", 1.0,
                                             &again, NULL), BVT_OK); /* 31 bytes */
    ck_assert_int_eq(bvt_event_type_register(e, NULL, 1.0, &again, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_register(e, "neg", -1.0, &again, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_register(e, "nan", NAN, &again, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_register(e, "inf", INFINITY, &again, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_register(e, "noout", 1.0, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_register(NULL, "noeng", 1.0, &again, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_event_type_lookup(e, "neg", &got), BVT_ETYPE);
    bvt_engine_free(e);
}
END_TEST

START_TEST(custom_type_limit_48)
{
    bvt_engine *e = engine_default();
    char name[16];
    uint64_t seen = 0;
    for (int i = 0; i < 48; i++) {
        uint32_t id = 0;
        snprintf(name, sizeof name, "custom_%d", i);
        ck_assert_int_eq(bvt_event_type_register(e, name, 1.0, &id, NULL), BVT_OK);
        ck_assert_uint_ge(id, BVT_EVENT_CUSTOM_FIRST);
        ck_assert_uint_lt(id, BVT_EVENT_TYPE_MAX);
        ck_assert_msg(!(seen & (1ull << id)), "id %u handed out twice", id);
        seen |= 1ull << id;
    }
    uint32_t id = 0;
    ck_assert_int_eq(bvt_event_type_register(e, "one_too_many", 1.0, &id, NULL), BVT_ELIMIT);
    ck_assert_int_eq(bvt_event_type_register(e, "custom_7", 1.0, &id, NULL), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(custom_events_count_in_history_only)
{
    bvt_engine *e = engine_default();
    uint32_t vc = 0;
    ck_assert_int_eq(bvt_event_type_register(e, "video_complete", 3.0, &vc, NULL), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", vc, T0, "videos/cats", 5.0), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", vc, T0 + MIN, "videos/dogs", 7.0), BVT_OK);
    bvt_profile p = profile_of(e, "u", T0 + HOUR);
    ck_assert_uint_eq(p.events, 2);
    for (int t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        ck_assert_uint_eq(p.type_counts[t], 0);
    ck_assert_uint_eq(p.purchases, 0);
    ck_assert(p.monetary_total == 0.0);
    ck_assert_uint_eq(p.impressions, 0);
    ck_assert_uint_eq(p.clicks, 0);
    ck_assert_uint_eq(p.conversions, 0);
    ck_assert_uint_eq(p.interactions, 0);
    ck_assert_uint_eq(p.cart_items, 0);
    double sum = 0;
    ck_assert_uint_eq(hcount(e, "u", vc, NULL, DAY, T0 + HOUR, &sum), 2);
    ck_assert(sum == 12.0);
    ck_assert_uint_eq(hcount(e, "u", vc, "videos/dogs", DAY, T0 + HOUR, NULL), 1);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PAGE_VIEW, NULL, DAY, T0 + HOUR, NULL), 0);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- history */

/* Page views at T0 + k*1000 for k = 1..10. */
static bvt_engine *ten_views(void)
{
    bvt_engine *e = engine_default();
    for (int k = 1; k <= 10; k++)
        ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + k * 1000, NULL, k), BVT_OK);
    return e;
}

struct window_case {
    int64_t now_off, window;
    uint64_t count;
    double sum;
};

/* The window is now - window < t <= now. */
static const struct window_case windows[] = {
    { 10000, 5000, 5, 6 + 7 + 8 + 9 + 10 },
    { 10000, 5001, 6, 5 + 6 + 7 + 8 + 9 + 10 },
    { 10000, 4999, 5, 6 + 7 + 8 + 9 + 10 },
    { 10000, 1, 1, 10 },
    { 9999, 5000, 5, 5 + 6 + 7 + 8 + 9 },
    { 9999, 1, 0, 0 },
    { 1000, 1, 1, 1 },
    { 999, 1000, 0, 0 },
    { 20000, 10000, 0, 0 },
    { 20000, 10001, 1, 10 },
    { 10000, DAY, 10, 55 },
};

START_TEST(history_window_boundaries)
{
    const struct window_case *c = &windows[_i];
    bvt_engine *e = ten_views();
    double sum = -1;
    uint64_t n = hcount(e, "u", BVT_EVENT_PAGE_VIEW, NULL, c->window, T0 + c->now_off, &sum);
    ck_assert_msg(n == c->count, "now +%lld window %lld: %llu events, want %llu",
                  (long long)c->now_off, (long long)c->window, (unsigned long long)n,
                  (unsigned long long)c->count);
    ck_assert_msg(fabs(sum - c->sum) < 1e-9, "sum %g want %g", sum, c->sum);
    /* Any type gives the same here; another type gives nothing. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, c->window, T0 + c->now_off, NULL),
                      c->count);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_CLICK, NULL, c->window, T0 + c->now_off, NULL),
                      0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(history_types_and_categories)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 1, "a/b/c", 1), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 2, "a/b", 2), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_CLICK, T0 + 3, "a/x", 4), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PURCHASE, T0 + 4, "z", 8), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 5, NULL, 16), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 6, "ab", 32), BVT_OK);
    int64_t now = T0 + 10, w = HOUR;
    double sum;
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, w, now, &sum), 6);
    ck_assert(sum == 63);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "a", w, now, &sum), 3);
    ck_assert(sum == 7);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PAGE_VIEW, "a", w, now, &sum), 2);
    ck_assert(sum == 3);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "a/b", w, now, &sum), 2);
    ck_assert(sum == 3);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "a/b/c", w, now, NULL), 1);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PAGE_VIEW, NULL, w, now, &sum), 4);
    ck_assert(sum == 51);
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PURCHASE, "z", w, now, &sum), 1);
    ck_assert(sum == 8);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "ab", w, now, NULL), 1);
    /* A category nobody used gives 0, not an error. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "never/seen", w, now, &sum), 0);
    ck_assert(sum == 0);
    /* Counts may be asked without outputs. */
    ck_assert_int_eq(bvt_history_count(e, "u", 1, UINT32_MAX, NULL, w, now, NULL, NULL),
                     BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(history_late_events_in_place)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 5000, NULL, 0), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 1000, NULL, 0), BVT_OK);
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + 3000, NULL, 0), BVT_OK);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 2500, T0 + 5000, NULL), 2);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 2001, T0 + 3000, NULL), 2);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 2000, T0 + 3000, NULL), 1);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 1, T0 + 1000, NULL), 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(history_keeps_recent_exact)
{
    bvt_engine *e = engine_default(); /* 64 exact events */
    /* 36 events the day before, then 64 today: today's are the exact ones. */
    for (int k = 0; k < 36; k++)
        ck_assert_int_eq(
            track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 - DAY + HOUR + k * 1000, NULL, 1),
            BVT_OK);
    for (int k = 0; k < 64; k++)
        ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + HOUR + k * 1000, NULL, 1),
                         BVT_OK);
    bvt_profile p = profile_of(e, "u", T0 + DAY);
    ck_assert_uint_eq(p.history_events, 64);
    ck_assert_uint_ge(p.history_day_slots, 1);
    /* The latest 64 are exact to the millisecond. */
    int64_t now = T0 + HOUR + 63 * 1000;
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 64 * 1000, now, NULL), 64);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 63 * 1000, now, NULL), 63);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, 30 * 1000 + 1, now, NULL), 31);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, now - T0, now, NULL), 64);
    /* Older ones still count, by whole day: the window (T0 - 2, now] holds
     * the last millisecond of yesterday, (T0 - 1, now] does not. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, now - T0 + 1, now, NULL), 64);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, now - T0 + 2, now, NULL), 100);
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, DAY, now, NULL), 100);
    bvt_engine_free(e);
}
END_TEST

START_TEST(history_day_aggregates_round_outward)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.history_events = 2;
    bvt_engine *e = engine_with(&o);
    for (int d = 1; d <= 6; d++)
        ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + d * DAY + 12 * HOUR, "c", d),
                         BVT_OK);
    bvt_profile p = profile_of(e, "u", T0 + 7 * DAY);
    ck_assert_uint_eq(p.history_events, 2);
    ck_assert_uint_eq(p.history_day_slots, 4);
    int64_t now = T0 + 6 * DAY + 13 * HOUR;
    double sum;
    /* Exact events: day 5 and 6 noon.  Window from day 5 06:00. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, now - (T0 + 5 * DAY + 6 * HOUR), now,
                             &sum), 2);
    ck_assert(sum == 11);
    /* From day 5 13:00 only the exact day-6 event is in. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, NULL, now - (T0 + 5 * DAY + 13 * HOUR), now,
                             NULL), 1);
    /* From day 4 18:00: day 4 (aggregated) counts in full. */
    ck_assert_uint_eq(hcount(e, "u", UINT32_MAX, "c", now - (T0 + 4 * DAY + 18 * HOUR), now,
                             &sum), 3);
    ck_assert(sum == 15);
    /* Everything. */
    ck_assert_uint_eq(hcount(e, "u", BVT_EVENT_PAGE_VIEW, NULL, 30 * DAY, now, &sum), 6);
    ck_assert(sum == 21);
    bvt_engine_free(e);
}
END_TEST

/* Day aggregates are bounded by history_day_slots (default 2048). */
struct slots_case {
    uint32_t option, want;
    int days;
};

static const struct slots_case slots_cases[] = {
    { 10, 10, 40 },
    { 0, 2048, 2100 },
};

START_TEST(history_day_slots_bounded)
{
    const struct slots_case *c = &slots_cases[_i];
    bvt_options o = BVT_OPTIONS_INIT;
    o.history_events = 1;
    o.history_day_slots = c->option;
    o.history_horizon_ms = 4000 * DAY;
    bvt_engine *e = engine_with(&o);
    for (int d = 0; d < c->days; d++)
        ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0 + d * DAY + HOUR, NULL, 1),
                         BVT_OK);
    bvt_profile p = profile_of(e, "u", T0 + c->days * DAY);
    ck_assert_uint_eq(p.history_events, 1);
    ck_assert_uint_eq(p.history_day_slots, c->want);
    ck_assert_uint_eq(p.events, (uint64_t)c->days);
    bvt_engine_free(e);
}
END_TEST

START_TEST(history_arguments)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.history_horizon_ms = 10 * DAY;
    bvt_engine *e = engine_with(&o);
    bvt_engine *d = engine_default();
    ck_assert_int_eq(track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0), BVT_OK);
    ck_assert_int_eq(track_event(d, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0), BVT_OK);
    uint64_t n;
    ck_assert_int_eq(bvt_history_count(e, "u", 1, UINT32_MAX, NULL, 10 * DAY, T0, &n, NULL),
                     BVT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(bvt_history_count(e, "u", 1, UINT32_MAX, NULL, 10 * DAY + 1, T0, &n, NULL),
                     BVT_ERANGE);
    ck_assert_int_eq(bvt_history_count(d, "u", 1, UINT32_MAX, NULL, 400 * DAY, T0, &n, NULL),
                     BVT_OK);
    ck_assert_int_eq(bvt_history_count(d, "u", 1, UINT32_MAX, NULL, 400 * DAY + 1, T0, &n,
                                       NULL), BVT_ERANGE);
    ck_assert_int_eq(bvt_history_count(d, "u", 1, UINT32_MAX, NULL, 0, T0, &n, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt_history_count(d, "u", 1, UINT32_MAX, NULL, -5, T0, &n, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt_history_count(d, "u", 1, UINT32_MAX, NULL, DAY, 0, &n, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt_history_count(d, "nobody", 6, UINT32_MAX, NULL, DAY, T0, &n, NULL),
                     BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_history_count(NULL, "u", 1, UINT32_MAX, NULL, DAY, T0, &n, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt_history_count(d, NULL, 1, UINT32_MAX, NULL, DAY, T0, &n, NULL),
                     BVT_EINVAL);
    bvt_engine_free(e);
    bvt_engine_free(d);
}
END_TEST

static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("validation");
    tcase_add_loop_test(tc, refused_event_changes_nothing, 0,
                        (int)(sizeof bad_events / sizeof bad_events[0]));
    tcase_add_loop_test(tc, edge_event_accepted, 0,
                        (int)(sizeof good_events / sizeof good_events[0]));
    tcase_add_test(tc, track_null_arguments);
    tcase_add_test(tc, category_id_equals_path);
    tcase_add_test(tc, category_utf8_offset);
    suite_add_tcase(s, tc);

    tc = tcase_create("batch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, batch_keeps_good_reports_bad);
    tcase_add_test(tc, batch_failure_list_in_order);
    tcase_add_loop_test(tc, batch_reports_full_table, 0, 16);
    tcase_add_test(tc, batch_all_good_and_empty);
    tcase_add_test(tc, batch_size_is_bounded);
    tcase_add_test(tc, batch_applies_one_users_events_in_order);
    tcase_add_test(tc, batch_equals_single_tracking);
    suite_add_tcase(s, tc);

    tc = tcase_create("types");
    tcase_add_test(tc, builtin_type_names);
    tcase_add_test(tc, default_type_weights);
    tcase_add_test(tc, custom_type_register);
    tcase_add_test(tc, custom_type_limit_48);
    tcase_add_test(tc, custom_events_count_in_history_only);
    suite_add_tcase(s, tc);

    tc = tcase_create("history");
    tcase_add_loop_test(tc, history_window_boundaries, 0,
                        (int)(sizeof windows / sizeof windows[0]));
    tcase_add_test(tc, history_types_and_categories);
    tcase_add_test(tc, history_late_events_in_place);
    tcase_add_test(tc, history_keeps_recent_exact);
    tcase_add_test(tc, history_day_aggregates_round_outward);
    tcase_add_loop_test(tc, history_day_slots_bounded, 0,
                        (int)(sizeof slots_cases / sizeof slots_cases[0]));
    tcase_add_test(tc, history_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(event_suite()); }
