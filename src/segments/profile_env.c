/* profile_env.c — what rules read: the engine's names when a rule is
 * compiled, and one locked record (with the request context) when it is
 * evaluated.  Segments and offer eligibility share it. */
#include <stdio.h>
#include <string.h>

#include "attrs.h"
#include "cart.h"
#include "cluster_model.h"
#include "engine.h"
#include "error.h"
#include "interest.h"
#include "persist.h"
#include "profile_env.h"

/* ---- compiling against the engine's names ----
 *
 * The callbacks' ud is a rule_pins: the engine, and every category and
 * attribute string the rule names, each pinned (category.h; a string by
 * its interner count, taken under strings_lock so that a snapshot
 * forgetting unused strings never misses it) from compile time until the
 * rule is freed, so snapshots keep what live rules name and no more. */

#define PIN_STRING 0x80000000u /* ids[] entry: an attribute string's id */

typedef struct rule_pins {
    bvt_engine *e;
    uint32_t n, cap;
    uint32_t *ids; /* category ids; PIN_STRING | id for strings */
} rule_pins;

static void pins_release(void *ud)
{
    rule_pins *p = ud;
    for (uint32_t i = 0; i < p->n; i++) {
        if (p->ids[i] & PIN_STRING)
            bvt__interner_unref(p->e->strings, p->ids[i] & ~PIN_STRING);
        else
            bvt__categories_unpin(p->e->cats, p->ids[i]);
    }
    free(p->ids);
    free(p);
}

/* Note a pin taken; on failure the caller releases it. */
static int pins_add(rule_pins *p, uint32_t v)
{
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 8;
        uint32_t *ids = realloc(p->ids, cap * sizeof *ids);
        if (!ids)
            return BVT_ENOMEM;
        p->ids = ids;
        p->cap = cap;
    }
    p->ids[p->n++] = v;
    return BVT_OK;
}

bvt_engine *bvt__rule_ud_engine(void *ud)
{
    return ((rule_pins *)ud)->e;
}

static int name_event_type(void *ud, const char *name, size_t len, uint32_t *out)
{
    char buf[BVT_TYPE_NAME_MAX + 1];
    if (len > BVT_TYPE_NAME_MAX)
        return BVT_ENOTFOUND;
    memcpy(buf, name, len);
    buf[len] = 0;
    return bvt_event_type_lookup(bvt__rule_ud_engine(ud), buf, out) == BVT_OK ? BVT_OK
                                                                             : BVT_ENOTFOUND;
}

/* What a rule names is pinned: snapshots keep it (category.h). */
static int name_category(void *ud, const char *path, size_t len, uint32_t *out)
{
    rule_pins *p = ud;
    int rc = bvt__categories_intern_pinned(p->e->cats, path, len, out, NULL);
    if (rc == BVT_OK && (rc = pins_add(p, *out)) != BVT_OK)
        bvt__categories_unpin(p->e->cats, *out);
    return rc;
}

/* Found (a live string) or interned, and counted, in one step with respect
 * to a snapshot's forgetting (snapshot.c). */
static int name_string(void *ud, const char *s, size_t len, uint32_t *out)
{
    rule_pins *p = ud;
    bvt_engine *e = p->e;
    pthread_mutex_lock(&e->strings_lock);
    int rc = bvt__interner_intern(e->strings, s, len, 0, out, NULL);
    if (rc == BVT_OK)
        bvt__interner_ref(e->strings, *out);
    pthread_mutex_unlock(&e->strings_lock);
    if (rc == BVT_OK && (rc = pins_add(p, PIN_STRING | *out)) != BVT_OK)
        bvt__interner_unref(e->strings, *out);
    return rc;
}

/* Lookup only: purposes are registered by the caller before rules name them. */
static int name_purpose(void *ud, const char *name, size_t len, uint32_t *out)
{
    return bvt__purposes_find(&bvt__rule_ud_engine(ud)->purposes, name, len, out);
}

static int segment_of(bvt_engine *e, const char *name, size_t len, uint32_t *out)
{
    uint32_t id = bvt__interner_find(e->segments.names, name, len);
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    int defined = id && id <= set->max_id && set->by_id[id];
    bvt__segments_release(set);
    if (!defined)
        return BVT_ENOTFOUND;
    *out = id;
    return BVT_OK;
}

static int name_segment(void *ud, const char *name, size_t len, uint32_t *out)
{
    return segment_of(bvt__rule_ud_engine(ud), name, len, out);
}

/* The standard RFM grid: R by the rounded mean of F and M (docs/segments.md). */
static uint32_t rfm_segment(uint32_t r, uint32_t f, uint32_t m)
{
    if (!r || !f || !m)
        return BVT_RFM_NONE;
    uint32_t fm = (f + m + 1) / 2;
    if (r >= 4 && fm == 1)
        return r == 5 ? BVT_RFM_NEW_CUSTOMERS : BVT_RFM_PROMISING;
    if (r >= 4 && fm <= 3)
        return BVT_RFM_POTENTIAL_LOYALIST;
    if (r == 5)
        return BVT_RFM_CHAMPIONS;
    if (r >= 3 && fm >= 4)
        return BVT_RFM_LOYAL;
    if (r == 3)
        return fm == 3 ? BVT_RFM_NEED_ATTENTION : BVT_RFM_ABOUT_TO_SLEEP;
    if (fm == 5)
        return BVT_RFM_CANT_LOSE_THEM;
    if (fm >= 3)
        return BVT_RFM_AT_RISK;
    return r == 1 && fm == 1 ? BVT_RFM_LOST : BVT_RFM_HIBERNATING;
}

static double rfm_score(const bvt_profile_env *st, const bvt_record *r, int dim)
{
    uint32_t scores[3];
    bvt__rfm_scores(st->cuts, r, scores);
    return scores[dim];
}

static double env_feature(void *ud, uint32_t f)
{
    const bvt_profile_env *st = ud;
    const bvt_record *r = st->r;
    int64_t now = st->now;
    uint32_t items;
    double value;
    int64_t oldest;
    switch (f) {
    case BVT_F_RECENCY: return (double)bvt__record_recency(r, now);
    case BVT_F_FIRST_SEEN: return (double)r->first_seen_ms;
    case BVT_F_LAST_SEEN: return (double)r->last_seen_ms;
    case BVT_F_PURCHASE_RECENCY: return (double)bvt__record_purchase_recency(r, now);
    case BVT_F_LAST_PURCHASE: return (double)r->last_purchase_ms;
    case BVT_F_PURCHASES: return r->counts[BVT_EVENT_PURCHASE];
    case BVT_F_FREQUENCY: return r->purchase_days;
    case BVT_F_MONETARY_TOTAL: return r->monetary_total;
    case BVT_F_MONETARY_MEAN: return bvt__record_monetary_mean(r);
    case BVT_F_R_SCORE: return rfm_score(st, r, BVT_RFM_R);
    case BVT_F_F_SCORE: return rfm_score(st, r, BVT_RFM_F);
    case BVT_F_M_SCORE: return rfm_score(st, r, BVT_RFM_M);
    case BVT_F_EVENTS: return r->events;
    case BVT_F_IMPRESSIONS: return r->counts[BVT_EVENT_IMPRESSION];
    case BVT_F_CLICKS: return r->counts[BVT_EVENT_CLICK];
    case BVT_F_CONVERSIONS: return r->counts[BVT_EVENT_CONVERSION];
    case BVT_F_CTR: return bvt__record_ctr(r);
    case BVT_F_CONVERSION_RATE: return bvt__record_conversion_rate(r);
    case BVT_F_INTERACTIONS: return bvt__record_interactions(r);
    case BVT_F_SESSIONS: return r->sessions;
    case BVT_F_DWELL: return (double)bvt__record_dwell_ms(r);
    case BVT_F_MEAN_DWELL: return bvt__record_mean_dwell_ms(r);
    case BVT_F_CART_ITEMS:
    case BVT_F_CART_VALUE:
        bvt__cart_totals(r->ext, &items, &value, &oldest);
        return f == BVT_F_CART_ITEMS ? items : value;
    case BVT_F_PAGE_VIEWS: return r->counts[BVT_EVENT_PAGE_VIEW];
    case BVT_F_SEARCHES: return r->counts[BVT_EVENT_SEARCH];
    case BVT_F_RFM_SEGMENT:
        return rfm_segment((uint32_t)env_feature(ud, BVT_F_R_SCORE),
                           (uint32_t)env_feature(ud, BVT_F_F_SCORE),
                           (uint32_t)env_feature(ud, BVT_F_M_SCORE));
    case BVT_F_CLUSTER: /* once per user: k segments ask, and a run may swap the model */
        if (!st->cluster)
            ((bvt_profile_env *)ud)->cluster = bvt__cluster_of(st->e, r, now) + 1;
        return st->cluster - 1;
    default: return 0;
    }
}

/* Affinity of a category with its descendants: the scores share one decay
 * factor, so the stored values give the share directly. */
static double env_interest(void *ud, uint32_t category)
{
    const bvt_profile_env *st = ud;
    double in = 0, all = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++) {
        if (!st->r->icat[i])
            continue;
        all += st->r->iscore[i];
        if (bvt__categories_within(st->e->cats, st->r->icat[i], category))
            in += st->r->iscore[i];
    }
    return all > 0 ? in / all : 0;
}

static void env_window(void *ud, uint32_t type, uint32_t category, int64_t window_ms,
                       uint64_t *count, double *sum)
{
    const bvt_profile_env *st = ud;
    *count = 0;
    *sum = 0;
    if (st->r->ext)
        bvt__history_window(&st->r->ext->hist, &st->e->cfg.hist, type, category,
                           st->now - window_ms, st->now, count, sum);
}

static int env_carted_not_bought(void *ud, int64_t window_ms)
{
    const bvt_profile_env *st = ud;
    const bvt_ext *x = st->r->ext;
    for (uint32_t i = 0; x && i < x->cart_len; i++)
        if (x->cart[i].added_ms > st->now - window_ms && x->cart[i].added_ms <= st->now)
            return 1;
    return 0;
}

static int env_viewed_not_bought(void *ud, uint32_t category, int64_t window_ms)
{
    uint64_t views, buys;
    double sum;
    env_window(ud, BVT_EVENT_PAGE_VIEW, category, window_ms, &views, &sum);
    if (views == 0)
        return 0;
    env_window(ud, BVT_EVENT_PURCHASE, category, window_ms, &buys, &sum);
    return buys == 0;
}

static int env_attr(void *ud, uint32_t key, double *num, uint32_t *str)
{
    const bvt_profile_env *st = ud;
    const bvt_attr_entry *a = bvt__attrs_get(st->r->ext, key);
    if (!a)
        return 0;
    if (a->kind == BVT_ATTR_NUMBER)
        *num = a->v.number;
    else
        *str = a->v.string;
    return (int)a->kind;
}

static int set_value(const char *v, const char **value, size_t *value_len)
{
    if (!v)
        return 0;
    *value = v;
    *value_len = strlen(v);
    return 1;
}

static int env_context(void *ud, const char *key, size_t key_len, const char **value,
                       size_t *value_len)
{
    bvt_profile_env *st = ud;
    const bvt_context *c = st->ctx;
    if (!c)
        return 0;
#define KEY_IS(lit) (key_len == sizeof(lit) - 1 && memcmp(key, lit, key_len) == 0)
    if (KEY_IS("page_category"))
        return set_value(c->page_category, value, value_len);
    if (KEY_IS("device"))
        return set_value(c->device, value, value_len);
    if (KEY_IS("geo"))
        return set_value(c->geo, value, value_len);
    if (KEY_IS("hour")) {
        if (c->hour < 0 || c->hour > 23)
            return 0;
        snprintf(st->hour, sizeof st->hour, "%d", (int)c->hour);
        return set_value(st->hour, value, value_len);
    }
#undef KEY_IS
    for (size_t i = 0; i < c->n; i++)
        if (c->keys[i] && strlen(c->keys[i]) == key_len && memcmp(c->keys[i], key, key_len) == 0)
            return set_value(c->values[i], value, value_len);
    return 0;
}

static int env_consent(void *ud, uint32_t purpose)
{
    const bvt_profile_env *st = ud;
    return bvt__consent_granted(st->r->ext, purpose);
}

static int env_in_segment(void *ud, uint32_t segment);

int bvt__profile_env_rule(bvt_profile_env *st, const bvt_rule *rule)
{
    bvt_rule_env env = { .ud = st, .now = st->now, .feature = env_feature,
                         .interest = env_interest, .window = env_window,
                         .carted_not_bought = env_carted_not_bought,
                         .viewed_not_bought = env_viewed_not_bought, .attr = env_attr,
                         .context = env_context, .consent = env_consent,
                         .in_segment = env_in_segment };
    return bvt__rule_eval(rule, &env);
}

int bvt__profile_env_segment(bvt_profile_env *st, uint32_t segment)
{
    const bvt_segment_def *d = segment <= st->set->max_id ? st->set->by_id[segment] : NULL;
    if (!d)
        return 0;
    if (!st->memo)
        return bvt__profile_env_rule(st, d->rule);
    if (!st->memo[d->id])
        st->memo[d->id] = (uint8_t)(1 + bvt__profile_env_rule(st, d->rule));
    return st->memo[d->id] == 2;
}

/* Acyclic by construction (bvt__segments_put refuses cycles). */
static int env_in_segment(void *ud, uint32_t segment)
{
    return bvt__profile_env_segment(ud, segment);
}

void bvt__profile_env_init(bvt_profile_env *st, const bvt_engine *e, const bvt_segment_set *set,
                          const bvt_context *ctx, int64_t now, uint8_t *memo)
{
    memset(st, 0, sizeof *st);
    st->e = e;
    st->set = set;
    st->ctx = ctx;
    st->now = now;
    st->memo = memo;
    st->cuts = atomic_load_explicit(&((bvt_engine *)e)->cuts, memory_order_acquire);
}

void bvt__profile_env_user(bvt_profile_env *st, const bvt_record *r)
{
    st->r = r;
    st->cluster = 0;
    if (st->memo)
        memset(st->memo, 0, st->set->max_id + 1);
}

int bvt__context_check(const bvt_context *ctx, bvt_error *err)
{
    if (!ctx)
        return BVT_OK;
    if (ctx->version > BVT_CONTEXT_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "context version %u is newer than this library",
                        ctx->version);
    if (ctx->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "context version is 0: use BVT_CONTEXT_INIT");
    if (ctx->n > BVT_CONTEXT_KEYS_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "context n (%zu keys) is above the limit "
                        "BVT_CONTEXT_KEYS_MAX (%d)", ctx->n, BVT_CONTEXT_KEYS_MAX);
    if (ctx->n && (!ctx->keys || !ctx->values))
        return bvt__fail(err, BVT_EINVAL, -1, "context n > 0 without keys and values");
    return BVT_OK;
}

int bvt__rule_compile_in(bvt_engine *e, int builtin,
                        int (*segment)(void *ud, const char *name, size_t len, uint32_t *out),
                        const char *text, size_t len, bvt_rule **out, bvt_error *err)
{
    *out = NULL;
    rule_pins *p = calloc(1, sizeof *p);
    if (!p)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    p->e = e;
    bvt_rule_names names = { .ud = p, .event_type = name_event_type,
                             .category = name_category, .string = name_string,
                             .purpose = name_purpose,
                             .segment = segment ? segment : name_segment,
                             /* built-in windows may pass a short horizon: they then
                              * see what the history holds (docs/segments.md) */
                             .horizon_ms = builtin ? 0 : e->cfg.hist.horizon_ms };
    int rc = bvt__rule_compile(out, text, len, &names, err);
    if (rc == BVT_OK)
        bvt__rule_set_owner(*out, pins_release, p);
    else
        pins_release(p);
    return rc;
}

void bvt__rule_mark_names(const bvt_rule *rule, struct bvt_name_marks *m)
{
    const rule_pins *p = bvt__rule_owner(rule);
    for (uint32_t i = 0; p && m && i < p->n; i++) {
        if (p->ids[i] & PIN_STRING)
            bvt__bits_set(m->strings, p->ids[i] & ~PIN_STRING);
        else
            bvt__bits_set(m->cats, p->ids[i]);
    }
}

int bvt_segment_lookup(bvt_engine *e, const char *name, uint32_t *out_id)
{
    if (!e || !name || !out_id)
        return BVT_EINVAL;
    uint32_t id;
    if (segment_of(e, name, strlen(name), &id) != BVT_OK)
        return BVT_ENOTFOUND;
    *out_id = id;
    return BVT_OK;
}
