/* demo_segments.c — the segments part of the demo report: a few marketer
 * rules, the built-in RFM segments and funnel stages, behavioural clusters,
 * and a retargeting audience with raw ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "demo_segments.h"

static double seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

static uint64_t size_of(bvt_engine *e, const char *name, int64_t now, const bvt_context *ctx)
{
    uint32_t id;
    uint64_t n = 0;
    if (bvt_segment_lookup(e, name, &id) == BVT_OK)
        bvt_segment_members(e, id, now, ctx, NULL, NULL, &n);
    return n;
}

/* Marketer rules over the shop's most popular leaf and its parent. */
static void custom_segments(bvt_engine *e, const shop *s, int64_t now, uint64_t users,
                            demo_count *out)
{
    char leaf[128], parent[128];
    snprintf(leaf, sizeof leaf, "%s", shop_leaf_path(s, 0));
    snprintf(parent, sizeof parent, "%s", leaf);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = 0;
    struct {
        const char *name;
        char rule[512];
        int with_context;
    } defs[DEMO_RULES];
    snprintf(defs[0].rule, sizeof defs[0].rule,
             "count(page_view, \"%s\", 7d) >= 2 and not did(purchase, \"%s\", 7d)", leaf, parent);
    defs[0].name = "leaf intent, no purchase";
    snprintf(defs[1].rule, sizeof defs[1].rule, "carted_not_bought(24h)");
    defs[1].name = "cart abandoners (24h)";
    snprintf(defs[2].rule, sizeof defs[2].rule, "monetary_total >= 500 and purchase_recency > 7d");
    defs[2].name = "lapsed high spenders";
    snprintf(defs[3].rule, sizeof defs[3].rule,
             "attr.age_band in (\"18-24\", \"25-34\") and attr.income >= 80000");
    defs[3].name = "young high earners";
    snprintf(defs[4].rule, sizeof defs[4].rule,
             "ctx.device == \"mobile\" and ctx.hour >= 18 and interest(\"%s\") >= 0.2", parent);
    defs[4].name = "evening mobile, into the dept";
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.device = "mobile";
    ctx.hour = 20;
    for (int i = 0; i < DEMO_RULES; i++)
        defs[i].with_context = i == 4;
    printf("\nSegments (rules compiled once; sizes by bvt_segment_members at now)\n");
    for (int i = 0; i < DEMO_RULES; i++) {
        bvt_error err = BVT_ERROR_INIT;
        out[i] = (demo_count){defs[i].name, 0};
        if (bvt_segment_define(e, defs[i].name, defs[i].rule, NULL, &err) != BVT_OK) {
            printf("  %-30s error: %s\n", defs[i].name, err.message);
            continue;
        }
        uint64_t n = size_of(e, defs[i].name, now, defs[i].with_context ? &ctx : NULL);
        out[i].n = n;
        printf("  %-30s %8llu  %5.1f%%   %s%s\n", defs[i].name, (unsigned long long)n,
               100.0 * (double)n / (double)(users ? users : 1), defs[i].rule,
               defs[i].with_context ? "   [ctx: mobile, 20h]" : "");
    }
}

/* Counts one RFM segment's members by the R and F scores the demo read. */
typedef struct cell_count {
    const demo_user_map *map;
    uint64_t (*cells)[6];
} cell_count;

static int count_cell(const bvt_user_key *key, void *ud)
{
    cell_count *cc = ud;
    uint32_t r = 0, f = 0;
    if (cc->map->rf_scores(key, cc->map->ud, &r, &f) && r >= 1 && r <= 5 && f >= 1 && f <= 5)
        cc->cells[r][f]++;
    return 0;
}

/* Prints two named counts a line, each with its share of `of`. */
static void print_counts(const demo_count *c, size_t n, uint64_t of)
{
    for (size_t i = 0; i < n; i++)
        printf("  %-20s %7llu  %5.1f%%%s", c[i].name, (unsigned long long)c[i].n,
               100.0 * (double)c[i].n / (double)(of ? of : 1), i % 2 || i + 1 == n ? "\n" : "   ");
}

static void builtin_table(bvt_engine *e, int64_t now, uint64_t buyers, uint64_t users,
                          const demo_user_map *map, demo_segment_sizes *out)
{
    static const char *rfm[DEMO_RFM_SEGMENTS] = {
        "Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
        "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating",
        "Lost"};
    static const char *funnel[DEMO_FUNNEL_STAGES] = {"New Visitor", "Engaged",
                                                     "Retargeting Pool", "First-time Buyer",
                                                     "Repeat Buyer", "Lapsed"};
    for (size_t i = 0; i < DEMO_RFM_SEGMENTS; i++) {
        uint32_t id;
        cell_count cc = {map, out->rfm_cells[i]};
        out->rfm[i] = (demo_count){rfm[i], 0};
        if (bvt_segment_lookup(e, rfm[i], &id) == BVT_OK)
            bvt_segment_members(e, id, now, NULL, count_cell, &cc, &out->rfm[i].n);
    }
    for (size_t i = 0; i < DEMO_FUNNEL_STAGES; i++)
        out->funnel[i] = (demo_count){funnel[i], size_of(e, funnel[i], now, NULL)};
    printf("\nRFM segments (share of %llu buyers)\n", (unsigned long long)buyers);
    print_counts(out->rfm, DEMO_RFM_SEGMENTS, buyers);
    printf("\nFunnel stages (share of %llu users)\n", (unsigned long long)users);
    print_counts(out->funnel, DEMO_FUNNEL_STAGES, users);
}

static void clusters(bvt_engine *e, int64_t now)
{
    bvt_cluster_options o = BVT_CLUSTER_OPTIONS_INIT;
    o.k = 6;
    o.seed = 7;
    bvt_cluster_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_CLUSTER_REPORT_VERSION;
    bvt_error err = BVT_ERROR_INIT;
    double t = seconds();
    if (bvt_cluster_run(e, now, &o, &r, &err) != BVT_OK) {
        printf("\nClusters: %s\n", err.message);
        return;
    }
    t = seconds() - t;
    printf("\nBehavioural clusters (k-means++, k = %u, %u iterations, inertia %.0f, %.0f ms)\n",
           r.k, r.iterations, r.inertia, t * 1000);
    printf("  %-10s %7s %9s %6s %9s   top interests (mean affinity)\n", "segment", "users",
           "recency", "freq", "monetary");
    for (uint32_t i = 0; i < r.k; i++) {
        const bvt_cluster_info *c = &r.clusters[i];
        printf("  %-10s %7llu %7.1f d %6.2f %9.2f  ", bvt_segment_name(e, c->segment),
               (unsigned long long)c->size, c->mean_recency_days, c->mean_frequency,
               c->mean_monetary);
        for (int k = 0; k < 3 && c->top_categories[k]; k++)
            printf(" %s %.2f", bvt_category_name(e, c->top_categories[k]), c->top_affinity[k]);
        printf("\n");
    }
}

typedef struct audience {
    bvt_user_key keys[5];
    int n;
} audience;

static int take(const bvt_user_key *k, void *ud)
{
    audience *a = ud;
    a->keys[a->n++] = *k;
    return a->n == 5; /* stop after five */
}

static void retargeting(bvt_engine *e, int64_t now, const demo_user_map *map)
{
    uint32_t pool;
    audience a = { .n = 0 };
    if (bvt_segment_lookup(e, "Retargeting Pool", &pool) != BVT_OK)
        return;
    bvt_segment_members(e, pool, now, NULL, take, &a, NULL);
    printf("\nRetargeting audience: first members of \"Retargeting Pool\"\n");
    for (int i = 0; i < a.n; i++) {
        const char *id = map->raw_id(&a.keys[i], map->ud);
        bvt_profile p;
        bvt_profile_init(&p);
        if (!id || bvt_profile_get(e, id, strlen(id), now, &p) != BVT_OK)
            continue;
        printf("  %-10s cart %u item%s worth %8.2f, %u page views, last seen %.1f h ago\n", id,
               p.cart_items, p.cart_items == 1 ? " " : "s", p.cart_value,
               p.type_counts[BVT_EVENT_PAGE_VIEW], (double)p.recency_ms / 3600000.0);
    }
}

/* Median time of bvt_segments_of for a few hundred users. */
static void per_user_cost(bvt_engine *e, const shop *s, int64_t now, uint32_t users)
{
    enum { N = 501 };
    double t[N];
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t n, listed;
    bvt_segment_list(e, NULL, 0, &listed);
    for (int i = 0; i < N; i++) {
        const char *id = shop_user_id(s, (uint32_t)((uint64_t)i * 7919 % users));
        double a = seconds();
        bvt_segments_of(e, id, strlen(id), now, NULL, ids, BVT_SEGMENTS_MAX, &n);
        t[i] = seconds() - a;
    }
    for (int i = 1; i < N; i++) /* insertion sort: small */
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    printf("\nAll %zu segments for one user (bvt_segments_of): median %.1f us\n", listed,
           t[N / 2] * 1e6);
}

void demo_segments_report(bvt_engine *e, const shop *s, int64_t now, uint32_t users,
                          uint64_t profiles, uint64_t buyers, const demo_user_map *map,
                          demo_segment_sizes *out)
{
    memset(out, 0, sizeof *out);
    custom_segments(e, s, now, profiles, out->rules);
    builtin_table(e, now, buyers, profiles, map, out);
    clusters(e, now);
    retargeting(e, now, map);
    per_user_cost(e, s, now, users);
}
