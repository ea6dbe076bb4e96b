/*
 * test-concurrency.c — one engine shared by five threads, through the public
 * API only: two writers track events (single and batch) for the same users,
 * two readers query profiles, interests, history, stats and the user
 * iteration, and a registrar interns categories and sets attributes.
 *
 * Readers check what must hold at any moment (counts never go backwards,
 * never exceed what will be sent); at the end every count must be exact.
 * Run under ThreadSanitizer by scripts/run-tests.
 */
#include <behavtarget.h>

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum {
    N_USERS = 48,
    ROUNDS = 2000,         /* per writer: each round sends one event per user */
    BATCH = 32,            /* events per batch call, one of them invalid */
    N_TYPES = 5,
    N_CATS = 8,
    N_REG = 300,           /* categories interned by the registrar alone */
    N_THREADS = 5
};

#define DAY_MS INT64_C(86400000)
#define BASE_MS INT64_C(1700000000000) /* 2023-11-14, any fixed time works */

static const uint32_t types[N_TYPES] = {
    BVT_EVENT_PAGE_VIEW, BVT_EVENT_CLICK, BVT_EVENT_IMPRESSION,
    BVT_EVENT_ADD_TO_CART, BVT_EVENT_LIKE,
};
static const char *const bands[3] = { "18-24", "25-34", "35-44" };

static char users[N_USERS][16];
static char cats[N_CATS][32];

static bvt_engine *engine;
static pthread_barrier_t start;
static atomic_int writers_left;

/* Expected counts, filled by each writer for its own events only. */
static uint64_t sent[2][N_USERS][BVT_EVENT_BUILTIN_COUNT];
static uint64_t rejected_sent[2];
/* The registrar's last attribute round (its values are the final ones). */
static int attr_last;

/* The first problem seen by a thread (ck_assert must stay on the main thread). */
static pthread_mutex_t problem_lock = PTHREAD_MUTEX_INITIALIZER;
static int problems;
static char first_problem[256];

static void problem(const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&problem_lock);
    if (problems++ == 0) {
        va_start(ap, fmt);
        vsnprintf(first_problem, sizeof first_problem, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&problem_lock);
}

static uint64_t total_per_user(void)
{
    return 2u * (uint64_t)ROUNDS;
}

/* The j-th event of writer w for user u: type, category and time all vary. */
static bvt_event make_event(int w, int j, int u)
{
    bvt_event ev = BVT_EVENT_INIT;

    ev.type = types[(j + u) % N_TYPES];
    ev.user_id = users[u];
    ev.user_id_len = strlen(users[u]);
    /* Writers interleave in time, so each one's events arrive late for the other. */
    ev.time_ms = BASE_MS + (int64_t)j * 10000 + (int64_t)w * 1000 + u;
    ev.category = cats[(j * 7 + u) % N_CATS];
    if (ev.type == BVT_EVENT_ADD_TO_CART)
        ev.value = 10.0;
    if (ev.type == BVT_EVENT_PAGE_VIEW)
        ev.dwell_ms = 1000;
    return ev;
}

static void flush_batch(int w, bvt_event *batch, size_t n, size_t bad_index)
{
    bvt_batch_error failures[4];
    size_t failed = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc;

    rc = bvt_event_track_batch(engine, batch, n, failures, 4, &failed, &err);
    if (rc != BVT_EINVAL || failed != 1 || failures[0].index != bad_index ||
        failures[0].code != BVT_EINVAL)
        problem("writer %d: batch returned %d with %zu failures (first at %zu), "
                "expected one BVT_EINVAL at %zu",
                w, rc, failed, failed ? failures[0].index : (size_t)0, bad_index);
    rejected_sent[w]++;
}

static void *writer(void *arg)
{
    int w = *(const int *)arg;
    bvt_event batch[BATCH];
    size_t n = 0;
    bvt_error err = BVT_ERROR_INIT;
    int j, u, rc;

    pthread_barrier_wait(&start);
    for (j = 0; j < ROUNDS; j++) {
        for (u = 0; u < N_USERS; u++) {
            bvt_event ev = make_event(w, j, u);

            sent[w][u][ev.type]++;
            if (j % 2 == 0) {
                rc = bvt_event_track(engine, &ev, &err);
                if (rc != BVT_OK)
                    problem("writer %d: track user %d round %d: %s (%s)", w, u, j,
                            bvt_strerror(rc), err.message);
                continue;
            }
            batch[n++] = ev;
            if (n == BATCH / 2) {
                /* An event with no time must be refused alone, the rest kept. */
                batch[n] = ev;
                batch[n].time_ms = 0;
                n++;
            }
            if (n == BATCH) {
                flush_batch(w, batch, n, BATCH / 2);
                n = 0;
            }
        }
    }
    if (n > BATCH / 2)
        flush_batch(w, batch, n, BATCH / 2);
    else if (n > 0 && (rc = bvt_event_track_batch(engine, batch, n, NULL, 0, NULL,
                                                  &err)) != BVT_OK)
        problem("writer %d: last batch: %s (%s)", w, bvt_strerror(rc), err.message);
    atomic_fetch_sub(&writers_left, 1);
    return NULL;
}

struct walk {
    uint64_t users;
    uint64_t max_events;
};

static int count_user(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    struct walk *walk = ud;

    (void)key;
    walk->users++;
    if (p->events > walk->max_events)
        walk->max_events = p->events;
    return 0;
}

static void read_user(int r, int u, uint64_t *seen)
{
    bvt_profile prof;
    bvt_interest top[16];
    size_t n = 0, i;
    uint64_t count = 0;
    int64_t now = BASE_MS + DAY_MS;
    int rc;

    bvt_profile_init(&prof);
    rc = bvt_profile_get(engine, users[u], strlen(users[u]), now, &prof);
    if (rc == BVT_ENOTFOUND)
        return;
    if (rc != BVT_OK) {
        problem("reader %d: profile of user %d: %s", r, u, bvt_strerror(rc));
        return;
    }
    if (prof.events < seen[u] || prof.events > total_per_user())
        problem("reader %d: user %d has %llu events after %llu were seen (max %llu)",
                r, u, (unsigned long long)prof.events, (unsigned long long)seen[u],
                (unsigned long long)total_per_user());
    seen[u] = prof.events;

    rc = bvt_profile_interests(engine, users[u], strlen(users[u]), now, top, 16, &n);
    if (rc != BVT_OK || n > 16)
        problem("reader %d: interests of user %d: rc %d, n %zu", r, u, rc, n);
    for (i = 0; rc == BVT_OK && i < n; i++) {
        if (top[i].category == NULL || top[i].affinity < 0.0 || top[i].affinity > 1.0 + 1e-9 ||
            (i > 0 && top[i].score > top[i - 1].score))
            problem("reader %d: user %d interest %zu is malformed", r, u, i);
    }

    rc = bvt_history_count(engine, users[u], strlen(users[u]), UINT32_MAX, "shop",
                           2 * DAY_MS, now, &count, NULL);
    if (rc != BVT_OK || count > total_per_user())
        problem("reader %d: history of user %d: rc %d, count %llu", r, u, rc,
                (unsigned long long)count);
}

static void *reader(void *arg)
{
    int r = *(const int *)arg;
    uint64_t seen[N_USERS] = { 0 };
    uint64_t accepted = 0;
    long iter;
    int rc;

    pthread_barrier_wait(&start);
    for (iter = 0; atomic_load(&writers_left) > 0 || iter < 200; iter++) {
        read_user(r, (int)((iter * 7 + r) % N_USERS), seen);
        if (iter % 16 == 0) {
            bvt_stats stats = BVT_STATS_INIT;
            struct walk walk = { 0, 0 };

            rc = bvt_engine_stats(engine, &stats);
            if (rc != BVT_OK || stats.events_accepted < accepted || stats.users > N_USERS)
                problem("reader %d: stats rc %d, accepted %llu after %llu, users %llu", r,
                        rc, (unsigned long long)stats.events_accepted,
                        (unsigned long long)accepted, (unsigned long long)stats.users);
            accepted = stats.events_accepted;

            rc = bvt_engine_foreach_user(engine, BASE_MS + DAY_MS, count_user, &walk);
            if (rc != BVT_OK || walk.users > N_USERS || walk.max_events > total_per_user())
                problem("reader %d: foreach rc %d, %llu users, max %llu events", r, rc,
                        (unsigned long long)walk.users, (unsigned long long)walk.max_events);
        }
    }
    return NULL;
}

static void *registrar(void *arg)
{
    char path[48], parent[48];
    uint32_t id, again, pid;
    int i, u, rc;

    (void)arg;
    pthread_barrier_wait(&start);
    /* Attributes change for as long as the writers run, categories N_REG times. */
    for (i = 0; i < N_REG || atomic_load(&writers_left) > 0; i++) {
        for (u = 0; u < N_USERS; u++) {
            rc = bvt_attr_set_number(engine, users[u], strlen(users[u]), "visits", i);
            if (rc == BVT_OK)
                rc = bvt_attr_set_string(engine, users[u], strlen(users[u]), "band",
                                         bands[i % 3]);
            if (rc != BVT_OK)
                problem("registrar: attributes of user %d: %s", u, bvt_strerror(rc));
        }
        attr_last = i;
        if (i >= N_REG)
            continue;

        /* The writers intern the same shop paths through their events. */
        rc = bvt_category_intern(engine, cats[i % N_CATS], &id, NULL);
        if (rc != BVT_OK || bvt_category_name(engine, id) == NULL ||
            strcmp(bvt_category_name(engine, id), cats[i % N_CATS]) != 0)
            problem("registrar: intern %s: rc %d, id %u", cats[i % N_CATS], rc, id);

        snprintf(parent, sizeof parent, "reg/%d", i);
        snprintf(path, sizeof path, "reg/%d/leaf", i);
        rc = bvt_category_intern(engine, path, &id, NULL);
        if (rc != BVT_OK || bvt_category_lookup(engine, path, &again) != BVT_OK ||
            again != id || bvt_category_lookup(engine, parent, &pid) != BVT_OK ||
            bvt_category_parent(engine, id) != pid)
            problem("registrar: intern %s: rc %d, id %u", path, rc, id);
    }
    return NULL;
}

static void setup(void)
{
    static const char secret[] = "concurrency-test-secret-0123456789";
    bvt_options opts = BVT_OPTIONS_INIT;
    bvt_error err = BVT_ERROR_INIT;
    int i, rc;

    for (i = 0; i < N_USERS; i++)
        snprintf(users[i], sizeof users[i], "user-%02d", i);
    for (i = 0; i < N_CATS; i++)
        snprintf(cats[i], sizeof cats[i], "shop/c%d/item", i);
    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    opts.shards = 4; /* few shards: the threads meet on the same locks */
    rc = bvt_engine_new(&engine, &opts, &err);
    ck_assert_msg(rc == BVT_OK, "bvt_engine_new: %s (%s)", bvt_strerror(rc), err.message);
    memset(sent, 0, sizeof sent);
    memset(rejected_sent, 0, sizeof rejected_sent);
    problems = 0;
    attr_last = -1;
    first_problem[0] = '\0';
}

static void teardown(void)
{
    bvt_engine_free(engine);
    engine = NULL;
}

static void run_threads(void)
{
    pthread_t th[N_THREADS];
    int ids[N_THREADS] = { 0, 1, 0, 1, 0 };
    int i;

    atomic_store(&writers_left, 2);
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    ck_assert_int_eq(pthread_create(&th[0], NULL, writer, &ids[0]), 0);
    ck_assert_int_eq(pthread_create(&th[1], NULL, writer, &ids[1]), 0);
    ck_assert_int_eq(pthread_create(&th[2], NULL, reader, &ids[2]), 0);
    ck_assert_int_eq(pthread_create(&th[3], NULL, reader, &ids[3]), 0);
    ck_assert_int_eq(pthread_create(&th[4], NULL, registrar, &ids[4]), 0);
    for (i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

START_TEST(test_counts_exact_after_concurrent_use)
{
    bvt_stats stats = BVT_STATS_INIT;
    uint64_t expected_rejected;
    uint32_t id;
    int u, t;

    run_threads();
    ck_assert_msg(problems == 0, "%d problems while running; first: %s", problems,
                  first_problem);

    ck_assert_int_eq(bvt_engine_stats(engine, &stats), BVT_OK);
    expected_rejected = rejected_sent[0] + rejected_sent[1];
    ck_assert_uint_eq(stats.users, N_USERS);
    ck_assert_uint_eq(stats.events_accepted, (uint64_t)N_USERS * total_per_user());
    ck_assert_uint_eq(stats.events_rejected, expected_rejected);

    for (u = 0; u < N_USERS; u++) {
        bvt_profile prof;
        uint64_t count = 0;
        double visits = -1.0;
        const char *band = NULL;
        int kind = 0;

        bvt_profile_init(&prof);
        ck_assert_int_eq(bvt_profile_get(engine, users[u], strlen(users[u]),
                                         BASE_MS + DAY_MS, &prof), BVT_OK);
        ck_assert_uint_eq(prof.events, total_per_user());
        for (t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
            ck_assert_msg(prof.type_counts[t] == sent[0][u][t] + sent[1][u][t],
                          "user %d type %d: %u events, %llu sent", u, t,
                          (unsigned)prof.type_counts[t],
                          (unsigned long long)(sent[0][u][t] + sent[1][u][t]));

        ck_assert_int_eq(bvt_history_count(engine, users[u], strlen(users[u]), UINT32_MAX,
                                           NULL, 2 * DAY_MS, BASE_MS + DAY_MS, &count,
                                           NULL), BVT_OK);
        ck_assert_uint_eq(count, total_per_user());

        ck_assert_int_eq(bvt_attr_get(engine, users[u], strlen(users[u]), "visits", &kind,
                                      &visits, NULL), BVT_OK);
        ck_assert_int_eq(kind, BVT_ATTR_NUMBER);
        ck_assert_double_eq(visits, attr_last);
        ck_assert_int_eq(bvt_attr_get(engine, users[u], strlen(users[u]), "band", &kind,
                                      NULL, &band), BVT_OK);
        ck_assert_str_eq(band, bands[attr_last % 3]);
    }

    /* Racing interns of one path give one id; ids stay dense. */
    for (u = 0; u < N_CATS; u++) {
        ck_assert_int_eq(bvt_category_lookup(engine, cats[u], &id), BVT_OK);
        ck_assert_str_eq(bvt_category_name(engine, id), cats[u]);
    }
    /* "shop", 8 "shop/cK", 8 leaves; "reg", N_REG parents, N_REG leaves. */
    ck_assert_uint_eq(stats.categories, 1 + 2 * N_CATS + 1 + 2 * N_REG);
    ck_assert_ptr_nonnull(bvt_category_name(engine, stats.categories));
    ck_assert_ptr_null(bvt_category_name(engine, stats.categories + 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("shared engine");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240); /* ThreadSanitizer slows this down ~10x */
    tcase_add_test(tc, test_counts_exact_after_concurrent_use);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
