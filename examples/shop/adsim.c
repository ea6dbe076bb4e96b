/* adsim.c — the demo's ad-server simulation (see adsim.h).
 *
 * The hidden true response model: offer o shown to user u is clicked with
 * probability base[o], times LIFT when one of u's top TOP_MATCH interests
 * (read from the engine that tracked the whole shop) lies at or below one of
 * o's tags.  The library never sees base[] or LIFT: it only learns from the
 * impressions and clicks tracked after each ranking.
 *
 * One request stream (user, time, seed, click draw) is drawn from the seed
 * and replayed for every policy on a fresh engine fed the same history, so
 * the policies differ only in what they chose.  Regret of a request is the
 * true click probability of the best offer bvt_rank() found eligible minus
 * that of the offer it chose.
 *
 * How often caps bind matters: a policy that hits a cap must take another
 * offer, which explores for it.  With these settings (10 requests per user
 * a week on average, more for users with more sessions) caps bind for the
 * busiest users only.
 */
#include "adsim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"

#define SIM_USERS 10000u      /* users sampled from the shop */
#define REQUESTS_PER_USER 10u /* ad requests per sampled user in a run (a week) */
#define SIM_DAYS 7
#define LIFT 3.0              /* true CTR multiplier when interests match the tags */
#define TOP_MATCH 6           /* how many of the user's top interests can match */
#define CONSENT_SHARE 0.9     /* users who grant the ads purpose */
#define CLICK_DELAY_MS 2000
#define CHOICES_MAX 32
#define TRACK_BATCH 4096
#define DAY_MS 86400000LL

/* ---- the catalogue and its hidden truth ---- */

typedef struct sim_offer {
    const char *id;
    const char *tags[2];
    double base;          /* hidden: true CTR without an interest match */
    int week_cap;         /* also at most WEEK_CAP a week */
    int spring;           /* in the campaign group "spring" */
    int start_day;        /* shown from this day of the simulation on */
    int personalised;     /* needs ads consent */
    const char *rule;     /* eligibility, or NULL */
} sim_offer;

#define DAY_CAP 3   /* every offer: at most 3 impressions a day per user */
#define WEEK_CAP 8  /* offers with week_cap: at most 8 a week */
#define GROUP_CAP 4 /* the "spring" group: at most 4 a day over its offers */

static const sim_offer offers[] = {
    {"phones-promo", {"electronics/phones", NULL}, 0.020, 0, 0, 0, 0, NULL},
    {"laptop-deals", {"electronics/computers", NULL}, 0.015, 1, 0, 0, 0, NULL},
    {"audio-week", {"electronics/audio", "electronics/tv-video"}, 0.025, 0, 0, 0, 0, NULL},
    {"gaming-bundle", {"electronics/gaming", NULL}, 0.030, 0, 0, 0, 0, NULL},
    {"sleep-better", {"home/bedroom", NULL}, 0.018, 0, 0, 0, 0, NULL},
    {"home-refresh", {"home/living-room", "home/decor"}, 0.012, 0, 0, 0, 0, NULL},
    {"storage-sale", {"home/storage", NULL}, 0.022, 0, 0, 0, 0, NULL},
    {"kitchen-pro", {"kitchen", NULL}, 0.022, 1, 0, 0, 0, NULL},
    {"spring-fashion", {"fashion/womens", "fashion/mens"}, 0.028, 0, 1, 0, 0, NULL},
    {"sneaker-drop", {"fashion/shoes", NULL}, 0.035, 0, 1, 2, 0, NULL},
    {"jewelry-gifts", {"fashion/jewelry", "fashion/accessories"}, 0.012, 0, 1, 0, 0, NULL},
    {"beauty-box", {"beauty", NULL}, 0.030, 0, 0, 0, 0, NULL},
    {"run-club", {"sports/running", "sports/fitness"}, 0.020, 0, 1, 0, 1, NULL},
    {"bike-service", {"sports/cycling", NULL}, 0.010, 0, 0, 0, 0,
     "count(page_view, \"sports/cycling\", 30d) >= 1"},
    {"toy-fair", {"toys", NULL}, 0.025, 0, 0, 0, 0, NULL},
    {"book-club", {"books", NULL}, 0.015, 1, 0, 0, 0, NULL},
    {"grocery-deal", {"grocery", NULL}, 0.040, 1, 0, 0, 0, NULL},
    {"garden-days", {"garden", NULL}, 0.015, 0, 0, 0, 0, NULL},
    {"pet-treats", {"pets", NULL}, 0.030, 0, 0, 0, 0, NULL},
    {"car-care", {"automotive", NULL}, 0.010, 0, 0, 0, 0, NULL},
};
#define N_OFFERS (sizeof offers / sizeof offers[0])

/* The bandit learns per bucket: the first of these a user is in. */
static const char *const departments[] = {
    "electronics", "home", "kitchen", "fashion", "beauty", "sports",
    "toys", "books", "grocery", "garden", "pets", "automotive",
};
#define N_DEPARTMENTS (sizeof departments / sizeof departments[0])

/* ---- random numbers (splitmix64: one draw per use, from a counter) ---- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static double unit(uint64_t x) { return (double)(mix64(x) >> 11) * 0x1.0p-53; }

/* ---- state ---- */

typedef struct served {
    uint32_t user;  /* index into the simulated users */
    uint32_t offer; /* index into offers[] */
    int64_t t;
} served;

struct adsim {
    shop *s;
    uint64_t seed;
    bvt_engine *src;      /* the engine kept events were tracked into */
    uint32_t n_users;
    uint32_t *shop_user;  /* simulated user -> shop user index */
    uint8_t *consent;     /* grants the ads purpose */
    /* shop user id -> simulated user, open addressing on the id's hash */
    uint64_t *slot_hash;
    uint32_t *slot_user;  /* simulated user + 1; 0 = empty */
    size_t mask;
    /* the simulated users' history, as tracked into src */
    bvt_event *kept;
    size_t n_kept, cap_kept;
    /* the hidden model: p[user * N_OFFERS + offer] */
    double *p;
    /* the request stream */
    uint32_t n_requests;
    uint32_t *req_user;
    int64_t t0;
};

int adsim_new(adsim **out, shop *s, uint64_t seed)
{
    *out = NULL;
    adsim *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    a->s = s;
    a->seed = seed;
    uint32_t users = 0;
    while (shop_user_id(s, users))
        users++;
    a->n_users = users < SIM_USERS ? users : SIM_USERS;
    a->n_requests = a->n_users * REQUESTS_PER_USER;
    size_t slots = 16;
    while (slots < 2 * (size_t)a->n_users)
        slots *= 2;
    a->mask = slots - 1;
    a->shop_user = malloc(sizeof *a->shop_user * (a->n_users ? a->n_users : 1));
    a->consent = malloc(a->n_users ? a->n_users : 1);
    a->slot_hash = calloc(slots, sizeof *a->slot_hash);
    a->slot_user = calloc(slots, sizeof *a->slot_user);
    if (!a->shop_user || !a->consent || !a->slot_hash || !a->slot_user) {
        adsim_free(a);
        return -1;
    }
    size_t len = shop_user_id_len(s);
    for (uint32_t i = 0; i < a->n_users; i++) {
        /* spread over the population: ids are not ordered by behaviour */
        uint32_t u = (uint32_t)((uint64_t)i * users / a->n_users);
        a->shop_user[i] = u;
        a->consent[i] = unit(seed ^ 0xC0175E47ull ^ ((uint64_t)u << 20)) < CONSENT_SHARE;
        uint64_t h = bvt_item_hash(shop_user_id(s, u), len);
        size_t k = (size_t)h & a->mask;
        while (a->slot_user[k])
            k = (k + 1) & a->mask;
        a->slot_hash[k] = h;
        a->slot_user[k] = i + 1;
    }
    *out = a;
    return 0;
}

void adsim_free(adsim *a)
{
    if (!a)
        return;
    free(a->shop_user);
    free(a->consent);
    free(a->slot_hash);
    free(a->slot_user);
    free(a->kept);
    free(a->p);
    free(a->req_user);
    free(a);
}

/* The simulated user of a raw id, or -1. */
static int64_t sim_user_of(const adsim *a, const void *id, size_t len)
{
    uint64_t h = bvt_item_hash(id, len);
    size_t k = (size_t)h & a->mask, ulen = shop_user_id_len(a->s);
    for (; a->slot_user[k]; k = (k + 1) & a->mask) {
        uint32_t i = a->slot_user[k] - 1;
        if (a->slot_hash[k] == h && len == ulen &&
            memcmp(shop_user_id(a->s, a->shop_user[i]), id, len) == 0)
            return i;
    }
    return -1;
}

int adsim_observe(adsim *a, bvt_engine *e, const bvt_event *ev, size_t n)
{
    a->src = e;
    for (size_t i = 0; i < n; i++) {
        if (sim_user_of(a, ev[i].user_id, ev[i].user_id_len) < 0)
            continue;
        if (a->n_kept == a->cap_kept) {
            size_t cap = a->cap_kept ? a->cap_kept * 2 : 65536;
            bvt_event *k = realloc(a->kept, cap * sizeof *k);
            if (!k)
                return -1;
            a->kept = k;
            a->cap_kept = cap;
        }
        bvt_event *k = &a->kept[a->n_kept++];
        *k = ev[i]; /* the shop's strings live as long as the shop */
        if (!k->category && k->category_id) {
            /* by path: a fresh engine interns its own ids */
            k->category = bvt_category_name(e, k->category_id);
            k->category_id = 0;
        }
    }
    return 0;
}

/* ---- the hidden model ---- */

static int within(const char *cat, const char *tag)
{
    size_t n = strlen(tag);
    return strncmp(cat, tag, n) == 0 && (cat[n] == '\0' || cat[n] == '/');
}

static int build_truth(adsim *a, bvt_engine *history, int64_t now, uint32_t *matched_users)
{
    a->p = malloc(sizeof *a->p * a->n_users * N_OFFERS);
    if (!a->p)
        return -1;
    size_t len = shop_user_id_len(a->s);
    *matched_users = 0;
    for (uint32_t u = 0; u < a->n_users; u++) {
        bvt_interest in[16];
        size_t n = 0;
        if (bvt_profile_interests(history, shop_user_id(a->s, a->shop_user[u]), len, now, in,
                                  16, &n) != BVT_OK)
            n = 0;
        if (n > TOP_MATCH)
            n = TOP_MATCH;
        int any = 0;
        for (size_t o = 0; o < N_OFFERS; o++) {
            int match = 0;
            for (size_t j = 0; j < n && !match; j++)
                for (size_t t = 0; t < 2 && offers[o].tags[t] && !match; t++)
                    match = within(in[j].category, offers[o].tags[t]);
            a->p[(size_t)u * N_OFFERS + o] = offers[o].base * (match ? LIFT : 1.0);
            any |= match;
        }
        *matched_users += (uint32_t)any;
    }
    return 0;
}

/* Who asks for an ad when: users come back in proportion to the square
 * root of their sessions in the shop's history. */
static int draw_requests(adsim *a, bvt_engine *history, int64_t now)
{
    double *cum = malloc(sizeof *cum * a->n_users), total = 0;
    a->req_user = malloc(sizeof *a->req_user * a->n_requests);
    if (!cum || !a->req_user) {
        free(cum);
        return -1;
    }
    for (uint32_t u = 0; u < a->n_users; u++) {
        bvt_profile pr;
        bvt_profile_init(&pr);
        int rc = bvt_profile_get(history, shop_user_id(a->s, a->shop_user[u]),
                                 shop_user_id_len(a->s), now, &pr);
        total += rc == BVT_OK && pr.sessions > 0 ? sqrt((double)pr.sessions) : 1.0;
        cum[u] = total;
    }
    for (uint32_t i = 0; i < a->n_requests; i++) {
        double x = unit(a->seed ^ 0x05E7ull ^ ((uint64_t)i << 21)) * total;
        uint32_t lo = 0, hi = a->n_users - 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (cum[mid] > x)
                hi = mid;
            else
                lo = mid + 1;
        }
        a->req_user[i] = lo;
    }
    free(cum);
    return 0;
}

/* ---- one engine per run ---- */

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fail(const char *what, int rc, const bvt_error *err)
{
    fprintf(stderr, "demo: ad simulation: %s: %s%s%s\n", what, bvt_strerror(rc),
            err && err->message[0] ? ": " : "", err ? err->message : "");
    return -1;
}

/* A fresh engine with the simulated users' history, their consent, the
 * bucket segments, the "spring" group and the offers; num[o] receives the
 * numeric id of offers[o]. */
static int build_engine(adsim *a, bvt_engine **out, uint32_t *num)
{
    static const char secret[] = "demo ad simulation: not for production";
    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    bvt_error err = BVT_ERROR_INIT;
    bvt_engine *e = NULL;
    int rc = bvt_engine_new(&e, &opts, &err);
    if (rc != BVT_OK)
        return fail("bvt_engine_new", rc, &err);
    *out = e;
    if ((rc = shop_setup_engine(a->s, e)) != BVT_OK)
        return fail("shop_setup_engine", rc, NULL);

    /* custom types by name: ids are the engine's own */
    uint32_t type_map[BVT_EVENT_TYPE_MAX];
    for (uint32_t t = 0; t < BVT_EVENT_TYPE_MAX; t++) {
        const char *name = t >= BVT_EVENT_CUSTOM_FIRST ? bvt_event_type_name(a->src, t) : NULL;
        type_map[t] = t;
        if (name && bvt_event_type_lookup(e, name, &type_map[t]) != BVT_OK)
            type_map[t] = t;
    }
    static bvt_event batch[TRACK_BATCH];
    for (size_t at = 0; at < a->n_kept; at += TRACK_BATCH) {
        size_t n = a->n_kept - at < TRACK_BATCH ? a->n_kept - at : TRACK_BATCH, failed = 0;
        for (size_t i = 0; i < n; i++) {
            batch[i] = a->kept[at + i];
            batch[i].type = type_map[batch[i].type % BVT_EVENT_TYPE_MAX];
        }
        bvt_error_init(&err);
        rc = bvt_event_track_batch(e, batch, n, NULL, 0, &failed, &err);
        if (rc != BVT_OK)
            return fail("tracking the history", rc, &err);
    }
    size_t len = shop_user_id_len(a->s);
    for (uint32_t u = 0; u < a->n_users; u++) {
        rc = bvt_consent_set(e, shop_user_id(a->s, a->shop_user[u]), len, BVT_PURPOSE_ADS,
                             a->consent[u], a->t0 - 1);
        if (rc != BVT_OK)
            return fail("bvt_consent_set", rc, NULL);
    }

    uint32_t seg[N_DEPARTMENTS];
    for (size_t d = 0; d < N_DEPARTMENTS; d++) {
        char name[40], rule[80];
        snprintf(name, sizeof name, "into %s", departments[d]);
        snprintf(rule, sizeof rule, "interest(\"%s\") >= 0.4", departments[d]);
        bvt_error_init(&err);
        if ((rc = bvt_segment_define(e, name, rule, &seg[d], &err)) != BVT_OK)
            return fail("bvt_segment_define", rc, &err);
    }
    bvt_error_init(&err);
    if ((rc = bvt_offer_segments_set(e, seg, N_DEPARTMENTS, &err)) != BVT_OK)
        return fail("bvt_offer_segments_set", rc, &err);

    const bvt_cap group_cap = {GROUP_CAP, DAY_MS};
    bvt_error_init(&err);
    if ((rc = bvt_offer_group_define(e, "spring", &group_cap, 1, &err)) != BVT_OK)
        return fail("bvt_offer_group_define", rc, &err);
    for (size_t o = 0; o < N_OFFERS; o++) {
        const sim_offer *so = &offers[o];
        const bvt_cap caps[2] = {{DAY_CAP, DAY_MS}, {WEEK_CAP, 7 * DAY_MS}};
        bvt_offer def = BVT_OFFER_INIT;
        def.id = so->id;
        def.tags = so->tags;
        def.n_tags = so->tags[1] ? 2 : 1;
        def.rule = so->rule;
        def.value = 1.0; /* one unit of revenue per click */
        def.caps = caps;
        def.n_caps = so->week_cap ? 2 : 1;
        def.group = so->spring ? "spring" : NULL;
        def.start_ms = so->start_day ? a->t0 + so->start_day * DAY_MS : 0;
        def.personalised = so->personalised;
        bvt_error_init(&err);
        if ((rc = bvt_offer_define(e, &def, &num[o], &err)) != BVT_OK)
            return fail(so->id, rc, &err);
    }
    return 0;
}

/* ---- one run over the request stream ---- */

typedef struct run {
    double regret[ADSIM_POINTS]; /* cumulative, at each checkpoint */
    double expected, best;       /* sums of true click probabilities: chosen, best eligible */
    uint64_t impressions, clicks, empty;
    served *log;
    size_t n_log;
    /* A/B only: per variant (0, 1) */
    uint64_t v_impressions[2];
    double v_expected[2], v_best[2];
} run;

static int64_t req_time(const adsim *a, uint32_t i)
{
    return a->t0 + (int64_t)((double)i * (double)(SIM_DAYS * DAY_MS) / a->n_requests);
}

static int run_stream(adsim *a, bvt_engine *e, const uint32_t *num, const bvt_policy *policy,
                      const char *experiment, run *r)
{
    size_t len = shop_user_id_len(a->s);
    r->log = malloc(sizeof *r->log * a->n_requests);
    if (!r->log) {
        fprintf(stderr, "demo: ad simulation: out of memory\n");
        return -1;
    }
    double regret = 0;
    bvt_ranked_offer slot;
    bvt_offer_choice choices[CHOICES_MAX];
    int c = 0;
    for (uint32_t i = 0; i < a->n_requests; i++) {
        uint32_t u = a->req_user[i];
        const char *id = shop_user_id(a->s, a->shop_user[u]);
        int64_t t = req_time(a, i);
        bvt_rank_request q = BVT_RANK_REQUEST_INIT;
        q.user_id = id;
        q.user_id_len = len;
        q.now = t;
        q.k = 1;
        q.policy = policy;
        q.seed = mix64(a->seed ^ 0x5EEDull ^ ((uint64_t)i << 24));
        q.experiment = experiment;
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        res.offers = &slot;
        res.offers_cap = 1;
        res.choices = choices;
        res.choices_cap = CHOICES_MAX;
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_rank(e, &q, &res, &err);
        if (rc != BVT_OK)
            return fail("bvt_rank", rc, &err);
        if (res.n_offers == 0) {
            r->empty++;
        } else {
            const double *p = &a->p[(size_t)u * N_OFFERS];
            size_t chosen = N_OFFERS;
            double best = 0;
            for (size_t o = 0; o < N_OFFERS; o++)
                if (num[o] == slot.offer)
                    chosen = o;
            for (size_t j = 0; j < res.n_choices && j < CHOICES_MAX; j++)
                for (size_t o = 0; o < N_OFFERS; o++)
                    if (num[o] == choices[j].offer && p[o] > best)
                        best = p[o];
            if (chosen == N_OFFERS)
                return fail("bvt_rank returned an offer not in the catalogue", BVT_EINVAL, NULL);
            regret += best - p[chosen];
            r->expected += p[chosen];
            r->best += best;
            r->log[r->n_log++] = (served){u, (uint32_t)chosen, t};
            if (res.variant == 0 || res.variant == 1) {
                r->v_impressions[res.variant]++;
                r->v_expected[res.variant] += p[chosen];
                r->v_best[res.variant] += best;
            }

            bvt_event ev = BVT_EVENT_INIT;
            ev.type = BVT_EVENT_IMPRESSION;
            ev.user_id = id;
            ev.user_id_len = len;
            ev.time_ms = t;
            ev.offer_id = slot.offer_id;
            if ((rc = bvt_event_track(e, &ev, &err)) != BVT_OK)
                return fail("tracking an impression", rc, &err);
            r->impressions++;
            /* the same draw for every policy: common random numbers */
            if (unit(a->seed ^ 0xC11Cull ^ ((uint64_t)i << 22)) < p[chosen]) {
                ev.type = BVT_EVENT_CLICK;
                ev.time_ms = t + CLICK_DELAY_MS;
                if ((rc = bvt_event_track(e, &ev, &err)) != BVT_OK)
                    return fail("tracking a click", rc, &err);
                r->clicks++;
            }
        }
        if (c < ADSIM_POINTS &&
            (uint64_t)(i + 1) * ADSIM_POINTS >= (uint64_t)(c + 1) * a->n_requests)
            r->regret[c++] = regret;
    }
    return 0;
}

/* ---- caps, checked from what was served ---- */

typedef struct cap_check {
    uint64_t over;         /* impressions that put a user over a cap */
    uint32_t day_max, week_max, group_max; /* most seen in one window */
} cap_check;

static int by_user_offer_time(const void *x, const void *y)
{
    const served *a = x, *b = y;
    if (a->user != b->user)
        return a->user < b->user ? -1 : 1;
    if (a->offer != b->offer)
        return a->offer < b->offer ? -1 : 1;
    return (a->t > b->t) - (a->t < b->t);
}

static int by_user_time(const void *x, const void *y)
{
    const served *a = x, *b = y;
    if (a->user != b->user)
        return a->user < b->user ? -1 : 1;
    return (a->t > b->t) - (a->t < b->t);
}

/* Most impressions in a window of w ending at each impression of the run
 * log[lo..hi) (one user and key, in time order); counts those over max. */
static uint32_t window_max(const served *log, size_t lo, size_t hi, int64_t w, uint32_t max,
                           uint64_t *over)
{
    uint32_t most = 0;
    size_t first = lo;
    for (size_t j = lo; j < hi; j++) {
        while (log[first].t <= log[j].t - w)
            first++;
        uint32_t n = (uint32_t)(j - first + 1);
        if (n > max)
            (*over)++;
        if (n > most)
            most = n;
    }
    return most;
}

/* Merges what one run's log shows into cc (zero it before the first). */
static int check_caps(const run *r, cap_check *cc)
{
    served *log = malloc(sizeof *log * (r->n_log ? r->n_log : 1));
    if (!log) {
        fprintf(stderr, "demo: ad simulation: out of memory\n");
        return -1;
    }
    memcpy(log, r->log, sizeof *log * r->n_log);
    qsort(log, r->n_log, sizeof *log, by_user_offer_time);
    for (size_t lo = 0, hi; lo < r->n_log; lo = hi) {
        for (hi = lo; hi < r->n_log && log[hi].user == log[lo].user &&
                      log[hi].offer == log[lo].offer; hi++)
            ;
        uint32_t d = window_max(log, lo, hi, DAY_MS, DAY_CAP, &cc->over);
        if (d > cc->day_max)
            cc->day_max = d;
        if (offers[log[lo].offer].week_cap) {
            uint32_t wk = window_max(log, lo, hi, 7 * DAY_MS, WEEK_CAP, &cc->over);
            if (wk > cc->week_max)
                cc->week_max = wk;
        }
    }
    /* the group: every impression of its offers, per user */
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++)
        if (offers[r->log[i].offer].spring)
            log[n++] = r->log[i];
    qsort(log, n, sizeof *log, by_user_time);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo; hi < n && log[hi].user == log[lo].user; hi++)
            ;
        uint32_t g = window_max(log, lo, hi, DAY_MS, GROUP_CAP, &cc->over);
        if (g > cc->group_max)
            cc->group_max = g;
    }
    free(log);
    return 0;
}

/* ---- the report ---- */

static double pct(double num, double den) { return den > 0 ? 100.0 * num / den : 0; }

static void print_lift(const char *what, const bvt_lift *l)
{
    printf("  %-10s %+.2f%% relative (95%% CI %+.2f%% .. %+.2f%%), %+.3f points absolute, "
           "p = %.4f\n",
           what, 100.0 * l->relative, 100.0 * l->rel_low, 100.0 * l->rel_high,
           100.0 * l->absolute, l->p_value);
}

void adsim_explain_ab(const adsim_result *r, char *buf, size_t n)
{
    const adsim_arm *c = &r->arm[0], *t = &r->arm[1];
    /* The test shares one engine between its arms on purpose: that is how
     * the experiments API is used.  The sentence says what that does to a
     * comparison of learners, naming cause and effect only when this run's
     * figures show them (the control gains, the treatment loses). */
    int shows = c->regret_rate < c->alone_regret_rate && t->regret_rate > t->alone_regret_rate;
    char how[256];
    if (shows)
        snprintf(how, sizeof how,
                 "%s exploits what %s's exploration learns while only %s pays for exploring",
                 c->name, t->name, t->name);
    else
        snprintf(how, sizeof how, "each arm's choices change what the other ranks by");
    snprintf(buf, n,
             "Both arms rank from one shared set of offer statistics, so %s (expected clicks "
             "lost per impression: %s %.2f%% alone, %.2f%% here; %s %.2f%% alone, %.2f%% "
             "here). This test therefore compares the two rules on shared learning, not which "
             "policy to run on its own: that is what the regret of each policy run alone "
             "shows.",
             how, c->name, 100.0 * c->alone_regret_rate, 100.0 * c->regret_rate, t->name,
             100.0 * t->alone_regret_rate, 100.0 * t->regret_rate);
}

/* Defines the experiment on e; 1 if this build has experiments, 0 if not,
 * -1 on another error. */
static int define_ab(bvt_engine *e, const bvt_policy *control, const bvt_policy *treatment,
                     const adsim_result *out, uint32_t *xid)
{
    bvt_variant v[2] = {{out->arm[0].name, 0.5, control, NULL, 0},
                        {out->arm[1].name, 0.5, treatment, NULL, 0}};
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "ranker";
    x.variants = v;
    x.n_variants = 2;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_experiment_define(e, &x, xid, &err);
    if (rc == BVT_OK)
        return 1;
    printf("  experiments not available in this build (bvt_experiment_define: %s)\n",
           bvt_strerror(rc));
    return 0;
}

/* Fills out->arm[] and the lift from the library's report and the run. */
static void take_ab(const bvt_experiment_report *rep, const run *r, adsim_result *out)
{
    for (uint32_t k = 0; k < rep->n_variants && k < 2; k++) {
        const bvt_variant_report *vr = &rep->variants[k];
        adsim_arm *arm = &out->arm[k];
        arm->users = vr->users;
        arm->impressions = vr->impressions;
        arm->clicks = vr->clicks;
        arm->ctr = vr->ctr;
        double imps = (double)r->v_impressions[k];
        arm->true_ctr = imps > 0 ? r->v_expected[k] / imps : 0;
        arm->regret_rate = imps > 0 ? (r->v_best[k] - r->v_expected[k]) / imps : 0;
    }
    out->lift = rep->variants[1].ctr_lift;
    out->srm_p = rep->srm_p_value;
    out->srm_mismatch = rep->srm_mismatch;
    out->ab_ran = 1;
}

static void print_ab(const adsim_result *out, const cap_check *cc, size_t served_n)
{
    printf("  %-10s %7s %12s %8s %7s %12s %14s\n", "variant", "users", "impressions", "clicks",
           "CTR", "true E[CTR]", "lost/impr.");
    for (int k = 0; k < 2; k++) {
        const adsim_arm *arm = &out->arm[k];
        printf("  %-10s %7s %12s %8s %6.2f%% %11.2f%% %13.2f%%\n", arm->name,
               fmt_count(arm->users), fmt_count(arm->impressions), fmt_count(arm->clicks),
               100.0 * arm->ctr, 100.0 * arm->true_ctr, 100.0 * arm->regret_rate);
    }
    print_lift("CTR lift", &out->lift);
    printf("  SRM check  p = %.3f: %s\n", out->srm_p,
           out->srm_mismatch ? "MISMATCH, do not trust the lifts" : "no sample-ratio mismatch");
    printf("  caps       %s impressions over a cap (of %s served)\n", fmt_count(cc->over),
           fmt_count(served_n));
    char why[1024];
    adsim_explain_ab(out, why, sizeof why);
    printf("  Why it can disagree with the regret above:\n");
    fmt_print_wrapped(why, 2, 78);
}

static int ab_test(adsim *a, const bvt_policy *control, const bvt_policy *treatment,
                   progress *pg, adsim_result *out)
{
    bvt_engine *e = NULL;
    uint32_t num[N_OFFERS], xid = 0;
    run r;
    memset(&r, 0, sizeof r);
    progress_note(pg, "ad simulation: the A/B test");
    printf("\nA/B test \"ranker\": control = %s, treatment = %s, 50/50 by user, the same\n"
           "requests through bvt_rank() with the experiment set, in one engine\n",
           out->arm[0].name, out->arm[1].name);
    int rc = build_engine(a, &e, num);
    int have = rc == 0 ? define_ab(e, control, treatment, out, &xid) : -1;
    if (have == 1)
        rc = run_stream(a, e, num, NULL, "ranker", &r);
    bvt_experiment_report rep;
    memset(&rep, 0, sizeof rep);
    rep.version = BVT_EXPERIMENT_REPORT_VERSION;
    int got = have == 1 && rc == 0 ? bvt_experiment_report_get(e, xid, 0, &rep) : BVT_OK;
    if (have == 1 && rc == 0 && got != BVT_OK) {
        printf("  experiments not available in this build (bvt_experiment_report_get: %s)\n",
               bvt_strerror(got));
    } else if (have == 1 && rc == 0) {
        cap_check cc;
        memset(&cc, 0, sizeof cc);
        rc = check_caps(&r, &cc);
        if (rc == 0) {
            take_ab(&rep, &r, out);
            print_ab(out, &cc, r.n_log);
        }
    }
    free(r.log);
    bvt_engine_free(e);
    return rc;
}

/* Runs every policy alone, each on a fresh engine. */
static int run_policies(adsim *a, const bvt_policy *const *policies, progress *pg,
                        adsim_result *out, cap_check *cc, uint64_t *empty)
{
    int rc = 0;
    memset(cc, 0, sizeof *cc);
    for (int k = 0; k < ADSIM_POLICIES && rc == 0; k++) {
        bvt_engine *e = NULL;
        uint32_t num[N_OFFERS];
        run r;
        memset(&r, 0, sizeof r);
        progress_note(pg, "ad simulation: %s (%d of %d)", out->policy[k].name, k + 1,
                      ADSIM_POLICIES + 1);
        rc = build_engine(a, &e, num);
        if (rc == 0)
            rc = run_stream(a, e, num, policies[k], NULL, &r);
        if (rc == 0)
            rc = check_caps(&r, cc);
        adsim_policy_result *pr = &out->policy[k];
        memcpy(pr->regret, r.regret, sizeof pr->regret);
        pr->impressions = r.impressions;
        pr->clicks = r.clicks;
        pr->best = r.best;
        *empty += r.empty;
        free(r.log);
        bvt_engine_free(e);
    }
    return rc;
}

static void print_policies(const adsim *a, const adsim_result *out, const cap_check *cc,
                           uint64_t empty)
{
    const adsim_policy_result *p = out->policy;
    printf("\nAd-server simulation: %zu offers, %s requests over %d days for %s shop users\n",
           N_OFFERS, fmt_count(a->n_requests), SIM_DAYS, fmt_count(a->n_users));
    printf("  hidden truth: P(click) = base CTR of the offer (%.1f%%..%.1f%%), x %.0f when one of\n"
           "  the user's top %d interests lies under its tags (%s of %s users match an offer)\n",
           1.0, 4.0, LIFT, TOP_MATCH, fmt_count(out->matched), fmt_count(a->n_users));
    printf("  caps: %d a day per offer, %d a week on 4 offers, group \"spring\" %d a day;\n"
           "  %s users grant ads consent; each policy alone on a fresh engine fed the same "
           "history\n",
           DAY_CAP, WEEK_CAP, GROUP_CAP, fmt_count(out->consenting));
    printf("\n  cumulative regret (expected clicks lost to the best eligible offer)\n");
    printf("  %10s %10s %10s %10s\n", "requests", p[0].name, p[1].name, p[2].name);
    for (int c = ADSIM_POINTS / 5 - 1; c < ADSIM_POINTS; c += ADSIM_POINTS / 5)
        printf("  %10s %10.1f %10.1f %10.1f\n",
               fmt_count((uint64_t)(c + 1) * a->n_requests / ADSIM_POINTS), p[0].regret[c],
               p[1].regret[c], p[2].regret[c]);
    printf("  %10s %10s %10s %10s\n", "clicks", fmt_count(p[0].clicks), fmt_count(p[1].clicks),
           fmt_count(p[2].clicks));
    printf("  %10s %9.2f%% %9.2f%% %9.2f%%   (best eligible offer every time: %.2f%%)\n", "CTR",
           pct((double)p[0].clicks, (double)p[0].impressions),
           pct((double)p[1].clicks, (double)p[1].impressions),
           pct((double)p[2].clicks, (double)p[2].impressions),
           pct(p[2].best, (double)p[2].impressions));
    printf("  caps held: %s impressions over a cap; at most %u of one offer a day (cap %d), %u "
           "a week\n  (cap %d), %u of the group a day (cap %d); %s requests had no eligible "
           "offer\n",
           fmt_count(cc->over), cc->day_max, DAY_CAP, cc->week_max, WEEK_CAP, cc->group_max,
           GROUP_CAP, fmt_count(empty));
}

int adsim_run(adsim *a, bvt_engine *history, int64_t now, progress *pg, adsim_result *out)
{
    memset(out, 0, sizeof *out);
    double t_all = wall();
    if (a->n_users == 0 || !a->src) {
        printf("\nAd-server simulation: no users\n");
        return 0;
    }
    a->t0 = (now / 3600000 + 1) * 3600000; /* the next full hour */
    if (build_truth(a, history, now, &out->matched) != 0 ||
        draw_requests(a, history, now) != 0) {
        fprintf(stderr, "demo: ad simulation: out of memory\n");
        return -1;
    }
    for (uint32_t u = 0; u < a->n_users; u++)
        out->consenting += a->consent[u];
    out->ran = 1;
    out->users = a->n_users;
    out->requests = a->n_requests;
    out->offers = (uint32_t)N_OFFERS;
    out->days = SIM_DAYS;

    bvt_policy random = BVT_POLICY_INIT, greedy = BVT_POLICY_INIT, thompson = BVT_POLICY_INIT;
    random.kind = BVT_POLICY_EPSILON_GREEDY;
    random.epsilon = 1.0;
    greedy.kind = BVT_POLICY_GREEDY;
    thompson.kind = BVT_POLICY_THOMPSON;
    const bvt_policy *policies[ADSIM_POLICIES] = {&random, &greedy, &thompson};
    static const char *const names[ADSIM_POLICIES] = {"random", "greedy", "thompson"};
    for (int k = 0; k < ADSIM_POLICIES; k++)
        out->policy[k].name = names[k];
    cap_check cc;
    uint64_t empty = 0;
    int rc = run_policies(a, policies, pg, out, &cc, &empty);
    if (rc != 0)
        return rc;
    print_policies(a, out, &cc, empty);
    out->over_cap = cc.over;

    /* the A/B arms are the greedy and Thompson runs above */
    for (int k = 0; k < 2; k++) {
        const adsim_policy_result *alone = &out->policy[k + 1];
        out->arm[k].name = alone->name;
        out->arm[k].alone_regret_rate =
            alone->impressions ? alone->regret[ADSIM_POINTS - 1] / (double)alone->impressions : 0;
    }
    rc = ab_test(a, &greedy, &thompson, pg, out);
    if (rc == 0)
        printf("  simulation wall clock: %.2f s\n", wall() - t_all);
    return rc;
}
