/* Behavioural clusters through the public API: planted groups of users are
 * recovered, runs are deterministic, the clusters are segments that place
 * new users too, a smaller re-run retires the extra segments, and bad
 * arguments are refused. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "cluster-suite-secret-key"
#include "testutil.h"

#define GROUP 200
#define NOW (T0 + 60 * DAY)

enum { SPORTS, BOOKS, HOME, GROUPS };
static const char prefix[GROUPS] = { 's', 'b', 'h' };

static void user_name(char *buf, size_t cap, int group, int i)
{
    snprintf(buf, cap, "%c%d", prefix[group], i);
}

/* Sports fans buy often and were here yesterday; book readers browse and
 * never buy; home shoppers bought twice with big baskets a month ago.
 * Each user varies a little with i. */
static void plant_user(bvt_engine *e, int group, int i)
{
    char u[32];
    user_name(u, sizeof u, group, i);
    int j = i % 7;
    switch (group) {
    case SPORTS:
        for (int d = 0; d < 8; d++) {
            track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + (50 + d) * DAY + j * HOUR,
                     d % 2 ? "sports/running" : "sports/cycling", 0);
            track_ok(e, u, BVT_EVENT_PURCHASE, T0 + (50 + d) * DAY + j * HOUR + MIN,
                     "sports/running", 40 + j);
        }
        track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + 59 * DAY + j * HOUR, "sports", 0);
        break;
    case BOOKS:
        for (int d = 0; d < 6 + j; d++)
            track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + (35 + d) * DAY + j * HOUR,
                     d % 3 ? "books/fiction" : "books/history", 0);
        break;
    case HOME:
        for (int d = 0; d < 4; d++)
            track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + (20 + d) * DAY + j * HOUR,
                     "home/kitchen", 0);
        track_ok(e, u, BVT_EVENT_PURCHASE, T0 + 22 * DAY + j * HOUR, "home/kitchen", 900 + 50 * j);
        track_ok(e, u, BVT_EVENT_PURCHASE, T0 + 24 * DAY + j * HOUR, "home/bedroom", 1100);
        break;
    }
}

static bvt_engine *planted_engine(void)
{
    bvt_engine *e = engine_default();
    for (int i = 0; i < GROUP; i++)
        for (int g = 0; g < GROUPS; g++)
            plant_user(e, g, i);
    return e;
}

static bvt_cluster_report run_ok(bvt_engine *e, uint32_t k, uint64_t seed)
{
    bvt_cluster_options o = BVT_CLUSTER_OPTIONS_INIT;
    o.k = k;
    o.seed = seed;
    bvt_cluster_report rep;
    memset(&rep, 0xAB, sizeof rep);
    rep.version = BVT_CLUSTER_REPORT_VERSION;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_cluster_run(e, NOW, &o, &rep, &err);
    ck_assert_msg(rc == BVT_OK, "cluster run: %d %s", rc, err.message);
    ck_assert_uint_eq(rep.k, k);
    return rep;
}

/* The cluster (1-based) `user` is in at now, through bvt_segments_of and
 * the segment ids of the report; fails unless exactly one. */
static uint32_t cluster_of(bvt_engine *e, const bvt_cluster_report *rep, const char *user,
                           int64_t now)
{
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t n;
    ck_assert_int_eq(bvt_segments_of(e, user, strlen(user), now, NULL, ids, BVT_SEGMENTS_MAX, &n),
                     BVT_OK);
    uint32_t found = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t c = 0; c < rep->k; c++)
            if (ids[i] == rep->clusters[c].segment) {
                ck_assert_msg(found == 0, "%s in two clusters", user);
                found = c + 1;
            }
    ck_assert_msg(found, "%s in no cluster", user);
    return found;
}

/* Every planted group lands in one cluster of its own; returns them. */
static void check_recovered(bvt_engine *e, const bvt_cluster_report *rep, uint32_t which[GROUPS])
{
    char u[32];
    for (int g = 0; g < GROUPS; g++) {
        user_name(u, sizeof u, g, 0);
        which[g] = cluster_of(e, rep, u, NOW);
        for (int i = 1; i < GROUP; i++) {
            user_name(u, sizeof u, g, i);
            ck_assert_uint_eq(cluster_of(e, rep, u, NOW), which[g]);
        }
        ck_assert_uint_eq(rep->clusters[which[g] - 1].size, GROUP);
    }
    ck_assert_uint_ne(which[SPORTS], which[BOOKS]);
    ck_assert_uint_ne(which[SPORTS], which[HOME]);
    ck_assert_uint_ne(which[BOOKS], which[HOME]);
    ck_assert_uint_eq(rep->users, GROUPS * GROUP);
}

static uint32_t category(bvt_engine *e, const char *path)
{
    uint32_t id;
    ck_assert_int_eq(bvt_category_lookup(e, path, &id), BVT_OK);
    return id;
}

START_TEST(planted_groups_recovered)
{
    bvt_engine *e = planted_engine();
    bvt_cluster_report rep = run_ok(e, 3, 42);
    uint32_t which[GROUPS];
    check_recovered(e, &rep, which);
    ck_assert(rep.iterations >= 1 && rep.iterations <= 50);
    ck_assert(rep.inertia > 0);
    /* What the report says about each cluster matches what was planted. */
    const bvt_cluster_info *s = &rep.clusters[which[SPORTS] - 1];
    const bvt_cluster_info *b = &rep.clusters[which[BOOKS] - 1];
    const bvt_cluster_info *h = &rep.clusters[which[HOME] - 1];
    ck_assert(close_rel(s->mean_frequency, 8, 1e-9));
    ck_assert(close_rel(b->mean_frequency, 0, 1e-9));
    ck_assert(close_rel(h->mean_frequency, 2, 1e-9));
    ck_assert(h->mean_monetary > 1900 && s->mean_monetary < 500 && b->mean_monetary == 0);
    ck_assert(s->mean_recency_days < 1.5 && b->mean_recency_days > 14 &&
              h->mean_recency_days > 35);
    ck_assert_uint_eq(s->top_categories[0], category(e, "sports"));
    ck_assert(close_rel(s->top_affinity[0], 1, 1e-6));
    ck_assert_uint_eq(s->top_categories[1], 0);
    ck_assert_uint_eq(b->top_categories[0], category(e, "books"));
    ck_assert_uint_eq(h->top_categories[0], category(e, "home"));
    /* The segments carry the names, in order. */
    for (uint32_t c = 0; c < 3; c++) {
        char name[32];
        snprintf(name, sizeof name, "Cluster %u", c + 1);
        uint32_t id;
        ck_assert_int_eq(bvt_segment_lookup(e, name, &id), BVT_OK);
        ck_assert_uint_eq(id, rep.clusters[c].segment);
        uint64_t members = 0;
        ck_assert_int_eq(bvt_segment_members(e, id, NOW, NULL, NULL, NULL, &members), BVT_OK);
        ck_assert_uint_eq(members, rep.clusters[c].size);
    }
    /* Slots beyond k are zero. */
    ck_assert_uint_eq(rep.clusters[3].segment, 0);
    ck_assert_uint_eq(rep.clusters[3].size, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(same_seed_same_result)
{
    bvt_engine *e = planted_engine();
    bvt_cluster_report a = run_ok(e, 4, 7);
    bvt_cluster_report b = run_ok(e, 4, 7);
    ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
    /* The same data in another engine gives the same clusters. */
    bvt_engine *f = planted_engine();
    bvt_cluster_report c = run_ok(f, 4, 7);
    ck_assert_int_eq(memcmp(&a, &c, sizeof a), 0);
    bvt_engine_free(f);
    /* Other seeds may choose other centroids, but the groups stay whole. */
    for (uint64_t seed = 1; seed <= 5; seed++) {
        bvt_cluster_report d = run_ok(e, 3, seed * 1000003);
        uint32_t which[GROUPS];
        check_recovered(e, &d, which);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(sample_and_iterations)
{
    bvt_engine *e = planted_engine();
    bvt_cluster_options o = BVT_CLUSTER_OPTIONS_INIT;
    o.k = 3;
    o.seed = 11;
    o.sample = 150; /* fitted on a quarter, assigned over everyone */
    bvt_cluster_report rep = { .version = BVT_CLUSTER_REPORT_VERSION };
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, NULL), BVT_OK);
    uint32_t which[GROUPS];
    check_recovered(e, &rep, which);
    /* One iteration at most when asked. */
    o.max_iterations = 1;
    o.sample = 0;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, NULL), BVT_OK);
    ck_assert_uint_eq(rep.iterations, 1);
    /* No report asked: the segments are still defined. */
    o.max_iterations = 0;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, NULL, NULL), BVT_OK);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 3", &id), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(new_users_placed)
{
    bvt_engine *e = planted_engine();
    bvt_cluster_report rep = run_ok(e, 3, 42);
    uint32_t which[GROUPS];
    check_recovered(e, &rep, which);
    /* Users who arrive after the run are placed by the same model. */
    for (int g = 0; g < GROUPS; g++) {
        char u[32];
        plant_user(e, g, GROUP + 3);
        user_name(u, sizeof u, g, GROUP + 3);
        ck_assert_uint_eq(cluster_of(e, &rep, u, NOW), which[g]);
    }
    /* The rule feature reads the same: one rule per planted cluster. */
    char rule[32];
    snprintf(rule, sizeof rule, "cluster == %u", which[BOOKS]);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_define(e, "readers", rule, &id, NULL), BVT_OK);
    uint64_t members;
    ck_assert_int_eq(bvt_segment_members(e, id, NOW, NULL, NULL, NULL, &members), BVT_OK);
    ck_assert_uint_eq(members, GROUP + 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(smaller_rerun_retires_segments)
{
    bvt_engine *e = planted_engine();
    size_t before, after;
    ck_assert_int_eq(bvt_segment_list(e, NULL, 0, &before), BVT_OK);
    bvt_cluster_report five = run_ok(e, 5, 3);
    ck_assert_int_eq(bvt_segment_list(e, NULL, 0, &after), BVT_OK);
    ck_assert_uint_eq(after, before + 5);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 5", &id), BVT_OK);
    /* Built in: not removable by the caller, not replaceable either. */
    ck_assert_int_eq(bvt_segment_remove(e, "Cluster 5", NULL), BVT_EEXIST);
    ck_assert_int_eq(bvt_segment_define(e, "Cluster 5", "purchases > 0", NULL, NULL), BVT_EEXIST);
    /* A cluster segment another rule names stays (and matches nobody). */
    ck_assert_int_eq(bvt_segment_define(e, "fourth", "in_segment(\"Cluster 4\")", NULL, NULL),
                     BVT_OK);
    bvt_cluster_report three = run_ok(e, 3, 3);
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 4", &id), BVT_OK);
    uint64_t members;
    ck_assert_int_eq(bvt_segment_members(e, id, NOW, NULL, NULL, NULL, &members), BVT_OK);
    ck_assert_uint_eq(members, 0);
    ck_assert_int_eq(bvt_segment_remove(e, "fourth", NULL), BVT_OK);
    three = run_ok(e, 3, 3);
    ck_assert_int_eq(bvt_segment_list(e, NULL, 0, &after), BVT_OK);
    ck_assert_uint_eq(after, before + 3);
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 4", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 5", &id), BVT_ENOTFOUND);
    /* Names keep their ids across runs. */
    for (uint32_t c = 0; c < 3; c++)
        ck_assert_uint_eq(three.clusters[c].segment, five.clusters[c].segment);
    uint32_t which[GROUPS];
    check_recovered(e, &three, which);
    /* Growing again brings them back under the same ids. */
    bvt_cluster_report again = run_ok(e, 5, 3);
    ck_assert_uint_eq(again.clusters[4].segment, five.clusters[4].segment);
    bvt_engine_free(e);
}
END_TEST

/* Each dimension is scaled by its spread.  Readers and fans who came back
 * either yesterday or 100 days ago can be split by interest or by recency
 * (both are stable); unscaled, the recency split fits closer, scaled the
 * interest split does, because two interest dimensions differ.  The best
 * of a few seeds, by inertia, must split by interest. */
START_TEST(dimensions_standardised)
{
    bvt_engine *e = engine_default();
    char u[32];
    for (int i = 0; i < 4 * 50; i++) {
        snprintf(u, sizeof u, "%c%d", i % 2 ? 'b' : 's', i);
        int64_t last = NOW - (i % 4 < 2 ? 1 : 100) * DAY - (i % 7) * HOUR;
        track_ok(e, u, BVT_EVENT_PAGE_VIEW, last, i % 2 ? "books/fiction" : "sports/running", 0);
    }
    uint64_t best = 0;
    double best_inertia = INFINITY;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        bvt_cluster_report rep = run_ok(e, 2, seed);
        ck_assert_uint_eq(rep.clusters[0].size, 100);
        if (rep.inertia < best_inertia) {
            best_inertia = rep.inertia;
            best = seed;
        }
    }
    bvt_cluster_report rep = run_ok(e, 2, best);
    uint32_t first = cluster_of(e, &rep, "s0", NOW);
    for (int i = 0; i < 4 * 50; i++) {
        snprintf(u, sizeof u, "%c%d", i % 2 ? 'b' : 's', i);
        ck_assert_msg((cluster_of(e, &rep, u, NOW) == first) == (i % 2 == 0),
                      "seed %d: %s split from s0", (int)best, u);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(bad_arguments_refused)
{
    bvt_engine *e = engine_default();
    bvt_cluster_options o = BVT_CLUSTER_OPTIONS_INIT;
    bvt_cluster_report rep = { .version = BVT_CLUSTER_REPORT_VERSION };
    bvt_error err = BVT_ERROR_INIT;
    for (int i = 0; i < 3; i++) {
        char u[8];
        snprintf(u, sizeof u, "u%d", i);
        track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + i * DAY, "news", 0);
    }
    o.k = 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "k must be"));
    o.k = BVT_CLUSTERS_MAX + 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    o.k = 4; /* three users */
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "fewer than k"));
    o.k = 0; /* the default, 8 */
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    o.k = 2;
    o.sample = (uint64_t)BVT_CLUSTER_SAMPLE_MAX + 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "BVT_CLUSTER_SAMPLE_MAX"));
    o.sample = 0;
    o.max_iterations = BVT_CLUSTER_ITERATIONS_MAX + 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "BVT_CLUSTER_ITERATIONS_MAX"));
    o.max_iterations = 0;
    o.version = BVT_CLUSTER_OPTIONS_VERSION + 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EVERSION);
    o.version = 0;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EINVAL);
    o.version = BVT_CLUSTER_OPTIONS_VERSION;
    rep.version = BVT_CLUSTER_REPORT_VERSION + 1;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_EVERSION);
    rep.version = BVT_CLUSTER_REPORT_VERSION;
    ck_assert_int_eq(bvt_cluster_run(e, 0, &o, &rep, &err), BVT_EINVAL);
    ck_assert_int_eq(bvt_cluster_run(NULL, NOW, &o, &rep, &err), BVT_EINVAL);
    /* None of that defined anything. */
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "Cluster 1", &id), BVT_ENOTFOUND);
    /* An empty engine has fewer users than any k. */
    bvt_engine *empty = engine_default();
    ck_assert_int_eq(bvt_cluster_run(empty, NOW, NULL, NULL, NULL), BVT_EINVAL);
    bvt_engine_free(empty);
    /* The smallest case works: k = 2 over three users. */
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &o, &rep, &err), BVT_OK);
    ck_assert_uint_eq(rep.users, 3);
    ck_assert_uint_eq(rep.clusters[0].size + rep.clusters[1].size, 3);
    bvt_engine_free(e);
}
END_TEST

START_TEST(no_model_no_cluster)
{
    bvt_engine *e = planted_engine();
    uint32_t one, zero;
    ck_assert_int_eq(bvt_segment_define(e, "c1", "cluster == 1", &one, NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "c0", "cluster == 0", &zero, NULL), BVT_OK);
    uint64_t n;
    ck_assert_int_eq(bvt_segment_members(e, one, NOW, NULL, NULL, NULL, &n), BVT_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(bvt_segment_members(e, zero, NOW, NULL, NULL, NULL, &n), BVT_OK);
    ck_assert_uint_eq(n, GROUPS * GROUP);
    /* After a run every user has a cluster. */
    run_ok(e, 3, 1);
    ck_assert_int_eq(bvt_segment_members(e, zero, NOW, NULL, NULL, NULL, &n), BVT_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(bvt_segment_members(e, one, NOW, NULL, NULL, NULL, &n), BVT_OK);
    ck_assert_uint_eq(n, GROUP);
    bvt_engine_free(e);
}
END_TEST

/* Runs while other threads track events and evaluate the cluster segments:
 * every evaluation sees one model (a user is never in two clusters). */
typedef struct shared {
    bvt_engine *e;
    _Atomic int done;
} shared;

static void *rerun(void *arg)
{
    shared *sh = arg;
    for (uint32_t i = 0; i < 6; i++)
        run_ok(sh->e, 2 + i % 3, i);
    atomic_store(&sh->done, 1);
    return NULL;
}

static void *track_and_evaluate(void *arg)
{
    shared *sh = arg;
    for (int i = 0; !atomic_load(&sh->done); i++) {
        char u[32];
        plant_user(sh->e, i % GROUPS, GROUP + i % 50);
        user_name(u, sizeof u, i % GROUPS, i % GROUP);
        uint32_t ids[BVT_SEGMENTS_MAX], c[BVT_CLUSTERS_MAX];
        size_t n, in = 0;
        ck_assert_int_eq(bvt_segments_of(sh->e, u, strlen(u), NOW, NULL, ids, BVT_SEGMENTS_MAX,
                                         &n), BVT_OK);
        for (uint32_t k = 0; k < BVT_CLUSTERS_MAX; k++) {
            char name[32];
            snprintf(name, sizeof name, "Cluster %u", k + 1);
            c[k] = 0;
            bvt_segment_lookup(sh->e, name, &c[k]);
        }
        for (size_t j = 0; j < n; j++)
            for (uint32_t k = 0; k < BVT_CLUSTERS_MAX; k++)
                in += c[k] && ids[j] == c[k];
        ck_assert_uint_le(in, 1);
    }
    return NULL;
}

START_TEST(runs_beside_traffic)
{
    shared sh = { planted_engine(), 0 };
    thread_fn fns[] = { rerun, track_and_evaluate, track_and_evaluate };
    run_threads(fns, 3, &sh);
    /* After the runs every planted user is in exactly one cluster segment. */
    for (uint32_t g = 0; g < GROUPS; g++) {
        char u[32];
        user_name(u, sizeof u, g, 0);
        uint32_t ids[BVT_SEGMENTS_MAX];
        size_t n, in = 0;
        ck_assert_int_eq(bvt_segments_of(sh.e, u, strlen(u), NOW, NULL, ids, BVT_SEGMENTS_MAX,
                                         &n), BVT_OK);
        for (size_t j = 0; j < n; j++) {
            const char *name = bvt_segment_name(sh.e, ids[j]);
            in += name && strncmp(name, "Cluster ", 8) == 0;
        }
        ck_assert_uint_eq(in, 1);
    }
    bvt_engine_free(sh.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, planted_groups_recovered);
    tcase_add_test(tc, same_seed_same_result);
    tcase_add_test(tc, sample_and_iterations);
    tcase_add_test(tc, new_users_placed);
    tcase_add_test(tc, smaller_rerun_retires_segments);
    tcase_add_test(tc, dimensions_standardised);
    tcase_add_test(tc, bad_arguments_refused);
    tcase_add_test(tc, no_model_no_cluster);
    tcase_add_test(tc, runs_beside_traffic);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
