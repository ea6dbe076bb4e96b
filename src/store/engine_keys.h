/* engine_keys.h — a user's key and the lock on its shard: the keyed hash
 * of raw user ids (and the item hash), and locking the shard that holds a
 * key's profile, following an alias.  Defined in engine_keys.c, which sits
 * below the per-user modules (track, user, consent, experiment, rank,
 * privacy, segment_eval): they reach keys and locks here, not through
 * engine.c, which creates and frees the engine and so sits above them. */
#ifndef BVT_ENGINE_KEYS_H
#define BVT_ENGINE_KEYS_H

#include <stddef.h>

#include "behavtarget.h"
#include "store.h"

#define BVT_USER_ID_MAX 1024

/* A raw user id the API accepts: 1..BVT_USER_ID_MAX bytes. */
static inline int bvt__user_id_valid(const void *id, size_t len)
{
    return id && len > 0 && len <= BVT_USER_ID_MAX;
}

/* The keyed hash of a raw id; never (0, 0). */
bvt_user_key bvt__engine_key(const bvt_engine *e, const void *id, size_t len);

/* Lock the shard that holds k's profile (following an alias) and return the
 * record, or NULL; *out_shard is locked either way and the caller unlocks. */
bvt_record *bvt__engine_lock_key(bvt_engine *e, bvt_user_key k, bvt_shard **out_shard);

/* As bvt__engine_lock_key, creating the profile when absent (*out_created
 * says so, so a caller whose update then fails can remove it again).  On
 * error no shard is left locked. */
int bvt__engine_lock_or_create(bvt_engine *e, bvt_user_key k, bvt_shard **out_shard,
                              bvt_record **out, int *out_created);

#endif
