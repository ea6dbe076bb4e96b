/* Offer catalog through the public API: definitions and their errors,
 * eligibility (schedule, budget, consent, rules, cool-off, caps over sliding
 * windows, group caps) at exact boundaries, and the metrics that feedback
 * events build. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "offer-suite-secret-key"
#include "offertest.h"

static const bvt_rank_request plain = BVT_RANK_REQUEST_INIT;

/* ---- definitions ---- */

typedef struct bad_offer {
    const char *label;
    void (*apply)(bvt_offer *o);
    int expect;
} bad_offer;

static const bvt_cap zero_cap = { 0, DAY }, no_window = { 3, 0 }, too_many = { 256, DAY };
static const char *const bad_tags[] = { "a//b" };
static const char *const latin1_tags[] = { "sport", "caf\xe9" };

#define MUT(name, stmt) static void name(bvt_offer *o) { stmt; }
MUT(b_version0, o->version = 0)
MUT(b_version9, o->version = 9)
MUT(b_no_id, o->id = NULL)
MUT(b_empty_id, o->id = "")
MUT(b_long_id, o->id = "0123456789012345678901234567890123456789012345678901234567890123")
MUT(b_ctrl_id, o->id = "new\toffer")
MUT(b_latin1_id, o->id = "caf\xe9")
MUT(b_surrogate_id, o->id = "x\xed\xb0\x80")
MUT(b_latin1_tag, (o->tags = latin1_tags, o->n_tags = 2))
MUT(b_rule_bytes, o->rule = "ctx.geo == \"\xff\"")
MUT(b_value, o->value = -1)
MUT(b_value_nan, o->value = NAN)
MUT(b_cost, o->cost = INFINITY)
MUT(b_response, o->response = BVT_EVENT_PURCHASE)
MUT(b_cost_per, o->cost_per = BVT_EVENT_CONVERSION)
MUT(b_caps_null, o->n_caps = 1)
MUT(b_cap_zero, (o->caps = &zero_cap, o->n_caps = 1))
MUT(b_cap_window, (o->caps = &no_window, o->n_caps = 1))
MUT(b_cap_big, (o->caps = &too_many, o->n_caps = 1))
MUT(b_n_caps, (o->caps = &zero_cap, o->n_caps = BVT_OFFER_CAPS_MAX + 1))
MUT(b_tags_null, o->n_tags = 1)
MUT(b_tag_path, (o->tags = bad_tags, o->n_tags = 1))
MUT(b_schedule, (o->start_ms = T0 + DAY, o->end_ms = T0))
MUT(b_cooloff, o->cooloff_ms = -1)
MUT(b_group, o->group = "no-such-group")
MUT(b_rule_syntax, o->rule = "page_views >=")
MUT(b_rule_name, o->rule = "no_such_feature > 1")
MUT(b_rule_type, o->rule = "page_views == \"x\"")

static const bad_offer bad_offers[] = {
    { "version 0", b_version0, BVT_EINVAL },
    { "version too new", b_version9, BVT_EVERSION },
    { "no id", b_no_id, BVT_EINVAL },
    { "empty id", b_empty_id, BVT_EINVAL },
    { "64-byte id", b_long_id, BVT_EINVAL },
    { "control character in id", b_ctrl_id, BVT_EINVAL },
    { "id not UTF-8", b_latin1_id, BVT_EINVAL },
    { "id with a surrogate", b_surrogate_id, BVT_EINVAL },
    { "tag not UTF-8", b_latin1_tag, BVT_EINVAL },
    { "rule not UTF-8", b_rule_bytes, BVT_EINVAL },
    { "negative value", b_value, BVT_EINVAL },
    { "NaN value", b_value_nan, BVT_EINVAL },
    { "infinite cost", b_cost, BVT_EINVAL },
    { "purchase as response", b_response, BVT_EINVAL },
    { "conversion as cost_per", b_cost_per, BVT_EINVAL },
    { "caps NULL", b_caps_null, BVT_EINVAL },
    { "cap of 0", b_cap_zero, BVT_EINVAL },
    { "cap without window", b_cap_window, BVT_EINVAL },
    { "cap above 255", b_cap_big, BVT_EINVAL },
    { "5 caps", b_n_caps, BVT_EINVAL },
    { "tags NULL", b_tags_null, BVT_EINVAL },
    { "bad tag path", b_tag_path, BVT_EINVAL },
    { "end before start", b_schedule, BVT_EINVAL },
    { "negative cool-off", b_cooloff, BVT_EINVAL },
    { "unknown group", b_group, BVT_ENOTFOUND },
    { "rule syntax", b_rule_syntax, BVT_ESYNTAX },
    { "rule names an unknown feature", b_rule_name, BVT_ENOTFOUND },
    { "rule type mismatch", b_rule_type, BVT_EINVAL },
};

START_TEST(bad_definitions_change_nothing)
{
    const bad_offer *c = &bad_offers[_i];
    bvt_engine *e = engine_default();
    bvt_offer good = offer_named("kept");
    good.value = 2;
    uint32_t kept = offer_ok(e, &good);
    bvt_offer o = offer_named("new-offer");
    c->apply(&o);
    bvt_error err = BVT_ERROR_INIT;
    uint32_t id = 77;
    int rc = bvt_offer_define(e, &o, &id, &err);
    ck_assert_msg(rc == c->expect, "%s: got %d (%s), want %d", c->label, rc, err.message,
                  c->expect);
    ck_assert_int_eq(err.code, c->expect);
    ck_assert_uint_eq(id, 77);
    ck_assert_msg(err.message[0] != 0, "%s: no message", c->label);
    uint32_t ids[4];
    size_t n;
    ck_assert_int_eq(bvt_offer_list(e, ids, 4, &n), BVT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], kept);
    ck_assert_int_eq(bvt_offer_lookup(e, "new-offer", &id), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

START_TEST(define_replace_remove_list)
{
    bvt_engine *e = engine_default();
    uint32_t a = offer_ok(e, &(bvt_offer){ .version = 1, .id = "a", .value = 1 });
    uint32_t b = offer_ok(e, &(bvt_offer){ .version = 1, .id = "b" });
    ck_assert_uint_ne(a, b);
    ck_assert_str_eq(bvt_offer_name(e, a), "a");
    ck_assert_ptr_null(bvt_offer_name(e, 99));
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "a", T0, 0);
    /* replacing keeps the id, the place in the list and the counters */
    ck_assert_uint_eq(offer_ok(e, &(bvt_offer){ .version = 1, .id = "a", .value = 5 }), a);
    uint32_t ids[4];
    size_t n;
    ck_assert_int_eq(bvt_offer_list(e, ids, 4, &n), BVT_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ids[0], a);
    ck_assert_uint_eq(ids[1], b);
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.impressions, 1);
    ck_assert_int_eq(bvt_offer_remove(e, "a", NULL), BVT_OK);
    ck_assert_int_eq(bvt_offer_remove(e, "a", NULL), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_offer_remove(e, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_offer_list(e, ids, 4, &n), BVT_OK);
    ck_assert_uint_eq(n, 1);
    /* a removed id keeps its number and metrics; a candidate naming it is unknown */
    uint32_t again;
    ck_assert_int_eq(bvt_offer_lookup(e, "a", &again), BVT_OK);
    ck_assert_uint_eq(again, a);
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.impressions, 1);
    const char *cands[] = { "a", "b", "zzz" };
    bvt_rank_request q = plain;
    q.candidates = cands;
    q.n_candidates = 3;
    q.k = 3;
    ranked r;
    rank_ok(e, q, "u", T0 + HOUR, &r);
    ck_assert_uint_eq(r.res.n_offers, 1);
    ck_assert_str_eq(r.offers[0].offer_id, "b");
    ck_assert_uint_eq(exclusion_of(&r, "a"), BVT_EXCLUDED_UNKNOWN);
    ck_assert_uint_eq(exclusion_of(&r, "zzz"), BVT_EXCLUDED_UNKNOWN);
    /* defined again: it continues */
    ck_assert_uint_eq(offer_ok(e, &(bvt_offer){ .version = 1, .id = "a" }), a);
    bvt_engine_free(e);
}
END_TEST

START_TEST(batch_is_all_or_nothing)
{
    bvt_engine *e = engine_default();
    bvt_offer batch[4] = { offer_named("b0"), offer_named("b1"), offer_named("b2"),
                           offer_named("b3") };
    batch[2].rule = "page_views >= ";
    uint32_t ids[4] = { 0 };
    size_t failed = 99;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_offer_define_batch(e, batch, 4, ids, &failed, &err), BVT_ESYNTAX);
    ck_assert_uint_eq(failed, 2);
    ck_assert_int_eq(err.offset, 14); /* the byte in b2's rule */
    size_t n;
    ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 0);
    uint32_t id;
    ck_assert_int_eq(bvt_offer_lookup(e, "b0", &id), BVT_ENOTFOUND);
    batch[2].rule = NULL;
    batch[3].id = "b1";
    ck_assert_int_eq(bvt_offer_define_batch(e, batch, 4, ids, &failed, &err), BVT_EINVAL);
    ck_assert_uint_eq(failed, 3);
    batch[3].id = "b3";
    ck_assert_int_eq(bvt_offer_define_batch(e, batch, 4, ids, &failed, NULL), BVT_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(bvt_offer_name(e, ids[i]), batch[i].id);
        ck_assert_uint_eq(ids[i], (uint32_t)i + 1);
    }
    ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 4);
    /* a batch replaces as single definitions do, keeping ids */
    batch[0].value = 3;
    ck_assert_int_eq(bvt_offer_define_batch(e, batch, 1, ids, NULL, NULL), BVT_OK);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_int_eq(bvt_offer_define_batch(e, batch, 0, ids, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_offer_define_batch(e, NULL, 2, ids, NULL, NULL), BVT_EINVAL);
    /* a large catalog loads in one version */
    static bvt_offer many[20000];
    static char names[20000][12];
    for (int i = 0; i < 20000; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        many[i] = offer_named(names[i]);
    }
    ck_assert_int_eq(bvt_offer_define_batch(e, many, 20000, NULL, NULL, NULL), BVT_OK);
    ck_assert_int_eq(bvt_offer_list(e, NULL, 0, &n), BVT_OK);
    ck_assert_uint_eq(n, 20004);
    bvt_engine_free(e);
}
END_TEST

/* Names reach the export's JSON: each must be UTF-8, and the error gives
 * the offset of the first bad byte; a refused offer interns no tag. */
START_TEST(names_must_be_utf8)
{
    bvt_engine *e = engine_default();
    bvt_error err = BVT_ERROR_INIT;
    bvt_offer o = offer_named("promo-\xe2\x82");
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 6);
    ck_assert_msg(strstr(err.message, "offer id") && strstr(err.message, "UTF-8"), "%s",
                  err.message);
    o = offer_named("promo");
    o.tags = latin1_tags;
    o.n_tags = 2;
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 3);
    ck_assert_msg(strstr(err.message, "tags[1]"), "%s", err.message);
    uint32_t id;
    ck_assert_int_eq(bvt_category_lookup(e, "sport", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_offer_group_define(e, "summer\xf4\x90\x80\x80", NULL, 0, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(err.offset, 6);
    ck_assert_msg(strstr(err.message, "group name"), "%s", err.message);
    o.tags = NULL;
    o.n_tags = 0;
    o.group = "summer";
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, &err), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_offer_group_define(e, "sommer-\xc3\xa9t\xc3\xa9", NULL, 0, &err),
                     BVT_OK);
    bvt_engine_free(e);
}
END_TEST

/* A batch of more offers than ids can exist is refused before any is read. */
START_TEST(batch_size_is_bounded)
{
    bvt_engine *e = engine_default();
    size_t n = (size_t)BVT_OFFERS_MAX + 1;
    bvt_offer *many = calloc(n, sizeof *many);
    ck_assert_ptr_nonnull(many);
    size_t failed = 9;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_offer_define_batch(e, many, n, NULL, &failed, &err), BVT_EINVAL);
    ck_assert_msg(strstr(err.message, "BVT_OFFERS_MAX"), "%s", err.message);
    ck_assert_uint_eq(failed, 0);
    free(many);
    bvt_engine_free(e);
}
END_TEST

/* ---- eligibility ---- */

/* Why `id` is not ranked for user at now (0: eligible). */
static uint32_t why(bvt_engine *e, const char *user, int64_t now, const char *id)
{
    ranked r;
    bvt_rank_request q = plain;
    q.k = RANK_MAX;
    rank_ok(e, q, user, now, &r);
    uint32_t reason = exclusion_of(&r, id);
    ck_assert_int_eq(reason == 0, ranked_has(&r, id));
    return reason;
}

START_TEST(caps_slide_exactly)
{
    bvt_engine *e = engine_default();
    const bvt_cap caps[] = { { 3, DAY }, { 10, 7 * DAY } };
    bvt_offer o = offer_named("capped");
    o.caps = caps;
    o.n_caps = 2;
    offer_ok(e, &o);
    /* 3 impressions within the day: capped until the first leaves the window */
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "capped", T0, 0);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "capped", T0 + HOUR, 0);
    ck_assert_uint_eq(why(e, "u", T0 + 2 * HOUR, "capped"), 0);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "capped", T0 + 2 * HOUR, 0);
    ck_assert_uint_eq(why(e, "u", T0 + 2 * HOUR, "capped"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + DAY - 1, "capped"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + DAY, "capped"), 0); /* T0 left: now - DAY < t fails */
    /* another user is not capped */
    ck_assert_uint_eq(why(e, "v", T0 + 2 * HOUR, "capped"), 0);
    /* the weekly cap: 10 impressions over 4 days, at most 3 a day */
    for (int d = 1; d <= 3; d++)
        for (int i = 0; i < (d == 3 ? 1 : 3); i++)
            feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "capped", T0 + d * DAY + i * HOUR, 0);
    /* 3 + 3 + 3 + 1 = 10 in the week from T0 */
    ck_assert_uint_eq(why(e, "u", T0 + 3 * DAY + 2 * HOUR, "capped"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 7 * DAY - 1, "capped"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 7 * DAY, "capped"), 0);
    /* an impression tracked late (in the past) still counts where it belongs */
    feedback_ok(e, "w", BVT_EVENT_IMPRESSION, "capped", T0 + 5 * HOUR, 0);
    feedback_ok(e, "w", BVT_EVENT_IMPRESSION, "capped", T0 + 1 * HOUR, 0);
    feedback_ok(e, "w", BVT_EVENT_IMPRESSION, "capped", T0 + 3 * HOUR, 0);
    ck_assert_uint_eq(why(e, "w", T0 + DAY + HOUR - 1, "capped"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "w", T0 + DAY + HOUR, "capped"), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(group_caps_span_offers)
{
    bvt_engine *e = engine_default();
    const bvt_cap group_cap = { 2, DAY };
    ck_assert_int_eq(bvt_offer_group_define(e, "spring", &group_cap, 1, NULL), BVT_OK);
    ck_assert_int_eq(bvt_offer_group_define(e, "", &group_cap, 1, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_offer_group_define(e, "bad", &zero_cap, 1, NULL), BVT_EINVAL);
    bvt_offer a = offer_named("a"), b = offer_named("b"), c = offer_named("c");
    a.group = b.group = "spring";
    offer_ok(e, &a);
    offer_ok(e, &b);
    offer_ok(e, &c);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "a", T0, 0);
    ck_assert_uint_eq(why(e, "u", T0 + 1, "b"), 0);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "b", T0 + 1, 0);
    ck_assert_uint_eq(why(e, "u", T0 + 2, "a"), BVT_EXCLUDED_GROUP_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 2, "b"), BVT_EXCLUDED_GROUP_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 2, "c"), 0);
    ck_assert_uint_eq(why(e, "u", T0 + DAY, "a"), 0);
    /* redefining the group's caps applies to what is recorded */
    const bvt_cap looser = { 3, DAY };
    ck_assert_int_eq(bvt_offer_group_define(e, "spring", &looser, 1, NULL), BVT_OK);
    ck_assert_uint_eq(why(e, "u", T0 + 2, "a"), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(cap_state_is_bounded)
{
    /* 64 entries at most: a 65th offer drops the one idle longest, and an
     * impression that needs two new entries (offer and group) keeps both */
    bvt_engine *e = engine_default();
    const bvt_cap one = { 1, DAY };
    ck_assert_int_eq(bvt_offer_group_define(e, "g", &one, 1, NULL), BVT_OK);
    char id[16];
    for (int i = 0; i < 64; i++) {
        snprintf(id, sizeof id, "o%d", i);
        bvt_offer o = offer_named(id);
        o.caps = &one;
        o.n_caps = 1;
        offer_ok(e, &o);
        feedback_ok(e, "u", BVT_EVENT_IMPRESSION, id, T0 + i, 0);
    }
    bvt_offer grouped = offer_named("grouped");
    grouped.group = "g";
    offer_ok(e, &grouped);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "grouped", T0 + 100, 0);
    ck_assert_uint_eq(why(e, "u", T0 + 101, "grouped"), BVT_EXCLUDED_GROUP_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 101, "o63"), BVT_EXCLUDED_CAP);
    ck_assert_uint_eq(why(e, "u", T0 + 101, "o0"), 0); /* the idle-longest entries went */
    ck_assert_uint_eq(why(e, "u", T0 + 101, "o1"), 0);
    ck_assert_uint_eq(why(e, "u", T0 + 101, "o2"), BVT_EXCLUDED_CAP);
    bvt_engine_free(e);
}
END_TEST

START_TEST(cooloff_after_dismissal)
{
    bvt_engine *e = engine_default();
    bvt_offer o = offer_named("nag");
    o.cooloff_ms = 3 * DAY;
    offer_ok(e, &o);
    offer_ok(e, &(bvt_offer){ .version = 1, .id = "free" }); /* no cool-off: dismissals only count */
    feedback_ok(e, "u", BVT_EVENT_DISMISS, "nag", T0, 0);
    feedback_ok(e, "u", BVT_EVENT_DISMISS, "free", T0, 0);
    ck_assert_uint_eq(why(e, "u", T0, "nag"), BVT_EXCLUDED_COOLOFF);
    ck_assert_uint_eq(why(e, "u", T0 + 3 * DAY - 1, "nag"), BVT_EXCLUDED_COOLOFF);
    ck_assert_uint_eq(why(e, "u", T0 + 3 * DAY, "nag"), 0);
    ck_assert_uint_eq(why(e, "u", T0 - 1, "nag"), 0); /* a ranking before the dismissal */
    ck_assert_uint_eq(why(e, "u", T0, "free"), 0);
    bvt_metrics m = BVT_METRICS_INIT;
    uint32_t id;
    ck_assert_int_eq(bvt_offer_lookup(e, "nag", &id), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(e, id, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.dismissals, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(schedule_and_budget)
{
    bvt_engine *e = engine_default();
    bvt_offer o = offer_named("sale");
    o.start_ms = T0 + DAY;
    o.end_ms = T0 + 2 * DAY;
    offer_ok(e, &o);
    ck_assert_uint_eq(why(e, "u", T0 + DAY - 1, "sale"), BVT_EXCLUDED_SCHEDULE);
    ck_assert_uint_eq(why(e, "u", T0 + DAY, "sale"), 0);
    ck_assert_uint_eq(why(e, "u", T0 + 2 * DAY - 1, "sale"), 0);
    ck_assert_uint_eq(why(e, "u", T0 + 2 * DAY, "sale"), BVT_EXCLUDED_SCHEDULE);
    bvt_offer b = offer_named("budgeted");
    b.budget_impressions = 3;
    offer_ok(e, &b);
    feedback_ok(e, "u1", BVT_EVENT_IMPRESSION, "budgeted", T0, 0);
    feedback_ok(e, "u2", BVT_EVENT_IMPRESSION, "budgeted", T0, 0);
    ck_assert_uint_eq(why(e, "u9", T0, "budgeted"), 0);
    feedback_ok(e, "u3", BVT_EVENT_IMPRESSION, "budgeted", T0, 0);
    ck_assert_uint_eq(why(e, "u9", T0, "budgeted"), BVT_EXCLUDED_BUDGET);
    /* reasons come in a fixed order: the schedule before the budget */
    b.start_ms = T0 + DAY;
    offer_ok(e, &b);
    ck_assert_uint_eq(why(e, "u9", T0, "budgeted"), BVT_EXCLUDED_SCHEDULE);
    bvt_engine_free(e);
}
END_TEST

START_TEST(consent_gives_the_non_personalised_ranking)
{
    bvt_engine *e = engine_default();
    bvt_offer retarget = offer_named("retarget"), viewers = offer_named("viewers");
    bvt_offer mobile = offer_named("mobile");
    retarget.personalised = 1;
    viewers.rule = "page_views >= 1";
    mobile.rule = "ctx.device == \"mobile\"";
    offer_ok(e, &retarget);
    offer_ok(e, &viewers);
    offer_ok(e, &mobile);
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.device = "mobile";
    bvt_rank_request q = plain;
    q.ctx = &ctx;
    q.k = 3;
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "shoes", 0);
    ranked r;
    /* never chose: no ads consent, so no profile data and no retargeting */
    rank_ok(e, q, "u", T0 + 1, &r);
    ck_assert_int_eq(r.res.personalised, 0);
    ck_assert_uint_eq(exclusion_of(&r, "retarget"), BVT_EXCLUDED_CONSENT);
    ck_assert_uint_eq(exclusion_of(&r, "viewers"), BVT_EXCLUDED_RULE);
    ck_assert(ranked_has(&r, "mobile")); /* the context still counts */
    ads_consent(e, "u", 1, T0);
    rank_ok(e, q, "u", T0 + 1, &r);
    ck_assert_int_eq(r.res.personalised, 1);
    ck_assert_uint_eq(r.res.n_offers, 3);
    ads_consent(e, "u", 0, T0 + 2);
    rank_ok(e, q, "u", T0 + 3, &r);
    ck_assert_int_eq(r.res.personalised, 0);
    ck_assert_uint_eq(exclusion_of(&r, "viewers"), BVT_EXCLUDED_RULE);
    /* an unknown user gets a ranking too, and nothing is created */
    rank_ok(e, q, "stranger", T0, &r);
    ck_assert_int_eq(r.res.personalised, 0);
    ck_assert(ranked_has(&r, "mobile"));
    ck_assert_int_eq(bvt_user_exists(e, "stranger", 8), 0);
    /* caps still apply without consent */
    bvt_offer capped = offer_named("capped");
    const bvt_cap one = { 1, DAY };
    capped.caps = &one;
    capped.n_caps = 1;
    offer_ok(e, &capped);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "capped", T0 + 3, 0);
    rank_ok(e, q, "u", T0 + 4, &r);
    ck_assert_uint_eq(exclusion_of(&r, "capped"), BVT_EXCLUDED_CAP);
    bvt_engine_free(e);
}
END_TEST

/* ---- metrics ---- */

START_TEST(metrics_from_feedback)
{
    bvt_engine *e = engine_default();
    bvt_offer cpc = offer_named("cpc"), cpa = offer_named("cpa");
    cpc.value = 0.5;              /* earned per click */
    cpc.cost = 0.01;              /* paid per impression */
    cpa.response = BVT_EVENT_CONVERSION;
    cpa.value = 20;               /* earned per conversion without a value */
    cpa.cost = 0.2;
    cpa.cost_per = BVT_EVENT_CLICK;
    uint32_t a = offer_ok(e, &cpc), b = offer_ok(e, &cpa);
    for (int i = 0; i < 10; i++)
        feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "cpc", T0 + i, 0);
    feedback_ok(e, "u", BVT_EVENT_CLICK, "cpc", T0 + 20, 0);
    feedback_ok(e, "u", BVT_EVENT_CLICK, "cpc", T0 + 21, 2.0); /* an event value wins */
    feedback_ok(e, "u", BVT_EVENT_LIKE, "cpc", T0 + 22, 0);
    for (int i = 0; i < 4; i++)
        feedback_ok(e, "v", BVT_EVENT_IMPRESSION, "cpa", T0 + i, 0);
    feedback_ok(e, "v", BVT_EVENT_CLICK, "cpa", T0 + 10, 0);
    feedback_ok(e, "v", BVT_EVENT_CLICK, "cpa", T0 + 11, 0);
    feedback_ok(e, "v", BVT_EVENT_CONVERSION, "cpa", T0 + 12, 0);
    feedback_ok(e, "v", BVT_EVENT_CONVERSION, "cpa", T0 + 13, 50);
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.impressions, 10);
    ck_assert_uint_eq(m.clicks, 2);
    ck_assert_uint_eq(m.engagements, 3);
    ck_assert(close_rel(m.revenue, 2.5, 1e-12));
    ck_assert(close_rel(m.cost, 0.1, 1e-12));
    ck_assert(close_rel(m.ctr, 0.2, 1e-12));
    ck_assert(close_rel(m.engagement_rate, 0.3, 1e-12));
    ck_assert(close_rel(m.roi, 24.0, 1e-9));
    ck_assert_int_eq(bvt_metrics_get(e, b, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.conversions, 2);
    ck_assert(close_rel(m.revenue, 70, 1e-12));
    ck_assert(close_rel(m.cost, 0.4, 1e-12));
    ck_assert(close_rel(m.conversion_rate, 1.0, 1e-12));
    ck_assert_int_eq(bvt_metrics_get(e, BVT_ALL_OFFERS, 0, &m), BVT_OK);
    ck_assert_uint_eq(m.impressions, 14);
    ck_assert(close_rel(m.revenue, 72.5, 1e-12));
    /* errors */
    ck_assert_int_eq(bvt_metrics_get(e, 99, 0, &m), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_metrics_get(e, a, 12345, &m), BVT_ENOTFOUND);
    m.version = 0;
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_EINVAL);
    m.version = 99;
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_EVERSION);
    m = (bvt_metrics)BVT_METRICS_INIT;
    /* feedback naming an offer nobody defined is kept in the profile and counted */
    ck_assert_uint_eq(bvt_metrics_unattributed(e), 0);
    feedback_ok(e, "u", BVT_EVENT_CLICK, "never-defined", T0 + 30, 0);
    ck_assert_uint_eq(bvt_metrics_unattributed(e), 1);
    ck_assert_uint_eq(profile_of(e, "u", T0 + 31).clicks, 3);
    /* an offer id on a purchase is not feedback */
    feedback_ok(e, "u", BVT_EVENT_PURCHASE, "cpc", T0 + 32, 10);
    ck_assert_int_eq(bvt_metrics_get(e, a, 0, &m), BVT_OK);
    ck_assert(close_rel(m.revenue, 2.5, 1e-12));
    bvt_engine_free(e);
}
END_TEST

START_TEST(metrics_and_buckets_per_segment)
{
    bvt_engine *e = engine_default();
    uint32_t buyers, browsers;
    ck_assert_int_eq(bvt_segment_define(e, "buyers", "purchases >= 1", &buyers, NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "browsers", "page_views >= 1", &browsers, NULL), BVT_OK);
    const uint32_t segs[] = { buyers, browsers };
    ck_assert_int_eq(bvt_offer_segments_set(e, segs, 2, NULL), BVT_OK);
    const uint32_t twice[] = { buyers, buyers };
    ck_assert_int_eq(bvt_offer_segments_set(e, twice, 2, NULL), BVT_EINVAL);
    const uint32_t unknown[] = { 4000 };
    ck_assert_int_eq(bvt_offer_segments_set(e, unknown, 1, NULL), BVT_ENOTFOUND);
    uint32_t ad = offer_ok(e, &(bvt_offer){ .version = 1, .id = "ad" });
    track_ok(e, "buyer", BVT_EVENT_PURCHASE, T0, NULL, 10);
    track_ok(e, "buyer", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "browser", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    feedback_ok(e, "buyer", BVT_EVENT_IMPRESSION, "ad", T0 + 1, 0);
    feedback_ok(e, "browser", BVT_EVENT_IMPRESSION, "ad", T0 + 1, 0);
    feedback_ok(e, "browser", BVT_EVENT_IMPRESSION, "ad", T0 + 2, 0);
    feedback_ok(e, "nobody", BVT_EVENT_IMPRESSION, "ad", T0 + 1, 0);
    feedback_ok(e, "browser", BVT_EVENT_CLICK, "ad", T0 + 3, 0);
    bvt_metrics all = BVT_METRICS_INIT, b = BVT_METRICS_INIT, w = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(e, ad, 0, &all), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(e, ad, buyers, &b), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(e, ad, browsers, &w), BVT_OK);
    ck_assert_uint_eq(all.impressions, 4);
    ck_assert_uint_eq(b.impressions, 1);
    ck_assert_uint_eq(w.impressions, 3); /* the buyer browses too: segments overlap */
    ck_assert_uint_eq(w.clicks, 1);
    ck_assert_uint_eq(b.clicks, 0);
    /* the bandit bucket is the first listed segment the user is in */
    ads_consent(e, "buyer", 1, T0);
    ads_consent(e, "browser", 1, T0);
    ranked r;
    rank_ok(e, plain, "buyer", T0 + 5, &r);
    ck_assert_uint_eq(r.res.bucket, 1);
    rank_ok(e, plain, "browser", T0 + 5, &r);
    ck_assert_uint_eq(r.res.bucket, 2);
    /* the browsers' bucket saw 2 impressions and 1 click: prior 20 x 0.01 */
    ck_assert(close_rel(r.offers[0].estimate, (0.2 + 1) / (20.0 + 2), 1e-9));
    rank_ok(e, plain, "nobody", T0 + 5, &r);
    ck_assert_uint_eq(r.res.bucket, 0);
    /* replacing the list resets the positions that changed */
    const uint32_t swapped[] = { buyers };
    ck_assert_int_eq(bvt_offer_segments_set(e, swapped, 1, NULL), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(e, ad, buyers, &b), BVT_OK);
    ck_assert_uint_eq(b.impressions, 1);
    ck_assert_int_eq(bvt_metrics_get(e, ad, browsers, &w), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

START_TEST(refused_feedback_changes_nothing)
{
    /* a memory budget too small for cap state: the impression is refused,
     * and neither the counters nor the caps move */
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.memory_budget = 8384 + 1024;
    o.history_events = BVT_NONE;
    o.history_day_slots = BVT_NONE;
    bvt_engine *e = engine_with(&o);
    uint32_t ad = offer_ok(e, &(bvt_offer){ .version = 1, .id = "ad" });
    int refused = 0;
    char user[32];
    for (int i = 0; i < 200 && !refused; i++) {
        snprintf(user, sizeof user, "user-%d", i);
        bvt_event ev = make_event(user, BVT_EVENT_IMPRESSION, T0, NULL, 0);
        ev.offer_id = "ad";
        int rc = bvt_event_track(e, &ev, NULL);
        ck_assert(rc == BVT_OK || rc == BVT_EFULL);
        refused = rc == BVT_EFULL;
    }
    ck_assert_msg(refused, "the budget never ran out");
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(e, ad, 0, &m), BVT_OK);
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(m.impressions, s.events_accepted);
    bvt_engine_free(e);
}
END_TEST

/* The user's export and the memory figures, to see that a call changed
 * nothing at all. */
static void user_state(bvt_engine *e, const char *user, char *buf, size_t cap)
{
    size_t len;
    int rc = bvt_user_export(e, user, strlen(user), T0 + DAY, buf, cap, &len);
    ck_assert(rc == BVT_OK || rc == BVT_ENOTFOUND);
    bvt_stats s = stats_of(e);
    size_t at = rc == BVT_OK ? len : 0;
    snprintf(buf + at, cap - at, " %llu %llu %llu", (unsigned long long)s.bytes_history,
             (unsigned long long)s.bytes_cart, (unsigned long long)s.bytes_attributes);
}

START_TEST(refused_event_gives_its_room_back)
{
    /* A known user's impression (or cart add) at the budget: the cap
     * entry, the table of entries or the cart room it reserved went unused
     * and stayed: an empty entry in the export, and bytes no replay
     * rebuilds.  Every budget here runs out at a different step. */
    static char before[1 << 15], after[1 << 15];
    const char *ids[] = { "o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7" };
    const uint32_t type = _i ? BVT_EVENT_ADD_TO_CART : BVT_EVENT_IMPRESSION;
    int refusals = 0;
    for (uint64_t budget = 8400; budget < 10400; budget += 8) {
        bvt_options o = BVT_OPTIONS_INIT;
        o.shards = 1;
        o.memory_budget = budget;
        bvt_engine *e = engine_with(&o);
        for (int i = 0; i < 8; i++)
            offer_ok(e, &(bvt_offer){ .version = 1, .id = ids[i] });
        for (int i = 0; i < 40; i++) {
            bvt_event ev = make_event("u", type, T0 + i * HOUR, "sport", _i);
            if (_i)
                ev.item_id = ids[i % 8];
            else
                ev.offer_id = ids[i % 8];
            user_state(e, "u", before, sizeof before);
            int rc = bvt_event_track(e, &ev, NULL);
            ck_assert(rc == BVT_OK || rc == BVT_EFULL);
            if (rc == BVT_EFULL) {
                user_state(e, "u", after, sizeof after);
                ck_assert_msg(strcmp(before, after) == 0, "budget %llu, event %d (type %u) "
                              "refused, and the user changed:\n%s\n%s",
                              (unsigned long long)budget, i, type, before, after);
                refusals++;
                break;
            }
        }
        bvt_engine_free(e);
    }
    ck_assert_int_gt(refusals, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offer");
    TCase *tc = tcase_create("offer");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, bad_definitions_change_nothing, 0,
                        (int)(sizeof bad_offers / sizeof bad_offers[0]));
    tcase_add_test(tc, define_replace_remove_list);
    tcase_add_test(tc, batch_is_all_or_nothing);
    tcase_add_test(tc, names_must_be_utf8);
    tcase_add_test(tc, batch_size_is_bounded);
    tcase_add_test(tc, caps_slide_exactly);
    tcase_add_test(tc, group_caps_span_offers);
    tcase_add_test(tc, cap_state_is_bounded);
    tcase_add_test(tc, cooloff_after_dismissal);
    tcase_add_test(tc, schedule_and_budget);
    tcase_add_test(tc, consent_gives_the_non_personalised_ranking);
    tcase_add_test(tc, metrics_from_feedback);
    tcase_add_test(tc, metrics_and_buckets_per_segment);
    tcase_add_test(tc, refused_feedback_changes_nothing);
    tcase_add_loop_test(tc, refused_event_gives_its_room_back, 0, 2);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
