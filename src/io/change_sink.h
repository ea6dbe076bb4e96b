/* change_sink.h — where change records go.  Every mutating call appends
 * its journal record (persist.h says what a record is) to the engine's
 * sink: the state directory's journal (state.c installs it), a test's
 * capture, or none.  The modules that log know only these calls, not who
 * listens, so they sit below the layer that owns durability. */
#ifndef BVT_CHANGE_SINK_H
#define BVT_CHANGE_SINK_H

#include <stddef.h>

#include "codec.h"

typedef struct bvt_engine bvt_engine;

typedef struct bvt_change_sink {
    /* Take a copy of rec (n bytes).  BVT_OK; BVT_EIO; BVT_ENOMEM.  NULL:
     * nothing is recorded (a state directory opened without a journal). */
    int (*append)(void *ud, const void *rec, size_t n);
    /* Return once everything appended is as durable as the sink promises
     * (NULL: at once).  BVT_OK; BVT_EIO. */
    int (*commit)(void *ud);
    /* Non-zero once the sink has failed: nothing more is accepted (NULL:
     * never). */
    int (*failed)(void *ud);
    /* Flush and let go (engine teardown; NULL: nothing to do). */
    void (*close)(void *ud);
    void *ud;
} bvt_change_sink;

/* Install *sink (copied; NULL: none).  Only while no other thread uses
 * the engine (opening one, or a test). */
void bvt__change_sink_set(bvt_engine *e, const bvt_change_sink *sink);

/* Close the sink (its close()) and remove it (engine teardown). */
void bvt__change_sink_close(bvt_engine *e);

/* 1 when changes are recorded (the sink appends): callers skip building
 * records otherwise.  Inline: every event asks. */
static inline int bvt__sink_on(const bvt_change_sink *sink) { return sink->append != NULL; }

/* Append a journal record (rec->p[0] is its op) to the sink; a no-op
 * without one.  rec is freed either way (callers build it for this call
 * only).  Returns once the record is committed (definition calls use it:
 * they return right after) unless the thread holds the engine
 * (bvt__persist_hold).  BVT_OK; BVT_EIO (the sink has failed); BVT_ENOMEM.
 * Thread-safe. */
int bvt__persist_log(bvt_engine *e, bvt_wbuf *rec);

/* Append without committing (a record in a caller buffer: the event path's
 * stack, under a shard lock); the public call then ends with
 * bvt__persist_commit(), outside its locks. */
int bvt__persist_log_bytes(bvt_engine *e, const void *rec, size_t n);

/* End of a mutating call: wait until everything it journaled is committed
 * (under BVT_JOURNAL_ALWAYS one fsync shared by concurrent callers); a
 * no-op otherwise.  BVT_OK; BVT_EIO. */
int bvt__persist_commit(bvt_engine *e);

/* Hold every event and per-user call off while a definition is published
 * and journaled (persist.h): takes every shard lock, in index order, when
 * changes are recorded, so the definer's own locks must come before the
 * shard locks in every path (a definer's module lock, then these, then
 * the lock its readers take to read the published version).  Records
 * appended meanwhile through bvt__persist_log() are not committed;
 * bvt__persist_release() unlocks and then commits: BVT_OK; BVT_EIO.  A
 * no-op pair on an engine that records nothing (or while replaying). */
void bvt__persist_hold(bvt_engine *e);
int bvt__persist_release(bvt_engine *e);
/* bvt__persist_log(e, rec), then bvt__persist_release(e): the first failure. */
int bvt__persist_log_release(bvt_engine *e, bvt_wbuf *rec);

/* BVT_EIO when the sink has failed (mutating calls check it first, so
 * they change nothing), else BVT_OK.  Lock-free. */
int bvt__persist_check(bvt_engine *e);

#endif
