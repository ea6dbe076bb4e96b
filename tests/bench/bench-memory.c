/* bench-memory.c — per-user memory of the parts of a profile that vary in
 * size (behaviour history, cart, attributes) on the synthetic shop's data,
 * plus the fixed record and table overhead per user.
 *
 * The library reports only totals, so per-user figures come from the
 * difference method: events are tracked one at a time and the engine's
 * byte counters (bvt_engine_stats) are read after each; the change is
 * charged to the event's user.  A user's variable-size memory only changes
 * through that user's own events and attribute calls, so the per-user sums
 * are exact (bytes the engine holds, capacity included, allocator overhead
 * excluded); the program checks they add up to the engine's totals.
 *
 * The data is the demo's (examples/shop/demo.c defaults: seed 42, 50,000
 * users, 1,000,000 events over 30 days).  The demo gives two attributes to
 * every third user; here, to show the sizes attributes grow through, every
 * user gets a deterministic 0..6 of: age_band, gender, region, loyalty_tier,
 * lifestyle (strings from small vocabularies) and income (number).
 *
 * Usage: bench-memory [-u users] [-e events] [-D days] [-s seed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "shop.h"

/* ---- user id -> index ------------------------------------------------- */

typedef struct id_map {
    const char **ids; /* borrowed from the shop */
    uint32_t *slot;   /* user index + 1, 0 = empty */
    size_t mask;
    size_t id_len;
} id_map;

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static void map_build(id_map *m, const shop *s, uint32_t users)
{
    size_t cap = 16;
    while (cap < (size_t)users * 2)
        cap *= 2;
    m->mask = cap - 1;
    m->id_len = shop_user_id_len(s);
    m->slot = calloc(cap, sizeof *m->slot);
    m->ids = malloc((size_t)users * sizeof *m->ids);
    if (!m->slot || !m->ids) {
        fprintf(stderr, "bench-memory: out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < users; i++) {
        m->ids[i] = shop_user_id(s, i);
        size_t h = (size_t)fnv1a(m->ids[i], m->id_len) & m->mask;
        while (m->slot[h])
            h = (h + 1) & m->mask;
        m->slot[h] = i + 1;
    }
}

static int64_t map_find(const id_map *m, const void *id, size_t len)
{
    if (len != m->id_len)
        return -1;
    size_t h = (size_t)fnv1a(id, len) & m->mask;
    while (m->slot[h]) {
        uint32_t i = m->slot[h] - 1;
        if (memcmp(m->ids[i], id, len) == 0)
            return i;
        h = (h + 1) & m->mask;
    }
    return -1;
}

/* ---- per-user accounting ---------------------------------------------- */

enum { K_HIST, K_CART, K_ATTRS, K_N };
static const char *const kind_name[K_N] = { "history", "cart", "attributes" };

typedef struct meter {
    bvt_engine *engine;
    bvt_stats last;
    int64_t *bytes[K_N]; /* per user */
    uint64_t other_changes; /* table or registry growth seen on a call */
} meter;

static void meter_read(meter *mt, bvt_stats *st)
{
    *st = (bvt_stats)BVT_STATS_INIT;
    if (bvt_engine_stats(mt->engine, st) != BVT_OK) {
        fprintf(stderr, "bench-memory: bvt_engine_stats failed\n");
        exit(1);
    }
}

/* Charge what changed since the last reading to user u. */
static void meter_charge(meter *mt, uint32_t u)
{
    bvt_stats st;
    meter_read(mt, &st);
    mt->bytes[K_HIST][u] += (int64_t)(st.bytes_history - mt->last.bytes_history);
    mt->bytes[K_CART][u] += (int64_t)(st.bytes_cart - mt->last.bytes_cart);
    mt->bytes[K_ATTRS][u] += (int64_t)(st.bytes_attributes - mt->last.bytes_attributes);
    mt->last = st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static int64_t pct(const int64_t *v, size_t n, double p)
{
    size_t r = (size_t)(p * (double)n + 0.999999);
    if (r < 1) r = 1;
    if (r > n) r = n;
    return v[r - 1];
}

static void set_attributes(meter *mt, const id_map *m, uint32_t users)
{
    static const char *const bands[] = { "18-24", "25-34", "35-44", "45-54", "55-64", "65+" };
    static const char *const genders[] = { "f", "m", "x" };
    static const char *const regions[] = { "north", "south", "east", "west", "centre" };
    static const char *const tiers[] = { "none", "silver", "gold", "platinum" };
    static const char *const styles[] = { "outdoor", "homebody", "urban", "family",
                                          "budget", "premium", "tech" };
    for (uint32_t u = 0; u < users; u++) {
        const char *id = m->ids[u];
        size_t len = m->id_len;
        uint32_t n = (uint32_t)((u * 2654435761u) >> 16) % 7; /* 0..6 attributes */
        int rc = BVT_OK;
        if (n > 0 && rc == BVT_OK)
            rc = bvt_attr_set_string(mt->engine, id, len, "age_band", bands[u % 6]);
        if (n > 1 && rc == BVT_OK)
            rc = bvt_attr_set_string(mt->engine, id, len, "gender", genders[u % 3]);
        if (n > 2 && rc == BVT_OK)
            rc = bvt_attr_set_number(mt->engine, id, len, "income",
                                     20000.0 + (double)(u % 97) * 1000.0);
        if (n > 3 && rc == BVT_OK)
            rc = bvt_attr_set_string(mt->engine, id, len, "region", regions[u % 5]);
        if (n > 4 && rc == BVT_OK)
            rc = bvt_attr_set_string(mt->engine, id, len, "loyalty_tier", tiers[u % 4]);
        if (n > 5 && rc == BVT_OK)
            rc = bvt_attr_set_string(mt->engine, id, len, "lifestyle", styles[u % 7]);
        if (rc != BVT_OK) {
            fprintf(stderr, "bench-memory: setting attributes: %s\n", bvt_strerror(rc));
            exit(1);
        }
        meter_charge(mt, u);
    }
}

int main(int argc, char **argv)
{
    /* The demo's data: examples/shop/demo.c defaults. */
    shop_config cfg = { 42, 50000, 1000000, 1709251200000LL /* 2024-03-01 */, 30 };
    int opt;
    while ((opt = getopt(argc, argv, "u:e:D:s:")) != -1) {
        switch (opt) {
        case 'u': cfg.users = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'e': cfg.events = strtoull(optarg, NULL, 10); break;
        case 'D': cfg.days = strtoll(optarg, NULL, 10); break;
        case 's': cfg.seed = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench-memory [-u users] [-e events] [-D days] [-s seed]\n");
            return 2;
        }
    }
    shop *s = NULL;
    if (shop_new(&s, &cfg) != 0) {
        fprintf(stderr, "bench-memory: shop_new failed (bad config or no memory)\n");
        return 1;
    }
    meter mt;
    memset(&mt, 0, sizeof mt);
    mt.engine = bench_engine_new();
    int rc = shop_setup_engine(s, mt.engine);
    if (rc != BVT_OK) {
        fprintf(stderr, "bench-memory: shop_setup_engine: %s\n", bvt_strerror(rc));
        return 1;
    }
    id_map m;
    map_build(&m, s, cfg.users);
    for (int k = 0; k < K_N; k++) {
        mt.bytes[k] = calloc(cfg.users, sizeof *mt.bytes[k]);
        if (!mt.bytes[k]) {
            fprintf(stderr, "bench-memory: out of memory\n");
            return 1;
        }
    }
    printf("memory: shop seed %llu, %u users, %llu events over %lld days, default options\n",
           (unsigned long long)cfg.seed, cfg.users, (unsigned long long)cfg.events,
           (long long)cfg.days);

    meter_read(&mt, &mt.last);
    enum { CHUNK = 4096 };
    bvt_event *ev = malloc(CHUNK * sizeof *ev);
    size_t got, failed = 0;
    uint64_t tracked = 0;
    while ((got = shop_next_batch(s, ev, CHUNK)) > 0) {
        for (size_t k = 0; k < got; k++) {
            int64_t u = map_find(&m, ev[k].user_id, ev[k].user_id_len);
            if (u < 0) {
                fprintf(stderr, "bench-memory: event for an unknown user id\n");
                return 1;
            }
            if (bvt_event_track(mt.engine, &ev[k], NULL) != BVT_OK)
                failed++;
            meter_charge(&mt, (uint32_t)u);
            tracked++;
        }
    }
    set_attributes(&mt, &m, cfg.users);
    bench_print_stats(mt.engine, "  engine");
    if (failed) {
        fprintf(stderr, "bench-memory: %zu of %llu events refused\n", failed,
                (unsigned long long)tracked);
        return 1;
    }

    bvt_stats st;
    meter_read(&mt, &st);
    const uint64_t totals[K_N] = { st.bytes_history, st.bytes_cart, st.bytes_attributes };
    int64_t *sorted = malloc(cfg.users * sizeof *sorted);
    int bad = 0;
    printf("  bytes per user (difference method; all %u users, including those "
           "with none):\n", cfg.users);
    printf("  %-11s %10s %10s %10s %10s %10s\n", "part", "mean", "median", "p99", "max",
           "users>0");
    for (int k = 0; k < K_N; k++) {
        int64_t sum = 0;
        size_t nonzero = 0;
        for (uint32_t u = 0; u < cfg.users; u++) {
            sum += mt.bytes[k][u];
            nonzero += mt.bytes[k][u] != 0;
        }
        memcpy(sorted, mt.bytes[k], cfg.users * sizeof *sorted);
        qsort(sorted, cfg.users, sizeof *sorted, cmp_i64);
        double mean = (double)sum / cfg.users;
        int64_t med = pct(sorted, cfg.users, 0.5), p99 = pct(sorted, cfg.users, 0.99);
        printf("  %-11s %10.1f %10lld %10lld %10lld %10zu\n", kind_name[k], mean,
               (long long)med, (long long)p99, (long long)sorted[cfg.users - 1], nonzero);
        if ((uint64_t)sum != totals[k]) {
            printf("  WARNING: %s per-user sum %lld != engine total %llu\n", kind_name[k],
                   (long long)sum, (unsigned long long)totals[k]);
            bad = 1;
        }
        char name[96];
        snprintf(name, sizeof name, "mem.demo.%s.median_bytes_per_user", kind_name[k]);
        bench_result(name, (double)med);
        snprintf(name, sizeof name, "mem.demo.%s.p99_bytes_per_user", kind_name[k]);
        bench_result(name, (double)p99);
        snprintf(name, sizeof name, "mem.demo.%s.mean_bytes_per_user", kind_name[k]);
        bench_result(name, mean);
    }
    printf("  fixed record %u B; table (records + index + free slots) per user %.1f B\n",
           st.record_bytes, st.bytes_per_user);
    bench_result("mem.demo.table_bytes_per_user", st.bytes_per_user);

    free(sorted);
    free(ev);
    for (int k = 0; k < K_N; k++)
        free(mt.bytes[k]);
    free(m.slot);
    free(m.ids);
    bvt_engine_free(mt.engine);
    shop_free(s);
    return bad;
}
