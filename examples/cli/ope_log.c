/* ope_log.c — logging ranking decisions with position-wise propensities
 * (see ope_log.h). */
#include "ope_log.h"

#include <string.h>

int ope_log_decision(bvt_engine *e, const bvt_rank_request *req, uint32_t draws,
                     ope_logged_slot *out, size_t *n_out, bvt_error *err)
{
    bvt_ranked_offer shown[OPE_LOG_SLOTS_MAX];
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    *n_out = 0;
    if (!req || !req->policy || req->k > OPE_LOG_SLOTS_MAX)
        return BVT_EINVAL;
    bvt_policy policy = *req->policy;
    policy.propensity_draws = draws;
    bvt_rank_request q = *req;
    q.policy = &policy;
    res.offers = shown;
    res.offers_cap = OPE_LOG_SLOTS_MAX;
    int rc = bvt_rank(e, &q, &res, err);
    if (rc != BVT_OK)
        return rc;
    size_t n = res.n_offers < OPE_LOG_SLOTS_MAX ? res.n_offers : OPE_LOG_SLOTS_MAX;
    for (size_t s = 0; s < n; s++)
        out[s] = (ope_logged_slot){ shown[s].offer, shown[s].offer_id, shown[s].propensity };
    *n_out = n;
    return BVT_OK;
}

void ope_log_rows(cli_out *o, uint64_t *row, const char *timestamp, const ope_logged_slot *slots,
                  size_t n, const int *clicks, long (*item_of)(const char *offer_id))
{
    for (size_t s = 0; s < n; s++) {
        cli_out_printf(o, "%llu,", (unsigned long long)(*row)++);
        cli_out_csv_field(o, timestamp, strlen(timestamp));
        /* 17 significant digits: the propensity read back is the one logged. */
        cli_out_printf(o, ",%ld,%zu,%d,%.17g\n", item_of(slots[s].offer_id), s + 1,
                       clicks[s] ? 1 : 0, slots[s].propensity);
    }
}
