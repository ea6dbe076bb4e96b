/* catalogue.c — the demo shop's segments and offers.  Chosen so the page
 * shows behaviour changing the decision: three views of a category make a
 * user eligible for that category's offer (a higher priority tier than the
 * everybody offer), and something left in the cart outranks both. */
#include "ds.h"

#include <stdio.h>

static const struct { const char *name, *rule; } segments[] = {
    { "runners", "count(page_view, \"sport/running\", 7d) >= 3" },
    { "yogis", "count(page_view, \"sport/yoga\", 7d) >= 3" },
    { "cart_abandoners", "carted_not_bought(1d)" },
};

static const char *const running_tags[] = { "sport/running" };
static const char *const yoga_tags[] = { "sport/yoga" };

int ds_catalogue_define(bvt_engine *engine)
{
    bvt_error err = BVT_ERROR_INIT;
    for (size_t i = 0; i < sizeof segments / sizeof segments[0]; i++) {
        int rc = bvt_segment_define(engine, segments[i].name, segments[i].rule, NULL, &err);
        if (rc != BVT_OK) {
            fprintf(stderr, "decision-server: segment %s: %s\n", segments[i].name, err.message);
            return -1;
        }
    }

    bvt_offer offers[4];
    for (size_t i = 0; i < 4; i++)
        offers[i] = (bvt_offer)BVT_OFFER_INIT;
    offers[0].id = "free-shipping";
    offers[1].id = "running-shoes-15-off";
    offers[1].rule = "in_segment(\"runners\")";
    offers[1].tags = running_tags;
    offers[1].n_tags = 1;
    offers[1].priority = 1;
    offers[2].id = "yoga-mat-bundle";
    offers[2].rule = "in_segment(\"yogis\")";
    offers[2].tags = yoga_tags;
    offers[2].n_tags = 1;
    offers[2].priority = 1;
    offers[3].id = "complete-your-order";
    offers[3].rule = "in_segment(\"cart_abandoners\")";
    offers[3].priority = 2;
    int rc = bvt_offer_define_batch(engine, offers, 4, NULL, NULL, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "decision-server: offers: %s\n", err.message);
        return -1;
    }

    /* Greedy: the same behaviour always shows the same offer, which is what
     * a demo (and its test) wants; a live shop would keep Thompson sampling. */
    bvt_policy policy = BVT_POLICY_INIT;
    policy.kind = BVT_POLICY_GREEDY;
    rc = bvt_policy_set(engine, &policy, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "decision-server: policy: %s\n", err.message);
        return -1;
    }
    return 0;
}
