/* fuzz-snapshot.c — libFuzzer entry point for the snapshot reader.
 *
 * The first input byte picks what the rest is:
 *   0   a whole snapshot file (header, checksums, blocks);
 *   1-6 the raw data of one section (persist.h's enum bvt_section: names,
 *       segments, offers, experiments, derived state, profiles) — past the
 *       checksums a mutated file never gets through, so each parser is
 *       reached directly; the sections before it load from a fixed image
 *       of a small engine so ids it refers to can exist.
 * Besides the sanitizers the harness checks that a failed load reports a
 * status the contract names, and that a loaded engine can be saved again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "engine.h"
#include "persist.h"
#include "profile_persist.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SECRET[] = "fuzz-snapshot-secret-0123456789";

static bvt_engine *fresh(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.secret = SECRET;
    o.secret_len = sizeof SECRET - 1;
    bvt_engine *e = NULL;
    if (bvt_engine_new(&e, &o, NULL) != BVT_OK)
        abort();
    return e;
}

static int allowed(int rc)
{
    return rc == BVT_OK || rc == BVT_ECORRUPT || rc == BVT_ETRUNCATED || rc == BVT_EFORMAT ||
           rc == BVT_EVERSION || rc == BVT_ESECRET || rc == BVT_ENOMEM || rc == BVT_EFULL ||
           rc == BVT_EINVAL;
}

static int load_section(bvt_engine *e, uint32_t sec, bvt_rbuf *r)
{
    switch (sec) {
    case BVT_SEC_NAMES: return bvt__names_load(e, r);
    case BVT_SEC_SEGMENTS: return bvt__segments_load(e, r);
    case BVT_SEC_OFFERS: return bvt__offers_load(e, r);
    case BVT_SEC_EXPERIMENTS: return bvt__experiments_load(e, r);
    case BVT_SEC_DERIVED: return bvt__derived_load(e, r);
    default: {
        uint32_t n = bvt__r_count(r, 16);
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            int rc = bvt__profile_load(e, r, e->cfg.top_k);
            if (rc != BVT_OK)
                return rc;
        }
        return r->bad ? BVT_ECORRUPT : BVT_OK;
    }
    }
}

/* A small engine's sections, loaded before the fuzzed one. */
static bvt_wbuf base[BVT_SEC_PROFILES + 1];

static void make_base(void)
{
    bvt_engine *e = fresh();
    bvt_event ev = BVT_EVENT_INIT;
    ev.user_id = "u";
    ev.user_id_len = 1;
    ev.time_ms = 1700000000000;
    ev.type = BVT_EVENT_PAGE_VIEW;
    ev.category = "home/beds";
    bvt_event_track(e, &ev, NULL);
    bvt_attr_set_string(e, "u", 1, "tier", "gold");
    bvt_offer o = BVT_OFFER_INIT;
    o.id = "offer";
    bvt_offer_define(e, &o, NULL, NULL);
    bvt__names_save(e, &base[BVT_SEC_NAMES]);
    bvt__segments_save(e, &base[BVT_SEC_SEGMENTS]);
    bvt__offers_save(e, &base[BVT_SEC_OFFERS]);
    bvt__experiments_save(e, &base[BVT_SEC_EXPERIMENTS]);
    bvt__derived_save(e, &base[BVT_SEC_DERIVED]);
    bvt_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        make_base();
        ready = 1;
    }
    if (size == 0)
        return 0;
    uint32_t mode = data[0];
    bvt_engine *e = fresh();
    int rc;
    if (mode == 0) {
        uint64_t seq;
        rc = bvt__snapshot_read(e, data + 1, size - 1, &seq, NULL);
    } else if (mode <= BVT_SEC_PROFILES - 1) {
        uint32_t sec = mode + 1; /* 1 -> names ... 6 -> profiles */
        rc = BVT_OK;
        for (uint32_t s = BVT_SEC_NAMES; s < sec && rc == BVT_OK; s++) {
            bvt_rbuf r;
            bvt__rbuf_init(&r, base[s].p, base[s].len);
            rc = load_section(e, s, &r);
        }
        if (rc != BVT_OK)
            abort(); /* the fixed image must load */
        bvt_rbuf r;
        bvt__rbuf_init(&r, data + 1, size - 1);
        rc = load_section(e, sec, &r);
    } else {
        rc = BVT_OK;
    }
    if (!allowed(rc))
        abort();
    if (rc == BVT_OK) { /* whatever loaded must save again */
        bvt_wbuf w = BVT_WBUF_INIT;
        if (bvt__names_save(e, &w) != BVT_OK && !w.oom)
            abort();
        bvt__wbuf_free(&w);
    }
    bvt_engine_free(e);
    return 0;
}
