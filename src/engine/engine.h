/* engine.h — the engine handle and the helpers its public calls share. */
#ifndef BVT_ENGINE_H
#define BVT_ENGINE_H

#include <stdatomic.h>

#include "alias.h"
#include "behavtarget.h"
#include "category.h"
#include "change_sink.h"
#include "consent.h"
#include "engine_keys.h" /* keys and shard locks: engine_keys.c */
#include "event_types.h"
#include "hash.h"
#include "interner.h"
#include "keywords.h"
#include "offer.h"
#include "profile.h"
#include "rfm.h"
#include "segment.h"
#include "store.h"

#define BVT_ATTR_KEY_MAX 63
#define BVT_ATTR_VALUE_MAX 255
#define BVT_STRINGS_MAX (1u << 20)
#define BVT_BATCH_POOL 8 /* blocks kept: one per concurrently batching thread */
#define BVT_RANK_POOL 8  /* ranking blocks kept, likewise */

struct bvt_engine {
    bvt_profile_cfg cfg;
    unsigned char secret[XXH3_SECRET_DEFAULT_SIZE]; /* derived from the caller's key */
    bvt_categories *cats;
    bvt_keywords *keywords;
    bvt_interner *strings; /* attribute keys and string values */
    /* Orders pinning a string (rules: profile_env.c) with a snapshot
     * forgetting the unused ones (snapshot.c); a leaf lock. */
    pthread_mutex_t strings_lock;
    bvt_event_types types;
    bvt_purposes purposes; /* consent purpose names */
    bvt_store store;
    bvt_aliases aliases;
    bvt_segments segments;
    _Atomic(bvt_rfm_cuts *) cuts; /* NULL until the first refresh */
    pthread_mutex_t rfm_lock;     /* serialises refreshes and cluster runs */
    _Atomic(struct bvt_cluster_model *) clusters; /* NULL until the first cluster run */
    _Atomic uint64_t events_rejected;
    pthread_mutex_t pool_lock;    /* batch blocks kept for reuse */
    struct batch_block *pool[BVT_BATCH_POOL];
    uint32_t pool_len;
    struct rank_work *rank_pool[BVT_RANK_POOL]; /* under pool_lock too */
    uint32_t rank_pool_len;
    bvt_offers offers;                   /* the offer catalog and its counters */
    struct bvt_experiments *experiments; /* A/B tests (experiment.h) */
    /* privacy options (privacy.c, analytics.h) */
    int64_t retention_ms;                /* 0 = keep forever */
    uint32_t analytics_policy;           /* enum bvt_analytics_policy */
    uint32_t segments_need_consent;      /* 1: segments need personalisation consent */
    struct bvt_anon *anon;               /* anonymous aggregates, or NULL */
    /* persistence (snapshot.c, state.c, persist.h) */
    pthread_mutex_t save_lock;           /* one snapshot at a time */
    /* From a snapshot's cut to its erasure (set and cleared with every
     * shard lock held), the names it keeps: sections mark what their
     * definitions name, attribute changes what they store (persist.h). */
    struct bvt_name_marks *snap_marks;
    struct bvt_state *state;             /* the state directory, or NULL (state.c) */
    struct bvt_journal *journal;         /* NULL without one, and while replaying */
    bvt_change_sink sink;                /* where change records go (change_sink.h) */
    /* How bvt__persist_hold holds every change off: the store's lock-all,
     * installed at creation (so change_sink.c, below the store, calls it
     * without depending on it). */
    void (*hold_all)(bvt_store *s);
    void (*release_all)(bvt_store *s);
};

/* Define a segment; `builtin` marks the engine's own (not removable). */
int bvt__segment_define_internal(bvt_engine *e, const char *name, const char *rule, int builtin,
                                uint32_t *out_id, bvt_error *err);

/* Map a search keyword to category cat, which the caller has pinned
 * (category.h): the map holds that pin from now on (released at once when
 * nothing was stored), and the pin it held for the category the word
 * mapped to before is released.  bvt__keywords_set()'s statuses. */
int bvt__keyword_pin_map(bvt_engine *e, const char *word, size_t len, uint32_t cat);

/* Define the RFM segments and funnel stages (engine creation). */
int bvt__segments_define_builtins(bvt_engine *e, bvt_error *err);

/* Free the pooled batch blocks (engine teardown). */
void bvt__batch_pool_free(bvt_engine *e);

/* Zero the user keys the pooled batch blocks still hold from earlier
 * batches (erasure: no copy of a forgotten key stays in the engine's
 * memory; blocks in use by a running batch are left alone). */
void bvt__batch_pool_scrub(bvt_engine *e);

/* Free a ranking block (engine teardown frees the pooled ones). */
void bvt__rank_work_free(struct rank_work *w);

/* By-key forms of the per-user calls: the public calls hash the raw id
 * and come here; journal replay (change_log.c) comes here directly. */
int bvt__track_key(bvt_engine *e, bvt_user_key k, const bvt_resolved_event *ev);
/* As bvt__track_key without the analytics policy: replay applies what the
 * journal says was applied. */
int bvt__track_apply_key(bvt_engine *e, bvt_user_key k, const bvt_resolved_event *ev);
/* An attribute key (max BVT_ATTR_KEY_MAX) or string value (max
 * BVT_ATTR_VALUE_MAX) as every path that sets one accepts it: 1..max bytes
 * of UTF-8. */
int bvt__attr_text_ok(const char *s, size_t max);

/* These three explain a failure in err (may be NULL: replay). */
int bvt__attr_set_key(bvt_engine *e, bvt_user_key k, const char *key, int kind, double number,
                     const char *string, bvt_error *err);
int bvt__attr_unset_key(bvt_engine *e, bvt_user_key k, const char *key, bvt_error *err);
int bvt__consent_set_key(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted,
                        int64_t t_ms, bvt_error *err);
int bvt__user_alias_keys(bvt_engine *e, bvt_user_key anon, bvt_user_key known);
int bvt__user_forget_key(bvt_engine *e, bvt_user_key k);
/* Expiry of the users whose key high words lie in [from, to] at cutoff
 * (replay of one shard's pass; privacy.c). */
void bvt__expire_keys(bvt_engine *e, int64_t cutoff, uint64_t from, uint64_t to);

#endif
