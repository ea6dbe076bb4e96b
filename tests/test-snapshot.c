/* test-snapshot.c — snapshots: a random engine saved and loaded answers
 * every query the same (each user's full export, statistics, segments,
 * rankings, metrics, experiment reports); every corruption class gets its
 * status (truncation at each offset, a bit flip in each byte, wrong magic,
 * newer version, wrong secret) and nothing is half-loaded; options that
 * shape the data must match; the file is written atomically with mode
 * 0600; a state directory without a journal round-trips through
 * checkpoints; after forget and a checkpoint the user's key is in no byte
 * of the directory, compressed or not. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_SECRET "snapshot-test-secret-0123456789"
#include "testutil.h"

#include "codec.h"
#include "hash.h"
#include "journal.h"
#include "snapfile.h"

#define USERS 240
#define EXPORT_CAP (1u << 20)
#define NOW (T0 + 30 * DAY)

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/bvt-snap-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp)
        return;
    for (struct dirent *de; (de = readdir(dp));) {
        if (de->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        unlink(p);
    }
    closedir(dp);
    rmdir(d);
}

static char *path_in(const char *name)
{
    static char p[2][256];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void user_name(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "user-%u", i);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ------------------------------------------------ a random engine state */

static const char *CATS[] = { "home/beds", "home/beds/mattress", "home/lamps", "sport/run",
                              "sport", "books/crime" };

static void offers_and_experiments(bvt_engine *e)
{
    const char *ids[] = { "o-bed", "o-lamp", "o-run", "o-gone" };
    for (unsigned i = 0; i < 4; i++) {
        bvt_offer o = BVT_OFFER_INIT;
        o.id = ids[i];
        o.value = 1 + i;
        bvt_cap cap = { 3, DAY };
        o.caps = &cap;
        o.n_caps = 1;
        ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_OK);
    }
    ck_assert_int_eq(bvt_offer_remove(e, "o-gone", NULL), BVT_OK);
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "treatment", 1, NULL, NULL, 0 } };
    x.name = "exp";
    x.variants = v;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, NULL), BVT_OK);
}

static void random_state(bvt_engine *e, uint64_t seed)
{
    uint64_t s = seed | 1;
    uint32_t purpose;
    ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 1, &purpose), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "mattress", "home/beds/mattress", NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "sleepers", "count(page_view, *, 30d) >= 2", NULL, NULL),
                     BVT_OK);
    offers_and_experiments(e);
    const char *offers[] = { "o-bed", "o-lamp", "o-run" };
    char u[32];
    for (unsigned n = 0; n < USERS * 12; n++) {
        unsigned i = (unsigned)(rng_next(&s) % USERS);
        user_name(u, sizeof u, i);
        int64_t t = T0 + (int64_t)(rng_next(&s) % (uint64_t)(29 * DAY)) + 1;
        uint32_t kind = (uint32_t)(rng_next(&s) % 10);
        bvt_event ev = make_event(u, BVT_EVENT_PAGE_VIEW, t, CATS[rng_next(&s) % 6], 0);
        switch (kind) {
        case 0: ev.type = BVT_EVENT_SEARCH; ev.category = NULL; ev.search_text = "red mattress"; break;
        case 1: ev.type = BVT_EVENT_ADD_TO_CART; ev.item_id = "sku-1"; ev.value = 20; break;
        case 2: ev.type = BVT_EVENT_PURCHASE; ev.value = 5.0 + (double)(rng_next(&s) % 100); break;
        case 3: ev.type = BVT_EVENT_IMPRESSION; ev.offer_id = offers[rng_next(&s) % 3]; break;
        case 4: ev.type = BVT_EVENT_CLICK; ev.offer_id = offers[rng_next(&s) % 3]; break;
        default: ev.dwell_ms = (int64_t)(rng_next(&s) % 60000); break;
        }
        ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
        if (n % 7 == 0)
            ck_assert_int_eq(bvt_attr_set_string(e, u, strlen(u), "tier", n % 2 ? "gold" : "blue"),
                             BVT_OK);
        if (n % 11 == 0)
            ck_assert_int_eq(bvt_attr_set_number(e, u, strlen(u), "age", (double)(n % 70)), BVT_OK);
        if (n % 13 == 0)
            ck_assert_int_eq(bvt_consent_set(e, u, strlen(u), purpose, (int)(n % 2), t), BVT_OK);
        if (n % 17 == 0) {
            uint32_t exp;
            int32_t variant;
            ck_assert_int_eq(bvt_experiment_lookup(e, "exp", &exp), BVT_OK);
            ck_assert_int_eq(bvt_experiment_assign(e, exp, u, strlen(u), t, &variant), BVT_OK);
        }
    }
    for (unsigned i = 0; i < 10; i++) { /* anonymous visitors who log in */
        char anon[32];
        snprintf(anon, sizeof anon, "anon-%u", i);
        user_name(u, sizeof u, i * 3);
        track_ok(e, anon, BVT_EVENT_PAGE_VIEW, T0 + DAY, "sport/run", 0);
        ck_assert_int_eq(bvt_user_alias(e, anon, strlen(anon), u, strlen(u), NULL), BVT_OK);
    }
    ck_assert_int_eq(bvt_rfm_refresh(e, NOW, NULL), BVT_OK);
}

/* ------------------------------------------------------- comparing engines */

static char *export_of(bvt_engine *e, const char *u)
{
    char *buf = malloc(EXPORT_CAP);
    size_t len;
    int rc = bvt_user_export(e, u, strlen(u), NOW, buf, EXPORT_CAP, &len);
    if (rc == BVT_ENOTFOUND) {
        strcpy(buf, "absent");
        return buf;
    }
    ck_assert_int_eq(rc, BVT_OK);
    return buf;
}

static void same_engines(bvt_engine *a, bvt_engine *b)
{
    char u[32];
    for (unsigned i = 0; i < USERS + 10; i++) {
        if (i < USERS)
            user_name(u, sizeof u, i);
        else
            snprintf(u, sizeof u, "anon-%u", i - USERS);
        char *x = export_of(a, u), *y = export_of(b, u);
        ck_assert_msg(strcmp(x, y) == 0, "%s differs:\n%s\n%s", u, x, y);
        free(x);
        free(y);
    }
    bvt_stats sa = stats_of(a), sb = stats_of(b);
    ck_assert_uint_eq(sa.users, sb.users);
    ck_assert_uint_eq(sa.events_accepted, sb.events_accepted);
    ck_assert_uint_eq(sa.events_rejected, sb.events_rejected);
    ck_assert_uint_eq(sa.bytes_history, sb.bytes_history);
    ck_assert_uint_eq(sa.bytes_cart, sb.bytes_cart);
    ck_assert_uint_eq(sa.bytes_attributes, sb.bytes_attributes);
    uint32_t offer;
    ck_assert_int_eq(bvt_offer_lookup(a, "o-bed", &offer), BVT_OK);
    bvt_metrics ma = BVT_METRICS_INIT, mb = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(a, offer, BVT_ANY, &ma), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(b, offer, BVT_ANY, &mb), BVT_OK);
    ck_assert_uint_eq(ma.impressions, mb.impressions);
    ck_assert_uint_eq(ma.clicks, mb.clicks);
    ck_assert(ma.revenue == mb.revenue);
}

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
        track_ok(a, "user-1", BVT_EVENT_PURCHASE, NOW, "sport", 9);
        track_ok(c, "user-1", BVT_EVENT_PURCHASE, NOW, "sport", 9);
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

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*len ? *len : 1);
    ck_assert_uint_eq(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

static void write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

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
    return read_file(path_in("small.bvts"), len);
}

/* Offsets of the blocks of a snapshot image (header excluded). */
static size_t block_offsets(const unsigned char *p, size_t len, uint64_t *at, size_t cap)
{
    size_t n = 0;
    for (size_t pos = BVT_SNAP_HEADER; pos + BVT_SNAP_BLOCK_HEADER <= len && n < cap;) {
        bvt_rbuf r;
        bvt_rbuf_init(&r, p + pos + 16, 8);
        at[n++] = pos;
        pos += BVT_SNAP_BLOCK_HEADER + bvt_r_u64(&r);
    }
    return n;
}

START_TEST(truncation_at_every_offset)
{
    make_dir();
    size_t len;
    unsigned char *img = small_snapshot(&len);
    for (size_t cut = 0; cut < len; cut++) {
        write_file(path_in("cut.bvts"), img, cut);
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
    write_file(path_in("long.bvts"), longer, len + 1);
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
        write_file(path_in("flip.bvts"), img, len);
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
    bvt_wbuf w = bvt_wbuf_fixed(img + 8, 16);
    bvt_w_u32(&w, version);
    bvt_w_u32(&w, 0);
    bvt_w_u64(&w, check);
    uint64_t sum = XXH3_64bits(img, BVT_SNAP_HEADER - 8);
    bvt_wbuf s = bvt_wbuf_fixed(img + BVT_SNAP_HEADER - 8, 8);
    bvt_w_u64(&s, sum);
}

START_TEST(foreign_newer_and_wrong_secret)
{
    make_dir();
    size_t len;
    unsigned char *img = small_snapshot(&len);
    bvt_rbuf r;
    bvt_rbuf_init(&r, img + 16, 8);
    uint64_t check = bvt_r_u64(&r);

    unsigned char *copy = malloc(len);
    memcpy(copy, img, len);
    memcpy(copy, "SQLite f", 8);
    write_file(path_in("x.bvts"), copy, len);
    ck_assert_int_eq(load_status(path_in("x.bvts"), NULL), BVT_EFORMAT);

    memcpy(copy, img, len);
    forge_header(copy, 2, check);
    write_file(path_in("x.bvts"), copy, len);
    int64_t off;
    ck_assert_int_eq(load_status(path_in("x.bvts"), &off), BVT_EVERSION);
    ck_assert_int_eq(off, 8);

    memcpy(copy, img, len);
    forge_header(copy, 1, check);
    write_file(path_in("x.bvts"), copy, len);
    ck_assert_int_eq(load_status(path_in("x.bvts"), NULL), BVT_OK); /* the forge is faithful */

    /* the same file opened with another secret */
    write_file(path_in("x.bvts"), img, len);
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
    tcase_add_test(t, directory_without_journal);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return run_suite(suite()); }
