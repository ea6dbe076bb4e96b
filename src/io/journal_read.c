/* journal_read.c — the journal reader (journal.h): frame verification,
 * scanning a journal image or file record by record, telling a torn tail
 * (a crash mid-write) from damage, and cutting a torn tail.  The writing
 * half is journal_write.c; the layout both share is journal_frame.h.
 * Records are opaque bytes here.  Calls: the codec's bounds-checked reader
 * (codec.h), the error detail (error.h), zstd and XXH3.  Never reads outside
 * the image it is given (fuzzed: tests/fuzz/fuzz-journal.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "codec.h"
#include "error.h"
#include "journal.h"
#include "journal_frame.h"

#define RAW_MAX (256u << 20)            /* a larger raw_len is a bad frame */

/* ------------------------------------------------------------ reader */

typedef struct frame {
    uint32_t raw_len, comp_len, count;
    uint64_t first_seq;
    const unsigned char *payload;
} frame;

/* Does a frame with its magic, sizes that fit and a matching checksum
 * start at pos?  Only that: what it holds is checked by the caller. */
static int frame_sound(const unsigned char *d, size_t len, size_t pos, frame *f)
{
    if (len - pos < FRAME_HEADER)
        return 0;
    bvt_rbuf r;
    bvt__rbuf_init(&r, d + pos, FRAME_HEADER);
    uint32_t magic = bvt__r_u32(&r);
    f->raw_len = bvt__r_u32(&r);
    f->comp_len = bvt__r_u32(&r);
    f->count = bvt__r_u32(&r);
    f->first_seq = bvt__r_u64(&r);
    (void)bvt__r_u64(&r); /* reserved */
    uint64_t sum = bvt__r_u64(&r);
    if (magic != FRAME_MAGIC || f->raw_len > RAW_MAX
        || f->comp_len > len - pos - FRAME_HEADER)
        return 0;
    f->payload = d + pos + FRAME_HEADER;
    return frame_hash(d + pos, f->payload, f->comp_len) == sum;
}

/* Could the len - pos bytes at pos be the start of the frame expected
 * next, cut short by a crash mid-write?  Its magic (as far as present),
 * and from a whole header on: a plausible size that runs past the end and
 * the expected sequence number.  Anything else there is damage. */
static int partial_frame(const unsigned char *d, size_t len, size_t pos, uint64_t next)
{
    size_t have = len - pos;
    unsigned char magic[4] = { FRAME_MAGIC & 0xFF, FRAME_MAGIC >> 8 & 0xFF,
                               FRAME_MAGIC >> 16 & 0xFF, FRAME_MAGIC >> 24 };
    if (memcmp(d + pos, magic, have < 4 ? have : 4) != 0)
        return 0;
    if (have < FRAME_HEADER)
        return 1;
    bvt_rbuf r;
    bvt__rbuf_init(&r, d + pos + 4, FRAME_HEADER - 4);
    uint32_t raw_len = bvt__r_u32(&r), comp_len = bvt__r_u32(&r), count = bvt__r_u32(&r);
    uint64_t first_seq = bvt__r_u64(&r);
    return raw_len <= RAW_MAX && count > 0 && first_seq == next &&
           comp_len > have - FRAME_HEADER;
}

/* The first sound frame starting after `from`, or 0 when there is none. */
static size_t next_sound_frame(const unsigned char *d, size_t len, size_t from)
{
    for (size_t q = from + 1; q < len && len - q >= FRAME_HEADER;) {
        const unsigned char *b = memchr(d + q, 'B', len - q - FRAME_HEADER + 1);
        if (!b)
            return 0;
        q = (size_t)(b - d);
        frame f;
        if (frame_sound(d, len, q, &f))
            return q;
        q++;
    }
    return 0;
}

typedef struct scan_state {
    ZSTD_DCtx *dctx;
    unsigned char *raw;
    size_t raw_cap;
} scan_state;

/* Check a sound frame's content and pass its records to fn.  BVT_OK, a
 * failure status (err filled), or fn's non-zero return. */
static int frame_records(scan_state *s, const frame *f, size_t pos, uint64_t next,
                         bvt_journal_record_fn fn, void *ud, bvt_error *err)
{
    int64_t off = (int64_t)pos;
    if (f->first_seq != next)
        return bvt__fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu starts at sequence %llu, expected %llu", pos,
                        (unsigned long long)f->first_seq, (unsigned long long)next);
    if (f->count == 0 || f->count > f->raw_len / 5 || next + f->count < next)
        return bvt__fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu: %u records cannot fill %u bytes", pos, f->count,
                        f->raw_len);
    if (s->raw_cap < f->raw_len) {
        unsigned char *p = realloc(s->raw, f->raw_len);
        if (!p)
            return bvt__fail(err, BVT_ENOMEM, off, "journal frame at %zu: out of memory", pos);
        s->raw = p;
        s->raw_cap = f->raw_len;
    }
    if (!s->dctx && !(s->dctx = ZSTD_createDCtx()))
        return bvt__fail(err, BVT_ENOMEM, off, "journal frame at %zu: out of memory", pos);
    size_t got = ZSTD_decompressDCtx(s->dctx, s->raw, f->raw_len, f->payload, f->comp_len);
    if (ZSTD_isError(got) || got != f->raw_len)
        return bvt__fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu does not decompress to its %u bytes%s%s", pos,
                        f->raw_len, ZSTD_isError(got) ? ": " : "",
                        ZSTD_isError(got) ? ZSTD_getErrorName(got) : "");
    /* Check every record before passing any, so a bad frame delivers none. */
    bvt_rbuf r;
    bvt__rbuf_init(&r, s->raw, f->raw_len);
    for (uint32_t i = 0; i < f->count; i++) {
        uint32_t n = bvt__r_u32(&r);
        if (n == 0 || n > BVT_JOURNAL_RECORD_MAX)
            bvt__r_fail(&r, "record length out of range");
        bvt__r_bytes(&r, n);
        if (r.bad)
            break;
    }
    if (!r.bad)
        bvt__r_end(&r);
    if (r.bad)
        return bvt__fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu: record data at byte %zu of %u: %s", pos,
                        r.bad_pos, f->raw_len, r.why ? r.why : "overrun");
    bvt__rbuf_init(&r, s->raw, f->raw_len);
    for (uint32_t i = 0; fn && i < f->count; i++) {
        uint32_t n = bvt__r_u32(&r);
        const void *p = bvt__r_bytes(&r, n);
        int rc = fn(ud, next + i, p, n);
        if (rc != 0) {
            if (err && err->code != rc)
                bvt__fail(err, rc, off, "journal record %llu (frame at %zu): stopped: %s",
                         (unsigned long long)(next + i), pos, bvt_strerror(rc));
            return rc;
        }
    }
    return BVT_OK;
}

static int scan_header(const unsigned char *d, size_t len, uint64_t check, uint64_t *first,
                       bvt_error *err)
{
    if (len < HEADER_SIZE)
        return bvt__fail(err, BVT_ETRUNCATED, (int64_t)len,
                        "journal: %zu bytes, shorter than its %d-byte header", len, HEADER_SIZE);
    if (memcmp(d, file_magic, sizeof file_magic) != 0)
        return bvt__fail(err, BVT_EFORMAT, 0, "not a journal file (magic)");
    bvt_rbuf r;
    bvt__rbuf_init(&r, d + 8, HEADER_SIZE - 8);
    uint32_t version = bvt__r_u32(&r);
    uint32_t flags = bvt__r_u32(&r);
    uint64_t first_seq = bvt__r_u64(&r);
    uint64_t file_check = bvt__r_u64(&r);
    bvt__r_bytes(&r, 24); /* reserved */
    uint64_t sum = bvt__r_u64(&r);
    /* The version comes before the checksum: a newer format may checksum
     * its header differently. */
    if (version > FORMAT_VERSION)
        return bvt__fail(err, BVT_EVERSION, 8, "journal format version %u (this library reads %u)",
                        version, FORMAT_VERSION);
    if ((uint64_t)XXH3_64bits(d, 56) != sum)
        return bvt__fail(err, BVT_ECORRUPT, 56, "journal header checksum mismatch");
    if (version == 0)
        return bvt__fail(err, BVT_ECORRUPT, 8, "journal format version 0");
    if (flags != 0)
        return bvt__fail(err, BVT_EVERSION, 12, "journal header flags 0x%x unknown to this version",
                        flags);
    if (first_seq == 0)
        return bvt__fail(err, BVT_ECORRUPT, 16, "journal first sequence number 0");
    if (file_check != check)
        return bvt__fail(err, BVT_ESECRET, 24, "journal written with another secret");
    *first = first_seq;
    return BVT_OK;
}

/* Describe damage from pos to the end in sc: where it starts and the last
 * sequence number that sound frames after it hold (what a repair drops). */
static void damaged_tail(const unsigned char *d, size_t len, size_t pos, bvt_journal_scan *sc)
{
    sc->torn_offset = (int64_t)pos;
    sc->torn_bytes = len - pos;
    sc->damaged = 1;
    for (size_t q = pos; (q = next_sound_frame(d, len, q)) != 0;) {
        frame f;
        frame_sound(d, len, q, &f);
        if (f.count && f.first_seq + f.count - 1 > sc->lost_last_seq)
            sc->lost_last_seq = f.first_seq + f.count - 1;
    }
}

int bvt__journal_scan_buffer(const void *data, size_t len, uint64_t check,
                            bvt_journal_record_fn fn, void *ud, bvt_journal_scan *out,
                            bvt_error *err)
{
    bvt_journal_scan sc = BVT_JOURNAL_SCAN_INIT;
    if (out)
        *out = sc;
    if (!data && len)
        return bvt__fail(err, BVT_EINVAL, -1, "journal: NULL data");
    const unsigned char *d = data;
    uint64_t first = 0;
    int rc = scan_header(d, len, check, &first, err);
    if (rc != BVT_OK)
        return rc;
    sc.first_seq = sc.next_seq = first;
    sc.valid_bytes = HEADER_SIZE;
    scan_state s = { NULL, NULL, 0 };
    size_t pos = HEADER_SIZE;
    while (pos < len) {
        frame f;
        int sound = frame_sound(d, len, pos, &f);
        if (!sound && partial_frame(d, len, pos, sc.next_seq) && !next_sound_frame(d, len, pos)) {
            sc.torn_offset = (int64_t)pos; /* a crash mid-write: never acknowledged */
            sc.torn_bytes = len - pos;
            break;
        }
        if (!sound) {
            size_t q = next_sound_frame(d, len, pos);
            rc = q ? bvt__fail(err, BVT_ECORRUPT, (int64_t)pos, "journal frame at %zu is damaged "
                              "(a sound frame follows at %zu)", pos, q)
                   : bvt__fail(err, BVT_ECORRUPT, (int64_t)pos, "journal damaged from byte %zu "
                              "to its end (%zu bytes; not a frame cut short)", pos, len - pos);
            damaged_tail(d, len, pos, &sc);
            break;
        }
        rc = frame_records(&s, &f, pos, sc.next_seq, fn, ud, err);
        if (rc != BVT_OK) {
            if (rc == BVT_ECORRUPT) /* the container's damage, not the callback's */
                damaged_tail(d, len, pos, &sc);
            break;
        }
        sc.next_seq += f.count;
        sc.records += f.count;
        pos += FRAME_HEADER + (size_t)f.comp_len;
        sc.valid_bytes = pos;
    }
    free(s.raw);
    ZSTD_freeDCtx(s.dctx);
    if (out)
        *out = sc;
    return rc;
}

int bvt__journal_scan_file(const char *path, uint64_t check, bvt_journal_record_fn fn, void *ud,
                          bvt_journal_scan *out, bvt_error *err)
{
    if (out) {
        bvt_journal_scan z = BVT_JOURNAL_SCAN_INIT;
        *out = z;
    }
    if (!path)
        return bvt__fail(err, BVT_EINVAL, -1, "journal: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bvt__fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = bvt__fail(err, BVT_EIO, -1, "journal %s: fstat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX - 1) {
        close(fd);
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: too large to read", path);
    }
    size_t size = (size_t)st.st_size, n = 0;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    }
    while (n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int rc = bvt__fail(err, BVT_EIO, (int64_t)n, "journal %s: read: %s", path,
                              strerror(errno));
            free(buf);
            close(fd);
            return rc;
        }
        if (got == 0)
            break; /* shrank meanwhile: scan what is there */
        n += (size_t)got;
    }
    close(fd);
    int rc = bvt__journal_scan_buffer(buf, n, check, fn, ud, out, err);
    free(buf);
    if (rc != BVT_OK && err && err->code == rc) {
        /* Name the file in the message. */
        char msg[sizeof err->message];
        memcpy(msg, err->message, sizeof msg);
        msg[sizeof msg - 1] = 0;
        int k = snprintf(err->message, sizeof err->message, "%s: ", path);
        if (k > 0 && (size_t)k < sizeof err->message) {
            size_t room = sizeof err->message - (size_t)k - 1, ml = strlen(msg);
            memcpy(err->message + k, msg, ml < room ? ml : room);
            err->message[k + (ml < room ? ml : room)] = 0;
        }
    }
    return rc;
}

int bvt__journal_truncate(const char *path, uint64_t valid_bytes, bvt_error *err)
{
    if (!path || valid_bytes > (uint64_t)INT64_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "journal truncate: NULL path or size out of range");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return bvt__fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    int rc = BVT_OK;
    struct stat st;
    if (fstat(fd, &st) != 0)
        rc = bvt__fail(err, BVT_EIO, -1, "journal %s: fstat: %s", path, strerror(errno));
    else if ((uint64_t)st.st_size < valid_bytes)
        rc = bvt__fail(err, BVT_EINVAL, (int64_t)valid_bytes,
                      "journal %s: truncate to %llu would grow its %lld bytes", path,
                      (unsigned long long)valid_bytes, (long long)st.st_size);
    else if (ftruncate(fd, (off_t)valid_bytes) != 0)
        rc = bvt__fail(err, BVT_EIO, (int64_t)valid_bytes, "journal %s: ftruncate: %s", path,
                      strerror(errno));
    else if (fsync(fd) != 0)
        rc = bvt__fail(err, BVT_EIO, -1, "journal %s: fsync: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == BVT_OK)
        rc = bvt__fail(err, BVT_EIO, -1, "journal %s: close: %s", path, strerror(errno));
    return rc;
}
