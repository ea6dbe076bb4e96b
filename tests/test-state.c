/* test-state.c — state directories with a journal: a random engine
 * reopened from its journal (with and without checkpoints in between, in
 * each durability mode) answers every query as the engine it came from;
 * a torn tail is cut and reported, damage elsewhere refused; checkpoints
 * delete the journal files they cover; after forget and a checkpoint the
 * user's key is in no byte of the directory, raw or decompressed; a
 * journal that cannot be written makes every later change fail and change
 * nothing; durable_seq and sync keep their promises. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_SECRET "state-test-secret-0123456789ab"
#include "testutil.h"
#include "statetest.h"

#include "codec.h"

static char dir[64];

static bvt_options opts(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    return o;
}

static int open_status(uint32_t mode, bvt_engine **out, bvt_error *err)
{
    bvt_options o = opts();
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    st.journal = mode;
    st.group_commit_ms = 1;
    return bvt_engine_open(out, &o, &st, err);
}

static bvt_engine *open_ok(uint32_t mode)
{
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = open_status(mode, &e, &err);
    ck_assert_msg(rc == BVT_OK, "open: %d %s at %lld", rc, err.message, (long long)err.offset);
    return e;
}

static bvt_state_info info_of(bvt_engine *e)
{
    bvt_state_info i = BVT_STATE_INFO_INIT;
    ck_assert_int_eq(bvt_state_info_get(e, &i), BVT_OK);
    return i;
}

/* Journal files in dir, and the newest one's path. */
static int journals(char *newest, size_t cap)
{
    DIR *d = opendir(dir);
    int n = 0;
    char best[256] = "";
    for (struct dirent *de; (de = readdir(d));)
        if (strncmp(de->d_name, "journal-", 8) == 0) {
            n++;
            if (strcmp(de->d_name, best) > 0)
                snprintf(best, sizeof best, "%s", de->d_name);
        }
    closedir(d);
    if (newest)
        snprintf(newest, cap, "%s/%s", dir, best);
    return n;
}

START_TEST(replay_equals_the_original)
{
    static const uint32_t modes[] = { BVT_JOURNAL_NONE, BVT_JOURNAL_GROUP, BVT_JOURNAL_ALWAYS };
    uint32_t mode = modes[_i];
    state_dir_make(dir);
    bvt_engine *mirror = engine_default();
    random_state(mirror, 99 + _i);
    bvt_engine *e = open_ok(mode);
    random_state(e, 99 + _i);
    bvt_state_info before = info_of(e);
    ck_assert_uint_gt(before.accepted_seq, 1000);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    ck_assert_uint_eq(info_of(e).durable_seq, info_of(e).accepted_seq);
    bvt_engine_free(e);

    e = open_ok(mode); /* everything from the journal alone */
    bvt_state_info in = info_of(e);
    ck_assert_uint_eq(in.snapshot_seq, 0);
    ck_assert_uint_eq(in.replayed, before.accepted_seq);
    ck_assert_int_eq(in.torn_offset, -1);
    same_engines(mirror, e);

    /* a checkpoint, more changes, and a reopen: snapshot + journal */
    ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
    ck_assert_int_eq(journals(NULL, 0), 1);
    track_ok(e, "user-3", BVT_EVENT_PURCHASE, STATE_NOW, "sport", 42);
    track_ok(mirror, "user-3", BVT_EVENT_PURCHASE, STATE_NOW, "sport", 42);
    ck_assert_int_eq(bvt_attr_set_string(e, "user-4", 6, "tier", "new"), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string(mirror, "user-4", 6, "tier", "new"), BVT_OK);
    bvt_engine_free(e);
    e = open_ok(mode);
    in = info_of(e);
    ck_assert_uint_eq(in.snapshot_seq, before.accepted_seq);
    ck_assert_uint_eq(in.replayed, 2);
    same_engines(mirror, e);
    bvt_engine_free(e);
    bvt_engine_free(mirror);
    state_dir_remove(dir);
}
END_TEST

START_TEST(torn_tail_is_cut_and_reported)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok(BVT_JOURNAL_ALWAYS); /* a frame per event */
    for (int i = 0; i < 20; i++)
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + i + 1, NULL, 0);
    bvt_engine_free(e);
    char path[256];
    ck_assert_int_eq(journals(path, sizeof path), 1);
    size_t len;
    unsigned char *img = state_read_file(path, &len);
    state_write_file(path, img, len - 5); /* the last frame loses its end */
    e = open_ok(BVT_JOURNAL_OFF);
    bvt_state_info in = info_of(e);
    ck_assert_int_ge(in.torn_offset, 64);
    ck_assert_uint_gt(in.torn_bytes, 0);
    ck_assert_uint_eq(in.replayed, 19);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).events, 19);
    bvt_engine_free(e);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((uint64_t)st.st_size, (uint64_t)in.torn_offset); /* cut there */

    /* a flipped byte in an early frame, with good frames after it */
    free(img);
    img = state_read_file(path, &len);
    img[64 + 45] ^= 0x10;
    state_write_file(path, img, len);
    bvt_engine *bad = NULL;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(open_status(BVT_JOURNAL_OFF, &bad, &err), BVT_ECORRUPT);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(err.offset, 64);

    /* the same journal under another secret */
    img[64 + 45] ^= 0x10;
    state_write_file(path, img, len);
    bvt_options o = opts();
    o.secret = "another-secret-of-enough-length";
    o.secret_len = strlen(o.secret);
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = dir;
    ck_assert_int_eq(bvt_engine_open(&bad, &o, &so, &err), BVT_ESECRET);
    free(img);
    state_dir_remove(dir);
}
END_TEST

static int dir_holds(const unsigned char *key, uint64_t check)
{
    return state_dir_holds(dir, check, key, 16);
}

START_TEST(forgotten_user_leaves_the_disk)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok(BVT_JOURNAL_GROUP);
    random_state(e, 5);
    ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
    track_ok(e, "user-7", BVT_EVENT_PAGE_VIEW, STATE_NOW, "sport", 0);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    bvt_user_key k, alias;
    ck_assert_int_eq(bvt_user_key_of(e, "user-7", 6, &k), BVT_OK);
    unsigned char key[16], key2[16];
    bvt_wbuf w = bvt__wbuf_fixed(key, 16);
    bvt__w_u64(&w, k.hi);
    bvt__w_u64(&w, k.lo);
    uint64_t check = state_check(dir);
    ck_assert(dir_holds(key, check)); /* the test can see a key */
    /* user-21 logged in as anon-7: forgetting it takes the alias too */
    ck_assert_int_eq(bvt_user_key_of(e, "anon-7", 6, &alias), BVT_OK);
    w = bvt__wbuf_fixed(key2, 16);
    bvt__w_u64(&w, alias.hi);
    bvt__w_u64(&w, alias.lo);
    ck_assert(dir_holds(key2, check));

    ck_assert_int_eq(bvt_user_forget(e, "user-7", 6, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_forget(e, "user-21", 7, NULL), BVT_OK);
    ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
    ck_assert(!dir_holds(key, check));
    ck_assert(!dir_holds(key2, check));
    bvt_engine_free(e);
    ck_assert(!dir_holds(key, check));
    e = open_ok(BVT_JOURNAL_OFF);
    ck_assert(!bvt_user_exists(e, "user-7", 6));
    ck_assert(!bvt_user_exists(e, "anon-7", 6));
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

/* In a forked child: open the directory with BVT_JOURNAL_ALWAYS in a
 * process whose files may not grow past 16 KiB, so the journal fails soon
 * (exit 10 when it cannot be opened). */
static bvt_engine *open_small_files(void)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = { 16384, 16384 };
    setrlimit(RLIMIT_FSIZE, &rl);
    bvt_engine *e = NULL;
    if (open_status(BVT_JOURNAL_ALWAYS, &e, NULL) != BVT_OK)
        _exit(10);
    return e;
}

/* In a child whose files may not grow past a few KiB: the journal fails,
 * then nothing more is accepted and nothing changes. */
START_TEST(failed_journal_accepts_nothing)
{
    state_dir_make(dir);
    pid_t pid = fork();
    if (pid == 0) {
        bvt_engine *e = open_small_files();
        int rc = BVT_OK, i = 0;
        for (; i < 100000 && rc == BVT_OK; i++) {
            bvt_event ev = make_event("u", BVT_EVENT_PURCHASE, T0 + i + 1, NULL, 1);
            rc = bvt_event_track(e, &ev, NULL);
        }
        if (rc != BVT_EIO)
            _exit(11);
        bvt_profile before, after;
        bvt_profile_init(&before);
        bvt_profile_init(&after);
        bvt_profile_get(e, "u", 1, T0 + DAY, &before);
        bvt_event ev = make_event("u", BVT_EVENT_PURCHASE, T0 + DAY, NULL, 1);
        if (bvt_event_track(e, &ev, NULL) != BVT_EIO ||
            bvt_attr_set_number(e, "u", 1, "age", 3) != BVT_EIO ||
            bvt_user_forget(e, "u", 1, NULL) != BVT_EIO || bvt_engine_sync(e, NULL) != BVT_EIO)
            _exit(12);
        bvt_profile_get(e, "u", 1, T0 + DAY, &after);
        if (after.purchases != before.purchases || bvt_attr_get(e, "u", 1, "age", NULL, NULL,
                                                                NULL) != BVT_ENOTFOUND)
            _exit(13);
        bvt_engine_free(e);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    /* what was durable reopens */
    bvt_engine *e = open_ok(BVT_JOURNAL_OFF);
    ck_assert(profile_of(e, "u", T0 + DAY).purchases > 0);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

/* The _v2 calls (@since 1.1) explain a failed journal: as in
 * failed_journal_accepts_nothing, a child whose files may not grow past a
 * few KiB journals until it fails; then each refuses with BVT_EIO and a
 * message, as the calls without err refuse. */
static int journal_refusal(const bvt_error *err)
{
    return err->code == BVT_EIO && strstr(err->message, "journal") != NULL;
}

START_TEST(failed_journal_explained)
{
    state_dir_make(dir);
    pid_t pid = fork();
    if (pid == 0) {
        bvt_engine *e = open_small_files();
        bvt_experiment x = BVT_EXPERIMENT_INIT;
        bvt_variant vs[2] = { { .name = "a", .weight = 1 }, { .name = "b", .weight = 1 } };
        x.name = "x";
        x.variants = vs;
        x.n_variants = 2;
        x.coverage = 1.0;
        uint32_t xid;
        if (bvt_experiment_define(e, &x, &xid, NULL) != BVT_OK)
            _exit(11);
        /* The failure while a change is journaled: EIO, explained. */
        bvt_error err = BVT_ERROR_INIT;
        int rc = BVT_OK;
        char key[32];
        for (int i = 0; i < 100000 && rc == BVT_OK; i++) {
            snprintf(key, sizeof key, "attribute-%d", i % 10);
            rc = bvt_attr_set_number_v2(e, "u", 1, key, i, &err);
        }
        if (rc != BVT_EIO || !journal_refusal(&err))
            _exit(12);
        /* Then every call refuses, saying why. */
        int32_t v;
        err = (bvt_error)BVT_ERROR_INIT;
        if (bvt_attr_set_number_v2(e, "u", 1, "n", 1, &err) != BVT_EIO || !journal_refusal(&err))
            _exit(13);
        err = (bvt_error)BVT_ERROR_INIT;
        if (bvt_attr_set_string_v2(e, "u", 1, "s", "x", &err) != BVT_EIO ||
            !journal_refusal(&err))
            _exit(14);
        err = (bvt_error)BVT_ERROR_INIT;
        if (bvt_attr_unset_v2(e, "u", 1, "attribute-1", &err) != BVT_EIO ||
            !journal_refusal(&err))
            _exit(15);
        err = (bvt_error)BVT_ERROR_INIT;
        if (bvt_consent_set_v2(e, "u", 1, BVT_PURPOSE_ADS, 1, T0, &err) != BVT_EIO ||
            !journal_refusal(&err))
            _exit(16);
        err = (bvt_error)BVT_ERROR_INIT;
        if (bvt_experiment_assign_v2(e, xid, "u", 1, T0, &v, &err) != BVT_EIO ||
            !journal_refusal(&err))
            _exit(17);
        /* The calls without err: the same refusals, and nothing changed. */
        if (bvt_attr_set_number(e, "u", 1, "n", 1) != BVT_EIO ||
            bvt_attr_set_string(e, "u", 1, "s", "x") != BVT_EIO ||
            bvt_attr_unset(e, "u", 1, "attribute-1") != BVT_EIO ||
            bvt_consent_set(e, "u", 1, BVT_PURPOSE_ADS, 1, T0) != BVT_EIO ||
            bvt_experiment_assign(e, xid, "u", 1, T0, &v) != BVT_EIO)
            _exit(18);
        int granted = 1;
        if (bvt_attr_get(e, "u", 1, "n", NULL, NULL, NULL) != BVT_ENOTFOUND ||
            bvt_attr_get(e, "u", 1, "attribute-1", NULL, NULL, NULL) != BVT_OK ||
            bvt_consent_get(e, "u", 1, BVT_PURPOSE_ADS, &granted) != BVT_OK || granted)
            _exit(19);
        bvt_engine_free(e);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    state_dir_remove(dir);
}
END_TEST

/* Checkpoints while two threads track: after reopening, every event is
 * there exactly once (the cut puts each on one side of the snapshot). */
#define RACE_EVENTS 6000

typedef struct racer {
    bvt_engine *e;
    int index;
} racer;

static void *race_track(void *arg)
{
    racer *r = arg;
    char user[32];
    for (int i = 0; i < RACE_EVENTS; i++) {
        snprintf(user, sizeof user, "t%d-u%d", r->index, i % 37);
        bvt_event ev = make_event(user, BVT_EVENT_PURCHASE, T0 + i + 1, "sport", 1);
        if (bvt_event_track(r->e, &ev, NULL) != BVT_OK)
            abort();
        if (i % 500 == 0) {
            char attr[16];
            snprintf(attr, sizeof attr, "v%d", i);
            if (bvt_attr_set_string(r->e, user, strlen(user), "last", attr) != BVT_OK)
                abort();
        }
    }
    return NULL;
}

static void *race_checkpoint(void *arg)
{
    racer *r = arg;
    for (int k = 0; k < 6; k++) {
        if (bvt_engine_checkpoint(r->e, NULL) != BVT_OK)
            abort();
        usleep(2000);
    }
    return NULL;
}

START_TEST(checkpoints_while_tracking)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok(BVT_JOURNAL_GROUP);
    racer rs[3] = { { e, 0 }, { e, 1 }, { e, 2 } };
    pthread_t t[3];
    pthread_create(&t[0], NULL, race_track, &rs[0]);
    pthread_create(&t[1], NULL, race_track, &rs[1]);
    pthread_create(&t[2], NULL, race_checkpoint, &rs[2]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    bvt_engine_free(e);
    e = open_ok(BVT_JOURNAL_OFF);
    ck_assert_uint_eq(stats_of(e).events_accepted, 2 * RACE_EVENTS);
    for (int th = 0; th < 2; th++)
        for (int u = 0; u < 37; u++) {
            char user[32];
            snprintf(user, sizeof user, "t%d-u%d", th, u);
            uint32_t want = RACE_EVENTS / 37 + (u < RACE_EVENTS % 37);
            bvt_profile p = profile_of(e, user, T0 + DAY);
            ck_assert_msg(p.purchases == want, "%s: %u purchases, expected %u", user,
                          p.purchases, want);
        }
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("state");
    TCase *t = tcase_create("state");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, replay_equals_the_original, 0, 3);
    tcase_add_test(t, torn_tail_is_cut_and_reported);
    tcase_add_test(t, forgotten_user_leaves_the_disk);
    tcase_add_test(t, failed_journal_accepts_nothing);
    tcase_add_test(t, failed_journal_explained);
    tcase_add_test(t, checkpoints_while_tracking);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return run_suite(suite()); }
