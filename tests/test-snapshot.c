/* test-snapshot.c — snapshots: a random engine saved and loaded answers
 * every query the same (each user's full export, statistics, segments,
 * rankings, metrics, experiment reports); every corruption class gets its
 * status (truncation at each offset, a bit flip in each byte, wrong magic,
 * newer version, wrong secret) and nothing is half-loaded; options that
 * shape the data must match; the file is written atomically with mode
 * 0600; counters of huge amounts saturate and still load; a state
 * directory without a journal round-trips through
 * checkpoints; after forget and a checkpoint the user's key is in no byte
 * of the directory, compressed or not. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_SECRET "snapshot-test-secret-0123456789"
#include "testutil.h"
#include "statetest.h"

#include "codec.h"
#include "hash.h"
#include "journal.h"
#include "snapfile.h"

static char dir[64];

static void make_dir(void) { state_dir_make(dir); }
static void remove_dir(const char *d) { state_dir_remove(d); }
static const char *path_in(const char *name) { return state_path(dir, name); }

static bvt_options opts(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    return o;
}

static bvt_engine *load_ok(const char *path)
{
    bvt_options o = opts();
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_load(&e, &o, path, &err);
    ck_assert_msg(rc == BVT_OK, "load: %d %s at %lld", rc, err.message, (long long)err.offset);
    return e;
}

START_TEST(round_trip)
{
    make_dir();
    for (uint64_t seed = 1; seed <= 3; seed++) {
        bvt_engine *a = engine_default();
        random_state(a, seed * 7919);
        ck_assert_int_eq(bvt_engine_save(a, path_in("s.bvts"), NULL), BVT_OK);
        bvt_engine *b = load_ok(path_in("s.bvts"));
        same_engines(a, b);
        /* and again from the copy: saving is stable */
        ck_assert_int_eq(bvt_engine_save(b, path_in("t.bvts"), NULL), BVT_OK);
        bvt_engine *c = load_ok(path_in("t.bvts"));
        same_engines(a, c);
        /* the copies go on the same way */
        track_ok(a, "user-1", BVT_EVENT_PURCHASE, STATE_NOW, "sport", 9);
        track_ok(c, "user-1", BVT_EVENT_PURCHASE, STATE_NOW, "sport", 9);
        same_engines(a, c);
        bvt_engine_free(a);
        bvt_engine_free(b);
        bvt_engine_free(c);
    }
    struct stat st;
    ck_assert_int_eq(stat(path_in("s.bvts"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_ne(access(path_in("s.bvts.tmp"), F_OK), 0);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------ corruption */

static int load_status(const char *path, int64_t *offset)
{
    bvt_options o = opts();
    bvt_engine *e = (bvt_engine *)&o; /* must be reset to NULL on failure */
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_load(&e, &o, path, &err);
    if (rc != BVT_OK)
        ck_assert_ptr_null(e);
    bvt_engine_free(rc == BVT_OK ? e : NULL);
    if (offset)
        *offset = err.offset;
    return rc;
}

/* A small snapshot: a few users, every section present. */
static unsigned char *small_snapshot(size_t *len)
{
    bvt_engine *e = engine_default();
    track_ok(e, "a", BVT_EVENT_PAGE_VIEW, T0 + 1, "home/beds", 0);
    track_ok(e, "b", BVT_EVENT_PURCHASE, T0 + 2, "sport", 12);
    ck_assert_int_eq(bvt_attr_set_string(e, "a", 1, "tier", "gold"), BVT_OK);
    ck_assert_int_eq(bvt_engine_save(e, path_in("small.bvts"), NULL), BVT_OK);
    bvt_engine_free(e);
    return state_read_file(path_in("small.bvts"), len);
}

/* Offsets of the blocks of a snapshot image (header excluded). */
static size_t block_offsets(const unsigned char *p, size_t len, uint64_t *at, size_t cap)
{
    size_t n = 0;
    for (size_t pos = BVT_SNAP_HEADER; pos + BVT_SNAP_BLOCK_HEADER <= len && n < cap;) {
        bvt_rbuf r;
        bvt__rbuf_init(&r, p + pos + 16, 8);
        at[n++] = pos;
        pos += BVT_SNAP_BLOCK_HEADER + bvt__r_u64(&r);
    }
    return n;
}

START_TEST(truncation_at_every_offset)
{
    make_dir();
    size_t len;
    unsigned char *img = small_snapshot(&len);
    for (size_t cut = 0; cut < len; cut++) {
        state_write_file(path_in("cut.bvts"), img, cut);
        int64_t off;
        int rc = load_status(path_in("cut.bvts"), &off);
        ck_assert_msg(rc == BVT_ETRUNCATED, "cut at %zu of %zu: %d", cut, len, rc);
        ck_assert_msg(off >= 0 && (size_t)off <= cut, "cut at %zu: offset %lld", cut,
                      (long long)off);
    }
    /* a byte too many after the END block */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, img, len);
    longer[len] = 0;
    state_write_file(path_in("long.bvts"), longer, len + 1);
    ck_assert_int_eq(load_status(path_in("long.bvts"), NULL), BVT_ECORRUPT);
    free(longer);
    free(img);
    remove_dir(dir);
}
END_TEST

START_TEST(bit_flip_in_every_byte)
{
    make_dir();
    size_t len;
    unsigned char *img = small_snapshot(&len);
    uint64_t at[64];
    size_t n_blocks = block_offsets(img, len, at, 64);
    ck_assert_uint_ge(n_blocks, 8); /* META, five sections, profiles, END */
    for (size_t i = 0; i < len; i++) {
        img[i] ^= (unsigned char)(1u << (i % 8));
        state_write_file(path_in("flip.bvts"), img, len);
        img[i] ^= (unsigned char)(1u << (i % 8));
        int64_t off;
        int rc = load_status(path_in("flip.bvts"), &off);
        /* a block's length field may now reach past the end */
        int in_length = 0;
        for (size_t b = 0; b < n_blocks; b++)
            in_length |= i >= at[b] + 16 && i < at[b] + 24;
        if (i < 8)
            ck_assert_msg(rc == BVT_EFORMAT, "flip in the magic at %zu: %d", i, rc);
        else if (in_length)
            ck_assert_msg(rc == BVT_ECORRUPT || rc == BVT_ETRUNCATED, "flip at %zu: %d", i, rc);
        else
            ck_assert_msg(rc == BVT_ECORRUPT, "flip at %zu: %d", i, rc);
        if (rc == BVT_ECORRUPT && i >= BVT_SNAP_HEADER) { /* the block that holds it */
            size_t b = 0;
            while (b + 1 < n_blocks && at[b + 1] <= i)
                b++;
            ck_assert_msg((uint64_t)off == at[b], "flip at %zu: offset %lld, block at %llu", i,
                          (long long)off, (unsigned long long)at[b]);
        }
    }
    free(img);
    remove_dir(dir);
}
END_TEST

/* Rewrite the header's version and check value with a valid checksum. */
static void forge_header(unsigned char *img, uint32_t version, uint64_t check)
{
    bvt_wbuf w = bvt__wbuf_fixed(img + 8, 16);
    bvt__w_u32(&w, version);
    bvt__w_u32(&w, 0);
    bvt__w_u64(&w, check);
    uint64_t sum = XXH3_64bits(img, BVT_SNAP_HEADER - 8);
    bvt_wbuf s = bvt__wbuf_fixed(img + BVT_SNAP_HEADER - 8, 8);
    bvt__w_u64(&s, sum);
}

START_TEST(foreign_newer_and_wrong_secret)
{
    make_dir();
    size_t len;
    unsigned char *img = small_snapshot(&len);
    bvt_rbuf r;
    bvt__rbuf_init(&r, img + 16, 8);
    uint64_t check = bvt__r_u64(&r);

    unsigned char *copy = malloc(len);
    memcpy(copy, img, len);
    memcpy(copy, "SQLite f", 8);
    state_write_file(path_in("x.bvts"), copy, len);
    ck_assert_int_eq(load_status(path_in("x.bvts"), NULL), BVT_EFORMAT);

    memcpy(copy, img, len);
    forge_header(copy, 3, check);
    state_write_file(path_in("x.bvts"), copy, len);
    int64_t off;
    ck_assert_int_eq(load_status(path_in("x.bvts"), &off), BVT_EVERSION);
    ck_assert_int_eq(off, 8);

    /* without a tombstone the file is format 1 (older libraries read it);
     * format 2 only adds tombstones, so both read alike */
    ck_assert_int_eq(img[8], 1);
    for (uint32_t version = 1; version <= 2; version++) {
        memcpy(copy, img, len);
        forge_header(copy, version, check);
        state_write_file(path_in("x.bvts"), copy, len);
        ck_assert_int_eq(load_status(path_in("x.bvts"), NULL), BVT_OK); /* a faithful forge */
    }

    /* the same file opened with another secret */
    state_write_file(path_in("x.bvts"), img, len);
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = "another-secret-of-enough-length";
    o.secret_len = strlen(o.secret);
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_load(&e, &o, path_in("x.bvts"), &err), BVT_ESECRET);
    ck_assert_ptr_null(e);

    /* data-shaping options must match; capacity options may differ */
    o = opts();
    o.history_events = 8;
    ck_assert_int_eq(bvt_engine_load(&e, &o, path_in("x.bvts"), &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "history_events"));
    o = opts();
    o.shards = 4;
    ck_assert_int_eq(bvt_engine_load(&e, &o, path_in("x.bvts"), &err), BVT_OK);
    ck_assert(bvt_user_exists(e, "a", 1));
    bvt_engine_free(e);
    o = opts();
    o.max_users = 1;
    ck_assert_int_eq(bvt_engine_load(&e, &o, path_in("x.bvts"), &err), BVT_EFULL);
    ck_assert_ptr_null(e);

    ck_assert_int_eq(load_status(path_in("absent.bvts"), NULL), BVT_EIO);
    free(copy);
    free(img);
    remove_dir(dir);
}
END_TEST

/* -------------------------------------------------------- huge amounts */

/* Amounts that add up past what a double holds (a purchase of 1e200 by an
 * exposed user, whose square the variant's variance adds; purchases and
 * conversions of 1e308): the counters saturate at DBL_MAX, so the engine
 * still saves and loads.  They became infinite before, and the loader
 * refuses a counter that is not finite (found by fuzz-journal-records). */
START_TEST(huge_amounts_still_load)
{
    make_dir();
    bvt_engine *a = engine_default();
    bvt_offer o = BVT_OFFER_INIT;
    o.id = "o";
    o.response = BVT_EVENT_CONVERSION;
    uint32_t offer, exp;
    ck_assert_int_eq(bvt_offer_define(a, &o, &offer, NULL), BVT_OK);
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "treatment", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp";
    x.variants = v;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(a, &x, &exp, NULL), BVT_OK);
    int32_t variant;
    ck_assert_int_eq(bvt_experiment_assign(a, exp, "u", 1, T0, &variant), BVT_OK);
    track_ok(a, "u", BVT_EVENT_PURCHASE, T0 + 1, "sport", 1e200);
    track_ok(a, "u", BVT_EVENT_PURCHASE, T0 + 2, "sport", 1e308);
    track_ok(a, "u", BVT_EVENT_PURCHASE, T0 + 3, "sport", 1e308);
    for (int i = 0; i < 3; i++) {
        bvt_event ev = make_event("u", i ? BVT_EVENT_CONVERSION : BVT_EVENT_IMPRESSION,
                                  T0 + 10 + i, NULL, i ? 1e308 : 0);
        ev.offer_id = "o";
        ck_assert_int_eq(bvt_event_track(a, &ev, NULL), BVT_OK);
    }
    ck_assert_int_eq(bvt_engine_save(a, path_in("s.bvts"), NULL), BVT_OK);
    bvt_engine *b = load_ok(path_in("s.bvts"));
    bvt_metrics m = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(b, offer, 0, &m), BVT_OK);
    ck_assert(m.revenue == DBL_MAX);
    bvt_engine_free(a);
    bvt_engine_free(b);
    remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------ state directories */

static bvt_engine *open_dir(uint32_t journal)
{
    bvt_options o = opts();
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    st.journal = journal;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, &o, &st, &err);
    ck_assert_msg(rc == BVT_OK, "open: %d %s", rc, err.message);
    return e;
}

START_TEST(directory_without_journal)
{
    make_dir();
    bvt_engine *e = open_dir(BVT_JOURNAL_OFF);
    random_state(e, 42);
    bvt_engine *mirror = engine_default();
    random_state(mirror, 42);
    ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
    bvt_engine_free(e);
    e = open_dir(BVT_JOURNAL_OFF);
    same_engines(mirror, e);
    /* a second engine cannot open the directory while this one has it */
    bvt_options o = opts();
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    bvt_engine *other = NULL;
    ck_assert_int_eq(bvt_engine_open(&other, &o, &st, NULL), BVT_EIO);
    ck_assert_ptr_null(other);
    bvt_engine_free(e);
    bvt_engine_free(mirror);
    remove_dir(dir);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *t = tcase_create("snapshot");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, round_trip);
    tcase_add_test(t, truncation_at_every_offset);
    tcase_add_test(t, bit_flip_in_every_byte);
    tcase_add_test(t, foreign_newer_and_wrong_secret);
    tcase_add_test(t, huge_amounts_still_load);
    tcase_add_test(t, directory_without_journal);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return run_suite(suite()); }
