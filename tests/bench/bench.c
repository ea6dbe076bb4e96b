/* bench.c — shared pieces of the benchmark programs (see bench.h). */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_maxrss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

uint64_t bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
    /* The modulo bias is below n / 2^64: invisible at these sizes. */
    return bench_rng_next(r) % n;
}

double bench_rng_unit(bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int bench_users_make(bench_users *u, uint64_t n)
{
    static const char hex[] = "0123456789abcdef";
    u->n = n;
    u->ids = malloc(n * BENCH_ID_LEN);
    if (!u->ids)
        return -1;
    /* Ids look like opaque cookies: "u" + 15 hex digits of a mixed index,
     * distinct because the mixing is a bijection on 60 bits. */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = (i * 0x9e3779b97f4a7c15ULL) & 0x0fffffffffffffffULL;
        char *p = u->ids + i * BENCH_ID_LEN;
        p[0] = 'u';
        for (int k = 15; k >= 1; k--) {
            p[k] = hex[x & 15];
            x >>= 4;
        }
    }
    return 0;
}

void bench_users_free(bench_users *u)
{
    free(u->ids);
    u->ids = NULL;
    u->n = 0;
}

void bench_cat_path(char *buf, size_t cap, unsigned leaf)
{
    snprintf(buf, cap, "dept%u/aisle%u/shelf%u", leaf / 64, (leaf / 8) % 8, leaf % 8);
}

int bench_cats_intern(bench_cats *c, bvt_engine *engine)
{
    char path[64];
    for (unsigned i = 0; i < BENCH_LEAVES; i++) {
        bench_cat_path(path, sizeof path, i);
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_category_intern(engine, path, &c->leaves[i], &err);
        if (rc != BVT_OK) {
            fprintf(stderr, "bench: interning %s: %s (%s)\n", path, bvt_strerror(rc),
                    err.message);
            return rc;
        }
    }
    return BVT_OK;
}

const char *bench_item_id(unsigned i)
{
    static char items[BENCH_ITEMS][12];
    static int made;
    if (!made) {
        for (unsigned k = 0; k < BENCH_ITEMS; k++)
            snprintf(items[k], sizeof items[k], "sku%05u", k);
        made = 1;
    }
    return items[i % BENCH_ITEMS];
}

/* The type mix, per 100 events. */
static uint32_t pick_type(unsigned r100)
{
    if (r100 < 50) return BVT_EVENT_PAGE_VIEW;
    if (r100 < 70) return BVT_EVENT_IMPRESSION;
    if (r100 < 78) return BVT_EVENT_CLICK;
    if (r100 < 86) return BVT_EVENT_SEARCH;
    if (r100 < 93) return BVT_EVENT_ADD_TO_CART;
    if (r100 < 95) return BVT_EVENT_REMOVE_FROM_CART;
    return BVT_EVENT_PURCHASE;
}

void bench_events_fill(bvt_event *ev, char *idcopy, size_t n, const bench_users *users,
                       enum bench_dist dist, int sequential, uint64_t first,
                       uint64_t stride, const bench_cats *cats, int64_t t0_ms,
                       int64_t span_ms, bench_rng *rng)
{
    (void)bench_item_id(0); /* build the pool before any thread reads it */
    for (size_t k = 0; k < n; k++) {
        bvt_event *e = &ev[k];
        bvt_event_init(e);
        uint64_t u;
        if (sequential) {
            u = first + (uint64_t)k * stride;
        } else if (dist == BENCH_SKEWED) {
            /* P(index < p * n) = p^(1/7.21): 20% of users get 80% of events. */
            u = (uint64_t)((double)users->n * pow(bench_rng_unit(rng), 7.21));
            /* Spread the heavy users over the id space. */
            u = (u * 2654435761ULL) % users->n;
        } else {
            u = bench_rng_below(rng, users->n);
        }
        memcpy(idcopy + k * BENCH_ID_LEN, bench_user_id(users, u), BENCH_ID_LEN);
        e->user_id = idcopy + k * BENCH_ID_LEN;
        e->user_id_len = BENCH_ID_LEN;
        e->type = pick_type((unsigned)bench_rng_below(rng, 100));
        e->time_ms = t0_ms + (int64_t)((double)span_ms * (double)k / (double)n);
        e->category_id = cats->leaves[bench_rng_below(rng, BENCH_LEAVES)];
        switch (e->type) {
        case BVT_EVENT_PAGE_VIEW:
            e->dwell_ms = 1000 + (int64_t)bench_rng_below(rng, 60000);
            break;
        case BVT_EVENT_ADD_TO_CART:
            e->item_id = bench_item_id((unsigned)bench_rng_below(rng, BENCH_ITEMS));
            e->value = 5.0 + (double)bench_rng_below(rng, 20000) / 100.0;
            break;
        case BVT_EVENT_REMOVE_FROM_CART:
            e->item_id = bench_item_id((unsigned)bench_rng_below(rng, BENCH_ITEMS));
            break;
        case BVT_EVENT_PURCHASE:
            /* Half name an item, half are checkouts of the whole cart. */
            if (bench_rng_below(rng, 2))
                e->item_id = bench_item_id((unsigned)bench_rng_below(rng, BENCH_ITEMS));
            e->value = 5.0 + (double)bench_rng_below(rng, 20000) / 100.0;
            break;
        default:
            break;
        }
    }
}

bvt_engine *bench_engine_new(void)
{
    static const char secret[] = "benchmark-secret-0123456789abcdef";
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = secret;
    o.secret_len = sizeof secret - 1;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&e, &o, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "bench: bvt_engine_new: %s (%s)\n", bvt_strerror(rc), err.message);
        exit(1);
    }
    return e;
}

void bench_result(const char *name, double value)
{
    printf("@ %s %.6g\n", name, value);
    fflush(stdout);
}

void bench_print_stats(bvt_engine *engine, const char *prefix)
{
    bvt_stats st = BVT_STATS_INIT;
    if (bvt_engine_stats(engine, &st) != BVT_OK) {
        printf("%s: stats unavailable\n", prefix);
        return;
    }
    const double mib = 1024.0 * 1024.0;
    printf("%s: users %llu, events accepted %llu rejected %llu; MiB table %.1f "
           "history %.1f cart %.1f attributes %.1f registry %.1f total %.1f; "
           "record %u B, table/user %.1f B; maxrss %.0f MiB\n",
           prefix, (unsigned long long)st.users, (unsigned long long)st.events_accepted,
           (unsigned long long)st.events_rejected, (double)st.bytes_table / mib,
           (double)st.bytes_history / mib, (double)st.bytes_cart / mib,
           (double)st.bytes_attributes / mib, (double)st.bytes_registry / mib,
           (double)st.bytes_total / mib, st.record_bytes, st.bytes_per_user,
           bench_maxrss_mib());
}
