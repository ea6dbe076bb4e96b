/* offer.c — the offer catalog: validating and publishing definitions,
 * groups, the offer segments and the default policy as immutable
 * versions; the counters each offer keeps, allocated at its first
 * definition and zeroed per row when the segment list changes (the
 * metrics read from them are offer_metrics.c's).  Every mutating call
 * checks the journal first and appends its record (offer_persist.c) right
 * after publishing, with events held off (define_begin); the restore
 * paths replay them.  Calls: names and categories, the rule compiler and
 * profile_env.c (rules and segment masks), segment versions, bandit.c
 * (policies), offer_log.c (journal records), change_sink.h (the journal's
 * state, events held off); never offer_metrics.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bandit.h"
#include "engine.h"
#include "error.h"
#include "offer.h"
#include "persist.h"
#include "profile_env.h"
#include "utf8.h"

/* ---- versions ---- */

static int index_hot(bvt_offer_set *set);

int bvt__offers_init(bvt_offers *o)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_init(&o->current_lock, NULL);
    pthread_mutex_init(&o->define_lock, NULL);
    o->current = calloc(1, sizeof *o->current);
    if (!o->current || index_hot(o->current) != BVT_OK ||
        bvt__interner_new(&o->names, BVT_OFFERS_MAX) != BVT_OK ||
        bvt__interner_new(&o->group_names, BVT_OFFERS_MAX) != BVT_OK)
        return BVT_ENOMEM;
    atomic_init(&o->current->refs, 1);
    bvt__policy_resolve(NULL, &o->current->policy, NULL);
    bvt_policy given = BVT_POLICY_INIT;
    o->current->policy_given = given;
    return BVT_OK;
}

/* A definition no version holds any more: its tags' pins go with it (the
 * rule's go with the rule: profile_env.c). */
static void def_free(bvt_offer_def *d)
{
    for (uint32_t t = 0; t < d->n_tags; t++)
        bvt__categories_unpin(d->cats, d->tags[t]);
    bvt__rule_free(d->rule);
    free(d->rule_text);
    free(d);
}

static void def_release(bvt_offer_def *d)
{
    if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
        def_free(d);
}

void bvt__offers_release(bvt_offer_set *set)
{
    if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < set->n; i++)
        def_release(set->defs[i]);
    free(set->defs);
    free(set->by_id);
    free(set->hot);
    free(set->hot_of);
    free(set->groups);
    free(set);
}

void bvt__offers_destroy(bvt_offers *o)
{
    bvt__offers_release(o->current);
    for (uint32_t i = 0; i < BVT_OFFER_CHUNKS; i++) {
        bvt_offer_chunk *c = atomic_load_explicit(&o->chunks[i], memory_order_relaxed);
        for (uint32_t j = 0; c && j < BVT_OFFER_CHUNK; j++)
            free(atomic_load_explicit(&c->counters[j], memory_order_relaxed));
        free(c);
    }
    bvt__interner_free(o->names);
    bvt__interner_free(o->group_names);
    pthread_mutex_destroy(&o->current_lock);
    pthread_mutex_destroy(&o->define_lock);
}

size_t bvt__offers_bytes(const bvt_offers *o)
{
    size_t n = bvt__interner_bytes(o->names) + bvt__interner_bytes(o->group_names);
    n += bvt__interner_count(o->names) * (sizeof(bvt_offer_counters) + sizeof(bvt_offer_def));
    for (uint32_t i = 0; i < BVT_OFFER_CHUNKS; i++)
        if (atomic_load_explicit(&((bvt_offers *)o)->chunks[i], memory_order_relaxed))
            n += sizeof(bvt_offer_chunk);
    return n;
}

bvt_offer_set *bvt__offers_acquire(bvt_offers *o)
{
    pthread_mutex_lock(&o->current_lock);
    bvt_offer_set *set = o->current;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&o->current_lock);
    return set;
}

/* A copy of base with room for offer ids up to `id`, `more` more offers
 * and group ids up to `group`. */
static bvt_offer_set *clone_set(const bvt_offer_set *base, uint32_t id, size_t more,
                                uint32_t group)
{
    bvt_offer_set *next = calloc(1, sizeof *next);
    if (!next)
        return NULL;
    *next = (bvt_offer_set){ .n = base->n, .n_segments = base->n_segments,
                             .policy = base->policy, .policy_given = base->policy_given,
                             .max_id = base->max_id > id ? base->max_id : id,
                             .max_group = base->max_group > group ? base->max_group : group };
    memcpy(next->segments, base->segments, sizeof next->segments);
    atomic_init(&next->refs, 1);
    next->defs = malloc((base->n + more + 1) * sizeof *next->defs); /* + 1: never 0 */
    next->by_id = calloc(next->max_id + 1, sizeof *next->by_id);
    next->groups = calloc(next->max_group + 1, sizeof *next->groups);
    if (!next->defs || !next->by_id || !next->groups) {
        free(next->defs);
        free(next->by_id);
        free(next->groups);
        free(next);
        return NULL;
    }
    for (uint32_t i = 0; i < base->n; i++) {
        bvt_offer_def *d = base->defs[i];
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
        next->defs[i] = d;
        next->by_id[d->id] = d;
    }
    if (base->groups)
        memcpy(next->groups, base->groups, (base->max_group + 1) * sizeof *next->groups);
    return next;
}

/* The ranking's copy of what it reads of each offer. */
static int index_hot(bvt_offer_set *set)
{
    set->hot = malloc((set->n ? set->n : 1) * sizeof *set->hot);
    set->hot_of = calloc(set->max_id + 1, sizeof *set->hot_of);
    if (!set->hot || !set->hot_of)
        return BVT_ENOMEM;
    for (uint32_t i = 0; i < set->n; i++) {
        const bvt_offer_def *d = set->defs[i];
        bvt_offer_hot *h = &set->hot[i];
        *h = (bvt_offer_hot){ .id = d->id, .priority = d->priority, .start_ms = d->start_ms,
                              .end_ms = d->end_ms, .budget = d->budget, .stats = d->stats,
                              .rule = d->rule, .score_value = d->score_value,
                              .cooloff_ms = d->cooloff_ms, .group = d->group,
                              .n_tags = (uint8_t)d->n_tags, .n_caps = (uint8_t)d->n_caps,
                              .personalised = (uint8_t)d->personalised,
                              .per_user = d->n_caps || d->group || d->cooloff_ms };
        memcpy(h->caps, d->caps, sizeof h->caps);
        for (uint32_t t = 0; t < d->n_tags; t++)
            h->tags[t] = (uint16_t)d->tags[t];
        set->hot_of[d->id] = i + 1;
    }
    return BVT_OK;
}

/* Swap in `next`, a changed copy of the current version (definers hold
 * define_lock); the old version goes when its last reader releases it.
 * BVT_ENOMEM (next is dropped) when next is NULL (its copy failed) or its
 * ranking index cannot be built. */
static int publish(bvt_offers *o, bvt_offer_set *next, bvt_error *err)
{
    if (!next || index_hot(next) != BVT_OK) {
        bvt__offers_release(next);
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory for the catalog's next version");
    }
    pthread_mutex_lock(&o->current_lock);
    bvt_offer_set *old = o->current;
    o->current = next;
    pthread_mutex_unlock(&o->current_lock);
    bvt__offers_release(old);
    return BVT_OK;
}

/* Put def into next, in place of an earlier definition of its id. */
static void set_put(bvt_offer_set *next, bvt_offer_def *def)
{
    bvt_offer_def *old = next->by_id[def->id];
    next->by_id[def->id] = def;
    for (uint32_t i = 0; old && i < next->n; i++)
        if (next->defs[i] == old) {
            next->defs[i] = def;
            def_release(old);
            return;
        }
    next->defs[next->n++] = def;
}

static void set_drop(bvt_offer_set *next, uint32_t id)
{
    bvt_offer_def *old = next->by_id[id];
    next->by_id[id] = NULL;
    uint32_t j = 0;
    for (uint32_t i = 0; i < next->n; i++)
        if (next->defs[i] != old)
            next->defs[j++] = next->defs[i];
    next->n = j;
    def_release(old);
}

/* ---- validation ---- */

/* An offer id or group name (utf8.h). */
static int check_id(const char *s, const char *what, bvt_error *err)
{
    return bvt__name_require(s, BVT_OFFER_ID_MAX, what, NULL, err);
}

int bvt__offer_id_valid(const char *s)
{
    return check_id(s, "offer id", NULL) == BVT_OK;
}

static int check_caps(const bvt_cap *caps, size_t n, bvt_error *err)
{
    if (n > BVT_OFFER_CAPS_MAX || (n && !caps))
        return bvt__fail(err, BVT_EINVAL, -1, "n_caps must be 0..%d with caps set",
                        BVT_OFFER_CAPS_MAX);
    for (size_t i = 0; i < n; i++)
        if (caps[i].max < 1 || caps[i].max > BVT_CAP_MAX_COUNT || caps[i].window_ms <= 0)
            return bvt__fail(err, BVT_EINVAL, (int64_t)i,
                            "caps[%zu]: max must be 1..%d and window_ms > 0", i,
                            BVT_CAP_MAX_COUNT);
    return BVT_OK;
}

static int finite_nonneg(double x)
{
    return isfinite(x) && x >= 0;
}

/* Everything but the rule and the tags, which intern names. */
static int check_offer(const bvt_offer *o, bvt_error *err)
{
    if (o->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "offer.version is 0: use BVT_OFFER_INIT");
    if (o->version > BVT_OFFER_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "offer.version %u is newer than this library",
                        o->version);
    int rc = check_id(o->id, "offer id", err);
    if (rc != BVT_OK)
        return rc;
    if (o->n_tags > BVT_OFFER_TAGS_MAX || (o->n_tags && !o->tags))
        return bvt__fail(err, BVT_EINVAL, -1, "n_tags must be 0..%d with tags set",
                        BVT_OFFER_TAGS_MAX);
    if (!finite_nonneg(o->value))
        return bvt__fail(err, BVT_EINVAL, -1, "value must be finite and >= 0");
    if (!finite_nonneg(o->cost))
        return bvt__fail(err, BVT_EINVAL, -1, "cost must be finite and >= 0");
    if (o->response != 0 && o->response != BVT_EVENT_CLICK && o->response != BVT_EVENT_CONVERSION)
        return bvt__fail(err, BVT_EINVAL, -1, "response must be BVT_EVENT_CLICK or "
                        "BVT_EVENT_CONVERSION");
    if (o->cost_per != 0 && o->cost_per != BVT_EVENT_IMPRESSION && o->cost_per != BVT_EVENT_CLICK)
        return bvt__fail(err, BVT_EINVAL, -1, "cost_per must be BVT_EVENT_IMPRESSION or "
                        "BVT_EVENT_CLICK");
    rc = check_caps(o->caps, o->n_caps, err);
    if (rc != BVT_OK)
        return rc;
    if (o->cooloff_ms < 0 || o->start_ms < 0 || o->end_ms < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "cooloff_ms, start_ms and end_ms must be >= 0");
    if (o->start_ms && o->end_ms && o->end_ms <= o->start_ms)
        return bvt__fail(err, BVT_EINVAL, -1, "end_ms must be after start_ms");
    return BVT_OK;
}

/* A segment named by a rule being restored: any id the segment names know,
 * defined now or removed since the rule was first compiled. */
static int segment_ever(void *ud, const char *name, size_t len, uint32_t *out)
{
    bvt_engine *e = bvt__rule_ud_engine(ud);
    uint32_t id = bvt__interner_find(e->segments.names, name, len);
    if (!id)
        return BVT_ENOTFOUND;
    *out = id;
    return BVT_OK;
}

/* Build a definition (not yet published); *out owns the compiled rule and
 * its text. */
static int build_def(bvt_engine *e, const bvt_offer *o, uint32_t group, int restore,
                     bvt_offer_def **out, bvt_error *err)
{
    bvt_offer_def *d = calloc(1, sizeof *d);
    if (!d)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    *d = (bvt_offer_def){
        .group = group, .priority = o->priority, .personalised = o->personalised != 0,
        .response = o->response ? o->response : BVT_EVENT_CLICK,
        .cost_per = o->cost_per ? o->cost_per : BVT_EVENT_IMPRESSION, .value = o->value,
        .cost = o->cost, .score_value = o->value > 0 ? o->value : 1.0,
        .cooloff_ms = o->cooloff_ms, .start_ms = o->start_ms, .end_ms = o->end_ms,
        .budget = o->budget_impressions, .n_caps = (uint32_t)o->n_caps
    };
    atomic_init(&d->refs, 1);
    d->cats = e->cats;
    if (o->n_caps)
        memcpy(d->caps, o->caps, o->n_caps * sizeof *o->caps);
    int rc = BVT_OK;
    /* Every tag is checked before any is interned: a refused offer leaves
     * no new category behind. */
    for (size_t i = 0; i < o->n_tags && rc == BVT_OK; i++) {
        bvt_error why = BVT_ERROR_INIT;
        const char *t = o->tags[i];
        if (!t)
            rc = bvt__fail(err, BVT_EINVAL, (int64_t)i, "tags[%zu] is NULL", i);
        else if ((rc = bvt__categories_check(t, strlen(t), &why)) != BVT_OK)
            bvt__fail(err, rc, why.offset, "tags[%zu]: %s", i, why.message);
    }
    for (size_t i = 0; i < o->n_tags && rc == BVT_OK; i++) {
        const char *t = o->tags[i];
        rc = bvt__categories_intern_pinned(e->cats, t, strlen(t), &d->tags[d->n_tags], err);
        if (rc == BVT_OK)
            d->n_tags++;
    }
    if (rc == BVT_OK && o->rule) {
        size_t len = strlen(o->rule);
        rc = bvt__rule_compile_in(e, 0, restore ? segment_ever : NULL, o->rule, len, &d->rule,
                                 err);
        if (rc == BVT_OK && !(d->rule_text = malloc(len + 1)))
            rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
        if (rc == BVT_OK)
            memcpy(d->rule_text, o->rule, len + 1);
    }
    if (rc != BVT_OK) {
        def_free(d);
        return rc;
    }
    *out = d;
    return BVT_OK;
}

/* Counters of id, allocated at its first definition (define_lock held),
 * with the chunk that holds them. */
bvt_offer_counters *bvt__offer_counters_for(bvt_offers *o, uint32_t id)
{
    _Atomic(bvt_offer_chunk *) *slot = &o->chunks[id / BVT_OFFER_CHUNK];
    bvt_offer_chunk *chunk = atomic_load_explicit(slot, memory_order_acquire);
    if (!chunk) {
        if (!(chunk = calloc(1, sizeof *chunk)))
            return NULL;
        atomic_store_explicit(slot, chunk, memory_order_release);
    }
    _Atomic(bvt_offer_counters *) *cs = &chunk->counters[id % BVT_OFFER_CHUNK];
    bvt_offer_counters *c = atomic_load_explicit(cs, memory_order_acquire);
    if (!c && (c = calloc(1, sizeof *c)))
        atomic_store_explicit(cs, c, memory_order_release);
    return c;
}

/* ---- the public calls ---- */

void bvt_offer_init(bvt_offer *offer)
{
    if (offer) {
        bvt_offer init = BVT_OFFER_INIT;
        *offer = init;
    }
}

/* Everything about one definition that needs no lock: checks, its group,
 * the rule compiled and the tags interned. */
static int prepare(bvt_engine *e, const bvt_offer *offer, int restore, bvt_offer_def **out,
                   bvt_error *err)
{
    int rc = check_offer(offer, err);
    if (rc != BVT_OK)
        return rc;
    uint32_t group = 0;
    if (offer->group &&
        !(group = bvt__interner_find(e->offers.group_names, offer->group, strlen(offer->group))))
        return bvt__fail(err, BVT_ENOTFOUND, -1, "no offer group '%.63s'", offer->group);
    return build_def(e, offer, group, restore, out, err);
}

/* Publish defs[0..n) in one version (define_lock held): ids interned,
 * counters allocated, then one copy of the catalog.  On failure nothing is
 * published and the defs are released. */
static int publish_defs(bvt_offers *o, const bvt_offer *offers, bvt_offer_def **defs, size_t n,
                        bvt_error *err)
{
    int rc = BVT_OK;
    uint32_t max_id = 0;
    for (size_t i = 0; i < n && rc == BVT_OK; i++) {
        rc = bvt__interner_intern(o->names, offers[i].id, strlen(offers[i].id), 0, &defs[i]->id,
                                 NULL);
        if (rc != BVT_OK)
            bvt__fail(err, rc, -1, "%d offer ids already defined", BVT_OFFERS_MAX);
        else if (!(defs[i]->stats = bvt__offer_counters_for(o, defs[i]->id)))
            rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory for the offer's counters");
        else if (defs[i]->id > max_id)
            max_id = defs[i]->id;
    }
    bvt_offer_set *next = rc == BVT_OK ? clone_set(o->current, max_id, n, 0) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (next)
            set_put(next, defs[i]); /* next owns it now */
        else
            def_release(defs[i]);
    }
    return rc == BVT_OK ? publish(o, next, err) : rc;
}

static int by_id(const void *a, const void *b)
{
    const bvt_offer *x = *(const bvt_offer *const *)a, *y = *(const bvt_offer *const *)b;
    int c = x->id && y->id ? strcmp(x->id, y->id) : (x->id != NULL) - (y->id != NULL);
    return c ? c : (x > y) - (x < y); /* equal ids: in list order */
}

/* The position of the first offer whose id an earlier one has (n if none):
 * sorted, so a large batch costs O(n log n).  NULL ids are left to the
 * checks of each definition. */
static size_t first_repeat(const bvt_offer *offers, size_t n)
{
    const bvt_offer **order = malloc(n * sizeof *order);
    size_t repeat = n;
    if (!order)
        return n; /* the checks below still run; only repeats go unnoticed */
    for (size_t i = 0; i < n; i++)
        order[i] = &offers[i];
    qsort(order, n, sizeof *order, by_id);
    for (size_t i = 1; i < n; i++)
        if (order[i]->id && order[i - 1]->id && strcmp(order[i]->id, order[i - 1]->id) == 0 &&
            (size_t)(order[i] - offers) < repeat)
            repeat = (size_t)(order[i] - offers);
    free(order);
    return repeat;
}

int bvt_offer_define(bvt_engine *e, const bvt_offer *offer, uint32_t *out_id, bvt_error *err)
{
    return bvt_offer_define_batch(e, offer, offer ? 1 : 0, out_id, NULL, err);
}

/* The journal failed: the caller's change is not to be made. */
static int journal_failed(bvt_error *err)
{
    return bvt__fail(err, BVT_EIO, -1, "the journal has failed: nothing is changed");
}

/* The change is published but its record could not be appended. */
static int log_failed(int rc, bvt_error *err)
{
    return rc == BVT_OK ? rc : bvt__fail(err, rc, -1, "the change is made in memory but its "
                                        "journal record could not be written");
}

/* A change to the catalog: one definer at a time (define_lock), with the
 * events that read the catalog held off while it is published and
 * journaled (persist.h), so replay credits each under the version it
 * used.  define_end() returns rc, or the journal's failure to make the
 * record durable. */
static void define_begin(bvt_engine *e)
{
    pthread_mutex_lock(&e->offers.define_lock);
    bvt__persist_hold(e);
}

static int define_end(bvt_engine *e, int rc, bvt_error *err)
{
    int durable = bvt__persist_release(e);
    pthread_mutex_unlock(&e->offers.define_lock);
    return rc == BVT_OK ? log_failed(durable, err) : rc;
}

/* bvt_offer_define_batch(), journaled (restore 0) or restoring (1). */
static int define_batch(bvt_engine *e, const bvt_offer *offers, size_t n, uint32_t *out_ids,
                        size_t *out_failed, int restore, bvt_error *err)
{
    bvt_offer_def *one, **defs = n == 1 ? &one : malloc(n * sizeof *defs);
    if (!defs)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory for %zu offers", n);
    size_t built = 0, repeat = n > 1 ? first_repeat(offers, n) : n;
    int rc = BVT_OK;
    while (built < n && built < repeat &&
           (rc = prepare(e, &offers[built], restore, &defs[built], err)) == BVT_OK)
        built++;
    if (rc == BVT_OK && repeat < n && built == repeat)
        rc = bvt__fail(err, BVT_EINVAL, -1, "offer '%s' is listed twice", offers[repeat].id);
    if (rc != BVT_OK) {
        if (out_failed)
            *out_failed = built;
        while (built)
            def_release(defs[--built]);
    } else {
        define_begin(e);
        rc = publish_defs(&e->offers, offers, defs, n, err);
        for (size_t i = 0; rc == BVT_OK && out_ids && i < n; i++)
            out_ids[i] = defs[i]->id;
        /* the published version holds the defs while define_lock is held */
        if (rc == BVT_OK && !restore)
            rc = log_failed(bvt__offers_log_define(e, defs, n), err);
        rc = define_end(e, rc, err);
    }
    if (defs != &one)
        free(defs);
    return rc;
}

int bvt_offer_define_batch(bvt_engine *e, const bvt_offer *offers, size_t n, uint32_t *out_ids,
                           size_t *out_failed, bvt_error *err)
{
    if (out_failed)
        *out_failed = 0;
    if (!e || !offers || n == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "engine and at least one offer are required");
    if (n > BVT_OFFERS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "n (%zu offers) is above the limit BVT_OFFERS_MAX "
                        "(%d)", n, BVT_OFFERS_MAX);
    if (bvt__persist_check(e) != BVT_OK)
        return journal_failed(err);
    return define_batch(e, offers, n, out_ids, out_failed, 0, err);
}

int bvt__offer_define_restore(bvt_engine *e, const bvt_offer *offers, size_t n, uint32_t *out_ids,
                             bvt_error *err)
{
    if (!e || !offers || n == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "engine and at least one offer are required");
    return define_batch(e, offers, n, out_ids, NULL, 1, err);
}

int bvt_offer_remove(bvt_engine *e, const char *id, bvt_error *err)
{
    if (!e || !bvt__offer_id_valid(id))
        return bvt__fail(err, BVT_EINVAL, -1, "engine and a valid offer id are required");
    if (bvt__persist_check(e) != BVT_OK)
        return journal_failed(err);
    bvt_offers *o = &e->offers;
    uint32_t num = bvt__interner_find(o->names, id, strlen(id));
    define_begin(e);
    int rc = BVT_OK;
    if (!num || num > o->current->max_id || !o->current->by_id[num]) {
        rc = bvt__fail(err, BVT_ENOTFOUND, -1, "no offer '%s'", id);
    } else {
        bvt_offer_set *next = clone_set(o->current, 0, 0, 0);
        if (next)
            set_drop(next, num);
        rc = publish(o, next, err);
        if (rc == BVT_OK)
            rc = log_failed(bvt__offers_log_remove(e, id), err);
    }
    return define_end(e, rc, err);
}

int bvt_offer_lookup(bvt_engine *e, const char *id, uint32_t *out_id)
{
    if (!e || !id || !out_id)
        return BVT_EINVAL;
    uint32_t num = bvt__interner_find(e->offers.names, id, strlen(id));
    if (!num)
        return BVT_ENOTFOUND;
    *out_id = num;
    return BVT_OK;
}

const char *bvt_offer_name(bvt_engine *e, uint32_t offer)
{
    return e ? bvt__interner_str(e->offers.names, offer) : NULL;
}

int bvt_offer_list(bvt_engine *e, uint32_t *out, size_t cap, size_t *out_n)
{
    if (!e || (!out && cap) || !out_n)
        return BVT_EINVAL;
    bvt_offer_set *set = bvt__offers_acquire(&e->offers);
    for (uint32_t i = 0; i < set->n && i < cap; i++)
        out[i] = set->defs[i]->id;
    *out_n = set->n;
    bvt__offers_release(set);
    return BVT_OK;
}

int bvt_offer_group_define(bvt_engine *e, const char *name, const bvt_cap *caps, size_t n_caps,
                           bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    int rc = check_id(name, "group name", err);
    if (rc == BVT_OK)
        rc = check_caps(caps, n_caps, err);
    if (rc != BVT_OK)
        return rc;
    if (bvt__persist_check(e) != BVT_OK)
        return journal_failed(err);
    bvt_offers *o = &e->offers;
    define_begin(e);
    uint32_t id = 0;
    rc = bvt__interner_intern(o->group_names, name, strlen(name), 0, &id, NULL);
    if (rc != BVT_OK) {
        bvt__fail(err, rc, -1, "%d offer groups already defined", BVT_OFFERS_MAX);
    } else {
        bvt_offer_set *next = clone_set(o->current, 0, 0, id);
        if (next) {
            next->groups[id].n_caps = (uint32_t)n_caps;
            if (n_caps)
                memcpy(next->groups[id].caps, caps, n_caps * sizeof *caps);
        }
        rc = publish(o, next, err);
        if (rc == BVT_OK)
            rc = log_failed(bvt__offers_log_group(e, name, caps, n_caps), err);
    }
    return define_end(e, rc, err);
}

int bvt__offer_groups_restore(bvt_engine *e, const char *const *names,
                             const bvt_offer_group *groups, size_t n, bvt_error *err)
{
    bvt_offers *o = &e->offers;
    if (n == 0)
        return BVT_OK;
    if (n > BVT_OFFERS_MAX || bvt__interner_count(o->group_names) != 0)
        return bvt__fail(err, BVT_EINVAL, -1, "groups can be restored only into an empty catalog");
    int rc = BVT_OK;
    pthread_mutex_lock(&o->define_lock);
    for (size_t i = 0; i < n && rc == BVT_OK; i++) {
        uint32_t id = 0;
        int fresh = 0;
        if (check_id(names[i], "group name", err) != BVT_OK)
            rc = bvt__fail(err, BVT_EINVAL, (int64_t)i, "group %zu: bad name", i);
        else if ((rc = check_caps(groups[i].caps, groups[i].n_caps, err)) != BVT_OK)
            ;
        else if ((rc = bvt__interner_intern(o->group_names, names[i], strlen(names[i]), 0, &id,
                                           &fresh)) != BVT_OK)
            bvt__fail(err, rc, (int64_t)i, "group %zu: cannot be interned", i);
        else if (!fresh || id != i + 1)
            rc = bvt__fail(err, BVT_EINVAL, (int64_t)i, "group '%s' is listed twice", names[i]);
    }
    bvt_offer_set *next = NULL;
    if (rc == BVT_OK && (next = clone_set(o->current, 0, 0, (uint32_t)n)))
        for (size_t i = 0; i < n; i++)
            next->groups[i + 1] = groups[i];
    if (rc == BVT_OK)
        rc = publish(o, next, err);
    pthread_mutex_unlock(&o->define_lock);
    return rc;
}

/* Zero what the counters of bucket / row `row` hold, for every offer. */
static void reset_row(bvt_offers *o, uint32_t row)
{
    uint32_t n = bvt__interner_count(o->names);
    for (uint32_t id = 1; id <= n; id++) {
        bvt_offer_counters *c = bvt__offer_counters_of(o, id);
        if (!c)
            continue;
        bvt_arm_stats *a = bvt__offer_arm(o, id, row);
        atomic_store_explicit(&a->trials, 0, memory_order_relaxed);
        atomic_store_explicit(&a->responses, 0, memory_order_relaxed);
        bvt_offer_row *r = &c->rows[row];
        atomic_store_explicit(&r->impressions, 0, memory_order_relaxed);
        atomic_store_explicit(&r->clicks, 0, memory_order_relaxed);
        atomic_store_explicit(&r->conversions, 0, memory_order_relaxed);
        atomic_store_explicit(&r->dismissals, 0, memory_order_relaxed);
        atomic_store_explicit(&r->engagements, 0, memory_order_relaxed);
        atomic_store_explicit(&r->revenue, 0.0, memory_order_relaxed);
        atomic_store_explicit(&r->cost, 0.0, memory_order_relaxed);
    }
}

/* bvt_offer_segments_set(), journaled (restore 0) or restoring (1): then an
 * id need only be known to the segment names. */
static int segments_set(bvt_engine *e, const uint32_t *segments, size_t n, int restore,
                        bvt_error *err)
{
    if (!e || n > BVT_OFFER_SEGMENTS_MAX || (n && !segments))
        return bvt__fail(err, BVT_EINVAL, -1, "at most %d segments, with segments set",
                        BVT_OFFER_SEGMENTS_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (segments[i] == segments[j])
                return bvt__fail(err, BVT_EINVAL, (int64_t)i, "segment %u is listed twice",
                                segments[i]);
    if (!restore && bvt__persist_check(e) != BVT_OK)
        return journal_failed(err);
    bvt_segment_set *segs = bvt__segments_acquire(&e->segments);
    int rc = BVT_OK;
    for (size_t i = 0; i < n && rc == BVT_OK; i++)
        if (restore ? !segments[i] || !bvt__interner_str(e->segments.names, segments[i])
                    : segments[i] > segs->max_id || !segs->by_id[segments[i]])
            rc = bvt__fail(err, BVT_ENOTFOUND, (int64_t)i, "segment %u is not defined",
                          segments[i]);
    bvt__segments_release(segs);
    if (rc != BVT_OK)
        return rc;
    bvt_offers *o = &e->offers;
    define_begin(e); /* the rows are reset with no event adding to them */
    bvt_offer_set *next = clone_set(o->current, 0, 0, 0);
    for (uint32_t i = 0; next && i < BVT_OFFER_SEGMENTS_MAX; i++) {
        uint32_t was = i < next->n_segments ? next->segments[i] : 0;
        uint32_t now = i < n ? segments[i] : 0;
        if (was != now)
            reset_row(o, i + 1);
        next->segments[i] = now;
    }
    if (next)
        next->n_segments = (uint32_t)n;
    rc = publish(o, next, err);
    if (rc == BVT_OK && !restore)
        rc = log_failed(bvt__offers_log_segments(e, segments, n), err);
    return define_end(e, rc, err);
}

int bvt_offer_segments_set(bvt_engine *e, const uint32_t *segments, size_t n, bvt_error *err)
{
    return segments_set(e, segments, n, 0, err);
}

int bvt__offer_segments_restore(bvt_engine *e, const uint32_t *segments, size_t n,
                               bvt_error *err)
{
    return segments_set(e, segments, n, 1, err);
}

void bvt_policy_init(bvt_policy *policy)
{
    if (policy) {
        bvt_policy init = BVT_POLICY_INIT;
        *policy = init;
    }
}

int bvt_policy_set(bvt_engine *e, const bvt_policy *policy, bvt_error *err)
{
    if (!e || !policy)
        return bvt__fail(err, BVT_EINVAL, -1, "engine and policy are required");
    bvt_policy resolved;
    int rc = bvt__policy_resolve(policy, &resolved, err);
    if (rc != BVT_OK)
        return rc;
    if (bvt__persist_check(e) != BVT_OK)
        return journal_failed(err);
    bvt_offers *o = &e->offers;
    define_begin(e);
    bvt_offer_set *next = clone_set(o->current, 0, 0, 0);
    if (next) {
        next->policy = resolved;
        next->policy_given = *policy;
        next->policy_given.version = BVT_POLICY_VERSION; /* as resolving reads it */
    }
    rc = publish(o, next, err);
    if (rc == BVT_OK)
        rc = log_failed(bvt__offers_log_policy(e, &next->policy_given), err);
    return define_end(e, rc, err);
}

/* ---- what other modules ask ---- */

uint32_t bvt__offer_cap_depth(const bvt_offer_set *set, const bvt_offer_def *def)
{
    uint32_t depth = 1;
    for (uint32_t i = 0; i < def->n_caps; i++)
        depth = def->caps[i].max > depth ? def->caps[i].max : depth;
    const bvt_offer_group *g = def->group <= set->max_group ? &set->groups[def->group] : NULL;
    for (uint32_t i = 0; def->group && g && i < g->n_caps; i++)
        depth = g->caps[i].max > depth ? g->caps[i].max : depth;
    return depth;
}

static int slot_of(const bvt_offer_set *set, uint32_t segment)
{
    for (uint32_t i = 0; segment && i < set->n_segments; i++)
        if (set->segments[i] == segment)
            return (int)i;
    return -1;
}

int bvt__offer_segment_slot(bvt_engine *e, uint32_t segment)
{
    bvt_offer_set *set = bvt__offers_acquire(&e->offers);
    int slot = slot_of(set, segment);
    bvt__offers_release(set);
    return slot;
}

uint32_t bvt__offer_mask_in(const bvt_offer_set *set, bvt_profile_env *env)
{
    uint32_t mask = 0;
    for (uint32_t i = 0; i < set->n_segments; i++)
        if (bvt__profile_env_segment(env, set->segments[i]))
            mask |= 1u << i;
    return mask;
}

uint32_t bvt__offer_set_mask(bvt_engine *e, const bvt_offer_set *set, const bvt_record *r,
                            int64_t now)
{
    if (!set->n_segments || !r)
        return 0;
    bvt_segment_set *segs = bvt__segments_acquire(&e->segments);
    uint8_t memo[BVT_SEGMENTS_MAX + 1];
    bvt_profile_env env;
    bvt__profile_env_init(&env, e, segs, NULL, now, segs->has_refs ? memo : NULL);
    bvt__profile_env_user(&env, r);
    uint32_t mask = bvt__offer_mask_in(set, &env);
    bvt__segments_release(segs);
    return mask;
}

uint32_t bvt__offer_segment_mask_locked(bvt_engine *e, const bvt_record *r, int64_t now)
{
    bvt_offer_set *set = bvt__offers_acquire(&e->offers);
    uint32_t mask = bvt__offer_set_mask(e, set, r, now);
    bvt__offers_release(set);
    return mask;
}
