/* bench-segments — segment evaluation for one user (50 segments), counting a
 * segment's members over the population, and compiling 1,000 rules.
 *
 *   bench-segments [-u USERS] [-e EVENTS_PER_USER]
 *
 * Targets (segments issue): 50 segments for one user <= 2 us median;
 * counting members >= 20M users/s per core; compile time reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define USER_SEGMENTS 50

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A mix of what marketers write: windows, interests, RFM, cart, context. */
static void define_segments(bvt_engine *e, const bench_cats *cats)
{
    char path[64], rule[256], name[32];
    for (int i = 0; i < USER_SEGMENTS; i++) {
        bench_cat_path(path, sizeof path, (unsigned)(i * 7) % BENCH_LEAVES);
        char *slash = strrchr(path, '/');
        switch (i % 5) {
        case 0:
            snprintf(rule, sizeof rule, "count(page_view, \"%s\", 7d) >= %d", path, 1 + i % 3);
            break;
        case 1:
            *slash = 0; /* a parent category */
            snprintf(rule, sizeof rule, "interest(\"%s\") >= 0.%d", path, 1 + i % 5);
            break;
        case 2:
            snprintf(rule, sizeof rule, "purchases >= %d and recency < %dd", 1 + i % 2, 3 + i % 20);
            break;
        case 3:
            snprintf(rule, sizeof rule, "carted_not_bought(%dh) or did(click, *, 30d)", 6 + i);
            break;
        default:
            snprintf(rule, sizeof rule,
                     "sum(purchase, *, 90d) > %d and not did(purchase, \"%s\", 30d)", 10 * i,
                     path);
        }
        snprintf(name, sizeof name, "seg%02d", i);
        bvt_error err = BVT_ERROR_INIT;
        if (bvt_segment_define(e, name, rule, NULL, &err) != BVT_OK) {
            fprintf(stderr, "bench-segments: %s: %s: %s\n", name, rule, err.message);
            exit(1);
        }
    }
    (void)cats;
}

int main(int argc, char **argv)
{
    uint64_t users = 1000000, per_user = 8;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-u") == 0)
            users = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-e") == 0)
            per_user = strtoull(argv[i + 1], NULL, 10);
    }
    bvt_engine *e = bench_engine_new();
    bench_cats cats;
    bench_users u;
    bench_rng rng = { 42 };
    if (bench_cats_intern(&cats, e) != BVT_OK || bench_users_make(&u, users) != BVT_OK)
        return 1;
    const int64_t t0 = 1735689600000LL, span = 30LL * 86400000;
    size_t chunk = 1 << 16;
    bvt_event *ev = malloc(chunk * sizeof *ev);
    char *idcopy = malloc(chunk * BENCH_ID_LEN);
    if (!ev || !idcopy)
        return 1;
    /* First every user once (in order), then the rest at random, in time order. */
    uint64_t total = users * per_user;
    for (uint64_t done = 0; done < total;) {
        int inserting = done < users;
        uint64_t left = inserting ? users - done : total - done;
        size_t n = left < chunk ? (size_t)left : chunk;
        int64_t from = t0 + (int64_t)((double)done / (double)total * (double)span);
        int64_t width = (int64_t)((double)n / (double)total * (double)span) + 1;
        bench_events_fill(ev, idcopy, n, &u, BENCH_UNIFORM, inserting, done, 1, &cats, from,
                          width, &rng);
        bvt_event_track_batch(e, ev, n, NULL, 0, NULL, NULL);
        done += n;
    }
    int64_t now = t0 + span;
    bvt_rfm_refresh(e, now, NULL);
    bench_print_stats(e, "loaded");

    /* Compile 1,000 rules (define, then remove them). */
    char name[32], rule[128], path[64];
    double c0 = bench_now();
    for (int i = 0; i < 1000; i++) {
        bench_cat_path(path, sizeof path, (unsigned)i % BENCH_LEAVES);
        snprintf(name, sizeof name, "compile%04d", i);
        snprintf(rule, sizeof rule,
                 "count(page_view, \"%s\", %dd) >= %d and monetary_total > %d", path, 1 + i % 30,
                 1 + i % 4, i);
        if (bvt_segment_define(e, name, rule, NULL, NULL) != BVT_OK)
            return 1;
    }
    double c1 = bench_now();
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "compile%04d", i);
        bvt_segment_remove(e, name, NULL);
    }
    printf("compile 1000 rules: %.2f ms (%.1f us per rule, publishing included)\n",
           (c1 - c0) * 1e3, (c1 - c0) * 1e6 / 1000);
    bench_result("compile_1000_rules_ms", (c1 - c0) * 1e3);

    define_segments(e, &cats);
    size_t n_all;
    bvt_segment_list(e, NULL, 0, &n_all);

    /* One user's segments: median over batches of 1,000 random users. */
    enum { BATCHES = 200, PER_BATCH = 1000 };
    double per_call[BATCHES];
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t in_total = 0;
    for (int b = 0; b < BATCHES; b++) {
        double a = bench_now();
        for (int k = 0; k < PER_BATCH; k++) {
            uint64_t i = bench_rng_below(&rng, users);
            size_t n;
            bvt_segments_of(e, bench_user_id(&u, i), BENCH_ID_LEN, now, NULL, ids,
                            BVT_SEGMENTS_MAX, &n);
            in_total += n;
        }
        per_call[b] = (bench_now() - a) / PER_BATCH;
    }
    qsort(per_call, BATCHES, sizeof per_call[0], cmp_double);
    printf("segments_of: %zu segments (%d user-defined + %zu built-in), median %.2f us per user,"
           " users in %.1f segments on average\n",
           n_all, USER_SEGMENTS, n_all - USER_SEGMENTS, per_call[BATCHES / 2] * 1e6,
           (double)in_total / (BATCHES * PER_BATCH));
    bench_result("segments_of_us", per_call[BATCHES / 2] * 1e6);

    /* Members of one segment over the population. */
    uint32_t seg;
    bvt_segment_lookup(e, "seg02", &seg);
    double best = 1e9;
    uint64_t count = 0;
    for (int r = 0; r < 3; r++) {
        double a = bench_now();
        bvt_segment_members(e, seg, now, NULL, NULL, NULL, &count);
        double t = bench_now() - a;
        best = t < best ? t : best;
    }
    printf("members of seg02 over %llu users: %llu members, %.1f M users/s (best of 3)\n",
           (unsigned long long)users, (unsigned long long)count, users / best / 1e6);
    bench_result("members_musers_per_s", users / best / 1e6);

    free(ev);
    free(idcopy);
    bench_users_free(&u);
    bvt_engine_free(e);
    return 0;
}
