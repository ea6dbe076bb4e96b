/* change_log.h — journal records of per-user changes and events: encoding
 * (called by the mutating calls, under the user's shard lock; replay is
 * change_replay.h).
 * See persist.h for the rules every record follows. */
#ifndef BVT_CHANGE_LOG_H
#define BVT_CHANGE_LOG_H

#include "engine.h"
#include "persist.h"

/* Each returns BVT_OK (also when nothing is journaled), BVT_EIO or
 * BVT_ENOMEM from the journal. */
int bvt__log_event(bvt_engine *e, const bvt_record *r, const bvt_resolved_event *ev);
int bvt__log_anon_event(bvt_engine *e, const bvt_resolved_event *ev);
int bvt__log_attr_set(bvt_engine *e, bvt_user_key k, const char *name, int kind, double number,
                     const char *string);
int bvt__log_attr_unset(bvt_engine *e, bvt_user_key k, const char *name);
int bvt__log_consent(bvt_engine *e, bvt_user_key k, uint32_t purpose, int granted, int64_t t_ms);
int bvt__log_alias(bvt_engine *e, bvt_user_key anon, bvt_user_key known);
int bvt__log_forget(bvt_engine *e, bvt_user_key k);
/* One shard's expiry pass: cutoff, and the range of key high words the
 * shard holds (so replay needs no particular shard count). */
int bvt__log_expire(bvt_engine *e, int64_t cutoff, uint64_t key_from, uint64_t key_to);
/* n events refused (their count is part of the statistics). */
int bvt__log_rejected(bvt_engine *e, uint64_t n);
/* An eviction (the store's bvt_evict_fn, installed with the engine as ud). */
int bvt__log_evict(void *engine, const bvt_user_key *victim);

/* Append the record (rec, n bytes) of a change to the user whose record
 * is k, under k's shard lock: inside a BVT_OP_BUDGETED record, with the
 * room the change had, when the memory budget refused growth it asked for
 * (mem.h).  The log_* calls above use it; experiment assignment too.
 * BVT_OK; BVT_EIO; BVT_ENOMEM. */
int bvt__log_change(bvt_engine *e, bvt_user_key k, const void *rec, size_t n);

#endif
