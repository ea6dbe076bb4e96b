/* state.c — an engine's state directory: opening (snapshot, then journal
 * replay), checkpoints, sync, and the journal hook every mutating call
 * goes through (persist.h). */
#include "engine.h"
#include "persist.h"

int bvt_persist_log_bytes(bvt_engine *e, const void *rec, size_t n)
{
    if (e->log_hook)
        return e->log_hook(e->log_ud, rec, n);
    return BVT_OK;
}

int bvt_persist_log(bvt_engine *e, const bvt_wbuf *rec)
{
    if (rec->oom)
        return BVT_ENOMEM;
    return bvt_persist_log_bytes(e, rec->p, rec->len);
}

int bvt_persist_check(bvt_engine *e)
{
    (void)e;
    return BVT_OK;
}
