/* offer_log.c — the journal records of the catalog's calls (offer.c
 * appends them while it publishes; offer_persist.c replays them). */
#include <string.h>

#include "engine.h"
#include "offer_codec.h"
#include "persist.h"

int bvt__offers_log_define(bvt_engine *e, bvt_offer_def *const *defs, size_t n)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, n == 1 ? BVT_OP_OFFER_DEFINE : BVT_OP_OFFER_BATCH);
    if (n != 1)
        bvt__w_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        bvt__offers_put_def(e, &w, defs[i]);
    return bvt__persist_log(e, &w);
}

int bvt__offers_log_remove(bvt_engine *e, const char *id)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_OFFER_REMOVE);
    bvt__w_cstr(&w, id);
    return bvt__persist_log(e, &w);
}

int bvt__offers_log_group(bvt_engine *e, const char *name, const bvt_cap *caps, size_t n_caps)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_OFFER_GROUP);
    bvt__w_u32(&w, bvt__interner_find(e->offers.group_names, name, strlen(name)));
    bvt__w_cstr(&w, name);
    bvt__offers_put_caps(&w, caps, (uint32_t)n_caps);
    return bvt__persist_log(e, &w);
}

int bvt__offers_log_segments(bvt_engine *e, const uint32_t *segments, size_t n)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_OFFER_SEGMENTS);
    bvt__w_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        bvt__w_u32(&w, segments[i]);
    return bvt__persist_log(e, &w);
}

int bvt__offers_log_policy(bvt_engine *e, const bvt_policy *given)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_POLICY);
    bvt__offers_put_policy(&w, given);
    return bvt__persist_log(e, &w);
}
