/* bench-rank — ranking offers for a known user: 100 and 1,000 offers, each
 * policy, latency per call (median and p99).
 *
 *   bench-rank [-u USERS] [-c CALLS] [-p POLICY] [-o OFFERS]
 *
 * POLICY runs one label below (e.g. greedy); OFFERS one catalog size
 * instead of 100 and 1,000 (-o 1 shows the fixed cost of a call).
 *
 * Each size twice: a catalog whose offers are only scored (tags, caps, no
 * rule) and one where a third carry an eligibility rule.
 *
 * Targets (offers issue): 100 offers <= 2 us median and <= 10 us p99;
 * 1,000 offers <= 20 us median; Thompson sampling reported separately (it
 * draws from a Beta posterior per offer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n offers tagged with leaves of the bench tree, all with a daily and a
 * weekly cap; with `rules`, a third have an eligibility rule; each has
 * seen feedback. */
static void define_offers(bvt_engine *e, size_t n, int rules, const bench_users *u)
{
    char id[32], path[64], rule[96];
    const bvt_cap caps[] = { { 3, 86400000 }, { 10, 7 * 86400000LL } };
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "offer-%zu", i);
        bench_cat_path(path, sizeof path, (unsigned)(i * 37) % BENCH_LEAVES);
        const char *tags[] = { path };
        bvt_offer o = BVT_OFFER_INIT;
        o.id = id;
        o.tags = tags;
        o.n_tags = 1;
        o.value = 0.5 + (double)(i % 7);
        o.caps = caps;
        o.n_caps = 2;
        if (rules && i % 3 == 0) {
            snprintf(rule, sizeof rule, "page_views >= %zu or interest(\"%.*s\") > 0.05", i % 4,
                     (int)(strchr(path, '/') - path), path);
            o.rule = rule;
        }
        bvt_error err = BVT_ERROR_INIT;
        if (bvt_offer_define(e, &o, NULL, &err) != BVT_OK) {
            fprintf(stderr, "bench-rank: %s: %s\n", id, err.message);
            exit(1);
        }
        /* feedback from other users so every posterior has data */
        for (int k = 0; k < 20; k++) {
            bvt_event ev = BVT_EVENT_INIT;
            ev.type = k % 10 == 9 ? BVT_EVENT_CLICK : BVT_EVENT_IMPRESSION;
            const char *uid = bench_user_id(u, (i * 131 + (size_t)k) % u->n);
            ev.user_id = uid;
            ev.user_id_len = BENCH_ID_LEN;
            ev.time_ms = 1735689600000LL + k;
            ev.offer_id = id;
            bvt_event_track(e, &ev, NULL);
        }
    }
}

static const char *only; /* -p: run just this policy */

static const char *catalog; /* "scored" (no rules) or "rules" (a third with rules) */

static void run(bvt_engine *e, const bench_users *u, const char *label, size_t n_offers,
                uint32_t kind, uint32_t draws, size_t calls)
{
    if (only && strcmp(only, label) != 0)
        return;
    bvt_policy p = BVT_POLICY_INIT;
    p.kind = kind;
    p.propensity_draws = draws;
    bvt_ranked_offer out[4];
    double *ns = malloc(calls * sizeof *ns);
    bench_rng rng = { 7 };
    size_t eligible = 0;
    for (size_t c = 0; c < calls; c++) {
        bvt_rank_request q = BVT_RANK_REQUEST_INIT;
        q.user_id = bench_user_id(u, bench_rng_below(&rng, u->n));
        q.user_id_len = BENCH_ID_LEN;
        q.now = 1735689600000LL + 86400000LL * 31;
        q.k = 4;
        q.policy = &p;
        q.seed = c;
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        res.offers = out;
        res.offers_cap = 4;
        double t = bench_now();
        if (bvt_rank(e, &q, &res, NULL) != BVT_OK)
            exit(1);
        ns[c] = (bench_now() - t) * 1e9;
        eligible += res.n_choices;
    }
    qsort(ns, calls, sizeof *ns, cmp_double);
    double med = ns[calls / 2] / 1000, p99 = ns[calls * 99 / 100] / 1000;
    printf("%-24s %-6s %5zu offers (%4.0f eligible): median %7.2f us  p99 %8.2f us\n", label,
           catalog, n_offers, (double)eligible / (double)calls, med, p99);
    char name[96];
    snprintf(name, sizeof name, "rank-%zu-%s-%s-median-us", n_offers, catalog, label);
    bench_result(name, med);
    snprintf(name, sizeof name, "rank-%zu-%s-%s-p99-us", n_offers, catalog, label);
    bench_result(name, p99);
    free(ns);
}

int main(int argc, char **argv)
{
    uint64_t users = 100000;
    size_t calls = 20000, sizes[2] = { 100, 1000 };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-u") == 0)
            users = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-c") == 0)
            calls = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "-p") == 0)
            only = argv[i + 1];
        else if (strcmp(argv[i], "-o") == 0)
            sizes[0] = sizes[1] = (size_t)strtoull(argv[i + 1], NULL, 10);
    }
    for (size_t c = 0; c < (sizes[0] == sizes[1] ? 2u : 4u); c++) {
        size_t s = c / 2;
        int rules = c % 2;
        catalog = rules ? "rules" : "scored";
        bvt_engine *e = bench_engine_new();
        bench_cats cats;
        bench_users u;
        bench_rng rng = { 42 };
        if (bench_cats_intern(&cats, e) != BVT_OK || bench_users_make(&u, users) != BVT_OK)
            return 1;
        /* every user: 8 page views over 30 days, and ads consent */
        size_t n = (size_t)users * 8;
        bvt_event *ev = malloc(n * sizeof *ev);
        char *idcopy = malloc(n * BENCH_ID_LEN);
        if (!ev || !idcopy)
            return 1;
        bench_events_fill(ev, idcopy, n, &u, BENCH_UNIFORM, 0, 0, 1, &cats, 1735689600000LL,
                          30LL * 86400000, &rng);
        bvt_event_track_batch(e, ev, n, NULL, 0, NULL, NULL);
        for (uint64_t i = 0; i < users; i++)
            bvt_consent_set(e, bench_user_id(&u, i), BENCH_ID_LEN, BVT_PURPOSE_ADS, 1,
                            1735689600000LL);
        define_offers(e, sizes[s], rules, &u);
        run(e, &u, "greedy", sizes[s], BVT_POLICY_GREEDY, 0, calls);
        run(e, &u, "epsilon-greedy", sizes[s], BVT_POLICY_EPSILON_GREEDY, 0, calls);
        run(e, &u, "softmax", sizes[s], BVT_POLICY_SOFTMAX, 0, calls);
        run(e, &u, "ucb1", sizes[s], BVT_POLICY_UCB1, 0, calls);
        run(e, &u, "thompson", sizes[s], BVT_POLICY_THOMPSON, 0, calls);
        run(e, &u, "thompson+propensity-100", sizes[s], BVT_POLICY_THOMPSON, 100,
            sizes[s] > 100 ? calls / 20 : calls / 4);
        free(ev);
        free(idcopy);
        bench_users_free(&u);
        bvt_engine_free(e);
    }
    return 0;
}
