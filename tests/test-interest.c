/* test-interest.c — decayed interest scores as a caller reads them: type
 * weights, ancestor credit, half-life decay (in order and late), affinity,
 * ordering, the top-K bound and its admission rule, search keywords and
 * custom types.  Public API only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "interest-test-secret-0123456789"
#include "testutil.h"

#define HALF_LIFE (14 * DAY) /* the default */

static void search(bvt_engine *e, const char *user, int64_t t, const char *text)
{
    bvt_event ev = make_event(user, BVT_EVENT_SEARCH, t, NULL, 0);
    ev.search_text = text;
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
}

struct interests {
    size_t n;
    bvt_interest in[16];
};

static struct interests interests_of(bvt_engine *e, const char *user, int64_t now)
{
    struct interests r;
    memset(&r, 0, sizeof r);
    int rc = bvt_profile_interests(e, user, strlen(user), now, r.in, 16, &r.n);
    ck_assert_msg(rc == BVT_OK, "interests of %s: %d", user, rc);
    ck_assert_uint_le(r.n, 16);
    return r;
}

/* Score of a category, or -1 when the user does not hold it. */
static double score(const struct interests *r, const char *cat)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->in[i].category, cat) == 0)
            return r->in[i].score;
    return -1.0;
}

#define ASSERT_SCORE(r, cat, want)                                                         \
    do {                                                                                   \
        double got_ = score((r), (cat));                                                   \
        ck_assert_msg(close_rel(got_, (want), 1e-4), "%s: score %.9g, want %.9g", (cat),   \
                      got_, (double)(want));                                               \
    } while (0)

#define ASSERT_ABSENT(r, cat) \
    ck_assert_msg(score((r), (cat)) < 0, "%s is held but should not be", (cat))

static double decayed(double w, int64_t t, int64_t now, int64_t half_life)
{
    return w * pow(2.0, -(double)(now - t) / (double)half_life);
}

/* Sorted by score, affinities sum to 1, paths match ids. */
static void assert_well_formed(bvt_engine *e, const struct interests *r)
{
    double sum = 0, aff = 0;
    for (size_t i = 0; i < r->n; i++)
        sum += r->in[i].score;
    for (size_t i = 0; i < r->n; i++) {
        const bvt_interest *x = &r->in[i];
        ck_assert_ptr_nonnull(x->category);
        ck_assert_str_eq(x->category, bvt_category_name(e, x->category_id));
        ck_assert(x->score > 0);
        ck_assert(x->affinity >= 0 && x->affinity <= 1);
        ck_assert_msg(close_rel(x->affinity, x->score / sum, 1e-9), "affinity %g want %g",
                      x->affinity, x->score / sum);
        aff += x->affinity;
        if (i)
            ck_assert_msg(r->in[i - 1].score >= x->score, "not sorted at %zu", i);
    }
    if (r->n)
        ck_assert(close_rel(aff, 1.0, 1e-9));
}

/* ---------------------------------------------------------------- weights */

START_TEST(ancestors_get_half_by_default)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "a/b/c", 0);
    struct interests r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 3);
    assert_well_formed(e, &r);
    ck_assert_str_eq(r.in[0].category, "a/b/c");
    ck_assert_str_eq(r.in[1].category, "a/b");
    ck_assert_str_eq(r.in[2].category, "a");
    ASSERT_SCORE(&r, "a/b/c", 1.0);
    ASSERT_SCORE(&r, "a/b", 0.5);
    ASSERT_SCORE(&r, "a", 0.25);
    ck_assert(close_rel(r.in[0].affinity, 1.0 / 1.75, 1e-9));
    uint32_t id = 0;
    ck_assert_int_eq(bvt_category_lookup(e, "a/b/c", &id), BVT_OK);
    ck_assert_uint_eq(r.in[0].category_id, id);

    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0, &p), BVT_OK);
    ck_assert_uint_eq(p.interests, 3);
    bvt_engine_free(e);
}
END_TEST

struct credit_case {
    double credit; /* option */
    double leaf, parent, grandparent; /* -1 = absent */
};

static const struct credit_case credits[] = {
    { 0.2, 1.0, 0.2, 0.04 },
    { 0.75, 1.0, 0.75, 0.5625 },
    { 1.0, 1.0, 1.0, 1.0 },
    { -1.0, 1.0, -1, -1 }, /* negative means no credit */
};

START_TEST(ancestor_credit_option)
{
    const struct credit_case *c = &credits[_i];
    bvt_options o = BVT_OPTIONS_INIT;
    o.ancestor_credit = c->credit;
    bvt_engine *e = engine_with(&o);
    /* A click weighs 2. */
    track_ok(e, "u", BVT_EVENT_CLICK, T0, "x/y/z", 0);
    struct interests r = interests_of(e, "u", T0);
    assert_well_formed(e, &r);
    ASSERT_SCORE(&r, "x/y/z", 2 * c->leaf);
    if (c->parent < 0) {
        ASSERT_ABSENT(&r, "x/y");
        ASSERT_ABSENT(&r, "x");
        ck_assert_uint_eq(r.n, 1);
    } else {
        ASSERT_SCORE(&r, "x/y", 2 * c->parent);
        ASSERT_SCORE(&r, "x", 2 * c->grandparent);
    }
    bvt_engine_free(e);
}
END_TEST

/* Every built-in type but search (which credits keywords) with a category. */
START_TEST(default_weight_per_type)
{
    uint32_t t = (uint32_t)_i;
    if (t == BVT_EVENT_SEARCH)
        return;
    bvt_engine *e = engine_default();
    track_ok(e, "u", t, T0, "cat", 0);
    struct interests r = interests_of(e, "u", T0);
    double w = bvt_default_type_weight(t);
    if (w == 0) {
        ck_assert_msg(r.n == 0, "type %u (weight 0) created an interest", t);
    } else {
        ck_assert_uint_eq(r.n, 1);
        ASSERT_SCORE(&r, "cat", w);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(type_weights_option)
{
    static const double short_w[1] = { 5.0 };
    double all_w[BVT_EVENT_BUILTIN_COUNT];
    for (int i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        all_w[i] = 0.25 * (i + 1);

    bvt_options o = BVT_OPTIONS_INIT;
    o.type_weights = short_w;
    o.type_weights_len = 1;
    bvt_engine *e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "p", 0);
    track_ok(e, "u", BVT_EVENT_CLICK, T0, "c", 0);
    struct interests r = interests_of(e, "u", T0);
    ASSERT_SCORE(&r, "p", 5.0);
    ASSERT_SCORE(&r, "c", 2.0); /* beyond the array: the default */
    bvt_engine_free(e);

    o = (bvt_options)BVT_OPTIONS_INIT;
    o.type_weights = all_w;
    o.type_weights_len = BVT_EVENT_BUILTIN_COUNT;
    e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_IMPRESSION, T0, "imp", 0);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0, "buy", 0);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_keyword_map(e, "sofa", "furniture", &err), BVT_OK);
    search(e, "u", T0, "sofa");
    r = interests_of(e, "u", T0);
    ASSERT_SCORE(&r, "imp", all_w[BVT_EVENT_IMPRESSION]);
    ASSERT_SCORE(&r, "buy", all_w[BVT_EVENT_PURCHASE]);
    ASSERT_SCORE(&r, "furniture", all_w[BVT_EVENT_SEARCH]);
    bvt_engine_free(e);
}
END_TEST

START_TEST(zero_weight_makes_no_interest)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_IMPRESSION, T0, "ads/banner", 0);
    track_ok(e, "u", BVT_EVENT_REMOVE_FROM_CART, T0 + 1, "shop/x", 0);
    struct interests r = interests_of(e, "u", T0 + 2);
    ck_assert_uint_eq(r.n, 0);
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0 + 2, &p), BVT_OK);
    ck_assert_uint_eq(p.interests, 0);
    ck_assert_uint_eq(p.events, 2);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- decay */

struct timed {
    uint32_t type;
    int64_t t;
};

static const struct timed decay_events[] = {
    { BVT_EVENT_PAGE_VIEW, T0 },
    { BVT_EVENT_PURCHASE, T0 + 3 * DAY },
    { BVT_EVENT_CLICK, T0 + 5 * DAY + 7 * HOUR },
    { BVT_EVENT_SHARE, T0 + 9 * DAY + 13 * MIN },
    { BVT_EVENT_EMAIL_OPEN, T0 + 20 * DAY },
};
#define NDECAY (sizeof decay_events / sizeof decay_events[0])

static double expected_decay(int64_t now, int64_t half_life)
{
    double s = 0;
    for (size_t i = 0; i < NDECAY; i++)
        s += decayed(bvt_default_type_weight(decay_events[i].type), decay_events[i].t, now,
                     half_life);
    return s;
}

START_TEST(scores_decay_with_half_life)
{
    bvt_engine *e = engine_default();
    /* "fwd" in time order; "rev" in reverse (every event late); "mix" shuffled. */
    static const int mix[NDECAY] = { 2, 4, 0, 3, 1 };
    for (size_t i = 0; i < NDECAY; i++) {
        track_ok(e, "fwd", decay_events[i].type, decay_events[i].t, "home/garden", 0);
        track_ok(e, "rev", decay_events[NDECAY - 1 - i].type, decay_events[NDECAY - 1 - i].t,
                 "home/garden", 0);
        track_ok(e, "mix", decay_events[mix[i]].type, decay_events[mix[i]].t, "home/garden", 0);
    }
    static const int64_t nows[] = { 20 * DAY, 21 * DAY + 5 * HOUR, 60 * DAY, 365 * DAY };
    static const char *users[] = { "fwd", "rev", "mix" };
    for (size_t k = 0; k < sizeof nows / sizeof nows[0]; k++) {
        int64_t now = T0 + nows[k];
        double want = expected_decay(now, HALF_LIFE);
        for (int u = 0; u < 3; u++) {
            struct interests r = interests_of(e, users[u], now);
            ck_assert_uint_eq(r.n, 2);
            assert_well_formed(e, &r);
            ck_assert_msg(close_rel(score(&r, "home/garden"), want, 1e-4),
                          "%s at +%lld ms: %.9g want %.9g", users[u], (long long)nows[k],
                          score(&r, "home/garden"), want);
            ASSERT_SCORE(&r, "home", want * 0.5);
        }
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(half_life_option)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.interest_half_life_ms = DAY;
    bvt_engine *e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0, "c", 0);
    struct interests r = interests_of(e, "u", T0 + DAY);
    ASSERT_SCORE(&r, "c", 4.0);
    r = interests_of(e, "u", T0 + 3 * DAY);
    ASSERT_SCORE(&r, "c", 1.0);
    r = interests_of(e, "u", T0 + 36 * HOUR);
    ASSERT_SCORE(&r, "c", 8.0 / sqrt(8.0));
    /* A late event decays from its own time. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 - DAY, "c", 0);
    r = interests_of(e, "u", T0 + DAY);
    ASSERT_SCORE(&r, "c", 4.0 + 2.0);
    bvt_engine_free(e);
}
END_TEST

/* Scores stay right over years of activity and after a very old event. */
START_TEST(scores_over_long_spans)
{
    bvt_engine *e = engine_default();
    double want = 0;
    const int64_t last = T0 + 120 * 30 * DAY;
    for (int k = 0; k <= 120; k++) { /* monthly for ten years */
        int64_t t = T0 + (int64_t)k * 30 * DAY;
        track_ok(e, "u", BVT_EVENT_CLICK, t, "c", 0);
    }
    for (int k = 0; k <= 120; k++)
        want += decayed(2.0, T0 + (int64_t)k * 30 * DAY, last + DAY, HALF_LIFE);
    struct interests r = interests_of(e, "u", last + DAY);
    ck_assert_uint_eq(r.n, 1);
    ASSERT_SCORE(&r, "c", want);

    /* An event in 1970, then one now. */
    track_ok(e, "old", BVT_EVENT_PURCHASE, 1, "c", 0);
    track_ok(e, "old", BVT_EVENT_PAGE_VIEW, T0, "c", 0);
    r = interests_of(e, "old", T0);
    ASSERT_SCORE(&r, "c", 1.0);
    /* And the other way round: a late 1970 event after a recent one. */
    track_ok(e, "late", BVT_EVENT_PAGE_VIEW, T0, "d", 0);
    track_ok(e, "late", BVT_EVENT_PURCHASE, 1, "d", 0);
    r = interests_of(e, "late", T0 + HALF_LIFE);
    ASSERT_SCORE(&r, "d", 0.5);
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- bounds */

START_TEST(top_interests_bound_default_16)
{
    bvt_engine *e = engine_default();
    char cat[16];
    for (int i = 0; i < 20; i++) {
        snprintf(cat, sizeof cat, "cat%02d", i);
        for (int k = 0; k <= i % 5; k++)
            track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + i * MIN + k, cat, 0);
    }
    struct interests r = interests_of(e, "u", T0 + HOUR);
    ck_assert_uint_eq(r.n, 16);
    assert_well_formed(e, &r);
    bvt_profile p;
    bvt_profile_init(&p);
    ck_assert_int_eq(bvt_profile_get(e, "u", 1, T0 + HOUR, &p), BVT_OK);
    ck_assert_uint_eq(p.interests, 16);

    /* A smaller output array gets the top ones. */
    bvt_interest two[2];
    size_t n = 99;
    ck_assert_int_eq(bvt_profile_interests(e, "u", 1, T0 + HOUR, two, 2, &n), BVT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(two[0].category_id, r.in[0].category_id);
    ck_assert(two[0].score == r.in[0].score);
    ck_assert(two[1].score == r.in[1].score);
    ck_assert(close_rel(two[0].affinity, r.in[0].affinity, 1e-12));
    n = 99;
    ck_assert_int_eq(bvt_profile_interests(e, "u", 1, T0 + HOUR, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(top_interests_option)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.top_interests = 4;
    bvt_engine *e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "a/b/c/d/e/f", 0);
    struct interests r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 4);
    assert_well_formed(e, &r);
    bvt_engine_free(e);

    o.top_interests = 1;
    e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0, "big", 0);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "small", 0);
    r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 1);
    ASSERT_SCORE(&r, "big", 8.0);
    ck_assert(close_rel(r.in[0].affinity, 1.0, 1e-12));
    bvt_engine_free(e);
}
END_TEST

/* An engine keeping 3 interests; "u" holds A (8), B (4) and C (2) at T0. */
static bvt_engine *top3_holding_abc(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.top_interests = 3;
    bvt_engine *e = engine_with(&o);
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0, "A", 0);    /* 8 */
    track_ok(e, "u", BVT_EVENT_ADD_TO_CART, T0, "B", 0); /* 4 */
    track_ok(e, "u", BVT_EVENT_CLICK, T0, "C", 0);       /* 2 */
    return e;
}

/* With top 3 held, a newcomer enters only if its weight, decayed to a
 * common time, is at least the lowest held score; it replaces the lowest. */
START_TEST(admission_when_full)
{
    bvt_engine *e = top3_holding_abc();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "D", 0); /* 1 < 2: stays out */
    struct interests r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 3);
    ASSERT_SCORE(&r, "A", 8);
    ASSERT_SCORE(&r, "B", 4);
    ASSERT_SCORE(&r, "C", 2);
    ASSERT_ABSENT(&r, "D");

    track_ok(e, "u", BVT_EVENT_CLICK, T0, "E", 0); /* 2 >= 2: replaces C */
    r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 3);
    ASSERT_SCORE(&r, "E", 2);
    ASSERT_ABSENT(&r, "C");
    ASSERT_SCORE(&r, "A", 8);
    ASSERT_SCORE(&r, "B", 4);

    /* Two half-lives later A=2, B=1, E=0.5: a page view (1) replaces E. */
    const int64_t later = T0 + 2 * HALF_LIFE;
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, later, "G", 0);
    r = interests_of(e, "u", later);
    ck_assert_uint_eq(r.n, 3);
    ASSERT_SCORE(&r, "A", 2);
    ASSERT_SCORE(&r, "B", 1);
    ASSERT_SCORE(&r, "G", 1);
    ASSERT_ABSENT(&r, "E");
    assert_well_formed(e, &r);

    /* A held category keeps gaining when full. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, later, "B", 0);
    r = interests_of(e, "u", later);
    ASSERT_SCORE(&r, "B", 9);
    ck_assert_str_eq(r.in[0].category, "B");
    bvt_engine_free(e);
}
END_TEST

START_TEST(admission_of_late_events)
{
    bvt_engine *e = top3_holding_abc();
    /* Late purchase one half-life back: worth 4 at T0 >= 2, replaces C. */
    track_ok(e, "u", BVT_EVENT_PURCHASE, T0 - HALF_LIFE, "D", 0);
    /* Late page view a half-life back: worth 0.5 at T0, stays out. */
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 - HALF_LIFE, "F", 0);
    /* Late click three half-lives back: worth 0.25, stays out. */
    track_ok(e, "u", BVT_EVENT_CLICK, T0 - 3 * HALF_LIFE, "H", 0);
    struct interests r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 3);
    ASSERT_SCORE(&r, "A", 8);
    ASSERT_SCORE(&r, "B", 4);
    ASSERT_SCORE(&r, "D", 4);
    ASSERT_ABSENT(&r, "C");
    ASSERT_ABSENT(&r, "F");
    ASSERT_ABSENT(&r, "H");
    bvt_engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- search, custom */

START_TEST(search_credits_mapped_keywords)
{
    bvt_engine *e = engine_default();
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_keyword_map(e, "mattress", "home/bedroom/mattresses", &err), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "hose", "garden/hoses", &err), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "cr\xc3\xa8me", "dairy", &err), BVT_OK);

    search(e, "u", T0, "Best MATTRESS deals, garden-hose!");
    struct interests r = interests_of(e, "u", T0);
    assert_well_formed(e, &r);
    ck_assert_uint_eq(r.n, 5);
    ASSERT_SCORE(&r, "home/bedroom/mattresses", 1.5);
    ASSERT_SCORE(&r, "home/bedroom", 0.75);
    ASSERT_SCORE(&r, "home", 0.375);
    ASSERT_SCORE(&r, "garden/hoses", 1.5);
    ASSERT_SCORE(&r, "garden", 0.75);

    /* UTF-8 bytes stay inside words; ASCII letters are lower-cased. */
    search(e, "v", T0, "CR\xc3\xa8ME br\xc3\xbbl\xc3\xa9" "e");
    r = interests_of(e, "v", T0);
    ck_assert_uint_eq(r.n, 1);
    ASSERT_SCORE(&r, "dairy", 1.5);

    /* No mapped word: the event counts but credits nothing. */
    search(e, "w", T0, "nothing to see");
    r = interests_of(e, "w", T0);
    ck_assert_uint_eq(r.n, 0);

    /* Mapping again replaces the category. */
    ck_assert_int_eq(bvt_keyword_map(e, "mattress", "beds", &err), BVT_OK);
    search(e, "x", T0, "mattress");
    r = interests_of(e, "x", T0);
    ck_assert_uint_eq(r.n, 1);
    ASSERT_SCORE(&r, "beds", 1.5);
    bvt_engine_free(e);
}
END_TEST

START_TEST(search_credits_at_most_8_words)
{
    bvt_engine *e = engine_default();
    char word[8], cat[8], text[128] = "";
    for (int i = 0; i < 10; i++) {
        snprintf(word, sizeof word, "w%d", i);
        snprintf(cat, sizeof cat, "k%d", i);
        ck_assert_int_eq(bvt_keyword_map(e, word, cat, NULL), BVT_OK);
        strcat(text, word);
        strcat(text, " ");
    }
    search(e, "u", T0, text);
    struct interests r = interests_of(e, "u", T0);
    ck_assert_uint_eq(r.n, 8);
    for (int i = 0; i < 8; i++) {
        snprintf(cat, sizeof cat, "k%d", i);
        ASSERT_SCORE(&r, cat, 1.5);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(keyword_map_rejects_bad_input)
{
    bvt_engine *e = engine_default();
    char long_word[65];
    memset(long_word, 'k', 64);
    long_word[64] = 0;
    static const char *bad_words[] = { "", "two words", "a-b", "dot.", NULL };
    for (int i = 0; bad_words[i]; i++) {
        bvt_error err = BVT_ERROR_INIT;
        ck_assert_msg(bvt_keyword_map(e, bad_words[i], "c", &err) == BVT_EINVAL,
                      "keyword '%s' accepted", bad_words[i]);
        ck_assert_int_eq(err.code, BVT_EINVAL);
    }
    ck_assert_int_eq(bvt_keyword_map(e, long_word, "c", NULL), BVT_EINVAL);
    long_word[63] = 0;
    ck_assert_int_eq(bvt_keyword_map(e, long_word, "c", NULL), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "ok", "a//b", NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_keyword_map(e, "ok", "", NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_keyword_map(e, NULL, "c", NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_keyword_map(e, "ok", NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_keyword_map(NULL, "ok", "c", NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

START_TEST(custom_type_credits_its_weight)
{
    bvt_engine *e = engine_default();
    uint32_t vc = 0, quiet = 0;
    ck_assert_int_eq(bvt_event_type_register(e, "video_complete", 3.0, &vc, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_type_register(e, "heartbeat", 0.0, &quiet, NULL), BVT_OK);
    track_ok(e, "u", vc, T0, "videos/cats", 0);
    track_ok(e, "u", quiet, T0, "videos/dogs", 0);
    struct interests r = interests_of(e, "u", T0 + HALF_LIFE);
    ck_assert_uint_eq(r.n, 2);
    ASSERT_SCORE(&r, "videos/cats", 1.5);
    ASSERT_SCORE(&r, "videos", 0.75);
    ASSERT_ABSENT(&r, "videos/dogs");
    bvt_engine_free(e);
}
END_TEST

START_TEST(interests_arguments)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "c", 0);
    bvt_interest in[4];
    size_t n;
    ck_assert_int_eq(bvt_profile_interests(e, "nobody", 6, T0, in, 4, &n), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_profile_interests(NULL, "u", 1, T0, in, 4, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_interests(e, NULL, 1, T0, in, 4, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_interests(e, "u", 1, 0, in, 4, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_interests(e, "u", 1, T0, NULL, 4, &n), BVT_EINVAL);
    ck_assert_int_eq(bvt_profile_interests(e, "u", 1, T0, in, 4, NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

static Suite *interest_suite(void)
{
    Suite *s = suite_create("interest");
    TCase *tc = tcase_create("weights");
    tcase_add_test(tc, ancestors_get_half_by_default);
    tcase_add_loop_test(tc, ancestor_credit_option, 0,
                        (int)(sizeof credits / sizeof credits[0]));
    tcase_add_loop_test(tc, default_weight_per_type, 0, BVT_EVENT_BUILTIN_COUNT);
    tcase_add_test(tc, type_weights_option);
    tcase_add_test(tc, zero_weight_makes_no_interest);
    suite_add_tcase(s, tc);

    tc = tcase_create("decay");
    tcase_add_test(tc, scores_decay_with_half_life);
    tcase_add_test(tc, half_life_option);
    tcase_add_test(tc, scores_over_long_spans);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, top_interests_bound_default_16);
    tcase_add_test(tc, top_interests_option);
    tcase_add_test(tc, admission_when_full);
    tcase_add_test(tc, admission_of_late_events);
    suite_add_tcase(s, tc);

    tc = tcase_create("search");
    tcase_add_test(tc, search_credits_mapped_keywords);
    tcase_add_test(tc, search_credits_at_most_8_words);
    tcase_add_test(tc, keyword_map_rejects_bad_input);
    tcase_add_test(tc, custom_type_credits_its_weight);
    tcase_add_test(tc, interests_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(interest_suite()); }
