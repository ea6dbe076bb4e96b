/* snapshot.h — the whole engine to and from a snapshot file (snapshot.c). */
#ifndef BVT_SNAPSHOT_H
#define BVT_SNAPSHOT_H

#include <stdint.h>

#include "behavtarget.h"

/* The value stored in file headers that tells whether a file was written
 * with this engine's secret (a keyed hash of a fixed text: it reveals
 * nothing about the secret). */
uint64_t bvt__secret_check(const bvt_engine *e);

/* Called by bvt__snapshot_write while every shard lock is held, before any
 * section is read: the journal switches files there and returns the last
 * sequence number the snapshot holds. */
typedef int (*bvt_snapshot_cut_fn)(bvt_engine *e, void *ud, uint64_t *out_seq, bvt_error *err);

/* Write a snapshot of e to path (snapfile.h's atomic protocol).  cut may
 * be NULL (then the snapshot holds journal sequence 0).  BVT_OK; BVT_EIO;
 * BVT_ENOMEM; or cut's status (nothing written). */
int bvt__snapshot_write(bvt_engine *e, const char *path, bvt_snapshot_cut_fn cut, void *ud,
                       bvt_error *err);

/* Load an image into e, a fresh engine made from the caller's options;
 * *out_seq gets the journal boundary.  Statuses as bvt_engine_load(); on
 * failure e must be freed (it may hold part of the data). */
int bvt__snapshot_read(bvt_engine *e, const void *data, size_t len, uint64_t *out_seq,
                      bvt_error *err);

#endif
