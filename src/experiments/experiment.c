/* experiment.c — A/B experiments: the registry of definitions, assignment
 * (hash bucketing, holdout, coverage), what an exposure does to a profile's
 * sticky assignments (their block is experiment_user.c's) and the exposure
 * and outcome counters.  The report is in experiment_report.c,
 * snapshots and journal records in experiment_persist.c: definitions are
 * journaled under define_lock, assignments (their outcome: the variant and
 * the user's key, never the raw id) under the user's shard lock.  See
 * experiment.h and experiment_internal.h for the structures and why
 * variant_of takes no lock; docs/experiments.md for the semantics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bucketing.h"
#include "bandit.h"
#include "engine.h"
#include "error.h"
#include "experiment.h"
#include "experiment_internal.h"
#include "offer.h"
#include "persist.h"
#include "user_update.h"
#include "utf8.h"

/* ---- the registry ---- */

int bvt__experiments_new(struct bvt_experiments **out)
{
    struct bvt_experiments *x = calloc(1, sizeof *x);
    *out = NULL;
    if (!x)
        return BVT_ENOMEM;
    if (bvt__interner_new(&x->names, BVT_EXPERIMENTS_MAX) != BVT_OK ||
        bvt__interner_new(&x->vnames, BVT_EXP_VARIANT_NAMES_MAX) != BVT_OK) {
        bvt__interner_free(x->names);
        free(x);
        return BVT_ENOMEM;
    }
    pthread_mutex_init(&x->define_lock, NULL);
    for (uint32_t i = 0; i <= BVT_EXPERIMENTS_MAX; i++) {
        pthread_mutex_init(&x->slots[i].lock, NULL);
        atomic_init(&x->slots[i].hot, NULL);
        atomic_init(&x->slots[i].cells, NULL);
    }
    atomic_init(&x->bytes, sizeof *x);
    *out = x;
    return BVT_OK;
}

static void def_free(bvt_experiment_def *d)
{
    for (uint32_t v = 0; v < BVT_VARIANTS_MAX; v++) /* also a half-checked one */
        free(d->offers[v]);
    free(d);
}

void bvt__experiment_release(const bvt_experiment_def *cd)
{
    bvt_experiment_def *d = (bvt_experiment_def *)cd; /* references are counted in place */
    if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1)
        def_free(d);
}

void bvt__experiments_free(struct bvt_experiments *x)
{
    if (!x)
        return;
    for (uint32_t i = 0; i <= BVT_EXPERIMENTS_MAX; i++) {
        bvt_exp_slot *s = &x->slots[i];
        bvt__experiment_release(s->def);
        free(atomic_load_explicit(&s->cells, memory_order_relaxed));
        pthread_mutex_destroy(&s->lock);
    }
    for (bvt_exp_hot *h = x->hots, *next; h; h = next) {
        next = h->older;
        free(h);
    }
    bvt__interner_free(x->names);
    bvt__interner_free(x->vnames);
    pthread_mutex_destroy(&x->define_lock);
    free(x);
}

size_t bvt__experiments_bytes(const struct bvt_experiments *x)
{
    if (!x)
        return 0;
    return atomic_load_explicit(&x->bytes, memory_order_relaxed) +
           bvt__interner_bytes(x->names) + bvt__interner_bytes(x->vnames);
}

static bvt_exp_slot *slot_of(bvt_engine *e, uint32_t id)
{
    if (!e->experiments || id == 0 || id > BVT_EXPERIMENTS_MAX)
        return NULL;
    return &e->experiments->slots[id];
}

/* The current definition of id with a reference, or NULL. */
static bvt_experiment_def *acquire_id(bvt_engine *e, uint32_t id)
{
    bvt_exp_slot *s = slot_of(e, id);
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->lock);
    bvt_experiment_def *d = s->def;
    if (d)
        atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    return d;
}

const bvt_experiment_def *bvt__experiment_acquire(bvt_engine *e, const char *name)
{
    if (!e || !name || !e->experiments)
        return NULL;
    uint32_t id = bvt__interner_find(e->experiments->names, name, strlen(name));
    return id ? acquire_id(e, id) : NULL;
}

/* ---- assignment ---- */

static double unit_hash(const bvt_exp_hot *h, const char *salt, size_t salt_len,
                        const void *id, size_t len)
{
    if (h->kind == BVT_HASH_XXH3)
        return bvt__bucket_hash_xxh3(salt, salt_len, id, len);
    return bvt__bucket_hash_gb(salt, salt_len, (const char *)id, len, (int)h->kind, NULL);
}

/* Holdout first (its own hash), then the variant ranges. */
static int32_t hashed_variant(const bvt_exp_hot *h, const void *id, size_t len)
{
    if (h->holdout > 0.0 && unit_hash(h, h->hsalt, h->hsalt_len, id, len) < h->holdout)
        return BVT_VARIANT_HOLDOUT;
    double u = unit_hash(h, h->salt, h->salt_len, id, len);
    int v = bvt__bucket_choose(u, (const double (*)[2])h->ranges, h->n);
    return v < 0 ? BVT_VARIANT_NONE : (int32_t)v;
}

int bvt_experiment_variant_of(bvt_engine *e, uint32_t experiment, const void *user_id,
                              size_t len, int32_t *out_variant)
{
    if (!e || !bvt__user_id_valid(user_id, len) || !out_variant || experiment == 0)
        return BVT_EINVAL;
    bvt_exp_slot *s = slot_of(e, experiment);
    const bvt_exp_hot *h = s ? atomic_load_explicit(&s->hot, memory_order_acquire) : NULL;
    if (!h)
        return BVT_ENOTFOUND;
    *out_variant = hashed_variant(h, user_id, len);
    return BVT_OK;
}

/* ---- sticky assignments of one profile (experiment_user.c) ---- */

typedef bvt_exp_entry exp_entry;

/* ---- names ---- */

const char *bvt__experiments_name(const struct bvt_experiments *x, uint32_t id)
{
    return bvt__interner_str(x->names, id);
}

/* ---- counters ---- */

static void add_u64(_Atomic uint64_t *a, uint64_t v)
{
    atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}


/* Rows a mask counts in: row 0, then 1 + each slot bit. */
#define ROW_MASK BVT_EXP_ROW_MASK

static uint32_t column_of(int32_t variant, uint32_t n)
{
    return variant >= 0 ? (uint32_t)variant : n;
}

/* What happens to r when variant v (hashed, or a journal record's) is
 * exposed at now: the sticky entry, if any, wins (and learns an earlier
 * exposure time); otherwise v is recorded and the user counted.  Every
 * change is journaled, under the shard lock the caller holds, as its
 * outcome; *out_log gets that status. */
static int expose_outcome(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m, bvt_record *r,
                          int32_t v, int64_t now, uint32_t seg_mask, int32_t *out_variant,
                          int *out_log)
{
    *out_variant = v;
    *out_log = BVT_OK;
    exp_entry *en = bvt__exp_user_find(r->ext, d->id);
    if (en) {
        *out_variant = en->variant;
        if (now < en->exposed_ms) {
            en->exposed_ms = now; /* a late-arriving earlier exposure */
            *out_log = bvt__experiments_log_assign(e, r, d->id, en->variant, now, en->seg_mask);
        }
        return BVT_OK;
    }
    if (v == BVT_VARIANT_NONE)
        return BVT_OK; /* outside coverage: nothing kept, so a wider coverage can add them */
    int rc = bvt__profile_ext(r, m);
    if (rc == BVT_OK)
        rc = bvt__exp_user_reserve(r->ext, m);
    if (rc != BVT_OK)
        return rc;
    struct bvt_exp_user *u = r->ext->experiments;
    seg_mask &= ROW_MASK;
    u->e[u->len++] = (exp_entry){ .exposed_ms = now, .revenue = 0.0, .seg_mask = seg_mask,
                                  .experiment = (uint16_t)d->id, .variant = (int8_t)v,
                                  .converted = 0 };
    bvt_exp_slot *s = slot_of(e, d->id);
    bvt_exp_cell *cells = atomic_load_explicit(&s->cells, memory_order_acquire);
    uint32_t col = column_of(v, s->n);
    add_u64(&bvt__exp_cell_at(cells, s->n, 0, col)->users, 1);
    for (uint32_t b = seg_mask; b; b &= b - 1)
        add_u64(&bvt__exp_cell_at(cells, s->n, 1 + (uint32_t)__builtin_ctz(b), col)->users, 1);
    *out_log = bvt__experiments_log_assign(e, r, d->id, v, now, seg_mask);
    return BVT_OK;
}

int bvt__experiment_expose_status(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m,
                                 bvt_record *r, const void *id, size_t len, int64_t now,
                                 uint32_t seg_mask, int32_t *out_variant, int *out_log)
{
    int32_t v = hashed_variant(d->hot, id, len);
    int log = BVT_OK;
    int rc = BVT_OK;
    *out_variant = v;
    if (r)
        rc = expose_outcome(e, d, m, r, v, now, seg_mask, out_variant, &log);
    if (out_log)
        *out_log = log;
    return rc;
}

/* Ranking's exposure (rank.c): its record is appended here too, under the
 * shard lock rank.c holds; a journal failure is not rank's to report. */
int32_t bvt__experiment_expose_locked(bvt_engine *e, const bvt_experiment_def *d, bvt_mem *m,
                                     bvt_record *r, const void *id, size_t len, int64_t now,
                                     uint32_t seg_mask)
{
    int32_t v;
    (void)bvt__experiment_expose_status(e, d, m, r, id, len, now, seg_mask, &v, NULL);
    return v;
}

void bvt__experiments_on_event(bvt_engine *e, bvt_ext *x, const bvt_outcome *o)
{
    if (!e || !x || !x->experiments || !o)
        return;
    int impression = o->type == BVT_EVENT_IMPRESSION, click = o->type == BVT_EVENT_CLICK;
    int conversion = o->type == BVT_EVENT_CONVERSION, purchase = o->type == BVT_EVENT_PURCHASE;
    if (!impression && !click && !conversion && !purchase)
        return;
    double revenue = isfinite(o->revenue) ? o->revenue : 0.0;
    double cost = isfinite(o->cost) ? o->cost : 0.0;
    /* The entries are the profile's, mutable under the shard lock the caller
     * holds (x is const only shallowly: the block is not part of it). */
    struct bvt_exp_user *u = x->experiments;
    for (uint32_t i = 0; i < u->len; i++) {
        exp_entry *en = &u->e[i];
        if (en->exposed_ms > o->t_ms)
            continue; /* before the exposure: not an outcome of the variant */
        bvt_exp_slot *s = slot_of(e, en->experiment);
        bvt_exp_cell *cells = s ? atomic_load_explicit(&s->cells, memory_order_acquire) : NULL;
        if (!cells || (en->variant >= 0 && (uint32_t)en->variant >= s->n))
            continue; /* (a loaded profile's entry is checked, but never index past the cells) */
        int converts = (conversion || purchase) && !en->converted;
        double sq = revenue != 0.0 ? revenue * (2.0 * en->revenue + revenue) : 0.0;
        uint32_t col = column_of(en->variant, s->n);
        uint32_t rows = 1u | (en->seg_mask << 1);
        for (uint32_t b = rows; b; b &= b - 1) {
            bvt_exp_cell *c = bvt__exp_cell_at(cells, s->n, (uint32_t)__builtin_ctz(b), col);
            if (impression)
                add_u64(&c->impressions, 1);
            else if (click)
                add_u64(&c->clicks, 1);
            else if (conversion)
                add_u64(&c->conversions, 1);
            if (converts)
                add_u64(&c->converters, 1);
            if (revenue != 0.0) {
                bvt__atomic_add_double(&c->revenue, revenue);
                bvt__atomic_add_double(&c->revenue_sq, sq); /* (r + x)^2 - r^2 */
            }
            if (cost != 0.0)
                bvt__atomic_add_double(&c->cost, cost);
        }
        if (converts)
            en->converted = 1;
        en->revenue = bvt__add_saturated(en->revenue, revenue); /* saved: must stay finite */
    }
}

/* ---- the variant's ranking ---- */

const bvt_policy *bvt__experiment_variant_policy(const bvt_experiment_def *d, int32_t variant)
{
    if (!d || variant < 0 || (uint32_t)variant >= d->n || !d->has_policy[variant])
        return NULL;
    return &d->policy[variant];
}

int bvt__experiment_variant_allows(const bvt_experiment_def *d, int32_t variant, uint32_t offer)
{
    if (!d || variant < 0 || (uint32_t)variant >= d->n || !d->has_offers[variant])
        return 1;
    const uint32_t *a = d->offers[variant];
    size_t lo = 0, hi = d->n_offers[variant];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] == offer)
            return 1;
        if (a[mid] < offer)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ---- definition ---- */

void bvt_experiment_init(bvt_experiment *exp)
{
    if (exp) {
        bvt_experiment init = BVT_EXPERIMENT_INIT;
        *exp = init;
    }
}

/* 1..max bytes of UTF-8, none of them a control character (utf8.h). */
int bvt__experiment_text_valid(const char *s, size_t max, size_t *out_len)
{
    return bvt__name_require(s, max, "name", out_len, NULL) == BVT_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Resolve and sort a variant's offer set into d. */
static int resolve_offers(bvt_engine *e, const bvt_variant *var, size_t v, bvt_experiment_def *d,
                          bvt_error *err)
{
    if (!var->offers) {
        if (var->n_offers)
            return bvt__fail(err, BVT_EINVAL, (int64_t)v, "variant %zu: n_offers without offers", v);
        return BVT_OK;
    }
    if (var->n_offers > BVT_OFFERS_MAX)
        return bvt__fail(err, BVT_EINVAL, (int64_t)v, "variants[%zu].n_offers (%zu) is above "
                        "the limit BVT_OFFERS_MAX (%u)", v, var->n_offers,
                        (unsigned)BVT_OFFERS_MAX);
    d->has_offers[v] = 1;
    if (var->n_offers == 0)
        return BVT_OK; /* an empty set: nothing ranks in this variant */
    uint32_t *ids = malloc(var->n_offers * sizeof *ids);
    if (!ids)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    d->offers[v] = ids;
    for (size_t i = 0; i < var->n_offers; i++) {
        if (!var->offers[i])
            return bvt__fail(err, BVT_EINVAL, (int64_t)v, "variant %zu: offer %zu is NULL", v, i);
        if (bvt_offer_lookup(e, var->offers[i], &ids[i]) != BVT_OK)
            return bvt__fail(err, BVT_ENOTFOUND, (int64_t)v, "variant %zu: unknown offer \"%s\"",
                            v, var->offers[i]);
    }
    qsort(ids, var->n_offers, sizeof *ids, cmp_u32);
    uint32_t n = 0;
    for (size_t i = 0; i < var->n_offers; i++)
        if (n == 0 || ids[n - 1] != ids[i])
            ids[n++] = ids[i];
    d->n_offers[v] = n;
    d->bytes += var->n_offers * sizeof *ids;
    return BVT_OK;
}

/* Everything the caller's definition says, checked, before any lock. */
typedef struct exp_spec {
    const char *name;
    size_t name_len;
    const char *salt;
    size_t salt_len;
    size_t vname_len[BVT_VARIANTS_MAX];
    double raw_sum;
    double raw[BVT_VARIANTS_MAX];
} exp_spec;

static int check_definition(bvt_engine *e, const bvt_experiment *exp, exp_spec *sp,
                            bvt_experiment_def *d, bvt_error *err)
{
    if (exp->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "experiment version is 0 (use BVT_EXPERIMENT_INIT)");
    if (exp->version > BVT_EXPERIMENT_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "experiment version %u is newer than this "
                        "library (%u)", exp->version, BVT_EXPERIMENT_VERSION);
    int rc = bvt__name_require(exp->name, BVT_EXP_NAME_MAX, "experiment name", &sp->name_len,
                              err);
    if (rc != BVT_OK)
        return rc;
    sp->name = exp->name;
    sp->salt = exp->salt ? exp->salt : exp->name;
    sp->salt_len = sp->name_len;
    if (exp->salt &&
        (rc = bvt__name_require(exp->salt, BVT_EXP_SALT_MAX, "salt", &sp->salt_len, err)) != BVT_OK)
        return rc;
    if (exp->hash > BVT_HASH_GROWTHBOOK_V2)
        return bvt__fail(err, BVT_EINVAL, -1, "unknown hash kind %u", exp->hash);
    if (!exp->variants || exp->n_variants < 2 || exp->n_variants > BVT_VARIANTS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "2..%d variants are needed", BVT_VARIANTS_MAX);
    if (!(exp->coverage >= 0.0 && exp->coverage <= 1.0))
        return bvt__fail(err, BVT_EINVAL, -1, "coverage must be in 0..1");
    if (!(exp->holdout >= 0.0 && exp->holdout <= 1.0))
        return bvt__fail(err, BVT_EINVAL, -1, "holdout must be in 0..1");
    size_t n = exp->n_variants;
    sp->raw_sum = 0.0;
    for (size_t v = 0; v < n; v++) {
        const bvt_variant *var = &exp->variants[v];
        char what[32];
        snprintf(what, sizeof what, "variants[%zu].name", v);
        rc = bvt__name_require(var->name, BVT_EXP_NAME_MAX, what, &sp->vname_len[v], err);
        if (rc != BVT_OK)
            return rc;
        for (size_t w = 0; w < v; w++)
            if (sp->vname_len[w] == sp->vname_len[v] &&
                memcmp(exp->variants[w].name, var->name, sp->vname_len[v]) == 0)
                return bvt__fail(err, BVT_EINVAL, (int64_t)v, "variant %zu: name \"%s\" repeats "
                                "variant %zu", v, var->name, w);
        if (!(var->weight >= 0.0) || isinf(var->weight))
            return bvt__fail(err, BVT_EINVAL, (int64_t)v, "variant %zu: weight must be finite "
                            "and >= 0", v);
        sp->raw[v] = d->raw_weight[v] = var->weight;
        sp->raw_sum += var->weight;
        if (var->policy) { /* resolved once here, as bvt_rank() would */
            rc = bvt__policy_resolve(var->policy, &d->policy[v], err);
            if (rc != BVT_OK) {
                if (err)
                    err->offset = (int64_t)v;
                return rc;
            }
            d->has_policy[v] = 1;
            d->policy_given[v] = *var->policy;
            d->policy_given[v].version = BVT_POLICY_VERSION; /* as resolving reads it */
        }
        rc = resolve_offers(e, var, v, d, err);
        if (rc != BVT_OK)
            return rc;
    }
    if (isinf(sp->raw_sum))
        return bvt__fail(err, BVT_EINVAL, -1, "the weights' sum overflows");
    d->n = (uint32_t)n;
    for (size_t v = 0; v < n; v++)
        d->weight[v] = sp->raw_sum > 0.0 ? sp->raw[v] / sp->raw_sum : 1.0 / (double)n;
    return BVT_OK;
}

static const char holdout_suffix[] = "/holdout";

/* The assignment block for a checked definition (NULL: out of memory).
 * The ranges: weights normalised to sum 1, all zero meaning equal.  With a
 * GrowthBook hash, weights whose sum lies in [0.99, 1.01] are used exactly
 * as given, as the SDK uses them, so that range ends agree bit for bit. */
static bvt_exp_hot *make_hot(const bvt_experiment *exp, const exp_spec *sp,
                             const bvt_experiment_def *d)
{
    size_t hsalt_len = sp->salt_len + sizeof holdout_suffix - 1;
    bvt_exp_hot *h = calloc(1, sizeof *h + sp->salt_len + 1 + hsalt_len + 1);
    if (!h)
        return NULL;
    char *salt = (char *)(h + 1), *hsalt = salt + sp->salt_len + 1;
    memcpy(salt, sp->salt, sp->salt_len);
    memcpy(hsalt, sp->salt, sp->salt_len);
    memcpy(hsalt + sp->salt_len, holdout_suffix, sizeof holdout_suffix);
    h->salt = salt;
    h->salt_len = sp->salt_len;
    h->hsalt = hsalt;
    h->hsalt_len = hsalt_len;
    h->kind = exp->hash;
    h->n = d->n;
    h->coverage = exp->coverage;
    h->holdout = exp->holdout;
    const double *w = d->weight;
    if (exp->hash != BVT_HASH_XXH3 && sp->raw_sum >= 0.99 && sp->raw_sum <= 1.01)
        w = sp->raw;
    bvt__bucket_ranges(d->n, exp->coverage, w, d->n, h->ranges);
    return h;
}

static int hot_equal(const bvt_exp_hot *a, const bvt_exp_hot *b)
{
    return a && b && a->kind == b->kind && a->n == b->n && a->coverage == b->coverage &&
           a->holdout == b->holdout && a->salt_len == b->salt_len &&
           memcmp(a->salt, b->salt, a->salt_len) == 0 &&
           memcmp(a->ranges, b->ranges, a->n * sizeof a->ranges[0]) == 0;
}

static size_t hot_size(const bvt_exp_hot *h)
{
    return sizeof *h + h->salt_len + 1 + h->hsalt_len + 1;
}

/* bvt_experiment_define(), journaled or not (restoring). */
static int define(bvt_engine *e, const bvt_experiment *exp, uint32_t *out_id, int journal,
                  bvt_error *err)
{
    if (!e || !exp || !e->experiments)
        return bvt__fail(err, BVT_EINVAL, -1, "engine or experiment is NULL");
    struct bvt_experiments *x = e->experiments;
    bvt_experiment_def *d = calloc(1, sizeof *d);
    if (!d)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    atomic_init(&d->refs, 1);
    d->bytes = sizeof *d;
    exp_spec sp;
    int rc = check_definition(e, exp, &sp, d, err);
    bvt_exp_hot *fresh = NULL;
    if (rc == BVT_OK && !(fresh = make_hot(exp, &sp, d)))
        rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    if (rc != BVT_OK) {
        free(fresh);
        def_free(d);
        return rc;
    }

    pthread_mutex_lock(&x->define_lock);
    uint32_t id = bvt__interner_find(x->names, sp.name, sp.name_len);
    bvt_exp_slot *s = id ? &x->slots[id] : NULL;
    const bvt_exp_hot *cur = s ? atomic_load_explicit(&s->hot, memory_order_relaxed) : NULL;
    if (cur && s->n != d->n) {
        rc = bvt__fail(err, BVT_EINVAL, -1, "\"%s\" has %u variants; a redefinition cannot "
                      "change their number (define a new experiment)", sp.name, s->n);
    } else if (!id) {
        rc = bvt__interner_intern(x->names, sp.name, sp.name_len, 0, &id, NULL);
        if (rc == BVT_ELIMIT)
            rc = bvt__fail(err, rc, -1, "%d experiments are defined already", BVT_EXPERIMENTS_MAX);
        else if (rc != BVT_OK)
            rc = bvt__fail(err, rc, -1, "out of memory");
        else
            s = &x->slots[id];
    }
    for (uint32_t v = 0; rc == BVT_OK && v < d->n; v++) {
        uint32_t vid;
        rc = bvt__interner_intern(x->vnames, exp->variants[v].name, sp.vname_len[v], 0, &vid,
                                 NULL);
        if (rc == BVT_OK)
            d->vname[v] = bvt__interner_str(x->vnames, vid);
        else if (rc == BVT_ELIMIT)
            rc = bvt__fail(err, rc, (int64_t)v, "%u distinct variant names are in use already",
                          BVT_EXP_VARIANT_NAMES_MAX);
        else
            rc = bvt__fail(err, rc, (int64_t)v, "out of memory");
    }
    size_t cells_bytes = 0;
    if (rc == BVT_OK && !cur && !atomic_load_explicit(&s->cells, memory_order_relaxed)) {
        cells_bytes = (size_t)BVT_EXP_ROWS * (d->n + 1) * sizeof(bvt_exp_cell);
        bvt_exp_cell *cells = calloc(1, cells_bytes);
        if (!cells) {
            rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
        } else {
            s->n = d->n; /* before any reader can see the cells or the definition */
            atomic_store_explicit(&s->cells, cells, memory_order_release);
        }
    }
    if (rc != BVT_OK) {
        pthread_mutex_unlock(&x->define_lock);
        free(fresh);
        def_free(d);
        return rc;
    }

    d->id = id;
    d->name = bvt__interner_str(x->names, id);
    size_t added = cells_bytes + d->bytes;
    if (hot_equal(cur, fresh)) {
        free(fresh); /* same assignment: keep the published block */
        d->hot = cur;
    } else {
        fresh->older = x->hots;
        x->hots = fresh;
        d->hot = fresh;
        added += hot_size(fresh);
    }
    /* assignments and outcomes read the definition: they are held off
     * while it is published and journaled (persist.h) */
    if (journal)
        bvt__persist_hold(e);
    pthread_mutex_lock(&s->lock);
    bvt_experiment_def *old = s->def;
    s->def = d;
    pthread_mutex_unlock(&s->lock);
    atomic_store_explicit(&s->hot, d->hot, memory_order_release);
    atomic_fetch_add_explicit(&x->bytes, added, memory_order_relaxed);
    if (old)
        atomic_fetch_sub_explicit(&x->bytes, old->bytes, memory_order_relaxed);
    if (journal) {
        /* d is the published definition: define_lock keeps it current */
        rc = bvt__experiments_log_define(e, d);
        int durable = bvt__persist_release(e);
        if (rc == BVT_OK)
            rc = durable;
        if (rc != BVT_OK)
            bvt__fail(err, rc, -1, "the experiment is defined in memory but its journal record "
                     "could not be written");
    }
    pthread_mutex_unlock(&x->define_lock);
    bvt__experiment_release(old);
    if (out_id)
        *out_id = id;
    return rc;
}

int bvt_experiment_define(bvt_engine *e, const bvt_experiment *exp, uint32_t *out_id,
                          bvt_error *err)
{
    if (e && bvt__persist_check(e) != BVT_OK)
        return bvt__fail(err, BVT_EIO, -1, "the journal has failed: nothing is changed");
    return define(e, exp, out_id, 1, err);
}

int bvt__experiment_define_restore(bvt_engine *e, const bvt_experiment *exp, uint32_t *out_id,
                                  bvt_error *err)
{
    return define(e, exp, out_id, 0, err);
}

int bvt_experiment_lookup(bvt_engine *e, const char *name, uint32_t *out_id)
{
    if (!e || !name || !out_id || !e->experiments)
        return BVT_EINVAL;
    size_t len = strnlen(name, BVT_EXP_NAME_MAX + 1);
    uint32_t id = len <= BVT_EXP_NAME_MAX ? bvt__interner_find(e->experiments->names, name, len) : 0;
    bvt_exp_slot *s = slot_of(e, id);
    if (!s || !atomic_load_explicit(&s->hot, memory_order_acquire))
        return BVT_ENOTFOUND;
    *out_id = id;
    return BVT_OK;
}

/* ---- assignment with a profile ---- */

static int has_entries(const bvt_record *r)
{
    return r->ext && r->ext->experiments && r->ext->experiments->len > 0;
}

/* An assignment of variant v (hashed from the raw id, or a journal
 * record's), as a change of the user's profile (user_update.h). */
typedef struct assign_change {
    bvt_engine *e;
    const bvt_experiment_def *d;
    int32_t v;
    int64_t now;
    const uint32_t *mask; /* the record's offer segments, or NULL to read them */
    int32_t *out_variant;
    int log;              /* the journal record's status (written in the change) */
} assign_change;

static int assign_apply(void *ctx, bvt_shard *sh, bvt_record *r)
{
    assign_change *c = ctx;
    uint32_t m = c->mask ? *c->mask : bvt__offer_segment_mask_locked(c->e, r, c->now);
    return expose_outcome(c->e, c->d, &sh->mem, r, c->v, c->now, m, c->out_variant, &c->log);
}

static int assign_logged(void *ctx, bvt_shard *sh, bvt_record *r)
{
    (void)sh, (void)r;
    return ((const assign_change *)ctx)->log; /* a failed record: the change stays in memory */
}

static int assign_keep(void *ctx, const bvt_record *r)
{
    (void)ctx;
    return has_entries(r);
}

/* The locked part of an assignment to the profile of k, explained in err
 * (may be NULL).  A budget refusal evicts (policy permitting), as tracking
 * does. */
static int assign_key(bvt_engine *e, const bvt_experiment_def *d, bvt_user_key k, int32_t v,
                      int64_t now, const uint32_t *mask, int32_t *out_variant, bvt_error *err)
{
    assign_change c = { e, d, v, now, mask, out_variant, BVT_OK };
    bvt_user_change u = { .change = assign_apply, .commit = assign_logged, .keep = assign_keep,
                          .ctx = &c, .flags = BVT_UPDATE_EVICT, .absent = BVT_OK };
    /* Nothing to record for a new user outside coverage; an existing one
     * may be sticky. */
    if (v != BVT_VARIANT_NONE)
        u.flags |= BVT_UPDATE_CREATE;
    int rc = bvt__user_update(e, k, &u);
    if (rc == BVT_OK)
        return rc;
    if (rc == BVT_ELIMIT)
        return bvt__fail(err, rc, -1, "the user holds %d experiment assignments already, the "
                        "most a profile keeps: the variant is set, nothing is recorded",
                        BVT_EXP_USER_MAX);
    return bvt__user_change_fail(&u, err, rc, "the assignment");
}

int bvt_experiment_assign(bvt_engine *e, uint32_t experiment, const void *user_id, size_t len,
                          int64_t now, int32_t *out_variant)
{
    return bvt_experiment_assign_v2(e, experiment, user_id, len, now, out_variant, NULL);
}

int bvt_experiment_assign_v2(bvt_engine *e, uint32_t experiment, const void *user_id,
                             size_t len, int64_t now, int32_t *out_variant, bvt_error *err)
{
    if (!e || !out_variant)
        return bvt__fail(err, BVT_EINVAL, -1, "engine or out_variant is NULL");
    if (!bvt__user_id_valid(user_id, len))
        return bvt__fail(err, BVT_EINVAL, -1, "user id must be 1..%d bytes", BVT_USER_ID_MAX);
    if (now <= 0)
        return bvt__fail(err, BVT_EINVAL, -1, "now must be > 0 (epoch milliseconds of the "
                        "exposure)");
    if (experiment == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "experiment id 0 names no experiment: use the id "
                        "from bvt_experiment_define() or bvt_experiment_lookup()");
    if (bvt__persist_check(e) != BVT_OK)
        return bvt__fail(err, BVT_EIO, -1, "the journal has failed, so the assignment is not "
                        "made: reopen the engine (bvt_engine_open())");
    bvt_experiment_def *d = acquire_id(e, experiment);
    if (!d)
        return bvt__fail(err, BVT_ENOTFOUND, -1, "no experiment has id %u: define it first, or "
                        "look its id up with bvt_experiment_lookup()", experiment);
    int32_t hashed = hashed_variant(d->hot, user_id, len);
    *out_variant = hashed;
    int rc = assign_key(e, d, bvt__engine_key(e, user_id, len), hashed, now, NULL, out_variant,
                        err);
    bvt__experiment_release(d);
    return rc == BVT_OK ? bvt__user_change_commit(e, err, "the assignment") : rc;
}

int bvt__experiment_replay_assign(bvt_engine *e, bvt_user_key k, uint32_t experiment, int32_t v,
                                 int64_t now, uint32_t seg_mask)
{
    bvt_experiment_def *d = acquire_id(e, experiment);
    int rc = BVT_ECORRUPT;
    if (d && (v == BVT_VARIANT_HOLDOUT || (v >= 0 && (uint32_t)v < d->n)) && now > 0 &&
        !(seg_mask & ~ROW_MASK) && (k.hi || k.lo)) {
        int32_t out;
        rc = assign_key(e, d, k, v, now, &seg_mask, &out, NULL);
    }
    bvt__experiment_release(d);
    return rc;
}
