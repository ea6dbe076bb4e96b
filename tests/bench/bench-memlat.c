/* bench-memlat.c — the machine's memory, measured the way ingestion uses it:
 * random 64-byte reads over a table much larger than the caches.
 *
 *  - dependent: each read's address comes from the previous read (a pointer
 *    chase): the full latency of one miss, TLB walk included;
 *  - independent: addresses known in advance, 16 in flight: the throughput
 *    ceiling when misses overlap (what prefetching in a batch can reach).
 *
 * The ingest figures are read against these: an event that needs k misses
 * it cannot overlap costs at least k times the dependent latency.
 *
 * Usage: bench-memlat [-m MiB] (default 1024)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define LINE 64

int main(int argc, char **argv)
{
    size_t mib = 1024;
    int opt;
    while ((opt = getopt(argc, argv, "m:")) != -1) {
        if (opt == 'm')
            mib = strtoull(optarg, NULL, 10);
        else {
            fprintf(stderr, "usage: bench-memlat [-m MiB]\n");
            return 2;
        }
    }
    size_t lines = mib * 1024 * 1024 / LINE;
    if (lines < 2)
        return 2;
    /* One 64-bit slot per line holds the index of the next line to visit. */
    uint64_t *t = aligned_alloc(LINE, lines * LINE);
    uint64_t *perm = malloc(lines * sizeof *perm);
    if (!t || !perm) {
        fprintf(stderr, "bench-memlat: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < lines; i++)
        perm[i] = i;
    bench_rng rng = { 12345 };
    for (size_t i = lines - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = bench_rng_below(&rng, i + 1);
        uint64_t x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    /* One cycle through every line in random order. */
    for (size_t i = 0; i < lines; i++)
        t[perm[i] * (LINE / 8)] = perm[(i + 1) % lines];

    size_t reads = 4000000; /* laps of the cycle when the table is small */
    uint64_t p = perm[0];
    double t0 = bench_now();
    for (size_t i = 0; i < reads; i++)
        p = t[p * (LINE / 8)];
    double dep = (bench_now() - t0) * 1e9 / (double)reads;

    /* Independent: 16 chains walked in lockstep, so 16 misses are in flight. */
    enum { WAYS = 16 };
    uint64_t q[WAYS];
    for (int w = 0; w < WAYS; w++)
        q[w] = perm[(size_t)w * (lines / WAYS)];
    size_t rounds = reads / WAYS;
    t0 = bench_now();
    for (size_t i = 0; i < rounds; i++)
        for (int w = 0; w < WAYS; w++)
            q[w] = t[q[w] * (LINE / 8)];
    double ind = (bench_now() - t0) * 1e9 / (double)(rounds * WAYS);
    uint64_t sink = p;
    for (int w = 0; w < WAYS; w++)
        sink ^= q[w];

    printf("memlat: %zu MiB table, random 64-byte reads (checksum %llu)\n", mib,
           (unsigned long long)(sink & 1));
    printf("  dependent (one miss at a time): %.1f ns/read\n", dep);
    printf("  independent (16 in flight):     %.1f ns/read\n", ind);
    bench_result("memlat.dependent_ns", dep);
    bench_result("memlat.independent_ns", ind);
    free(t);
    free(perm);
    return 0;
}
