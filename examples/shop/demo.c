/* demo.c — stream a synthetic shop through libbehavtarget and show what the
 * profiles say.
 *
 *   demo [--users N] [--events N] [--seed S] [--report PATH] [--progress]
 *
 * Defaults: 50,000 users, 1,000,000 events over 30 days, seed 42.  The demo
 * measures its own wall clock; the library never reads a clock.  After the
 * shop report comes an ad-server simulation (adsim.c) over the same users.
 * The text goes to stdout; the charts go into one HTML page (report_html.c),
 * by default demo-report.html in the build folder; progress lines go to
 * stderr when it is a terminal, or always with --progress.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adsim.h"
#include "behavtarget.h"
#include "demo_segments.h"
#include "fmt.h"
#include "progress.h"
#include "report_html.h"
#include "shop.h"

#ifndef DEMO_REPORT_PATH /* meson sets it to the build folder's */
#define DEMO_REPORT_PATH "build/demo-report.html"
#endif

#define BATCH 4096
#define DAY_MS 86400000LL
#define TOP_SHOWN 10

/* ---- small formatting helpers (rotating buffers: fine for printf args) ---- */

static char *next_buf(void)
{
    static char bufs[16][48];
    static unsigned k;
    return bufs[k++ % 16];
}

static const char *money(double v)
{
    char *out = next_buf();
    uint64_t cents = (uint64_t)(v * 100.0 + 0.5);
    snprintf(out, 48, "$%s.%02u", fmt_count(cents / 100), (unsigned)(cents % 100));
    return out;
}

static const char *mb(uint64_t bytes)
{
    char *out = next_buf();
    snprintf(out, 48, "%.1f MB", (double)bytes / 1e6);
    return out;
}

static const char *when(int64_t ms)
{
    char *out = next_buf();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 48, "%Y-%m-%d %H:%M", &tm);
    return out;
}

static const char *ago(int64_t now, int64_t ms)
{
    char *out = next_buf();
    double h = (double)(now - ms) / 3600000.0;
    if (h < 48)
        snprintf(out, 48, "%.1f h ago", h);
    else
        snprintf(out, 48, "%.1f days ago", h / 24);
    return out;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ---- raw ids back from hashed keys: the engine only keeps the hashes ---- */

typedef struct key_entry {
    bvt_user_key key;
    uint32_t user;
    uint8_t r, f; /* RFM scores, as the population pass read them */
} key_entry;

static int key_cmp(const void *a, const void *b)
{
    const bvt_user_key *x = &((const key_entry *)a)->key, *y = &((const key_entry *)b)->key;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return 0;
}

typedef struct item_entry {
    uint64_t hash;
    uint32_t item;
} item_entry;

static int item_cmp(const void *a, const void *b)
{
    uint64_t x = ((const item_entry *)a)->hash, y = ((const item_entry *)b)->hash;
    return x < y ? -1 : x > y;
}

/* ---- what one pass over the population collects ---- */

typedef struct census {
    bvt_engine *e;
    const shop *s;
    int64_t now;
    key_entry *keys;
    uint32_t nkeys;
    uint64_t users, buyers, abandoners, new_24h, heavy, with_interests;
    uint64_t viewed, carted, bought; /* the funnel, each stage within the one before */
    uint64_t r[6], f[6], m[6], rf[6][6];
    uint64_t pdays[5]; /* buyers by purchase days: 1, 2, 3, 4, 5+ */
    uint32_t *first;  /* per category id: users whose #1 interest it is */
    uint32_t *top3;   /* per category id: users with it in their top 3 */
    /* examples: user index + the figure that chose them */
    int64_t buyer, abandoner, newcomer;
    double buyer_value, abandoner_value;
    uint64_t newcomer_events;
    int64_t newcomer_first;
} census;

static key_entry *entry_of(const census *c, const bvt_user_key *key)
{
    key_entry probe = {*key, 0, 0, 0};
    return bsearch(&probe, c->keys, c->nkeys, sizeof *c->keys, key_cmp);
}

/* For the segments report: raw id of a keyed hash. */
static const char *raw_id_of(const bvt_user_key *key, void *ud)
{
    const census *c = ud;
    const key_entry *hit = entry_of(c, key);
    return hit ? shop_user_id(c->s, hit->user) : NULL;
}

/* For the segments report: the scores visit() saw. */
static int rf_scores_of(const bvt_user_key *key, void *ud, uint32_t *r, uint32_t *f)
{
    const key_entry *hit = entry_of(ud, key);
    if (!hit)
        return 0;
    *r = hit->r;
    *f = hit->f;
    return 1;
}

static int visit(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    census *c = ud;
    key_entry *hit = entry_of(c, key);
    if (!hit)
        return 0;
    int64_t u = hit->user;
    hit->r = (uint8_t)p->r_score;
    hit->f = (uint8_t)p->f_score;
    const char *id = shop_user_id(c->s, (uint32_t)u);
    size_t len = shop_user_id_len(c->s);
    c->users++;
    c->r[p->r_score]++;
    c->f[p->f_score]++;
    c->m[p->m_score]++;
    c->rf[p->r_score][p->f_score]++;
    if (p->purchases > 0)
        c->buyers++;
    /* the shop buys only from the cart, so each stage sits inside the last */
    int viewed = p->type_counts[BVT_EVENT_PAGE_VIEW] > 0;
    int carted = viewed && p->type_counts[BVT_EVENT_ADD_TO_CART] > 0;
    c->viewed += (uint64_t)viewed;
    c->carted += (uint64_t)carted;
    c->bought += (uint64_t)(carted && p->purchases > 0);
    if (p->events >= 1000)
        c->heavy++;
    if (p->first_seen_ms > c->now - DAY_MS)
        c->new_24h++;

    bvt_interest in[16];
    size_t n = 0;
    if (bvt_profile_interests(c->e, id, len, c->now, in, 16, &n) == BVT_OK && n > 0) {
        c->with_interests++;
        c->first[in[0].category_id]++;
        for (size_t i = 0; i < n && i < 3; i++)
            c->top3[in[i].category_id]++;
    }

    /* the three examples */
    if (p->monetary_total > c->buyer_value) {
        c->buyer_value = p->monetary_total;
        c->buyer = u;
    }
    if (p->purchases == 0 && p->cart_items > 0) {
        c->abandoners++;
        /* the most engaged one whose cart is still fresh: worth retargeting */
        if (p->cart_oldest_ms > c->now - 3 * DAY_MS && (double)p->events > c->abandoner_value) {
            c->abandoner_value = (double)p->events;
            c->abandoner = u;
        }
    }
    if (p->purchase_days > 0)
        c->pdays[p->purchase_days >= 5 ? 4 : p->purchase_days - 1]++;
    /* a typical newcomer: arrived in the last day, a session's worth of
     * events, the latest such arrival */
    if (p->first_seen_ms > c->now - DAY_MS && p->purchases == 0) {
        int typical = p->events >= 6 && p->events <= 30;
        int best_typical = c->newcomer_events >= 6 && c->newcomer_events <= 30;
        if (c->newcomer < 0 || (typical && !best_typical) ||
            (typical == best_typical && p->first_seen_ms > c->newcomer_first)) {
            c->newcomer_events = p->events;
            c->newcomer_first = p->first_seen_ms;
            c->newcomer = u;
        }
    }
    return 0;
}

/* ---- report pieces ---- */

static void print_profile(bvt_engine *e, const shop *s, const item_entry *items, uint32_t nitems,
                          const char *title, int64_t user, int64_t now)
{
    if (user < 0) {
        printf("\n%s: none in this population\n", title);
        return;
    }
    const char *id = shop_user_id(s, (uint32_t)user);
    size_t len = shop_user_id_len(s);
    bvt_profile p;
    bvt_profile_init(&p);
    if (bvt_profile_get(e, id, len, now, &p) != BVT_OK)
        return;

    char attrs[96] = "";
    const char *band = NULL;
    double income = 0;
    int kind = 0;
    if (bvt_attr_get(e, id, len, "age_band", &kind, NULL, &band) == BVT_OK && band)
        snprintf(attrs, sizeof attrs, "  age_band %s", band);
    if (bvt_attr_get(e, id, len, "income", &kind, &income, NULL) == BVT_OK)
        snprintf(attrs + strlen(attrs), sizeof attrs - strlen(attrs), ", income %s",
                 fmt_count((uint64_t)income));

    printf("\n%s: %s%s\n", title, id, attrs);
    printf("  seen        %s .. %s UTC, %s session%s, %s events\n", when(p.first_seen_ms),
           when(p.last_seen_ms), fmt_count(p.sessions), p.sessions == 1 ? "" : "s",
           fmt_count(p.events));
    if (p.purchases > 0)
        printf("  purchases   %s on %u days, %s (mean %s), last %s; RFM %u-%u-%u\n",
               fmt_count(p.purchases), p.purchase_days, money(p.monetary_total),
               money(p.monetary_mean), ago(now, p.last_purchase_ms), p.r_score, p.f_score,
               p.m_score);
    else
        printf("  purchases   none (not RFM-scored)\n");
    printf("  engagement  %s impressions, %s clicks (CTR %.1f%%), %s conversions, "
           "%u interactions, mean dwell %.0f s\n",
           fmt_count(p.impressions), fmt_count(p.clicks), 100.0 * p.ctr,
           fmt_count(p.conversions), p.interactions, p.mean_dwell_ms / 1000.0);

    bvt_interest in[16];
    size_t n = 0;
    if (bvt_profile_interests(e, id, len, now, in, 16, &n) == BVT_OK) {
        printf("  interests  ");
        for (size_t i = 0; i < n && i < 3; i++)
            printf(" %s %.0f%%%s", in[i].category, 100.0 * in[i].affinity,
                   i + 1 < n && i < 2 ? "," : "");
        printf("\n");
    }

    bvt_cart_item cart[8];
    size_t nc = 0;
    if (bvt_profile_cart(e, id, len, cart, 8, &nc) == BVT_OK && p.cart_items > 0) {
        printf("  cart        %u item%s, %s, oldest added %s\n", p.cart_items,
               p.cart_items == 1 ? "" : "s", money(p.cart_value), ago(now, p.cart_oldest_ms));
        for (size_t i = 0; i < nc && i < 3; i++) {
            item_entry probe = {cart[i].item_hash, 0};
            const item_entry *hit = bsearch(&probe, items, nitems, sizeof *items, item_cmp);
            const char *cat = bvt_category_name(e, cart[i].category_id);
            printf("              %s  %-28s x%u  %s\n", hit ? shop_item_id(s, hit->item) : "?",
                   cat ? cat : "-", cart[i].quantity, money(cart[i].value));
        }
    } else {
        printf("  cart        empty\n");
    }

    static const struct {
        const char *label;
        uint32_t type;
    } rows[] = {{"all events", UINT32_MAX},
                {"page_view", BVT_EVENT_PAGE_VIEW},
                {"add_to_cart", BVT_EVENT_ADD_TO_CART},
                {"purchase", BVT_EVENT_PURCHASE}};
    static const int64_t windows[] = {DAY_MS, 7 * DAY_MS, 30 * DAY_MS};
    printf("  history     %-12s %9s %9s %9s\n", "", "24h", "7d", "30d");
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        printf("              %-12s", rows[r].label);
        for (size_t w = 0; w < 3; w++) {
            uint64_t cnt = 0;
            double sum = 0;
            if (bvt_history_count(e, id, len, rows[r].type, NULL, windows[w], now, &cnt, &sum) !=
                BVT_OK)
                printf(" %9s", "?");
            else
                printf(" %9s", fmt_count(cnt));
        }
        printf("\n");
    }
}

static void print_top_interests(const census *c, bvt_engine *e, uint32_t ncat)
{
    printf("\nTop interests (the #1 interest of each of %s users)\n", fmt_count(c->with_interests));
    printf("  %-36s %8s %7s %10s\n", "category", "#1", "share", "in top 3");
    for (int k = 0; k < TOP_SHOWN; k++) {
        uint32_t best = 0;
        for (uint32_t id = 1; id <= ncat; id++)
            if (c->first[id] > c->first[best])
                best = id;
        if (best == 0 || c->first[best] == 0)
            break;
        const char *name = bvt_category_name(e, best);
        printf("  %-36s %8s %6.1f%% %10s\n", name ? name : "?", fmt_count(c->first[best]),
               100.0 * c->first[best] / (double)(c->with_interests ? c->with_interests : 1),
               fmt_count(c->top3[best]));
        c->first[best] = 0; /* taken */
    }
}

static void print_rfm(const census *c, uint64_t buyers)
{
    printf("\nRFM scores (%s buyers; users without a purchase are not scored)\n",
           fmt_count(buyers));
    printf("  %-8s", "score");
    for (int k = 1; k <= 5; k++)
        printf(" %8d", k);
    printf("\n");
    const uint64_t *rows[3] = {c->r, c->f, c->m};
    const char *names[3] = {"R", "F", "M"};
    for (int r = 0; r < 3; r++) {
        printf("  %-8s", names[r]);
        for (int k = 1; k <= 5; k++)
            printf(" %8s", fmt_count(rows[r][k]));
        printf("\n");
    }
    printf("  buyers by purchase days: 1: %s, 2: %s, 3: %s, 4: %s, 5+: %s (ties share a score)\n",
           fmt_count(c->pdays[0]), fmt_count(c->pdays[1]), fmt_count(c->pdays[2]),
           fmt_count(c->pdays[3]), fmt_count(c->pdays[4]));
    printf("  the R x F grid with the RFM segments is a heat map in the HTML report\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: demo [--users N] [--events N] [--seed S] [--report PATH] [--progress]\n"
               "Streams a synthetic shop through libbehavtarget and prints a report, then\n"
               "simulates an ad server ranking offers for the shop's users.  The charts go\n"
               "into one self-contained HTML page at PATH (default %s).\n"
               "Progress lines go to stderr when it is a terminal, or always with --progress.\n"
               "Defaults: --users 50000 --events 1000000 --seed 42\n",
            DEMO_REPORT_PATH);
}

typedef struct demo_args {
    shop_config cfg;
    const char *report;
    int progress; /* forced on */
} demo_args;

/* 0 to run, 1 after --help, 2 on a bad option (usage printed). */
static int parse_args(int argc, char **argv, demo_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v = 0;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(opt, "--progress") == 0) {
            a->progress = 1;
            continue;
        }
        if (!val || !*val) {
            fprintf(stderr, "demo: %s needs a value\n", opt);
            usage(stderr);
            return 2;
        }
        i++; /* every other option takes the next argument */
        if (strcmp(opt, "--report") == 0) {
            a->report = val;
            continue;
        }
        int number = parse_u64(val, &v) == 0;
        if (number && strcmp(opt, "--users") == 0 && v >= 1 && v <= 10000000)
            a->cfg.users = (uint32_t)v;
        else if (number && strcmp(opt, "--events") == 0 && v >= 1)
            a->cfg.events = v;
        else if (number && strcmp(opt, "--seed") == 0)
            a->cfg.seed = v;
        else {
            fprintf(stderr, "demo: bad option or value: %s %s\n", opt, val);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* ---- the stream ---- */

typedef struct stream_totals {
    uint64_t failed, type_counts[BVT_EVENT_TYPE_MAX];
    int first_fail;
    char first_msg[240];
    double t_gen, t_track, t_total; /* seconds; t_total leaves the simulation's share out */
} stream_totals;

/* Streams the whole shop into e, handing each batch to the simulation too.
 * Returns 0, or -1 when memory runs out. */
static int stream_shop(shop *s, bvt_engine *e, adsim *sim, uint64_t events, progress *pg,
                       stream_totals *st)
{
    static bvt_event ev[BATCH];
    double t_sim = 0, t0 = wall();
    progress_start(pg, "streamed", events);
    for (;;) {
        double a = wall();
        size_t n = shop_next_batch(s, ev, BATCH);
        double b = wall();
        st->t_gen += b - a;
        if (n == 0)
            break;
        if (adsim_observe(sim, e, ev, n) != 0)
            return -1;
        t_sim += wall() - b; /* not part of ingestion: taken out of the figures */
        b = wall();
        size_t nf = 0;
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_event_track_batch(e, ev, n, NULL, 0, &nf, &err);
        st->t_track += wall() - b;
        if (nf > 0 && st->failed == 0) {
            st->first_fail = rc;
            snprintf(st->first_msg, sizeof st->first_msg, "%s", err.message);
        }
        st->failed += nf;
        for (size_t i = 0; i < n; i++)
            st->type_counts[ev[i].type]++;
        progress_tick(pg, shop_events_produced(s));
    }
    st->t_total = wall() - t0 - t_sim;
    return 0;
}

/* Demographics on every third user seen; returns how many got them. */
static uint64_t set_demographics(bvt_engine *e, const shop *s, const shop_config *cfg)
{
    static const char *bands[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
    uint64_t with_attrs = 0;
    size_t id_len = shop_user_id_len(s);
    for (uint32_t u = 0; u < cfg->users; u += 3) {
        const char *id = shop_user_id(s, u);
        if (!bvt_user_exists(e, id, id_len))
            continue;
        uint64_t h = mix(cfg->seed ^ u);
        double income = 18000.0 + 1000.0 * (double)((h >> 8) % 130);
        if (bvt_attr_set_string(e, id, id_len, "age_band", bands[h % 6]) == BVT_OK &&
            bvt_attr_set_number(e, id, id_len, "income", income) == BVT_OK)
            with_attrs++;
    }
    return with_attrs;
}

static void print_ingest(bvt_engine *e, const shop *s, const shop_config *cfg,
                         const bvt_stats *st, const stream_totals *t, int64_t now)
{
    uint64_t events = shop_events_produced(s);
    printf("\nIngest\n");
    printf("  users        %12s profiles (of %s ids), %s sessions, %u categories\n",
           fmt_count(st->users), fmt_count(cfg->users), fmt_count(shop_sessions_started(s)),
           st->categories);
    printf("  events       %12s from %s to %s UTC, %s rejected\n", fmt_count(events),
           when(cfg->start_ms), when(now), fmt_count(t->failed));
    if (t->failed)
        printf("               first rejection: %s (%s)\n", bvt_strerror(t->first_fail),
               t->first_msg);
    printf("  wall clock   %12.3f s  = %.2f M events/s end to end\n", t->t_total,
           (double)events / t->t_total / 1e6);
    printf("  tracking     %12.3f s  = %.2f M events/s in bvt_event_track_batch (batches of %d)\n",
           t->t_track, (double)events / t->t_track / 1e6, BATCH);
    printf("  by type     ");
    int shown = 0;
    for (uint32_t k = 0; k < BVT_EVENT_TYPE_MAX; k++) {
        if (!t->type_counts[k])
            continue;
        const char *name = bvt_event_type_name(e, k);
        printf("%s %s %s", shown && shown % 4 == 0 ? "\n              " : shown ? "," : "",
               name ? name : "?", fmt_count(t->type_counts[k]));
        shown++;
    }
    printf("\n");
}

static void print_memory(const bvt_stats *st, uint64_t with_attrs)
{
    double per = st->users ? 1.0 / (double)st->users : 0;
    printf("\nMemory (bvt_engine_stats)\n");
    printf("  %-12s %10s %10s\n", "", "total", "per user");
    printf("  %-12s %10s %8.0f B   (fixed records of %u B + index)\n", "table",
           mb(st->bytes_table), st->bytes_per_user, st->record_bytes);
    printf("  %-12s %10s %8.0f B\n", "history", mb(st->bytes_history),
           (double)st->bytes_history * per);
    printf("  %-12s %10s %8.0f B\n", "carts", mb(st->bytes_cart), (double)st->bytes_cart * per);
    printf("  %-12s %10s %8.0f B   (age_band and income on %s users)\n", "attributes",
           mb(st->bytes_attributes), (double)st->bytes_attributes * per, fmt_count(with_attrs));
    printf("  %-12s %10s\n", "registries", mb(st->bytes_registry));
    printf("  %-12s %10s %8.0f B\n", "total", mb(st->bytes_total), (double)st->bytes_total * per);
}

/* The census's raw-id map: keys sorted, items by hash.  Returns 0, or -1
 * when memory runs out (what was allocated is in c and *items). */
static int census_setup(census *c, bvt_engine *e, const shop *s, uint32_t users, uint32_t ncat,
                        int64_t now, item_entry **items)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->s = s;
    c->now = now;
    c->buyer = c->abandoner = c->newcomer = -1;
    c->nkeys = users;
    c->keys = malloc(sizeof *c->keys * users);
    c->first = calloc((size_t)ncat + 1, sizeof *c->first);
    c->top3 = calloc((size_t)ncat + 1, sizeof *c->top3);
    uint32_t nitems = shop_item_count(s);
    *items = malloc(sizeof **items * nitems);
    if (!c->keys || !c->first || !c->top3 || !*items)
        return -1;
    size_t id_len = shop_user_id_len(s);
    for (uint32_t u = 0; u < users; u++) {
        bvt_user_key_of(e, shop_user_id(s, u), id_len, &c->keys[u].key);
        c->keys[u].user = u;
        c->keys[u].r = c->keys[u].f = 0;
    }
    qsort(c->keys, c->nkeys, sizeof *c->keys, key_cmp);
    for (uint32_t k = 0; k < nitems; k++) {
        const char *it = shop_item_id(s, k);
        (*items)[k].hash = bvt_item_hash(it, strlen(it));
        (*items)[k].item = k;
    }
    qsort(*items, nitems, sizeof **items, item_cmp);
    return 0;
}

static void census_free(census *c, item_entry *items)
{
    free(c->keys);
    free(c->first);
    free(c->top3);
    free(items);
}

/* Writes the HTML report; returns 0, or -1 after saying why on stderr. */
static int write_report(const char *path, const shop_config *cfg, const shop *s,
                        const census *c, uint64_t profiles, uint64_t buyers,
                        const demo_segment_sizes *sizes, const adsim_result *sim)
{
    demo_report r;
    memset(&r, 0, sizeof r);
    r.version = bvt_version();
    r.seed = cfg->seed;
    r.events = shop_events_produced(s);
    r.profiles = profiles;
    r.buyers = buyers;
    r.start_ms = cfg->start_ms;
    r.end_ms = shop_last_time_ms(s);
    r.viewed = c->viewed;
    r.carted = c->carted;
    r.bought = c->bought;
    memcpy(r.rf, c->rf, sizeof r.rf);
    r.one_day_buyers = c->pdays[0];
    r.segments = sizes;
    r.sim = sim;
    if (report_html_write(path, &r) != 0) {
        fprintf(stderr, "demo: cannot write the report to %s: %s\n", path, strerror(errno));
        return -1;
    }
    printf("\nReport: %s\n  the charts in one page (segment sizes, funnel, RFM grid, regret "
           "per policy,\n  the A/B lift), each with what it means; open it in a browser\n",
           path);
    return 0;
}

int main(int argc, char **argv)
{
    demo_args args = {{42, 50000, 1000000, 1709251200000LL /* 2024-03-01 UTC */, 30},
                      DEMO_REPORT_PATH, 0};
    int parsed = parse_args(argc, argv, &args);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;
    const shop_config *cfg = &args.cfg;
    progress pg;
    progress_init(&pg, args.progress || isatty(STDERR_FILENO));

    static const char secret[] = "demo secret: not for production!";
    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    bvt_error err = BVT_ERROR_INIT;
    bvt_engine *e = NULL;
    shop *s = NULL;
    adsim *sim = NULL;
    census c;
    item_entry *items = NULL;
    memset(&c, 0, sizeof c);
    int rc = bvt_engine_new(&e, &opts, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "demo: bvt_engine_new: %s (%s)\n", bvt_strerror(rc), err.message);
        return 1;
    }
    if (shop_new(&s, cfg) != 0) {
        fprintf(stderr, "demo: cannot build the shop (out of memory?)\n");
        bvt_engine_free(e);
        return 1;
    }
    if ((rc = shop_setup_engine(s, e)) != BVT_OK) {
        fprintf(stderr, "demo: registering the shop: %s\n", bvt_strerror(rc));
        goto fail;
    }
    if (adsim_new(&sim, s, cfg->seed) != 0) {
        fprintf(stderr, "demo: cannot set up the ad simulation (out of memory?)\n");
        goto fail;
    }

    stream_totals totals;
    memset(&totals, 0, sizeof totals);
    if (stream_shop(s, e, sim, cfg->events, &pg, &totals) != 0) {
        fprintf(stderr, "demo: out of memory\n");
        goto fail;
    }
    int64_t now = shop_last_time_ms(s);
    uint64_t with_attrs = set_demographics(e, s, cfg);
    uint64_t buyers = 0;
    if ((rc = bvt_rfm_refresh(e, now, &buyers)) != BVT_OK) {
        fprintf(stderr, "demo: bvt_rfm_refresh: %s\n", bvt_strerror(rc));
        goto fail;
    }
    bvt_stats st = BVT_STATS_INIT;
    bvt_engine_stats(e, &st);

    /* ---- one pass over the population ---- */
    if (census_setup(&c, e, s, cfg->users, st.categories, now, &items) != 0) {
        fprintf(stderr, "demo: out of memory\n");
        goto fail;
    }
    progress_note(&pg, "reading %s profiles", fmt_count(st.users));
    double tp = wall();
    bvt_engine_foreach_user(e, now, visit, &c);
    tp = wall() - tp;

    /* ---- report ---- */
    printf("libbehavtarget %s demo: a synthetic shop, seed %" PRIu64 "\n", bvt_version(),
           cfg->seed);
    print_ingest(e, s, cfg, &st, &totals, now);
    print_memory(&st, with_attrs);
    printf("\nPopulation at %s UTC (one pass over every profile: %.0f ms)\n", when(now),
           tp * 1000);
    printf("  buyers %s (%.1f%%), cart abandoners %s, new in the last 24h %s, "
           "1,000+ events %s\n",
           fmt_count(c.buyers), 100.0 * (double)c.buyers / (double)(c.users ? c.users : 1),
           fmt_count(c.abandoners), fmt_count(c.new_24h), fmt_count(c.heavy));
    print_rfm(&c, buyers);
    print_top_interests(&c, e, st.categories);
    uint32_t nitems = shop_item_count(s);
    print_profile(e, s, items, nitems, "Heavy buyer", c.buyer, now);
    print_profile(e, s, items, nitems, "Cart abandoner", c.abandoner, now);
    print_profile(e, s, items, nitems, "New visitor", c.newcomer, now);
    progress_note(&pg, "segments and clusters");
    demo_user_map map = {raw_id_of, rf_scores_of, &c};
    static demo_segment_sizes sizes; /* large: off the stack */
    demo_segments_report(e, s, now, cfg->users, st.users, buyers, &map, &sizes);
    fflush(stdout);
    adsim_result result;
    rc = adsim_run(sim, e, now, &pg, &result);
    if (rc == 0)
        rc = write_report(args.report, cfg, s, &c, st.users, buyers, &sizes, &result);

    census_free(&c, items);
    adsim_free(sim);
    shop_free(s);
    bvt_engine_free(e);
    return rc == 0 ? 0 : 1;

fail:
    census_free(&c, items);
    adsim_free(sim);
    shop_free(s);
    bvt_engine_free(e);
    return 1;
}
