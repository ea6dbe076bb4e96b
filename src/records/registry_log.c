/* registry_log.c — the journal side of the engine's registries: the hooks
 * that journal new categories, keyword maps and segment definitions
 * (installed at engine creation), and the RFM cut points: their encoding
 * (records and the DERIVED section), publishing a refresh with its record,
 * and publishing loaded or replayed ones.  Replay and the snapshot
 * sections are registry_persist.c's. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "persist.h"
#include "registry_log.h"

/* ================================================================ hooks */

static int hook_check(void *ud)
{
    return bvt__persist_check(ud);
}

/* Under the category lock: one record per new id, so records follow id
 * order, and one before a record names an erased id (category.h).  It may
 * run under a shard lock too, so it never waits for the disk: the public
 * call that caused it commits (persist.h). */
static int category_logged(void *ud, uint32_t id, const char *path, size_t len)
{
    unsigned char buf[1 + 4 + 4 + BVT_CATEGORY_MAX_LEN + 1];
    bvt_wbuf w = bvt__wbuf_fixed(buf, sizeof buf);
    bvt__w_u8(&w, BVT_OP_CATEGORY);
    bvt__w_u32(&w, id);
    bvt__w_str(&w, path, len);
    return w.oom ? BVT_ENOMEM : bvt__persist_log_bytes(ud, w.p, w.len);
}

/* The category by path: replay finds it (its own record came first). */
static int keyword_mapped(void *ud, const char *word, size_t len, uint32_t category)
{
    bvt_engine *e = ud;
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_KEYWORD);
    bvt__w_str(&w, word, len);
    bvt__w_cstr(&w, bvt__categories_name(e->cats, category));
    return bvt__persist_log(e, &w);
}

/* The segments' hooks (segment.h): events and per-user calls evaluate
 * segments, so they are held off while a version is published and
 * journaled. */
static void segments_hold(void *ud)
{
    bvt__persist_hold(ud);
}

static int segments_release(void *ud)
{
    return bvt__persist_release(ud);
}

/* Under the segments' define_lock, right after publishing. */
static int segment_logged(void *ud, uint32_t id, int builtin, const char *text)
{
    bvt_engine *e = ud;
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, text ? BVT_OP_SEGMENT_DEFINE : BVT_OP_SEGMENT_REMOVE);
    bvt__w_u32(&w, id);
    bvt__w_u8(&w, builtin != 0);
    bvt__w_cstr(&w, bvt__interner_str(e->segments.names, id));
    if (text)
        bvt__w_cstr(&w, text);
    return bvt__persist_log(e, &w);
}

void bvt__registry_attach(bvt_engine *e)
{
    bvt_categories_hooks ch = { hook_check, category_logged, e };
    bvt_keywords_hooks kh = { hook_check, keyword_mapped, e };
    bvt__categories_set_hooks(e->cats, &ch);
    bvt__keywords_set_hooks(e->keywords, &kh);
    e->segments.hold = segments_hold;
    e->segments.log = segment_logged;
    e->segments.release = segments_release;
    e->segments.log_ud = e;
}

/* ============================================================= RFM cuts */

/* Layouts of RFM cut points: 1 (read only) held one value per cut; 2 holds
 * the ranks of rfm.h (value, the two tie-breaking values, the hash). */
#define CUTS_LEGACY 1u
#define CUTS_RANKED 2u

void bvt__rfm_cuts_write(const bvt_rfm_cuts *c, bvt_wbuf *w)
{
    bvt__w_u8(w, CUTS_RANKED);
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 3; i++)
                bvt__w_f64(w, c->cut[d][k].v[i]);
            bvt__w_u64(w, c->cut[d][k].tie);
        }
    bvt__w_i64(w, c->refreshed_ms);
    bvt__w_u64(w, c->buyers);
}

/* One cut point; a legacy one ranks above every buyer of its value, as
 * its scores (ties shared a score) require. */
static bvt_rfm_rank cut_read(bvt_rbuf *r, uint32_t layout)
{
    bvt_rfm_rank k = { { bvt__r_f64(r), DBL_MAX, DBL_MAX }, UINT64_MAX };
    if (layout == CUTS_RANKED) {
        k.v[1] = bvt__r_f64(r);
        k.v[2] = bvt__r_f64(r);
        k.tie = bvt__r_u64(r);
    }
    for (int i = 0; i < 3 && !r->bad; i++)
        if (!isfinite(k.v[i]))
            bvt__r_fail(r, "RFM cut points not finite");
    return k;
}

/* Cut points after a layout byte (which the caller has read). */
int bvt__rfm_cuts_read(bvt_rbuf *r, uint32_t layout, bvt_rfm_cuts **out)
{
    bvt_rfm_cuts c = { 0 };
    if (layout != CUTS_LEGACY && layout != CUTS_RANKED)
        return bvt__r_fail(r, "unknown RFM cut point layout"), BVT_ECORRUPT;
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 4; k++) {
            c.cut[d][k] = cut_read(r, layout);
            if (!r->bad && k > 0 && bvt__rfm_rank_cmp(&c.cut[d][k], &c.cut[d][k - 1]) < 0)
                bvt__r_fail(r, "RFM cut points not ascending");
        }
    c.refreshed_ms = bvt__r_i64(r);
    c.buyers = bvt__r_u64(r);
    if (!r->bad && c.refreshed_ms <= 0)
        bvt__r_fail(r, "RFM refresh time not positive");
    if (r->bad)
        return BVT_ECORRUPT;
    if (!(*out = malloc(sizeof **out)))
        return BVT_ENOMEM;
    **out = c;
    return BVT_OK;
}

static int same_cuts(const bvt_rfm_cuts *a, const bvt_rfm_cuts *b)
{
    return memcmp(a->cut, b->cut, sizeof a->cut) == 0 && a->refreshed_ms == b->refreshed_ms &&
           a->buyers == b->buyers;
}

/* Under rfm_lock.  Loading and replay publish without a record, and replay
 * skips cuts equal to the current ones (idempotent). */
static int publish_cuts(bvt_engine *e, bvt_rfm_cuts *cuts, int replay)
{
    bvt_rfm_cuts *cur = atomic_load_explicit(&e->cuts, memory_order_relaxed);
    if (replay && cur && same_cuts(cur, cuts)) {
        free(cuts);
        return BVT_OK;
    }
    /* Readers may still hold the previous version: retire it, free it with
     * the engine. */
    cuts->older = cur;
    if (replay) {
        atomic_store_explicit(&e->cuts, cuts, memory_order_release);
        return BVT_OK;
    }
    /* segments read the cuts: events are held off (persist.h) */
    bvt__persist_hold(e);
    atomic_store_explicit(&e->cuts, cuts, memory_order_release);
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_RFM_CUTS);
    bvt__rfm_cuts_write(cuts, &w);
    return bvt__persist_log_release(e, &w);
}

int bvt__rfm_publish(bvt_engine *e, bvt_rfm_cuts *cuts)
{
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK) {
        free(cuts);
        return rc;
    }
    return publish_cuts(e, cuts, 0);
}

void bvt__rfm_republish(bvt_engine *e, bvt_rfm_cuts *cuts)
{
    publish_cuts(e, cuts, 1);
}
