/* change_replay.h — replay of the records change_log.h writes. */
#ifndef BVT_CHANGE_REPLAY_H
#define BVT_CHANGE_REPLAY_H

#include "engine.h"
#include "persist.h"

/* A BVT_OP_BUDGETED record's head (op byte read): the shard memory that
 * answers the inner change's growth, and its room (bvt__mem_script).  NULL
 * when the head is bad (r failed). */
bvt_mem *bvt__change_budget(bvt_engine *e, bvt_rbuf *r, int64_t *room);

/* Replay a per-user record (op byte read; ops BVT_OP_EVENT..BVT_OP_EXPIRE,
 * BVT_OP_EVICT and BVT_OP_REJECTED).  BVT_OK; BVT_ECORRUPT; BVT_ENOTFOUND (an evicted
 * user absent); or the repeated call's BVT_ENOMEM. */
int bvt__change_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r);

#endif
