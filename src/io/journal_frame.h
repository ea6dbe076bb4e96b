/* journal_frame.h — the journal file's layout as both halves of the
 * journal read it: the file header's and frame header's sizes, the magics,
 * the format version, and the frame checksum.  Internal to
 * journal_write.c (which encodes headers and frames) and journal_read.c
 * (which decodes and verifies them); journal.h describes the layout and
 * docs/format.md is the reference.  Calls only XXH3 (hash.h). */
#ifndef BVT_JOURNAL_FRAME_H
#define BVT_JOURNAL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define HEADER_SIZE 64
#define FRAME_HEADER 40
#define FRAME_MAGIC 0x46545642u         /* "BVTF" read as a little-endian u32 */
#define FORMAT_VERSION 1u

static const unsigned char file_magic[8] = { 'B', 'V', 'T', 'J', 'R', 'N', 'L', 0 };

/* XXH3-64 of a frame header's first 32 bytes and its payload. */
static inline uint64_t frame_hash(const unsigned char *hdr, const unsigned char *payload,
                                  size_t n)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, hdr, 32);
    XXH3_64bits_update(&st, payload, n);
    return (uint64_t)XXH3_64bits_digest(&st);
}

#endif
