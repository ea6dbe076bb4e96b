/* bench-experiment — assignments per second of bvt_experiment_variant_of,
 * one core, for the XXH3 hash and GrowthBook's hash version 2 (and
 * version 1 for reference), over 1M distinct 16-byte user ids; the median
 * of several passes is printed; XXH3 also without a holdout (one hash
 * instead of two).  The peer is the bare bucketing cost a
 * caller would pay without the library's lookups: shown by comparing XXH3
 * with GrowthBook in the same run.
 *
 *   bench-experiment [-u USERS] [-p PASSES]
 *
 * Target (experiments issue): >= 20M assignments/s per core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint32_t define(bvt_engine *e, const char *name, uint32_t hash, double holdout)
{
    bvt_variant v[3] = { { "control", 0.5, NULL, NULL, 0 }, { "b", 0.25, NULL, NULL, 0 },
                         { "c", 0.25, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = name;
    x.hash = hash;
    x.variants = v;
    x.n_variants = 3;
    x.coverage = 0.9;
    x.holdout = holdout; /* > 0 costs a second hash per call */
    uint32_t id;
    bvt_error err = BVT_ERROR_INIT;
    if (bvt_experiment_define(e, &x, &id, &err) != BVT_OK) {
        fprintf(stderr, "bench-experiment: define %s: %s\n", name, err.message);
        exit(1);
    }
    return id;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Assignments per wall second, median over passes (*per_cpu: per second of
 * this thread's CPU time, which a busy shared machine does not shrink);
 * counts[] keeps the work live. */
static double run(bvt_engine *e, uint32_t id, const bench_users *u, int passes,
                  const char *label, double *per_cpu)
{
    double *rates = calloc((size_t)passes * 2, sizeof *rates), *cpu_rates = rates + passes;
    uint64_t counts[BVT_VARIANTS_MAX + 2] = { 0 };
    if (!rates)
        exit(1);
    for (int p = 0; p < passes; p++) {
        double t0 = bench_now(), c0 = bench_thread_cpu();
        for (uint64_t i = 0; i < u->n; i++) {
            int32_t v;
            if (bvt_experiment_variant_of(e, id, bench_user_id(u, i), BENCH_ID_LEN, &v) !=
                BVT_OK)
                exit(1);
            counts[v + 2]++;
        }
        double wall = bench_now() - t0, cpu = bench_thread_cpu() - c0;
        rates[p] = (double)u->n / wall;
        cpu_rates[p] = cpu > 0 ? (double)u->n / cpu : rates[p];
        printf("  %-14s pass %d: %.1f M/s (%.1f ns each; CPU share %.0f%%)\n", label, p + 1,
               rates[p] / 1e6, 1e9 / rates[p], wall > 0 ? 100.0 * cpu / wall : 0.0);
    }
    double med = median(rates, passes);
    *per_cpu = median(cpu_rates, passes);
    printf("  %-14s median %.1f M assignments/s (%.1f ns), %.1f M per CPU second; holdout "
           "%llu, none %llu of %llu\n", label, med / 1e6, 1e9 / med, *per_cpu / 1e6,
           (unsigned long long)counts[0], (unsigned long long)counts[1],
           (unsigned long long)(u->n * (uint64_t)passes));
    free(rates);
    return med;
}

int main(int argc, char **argv)
{
    uint64_t users = 1000000;
    int passes = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-u") == 0)
            users = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-p") == 0)
            passes = atoi(argv[i + 1]);
    }
    if (users == 0 || passes < 1) {
        fprintf(stderr, "usage: bench-experiment [-u USERS] [-p PASSES]\n");
        return 2;
    }
    bvt_engine *e = bench_engine_new();
    bench_users u;
    if (bench_users_make(&u, users) != 0) {
        fprintf(stderr, "bench-experiment: out of memory\n");
        return 1;
    }
    uint32_t xxh = define(e, "bench-checkout-2026", BVT_HASH_XXH3, 0.05);
    uint32_t xxh1 = define(e, "bench-no-holdout", BVT_HASH_XXH3, 0.0);
    uint32_t gb2 = define(e, "bench-gb-v2", BVT_HASH_GROWTHBOOK_V2, 0.05);
    uint32_t gb1 = define(e, "bench-gb-v1", BVT_HASH_GROWTHBOOK_V1, 0.05);
    printf("variant_of over %llu users of %d bytes, 3 variants, coverage 0.9, holdout 0.05, "
           "%d passes, one thread\n", (unsigned long long)users, BENCH_ID_LEN, passes);
    double c_xxh, c_xxh1, c_gb2, c_gb1;
    double r_xxh = run(e, xxh, &u, passes, "xxh3", &c_xxh);
    double r_xxh1 = run(e, xxh1, &u, passes, "xxh3-noholdout", &c_xxh1);
    double r_gb2 = run(e, gb2, &u, passes, "growthbook-v2", &c_gb2);
    double r_gb1 = run(e, gb1, &u, passes, "growthbook-v1", &c_gb1);
    printf("target >= 20M/s per core (wall): xxh3 %s (without holdout %s), growthbook-v2 %s\n",
           r_xxh >= 20e6 ? "met" : "MISSED", r_xxh1 >= 20e6 ? "met" : "MISSED",
           r_gb2 >= 20e6 ? "met" : "missed");
    bench_result("experiment.variant_of.xxh3.per_s", r_xxh);
    bench_result("experiment.variant_of.xxh3.per_cpu_s", c_xxh);
    bench_result("experiment.variant_of.xxh3_no_holdout.per_s", r_xxh1);
    bench_result("experiment.variant_of.xxh3_no_holdout.per_cpu_s", c_xxh1);
    bench_result("experiment.variant_of.gb_v2.per_s", r_gb2);
    bench_result("experiment.variant_of.gb_v2.per_cpu_s", c_gb2);
    bench_result("experiment.variant_of.gb_v1.per_s", r_gb1);
    bench_result("experiment.variant_of.gb_v1.per_cpu_s", c_gb1);
    bench_users_free(&u);
    bvt_engine_free(e);
    return 0;
}
