/* offer.h — the offer catalog: definitions published as immutable,
 * reference-counted versions (as segments are), and each offer's counters,
 * which outlive versions: bandit statistics per bucket and metrics per
 * segment row, kept for the engine's life per numeric offer id.
 *
 * A version holds the defined offers, the campaign groups' caps, the
 * segments offers learn and report by, and the engine's default policy.
 * Readers take a reference under a mutex held only for the pointer read;
 * definers are serialised, build the next version and swap it in.
 * Counters are relaxed atomics written by the tracking path. */
#ifndef BVT_OFFER_H
#define BVT_OFFER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "atomic_double.h"
#include "behavtarget.h"
#include "interner.h"
#include "rule.h"

/* Rows of metrics: 0 = every user, 1 + slot = users in that offer segment.
 * Bandit buckets: 0 = in no offer segment, 1 + slot = first segment held. */
#define BVT_OFFER_ROWS (BVT_OFFER_SEGMENTS_MAX + 1)

typedef struct bvt_offer_row {
    _Atomic uint64_t impressions, clicks, conversions, dismissals, engagements;
    _Atomic double revenue, cost;
} bvt_offer_row;

typedef struct bvt_offer_counters {
    bvt_offer_row rows[BVT_OFFER_ROWS];
} bvt_offer_counters;

/* The bandit's evidence for one offer in one bucket. */
typedef struct bvt_arm_stats {
    _Atomic uint64_t trials;    /* impressions */
    _Atomic uint64_t responses; /* responses (the offer's response type) */
} bvt_arm_stats;

/* Counters of BVT_OFFER_CHUNK consecutive offer ids, allocated when the
 * first of them is defined: the bandit evidence bucket-major, so a ranking
 * reads the offers of one bucket from consecutive memory, and each offer's
 * metrics (allocated at its first definition). */
#define BVT_OFFER_CHUNK 256u
#define BVT_OFFER_CHUNKS (BVT_OFFERS_MAX / BVT_OFFER_CHUNK + 1)

typedef struct bvt_offer_chunk {
    bvt_arm_stats arms[BVT_OFFER_ROWS][BVT_OFFER_CHUNK];
    _Atomic(bvt_offer_counters *) counters[BVT_OFFER_CHUNK];
} bvt_offer_chunk;

typedef struct bvt_offer_def {
    _Atomic uint32_t refs;
    uint32_t id;
    uint32_t group;          /* group id, 0 = none */
    uint32_t response;       /* BVT_EVENT_CLICK or BVT_EVENT_CONVERSION */
    uint32_t cost_per;       /* BVT_EVENT_IMPRESSION or BVT_EVENT_CLICK */
    int32_t priority;
    int personalised;
    double value, cost;
    double score_value;      /* value, or 1 when value is 0 */
    int64_t cooloff_ms, start_ms, end_ms;
    uint64_t budget;         /* impressions, 0 = unlimited */
    uint32_t n_tags, n_caps;
    uint32_t tags[BVT_OFFER_TAGS_MAX]; /* pinned (category.h) until the def is freed */
    struct bvt_categories *cats;       /* their registry */
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
    bvt_rule *rule;          /* NULL = every user */
    char *rule_text;         /* the rule as defined (snapshots, journal), NULL = none */
    bvt_offer_counters *stats; /* the registry's, for the engine's life */
} bvt_offer_def;

typedef struct bvt_offer_group {
    uint32_t n_caps;
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
} bvt_offer_group;

/* What a ranking reads of every candidate, copied into each version in
 * list order so that a pass over the catalog reads consecutive memory; the
 * definition itself is read only for rules and caps. */
typedef struct bvt_offer_hot {
    uint32_t id;
    int32_t priority;
    int64_t start_ms, end_ms;
    uint64_t budget;
    const bvt_offer_counters *stats; /* for the budget */
    const bvt_rule *rule;
    double score_value;
    int64_t cooloff_ms;
    uint32_t group;
    uint16_t tags[BVT_OFFER_TAGS_MAX]; /* category ids fit 16 bits */
    uint8_t n_tags;
    uint8_t n_caps;
    uint8_t personalised;
    uint8_t per_user;          /* caps, a group or a cool-off: read the user's cap state */
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
} bvt_offer_hot;

typedef struct bvt_offer_set {
    _Atomic uint32_t refs;
    uint32_t n;                /* defined offers, in order of first definition */
    uint32_t max_id;
    bvt_offer_def **defs;      /* n */
    bvt_offer_def **by_id;     /* max_id + 1, NULL where undefined */
    bvt_offer_hot *hot;        /* n, as defs */
    uint32_t *hot_of;          /* max_id + 1: position in hot + 1, 0 where undefined */
    uint32_t max_group;
    bvt_offer_group *groups;   /* max_group + 1 (n_caps 0 where undefined) */
    uint32_t n_segments;
    uint32_t segments[BVT_OFFER_SEGMENTS_MAX];
    bvt_policy policy;         /* the engine's default, resolved */
    bvt_policy policy_given;   /* ... as the caller gave it: resolving is not idempotent
                                  (a negative affinity_boost resolves to 0, 0 to 1), so
                                  snapshots and the journal keep this one */
} bvt_offer_set;

typedef struct bvt_offers {
    pthread_mutex_t current_lock; /* guards `current` for the pointer read */
    pthread_mutex_t define_lock;  /* serialises definers */
    bvt_offer_set *current;
    bvt_interner *names;          /* offer id -> numeric id (never reused) */
    bvt_interner *group_names;
    _Atomic(bvt_offer_chunk *) chunks[BVT_OFFER_CHUNKS]; /* by id / BVT_OFFER_CHUNK */
    _Atomic uint64_t unattributed;
} bvt_offers;

int bvt__offers_init(bvt_offers *o);
void bvt__offers_destroy(bvt_offers *o);
size_t bvt__offers_bytes(const bvt_offers *o);

/* A reference to the current version; release it when done. */
bvt_offer_set *bvt__offers_acquire(bvt_offers *o);
void bvt__offers_release(bvt_offer_set *set);

static inline bvt_offer_chunk *bvt__offer_chunk_of(const bvt_offers *o, uint32_t id)
{
    return atomic_load_explicit(&((bvt_offers *)o)->chunks[id / BVT_OFFER_CHUNK],
                                memory_order_acquire);
}

/* The bandit's evidence for offer id (defined at least once) in bucket. */
static inline bvt_arm_stats *bvt__offer_arm(const bvt_offers *o, uint32_t id, uint32_t bucket)
{
    return &bvt__offer_chunk_of(o, id)->arms[bucket][id % BVT_OFFER_CHUNK];
}

/* The metrics of offer id, or NULL when it was never defined. */
static inline bvt_offer_counters *bvt__offer_counters_of(const bvt_offers *o, uint32_t id)
{
    bvt_offer_chunk *c = id <= BVT_OFFERS_MAX ? bvt__offer_chunk_of(o, id) : NULL;
    return c ? atomic_load_explicit(&c->counters[id % BVT_OFFER_CHUNK], memory_order_acquire)
             : NULL;
}

/* Cap-state keys: offers by id, groups by id with this bit. */
#define BVT_CAP_GROUP_BIT 0x80000000u

/* Impressions a user's cap state must hold for def: the largest count among
 * its caps and its group's (at least 1: the last impression is kept). */
uint32_t bvt__offer_cap_depth(const bvt_offer_set *set, const bvt_offer_def *def);

/* Slot of `segment` in the list of bvt_offer_segments_set(), or -1.  Bit
 * `slot` of a segment mask says the user is in that segment. */
int bvt__offer_segment_slot(bvt_engine *e, uint32_t segment);

struct bvt_record;
struct bvt_profile_env;
/* The user's offer-segment mask at `now` (bit i: in the segment of slot i);
 * 0 when no list is set.  Segments are read without a request context,
 * wherever the mask is taken (tracking has none).  Under the record's shard
 * lock. */
uint32_t bvt__offer_segment_mask_locked(bvt_engine *e, const struct bvt_record *r, int64_t now);
/* The same against a version already held. */
uint32_t bvt__offer_set_mask(bvt_engine *e, const bvt_offer_set *set, const struct bvt_record *r,
                            int64_t now);
/* The same with an environment already set up for the user (its context
 * NULL); for a caller that holds a segment version anyway. */
uint32_t bvt__offer_mask_in(const bvt_offer_set *set, struct bvt_profile_env *env);

/* Bucket of a mask: 1 + the lowest slot set, 0 for none. */
static inline uint32_t bvt__offer_bucket(uint32_t mask)
{
    return mask ? (uint32_t)__builtin_ctz(mask) + 1 : 0;
}

/* ---- persistence (offer_persist.c calls these; see persist.h) ---- */

/* 1 when s is a valid offer or group id (1..BVT_OFFER_ID_MAX bytes, no
 * control characters). */
int bvt__offer_id_valid(const char *s);

/* Counters of id, allocated (with their chunk) on first use.  define_lock
 * held, or an engine not yet shared (loading).  NULL: out of memory. */
bvt_offer_counters *bvt__offer_counters_for(bvt_offers *o, uint32_t id);

/* Restoring (snapshot load, journal replay): as the public calls, but
 * nothing is journaled, and a name in a rule's in_segment() or an id in
 * the segment list may be a segment removed since (one the segment names
 * know): the original call saw it defined, and a rule or list that outlived
 * the segment must still come back.  Errors as the public calls. */
int bvt__offer_define_restore(bvt_engine *e, const bvt_offer *offers, size_t n, uint32_t *out_ids,
                             bvt_error *err);
int bvt__offer_segments_restore(bvt_engine *e, const uint32_t *segments, size_t n,
                               bvt_error *err);

/* Intern group names[0..n) in order into a catalog that has no groups yet,
 * with their caps, in one version (load).  BVT_EINVAL (a bad name or cap, a
 * repeated name, groups present already); BVT_ELIMIT; BVT_ENOMEM. */
int bvt__offer_groups_restore(bvt_engine *e, const char *const *names,
                             const bvt_offer_group *groups, size_t n, bvt_error *err);

/* Journal records of the catalog's calls (offer_log.c), appended under
 * define_lock while the change is published (events held off:
 * change_sink.h).  Status of bvt__persist_log(). */
int bvt__offers_log_define(bvt_engine *e, bvt_offer_def *const *defs, size_t n);
int bvt__offers_log_remove(bvt_engine *e, const char *id);
int bvt__offers_log_group(bvt_engine *e, const char *name, const bvt_cap *caps, size_t n_caps);
int bvt__offers_log_segments(bvt_engine *e, const uint32_t *segments, size_t n);
int bvt__offers_log_policy(bvt_engine *e, const bvt_policy *given);

/* A policy as the caller gave it, in records and sections (experiments
 * write their variants' policies the same way).  The reader checks nothing:
 * resolving does. */
struct bvt_wbuf;
struct bvt_rbuf;
void bvt__offers_put_policy(struct bvt_wbuf *w, const bvt_policy *p);
void bvt__offers_get_policy(struct bvt_rbuf *r, bvt_policy *p);

#endif
