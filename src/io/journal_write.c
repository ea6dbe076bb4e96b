/* journal_write.c — the journal writer (journal.h): an append buffer,
 * frames written in sequence order, the three durability modes, the
 * group-commit thread, and rotation to a new file.  The reading half
 * (verification, scanning, torn tails, truncation) is journal_read.c; the
 * layout both share is journal_frame.h.  Records are opaque bytes here.
 * Calls: the codec's growing buffer (codec.h), writing and fsyncing files
 * (fileio.h), the error detail (error.h), zstd and XXH3.
 *
 * Locks, always taken in this order: wlock (one flush at a time, owns the
 * spare buffer, the compression buffer and the zstd context) -> lock (the
 * append buffer and the next sequence number) -> dlock (the flushing flag,
 * the flusher's stop flag; the condvars).  Appenders hold `lock` only for
 * a copy, so they never wait for a write or an fsync unless the buffer is
 * full. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "codec.h"
#include "error.h"
#include "fileio.h"
#include "journal.h"
#include "journal_frame.h"

#define FLUSH_AT (1u << 20)             /* the appender writes the buffer out here */
#define SMALL_MAX 256                   /* records up to this never allocate */
#define BUF_CAP (FLUSH_AT + 4096)       /* > FLUSH_AT + 4 + SMALL_MAX */
#define ZSTD_LEVEL 1

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
    int flushing;         /* a bvt__journal_wait leader is flushing */
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
    if (bvt__write_all(j->fd, h, FRAME_HEADER + comp) != 0
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
    bvt__wbuf_free(&j->buf);
    bvt__wbuf_free(&j->spare);
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
        return bvt__fail(err, BVT_EIO, -1, "journal %s: open: %s", path, strerror(errno));
    int rc = BVT_OK;
    if (bvt__write_all(*fd, h, sizeof h) != 0)
        rc = bvt__fail(err, BVT_EIO, 0, "journal %s: write: %s", path, strerror(errno));
    else if (fsync(*fd) != 0)
        rc = bvt__fail(err, BVT_EIO, -1, "journal %s: fsync: %s", path, strerror(errno));
    else
        rc = bvt__fsync_parent(path, err);
    if (rc != BVT_OK) {
        close(*fd);
        *fd = -1;
        unlink(path);
    }
    return rc;
}

int bvt__journal_create(bvt_journal **out, const char *path, uint64_t first_seq, uint64_t check,
                       uint32_t mode, uint32_t group_ms, bvt_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !path || !path[0])
        return bvt__fail(err, BVT_EINVAL, -1, "journal: NULL output or path");
    if (first_seq == 0 || first_seq == UINT64_MAX)
        return bvt__fail(err, BVT_EINVAL, -1, "journal %s: first sequence number %llu", path,
                        (unsigned long long)first_seq);
    if (mode != BVT_JOURNAL_NONE && mode != BVT_JOURNAL_GROUP && mode != BVT_JOURNAL_ALWAYS)
        return bvt__fail(err, BVT_EINVAL, -1, "journal %s: unknown mode %u", path, mode);
    if (mode == BVT_JOURNAL_GROUP && (group_ms < 1 || group_ms > 10000))
        return bvt__fail(err, BVT_EINVAL, -1,
                        "journal %s: group commit interval %u ms not in 1..10000", path, group_ms);

    bvt_journal *j = calloc(1, sizeof *j);
    if (!j)
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    if (init_sync(j) != 0) {
        free(j);
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: cannot initialise locks", path);
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
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: out of memory", path);
    }
    j->buf.cap = j->spare.cap = BUF_CAP;
    /* Compress a full buffer once now, so zstd sizes its workspace here and
     * not in the first flush (where failing would fail the journal). */
    memset(j->spare.p, 0, BUF_CAP);
    if (ZSTD_isError(ZSTD_compressCCtx(j->cctx, j->cbuf, j->ccap, j->spare.p, BUF_CAP,
                                       ZSTD_LEVEL))) {
        journal_free(j);
        return bvt__fail(err, BVT_ENOMEM, -1, "journal %s: zstd cannot compress", path);
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
            rc = bvt__fail(err, BVT_ENOMEM, -1, "journal %s: pthread_create: %s", path,
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
    bvt__w_u32(&j->buf, (uint32_t)n);
    bvt__w_bytes(&j->buf, rec, n);
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

int bvt__journal_append(bvt_journal *j, const void *rec, size_t n, uint64_t *out_seq)
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

int bvt__journal_wait(bvt_journal *j, uint64_t seq)
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

int bvt__journal_sync(bvt_journal *j)
{
    if (!j)
        return BVT_EINVAL;
    return bvt__journal_wait(j, atomic_load(&j->accepted));
}

uint64_t bvt__journal_accepted(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->accepted);
}

uint64_t bvt__journal_durable(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->durable);
}

int bvt__journal_failed(const bvt_journal *j)
{
    if (!j)
        return 0;
    return atomic_load(&((bvt_journal *)j)->failed);
}

int bvt__journal_rotate(bvt_journal *j, bvt_journal_name_fn name, void *ud, uint64_t *out_last,
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
        return bvt__fail(err, rc, -1, "journal %s: the last frames cannot be written", j->path);
    }
    uint64_t first = j->next_seq;
    char *path = name(ud, first);
    char *copy = path ? strdup(path) : NULL;
    int fd = -1;
    if (!path || !copy)
        rc = bvt__fail(err, BVT_ENOMEM, -1, "journal: out of memory");
    else if (first == j->file_first) /* the current file holds nothing yet: keep it */
        fd = dup(j->fd);
    else
        rc = start_file(path, first, j->check, &fd, err);
    if (rc == BVT_OK && fd < 0)
        rc = bvt__fail(err, BVT_EIO, -1, "journal %s: dup: %s", j->path, strerror(errno));
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

int bvt__journal_close(bvt_journal *j)
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
