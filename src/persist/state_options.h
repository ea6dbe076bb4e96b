/* state_options.h — the options a state directory was written with: the
 * `options` file beside the snapshot, and the journal record that marks
 * where options changed (BVT_OP_OPTIONS).
 *
 * Options are kept as their effective values (defaults resolved), in
 * bvt_options form, so an engine can be created from them.  Two kinds:
 * those that shape stored data (interest and history settings, limits of
 * the bounded parts, type weights) must never change under existing data;
 * the rest (shards, limits, retention, analytics policy...) decide what
 * later calls do and may change at any open.  docs/format.md describes the
 * file. */
#ifndef BVT_STATE_OPTIONS_H
#define BVT_STATE_OPTIONS_H

#include "behavtarget.h"
#include "codec.h"

#define BVT_OPTIONS_FILE "options"

typedef struct bvt_recorded_options {
    bvt_options o;                              /* effective values; no secret */
    double weights[BVT_EVENT_BUILTIN_COUNT];    /* o.type_weights points here */
} bvt_recorded_options;

/* e's options as recorded. */
void bvt__recorded_options_of(const bvt_engine *e, bvt_recorded_options *out);

/* Read dir's options file into *out (o.type_weights set to out->weights).
 * BVT_OK with *found 0 when there is none; BVT_ECORRUPT (fails its check
 * or does not parse: err names the line); BVT_EVERSION (a newer format);
 * BVT_EIO. */
int bvt__recorded_options_read(const char *dir, bvt_recorded_options *out, int *found,
                              bvt_error *err);

/* Replace dir's options file atomically (temporary file, fsync, rename,
 * directory fsync).  BVT_OK; BVT_EIO; BVT_ENOMEM. */
int bvt__recorded_options_write(const char *dir, const bvt_recorded_options *r, bvt_error *err);

/* BVT_OK when every data-shaping option of `now` equals the recorded one;
 * else BVT_EINVAL naming the first that differs. */
int bvt__recorded_options_check(const bvt_recorded_options *recorded,
                               const bvt_recorded_options *now, bvt_error *err);

/* 1 when every option (of both kinds) is the same. */
int bvt__recorded_options_equal(const bvt_recorded_options *a, const bvt_recorded_options *b);

/* Journal the options in force from here on (BVT_OP_OPTIONS). */
int bvt__log_options(bvt_engine *e, const bvt_recorded_options *r);

/* Replay BVT_OP_OPTIONS (op byte read): a record that parses and names
 * the data-shaping options the engine has.  Records carry outcomes, so
 * replay needs nothing else from it.  BVT_OK; BVT_ECORRUPT. */
int bvt__options_replay(bvt_engine *e, bvt_rbuf *r);

#endif
