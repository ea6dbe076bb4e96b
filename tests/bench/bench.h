/* bench.h — shared pieces of the benchmark programs: a clock, a seeded
 * generator, pre-built user ids and event arrays, and result lines.
 *
 * Every figure a benchmark wants summarised is printed as one line
 *     @ <name> <value>
 * which run-all.sh collects over runs to print medians.  Everything else a
 * benchmark prints is for the reader. */
#ifndef BVT_BENCH_H
#define BVT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* CPU seconds of the calling thread: compared with the wall time it shows
 * how much of a pass other processes took (the machine is shared). */
double bench_thread_cpu(void);

/* Peak resident set of this process in MiB. */
double bench_maxrss_mib(void);

/* splitmix64: seeded, fast, good enough for choosing users and types. */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

uint64_t bench_rng_next(bench_rng *r);
/* Uniform in [0, n). */
uint64_t bench_rng_below(bench_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double bench_rng_unit(bench_rng *r);

/* User ids as pre-built strings: id i is 16 bytes at ids + i * 16 (no NUL). */
#define BENCH_ID_LEN 16
typedef struct bench_users {
    char *ids;
    uint64_t n;
} bench_users;

int bench_users_make(bench_users *u, uint64_t n);
void bench_users_free(bench_users *u);
static inline const char *bench_user_id(const bench_users *u, uint64_t i)
{
    return u->ids + i * BENCH_ID_LEN;
}

/* How events pick their user. */
enum bench_dist {
    BENCH_UNIFORM = 0,
    BENCH_SKEWED = 1 /* power law: about 20% of the users get 80% of the events */
};

/* The category tree used by generated events: 8 x 8 x 8 leaves, interned
 * once; leaves[] are their ids. */
#define BENCH_LEAVES 512
typedef struct bench_cats {
    uint32_t leaves[BENCH_LEAVES];
} bench_cats;

int bench_cats_intern(bench_cats *c, bvt_engine *engine);
/* Path of leaf i, written into buf (for peers that need the text). */
void bench_cat_path(char *buf, size_t cap, unsigned leaf);

/* Item ids used by cart events: a fixed pool of short strings. */
#define BENCH_ITEMS 4096
const char *bench_item_id(unsigned i);

/* Fill n events with a fixed mix of types (page views, impressions, clicks,
 * searches, cart adds and removes, purchases), every one with a category
 * id, cart events with an item id.  Users come from `users` by `dist`, or,
 * when `sequential` is non-zero, are first + k * stride for k = 0..n-1 (the
 * insert pass).  Times rise evenly from t0_ms over span_ms.
 * Each event's id is copied to idcopy + k * BENCH_ID_LEN (n * 16 bytes) and
 * points there: a stream carries the id in the message, so reading it must
 * not cost a cache miss into a table of all ids. */
void bench_events_fill(bvt_event *ev, char *idcopy, size_t n, const bench_users *users,
                       enum bench_dist dist, int sequential, uint64_t first,
                       uint64_t stride, const bench_cats *cats, int64_t t0_ms,
                       int64_t span_ms, bench_rng *rng);

/* A new engine with default options and a fixed secret; exits on failure. */
bvt_engine *bench_engine_new(void);

/* Print one result line "@ name value". */
void bench_result(const char *name, double value);

/* Print engine stats for the reader (prefix names the moment). */
void bench_print_stats(bvt_engine *engine, const char *prefix);

#endif
