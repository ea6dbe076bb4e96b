/* snapfile.h — the snapshot file container: a header, then blocks, each
 * zstd-compressed with an XXH3-64 checksum, the last an END block.  Knows
 * nothing of what blocks hold (snapshot.c does).  docs/format.md is the
 * reference.
 *
 * Header (64 bytes): magic "BVTSNAP\0", u32 format version, u32 flags (0),
 * u64 secret check value, 32 reserved zero bytes, u64 XXH3-64 of bytes
 * 0..55.  Block header (32 bytes): u32 magic "BVTB", u16 section, u16
 * codec (1 = zstd), u64 raw length, u64 stored length, u64 XXH3-64 of the
 * first 24 header bytes and the stored bytes. */
#ifndef BVT_SNAPFILE_H
#define BVT_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Format 2 may hold tombstones in NAMES (docs/format.md); a file without
 * one is written as format 1, which older libraries read. */
#define BVT_SNAP_VERSION 2u
#define BVT_SNAP_VERSION_TOMBSTONES 2u
#define BVT_SNAP_HEADER 64u
#define BVT_SNAP_BLOCK_HEADER 32u
#define BVT_SNAP_BLOCK_MAX (1ull << 31) /* raw bytes a block may hold */

typedef struct bvt_snapw {
    int fd;
    char *path, *tmp;        /* owned */
    uint64_t offset;         /* bytes written */
    void *cctx;              /* ZSTD_CCtx */
    void *out;               /* compression buffer */
    size_t out_cap;
} bvt_snapw;

/* Create path.tmp (mode 0600, replacing a stale one) and write the header
 * with format version (1..BVT_SNAP_VERSION).  BVT_OK; BVT_EIO; BVT_ENOMEM.
 * On failure nothing is left behind. */
int bvt__snapw_open(bvt_snapw *w, const char *path, uint32_t version, uint64_t check,
                   bvt_error *err);

/* Compress and append one block.  BVT_OK; BVT_EIO; BVT_ENOMEM; BVT_EINVAL
 * (larger than BVT_SNAP_BLOCK_MAX). */
int bvt__snapw_block(bvt_snapw *w, uint32_t section, const void *raw, size_t len, bvt_error *err);

/* fsync, rename over path, fsync the directory; w is released either way.
 * BVT_OK; BVT_EIO (path unchanged, the temporary removed). */
int bvt__snapw_commit(bvt_snapw *w, bvt_error *err);

/* Give up: close and remove the temporary (w released). */
void bvt__snapw_abort(bvt_snapw *w);

typedef struct bvt_snapr {
    const unsigned char *data;
    size_t len, pos;
    void *dctx;              /* ZSTD_DCtx */
    void *raw;               /* the current block, decompressed */
    size_t raw_cap;
} bvt_snapr;

/* Check the header of the image [data, data + len) (not copied: it must
 * outlive r).  BVT_OK; BVT_ETRUNCATED; BVT_EFORMAT; BVT_EVERSION;
 * BVT_ECORRUPT (header checksum); BVT_ESECRET (check differs); BVT_ENOMEM.
 * err->offset is the file byte. */
int bvt__snapr_open(bvt_snapr *r, const void *data, size_t len, uint64_t check, bvt_error *err);

/* The next block, verified and decompressed: *raw is valid until the next
 * call.  *block_offset is its file offset.  BVT_OK; BVT_ETRUNCATED (the
 * image ends inside or before a block); BVT_ECORRUPT (magic, checksum,
 * codec or size); BVT_ENOMEM. */
int bvt__snapr_next(bvt_snapr *r, uint32_t *section, const void **raw, size_t *raw_len,
                   uint64_t *block_offset, bvt_error *err);

void bvt__snapr_close(bvt_snapr *r);

#endif
