/* segment_builtin.c — the segments every engine starts with: the standard
 * RFM segments and the funnel stages, written in the rule language
 * (docs/segments.md gives the tables). */
#include "engine.h"

static const struct builtin {
    const char *name, *rule;
} builtins[] = {
    /* RFM: R score by the rounded mean of the F and M scores */
    { "Champions", "rfm_segment == \"Champions\"" },
    { "Loyal", "rfm_segment == \"Loyal\"" },
    { "Potential Loyalist", "rfm_segment == \"Potential Loyalist\"" },
    { "New Customers", "rfm_segment == \"New Customers\"" },
    { "Promising", "rfm_segment == \"Promising\"" },
    { "Need Attention", "rfm_segment == \"Need Attention\"" },
    { "About to Sleep", "rfm_segment == \"About to Sleep\"" },
    { "At Risk", "rfm_segment == \"At Risk\"" },
    { "Can't Lose Them", "rfm_segment == \"Can't Lose Them\"" },
    { "Hibernating", "rfm_segment == \"Hibernating\"" },
    { "Lost", "rfm_segment == \"Lost\"" },
    /* Funnel stages: behavioural targeting aims at the top and middle,
     * retargeting at the pool */
    { "New Visitor", "purchases == 0 and sessions <= 1 and not carted_not_bought(30d) and "
                     "count(page_view, *, 7d) < 3" },
    { "Engaged", "purchases == 0 and sessions >= 2 and not carted_not_bought(30d) and "
                 "count(page_view, *, 7d) < 3" },
    { "Retargeting Pool", "not did(purchase, *, 30d) and "
                          "(carted_not_bought(30d) or count(page_view, *, 7d) >= 3)" },
    { "First-time Buyer", "frequency == 1 and purchase_recency <= 90d" },
    { "Repeat Buyer", "frequency >= 2 and purchase_recency <= 90d" },
    { "Lapsed", "purchases > 0 and purchase_recency > 90d" },
};

int bvt__segments_define_builtins(bvt_engine *e, bvt_error *err)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        int rc = bvt__segment_define_internal(e, builtins[i].name, builtins[i].rule, 1, NULL, err);
        if (rc != BVT_OK)
            return rc;
    }
    return BVT_OK;
}
