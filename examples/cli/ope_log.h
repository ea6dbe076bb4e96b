/* ope_log.h — logging ranking decisions for off-policy evaluation, in the
 * Open Bandit Dataset's columns (docs/evaluation.md#logging-decisions).
 *
 * A logged row needs the position-wise probability that the policy puts
 * the shown offer in its slot: bvt_rank() gives it, estimated from
 * propensity_draws further rankings where the policy has no exact value.
 */
#ifndef BVT_CLI_OPE_LOG_H
#define BVT_CLI_OPE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Slots a logged decision may have (OBD: 3). */
#define OPE_LOG_SLOTS_MAX 16

/* The header of a log, without user features. */
#define OPE_LOG_HEADER ",timestamp,item_id,position,click,propensity_score"

typedef struct ope_logged_slot {
    uint32_t offer;        /* numeric offer id shown */
    const char *offer_id;  /* borrowed from the engine, valid until bvt_engine_free() */
    double propensity;     /* estimated P(this offer in this slot), in (0, 1] */
} ope_logged_slot;

/* Rank req (req->k slots, at most OPE_LOG_SLOTS_MAX; req->policy is
 * required) with `draws` Monte-Carlo rankings for the propensities the
 * policy cannot give exactly (bvt_ranked_offer.propensity: never 0 for
 * what was shown).  Fills out[0 .. *n_out).  Returns a BVT_ status (err
 * filled by bvt_rank). */
int ope_log_decision(bvt_engine *e, const bvt_rank_request *req, uint32_t draws,
                     ope_logged_slot *out, size_t *n_out, bvt_error *err);

/* Append the rows of one decision: "INDEX,TIMESTAMP,ITEM,POSITION,CLICK,P"
 * per slot, where ITEM is item_of(offer id), CLICK clicks[slot] (0/1), and
 * INDEX counts on from *row. */
void ope_log_rows(cli_out *o, uint64_t *row, const char *timestamp, const ope_logged_slot *slots,
                  size_t n, const int *clicks, long (*item_of)(const char *offer_id));

#endif
