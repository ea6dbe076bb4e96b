/* journal.c — the write-ahead journal file (journal.h): the writer (an
 * append buffer, frames written in sequence order, the three durability
 * modes and the group-commit thread) and the reader (frame verification
 * and torn-tail detection).  Records are opaque bytes here.
 *
 * Locks, always taken in this order: wlock (one flush at a time, owns the
 * spare buffer, the compression buffer and the zstd context) -> lock (the
 * append buffer and the next sequence number) -> dlock (the flushing flag,
 * the flusher's stop flag; the condvars).  Appenders hold `lock` only for
 * a copy, so they never wait for a write or an fsync unless the buffer is
 * full. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "codec.h"
#include "error.h"
#include "fileio.h"
#include "hash.h"
#include "journal.h"

#define HEADER_SIZE 64
#define FRAME_HEADER 40
#define FRAME_MAGIC 0x46545642u         /* "BVTF" read as a little-endian u32 */
#define FORMAT_VERSION 1u
#define FLUSH_AT (1u << 20)             /* the appender writes the buffer out here */
#define SMALL_MAX 256                   /* records up to this never allocate */
#define BUF_CAP (FLUSH_AT + 4096)       /* > FLUSH_AT + 4 + SMALL_MAX */
#define RAW_MAX (256u << 20)            /* a larger raw_len is a bad frame */
#define ZSTD_LEVEL 1

static const unsigned char file_magic[8] = { 'B', 'V', 'T', 'J', 'R', 'N', 'L', 0 };

struct bvt_journal {
    int fd;
    uint32_t mode;
    uint32_t group_ms;
    char *path; /* for messages */

    pthread_mutex_t lock; /* buf, buf_first, buf_count, next_seq */
    bvt_wbuf buf;         /* encoded records not yet taken by a flush */
    uint64_t buf_first;   /* sequence number of buf's first record */
    uint32_t buf_count;
    uint64_t next_seq;

    pthread_mutex_t wlock; /* spare, cbuf, cctx; one flush at a time */
    bvt_wbuf spare;        /* what the running flush writes; swapped with buf */
    unsigned char *cbuf;   /* frame header + compressed payload */
    size_t ccap;
    ZSTD_CCtx *cctx;

    pthread_mutex_t dlock;
    pthread_cond_t dcond; /* durable moved, the journal failed, or a leader finished */
    int flushing;         /* a bvt_journal_wait leader is flushing */
    pthread_cond_t fcond; /* wakes the flusher to stop */
    int stop;
    int has_flusher;
    pthread_t flusher;

    _Atomic uint64_t accepted;
    _Atomic uint64_t durable;
    _Atomic int failed;
    uint64_t check;      /* for the headers of the files rotation starts */
    uint64_t file_first; /* first sequence number of the current file */
};

/* ------------------------------------------------------------ helpers */

/* Fixed-header fields are written in place: codec.h's writer appends to a
 * growing buffer, these fill a header whose layout is fixed. */
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t frame_hash(const unsigned char *hdr, const unsigned char *payload, size_t n)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, hdr, 32);
    XXH3_64bits_update(&st, payload, n);
    return (uint64_t)XXH3_64bits_digest(&st);
}

/* ------------------------------------------------------------ writer */

static void set_failed(bvt_journal *j)
{
    atomic_store(&j->failed, 1);
    pthread_mutex_lock(&j->dlock);
    pthread_cond_broadcast(&j->dcond);
    pthread_mutex_unlock(&j->dlock);
}

/* Make the compression buffer hold a frame of `raw` bytes of records.
 * wlock held. */
static int cbuf_fit(bvt_journal *j, size_t raw)
{
    size_t need = FRAME_HEADER + ZSTD_compressBound(raw);
    if (j->ccap >= need)
        return 0;
    unsigned char *p = realloc(j->cbuf, need);
    if (!p)
        return -1;
    j->cbuf = p;
    j->ccap = need;
    return 0;
}

/* After a large record: give the memory back once its frame is written,
 * down to the preallocated sizes (a failed shrink keeps the larger block).
 * wlock held. */
static void shrink_after_flush(bvt_journal *j)
{
    if (j->spare.cap > 2 * (size_t)BUF_CAP) {
        unsigned char *p = realloc(j->spare.p, BUF_CAP);
        if (p) {
            j->spare.p = p;
            j->spare.cap = BUF_CAP;
        }
    }
    pthread_mutex_lock(&j->lock);
    size_t big = j->buf.cap > j->spare.cap ? j->buf.cap : j->spare.cap;
    pthread_mutex_unlock(&j->lock);
    size_t need = FRAME_HEADER + ZSTD_compressBound(big);
    if (j->ccap > 2 * need) {
        unsigned char *p = realloc(j->cbuf, need);
        if (p) {
            j->cbuf = p;
            j->ccap = need;
        }
    }
}

/* Take everything buffered, write it as one frame, fdatasync unless the
 * mode is NONE, then publish the durable sequence.  wlock held, lock not.
 * BVT_OK (also with nothing to write) or BVT_EIO. */
static int flush_held(bvt_journal *j)
{
    pthread_mutex_lock(&j->lock);
    bvt_wbuf t = j->buf;
    j->buf = j->spare;
    j->spare = t;
    uint64_t first = j->buf_first;
    uint32_t count = j->buf_count;
    j->buf_first = j->next_seq;
    j->buf_count = 0;
    pthread_mutex_unlock(&j->lock);

    if (count == 0)
        return atomic_load(&j->failed) ? BVT_EIO : BVT_OK;
    size_t raw = j->spare.len;
    j->spare.len = 0;
    if (atomic_load(&j->failed))
        return BVT_EIO; /* records after a failure are never written */

    size_t comp = ZSTD_compressCCtx(j->cctx, j->cbuf + FRAME_HEADER, j->ccap - FRAME_HEADER,
                                    j->spare.p, raw, ZSTD_LEVEL);
    if (ZSTD_isError(comp)) {
        set_failed(j);
        return BVT_EIO;
    }
    unsigned char *h = j->cbuf;
    put_u32(h, FRAME_MAGIC);
    put_u32(h + 4, (uint32_t)raw);
    put_u32(h + 8, (uint32_t)comp);
    put_u32(h + 12, count);
    put_u64(h + 16, first);
    put_u64(h + 24, 0);
    put_u64(h + 32, frame_hash(h, h + FRAME_HEADER, comp));
    if (bvt_write_all(j->fd, h, FRAME_HEADER + comp) != 0
        || (j->mode != BVT_JOURNAL_NONE && fdatasync(j->fd) != 0)) {
        set_failed(j);
        return BVT_EIO;
    }
    shrink_after_flush(j);

    atomic_store(&j->durable, first + count - 1);
    pthread_mutex_lock(&j->dlock);
    pthread_cond_broadcast(&j->dcond);
    pthread_mutex_unlock(&j->dlock);
    return BVT_OK;
}

static int flush(bvt_journal *j)
{
    pthread_mutex_lock(&j->wlock);
    int rc = flush_held(j);
    pthread_mutex_unlock(&j->wlock);
    return rc;
}

/* GROUP: every group_ms, write and fdatasync what is buffered. */
static void *flusher_main(void *arg)
{
    bvt_journal *j = arg;
    for (;;) {
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += j->group_ms / 1000;
        at.tv_nsec += (long)(j->group_ms % 1000) * 1000000L;
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&j->dlock);
        while (!j->stop && pthread_cond_timedwait(&j->fcond, &j->dlock, &at) != ETIMEDOUT)
            ;
        int stop = j->stop;
        pthread_mutex_unlock(&j->dlock);
        if (stop || flush(j) != BVT_OK)
            break; /* close does the last flush; a failure is final */
    }
    return NULL;
}

static void journal_free(bvt_journal *j)
{
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->wlock);
    pthread_mutex_destroy(&j->dlock);
    pthread_cond_destroy(&j->dcond);
    pthread_cond_destroy(&j->fcond);
    bvt_wbuf_free(&j->buf);
    bvt_wbuf_free(&j->spare);
    free(j->cbuf);
    ZSTD_freeCCtx(j->cctx);
    free(j->path);
    free(j);
}

static int init_sync(bvt_journal *j)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0;
    bad |= pthread_mutex_init(&j->lock, NULL) != 0;
    bad |= pthread_mutex_init(&j->wlock, NULL) != 0;
    bad |= pthread_mutex_init(&j->dlock, NULL) != 0;
    bad |= pthread_cond_init(&j->dcond, NULL) != 0;
    bad |= pthread_cond_init(&j->fcond, &ca) != 0;
    pthread_condattr_destroy(&ca);
    return bad ? -1 : 0;
}

/* Create path (it must not exist) with a header for first_seq, fsync it and
 * its directory; *fd is the open file.  On failure no file is left behind
 * (a retry would meet O_EXCL). */
static int start_file(const char *path, uint64_t first_seq, uint64_t check, int *fd,
                      bvt_error *err)
{
    unsigned char h[HEADER_SIZE] = { 0 };
    memcpy(h, file_magic, 8);
    put_u32(h + 8, FORMAT_VERSION);
    put_u32(h + 12, 0);
    put_u64(h + 16, first_seq);
    put_u64(h + 24, check);
    put_u64(h + 56, (uint64_t)XXH3_64bits(h, 56));
    *fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (*fd < 0)
        return bvt_fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    int rc = BVT_OK;
    if (bvt_write_all(*fd, h, sizeof h) != 0)
        rc = bvt_fail(err, BVT_EIO, 0, "journal %s: write: %s", path, strerror(errno));
    else if (fsync(*fd) != 0)
        rc = bvt_fail(err, BVT_EIO, -1, "journal %s: fsync: %s", path, strerror(errno));
    else
        rc = bvt_fsync_parent(path, err);
    if (rc != BVT_OK) {
        close(*fd);
        *fd = -1;
        unlink(path);
    }
    return rc;
}

int bvt_journal_create(bvt_journal **out, const char *path, uint64_t first_seq, uint64_t check,
                       uint32_t mode, uint32_t group_ms, bvt_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !path || !path[0])
        return bvt_fail(err, BVT_EINVAL, -1, "journal: NULL output or path");
    if (first_seq == 0 || first_seq == UINT64_MAX)
        return bvt_fail(err, BVT_EINVAL, -1, "journal %s: first sequence number %llu", path,
                        (unsigned long long)first_seq);
    if (mode != BVT_JOURNAL_NONE && mode != BVT_JOURNAL_GROUP && mode != BVT_JOURNAL_ALWAYS)
        return bvt_fail(err, BVT_EINVAL, -1, "journal %s: unknown mode %u", path, mode);
    if (mode == BVT_JOURNAL_GROUP && (group_ms < 1 || group_ms > 10000))
        return bvt_fail(err, BVT_EINVAL, -1,
                        "journal %s: group commit interval %u ms not in 1..10000", path, group_ms);

    bvt_journal *j = calloc(1, sizeof *j);
    if (!j)
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    if (init_sync(j) != 0) {
        free(j);
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: cannot initialise locks", path);
    }
    j->fd = -1;
    j->mode = mode;
    j->group_ms = group_ms;
    j->next_seq = j->buf_first = first_seq;
    atomic_init(&j->accepted, first_seq - 1);
    atomic_init(&j->durable, first_seq - 1);
    atomic_init(&j->failed, 0);
    j->path = strdup(path);
    j->buf.p = malloc(BUF_CAP);
    j->spare.p = malloc(BUF_CAP);
    j->cctx = ZSTD_createCCtx();
    if (!j->path || !j->buf.p || !j->spare.p || !j->cctx || cbuf_fit(j, BUF_CAP) != 0) {
        journal_free(j);
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    }
    j->buf.cap = j->spare.cap = BUF_CAP;
    /* Compress a full buffer once now, so zstd sizes its workspace here and
     * not in the first flush (where failing would fail the journal). */
    memset(j->spare.p, 0, BUF_CAP);
    if (ZSTD_isError(ZSTD_compressCCtx(j->cctx, j->cbuf, j->ccap, j->spare.p, BUF_CAP,
                                       ZSTD_LEVEL))) {
        journal_free(j);
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: zstd cannot compress", path);
    }

    j->check = check;
    j->file_first = first_seq;
    int rc = start_file(path, first_seq, check, &j->fd, err);
    if (rc != BVT_OK) {
        journal_free(j);
        return rc;
    }
    if (mode == BVT_JOURNAL_GROUP) {
        int e = pthread_create(&j->flusher, NULL, flusher_main, j);
        if (e != 0)
            rc = bvt_fail(err, BVT_ENOMEM, -1, "journal %s: pthread_create: %s", path,
                          strerror(e));
        else
            j->has_flusher = 1;
    }
    if (rc != BVT_OK) {
        close(j->fd);
        unlink(path);
        journal_free(j);
        return rc;
    }
    *out = j;
    return BVT_OK;
}

/* Append to buf (room checked, lock held). */
static uint64_t put_record(bvt_journal *j, const void *rec, size_t n)
{
    bvt_w_u32(&j->buf, (uint32_t)n);
    bvt_w_bytes(&j->buf, rec, n);
    uint64_t seq = j->next_seq++;
    j->buf_count++;
    atomic_store(&j->accepted, seq);
    return seq;
}

/* A record that does not fit the buffer as it is: with wlock held, write
 * out what is buffered, and if the record still does not fit, grow the
 * buffer and the compression buffer (the only allocations of appending;
 * on failure nothing is appended). */
static int append_large(bvt_journal *j, const void *rec, size_t n, uint64_t *seq)
{
    pthread_mutex_lock(&j->wlock);
    int rc = BVT_OK, flushed = 0, full = 0;
    pthread_mutex_lock(&j->lock);
    while (j->buf.len + 4 + n > j->buf.cap) {
        if (j->buf.len > 0 && !flushed) {
            pthread_mutex_unlock(&j->lock);
            rc = flush_held(j);
            pthread_mutex_lock(&j->lock);
            if (rc != BVT_OK)
                break;
            flushed = 1;
            continue;
        }
        size_t need = j->buf.len + 4 + n;
        unsigned char *p = realloc(j->buf.p, need);
        if (!p) {
            rc = BVT_ENOMEM;
            break;
        }
        j->buf.p = p;
        j->buf.cap = need;
    }
    if (rc == BVT_OK && cbuf_fit(j, j->buf.len + 4 + n) != 0)
        rc = BVT_ENOMEM;
    if (rc == BVT_OK && atomic_load(&j->failed))
        rc = BVT_EIO;
    if (rc == BVT_OK) {
        *seq = put_record(j, rec, n);
        full = j->buf.len >= FLUSH_AT;
    }
    pthread_mutex_unlock(&j->lock);
    if (full)
        rc = flush_held(j);
    pthread_mutex_unlock(&j->wlock);
    return rc;
}

/* Write the buffer out if it is (still) full: another appender may have
 * done it while this one waited for wlock. */
static int flush_if_full(bvt_journal *j)
{
    pthread_mutex_lock(&j->wlock);
    pthread_mutex_lock(&j->lock);
    int full = j->buf.len >= FLUSH_AT;
    pthread_mutex_unlock(&j->lock);
    int rc = full ? flush_held(j) : BVT_OK;
    pthread_mutex_unlock(&j->wlock);
    return rc;
}

int bvt_journal_append(bvt_journal *j, const void *rec, size_t n, uint64_t *out_seq)
{
    if (!j || !rec || n == 0 || n > BVT_JOURNAL_RECORD_MAX)
        return BVT_EINVAL;
    if (atomic_load(&j->failed))
        return BVT_EIO;
    uint64_t seq = 0;
    int full = 0, large = 0, rc = BVT_OK;
    pthread_mutex_lock(&j->lock);
    /* Another appender filled the buffer and has not swapped it out yet:
     * help write it, so the buffer never passes FLUSH_AT + one record. */
    while (j->buf.len >= FLUSH_AT) {
        pthread_mutex_unlock(&j->lock);
        if (flush_if_full(j) != BVT_OK)
            return BVT_EIO;
        pthread_mutex_lock(&j->lock);
    }
    if (j->next_seq == UINT64_MAX)
        rc = BVT_EINVAL;
    else if (atomic_load(&j->failed))
        rc = BVT_EIO;
    else if (j->buf.len + 4 + n <= j->buf.cap) { /* always so for n <= SMALL_MAX */
        seq = put_record(j, rec, n);
        full = j->buf.len >= FLUSH_AT;
    } else
        large = 1;
    pthread_mutex_unlock(&j->lock);
    if (large)
        rc = append_large(j, rec, n, &seq);
    else if (rc == BVT_OK && full)
        rc = flush_if_full(j); /* back-pressure: the appender that fills it writes it */
    if (out_seq && seq)
        *out_seq = seq;
    return rc;
}

int bvt_journal_wait(bvt_journal *j, uint64_t seq)
{
    if (!j)
        return BVT_EINVAL;
    uint64_t acc = atomic_load(&j->accepted);
    if (seq > acc)
        seq = acc; /* nothing later exists to wait for */
    if (atomic_load(&j->durable) >= seq)
        return BVT_OK;
    pthread_mutex_lock(&j->dlock);
    while (atomic_load(&j->durable) < seq && !atomic_load(&j->failed)) {
        if (j->mode == BVT_JOURNAL_GROUP || j->flushing) {
            /* GROUP: the flusher commits within group_ms.  Otherwise a
             * leader is writing: its fsync may cover seq; if not, the next
             * round has a new leader. */
            pthread_cond_wait(&j->dcond, &j->dlock);
            continue;
        }
        j->flushing = 1;
        pthread_mutex_unlock(&j->dlock);
        flush(j);
        pthread_mutex_lock(&j->dlock);
        j->flushing = 0;
        pthread_cond_broadcast(&j->dcond);
    }
    int ok = atomic_load(&j->durable) >= seq;
    pthread_mutex_unlock(&j->dlock);
    return ok ? BVT_OK : BVT_EIO;
}

int bvt_journal_sync(bvt_journal *j)
{
    if (!j)
        return BVT_EINVAL;
    return bvt_journal_wait(j, atomic_load(&j->accepted));
}

uint64_t bvt_journal_accepted(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->accepted);
}

uint64_t bvt_journal_durable(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->durable);
}

int bvt_journal_failed(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->failed);
}

int bvt_journal_rotate(bvt_journal *j, bvt_journal_name_fn name, void *ud, uint64_t *out_last,
                       bvt_error *err)
{
    pthread_mutex_lock(&j->wlock);
    int rc = flush_held(j);
    pthread_mutex_lock(&j->lock);
    /* Appends that came in during the flush go to the old file too. */
    while (rc == BVT_OK && j->buf_count > 0) {
        pthread_mutex_unlock(&j->lock);
        rc = flush_held(j);
        pthread_mutex_lock(&j->lock);
    }
    if (rc == BVT_OK && fdatasync(j->fd) != 0) { /* NONE never synced it */
        set_failed(j);
        rc = BVT_EIO;
    }
    if (rc != BVT_OK) {
        pthread_mutex_unlock(&j->lock);
        pthread_mutex_unlock(&j->wlock);
        return bvt_fail(err, rc, -1, "journal %s: the last frames cannot be written", j->path);
    }
    uint64_t first = j->next_seq;
    char *path = name(ud, first);
    char *copy = path ? strdup(path) : NULL;
    int fd = -1;
    if (!path || !copy)
        rc = bvt_fail(err, BVT_ENOMEM, -1, "journal: out of memory");
    else if (first == j->file_first) /* the current file holds nothing yet: keep it */
        fd = dup(j->fd);
    else
        rc = start_file(path, first, j->check, &fd, err);
    if (rc == BVT_OK && fd < 0)
        rc = bvt_fail(err, BVT_EIO, -1, "journal %s: dup: %s", j->path, strerror(errno));
    if (rc == BVT_OK) {
        j->file_first = first;
        close(j->fd); /* everything in it is written and synced */
        j->fd = fd;
        free(j->path);
        j->path = copy;
        copy = NULL;
        atomic_store(&j->durable, first - 1);
        *out_last = first - 1;
    }
    pthread_mutex_unlock(&j->lock);
    pthread_mutex_unlock(&j->wlock);
    free(copy);
    free(path);
    return rc;
}

int bvt_journal_close(bvt_journal *j)
{
    if (!j)
        return BVT_OK;
    if (j->has_flusher) {
        pthread_mutex_lock(&j->dlock);
        j->stop = 1;
        pthread_cond_signal(&j->fcond);
        pthread_mutex_unlock(&j->dlock);
        pthread_join(j->flusher, NULL);
    }
    pthread_mutex_lock(&j->wlock);
    int rc = flush_held(j);
    if (rc == BVT_OK && fsync(j->fd) != 0) {
        set_failed(j);
        rc = BVT_EIO;
    }
    pthread_mutex_unlock(&j->wlock);
    if (close(j->fd) != 0 && rc == BVT_OK)
        rc = BVT_EIO;
    if (atomic_load(&j->failed))
        rc = BVT_EIO;
    journal_free(j);
    return rc;
}

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
    bvt_rbuf_init(&r, d + pos, FRAME_HEADER);
    uint32_t magic = bvt_r_u32(&r);
    f->raw_len = bvt_r_u32(&r);
    f->comp_len = bvt_r_u32(&r);
    f->count = bvt_r_u32(&r);
    f->first_seq = bvt_r_u64(&r);
    (void)bvt_r_u64(&r); /* reserved */
    uint64_t sum = bvt_r_u64(&r);
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
    bvt_rbuf_init(&r, d + pos + 4, FRAME_HEADER - 4);
    uint32_t raw_len = bvt_r_u32(&r), comp_len = bvt_r_u32(&r), count = bvt_r_u32(&r);
    uint64_t first_seq = bvt_r_u64(&r);
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
        return bvt_fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu starts at sequence %llu, expected %llu", pos,
                        (unsigned long long)f->first_seq, (unsigned long long)next);
    if (f->count == 0 || f->count > f->raw_len / 5 || next + f->count < next)
        return bvt_fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu: %u records cannot fill %u bytes", pos, f->count,
                        f->raw_len);
    if (s->raw_cap < f->raw_len) {
        unsigned char *p = realloc(s->raw, f->raw_len);
        if (!p)
            return bvt_fail(err, BVT_ENOMEM, off, "journal frame at %zu: out of memory", pos);
        s->raw = p;
        s->raw_cap = f->raw_len;
    }
    if (!s->dctx && !(s->dctx = ZSTD_createDCtx()))
        return bvt_fail(err, BVT_ENOMEM, off, "journal frame at %zu: out of memory", pos);
    size_t got = ZSTD_decompressDCtx(s->dctx, s->raw, f->raw_len, f->payload, f->comp_len);
    if (ZSTD_isError(got) || got != f->raw_len)
        return bvt_fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu does not decompress to its %u bytes%s%s", pos,
                        f->raw_len, ZSTD_isError(got) ? ": " : "",
                        ZSTD_isError(got) ? ZSTD_getErrorName(got) : "");
    /* Check every record before passing any, so a bad frame delivers none. */
    bvt_rbuf r;
    bvt_rbuf_init(&r, s->raw, f->raw_len);
    for (uint32_t i = 0; i < f->count; i++) {
        uint32_t n = bvt_r_u32(&r);
        if (n == 0 || n > BVT_JOURNAL_RECORD_MAX)
            bvt_r_fail(&r, "record length out of range");
        bvt_r_bytes(&r, n);
        if (r.bad)
            break;
    }
    if (!r.bad)
        bvt_r_end(&r);
    if (r.bad)
        return bvt_fail(err, BVT_ECORRUPT, off,
                        "journal frame at %zu: record data at byte %zu of %u: %s", pos,
                        r.bad_pos, f->raw_len, r.why ? r.why : "overrun");
    bvt_rbuf_init(&r, s->raw, f->raw_len);
    for (uint32_t i = 0; fn && i < f->count; i++) {
        uint32_t n = bvt_r_u32(&r);
        const void *p = bvt_r_bytes(&r, n);
        int rc = fn(ud, next + i, p, n);
        if (rc != 0) {
            if (err && err->code != rc)
                bvt_fail(err, rc, off, "journal record %llu (frame at %zu): stopped: %s",
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
        return bvt_fail(err, BVT_ETRUNCATED, (int64_t)len,
                        "journal: %zu bytes, shorter than its %d-byte header", len, HEADER_SIZE);
    if (memcmp(d, file_magic, sizeof file_magic) != 0)
        return bvt_fail(err, BVT_EFORMAT, 0, "not a journal file (magic)");
    bvt_rbuf r;
    bvt_rbuf_init(&r, d + 8, HEADER_SIZE - 8);
    uint32_t version = bvt_r_u32(&r);
    uint32_t flags = bvt_r_u32(&r);
    uint64_t first_seq = bvt_r_u64(&r);
    uint64_t file_check = bvt_r_u64(&r);
    bvt_r_bytes(&r, 24); /* reserved */
    uint64_t sum = bvt_r_u64(&r);
    /* The version comes before the checksum: a newer format may checksum
     * its header differently. */
    if (version > FORMAT_VERSION)
        return bvt_fail(err, BVT_EVERSION, 8, "journal format version %u (this library reads %u)",
                        version, FORMAT_VERSION);
    if ((uint64_t)XXH3_64bits(d, 56) != sum)
        return bvt_fail(err, BVT_ECORRUPT, 56, "journal header checksum mismatch");
    if (version == 0)
        return bvt_fail(err, BVT_ECORRUPT, 8, "journal format version 0");
    if (flags != 0)
        return bvt_fail(err, BVT_EVERSION, 12, "journal header flags 0x%x unknown to this version",
                        flags);
    if (first_seq == 0)
        return bvt_fail(err, BVT_ECORRUPT, 16, "journal first sequence number 0");
    if (file_check != check)
        return bvt_fail(err, BVT_ESECRET, 24, "journal written with another secret");
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

int bvt_journal_scan_buffer(const void *data, size_t len, uint64_t check,
                            bvt_journal_record_fn fn, void *ud, bvt_journal_scan *out,
                            bvt_error *err)
{
    bvt_journal_scan sc = BVT_JOURNAL_SCAN_INIT;
    if (out)
        *out = sc;
    if (!data && len)
        return bvt_fail(err, BVT_EINVAL, -1, "journal: NULL data");
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
            rc = q ? bvt_fail(err, BVT_ECORRUPT, (int64_t)pos, "journal frame at %zu is damaged "
                              "(a sound frame follows at %zu)", pos, q)
                   : bvt_fail(err, BVT_ECORRUPT, (int64_t)pos, "journal damaged from byte %zu "
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

int bvt_journal_scan_file(const char *path, uint64_t check, bvt_journal_record_fn fn, void *ud,
                          bvt_journal_scan *out, bvt_error *err)
{
    if (out) {
        bvt_journal_scan z = BVT_JOURNAL_SCAN_INIT;
        *out = z;
    }
    if (!path)
        return bvt_fail(err, BVT_EINVAL, -1, "journal: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bvt_fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = bvt_fail(err, BVT_EIO, -1, "journal %s: fstat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX - 1) {
        close(fd);
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: too large to read", path);
    }
    size_t size = (size_t)st.st_size, n = 0;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return bvt_fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    }
    while (n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int rc = bvt_fail(err, BVT_EIO, (int64_t)n, "journal %s: read: %s", path,
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
    int rc = bvt_journal_scan_buffer(buf, n, check, fn, ud, out, err);
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

int bvt_journal_truncate(const char *path, uint64_t valid_bytes, bvt_error *err)
{
    if (!path || valid_bytes > (uint64_t)INT64_MAX)
        return bvt_fail(err, BVT_EINVAL, -1, "journal truncate: NULL path or size out of range");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return bvt_fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    int rc = BVT_OK;
    struct stat st;
    if (fstat(fd, &st) != 0)
        rc = bvt_fail(err, BVT_EIO, -1, "journal %s: fstat: %s", path, strerror(errno));
    else if ((uint64_t)st.st_size < valid_bytes)
        rc = bvt_fail(err, BVT_EINVAL, (int64_t)valid_bytes,
                      "journal %s: truncate to %llu would grow its %lld bytes", path,
                      (unsigned long long)valid_bytes, (long long)st.st_size);
    else if (ftruncate(fd, (off_t)valid_bytes) != 0)
        rc = bvt_fail(err, BVT_EIO, (int64_t)valid_bytes, "journal %s: ftruncate: %s", path,
                      strerror(errno));
    else if (fsync(fd) != 0)
        rc = bvt_fail(err, BVT_EIO, -1, "journal %s: fsync: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == BVT_OK)
        rc = bvt_fail(err, BVT_EIO, -1, "journal %s: close: %s", path, strerror(errno));
    return rc;
}
