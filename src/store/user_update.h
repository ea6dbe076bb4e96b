/* user_update.h — one change to one user's profile: the sequence every
 * per-user call that changes a profile shares (attributes, consent,
 * events, experiment assignments).
 *
 * Lock the shard of the user's profile (following an alias), find the
 * record or create it, run the change (evicting another profile of the
 * shard and retrying when the memory budget refused it, where the caller
 * asks for that), journal it under the same lock, and remove a record
 * created for a change that failed, so a refusal leaves no empty profile
 * behind.  The change and its journal record are the caller's callbacks:
 * this file, in the store layer, calls nothing above it. */
#ifndef BVT_USER_UPDATE_H
#define BVT_USER_UPDATE_H

#include "engine_keys.h"
#include "store.h"

enum {
    /* Create the profile when the user has none (else u->absent). */
    BVT_UPDATE_CREATE = 1u,
    /* A change refused for room (BVT_EFULL) evicts another profile of the
     * shard, policy permitting, and runs again: up to 8 retries. */
    BVT_UPDATE_EVICT = 2u
};

/* Where a failed update stopped (bvt_user_change.step). */
enum {
    BVT_UPDATE_DONE = 0,   /* it did not fail */
    BVT_UPDATE_AT_CREATE,  /* no profile: none could be created, or u->absent */
    BVT_UPDATE_AT_CHANGE,  /* the change was refused: nothing changed */
    BVT_UPDATE_AT_COMMIT   /* the journal record failed: the change stays in memory */
};

typedef struct bvt_user_change {
    /* One attempt of the change on r, its shard locked: BVT_OK or why it
     * was refused.  Called again after an eviction (BVT_UPDATE_EVICT), so
     * an attempt that needs a fresh start of the memory budget's change
     * (bvt__mem_begin) makes it itself. */
    int (*change)(void *ctx, bvt_shard *sh, bvt_record *r);
    /* After the change succeeded, still under the lock (so the record falls
     * on the same side of a checkpoint's cut as the change): journal it.
     * Its status is the call's; a failure leaves the change in memory.
     * NULL: nothing to journal. */
    int (*commit)(void *ctx, bvt_shard *sh, bvt_record *r);
    /* Whether a profile created for the change stays once it succeeded
     * (NULL: it does). */
    int (*keep)(void *ctx, const bvt_record *r);
    void *ctx;
    unsigned flags; /* BVT_UPDATE_* */
    int absent;     /* without BVT_UPDATE_CREATE: the status when there is no profile */
    int step;       /* out: BVT_UPDATE_* where it failed, so callers can explain it */
} bvt_user_change;

/* The whole sequence for the profile of k.  Returns the change's status,
 * else the commit's; BVT_EFULL or BVT_ENOMEM when no profile could be
 * created; u->absent for a missing profile without BVT_UPDATE_CREATE.  No
 * lock is held on return. */
int bvt__user_update(bvt_engine *e, bvt_user_key k, bvt_user_change *u);

/* The same for a record found (or created: `created` set) by a caller that
 * holds sh's lock already (batches lock a shard once per run of events);
 * r non-NULL.  The lock stays held. */
int bvt__user_update_locked(bvt_engine *e, bvt_shard *sh, bvt_record *r, int created,
                           bvt_user_change *u);

/* Fill err for a failed update the caller's message did not explain: the
 * failures every per-user change shares (no room for a new profile or for
 * the change, out of memory, a failed journal), `what` naming the change
 * ("the consent choice").  Returns rc. */
int bvt__user_change_fail(const bvt_user_change *u, bvt_error *err, int rc, const char *what);

/* The end of a public per-user call, outside its locks: wait until its
 * journal record is committed (bvt__persist_commit), explaining a failure
 * (the change stays in memory, not durable) in err. */
int bvt__user_change_commit(bvt_engine *e, bvt_error *err, const char *what);

#endif
