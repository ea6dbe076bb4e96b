/* segment_eval.c — segments over profiles: defining them (compiling rules
 * against the engine's names), the rule environment over one locked record,
 * and the per-user and population calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "cart.h"
#include "cluster.h"
#include "engine.h"
#include "error.h"
#include "interest.h"

/* ---- compiling against the engine's names ---- */

static int name_event_type(void *ud, const char *name, size_t len, uint32_t *out)
{
    char buf[BVT_TYPE_NAME_MAX + 1];
    if (len > BVT_TYPE_NAME_MAX)
        return BVT_ENOTFOUND;
    memcpy(buf, name, len);
    buf[len] = 0;
    return bvt_event_type_lookup(ud, buf, out) == BVT_OK ? BVT_OK : BVT_ENOTFOUND;
}

static int name_category(void *ud, const char *path, size_t len, uint32_t *out)
{
    bvt_engine *e = ud;
    return bvt_categories_intern(e->cats, path, len, out, NULL);
}

static int name_string(void *ud, const char *s, size_t len, uint32_t *out)
{
    bvt_engine *e = ud;
    return bvt_interner_intern(e->strings, s, len, 0, out, NULL);
}

/* Lookup only: purposes are registered by the caller before rules name them. */
static int name_purpose(void *ud, const char *name, size_t len, uint32_t *out)
{
    bvt_engine *e = ud;
    return bvt_purposes_find(&e->purposes, name, len, out);
}

static int name_segment(void *ud, const char *name, size_t len, uint32_t *out)
{
    bvt_engine *e = ud;
    uint32_t id = bvt_interner_find(e->segments.names, name, len);
    bvt_segment_set *set = bvt_segments_acquire(&e->segments);
    int defined = id && id <= set->max_id && set->by_id[id];
    bvt_segments_release(set);
    if (!defined)
        return BVT_ENOTFOUND;
    *out = id;
    return BVT_OK;
}

static int valid_segment_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= BVT_SEGMENT_NAME_MAX && name[0] != ' ';
}

/* Compile and publish; `builtin` marks the engine's own segments. */
int bvt_segment_define_internal(bvt_engine *e, const char *name, const char *rule, int builtin,
                                uint32_t *out_id, bvt_error *err)
{
    if (!e || !valid_segment_name(name) || !rule)
        return bvt_fail(err, BVT_EINVAL, -1, "segment name must be 1..%d bytes and rule set",
                        BVT_SEGMENT_NAME_MAX);
    bvt_rule_names names = { .ud = e, .event_type = name_event_type,
                             .category = name_category, .string = name_string,
                             .purpose = name_purpose,
                             .segment = name_segment,
                             /* built-in windows may pass a short horizon: they then
                              * see what the history holds (docs/segments.md) */
                             .horizon_ms = builtin ? 0 : e->cfg.hist.horizon_ms };
    bvt_rule *compiled = NULL;
    int rc = bvt_rule_compile(&compiled, rule, strlen(rule), &names, err);
    if (rc != BVT_OK)
        return rc;
    uint32_t id;
    rc = bvt_interner_intern(e->segments.names, name, strlen(name), 0, &id, NULL);
    if (rc != BVT_OK) {
        bvt_rule_free(compiled);
        return bvt_fail(err, rc, -1, "%d segment names already used", BVT_SEGMENTS_MAX);
    }
    rc = bvt_segments_put(&e->segments, id, compiled, builtin);
    if (rc == BVT_ECYCLE)
        return bvt_fail(err, rc, -1, "'%s' would depend on itself through in_segment()", name);
    if (rc == BVT_EEXIST)
        return bvt_fail(err, rc, -1, "'%s' is a built-in segment", name);
    if (rc != BVT_OK)
        return bvt_fail(err, rc, -1, "%s", bvt_strerror(rc));
    if (out_id)
        *out_id = id;
    return BVT_OK;
}

int bvt_segment_define(bvt_engine *e, const char *name, const char *rule, uint32_t *out_id,
                       bvt_error *err)
{
    return bvt_segment_define_internal(e, name, rule, 0, out_id, err);
}

int bvt_segment_remove(bvt_engine *e, const char *name, bvt_error *err)
{
    if (!e || !valid_segment_name(name))
        return bvt_fail(err, BVT_EINVAL, -1, "bad segment name");
    uint32_t id = bvt_interner_find(e->segments.names, name, strlen(name)), blocker = 0;
    int rc = id ? bvt_segments_drop(&e->segments, id, &blocker) : BVT_ENOTFOUND;
    if (rc == BVT_ENOTFOUND)
        return bvt_fail(err, rc, -1, "no segment '%s'", name);
    if (rc == BVT_EEXIST)
        return bvt_fail(err, rc, -1, blocker == id ? "'%s' is built in" : "'%s' is used by '%s'",
                        name, bvt_interner_str(e->segments.names, blocker));
    return rc;
}

int bvt_segment_lookup(bvt_engine *e, const char *name, uint32_t *out_id)
{
    if (!e || !name || !out_id)
        return BVT_EINVAL;
    uint32_t id;
    if (name_segment(e, name, strlen(name), &id) != BVT_OK)
        return BVT_ENOTFOUND;
    *out_id = id;
    return BVT_OK;
}

const char *bvt_segment_name(bvt_engine *e, uint32_t id)
{
    return e ? bvt_interner_str(e->segments.names, id) : NULL;
}

int bvt_segment_list(bvt_engine *e, uint32_t *out, size_t cap, size_t *out_n)
{
    if (!e || (!out && cap) || !out_n)
        return BVT_EINVAL;
    bvt_segment_set *set = bvt_segments_acquire(&e->segments);
    for (uint32_t i = 0; i < set->n && i < cap; i++)
        out[i] = set->defs[i]->id;
    *out_n = set->n;
    bvt_segments_release(set);
    return BVT_OK;
}

void bvt_context_init(bvt_context *ctx)
{
    if (!ctx)
        return;
    bvt_context init = BVT_CONTEXT_INIT;
    *ctx = init;
}

/* ---- the rule environment over one locked record ---- */

typedef struct eval_state {
    const bvt_engine *e;
    const bvt_record *r;
    const bvt_rfm_cuts *cuts;
    const bvt_context *ctx;
    const bvt_segment_set *set;
    int64_t now;
    uint8_t *memo;  /* per segment id: 0 unknown, 1 out, 2 in (NULL: no in_segment) */
    uint32_t cluster; /* the cluster feature + 1, read once per user; 0 = not yet */
    char hour[4];   /* ctx.hour as text */
} eval_state;

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

static double env_feature(void *ud, uint32_t f)
{
    const eval_state *st = ud;
    const bvt_record *r = st->r;
    int64_t now = st->now;
    uint32_t items;
    double value;
    int64_t oldest;
    switch (f) {
    case BVT_F_RECENCY: return r->first_seen_ms && now > r->last_seen_ms ? (double)(now - r->last_seen_ms) : 0;
    case BVT_F_FIRST_SEEN: return (double)r->first_seen_ms;
    case BVT_F_LAST_SEEN: return (double)r->last_seen_ms;
    case BVT_F_PURCHASE_RECENCY:
        return r->last_purchase_ms == 0 ? -1
               : now > r->last_purchase_ms ? (double)(now - r->last_purchase_ms) : 0;
    case BVT_F_LAST_PURCHASE: return (double)r->last_purchase_ms;
    case BVT_F_PURCHASES: return r->counts[BVT_EVENT_PURCHASE];
    case BVT_F_FREQUENCY: return r->purchase_days;
    case BVT_F_MONETARY_TOTAL: return r->monetary_total;
    case BVT_F_MONETARY_MEAN:
        return r->counts[BVT_EVENT_PURCHASE] ? r->monetary_total / r->counts[BVT_EVENT_PURCHASE] : 0;
    case BVT_F_R_SCORE: return st->cuts && r->last_purchase_ms ? bvt_rfm_score(st->cuts->r, (double)r->last_purchase_ms) : 0;
    case BVT_F_F_SCORE: return st->cuts && r->last_purchase_ms ? bvt_rfm_score(st->cuts->f, r->purchase_days) : 0;
    case BVT_F_M_SCORE: return st->cuts && r->last_purchase_ms ? bvt_rfm_score(st->cuts->m, r->monetary_total) : 0;
    case BVT_F_EVENTS: return r->events;
    case BVT_F_IMPRESSIONS: return r->counts[BVT_EVENT_IMPRESSION];
    case BVT_F_CLICKS: return r->counts[BVT_EVENT_CLICK];
    case BVT_F_CONVERSIONS: return r->counts[BVT_EVENT_CONVERSION];
    case BVT_F_CTR:
        return r->counts[BVT_EVENT_IMPRESSION]
                   ? (double)r->counts[BVT_EVENT_CLICK] / r->counts[BVT_EVENT_IMPRESSION] : 0;
    case BVT_F_CONVERSION_RATE:
        return r->counts[BVT_EVENT_CLICK]
                   ? (double)r->counts[BVT_EVENT_CONVERSION] / r->counts[BVT_EVENT_CLICK] : 0;
    case BVT_F_INTERACTIONS:
        return (double)r->counts[BVT_EVENT_LIKE] + r->counts[BVT_EVENT_SHARE] +
               r->counts[BVT_EVENT_COMMENT];
    case BVT_F_SESSIONS: return r->sessions;
    case BVT_F_DWELL: return (double)r->dwell_ds * 100;
    case BVT_F_MEAN_DWELL:
        return r->counts[BVT_EVENT_PAGE_VIEW] ? (double)r->dwell_ds * 100 / r->counts[BVT_EVENT_PAGE_VIEW] : 0;
    case BVT_F_CART_ITEMS:
    case BVT_F_CART_VALUE:
        bvt_cart_totals(r->ext, &items, &value, &oldest);
        return f == BVT_F_CART_ITEMS ? items : value;
    case BVT_F_PAGE_VIEWS: return r->counts[BVT_EVENT_PAGE_VIEW];
    case BVT_F_SEARCHES: return r->counts[BVT_EVENT_SEARCH];
    case BVT_F_RFM_SEGMENT:
        return rfm_segment((uint32_t)env_feature(ud, BVT_F_R_SCORE),
                           (uint32_t)env_feature(ud, BVT_F_F_SCORE),
                           (uint32_t)env_feature(ud, BVT_F_M_SCORE));
    case BVT_F_CLUSTER: /* once per user: k segments ask, and a run may swap the model */
        if (!st->cluster)
            ((eval_state *)ud)->cluster = bvt_cluster_of(st->e, r, now) + 1;
        return st->cluster - 1;
    default: return 0;
    }
}

/* Affinity of a category with its descendants: the scores share one decay
 * factor, so the stored values give the share directly. */
static double env_interest(void *ud, uint32_t category)
{
    const eval_state *st = ud;
    double in = 0, all = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++) {
        if (!st->r->icat[i])
            continue;
        all += st->r->iscore[i];
        if (bvt_categories_within(st->e->cats, st->r->icat[i], category))
            in += st->r->iscore[i];
    }
    return all > 0 ? in / all : 0;
}

static void env_window(void *ud, uint32_t type, uint32_t category, int64_t window_ms,
                       uint64_t *count, double *sum)
{
    const eval_state *st = ud;
    *count = 0;
    *sum = 0;
    if (st->r->ext)
        bvt_history_window(&st->r->ext->hist, &st->e->cfg.hist, type, category,
                           st->now - window_ms, st->now, count, sum);
}

static int env_carted_not_bought(void *ud, int64_t window_ms)
{
    const eval_state *st = ud;
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
    const eval_state *st = ud;
    const bvt_attr_entry *a = bvt_attrs_get(st->r->ext, key);
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
    eval_state *st = ud;
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
    const eval_state *st = ud;
    return bvt_consent_granted(st->r->ext, purpose);
}

static int env_in_segment(void *ud, uint32_t segment);

static int eval_segment(eval_state *st, const bvt_segment_def *d)
{
    bvt_rule_env env = { .ud = st, .now = st->now, .feature = env_feature,
                         .interest = env_interest, .window = env_window,
                         .carted_not_bought = env_carted_not_bought,
                         .viewed_not_bought = env_viewed_not_bought, .attr = env_attr,
                         .context = env_context, .consent = env_consent,
                         .in_segment = env_in_segment };
    if (!st->memo)
        return bvt_rule_eval(d->rule, &env);
    if (!st->memo[d->id])
        st->memo[d->id] = (uint8_t)(1 + bvt_rule_eval(d->rule, &env));
    return st->memo[d->id] == 2;
}

/* Acyclic by construction (bvt_segments_put refuses cycles). */
static int env_in_segment(void *ud, uint32_t segment)
{
    eval_state *st = ud;
    const bvt_segment_def *d = segment <= st->set->max_id ? st->set->by_id[segment] : NULL;
    return d ? eval_segment(st, d) : 0;
}

/* BVT_OK, BVT_EVERSION (newer than this library) or BVT_EINVAL. */
static int check_context(const bvt_context *ctx)
{
    if (!ctx)
        return BVT_OK;
    if (ctx->version > BVT_CONTEXT_VERSION)
        return BVT_EVERSION;
    return ctx->version >= 1 && (ctx->n == 0 || (ctx->keys && ctx->values)) ? BVT_OK
                                                                          : BVT_EINVAL;
}

int bvt_segments_of(bvt_engine *e, const void *id, size_t len, int64_t now,
                    const bvt_context *ctx, uint32_t *out, size_t cap, size_t *out_n)
{
    if (!e || !bvt_user_id_valid(id, len) || now <= 0 || (!out && cap) || !out_n)
        return BVT_EINVAL;
    int crc = check_context(ctx);
    if (crc != BVT_OK)
        return crc;
    bvt_segment_set *set = bvt_segments_acquire(&e->segments);
    uint8_t memo[BVT_SEGMENTS_MAX + 1];
    eval_state st = { .e = e, .set = set, .ctx = ctx, .now = now,
                      .cuts = atomic_load_explicit(&e->cuts, memory_order_acquire),
                      .memo = set->has_refs ? memo : NULL };
    if (st.memo)
        memset(memo, 0, set->max_id + 1);
    bvt_shard *sh;
    st.r = bvt_engine_lock_key(e, bvt_engine_key(e, id, len), &sh);
    size_t n = 0;
    for (uint32_t i = 0; st.r && i < set->n; i++)
        if (eval_segment(&st, set->defs[i])) {
            if (n < cap)
                out[n] = set->defs[i]->id;
            n++;
        }
    int found = st.r != NULL;
    pthread_mutex_unlock(&sh->lock);
    bvt_segments_release(set);
    *out_n = n;
    return found ? BVT_OK : BVT_ENOTFOUND;
}

#define MEMBER_CHUNK 1024u

int bvt_segment_members(bvt_engine *e, uint32_t segment, int64_t now, const bvt_context *ctx,
                        bvt_member_fn fn, void *ud, uint64_t *out_count)
{
    if (out_count)
        *out_count = 0;
    if (!e || now <= 0)
        return BVT_EINVAL;
    int crc = check_context(ctx);
    if (crc != BVT_OK)
        return crc;
    bvt_segment_set *set = bvt_segments_acquire(&e->segments);
    const bvt_segment_def *d = segment <= set->max_id ? set->by_id[segment] : NULL;
    bvt_user_key *keys = d && fn ? malloc(MEMBER_CHUNK * sizeof *keys) : NULL;
    uint8_t *memo = d && set->has_refs ? malloc(set->max_id + 1) : NULL;
    int rc = !d ? BVT_ENOTFOUND : (fn && !keys) || (set->has_refs && !memo) ? BVT_ENOMEM : 0;
    uint64_t count = 0;
    eval_state st = { .e = e, .set = set, .ctx = ctx, .now = now, .memo = memo,
                      .cuts = atomic_load_explicit(&e->cuts, memory_order_acquire) };
    for (uint32_t s = 0; rc == 0 && s < e->store.n_shards; s++) {
        bvt_shard *sh = &e->store.shards[s];
        for (uint32_t next = 0, end;;) {
            size_t n = 0;
            pthread_mutex_lock(&sh->lock);
            end = sh->high_water;
            for (; next < end && n < MEMBER_CHUNK; next++) {
                st.r = bvt_shard_record(sh, next);
                if (!bvt_record_live(st.r))
                    continue;
                if (memo)
                    memset(memo, 0, set->max_id + 1);
                st.cluster = 0;
                if (!eval_segment(&st, d))
                    continue;
                if (keys)
                    keys[n] = (bvt_user_key){ st.r->key_hi, st.r->key_lo };
                n++;
            }
            pthread_mutex_unlock(&sh->lock);
            count += n;
            for (size_t i = 0; keys && i < n && rc == 0; i++)
                rc = fn(&keys[i], ud);
            if (rc != 0 || next >= end)
                break;
        }
    }
    free(keys);
    free(memo);
    bvt_segments_release(set);
    if (out_count)
        *out_count = count;
    return rc;
}
