/* consent.c — the public consent calls on a user.  Purpose names are
 * purposes.c's; each profile's choices are recorded through
 * consent_state.c, the plain-data layer the profile code uses without
 * reaching up to here. */
#include <string.h>

#include "consent.h"
#include "event_types.h"
#include "change_log.h"
#include "engine.h"
#include "error.h"
#include "persist.h"
#include "user_update.h"

#define WHAT "the consent choice"

/* One consent choice, as a change of the user's profile (user_update.h). */
typedef struct consent_change {
    bvt_engine *e;
    uint32_t purpose;
    int granted;
    int64_t time_ms;
} consent_change;

static int consent_apply(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const consent_change *c = ctx;
    int rc = bvt__profile_ext(r, &sh->mem);
    if (rc == BVT_OK)
        rc = bvt__consent_record(r->ext, &sh->mem, c->purpose, c->granted, c->time_ms);
    return rc;
}

static int consent_log(void *ctx, bvt_shard *sh, bvt_record *r)
{
    const consent_change *c = ctx;
    (void)sh;
    return bvt__log_consent(c->e, (bvt_user_key){ r->key_hi, r->key_lo }, c->purpose, c->granted,
                           c->time_ms);
}

/* ---- public calls ---- */

int bvt_consent_set(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                    int granted, int64_t time_ms)
{
    return bvt_consent_set_v2(e, user_id, len, purpose, granted, time_ms, NULL);
}

int bvt_consent_set_v2(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                       int granted, int64_t time_ms, bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    if (!bvt__user_id_valid(user_id, len))
        return bvt__fail(err, BVT_EINVAL, -1, "user id must be 1..%d bytes", BVT_USER_ID_MAX);
    if (!bvt__purposes_valid(&e->purposes, purpose))
        return bvt__fail(err, BVT_EINVAL, -1, "purpose %u is not a purpose id of this engine: "
                        "use a built-in BVT_PURPOSE_* or an id from bvt_consent_purpose()",
                        purpose);
    if (time_ms <= 0)
        return bvt__fail(err, BVT_EINVAL, -1, "time_ms must be > 0 (epoch milliseconds of the "
                        "user's choice)");
    int rc = bvt__consent_set_key(e, bvt__engine_key(e, user_id, len), purpose, granted, time_ms,
                                 err);
    return rc == BVT_OK ? bvt__user_change_commit(e, err, WHAT) : rc;
}

int bvt__consent_set_key(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted,
                        int64_t time_ms, bvt_error *err)
{
    int rc = bvt__persist_check(e);
    consent_change c = { e, purpose, granted, time_ms };
    bvt_user_change u = { .change = consent_apply, .commit = consent_log, .ctx = &c,
                          .flags = BVT_UPDATE_CREATE };
    if (rc == BVT_OK)
        rc = bvt__user_update(e, k, &u);
    return rc == BVT_OK ? rc : bvt__user_change_fail(&u, err, rc, WHAT);
}

int bvt_consent_get(bvt_engine *e, const void *user_id, size_t len, uint32_t purpose,
                    int *out_granted)
{
    if (!e || !bvt__user_id_valid(user_id, len) || !bvt__purposes_valid(&e->purposes, purpose) || !out_granted)
        return BVT_EINVAL;
    bvt_shard *sh;
    bvt_record *r = bvt__engine_lock_key(e, bvt__engine_key(e, user_id, len), &sh);
    *out_granted = r ? bvt__consent_granted(r->ext, purpose) : 0;
    pthread_mutex_unlock(&sh->lock);
    return r ? BVT_OK : BVT_ENOTFOUND;
}
