/* test-replay-prop.c — property test: replay is a pure function of the
 * state directory (issue 11, point 7).
 *
 * The workload.  step() makes one random call: tracking (single events of
 * every type, and batches), attributes, consent, aliases, forget, expire,
 * experiment assignment and ranking with an experiment, definitions
 * (segments, offers one at a time and in batches, groups, offer segments,
 * the policy, experiments, custom event types, consent purposes,
 * keywords, categories), RFM refreshes, cluster runs, checkpoints and
 * saves.  The options are random too: shards 1..64, max_users with either
 * full policy (users are evicted or refused), a memory budget, the
 * analytics policy, retention, segments_need_consent, history, interest,
 * cart and attribute settings, type weights, and the journal mode.  Values
 * are whole numbers, so sums do not depend on the order threads add them.
 * Everything follows from one seed (BVT_PROPTEST_SEED, default 1, printed
 * with every failure): the options and each thread's calls; with several
 * threads the interleaving is the scheduler's.
 *
 * "The state" is statecmp.h's text: everything the public API reads, for
 * every raw id the workload used (forgotten, evicted and expired ones must
 * be absent on both sides), and statecmp_probe()'s answers for what no
 * read returns (keyword maps, type weights, offer response and cost).
 * Across a reopen or a save, categories nothing uses may be gone (a
 * checkpoint leaves them out); every other line must be equal.
 *
 * threads_close_reopen — 2 to 4 threads run the workload on one engine,
 * sharing some users and checkpointing and saving now and then.  After
 * each phase the threads stop and the state is read; the engine is freed
 * and the directory opened again, and each open must give that state:
 *  - read-only (it must also answer the probe as the writer did);
 *  - with BVT_OPTIONS_RECORDED, given options that, used, would be refused
 *    or read otherwise;
 *  - with the same options (the next phase goes on from it);
 *  - after a save taken with no checkpoint running is put back as the
 *    directory's snapshot (the journal after its position must replay on
 *    it exactly once);
 *  - with other policy options (shards, max_users, full_policy,
 *    memory_budget, retention_ms, analytics_policy,
 *    segments_need_consent), which apply only from then on (membership is
 *    left out of that comparison when segments_need_consent changed); a
 *    max_users below the users held must be refused with BVT_EFULL naming
 *    it, then a large enough one is used.
 * And: another data-shaping option is refused with BVT_EINVAL naming it;
 * a save loads into the same state; a save over the directory's own
 * snapshot is refused.
 *
 * kill_prefix — with several threads the journal is one interleaving that
 * no outside observer can rebuild, so the SIGKILL property is checked with
 * one thread, where it is exact.  Each round copies the directory, then a
 * child opens it (BVT_JOURNAL_ALWAYS; new random policy options, or the
 * recorded ones) and runs the workload, writing to a pipe the number of
 * calls that have returned; the parent kills it at a random moment.  Each
 * call is one journal commit (a category it brings is appended with its
 * record, and a cluster run only redefines segments it defined before), so
 * what survives is the state after N calls, with N the acknowledged count
 * A or A + 1 (the call in flight).  The parent opens
 * the killed directory read-only, then as a writer (both must agree), then
 * opens the copy and repeats the same calls on it — one thread and one
 * starting state make them decide alike (the same users evicted, refused,
 * expired) — and the state after A or A + 1 of them must equal the
 * recovered one, probe included (the repeat skips saves and checkpoints,
 * which change no state).
 *
 * definitions_race_feedback makes likely what the random workload rarely
 * meets: definitions changing while other threads' events read them (each
 * event must replay with the definitions it was applied with).
 * budget_shaping_replays does the same for the memory budget's folding.
 * refused_count_is_durable_when_the_call_returns pins one thing
 * kill_prefix found.
 *
 * Rounds are chosen by build (sanitizers are slower); BVT_PROPTEST_SCALE
 * multiplies them for a longer run.  Each test prints its counts.  To
 * narrow a failure down: BVT_PROPTEST_CASE runs one case of
 * threads_close_reopen (the number a failure prints), BVT_PROPTEST_THREADS
 * fixes its thread count, BVT_PROPTEST_SAME_POLICY=1 keeps the policy
 * options of every reopen and kill round, BVT_PROPTEST_SKIP (prefixes
 * separated by commas, e.g. "stats rejected,anonymous") leaves the lines
 * of statecmp's text that start with them out of every comparison, to look
 * past a known difference, and BVT_PROPTEST_VERBOSE=1 prints each case
 * and round.  A failure writes both texts whole to
 * /tmp/bvt-replay-prop-<seed>-<check>-[ab].txt. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_SECRET "replay-prop-secret-0123456789abcdef"
#include "testutil.h"
#include "statetest.h"
#include "statecmp.h"

/* ---------------------------------------------------------------- scale */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#if SANITIZED
#define CASES 4
#define PHASES 3
#define OPS_PER_PHASE 250 /* per thread */
#define KILL_ROUNDS 15
#else
#define CASES 8
#define PHASES 3
#define OPS_PER_PHASE 400
#define KILL_ROUNDS 30
#endif

#define MAX_THREADS 4
#define THREAD_USERS 24
#define THREAD_ANONS 10
#define SHARED_USERS 16
#define MAX_BATCH 12
#define KILL_MAX_OPS 20000

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static uint64_t base_seed(void) { return env_u64("BVT_PROPTEST_SEED", 1); }
static int same_policy(void) { return env_u64("BVT_PROPTEST_SAME_POLICY", 0) != 0; }
static int verbose(void) { return env_u64("BVT_PROPTEST_VERBOSE", 0) != 0; }
static uint64_t scale(void)
{
    uint64_t s = env_u64("BVT_PROPTEST_SCALE", 1);
    return s ? s : 1;
}

/* ---------------------------------------------------------------- random */

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t next(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    return mix(*s);
}

static uint32_t rnd(uint64_t *s, uint32_t n) { return n ? (uint32_t)(next(s) % n) : 0; }

/* ---------------------------------------------------------------- names */

static const char *CATS[] = { "home", "home/beds", "home/beds/mattress", "home/lamps", "sport",
                              "sport/run", "sport/run/shoes", "books", "books/crime",
                              "garden" };
#define N_CATS (sizeof CATS / sizeof CATS[0])
static const char *DYN_CATS[] = { "dyn/a", "dyn/b", "dyn/b/c", "dyn/d", "other/x" };
static const char *WORDS[] = { "mattress", "lamp", "run", "crime", "shoes", "garden" };
static const char *SEARCHES[] = { "red mattress", "running shoes run", "crime books lamp",
                                  "garden lamp", "nothing here" };
static const char *PURPOSES[] = { "newsletter", "profiling", "p_sms", "p_push", "p_mail" };
#define N_PURPOSES 5
static const char *TYPE_NAMES[] = { "video_complete", "quiz", "webinar", "download" };
static const double TYPE_WEIGHTS[] = { 2, 0.5, 1, 3 };
static const char *SEGMENTS[] = { "seg0", "seg1", "seg2", "seg3", "seg4", "seg5", "seg6",
                                  "seg7" };
#define N_SEGMENTS 8
static const char *RULES[] = {
    "count(page_view, \"home\", 7d) >= 2",
    "did(purchase, *, 30d)",
    "consent(analytics) and purchases > 0",
    "attr.tier == \"gold\"",
    "attr.age >= 40 and interest(\"sport\") > 0.2",
    "in_segment(\"seg1\") or clicks > 1",
    "carted_not_bought(3d)",
    "viewed_not_bought(\"home/beds\", 14d)",
    "rfm_segment in (\"Champions\", \"Loyal\", \"Lost\")",
    "cluster == 2",
    "consent(newsletter)",
    "count(video_complete, *, 14d) >= 1",
    "sum(purchase, \"sport\", 30d) > 50",
    "not in_segment(\"seg3\")",
    "sessions >= 3 and recency < 2d",
    "in_segment(\"seg0\") and attr.tier == \"red\"",
};
#define N_RULES (sizeof RULES / sizeof RULES[0])
static const char *OFFERS[] = { "o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9" };
#define N_DEFINED_OFFERS 8 /* o8 and o9 are never defined: unattributed feedback */
static const char *OFFER_RULES[] = { "purchases == 0", "consent(ads)", "in_segment(\"seg0\")",
                                     "interest(\"home\") > 0.1", "ctx.device == \"mobile\"",
                                     "not did(click, *, 1d)" };
static const char *GROUPS[] = { "g0", "g1" };
static const char *EXPERIMENTS[] = { "x0", "x1", "x2" };
static const unsigned EXP_VARIANTS[] = { 2, 3, 2 };
static const char *VARIANT_NAMES[] = { "control", "blue", "green" };
static const char *ITEMS[] = { "sku-0", "sku-1", "sku-2", "sku-3", "sku-4", "sku-5" };
static const char *TIERS[] = { "gold", "blue", "red", "green" };

/* Every raw id of a run: per thread its users and anonymous ids, then the
 * shared users. */
#define MAX_IDS (MAX_THREADS * (THREAD_USERS + THREAD_ANONS) + SHARED_USERS)
static char id_store[MAX_IDS][16];
static const char *ids[MAX_IDS];
static size_t n_ids;

static void make_ids(int threads)
{
    n_ids = 0;
    for (int t = 0; t < threads; t++) {
        for (int i = 0; i < THREAD_USERS; i++)
            snprintf(id_store[n_ids++], 16, "u%d-%d", t, i);
        for (int i = 0; i < THREAD_ANONS; i++)
            snprintf(id_store[n_ids++], 16, "a%d-%d", t, i);
    }
    for (int i = 0; i < SHARED_USERS; i++)
        snprintf(id_store[n_ids++], 16, "s-%d", i);
    for (size_t i = 0; i < n_ids; i++)
        ids[i] = id_store[i];
}

static statecmp_names names(void)
{
    statecmp_names nm = { ids, n_ids, PURPOSES, N_PURPOSES, SEGMENTS, N_SEGMENTS,
                          OFFERS, sizeof OFFERS / sizeof OFFERS[0], EXPERIMENTS, 3,
                          SEARCHES, sizeof SEARCHES / sizeof SEARCHES[0] };
    return nm;
}

/* ---------------------------------------------------------------- options */

/* A case's options and the buffers they point to. */
typedef struct config {
    bvt_options o;
    double weights[BVT_EVENT_BUILTIN_COUNT];
    uint32_t journal;
} config;

static const int64_t HALF_LIVES[] = { 0, DAY, 3 * DAY, 30 * DAY };

/* The options that shape stored data: fixed for a directory's life. */
static void random_shaping(uint64_t *s, config *c)
{
    bvt_options *o = &c->o;
    o->top_interests = rnd(s, 3) ? 0 : 1 + rnd(s, 16);
    o->interest_half_life_ms = HALF_LIVES[rnd(s, 4)];
    o->ancestor_credit = (double[]){ 0, 0.25, -1, 1 }[rnd(s, 4)];
    uint32_t h = rnd(s, 6);
    o->history_events = h == 0 ? BVT_NONE : h == 1 ? 0 : 1 + rnd(s, 24);
    h = rnd(s, 6);
    o->history_day_slots = h == 0 ? BVT_NONE : h == 1 ? 0 : 2 + rnd(s, 40);
    o->history_horizon_ms = rnd(s, 3) ? 0 : (20 + rnd(s, 100)) * DAY;
    o->session_gap_ms = rnd(s, 2) ? 0 : (5 + rnd(s, 120)) * MIN;
    h = rnd(s, 5);
    o->cart_items = h == 0 ? BVT_NONE : h == 1 ? 0 : 1 + rnd(s, 6);
    h = rnd(s, 5);
    o->max_attributes = h == 0 ? BVT_NONE : h == 1 ? 0 : 1 + rnd(s, 4);
    o->type_weights = NULL;
    o->type_weights_len = 0;
    if (rnd(s, 3) == 0) {
        for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
            c->weights[t] = rnd(s, 5);
        o->type_weights = c->weights;
        o->type_weights_len = BVT_EVENT_BUILTIN_COUNT;
    }
}

/* The options a reopen may change. */
static void random_policy(uint64_t *s, config *c)
{
    bvt_options *o = &c->o;
    o->shards = 1u << rnd(s, 7);
    uint32_t m = rnd(s, 4);
    o->max_users = m == 0 ? 0 : m == 1 ? 30 + rnd(s, 30) : 60 + rnd(s, 200);
    o->full_policy = rnd(s, 2) ? BVT_FULL_EVICT_LRU : BVT_FULL_REJECT;
    o->memory_budget = rnd(s, 5) == 0 ? (uint64_t)o->shards * 8384 + (64 + rnd(s, 512)) * 1024 : 0;
    o->analytics_policy = rnd(s, 3);
    o->retention_ms = rnd(s, 3) ? (3 + rnd(s, 20)) * DAY : 0;
    o->segments_need_consent = rnd(s, 4) == 0;
}

static void describe(const config *c, char *buf, size_t cap)
{
    const bvt_options *o = &c->o;
    snprintf(buf, cap, "shards %u max_users %llu full %u budget %llu analytics %u retention %lld "
             "need_consent %u | top %u half_life %lld credit %g hist %u/%u horizon %lld gap %lld "
             "cart %u attrs %u weights %s | journal %u",
             o->shards, (unsigned long long)o->max_users, o->full_policy,
             (unsigned long long)o->memory_budget, o->analytics_policy,
             (long long)o->retention_ms, o->segments_need_consent, o->top_interests,
             (long long)o->interest_half_life_ms, o->ancestor_credit, o->history_events,
             o->history_day_slots, (long long)o->history_horizon_ms, (long long)o->session_gap_ms,
             o->cart_items, o->max_attributes, o->type_weights ? "custom" : "default", c->journal);
}

/* ---------------------------------------------------------------- the workload */

/* Checkpoints begun and ended in a case: a save taken while none ran and
 * none begun since can become the directory's snapshot again, since the
 * journal files after its position are all still there. */
static _Atomic uint64_t ckpt_begun, ckpt_ended;

typedef struct worker {
    bvt_engine *e;
    uint64_t rng;
    int thread, threads;
    int64_t clock;
    int kill_mode;   /* one thread: a cluster run only if may_cluster */
    int reference;   /* repeating a killed child's calls: checkpoints are no-ops */
    int may_cluster; /* a cluster run only redefines its segments (kill mode) */
    int64_t retention_ms;
    uint64_t ops;
    int failed;
    char desc[320];
    char why[512];
    char save_path[96];
    int save_usable;     /* save_path holds a save taken with no checkpoint running */
    uint64_t save_begun; /* ckpt_begun when it was taken */
    int phase_ops;       /* calls per phase */
    int definer;         /* mostly definitions (threads_close_reopen's thread 0, sometimes) */
    int defining;        /* only definitions: the burst between threaded phases */
} worker;

/* The calls of step() that change definitions events read (segments,
 * offers, groups, offer segments, policy, experiments). */
#define DEFINITIONS_FROM 720u
#define DEFINITIONS_TO 796u

static const char *pick_user(worker *w)
{
    uint32_t r = rnd(&w->rng, 100);
    size_t base = (size_t)w->thread * (THREAD_USERS + THREAD_ANONS);
    if (r < 70)
        return ids[base + rnd(&w->rng, THREAD_USERS)];
    if (r < 85)
        return ids[base + THREAD_USERS + rnd(&w->rng, THREAD_ANONS)];
    size_t shared = (size_t)w->threads * (THREAD_USERS + THREAD_ANONS);
    return ids[shared + rnd(&w->rng, SHARED_USERS)];
}

static const char *pick_known(worker *w)
{
    size_t base = (size_t)w->thread * (THREAD_USERS + THREAD_ANONS);
    if (rnd(&w->rng, 4) == 0) {
        size_t shared = (size_t)w->threads * (THREAD_USERS + THREAD_ANONS);
        return ids[shared + rnd(&w->rng, SHARED_USERS)];
    }
    return ids[base + rnd(&w->rng, THREAD_USERS)];
}

static const char *pick_anon(worker *w)
{
    size_t base = (size_t)w->thread * (THREAD_USERS + THREAD_ANONS);
    return ids[base + THREAD_USERS + rnd(&w->rng, THREAD_ANONS)];
}

static const char *pick_cat(worker *w)
{
    if (rnd(&w->rng, 40) == 0) /* a new one: its record goes with the call's */
        return DYN_CATS[rnd(&w->rng, sizeof DYN_CATS / sizeof DYN_CATS[0])];
    return CATS[rnd(&w->rng, N_CATS)];
}

static int64_t tick(worker *w)
{
    w->clock += rnd(&w->rng, 90) * MIN + rnd(&w->rng, 1000);
    return w->clock;
}

static int64_t event_time(worker *w)
{
    int64_t t = tick(w);
    if (rnd(&w->rng, 10) == 0) /* a late event */
        t -= rnd(&w->rng, 5 * 24) * HOUR;
    return t > 0 ? t : 1;
}

static void random_event(worker *w, bvt_event *ev, const char *user)
{
    bvt_event_init(ev);
    ev->user_id = user;
    ev->user_id_len = strlen(user);
    ev->time_ms = event_time(w);
    ev->category = rnd(&w->rng, 10) < 7 ? pick_cat(w) : NULL;
    uint32_t r = rnd(&w->rng, 100);
    if (r < 30) {
        ev->type = BVT_EVENT_PAGE_VIEW;
        ev->dwell_ms = rnd(&w->rng, 3) ? (int64_t)rnd(&w->rng, 120000) : 0;
    } else if (r < 38) {
        ev->type = BVT_EVENT_SEARCH;
        ev->category = NULL;
        ev->search_text = SEARCHES[rnd(&w->rng, 5)];
    } else if (r < 48) {
        ev->type = BVT_EVENT_ADD_TO_CART;
        ev->item_id = rnd(&w->rng, 4) ? ITEMS[rnd(&w->rng, 6)] : NULL;
        ev->value = 1 + rnd(&w->rng, 50);
        ev->quantity = rnd(&w->rng, 3);
    } else if (r < 51) {
        ev->type = BVT_EVENT_REMOVE_FROM_CART;
        ev->item_id = rnd(&w->rng, 2) ? ITEMS[rnd(&w->rng, 6)] : NULL;
    } else if (r < 59) {
        ev->type = BVT_EVENT_PURCHASE;
        ev->item_id = rnd(&w->rng, 2) ? ITEMS[rnd(&w->rng, 6)] : NULL;
        ev->value = rnd(&w->rng, 200);
    } else if (r < 84) {
        static const uint32_t fb[] = { BVT_EVENT_IMPRESSION, BVT_EVENT_IMPRESSION,
                                       BVT_EVENT_IMPRESSION, BVT_EVENT_CLICK, BVT_EVENT_CLICK,
                                       BVT_EVENT_CONVERSION, BVT_EVENT_DISMISS, BVT_EVENT_LIKE,
                                       BVT_EVENT_SHARE, BVT_EVENT_COMMENT };
        ev->type = fb[rnd(&w->rng, 10)];
        ev->offer_id = rnd(&w->rng, 10) ? OFFERS[rnd(&w->rng, 10)] : NULL;
        ev->value = rnd(&w->rng, 3) ? 0 : rnd(&w->rng, 30);
    } else if (r < 90) {
        ev->type = BVT_EVENT_EMAIL_OPEN;
    } else {
        /* a custom type: registered ones resolve, others are BVT_ETYPE */
        uint32_t type;
        if (bvt_event_type_lookup(w->e, TYPE_NAMES[rnd(&w->rng, 4)], &type) == BVT_OK)
            ev->type = type;
        else
            ev->type = BVT_EVENT_LIKE;
    }
}

static void random_offer(worker *w, bvt_offer *o, const char *id, const char **tags,
                         bvt_cap *caps)
{
    bvt_offer_init(o);
    o->id = id;
    size_t nt = rnd(&w->rng, 3);
    for (size_t i = 0; i < nt; i++)
        tags[i] = CATS[rnd(&w->rng, N_CATS)];
    o->tags = tags;
    o->n_tags = nt;
    o->rule = rnd(&w->rng, 3) ? NULL : OFFER_RULES[rnd(&w->rng, 6)];
    o->value = rnd(&w->rng, 20);
    o->response = rnd(&w->rng, 3) ? BVT_EVENT_CLICK : BVT_EVENT_CONVERSION;
    o->cost = rnd(&w->rng, 4) * 0.5;
    o->cost_per = rnd(&w->rng, 2) ? BVT_EVENT_IMPRESSION : BVT_EVENT_CLICK;
    size_t nc = rnd(&w->rng, 3);
    for (size_t i = 0; i < nc; i++) {
        caps[i].max = 1 + rnd(&w->rng, 5);
        caps[i].window_ms = (1 + rnd(&w->rng, 72)) * HOUR;
    }
    o->caps = caps;
    o->n_caps = nc;
    o->group = rnd(&w->rng, 3) ? NULL : GROUPS[rnd(&w->rng, 2)];
    o->cooloff_ms = rnd(&w->rng, 3) ? 0 : (1 + rnd(&w->rng, 48)) * HOUR;
    if (rnd(&w->rng, 5) == 0) {
        o->start_ms = T0 + rnd(&w->rng, 30) * DAY;
        o->end_ms = o->start_ms + (1 + rnd(&w->rng, 60)) * DAY;
    }
    o->priority = (int32_t)rnd(&w->rng, 3) - 1;
    o->budget_impressions = rnd(&w->rng, 4) ? 0 : 5 + rnd(&w->rng, 100);
    o->personalised = rnd(&w->rng, 4) == 0;
}

static void random_policy_struct(worker *w, bvt_policy *p)
{
    bvt_policy_init(p);
    p->kind = 1 + rnd(&w->rng, 5);
    p->epsilon = rnd(&w->rng, 5) * 0.125;
    p->temperature = rnd(&w->rng, 2) ? 0 : 0.25;
    p->floor = rnd(&w->rng, 3) ? 0 : 0.125;
    p->prior_rate = rnd(&w->rng, 2) ? 0 : 0.0625;
    p->prior_strength = rnd(&w->rng, 2) ? 0 : 8;
    p->affinity_boost = rnd(&w->rng, 2) ? 0 : 2;
    p->propensity_draws = rnd(&w->rng, 3) ? 0 : 4;
}

/* Statuses no call of the workload may return: damage, exhaustion, or the
 * journal failing. */
static int bad_status(int rc)
{
    return rc == BVT_EIO || rc == BVT_ENOMEM || rc == BVT_ECORRUPT || rc == BVT_EVERSION ||
           rc == BVT_ETRUNCATED || rc == BVT_EFORMAT || rc == BVT_ESECRET;
}

#define DESC(...) snprintf(w->desc, sizeof w->desc, __VA_ARGS__)

/* One random call.  Its status, or an internal -1000 when the workload
 * itself cannot go on. */
static int step(worker *w)
{
    bvt_engine *e = w->e;
    uint32_t r = rnd(&w->rng, 1000);
    /* a definer spends half its calls redefining what the others' events
     * read at once: segments, offers, groups, offer segments, experiments */
    if (w->defining || (w->definer && rnd(&w->rng, 2)))
        r = DEFINITIONS_FROM + rnd(&w->rng, DEFINITIONS_TO - DEFINITIONS_FROM);
    int rc = BVT_OK;
    bvt_error err = BVT_ERROR_INIT;
    w->ops++;
    if (r < 380) {
        bvt_event ev;
        const char *u = pick_user(w);
        random_event(w, &ev, u);
        DESC("track %s type %u t %lld cat %s offer %s value %g", u, ev.type,
             (long long)ev.time_ms, ev.category ? ev.category : "-",
             ev.offer_id ? ev.offer_id : "-", ev.value);
        rc = bvt_event_track(e, &ev, &err);
        if (rc == BVT_ETYPE || rc == BVT_EFULL || rc == BVT_ECONSENT)
            rc = BVT_OK;
    } else if (r < 460) {
        bvt_event evs[MAX_BATCH];
        size_t n = 2 + rnd(&w->rng, MAX_BATCH - 1);
        for (size_t i = 0; i < n; i++)
            random_event(w, &evs[i], pick_user(w));
        bvt_batch_error fails[MAX_BATCH];
        size_t failed = 0;
        DESC("batch of %zu from %s", n, (const char *)evs[0].user_id);
        rc = bvt_event_track_batch(e, evs, n, fails, MAX_BATCH, &failed, &err);
        for (size_t i = 0; i < failed && i < MAX_BATCH; i++)
            if (bad_status(fails[i].code))
                rc = fails[i].code;
        if (!bad_status(rc))
            rc = BVT_OK;
    } else if (r < 490) {
        const char *u = pick_user(w);
        double v = 18 + rnd(&w->rng, 60);
        DESC("attr age %s %g", u, v);
        rc = bvt_attr_set_number(e, u, strlen(u), rnd(&w->rng, 2) ? "age" : "score", v);
    } else if (r < 520) {
        const char *u = pick_user(w);
        const char *v = TIERS[rnd(&w->rng, 4)];
        DESC("attr tier %s %s", u, v);
        rc = bvt_attr_set_string(e, u, strlen(u), rnd(&w->rng, 3) ? "tier" : "band", v);
    } else if (r < 535) {
        const char *u = pick_user(w);
        const char *k = (const char *[]){ "age", "score", "tier", "band" }[rnd(&w->rng, 4)];
        DESC("attr unset %s %s", u, k);
        rc = bvt_attr_unset(e, u, strlen(u), k);
    } else if (r < 600) {
        const char *u = pick_user(w);
        /* analytics most often: it decides what tracking keeps */
        static const char *pn[] = { "personalisation", "ads", "analytics", "analytics",
                                    "analytics", "newsletter", "profiling", "p_sms" };
        const char *name = pn[rnd(&w->rng, 8)];
        int granted = rnd(&w->rng, 10) < 8;
        int64_t t = tick(w) - (rnd(&w->rng, 5) == 0 ? (int64_t)rnd(&w->rng, 48) * HOUR : 0);
        uint32_t purpose;
        DESC("consent %s %s %d t %lld", u, name, granted, (long long)t);
        rc = bvt_consent_purpose(e, name, 0, &purpose);
        if (rc == BVT_OK)
            rc = bvt_consent_set(e, u, strlen(u), purpose, granted, t > 0 ? t : 1);
    } else if (r < 630) {
        const char *a = pick_anon(w), *k = pick_known(w);
        DESC("alias %s -> %s", a, k);
        rc = bvt_user_alias(e, a, strlen(a), k, strlen(k), &err);
        if (rc == BVT_EEXIST || rc == BVT_ELIMIT || rc == BVT_EFULL)
            rc = BVT_OK;
    } else if (r < 655) {
        const char *u = rnd(&w->rng, 4) ? pick_user(w) : pick_anon(w);
        DESC("forget %s", u);
        rc = bvt_user_forget(e, u, strlen(u), &err);
    } else if (r < 665) {
        int64_t now = tick(w);
        DESC("expire at %lld (retention %lld)", (long long)now, (long long)w->retention_ms);
        uint64_t removed;
        rc = bvt_engine_expire(e, now, &removed);
        if (w->retention_ms == 0 && rc == BVT_EINVAL)
            rc = BVT_OK;
    } else if (r < 690) {
        const char *u = pick_user(w);
        const char *x = EXPERIMENTS[rnd(&w->rng, 3)];
        int64_t t = tick(w);
        uint32_t xid;
        int32_t v;
        DESC("assign %s to %s t %lld", u, x, (long long)t);
        rc = bvt_experiment_lookup(e, x, &xid);
        if (rc == BVT_OK)
            rc = bvt_experiment_assign(e, xid, u, strlen(u), t, &v);
    } else if (r < 710) {
        const char *u = pick_user(w);
        bvt_rank_request q = BVT_RANK_REQUEST_INIT;
        bvt_rank_result res = BVT_RANK_RESULT_INIT;
        bvt_ranked_offer out[4];
        res.offers = out;
        res.offers_cap = 4;
        q.user_id = u;
        q.user_id_len = strlen(u);
        q.now = tick(w);
        q.k = 1 + rnd(&w->rng, 4);
        q.seed = next(&w->rng);
        q.experiment = EXPERIMENTS[rnd(&w->rng, 3)];
        DESC("rank %s in %s t %lld", u, q.experiment, (long long)q.now);
        rc = bvt_rank(e, &q, &res, &err);
    } else if (r < 730) {
        const char *name = SEGMENTS[rnd(&w->rng, N_SEGMENTS)];
        const char *rule = RULES[rnd(&w->rng, N_RULES)];
        DESC("segment %s = %s", name, rule);
        rc = bvt_segment_define(e, name, rule, NULL, &err);
        if (rc == BVT_ECYCLE || rc == BVT_ERANGE || rc == BVT_ENOTFOUND || rc == BVT_ELIMIT)
            rc = BVT_OK;
    } else if (r < 738) {
        const char *name = SEGMENTS[rnd(&w->rng, N_SEGMENTS)];
        DESC("segment remove %s", name);
        rc = bvt_segment_remove(e, name, &err);
    } else if (r < 758) {
        bvt_offer o;
        const char *tags[4];
        bvt_cap caps[4];
        random_offer(w, &o, OFFERS[rnd(&w->rng, N_DEFINED_OFFERS)], tags, caps);
        DESC("offer %s", o.id);
        rc = bvt_offer_define(e, &o, NULL, &err);
    } else if (r < 764) {
        bvt_offer o[3];
        const char *tags[3][4];
        bvt_cap caps[3][4];
        size_t n = 2 + rnd(&w->rng, 2);
        uint32_t first = rnd(&w->rng, N_DEFINED_OFFERS);
        for (size_t i = 0; i < n; i++)
            random_offer(w, &o[i], OFFERS[(first + i) % N_DEFINED_OFFERS], tags[i], caps[i]);
        DESC("offer batch of %zu from %s", n, o[0].id);
        rc = bvt_offer_define_batch(e, o, n, NULL, NULL, &err);
    } else if (r < 770) {
        const char *id = OFFERS[rnd(&w->rng, N_DEFINED_OFFERS)];
        DESC("offer remove %s", id);
        rc = bvt_offer_remove(e, id, &err);
    } else if (r < 776) {
        bvt_cap caps[2];
        size_t nc = rnd(&w->rng, 3);
        for (size_t i = 0; i < nc; i++) {
            caps[i].max = 1 + rnd(&w->rng, 6);
            caps[i].window_ms = (1 + rnd(&w->rng, 48)) * HOUR;
        }
        const char *g = GROUPS[rnd(&w->rng, 2)];
        DESC("group %s caps %zu", g, nc);
        rc = bvt_offer_group_define(e, g, caps, nc, &err);
    } else if (r < 782) {
        uint32_t segs[3];
        size_t n = 0, want = rnd(&w->rng, 4);
        for (size_t i = 0; i < want; i++) {
            uint32_t id;
            if (bvt_segment_lookup(e, SEGMENTS[rnd(&w->rng, N_SEGMENTS)], &id) != BVT_OK)
                continue;
            int dup = 0;
            for (size_t j = 0; j < n; j++)
                dup |= segs[j] == id;
            if (!dup)
                segs[n++] = id;
        }
        DESC("offer segments, %zu", n);
        rc = bvt_offer_segments_set(e, segs, n, &err);
    } else if (r < 788) {
        bvt_policy p;
        random_policy_struct(w, &p);
        DESC("policy kind %u", p.kind);
        rc = bvt_policy_set(e, &p, &err);
    } else if (r < 796) {
        uint32_t i = rnd(&w->rng, 3);
        bvt_variant v[3];
        bvt_policy pol;
        random_policy_struct(w, &pol);
        const char *offer_sets[3][2];
        for (uint32_t k = 0; k < EXP_VARIANTS[i]; k++) {
            v[k].name = VARIANT_NAMES[k];
            v[k].weight = rnd(&w->rng, 4);
            v[k].policy = k && rnd(&w->rng, 3) == 0 ? &pol : NULL;
            v[k].offers = NULL;
            v[k].n_offers = 0;
            if (k && rnd(&w->rng, 3) == 0) {
                offer_sets[k][0] = OFFERS[rnd(&w->rng, N_DEFINED_OFFERS)];
                offer_sets[k][1] = OFFERS[rnd(&w->rng, N_DEFINED_OFFERS)];
                v[k].offers = offer_sets[k];
                v[k].n_offers = 1 + (offer_sets[k][0] != offer_sets[k][1]);
            }
        }
        bvt_experiment x;
        bvt_experiment_init(&x);
        x.name = EXPERIMENTS[i];
        x.hash = rnd(&w->rng, 3);
        x.salt = rnd(&w->rng, 2) ? NULL : "salt";
        x.variants = v;
        x.n_variants = EXP_VARIANTS[i];
        x.coverage = (4 + rnd(&w->rng, 5)) / 8.0;
        x.holdout = rnd(&w->rng, 3) * 0.125;
        DESC("experiment %s", x.name);
        rc = bvt_experiment_define(e, &x, NULL, &err);
    } else if (r < 802) {
        uint32_t i = rnd(&w->rng, 4), type;
        double weight = rnd(&w->rng, 5) ? TYPE_WEIGHTS[i] : TYPE_WEIGHTS[i] + 1;
        DESC("type %s %g", TYPE_NAMES[i], weight);
        rc = bvt_event_type_register(e, TYPE_NAMES[i], weight, &type, &err);
    } else if (r < 807) {
        uint32_t id;
        const char *p = PURPOSES[rnd(&w->rng, N_PURPOSES)];
        DESC("purpose %s", p);
        rc = bvt_consent_purpose(e, p, 1, &id);
    } else if (r < 815) {
        const char *word = WORDS[rnd(&w->rng, 6)], *cat = pick_cat(w);
        DESC("keyword %s -> %s", word, cat);
        rc = bvt_keyword_map(e, word, cat, &err);
    } else if (r < 820) {
        const char *cat = pick_cat(w);
        uint32_t id;
        DESC("category %s", cat);
        rc = bvt_category_intern(e, cat, &id, &err);
    } else if (r < 830) {
        int64_t now = tick(w);
        DESC("rfm refresh at %lld", (long long)now);
        rc = bvt_rfm_refresh(e, now, NULL);
    } else if (r < 834) {
        bvt_cluster_options co = BVT_CLUSTER_OPTIONS_INIT;
        co.k = 3;
        co.seed = next(&w->rng);
        co.max_iterations = 10;
        int64_t now = tick(w);
        DESC("cluster run at %lld", (long long)now);
        if (!w->kill_mode || w->may_cluster) {
            rc = bvt_cluster_run(e, now, &co, NULL, &err);
            if (rc == BVT_EINVAL) /* fewer users than k */
                rc = BVT_OK;
        }
    } else if (r < 842) {
        DESC("checkpoint");
        if (!w->reference) {
            atomic_fetch_add(&ckpt_begun, 1);
            rc = bvt_engine_checkpoint(e, &err);
            atomic_fetch_add(&ckpt_ended, 1);
        }
    } else if (r < 845) {
        DESC("save %s", w->save_path);
        if (!w->reference) {
            uint64_t begun = atomic_load(&ckpt_begun);
            int quiet = begun == atomic_load(&ckpt_ended);
            rc = bvt_engine_save(e, w->save_path, &err);
            w->save_usable = quiet && rc == BVT_OK;
            w->save_begun = begun;
        }
    } else {
        /* more plain tracking: the bulk of a real load */
        bvt_event ev;
        const char *u = pick_user(w);
        random_event(w, &ev, u);
        ev.type = rnd(&w->rng, 2) ? BVT_EVENT_PAGE_VIEW : BVT_EVENT_PURCHASE;
        ev.value = ev.type == BVT_EVENT_PURCHASE ? 1 + rnd(&w->rng, 100) : 0;
        DESC("track %s type %u t %lld", u, ev.type, (long long)ev.time_ms);
        rc = bvt_event_track(e, &ev, &err);
        if (rc == BVT_EFULL || rc == BVT_ECONSENT)
            rc = BVT_OK;
    }
    /* Refusals a random workload meets are fine; damage is not. */
    if (rc == BVT_ENOTFOUND || rc == BVT_EEXIST || rc == BVT_ELIMIT || rc == BVT_EFULL ||
        rc == BVT_ECONSENT || rc == BVT_ETYPE)
        rc = BVT_OK;
    if (rc != BVT_OK && !w->failed) {
        w->failed = 1;
        snprintf(w->why, sizeof w->why, "thread %d, call %llu (%s): status %d %s", w->thread,
                 (unsigned long long)w->ops, w->desc, rc, err.message);
    }
    return rc;
}

/* The definitions every run starts with, and a few users (so a cluster run
 * has its segments defined before the kill rounds). */
static void setup(bvt_engine *e, uint64_t seed, int *clustered)
{
    uint32_t id;
    for (size_t i = 0; i < N_CATS; i++)
        ck_assert_int_eq(bvt_category_intern(e, CATS[i], &id, NULL), BVT_OK);
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(bvt_consent_purpose(e, PURPOSES[i], 1, &id), BVT_OK);
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(bvt_event_type_register(e, TYPE_NAMES[i], TYPE_WEIGHTS[i], &id, NULL),
                         BVT_OK);
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(bvt_keyword_map(e, WORDS[i], CATS[(i * 3) % N_CATS], NULL), BVT_OK);
    for (size_t i = 0; i < 4; i++) {
        int rc = bvt_segment_define(e, SEGMENTS[i], RULES[i], NULL, NULL);
        ck_assert(rc == BVT_OK || rc == BVT_ERANGE);
    }
    for (size_t i = 0; i < 2; i++) {
        bvt_cap cap = { 2, DAY };
        ck_assert_int_eq(bvt_offer_group_define(e, GROUPS[i], &cap, 1, NULL), BVT_OK);
    }
    worker w;
    memset(&w, 0, sizeof w);
    w.e = e;
    w.rng = seed;
    w.threads = 1;
    w.clock = T0;
    for (size_t i = 0; i < 6; i++) {
        bvt_offer o;
        const char *tags[4];
        bvt_cap caps[4];
        random_offer(&w, &o, OFFERS[i], tags, caps);
        ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_OK);
    }
    for (uint32_t i = 0; i < 3; i++) {
        bvt_variant v[3];
        for (uint32_t k = 0; k < EXP_VARIANTS[i]; k++) {
            bvt_variant vk = { VARIANT_NAMES[k], 1, NULL, NULL, 0 };
            v[k] = vk;
        }
        bvt_experiment x;
        bvt_experiment_init(&x);
        x.name = EXPERIMENTS[i];
        x.variants = v;
        x.n_variants = EXP_VARIANTS[i];
        ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, NULL), BVT_OK);
    }
    uint32_t segs[2];
    size_t n = 0;
    for (size_t i = 0; i < 2; i++)
        if (bvt_segment_lookup(e, SEGMENTS[i], &segs[n]) == BVT_OK)
            n++;
    ck_assert_int_eq(bvt_offer_segments_set(e, segs, n, NULL), BVT_OK);
    /* a few users with analytics consent, and a cluster run over them */
    for (int u = 0; u < 6; u++) {
        const char *id_ = ids[(size_t)u];
        bvt_consent_set(e, id_, strlen(id_), BVT_PURPOSE_ANALYTICS, 1, T0);
        bvt_consent_set(e, id_, strlen(id_), BVT_PURPOSE_PERSONALISATION, 1, T0);
        for (int k = 0; k < 3; k++)
            track_event(e, id_, k ? BVT_EVENT_PAGE_VIEW : BVT_EVENT_PURCHASE, T0 + u * HOUR + k,
                        CATS[(size_t)(u + k) % N_CATS], k ? 0 : 10 * (u + 1));
    }
    bvt_cluster_options co = BVT_CLUSTER_OPTIONS_INIT;
    co.k = 3;
    co.seed = 7;
    *clustered = bvt_cluster_run(e, T0 + DAY, &co, NULL, NULL) == BVT_OK;
}

/* ---------------------------------------------------------------- helpers */

/* How an open gives its options and touches the directory. */
enum open_how { GIVEN, RECORDED, READ_ONLY };

static bvt_engine *open_how(const char *dir, const config *c, uint32_t journal, enum open_how how,
                            int *status, bvt_error *err)
{
    bvt_options o = c->o;
    if (how == RECORDED) {
        /* only the secret counts; the rest, were it used, would be refused
         * (data-shaping), refuse the users (max_users) or read otherwise */
        bvt_options_init(&o);
        o.shards = 2;
        o.max_users = 1;
        o.top_interests = 2;
        o.history_events = 3;
        o.analytics_policy = BVT_ANALYTICS_DROP;
        o.retention_ms = DAY;
        o.segments_need_consent = 1;
    }
    set_test_secret(&o);
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    st.journal = how == READ_ONLY ? BVT_JOURNAL_OFF : journal;
    st.group_commit_ms = 2;
    st.options_from = how == RECORDED ? BVT_OPTIONS_RECORDED : BVT_OPTIONS_GIVEN;
    st.access = how == READ_ONLY ? BVT_STATE_READ_ONLY : BVT_STATE_READ_WRITE;
    bvt_engine *e = NULL;
    bvt_error_init(err);
    *status = bvt_engine_open(&e, &o, &st, err);
    return e;
}

static bvt_engine *open_with(const char *dir, const config *c, uint32_t journal, int *status,
                             bvt_error *err)
{
    return open_how(dir, c, journal, GIVEN, status, err);
}

/* Write both texts beside the report so a failure can be read whole. */
static void keep_texts(const char *a, const char *b, uint64_t seed, const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/bvt-replay-prop-%llu-%s-a.txt", (unsigned long long)seed,
             what);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(a, f);
        fclose(f);
    }
    snprintf(path, sizeof path, "/tmp/bvt-replay-prop-%llu-%s-b.txt", (unsigned long long)seed,
             what);
    f = fopen(path, "w");
    if (f) {
        fputs(b, f);
        fclose(f);
    }
}

static void copy_dir(const char *from, const char *to)
{
    ck_assert_int_eq(mkdir(to, 0700), 0);
    DIR *d = opendir(from);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "lock") == 0)
            continue;
        size_t len;
        char src[512], dst[512];
        snprintf(src, sizeof src, "%s/%s", from, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
        unsigned char *p = state_read_file(src, &len);
        state_write_file(dst, p, len);
        free(p);
    }
    closedir(d);
}

/* ---------------------------------------------------------------- close and reopen */

typedef struct counts {
    uint64_t ops, reopens, refusals, loads, restores, kills, in_flight;
} counts;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->phase_ops && !w->failed; i++)
        step(w);
    return NULL;
}

/* Change one data-shaping option to another resolved value; the name the
 * refusal must give. */
static const char *change_shaping(uint64_t *s, bvt_options *o, double *weights)
{
    switch (rnd(s, 10)) {
    case 0: o->top_interests = (o->top_interests ? o->top_interests : 16) == 4 ? 5 : 4;
        return "top_interests";
    case 1: o->interest_half_life_ms = (o->interest_half_life_ms ? o->interest_half_life_ms
                                                                 : 14 * DAY) == DAY ? 2 * DAY : DAY;
        return "interest_half_life_ms";
    case 2: o->ancestor_credit = o->ancestor_credit == 0.75 ? 0.125 : 0.75;
        return "ancestor_credit";
    case 3: o->history_events = o->history_events == 7 ? 9 : 7;
        return "history_events";
    case 4: o->history_day_slots = o->history_day_slots == 11 ? 13 : 11;
        return "history_day_slots";
    case 5: o->history_horizon_ms = o->history_horizon_ms == 90 * DAY ? 91 * DAY : 90 * DAY;
        return "history_horizon_ms";
    case 6: o->session_gap_ms = o->session_gap_ms == 7 * MIN ? 8 * MIN : 7 * MIN;
        return "session_gap_ms";
    case 7: o->cart_items = o->cart_items == 3 ? 5 : 3;
        return "cart_items";
    case 8: o->max_attributes = o->max_attributes == 3 ? 5 : 3;
        return "max_attributes";
    default:
        if (o->type_weights)
            memcpy(weights, o->type_weights, sizeof(double) * BVT_EVENT_BUILTIN_COUNT);
        else
            for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
                weights[t] = bvt_default_type_weight(t);
        weights[BVT_EVENT_PURCHASE] += 1;
        o->type_weights = weights;
        o->type_weights_len = BVT_EVENT_BUILTIN_COUNT;
        return "weight";
    }
}

static int64_t max_clock(const worker *ws, int n)
{
    int64_t m = 0;
    for (int i = 0; i < n; i++)
        if (ws[i].clock > m)
            m = ws[i].clock;
    return m;
}

/* The lines of t that start with none of BVT_PROPTEST_SKIP's prefixes. */
static char *skip_lines(char *t)
{
    const char *skip = getenv("BVT_PROPTEST_SKIP");
    if (!t || !skip || !*skip)
        return t;
    char *out = malloc(strlen(t) + 1), *w = out;
    ck_assert_ptr_nonnull(out);
    for (char *line = t; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        int keep = 1;
        for (const char *p = skip; *p && keep;) {
            const char *comma = strchr(p, ',');
            size_t plen = comma ? (size_t)(comma - p) : strlen(p);
            keep = !(plen && len >= plen && memcmp(line, p, plen) == 0);
            p += plen + (comma != NULL);
        }
        if (keep) {
            memcpy(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = 0;
    free(t);
    return out;
}

/* Across a reopen (or a save) names nothing uses may be gone: a
 * checkpoint leaves them out (docs/privacy.md). */
static char *differ(const char *written, const char *reopened)
{
    return statecmp_diff_flags(written, reopened, STATECMP_NAMES_MAY_GO);
}

/* The state of e as compared here. */
static char *capture(bvt_engine *e, const statecmp_names *nm, int64_t now, unsigned flags)
{
    char *t = skip_lines(statecmp_capture(e, nm, now, flags));
    ck_assert_ptr_nonnull(t);
    return t;
}

static void fail_diff(const char *diff, const char *a, const char *b, uint64_t seed,
                      const char *what, const char *context)
{
    keep_texts(a, b, seed, what);
    ck_abort_msg("replay-prop BVT_PROPTEST_SEED=%llu (%s): %s: the state differs (a: written, "
                 "b: %s; whole texts in /tmp/bvt-replay-prop-%llu-%s-[ab].txt)\n%s",
                 (unsigned long long)seed, context, what, what, (unsigned long long)seed, what,
                 diff);
}

/* What a phase end checks against the state written. */
typedef struct check {
    const char *dir;
    const statecmp_names *nm;
    int64_t now;
    uint64_t seed;
    const char *context;
    counts *cnt;
} check;

/* Open the directory as `how` says with c and compare its state with want
 * (read with `flags`); the engine, or NULL when keep is 0 (then freed). */
static bvt_engine *reopen_same(const check *k, const config *c, enum open_how how,
                               const char *want, unsigned flags, const char *what, int keep)
{
    int status;
    bvt_error err;
    char opts_text[400], context[1200];
    describe(c, opts_text, sizeof opts_text);
    snprintf(context, sizeof context, "%s; opened with %s%s", k->context, opts_text,
             how == RECORDED ? " (BVT_OPTIONS_RECORDED)" : how == READ_ONLY ? " (read-only)" : "");
    bvt_engine *e = open_how(k->dir, c, c->journal, how, &status, &err);
    ck_assert_msg(status == BVT_OK, "replay-prop BVT_PROPTEST_SEED=%llu (%s): %s: open: %d %s",
                  (unsigned long long)k->seed, context, what, status, err.message);
    char *got = capture(e, k->nm, k->now, flags);
    char *diff = differ(want, got);
    if (diff)
        fail_diff(diff, want, got, k->seed, what, context);
    free(got);
    k->cnt->reopens++;
    if (!keep) {
        bvt_engine_free(e);
        e = NULL;
    }
    return e;
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    unsigned char *p = state_read_file(from, &len);
    state_write_file(to, p, len);
    free(p);
}

static void one_case(uint64_t base, uint64_t index, counts *cnt)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t cseed = mix(base * 7919 + index), s = cseed, seed = base;
    config c;
    memset(&c, 0, sizeof c);
    bvt_options init = BVT_OPTIONS_INIT;
    c.o = init;
    random_shaping(&s, &c);
    random_policy(&s, &c);
    c.journal = 1 + rnd(&s, 3);
    int threads = 2 + (int)rnd(&s, MAX_THREADS - 1);
    uint64_t forced = env_u64("BVT_PROPTEST_THREADS", 0);
    if (forced >= 1 && forced <= MAX_THREADS)
        threads = (int)forced;
    make_ids(threads);
    statecmp_names nm = names();
    char dir[64], context[512], opts_text[400];
    state_dir_make(dir);
    int status;
    bvt_error err;
    bvt_engine *e = open_with(dir, &c, c.journal, &status, &err);
    ck_assert_msg(status == BVT_OK, "BVT_PROPTEST_SEED=%llu: open: %d %s",
                  (unsigned long long)seed, status, err.message);
    int clustered;
    setup(e, mix(cseed ^ 0x5e7u), &clustered);
    worker ws[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        memset(&ws[t], 0, sizeof ws[t]);
        ws[t].rng = mix(cseed + 1000 + (uint64_t)t);
        ws[t].thread = t;
        ws[t].threads = threads;
        ws[t].clock = T0 + DAY;
        snprintf(ws[t].save_path, sizeof ws[t].save_path, "%s.save%d", dir, t);
    }
    ws[0].definer = rnd(&s, 2);
    atomic_store(&ckpt_begun, 0);
    atomic_store(&ckpt_ended, 0);
    char saved[96], snapshot[96];
    snprintf(saved, sizeof saved, "%s.saved", dir);
    snprintf(snapshot, sizeof snapshot, "%s/snapshot.bvts", dir);
    for (int phase = 0; phase < PHASES; phase++) {
        describe(&c, opts_text, sizeof opts_text);
        snprintf(context, sizeof context, "BVT_PROPTEST_CASE=%llu; written with %s; %d threads; "
                 "phase %d", (unsigned long long)index, opts_text, threads, phase);
        pthread_t th[MAX_THREADS];
        ws[0].e = e;
        ws[0].defining = 1; /* the definitions of this phase, before its threads */
        for (int i = 0; i < OPS_PER_PHASE / 20 && !ws[0].failed; i++)
            step(&ws[0]);
        ws[0].defining = 0;
        for (int t = 0; t < threads; t++) {
            ws[t].e = e;
            ws[t].retention_ms = c.o.retention_ms;
            /* an fsync per call: fewer of them (kill_prefix runs many) */
            ws[t].phase_ops = c.journal == BVT_JOURNAL_ALWAYS ? OPS_PER_PHASE / 3 : OPS_PER_PHASE;
            ck_assert_int_eq(pthread_create(&th[t], NULL, worker_main, &ws[t]), 0);
        }
        for (int t = 0; t < threads; t++)
            pthread_join(th[t], NULL);
        for (int t = 0; t < threads; t++) {
            cnt->ops += ws[t].ops;
            ws[t].ops = 0;
            ck_assert_msg(!ws[t].failed, "replay-prop BVT_PROPTEST_SEED=%llu (%s): %s",
                          (unsigned long long)seed, context, ws[t].why);
        }
        check k = { dir, &nm, max_clock(ws, threads) + HOUR, seed, context, cnt };
        /* the writer's answers to calls whose effect no read shows; a
         * read-only reopen must answer them alike */
        char *probed = statecmp_probe(e, &nm, k.now);
        ck_assert_ptr_nonnull(probed);
        /* a save at the end of the phase; one over the directory's own
         * snapshot is refused (a checkpoint writes that) */
        int do_save = rnd(&s, 2) == 0;
        if (do_save)
            ck_assert_int_eq(bvt_engine_save(e, saved, NULL), BVT_OK);
        if (rnd(&s, 4) == 0)
            ck_assert_int_eq(bvt_engine_save(e, snapshot, NULL), BVT_EINVAL);
        char *written = capture(e, &nm, k.now, 0);
        uint64_t users = stats_of(e).users;
        bvt_engine_free(e);

        /* another data-shaping option: refused, naming it */
        if (rnd(&s, 2) == 0) {
            config bad = c;
            const char *name = change_shaping(&s, &bad.o, bad.weights);
            bvt_engine *x = open_with(dir, &bad, BVT_JOURNAL_OFF, &status, &err);
            ck_assert_msg(status == BVT_EINVAL && !x && strstr(err.message, name),
                          "replay-prop BVT_PROPTEST_SEED=%llu (%s): reopening with another %s "
                          "gave %d (%s)", (unsigned long long)seed, context, name, status,
                          err.message);
            bvt_engine_free(x);
            cnt->refusals++;
        }
        bvt_engine *ro = reopen_same(&k, &c, READ_ONLY, written, 0, "read-only", 1);
        char *got = statecmp_probe(ro, &nm, k.now);
        ck_assert_ptr_nonnull(got);
        char *diff = differ(probed, got);
        if (diff)
            fail_diff(diff, probed, got, seed, "probed", context);
        free(got);
        free(probed);
        bvt_engine_free(ro);
        if (rnd(&s, 3) == 0)
            reopen_same(&k, &c, RECORDED, written, 0, "recorded", 0);
        e = reopen_same(&k, &c, GIVEN, written, 0, "reopened", 1);

        /* a snapshot saved after the phase loads as that state */
        if (do_save) {
            bvt_options o = c.o;
            set_test_secret(&o);
            bvt_engine *l = NULL;
            bvt_error_init(&err);
            status = bvt_engine_load(&l, &o, saved, &err);
            ck_assert_msg(status == BVT_OK, "replay-prop BVT_PROPTEST_SEED=%llu (%s): load: %d "
                          "%s", (unsigned long long)seed, context, status, err.message);
            got = capture(l, &nm, k.now, 0);
            diff = differ(written, got);
            if (diff)
                fail_diff(diff, written, got, seed, "loaded", context);
            free(got);
            bvt_engine_free(l);
            cnt->loads++;
        }
        /* a save put back as the directory's snapshot: the journal after
         * its position replays on it, nothing twice */
        const char *restore = do_save ? saved : NULL;
        for (int t = 0; t < threads && !restore; t++)
            if (ws[t].save_usable && ws[t].save_begun == atomic_load(&ckpt_begun))
                restore = ws[t].save_path;
        if (restore && rnd(&s, 2) == 0) {
            bvt_engine_free(e);
            copy_file(restore, snapshot);
            e = reopen_same(&k, &c, GIVEN, written, 0, "restored", 1);
            cnt->restores++;
            for (int t = 0; t < threads; t++) /* older than the snapshot now */
                ws[t].save_usable = 0;
        }
        unlink(saved);

        /* other policy options: the same state; they apply from now on */
        if (rnd(&s, 3) && !same_policy()) {
            config next_c = c;
            random_policy(&s, &next_c);
            next_c.journal = 1 + rnd(&s, 3);
            unsigned flags = 0;
            char *want = written;
            if (next_c.o.segments_need_consent != c.o.segments_need_consent) {
                flags = STATECMP_NO_MEMBERSHIP;
                want = capture(e, &nm, k.now, flags);
            }
            bvt_engine_free(e);
            if (next_c.o.max_users && next_c.o.max_users < users) {
                /* fewer than are held: refused, naming the limit */
                bvt_engine *x = open_with(dir, &next_c, BVT_JOURNAL_OFF, &status, &err);
                ck_assert_msg(status == BVT_EFULL && !x && strstr(err.message, "max_users"),
                              "replay-prop BVT_PROPTEST_SEED=%llu (%s): reopening %llu users "
                              "with max_users %llu gave %d (%s)", (unsigned long long)seed,
                              context, (unsigned long long)users,
                              (unsigned long long)next_c.o.max_users, status, err.message);
                bvt_engine_free(x);
                cnt->refusals++;
                next_c.o.max_users = users + rnd(&s, 40);
            }
            c = next_c;
            e = reopen_same(&k, &c, GIVEN, want, flags, "policy", 1);
            if (want != written)
                free(want);
        }
        free(written);
    }
    bvt_engine_free(e);
    for (int t = 0; t < threads; t++)
        unlink(ws[t].save_path);
    state_dir_remove(dir);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (verbose())
        printf("case %llu: %d threads, %.1f s, finally %s\n", (unsigned long long)index, threads,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               opts_text);
}

START_TEST(threads_close_reopen)
{
    uint64_t seed = base_seed();
    counts cnt = { 0, 0, 0, 0, 0, 0, 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t cases = CASES * scale(), only = env_u64("BVT_PROPTEST_CASE", UINT64_MAX);
    for (uint64_t i = 0; i < cases; i++)
        if (only == UINT64_MAX || only == i)
            one_case(seed, i, &cnt);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("replay-prop threads_close_reopen: seed %llu, %llu cases: %llu operations, %llu "
           "reopen checks (%llu from a save put back), %llu snapshot loads, %llu refusals, "
           "%.1f s\n", (unsigned long long)seed, (unsigned long long)cases,
           (unsigned long long)cnt.ops, (unsigned long long)cnt.reopens,
           (unsigned long long)cnt.restores, (unsigned long long)cnt.loads,
           (unsigned long long)cnt.refusals,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
END_TEST

/* ---------------------------------------------------------------- SIGKILL */

#define READY UINT64_MAX

static void child_run(const char *dir, const config *c, enum open_how how, uint64_t seed,
                      int64_t clock, int fd, int may_cluster)
{
    int status;
    bvt_error err;
    bvt_engine *e = open_how(dir, c, BVT_JOURNAL_ALWAYS, how, &status, &err);
    if (status != BVT_OK) {
        fprintf(stderr, "replay-prop child: open: %d %s\n", status, err.message);
        _exit(2);
    }
    uint64_t msg = READY;
    if (write(fd, &msg, sizeof msg) != (ssize_t)sizeof msg)
        _exit(3);
    worker w;
    memset(&w, 0, sizeof w);
    w.e = e;
    w.rng = seed;
    w.threads = 1;
    w.clock = clock;
    w.kill_mode = 1;
    w.may_cluster = may_cluster;
    snprintf(w.save_path, sizeof w.save_path, "%s.save", dir);
    w.retention_ms = c->o.retention_ms;
    for (uint64_t k = 0; k < KILL_MAX_OPS; k++) {
        if (step(&w) != BVT_OK) {
            fprintf(stderr, "replay-prop child: %s\n", w.why);
            _exit(4);
        }
        msg = k + 1;
        if (write(fd, &msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(3);
    }
    for (;;)
        pause();
}

/* Open the copy of a round's directory and repeat its first n calls. */
static bvt_engine *repeat(const char *ref, const config *c, enum open_how how, uint64_t seed,
                          int64_t clock, int clustered, uint64_t n, worker *w)
{
    int status;
    bvt_error err;
    bvt_engine *r = open_how(ref, c, BVT_JOURNAL_OFF, how, &status, &err);
    ck_assert_msg(status == BVT_OK, "replay-prop: opening the copy: %d %s", status, err.message);
    memset(w, 0, sizeof *w);
    w->e = r;
    w->rng = seed;
    w->threads = 1;
    w->clock = clock;
    w->kill_mode = 1;
    w->reference = 1;
    w->may_cluster = clustered;
    w->retention_ms = c->o.retention_ms;
    for (uint64_t k = 0; k < n; k++)
        ck_assert_msg(step(w) == BVT_OK, "replay-prop: repeating call %llu: %s",
                      (unsigned long long)k, w->why);
    return r;
}

START_TEST(kill_prefix)
{
    uint64_t seed = base_seed(), s = mix(seed ^ 0xc0ffee);
    counts cnt = { 0, 0, 0, 0, 0, 0, 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    config c;
    memset(&c, 0, sizeof c);
    bvt_options init = BVT_OPTIONS_INIT;
    c.o = init;
    random_shaping(&s, &c);
    random_policy(&s, &c);
    make_ids(1);
    statecmp_names nm = names();
    char dir[64], ref[96], opts_text[400];
    state_dir_make(dir);
    snprintf(ref, sizeof ref, "%s.ref", dir);
    int status, clustered;
    bvt_error err;
    bvt_engine *e = open_with(dir, &c, BVT_JOURNAL_ALWAYS, &status, &err);
    ck_assert_msg(status == BVT_OK, "open: %d %s", status, err.message);
    setup(e, mix(seed ^ 0x5e7u), &clustered);
    uint64_t users = stats_of(e).users;
    bvt_engine_free(e);
    signal(SIGPIPE, SIG_IGN);
    uint64_t rounds = KILL_ROUNDS * scale(), torn = 0;
    for (uint64_t round = 0; round < rounds; round++) {
        /* new policy options, or the recorded ones (which are c's) */
        enum open_how how = rnd(&s, 4) == 0 ? RECORDED : GIVEN;
        if (how == GIVEN && !same_policy()) {
            random_policy(&s, &c);
            if (c.o.max_users && c.o.max_users < users) /* refused: test_close_reopen's */
                c.o.max_users = users + rnd(&s, 40);
        }
        describe(&c, opts_text, sizeof opts_text);
        if (how == RECORDED)
            strcat(opts_text, " (recorded)");
        uint64_t round_seed = mix(seed * 31 + round);
        int64_t clock = T0 + DAY + (int64_t)round * 2 * DAY;
        int64_t now = clock + 60 * DAY;
        copy_dir(dir, ref);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(dir, &c, how, round_seed, clock, fds[1], clustered);
        }
        close(fds[1]);
        uint64_t msg = 0, acked = 0;
        ssize_t got = read(fds[0], &msg, sizeof msg);
        if (got != (ssize_t)sizeof msg || msg != READY) {
            int st;
            waitpid(pid, &st, 0);
            ck_abort_msg("replay-prop BVT_PROPTEST_SEED=%llu, round %llu (%s): the child could "
                         "not open the directory (exit %d; its message is above)",
                         (unsigned long long)seed, (unsigned long long)round, opts_text,
                         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
        uint32_t delay = rnd(&s, 5) == 0 ? 0 : rnd(&s, 150000);
        struct timespec ts = { 0, (long)delay * 1000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        ck_assert_msg(WIFSIGNALED(st), "replay-prop BVT_PROPTEST_SEED=%llu, round %llu (%s): "
                      "the child stopped by itself (exit %d; its message is above)",
                      (unsigned long long)seed, (unsigned long long)round, opts_text,
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        while (read(fds[0], &msg, sizeof msg) == (ssize_t)sizeof msg)
            acked = msg;
        close(fds[0]);
        cnt.kills++;

        /* what survived: read-only first (it cuts nothing), then as a writer */
        e = open_how(dir, &c, BVT_JOURNAL_OFF, READ_ONLY, &status, &err);
        ck_assert_msg(status == BVT_OK, "replay-prop BVT_PROPTEST_SEED=%llu, round %llu (%s): "
                      "read-only open after the kill: %d %s", (unsigned long long)seed,
                      (unsigned long long)round, opts_text, status, err.message);
        char *read_only = capture(e, &nm, now, 0);
        char *probed = statecmp_probe(e, &nm, now); /* memory only: read-only */
        ck_assert_ptr_nonnull(probed);
        bvt_engine_free(e);
        e = open_how(dir, &c, BVT_JOURNAL_OFF, how, &status, &err);
        ck_assert_msg(status == BVT_OK, "replay-prop BVT_PROPTEST_SEED=%llu, round %llu (%s): "
                      "reopening after the kill: %d %s", (unsigned long long)seed,
                      (unsigned long long)round, opts_text, status, err.message);
        bvt_state_info info = BVT_STATE_INFO_INIT;
        bvt_state_info_get(e, &info);
        torn += info.torn_offset >= 0;
        char *recovered = capture(e, &nm, now, 0);
        users = stats_of(e).users;
        bvt_engine_free(e);
        char *diff = differ(read_only, recovered);
        if (diff)
            fail_diff(diff, read_only, recovered, seed, "read-only", opts_text);
        free(read_only);
        cnt.reopens++;

        /* the same calls on the copy: the state after A or A + 1 of them */
        worker w;
        bvt_engine *r = repeat(ref, &c, how, round_seed, clock, clustered, acked, &w);
        char *want = capture(r, &nm, now, 0);
        char last[320];
        snprintf(last, sizeof last, "%s", acked ? w.desc : "(none)");
        step(&w); /* the call in flight */
        char *want1 = capture(r, &nm, now, 0);
        char *diff0 = differ(want, recovered), *diff1 = differ(want1, recovered);
        char context[1600];
        snprintf(context, sizeof context, "round %llu, options %s; %llu calls acknowledged, the "
                 "last %s; the call in flight %s%s%s", (unsigned long long)round, opts_text,
                 (unsigned long long)acked, last, w.desc,
                 diff0 ? "; against the state after the acknowledged calls: " : "",
                 diff0 ? diff0 : "");
        if (diff0 && diff1)
            fail_diff(diff1, want1, recovered, seed, "killed", context);
        /* Both may match when the call in flight changed nothing a read
         * shows (a keyword, say): the probe then tells them apart. */
        char *probed_ref = NULL;
        if (!diff1) {
            probed_ref = statecmp_probe(r, &nm, now);
            diff = differ(probed, probed_ref);
            if (!diff)
                cnt.in_flight++;
        }
        if ((diff1 || diff) && !diff0) {
            free(probed_ref);
            bvt_engine_free(r);
            r = repeat(ref, &c, how, round_seed, clock, clustered, acked, &w);
            probed_ref = statecmp_probe(r, &nm, now);
            diff = differ(probed, probed_ref);
        }
        if (diff)
            fail_diff(diff, probed, probed_ref, seed, "probed", context);
        free(probed_ref);
        free(probed);
        free(want);
        free(want1);
        free(diff0);
        free(diff1);
        free(recovered);
        cnt.ops += acked;
        cnt.reopens++;
        if (verbose())
            printf("round %llu: %llu acknowledged after %u us, torn %lld, options %s\n",
                   (unsigned long long)round, (unsigned long long)acked, delay,
                   (long long)info.torn_offset, opts_text);
        bvt_engine_free(r);
        state_dir_remove(ref);
    }
    state_dir_remove(dir);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("replay-prop kill_prefix: seed %llu: %llu kills, %llu operations acknowledged, %llu "
           "reopen checks, %llu with the call in flight kept, %llu torn tails, %.1f s\n",
           (unsigned long long)seed, (unsigned long long)cnt.kills, (unsigned long long)cnt.ops,
           (unsigned long long)cnt.reopens, (unsigned long long)cnt.in_flight,
           (unsigned long long)torn,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
END_TEST

/* ---------------------------------------------------------------- definitions racing events */

/* The race threads_close_reopen rarely meets, made likely: one thread
 * redefines an offer (its cost, value, response), a segment the offers
 * report by and the offer segments, as fast as it can, while two track
 * feedback naming the offer.  Each event must replay with the definitions
 * it was applied with: its record and theirs must be in the journal in the
 * order the engine used them. */
typedef struct racer {
    bvt_engine *e;
    int index;
    _Atomic int *stop;
} racer;

static void *race_definer(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 10000; i++) {
        bvt_offer o = BVT_OFFER_INIT;
        o.id = "x";
        o.cost = 1 + (i & 1);
        o.value = 1 + i % 3;
        o.response = i % 4 ? BVT_EVENT_CLICK : BVT_EVENT_CONVERSION;
        if (bvt_offer_define(r->e, &o, NULL, NULL) != BVT_OK)
            break;
        if (i % 50 == 0) {
            uint32_t seg;
            bvt_segment_define(r->e, "clickers", i % 100 ? "clicks > 1" : "impressions > 2",
                               &seg, NULL);
            bvt_offer_segments_set(r->e, &seg, (size_t)(i / 50 % 2), NULL);
        }
    }
    atomic_store(r->stop, 1);
    return NULL;
}

static void *race_tracker(void *arg)
{
    racer *r = arg;
    static const uint32_t types[] = { BVT_EVENT_IMPRESSION, BVT_EVENT_IMPRESSION,
                                      BVT_EVENT_CLICK, BVT_EVENT_CONVERSION };
    char user[32];
    for (int i = 0; !atomic_load(r->stop) && i < 200000; i++) {
        snprintf(user, sizeof user, "r%d-%d", r->index, i % 40);
        bvt_event ev = make_event(user, types[i % 4], T0 + i, NULL, 0);
        ev.offer_id = "x";
        if (bvt_event_track(r->e, &ev, NULL) != BVT_OK)
            break;
    }
    return NULL;
}

/* A config of default options but shards (the focused tests). */
static void plain_config(config *c, uint32_t shards)
{
    memset(c, 0, sizeof *c);
    bvt_options init = BVT_OPTIONS_INIT;
    c->o = init;
    c->o.shards = shards;
}

START_TEST(definitions_race_feedback)
{
    char dir[64];
    state_dir_make(dir);
    config c;
    plain_config(&c, 4);
    int status;
    bvt_error err;
    bvt_engine *e = open_with(dir, &c, BVT_JOURNAL_NONE, &status, &err);
    ck_assert_int_eq(status, BVT_OK);
    bvt_offer o = BVT_OFFER_INIT;
    o.id = "x";
    ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_OK);
    _Atomic int stop = 0;
    racer rs[3] = { { e, 0, &stop }, { e, 1, &stop }, { e, 2, &stop } };
    pthread_t th[3];
    ck_assert_int_eq(pthread_create(&th[0], NULL, race_definer, &rs[0]), 0);
    ck_assert_int_eq(pthread_create(&th[1], NULL, race_tracker, &rs[1]), 0);
    ck_assert_int_eq(pthread_create(&th[2], NULL, race_tracker, &rs[2]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    static char id_store2[80][16];
    static const char *race_ids[80];
    for (int t = 0; t < 2; t++)
        for (int u = 0; u < 40; u++) {
            snprintf(id_store2[t * 40 + u], 16, "r%d-%d", t + 1, u);
            race_ids[t * 40 + u] = id_store2[t * 40 + u];
        }
    static const char *segs[] = { "clickers" };
    static const char *offers[] = { "x" };
    statecmp_names nm = { race_ids, 80, NULL, 0, segs, 1, offers, 1, NULL, 0, NULL, 0 };
    int64_t now = T0 + DAY;
    char *written = capture(e, &nm, now, 0);
    bvt_engine_free(e);
    e = open_with(dir, &c, BVT_JOURNAL_OFF, &status, &err);
    ck_assert_int_eq(status, BVT_OK);
    char *got = capture(e, &nm, now, 0);
    char *diff = differ(written, got);
    if (diff) {
        keep_texts(written, got, 0, "race");
        ck_abort_msg("definitions racing feedback: the reopened state differs (a: written, b: "
                     "reopened; whole texts in /tmp/bvt-replay-prop-0-race-[ab].txt)\n%s", diff);
    }
    free(written);
    free(got);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

/* Found by kill_prefix (seeds 7, 9, 11 before the fix): a refused event's
 * count was journaled but not made durable before the call returned, so
 * under BVT_JOURNAL_ALWAYS a SIGKILL right after the call lost it. */
START_TEST(refused_count_is_durable_when_the_call_returns)
{
    char dir[64];
    state_dir_make(dir);
    config c;
    plain_config(&c, 0);
    c.o.analytics_policy = BVT_ANALYTICS_DROP;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int status;
        bvt_error err;
        bvt_engine *e = open_with(dir, &c, BVT_JOURNAL_ALWAYS, &status, &err);
        if (status != BVT_OK || track_event(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0) !=
                                    BVT_ECONSENT)
            _exit(1);
        raise(SIGKILL);
    }
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st));
    int status;
    bvt_error err;
    bvt_engine *e = open_with(dir, &c, BVT_JOURNAL_OFF, &status, &err);
    ck_assert_int_eq(status, BVT_OK);
    ck_assert_uint_eq(stats_of(e).events_rejected, 1);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

/* Open a fresh directory of one shard with memory_budget, run `work` on
 * it, and check that reopening gives the state written (for users ids). */
static void budget_case(uint64_t memory_budget, void (*work)(bvt_engine *e),
                        const char *const *ids, size_t n_ids, const char *what)
{
    char dir[64];
    state_dir_make(dir);
    config c;
    plain_config(&c, 1);
    c.o.memory_budget = memory_budget;
    int status;
    bvt_error err;
    bvt_engine *e = open_with(dir, &c, BVT_JOURNAL_NONE, &status, &err);
    ck_assert_int_eq(status, BVT_OK);
    work(e);
    statecmp_names nm = { ids, n_ids, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0 };
    char *written = capture(e, &nm, T0 + 30 * DAY, 0);
    bvt_engine_free(e);
    e = open_with(dir, &c, BVT_JOURNAL_OFF, &status, &err);
    ck_assert_int_eq(status, BVT_OK);
    char *got = capture(e, &nm, T0 + 30 * DAY, 0);
    char *diff = differ(written, got);
    ck_assert_msg(!diff, "%s does not replay:\n%s", what, diff ? diff : "");
    free(written);
    free(got);
    bvt_engine_free(e);
    state_dir_remove(dir);
}

/* At the memory budget the history folds exact events into day aggregates
 * (and a full cart drops its oldest item); replay lifts the budget, so the
 * journal must carry what the budget decided (before the fix the reopened
 * history held 1,120 bytes where the budget had allowed 608). */
static void page_views(bvt_engine *e)
{
    for (int i = 0; i < 60; i++)
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0 + (int64_t)i * DAY / 3, NULL, 0);
}

START_TEST(budget_shaping_replays)
{
    static const char *const ids[] = { "u" };
    budget_case(9000, page_views, ids, 1, "the budget's shaping");
}
END_TEST

/* Aliasing at the memory budget: the merge is shaped by the budget (what
 * finds no room is left out) but never refused half way — before the fix
 * the alias stayed in the map, unjournaled, when the known profile could
 * not take the anonymous one's history (bvt_user_alias returned
 * BVT_EFULL), and was gone after a reopen. */
static void alias_without_room(bvt_engine *e)
{
    for (int i = 0; i < 40; i++) {
        track_ok(e, "anon", BVT_EVENT_PAGE_VIEW, T0 + (int64_t)i * DAY / 2, NULL, 0);
        track_ok(e, "known", BVT_EVENT_SEARCH, T0 + (int64_t)i * DAY / 2 + 1, NULL, 0);
    }
    ck_assert_int_eq(bvt_user_alias(e, "anon", 4, "known", 5, NULL), BVT_OK);
}

START_TEST(alias_at_the_budget_replays)
{
    static const char *const ids[] = { "anon", "known" };
    budget_case(9000, alias_without_room, ids, 2, "an alias at the budget");
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("replay-prop");
    TCase *t = tcase_create("replay-prop");
    tcase_set_timeout(t, 1200);
    tcase_add_test(t, threads_close_reopen);
    tcase_add_test(t, kill_prefix);
    tcase_add_test(t, definitions_race_feedback);
    tcase_add_test(t, refused_count_is_durable_when_the_call_returns);
    tcase_add_test(t, budget_shaping_replays);
    tcase_add_test(t, alias_at_the_budget_replays);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return run_suite(suite()); }
