/* test-persist-offers.c — persistence of the offer catalog and the
 * experiments: their snapshot sections (a fresh engine that loads them
 * answers every public query as the saved one did, and saves the same
 * bytes again), the journal records of every definition and assignment
 * (replayed into a fresh engine, once and twice), a failing journal, a
 * profile's sticky assignments, and loaders and replay fed truncated,
 * bit-flipped and inconsistent data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "persist-offers-suite-secret"
#include "offertest.h"

#include "codec.h"
#include "engine.h"
#include "experiment.h"
#include "experiment_internal.h"
#include "persist.h"

/* ------------------------------------------------------------ engines */

/* Small, so that the corruption loops can make thousands of them. */
static bvt_engine *new_engine(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 2;
    bvt_engine *e = engine_with(&o);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "vip", "monetary_total >= 50", NULL, &err), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "gone", "sessions >= 3", NULL, &err), BVT_OK);
    return e;
}

/* What the segment section would give a loaded engine: "gone" has been
 * removed (its name, and so its id, stay known). */
static bvt_engine *fresh(void)
{
    bvt_engine *e = new_engine();
    ck_assert_int_eq(bvt_segment_remove(e, "gone", NULL), BVT_OK);
    return e;
}

static uint32_t segment_id(bvt_engine *e, const char *name)
{
    uint32_t id = 0;
    ck_assert_int_eq(bvt_segment_lookup(e, name, &id), BVT_OK);
    return id;
}

/* ------------------------------------------------------------ the journal */

#define RECORDS_MAX 512

typedef struct journal {
    size_t n;
    unsigned char *rec[RECORDS_MAX];
    size_t len[RECORDS_MAX];
    int fail; /* non-zero: refuse every record (a failed journal) */
} journal;

static int capture(void *ud, const void *rec, size_t n)
{
    journal *j = ud;
    if (j->fail)
        return BVT_EIO;
    ck_assert_uint_lt(j->n, RECORDS_MAX);
    ck_assert_uint_gt(n, 0);
    j->rec[j->n] = malloc(n);
    ck_assert_ptr_nonnull(j->rec[j->n]);
    memcpy(j->rec[j->n], rec, n);
    j->len[j->n++] = n;
    return BVT_OK;
}

static void journal_free(journal *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->rec[i]);
    j->n = 0;
}

static int is_ours(uint8_t op)
{
    return op == BVT_OP_EXPERIMENT_ASSIGN || (op >= BVT_OP_OFFER_DEFINE &&
                                              op <= BVT_OP_EXPERIMENT_DEFINE);
}

/* Replay one record through the module that owns its op. */
static int replay(bvt_engine *e, const unsigned char *p, size_t n)
{
    bvt_rbuf r;
    bvt__rbuf_init(&r, p, n);
    uint8_t op = bvt__r_u8(&r);
    if (op == BVT_OP_EXPERIMENT_ASSIGN || op == BVT_OP_EXPERIMENT_DEFINE)
        return bvt__experiments_replay(e, op, &r);
    return bvt__offers_replay(e, op, &r);
}

/* Our records (definitions only: without assignments, whose profiles are
 * not in our sections). */
static void replay_some(bvt_engine *e, const journal *j, int assignments)
{
    for (size_t i = 0; i < j->n; i++) {
        if (!is_ours(j->rec[i][0]))
            continue; /* another module's (segments, events...) */
        if (!assignments && j->rec[i][0] == BVT_OP_EXPERIMENT_ASSIGN)
            continue;
        int rc = replay(e, j->rec[i], j->len[i]);
        ck_assert_msg(rc == BVT_OK, "record %zu (op %u): %d", i, j->rec[i][0], rc);
    }
}

static void replay_all(bvt_engine *e, const journal *j)
{
    replay_some(e, j, 1);
}

static size_t count_op(const journal *j, uint8_t op)
{
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++)
        n += j->rec[i][0] == op;
    return n;
}

/* ------------------------------------------------------------ what A holds */

static const bvt_cap cap3[] = { { 3, DAY } };
static const bvt_cap g1_first[] = { { 2, DAY } };
static const bvt_cap g1_then[] = { { 3, DAY }, { 5, 7 * DAY } };
static const char *const shoe_tags[] = { "sports/shoes", "sports" };
static const char *const hat_tags[] = { "fashion/hats" };

#define USERS 16
#define ROUND0_USERS 12

typedef struct assigned {
    int32_t a[USERS], gb[USERS]; /* what the first assignment returned */
} assigned;

static void user_name(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "u%d", i);
}

static void group_ok(bvt_engine *e, const char *name, const bvt_cap *caps, size_t n)
{
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_msg(bvt_offer_group_define(e, name, caps, n, &err) == BVT_OK, "%s", err.message);
}

static void policy_ok(bvt_engine *e, const bvt_policy *p)
{
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_msg(bvt_policy_set(e, p, &err) == BVT_OK, "%s", err.message);
}

static uint32_t experiment_ok(bvt_engine *e, const bvt_experiment *x)
{
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_msg(bvt_experiment_define(e, x, &id, &err) == BVT_OK, "%s: %s", x->name,
                  err.message);
    return id;
}

static bvt_experiment exp_a(double w0, double w1)
{
    static bvt_policy greedy = BVT_POLICY_INIT;
    static const char *const offers[] = { "shoes", "bag", "shoes" }; /* a repeat */
    static bvt_variant v[2];
    greedy.kind = BVT_POLICY_GREEDY;
    greedy.affinity_boost = -2; /* resolves to 0; 0 would resolve to 1 */
    v[0] = (bvt_variant){ "control", w0, NULL, NULL, 0 };
    v[1] = (bvt_variant){ "treatment", w1, &greedy, offers, 3 };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp-a";
    x.variants = v;
    x.n_variants = 2;
    return x;
}

static bvt_experiment exp_gb(void)
{
    static const char *const none[1] = { NULL };
    static bvt_variant v[3];
    v[0] = (bvt_variant){ "control", 0.3, NULL, NULL, 0 };
    v[1] = (bvt_variant){ "blue", 0.3, NULL, NULL, 0 };
    v[2] = (bvt_variant){ "empty", 0.395, NULL, none, 0 }; /* an empty offer set */
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp-gb";
    x.salt = "gb-salt";
    x.hash = BVT_HASH_GROWTHBOOK_V1; /* weights sum to 0.995: used as given */
    x.variants = v;
    x.n_variants = 3;
    x.coverage = 0.8;
    x.holdout = 0.1;
    return x;
}

/* Every definition call, in an order that leaves removed and redefined
 * offers, a removed segment that a rule and the segment list still name,
 * and a group redefined. */
static void define_all(bvt_engine *e)
{
    group_ok(e, "g1", g1_first, 1);
    group_ok(e, "g2", NULL, 0);
    group_ok(e, "g1", g1_then, 2);

    bvt_offer o = offer_named("shoes");
    o.tags = shoe_tags;
    o.n_tags = 2;
    o.rule = "page_views >= 0 and not in_segment(\"gone\")";
    o.value = 2;
    o.caps = cap3;
    o.n_caps = 1;
    o.group = "g1";
    o.priority = 1;
    offer_ok(e, &o);

    o = offer_named("bag");
    o.rule = "ctx.device == \"mobile\" or in_segment(\"vip\")";
    o.response = BVT_EVENT_CONVERSION;
    o.cost = 0.1;
    o.cost_per = BVT_EVENT_CLICK;
    o.value = 10;
    o.budget_impressions = 5;
    offer_ok(e, &o);

    o = offer_named("hat");
    o.tags = hat_tags;
    o.n_tags = 1;
    o.personalised = 1;
    o.cooloff_ms = 2 * HOUR;
    o.start_ms = T0;
    o.end_ms = T0 + 30 * DAY;
    offer_ok(e, &o);

    offer_ok(e, &(bvt_offer){ .version = BVT_OFFER_VERSION, .id = "scarf" });
    offer_ok(e, &(bvt_offer){ .version = BVT_OFFER_VERSION, .id = "gloves" });

    bvt_offer batch[2] = { offer_named("belt"), offer_named("sock") };
    batch[1].group = "g2";
    batch[1].rule = "ctx.hour >= 18";
    batch[1].value = 0.5;
    uint32_t ids[2];
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_msg(bvt_offer_define_batch(e, batch, 2, ids, NULL, &err) == BVT_OK, "%s",
                  err.message);

    ck_assert_int_eq(bvt_offer_remove(e, "scarf", NULL), BVT_OK);
    o = offer_named("scarf");
    o.value = 3;
    offer_ok(e, &o); /* comes last in the list now */
    ck_assert_int_eq(bvt_offer_remove(e, "gloves", NULL), BVT_OK);
    o = offer_named("shoes");
    o.tags = shoe_tags;
    o.n_tags = 1;
    o.rule = "page_views >= 0 and not in_segment(\"gone\")";
    o.value = 2.5;
    o.caps = cap3;
    o.n_caps = 1;
    o.group = "g1";
    o.priority = 1;
    offer_ok(e, &o); /* replaced in place */

    uint32_t segs[4] = { segment_id(e, "New Visitor"), segment_id(e, "Engaged"),
                         segment_id(e, "vip"), segment_id(e, "gone") };
    ck_assert_int_eq(bvt_offer_segments_set(e, segs, 4, NULL), BVT_OK);

    bvt_policy p = BVT_POLICY_INIT;
    policy_ok(e, &p);
    p.kind = BVT_POLICY_EPSILON_GREEDY;
    p.epsilon = 0.2;
    p.floor = 0.05;
    p.affinity_boost = -1;
    p.propensity_draws = 40;
    policy_ok(e, &p);

    ck_assert_int_eq(bvt_segment_remove(e, "gone", NULL), BVT_OK);

    bvt_experiment x = exp_a(1, 1);
    experiment_ok(e, &x);
    x = exp_gb();
    experiment_ok(e, &x);
}

static void assign_round(bvt_engine *e, int round, assigned *out)
{
    uint32_t a, gb;
    ck_assert_int_eq(bvt_experiment_lookup(e, "exp-a", &a), BVT_OK);
    ck_assert_int_eq(bvt_experiment_lookup(e, "exp-gb", &gb), BVT_OK);
    for (int i = 0; i < (round ? USERS : ROUND0_USERS); i++) {
        char u[16];
        user_name(u, sizeof u, i);
        /* round 1 comes earlier in time: the sticky entries learn it */
        int64_t t = T0 + (round ? HOUR : 2 * HOUR) + i;
        int32_t va, vg;
        ck_assert_int_eq(bvt_experiment_assign(e, a, u, strlen(u), t, &va), BVT_OK);
        ck_assert_int_eq(bvt_experiment_assign(e, gb, u, strlen(u), t, &vg), BVT_OK);
        if (out && (round == 0 || i >= ROUND0_USERS)) {
            out->a[i] = va;
            out->gb[i] = vg;
        }
    }
}

/* Definitions and assignments: everything the journal records. */
static void build(bvt_engine *e, assigned *out)
{
    define_all(e);
    assign_round(e, 0, out);
    bvt_experiment x = exp_a(3, 1); /* new ranges: sticky users keep theirs */
    experiment_ok(e, &x);
    assign_round(e, 1, out);
}

/* Feedback and purchases of every kind (not my records: events). */
static void traffic(bvt_engine *e)
{
    for (int i = 0; i < USERS; i++) {
        char u[16];
        user_name(u, sizeof u, i);
        int64_t t = T0 + 3 * HOUR + i * MIN;
        if (i % 2 == 0)
            ads_consent(e, u, 1, t);
        track_ok(e, u, BVT_EVENT_PAGE_VIEW, t + 1, "sports/shoes", 0);
        feedback_ok(e, u, BVT_EVENT_IMPRESSION, "shoes", t + 2, 0);
        if (i % 3 == 0)
            feedback_ok(e, u, BVT_EVENT_CLICK, "shoes", t + 3, 0);
        if (i < 6)
            feedback_ok(e, u, BVT_EVENT_IMPRESSION, "bag", t + 4, 0);
        if (i % 2 == 1 && i < 6) {
            feedback_ok(e, u, BVT_EVENT_CLICK, "bag", t + 5, 0);
            feedback_ok(e, u, BVT_EVENT_CONVERSION, "bag", t + 6, 12);
        }
        if (i % 4 == 0) {
            feedback_ok(e, u, BVT_EVENT_IMPRESSION, "hat", t + 7, 0);
            feedback_ok(e, u, BVT_EVENT_DISMISS, "hat", t + 8, 0);
        }
        if (i % 5 == 0)
            feedback_ok(e, u, BVT_EVENT_LIKE, "scarf", t + 9, 0);
        if (i % 3 == 1)
            feedback_ok(e, u, BVT_EVENT_IMPRESSION, "nope", t + 10, 0); /* never defined */
        if (i == 7)
            feedback_ok(e, u, BVT_EVENT_IMPRESSION, "gloves", t + 11, 0); /* removed */
        if (i % 4 == 1)
            track_ok(e, u, BVT_EVENT_PURCHASE, t + 12, "sports/shoes", 60);
    }
}

static bvt_engine *engine_a(journal *j, assigned *out)
{
    bvt_engine *e = new_engine();
    if (j) {
        bvt__change_sink_set(e, &(bvt_change_sink){ .append = capture, .ud = j });
    }
    build(e, out);
    traffic(e);
    return e;
}

/* ------------------------------------------------------------ sections */

static bvt_wbuf save_offers(bvt_engine *e)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    ck_assert_int_eq(bvt__offers_save(e, &w), BVT_OK);
    return w;
}

static bvt_wbuf save_experiments(bvt_engine *e)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    ck_assert_int_eq(bvt__experiments_save(e, &w), BVT_OK);
    return w;
}

static int load_offers(bvt_engine *e, const void *p, size_t n)
{
    bvt_rbuf r;
    bvt__rbuf_init(&r, p, n);
    int rc = bvt__offers_load(e, &r);
    ck_assert(rc == BVT_OK ? !r.bad : 1);
    return rc;
}

static int load_experiments(bvt_engine *e, const void *p, size_t n)
{
    bvt_rbuf r;
    bvt__rbuf_init(&r, p, n);
    int rc = bvt__experiments_load(e, &r);
    ck_assert(rc == BVT_OK ? !r.bad : 1);
    return rc;
}

static int same_bytes(const bvt_wbuf *a, const bvt_wbuf *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* Both engines save the same bytes for both sections: what no public
 * query shows (rule text, raw weights, policies as given) agrees too. */
static void same_sections(bvt_engine *a, bvt_engine *b)
{
    bvt_wbuf oa = save_offers(a), ob = save_offers(b);
    bvt_wbuf xa = save_experiments(a), xb = save_experiments(b);
    ck_assert_msg(same_bytes(&oa, &ob), "offer sections differ (%zu, %zu bytes)", oa.len,
                  ob.len);
    ck_assert_msg(same_bytes(&xa, &xb), "experiment sections differ (%zu, %zu bytes)", xa.len,
                  xb.len);
    bvt__wbuf_free(&oa);
    bvt__wbuf_free(&ob);
    bvt__wbuf_free(&xa);
    bvt__wbuf_free(&xb);
}

/* ------------------------------------------------------------ comparing */

static const char *const all_names[] = { "shoes", "bag", "hat", "scarf", "gloves", "belt",
                                         "sock", "nope", "g1" };

#define SAME(x, y, f) ck_assert_msg((x).f == (y).f, "%s differs", #f)

static void same_metrics(bvt_engine *a, bvt_engine *b, uint32_t offer, uint32_t segment)
{
    bvt_metrics x = BVT_METRICS_INIT, y = BVT_METRICS_INIT;
    int ra = bvt_metrics_get(a, offer, segment, &x), rb = bvt_metrics_get(b, offer, segment, &y);
    ck_assert_int_eq(ra, rb);
    if (ra != BVT_OK)
        return;
    SAME(x, y, impressions);
    SAME(x, y, clicks);
    SAME(x, y, conversions);
    SAME(x, y, dismissals);
    SAME(x, y, engagements);
    SAME(x, y, revenue);
    SAME(x, y, cost);
    SAME(x, y, ctr);
    SAME(x, y, conversion_rate);
    SAME(x, y, engagement_rate);
    SAME(x, y, roi);
}

static void same_ranking(const ranked *x, const ranked *y)
{
    SAME(x->res, y->res, n_offers);
    SAME(x->res, y->res, n_excluded);
    SAME(x->res, y->res, n_choices);
    SAME(x->res, y->res, personalised);
    SAME(x->res, y->res, variant);
    SAME(x->res, y->res, bucket);
    for (size_t i = 0; i < x->res.n_offers && i < RANK_MAX; i++) {
        SAME(x->offers[i], y->offers[i], offer);
        SAME(x->offers[i], y->offers[i], score);
        SAME(x->offers[i], y->offers[i], estimate);
        SAME(x->offers[i], y->offers[i], propensity);
        ck_assert_str_eq(x->offers[i].offer_id, y->offers[i].offer_id);
    }
    for (size_t i = 0; i < x->res.n_excluded && i < RANK_MAX; i++) {
        SAME(x->excluded[i], y->excluded[i], offer);
        SAME(x->excluded[i], y->excluded[i], reason);
    }
    for (size_t i = 0; i < x->res.n_choices && i < RANK_MAX; i++) {
        SAME(x->choices[i], y->choices[i], offer);
        SAME(x->choices[i], y->choices[i], probability);
    }
}

static void rank_both(bvt_engine *a, bvt_engine *b, const char *user, const char *experiment,
                      int i)
{
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.device = i % 2 ? "mobile" : "desktop";
    ctx.hour = i % 3 ? 20 : 9;
    bvt_rank_request q = BVT_RANK_REQUEST_INIT;
    q.ctx = &ctx;
    q.k = 3;
    q.seed = 1000u + (uint64_t)i;
    q.experiment = experiment;
    static ranked x, y;
    rank_ok(a, q, user, T0 + DAY, &x);
    rank_ok(b, q, user, T0 + DAY, &y);
    same_ranking(&x, &y);
}

/* Every query the catalog answers. */
static void same_catalog(bvt_engine *a, bvt_engine *b)
{
    uint32_t la[64], lb[64];
    size_t na, nb;
    ck_assert_int_eq(bvt_offer_list(a, la, 64, &na), BVT_OK);
    ck_assert_int_eq(bvt_offer_list(b, lb, 64, &nb), BVT_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(la, lb, na * sizeof *la) == 0);
    for (uint32_t id = 0; id < 12; id++) {
        const char *x = bvt_offer_name(a, id), *y = bvt_offer_name(b, id);
        ck_assert(!x == !y);
        if (x)
            ck_assert_str_eq(x, y);
    }
    for (size_t i = 0; i < sizeof all_names / sizeof all_names[0]; i++) {
        uint32_t x = 0, y = 0;
        ck_assert_int_eq(bvt_offer_lookup(a, all_names[i], &x),
                         bvt_offer_lookup(b, all_names[i], &y));
        ck_assert_uint_eq(x, y);
    }
    uint32_t segs[] = { 0, segment_id(a, "New Visitor"), segment_id(a, "Engaged"),
                        segment_id(a, "vip"), segment_id(a, "vip") + 1, segment_id(a, "Lost") };
    for (uint32_t offer = 0; offer < 12; offer++)
        for (size_t s = 0; s < sizeof segs / sizeof segs[0]; s++)
            same_metrics(a, b, offer, segs[s]);
    ck_assert_uint_eq(bvt_metrics_unattributed(a), bvt_metrics_unattributed(b));
    for (int i = 0; i < 8; i++) {
        char u[16];
        snprintf(u, sizeof u, "fresh-%d", i);
        rank_both(a, b, u, NULL, i);
    }
}

static void same_variant_report(const bvt_variant_report *x, const bvt_variant_report *y)
{
    ck_assert(!x->name == !y->name);
    if (x->name)
        ck_assert_str_eq(x->name, y->name);
    SAME(*x, *y, users);
    SAME(*x, *y, impressions);
    SAME(*x, *y, clicks);
    SAME(*x, *y, conversions);
    SAME(*x, *y, converters);
    SAME(*x, *y, revenue);
    SAME(*x, *y, cost);
    SAME(*x, *y, ctr);
    SAME(*x, *y, conversion_rate);
    SAME(*x, *y, revenue_per_user);
    SAME(*x, *y, roi);
    ck_assert(memcmp(&x->ctr_lift, &y->ctr_lift, sizeof x->ctr_lift) == 0);
    ck_assert(memcmp(&x->conversion_lift, &y->conversion_lift, sizeof x->ctr_lift) == 0);
    ck_assert(memcmp(&x->revenue_lift, &y->revenue_lift, sizeof x->ctr_lift) == 0);
}

/* Every query the experiments answer (without changing anything). */
static void same_experiments(bvt_engine *a, bvt_engine *b)
{
    static const char *const names[] = { "exp-a", "exp-gb", "exp-none" };
    for (size_t i = 0; i < 3; i++) {
        uint32_t x = 0, y = 0;
        ck_assert_int_eq(bvt_experiment_lookup(a, names[i], &x),
                         bvt_experiment_lookup(b, names[i], &y));
        ck_assert_uint_eq(x, y);
    }
    uint32_t segs[] = { 0, segment_id(a, "New Visitor"), segment_id(a, "vip"),
                        segment_id(a, "Lost") };
    for (uint32_t id = 0; id <= 3; id++) {
        for (size_t s = 0; s < sizeof segs / sizeof segs[0]; s++) {
            static bvt_experiment_report x, y;
            x.version = y.version = BVT_EXPERIMENT_REPORT_VERSION;
            int ra = bvt_experiment_report_get(a, id, segs[s], &x);
            ck_assert_int_eq(ra, bvt_experiment_report_get(b, id, segs[s], &y));
            if (ra != BVT_OK)
                continue;
            SAME(x, y, n_variants);
            for (uint32_t v = 0; v < x.n_variants; v++)
                same_variant_report(&x.variants[v], &y.variants[v]);
            same_variant_report(&x.holdout, &y.holdout);
            SAME(x, y, srm_chi2);
            SAME(x, y, srm_p_value);
            SAME(x, y, srm_mismatch);
        }
        for (int i = 0; i < 40 && id; i++) {
            char u[16];
            snprintf(u, sizeof u, "v%d", i);
            int32_t x = 99, y = 99;
            ck_assert_int_eq(bvt_experiment_variant_of(a, id, u, strlen(u), &x),
                             bvt_experiment_variant_of(b, id, u, strlen(u), &y));
            ck_assert_int_eq(x, y);
        }
    }
}

/* Changes both engines alike: rankings that expose new users. */
static void same_rankings_in_experiments(bvt_engine *a, bvt_engine *b)
{
    for (int i = 0; i < 6; i++) {
        char u[16];
        snprintf(u, sizeof u, "ranked-%d", i);
        rank_both(a, b, u, i % 2 ? "exp-a" : "exp-gb", i);
    }
    same_experiments(a, b);
}

/* Changes both engines alike: a user with interests, ads consent and
 * offer segments, ranked (the interest prior reads the policy's
 * affinity_boost, the bucket the evidence per segment). */
static void same_rankings_of_twins(bvt_engine *a, bvt_engine *b)
{
    for (int i = 0; i < 4; i++) {
        char u[16];
        snprintf(u, sizeof u, "twin-%d", i);
        bvt_engine *both[2] = { a, b };
        for (int k = 0; k < 2; k++) {
            ads_consent(both[k], u, 1, T0 + HOUR);
            track_ok(both[k], u, BVT_EVENT_PAGE_VIEW, T0 + HOUR + 1,
                     i % 2 ? "sports/shoes" : "fashion/hats", 0);
            if (i >= 2)
                track_ok(both[k], u, BVT_EVENT_PAGE_VIEW, T0 + 2 * HOUR, "sports", 0);
            /* 5 impressions in 7 days, 1 in the last day: the group's cap, not
             * the offer's, holds it back */
            for (int n = 0; i == 2 && n < 5; n++)
                feedback_ok(both[k], u, BVT_EVENT_IMPRESSION, "shoes",
                            n < 4 ? T0 - (3 - n) * DAY : T0 + 2 * HOUR, 0);
        }
        if (i == 2) {
            static ranked r;
            rank_ok(a, (bvt_rank_request)BVT_RANK_REQUEST_INIT, u, T0 + DAY, &r);
            ck_assert_uint_eq(exclusion_of(&r, "shoes"), BVT_EXCLUDED_GROUP_CAP);
        }
        rank_both(a, b, u, NULL, i);
        rank_both(a, b, u, i % 2 ? "exp-a" : "exp-gb", i);
    }
}

/* ------------------------------------------------------------ (a) sections */

START_TEST(sections_answer_every_query)
{
    bvt_engine *a = engine_a(NULL, NULL);
    /* the data is not trivial: counters, the budget, outcomes */
    uint32_t shoes, bag, exp;
    ck_assert_int_eq(bvt_offer_lookup(a, "shoes", &shoes), BVT_OK);
    ck_assert_int_eq(bvt_offer_lookup(a, "bag", &bag), BVT_OK);
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(a, shoes, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.impressions, USERS);
    ck_assert_uint_gt(bvt_metrics_unattributed(a), 0);
    static ranked r;
    rank_ok(a, (bvt_rank_request)BVT_RANK_REQUEST_INIT, "someone", T0 + DAY, &r);
    ck_assert_uint_eq(exclusion_of(&r, "bag"), BVT_EXCLUDED_BUDGET);
    ck_assert_int_eq(bvt_experiment_lookup(a, "exp-a", &exp), BVT_OK);
    static bvt_experiment_report rep;
    rep.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(a, exp, 0, &rep), BVT_OK);
    ck_assert_uint_gt(rep.variants[0].users + rep.variants[1].users, 0);
    ck_assert_uint_gt(rep.variants[0].impressions + rep.variants[1].impressions, 0);

    bvt_wbuf wo = save_offers(a), wx = save_experiments(a);
    bvt_engine *b = fresh();
    ck_assert_int_eq(load_offers(b, wo.p, wo.len), BVT_OK);
    ck_assert_int_eq(load_experiments(b, wx.p, wx.len), BVT_OK);
    same_catalog(a, b);
    same_experiments(a, b);
    same_sections(a, b);
    same_rankings_in_experiments(a, b);
    same_rankings_of_twins(a, b);
    /* a second load into the same engine is refused */
    ck_assert_int_eq(load_offers(b, wo.p, wo.len), BVT_ECORRUPT);
    ck_assert_int_eq(load_experiments(b, wx.p, wx.len), BVT_ECORRUPT);
    bvt__wbuf_free(&wo);
    bvt__wbuf_free(&wx);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

/* An empty catalog round-trips too. */
START_TEST(empty_sections_round_trip)
{
    bvt_engine *a = fresh(), *b = fresh();
    bvt_wbuf wo = save_offers(a), wx = save_experiments(a);
    ck_assert_int_eq(load_offers(b, wo.p, wo.len), BVT_OK);
    ck_assert_int_eq(load_experiments(b, wx.p, wx.len), BVT_OK);
    same_catalog(a, b);
    same_sections(a, b);
    bvt__wbuf_free(&wo);
    bvt__wbuf_free(&wx);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

/* ------------------------------------------------------------ (b) journal */

START_TEST(journal_replays_definitions_and_assignments)
{
    static journal j;
    static assigned first;
    bvt_engine *a = engine_a(&j, &first);
    /* one record per call that changed something */
    ck_assert_uint_eq(count_op(&j, BVT_OP_OFFER_GROUP), 3);
    ck_assert_uint_eq(count_op(&j, BVT_OP_OFFER_DEFINE), 7);
    ck_assert_uint_eq(count_op(&j, BVT_OP_OFFER_BATCH), 1);
    ck_assert_uint_eq(count_op(&j, BVT_OP_OFFER_REMOVE), 2);
    ck_assert_uint_eq(count_op(&j, BVT_OP_OFFER_SEGMENTS), 1);
    ck_assert_uint_eq(count_op(&j, BVT_OP_POLICY), 2);
    ck_assert_uint_eq(count_op(&j, BVT_OP_EXPERIMENT_DEFINE), 3);
    ck_assert_uint_gt(count_op(&j, BVT_OP_EXPERIMENT_ASSIGN), 2 * ROUND0_USERS);
    /* records name users by key, never by raw id */
    for (size_t i = 0; i < j.n; i++)
        if (j.rec[i][0] == BVT_OP_EXPERIMENT_ASSIGN) {
            ck_assert_uint_eq(j.len[i], 37);
            for (size_t at = 0; at + 2 <= j.len[i]; at++)
                ck_assert(memcmp(j.rec[i] + at, "u1", 2) != 0);
        }

    /* C: the records; R: the same calls without the events */
    bvt_engine *c = fresh(), *ref = new_engine();
    replay_all(c, &j);
    build(ref, NULL);
    same_catalog(c, ref);
    same_experiments(c, ref);
    same_sections(c, ref);

    /* the same profiles, holding the same assignments (exposure times
     * included: round 1 moved them earlier), in the same memory */
    bvt_stats sc = stats_of(c), sr = stats_of(ref);
    ck_assert_uint_eq(sc.users, USERS);
    ck_assert_uint_eq(sr.users, USERS);
    ck_assert_uint_eq(sc.bytes_attributes, sr.bytes_attributes);
    ck_assert_uint_eq(sc.bytes_history, sr.bytes_history);
    for (int i = 0; i < USERS; i++) {
        char u[16];
        user_name(u, sizeof u, i);
        bvt_user_key k;
        ck_assert_int_eq(bvt_user_key_of(a, u, strlen(u), &k), BVT_OK);
        bvt_shard *sa, *sc_;
        bvt_record *ra = bvt__engine_lock_key(a, k, &sa);
        bvt_exp_assignment x[BVT_EXP_USER_MAX], y;
        uint32_t n = 0;
        while (ra && bvt__experiments_user_at(ra->ext, n, &x[n]))
            n++;
        pthread_mutex_unlock(&sa->lock);
        ck_assert_uint_gt(n, 0);
        bvt_record *rc_ = bvt__engine_lock_key(c, k, &sc_);
        ck_assert_ptr_nonnull(rc_);
        for (uint32_t m = 0; m < n; m++) {
            ck_assert(bvt__experiments_user_at(rc_->ext, m, &y));
            ck_assert_uint_eq(y.experiment, x[m].experiment);
            ck_assert_int_eq(y.variant, x[m].variant);
            ck_assert_int_eq(y.exposed_ms, x[m].exposed_ms);
            ck_assert_int_eq(y.exposed_ms, T0 + HOUR + i);
        }
        ck_assert(!bvt__experiments_user_at(rc_->ext, n, &y));
        pthread_mutex_unlock(&sc_->lock);
    }

    /* sticky variants came back: the redefinition moved some users' hash */
    uint32_t ea, eg;
    ck_assert_int_eq(bvt_experiment_lookup(c, "exp-a", &ea), BVT_OK);
    ck_assert_int_eq(bvt_experiment_lookup(c, "exp-gb", &eg), BVT_OK);
    int moved = 0;
    for (int i = 0; i < USERS; i++) {
        char u[16];
        user_name(u, sizeof u, i);
        int32_t v, hashed;
        ck_assert_int_eq(bvt_experiment_variant_of(c, ea, u, strlen(u), &hashed), BVT_OK);
        ck_assert_int_eq(bvt_experiment_assign(c, ea, u, strlen(u), T0 + DAY, &v), BVT_OK);
        ck_assert_int_eq(v, first.a[i]);
        moved += hashed != v;
        ck_assert_int_eq(bvt_experiment_assign(c, eg, u, strlen(u), T0 + DAY, &v), BVT_OK);
        ck_assert_int_eq(v, first.gb[i]);
    }
    ck_assert_int_gt(moved, 0);
    same_rankings_in_experiments(c, ref);
    same_rankings_of_twins(c, ref);
    journal_free(&j);
    bvt_engine_free(a);
    bvt_engine_free(c);
    bvt_engine_free(ref);
}
END_TEST

START_TEST(replaying_twice_changes_nothing)
{
    static journal j;
    bvt_engine *a = engine_a(&j, NULL);
    bvt_engine *c = fresh(), *twice = fresh(), *each = fresh();
    replay_all(c, &j);
    replay_all(twice, &j);
    replay_all(twice, &j); /* a snapshot that holds them all, then the journal */
    for (size_t i = 0; i < j.n; i++) { /* each record published just before a checkpoint */
        if (!is_ours(j.rec[i][0]))
            continue;
        ck_assert_int_eq(replay(each, j.rec[i], j.len[i]), BVT_OK);
        ck_assert_int_eq(replay(each, j.rec[i], j.len[i]), BVT_OK);
    }
    same_catalog(c, twice);
    same_experiments(c, twice);
    same_sections(c, twice);
    same_sections(c, each);

    /* and on top of a loaded snapshot of A, A's definitions change nothing
     * (its assignments would need the profiles, another section) */
    bvt_wbuf wo = save_offers(a), wx = save_experiments(a);
    bvt_engine *b = fresh();
    ck_assert_int_eq(load_offers(b, wo.p, wo.len), BVT_OK);
    ck_assert_int_eq(load_experiments(b, wx.p, wx.len), BVT_OK);
    replay_some(b, &j, 0);
    same_catalog(a, b);
    same_experiments(a, b);
    same_sections(a, b);
    bvt__wbuf_free(&wo);
    bvt__wbuf_free(&wx);
    journal_free(&j);
    bvt_engine_free(a);
    bvt_engine_free(b);
    bvt_engine_free(c);
    bvt_engine_free(twice);
    bvt_engine_free(each);
}
END_TEST

/* A record that does not parse, or names what cannot exist, is refused
 * before it changes anything. */
START_TEST(replay_refuses_bad_records)
{
    static journal j;
    bvt_engine *a = engine_a(&j, NULL);
    bvt_engine *c = fresh();
    replay_all(c, &j);
    bvt_wbuf before = save_offers(c), xbefore = save_experiments(c);
    for (size_t i = 0; i < j.n; i++)
        for (size_t len = 1; len < j.len[i] && is_ours(j.rec[i][0]); len++)
            ck_assert_msg(replay(c, j.rec[i], len) == BVT_ECORRUPT, "record %zu (op %u) cut at %zu",
                          i, j.rec[i][0], len);
    unsigned char unknown[] = { 47, 0, 0, 0, 0 };
    ck_assert_int_eq(replay(c, unknown, sizeof unknown), BVT_ECORRUPT);
    unknown[0] = 39;
    ck_assert_int_eq(replay(c, unknown, sizeof unknown), BVT_ECORRUPT);
    for (size_t i = 0; i < j.n; i++) {
        if (!is_ours(j.rec[i][0]))
            continue;
        unsigned char *p = malloc(j.len[i] + 1);
        memcpy(p, j.rec[i], j.len[i]);
        p[j.len[i]] = 0; /* a trailing byte */
        ck_assert_int_eq(replay(c, p, j.len[i] + 1), BVT_ECORRUPT);
        uint8_t op = p[0];
        if (op == BVT_OP_OFFER_DEFINE || op == BVT_OP_OFFER_GROUP ||
            op == BVT_OP_EXPERIMENT_DEFINE) {
            uint32_t wrong = 999; /* the numeric id that follows the op */
            memcpy(p + 1, &wrong, 4);
            ck_assert_int_eq(replay(c, p, j.len[i]), BVT_ECORRUPT);
        }
        if (op == BVT_OP_EXPERIMENT_ASSIGN) {
            unsigned char q[64];
            memcpy(q, j.rec[i], j.len[i]);
            memset(q + 1, 0, 16); /* the free-slot key */
            ck_assert_int_eq(replay(c, q, j.len[i]), BVT_ECORRUPT);
            memcpy(q, j.rec[i], j.len[i]);
            int32_t v = 7; /* no such variant */
            memcpy(q + 21, &v, 4);
            ck_assert_int_eq(replay(c, q, j.len[i]), BVT_ECORRUPT);
            memcpy(q, j.rec[i], j.len[i]);
            uint32_t x = 3; /* no such experiment */
            memcpy(q + 17, &x, 4);
            ck_assert_int_eq(replay(c, q, j.len[i]), BVT_ECORRUPT);
        }
        free(p);
    }
    bvt_wbuf after = save_offers(c), xafter = save_experiments(c);
    ck_assert(same_bytes(&before, &after));
    ck_assert(same_bytes(&xbefore, &xafter));
    bvt__wbuf_free(&before);
    bvt__wbuf_free(&after);
    bvt__wbuf_free(&xbefore);
    bvt__wbuf_free(&xafter);
    journal_free(&j);
    bvt_engine_free(a);
    bvt_engine_free(c);
}
END_TEST

/* Removing an offer that is gone, in replay, is not an error. */
START_TEST(replayed_remove_of_absent_offer_is_ok)
{
    bvt_engine *e = fresh();
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_OFFER_REMOVE);
    bvt__w_cstr(&w, "never-defined");
    ck_assert_int_eq(replay(e, w.p, w.len), BVT_OK);
    bvt__wbuf_free(&w);
    bvt__w_u8(&w, BVT_OP_OFFER_REMOVE);
    bvt__w_cstr(&w, "bad\tid");
    ck_assert_int_eq(replay(e, w.p, w.len), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    bvt_engine_free(e);
}
END_TEST

/* With the journal failing, a call returns BVT_EIO and its change stays
 * in memory (it was made before the append failed). */
START_TEST(failed_journal_append_is_reported)
{
    static journal j;
    bvt_engine *e = fresh();
    bvt__change_sink_set(e, &(bvt_change_sink){ .append = capture, .ud = &j });
    j.fail = 1;
    bvt_offer o = offer_named("late");
    uint32_t id = 0;
    ck_assert_int_eq(bvt_offer_define(e, &o, &id, NULL), BVT_EIO);
    ck_assert_uint_eq(id, 1);
    size_t n;
    ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(bvt_offer_group_define(e, "g", NULL, 0, NULL), BVT_EIO);
    bvt_policy p = BVT_POLICY_INIT;
    ck_assert_int_eq(bvt_policy_set(e, &p, NULL), BVT_EIO);
    uint32_t seg = segment_id(e, "vip");
    ck_assert_int_eq(bvt_offer_segments_set(e, &seg, 1, NULL), BVT_EIO);
    bvt_experiment x = exp_a(1, 1);
    o = offer_named("shoes");
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_EIO);
    o = offer_named("bag");
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_EIO);
    uint32_t exp = 0;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &exp, NULL), BVT_EIO);
    ck_assert_uint_eq(exp, 1);
    int32_t v, again;
    ck_assert_int_eq(bvt_experiment_assign(e, exp, "who", 3, T0, &v), BVT_EIO);
    ck_assert_int_eq(bvt_offer_remove(e, "late", NULL), BVT_EIO);
    ck_assert_uint_eq(j.n, 0);

    j.fail = 0;
    o = offer_named("grouped");
    o.group = "g"; /* the group is defined */
    offer_ok(e, &o);
    ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 3); /* shoes, bag, grouped: "late" is gone */
    ck_assert_int_eq(bvt_experiment_assign(e, exp, "who", 3, T0 + 1, &again), BVT_OK);
    ck_assert_int_eq(again, v);
    static bvt_experiment_report rep;
    rep.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(e, exp, 0, &rep), BVT_OK);
    ck_assert_uint_eq(rep.variants[0].users + rep.variants[1].users, 1); /* counted once */
    ck_assert_uint_eq(j.n, 1); /* the offer; the assignment changed nothing */
    journal_free(&j);
    bvt_engine_free(e);
}
END_TEST

/* ------------------------------------------------------------ (c) corruption */

/* Each prefix must fail; each flipped byte must load or fail cleanly. */
static void corrupt_loads(const bvt_wbuf *w, const bvt_wbuf *offers_first)
{
    unsigned char *p = malloc(w->len);
    for (size_t len = 0; len < w->len; len++) {
        bvt_engine *e = fresh();
        if (offers_first)
            ck_assert_int_eq(load_offers(e, offers_first->p, offers_first->len), BVT_OK);
        int rc = offers_first ? load_experiments(e, w->p, len) : load_offers(e, w->p, len);
        ck_assert_msg(rc == BVT_ECORRUPT, "prefix %zu of %zu: %d", len, w->len, rc);
        bvt_engine_free(e);
    }
    for (size_t i = 0; i < w->len; i++) {
        memcpy(p, w->p, w->len);
        p[i] ^= (unsigned char)(1u << (i * 5 % 8));
        bvt_engine *e = fresh();
        if (offers_first)
            ck_assert_int_eq(load_offers(e, offers_first->p, offers_first->len), BVT_OK);
        int rc = offers_first ? load_experiments(e, p, w->len) : load_offers(e, p, w->len);
        ck_assert_msg(rc == BVT_OK || rc == BVT_ECORRUPT || rc == BVT_ENOMEM,
                      "flip at %zu: %d", i, rc);
        if (rc == BVT_OK) { /* whatever loaded answers queries */
            size_t n;
            ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
            static ranked r;
            rank_ok(e, (bvt_rank_request)BVT_RANK_REQUEST_INIT, "x", T0 + DAY, &r);
        }
        bvt_engine_free(e);
    }
    free(p);
}

START_TEST(corrupt_offer_section)
{
    bvt_engine *a = engine_a(NULL, NULL);
    bvt_wbuf wo = save_offers(a);
    corrupt_loads(&wo, NULL);
    bvt__wbuf_free(&wo);
    bvt_engine_free(a);
}
END_TEST

START_TEST(corrupt_experiment_section)
{
    bvt_engine *a = engine_a(NULL, NULL);
    bvt_wbuf wo = save_offers(a), wx = save_experiments(a);
    corrupt_loads(&wx, &wo);
    bvt__wbuf_free(&wo);
    bvt__wbuf_free(&wx);
    bvt_engine_free(a);
}
END_TEST

/* ------------------------------------------------------------ a profile's assignments */

static bvt_user_key key_of(bvt_engine *e, const char *user)
{
    bvt_user_key k;
    ck_assert_int_eq(bvt_user_key_of(e, user, strlen(user), &k), BVT_OK);
    return k;
}

START_TEST(user_assignments_round_trip)
{
    static assigned first;
    bvt_engine *a = engine_a(NULL, &first);
    bvt_wbuf wo = save_offers(a), wx = save_experiments(a);
    bvt_engine *b = fresh();
    ck_assert_int_eq(load_offers(b, wo.p, wo.len), BVT_OK);
    ck_assert_int_eq(load_experiments(b, wx.p, wx.len), BVT_OK);
    uint32_t ea;
    ck_assert_int_eq(bvt_experiment_lookup(b, "exp-a", &ea), BVT_OK);

    for (int i = 0; i < USERS; i++) {
        char u[16];
        user_name(u, sizeof u, i);
        bvt_user_key k = key_of(a, u);
        bvt_shard *sa, *sb;
        bvt_record *ra = bvt__engine_lock_key(a, k, &sa);
        ck_assert_ptr_nonnull(ra);
        bvt_wbuf w = BVT_WBUF_INIT;
        bvt__experiments_user_save(ra->ext, &w);
        ck_assert(!w.oom);
        size_t bytes = bvt__experiments_user_bytes(ra->ext);
        ck_assert_uint_gt(bytes, 0);
        bvt_exp_assignment want[BVT_EXP_USER_MAX];
        uint32_t n_want = 0;
        while (bvt__experiments_user_at(ra->ext, n_want, &want[n_want]))
            n_want++;
        pthread_mutex_unlock(&sa->lock);

        bvt_record *rb;
        int created;
        ck_assert_int_eq(bvt__engine_lock_or_create(b, k, &sb, &rb, &created), BVT_OK);
        ck_assert_int_eq(bvt__profile_ext(rb, &sb->mem), BVT_OK);
        uint64_t base = sb->mem.bytes[BVT_MEM_ATTRS];
        bvt_rbuf r;
        bvt__rbuf_init(&r, w.p, w.len);
        ck_assert_int_eq(bvt__experiments_user_load(rb->ext, &sb->mem, &r), BVT_OK);
        ck_assert(bvt__r_end(&r));
        ck_assert_uint_eq(sb->mem.bytes[BVT_MEM_ATTRS] - base, bytes); /* as the normal path */
        ck_assert_int_eq(bvt__experiments_user_check(b, rb->ext), BVT_OK);
        bvt_exp_assignment got;
        for (uint32_t n = 0; n < n_want; n++) {
            ck_assert(bvt__experiments_user_at(rb->ext, n, &got));
            ck_assert_uint_eq(got.experiment, want[n].experiment);
            ck_assert_int_eq(got.variant, want[n].variant);
            ck_assert_int_eq(got.exposed_ms, want[n].exposed_ms);
        }
        ck_assert(!bvt__experiments_user_at(rb->ext, n_want, &got));

        /* cut and flipped: a clean refusal, and the accounting comes back */
        bvt__experiments_user_release(rb->ext, &sb->mem);
        ck_assert_uint_eq(sb->mem.bytes[BVT_MEM_ATTRS], base);
        unsigned char p[1024];
        ck_assert_uint_le(w.len, sizeof p);
        for (size_t len = 0; len < w.len; len++) {
            bvt__rbuf_init(&r, w.p, len);
            ck_assert_int_eq(bvt__experiments_user_load(rb->ext, &sb->mem, &r), BVT_ECORRUPT);
            ck_assert_uint_eq(sb->mem.bytes[BVT_MEM_ATTRS], base);
        }
        for (size_t at = 0; at < w.len * 8; at++) {
            memcpy(p, w.p, w.len);
            p[at / 8] ^= (unsigned char)(1u << at % 8);
            bvt__rbuf_init(&r, p, w.len);
            int rc = bvt__experiments_user_load(rb->ext, &sb->mem, &r);
            ck_assert(rc == BVT_OK || rc == BVT_ECORRUPT);
            if (rc == BVT_OK) {
                (void)bvt__experiments_user_check(b, rb->ext);
                bvt__experiments_user_release(rb->ext, &sb->mem);
            }
            ck_assert_uint_eq(sb->mem.bytes[BVT_MEM_ATTRS], base);
        }
        bvt__rbuf_init(&r, w.p, w.len);
        ck_assert_int_eq(bvt__experiments_user_load(rb->ext, &sb->mem, &r), BVT_OK);
        pthread_mutex_unlock(&sb->lock);
        bvt__wbuf_free(&w);

        /* the sticky variant, not the rehashed one, answers */
        int32_t v;
        ck_assert_int_eq(bvt_experiment_assign(b, ea, u, strlen(u), T0 + DAY, &v), BVT_OK);
        ck_assert_int_eq(v, first.a[i]);
    }

    /* the registry check catches what the decoder cannot know */
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, 2);
    bvt__w_u8(&w, 1);
    bvt__w_u16(&w, 3); /* experiment 3 is not defined */
    bvt__w_u8(&w, 0);
    bvt__w_u8(&w, 0);
    bvt__w_u32(&w, 0);
    bvt__w_i64(&w, T0);
    bvt__w_f64(&w, 0);
    bvt_shard *sh;
    bvt_record *rec;
    int created;
    ck_assert_int_eq(bvt__engine_lock_or_create(b, key_of(b, "odd"), &sh, &rec, &created), BVT_OK);
    ck_assert_int_eq(bvt__profile_ext(rec, &sh->mem), BVT_OK);
    bvt_rbuf r;
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__experiments_user_load(rec->ext, &sh->mem, &r), BVT_OK);
    ck_assert_int_eq(bvt__experiments_user_check(b, rec->ext), BVT_ECORRUPT);
    w.p[2] = 1; /* experiment 1 ("exp-a") ... */
    w.p[3] = 0;
    w.p[4] = 5; /* ... variant 5 of 2 */
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__experiments_user_load(rec->ext, &sh->mem, &r), BVT_OK);
    ck_assert_int_eq(bvt__experiments_user_check(b, rec->ext), BVT_ECORRUPT);
    w.p[4] = 1;
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__experiments_user_load(rec->ext, &sh->mem, &r), BVT_OK);
    ck_assert_int_eq(bvt__experiments_user_check(b, rec->ext), BVT_OK);
    pthread_mutex_unlock(&sh->lock);
    bvt__wbuf_free(&w);

    bvt__wbuf_free(&wo);
    bvt__wbuf_free(&wx);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("persist-offers");
    TCase *tc = tcase_create("persist-offers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sections_answer_every_query);
    tcase_add_test(tc, empty_sections_round_trip);
    tcase_add_test(tc, journal_replays_definitions_and_assignments);
    tcase_add_test(tc, replaying_twice_changes_nothing);
    tcase_add_test(tc, replay_refuses_bad_records);
    tcase_add_test(tc, replayed_remove_of_absent_offer_is_ok);
    tcase_add_test(tc, failed_journal_append_is_reported);
    tcase_add_test(tc, corrupt_offer_section);
    tcase_add_test(tc, corrupt_experiment_section);
    tcase_add_test(tc, user_assignments_round_trip);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
