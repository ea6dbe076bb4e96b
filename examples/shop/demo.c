/* demo.c — stream a synthetic shop through libbehavtarget and show what the
 * profiles say.
 *
 *   demo [--users N] [--events N] [--seed S]
 *
 * Defaults: 50,000 users, 1,000,000 events over 30 days, seed 42.  The demo
 * measures its own wall clock; the library never reads a clock.  After the
 * shop report comes an ad-server simulation (adsim.c) over the same users.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adsim.h"
#include "behavtarget.h"
#include "demo_segments.h"
#include "shop.h"

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

/* 1234567 -> "1,234,567" */
static const char *num(uint64_t v)
{
    char tmp[32], *out = next_buf();
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
    return out;
}

static const char *money(double v)
{
    char *out = next_buf();
    uint64_t cents = (uint64_t)(v * 100.0 + 0.5);
    snprintf(out, 48, "$%s.%02u", num(cents / 100), (unsigned)(cents % 100));
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

static int64_t user_of(const census *c, const bvt_user_key *key)
{
    key_entry probe = {*key, 0};
    const key_entry *hit = bsearch(&probe, c->keys, c->nkeys, sizeof *c->keys, key_cmp);
    return hit ? (int64_t)hit->user : -1;
}

/* For the segments report: raw id of a keyed hash. */
static const char *raw_id_of(const bvt_user_key *key, void *ud)
{
    const census *c = ud;
    int64_t u = user_of(c, key);
    return u < 0 ? NULL : shop_user_id(c->s, (uint32_t)u);
}

static int visit(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    census *c = ud;
    int64_t u = user_of(c, key);
    if (u < 0)
        return 0;
    const char *id = shop_user_id(c->s, (uint32_t)u);
    size_t len = shop_user_id_len(c->s);
    c->users++;
    c->r[p->r_score]++;
    c->f[p->f_score]++;
    c->m[p->m_score]++;
    c->rf[p->r_score][p->f_score]++;
    if (p->purchases > 0)
        c->buyers++;
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
                 num((uint64_t)income));

    printf("\n%s: %s%s\n", title, id, attrs);
    printf("  seen        %s .. %s UTC, %s session%s, %s events\n", when(p.first_seen_ms),
           when(p.last_seen_ms), num(p.sessions), p.sessions == 1 ? "" : "s", num(p.events));
    if (p.purchases > 0)
        printf("  purchases   %s on %u days, %s (mean %s), last %s; RFM %u-%u-%u\n",
               num(p.purchases), p.purchase_days, money(p.monetary_total),
               money(p.monetary_mean), ago(now, p.last_purchase_ms), p.r_score, p.f_score,
               p.m_score);
    else
        printf("  purchases   none (not RFM-scored)\n");
    printf("  engagement  %s impressions, %s clicks (CTR %.1f%%), %s conversions, "
           "%u interactions, mean dwell %.0f s\n",
           num(p.impressions), num(p.clicks), 100.0 * p.ctr, num(p.conversions),
           p.interactions, p.mean_dwell_ms / 1000.0);

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
                printf(" %9s", num(cnt));
        }
        printf("\n");
    }
}

static void print_top_interests(const census *c, bvt_engine *e, uint32_t ncat)
{
    printf("\nTop interests (the #1 interest of each of %s users)\n", num(c->with_interests));
    printf("  %-36s %8s %7s %10s\n", "category", "#1", "share", "in top 3");
    for (int k = 0; k < TOP_SHOWN; k++) {
        uint32_t best = 0;
        for (uint32_t id = 1; id <= ncat; id++)
            if (c->first[id] > c->first[best])
                best = id;
        if (best == 0 || c->first[best] == 0)
            break;
        const char *name = bvt_category_name(e, best);
        printf("  %-36s %8s %6.1f%% %10s\n", name ? name : "?", num(c->first[best]),
               100.0 * c->first[best] / (double)(c->with_interests ? c->with_interests : 1),
               num(c->top3[best]));
        c->first[best] = 0; /* taken */
    }
}

static void print_rfm(const census *c, uint64_t buyers)
{
    printf("\nRFM scores (%s buyers; users without a purchase are not scored)\n", num(buyers));
    printf("  %-8s", "score");
    for (int k = 1; k <= 5; k++)
        printf(" %8d", k);
    printf("\n");
    const uint64_t *rows[3] = {c->r, c->f, c->m};
    const char *names[3] = {"R", "F", "M"};
    for (int r = 0; r < 3; r++) {
        printf("  %-8s", names[r]);
        for (int k = 1; k <= 5; k++)
            printf(" %8s", num(rows[r][k]));
        printf("\n");
    }
    printf("  buyers by purchase days: 1: %s, 2: %s, 3: %s, 4: %s, 5+: %s (ties share a score)\n",
           num(c->pdays[0]), num(c->pdays[1]), num(c->pdays[2]), num(c->pdays[3]),
           num(c->pdays[4]));
    printf("  R by F  ");
    for (int f = 1; f <= 5; f++)
        printf("      F=%d", f);
    printf("\n");
    for (int r = 5; r >= 1; r--) {
        printf("  R=%d     ", r);
        for (int f = 1; f <= 5; f++)
            printf(" %8s", num(c->rf[r][f]));
        printf("\n");
    }
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
    fprintf(f, "usage: demo [--users N] [--events N] [--seed S]\n"
               "Streams a synthetic shop through libbehavtarget and prints a report, then\n"
               "simulates an ad server ranking offers for the shop's users.\n"
               "Defaults: --users 50000 --events 1000000 --seed 42\n");
}

int main(int argc, char **argv)
{
    shop_config cfg = {42, 50000, 1000000, 1709251200000LL /* 2024-03-01 UTC */, 30};
    for (int i = 1; i < argc; i += 2) {
        uint64_t v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || parse_u64(argv[i + 1], &v) != 0) {
            fprintf(stderr, "demo: %s needs a number\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (strcmp(argv[i], "--users") == 0 && v >= 1 && v <= 10000000)
            cfg.users = (uint32_t)v;
        else if (strcmp(argv[i], "--events") == 0 && v >= 1)
            cfg.events = v;
        else if (strcmp(argv[i], "--seed") == 0)
            cfg.seed = v;
        else {
            fprintf(stderr, "demo: bad option or value: %s %s\n", argv[i], argv[i + 1]);
            usage(stderr);
            return 2;
        }
    }

    static const char secret[] = "demo secret: not for production!";
    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    bvt_error err = BVT_ERROR_INIT;
    bvt_engine *e = NULL;
    shop *s = NULL;
    adsim *sim = NULL;
    int rc = bvt_engine_new(&e, &opts, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "demo: bvt_engine_new: %s (%s)\n", bvt_strerror(rc), err.message);
        return 1;
    }
    if (shop_new(&s, &cfg) != 0) {
        fprintf(stderr, "demo: cannot build the shop (out of memory?)\n");
        bvt_engine_free(e);
        return 1;
    }
    if ((rc = shop_setup_engine(s, e)) != BVT_OK) {
        fprintf(stderr, "demo: registering the shop: %s\n", bvt_strerror(rc));
        goto fail;
    }
    if (adsim_new(&sim, s, cfg.seed) != 0) {
        fprintf(stderr, "demo: cannot set up the ad simulation (out of memory?)\n");
        goto fail;
    }

    /* ---- stream ---- */
    static bvt_event ev[BATCH];
    uint64_t failed = 0, type_counts[BVT_EVENT_TYPE_MAX] = {0};
    int first_fail = BVT_OK;
    char first_msg[240] = "";
    double t_gen = 0, t_track = 0, t_sim = 0, t0 = wall();
    size_t n;
    for (;;) {
        double a = wall();
        n = shop_next_batch(s, ev, BATCH);
        double b = wall();
        t_gen += b - a;
        if (n == 0)
            break;
        if (adsim_observe(sim, e, ev, n) != 0) {
            fprintf(stderr, "demo: out of memory\n");
            goto fail;
        }
        t_sim += wall() - b; /* not part of ingestion: taken out of the figures */
        b = wall();
        size_t nf = 0;
        bvt_error_init(&err);
        rc = bvt_event_track_batch(e, ev, n, NULL, 0, &nf, &err);
        t_track += wall() - b;
        if (nf > 0 && first_fail == BVT_OK) {
            first_fail = rc;
            snprintf(first_msg, sizeof first_msg, "%s", err.message);
        }
        failed += nf;
        for (size_t i = 0; i < n; i++)
            type_counts[ev[i].type]++;
    }
    double t_total = wall() - t0 - t_sim;
    uint64_t events = shop_events_produced(s);
    int64_t now = shop_last_time_ms(s);

    /* ---- demographics on every third user seen ---- */
    static const char *bands[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
    uint64_t with_attrs = 0;
    size_t id_len = shop_user_id_len(s);
    for (uint32_t u = 0; u < cfg.users; u += 3) {
        const char *id = shop_user_id(s, u);
        if (!bvt_user_exists(e, id, id_len))
            continue;
        uint64_t h = mix(cfg.seed ^ u);
        double income = 18000.0 + 1000.0 * (double)((h >> 8) % 130);
        if (bvt_attr_set_string(e, id, id_len, "age_band", bands[h % 6]) == BVT_OK &&
            bvt_attr_set_number(e, id, id_len, "income", income) == BVT_OK)
            with_attrs++;
    }

    uint64_t buyers = 0;
    if ((rc = bvt_rfm_refresh(e, now, &buyers)) != BVT_OK) {
        fprintf(stderr, "demo: bvt_rfm_refresh: %s\n", bvt_strerror(rc));
        goto fail;
    }
    bvt_stats st = BVT_STATS_INIT;
    bvt_engine_stats(e, &st);

    /* ---- one pass over the population ---- */
    census c;
    memset(&c, 0, sizeof c);
    c.e = e;
    c.s = s;
    c.now = now;
    c.buyer = c.abandoner = c.newcomer = -1;
    c.nkeys = cfg.users;
    c.keys = malloc(sizeof *c.keys * cfg.users);
    c.first = calloc((size_t)st.categories + 1, sizeof *c.first);
    c.top3 = calloc((size_t)st.categories + 1, sizeof *c.top3);
    uint32_t nitems = shop_item_count(s);
    item_entry *items = malloc(sizeof *items * nitems);
    if (!c.keys || !c.first || !c.top3 || !items) {
        fprintf(stderr, "demo: out of memory\n");
        free(c.keys);
        free(c.first);
        free(c.top3);
        free(items);
        goto fail;
    }
    for (uint32_t u = 0; u < cfg.users; u++) {
        bvt_user_key_of(e, shop_user_id(s, u), id_len, &c.keys[u].key);
        c.keys[u].user = u;
    }
    qsort(c.keys, c.nkeys, sizeof *c.keys, key_cmp);
    for (uint32_t k = 0; k < nitems; k++) {
        const char *it = shop_item_id(s, k);
        items[k].hash = bvt_item_hash(it, strlen(it));
        items[k].item = k;
    }
    qsort(items, nitems, sizeof *items, item_cmp);
    double tp = wall();
    bvt_engine_foreach_user(e, now, visit, &c);
    tp = wall() - tp;

    /* ---- report ---- */
    printf("libbehavtarget %s demo: a synthetic shop, seed %" PRIu64 "\n", bvt_version(),
           cfg.seed);
    printf("\nIngest\n");
    printf("  users        %12s profiles (of %s ids), %s sessions, %u categories\n",
           num(st.users), num(cfg.users), num(shop_sessions_started(s)), st.categories);
    printf("  events       %12s from %s to %s UTC, %s rejected\n", num(events),
           when(cfg.start_ms), when(now), num(failed));
    if (failed)
        printf("               first rejection: %s (%s)\n", bvt_strerror(first_fail), first_msg);
    printf("  wall clock   %12.3f s  = %.2f M events/s end to end\n", t_total,
           (double)events / t_total / 1e6);
    printf("  tracking     %12.3f s  = %.2f M events/s in bvt_event_track_batch (batches of %d)\n",
           t_track, (double)events / t_track / 1e6, BATCH);
    printf("  generating   %12.3f s  = %.2f M events/s in the shop\n", t_gen,
           (double)events / t_gen / 1e6);
    printf("  by type     ");
    int shown = 0;
    for (uint32_t t = 0; t < BVT_EVENT_TYPE_MAX; t++) {
        if (!type_counts[t])
            continue;
        const char *name = bvt_event_type_name(e, t);
        printf("%s %s %s", shown && shown % 4 == 0 ? "\n              " : shown ? "," : "",
               name ? name : "?", num(type_counts[t]));
        shown++;
    }
    printf("\n");

    double per = st.users ? 1.0 / (double)st.users : 0;
    printf("\nMemory (bvt_engine_stats)\n");
    printf("  %-12s %10s %10s\n", "", "total", "per user");
    printf("  %-12s %10s %8.0f B   (fixed records of %u B + index)\n", "table", mb(st.bytes_table),
           st.bytes_per_user, st.record_bytes);
    printf("  %-12s %10s %8.0f B\n", "history", mb(st.bytes_history),
           (double)st.bytes_history * per);
    printf("  %-12s %10s %8.0f B\n", "carts", mb(st.bytes_cart), (double)st.bytes_cart * per);
    printf("  %-12s %10s %8.0f B   (age_band and income on %s users)\n", "attributes",
           mb(st.bytes_attributes), (double)st.bytes_attributes * per, num(with_attrs));
    printf("  %-12s %10s\n", "registries", mb(st.bytes_registry));
    printf("  %-12s %10s %8.0f B\n", "total", mb(st.bytes_total), (double)st.bytes_total * per);

    printf("\nPopulation at %s UTC (one pass over every profile: %.0f ms)\n", when(now),
           tp * 1000);
    printf("  buyers %s (%.1f%%), cart abandoners %s, new in the last 24h %s, "
           "1,000+ events %s\n",
           num(c.buyers), 100.0 * (double)c.buyers / (double)(c.users ? c.users : 1),
           num(c.abandoners), num(c.new_24h), num(c.heavy));

    print_rfm(&c, buyers);
    print_top_interests(&c, e, st.categories);
    print_profile(e, s, items, nitems, "Heavy buyer", c.buyer, now);
    print_profile(e, s, items, nitems, "Cart abandoner", c.abandoner, now);
    print_profile(e, s, items, nitems, "New visitor", c.newcomer, now);
    demo_segments_report(e, s, now, cfg.users, st.users, buyers, raw_id_of, &c);
    fflush(stdout);
    rc = adsim_run(sim, e, now);

    free(c.keys);
    free(c.first);
    free(c.top3);
    free(items);
    adsim_free(sim);
    shop_free(s);
    bvt_engine_free(e);
    return rc == 0 ? 0 : 1;

fail:
    adsim_free(sim);
    shop_free(s);
    bvt_engine_free(e);
    return 1;
}
