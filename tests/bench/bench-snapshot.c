/* bench-snapshot.c — snapshot save and load, and tracking with the
 * journal at each durability setting.
 *
 * Snapshot mode (default): builds an engine of `users` profiles (each
 * gets `per_user` generated events with categories, carts and purchases),
 * saves it, loads it back, and reports MB/s of uncompressed profile data
 * (the raw size of the file's profile blocks, read from their headers as
 * docs/format.md describes them) and users/s for both, plus the file size.
 *
 * Journal mode (-j): tracks `events` events in batches into an in-memory
 * engine, then into state directories with journal off, none, group and
 * always, and reports events/s of each and its ratio to in-memory.
 *
 * Usage: bench-snapshot [-u users] [-e per_user] [-d DIR] [-j] [-n events]
 *                       [-m single|batch]
 * (-L FILE -u users -r raw_bytes -d DIR: the load half, which the save
 * half becomes by exec.)
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define T0_MS 1735689600000LL
#define SECRET "benchmark-secret-0123456789abcdef"
#define SEC_PROFILES 7u

static bvt_options options(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = SECRET;
    o.secret_len = sizeof SECRET - 1;
    return o;
}

static void check(int rc, const char *what, const bvt_error *err)
{
    if (rc != BVT_OK) {
        fprintf(stderr, "bench-snapshot: %s: %s (%s)\n", what, bvt_strerror(rc),
                err ? err->message : "");
        exit(1);
    }
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Raw bytes of the profile blocks and of all blocks, from the headers. */
static void raw_sizes(const char *path, uint64_t *profiles, uint64_t *all, uint64_t *file)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    *profiles = *all = 0;
    unsigned char h[32];
    fseek(f, 64, SEEK_SET);
    while (fread(h, 1, 32, f) == 32) {
        uint32_t section = (uint32_t)h[4] | (uint32_t)h[5] << 8;
        uint64_t raw = le64(h + 8), stored = le64(h + 16);
        *all += raw;
        if (section == SEC_PROFILES)
            *profiles += raw;
        fseek(f, (long)stored, SEEK_CUR);
    }
    *file = (uint64_t)ftell(f);
    fclose(f);
}

static void track_all(bvt_engine *e, const bvt_event *ev, size_t n, int batch)
{
    for (size_t off = 0; off < n;) {
        if (batch) {
            size_t m = n - off < 4096 ? n - off : 4096;
            check(bvt_event_track_batch(e, ev + off, m, NULL, 0, NULL, NULL), "track batch", NULL);
            off += m;
        } else {
            check(bvt_event_track(e, &ev[off], NULL), "track", NULL);
            off++;
        }
    }
}

static void clear_dir(const char *d)
{
    DIR *dp = opendir(d);
    for (struct dirent *de; dp && (de = readdir(dp));) {
        char p[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        unlink(p);
    }
    if (dp)
        closedir(dp);
}

static const char *self; /* argv[0], to run the load in a new process */

/* Result lines carry the user count, so run-all.sh's medians keep the 1M
 * and 10M runs apart. */
static void result(uint64_t users, const char *name, double value)
{
    char full[96];
    snprintf(full, sizeof full, "snapshot_%lluk_%s", (unsigned long long)(users / 1000), name);
    bench_result(full, value);
}

/* A thread tracking one event per call during the save: the longest call
 * is how long the save held a shard that tracking wanted. */
typedef struct tracker {
    bvt_engine *e;
    const bvt_event *ev;
    size_t n;
    _Atomic int stop;
    double max_s;
    uint64_t calls;
} tracker;

static void *track_during_save(void *arg)
{
    tracker *t = arg;
    for (size_t i = 0; !atomic_load(&t->stop); i = (i + 1) % t->n) {
        double a = bench_now();
        bvt_event_track(t->e, &t->ev[i], NULL);
        double d = bench_now() - a;
        if (d > t->max_s)
            t->max_s = d;
        t->calls++;
    }
    return NULL;
}

/* -L: load a snapshot and report (run by snapshot_bench). */
static void load_bench(const char *path, uint64_t users, uint64_t raw_profiles)
{
    bvt_options o = options();
    bvt_engine *l = NULL;
    bvt_error err = BVT_ERROR_INIT;
    double c0 = bench_thread_cpu(), t = bench_now();
    check(bvt_engine_load(&l, &o, path, &err), "load", &err);
    double load_s = bench_now() - t, load_cpu = bench_thread_cpu() - c0;
    printf("load %.3f s (cpu %.3f), as after a restart\n", load_s, load_cpu);
    result(users, "load_mb_s", raw_profiles / 1e6 / load_s);
    result(users, "load_users_s", (double)users / load_s);
    result(users, "load_s", load_s);
    bvt_engine_free(l);
}

static void snapshot_bench(uint64_t users, unsigned per_user, const char *dir)
{
    bvt_engine *e = bench_engine_new();
    bench_users u;
    bench_cats cats;
    bench_rng rng = { 42 };
    if (bench_users_make(&u, users) != 0 || bench_cats_intern(&cats, e) != BVT_OK)
        exit(1);
    size_t chunk = 1u << 20;
    bvt_event *ev = malloc(chunk * sizeof *ev);
    char *ids = malloc(chunk * BENCH_ID_LEN);
    double t = bench_now();
    for (unsigned pass = 0; pass < per_user; pass++)
        for (uint64_t first = 0; first < users; first += chunk) {
            size_t n = users - first < chunk ? (size_t)(users - first) : chunk;
            bench_events_fill(ev, ids, n, &u, BENCH_UNIFORM, pass == 0, first, 1, &cats,
                              T0_MS + pass * 3600000LL, 3600000, &rng);
            track_all(e, ev, n, 1);
        }
    printf("built %llu users x %u events in %.1f s\n", (unsigned long long)users, per_user,
           bench_now() - t);
    bench_print_stats(e, "engine");
    char path[1024];
    snprintf(path, sizeof path, "%s/bench.bvts", dir);
    bvt_error err = BVT_ERROR_INIT;
    size_t n_track = 65536;
    bench_events_fill(ev, ids, n_track, &u, BENCH_UNIFORM, 0, 0, 1, &cats,
                      T0_MS + per_user * 3600000LL, 3600000, &rng);
    tracker tr = { e, ev, n_track, 0, 0, 0 };
    pthread_t tid;
    pthread_create(&tid, NULL, track_during_save, &tr);
    double c0 = bench_thread_cpu();
    t = bench_now();
    check(bvt_engine_save(e, path, &err), "save", &err);
    double save_s = bench_now() - t, save_cpu = bench_thread_cpu() - c0;
    atomic_store(&tr.stop, 1);
    pthread_join(tid, NULL);
    printf("tracking during the save: %llu calls, the longest %.1f ms\n",
           (unsigned long long)tr.calls, tr.max_s * 1e3);
    result(users, "save_track_max_ms", tr.max_s * 1e3);
    uint64_t raw_profiles, raw_all, file;
    raw_sizes(path, &raw_profiles, &raw_all, &file);
    printf("file %.1f MB, raw %.1f MB (profiles %.1f MB), ratio %.2f\n", file / 1e6,
           raw_all / 1e6, raw_profiles / 1e6, (double)raw_all / (double)file);
    printf("save %.3f s (cpu %.3f)\n", save_s, save_cpu);
    result(users, "save_mb_s", raw_profiles / 1e6 / save_s);
    result(users, "save_users_s", (double)users / save_s);
    result(users, "file_mb", file / 1e6);
    result(users, "bytes_per_user_raw", (double)raw_profiles / (double)users);
    fflush(stdout);
    /* Load as a restart would: this process becomes a new program (exec),
     * so the load touches memory first, as after a restart; not this
     * engine's freed heap, nor a fork's copy-on-write one. */
    bvt_engine_free(e);
    free(ev);
    free(ids);
    bench_users_free(&u);
    char n_users[32], n_raw[32];
    snprintf(n_users, sizeof n_users, "%llu", (unsigned long long)users);
    snprintf(n_raw, sizeof n_raw, "%llu", (unsigned long long)raw_profiles);
    execl(self, self, "-L", path, "-u", n_users, "-r", n_raw, "-d", dir, (char *)NULL);
    perror("bench-snapshot: exec");
    exit(1);
}

static double journal_run(const char *dir, int mode, const bvt_event *ev, size_t n, int batch)
{
    bvt_engine *e;
    bvt_options o = options();
    bvt_error err = BVT_ERROR_INIT;
    if (mode < 0) {
        check(bvt_engine_new(&e, &o, &err), "new", &err);
    } else {
        clear_dir(dir);
        bvt_state_options st = BVT_STATE_OPTIONS_INIT;
        st.dir = dir;
        st.journal = (uint32_t)mode;
        check(bvt_engine_open(&e, &o, &st, &err), "open", &err);
    }
    bench_cats cats; /* the same ids as in the engine the events were made for */
    if (bench_cats_intern(&cats, e) != BVT_OK)
        exit(1);
    double t = bench_now();
    track_all(e, ev, n, batch);
    check(bvt_engine_sync(e, &err), "sync", &err); /* durable before the clock stops */
    double s = bench_now() - t;
    bvt_engine_free(e);
    return (double)n / s;
}

static void journal_bench(size_t n, const char *dir, int batch)
{
    bvt_engine *e = bench_engine_new();
    bench_users u;
    bench_cats cats;
    bench_rng rng = { 7 };
    if (bench_users_make(&u, 100000) != 0 || bench_cats_intern(&cats, e) != BVT_OK)
        exit(1);
    bvt_engine_free(e); /* each run's engine interns the same categories again */
    bvt_event *ev = malloc(n * sizeof *ev);
    char *ids = malloc(n * BENCH_ID_LEN);
    bench_events_fill(ev, ids, n, &u, BENCH_UNIFORM, 0, 0, 1, &cats, T0_MS, 3600000, &rng);
    static const char *names[] = { "memory", "off", "none", "group", "always" };
    double base = 0;
    journal_run(dir, -1, ev, n, batch); /* warm-up: the first run pays the page faults */
    for (int mode = -1; mode <= BVT_JOURNAL_ALWAYS; mode++) {
        size_t m = mode == BVT_JOURNAL_ALWAYS && !batch && n > 20000 ? 20000 : n;
        double eps = journal_run(dir, mode, ev, m, batch);
        if (mode < 0)
            base = eps;
        printf("journal %-6s %s: %.0f events/s (%.3fx in-memory)\n", names[mode + 1],
               batch ? "batch" : "single", eps, eps / base);
        char name[64];
        snprintf(name, sizeof name, "track_%s_%s_eps", batch ? "batch" : "single",
                 names[mode + 1]);
        bench_result(name, eps);
    }
    clear_dir(dir);
    free(ev);
    free(ids);
    bench_users_free(&u);
}

int main(int argc, char **argv)
{
    uint64_t users = 1000000;
    unsigned per_user = 4;
    size_t events = 1000000;
    int journal = 0, batch = 1;
    char dir[512] = "";
    const char *load_path = NULL;
    uint64_t raw = 0;
    int c;
    self = argv[0];
    while ((c = getopt(argc, argv, "u:e:d:jn:m:L:r:")) != -1) {
        switch (c) {
        case 'u': users = strtoull(optarg, NULL, 10); break;
        case 'e': per_user = (unsigned)atoi(optarg); break;
        case 'd': snprintf(dir, sizeof dir, "%s", optarg); break;
        case 'j': journal = 1; break;
        case 'n': events = strtoull(optarg, NULL, 10); break;
        case 'm': batch = strcmp(optarg, "single") != 0; break;
        case 'L': load_path = optarg; break;
        case 'r': raw = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench-snapshot [-u users] [-e per_user] [-d DIR] [-j] "
                            "[-n events] [-m single|batch]\n");
            return 2;
        }
    }
    if (load_path) {
        load_bench(load_path, users, raw);
        if (!getenv("KEEP")) {
            unlink(load_path);
            if (strncmp(dir, "/tmp/bvt-bench-", 15) == 0)
                rmdir(dir); /* the one the save half made */
        }
        return 0;
    }
    int made = 0;
    if (!dir[0]) {
        strcpy(dir, "/tmp/bvt-bench-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        made = 1;
    }
    if (journal)
        journal_bench(events, dir, batch);
    else
        snapshot_bench(users, per_user, dir);
    if (made) {
        clear_dir(dir);
        rmdir(dir);
    }
    return 0;
}
