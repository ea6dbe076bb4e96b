/* privacy.c — data subject rights and retention: exporting everything held
 * about a user, erasing a user and the aliases, expiring old behaviour.
 * docs/privacy.md is the guide. */
#include <stdlib.h>

#include "attrs.h"
#include "caps.h"
#include "cart.h"
#include "consent.h"
#include "change_log.h"
#include "engine.h"
#include "engine_keys.h"
#include "error.h"
#include "experiment.h"
#include "interest.h"
#include "json.h"
#include "profile_env.h"

/* ---- export ---- */

static void put_key(bvt_json *w, uint64_t hi, uint64_t lo)
{
    uint64_t k[2] = { hi, lo };
    bvt__json_hex(w, k, 2);
}

/* "name": then the value, with a comma before every member but the first;
 * the name is name and suffix (ours: nothing to escape). */
static void member_sfx(bvt_json *w, int *first, const char *name, const char *suffix)
{
    bvt__json_lit(w, *first ? "\"" : ",\"");
    bvt__json_lit(w, name);
    bvt__json_lit(w, suffix);
    bvt__json_lit(w, "\":");
    *first = 0;
}

static void member(bvt_json *w, int *first, const char *name)
{
    member_sfx(w, first, name, "");
}

static void put_str_or_null(bvt_json *w, const char *s)
{
    if (s)
        bvt__json_str(w, s);
    else
        bvt__json_lit(w, "null");
}

static void put_time_or_null(bvt_json *w, int64_t t)
{
    if (t)
        bvt__json_i64(w, t);
    else
        bvt__json_lit(w, "null");
}

/* A time as ISO 8601 UTC text; null for 0 (it never happened). */
static void put_iso(bvt_json *w, int64_t t)
{
    char text[BVT_TIME_TEXT_MAX];
    if (t && bvt_time_format(t, text, sizeof text, NULL) == BVT_OK)
        bvt__json_str(w, text);
    else
        bvt__json_lit(w, "null");
}

/* Every time is written twice, for programs and for people:
 * "NAME_ms": epoch ms (null for 0 when null_if_zero, else 0), then
 * "NAME_iso": the same instant as ISO 8601 UTC, null for 0. */
static void time_members(bvt_json *w, int *first, const char *name, int64_t t, int null_if_zero)
{
    member_sfx(w, first, name, "_ms");
    if (null_if_zero)
        put_time_or_null(w, t);
    else
        bvt__json_i64(w, t);
    member_sfx(w, first, name, "_iso");
    put_iso(w, t);
}

typedef struct alias_out {
    bvt_json *w;
    int n;
} alias_out;

static void put_alias(const bvt_user_key *from, void *ud)
{
    alias_out *o = ud;
    if (o->n++)
        bvt__json_put(o->w, ",", 1);
    put_key(o->w, from->hi, from->lo);
}

static void export_profile(bvt_json *w, const bvt_engine *e, const bvt_profile *p)
{
    int f = 1;
    bvt__json_put(w, "{", 1);
    time_members(w, &f, "first_seen", p->first_seen_ms, 0);
    time_members(w, &f, "last_seen", p->last_seen_ms, 0);
    member(w, &f, "recency_ms"); bvt__json_i64(w, p->recency_ms);
    time_members(w, &f, "last_purchase", p->last_purchase_ms, 0);
    member(w, &f, "purchase_recency_ms"); bvt__json_i64(w, p->purchase_recency_ms);
    member(w, &f, "purchases"); bvt__json_u64(w, p->purchases);
    member(w, &f, "purchase_days"); bvt__json_u64(w, p->purchase_days);
    member(w, &f, "monetary_total"); bvt__json_double(w, p->monetary_total);
    member(w, &f, "monetary_mean"); bvt__json_double(w, p->monetary_mean);
    member(w, &f, "r_score"); bvt__json_u64(w, p->r_score);
    member(w, &f, "f_score"); bvt__json_u64(w, p->f_score);
    member(w, &f, "m_score"); bvt__json_u64(w, p->m_score);
    member(w, &f, "type_counts");
    bvt__json_put(w, "{", 1);
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++) {
        if (t)
            bvt__json_put(w, ",", 1);
        bvt__json_str(w, bvt_event_type_name(e, t));
        bvt__json_put(w, ":", 1);
        bvt__json_u64(w, p->type_counts[t]);
    }
    bvt__json_put(w, "}", 1);
    member(w, &f, "events"); bvt__json_u64(w, p->events);
    member(w, &f, "impressions"); bvt__json_u64(w, p->impressions);
    member(w, &f, "clicks"); bvt__json_u64(w, p->clicks);
    member(w, &f, "conversions"); bvt__json_u64(w, p->conversions);
    member(w, &f, "ctr"); bvt__json_double(w, p->ctr);
    member(w, &f, "conversion_rate"); bvt__json_double(w, p->conversion_rate);
    member(w, &f, "interactions"); bvt__json_u64(w, p->interactions);
    member(w, &f, "sessions"); bvt__json_u64(w, p->sessions);
    member(w, &f, "dwell_ms"); bvt__json_i64(w, p->dwell_ms);
    member(w, &f, "mean_dwell_ms"); bvt__json_double(w, p->mean_dwell_ms);
    member(w, &f, "cart_items"); bvt__json_u64(w, p->cart_items);
    member(w, &f, "cart_value"); bvt__json_double(w, p->cart_value);
    time_members(w, &f, "cart_oldest", p->cart_oldest_ms, 0);
    member(w, &f, "interests"); bvt__json_u64(w, p->interests);
    member(w, &f, "attributes"); bvt__json_u64(w, p->attributes);
    member(w, &f, "history_events"); bvt__json_u64(w, p->history_events);
    member(w, &f, "history_day_slots"); bvt__json_u64(w, p->history_day_slots);
    bvt__json_put(w, "}", 1);
}

static void export_interests(bvt_json *w, const bvt_engine *e, const bvt_record *r, int64_t now)
{
    uint32_t cats[BVT_TOP_K_MAX];
    double scores[BVT_TOP_K_MAX], sum = 0;
    size_t n = bvt__interest_top(r, &e->cfg, now, cats, scores, &sum, BVT_TOP_K_MAX);
    bvt__json_put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        int f = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        member(w, &f, "category"); put_str_or_null(w, bvt__categories_name(e->cats, cats[i]));
        member(w, &f, "category_id"); bvt__json_u64(w, cats[i]);
        member(w, &f, "score"); bvt__json_double(w, scores[i]);
        member(w, &f, "affinity"); bvt__json_double(w, sum > 0 ? scores[i] / sum : 0);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
}

static void export_cart(bvt_json *w, const bvt_engine *e, const bvt_ext *x)
{
    bvt_cart_item items[256];
    size_t n = bvt__cart_list(x, items, 256);
    bvt__json_put(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        int f = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        member(w, &f, "item_hash"); bvt__json_hex(w, &items[i].item_hash, 1);
        member(w, &f, "category");
        put_str_or_null(w, items[i].category_id ? bvt__categories_name(e->cats, items[i].category_id)
                                                : NULL);
        member(w, &f, "quantity"); bvt__json_u64(w, items[i].quantity);
        member(w, &f, "value"); bvt__json_double(w, items[i].value);
        time_members(w, &f, "added", items[i].added_ms, 0);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
}

static void export_attributes(bvt_json *w, const bvt_engine *e, const bvt_ext *x)
{
    bvt__json_put(w, "{", 1);
    for (uint32_t i = 0; x && i < x->attrs_len; i++) {
        const bvt_attr_entry *a = &x->attrs[i];
        if (i)
            bvt__json_put(w, ",", 1);
        put_str_or_null(w, bvt__interner_str(e->strings, a->key));
        bvt__json_put(w, ":", 1);
        if (a->kind == BVT_ATTR_NUMBER)
            bvt__json_double(w, a->v.number);
        else
            put_str_or_null(w, bvt__interner_str(e->strings, a->v.string));
    }
    bvt__json_put(w, "}", 1);
}

static void export_consent(bvt_json *w, const bvt_engine *e, const bvt_ext *x)
{
    bvt__json_put(w, "[", 1);
    const bvt_consent_log *log = x ? x->consent : NULL;
    for (uint32_t i = 0; log && i < log->len; i++) {
        const bvt_consent_choice *c = &log->c[i];
        int f = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        member(w, &f, "purpose"); bvt__json_str(w, e->purposes.names[c->purpose]);
        member(w, &f, "purpose_id"); bvt__json_u64(w, c->purpose);
        member(w, &f, "granted"); bvt__json_lit(w, c->granted ? "true" : "false");
        time_members(w, &f, "time", c->t_ms, 0);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
}

static void export_segments(bvt_json *w, bvt_engine *e, const bvt_record *r, int64_t now)
{
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    uint8_t memo[BVT_SEGMENTS_MAX + 1];
    bvt_profile_env st;
    bvt__profile_env_init(&st, e, set, NULL, now, set->has_refs ? memo : NULL);
    bvt__profile_env_user(&st, r);
    int consented = !e->segments_need_consent ||
                    bvt__consent_granted(r->ext, BVT_PURPOSE_PERSONALISATION);
    bvt__json_put(w, "[", 1);
    for (uint32_t i = 0, n = 0; consented && i < set->n; i++) {
        uint32_t id = set->defs[i]->id;
        if (!bvt__profile_env_segment(&st, id))
            continue;
        int f = 1;
        bvt__json_lit(w, n++ ? ",{" : "{");
        member(w, &f, "id"); bvt__json_u64(w, id);
        member(w, &f, "name"); put_str_or_null(w, bvt_segment_name(e, id));
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
    bvt__segments_release(set);
}

static void export_caps(bvt_json *w, bvt_engine *e, const bvt_ext *x)
{
    uint32_t key, n_times;
    const int64_t *times;
    int64_t dismissed;
    bvt__json_put(w, "[", 1);
    for (uint32_t i = 0; bvt__caps_read(x, i, &key, &times, &n_times, &dismissed); i++) {
        int f = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        if (key & BVT_CAP_GROUP_BIT) {
            member(w, &f, "group");
            put_str_or_null(w, bvt__interner_str(e->offers.group_names, key & ~BVT_CAP_GROUP_BIT));
        } else {
            member(w, &f, "offer");
            put_str_or_null(w, bvt_offer_name(e, key));
        }
        for (int iso = 0; iso < 2; iso++) {
            member_sfx(w, &f, "impressions", iso ? "_iso" : "_ms");
            bvt__json_put(w, "[", 1);
            for (uint32_t j = 0; j < n_times; j++) {
                if (j)
                    bvt__json_put(w, ",", 1);
                if (iso)
                    put_iso(w, times[j]);
                else
                    bvt__json_i64(w, times[j]);
            }
            bvt__json_put(w, "]", 1);
        }
        time_members(w, &f, "dismissed", dismissed, 1);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
}

static void export_experiments(bvt_json *w, bvt_engine *e, const bvt_ext *x)
{
    bvt_exp_assignment a;
    bvt__json_put(w, "[", 1);
    for (uint32_t i = 0; bvt__experiments_user_at(x, i, &a); i++) {
        int f = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        member(w, &f, "experiment");
        put_str_or_null(w, bvt__experiments_name(e->experiments, a.experiment));
        member(w, &f, "experiment_id"); bvt__json_u64(w, a.experiment);
        member(w, &f, "variant"); bvt__json_i64(w, a.variant);
        time_members(w, &f, "exposed", a.exposed_ms, 0);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
}

static void export_history(bvt_json *w, const bvt_engine *e, const bvt_ext *x)
{
    int f = 1;
    bvt__json_put(w, "{", 1);
    member(w, &f, "complete_from_day");
    if (!x || x->hist.complete_from_day == INT32_MIN)
        bvt__json_lit(w, "null");
    else
        bvt__json_i64(w, x->hist.complete_from_day);
    member(w, &f, "events");
    bvt__json_put(w, "[", 1);
    const bvt_hist_event *ev;
    for (uint32_t i = 0; x && (ev = bvt__history_event_at(&x->hist, i)) != NULL; i++) {
        int g = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        time_members(w, &g, "time", ev->t_ms, 0);
        member(w, &g, "type"); put_str_or_null(w, bvt_event_type_name(e, ev->type));
        member(w, &g, "category");
        put_str_or_null(w, ev->category ? bvt__categories_name(e->cats, ev->category) : NULL);
        member(w, &g, "value"); bvt__json_float(w, ev->value);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]", 1);
    member(w, &f, "days");
    bvt__json_put(w, "[", 1);
    for (uint32_t i = 0; x && i < x->hist.day_len; i++) {
        const bvt_day_agg *d = &x->hist.days[i];
        int g = 1;
        bvt__json_lit(w, i ? ",{" : "{");
        member(w, &g, "day"); bvt__json_i64(w, d->day);
        member(w, &g, "type"); put_str_or_null(w, bvt_event_type_name(e, d->type));
        member(w, &g, "category");
        put_str_or_null(w, d->category ? bvt__categories_name(e->cats, d->category) : NULL);
        member(w, &g, "count"); bvt__json_u64(w, d->count);
        member(w, &g, "value"); bvt__json_float(w, d->value);
        bvt__json_put(w, "}", 1);
    }
    bvt__json_put(w, "]}", 2);
}

int bvt_user_export(bvt_engine *e, const void *id, size_t len, int64_t now, char *buf, size_t cap,
                    size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!e || !bvt__user_id_valid(id, len) || now <= 0 || (!buf && cap) || !out_len)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = bvt__engine_lock_key(e, bvt__engine_key(e, id, len), &sh);
    if (!r) {
        pthread_mutex_unlock(&sh->lock);
        return BVT_ENOTFOUND;
    }
    const bvt_ext *x = r->ext;
    bvt_profile p;
    bvt_profile_init(&p);
    bvt__profile_features(r, atomic_load_explicit(&e->cuts, memory_order_acquire), now, &p);
    bvt_json w = bvt__json_start(buf, cap);
    int f = 1;
    bvt__json_put(&w, "{", 1);
    member(&w, &f, "key"); put_key(&w, r->key_hi, r->key_lo);
    member(&w, &f, "now"); bvt__json_i64(&w, now);
    member(&w, &f, "now_iso"); put_iso(&w, now);
    member(&w, &f, "aliases");
    bvt__json_put(&w, "[", 1);
    alias_out ao = { &w, 0 };
    bvt_user_key k = { r->key_hi, r->key_lo };
    bvt__aliases_foreach_to(&e->aliases, &k, put_alias, &ao);
    bvt__json_put(&w, "]", 1);
    member(&w, &f, "profile"); export_profile(&w, e, &p);
    member(&w, &f, "interests"); export_interests(&w, e, r, now);
    member(&w, &f, "cart"); export_cart(&w, e, x);
    time_members(&w, &f, "last_checkout", x ? x->last_checkout_ms : 0, 1);
    member(&w, &f, "attributes"); export_attributes(&w, e, x);
    member(&w, &f, "consent"); export_consent(&w, e, x);
    member(&w, &f, "segments"); export_segments(&w, e, r, now);
    member(&w, &f, "caps"); export_caps(&w, e, x);
    member(&w, &f, "experiments"); export_experiments(&w, e, x);
    member(&w, &f, "history"); export_history(&w, e, x);
    bvt__json_put(&w, "}", 1);
    pthread_mutex_unlock(&sh->lock);
    return bvt__json_finish(&w, out_len);
}

/* ---- erasure ---- */

int bvt_user_forget(bvt_engine *e, const void *id, size_t len, bvt_error *err)
{
    if (!e || !bvt__user_id_valid(id, len))
        return bvt__fail(err, BVT_EINVAL, -1, "engine and a user id of 1..%d bytes are required",
                        BVT_USER_ID_MAX);
    int rc = bvt__user_forget_key(e, bvt__engine_key(e, id, len));
    if (rc == BVT_OK)
        rc = bvt__persist_commit(e);
    if (rc != BVT_OK)
        return bvt__fail(err, rc, -1, "%s", rc == BVT_EIO ? "the journal has failed"
                                                         : bvt_strerror(rc));
    return BVT_OK;
}

int bvt__user_forget_key(bvt_engine *e, bvt_user_key k)
{
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK)
        return rc;
    bvt_user_key target = k, to;
    bvt_shard *sh = bvt__store_shard(&e->store, &k);
    bvt__shard_lock(sh);
    bvt_record *r = bvt__shard_find(sh, &k);
    if (!r && bvt__aliases_find(&e->aliases, &k, &to)) {
        pthread_mutex_unlock(&sh->lock);
        target = to;
        sh = bvt__store_shard(&e->store, &target);
        bvt__shard_lock(sh);
        r = bvt__shard_find(sh, &target);
    }
    if (r)
        bvt__shard_remove(sh, r);
    /* Under the target's shard lock: an alias naming it as the known id
     * (which takes that lock) cannot slip in between. */
    bvt__aliases_forget(&e->aliases, &k, &target);
    rc = bvt__log_forget(e, k);
    pthread_mutex_unlock(&sh->lock);
    bvt__batch_pool_scrub(e);
    return rc;
}

/* ---- retention ---- */

#define EXPIRE_CHUNK 256u

/* The time retention judges a record by: its latest event, else its latest
 * consent choice or experiment exposure; 0 when it holds nothing dated. */
static int64_t last_activity(const bvt_record *r)
{
    if (r->first_seen_ms)
        return r->last_seen_ms;
    int64_t t = 0;
    const bvt_ext *x = r->ext;
    for (uint32_t i = 0; x && x->consent && i < x->consent->len; i++)
        if (x->consent->c[i].t_ms > t)
            t = x->consent->c[i].t_ms;
    bvt_exp_assignment a;
    for (uint32_t i = 0; bvt__experiments_user_at(x, i, &a); i++)
        if (a.exposed_ms > t)
            t = a.exposed_ms;
    return t;
}

static int key_order(const void *a, const void *b)
{
    return bvt__user_key_cmp(a, b);
}

/* Remove the aliases of the n users just removed (as for forget). */
static void drop_aliases(bvt_engine *e, bvt_user_key *gone, size_t n)
{
    qsort(gone, n, sizeof gone[0], key_order);
    bvt__aliases_remove_targets(&e->aliases, gone, n);
}

/* Apply cutoff to the users of sh whose key high words lie in [from, to]
 * (its lock held): the inactive go, with their aliases; the rest lose what
 * is older.  Returns the users removed. */
static uint64_t expire_locked(bvt_engine *e, bvt_shard *sh, int64_t cutoff, uint64_t from,
                              uint64_t to)
{
    uint64_t removed = 0;
    bvt_user_key gone[EXPIRE_CHUNK];
    size_t n = 0;
    for (uint32_t num = 0; num < sh->high_water; num++) {
        if (n == EXPIRE_CHUNK) {
            drop_aliases(e, gone, n);
            removed += n;
            n = 0;
        }
        bvt_record *r = bvt__shard_record(sh, num);
        if (!bvt__record_live(r) || r->key_hi < from || r->key_hi > to)
            continue;
        int64_t t = last_activity(r);
        if (t && t <= cutoff) {
            gone[n++] = (bvt_user_key){ r->key_hi, r->key_lo };
            bvt__shard_remove_at(sh, num);
        } else if (r->ext) {
            bvt__history_expire(&r->ext->hist, &sh->mem, cutoff);
            bvt__cart_expire(r->ext, cutoff);
            bvt__caps_expire(r->ext, &sh->mem, cutoff);
        }
    }
    if (n)
        drop_aliases(e, gone, n);
    return removed + n;
}

/* The key high words shard i holds. */
static void shard_keys(const bvt_store *s, uint32_t i, uint64_t *from, uint64_t *to)
{
    if (s->n_shards == 1) {
        *from = 0;
        *to = UINT64_MAX;
        return;
    }
    *from = (uint64_t)i << s->shard_shift;
    *to = *from | (UINT64_MAX >> (64 - s->shard_shift));
}

void bvt__expire_keys(bvt_engine *e, int64_t cutoff, uint64_t from, uint64_t to)
{
    uint64_t removed = 0;
    for (uint32_t i = 0; i < e->store.n_shards; i++) {
        uint64_t lo, hi;
        shard_keys(&e->store, i, &lo, &hi);
        if (hi < from || lo > to)
            continue;
        bvt_shard *sh = &e->store.shards[i];
        bvt__shard_lock(sh);
        removed += expire_locked(e, sh, cutoff, from, to);
        pthread_mutex_unlock(&sh->lock);
    }
    if (removed)
        bvt__batch_pool_scrub(e);
}

int bvt_engine_expire(bvt_engine *e, int64_t now, uint64_t *out_users_removed)
{
    if (out_users_removed)
        *out_users_removed = 0;
    if (!e || now <= 0 || e->retention_ms <= 0)
        return BVT_EINVAL;
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK)
        return rc;
    int64_t cutoff = now - e->retention_ms; /* no overflow: both positive */
    if (cutoff <= 0)
        return BVT_OK; /* event times are > 0: nothing is that old */
    /* A shard at a time, whole, journaled under its lock: replay then
     * applies the cutoff at the same point of that shard's changes. */
    uint64_t removed = 0;
    for (uint32_t i = 0; i < e->store.n_shards && rc == BVT_OK; i++) {
        uint64_t from, to;
        shard_keys(&e->store, i, &from, &to);
        bvt_shard *sh = &e->store.shards[i];
        bvt__shard_lock(sh);
        removed += expire_locked(e, sh, cutoff, from, to);
        rc = bvt__log_expire(e, cutoff, from, to);
        pthread_mutex_unlock(&sh->lock);
    }
    if (removed)
        bvt__batch_pool_scrub(e);
    if (out_users_removed)
        *out_users_removed = removed;
    return rc == BVT_OK ? bvt__persist_commit(e) : rc;
}
