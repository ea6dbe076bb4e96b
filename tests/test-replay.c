/* test-replay.c — replay is a function of the state directory alone: no
 * option given at reopen, no thread timing and no damaged byte may change,
 * lose or resurrect what was written.  Each case of the audit that found
 * otherwise is here: the user limit met out of order across shards, the
 * analytics policy and retention of the reopener, evictions, damage in the
 * newest journal (refused, repaired on purpose, never changed by a
 * read-only open), and a plain save placed in a state directory. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEST_SECRET "replay-test-secret-0123456789ab"
#include "testutil.h"
#include "statetest.h"

#define EXPORT_CAP (1u << 20)

static char dir[64];

static bvt_options opts(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    o.shards = 8;
    return o;
}

static bvt_state_options state_opts(uint32_t journal)
{
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = dir;
    so.journal = journal;
    so.group_commit_ms = 1;
    return so;
}

static bvt_engine *open_with(bvt_options *o, bvt_state_options so)
{
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, o, &so, &err);
    ck_assert_msg(rc == BVT_OK, "open: %d %s at %lld", rc, err.message, (long long)err.offset);
    return e;
}

static bvt_state_info info_of(bvt_engine *e)
{
    bvt_state_info i = BVT_STATE_INFO_INIT;
    ck_assert_int_eq(bvt_state_info_get(e, &i), BVT_OK);
    return i;
}

/* A user's export at a fixed time, or "absent". */
static char *export_of(bvt_engine *e, const char *u)
{
    char *buf = malloc(EXPORT_CAP);
    size_t len;
    int rc = bvt_user_export(e, u, strlen(u), T0 + 400 * DAY, buf, EXPORT_CAP, &len);
    if (rc == BVT_ENOTFOUND)
        strcpy(buf, "absent");
    else
        ck_assert_int_eq(rc, BVT_OK);
    return buf;
}

/* Every export of users prefix0..prefix<n-1>, one string per user. */
static char **exports(bvt_engine *e, const char *prefix, int n)
{
    char **v = calloc((size_t)n, sizeof *v);
    char u[48];
    for (int i = 0; i < n; i++) {
        snprintf(u, sizeof u, "%s%d", prefix, i);
        v[i] = export_of(e, u);
    }
    return v;
}

static void same_exports(char **a, char **b, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_msg(strcmp(a[i], b[i]) == 0, "user %d differs:\n%s\n%s", i, a[i], b[i]);
        free(a[i]);
        free(b[i]);
    }
    free(a);
    free(b);
}

static char *newest_journal(void)
{
    static char path[512];
    char best[256] = "";
    DIR *d = opendir(dir);
    for (struct dirent *de; (de = readdir(d));)
        if (strncmp(de->d_name, "journal-", 8) == 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    snprintf(path, sizeof path, "%s/%s", dir, best);
    return path;
}

/* ---- 1. the user limit, met out of order across shards ---- */

/* Replay does not apply the limit: the forget that made room may come
 * after the create it made room for.  Deterministic form: a directory
 * that never held more than 2 users at once reopens under max_users = 2
 * even though its records, replayed under a limit, would pass it. */
START_TEST(limit_is_not_reapplied_by_replay)
{
    state_dir_make(dir);
    bvt_options o = opts();
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    track_ok(e, "a", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0);
    track_ok(e, "b", BVT_EVENT_PAGE_VIEW, T0 + 2, NULL, 0);
    track_ok(e, "c", BVT_EVENT_PAGE_VIEW, T0 + 3, NULL, 0);
    ck_assert_int_eq(bvt_user_forget(e, "a", 1, NULL), BVT_OK);
    bvt_engine_free(e);
    o.max_users = 2;
    e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    ck_assert_uint_eq(stats_of(e).users, 2);
    ck_assert(!bvt_user_exists(e, "a", 1) && bvt_user_exists(e, "c", 1));
    ck_assert_int_eq(track_event(e, "d", BVT_EVENT_PAGE_VIEW, T0 + 4, NULL, 0), BVT_EFULL);
    ck_assert_int_eq(track_event(e, "d", 999, T0 + 4, NULL, 0), BVT_ETYPE);
    bvt_engine_free(e);
    /* refusals are part of the statistics a reopen rebuilds */
    e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    ck_assert_uint_eq(stats_of(e).events_rejected, 2);
    bvt_engine_free(e);
    /* a directory holding more users than the limit is refused, naming it */
    o.max_users = 1;
    bvt_state_options so = state_opts(BVT_JOURNAL_NONE);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_open(&e, &o, &so, &err), BVT_EFULL);
    ck_assert_ptr_nonnull(strstr(err.message, "max_users"));
    state_dir_remove(dir);
}
END_TEST

typedef struct churn {
    bvt_engine *e;
    int id;
} churn;

static void *create_users(void *arg)
{
    churn *c = arg;
    char u[32];
    for (int i = 0; i < 400; i++) {
        snprintf(u, sizeof u, "c%d-%d", c->id, i);
        int rc = track_event(c->e, u, BVT_EVENT_PAGE_VIEW, T0 + i + 1, NULL, 0);
        ck_assert(rc == BVT_OK || rc == BVT_EFULL);
    }
    return NULL;
}

static void *forget_users(void *arg)
{
    churn *c = arg;
    char u[32];
    for (int i = 0; i < 400; i++) { /* the other creators' recent users */
        snprintf(u, sizeof u, "c%d-%d", c->id - 2, i);
        int rc = bvt_user_forget(c->e, u, strlen(u), NULL);
        ck_assert(rc == BVT_OK || rc == BVT_ENOTFOUND);
    }
    return NULL;
}

static void *run_churn(void *arg)
{
    churn *c = arg;
    return c->id < 2 ? create_users(arg) : forget_users(arg);
}

/* The audit's reproduction: two threads creating users while two forget
 * them, at a full table; every clean close must reopen, as it was. */
START_TEST(concurrent_forgets_and_creates_reopen)
{
    for (int round = 0; round < 8; round++) {
        state_dir_make(dir);
        bvt_options o = opts();
        o.max_users = 200;
        bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
        churn cs[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            cs[i] = (churn){ e, i };
            pthread_create(&t[i], NULL, run_churn, &cs[i]);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        char **before0 = exports(e, "c0-", 400), **before1 = exports(e, "c1-", 400);
        uint64_t users = stats_of(e).users;
        bvt_engine_free(e);
        e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
        ck_assert_uint_eq(stats_of(e).users, users);
        same_exports(before0, exports(e, "c0-", 400), 400);
        same_exports(before1, exports(e, "c1-", 400), 400);
        bvt_engine_free(e);
        state_dir_remove(dir);
    }
}
END_TEST

/* ---- 2. options: the writer's, recorded; never the reopener's past ---- */

START_TEST(anonymous_counts_survive_another_policy)
{
    static const uint32_t later[] = { BVT_ANALYTICS_TRACK, BVT_ANALYTICS_DROP };
    state_dir_make(dir);
    bvt_options o = opts();
    o.analytics_policy = BVT_ANALYTICS_ANONYMOUS;
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_GROUP));
    track_ok(e, "nobody", BVT_EVENT_PURCHASE, T0 + 1, "shoes", 30);
    ck_assert(!bvt_user_exists(e, "nobody", 6));
    bvt_engine_free(e);
    for (int i = 0; i < 2; i++) {
        o.analytics_policy = later[i];
        e = open_with(&o, state_opts(BVT_JOURNAL_GROUP));
        uint64_t n = 0;
        double sum = 0;
        ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, BVT_ANY, &n, &sum), BVT_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert(sum == 30);
        ck_assert(!bvt_user_exists(e, "nobody", 6));
        bvt_engine_free(e);
    }
    state_dir_remove(dir);
}
END_TEST

START_TEST(tracked_events_stay_tracked_under_another_policy)
{
    state_dir_make(dir);
    bvt_options o = opts();
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    for (int i = 0; i < 3; i++)
        track_ok(e, "buyer", BVT_EVENT_PURCHASE, T0 + i + 1, "shoes", 10);
    bvt_engine_free(e);
    o.analytics_policy = BVT_ANALYTICS_ANONYMOUS;
    e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    ck_assert_uint_eq(profile_of(e, "buyer", T0 + DAY).purchases, 3);
    uint64_t n = 1;
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, BVT_ANY, &n, NULL), BVT_OK);
    ck_assert_uint_eq(n, 0);
    /* from now on the new policy applies */
    track_ok(e, "buyer", BVT_EVENT_PURCHASE, T0 + 10, "shoes", 10);
    ck_assert_uint_eq(profile_of(e, "buyer", T0 + DAY).purchases, 3);
    bvt_engine_free(e);
    e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    ck_assert_uint_eq(profile_of(e, "buyer", T0 + DAY).purchases, 3);
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, BVT_ANY, &n, NULL), BVT_OK);
    ck_assert_uint_eq(n, 1);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

START_TEST(expired_users_stay_expired)
{
    state_dir_make(dir);
    bvt_options o = opts();
    o.retention_ms = HOUR;
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_ALWAYS));
    track_ok(e, "old", BVT_EVENT_PAGE_VIEW, T0, "news", 0);
    track_ok(e, "new", BVT_EVENT_PAGE_VIEW, T0 + 2 * HOUR, "news", 0);
    uint64_t removed = 0;
    ck_assert_int_eq(bvt_engine_expire(e, T0 + 2 * HOUR, &removed), BVT_OK);
    ck_assert_uint_eq(removed, 1);
    bvt_engine_free(e);
    static const int64_t retentions[] = { 0, 10 * DAY, HOUR };
    for (int i = 0; i < 3; i++) {
        o.retention_ms = retentions[i];
        e = open_with(&o, state_opts(BVT_JOURNAL_ALWAYS));
        ck_assert(!bvt_user_exists(e, "old", 3));
        ck_assert(bvt_user_exists(e, "new", 3));
        ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
        bvt_engine_free(e);
    }
    state_dir_remove(dir);
}
END_TEST

/* Options that shape stored data are refused by name, journal or
 * snapshot alike; the recorded ones open the directory as written. */
START_TEST(options_are_recorded)
{
    state_dir_make(dir);
    bvt_options o = opts();
    o.history_events = 8;
    o.retention_ms = 5 * DAY;
    o.analytics_policy = BVT_ANALYTICS_ANONYMOUS;
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    track_ok(e, "x", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0); /* anonymous */
    bvt_engine_free(e);

    for (int checkpointed = 0; checkpointed < 2; checkpointed++) {
        bvt_options other = opts(); /* history_events differs */
        bvt_state_options so = state_opts(BVT_JOURNAL_NONE);
        bvt_error err = BVT_ERROR_INIT;
        ck_assert_int_eq(bvt_engine_open(&e, &other, &so, &err), BVT_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.message, "history_events"));
        ck_assert_ptr_null(e);

        /* the recorded options: only the secret is the caller's */
        so.options_from = BVT_OPTIONS_RECORDED;
        e = open_with(&other, so);
        ck_assert(!bvt_user_exists(e, "x", 1)); /* no profile: anonymous */
        track_ok(e, "y", BVT_EVENT_PAGE_VIEW, T0 + 2, NULL, 0);
        ck_assert(!bvt_user_exists(e, "y", 1)); /* the recorded policy applies */
        uint64_t removed = 0; /* retention recorded too: expire works */
        ck_assert_int_eq(bvt_engine_expire(e, T0 + 2, &removed), BVT_OK);
        if (!checkpointed)
            ck_assert_int_eq(bvt_engine_checkpoint(e, NULL), BVT_OK);
        bvt_engine_free(e);
    }

    /* a policy option given at an open applies from then on, and is what
     * the directory records next */
    o.analytics_policy = BVT_ANALYTICS_TRACK;
    e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
    track_ok(e, "z", BVT_EVENT_PAGE_VIEW, T0 + 3, NULL, 0);
    ck_assert(bvt_user_exists(e, "z", 1));
    bvt_engine_free(e);
    bvt_options bare = BVT_OPTIONS_INIT;
    set_test_secret(&bare);
    bvt_state_options so = state_opts(BVT_JOURNAL_NONE);
    so.options_from = BVT_OPTIONS_RECORDED;
    e = open_with(&bare, so);
    track_ok(e, "w", BVT_EVENT_PAGE_VIEW, T0 + 4, NULL, 0);
    ck_assert(bvt_user_exists(e, "w", 1) && bvt_user_exists(e, "z", 1));
    bvt_engine_free(e);

    /* an edited options file is refused, not half-read */
    size_t len;
    unsigned char *img = state_read_file(state_path(dir, "options"), &len);
    char *p = strstr((char *)img, "retention_ms ");
    ck_assert_ptr_nonnull(p);
    p[13] = '9';
    state_write_file(state_path(dir, "options"), img, len);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_open(&e, &bare, &so, &err), BVT_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.message, "options"));
    free(img);
    state_dir_remove(dir);
}
END_TEST

/* ---- 3. evictions are journaled ---- */

static void *evicting_writer(void *arg)
{
    churn *c = arg;
    char u[32];
    for (int i = 0; i < 500; i++) {
        snprintf(u, sizeof u, "e%d", (c->id * 500 + i * 7) % 2000);
        track_ok(c->e, u, i % 3 ? BVT_EVENT_PAGE_VIEW : BVT_EVENT_PURCHASE,
                 T0 + (int64_t)(i * 4 + c->id) * MIN, "home", 5);
    }
    return NULL;
}

START_TEST(evictions_replay_exactly)
{
    for (int round = 0; round < 3; round++) {
        state_dir_make(dir);
        bvt_options o = opts();
        o.max_users = 300;
        o.full_policy = BVT_FULL_EVICT_LRU;
        bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
        churn cs[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            cs[i] = (churn){ e, i };
            pthread_create(&t[i], NULL, evicting_writer, &cs[i]);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        bvt_stats before = stats_of(e);
        ck_assert_uint_gt(before.users_evicted, 0);
        char **users = exports(e, "e", 2000);
        bvt_engine_free(e);
        e = open_with(&o, state_opts(BVT_JOURNAL_NONE));
        ck_assert_uint_eq(stats_of(e).users, before.users);
        ck_assert_uint_eq(stats_of(e).users_evicted, before.users_evicted);
        same_exports(users, exports(e, "e", 2000), 2000);
        bvt_engine_free(e);
        state_dir_remove(dir);
    }
}
END_TEST

/* ---- 4. damage is reported, not absorbed ---- */

static uint64_t size_of(const char *path)
{
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    return (uint64_t)sb.st_size;
}

/* Page views i = from..to-1 of "u" at T0 + i + 1 in one open of the
 * directory, acknowledged one frame each (a new journal file per open). */
static void track_session(int from, int to)
{
    bvt_options o = opts();
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_ALWAYS));
    for (int i = from; i < to; i++)
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + i + 1, NULL, 0);
    bvt_engine_free(e);
}

static void write_twenty(void)
{
    track_session(0, 20);
}

static int open_access(uint32_t access, bvt_engine **e, bvt_error *err)
{
    bvt_options o = opts();
    bvt_state_options so = state_opts(BVT_JOURNAL_OFF);
    so.access = access;
    return bvt_engine_open(e, &o, &so, err);
}

START_TEST(damaged_last_frame_is_refused)
{
    enum { FLIP, ZEROS, GARBAGE };
    for (int kind = FLIP; kind <= GARBAGE; kind++) {
        state_dir_make(dir);
        write_twenty();
        const char *path = newest_journal();
        size_t len;
        unsigned char *img = state_read_file(path, &len);
        if (kind == FLIP)
            img[len - 3] ^= 0x40; /* inside the last frame's payload */
        if (kind == ZEROS)
            memset(img + len - 20, 0, 20);
        size_t n = len;
        if (kind == GARBAGE) { /* 600 zero bytes after the last frame */
            img = realloc(img, len + 600);
            memset(img + len, 0, 600);
            n = len + 600;
        }
        state_write_file(path, img, n);
        for (uint32_t access = BVT_STATE_READ_WRITE; access <= BVT_STATE_READ_ONLY; access++) {
            bvt_engine *e = NULL;
            bvt_error err = BVT_ERROR_INIT;
            ck_assert_int_eq(open_access(access, &e, &err), BVT_ECORRUPT);
            ck_assert_ptr_null(e);
            ck_assert_int_gt(err.offset, 64);
            ck_assert_ptr_nonnull(strstr(err.message, "BVT_STATE_REPAIR"));
            unsigned char *now = state_read_file(path, &len);
            ck_assert_uint_eq(len, n); /* evidence untouched */
            ck_assert(memcmp(now, img, n) == 0);
            free(now);
        }
        /* repair drops it on purpose and says what */
        bvt_engine *e = NULL;
        bvt_error err = BVT_ERROR_INIT;
        ck_assert_int_eq(open_access(BVT_STATE_REPAIR, &e, &err), BVT_OK);
        bvt_state_info in = info_of(e);
        uint32_t kept = kind == GARBAGE ? 20 : 19;
        ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).events, kept);
        ck_assert_uint_eq(in.dropped_first_seq, kept + 1);
        ck_assert_uint_eq(in.dropped_bytes, kind == GARBAGE ? 600 : n - size_of(path));
        ck_assert_uint_eq(in.dropped_files, 0);
        bvt_engine_free(e);
        free(img);
        /* and the directory now opens plainly */
        ck_assert_int_eq(open_access(BVT_STATE_READ_WRITE, &e, &err), BVT_OK);
        ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).events, kept);
        bvt_engine_free(e);
        state_dir_remove(dir);
    }
}
END_TEST

START_TEST(torn_tail_and_read_only_opens)
{
    state_dir_make(dir);
    write_twenty();
    const char *path = newest_journal();
    size_t len;
    unsigned char *img = state_read_file(path, &len);
    state_write_file(path, img, len - 5); /* a crash mid-write */
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(open_access(BVT_STATE_READ_ONLY, &e, &err), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).events, 19);
    ck_assert_int_gt(info_of(e).torn_offset, 64);
    ck_assert_uint_eq(size_of(path), len - 5); /* not cut by a reader */
    ck_assert_int_eq(bvt_engine_checkpoint(e, &err), BVT_EINVAL);
    /* readers share the directory; a writer waits for them */
    bvt_engine *e2 = NULL;
    ck_assert_int_eq(open_access(BVT_STATE_READ_ONLY, &e2, &err), BVT_OK);
    bvt_engine *w = NULL;
    ck_assert_int_eq(open_access(BVT_STATE_READ_WRITE, &w, &err), BVT_EIO);
    bvt_engine_free(e2);
    bvt_engine_free(e);
    ck_assert_int_eq(open_access(BVT_STATE_READ_WRITE, &w, &err), BVT_OK);
    ck_assert_uint_eq(size_of(path), info_of(w).torn_offset); /* the writer cuts it */
    ck_assert_uint_eq(profile_of(w, "u", T0 + DAY).events, 19);
    bvt_engine_free(w);
    /* a read-only open with a journal, or of no directory, is refused */
    bvt_options o = opts();
    bvt_state_options so = state_opts(BVT_JOURNAL_NONE);
    so.access = BVT_STATE_READ_ONLY;
    ck_assert_int_eq(bvt_engine_open(&e, &o, &so, &err), BVT_EINVAL);
    so = state_opts(BVT_JOURNAL_OFF);
    so.access = BVT_STATE_READ_ONLY;
    so.dir = "/nonexistent/state";
    ck_assert_int_eq(bvt_engine_open(&e, &o, &so, &err), BVT_EIO);
    free(img);
    state_dir_remove(dir);
}
END_TEST

/* Damage in an older file, newer files after it: refused; a repair drops
 * the rest and counts the records the newer files held. */
START_TEST(repair_drops_newer_files_and_counts_them)
{
    state_dir_make(dir);
    track_session(0, 10);
    char first[256];
    snprintf(first, sizeof first, "%s", newest_journal());
    track_session(10, 15); /* a second file */
    bvt_engine *e = NULL;
    size_t len;
    unsigned char *img = state_read_file(first, &len);
    img[len - 3] ^= 1; /* the first file's last frame: record 10 */
    state_write_file(first, img, len);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(open_access(BVT_STATE_READ_WRITE, &e, &err), BVT_ECORRUPT);
    ck_assert_int_eq(open_access(BVT_STATE_REPAIR, &e, &err), BVT_OK);
    bvt_state_info in = info_of(e);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).events, 9);
    ck_assert_uint_eq(in.dropped_first_seq, 10);
    ck_assert_uint_eq(in.dropped_last_seq, 15);
    ck_assert_uint_eq(in.dropped_files, 1);
    bvt_engine_free(e);
    free(img);
    state_dir_remove(dir);
}
END_TEST

/* ---- 6. a plain save and a state directory ---- */

START_TEST(save_into_a_state_directory)
{
    state_dir_make(dir);
    bvt_options o = opts();
    bvt_engine *e = open_with(&o, state_opts(BVT_JOURNAL_GROUP));
    for (int i = 0; i < 15; i++)
        track_ok(e, "buyer", BVT_EVENT_PURCHASE, T0 + i + 1, NULL, 10);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_save(e, state_path(dir, "snapshot.bvts"), &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "bvt_engine_checkpoint"));
    /* a copy saved elsewhere and put in place by hand holds the journal
     * position: nothing is replayed twice */
    char copy[128];
    snprintf(copy, sizeof copy, "%s.copy.bvts", dir);
    ck_assert_int_eq(bvt_engine_save(e, copy, &err), BVT_OK);
    bvt_engine_free(e);
    ck_assert_int_eq(rename(copy, state_path(dir, "snapshot.bvts")), 0);
    e = open_with(&o, state_opts(BVT_JOURNAL_GROUP));
    ck_assert_uint_eq(profile_of(e, "buyer", T0 + DAY).purchases, 15);
    ck_assert_uint_eq(info_of(e).replayed, 0);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, limit_is_not_reapplied_by_replay);
    tcase_add_test(tc, concurrent_forgets_and_creates_reopen);
    tcase_add_test(tc, anonymous_counts_survive_another_policy);
    tcase_add_test(tc, tracked_events_stay_tracked_under_another_policy);
    tcase_add_test(tc, expired_users_stay_expired);
    tcase_add_test(tc, options_are_recorded);
    tcase_add_test(tc, evictions_replay_exactly);
    tcase_add_test(tc, damaged_last_frame_is_refused);
    tcase_add_test(tc, torn_tail_and_read_only_opens);
    tcase_add_test(tc, repair_drops_newer_files_and_counts_them);
    tcase_add_test(tc, save_into_a_state_directory);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
