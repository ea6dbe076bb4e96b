/* history.h — one user's behaviour history for windowed rules.
 *
 * Two tiers, both bounded by the engine options:
 *  - exact: the most recent `max_events` events by time, each with its
 *    millisecond time, type, category and value (a sorted circular buffer);
 *  - days: older events folded into per-(UTC day, type, category) counts and
 *    value sums, at most `max_days` entries, none older than `horizon_ms`
 *    before the newest event.
 * All memory goes through bvt_mem (kind BVT_MEM_HISTORY).  Arrays grow in
 * steps (4, 16, 64, ... up to the maximum) so light users stay small; at the
 * maximum nothing allocates.  Not thread-safe: the caller holds the shard lock. */
#ifndef BVT_HISTORY_H
#define BVT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "category.h"
#include "mem.h"

#define BVT_DAY_MS 86400000LL

/* The day number of a time (days since the epoch, UTC; times are >= 0). */
static inline int32_t bvt__day_of(int64_t t_ms) { return (int32_t)(t_ms / BVT_DAY_MS); }

typedef struct bvt_hist_event {
    int64_t t_ms;
    float value;
    uint16_t category;
    uint8_t type;
    uint8_t unused;
} bvt_hist_event; /* 16 bytes */

typedef struct bvt_day_agg {
    int32_t day;       /* floor(t_ms / BVT_DAY_MS) */
    uint16_t category; /* 0 = none, or coarsened away */
    uint8_t type;
    uint8_t unused;
    uint32_t count;
    float value;       /* sum of values */
} bvt_day_agg; /* 16 bytes */

typedef struct bvt_history {
    bvt_hist_event *events; /* circular, sorted by t_ms from index `head` */
    bvt_day_agg *days;      /* sorted by (day, type, category) */
    uint16_t ev_cap, ev_len, ev_head;
    uint16_t day_cap, day_len;
    int32_t complete_from_day; /* events before this day may have been dropped;
                                  INT32_MIN while nothing was dropped */
} bvt_history;

typedef struct bvt_history_cfg {
    uint32_t max_events; /* 0..4096 */
    uint32_t max_days;   /* 0..65535 */
    int64_t horizon_ms;
    const bvt_categories *cats;
} bvt_history_cfg;

/* An all-zero bvt_history is empty and valid. */

/* Free both tiers and reset h to empty. */
void bvt__history_clear(bvt_history *h, bvt_mem *m);

/* Record one event at its place in time.  When the exact tier is full its
 * oldest event folds into the day tier (an event older than all exact ones
 * folds directly).  When the day tier is full: entries older than the
 * horizon go first, then the categories of the oldest day that has any are
 * merged into category 0, then the oldest day is dropped (complete_from_day
 * moves).  When day aggregates exist, an event older than the oldest exact
 * one goes to the day tier even if the exact tier has room, so the day tier
 * never holds anything newer than the oldest exact event.
 * Returns BVT_OK; BVT_EFULL / BVT_ENOMEM when growth is refused and nothing
 * can make room (then h is unchanged).  When growth is refused but the tier
 * is non-empty it folds/coarsens instead of failing. */
int bvt__history_add(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m,
                    int64_t t_ms, uint32_t type, uint32_t category, double value);

/* (Named _window: bvt_history_count is the public per-user call.)
 * Count and sum events with from_ms < t <= to_ms, of `type` (UINT32_MAX =
 * any) and within `category` (0 = any; see bvt__categories_within).  Day
 * aggregates count when any part of their day overlaps the window; a window
 * starting at or after the oldest exact event is answered from the exact
 * tier alone (the day tier holds nothing newer). */
void bvt__history_window(const bvt_history *h, const bvt_history_cfg *cfg, uint32_t type,
                       uint32_t category, int64_t from_ms, int64_t to_ms,
                       uint64_t *out_count, double *out_sum);

/* Per-day totals of one type over days first_day..last_day inclusive, both
 * tiers merged, ascending by day; writes at most cap entries and returns
 * the number of distinct days found (which may exceed cap). */
size_t bvt__history_daily(const bvt_history *h, uint32_t type, int32_t first_day,
                         int32_t last_day, int32_t *out_days, double *out_values,
                         size_t cap);

/* Move all of src into dst (alias merge), keeping dst's bounds; src is
 * cleared.  When the budget refuses room for the merged tiers, dst keeps
 * its own and src's days are marked dropped (complete_from_day).  Returns
 * BVT_OK or BVT_ENOMEM (then both unchanged). */
int bvt__history_merge(bvt_history *dst, bvt_history *src, const bvt_history_cfg *cfg,
                      bvt_mem *m);

/* Hint the cache about the slots the next in-order add touches. */
static inline void bvt__history_prefetch(const bvt_history *h)
{
    if (h->ev_len) {
        uint32_t s = (uint32_t)h->ev_head + h->ev_len - 1u;
        __builtin_prefetch(&h->events[s >= h->ev_cap ? s - h->ev_cap : s], 1);
    }
}

/* Retention: remove exact events at or before cutoff_ms and day aggregates
 * whose whole UTC day is (the day's last millisecond <= cutoff_ms); the
 * slots they held are zeroed, and arrays left empty are freed.
 * complete_from_day moves past what went.  Returns the entries removed. */
uint32_t bvt__history_expire(bvt_history *h, bvt_mem *m, int64_t cutoff_ms);

/* Exact event i (0 = oldest) of h->ev_len, for reading (export). */
const bvt_hist_event *bvt__history_event_at(const bvt_history *h, uint32_t i);

/* Bytes held by h's arrays. */
size_t bvt__history_bytes(const bvt_history *h);

#endif
