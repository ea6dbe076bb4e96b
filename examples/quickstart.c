/* quickstart.c — the library in one page: track, read a profile, segment,
 * rank two offers.  Run it with no arguments; docs/examples.md walks
 * through it.  The library never reads a clock, so every call takes an
 * explicit time: here a fixed one, so the output is the same every run. */
#include <stdio.h>
#include <string.h>

#include "behavtarget.h"

#define HOUR_MS 3600000LL

static int fail(const char *what, int rc, const bvt_error *err)
{
    fprintf(stderr, "quickstart: %s: %s\n", what,
            err && err->message[0] ? err->message : bvt_strerror(rc));
    return 1;
}

int main(void)
{
    /* 1. An engine.  The secret keys the hashing of user ids: profiles are
     * stored under the keyed hash, never under the raw id. */
    static const char secret[] = "quickstart-secret-0123456789";
    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    bvt_engine *engine = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&engine, &opts, &err);
    if (rc != BVT_OK)
        return fail("engine", rc, &err);

    /* 2. A few events of one user: three running-shoe page views, then a
     * cart add.  Categories are paths; the parent ("sport") gets credit too. */
    const char *user = "alice";
    int64_t t0 = 1700000000000LL; /* 2023-11-14 22:13 UTC */
    struct { uint32_t type; const char *category; const char *item; double value; } seen[] = {
        { BVT_EVENT_PAGE_VIEW, "sport/running", "shoe-1", 0 },
        { BVT_EVENT_PAGE_VIEW, "sport/running", "shoe-2", 0 },
        { BVT_EVENT_PAGE_VIEW, "sport/running", "shoe-2", 0 },
        { BVT_EVENT_ADD_TO_CART, "sport/running", "shoe-2", 89.90 },
    };
    for (size_t i = 0; i < sizeof seen / sizeof seen[0]; i++) {
        bvt_event ev = BVT_EVENT_INIT;
        ev.type = seen[i].type;
        ev.user_id = user;
        ev.user_id_len = strlen(user);
        ev.time_ms = t0 + (int64_t)i * 60000; /* one a minute */
        ev.category = seen[i].category;
        ev.item_id = seen[i].item;
        ev.value = seen[i].value;
        if ((rc = bvt_event_track(engine, &ev, &err)) != BVT_OK)
            return fail("track", rc, &err);
    }
    int64_t now = t0 + HOUR_MS;

    /* Personalised ranking needs the user's ads consent: without it (or for
     * a user never seen) rules see an empty profile.  Privacy by default. */
    if ((rc = bvt_consent_set(engine, user, strlen(user), BVT_PURPOSE_ADS, 1, t0)) != BVT_OK)
        return fail("consent", rc, NULL);

    /* 3. The profile: counts, cart, and the top interest. */
    bvt_profile p = { .version = BVT_PROFILE_VERSION };
    if ((rc = bvt_profile_get(engine, user, strlen(user), now, &p)) != BVT_OK)
        return fail("profile", rc, NULL);
    printf("events: %llu, page views: %u, cart: %u item(s) worth %.2f\n",
           (unsigned long long)p.events, p.type_counts[BVT_EVENT_PAGE_VIEW], p.cart_items,
           p.cart_value);
    bvt_interest top[1];
    size_t n = 0;
    if ((rc = bvt_profile_interests(engine, user, strlen(user), now, top, 1, &n)) != BVT_OK)
        return fail("interests", rc, NULL);
    if (n == 1)
        printf("top interest: %s (affinity %.2f)\n", top[0].category, top[0].affinity);

    /* 4. A segment is a rule (docs/rules.md), compiled once. */
    uint32_t runners = 0;
    rc = bvt_segment_define(engine, "runners", "count(page_view, \"sport/running\", 7d) >= 3",
                            &runners, &err);
    if (rc != BVT_OK)
        return fail("segment", rc, &err);
    uint32_t in[8];
    size_t n_in = 0;
    if ((rc = bvt_segments_of(engine, user, strlen(user), now, NULL, in, 8, &n_in)) != BVT_OK)
        return fail("segments", rc, NULL);
    int member = 0;
    for (size_t i = 0; i < n_in && i < 8; i++)
        member |= in[i] == runners;
    printf("in segment runners: %s\n", member ? "yes" : "no");

    /* 5. Two offers: one for everybody, one only for the segment, on a
     * higher priority tier so it wins whenever the user is eligible. */
    bvt_offer general = BVT_OFFER_INIT;
    general.id = "newsletter-signup";
    bvt_offer targeted = BVT_OFFER_INIT;
    targeted.id = "running-shoes-10-off";
    targeted.rule = "in_segment(\"runners\")";
    targeted.priority = 1;
    if ((rc = bvt_offer_define(engine, &general, NULL, &err)) != BVT_OK ||
        (rc = bvt_offer_define(engine, &targeted, NULL, &err)) != BVT_OK)
        return fail("offer", rc, &err);

    /* 6. Rank for our user and for one the engine has never seen.  A greedy
     * policy keeps the output deterministic (the default samples). */
    bvt_policy greedy = BVT_POLICY_INIT;
    greedy.kind = BVT_POLICY_GREEDY;
    const char *who[] = { user, "stranger" };
    for (size_t u = 0; u < 2; u++) {
        bvt_rank_request req = BVT_RANK_REQUEST_INIT;
        req.user_id = who[u];
        req.user_id_len = strlen(who[u]);
        req.now = now;
        req.k = 2;
        req.policy = &greedy;
        bvt_ranked_offer slots[2];
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        res.offers = slots;
        res.offers_cap = 2;
        if ((rc = bvt_rank(engine, &req, &res, &err)) != BVT_OK)
            return fail("rank", rc, &err);
        printf("offers for %s:", who[u]);
        for (size_t i = 0; i < res.n_offers && i < 2; i++)
            printf(" %zu. %s", i + 1, slots[i].offer_id);
        printf("\n");
    }

    /* 7. Done: free everything (bvt_engine_save() would keep it). */
    bvt_engine_free(engine);
    return 0;
}
