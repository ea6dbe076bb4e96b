/* change_sink.c — the engine's change sink and the calls every mutating
 * module logs through (change_sink.h). */
#include "change_sink.h"
#include "behavtarget.h"
#include "codec.h"
#include "engine.h"

void bvt__change_sink_set(bvt_engine *e, const bvt_change_sink *sink)
{
    bvt_change_sink none = { 0 };
    e->sink = sink ? *sink : none;
}

void bvt__change_sink_close(bvt_engine *e)
{
    if (e->sink.close)
        e->sink.close(e->sink.ud);
    bvt__change_sink_set(e, NULL);
}

int bvt__persist_log_bytes(bvt_engine *e, const void *rec, size_t n)
{
    return e->sink.append ? e->sink.append(e->sink.ud, rec, n) : BVT_OK;
}

int bvt__persist_commit(bvt_engine *e)
{
    return e->sink.commit ? e->sink.commit(e->sink.ud) : BVT_OK;
}

/* The engine whose shard locks this thread holds through bvt__persist_hold
 * (its records are committed by bvt__persist_release, after unlocking). */
static _Thread_local const bvt_engine *holding;

int bvt__persist_log(bvt_engine *e, bvt_wbuf *rec)
{
    int rc = rec->oom ? BVT_ENOMEM : bvt__persist_log_bytes(e, rec->p, rec->len);
    bvt__wbuf_free(rec);
    return rc == BVT_OK && holding != e ? bvt__persist_commit(e) : rc;
}

void bvt__persist_hold(bvt_engine *e)
{
    if (!bvt__sink_on(&e->sink))
        return;
    e->hold_all(&e->store);
    holding = e;
}

int bvt__persist_release(bvt_engine *e)
{
    if (holding != e)
        return BVT_OK;
    holding = NULL;
    e->release_all(&e->store);
    return bvt__persist_commit(e);
}

int bvt__persist_log_release(bvt_engine *e, bvt_wbuf *rec)
{
    int rc = bvt__persist_log(e, rec);
    int durable = bvt__persist_release(e);
    return rc == BVT_OK ? durable : rc;
}

int bvt__persist_check(bvt_engine *e)
{
    return e->sink.failed && e->sink.failed(e->sink.ud) ? BVT_EIO : BVT_OK;
}
