/* Prints the size and last-field offset of every struct the Python binding
 * mirrors, so tests/test_layout.py can compare them with ctypes. */
#include <stddef.h>
#include <stdio.h>

#include "behavtarget.h"

#define SHOW(py, type, last) \
    printf("%s %zu %zu\n", py, sizeof(type), offsetof(type, last))

int main(void)
{
    SHOW("Error", bvt_error, message);
    SHOW("Options", bvt_options, segments_need_consent);
    SHOW("Event", bvt_event, search_text);
    SHOW("BatchError", bvt_batch_error, code);
    SHOW("Profile", bvt_profile, history_day_slots);
    SHOW("RfmSummary", bvt_rfm_summary, monetary_value);
    SHOW("UserKey", bvt_user_key, lo);
    SHOW("Context", bvt_context, n);
    SHOW("Cap", bvt_cap, window_ms);
    SHOW("Offer", bvt_offer, personalised);
    SHOW("RankRequest", bvt_rank_request, experiment);
    SHOW("RankedOffer", bvt_ranked_offer, propensity);
    SHOW("Exclusion", bvt_exclusion, reason);
    SHOW("OfferChoice", bvt_offer_choice, probability);
    SHOW("RankResult", bvt_rank_result, bucket);
    SHOW("StateOptions", bvt_state_options, access);
    return 0;
}
