/* test-journal.c — the journal file (src/journal.h): round trips in each
 * durability mode, wait/sync and group commit, concurrent appenders in
 * ALWAYS mode, the byte layout of header and frames (checked against an
 * encoder written here from the format description), torn tails at every
 * cut and bit flip, damage that is not a tail, header errors, truncation,
 * and a journal whose writes fail (file size limit in a child process). */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "testutil.h"

#include "hash.h"
#include "journal.h"

#define CHECK 0x5eC7e75eC7e75eC7ull

static const uint32_t modes[] = { BVT_JOURNAL_NONE, BVT_JOURNAL_GROUP, BVT_JOURNAL_ALWAYS };

/* ------------------------------------------------------------ helpers */

static char tmpdir[64];

/* One directory for the test case, made and removed in the parent
 * process (unchecked fixture), so a failing test leaves nothing behind. */
static void dir_setup(void)
{
    strcpy(tmpdir, "/tmp/bvt-journal-XXXXXX");
    if (!mkdtemp(tmpdir))
        abort();
}

static void dir_teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

static const char *path_of(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static unsigned char *read_all(const char *path, size_t *n)
{
    size_t size = (size_t)file_size(path);
    unsigned char *b = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(b);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(b, 1, size, f), size);
    fclose(f);
    *n = size;
    return b;
}

static void write_all_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Record i: its size (1 byte .. 100 KB, mostly small) and content. */
static size_t rec_size(uint64_t i)
{
    if (i % 50 == 7)
        return 100000 - (size_t)(i % 1000);
    if (i % 5 == 0)
        return 300 + (size_t)(i * 13 % 700);
    return 1 + (size_t)(i * 7 % 256);
}

static void rec_fill(uint64_t i, unsigned char *p, size_t n)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
    for (size_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Half the bytes repeat, so zstd has something to do. */
        p[k] = (k & 64) ? (unsigned char)(i + k / 64) : (unsigned char)x;
    }
}

static unsigned char scratch[6u << 20];

static uint64_t append_rec(bvt_journal *j, uint64_t i)
{
    size_t n = rec_size(i);
    rec_fill(i, scratch, n);
    uint64_t seq = 0;
    ck_assert_int_eq(bvt__journal_append(j, scratch, n, &seq), BVT_OK);
    return seq;
}

/* What a scan saw: every record checked against rec_size/rec_fill, with
 * record i having sequence first + i. */
typedef struct seen {
    uint64_t first;
    uint64_t n;
    uint64_t stop_at; /* return BVT_ECORRUPT at this record (0: never) */
} seen;

static int check_rec(void *ud, uint64_t seq, const void *rec, size_t n)
{
    seen *s = ud;
    uint64_t i = s->n;
    ck_assert_uint_eq(seq, s->first + i);
    ck_assert_uint_eq(n, rec_size(i));
    static unsigned char want[6u << 20];
    rec_fill(i, want, n);
    ck_assert(memcmp(rec, want, n) == 0);
    s->n++;
    if (s->stop_at && s->n == s->stop_at)
        return BVT_ECORRUPT;
    return 0;
}

static int scan_image(const unsigned char *b, size_t n, uint64_t first, bvt_journal_scan *sc,
                      seen *s, bvt_error *err)
{
    memset(s, 0, sizeof *s);
    s->first = first;
    bvt_error_init(err);
    return bvt__journal_scan_buffer(b, n, CHECK, check_rec, s, sc, err);
}

static bvt_journal *create_ok(const char *name, uint64_t first, uint32_t mode, uint32_t ms)
{
    bvt_journal *j = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt__journal_create(&j, path_of(name), first, CHECK, mode, ms, &err);
    ck_assert_msg(rc == BVT_OK, "create: %d %s", rc, err.message);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* A journal of `frames` frames of `per` records each (NONE mode, one sync
 * per frame); ends[f] is the file size after frame f (ends[0] = header). */
static void make_frames(const char *name, uint64_t first, int frames, int per, uint64_t *ends)
{
    bvt_journal *j = create_ok(name, first, BVT_JOURNAL_NONE, 0);
    ends[0] = file_size(path_of(name));
    uint64_t i = 0;
    for (int f = 1; f <= frames; f++) {
        for (int k = 0; k < per; k++)
            append_rec(j, i++);
        ck_assert_int_eq(bvt__journal_sync(j), BVT_OK);
        ends[f] = file_size(path_of(name));
        ck_assert_uint_gt(ends[f], ends[f - 1]);
    }
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
    ck_assert_uint_eq(file_size(path_of(name)), ends[frames]);
}

/* An encoder written from the format description, independent of
 * journal_write.c. */
static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}
static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> 8 * i);
}
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void fix_header_sum(unsigned char *h)
{
    le64(h + 56, XXH3_64bits(h, 56));
}

static size_t enc_header(unsigned char *h, uint64_t first, uint64_t check)
{
    memset(h, 0, 64);
    memcpy(h, "BVTJRNL", 8);
    le32(h + 8, 1);
    le64(h + 16, first);
    le64(h + 24, check);
    fix_header_sum(h);
    return 64;
}

static uint64_t enc_frame_sum(const unsigned char *f)
{
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, f, 32);
    XXH3_64bits_update(&st, f + 40, get32(f + 8));
    return XXH3_64bits_digest(&st);
}

/* A frame at out: raw bytes compressed, the given header fields (raw_len
 * as claimed, which may differ from what raw holds), a correct checksum.
 * Returns its size. */
static size_t enc_frame(unsigned char *out, size_t cap, const void *raw, size_t raw_n,
                        uint32_t raw_claim, uint32_t count, uint64_t first)
{
    size_t c = ZSTD_compress(out + 40, cap - 40, raw, raw_n, 1);
    ck_assert(!ZSTD_isError(c));
    le32(out, 0x46545642u);
    le32(out + 4, raw_claim);
    le32(out + 8, (uint32_t)c);
    le32(out + 12, count);
    le64(out + 16, first);
    le64(out + 24, 0);
    le64(out + 32, enc_frame_sum(out));
    return 40 + c;
}

/* raw records for record indexes [from, from + count) */
static size_t enc_records(unsigned char *raw, uint64_t from, uint32_t count)
{
    size_t n = 0;
    for (uint64_t i = from; i < from + count; i++) {
        size_t s = rec_size(i);
        le32(raw + n, (uint32_t)s);
        rec_fill(i, raw + n + 4, s);
        n += 4 + s;
    }
    return n;
}

/* ------------------------------------------------------------ round trips */

START_TEST(round_trip_each_mode)
{
    uint32_t mode = modes[_i];
    char name[32];
    snprintf(name, sizeof name, "rt-%u.bvtj", mode);
    uint64_t first = 1000 + mode;
    bvt_journal *j = create_ok(name, first, mode, 3);
    ck_assert_uint_eq(bvt__journal_accepted(j), first - 1);
    ck_assert_uint_eq(bvt__journal_durable(j), first - 1);
    const uint64_t N = 700; /* 14 records of ~100 KB: the buffer fills more than once */
    for (uint64_t i = 0; i < N; i++) {
        ck_assert_uint_eq(append_rec(j, i), first + i);
        if (i % 97 == 0)
            ck_assert_int_eq(bvt__journal_sync(j), BVT_OK);
    }
    ck_assert_uint_eq(bvt__journal_accepted(j), first + N - 1);
    ck_assert_int_eq(bvt__journal_failed(j), 0);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);

    bvt_journal_scan sc;
    seen s = { first, 0, 0 };
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt__journal_scan_file(path_of(name), CHECK, check_rec, &s, &sc, &err);
    ck_assert_msg(rc == BVT_OK, "%d %s", rc, err.message);
    ck_assert_uint_eq(s.n, N);
    ck_assert_uint_eq(sc.records, N);
    ck_assert_uint_eq(sc.first_seq, first);
    ck_assert_uint_eq(sc.next_seq, first + N);
    ck_assert_int_eq(sc.torn_offset, -1);
    ck_assert_uint_eq(sc.torn_bytes, 0);
    ck_assert_uint_eq(sc.valid_bytes, file_size(path_of(name)));
}
END_TEST

START_TEST(empty_journal_and_header_layout)
{
    bvt_journal *j = create_ok("empty.bvtj", 42, BVT_JOURNAL_ALWAYS, 0);
    ck_assert_int_eq(bvt__journal_sync(j), BVT_OK); /* nothing to wait for */
    ck_assert_uint_eq(bvt__journal_durable(j), 41);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
    size_t n;
    unsigned char *b = read_all(path_of("empty.bvtj"), &n);
    ck_assert_uint_eq(n, 64);
    unsigned char want[64];
    enc_header(want, 42, CHECK);
    ck_assert(memcmp(b, want, 64) == 0);
    struct stat st;
    ck_assert_int_eq(stat(path_of("empty.bvtj"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);

    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(b, n, 42, &sc, &s, &err), BVT_OK);
    ck_assert_uint_eq(sc.records, 0);
    ck_assert_uint_eq(sc.first_seq, 42);
    ck_assert_uint_eq(sc.next_seq, 42);
    ck_assert_uint_eq(sc.valid_bytes, 64);
    ck_assert_int_eq(sc.torn_offset, -1);
    free(b);
}
END_TEST

START_TEST(frame_layout_matches_the_format)
{
    /* The writer's first frame: the header fields as documented, and a
     * journal made by the encoder here reads back the same way. */
    uint64_t ends[3];
    make_frames("layout.bvtj", 7, 2, 5, ends);
    size_t n;
    unsigned char *b = read_all(path_of("layout.bvtj"), &n);
    const unsigned char *f = b + 64;
    ck_assert(memcmp(f, "BVTF", 4) == 0);
    ck_assert_uint_eq(get32(f + 12), 5);      /* count */
    ck_assert_uint_eq(get64(f + 16), 7);      /* first_seq */
    ck_assert_uint_eq(get64(f + 24), 0);      /* reserved */
    ck_assert_uint_eq(40 + get32(f + 8), ends[1] - ends[0]);
    ck_assert_uint_eq(get64(f + 32), enc_frame_sum(f));
    static unsigned char raw[1 << 18]; /* record 7 is 100 KB */
    size_t rn = enc_records(raw, 0, 5);
    ck_assert_uint_eq(get32(f + 4), rn);      /* raw_len */
    unsigned char *dec = malloc(rn);
    ck_assert_uint_eq(ZSTD_decompress(dec, rn, f + 40, get32(f + 8)), rn);
    ck_assert(memcmp(dec, raw, rn) == 0);
    free(dec);
    ck_assert_uint_eq(get32(b + ends[1] + 12), 5);
    ck_assert_uint_eq(get64(b + ends[1] + 16), 12);

    static unsigned char img[1 << 19];
    size_t m = enc_header(img, 7, CHECK);
    m += enc_frame(img + m, sizeof img - m, raw, rn, (uint32_t)rn, 5, 7);
    rn = enc_records(raw, 5, 5);
    m += enc_frame(img + m, sizeof img - m, raw, rn, (uint32_t)rn, 5, 12);
    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(img, m, 7, &sc, &s, &err), BVT_OK);
    ck_assert_uint_eq(s.n, 10);
    ck_assert_uint_eq(sc.valid_bytes, m);
    free(b);
}
END_TEST

/* Records of sizes[i] bytes, each filled with 'a' + i. */
typedef struct filled {
    size_t i;
    const size_t *sizes;
} filled;

static int check_filled(void *ud, uint64_t seq, const void *rec, size_t n)
{
    filled *st = ud;
    ck_assert_uint_eq(seq, st->i + 1);
    ck_assert_uint_eq(n, st->sizes[st->i]);
    const unsigned char *p = rec;
    for (size_t k = 0; k < n; k++)
        if (p[k] != 'a' + st->i)
            ck_abort_msg("record %zu byte %zu", st->i, k);
    st->i++;
    return 0;
}

START_TEST(large_records_grow_the_buffer)
{
    /* Records larger than the 1 MiB buffer, between small ones, in order;
     * small records still work after the buffers shrink back. */
    bvt_journal *j = create_ok("large.bvtj", 1, BVT_JOURNAL_NONE, 0);
    static const size_t sizes[] = { 10, 5u << 20, 3, (1u << 20) + 1, 200, 2u << 20, 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(scratch, (int)('a' + i), sizes[i]);
        uint64_t seq;
        ck_assert_int_eq(bvt__journal_append(j, scratch, sizes[i], &seq), BVT_OK);
        ck_assert_uint_eq(seq, i + 1);
    }
    ck_assert_int_eq(bvt__journal_append(j, scratch, 0, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt__journal_append(j, scratch, BVT_JOURNAL_RECORD_MAX + 1, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt__journal_append(j, NULL, 5, NULL), BVT_EINVAL);
    ck_assert_uint_eq(bvt__journal_accepted(j), 7);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);

    size_t n;
    unsigned char *b = read_all(path_of("large.bvtj"), &n);
    bvt_journal_scan sc;
    bvt_error err = BVT_ERROR_INIT;
    filled st = { 0, sizes };
    int rc = bvt__journal_scan_buffer(b, n, CHECK, check_filled, &st, &sc, &err);
    ck_assert_msg(rc == BVT_OK, "%s", err.message);
    ck_assert_uint_eq(st.i, 7);
    ck_assert_uint_eq(sc.records, 7);
    free(b);
}
END_TEST

START_TEST(callback_stops_the_scan)
{
    uint64_t ends[4];
    make_frames("stop.bvtj", 5, 3, 4, ends);
    size_t n;
    unsigned char *b = read_all(path_of("stop.bvtj"), &n);
    seen s = { 5, 0, 6 };
    bvt_journal_scan sc;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__journal_scan_buffer(b, n, CHECK, check_rec, &s, &sc, &err),
                     BVT_ECORRUPT);
    ck_assert_uint_eq(s.n, 6);
    ck_assert_int_eq(err.code, BVT_ECORRUPT);
    ck_assert_int_eq(err.offset, (int64_t)ends[1]); /* the frame of record 6 */
    ck_assert_uint_eq(sc.records, 4);                /* the frames fully passed */
    /* NULL callback: validation only */
    ck_assert_int_eq(bvt__journal_scan_buffer(b, n, CHECK, NULL, NULL, &sc, NULL), BVT_OK);
    ck_assert_uint_eq(sc.records, 12);
    free(b);
}
END_TEST

/* ------------------------------------------------------------ durability */

START_TEST(wait_and_sync_make_records_durable)
{
    uint32_t mode = modes[_i];
    char name[32];
    snprintf(name, sizeof name, "wait-%u.bvtj", mode);
    bvt_journal *j = create_ok(name, 1, mode, 2);
    uint64_t last = 0;
    for (uint64_t i = 0; i < 30; i++) {
        uint64_t seq = append_rec(j, i);
        if (i % 3 == 0) {
            ck_assert_int_eq(bvt__journal_wait(j, seq), BVT_OK);
            ck_assert_uint_ge(bvt__journal_durable(j), seq);
        }
        last = seq;
    }
    ck_assert_int_eq(bvt__journal_sync(j), BVT_OK);
    ck_assert_uint_eq(bvt__journal_durable(j), last);
    /* Waiting for what is durable, or not yet appended, returns at once. */
    ck_assert_int_eq(bvt__journal_wait(j, 1), BVT_OK);
    ck_assert_int_eq(bvt__journal_wait(j, last + 100), BVT_OK);
    /* A reader sees everything synced while the journal is still open. */
    bvt_journal_scan sc;
    seen s = { 1, 0, 0 };
    ck_assert_int_eq(bvt__journal_scan_file(path_of(name), CHECK, check_rec, &s, &sc, NULL),
                     BVT_OK);
    ck_assert_uint_eq(sc.records, 30);
    ck_assert_int_eq(sc.torn_offset, -1);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
}
END_TEST

START_TEST(none_mode_buffers_until_full)
{
    bvt_journal *j = create_ok("none.bvtj", 1, BVT_JOURNAL_NONE, 0);
    memset(scratch, 'x', 1000);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(bvt__journal_append(j, scratch, 100, NULL), BVT_OK);
    /* Nothing written yet: only the header is in the file. */
    ck_assert_uint_eq(file_size(path_of("none.bvtj")), 64);
    ck_assert_uint_eq(bvt__journal_durable(j), 0);
    /* Filling the 1 MiB buffer makes the appender write it. */
    for (int i = 0; i < 1100; i++)
        ck_assert_int_eq(bvt__journal_append(j, scratch, 1000, NULL), BVT_OK);
    ck_assert_uint_gt(file_size(path_of("none.bvtj")), 64);
    ck_assert_uint_gt(bvt__journal_durable(j), 100);
    ck_assert_uint_lt(bvt__journal_durable(j), 1200);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
    bvt_journal_scan sc;
    ck_assert_int_eq(bvt__journal_scan_file(path_of("none.bvtj"), CHECK, NULL, NULL, &sc, NULL),
                     BVT_OK);
    ck_assert_uint_eq(sc.records, 1200);
}
END_TEST

START_TEST(group_commits_without_sync)
{
    bvt_journal *j = create_ok("group.bvtj", 1, BVT_JOURNAL_GROUP, 5);
    for (uint64_t i = 0; i < 20; i++)
        append_rec(j, i);
    /* A few intervals, with room for a loaded machine: durable must catch
     * up with no call but the flusher's. */
    struct timespec ts = { 0, 20 * 1000000L };
    for (int k = 0; k < 250 && bvt__journal_durable(j) < 20; k++)
        nanosleep(&ts, NULL);
    ck_assert_uint_eq(bvt__journal_durable(j), 20);
    bvt_journal_scan sc;
    seen s = { 1, 0, 0 };
    ck_assert_int_eq(bvt__journal_scan_file(path_of("group.bvtj"), CHECK, check_rec, &s, &sc,
                                           NULL), BVT_OK);
    ck_assert_uint_eq(sc.records, 20);
    /* and again, for a second group */
    for (uint64_t i = 20; i < 25; i++)
        append_rec(j, i);
    for (int k = 0; k < 250 && bvt__journal_durable(j) < 25; k++)
        nanosleep(&ts, NULL);
    ck_assert_uint_eq(bvt__journal_durable(j), 25);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
}
END_TEST

/* ALWAYS: threads append and wait; every record is there once. */
#define THREADS 4
#define PER_THREAD 300

typedef struct always_ctx {
    bvt_journal *j;
    int next_id;
    pthread_mutex_t m;
    int bad;
} always_ctx;

static void *always_worker(void *arg)
{
    always_ctx *c = arg;
    pthread_mutex_lock(&c->m);
    int id = c->next_id++;
    pthread_mutex_unlock(&c->m);
    for (int i = 0; i < PER_THREAD; i++) {
        unsigned char rec[64];
        size_t n = 8 + (size_t)(i % 50);
        memset(rec, id, n);
        rec[0] = (unsigned char)id;
        rec[1] = (unsigned char)(i & 0xff);
        rec[2] = (unsigned char)(i >> 8);
        uint64_t seq;
        if (bvt__journal_append(c->j, rec, n, &seq) != BVT_OK
            || bvt__journal_wait(c->j, seq) != BVT_OK || bvt__journal_durable(c->j) < seq)
            c->bad = 1;
    }
    return NULL;
}

typedef struct tally {
    int count[THREADS][PER_THREAD];
    int last[THREADS];
    uint64_t n;
    int out_of_order;
} tally;

static int tally_rec(void *ud, uint64_t seq, const void *rec, size_t n)
{
    tally *t = ud;
    const unsigned char *p = rec;
    ck_assert_uint_ge(n, 8);
    int id = p[0], i = p[1] | p[2] << 8;
    ck_assert_int_lt(id, THREADS);
    ck_assert_int_lt(i, PER_THREAD);
    ck_assert_uint_eq(n, 8 + (size_t)(i % 50));
    ck_assert_uint_eq(seq, 1 + t->n);
    t->count[id][i]++;
    if (i <= t->last[id])
        t->out_of_order = 1;
    t->last[id] = i;
    t->n++;
    return 0;
}

START_TEST(always_concurrent_waiters)
{
    always_ctx c = { create_ok("always.bvtj", 1, BVT_JOURNAL_ALWAYS, 0), 0,
                     PTHREAD_MUTEX_INITIALIZER, 0 };
    thread_fn fns[THREADS];
    for (int i = 0; i < THREADS; i++)
        fns[i] = always_worker;
    run_threads(fns, THREADS, &c);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_uint_eq(bvt__journal_durable(c.j), THREADS * PER_THREAD);
    ck_assert_int_eq(bvt__journal_close(c.j), BVT_OK);
    static tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < THREADS; i++)
        t.last[i] = -1;
    bvt_journal_scan sc;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__journal_scan_file(path_of("always.bvtj"), CHECK, tally_rec, &t, &sc,
                                           &err), BVT_OK);
    ck_assert_uint_eq(t.n, THREADS * PER_THREAD);
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < PER_THREAD; i++)
            ck_assert_int_eq(t.count[id][i], 1);
    ck_assert_int_eq(t.out_of_order, 0);
}
END_TEST

/* ------------------------------------------------------------ reading damage */

START_TEST(torn_tail_at_every_cut)
{
    uint64_t ends[4];
    make_frames("cut.bvtj", 9, 3, 6, ends);
    size_t n;
    unsigned char *b = read_all(path_of("cut.bvtj"), &n);
    uint64_t start = ends[2];
    for (size_t cut = start; cut < n; cut++) {
        bvt_journal_scan sc;
        seen s;
        bvt_error err;
        int rc = scan_image(b, cut, 9, &sc, &s, &err);
        ck_assert_msg(rc == BVT_OK, "cut %zu: %s", cut, err.message);
        ck_assert_uint_eq(s.n, 12);
        ck_assert_uint_eq(sc.records, 12);
        ck_assert_uint_eq(sc.next_seq, 9 + 12);
        ck_assert_uint_eq(sc.valid_bytes, start);
        if (cut == start) { /* cut at a frame boundary: nothing torn */
            ck_assert_int_eq(sc.torn_offset, -1);
        } else {
            ck_assert_int_eq(sc.torn_offset, (int64_t)start);
            ck_assert_uint_eq(sc.torn_bytes, cut - start);
        }
    }
    free(b);
}
END_TEST

/* A complete last frame that fails its checksum is damage, not a tear:
 * acknowledged records may be in it.  Only a larger length field cannot
 * be told from a frame cut short. */
START_TEST(bit_flip_in_last_frame_is_damage)
{
    uint64_t ends[4];
    make_frames("flip-last.bvtj", 1, 3, 4, ends);
    size_t n;
    unsigned char *b = read_all(path_of("flip-last.bvtj"), &n);
    size_t tears = 0;
    for (size_t pos = ends[2]; pos < n; pos++) {
        b[pos] ^= (unsigned char)(1u << (pos % 8));
        bvt_journal_scan sc;
        seen s;
        bvt_error err;
        int rc = scan_image(b, n, 1, &sc, &s, &err);
        int in_comp_len = pos >= ends[2] + 8 && pos < ends[2] + 12;
        if (rc == BVT_OK) {
            ck_assert_msg(in_comp_len, "flip at %zu read as a tear", pos);
            tears++;
        } else {
            ck_assert_msg(rc == BVT_ECORRUPT, "flip at %zu: %d %s", pos, rc, err.message);
            ck_assert_int_eq(sc.damaged, 1);
            ck_assert_int_eq(err.offset, (int64_t)ends[2]);
        }
        ck_assert_int_eq(sc.torn_offset, (int64_t)ends[2]);
        ck_assert_uint_eq(sc.torn_bytes, n - ends[2]);
        ck_assert_uint_eq(s.n, 8);
        b[pos] ^= (unsigned char)(1u << (pos % 8));
    }
    ck_assert_uint_le(tears, 4); /* the flips that grow comp_len past the end */
    free(b);
}
END_TEST

/* Damage before sound frames: the scan says which records they hold, so
 * a repair can report exactly what it drops. */
START_TEST(damage_reports_what_follows)
{
    uint64_t ends[5];
    make_frames("lost.bvtj", 1, 4, 3, ends);
    size_t n;
    unsigned char *b = read_all(path_of("lost.bvtj"), &n);
    b[ends[2] + 20] ^= 0x10; /* the third frame: records 7..9 */
    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(b, n, 1, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(sc.damaged, 1);
    ck_assert_int_eq(sc.torn_offset, (int64_t)ends[2]);
    ck_assert_uint_eq(sc.valid_bytes, ends[2]);
    ck_assert_uint_eq(sc.next_seq, 7);
    ck_assert_uint_eq(sc.lost_last_seq, 12);
    ck_assert_uint_eq(s.n, 6);
    free(b);
}
END_TEST

START_TEST(bit_flip_in_middle_frame_is_corrupt)
{
    uint64_t ends[4];
    make_frames("flip-mid.bvtj", 1, 3, 4, ends);
    size_t n;
    unsigned char *b = read_all(path_of("flip-mid.bvtj"), &n);
    for (int f = 1; f <= 2; f++) {
        for (size_t pos = ends[f - 1]; pos < ends[f]; pos++) {
            b[pos] ^= (unsigned char)(1u << (pos % 8));
            bvt_journal_scan sc;
            seen s;
            bvt_error err;
            int rc = scan_image(b, n, 1, &sc, &s, &err);
            ck_assert_msg(rc == BVT_ECORRUPT, "frame %d flip at %zu: %d", f, pos, rc);
            ck_assert_int_eq(err.code, BVT_ECORRUPT);
            ck_assert_int_eq(err.offset, (int64_t)ends[f - 1]);
            ck_assert(err.message[0] != 0);
            ck_assert_uint_eq(s.n, 4 * (f - 1)); /* the frames before it, none of it */
            b[pos] ^= (unsigned char)(1u << (pos % 8));
        }
    }
    free(b);
}
END_TEST

/* Frames whose checksum is right but whose content is wrong are damage,
 * not a tear, even at the end of the file. */
START_TEST(sound_frames_with_bad_content)
{
    static unsigned char img[1 << 16], raw[1 << 14];
    size_t h = enc_header(img, 100, CHECK);
    size_t rn = enc_records(raw, 0, 3);
    size_t good = h + enc_frame(img + h, sizeof img - h, raw, rn, (uint32_t)rn, 3, 100);

    struct { const char *what; uint32_t claim_delta; uint32_t count; uint64_t first;
             int overrun; int trailing; } cases[] = {
        { "sequence gap", 0, 2, 104, 0, 0 },
        { "sequence repeat", 0, 2, 102, 0, 0 },
        { "zero count", 0, 0, 103, 0, 0 },
        { "count too high", 0, 3, 103, 0, 0 },
        { "raw_len larger than the data", 1, 2, 103, 0, 0 },
        { "record overruns", 0, 2, 103, 1, 0 },
        { "trailing bytes", 0, 2, 103, 0, 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = enc_records(raw, 3, 2);
        if (cases[c].overrun)
            le32(raw + 4 + rec_size(3), (uint32_t)rec_size(4) + 1);
        if (cases[c].trailing)
            raw[n++] = 0;
        size_t m = good + enc_frame(img + good, sizeof img - good, raw, n,
                                    (uint32_t)n + cases[c].claim_delta, cases[c].count,
                                    cases[c].first);
        bvt_journal_scan sc;
        seen s;
        bvt_error err;
        int rc = scan_image(img, m, 100, &sc, &s, &err);
        ck_assert_msg(rc == BVT_ECORRUPT, "%s: %d", cases[c].what, rc);
        ck_assert_int_eq(err.offset, (int64_t)good);
        ck_assert_uint_eq(s.n, 3);
        ck_assert_uint_eq(sc.valid_bytes, good);
    }
    /* the same frame with the right fields reads */
    size_t n = enc_records(raw, 3, 2);
    size_t m = good + enc_frame(img + good, sizeof img - good, raw, n, (uint32_t)n, 2, 103);
    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(img, m, 100, &sc, &s, &err), BVT_OK);
    ck_assert_uint_eq(s.n, 5);
    /* An absurd raw_len is a bad frame: damage even at the end... */
    le32(img + good + 4, 0x7fffffffu);
    le64(img + good + 32, enc_frame_sum(img + good));
    ck_assert_int_eq(scan_image(img, m, 100, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(sc.damaged, 1);
    ck_assert_int_eq(sc.torn_offset, (int64_t)good);
    /* ... and damage before a sound frame. */
    size_t m2 = m + enc_frame(img + m, sizeof img - m, raw, n, (uint32_t)n, 2, 103);
    ck_assert_int_eq(scan_image(img, m2, 100, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(err.offset, (int64_t)good);
}
END_TEST

START_TEST(garbage_after_frames_is_damage)
{
    uint64_t ends[3];
    make_frames("garbage.bvtj", 1, 2, 3, ends);
    size_t n;
    unsigned char *b = read_all(path_of("garbage.bvtj"), &n);
    b = realloc(b, n + 5000);
    for (size_t i = 0; i < 5000; i++)
        b[n + i] = (unsigned char)(i * 131 + 7);
    memcpy(b + n + 100, "BVTF", 4); /* a magic alone is not a frame */
    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(b, n + 5000, 1, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(sc.damaged, 1);
    ck_assert_int_eq(err.offset, (int64_t)n);
    ck_assert_int_eq(sc.torn_offset, (int64_t)n);
    ck_assert_uint_eq(sc.torn_bytes, 5000);
    ck_assert_uint_eq(s.n, 6);
    /* zeros where a frame should start are damage too */
    memset(b + n, 0, 600);
    ck_assert_int_eq(scan_image(b, n + 600, 1, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(sc.torn_offset, (int64_t)n);
    free(b);
}
END_TEST

START_TEST(header_errors)
{
    uint64_t ends[2];
    make_frames("hdr.bvtj", 3, 1, 2, ends);
    size_t n;
    unsigned char *b = read_all(path_of("hdr.bvtj"), &n);
    bvt_journal_scan sc;
    seen s;
    bvt_error err;
    ck_assert_int_eq(scan_image(b, n, 3, &sc, &s, &err), BVT_OK);

    /* another check value */
    bvt_error_init(&err);
    ck_assert_int_eq(bvt__journal_scan_buffer(b, n, CHECK + 1, check_rec, &s, &sc, &err),
                     BVT_ESECRET);
    ck_assert_int_eq(err.code, BVT_ESECRET);
    ck_assert_uint_eq(sc.records, 0);

    /* wrong magic */
    b[3] ^= 0x20;
    ck_assert_int_eq(scan_image(b, n, 3, &sc, &s, &err), BVT_EFORMAT);
    ck_assert_int_eq(err.offset, 0);
    b[3] ^= 0x20;

    /* version 2, with and without a matching checksum */
    unsigned char save[64];
    memcpy(save, b, 64);
    le32(b + 8, 2);
    ck_assert_int_eq(scan_image(b, n, 3, &sc, &s, &err), BVT_EVERSION);
    fix_header_sum(b);
    ck_assert_int_eq(scan_image(b, n, 3, &sc, &s, &err), BVT_EVERSION);
    memcpy(b, save, 64);

    /* header checksum */
    b[40] ^= 1;
    ck_assert_int_eq(scan_image(b, n, 3, &sc, &s, &err), BVT_ECORRUPT);
    ck_assert_int_eq(err.offset, 56);
    b[40] ^= 1;

    /* every bit flip in the header is refused */
    for (size_t pos = 0; pos < 64; pos++) {
        b[pos] ^= (unsigned char)(1u << (pos % 8));
        ck_assert_int_ne(scan_image(b, n, 3, &sc, &s, &err), BVT_OK);
        ck_assert_uint_eq(s.n, 0);
        b[pos] ^= (unsigned char)(1u << (pos % 8));
    }

    /* shorter than a header: ETRUNCATED at every length (an exact-size
     * copy, so a read past the end would be seen by valgrind/ASan) */
    for (size_t len = 0; len < 64; len++) {
        unsigned char *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        ck_assert_int_eq(scan_image(len ? c : NULL, len, 3, &sc, &s, &err), BVT_ETRUNCATED);
        ck_assert_int_eq(err.offset, (int64_t)len);
        free(c);
    }
    free(b);
}
END_TEST

START_TEST(truncate_cuts_the_tail)
{
    uint64_t ends[4];
    make_frames("trunc.bvtj", 1, 3, 5, ends);
    const char *p = path_of("trunc.bvtj");
    /* a crash in the middle of the last write */
    ck_assert_int_eq(truncate(p, (off_t)(ends[2] + (ends[3] - ends[2]) / 2)), 0);
    bvt_journal_scan sc;
    seen s = { 1, 0, 0 };
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__journal_scan_file(p, CHECK, check_rec, &s, &sc, &err), BVT_OK);
    ck_assert_int_eq(sc.torn_offset, (int64_t)ends[2]);
    ck_assert_uint_eq(sc.valid_bytes, ends[2]);
    ck_assert_int_eq(bvt__journal_truncate(p, sc.valid_bytes, &err), BVT_OK);
    ck_assert_uint_eq(file_size(p), ends[2]);
    memset(&s, 0, sizeof s);
    s.first = 1;
    ck_assert_int_eq(bvt__journal_scan_file(p, CHECK, check_rec, &s, &sc, &err), BVT_OK);
    ck_assert_int_eq(sc.torn_offset, -1);
    ck_assert_uint_eq(sc.torn_bytes, 0);
    ck_assert_uint_eq(sc.records, 10);
    ck_assert_uint_eq(s.n, 10);
    /* growing is refused; a missing file is an I/O error naming it */
    ck_assert_int_eq(bvt__journal_truncate(p, ends[3], &err), BVT_EINVAL);
    ck_assert_uint_eq(file_size(p), ends[2]);
    ck_assert_int_eq(bvt__journal_truncate(path_of("missing.bvtj"), 64, &err), BVT_EIO);
    ck_assert_ptr_nonnull(strstr(err.message, "missing.bvtj"));
}
END_TEST

START_TEST(bad_arguments_and_io_errors)
{
    bvt_journal *j = (bvt_journal *)&j;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__journal_create(&j, path_of("a.bvtj"), 0, CHECK, BVT_JOURNAL_NONE, 0,
                                        &err), BVT_EINVAL);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(bvt__journal_create(&j, path_of("a.bvtj"), 1, CHECK, 0, 0, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt__journal_create(&j, path_of("a.bvtj"), 1, CHECK, 4, 0, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt__journal_create(&j, path_of("a.bvtj"), 1, CHECK, BVT_JOURNAL_GROUP, 0,
                                        &err), BVT_EINVAL);
    ck_assert_int_eq(bvt__journal_create(&j, NULL, 1, CHECK, BVT_JOURNAL_NONE, 0, &err),
                     BVT_EINVAL);
    ck_assert_int_eq(access(path_of("a.bvtj"), F_OK), -1); /* nothing made */

    /* an existing file is never overwritten */
    j = create_ok("a.bvtj", 1, BVT_JOURNAL_NONE, 0);
    ck_assert_int_eq(bvt__journal_append(j, "x", 1, NULL), BVT_OK);
    ck_assert_int_eq(bvt__journal_close(j), BVT_OK);
    uint64_t size = file_size(path_of("a.bvtj"));
    ck_assert_int_eq(bvt__journal_create(&j, path_of("a.bvtj"), 1, CHECK, BVT_JOURNAL_NONE, 0,
                                        &err), BVT_EIO);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.code, BVT_EIO);
    ck_assert_ptr_nonnull(strstr(err.message, "a.bvtj"));
    ck_assert_ptr_nonnull(strstr(err.message, "open"));
    ck_assert_uint_eq(file_size(path_of("a.bvtj")), size);
    ck_assert_int_eq(bvt__journal_create(&j, path_of("no-dir/b.bvtj"), 1, CHECK,
                                        BVT_JOURNAL_NONE, 0, &err), BVT_EIO);

    bvt_journal_scan sc;
    ck_assert_int_eq(bvt__journal_scan_file(path_of("missing.bvtj"), CHECK, NULL, NULL, &sc,
                                           &err), BVT_EIO);
    ck_assert_ptr_nonnull(strstr(err.message, "missing.bvtj"));
    /* data errors from a file name it too */
    write_all_file(path_of("short.bvtj"), "BVTJRNL", 8);
    ck_assert_int_eq(bvt__journal_scan_file(path_of("short.bvtj"), CHECK, NULL, NULL, &sc, &err),
                     BVT_ETRUNCATED);
    ck_assert_ptr_nonnull(strstr(err.message, "short.bvtj"));
    ck_assert_int_eq(bvt__journal_close(NULL), BVT_OK);
}
END_TEST

/* ------------------------------------------------------------ failure */

/* In a child process (the file size limit must not touch the test
 * runner): a journal whose frame write fails with EFBIG.  Returns 0 or
 * the number of the check that failed. */
static int failing_child(uint32_t mode)
{
    alarm(60); /* a wait that never returns kills the child, not the runner */
    signal(SIGXFSZ, SIG_IGN);
    const char *p = path_of(mode == BVT_JOURNAL_NONE    ? "fail-none.bvtj"
                            : mode == BVT_JOURNAL_GROUP ? "fail-group.bvtj"
                                                        : "fail-always.bvtj");
    bvt_journal *j = NULL;
    if (bvt__journal_create(&j, p, 1, CHECK, mode, 2, NULL) != BVT_OK)
        return 1;
    /* first frame: small, fits under the limit */
    for (uint64_t i = 0; i < 5; i++) {
        size_t n = 1 + (size_t)i;
        rec_fill(i, scratch, n);
        if (bvt__journal_append(j, scratch, n, NULL) != BVT_OK)
            return 2;
    }
    if (bvt__journal_sync(j) != BVT_OK)
        return 3;
    uint64_t good = bvt__journal_durable(j);
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = 4096;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 4;
    /* an incompressible 200 KB record cannot be written */
    uint64_t x = 88172645463325252ull, seq = 0;
    for (size_t k = 0; k < 200000; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        scratch[k] = (unsigned char)x;
    }
    if (bvt__journal_append(j, scratch, 200000, &seq) != BVT_OK)
        return 5;
    if (mode == BVT_JOURNAL_GROUP) {
        /* nobody calls sync: the flusher meets the error and wakes the waiter */
        if (bvt__journal_wait(j, seq) != BVT_EIO)
            return 6;
    } else if (bvt__journal_sync(j) != BVT_EIO)
        return 7;
    if (!bvt__journal_failed(j))
        return 8;
    uint64_t acc = bvt__journal_accepted(j);
    if (bvt__journal_append(j, "y", 1, NULL) != BVT_EIO || bvt__journal_accepted(j) != acc)
        return 9;
    if (bvt__journal_wait(j, seq) != BVT_EIO || bvt__journal_sync(j) != BVT_EIO)
        return 10;
    if (bvt__journal_wait(j, good) != BVT_OK) /* what was durable stays so */
        return 11;
    if (bvt__journal_durable(j) != good)
        return 12;
    if (bvt__journal_close(j) != BVT_EIO)
        return 13;
    /* The file holds the first frame and, at most, a torn tail. */
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
    bvt_journal_scan sc;
    if (bvt__journal_scan_file(p, CHECK, NULL, NULL, &sc, NULL) != BVT_OK)
        return 14;
    if (sc.records != 5 || (sc.torn_offset != -1 && (uint64_t)sc.torn_offset != sc.valid_bytes))
        return 15;
    return 0;
}

START_TEST(failed_writes_fail_the_journal)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0)
        _exit(failing_child(modes[_i]));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "child died (signal %d)",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WEXITSTATUS(status) == 0, "mode %u: check %d failed", modes[_i],
                  WEXITSTATUS(status));
}
END_TEST

/* Back-pressure in NONE mode: the appender that fills the buffer is the
 * one that meets the error. */
static int failing_backpressure_child(void)
{
    alarm(60);
    signal(SIGXFSZ, SIG_IGN);
    bvt_journal *j = NULL;
    if (bvt__journal_create(&j, path_of("fail-bp.bvtj"), 1, CHECK, BVT_JOURNAL_NONE, 0, NULL)
        != BVT_OK)
        return 1;
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = 1000;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 2;
    uint64_t x = 1;
    int rc = BVT_OK, i;
    for (i = 0; i < 20000 && rc == BVT_OK; i++) {
        for (int k = 0; k < 200; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            scratch[k] = (unsigned char)x;
        }
        rc = bvt__journal_append(j, scratch, 200, NULL);
    }
    if (rc != BVT_EIO || i < 5000) /* about 1 MiB went into the buffer first */
        return 3;
    if (!bvt__journal_failed(j) || bvt__journal_append(j, scratch, 10, NULL) != BVT_EIO)
        return 4;
    if (bvt__journal_durable(j) != 0)
        return 5;
    if (bvt__journal_close(j) != BVT_EIO)
        return 6;
    return 0;
}

START_TEST(failed_backpressure_write)
{
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0)
        _exit(failing_backpressure_child());
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "child died (signal %d)",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WEXITSTATUS(status) == 0, "check %d failed", WEXITSTATUS(status));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("journal");
    tcase_set_timeout(tc, 240);
    tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
    tcase_add_loop_test(tc, round_trip_each_mode, 0, 3);
    tcase_add_test(tc, empty_journal_and_header_layout);
    tcase_add_test(tc, frame_layout_matches_the_format);
    tcase_add_test(tc, large_records_grow_the_buffer);
    tcase_add_test(tc, callback_stops_the_scan);
    tcase_add_loop_test(tc, wait_and_sync_make_records_durable, 0, 3);
    tcase_add_test(tc, none_mode_buffers_until_full);
    tcase_add_test(tc, group_commits_without_sync);
    tcase_add_test(tc, always_concurrent_waiters);
    tcase_add_test(tc, torn_tail_at_every_cut);
    tcase_add_test(tc, bit_flip_in_last_frame_is_damage);
    tcase_add_test(tc, damage_reports_what_follows);
    tcase_add_test(tc, bit_flip_in_middle_frame_is_corrupt);
    tcase_add_test(tc, sound_frames_with_bad_content);
    tcase_add_test(tc, garbage_after_frames_is_damage);
    tcase_add_test(tc, header_errors);
    tcase_add_test(tc, truncate_cuts_the_tail);
    tcase_add_test(tc, bad_arguments_and_io_errors);
    tcase_add_loop_test(tc, failed_writes_fail_the_journal, 0, 3);
    tcase_add_test(tc, failed_backpressure_write);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
