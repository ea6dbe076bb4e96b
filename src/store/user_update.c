/* user_update.c — one change to one user's profile (user_update.h).
 *
 * In the store layer, beside engine_keys.c whose locks it takes: the
 * per-user modules above (engine, experiments) pass their change and its
 * journal record as callbacks, so the sequence and its failure handling
 * live once, and this file calls only the store, the key helpers and the
 * error text. */
#include "engine.h"
#include "error.h"
#include "user_update.h"

/* Retries after an eviction: a change that needs more room than 8
 * evictions free is refused, not allowed to empty the shard. */
#define EVICT_RETRIES 8

int bvt__user_update_locked(bvt_engine *e, bvt_shard *sh, bvt_record *r, int created,
                           bvt_user_change *u)
{
    int rc;
    for (int tries = 0;; tries++) {
        rc = u->change(u->ctx, sh, r);
        if (rc != BVT_EFULL || !(u->flags & BVT_UPDATE_EVICT) || tries >= EVICT_RETRIES ||
            bvt__shard_evict_one(sh, &e->store, r) != BVT_OK)
            break;
    }
    if (rc != BVT_OK) {
        u->step = BVT_UPDATE_AT_CHANGE;
        if (created)
            bvt__shard_remove(sh, r); /* a refusal leaves no empty profile */
        return rc;
    }
    if (u->commit)
        rc = u->commit(u->ctx, sh, r);
    u->step = rc == BVT_OK ? BVT_UPDATE_DONE : BVT_UPDATE_AT_COMMIT;
    if (created && u->keep && !u->keep(u->ctx, r))
        bvt__shard_remove(sh, r);
    return rc;
}

int bvt__user_update(bvt_engine *e, bvt_user_key k, bvt_user_change *u)
{
    bvt_shard *sh;
    bvt_record *r;
    int created = 0, rc;
    u->step = BVT_UPDATE_AT_CREATE;
    if (u->flags & BVT_UPDATE_CREATE) {
        rc = bvt__engine_lock_or_create(e, k, &sh, &r, &created);
        if (rc != BVT_OK)
            return rc; /* no lock held */
    } else {
        r = bvt__engine_lock_key(e, k, &sh);
    }
    rc = r ? bvt__user_update_locked(e, sh, r, created, u) : u->absent;
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int bvt__user_change_fail(const bvt_user_change *u, bvt_error *err, int rc, const char *what)
{
    if (u->step == BVT_UPDATE_AT_COMMIT)
        return bvt__fail(err, rc, -1, "%s is made in memory but its journal record could not "
                        "be written (%s), so it is not durable; a failed journal refuses "
                        "every later change until the engine is reopened", what,
                        bvt_strerror(rc));
    if (rc == BVT_EIO)
        return bvt__fail(err, rc, -1, "the journal has failed, so %s is not made: reopen the "
                        "engine (bvt_engine_open())", what);
    if (rc == BVT_EFULL && u->step == BVT_UPDATE_AT_CREATE)
        return bvt__fail(err, rc, -1, "no room for a new profile, so %s is not made: the user "
                        "table is at max_users or the memory budget is spent (raise them, or "
                        "use BVT_FULL_EVICT_LRU)", what);
    if (rc == BVT_EFULL)
        return bvt__fail(err, rc, -1, "the memory budget of this user's shard has no room for "
                        "%s (raise memory_budget, or use BVT_FULL_EVICT_LRU)", what);
    if (rc == BVT_ENOMEM)
        return bvt__fail(err, rc, -1, "out of memory: %s is not made", what);
    return bvt__fail(err, rc, -1, "%s is not made: %s", what, bvt_strerror(rc));
}

int bvt__user_change_commit(bvt_engine *e, bvt_error *err, const char *what)
{
    int rc = bvt__persist_commit(e);
    bvt_user_change journaled = { .step = BVT_UPDATE_AT_COMMIT };
    return rc == BVT_OK ? BVT_OK : bvt__user_change_fail(&journaled, err, rc, what);
}
