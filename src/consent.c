/* consent.c — purpose names and the public consent calls.  Each profile's
 * choices are recorded through consent_state.c, the plain-data layer the
 * profile code uses without reaching up to here. */
#include <string.h>

#include "consent.h"
#include "event_types.h"
#include "change_log.h"
#include "engine.h"
#include "persist.h"

/* ---- purpose names ---- */

static const char *const builtin_purposes[] = { "personalisation", "ads", "analytics" };
#define BUILTIN_PURPOSES (sizeof builtin_purposes / sizeof builtin_purposes[0])

void bvt_purposes_init(bvt_purposes *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    for (uint32_t i = 0; i < BUILTIN_PURPOSES; i++)
        strcpy(p->names[i], builtin_purposes[i]);
    atomic_store_explicit(&p->n, (uint32_t)BUILTIN_PURPOSES, memory_order_release);
}

void bvt_purposes_destroy(bvt_purposes *p)
{
    pthread_mutex_destroy(&p->lock);
}

int bvt_purposes_find(const bvt_purposes *p, const char *name, size_t len, uint32_t *out)
{
    uint32_t n = atomic_load_explicit(&p->n, memory_order_acquire);
    for (uint32_t i = 0; i < n && len <= BVT_PURPOSE_NAME_MAX; i++)
        if (strncmp(p->names[i], name, len) == 0 && p->names[i][len] == 0) {
            *out = i;
            return BVT_OK;
        }
    return BVT_ENOTFOUND;
}

static int valid_purpose_name(const char *name)
{
    return bvt_name_is_identifier(name, BVT_PURPOSE_NAME_MAX);
}

static int purpose_valid(const bvt_purposes *p, uint32_t id)
{
    return id < atomic_load_explicit(&p->n, memory_order_acquire);
}

/* ---- public calls ---- */

int bvt_consent_purpose(bvt_engine *e, const char *name, int create, uint32_t *out_id)
{
    if (!e || !name || !out_id || !valid_purpose_name(name))
        return BVT_EINVAL;
    bvt_purposes *p = &e->purposes;
    size_t len = strlen(name);
    int rc = bvt_purposes_find(p, name, len, out_id);
    if (rc == BVT_OK || !create)
        return rc;
    if ((rc = bvt_persist_check(e)) != BVT_OK)
        return rc;
    pthread_mutex_lock(&p->lock);
    rc = bvt_purposes_find(p, name, len, out_id); /* another thread may have won */
    if (rc != BVT_OK) {
        uint32_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
        rc = BVT_ELIMIT;
        if (n < BVT_PURPOSES_MAX) {
            /* consent changes naming it are held off until its record is
             * in the journal before theirs (persist.h) */
            bvt_persist_hold(e);
            strcpy(p->names[n], name);
            atomic_store_explicit(&p->n, n + 1, memory_order_release);
            *out_id = n;
            /* under the lock: records follow the order ids are handed out */
            bvt_wbuf w = BVT_WBUF_INIT;
            bvt_w_u8(&w, BVT_OP_PURPOSE);
            bvt_w_u32(&w, n);
            bvt_w_str(&w, name, len);
            rc = bvt_persist_log_release(e, &w);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int bvt_consent_set(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                    int granted, int64_t time_ms)
{
    if (!e || !bvt_user_id_valid(user_id, len) || !purpose_valid(&e->purposes, purpose) || time_ms <= 0)
        return BVT_EINVAL;
    int rc = bvt_consent_set_key(e, bvt_engine_key(e, user_id, len), purpose, granted, time_ms);
    return rc == BVT_OK ? bvt_persist_commit(e) : rc;
}

int bvt_consent_set_key(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted,
                        int64_t time_ms)
{
    bvt_shard *sh;
    bvt_record *r;
    int created;
    int rc = bvt_persist_check(e);
    if (rc == BVT_OK)
        rc = bvt_engine_lock_or_create(e, k, &sh, &r, &created);
    if (rc != BVT_OK)
        return rc;
    rc = bvt_profile_ext(r, &sh->mem);
    if (rc == BVT_OK)
        rc = bvt_consent_record(r->ext, &sh->mem, purpose, granted, time_ms);
    if (rc == BVT_OK)
        rc = bvt_log_consent(e, (bvt_user_key){ r->key_hi, r->key_lo }, purpose, granted,
                             time_ms);
    else if (created)
        bvt_shard_remove(sh, r);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt_consent_get(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                    int *out_granted)
{
    if (!e || !bvt_user_id_valid(user_id, len) || !purpose_valid(&e->purposes, purpose) || !out_granted)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = bvt_engine_lock_key(e, bvt_engine_key(e, user_id, len), &sh);
    *out_granted = r ? bvt_consent_granted(r->ext, purpose) : 0;
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}
