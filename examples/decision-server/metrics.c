/* metrics.c — the server's counters, and GET /metrics, which writes them in
 * the Prometheus text exposition format (version 0.0.4) with the engine's
 * user and memory figures.  Counters are relaxed atomics: a scrape sees
 * each one whole, not all of them at one instant.  Nothing here names a
 * user. */
#include "ds.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The decision latency buckets: upper bounds in nanoseconds and as the le
 * label (50 us to 250 ms: a decision takes tens of microseconds, a slow
 * one shows). */
static const struct {
    int64_t ns;
    const char *le;
} buckets[] = {
    { 50000, "0.00005" }, { 100000, "0.0001" }, { 250000, "0.00025" }, { 500000, "0.0005" },
    { 1000000, "0.001" }, { 2500000, "0.0025" }, { 5000000, "0.005" }, { 10000000, "0.01" },
    { 25000000, "0.025" }, { 50000000, "0.05" }, { 100000000, "0.1" }, { 250000000, "0.25" },
};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

/* The statuses the server answers with; anything else counts as "other". */
static const unsigned codes[] = { 200, 400, 404, 405, 413, 500, 503 };
#define N_CODES (sizeof codes / sizeof codes[0])

struct ds_metrics {
    atomic_uint_fast64_t events[DS_SRC_COUNT][2]; /* [source][0 accepted, 1 rejected] */
    atomic_uint_fast64_t decisions[2];            /* [personalised] */
    atomic_uint_fast64_t latency[N_BUCKETS + 1];  /* per bucket, not cumulative; last +Inf */
    atomic_uint_fast64_t latency_sum_ns;
    atomic_uint_fast64_t replies[N_CODES + 1];    /* last: other */
};

static const char *const source_names[DS_SRC_COUNT] = { "pixel", "events" };

ds_metrics *ds_metrics_new(void)
{
    ds_metrics *m = malloc(sizeof *m);
    if (!m)
        return NULL;
    for (size_t s = 0; s < DS_SRC_COUNT; s++)
        for (size_t k = 0; k < 2; k++)
            atomic_init(&m->events[s][k], 0);
    for (size_t k = 0; k < 2; k++)
        atomic_init(&m->decisions[k], 0);
    for (size_t b = 0; b <= N_BUCKETS; b++)
        atomic_init(&m->latency[b], 0);
    atomic_init(&m->latency_sum_ns, 0);
    for (size_t c = 0; c <= N_CODES; c++)
        atomic_init(&m->replies[c], 0);
    return m;
}

void ds_metrics_free(ds_metrics *m)
{
    free(m);
}

int64_t ds_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void ds_metrics_events(ds_metrics *m, ds_source src, uint64_t accepted, uint64_t rejected)
{
    if (!m || src >= DS_SRC_COUNT)
        return;
    add(&m->events[src][0], accepted);
    add(&m->events[src][1], rejected);
}

void ds_metrics_decision(ds_metrics *m, int personalised, int64_t elapsed_ns)
{
    if (!m)
        return;
    if (elapsed_ns < 0)
        elapsed_ns = 0;
    size_t b = 0;
    while (b < N_BUCKETS && elapsed_ns > buckets[b].ns)
        b++;
    add(&m->decisions[personalised != 0], 1);
    add(&m->latency[b], 1);
    add(&m->latency_sum_ns, (uint64_t)elapsed_ns);
}

void ds_metrics_reply(ds_metrics *m, unsigned status)
{
    if (!m)
        return;
    size_t c = 0;
    while (c < N_CODES && codes[c] != status)
        c++;
    add(&m->replies[c], 1);
}

static void help(jo_buf *b, const char *name, const char *type, const char *text)
{
    jo_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void histogram(ds_metrics *m, jo_buf *b)
{
    static const char name[] = "bvt_decision_duration_seconds";
    help(b, name, "histogram", "Time to answer POST /decide: body, ranking, reply.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= N_BUCKETS; i++) {
        cumulative += get(&m->latency[i]);
        if (i < N_BUCKETS)
            jo_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, buckets[i].le,
                      (unsigned long long)cumulative);
        else
            jo_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    }
    jo_printf(b, "%s_sum %.9f\n%s_count %llu\n", name, (double)get(&m->latency_sum_ns) / 1e9,
              name, (unsigned long long)cumulative);
}

static void render(ds_metrics *m, bvt_engine *engine, jo_buf *b)
{
    static const char *const kind[2] = { "accepted", "rejected" };
    for (size_t k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "bvt_events_%s_total", kind[k]);
        help(b, name, "counter",
             k == 0 ? "Events the engine accepted, by where they came from."
                    : "Events the engine refused (the reasons are in the replies), by where "
                      "they came from.");
        for (size_t s = 0; s < DS_SRC_COUNT; s++)
            jo_printf(b, "%s{source=\"%s\"} %llu\n", name, source_names[s],
                      (unsigned long long)get(&m->events[s][k]));
    }
    help(b, "bvt_decisions_total", "counter",
         "Decisions answered by POST /decide, by whether the profile was used.");
    for (size_t p = 0; p < 2; p++)
        jo_printf(b, "bvt_decisions_total{personalised=\"%s\"} %llu\n", p ? "true" : "false",
                  (unsigned long long)get(&m->decisions[p]));
    histogram(m, b);
    bvt_stats st = BVT_STATS_INIT;
    if (bvt_engine_stats(engine, &st) == BVT_OK) {
        help(b, "bvt_users", "gauge", "Profiles held.");
        jo_printf(b, "bvt_users %llu\n", (unsigned long long)st.users);
        help(b, "bvt_users_evicted_total", "counter",
             "Profiles evicted to make room (--max-users), since the engine was created.");
        jo_printf(b, "bvt_users_evicted_total %llu\n", (unsigned long long)st.users_evicted);
        help(b, "bvt_memory_bytes", "gauge",
             "Bytes the engine holds: profiles, history, carts, attributes, registries.");
        jo_printf(b, "bvt_memory_bytes %llu\n", (unsigned long long)st.bytes_total);
    }
    help(b, "bvt_http_responses_total", "counter", "HTTP responses by status code.");
    for (size_t c = 0; c <= N_CODES; c++) {
        if (c < N_CODES)
            jo_printf(b, "bvt_http_responses_total{code=\"%u\"} %llu\n", codes[c],
                      (unsigned long long)get(&m->replies[c]));
        else
            jo_printf(b, "bvt_http_responses_total{code=\"other\"} %llu\n",
                      (unsigned long long)get(&m->replies[c]));
    }
}

void ds_metrics_page(const ds_request *req, ds_reply *rep)
{
    if (!req->srv->metrics)
        DS_FAIL(rep, 404, "metrics are not kept by this server");
    jo_buf b = { 0 };
    render(req->srv->metrics, req->srv->engine, &b);
    jo_reply(&b, rep);
    if (rep->status == 200)
        rep->type = "text/plain; version=0.0.4; charset=utf-8";
}
