/* history.c — one user's behaviour history: exact recent events in a sorted
 * circular buffer, older events as per-(UTC day, type, category) aggregates.
 *
 * Every change that can fail (an allocation) happens before anything is
 * modified, so a failing call leaves the history as it was.  Dropping data
 * (horizon, full day tier) is the bounds policy, not a failure: the call
 * succeeds and complete_from_day records how far back the history is whole. */
#include <float.h>
#include <string.h>

#include "behavtarget.h"
#include "history.h"

#define TIER_FIRST 4u
#define TIER_STEP 4u

/* ---- small helpers ---------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int32_t clamp_day(int64_t d)
{
    if (d < INT32_MIN)
        return INT32_MIN;
    if (d > INT32_MAX)
        return INT32_MAX;
    return (int32_t)d;
}

static int32_t day_of(int64_t t_ms) { return clamp_day(floor_div(t_ms, BVT_DAY_MS)); }

/* Float sums saturate at FLT_MAX instead of becoming infinite. */
static float to_float(double v)
{
    if (v > FLT_MAX)
        return FLT_MAX;
    if (v < -FLT_MAX)
        return -FLT_MAX;
    return (float)v;
}

static float add_value(float a, float b) { return to_float((double)a + (double)b); }

static uint32_t add_count(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Next capacity in the 4, 16, 64, ... sequence, capped at max. */
static uint32_t next_cap(uint32_t cap, uint32_t max)
{
    uint32_t n = cap ? cap * TIER_STEP : TIER_FIRST;
    return n > max ? max : n;
}

static int matches(const bvt_history_cfg *cfg, uint32_t type, uint32_t category,
                   uint32_t e_type, uint32_t e_cat)
{
    if (type != UINT32_MAX && type != e_type)
        return 0;
    if (category == 0)
        return 1;
    if (!cfg || !cfg->cats)
        return e_cat == category;
    return bvt__categories_within(cfg->cats, e_cat, category);
}

static void mark_dropped(bvt_history *h, int32_t day)
{
    int32_t next = day == INT32_MAX ? INT32_MAX : day + 1;
    if (next > h->complete_from_day)
        h->complete_from_day = next;
}

/* ---- exact tier: circular buffer sorted by time from ev_head ---------- */

static uint32_t ev_slot(const bvt_history *h, uint32_t i)
{
    uint32_t s = (uint32_t)h->ev_head + i;
    return s >= h->ev_cap ? s - h->ev_cap : s;
}

#define EV(h, i) ((h)->events[ev_slot((h), (i))])

/* First logical index whose time is > t_ms (len if none). */
static uint32_t ev_upper(const bvt_history *h, int64_t t_ms)
{
    uint32_t lo = 0, hi = h->ev_len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (EV(h, mid).t_ms > t_ms)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int ev_grow(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m)
{
    uint32_t old = h->ev_cap, ncap = next_cap(old, cfg->max_events);
    void *p = h->events;
    int r = bvt__mem_resize(m, BVT_MEM_HISTORY, &p, old * sizeof(bvt_hist_event),
                           ncap * sizeof(bvt_hist_event));
    if (r != BVT_OK)
        return r;
    h->events = p;
    /* A wrapped ring keeps its front at [0, wrap); its back part moves to
     * the end of the larger array so the order stays contiguous mod cap. */
    if ((uint32_t)h->ev_head + h->ev_len > old) {
        uint32_t tail = old - h->ev_head;
        memmove(h->events + (ncap - tail), h->events + h->ev_head,
                tail * sizeof(bvt_hist_event));
        h->ev_head = (uint16_t)(ncap - tail);
    }
    h->ev_cap = (uint16_t)ncap;
    return BVT_OK;
}

/* Insert at its place in time (after equal times); needs a free slot.
 * Shifts whichever side of the insertion point is shorter. */
static void ev_insert(bvt_history *h, bvt_hist_event ev)
{
    uint32_t len = h->ev_len;
    uint32_t pos = (len == 0 || EV(h, len - 1).t_ms <= ev.t_ms) ? len : ev_upper(h, ev.t_ms);
    if (pos == len) {
        EV(h, len) = ev;
    } else if (pos < len - pos) {
        h->ev_head = (uint16_t)(h->ev_head ? h->ev_head - 1 : h->ev_cap - 1);
        for (uint32_t i = 0; i < pos; i++)
            EV(h, i) = EV(h, i + 1);
        EV(h, pos) = ev;
    } else {
        for (uint32_t i = len; i > pos; i--)
            EV(h, i) = EV(h, i - 1);
        EV(h, pos) = ev;
    }
    h->ev_len++;
}

static bvt_hist_event ev_pop_oldest(bvt_history *h)
{
    bvt_hist_event ev = EV(h, 0);
    h->ev_head = (uint16_t)ev_slot(h, 1);
    h->ev_len--;
    return ev;
}

/* ---- day tier: array sorted by (day, type, category) ------------------ */

static int agg_cmp(const bvt_day_agg *a, int32_t day, uint8_t type, uint16_t cat)
{
    if (a->day != day)
        return a->day < day ? -1 : 1;
    if (a->type != type)
        return a->type < type ? -1 : 1;
    if (a->category != cat)
        return a->category < cat ? -1 : 1;
    return 0;
}

/* First index whose key is >= (day, type, cat). */
static uint32_t day_lower(const bvt_history *h, int32_t day, uint8_t type, uint16_t cat)
{
    uint32_t lo = 0, hi = h->day_len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (agg_cmp(&h->days[mid], day, type, cat) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int day_grow(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m)
{
    uint32_t old = h->day_cap, ncap = next_cap(old, cfg->max_days);
    void *p = h->days;
    int r = bvt__mem_resize(m, BVT_MEM_HISTORY, &p, old * sizeof(bvt_day_agg),
                           ncap * sizeof(bvt_day_agg));
    if (r != BVT_OK)
        return r;
    h->days = p;
    h->day_cap = (uint16_t)ncap;
    return BVT_OK;
}

/* Remove the first n entries, recording that their days are gone. */
static void day_drop_front(bvt_history *h, uint32_t n)
{
    if (n == 0)
        return;
    mark_dropped(h, h->days[n - 1].day);
    memmove(h->days, h->days + n, (h->day_len - n) * sizeof(bvt_day_agg));
    h->day_len = (uint16_t)(h->day_len - n);
}

/* Days before `cut` lie wholly outside any window the horizon allows. */
static void day_prune(bvt_history *h, int32_t cut)
{
    if (h->day_len && h->days[0].day < cut)
        day_drop_front(h, day_lower(h, cut, 0, 0));
}

/* day_lower, answering at once for the usual case: folds arrive in time
 * order, so a new day's first key goes at the end. */
static uint32_t day_find(const bvt_history *h, int32_t day, uint8_t type, uint16_t cat)
{
    if (h->day_len == 0 || h->days[h->day_len - 1].day < day)
        return h->day_len;
    return day_lower(h, day, type, cat);
}

/* Merge each type's entries on the day starting at index `start` into one
 * category-0 entry.  Only done when it frees a slot (some type has two
 * entries that day); returns 1 then, else 0 and nothing changes. */
static int day_coarsen_at(bvt_history *h, uint32_t start, uint32_t *out_end)
{
    int32_t day = h->days[start].day;
    uint32_t end = start + 1, pairs = 0;
    for (; end < h->day_len && h->days[end].day == day; end++)
        pairs += h->days[end].type == h->days[end - 1].type;
    *out_end = end;
    if (pairs == 0)
        return 0;
    uint32_t w = start;
    for (uint32_t r = start; r < end;) {
        bvt_day_agg acc = h->days[r++];
        acc.category = 0;
        while (r < end && h->days[r].type == acc.type) {
            acc.count = add_count(acc.count, h->days[r].count);
            acc.value = add_value(acc.value, h->days[r].value);
            r++;
        }
        h->days[w++] = acc;
    }
    memmove(h->days + w, h->days + end, (h->day_len - end) * sizeof(bvt_day_agg));
    h->day_len = (uint16_t)(h->day_len - (end - w));
    return 1;
}

/* Coarsen the oldest day that still has category detail, so per-type
 * counts survive for the whole horizon before any day is dropped.
 * Returns 1 if a slot was freed. */
static int day_coarsen_oldest(bvt_history *h)
{
    for (uint32_t start = 0, end; start < h->day_len; start = end)
        if (day_coarsen_at(h, start, &end))
            return 1;
    return 0;
}

/* First day still within the horizon of newest_ms (INT32_MIN: no horizon). */
static int32_t horizon_cut(const bvt_history_cfg *cfg, int64_t newest_ms)
{
    if (cfg->horizon_ms <= 0 || newest_ms == INT64_MIN)
        return INT32_MIN;
    if (newest_ms < INT64_MIN + cfg->horizon_ms)
        return INT32_MIN;
    return day_of(newest_ms - cfg->horizon_ms);
}

/* Newest time held: the newest exact event, else the start of the newest
 * aggregated day (which keeps, never loses, borderline days). */
static int64_t newest_held(const bvt_history *h)
{
    int64_t t = INT64_MIN;
    if (h->ev_len)
        t = EV(h, h->ev_len - 1).t_ms;
    if (h->day_len) {
        int64_t d = (int64_t)h->days[h->day_len - 1].day * BVT_DAY_MS;
        if (d > t)
            t = d;
    }
    return t;
}

/* Add an aggregate (one folded event, or a whole entry on merge) to the day
 * tier under its bounds.  Fails only when the tier has no slot at all and
 * growth is refused; then nothing changed. */
static int day_add(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m, bvt_day_agg a,
                   int64_t newest_ms)
{
    int32_t cut = horizon_cut(cfg, newest_ms);
    day_prune(h, cut);
    if (a.day < cut) {
        mark_dropped(h, a.day);
        return BVT_OK;
    }
    for (;;) {
        uint32_t i = day_find(h, a.day, a.type, a.category);
        if (i < h->day_len && agg_cmp(&h->days[i], a.day, a.type, a.category) == 0) {
            h->days[i].count = add_count(h->days[i].count, a.count);
            h->days[i].value = add_value(h->days[i].value, a.value);
            return BVT_OK;
        }
        if (h->day_len < h->day_cap && h->day_len < cfg->max_days) {
            memmove(h->days + i + 1, h->days + i, (h->day_len - i) * sizeof(bvt_day_agg));
            h->days[i] = a;
            h->day_len++;
            return BVT_OK;
        }
        if (h->day_len < cfg->max_days) {
            int r = day_grow(h, cfg, m);
            if (r == BVT_OK)
                continue;
            if (h->day_len == 0)
                return r;
            /* Refused: the current capacity acts as the bound. */
        } else if (h->day_len == 0) {
            mark_dropped(h, a.day); /* max_days == 0: no day tier */
            return BVT_OK;
        }
        /* Full: coarsen the oldest day with category detail, else drop the
         * oldest day.  An event for the oldest day
         * joins its category-0 entry rather than costing the day. */
        int32_t oldest = h->days[0].day;
        int freed = day_coarsen_oldest(h);
        if (a.day == oldest && a.category != 0) {
            a.category = 0;
            continue;
        }
        if (freed)
            continue;
        if (a.day < oldest) {
            mark_dropped(h, a.day);
            return BVT_OK;
        }
        day_drop_front(h, day_lower(h, oldest + 1, 0, 0));
        if (a.day == oldest) {
            mark_dropped(h, a.day);
            return BVT_OK;
        }
    }
}

static bvt_day_agg agg_of(const bvt_hist_event *ev)
{
    bvt_day_agg a;
    memset(&a, 0, sizeof a);
    a.day = day_of(ev->t_ms);
    a.category = ev->category;
    a.type = ev->type;
    a.count = 1;
    a.value = ev->value;
    return a;
}

/* ---- public (internal) API -------------------------------------------- */

void bvt__history_clear(bvt_history *h, bvt_mem *m)
{
    void *p = h->events;
    if (p)
        bvt__mem_resize(m, BVT_MEM_HISTORY, &p, h->ev_cap * sizeof(bvt_hist_event), 0);
    p = h->days;
    if (p)
        bvt__mem_resize(m, BVT_MEM_HISTORY, &p, h->day_cap * sizeof(bvt_day_agg), 0);
    memset(h, 0, sizeof *h);
    h->complete_from_day = INT32_MIN;
}

/* The newest time held once an event at t_ms is added. */
static int64_t newest_with(const bvt_history *h, int64_t t_ms)
{
    int64_t newest = newest_held(h);
    return t_ms > newest ? t_ms : newest;
}

static int add_event(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m,
                     bvt_hist_event ev)
{
    /* Aggregates hold nothing newer than the oldest exact event (windows rely
     * on it), so an event older than that folds even if the exact tier has
     * room.  That only happens after refused growth or during a merge. */
    int older = h->day_len > 0 && (h->ev_len ? ev.t_ms < EV(h, 0).t_ms
                                             : day_of(ev.t_ms) <= h->days[h->day_len - 1].day);
    if (h->ev_len < cfg->max_events && !older) {
        if (h->ev_len < h->ev_cap) {
            ev_insert(h, ev);
            return BVT_OK;
        }
        int r = ev_grow(h, cfg, m);
        if (r == BVT_OK) {
            ev_insert(h, ev);
            return BVT_OK;
        }
        if (h->ev_len == 0)
            return day_add(h, cfg, m, agg_of(&ev), newest_with(h, ev.t_ms));
        /* Refused: fold as if the tier were at its maximum. */
    }
    /* Folding: only now is the newest time needed (it costs loads into both
     * tiers, which the append above avoids). */
    if (h->ev_len == 0 || ev.t_ms < EV(h, 0).t_ms)
        return day_add(h, cfg, m, agg_of(&ev), newest_with(h, ev.t_ms));
    bvt_day_agg oldest = agg_of(&EV(h, 0));
    int r = day_add(h, cfg, m, oldest, newest_with(h, ev.t_ms));
    if (r != BVT_OK)
        return r;
    ev_pop_oldest(h);
    ev_insert(h, ev);
    return BVT_OK;
}

int bvt__history_add(bvt_history *h, const bvt_history_cfg *cfg, bvt_mem *m,
                    int64_t t_ms, uint32_t type, uint32_t category, double value)
{
    if (t_ms <= 0 || t_ms / BVT_DAY_MS >= INT32_MAX || type > UINT8_MAX ||
        category > UINT16_MAX)
        return BVT_EINVAL;
    bvt_hist_event ev;
    memset(&ev, 0, sizeof ev);
    ev.t_ms = t_ms;
    ev.value = to_float(value);
    ev.category = (uint16_t)category;
    ev.type = (uint8_t)type;
    return add_event(h, cfg, m, ev);
}

void bvt__history_window(const bvt_history *h, const bvt_history_cfg *cfg, uint32_t type,
                       uint32_t category, int64_t from_ms, int64_t to_ms,
                       uint64_t *out_count, double *out_sum)
{
    uint64_t n = 0;
    double sum = 0;
    if (from_ms < to_ms) {
        for (uint32_t i = ev_upper(h, from_ms); i < h->ev_len; i++) {
            const bvt_hist_event *e = &EV(h, i);
            if (e->t_ms > to_ms)
                break;
            if (matches(cfg, type, category, e->type, e->category)) {
                n++;
                sum += e->value;
            }
        }
        /* Day d holds the milliseconds [d*DAY, (d+1)*DAY - 1]; some of them
         * lie in from < t <= to for day(from + 1) <= d <= day(to).  Nothing
         * aggregated is newer than the oldest exact event, so a window
         * starting at or after it has no aggregate in it. */
        int32_t last = day_of(to_ms);
        uint32_t i = day_lower(h, day_of(from_ms + 1), 0, 0);
        if (h->ev_len && from_ms >= EV(h, 0).t_ms)
            i = h->day_len;
        for (; i < h->day_len; i++) {
            const bvt_day_agg *a = &h->days[i];
            if (a->day > last)
                break;
            if (matches(cfg, type, category, a->type, a->category)) {
                n += a->count;
                sum += a->value;
            }
        }
    }
    if (out_count)
        *out_count = n;
    if (out_sum)
        *out_sum = sum;
}

size_t bvt__history_daily(const bvt_history *h, uint32_t type, int32_t first_day,
                         int32_t last_day, int32_t *out_days, double *out_values,
                         size_t cap)
{
    size_t n = 0;
    if (first_day > last_day)
        return 0;
    uint32_t e = ev_upper(h, (int64_t)first_day * BVT_DAY_MS - 1);
    uint32_t a = day_lower(h, first_day, 0, 0);
    for (;;) {
        while (e < h->ev_len && type != UINT32_MAX && EV(h, e).type != type)
            e++;
        while (a < h->day_len && type != UINT32_MAX && h->days[a].type != type)
            a++;
        int64_t de = e < h->ev_len ? day_of(EV(h, e).t_ms) : INT64_MAX;
        int64_t da = a < h->day_len ? h->days[a].day : INT64_MAX;
        int64_t d = de < da ? de : da;
        if (d > last_day)
            break;
        double v = 0;
        for (; e < h->ev_len && day_of(EV(h, e).t_ms) == d; e++)
            if (type == UINT32_MAX || EV(h, e).type == type)
                v += EV(h, e).value;
        for (; a < h->day_len && h->days[a].day == d; a++)
            if (type == UINT32_MAX || h->days[a].type == type)
                v += h->days[a].value;
        if (n < cap) {
            out_days[n] = (int32_t)d;
            out_values[n] = v;
        }
        n++;
    }
    return n;
}

/* Build the merged history in a fresh one so a failure changes nothing. */
int bvt__history_merge(bvt_history *dst, bvt_history *src, const bvt_history_cfg *cfg,
                      bvt_mem *m)
{
    if (src->ev_len == 0 && src->day_len == 0) {
        int32_t cfd = src->complete_from_day;
        bvt__history_clear(src, m);
        if (cfd > dst->complete_from_day)
            dst->complete_from_day = cfd;
        return BVT_OK;
    }
    if (dst->ev_len == 0 && dst->day_len == 0 && src->ev_cap <= cfg->max_events &&
        src->day_cap <= cfg->max_days) {
        int32_t cfd = dst->complete_from_day;
        bvt__history_clear(dst, m);
        *dst = *src;
        if (cfd > dst->complete_from_day)
            dst->complete_from_day = cfd;
        memset(src, 0, sizeof *src);
        src->complete_from_day = INT32_MIN;
        return BVT_OK;
    }

    bvt_history t;
    memset(&t, 0, sizeof t);
    t.complete_from_day = dst->complete_from_day > src->complete_from_day
                              ? dst->complete_from_day : src->complete_from_day;
    int64_t newest = newest_held(dst);
    if (newest_held(src) > newest)
        newest = newest_held(src);
    int r = BVT_OK;

    /* Aggregates in key order, then exact events in time order: the newest
     * max_events stay exact, the rest fold like any other event. */
    for (uint32_t i = 0, j = 0; r == BVT_OK && (i < dst->day_len || j < src->day_len);) {
        const bvt_day_agg *x = i < dst->day_len ? &dst->days[i] : NULL;
        const bvt_day_agg *y = j < src->day_len ? &src->days[j] : NULL;
        if (x && (!y || agg_cmp(x, y->day, y->type, y->category) <= 0)) {
            r = day_add(&t, cfg, m, *x, newest);
            i++;
        } else {
            r = day_add(&t, cfg, m, *y, newest);
            j++;
        }
    }
    for (uint32_t i = 0, j = 0; r == BVT_OK && (i < dst->ev_len || j < src->ev_len);) {
        const bvt_hist_event *x = i < dst->ev_len ? &EV(dst, i) : NULL;
        const bvt_hist_event *y = j < src->ev_len ? &EV(src, j) : NULL;
        if (x && (!y || x->t_ms <= y->t_ms)) {
            r = add_event(&t, cfg, m, *x);
            i++;
        } else {
            r = add_event(&t, cfg, m, *y);
            j++;
        }
    }
    if (r == BVT_EFULL) {
        /* The budget refused even the first block of the merged tiers: dst
         * keeps its own, and src's days count as dropped. */
        bvt__history_clear(&t, m);
        mark_dropped(dst, day_of(newest_held(src)));
        bvt__history_clear(src, m);
        return BVT_OK;
    }
    if (r != BVT_OK) {
        bvt__history_clear(&t, m);
        return r;
    }
    day_prune(&t, horizon_cut(cfg, newest_held(&t)));
    bvt__history_clear(dst, m);
    bvt__history_clear(src, m);
    *dst = t;
    return BVT_OK;
}

size_t bvt__history_bytes(const bvt_history *h)
{
    return (size_t)h->ev_cap * sizeof(bvt_hist_event) + (size_t)h->day_cap * sizeof(bvt_day_agg);
}

const bvt_hist_event *bvt__history_event_at(const bvt_history *h, uint32_t i)
{
    return i < h->ev_len ? &EV(h, i) : NULL;
}

uint32_t bvt__history_expire(bvt_history *h, bvt_mem *m, int64_t cutoff_ms)
{
    uint32_t removed = 0;
    while (h->ev_len && EV(h, 0).t_ms <= cutoff_ms) {
        bvt_hist_event *slot = &EV(h, 0);
        mark_dropped(h, day_of(slot->t_ms));
        ev_pop_oldest(h);
        memset(slot, 0, sizeof *slot);
        removed++;
    }
    /* Day d ends at (d + 1) * DAY - 1: it goes when that is <= cutoff, that
     * is when d + 1 <= floor((cutoff + 1) / DAY). */
    int32_t keep_from = day_of(cutoff_ms + 1);
    uint32_t n = h->day_len ? day_lower(h, keep_from, 0, 0) : 0;
    if (n) {
        uint16_t len = h->day_len;
        day_drop_front(h, n);
        memset(h->days + h->day_len, 0, (size_t)(len - h->day_len) * sizeof(bvt_day_agg));
        removed += n;
    }
    if (removed && h->ev_len == 0 && h->day_len == 0) {
        int32_t cfd = h->complete_from_day;
        bvt__history_clear(h, m);
        h->complete_from_day = cfd;
    }
    return removed;
}
