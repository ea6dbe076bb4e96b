/* test-history.c — one user's behaviour history: time order, window
 * boundaries, folding into day aggregates (and what windows then answer),
 * horizon, coarsening, categories, a heavy user against brute force, daily
 * totals, merge, growth tiers and the memory limit. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "category.h"
#include "history.h"

#define DAY BVT_DAY_MS
#define HOUR 3600000LL
#define T0 (19358LL * DAY) /* 2023-01-01T00:00Z */

/* ---- helpers ---------------------------------------------------------- */

static bvt_history_cfg cfg_of(uint32_t max_events, uint32_t max_days, int64_t horizon_ms,
                              const bvt_categories *cats)
{
    bvt_history_cfg c;
    c.max_events = max_events;
    c.max_days = max_days;
    c.horizon_ms = horizon_ms;
    c.cats = cats;
    return c;
}

static const bvt_hist_event *ev_at(const bvt_history *h, uint32_t i)
{
    return &h->events[(h->ev_head + i) % h->ev_cap];
}

static void add_ok(bvt_history *h, const bvt_history_cfg *c, bvt_mem *m, int64_t t,
                   uint32_t type, uint32_t cat, double v)
{
    int rc = bvt__history_add(h, c, m, t, type, cat, v);
    ck_assert_msg(rc == BVT_OK, "add t=%lld: %d", (long long)t, rc);
}

static uint64_t count(const bvt_history *h, const bvt_history_cfg *c, uint32_t type,
                      uint32_t cat, int64_t from, int64_t to)
{
    uint64_t n = 99999;
    double s = 0;
    bvt__history_window(h, c, type, cat, from, to, &n, &s);
    return n;
}

static double sum(const bvt_history *h, const bvt_history_cfg *c, uint32_t type,
                  uint32_t cat, int64_t from, int64_t to)
{
    uint64_t n = 0;
    double s = -1;
    bvt__history_window(h, c, type, cat, from, to, &n, &s);
    return s;
}

static void assert_sorted(const bvt_history *h)
{
    for (uint32_t i = 1; i < h->ev_len; i++)
        ck_assert_msg(ev_at(h, i - 1)->t_ms <= ev_at(h, i)->t_ms, "exact tier out of order at %u",
                      i);
    for (uint32_t i = 1; i < h->day_len; i++) {
        const bvt_day_agg *a = &h->days[i - 1], *b = &h->days[i];
        int lt = a->day < b->day ||
                 (a->day == b->day && (a->type < b->type ||
                                       (a->type == b->type && a->category < b->category)));
        ck_assert_msg(lt, "day tier out of order at %u", i);
    }
}

/* Deterministic generator (xorshift64*). */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static uint32_t intern(bvt_categories *c, const char *path)
{
    uint32_t id = 0;
    ck_assert_int_eq(bvt__categories_intern(c, path, strlen(path), &id, NULL), BVT_OK);
    return id;
}

/* ---- time order ------------------------------------------------------- */

static const struct {
    const char *name;
    int n;
    int64_t t[12]; /* hours after T0 */
} orders[] = {
    { "ascending", 10, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } },
    { "descending", 10, { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 } },
    { "late in the middle", 10, { 1, 2, 3, 9, 10, 4, 8, 5, 7, 6 } },
    { "equal times", 8, { 5, 5, 3, 5, 3, 1, 1, 7 } },
    { "late before the front", 12, { 6, 7, 8, 9, 10, 11, 12, 5, 4, 3, 2, 1 } },
};

START_TEST(test_order_table)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(64, 512, 400 * DAY, NULL);
    int n = orders[_i].n;
    for (int k = 0; k < n; k++)
        add_ok(&h, &c, &m, T0 + orders[_i].t[k] * HOUR, 1, 0, (double)k);
    ck_assert_uint_eq(h.ev_len, (unsigned)n);
    ck_assert_uint_eq(h.day_len, 0);
    assert_sorted(&h);
    /* Each window (t-1h, t] holds exactly the events at hour t. */
    for (int64_t hour = 0; hour <= 13; hour++) {
        uint64_t want = 0;
        for (int k = 0; k < n; k++)
            want += orders[_i].t[k] == hour;
        ck_assert_msg(count(&h, &c, 1, 0, T0 + (hour - 1) * HOUR, T0 + hour * HOUR) == want,
                      "%s: hour %lld", orders[_i].name, (long long)hour);
    }
    bvt__history_clear(&h, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
}
END_TEST

/* Late events into a wrapped ring that is also folding: the exact tier holds
 * the newest events in order, and nothing is lost overall. */
START_TEST(test_order_wrapped_ring)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(16, 512, 400 * DAY, NULL);
    enum { N = 200 };
    int64_t t[N];
    for (int i = 0; i < N; i++)
        t[i] = T0 + (int64_t)(i + 1) * 7 * 60000; /* every 7 minutes */
    rng_state = 42;
    for (int i = 0; i < N; i++) { /* each event at most 20 places late */
        int j = i + (int)(rnd() % 20);
        if (j < N) {
            int64_t x = t[i];
            t[i] = t[j];
            t[j] = x;
        }
    }
    for (int i = 0; i < N; i++) {
        add_ok(&h, &c, &m, t[i], 2, 0, 1.0);
        assert_sorted(&h);
    }
    ck_assert_uint_eq(h.ev_len, 16);
    /* The exact tier is the newest 16 events. */
    for (uint32_t i = 0; i < 16; i++)
        ck_assert_int_eq(ev_at(&h, i)->t_ms, T0 + (int64_t)(N - 16 + 1 + i) * 7 * 60000);
    ck_assert_uint_eq(count(&h, &c, UINT32_MAX, 0, 0, T0 + 400 * DAY), N);
    ck_assert_int_eq(h.complete_from_day <= 0, 1);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- window boundaries ------------------------------------------------ */

static const struct {
    int64_t offset; /* event time relative to now */
    int counted;
} edges[] = {
    { -7 * DAY - 1, 0 },
    { -7 * DAY, 0 },     /* t == now - w: excluded */
    { -7 * DAY + 1, 1 },
    { -1, 1 },
    { 0, 1 },            /* t == now: included */
    { 1, 0 },
};

START_TEST(test_window_edges)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(64, 512, 400 * DAY, NULL);
    int64_t now = T0 + 30 * DAY + 5 * HOUR;
    add_ok(&h, &c, &m, now + edges[_i].offset, 3, 0, 2.5);
    ck_assert_uint_eq(count(&h, &c, 3, 0, now - 7 * DAY, now), (unsigned)edges[_i].counted);
    ck_assert(sum(&h, &c, 3, 0, now - 7 * DAY, now) == (edges[_i].counted ? 2.5 : 0.0));
    /* Other types and empty windows count nothing. */
    ck_assert_uint_eq(count(&h, &c, 4, 0, now - 7 * DAY, now), 0);
    ck_assert_uint_eq(count(&h, &c, 3, 0, now, now), 0);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- folding ---------------------------------------------------------- */

START_TEST(test_fold_when_full)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(4, 512, 400 * DAY, NULL);
    /* Day 0 at 20:00 and 21:00, then four events on day 2. */
    add_ok(&h, &c, &m, T0 + 20 * HOUR, 1, 0, 1.0);
    add_ok(&h, &c, &m, T0 + 21 * HOUR, 1, 0, 2.0);
    for (int k = 0; k < 4; k++)
        add_ok(&h, &c, &m, T0 + 2 * DAY + k * HOUR, 1, 0, 10.0);
    ck_assert_uint_eq(h.ev_len, 4);
    ck_assert_uint_eq(h.day_len, 1);
    ck_assert_int_eq(h.days[0].day, 19358);
    ck_assert_uint_eq(h.days[0].count, 2);
    ck_assert(h.days[0].value == 3.0f);
    ck_assert_int_eq(h.complete_from_day <= 0, 1);

    /* Folded events answer for their whole UTC day: a window that touches
     * any part of day 0 counts both, even where they were not. */
    static const struct {
        int64_t from, to;
        uint64_t n;
    } win[] = {
        { T0 + 22 * HOUR, T0 + 23 * HOUR, 2 },           /* after both, same day */
        { T0 - DAY, T0 + 1 * HOUR, 2 },                  /* before both, same day */
        { T0 - DAY, T0, 2 },                             /* touches day 0 at 00:00 */
        { T0 - DAY, T0 - 1, 0 },                         /* day before */
        { T0 + DAY - 2, T0 + DAY + HOUR, 2 },            /* holds day 0's last ms */
        { T0 + DAY - 1, T0 + DAY + HOUR, 0 },            /* starts after it */
        { T0 + DAY, T0 + 2 * DAY - 1, 0 },               /* day 1 only */
        { T0 + 2 * DAY, T0 + 2 * DAY + 90 * 60000, 1 },  /* exact events stay exact */
        { T0 - DAY, T0 + 3 * DAY, 6 },
    };
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++)
        ck_assert_msg(count(&h, &c, 1, 0, win[i].from, win[i].to) == win[i].n, "window %zu", i);

    /* An event older than every exact one folds directly. */
    add_ok(&h, &c, &m, T0 + 1 * DAY + HOUR, 1, 0, 5.0);
    ck_assert_uint_eq(h.ev_len, 4);
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, T0 + 2 * DAY);
    ck_assert_uint_eq(h.day_len, 2);
    ck_assert_int_eq(h.days[1].day, 19359);
    /* A late event inside the exact span pushes the oldest exact one out. */
    add_ok(&h, &c, &m, T0 + 2 * DAY + 90 * 60000, 1, 0, 7.0);
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, T0 + 2 * DAY + HOUR);
    ck_assert_int_eq(ev_at(&h, 1)->t_ms, T0 + 2 * DAY + 90 * 60000);
    ck_assert_uint_eq(h.day_len, 3);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 10 * DAY), 8);
    ck_assert(fabs(sum(&h, &c, 1, 0, 0, T0 + 10 * DAY) - 55.0) < 1e-9);
    assert_sorted(&h);
    bvt__history_clear(&h, &m);
}
END_TEST

/* Aggregates never hold anything newer than the oldest exact event, so a
 * window that starts at or after it is exact even on a busy day. */
START_TEST(test_window_after_oldest_exact)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(4, 64, 400 * DAY, NULL);
    for (int k = 1; k <= 10; k++)
        add_ok(&h, &c, &m, T0 + k * HOUR, 1, 0, 1.0); /* 01:00 .. 10:00 */
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, T0 + 7 * HOUR);
    static const struct {
        int64_t from;
        uint64_t n;
    } win[] = {
        { T0 + 8 * HOUR, 2 },
        { T0 + 7 * HOUR, 3 },            /* starts at the oldest exact event */
        { T0 + 7 * HOUR - 1, 10 },       /* reaches before it: the day counts whole */
        { T0 + 6 * HOUR + 30 * 60000, 10 },
    };
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++)
        ck_assert_msg(count(&h, &c, 1, 0, win[i].from, T0 + 10 * HOUR) == win[i].n, "window %zu",
                      i);

    /* The rule holds when the exact tier starts empty beside aggregates (a
     * smaller exact bound before, or refused growth): an event on or before
     * the newest aggregated day folds, a later one is exact. */
    bvt_history g;
    memset(&g, 0, sizeof g);
    bvt_history_cfg none = cfg_of(0, 64, 400 * DAY, NULL);
    add_ok(&g, &none, &m, T0 + 20 * HOUR, 1, 0, 1.0);
    add_ok(&g, &c, &m, T0 + 2 * HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(g.ev_len, 0);
    ck_assert_uint_eq(g.days[0].count, 2);
    add_ok(&g, &c, &m, T0 + DAY + HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(g.ev_len, 1);
    add_ok(&g, &c, &m, T0 + DAY, 1, 0, 1.0); /* older than the exact one */
    ck_assert_uint_eq(g.ev_len, 1);
    ck_assert_int_eq(ev_at(&g, 0)->t_ms, T0 + DAY + HOUR);
    ck_assert_uint_eq(g.day_len, 2);
    ck_assert_uint_eq(count(&g, &c, 1, 0, T0 + DAY + HOUR - 1, T0 + 2 * DAY), 2);
    ck_assert_uint_eq(count(&g, &c, 1, 0, T0 + DAY + HOUR, T0 + 2 * DAY), 0);
    ck_assert_uint_eq(count(&g, &c, 1, 0, 0, T0 + 2 * DAY), 4);
    bvt__history_clear(&g, &m);
    bvt__history_clear(&h, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
}
END_TEST

START_TEST(test_no_exact_tier)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(0, 8, 400 * DAY, NULL);
    add_ok(&h, &c, &m, T0 + HOUR, 1, 0, 1.0);
    add_ok(&h, &c, &m, T0 + 2 * HOUR, 1, 0, 1.0);
    ck_assert_ptr_null(h.events);
    ck_assert_uint_eq(h.day_len, 1);
    ck_assert_uint_eq(count(&h, &c, 1, 0, T0 + 3 * HOUR, T0 + 4 * HOUR), 2);

    /* With neither tier, events are dropped and the history says so. */
    bvt_history g;
    memset(&g, 0, sizeof g);
    bvt_history_cfg z = cfg_of(0, 0, 400 * DAY, NULL);
    add_ok(&g, &z, &m, T0 + HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(bvt__history_bytes(&g), 0);
    ck_assert_int_eq(g.complete_from_day, 19359);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- horizon ---------------------------------------------------------- */

START_TEST(test_horizon)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(1, 64, 10 * DAY, NULL);
    add_ok(&h, &c, &m, T0 + 12 * HOUR, 1, 0, 1.0);           /* day 0 */
    add_ok(&h, &c, &m, T0 + 5 * DAY + 12 * HOUR, 1, 0, 1.0); /* day 5: day 0 folds */
    ck_assert_uint_eq(h.day_len, 1);
    ck_assert_int_le(h.complete_from_day, 0); /* nothing dropped */
    /* Newest at day 10 12:00: the horizon reaches back into day 0 (00:00 +
     * 12h), so day 0 may still overlap a maximal window and stays. */
    add_ok(&h, &c, &m, T0 + 10 * DAY + 12 * HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(h.day_len, 2);
    ck_assert_int_le(h.complete_from_day, 0); /* nothing dropped */
    /* Newest at day 11 00:00: day 0 lies wholly before newest - horizon. */
    add_ok(&h, &c, &m, T0 + 11 * DAY, 1, 0, 1.0);
    ck_assert_uint_eq(h.day_len, 2);
    ck_assert_int_eq(h.days[0].day, 19358 + 5);
    ck_assert_int_eq(h.complete_from_day, 19358 + 1);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 20 * DAY), 3);
    /* An event older than the horizon is dropped on arrival. */
    add_ok(&h, &c, &m, T0 + 12 * HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 20 * DAY), 3);
    ck_assert_int_eq(h.complete_from_day, 19358 + 1);
    /* Far ahead: every aggregate goes, the exact event stays. */
    add_ok(&h, &c, &m, T0 + 100 * DAY, 1, 0, 1.0);
    ck_assert_uint_eq(h.day_len, 0);
    ck_assert_int_eq(h.complete_from_day, 19358 + 12);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 200 * DAY), 1);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- coarsening and dropping at max_days -------------------------------- */

START_TEST(test_coarsen_then_drop)
{
    bvt_categories *cats = NULL;
    ck_assert_int_eq(bvt__categories_new(&cats), BVT_OK);
    uint32_t a = intern(cats, "home/beds"), b = intern(cats, "books");
    uint32_t home = bvt__categories_find(cats, "home", 4);
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(0, 3, 400 * DAY, cats);
    add_ok(&h, &c, &m, T0 + HOUR, 1, a, 1.0);           /* (d0, 1, a) */
    add_ok(&h, &c, &m, T0 + 2 * HOUR, 1, b, 2.0);       /* (d0, 1, b) */
    add_ok(&h, &c, &m, T0 + DAY + HOUR, 1, a, 4.0);     /* (d1, 1, a): full */
    ck_assert_uint_eq(h.day_len, 3);
    ck_assert_uint_eq(count(&h, &c, 1, home, 0, T0 + 9 * DAY), 2);

    /* A fourth key: day 0 is merged into category 0, nothing is lost. */
    add_ok(&h, &c, &m, T0 + 2 * DAY + HOUR, 1, b, 8.0);
    ck_assert_uint_eq(h.day_len, 3);
    ck_assert_int_eq(h.days[0].day, 19358);
    ck_assert_uint_eq(h.days[0].category, 0);
    ck_assert_uint_eq(h.days[0].count, 2);
    ck_assert_int_le(h.complete_from_day, 0); /* nothing dropped */
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 9 * DAY), 4);
    ck_assert(fabs(sum(&h, &c, 1, 0, 0, T0 + 9 * DAY) - 15.0) < 1e-9);
    /* Category questions no longer see day 0. */
    ck_assert_uint_eq(count(&h, &c, 1, home, 0, T0 + 9 * DAY), 1);
    ck_assert_uint_eq(count(&h, &c, 1, b, 0, T0 + 9 * DAY), 1);
    /* A late event for the coarsened day lands in category 0 of that day
     * when the tier is full... */
    add_ok(&h, &c, &m, T0 + 3 * HOUR, 1, a, 16.0);
    ck_assert_uint_eq(h.day_len, 3);
    ck_assert_uint_eq(h.days[0].count, 3);

    /* ...and a fifth key drops day 0 entirely. */
    add_ok(&h, &c, &m, T0 + 3 * DAY + HOUR, 1, a, 32.0);
    ck_assert_uint_eq(h.day_len, 3);
    ck_assert_int_eq(h.days[0].day, 19359);
    ck_assert_int_eq(h.complete_from_day, 19359);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 9 * DAY), 3);
    /* An event for a day older than everything held, with no room: dropped. */
    add_ok(&h, &c, &m, T0 + 1 * HOUR, 2, 0, 1.0);
    ck_assert_uint_eq(count(&h, &c, UINT32_MAX, 0, 0, T0 + 9 * DAY), 3);
    assert_sorted(&h);
    bvt__history_clear(&h, &m);
    bvt__categories_free(cats);
}
END_TEST

START_TEST(test_counts_saturate)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(0, 4, 400 * DAY, NULL);
    add_ok(&h, &c, &m, T0 + HOUR, 1, 0, 1e30);
    h.days[0].count = UINT32_MAX - 1;
    add_ok(&h, &c, &m, T0 + HOUR, 1, 0, 3e38);
    add_ok(&h, &c, &m, T0 + HOUR, 1, 0, 3e38);
    ck_assert_uint_eq(h.days[0].count, UINT32_MAX);
    ck_assert(isfinite(h.days[0].value));
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, 0, 1, 0, 1.0), BVT_EINVAL);
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, -5, 1, 0, 1.0), BVT_EINVAL);
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, T0, 256, 0, 1.0), BVT_EINVAL);
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, T0, 1, 65536, 1.0), BVT_EINVAL);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- categories ------------------------------------------------------- */

START_TEST(test_category_descendants)
{
    bvt_categories *cats = NULL;
    ck_assert_int_eq(bvt__categories_new(&cats), BVT_OK);
    uint32_t run = intern(cats, "sports/shoes/running");
    uint32_t shoes = bvt__categories_find(cats, "sports/shoes", 12);
    uint32_t sports = bvt__categories_find(cats, "sports", 6);
    uint32_t books = intern(cats, "books");
    uint32_t ids[] = { sports, shoes, run, run, books, 0 };
    static const struct {
        const char *filter;
        uint64_t n;
    } want[] = {
        { NULL, 6 }, { "sports", 4 }, { "sports/shoes", 3 }, { "sports/shoes/running", 2 },
        { "books", 1 },
    };
    /* Same answers from the exact tier and from day aggregates. */
    for (uint32_t max_events = 0; max_events <= 64; max_events += 64) {
        bvt_mem m = { .limit = 0 };
        bvt_history h;
        memset(&h, 0, sizeof h);
        bvt_history_cfg c = cfg_of(max_events, 64, 400 * DAY, cats);
        for (int k = 0; k < 6; k++)
            add_ok(&h, &c, &m, T0 + (k + 1) * HOUR, 1, ids[k], 1.0);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            uint32_t f = want[i].filter
                             ? bvt__categories_find(cats, want[i].filter, strlen(want[i].filter))
                             : 0;
            ck_assert_msg(count(&h, &c, 1, f, T0, T0 + DAY) == want[i].n, "%s, max_events %u",
                          want[i].filter ? want[i].filter : "any", max_events);
        }
        bvt__history_clear(&h, &m);
    }
    bvt__categories_free(cats);
}
END_TEST

/* ---- a heavy user against brute force ----------------------------------- */

typedef struct gen_event {
    int64_t t;
    uint32_t type, cat;
    double v;
} gen_event;

static int by_time_desc(const void *a, const void *b)
{
    const gen_event *x = a, *y = b;
    return x->t < y->t ? 1 : x->t > y->t ? -1 : 0;
}

/* A full day tier merges the categories of the oldest day that still has
 * them, so per-type counts survive before any day is dropped. */
START_TEST(test_coarsens_oldest_detailed_day_first)
{
    bvt_categories *cats = NULL;
    ck_assert_int_eq(bvt__categories_new(&cats), BVT_OK);
    uint32_t c1 = intern(cats, "a"), c2 = intern(cats, "b");
    bvt_history_cfg c = cfg_of(0, 4, 400 * DAY, cats);
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    for (int d = 1; d <= 2; d++) {
        add_ok(&h, &c, &m, T0 + d * DAY, 0, c1, 1);
        add_ok(&h, &c, &m, T0 + d * DAY, 0, c2, 1);
    }
    add_ok(&h, &c, &m, T0 + 3 * DAY, 0, c1, 1); /* coarsens day 1 */
    add_ok(&h, &c, &m, T0 + 3 * DAY, 0, c2, 1); /* coarsens day 2 */
    add_ok(&h, &c, &m, T0 + 4 * DAY, 0, c1, 1); /* coarsens day 3 */
    ck_assert_int_le(h.complete_from_day, 0); /* nothing dropped */
    uint64_t n;
    bvt__history_window(&h, &c, UINT32_MAX, 0, T0, T0 + 5 * DAY, &n, NULL);
    ck_assert_uint_eq(n, 7);
    bvt__history_window(&h, &c, 0, c1, T0 + 4 * DAY - 1, T0 + 5 * DAY, &n, NULL);
    ck_assert_uint_eq(n, 1); /* the newest day keeps its categories */
    bvt__history_window(&h, &c, 0, c1, T0, T0 + 3 * DAY + 1, &n, NULL);
    ck_assert_uint_eq(n, 0); /* coarsened days answer only "any category" */
    bvt__history_clear(&h, &m);
    bvt__categories_free(cats);
}
END_TEST

START_TEST(test_heavy_user)
{
    bvt_categories *cats = NULL;
    ck_assert_int_eq(bvt__categories_new(&cats), BVT_OK);
    const char *paths[] = { "sports/shoes/running", "sports/tennis", "books/scifi", "home" };
    uint32_t cat_ids[8] = { 0 };
    for (int i = 0; i < 4; i++)
        cat_ids[i + 1] = intern(cats, paths[i]);
    cat_ids[5] = bvt__categories_find(cats, "sports", 6);
    cat_ids[6] = bvt__categories_find(cats, "books", 5);
    uint32_t sports = cat_ids[5];

    /* A year of events, 4 to 16 a day at distinct times, 4 types. */
    enum { MAXN = 366 * 16 };
    gen_event *g = calloc(MAXN, sizeof *g);
    ck_assert_ptr_nonnull(g);
    int n = 0;
    rng_state = 7;
    for (int d = 0; d < 365; d++) {
        int k = 4 + (int)(rnd() % 13);
        for (int j = 0; j < k; j++) {
            gen_event *e = &g[n++];
            e->t = T0 + d * DAY + j * (DAY / 16) + (int64_t)(rnd() % (DAY / 16));
            e->type = rnd() % 4;
            e->cat = cat_ids[rnd() % 7];
            e->v = (double)(rnd() % 1000) / 4.0;
        }
    }
    ck_assert_int_gt(n, 3000);
    /* Feed mostly in order, some events up to 30 places late. */
    int *order = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 0; i < n; i++)
        if (rnd() % 8 == 0) {
            int j = i + (int)(rnd() % 30);
            if (j < n) {
                int x = order[i];
                order[i] = order[j];
                order[j] = x;
            }
        }

    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(64, 512, 400 * DAY, cats);
    size_t bound = (64 + 512) * 16;
    for (int i = 0; i < n; i++) {
        const gen_event *e = &g[order[i]];
        add_ok(&h, &c, &m, e->t, e->type, e->cat, e->v);
        ck_assert_uint_le(bvt__history_bytes(&h), bound);
    }
    ck_assert_uint_eq(bvt__history_bytes(&h), bound);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], bound);
    ck_assert_uint_eq(h.ev_len, 64);
    ck_assert_uint_le(h.day_len, 512); /* a dropped day may free several */
    ck_assert_uint_gt(h.day_len, 500);
    assert_sorted(&h);
    /* A year does not fit in 512 aggregates: the oldest days are gone and
     * the history says from where it is whole. */
    ck_assert_int_gt(h.complete_from_day, 19358);
    ck_assert_int_ge(h.days[0].day, h.complete_from_day);

    /* Brute force: the newest 64 events are exact; older ones answer for
     * their whole day when the day is held (>= complete_from_day) and the
     * window starts before the oldest exact event. */
    qsort(g, (size_t)n, sizeof *g, by_time_desc);
    int64_t newest = g[0].t, oldest_exact = g[63].t;
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, oldest_exact);
    /* The newest day whose categorised events were merged into category 0. */
    int32_t last_coarse = INT32_MIN;
    for (uint32_t i = 0; i < h.day_len; i++) {
        /* more category-0 events held than were sent without a category */
        int32_t d = h.days[i].day;
        uint64_t held = 0, sent = 0;
        for (uint32_t j = 0; j < h.day_len; j++)
            if (h.days[j].day == d && h.days[j].category == 0)
                held += h.days[j].count;
        for (int k = 64; k < n; k++)
            sent += g[k].t / DAY == d && g[k].cat == 0;
        if (held > sent && d > last_coarse)
            last_coarse = d;
    }
    ck_assert_int_lt(last_coarse, (int32_t)(newest / DAY)); /* recent days keep detail */
    static const int64_t windows[] = { DAY, 7 * DAY, 90 * DAY, 365 * DAY };
    static const int64_t ends[] = { 0, 12 * HOUR };
    uint32_t types[] = { UINT32_MAX, 0, 1, 2, 3 };
    for (size_t wi = 0; wi < 4; wi++)
        for (size_t ei = 0; ei < 2; ei++)
            for (size_t ti = 0; ti < 5; ti++)
                for (int cf = 0; cf < 2; cf++) {
                    int64_t now = newest + ends[ei], from = now - windows[wi];
                    uint32_t cat = cf ? sports : 0;
                    /* Coarsened days lost their categories; category
                     * questions are compared on windows that avoid them. */
                    if (cat && (from + 1) / DAY <= last_coarse)
                        continue;
                    uint64_t want_n = 0;
                    double want_s = 0;
                    for (int i = 0; i < n; i++) {
                        const gen_event *e = &g[i];
                        if (types[ti] != UINT32_MAX && e->type != types[ti])
                            continue;
                        if (!bvt__categories_within(cats, e->cat, cat))
                            continue;
                        int in;
                        if (i < 64) {
                            in = e->t > from && e->t <= now;
                        } else {
                            int64_t d = e->t / DAY;
                            in = from < oldest_exact && d >= (from + 1) / DAY &&
                                 d <= now / DAY && d >= h.complete_from_day;
                        }
                        if (in) {
                            want_n++;
                            want_s += e->v;
                        }
                    }
                    uint64_t got_n;
                    double got_s;
                    bvt__history_window(&h, &c, types[ti], cat, from, now, &got_n, &got_s);
                    ck_assert_msg(got_n == want_n,
                                  "window %lld days, end +%lldh, type %u, cat %u: %llu != %llu",
                                  (long long)(windows[wi] / DAY), (long long)(ends[ei] / HOUR),
                                  types[ti], cat, (unsigned long long)got_n,
                                  (unsigned long long)want_n);
                    ck_assert(fabs(got_s - want_s) <= 1e-4 * want_s + 1e-6);
                }

    /* daily() over the last 30 days equals per-day brute-force sums. */
    int32_t last = (int32_t)(newest / DAY), first = last - 29;
    ck_assert_int_ge(first, h.complete_from_day);
    int32_t days[30];
    double vals[30];
    size_t nd = bvt__history_daily(&h, 2, first, last, days, vals, 30);
    size_t want_days = 0;
    for (int32_t d = first; d <= last; d++) {
        double want = 0;
        int seen = 0;
        for (int k = 0; k < n; k++)
            if (g[k].type == 2 && g[k].t / DAY == d) {
                want += g[k].v;
                seen = 1;
            }
        if (!seen)
            continue;
        ck_assert_uint_lt(want_days, nd);
        ck_assert_int_eq(days[want_days], d);
        ck_assert(fabs(vals[want_days] - want) <= 1e-4 * want + 1e-6);
        want_days++;
    }
    ck_assert_uint_eq(nd, want_days);
    ck_assert_uint_gt(nd, 10);

    bvt__history_clear(&h, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
    free(order);
    free(g);
    bvt__categories_free(cats);
}
END_TEST

/* ---- daily ------------------------------------------------------------ */

START_TEST(test_daily)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(3, 64, 400 * DAY, NULL);
    /* Purchases (type 5) on days 0, 2, 2, 5, 5 and views (type 1) on day 1;
     * then a late purchase on day 2, so day 2 is in both tiers. */
    add_ok(&h, &c, &m, T0 + HOUR, 5, 0, 10.0);
    add_ok(&h, &c, &m, T0 + DAY + HOUR, 1, 0, 99.0);
    add_ok(&h, &c, &m, T0 + 2 * DAY + HOUR, 5, 0, 20.0);
    add_ok(&h, &c, &m, T0 + 2 * DAY + 2 * HOUR, 5, 0, 1.0);
    add_ok(&h, &c, &m, T0 + 5 * DAY + HOUR, 5, 0, 30.0);
    add_ok(&h, &c, &m, T0 + 5 * DAY + 2 * HOUR, 5, 0, 2.0);
    add_ok(&h, &c, &m, T0 + 2 * DAY, 5, 0, 3.0);
    ck_assert_uint_eq(h.ev_len, 3);
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, T0 + 2 * DAY + 2 * HOUR);

    int32_t d[8];
    double v[8];
    size_t n = bvt__history_daily(&h, 5, 19358, 19358 + 9, d, v, 8);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(d[0], 19358);
    ck_assert(v[0] == 10.0);
    ck_assert_int_eq(d[1], 19360);
    ck_assert(v[1] == 24.0);
    ck_assert_int_eq(d[2], 19363);
    ck_assert(v[2] == 32.0);
    /* Inclusive range, other type, and a cap smaller than the answer. */
    ck_assert_uint_eq(bvt__history_daily(&h, 5, 19360, 19363, d, v, 8), 2);
    ck_assert_uint_eq(bvt__history_daily(&h, 5, 19361, 19362, d, v, 8), 0);
    ck_assert_uint_eq(bvt__history_daily(&h, 1, 19358, 19368, d, v, 8), 1);
    ck_assert(v[0] == 99.0);
    d[1] = -1;
    ck_assert_uint_eq(bvt__history_daily(&h, 5, 19358, 19368, d, v, 1), 3);
    ck_assert_int_eq(d[0], 19358);
    ck_assert_int_eq(d[1], -1);
    ck_assert_uint_eq(bvt__history_daily(&h, 5, 19358, 19368, NULL, NULL, 0), 3);
    bvt__history_clear(&h, &m);
}
END_TEST

/* ---- merge ------------------------------------------------------------ */

START_TEST(test_merge)
{
    bvt_mem m = { .limit = 0 };
    bvt_history a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    bvt_history_cfg c = cfg_of(4, 64, 400 * DAY, NULL);
    for (int k = 0; k < 6; k++) {
        add_ok(&a, &c, &m, T0 + k * DAY + HOUR, 1, 0, 1.0);
        add_ok(&b, &c, &m, T0 + k * DAY + 2 * HOUR, 1, 0, 2.0);
        add_ok(&b, &c, &m, T0 + k * DAY + 3 * HOUR, 2, 0, 4.0);
    }
    ck_assert_int_eq(bvt__history_merge(&a, &b, &c, &m), BVT_OK);
    ck_assert_uint_eq(b.ev_len + b.day_len, 0);
    ck_assert_uint_eq(bvt__history_bytes(&b), 0);
    ck_assert_uint_eq(a.ev_len, 4);
    assert_sorted(&a);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], bvt__history_bytes(&a));
    ck_assert_uint_eq(count(&a, &c, UINT32_MAX, 0, 0, T0 + 9 * DAY), 18);
    ck_assert_uint_eq(count(&a, &c, 1, 0, 0, T0 + 9 * DAY), 12);
    ck_assert(fabs(sum(&a, &c, UINT32_MAX, 0, 0, T0 + 9 * DAY) - 42.0) < 1e-9);
    /* The newest four are exact: day 4 at 3h and day 5 at 1h, 2h, 3h. */
    ck_assert_int_eq(ev_at(&a, 0)->t_ms, T0 + 4 * DAY + 3 * HOUR);
    ck_assert_int_eq(ev_at(&a, 3)->t_ms, T0 + 5 * DAY + 3 * HOUR);
    ck_assert_uint_eq(count(&a, &c, UINT32_MAX, 0, T0 + 5 * DAY + HOUR, T0 + 6 * DAY), 2);

    /* Into an empty history: the arrays move, nothing is copied. */
    bvt_history e;
    memset(&e, 0, sizeof e);
    const bvt_hist_event *arr = a.events;
    ck_assert_int_eq(bvt__history_merge(&e, &a, &c, &m), BVT_OK);
    ck_assert_ptr_eq(e.events, arr);
    ck_assert_uint_eq(count(&e, &c, UINT32_MAX, 0, 0, T0 + 9 * DAY), 18);
    /* From an empty history: nothing changes. */
    ck_assert_int_eq(bvt__history_merge(&e, &a, &c, &m), BVT_OK);
    ck_assert_uint_eq(count(&e, &c, UINT32_MAX, 0, 0, T0 + 9 * DAY), 18);

    /* Bounds of dst apply: a full day tier keeps the newest days. */
    bvt_history_cfg small = cfg_of(2, 3, 400 * DAY, NULL);
    bvt_history x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    for (int k = 0; k < 5; k++) {
        add_ok(&x, &small, &m, T0 + k * DAY + HOUR, 1, 0, 1.0);
        add_ok(&y, &small, &m, T0 + k * DAY + 2 * HOUR, 1, 0, 1.0);
    }
    ck_assert_int_eq(bvt__history_merge(&x, &y, &small, &m), BVT_OK);
    ck_assert_uint_eq(x.ev_len, 2);
    ck_assert_uint_le(x.day_len, 3);
    ck_assert_int_eq(x.complete_from_day, 19358 + 1);
    ck_assert_uint_eq(count(&x, &small, 1, 0, T0 + DAY, T0 + 9 * DAY), 8);
    bvt__history_clear(&x, &m);
    bvt__history_clear(&e, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
}
END_TEST

/* No room for the merged copy: the budget shapes the merge, it does not
 * refuse it (an alias never half happens) — dst keeps its own history and
 * src's days count as dropped. */
START_TEST(test_merge_without_room)
{
    bvt_mem m = { .limit = 0 };
    bvt_history a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    bvt_history_cfg c = cfg_of(4, 64, 400 * DAY, NULL);
    add_ok(&a, &c, &m, T0 + HOUR, 1, 0, 1.0);
    add_ok(&b, &c, &m, T0 + 2 * HOUR, 1, 0, 1.0);
    m.limit = bvt__mem_total(&m);
    ck_assert_int_eq(bvt__history_merge(&a, &b, &c, &m), BVT_OK);
    ck_assert_uint_eq(a.ev_len, 1);
    ck_assert_int_eq(bvt__history_event_at(&a, 0)->t_ms, T0 + HOUR);
    ck_assert_uint_eq(b.ev_len, 0);
    ck_assert_uint_eq(b.day_len, 0);
    ck_assert_int_eq(a.complete_from_day, (int32_t)((T0 + 2 * HOUR) / DAY) + 1);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], bvt__history_bytes(&a));
    bvt__history_clear(&a, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
}
END_TEST

/* ---- growth tiers and the memory limit ---------------------------------- */

static const struct {
    uint32_t max_events;
    int events;
    size_t bytes;
} tiers[] = {
    { 64, 1, 4 * 16 },   { 64, 4, 4 * 16 },   { 64, 5, 16 * 16 },
    { 64, 20, 64 * 16 }, { 64, 64, 64 * 16 }, { 10, 5, 10 * 16 },
    /* max_events 0: the day tier grows the same way (one day per event). */
    { 0, 1, 4 * 16 },    { 0, 5, 16 * 16 },   { 0, 20, 64 * 16 },
};

START_TEST(test_growth_tiers)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(tiers[_i].max_events, 512, 400 * DAY, NULL);
    for (int k = 0; k < tiers[_i].events; k++)
        add_ok(&h, &c, &m, T0 + k * DAY, 1, 0, 1.0);
    ck_assert_uint_eq(bvt__history_bytes(&h), tiers[_i].bytes);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], tiers[_i].bytes);
    bvt__history_clear(&h, &m);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);
}
END_TEST

START_TEST(test_memory_limit)
{
    bvt_mem m = { .limit = 0 };
    bvt_history h;
    memset(&h, 0, sizeof h);
    bvt_history_cfg c = cfg_of(64, 512, 400 * DAY, NULL);

    /* Nothing held and no room: refused, nothing changes. */
    m.limit = 32;
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, T0, 1, 0, 1.0), BVT_EFULL);
    ck_assert_uint_eq(h.ev_len + h.day_len, 0);
    ck_assert_uint_eq(m.bytes[BVT_MEM_HISTORY], 0);

    /* Four exact events, room for neither a bigger ring nor a day tier:
     * the fifth cannot be recorded, and the four are untouched. */
    m.limit = 64;
    for (int k = 0; k < 4; k++)
        add_ok(&h, &c, &m, T0 + k * HOUR, 1, 0, 1.0);
    ck_assert_int_eq(bvt__history_add(&h, &c, &m, T0 + 5 * HOUR, 1, 0, 1.0), BVT_EFULL);
    ck_assert_uint_eq(h.ev_len, 4);
    ck_assert_uint_eq(h.day_len, 0);
    ck_assert_int_eq(ev_at(&h, 0)->t_ms, T0);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + DAY), 4);

    /* Room for a small day tier: the ring cannot grow, so its oldest event
     * folds and the new one is recorded. */
    m.limit = 128;
    add_ok(&h, &c, &m, T0 + 5 * HOUR, 1, 0, 1.0);
    ck_assert_uint_eq(h.ev_cap, 4);
    ck_assert_uint_eq(h.ev_len, 4);
    ck_assert_uint_eq(h.day_len, 1);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + DAY), 5);
    /* Days keep coming: the 4-slot day tier acts as the bound (oldest days
     * are dropped) and every call succeeds within the limit. */
    for (int k = 1; k < 12; k++)
        add_ok(&h, &c, &m, T0 + k * DAY, 1, 0, 1.0);
    ck_assert_uint_le(bvt__mem_total(&m), 128);
    ck_assert_uint_eq(h.day_len, 4);
    ck_assert_int_gt(h.complete_from_day, 19358);
    ck_assert_uint_eq(count(&h, &c, 1, 0, 0, T0 + 20 * DAY), 8);
    bvt__history_clear(&h, &m);
}
END_TEST

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *t = tcase_create("history");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_order_table, 0, (int)(sizeof orders / sizeof orders[0]));
    tcase_add_test(t, test_order_wrapped_ring);
    tcase_add_loop_test(t, test_window_edges, 0, (int)(sizeof edges / sizeof edges[0]));
    tcase_add_test(t, test_fold_when_full);
    tcase_add_test(t, test_window_after_oldest_exact);
    tcase_add_test(t, test_no_exact_tier);
    tcase_add_test(t, test_horizon);
    tcase_add_test(t, test_coarsen_then_drop);
    tcase_add_test(t, test_counts_saturate);
    tcase_add_test(t, test_category_descendants);
    tcase_add_test(t, test_coarsens_oldest_detailed_day_first);
    tcase_add_test(t, test_heavy_user);
    tcase_add_test(t, test_daily);
    tcase_add_test(t, test_merge);
    tcase_add_test(t, test_merge_without_room);
    tcase_add_loop_test(t, test_growth_tiers, 0, (int)(sizeof tiers / sizeof tiers[0]));
    tcase_add_test(t, test_memory_limit);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(history_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
