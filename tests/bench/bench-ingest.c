/* bench-ingest.c — events/s into one engine, single-event or batch calls,
 * from one or more threads.
 *
 * All events are generated before any timing.  The first (insert) pass
 * gives every user one event, so it creates every profile; it is timed and
 * reported on its own.  Then timed steady-state passes replay a second
 * array (users chosen uniformly or skewed) against existing profiles; that
 * array's times are moved forward between passes, outside the timing.
 * With several threads each has its own arrays and all share the engine.
 *
 * Usage: bench-ingest [-u users] [-t threads] [-m single|batch]
 *                     [-d uniform|skewed] [-e events per thread per pass]
 *                     [-p passes] [-b batch size]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PASS_SPAN_MS (3600LL * 1000) /* each pass covers an hour of event time */
#define T0_MS 1735689600000LL        /* 2025-01-01T00:00:00Z */

typedef struct worker {
    pthread_t tid;
    int index;
    bvt_event *insert_ev; /* this thread's share of the insert pass */
    char *insert_ids;     /* their user ids, one copy per event */
    size_t insert_n;
    bvt_event *steady_ev; /* this thread's steady-state events */
    char *steady_ids;
    size_t steady_n;
    /* per pass, written by the worker */
    double t_start, t_end;
    double cpu; /* thread CPU seconds spent in the pass */
    size_t failed;
    int first_code;
} worker;

static struct {
    bvt_engine *engine;
    int batch_mode;
    size_t batch;
    int threads;
    int passes;
    pthread_barrier_t go, done;
    worker *w;
} g;

static void run_events(worker *w, const bvt_event *ev, size_t n)
{
    w->failed = 0;
    w->first_code = 0;
    if (g.batch_mode) {
        for (size_t off = 0; off < n; off += g.batch) {
            size_t m = n - off < g.batch ? n - off : g.batch;
            size_t failed = 0;
            int rc = bvt_event_track_batch(g.engine, ev + off, m, NULL, 0, &failed, NULL);
            if (rc != BVT_OK && !w->first_code)
                w->first_code = rc;
            w->failed += failed;
        }
    } else {
        for (size_t k = 0; k < n; k++) {
            int rc = bvt_event_track(g.engine, &ev[k], NULL);
            if (rc != BVT_OK) {
                if (!w->first_code)
                    w->first_code = rc;
                w->failed++;
            }
        }
    }
}

/* Pass 0 is the insert pass; passes 1..passes replay the steady array. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int pass = 0; pass <= g.passes; pass++) {
        pthread_barrier_wait(&g.go);
        w->t_start = bench_now();
        double c0 = bench_thread_cpu();
        if (pass == 0)
            run_events(w, w->insert_ev, w->insert_n);
        else
            run_events(w, w->steady_ev, w->steady_n);
        w->cpu = bench_thread_cpu() - c0;
        w->t_end = bench_now();
        pthread_barrier_wait(&g.done);
    }
    return NULL;
}

/* Wall time of the pass just finished: first start to last end. */
static double pass_wall(size_t *failed, int *code, double *cpu)
{
    double s = g.w[0].t_start, e = g.w[0].t_end;
    *failed = 0;
    *code = 0;
    *cpu = 0;
    for (int i = 0; i < g.threads; i++) {
        *cpu += g.w[i].cpu;
        if (g.w[i].t_start < s) s = g.w[i].t_start;
        if (g.w[i].t_end > e) e = g.w[i].t_end;
        *failed += g.w[i].failed;
        if (!*code)
            *code = g.w[i].first_code;
    }
    return e - s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-ingest [-u users] [-t threads] [-m single|batch] "
                    "[-d uniform|skewed] [-e events per thread per pass] [-p passes] "
                    "[-b batch size]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t users = 1000000;
    size_t events = 4000000;
    enum bench_dist dist = BENCH_UNIFORM;
    g.threads = 1;
    g.passes = 5;
    g.batch = 1024;
    g.batch_mode = 1;
    int opt;
    while ((opt = getopt(argc, argv, "u:t:m:d:e:p:b:")) != -1) {
        switch (opt) {
        case 'u': users = strtoull(optarg, NULL, 10); break;
        case 't': g.threads = atoi(optarg); break;
        case 'e': events = strtoull(optarg, NULL, 10); break;
        case 'p': g.passes = atoi(optarg); break;
        case 'b': g.batch = strtoull(optarg, NULL, 10); break;
        case 'm':
            if (!strcmp(optarg, "single")) g.batch_mode = 0;
            else if (!strcmp(optarg, "batch")) g.batch_mode = 1;
            else usage();
            break;
        case 'd':
            if (!strcmp(optarg, "uniform")) dist = BENCH_UNIFORM;
            else if (!strcmp(optarg, "skewed")) dist = BENCH_SKEWED;
            else usage();
            break;
        default: usage();
        }
    }
    if (users < 1 || g.threads < 1 || g.threads > 64 || events < 1 || g.passes < 1 ||
        g.batch < 1)
        usage();

    char label[128], users_label[32];
    if (users % 1000000 == 0)
        snprintf(users_label, sizeof users_label, "%lluM", (unsigned long long)(users / 1000000));
    else
        snprintf(users_label, sizeof users_label, "%llu", (unsigned long long)users);
    snprintf(label, sizeof label, "ingest.%s.t%d.%s.%s", g.batch_mode ? "batch" : "single",
             g.threads, users_label, dist == BENCH_SKEWED ? "skewed" : "uniform");
    printf("%s: %llu users, %d thread(s), %s calls, %zu events per thread per "
           "steady pass, %d passes\n",
           label, (unsigned long long)users, g.threads,
           g.batch_mode ? "batch" : "single-event", events, g.passes);
    if (g.batch_mode)
        printf("  batch size %zu\n", g.batch);

    /* Pre-generate everything. */
    double tg = bench_now();
    bench_users ids;
    if (bench_users_make(&ids, users) != 0) {
        fprintf(stderr, "bench-ingest: out of memory for user ids\n");
        return 1;
    }
    g.engine = bench_engine_new();
    bench_cats cats;
    if (bench_cats_intern(&cats, g.engine) != BVT_OK)
        return 1;
    g.w = calloc((size_t)g.threads, sizeof *g.w);
    for (int i = 0; i < g.threads; i++) {
        worker *w = &g.w[i];
        w->index = i;
        w->insert_n = (size_t)((users - (uint64_t)i + (uint64_t)g.threads - 1) /
                               (uint64_t)g.threads);
        w->insert_ev = malloc(w->insert_n * sizeof *w->insert_ev);
        w->insert_ids = malloc(w->insert_n * BENCH_ID_LEN);
        w->steady_n = events;
        w->steady_ev = malloc(events * sizeof *w->steady_ev);
        w->steady_ids = malloc(events * BENCH_ID_LEN);
        if (!w->insert_ev || !w->steady_ev || !w->insert_ids || !w->steady_ids) {
            fprintf(stderr, "bench-ingest: out of memory for event arrays\n");
            return 1;
        }
        bench_rng rng = { 0x5eed0000ULL + (uint64_t)i };
        bench_events_fill(w->insert_ev, w->insert_ids, w->insert_n, &ids, dist, 1, (uint64_t)i,
                          (uint64_t)g.threads, &cats, T0_MS, PASS_SPAN_MS, &rng);
        bench_events_fill(w->steady_ev, w->steady_ids, w->steady_n, &ids, dist, 0, 0, 0, &cats,
                          T0_MS + PASS_SPAN_MS, PASS_SPAN_MS, &rng);
    }
    printf("  generated %zu MiB of events in %.1f s\n",
           (size_t)((users + (uint64_t)g.threads * events) * (sizeof(bvt_event) + BENCH_ID_LEN) >> 20),
           bench_now() - tg);

    pthread_barrier_init(&g.go, NULL, (unsigned)g.threads + 1);
    pthread_barrier_init(&g.done, NULL, (unsigned)g.threads + 1);
    for (int i = 0; i < g.threads; i++)
        pthread_create(&g.w[i].tid, NULL, worker_main, &g.w[i]);

    double *rates = calloc((size_t)g.passes, sizeof *rates);
    int bad = 0;
    for (int pass = 0; pass <= g.passes; pass++) {
        if (pass >= 2) {
            /* Move the steady arrays an hour on, outside the timing. */
            for (int i = 0; i < g.threads; i++)
                for (size_t k = 0; k < g.w[i].steady_n; k++)
                    g.w[i].steady_ev[k].time_ms += PASS_SPAN_MS;
        }
        pthread_barrier_wait(&g.go);
        pthread_barrier_wait(&g.done);
        size_t failed;
        int code;
        double cpu;
        double wall = pass_wall(&failed, &code, &cpu);
        size_t n = pass == 0 ? (size_t)users : events * (size_t)g.threads;
        double rate = (double)n / wall;
        /* ns per event per thread: what one core spends on an event. */
        double ns = wall * 1e9 * g.threads / (double)n;
        /* Below 100% the threads were waiting: for locks, or for a CPU
         * that other processes held. */
        printf("  %s pass %d: %zu events in %.3f s: %.2f M events/s, %.1f ns/event/thread, "
               "cpu %.0f%% of wall",
               pass == 0 ? "insert" : "steady", pass, n, wall, rate / 1e6, ns,
               100.0 * cpu / (wall * g.threads));
        if (failed) {
            printf(", %zu FAILED (first: %s)", failed, bvt_strerror(code));
            bad = 1;
        }
        printf("\n");
        if (pass == 0) {
            char name[192];
            snprintf(name, sizeof name, "%s.insert.events_per_s", label);
            bench_result(name, rate);
            snprintf(name, sizeof name, "%s.insert.ns_per_event", label);
            bench_result(name, ns);
            bench_print_stats(g.engine, "  after insert");
            for (int i = 0; i < g.threads; i++) { /* not needed again */
                free(g.w[i].insert_ev);
                free(g.w[i].insert_ids);
                g.w[i].insert_ev = NULL;
                g.w[i].insert_ids = NULL;
            }
            bvt_stats st = BVT_STATS_INIT;
            if (bvt_engine_stats(g.engine, &st) == BVT_OK) {
                snprintf(name, sizeof name, "mem.%s.table_bytes_per_user", users_label);
                bench_result(name, st.bytes_per_user);
                snprintf(name, sizeof name, "mem.record_bytes");
                bench_result(name, st.record_bytes);
            }
        } else {
            rates[pass - 1] = rate;
        }
    }
    for (int i = 0; i < g.threads; i++)
        pthread_join(g.w[i].tid, NULL);

    qsort(rates, (size_t)g.passes, sizeof *rates, cmp_double);
    double med = rates[g.passes / 2];
    if (g.passes % 2 == 0)
        med = (rates[g.passes / 2 - 1] + rates[g.passes / 2]) / 2;
    char name[192];
    snprintf(name, sizeof name, "%s.steady.events_per_s", label);
    bench_result(name, med);
    snprintf(name, sizeof name, "%s.steady.ns_per_event", label);
    bench_result(name, 1e9 * g.threads / med);
    bench_print_stats(g.engine, "  after steady passes");

    bvt_engine_free(g.engine);
    for (int i = 0; i < g.threads; i++) {
        free(g.w[i].steady_ev);
        free(g.w[i].steady_ids);
    }
    free(g.w);
    free(rates);
    bench_users_free(&ids);
    return bad;
}
