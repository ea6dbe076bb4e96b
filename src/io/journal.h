/* journal.h — the write-ahead journal file: records appended in
 * checksummed zstd frames, made durable by one of three modes, read back
 * with torn-tail detection.  Knows nothing of what records mean (persist.h
 * and state.c do).
 *
 * File: a 64-byte header (magic "BVTJRNL\0", format version, the first
 * record's sequence number, the secret check value, a header checksum),
 * then frames.  A frame is a 40-byte frame header (magic, raw and
 * compressed sizes, record count, first sequence number, XXH3-64 of the
 * header fields and payload) and the zstd-compressed payload: the frame's
 * records, each a u32 length and its bytes.  Sequence numbers are dense:
 * a frame's first is the previous frame's first plus its count.
 * docs/format.md is the reference.
 *
 * journal_write.c writes (appending, durability, rotation), journal_read.c
 * reads (scanning, torn tails, truncation); journal_frame.h is the layout
 * they share. */
#ifndef BVT_JOURNAL_H
#define BVT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

typedef struct bvt_journal bvt_journal;

/* Records larger than this are refused (BVT_EINVAL). */
#define BVT_JOURNAL_RECORD_MAX (64u << 20)

/* Create `path` (mode 0600; it must not exist) for appending records whose
 * first gets sequence first_seq (>= 1); `check` is the secret check value
 * stored in the header.  mode: BVT_JOURNAL_NONE, _GROUP or _ALWAYS;
 * group_ms the group-commit interval (GROUP starts a flusher thread).  The
 * header is written and fsynced, then the directory is fsynced.
 * BVT_OK; BVT_EINVAL; BVT_EIO (err names the call); BVT_ENOMEM. */
int bvt__journal_create(bvt_journal **out, const char *path, uint64_t first_seq, uint64_t check,
                       uint32_t mode, uint32_t group_ms, bvt_error *err);

/* Append one record (n bytes, 1..BVT_JOURNAL_RECORD_MAX) and return its
 * sequence number.  Copies into an in-memory buffer; when the buffer holds
 * 1 MiB the appender writes it out itself (back-pressure), so no record is
 * ever dropped.  Records of at most 256 bytes never allocate once the
 * journal is created.  BVT_OK; BVT_EIO (the journal has failed: nothing
 * appended); BVT_EINVAL; BVT_ENOMEM (a large record's buffer growth).
 * Thread-safe; callers that need an order among records (the same user's)
 * append under a lock that gives it. */
int bvt__journal_append(bvt_journal *j, const void *rec, size_t n, uint64_t *out_seq);

/* Return once record `seq` is durable as the mode defines it: ALWAYS and
 * GROUP: written and fdatasynced (ALWAYS: one waiting thread writes and
 * syncs for all waiters); NONE: written to the OS.  BVT_OK; BVT_EIO.
 * Thread-safe. */
int bvt__journal_wait(bvt_journal *j, uint64_t seq);

/* Everything appended before the call durable (as bvt__journal_wait of the
 * latest sequence). */
int bvt__journal_sync(bvt_journal *j);

/* Latest appended, and latest durable, sequence numbers (first_seq - 1
 * before any).  Lock-free. */
uint64_t bvt__journal_accepted(const bvt_journal *j);
uint64_t bvt__journal_durable(const bvt_journal *j);

/* 1 once a write or sync has failed (every later append gets BVT_EIO). */
int bvt__journal_failed(const bvt_journal *j);

/* The path of the file whose first record is first_seq (malloc'd), or NULL. */
typedef char *(*bvt_journal_name_fn)(void *ud, uint64_t first_seq);

/* Continue in a new file: under the append lock, everything buffered is
 * written and fsynced to the current file, then the file name(ud, next
 * sequence number) is created as bvt__journal_create does.  *out_last gets
 * the last sequence number in the old file.  Appends wait meanwhile.  BVT_OK; BVT_EIO (the journal
 * stays on the old file, or has failed if the old file did); BVT_ENOMEM. */
int bvt__journal_rotate(bvt_journal *j, bvt_journal_name_fn name, void *ud, uint64_t *out_last,
                       bvt_error *err);

/* Flush, fsync, stop the flusher and close; NULL is a no-op.  BVT_OK or
 * BVT_EIO (the final flush failed); j is freed either way. */
int bvt__journal_close(bvt_journal *j);

/* ---- reading ---- */

/* Called for each record in order; a non-zero return stops the scan and
 * is returned by bvt_journal_scan. */
typedef int (*bvt_journal_record_fn)(void *ud, uint64_t seq, const void *rec, size_t n);

typedef struct bvt_journal_scan {
    uint64_t first_seq;    /* from the header */
    uint64_t next_seq;     /* one past the last good record */
    uint64_t records;      /* good records */
    uint64_t valid_bytes;  /* end of the last good frame (header included) */
    int64_t torn_offset;   /* where a torn tail or the damage starts, or -1 */
    uint64_t torn_bytes;   /* bytes from there to the end */
    int damaged;           /* 1: from torn_offset on is damage (BVT_ECORRUPT returned) */
    uint64_t lost_last_seq;/* damage: the last sequence number sound frames after it
                              hold, or 0 */
} bvt_journal_scan;

#define BVT_JOURNAL_SCAN_INIT { 0, 0, 0, 0, -1, 0, 0, 0 }

/* Read a whole journal image.  A torn tail — a partial last frame (its
 * magic, and with a whole header a plausible size running past the end
 * and the expected sequence number), as a crash mid-write leaves it — is
 * reported in *out (torn_offset, torn_bytes), not an error.  Damage (a
 * complete frame failing its checksum, bytes that are not a frame, a bad
 * frame followed by a good one, sequence numbers that do not follow, a
 * record that overruns its frame) is BVT_ECORRUPT with the byte offset in
 * err and *out describing it (damaged, torn_offset, lost_last_seq), so a
 * repair can cut it on purpose.  Other failures: BVT_EFORMAT (magic),
 * BVT_EVERSION (newer format), BVT_ESECRET (check value differs from
 * `check`), BVT_ETRUNCATED (shorter than a header), BVT_ECORRUPT (header
 * checksum, damaged = 0), or the callback's non-zero return.  Never reads
 * outside [data, data + len); safe on any input (fuzzed). */
int bvt__journal_scan_buffer(const void *data, size_t len, uint64_t check,
                            bvt_journal_record_fn fn, void *ud, bvt_journal_scan *out,
                            bvt_error *err);

/* The same for a file (read whole).  BVT_EIO when it cannot be read. */
int bvt__journal_scan_file(const char *path, uint64_t check, bvt_journal_record_fn fn, void *ud,
                          bvt_journal_scan *out, bvt_error *err);

/* Cut a torn tail: truncate path to valid_bytes and fsync.  BVT_OK; BVT_EIO. */
int bvt__journal_truncate(const char *path, uint64_t valid_bytes, bvt_error *err);

#endif
