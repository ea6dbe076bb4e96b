/* engine.c — creating and freeing the engine, options, statistics,
 * whole-population passes (iteration, RFM refresh) and registries. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_model.h"
#include "engine.h"
#include "error.h"
#include "experiment.h"
#include "analytics.h"
#include "change_log.h"
#include "persist.h"
#include "registry_log.h"
#include "rng.h"

#define DEFAULT_SHARDS 64u
#define DEFAULT_HALF_LIFE_MS (14LL * BVT_DAY_MS)
#define DEFAULT_ANCESTOR_CREDIT 0.5
#define DEFAULT_HISTORY_EVENTS 64u
#define DEFAULT_HISTORY_DAY_SLOTS 2048u
#define DEFAULT_HORIZON_MS (400LL * BVT_DAY_MS)
#define DEFAULT_SESSION_GAP_MS (30LL * 60 * 1000)
#define DEFAULT_CART_ITEMS 32u
#define DEFAULT_ATTRIBUTES 16u
#define RFM_SAMPLE_MAX 1000000u

void bvt_options_init(bvt_options *opts)
{
    if (!opts)
        return;
    bvt_options init = BVT_OPTIONS_INIT;
    *opts = init;
}

/* 0 means the default, BVT_NONE means none. */
static uint32_t bound_or_default(uint32_t v, uint32_t dflt)
{
    return v == BVT_NONE ? 0 : v ? v : dflt;
}

/* Resolve options into the engine's settings, naming the first bad one. */
static int resolve_options(bvt_engine *e, const bvt_options *o, bvt_error *err)
{
    if (o->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "options.version is 0: use BVT_OPTIONS_INIT");
    if (o->version > BVT_OPTIONS_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "options.version %u is newer than this library (%u)",
                        o->version, BVT_OPTIONS_VERSION);
    uint32_t shards = o->shards ? o->shards : DEFAULT_SHARDS;
    if (shards > 4096 || (shards & (shards - 1)))
        return bvt__fail(err, BVT_EINVAL, -1, "shards must be a power of two in 1..4096");
    uint64_t min_budget = (uint64_t)shards * (sizeof(bvt_shard) + 8192);
    if (o->memory_budget && o->memory_budget < min_budget)
        return bvt__fail(err, BVT_EINVAL, -1, "memory_budget must be at least %llu bytes for %u shards",
                        (unsigned long long)min_budget, shards);
    if (o->full_policy > BVT_FULL_EVICT_LRU)
        return bvt__fail(err, BVT_EINVAL, -1, "full_policy must be BVT_FULL_REJECT or BVT_FULL_EVICT_LRU");
    if (o->top_interests > BVT_TOP_K_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "top_interests must be 1..16");
    if (o->interest_half_life_ms < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "interest_half_life_ms must be > 0");
    if (!(o->ancestor_credit <= 1.0)) /* NaN fails too */
        return bvt__fail(err, BVT_EINVAL, -1, "ancestor_credit must be a number <= 1");
    if (o->history_events > 4096 && o->history_events != BVT_NONE)
        return bvt__fail(err, BVT_EINVAL, -1, "history_events must be 0..4096 or BVT_NONE");
    if (o->history_day_slots > 65535 && o->history_day_slots != BVT_NONE)
        return bvt__fail(err, BVT_EINVAL, -1, "history_day_slots must be 0..65535 or BVT_NONE");
    if (o->history_horizon_ms < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "history_horizon_ms must be > 0");
    if (o->session_gap_ms < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "session_gap_ms must be > 0");
    if (o->cart_items > 255 && o->cart_items != BVT_NONE)
        return bvt__fail(err, BVT_EINVAL, -1, "cart_items must be 0..255 or BVT_NONE");
    if (o->max_attributes > 255 && o->max_attributes != BVT_NONE)
        return bvt__fail(err, BVT_EINVAL, -1, "max_attributes must be 0..255 or BVT_NONE");
    if (!o->secret || o->secret_len < 16)
        return bvt__fail(err, BVT_EINVAL, -1, "secret of at least 16 bytes is required");
    if (o->secret_len > BVT_SECRET_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "secret_len %zu is above the limit "
                        "BVT_SECRET_MAX (%d bytes)", o->secret_len, BVT_SECRET_MAX);
    if (o->type_weights_len > BVT_EVENT_BUILTIN_COUNT || (o->type_weights_len && !o->type_weights))
        return bvt__fail(err, BVT_EINVAL, -1, "type_weights_len must be 0..12 with type_weights set");
    for (uint32_t i = 0; i < o->type_weights_len; i++)
        if (!isfinite(o->type_weights[i]) || o->type_weights[i] < 0)
            return bvt__fail(err, BVT_EINVAL, (int64_t)i, "type_weights[%u] must be finite and >= 0", i);
    if (o->retention_ms < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "retention_ms must be >= 0 (0 = keep forever)");
    if (o->analytics_policy > BVT_ANALYTICS_ANONYMOUS)
        return bvt__fail(err, BVT_EINVAL, -1, "analytics_policy must be BVT_ANALYTICS_TRACK, "
                                             "_DROP or _ANONYMOUS");

    bvt_profile_cfg *c = &e->cfg;
    c->top_k = o->top_interests ? o->top_interests : BVT_TOP_K_MAX;
    c->half_life_ms = (double)(o->interest_half_life_ms ? o->interest_half_life_ms
                                                        : DEFAULT_HALF_LIFE_MS);
    c->ancestor_credit = o->ancestor_credit == 0 ? DEFAULT_ANCESTOR_CREDIT
                         : o->ancestor_credit < 0 ? 0 : o->ancestor_credit;
    c->hist.max_events = bound_or_default(o->history_events, DEFAULT_HISTORY_EVENTS);
    c->hist.max_days = bound_or_default(o->history_day_slots, DEFAULT_HISTORY_DAY_SLOTS);
    c->hist.horizon_ms = o->history_horizon_ms ? o->history_horizon_ms : DEFAULT_HORIZON_MS;
    c->session_gap_ms = o->session_gap_ms ? o->session_gap_ms : DEFAULT_SESSION_GAP_MS;
    c->cart_max = bound_or_default(o->cart_items, DEFAULT_CART_ITEMS);
    c->attrs_max = bound_or_default(o->max_attributes, DEFAULT_ATTRIBUTES);
    e->retention_ms = o->retention_ms;
    e->analytics_policy = o->analytics_policy;
    e->segments_need_consent = o->segments_need_consent != 0;
    return BVT_OK;
}

/* Options as this version reads them: a version-1 struct (which ends where
 * retention_ms begins) is copied over the defaults, so the fields it does
 * not have are never read from the caller's memory. */
static int options_of(const bvt_options *opts, bvt_options *o, bvt_error *err)
{
    if (opts->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "options.version is 0: use BVT_OPTIONS_INIT");
    if (opts->version > BVT_OPTIONS_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "options.version %u is newer than this library (%u)",
                        opts->version, BVT_OPTIONS_VERSION);
    bvt_options_init(o);
    memcpy(o, opts, opts->version == 1 ? offsetof(bvt_options, retention_ms) : sizeof *o);
    return BVT_OK;
}

/* The store's release hook (store.h): bvt__profile_release in the store's
 * callback shape, so store.c need not call profile.c. */
static void release_profile(void *ud, bvt_record *r, bvt_mem *m)
{
    (void)ud;
    bvt__profile_release(r, m);
}

int bvt_engine_new(bvt_engine **out, const bvt_options *opts_in, bvt_error *err)
{
    if (!out)
        return bvt__fail(err, BVT_EINVAL, -1, "out is NULL");
    *out = NULL;
    if (!opts_in)
        return bvt__fail(err, BVT_EINVAL, -1, "options are required (the secret at least)");
    bvt_options copy;
    int orc = options_of(opts_in, &copy, err);
    if (orc != BVT_OK)
        return orc;
    const bvt_options *opts = &copy;
    bvt_engine *e = calloc(1, sizeof *e);
    if (!e)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    int rc = resolve_options(e, opts, err);
    if (rc != BVT_OK) {
        free(e);
        return rc;
    }
    XXH3_generateSecret(e->secret, sizeof e->secret, opts->secret, opts->secret_len);
    bvt__event_types_init(&e->types, opts->type_weights, opts->type_weights_len);
    bvt__purposes_init(&e->purposes);
    pthread_mutex_init(&e->rfm_lock, NULL);
    pthread_mutex_init(&e->pool_lock, NULL);
    pthread_mutex_init(&e->save_lock, NULL);
    pthread_mutex_init(&e->strings_lock, NULL);
    uint64_t alias_max = opts->max_users ? opts->max_users / 4 : (1u << 24);
    bvt__aliases_init(&e->aliases, (uint32_t)(alias_max > (1u << 24) ? (1u << 24) : alias_max));
    if (bvt__categories_new(&e->cats) != BVT_OK || bvt__keywords_new(&e->keywords) != BVT_OK ||
        bvt__interner_new(&e->strings, BVT_STRINGS_MAX) != BVT_OK ||
        bvt__segments_init(&e->segments) != BVT_OK ||
        bvt__offers_init(&e->offers) != BVT_OK ||
        bvt__experiments_new(&e->experiments) != BVT_OK ||
        (e->analytics_policy == BVT_ANALYTICS_ANONYMOUS && bvt__anon_new(&e->anon) != BVT_OK) ||
        bvt__store_init(&e->store, opts->shards ? opts->shards : DEFAULT_SHARDS, opts->max_users,
                       opts->memory_budget, opts->full_policy) != BVT_OK) {
        bvt_engine_free(e);
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory creating the engine");
    }
    e->cfg.cats = e->cats;
    e->cfg.hist.cats = e->cats;
    e->store.on_evict = bvt__log_evict; /* replay follows the journal's choices */
    e->store.on_evict_ud = e;
    e->store.release = release_profile; /* records' variable parts: profile.c */
    rc = bvt__segments_define_builtins(e, err);
    if (rc != BVT_OK) {
        bvt_engine_free(e);
        return rc;
    }
    bvt__registry_attach(e);
    e->hold_all = bvt__store_lock_all;
    e->release_all = bvt__store_unlock_all;
    *out = e;
    return BVT_OK;
}

void bvt_engine_free(bvt_engine *e)
{
    if (!e)
        return;
    bvt__change_sink_close(e); /* the state directory's journal, flushed */
    bvt__store_destroy(&e->store);
    /* Definitions first: their rules and tags unpin names (category.h). */
    bvt__segments_destroy(&e->segments);
    bvt__experiments_free(e->experiments);
    while (e->rank_pool_len)
        bvt__rank_work_free(e->rank_pool[--e->rank_pool_len]);
    bvt__offers_destroy(&e->offers);
    bvt__categories_free(e->cats);
    bvt__keywords_free(e->keywords);
    bvt__interner_free(e->strings);
    bvt__aliases_destroy(&e->aliases);
    bvt__anon_free(e->anon);
    for (bvt_rfm_cuts *c = atomic_load(&e->cuts), *next; c; c = next) {
        next = c->older;
        free(c);
    }
    bvt__cluster_models_free(atomic_load(&e->clusters));
    bvt__event_types_destroy(&e->types);
    bvt__purposes_destroy(&e->purposes);
    bvt__batch_pool_free(e);
    pthread_mutex_destroy(&e->pool_lock);
    pthread_mutex_destroy(&e->save_lock);
    pthread_mutex_destroy(&e->strings_lock);
    pthread_mutex_destroy(&e->rfm_lock);
    free(e);
}

int bvt_engine_stats(bvt_engine *e, bvt_stats *out)
{
    if (!e || !out)
        return BVT_EINVAL;
    if (out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_STATS_VERSION)
        return BVT_EVERSION;
    uint32_t version = out->version;
    memset(out, 0, sizeof *out);
    out->version = version;
    for (uint32_t i = 0; i < e->store.n_shards; i++) {
        bvt_shard *sh = &e->store.shards[i];
        bvt__shard_lock(sh);
        out->users += sh->live;
        out->events_accepted += sh->events_accepted;
        out->users_evicted += sh->evicted;
        out->bytes_table += sh->mem.bytes[BVT_MEM_TABLE];
        out->bytes_history += sh->mem.bytes[BVT_MEM_HISTORY];
        out->bytes_cart += sh->mem.bytes[BVT_MEM_CART];
        out->bytes_attributes += sh->mem.bytes[BVT_MEM_ATTRS];
        pthread_mutex_unlock(&sh->lock);
    }
    out->events_rejected = atomic_load(&e->events_rejected);
    out->bytes_table += sizeof(bvt_shard) * e->store.n_shards;
    out->bytes_registry = bvt__categories_bytes(e->cats) + bvt__keywords_bytes(e->keywords) +
                          bvt__interner_bytes(e->strings) + bvt__aliases_bytes(&e->aliases) +
                          bvt__offers_bytes(&e->offers) + bvt__experiments_bytes(e->experiments) +
                          bvt__anon_bytes(e->anon) + sizeof *e;
    out->bytes_total = out->bytes_table + out->bytes_history + out->bytes_cart +
                       out->bytes_attributes + out->bytes_registry;
    out->bytes_per_user = out->users ? (double)out->bytes_table / (double)out->users : 0;
    out->categories = bvt__categories_count(e->cats);
    out->record_bytes = sizeof(bvt_record);
    return BVT_OK;
}

/* Visit every live record shard by shard in chunks, copying what `copy`
 * needs under the lock and handing it to `use` without the lock. */
typedef struct chunk_item {
    bvt_user_key key;
    bvt_profile profile;
} chunk_item;

#define ITER_CHUNK 256u

int bvt_engine_foreach_user(bvt_engine *e, int64_t now, bvt_user_fn fn, void *ud)
{
    if (!e || !fn)
        return BVT_EINVAL;
    chunk_item *items = malloc(ITER_CHUNK * sizeof *items);
    if (!items)
        return BVT_ENOMEM;
    int rc = BVT_OK;
    for (uint32_t s = 0; s < e->store.n_shards && rc == 0; s++) {
        bvt_shard *sh = &e->store.shards[s];
        for (uint32_t next = 0;; ) {
            size_t n = 0;
            bvt__shard_lock(sh);
            const bvt_rfm_cuts *cuts = atomic_load_explicit(&e->cuts, memory_order_acquire);
            uint32_t end = sh->high_water;
            for (; next < end && n < ITER_CHUNK; next++) {
                const bvt_record *r = bvt__shard_record(sh, next);
                if (!bvt__record_live(r))
                    continue;
                items[n].key = (bvt_user_key){ r->key_hi, r->key_lo };
                items[n].profile.version = BVT_PROFILE_VERSION;
                bvt__profile_features(r, cuts, now, &items[n].profile);
                n++;
            }
            pthread_mutex_unlock(&sh->lock);
            for (size_t i = 0; i < n && rc == 0; i++)
                rc = fn(&items[i].key, &items[i].profile, ud);
            if (rc != 0 || next >= end)
                break;
        }
    }
    free(items);
    return rc;
}

int bvt_rfm_refresh(bvt_engine *e, int64_t now, uint64_t *out_buyers)
{
    if (!e || now <= 0)
        return BVT_EINVAL;
    size_t cap = RFM_SAMPLE_MAX;
    bvt_rfm_buyer *sample = malloc(cap * sizeof *sample);
    bvt_rfm_cuts *cuts = calloc(1, sizeof *cuts);
    if (!sample || !cuts) {
        free(sample), free(cuts);
        return BVT_ENOMEM;
    }
    pthread_mutex_lock(&e->rfm_lock);
    uint64_t buyers = 0, rng = 0x5EEDull;
    for (uint32_t s = 0; s < e->store.n_shards; s++) {
        bvt_shard *sh = &e->store.shards[s];
        bvt__shard_lock(sh);
        for (uint32_t n = 0; n < sh->high_water; n++) {
            const bvt_record *rec = bvt__shard_record(sh, n);
            if (!bvt__record_live(rec) || rec->last_purchase_ms == 0)
                continue;
            /* reservoir sampling (Algorithm R) beyond the cap */
            uint64_t slot = buyers < cap ? buyers : bvt__rng_next(&rng) % (buyers + 1);
            buyers++;
            if (slot < cap)
                bvt__rfm_buyer_of(rec, &sample[slot]);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    int rc = bvt__rfm_cuts_compute(sample, buyers < cap ? (size_t)buyers : cap, cuts);
    cuts->refreshed_ms = now;
    cuts->buyers = buyers;
    if (rc == BVT_OK)
        rc = bvt__rfm_publish(e, cuts); /* retires the older cuts, journals these */
    else
        free(cuts);
    pthread_mutex_unlock(&e->rfm_lock);
    free(sample);
    if (rc != BVT_OK)
        return rc;
    if (out_buyers)
        *out_buyers = buyers;
    return BVT_OK;
}

/* ---- registries ---- */

int bvt_category_intern(bvt_engine *e, const char *path, uint32_t *out_id, bvt_error *err)
{
    if (!e || !path || !out_id)
        return bvt__fail(err, BVT_EINVAL, -1, "engine, path and out_id are required");
    int rc = bvt__categories_intern(e->cats, path, strlen(path), out_id, err);
    return rc == BVT_OK ? bvt__persist_commit(e) : rc; /* its records, if new */
}

int bvt_category_lookup(const bvt_engine *e, const char *path, uint32_t *out_id)
{
    if (!e || !path || !out_id)
        return BVT_EINVAL;
    *out_id = bvt__categories_find(e->cats, path, strlen(path));
    return *out_id ? BVT_OK : BVT_ENOTFOUND;
}

const char *bvt_category_name(const bvt_engine *e, uint32_t id)
{
    return e ? bvt__categories_name(e->cats, id) : NULL;
}

uint32_t bvt_category_parent(const bvt_engine *e, uint32_t id)
{
    return e ? bvt__categories_parent(e->cats, id) : 0;
}

int bvt__keyword_pin_map(bvt_engine *e, const char *word, size_t len, uint32_t cat)
{
    uint32_t old = 0;
    int stored = 0;
    int rc = bvt__keywords_replace(e->keywords, word, len, cat, &old, &stored);
    if (!stored || old) /* a map holds one pin per word */
        bvt__categories_unpin(e->cats, stored ? old : cat);
    return rc;
}

int bvt_keyword_map(bvt_engine *e, const char *keyword, const char *category, bvt_error *err)
{
    if (!e || !keyword || !category)
        return bvt__fail(err, BVT_EINVAL, -1, "engine, keyword and category are required");
    /* The keyword first: a refused call interns no category either. */
    int rc = bvt__keyword_check(keyword, strlen(keyword), err);
    if (rc != BVT_OK)
        return rc;
    uint32_t id;
    rc = bvt__categories_intern_pinned(e->cats, category, strlen(category), &id, err);
    if (rc != BVT_OK)
        return rc;
    rc = bvt__keyword_pin_map(e, keyword, strlen(keyword), id);
    if (rc != BVT_OK)
        return bvt__fail(err, rc, -1, "%s", bvt_strerror(rc));
    return BVT_OK;
}
