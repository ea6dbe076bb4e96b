/* profile.h — the fixed-size per-user record and what updates and reads it.
 *
 * A record is what the store keeps inline for every user: key, RFM and
 * engagement counters, and the top interests.  Everything that varies in size
 * (history, cart, attributes, consent) hangs off `ext`, allocated on first
 * need and bounded by the engine options.  All functions here run under the
 * lock of the shard that owns the record. */
#ifndef BVT_PROFILE_H
#define BVT_PROFILE_H

#include <stdint.h>

#include "behavtarget.h"
#include "history.h"
#include "mem.h"

#define BVT_TOP_K_MAX 16

typedef struct bvt_cart_entry bvt_cart_entry;
typedef struct bvt_attr_entry bvt_attr_entry;
typedef struct bvt_consent_log bvt_consent_log;

/* Variable-size parts of a profile. */
typedef struct bvt_ext {
    bvt_history hist;
    bvt_cart_entry *cart;
    bvt_attr_entry *attrs;
    int64_t last_checkout_ms; /* cart adds older than this are ignored */
    uint8_t cart_len, cart_cap;
    uint8_t attrs_len, attrs_cap;
    uint32_t consent_granted; /* bit p: purpose p granted (consent.h) */
    bvt_consent_log *consent; /* latest choice per purpose; NULL = none */
    struct bvt_cap_entry **caps;         /* per-offer / per-group cap state (caps.h) */
    uint8_t caps_len, caps_cap;
    struct bvt_exp_user *experiments;    /* sticky experiment assignments (experiment.h) */
} bvt_ext;

/* The fixed record: 232 bytes, the first cache line holding what every
 * event touches.  A key of (0, 0) marks a free slot. */
typedef struct bvt_record {
    uint64_t key_hi, key_lo;
    int64_t first_seen_ms;    /* 0 = no event yet */
    int64_t last_seen_ms;
    int64_t last_purchase_ms; /* 0 = no purchase */
    double monetary_total;
    double first_day_value;   /* purchases summed on first_purchase_day */
    bvt_ext *ext;
    int32_t first_purchase_day;
    uint32_t purchase_days;
    uint32_t sessions;
    uint32_t dwell_ds;        /* total dwell in 100 ms units */
    uint32_t events;          /* all events, custom included (saturating) */
    int32_t interest_landmark_min; /* forward-decay landmark, minutes since the epoch */
    uint32_t counts[BVT_EVENT_BUILTIN_COUNT];
    uint16_t icat[BVT_TOP_K_MAX];   /* interest categories, 0 = empty slot */
    float iscore[BVT_TOP_K_MAX];    /* forward-decayed scores at the landmark */
} bvt_record;

/* Engine settings the profile code needs, resolved from bvt_options. */
typedef struct bvt_profile_cfg {
    bvt_history_cfg hist;
    const bvt_categories *cats;
    double half_life_ms;
    double ancestor_credit;
    int64_t session_gap_ms;
    uint32_t top_k;
    uint32_t cart_max;
    uint32_t attrs_max;
} bvt_profile_cfg;

/* An event after validation: ids resolved, nothing borrowed. */
typedef struct bvt_resolved_event {
    uint32_t type;
    uint32_t category;          /* 0 = none */
    int64_t t_ms;
    double value;
    uint64_t item_hash;         /* 0 = none */
    uint32_t quantity;          /* >= 1 */
    int32_t dwell_ms;           /* 0..86400000 */
    float weight;               /* interest weight of the type */
    uint32_t n_search;
    uint32_t search_cats[8];    /* categories mapped from search words */
    uint32_t offer;             /* a feedback event's offer (numeric id), 0 = none */
    uint32_t offer_unknown;     /* 1: it named an offer id never defined */
} bvt_resolved_event;

/* Apply one event.  Fallible steps (allocation) run first, so on error
 * (BVT_EFULL from the budget, BVT_ENOMEM) the record is unchanged. */
int bvt__profile_apply(bvt_record *r, const bvt_resolved_event *ev, const bvt_profile_cfg *cfg,
                      bvt_mem *m);

/* Release everything hanging off r (not the record itself). */
void bvt__profile_release(bvt_record *r, bvt_mem *m);

/* Allocate r->ext if absent.  BVT_OK, BVT_EFULL, BVT_ENOMEM. */
int bvt__profile_ext(bvt_record *r, bvt_mem *m);

/* Fold src (from a shard accounted by msrc) into dst (accounted by mdst);
 * src is released.  Used by aliasing.  The memory budget shapes the result
 * (what finds no room is left out: cart items, attributes, src's history)
 * but never refuses it: BVT_OK, or BVT_ENOMEM from the allocator. */
int bvt__profile_merge(bvt_record *dst, bvt_record *src, const bvt_profile_cfg *cfg,
                      bvt_mem *mdst, bvt_mem *msrc);

/* Bytes hanging off r by kind (history includes the ext block itself,
 * attributes the consent choices). */
void bvt__profile_ext_bytes(const bvt_record *r, uint64_t *hist, uint64_t *cart, uint64_t *attrs);

/* RFM quintile cut points; see rfm.h. */
struct bvt_rfm_cuts;

/* Fill out (version already checked) with features at now. */
void bvt__profile_features(const bvt_record *r, const struct bvt_rfm_cuts *cuts, int64_t now,
                          bvt_profile *out);

_Static_assert(sizeof(bvt_record) == 232, "the record is part of the memory budget per user");

/* Derived features, one formula each: bvt__profile_features() and the rule
 * language's features (profile_env.c) both read these. */
static inline int64_t bvt__since(int64_t now, int64_t t) { return now > t ? now - t : 0; }

static inline int64_t bvt__record_recency(const bvt_record *r, int64_t now)
{
    return r->first_seen_ms ? bvt__since(now, r->last_seen_ms) : 0;
}

/* -1 without purchases. */
static inline int64_t bvt__record_purchase_recency(const bvt_record *r, int64_t now)
{
    return r->last_purchase_ms ? bvt__since(now, r->last_purchase_ms) : -1;
}

static inline double bvt__record_monetary_mean(const bvt_record *r)
{
    uint32_t n = r->counts[BVT_EVENT_PURCHASE];
    return n ? r->monetary_total / n : 0;
}

static inline double bvt__record_ctr(const bvt_record *r)
{
    uint32_t n = r->counts[BVT_EVENT_IMPRESSION];
    return n ? (double)r->counts[BVT_EVENT_CLICK] / n : 0;
}

static inline double bvt__record_conversion_rate(const bvt_record *r)
{
    uint32_t n = r->counts[BVT_EVENT_CLICK];
    return n ? (double)r->counts[BVT_EVENT_CONVERSION] / n : 0;
}

/* Likes, shares and comments, saturating (each count may be near 2^32). */
static inline uint32_t bvt__record_interactions(const bvt_record *r)
{
    uint64_t n = (uint64_t)r->counts[BVT_EVENT_LIKE] + r->counts[BVT_EVENT_SHARE] +
                 r->counts[BVT_EVENT_COMMENT];
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static inline int64_t bvt__record_dwell_ms(const bvt_record *r) { return (int64_t)r->dwell_ds * 100; }

static inline double bvt__record_mean_dwell_ms(const bvt_record *r)
{
    uint32_t n = r->counts[BVT_EVENT_PAGE_VIEW];
    return n ? (double)bvt__record_dwell_ms(r) / n : 0;
}

#endif
