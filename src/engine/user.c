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
#include "user_update.h"
#include "utf8.h"

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
    return bvt__engine_lock_key(e, bvt__engine_key(e, id, len), sh);
}

int bvt_user_exists(bvt_engine *e, const void *id, size_t len)
{
    if (!e || !bvt__user_id_valid(id, len))
        return 0;
    bvt_shard *sh;
    int found = lock_user(e, id, len, &sh) != NULL;
    pthread_mutex_unlock(&sh->lock);
    return found;
}

int bvt_profile_get(bvt_engine *e, const void *id, size_t len, int64_t now, bvt_profile *out)
{
    if (!e || !bvt__user_id_valid(id, len) || !out || now <= 0 || out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_PROFILE_VERSION)
        return BVT_EVERSION;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r)
        bvt__profile_features(r, atomic_load_explicit(&e->cuts, memory_order_acquire),
                             now, out);
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}

int bvt_profile_interests(bvt_engine *e, const void *id, size_t len, int64_t now,
                          bvt_interest *out, size_t cap, size_t *out_n)
{
    if (!e || !bvt__user_id_valid(id, len) || (!out && cap) || !out_n || now <= 0)
        return BVT_EINVAL;
    uint32_t cats[BVT_TOP_K_MAX];
    double scores[BVT_TOP_K_MAX], sum = 0;
    size_t n = 0;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r)
        n = bvt__interest_top(r, &e->cfg, now, cats, scores, &sum,
                             cap < BVT_TOP_K_MAX ? cap : BVT_TOP_K_MAX);
    pthread_mutex_unlock(&sh->lock);
    *out_n = 0;
    if (!r)
        return BVT_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        out[i] = (bvt_interest){ cats[i], bvt__categories_name(e->cats, cats[i]), scores[i],
                                 sum > 0 ? scores[i] / sum : 0 };
    *out_n = n;
    return BVT_OK;
}

int bvt_profile_cart(bvt_engine *e, const void *id, size_t len, bvt_cart_item *out, size_t cap,
                     size_t *out_n)
{
    if (!e || !bvt__user_id_valid(id, len) || (!out && cap) || !out_n)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    *out_n = r ? bvt__cart_list(r->ext, out, cap) : 0;
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}

int bvt_history_count(bvt_engine *e, const void *id, size_t len, uint32_t type,
                      const char *category, int64_t window_ms, int64_t now, uint64_t *out_count,
                      double *out_sum)
{
    if (!e || !bvt__user_id_valid(id, len) || now <= 0 || window_ms <= 0)
        return BVT_EINVAL;
    if (type != UINT32_MAX && !bvt__event_types_valid(&e->types, type))
        return BVT_EINVAL;
    if (window_ms > e->cfg.hist.horizon_ms)
        return BVT_ERANGE;
    uint32_t cat = 0;
    int unknown_category = 0;
    if (category) {
        cat = bvt__categories_find(e->cats, category, strlen(category));
        unknown_category = cat == 0;
    }
    uint64_t count = 0;
    double sum = 0;
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    if (r && r->ext && !unknown_category)
        bvt__history_window(&r->ext->hist, &e->cfg.hist, type, cat, now - window_ms, now, &count,
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
    bvt_record *r = bvt__engine_lock_key(e, k, &sh);
    int rc = r ? bvt__rfm_summary_of(r, end_ms, unit_ms, out) : BVT_ENOTFOUND;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt_rfm_summary_get(bvt_engine *e, const void *id, size_t len, int64_t end_ms,
                        int64_t unit_ms, bvt_rfm_summary *out)
{
    if (!e || !bvt__user_id_valid(id, len) || end_ms <= 0 || unit_ms <= 0 || !out)
        return BVT_EINVAL;
    return summary_of_key(e, bvt__engine_key(e, id, len), end_ms, unit_ms, out);
}

int bvt_rfm_summary_get_key(bvt_engine *e, const bvt_user_key *key, int64_t end_ms,
                            int64_t unit_ms, bvt_rfm_summary *out)
{
    if (!e || !key || end_ms <= 0 || unit_ms <= 0 || !out)
        return BVT_EINVAL;
    return summary_of_key(e, *key, end_ms, unit_ms, out);
}

/* ---- attributes ---- */

int bvt__attr_text_ok(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    return n >= 1 && n <= max && bvt_utf8_check(s, n) == n;
}

static int valid_key(const char *key)
{
    return bvt__attr_text_ok(key, BVT_ATTR_KEY_MAX);
}

/* Why bvt__attr_text_ok(s, max) refused s, in err: its length, or the first
 * ill-formed byte (offset). */
static int text_fail(bvt_error *err, const char *what, const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n < 1 || n > max)
        return bvt__fail(err, BVT_EINVAL, -1, "%s must be 1..%zu bytes (NUL-terminated)", what,
                        max);
    return bvt__utf8_require(s, n, what, err);
}

/* What every attribute call checks first (the value is the caller's). */
static int attr_args_fail(bvt_engine *e, const void *id, size_t len, const char *key,
                          bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    if (!bvt__user_id_valid(id, len))
        return bvt__fail(err, BVT_EINVAL, -1, "user id must be 1..%d bytes", BVT_USER_ID_MAX);
    if (!valid_key(key))
        return text_fail(err, "attribute key", key, BVT_ATTR_KEY_MAX);
    return BVT_OK;
}

/* Setting one attribute, as a change of the user's profile (user_update.h). */
typedef struct attr_change {
    bvt_engine *e;
    const char *key, *string;
    int kind;
    double number;
    int strings_full; /* out: the engine's string registry refused a string */
} attr_change;

static int attr_apply(void *ctx, bvt_shard *sh, bvt_record *r)
{
    attr_change *c = ctx;
    bvt_engine *e = c->e;
    uint32_t key_id = 0, value_id = 0;
    /* The strings under the shard lock: a snapshot forgets the ones nothing
     * keeps with every shard lock held (snapshot.c), so these stay live
     * until stored, and one in progress keeps them (its cut is past). */
    int rc = bvt__interner_intern(e->strings, c->key, strlen(c->key), 0, &key_id, NULL);
    if (rc == BVT_OK && c->kind == BVT_ATTR_STRING)
        rc = bvt__interner_intern(e->strings, c->string, strlen(c->string), 0, &value_id, NULL);
    c->strings_full = rc == BVT_ELIMIT;
    if (rc == BVT_OK && e->snap_marks) {
        bvt__bits_set(e->snap_marks->strings, key_id);
        if (value_id)
            bvt__bits_set(e->snap_marks->strings, value_id);
    }
    if (rc == BVT_OK)
        rc = bvt__profile_ext(r, &sh->mem);
    if (rc == BVT_OK)
        rc = bvt__attrs_set(r->ext, &e->cfg, &sh->mem, key_id, c->kind, c->number, value_id);
    return rc;
}

static int attr_set_log(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const attr_change *c = ctx;
    (void)sh;
    return bvt__log_attr_set(c->e, (bvt_user_key){ r->key_hi, r->key_lo }, c->key, c->kind,
                            c->number, c->string);
}

int bvt__attr_set_key(bvt_engine *e, bvt_user_key k, const char *key, int kind, double number,
                     const char *string, bvt_error *err)
{
    if (e->cfg.attrs_max == 0)
        return bvt__fail(err, BVT_ELIMIT, -1, "attributes are off in this engine "
                        "(max_attributes is BVT_NONE)");
    attr_change c = { e, key, string, kind, number, 0 };
    bvt_user_change u = { .change = attr_apply, .commit = attr_set_log, .ctx = &c,
                          .flags = BVT_UPDATE_CREATE };
    int rc = bvt__persist_check(e);
    if (rc == BVT_OK)
        rc = bvt__user_update(e, k, &u);
    if (rc == BVT_OK)
        return rc;
    if (rc == BVT_ELIMIT && c.strings_full)
        return bvt__fail(err, rc, -1, "the engine keeps %u distinct attribute keys and string "
                        "values at most, and has them: use a bounded vocabulary",
                        BVT_STRINGS_MAX);
    if (rc == BVT_ELIMIT)
        return bvt__fail(err, rc, -1, "the user has max_attributes (%u) attributes already: "
                        "unset one, or raise bvt_options.max_attributes", e->cfg.attrs_max);
    return bvt__user_change_fail(&u, err, rc, "the attribute");
}

int bvt_attr_set_number(bvt_engine *e, const void *id, size_t len, const char *key,
                        double value)
{
    return bvt_attr_set_number_v2(e, id, len, key, value, NULL);
}

int bvt_attr_set_number_v2(bvt_engine *e, const void *id, size_t len, const char *key,
                           double value, bvt_error *err)
{
    int rc = attr_args_fail(e, id, len, key, err);
    if (rc != BVT_OK)
        return rc;
    if (!isfinite(value))
        return bvt__fail(err, BVT_EINVAL, -1, "the value of attribute \"%s\" must be finite "
                        "(not NaN or infinite)", key);
    rc = bvt__attr_set_key(e, bvt__engine_key(e, id, len), key, BVT_ATTR_NUMBER, value, NULL,
                          err);
    return rc == BVT_OK ? bvt__user_change_commit(e, err, "the attribute") : rc;
}

int bvt_attr_set_string(bvt_engine *e, const void *id, size_t len, const char *key,
                        const char *value)
{
    return bvt_attr_set_string_v2(e, id, len, key, value, NULL);
}

int bvt_attr_set_string_v2(bvt_engine *e, const void *id, size_t len, const char *key,
                           const char *value, bvt_error *err)
{
    int rc = attr_args_fail(e, id, len, key, err);
    if (rc != BVT_OK)
        return rc;
    if (!bvt__attr_text_ok(value, BVT_ATTR_VALUE_MAX))
        return text_fail(err, "attribute value", value, BVT_ATTR_VALUE_MAX);
    rc = bvt__attr_set_key(e, bvt__engine_key(e, id, len), key, BVT_ATTR_STRING, 0, value, err);
    return rc == BVT_OK ? bvt__user_change_commit(e, err, "the attribute") : rc;
}

int bvt_attr_get(bvt_engine *e, const void *id, size_t len, const char *key, int *out_kind,
                 double *out_number, const char **out_string)
{
    if (!e || !bvt__user_id_valid(id, len) || !valid_key(key))
        return BVT_EINVAL;
    uint32_t key_id = bvt__interner_find(e->strings, key, strlen(key));
    bvt_shard *sh;
    bvt_record *r = lock_user(e, id, len, &sh);
    const bvt_attr_entry *a = r && key_id ? bvt__attrs_get(r->ext, key_id) : NULL;
    bvt_attr_entry copy = a ? *a : (bvt_attr_entry){ 0 };
    pthread_mutex_unlock(&sh->lock);
    if (!a)
        return BVT_ENOTFOUND;
    if (out_kind)
        *out_kind = (int)copy.kind;
    if (out_number)
        *out_number = copy.kind == BVT_ATTR_NUMBER ? copy.v.number : 0;
    if (out_string)
        *out_string = copy.kind == BVT_ATTR_STRING ? bvt__interner_str(e->strings, copy.v.string)
                                                   : NULL;
    return BVT_OK;
}

/* Removing one attribute: a change of an existing profile only. */
typedef struct attr_unset_change {
    bvt_engine *e;
    const char *key;
    uint32_t key_id; /* 0: no profile holds that key */
} attr_unset_change;

static int attr_unset_apply(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const attr_unset_change *c = ctx;
    (void)sh;
    return c->key_id ? bvt__attrs_unset(r->ext, c->key_id) : BVT_ENOTFOUND;
}

static int attr_unset_log(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const attr_unset_change *c = ctx;
    (void)sh;
    return bvt__log_attr_unset(c->e, (bvt_user_key){ r->key_hi, r->key_lo }, c->key);
}

int bvt__attr_unset_key(bvt_engine *e, bvt_user_key k, const char *key, bvt_error *err)
{
    int rc = bvt__persist_check(e);
    attr_unset_change c = { e, key, 0 };
    bvt_user_change u = { .change = attr_unset_apply, .commit = attr_unset_log, .ctx = &c,
                          .absent = BVT_ENOTFOUND };
    if (rc == BVT_OK) {
        c.key_id = bvt__interner_find(e->strings, key, strlen(key));
        rc = bvt__user_update(e, k, &u);
    }
    if (rc == BVT_OK)
        return rc;
    if (rc == BVT_ENOTFOUND && u.step == BVT_UPDATE_AT_CREATE)
        return bvt__fail(err, rc, -1, "no such user: there is no attribute to unset");
    if (rc == BVT_ENOTFOUND)
        return bvt__fail(err, rc, -1, "the user has no attribute \"%s\"", key);
    return bvt__user_change_fail(&u, err, rc, "the attribute's removal");
}

int bvt_attr_unset(bvt_engine *e, const void *id, size_t len, const char *key)
{
    return bvt_attr_unset_v2(e, id, len, key, NULL);
}

int bvt_attr_unset_v2(bvt_engine *e, const void *id, size_t len, const char *key,
                      bvt_error *err)
{
    int rc = attr_args_fail(e, id, len, key, err);
    if (rc != BVT_OK)
        return rc;
    rc = bvt__attr_unset_key(e, bvt__engine_key(e, id, len), key, err);
    return rc == BVT_OK ? bvt__user_change_commit(e, err, "the attribute's removal") : rc;
}

/* ---- identity ---- */

/* Lock two shards in address order so two aliasing threads cannot deadlock. */
static void lock_pair(bvt_shard *a, bvt_shard *b)
{
    if (a == b) {
        bvt__shard_lock(a);
    } else if (a < b) {
        bvt__shard_lock(a);
        bvt__shard_lock(b);
    } else {
        bvt__shard_lock(b);
        bvt__shard_lock(a);
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
    if (!e || !bvt__user_id_valid(anon_id, anon_len) || !bvt__user_id_valid(known_id, known_len))
        return bvt__fail(err, BVT_EINVAL, -1, "both user ids must be 1..%d bytes",
                        BVT_USER_ID_MAX);
    bvt_user_key anon = bvt__engine_key(e, anon_id, anon_len);
    bvt_user_key known = bvt__engine_key(e, known_id, known_len);
    if (anon.hi == known.hi && anon.lo == known.lo)
        return bvt__fail(err, BVT_EINVAL, -1, "a user cannot be an alias of itself");
    int rc = bvt__user_alias_keys(e, anon, known);
    if (rc == BVT_OK)
        rc = bvt__persist_commit(e);
    if (rc == BVT_EEXIST)
        return bvt__fail(err, rc, -1, "the known id is an alias, or the anonymous id is "
                                     "already an alias of another id");
    if (rc != BVT_OK)
        return bvt__fail(err, rc, -1, "%s", bvt_strerror(rc));
    return BVT_OK;
}

int bvt__user_alias_keys(bvt_engine *e, bvt_user_key anon, bvt_user_key known)
{
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK)
        return rc;
    bvt_shard *sa = bvt__store_shard(&e->store, &anon), *sk = bvt__store_shard(&e->store, &known);
    lock_pair(sa, sk);
    /* The known profile first (the only step that may be refused for
     * room), then the alias, then the merge, which the budget shapes but
     * never refuses: a refusal leaves nothing behind. */
    bvt_record *ra = bvt__shard_find(sa, &anon), *rk = ra ? bvt__shard_find(sk, &known) : NULL;
    int created = 0;
    if (ra && !rk)
        created = (rc = bvt__shard_add_replacing(sk, &e->store, &known, ra, &rk)) == BVT_OK;
    if (rc == BVT_OK)
        rc = bvt__aliases_add(&e->aliases, &anon, &known);
    if (rc != BVT_OK) {
        if (created)
            bvt__shard_remove(sk, rk);
        unlock_pair(sa, sk);
        return rc;
    }
    if (ra) {
        rc = bvt__profile_merge(rk, ra, &e->cfg, &sk->mem, &sa->mem);
        if (rc == BVT_OK)
            bvt__shard_remove(sa, ra);
    }
    if (rc == BVT_OK)
        rc = bvt__log_alias(e, anon, known);
    unlock_pair(sa, sk);
    return rc;
}
