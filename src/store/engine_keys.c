/* engine_keys.c — keys and shard locks of one user: the keyed hash of a
 * raw id (bvt__engine_key, public as bvt_user_key_of), the item hash, and
 * locking the shard of a key's profile, following an alias (creating the
 * profile when asked).
 *
 * A low file: it reads the engine's secret, store and alias map and calls
 * only the store (store.c, and the snapshot's shard copy every shard lock
 * may make), the alias map (alias.c) and xxHash.  Nothing here may call a
 * module that tracks, journals or creates the engine: the seven per-user
 * modules that call these helpers would then depend on all of that. */
#include "engine.h"
#include "engine_keys.h"

bvt_user_key bvt__engine_key(const bvt_engine *e, const void *id, size_t len)
{
    XXH128_hash_t h = XXH3_128bits_withSecret(id, len, e->secret, sizeof e->secret);
    bvt_user_key k = { h.high64, h.low64 };
    if ((k.hi | k.lo) == 0)
        k.lo = 1; /* (0, 0) marks a free record */
    return k;
}

int bvt_user_key_of(const bvt_engine *e, const void *id, size_t len, bvt_user_key *out)
{
    if (!e || !bvt__user_id_valid(id, len) || !out)
        return BVT_EINVAL;
    *out = bvt__engine_key(e, id, len);
    return BVT_OK;
}

uint64_t bvt_item_hash(const void *item_id, size_t len)
{
    if (!item_id)
        return 0;
    uint64_t h = XXH3_64bits(item_id, len);
    return h ? h : 1; /* 0 means "no item" */
}

/* Lock the shard of *k's profile, following an alias (then *k becomes the
 * alias target), and find the profile; the shard stays locked. */
static bvt_record *lock_following_alias(bvt_engine *e, bvt_user_key *k, bvt_shard **out_shard)
{
    bvt_shard *sh = bvt__store_shard(&e->store, k);
    bvt__shard_lock(sh);
    bvt_record *r = bvt__shard_find(sh, k);
    bvt_user_key to;
    if (!r && bvt__aliases_find(&e->aliases, k, &to)) {
        pthread_mutex_unlock(&sh->lock);
        *k = to;
        sh = bvt__store_shard(&e->store, k);
        bvt__shard_lock(sh);
        r = bvt__shard_find(sh, k);
    }
    *out_shard = sh;
    return r;
}

bvt_record *bvt__engine_lock_key(bvt_engine *e, bvt_user_key k, bvt_shard **out_shard)
{
    return lock_following_alias(e, &k, out_shard);
}

int bvt__engine_lock_or_create(bvt_engine *e, bvt_user_key k, bvt_shard **out_shard,
                              bvt_record **out, int *out_created)
{
    bvt_record *r = lock_following_alias(e, &k, out_shard);
    *out_created = 0;
    if (!r) {
        int rc = bvt__shard_add(*out_shard, &e->store, &k, NULL, &r);
        if (rc != BVT_OK) {
            pthread_mutex_unlock(&(*out_shard)->lock);
            return rc;
        }
        *out_created = 1;
    }
    *out = r;
    return BVT_OK;
}
