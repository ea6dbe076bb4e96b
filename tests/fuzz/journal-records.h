/* journal-records.h — the input format of fuzz-journal-records.c, shared
 * with the seed generator (gen-journal-records.c).
 *
 * An input is two bytes of engine options (the JR_* bits below), then any
 * number of journal records, each preceded by the 4-byte marker JR_MARK.
 * A record is what the engine journals (persist.h): its u8 op code, then
 * the op's body.  Splitting on a marker rather than on lengths keeps a
 * mutation inside one record from shifting every record after it. */
#ifndef BVT_FUZZ_JOURNAL_RECORDS_H
#define BVT_FUZZ_JOURNAL_RECORDS_H

#include <stdint.h>
#include <string.h>

#include "behavtarget.h"

#define JR_MARK "\xff" "REC"
#define JR_MARK_LEN 4u

/* Records name users by keyed hash: seeds only replay under this secret. */
#define JR_SECRET "fuzz-journal-records-secret-0123"

/* Option bits of the first byte: what replay of some ops depends on. */
#define JR_RETENTION 0x01u    /* retention 30 days: expire records remove users */
#define JR_ANALYTICS 0x06u    /* analytics policy (bits 1-2): track, drop, anonymous */
#define JR_USER_LIMIT 0x08u   /* at most 3 users */
#define JR_EVICT 0x10u        /* ... and a full table evicts instead of refusing */
#define JR_TIGHT 0x20u        /* the smallest history, cart, attribute and interest bounds */
#define JR_NEED_CONSENT 0x40u /* segments need the personalisation purpose */
#define JR_SHARDS 0x80u       /* 4 shards instead of 1 */

/* ... and of the second. */
#define JR_NO_HISTORY 0x01u   /* no behaviour history (as `bvt rfm` runs) */
#define JR_NO_EXTRAS 0x02u    /* no cart, no attributes */
#define JR_BUDGET 0x04u       /* a memory budget of 16 KiB per shard */
#define JR_HORIZON 0x08u      /* the history answers 30 days back, sessions end after 1 min */

#define JR_HEADER 2u
#define JR_DAY_MS 86400000LL

static inline void jr_options(const uint8_t bytes[JR_HEADER], bvt_options *o)
{
    uint8_t bits = bytes[0], more = bytes[1];
    bvt_options init = BVT_OPTIONS_INIT;
    *o = init;
    o->shards = bits & JR_SHARDS ? 4 : 1;
    o->secret = JR_SECRET;
    o->secret_len = sizeof JR_SECRET - 1;
    if (bits & JR_RETENTION)
        o->retention_ms = 30 * JR_DAY_MS;
    uint32_t policy = (bits & JR_ANALYTICS) >> 1;
    o->analytics_policy = policy <= BVT_ANALYTICS_ANONYMOUS ? policy : BVT_ANALYTICS_TRACK;
    if (bits & JR_USER_LIMIT) {
        o->max_users = 3;
        o->full_policy = bits & JR_EVICT ? BVT_FULL_EVICT_LRU : BVT_FULL_REJECT;
    }
    if (bits & JR_TIGHT) {
        o->top_interests = 2;
        o->history_events = 2;
        o->history_day_slots = 3;
        o->cart_items = 1;
        o->max_attributes = 1;
    }
    o->segments_need_consent = (bits & JR_NEED_CONSENT) != 0;
    if (more & JR_NO_HISTORY)
        o->history_events = o->history_day_slots = BVT_NONE;
    if (more & JR_NO_EXTRAS)
        o->cart_items = o->max_attributes = BVT_NONE;
    if (more & JR_BUDGET)
        o->memory_budget = (uint64_t)o->shards * 16384;
    if (more & JR_HORIZON) {
        o->history_horizon_ms = 30 * JR_DAY_MS;
        o->session_gap_ms = 60000;
    }
}

/* The next record of [*p, end): its bytes in *rec, *n (0 for an empty one);
 * 0 when none is left.  Bytes before the first marker are not a record. */
static inline int jr_next(const uint8_t **p, const uint8_t *end, const uint8_t **rec, size_t *n)
{
    const uint8_t *at = *p;
    for (;;) {
        if ((size_t)(end - at) < JR_MARK_LEN)
            return 0;
        if (memcmp(at, JR_MARK, JR_MARK_LEN) == 0)
            break;
        at++;
    }
    at += JR_MARK_LEN;
    const uint8_t *stop = at;
    while ((size_t)(end - stop) >= JR_MARK_LEN && memcmp(stop, JR_MARK, JR_MARK_LEN) != 0)
        stop++;
    if ((size_t)(end - stop) < JR_MARK_LEN)
        stop = end;
    *rec = at;
    *n = (size_t)(stop - at);
    *p = stop;
    return 1;
}

#endif
