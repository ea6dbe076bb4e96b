/* user.c — per-user calls outside event tracking: reading features,
 * interests, cart, history and RFM summary; attributes; aliasing. */
#include <math.h>
#include <string.h>

#include "attrs.h"
#include "cart.h"
#include "change_log.h"
#include "engine.h"
#include "engine_keys.h"
#include "error.h"
#include "persist.h"
#include "interest.h"

void bvt_event_init(bvt_event *ev)
{
    if (!ev)
        return;
    bvt_event init = BVT_EVENT_INIT;
    *ev = init;
}

void bvt_profile_init(bvt_profile *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->version = BVT_PROFILE_VERSION;
}

/* Lock id's shard and find its profile; NULL (still locked) when absent. */
static bvt_record *lock_user(bvt_engine *e, const void *id, size_t len, bvt_shard **sh)
{
    return bvt_engine_lock_key(e, bvt_engine_key(e, id, len), sh);
}

int bvt_user_exists(bvt_engine *e, const void *id, size_t len)
{
    if (!e || !bvt_user_id_valid(id, len))
        return 0;
    bvt_shard *sh;
    int found = lock_user(e, id, len, &sh) != NULL;
    pthread_mutex_unlock(&sh->lock);
    return found;
}

int bvt_profile_get(bvt_engine *e, const void *id, size_t len, int64_t now, bvt_profile *out)
{
    if (!e || !bvt_user_id_valid(id, len) || !out || now <= 0 || out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_PROFILE_VERSION)
        return BVT_EVERSION;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r)
        bvt_profile_features(r, atomic_load_explicit(&e->cuts, memory_order_acquire),
                             now, out);
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}

int bvt_profile_interests(bvt_engine *e, const void *id, size_t len, int64_t now,
                          bvt_interest *out, size_t cap, size_t *out_n)
{
    if (!e || !bvt_user_id_valid(id, len) || (!out && cap) || !out_n || now <= 0)
        return BVT_EINVAL;
    uint32_t cats[BVT_TOP_K_MAX];
    double scores[BVT_TOP_K_MAX], sum = 0;
    size_t n = 0;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r)
        n = bvt_interest_top(r, &e->cfg, now, cats, scores, &sum,
                             cap < BVT_TOP_K_MAX ? cap : BVT_TOP_K_MAX);
    pthread_mutex_unlock(&sh->lock);
    *out_n = 0;
    if (!r)
        return BVT_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        out[i] = (bvt_interest){ cats[i], bvt_categories_name(e->cats, cats[i]), scores[i],
                                 sum > 0 ? scores[i] / sum : 0 };
    *out_n = n;
    return BVT_OK;
}

int bvt_profile_cart(bvt_engine *e, const void *id, size_t len, bvt_cart_item *out, size_t cap,
                     size_t *out_n)
{
    if (!e || !bvt_user_id_valid(id, len) || (!out && cap) || !out_n)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    *out_n = r ? bvt_cart_list(r->ext, out, cap) : 0;
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}

int bvt_history_count(bvt_engine *e, const void *id, size_t len, uint32_t type,
                      const char *category, int64_t window_ms, int64_t now, uint64_t *out_count,
                      double *out_sum)
{
    if (!e || !bvt_user_id_valid(id, len) || now <= 0 || window_ms <= 0)
        return BVT_EINVAL;
    if (type != UINT32_MAX && !bvt_event_types_valid(&e->types, type))
        return BVT_EINVAL;
    if (window_ms > e->cfg.hist.horizon_ms)
        return BVT_ERANGE;
    uint32_t cat = 0;
    int unknown_category = 0;
    if (category) {
        cat = bvt_categories_find(e->cats, category, strlen(category));
        unknown_category = cat == 0;
    }
    uint64_t count = 0;
    double sum = 0;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r && r->ext && !unknown_category)
        bvt_history_window(&r->ext->hist, &e->cfg.hist, type, cat, now - window_ms, now, &count,
                           &sum);
    pthread_mutex_unlock(&sh->lock);
    if (out_count)
        *out_count = count;
    if (out_sum)
        *out_sum = sum;
    return r ? BVT_OK : BVT_ENOTFOUND;
}

/* The summary of the profile k names, under its shard's lock. */
static int summary_of_key(bvt_engine *e, bvt_user_key k, int64_t end_ms, int64_t unit_ms,
                          bvt_rfm_summary *out)
{
    bvt_shard *sh;
    bvt_record *r = bvt_engine_lock_key(e, k, &sh);
    int rc = r ? bvt_rfm_summary_of(r, end_ms, unit_ms, out) : BVT_ENOTFOUND;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt_rfm_summary_get(bvt_engine *e, const void *id, size_t len, int64_t end_ms,
                        int64_t unit_ms, bvt_rfm_summary *out)
{
    if (!e || !bvt_user_id_valid(id, len) || end_ms <= 0 || unit_ms <= 0 || !out)
        return BVT_EINVAL;
    return summary_of_key(e, bvt_engine_key(e, id, len), end_ms, unit_ms, out);
}

int bvt_rfm_summary_get_key(bvt_engine *e, const bvt_user_key *key, int64_t end_ms,
                            int64_t unit_ms, bvt_rfm_summary *out)
{
    if (!e || !key || end_ms <= 0 || unit_ms <= 0 || !out)
        return BVT_EINVAL;
    return summary_of_key(e, *key, end_ms, unit_ms, out);
}

/* ---- attributes ---- */

int bvt_attr_text_ok(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    return n >= 1 && n <= max && bvt_utf8_check(s, n) == n;
}

static int valid_key(const char *key)
{
    return bvt_attr_text_ok(key, BVT_ATTR_KEY_MAX);
}

int bvt_attr_set_key(bvt_engine *e, bvt_user_key k, const char *key, int kind, double number,
                     const char *string)
{
    if (e->cfg.attrs_max == 0)
        return BVT_ELIMIT; /* attributes are off (BVT_NONE) */
    uint32_t key_id = 0, value_id = 0;
    int rc = bvt_persist_check(e);
    if (rc != BVT_OK)
        return rc;
    bvt_shard *sh;
    bvt_record *r;
    int created;
    rc = bvt_engine_lock_or_create(e, k, &sh, &r, &created);
    if (rc != BVT_OK)
        return rc;
    /* The strings under the shard lock: a snapshot forgets the ones nothing
     * keeps with every shard lock held (snapshot.c), so these stay live
     * until stored, and one in progress keeps them (its cut is past). */
    rc = bvt_interner_intern(e->strings, key, strlen(key), 0, &key_id, NULL);
    if (rc == BVT_OK && kind == BVT_ATTR_STRING)
        rc = bvt_interner_intern(e->strings, string, strlen(string), 0, &value_id, NULL);
    if (rc == BVT_OK && e->snap_marks) {
        bvt_bits_set(e->snap_marks->strings, key_id);
        if (value_id)
            bvt_bits_set(e->snap_marks->strings, value_id);
    }
    if (rc == BVT_OK)
        rc = bvt_profile_ext(r, &sh->mem);
    if (rc == BVT_OK)
        rc = bvt_attrs_set(r->ext, &e->cfg, &sh->mem, key_id, kind, number, value_id);
    if (rc == BVT_OK)
        rc = bvt_log_attr_set(e, (bvt_user_key){ r->key_hi, r->key_lo }, key, kind, number,
                              string);
    else if (created)
        bvt_shard_remove(sh, r);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt_attr_set_number(bvt_engine *e, const void *id, size_t len, const char *key,
                        double value)
{
    if (!e || !bvt_user_id_valid(id, len) || !valid_key(key) || !isfinite(value))
        return BVT_EINVAL;
    int rc = bvt_attr_set_key(e, bvt_engine_key(e, id, len), key, BVT_ATTR_NUMBER, value, NULL);
    return rc == BVT_OK ? bvt_persist_commit(e) : rc;
}

int bvt_attr_set_string(bvt_engine *e, const void *id, size_t len, const char *key,
                        const char *value)
{
    if (!e || !bvt_user_id_valid(id, len) || !valid_key(key) ||
        !bvt_attr_text_ok(value, BVT_ATTR_VALUE_MAX))
        return BVT_EINVAL;
    int rc = bvt_attr_set_key(e, bvt_engine_key(e, id, len), key, BVT_ATTR_STRING, 0, value);
    return rc == BVT_OK ? bvt_persist_commit(e) : rc;
}

int bvt_attr_get(bvt_engine *e, const void *id, size_t len, const char *key, int *out_kind,
                 double *out_number, const char **out_string)
{
    if (!e || !bvt_user_id_valid(id, len) || !valid_key(key))
        return BVT_EINVAL;
    uint32_t key_id = bvt_interner_find(e->strings, key, strlen(key));
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    const bvt_attr_entry *a = r && key_id ? bvt_attrs_get(r->ext, key_id) : NULL;
    bvt_attr_entry copy = a ? *a : (bvt_attr_entry){ 0 };
    pthread_mutex_unlock(&sh->lock);
    if (!a)
        return BVT_ENOTFOUND;
    if (out_kind)
        *out_kind = (int)copy.kind;
    if (out_number)
        *out_number = copy.kind == BVT_ATTR_NUMBER ? copy.v.number : 0;
    if (out_string)
        *out_string = copy.kind == BVT_ATTR_STRING ? bvt_interner_str(e->strings, copy.v.string)
                                                   : NULL;
    return BVT_OK;
}

int bvt_attr_unset_key(bvt_engine *e, bvt_user_key k, const char *key)
{
    int rc = bvt_persist_check(e);
    if (rc != BVT_OK)
        return rc;
    uint32_t key_id = bvt_interner_find(e->strings, key, strlen(key));
    bvt_shard *sh;
    bvt_record *r = bvt_engine_lock_key(e, k, &sh);
    rc = r && key_id ? bvt_attrs_unset(r->ext, key_id) : BVT_ENOTFOUND;
    if (rc == BVT_OK)
        rc = bvt_log_attr_unset(e, (bvt_user_key){ r->key_hi, r->key_lo }, key);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt_attr_unset(bvt_engine *e, const void *id, size_t len, const char *key)
{
    if (!e || !bvt_user_id_valid(id, len) || !valid_key(key))
        return BVT_EINVAL;
    int rc = bvt_attr_unset_key(e, bvt_engine_key(e, id, len), key);
    return rc == BVT_OK ? bvt_persist_commit(e) : rc;
}

/* ---- identity ---- */

/* Lock two shards in address order so two aliasing threads cannot deadlock. */
static void lock_pair(bvt_shard *a, bvt_shard *b)
{
    if (a == b) {
        bvt_shard_lock(a);
    } else if (a < b) {
        bvt_shard_lock(a);
        bvt_shard_lock(b);
    } else {
        bvt_shard_lock(b);
        bvt_shard_lock(a);
    }
}

static void unlock_pair(bvt_shard *a, bvt_shard *b)
{
    pthread_mutex_unlock(&a->lock);
    if (a != b)
        pthread_mutex_unlock(&b->lock);
}

int bvt_user_alias(bvt_engine *e, const void *anon_id, size_t anon_len, const void *known_id,
                   size_t known_len, bvt_error *err)
{
    if (!e || !bvt_user_id_valid(anon_id, anon_len) || !bvt_user_id_valid(known_id, known_len))
        return bvt_fail(err, BVT_EINVAL, -1, "both user ids must be 1..%d bytes",
                        BVT_USER_ID_MAX);
    bvt_user_key anon = bvt_engine_key(e, anon_id, anon_len);
    bvt_user_key known = bvt_engine_key(e, known_id, known_len);
    if (anon.hi == known.hi && anon.lo == known.lo)
        return bvt_fail(err, BVT_EINVAL, -1, "a user cannot be an alias of itself");
    int rc = bvt_user_alias_keys(e, anon, known);
    if (rc == BVT_OK)
        rc = bvt_persist_commit(e);
    if (rc == BVT_EEXIST)
        return bvt_fail(err, rc, -1, "the known id is an alias, or the anonymous id is "
                                     "already an alias of another id");
    if (rc != BVT_OK)
        return bvt_fail(err, rc, -1, "%s", bvt_strerror(rc));
    return BVT_OK;
}

int bvt_user_alias_keys(bvt_engine *e, bvt_user_key anon, bvt_user_key known)
{
    int rc = bvt_persist_check(e);
    if (rc != BVT_OK)
        return rc;
    bvt_shard *sa = bvt_store_shard(&e->store, &anon), *sk = bvt_store_shard(&e->store, &known);
    lock_pair(sa, sk);
    /* The known profile first (the only step that may be refused for
     * room), then the alias, then the merge, which the budget shapes but
     * never refuses: a refusal leaves nothing behind. */
    bvt_record *ra = bvt_shard_find(sa, &anon), *rk = ra ? bvt_shard_find(sk, &known) : NULL;
    int created = 0;
    if (ra && !rk)
        created = (rc = bvt_shard_add_replacing(sk, &e->store, &known, ra, &rk)) == BVT_OK;
    if (rc == BVT_OK)
        rc = bvt_aliases_add(&e->aliases, &anon, &known);
    if (rc != BVT_OK) {
        if (created)
            bvt_shard_remove(sk, rk);
        unlock_pair(sa, sk);
        return rc;
    }
    if (ra) {
        rc = bvt_profile_merge(rk, ra, &e->cfg, &sk->mem, &sa->mem);
        if (rc == BVT_OK)
            bvt_shard_remove(sa, ra);
    }
    if (rc == BVT_OK)
        rc = bvt_log_alias(e, anon, known);
    unlock_pair(sa, sk);
    return rc;
}
