/* consent.c — the public consent calls on a user.  Purpose names are
 * purposes.c's; each profile's choices are recorded through
 * consent_state.c, the plain-data layer the profile code uses without
 * reaching up to here. */
#include <string.h>

#include "consent.h"
#include "event_types.h"
#include "change_log.h"
#include "engine.h"
#include "persist.h"

/* ---- public calls ---- */

int bvt_consent_set(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                    int granted, int64_t time_ms)
{
    if (!e || !bvt_user_id_valid(user_id, len) || !bvt_purposes_valid(&e->purposes, purpose) || time_ms <= 0)
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
    if (!e || !bvt_user_id_valid(user_id, len) || !bvt_purposes_valid(&e->purposes, purpose) || !out_granted)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = bvt_engine_lock_key(e, bvt_engine_key(e, user_id, len), &sh);
    *out_granted = r ? bvt_consent_granted(r->ext, purpose) : 0;
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}
