/* test-privacy.c — issue 5's privacy part: the analytics policy (track,
 * drop, anonymous aggregates), segments that need consent, options of
 * version 1 and 2, export (checked against what the API reports),
 * forget (white-box: no record and no alias entry holds the keys), the
 * alias map's deletion, retention at its exact boundaries, the memory
 * budget under a mixed workload, and forget/expire racing tracking. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "privacy-test-secret-0123456789"
#include "testutil.h"
#include "offertest.h"

#include "alias.h"
#include "engine.h"

/* ------------------------------------------------------------ helpers */

static bvt_engine *engine_opts(uint32_t policy, int64_t retention, uint32_t seg_consent)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.analytics_policy = policy;
    o.retention_ms = retention;
    o.segments_need_consent = seg_consent;
    return engine_with(&o);
}

static void consent(bvt_engine *e, const char *user, uint32_t purpose, int granted, int64_t t)
{
    ck_assert_int_eq(bvt_consent_set(e, user, strlen(user), purpose, granted, t), BVT_OK);
}

static int exists(bvt_engine *e, const char *user)
{
    return bvt_user_exists(e, user, strlen(user));
}

static bvt_user_key key_of(bvt_engine *e, const char *user)
{
    bvt_user_key k;
    ck_assert_int_eq(bvt_user_key_of(e, user, strlen(user), &k), BVT_OK);
    return k;
}

/* White-box: how many places in the engine hold key k (records in every
 * shard, alias entries on either side). */
static int key_held(bvt_engine *e, bvt_user_key k)
{
    int n = 0;
    for (uint32_t s = 0; s < e->store.n_shards; s++) {
        bvt_shard *sh = &e->store.shards[s];
        pthread_mutex_lock(&sh->lock);
        for (uint32_t i = 0; i < sh->high_water; i++) {
            const bvt_record *r = bvt__shard_record(sh, i);
            n += r->key_hi == k.hi && r->key_lo == k.lo;
        }
        pthread_mutex_unlock(&sh->lock);
    }
    bvt_aliases *a = &e->aliases;
    pthread_mutex_lock(&a->lock);
    for (uint32_t i = 0; a->from && i <= a->mask; i++) {
        n += a->from[i].hi == k.hi && a->from[i].lo == k.lo;
        n += a->to[i].hi == k.hi && a->to[i].lo == k.lo;
    }
    pthread_mutex_unlock(&a->lock);
    return n;
}

static uint32_t nsegments(bvt_engine *e, const char *user, int64_t now)
{
    uint32_t ids[64];
    size_t n = 99;
    ck_assert_int_eq(bvt_segments_of(e, user, strlen(user), now, NULL, ids, 64, &n), BVT_OK);
    return (uint32_t)n;
}

/* ------------------------------------------------- a small JSON reader */

/* Flattened: every scalar with its path ("profile.events", "cart[0].value"). */
#define JMAX 4096
typedef struct jentry {
    char path[192];
    char val[272];
    char kind; /* 's' string, 'n' number, 'b' true/false, 'z' null */
} jentry;

static jentry J[JMAX];
static int NJ;
static const char *jp;

static void jws(void)
{
    while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r')
        jp++;
}

static int jstring(char *out, size_t cap)
{
    if (*jp++ != '"')
        return 0;
    size_t n = 0;
    while (*jp != '"') {
        char c = *jp++;
        if ((unsigned char)c < 0x20 || c == 0)
            return 0; /* raw control characters are not JSON */
        if (c == '\\') {
            c = *jp++;
            if (c == 'u') {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *jp++;
                    v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                }
                c = (char)v;
            } else if (c == 'n') {
                c = '\n';
            } else if (c != '"' && c != '\\' && c != '/') {
                return 0;
            }
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    jp++;
    out[n] = 0;
    return 1;
}

static int jvalue(const char *path);

static void jadd(const char *path, const char *val, size_t len, char kind)
{
    ck_assert_int_lt(NJ, JMAX);
    snprintf(J[NJ].path, sizeof J[NJ].path, "%s", path);
    snprintf(J[NJ].val, sizeof J[NJ].val, "%.*s", (int)len, val);
    J[NJ++].kind = kind;
}

static int jvalue(const char *path)
{
    char sub[192], key[96];
    jws();
    if (*jp == '{') {
        jp++;
        jws();
        if (*jp == '}') {
            jp++;
            return 1;
        }
        for (;;) {
            jws();
            if (!jstring(key, sizeof key))
                return 0;
            jws();
            if (*jp++ != ':')
                return 0;
            snprintf(sub, sizeof sub, "%.90s%s%.90s", path, *path ? "." : "", key);
            if (!jvalue(sub))
                return 0;
            jws();
            if (*jp == ',') {
                jp++;
                continue;
            }
            return *jp++ == '}';
        }
    }
    if (*jp == '[') {
        jp++;
        jws();
        if (*jp == ']') {
            jp++;
            return 1;
        }
        for (int i = 0;; i++) {
            snprintf(sub, sizeof sub, "%.90s[%d]", path, i);
            if (!jvalue(sub))
                return 0;
            jws();
            if (*jp == ',') {
                jp++;
                continue;
            }
            return *jp++ == ']';
        }
    }
    if (*jp == '"') {
        char s[272];
        if (!jstring(s, sizeof s))
            return 0;
        jadd(path, s, strlen(s), 's');
        return 1;
    }
    const char *start = jp;
    if (strncmp(jp, "true", 4) == 0 || strncmp(jp, "null", 4) == 0)
        jp += 4;
    else if (strncmp(jp, "false", 5) == 0)
        jp += 5;
    else {
        char *end;
        strtod(jp, &end);
        if (end == jp)
            return 0;
        jp = end;
    }
    jadd(path, start, (size_t)(jp - start), *start == 'n' ? 'z' : (*start == 't' || *start == 'f') ? 'b' : 'n');
    return 1;
}

/* Parse text into J; fails the test unless it is one valid JSON object. */
static void jparse(const char *text)
{
    NJ = 0;
    jp = text;
    ck_assert_msg(*jp == '{' && jvalue(""), "not JSON near: %.60s", jp);
    jws();
    ck_assert_msg(*jp == 0, "trailing bytes: %.40s", jp);
}

static const jentry *jfind(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const jentry *jfind(const char *fmt, ...)
{
    char path[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    for (int i = 0; i < NJ; i++)
        if (strcmp(J[i].path, path) == 0)
            return &J[i];
    return NULL;
}

#define JNUM(...) jnum_of(jfind(__VA_ARGS__), #__VA_ARGS__)
#define JSTR(...) jstr_of(jfind(__VA_ARGS__), #__VA_ARGS__)

static double jnum_of(const jentry *j, const char *what)
{
    ck_assert_msg(j && j->kind == 'n', "no number at %s", what);
    return strtod(j->val, NULL);
}

static const char *jstr_of(const jentry *j, const char *what)
{
    ck_assert_msg(j && j->kind == 's', "no string at %s", what);
    return j->val;
}

/* Entries in the array at path (0 when absent or empty). */
static int jlen(const char *path)
{
    int n = 0;
    for (;; n++) {
        char prefix[192];
        int len = snprintf(prefix, sizeof prefix, "%.90s[%d]", path, n);
        int found = 0;
        for (int i = 0; i < NJ && !found; i++)
            found = strncmp(J[i].path, prefix, (size_t)len) == 0 &&
                    (J[i].path[len] == 0 || J[i].path[len] == '.' || J[i].path[len] == '[');
        if (!found)
            return n;
    }
}

static char EXPORT[1 << 17];

/* Export user at now into EXPORT and parse it; fails unless BVT_OK. */
static void export_ok(bvt_engine *e, const char *user, int64_t now)
{
    size_t len = 0;
    int rc = bvt_user_export(e, user, strlen(user), now, EXPORT, sizeof EXPORT, &len);
    ck_assert_msg(rc == BVT_OK, "export %s: %d", user, rc);
    ck_assert_uint_eq(strlen(EXPORT), len);
    jparse(EXPORT);
}

/* ------------------------------------------------------- status, options */

START_TEST(econsent_status)
{
    ck_assert_int_eq(BVT_ECONSENT, -14);
    ck_assert_str_eq(bvt_strerror(BVT_ECONSENT), "the user has not granted the purpose this needs");
}
END_TEST

/* A version-1 caller's struct ends where retention_ms begins: it is read no
 * further (ASan would see it), and the new fields take their defaults. */
START_TEST(options_version_1_accepted)
{
    size_t v1 = offsetof(bvt_options, retention_ms);
    bvt_options full = BVT_OPTIONS_INIT;
    full.version = 1;
    full.secret = TEST_SECRET;
    full.secret_len = sizeof TEST_SECRET - 1;
    full.shards = 4;
    unsigned char *old = malloc(v1);
    ck_assert_ptr_nonnull(old);
    memcpy(old, &full, v1);
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_new(&e, (const bvt_options *)(void *)old, &err), BVT_OK);
    free(old);
    ck_assert_int_eq(e->store.n_shards, 4);
    ck_assert_int_eq(e->analytics_policy, BVT_ANALYTICS_TRACK);
    ck_assert_int_eq(e->retention_ms, 0);
    ck_assert_int_eq(e->segments_need_consent, 0);
    track_ok(e, "nobody-consented", BVT_EVENT_PAGE_VIEW, T0, "a", 0); /* today's behaviour */
    uint64_t removed;
    ck_assert_int_eq(bvt_engine_expire(e, T0, &removed), BVT_EINVAL); /* no retention */
    bvt_engine_free(e);

    /* Garbage where version 2 has fields is ignored for version 1 ... */
    full.retention_ms = -5;
    full.analytics_policy = 99;
    ck_assert_int_eq(bvt_engine_new(&e, &full, &err), BVT_OK);
    ck_assert_int_eq(e->analytics_policy, BVT_ANALYTICS_TRACK);
    bvt_engine_free(e);
    /* ... and refused for version 2. */
    full.version = 2;
    ck_assert_int_eq(bvt_engine_new(&e, &full, &err), BVT_EINVAL);
    ck_assert_ptr_null(e);
    full.version = 3;
    ck_assert_int_eq(bvt_engine_new(&e, &full, &err), BVT_EVERSION);
    ck_assert_uint_eq(BVT_OPTIONS_VERSION, 2);
}
END_TEST

static const struct {
    int64_t retention;
    uint32_t policy;
    int rc;
} option_cases[] = {
    { 0, BVT_ANALYTICS_TRACK, BVT_OK },
    { 1, BVT_ANALYTICS_DROP, BVT_OK },
    { 30 * DAY, BVT_ANALYTICS_ANONYMOUS, BVT_OK },
    { -1, BVT_ANALYTICS_TRACK, BVT_EINVAL },
    { 0, 3, BVT_EINVAL },
    { 0, UINT32_MAX, BVT_EINVAL },
};

START_TEST(options_privacy_fields)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    o.retention_ms = option_cases[_i].retention;
    o.analytics_policy = option_cases[_i].policy;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_new(&e, &o, &err), option_cases[_i].rc);
    if (option_cases[_i].rc != BVT_OK)
        ck_assert_msg(err.message[0] != 0, "the failure names the option");
    bvt_engine_free(e);
}
END_TEST

/* ------------------------------------------------------ analytics policy */

/* For each policy: a user who never chose, one who denied analytics, one
 * who granted it; what one event does to each. */
static const struct {
    uint32_t policy;
    int rc_unknown, rc_denied, rc_granted;
    int profile_created; /* for the user who never chose */
    uint64_t anonymous;  /* events in the anonymous aggregates */
} policy_cases[] = {
    { BVT_ANALYTICS_TRACK, BVT_OK, BVT_OK, BVT_OK, 1, 0 },
    { BVT_ANALYTICS_DROP, BVT_ECONSENT, BVT_ECONSENT, BVT_OK, 0, 0 },
    { BVT_ANALYTICS_ANONYMOUS, BVT_OK, BVT_OK, BVT_OK, 0, 2 },
};

START_TEST(analytics_policy_table)
{
    bvt_engine *e = engine_opts(policy_cases[_i].policy, 0, 0);
    consent(e, "denied", BVT_PURPOSE_ANALYTICS, 0, T0);
    consent(e, "granted", BVT_PURPOSE_ANALYTICS, 1, T0);
    consent(e, "ads-only", BVT_PURPOSE_ADS, 1, T0);
    bvt_stats before = stats_of(e);
    ck_assert_int_eq(track_event(e, "unknown", BVT_EVENT_PURCHASE, T0 + 1, "home/bed", 20),
                     policy_cases[_i].rc_unknown);
    ck_assert_int_eq(track_event(e, "denied", BVT_EVENT_PAGE_VIEW, T0 + 1, "sport", 0),
                     policy_cases[_i].rc_denied);
    ck_assert_int_eq(track_event(e, "granted", BVT_EVENT_PAGE_VIEW, T0 + 1, "sport", 0),
                     policy_cases[_i].rc_granted);
    ck_assert_int_eq(exists(e, "unknown"), policy_cases[_i].profile_created);
    uint64_t expect_denied = policy_cases[_i].policy == BVT_ANALYTICS_TRACK;
    ck_assert_uint_eq(profile_of(e, "denied", T0 + 2).events, expect_denied);
    ck_assert_uint_eq(profile_of(e, "granted", T0 + 2).events, 1);
    ck_assert_uint_eq(profile_of(e, "ads-only", T0 + 2).events, 0);
    uint64_t n = 99;
    double sum = -1;
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, BVT_ANY, &n, &sum), BVT_OK);
    ck_assert_uint_eq(n, policy_cases[_i].anonymous);
    ck_assert(sum == (policy_cases[_i].anonymous ? 20.0 : 0.0));
    bvt_stats after = stats_of(e);
    ck_assert_uint_eq(after.users, before.users + (uint64_t)policy_cases[_i].profile_created);
    ck_assert_uint_eq(after.events_rejected - before.events_rejected,
                      policy_cases[_i].policy == BVT_ANALYTICS_DROP ? 2 : 0);
    /* Consent calls always work, and a grant opens tracking at once. */
    consent(e, "unknown", BVT_PURPOSE_ANALYTICS, 1, T0 + 3);
    track_ok(e, "unknown", BVT_EVENT_PAGE_VIEW, T0 + 4, NULL, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(anonymous_counts_by_type_and_top_category)
{
    bvt_engine *e = engine_opts(BVT_ANALYTICS_ANONYMOUS, 0, 0);
    track_ok(e, "a", BVT_EVENT_PAGE_VIEW, T0, "home/bedroom/beds", 0);
    track_ok(e, "b", BVT_EVENT_PAGE_VIEW, T0, "home/kitchen", 0);
    track_ok(e, "c", BVT_EVENT_PURCHASE, T0, "home", 30);
    track_ok(e, "c", BVT_EVENT_PURCHASE, T0, "garden/tools", 12.5);
    track_ok(e, "d", BVT_EVENT_SEARCH, T0, NULL, 0);
    ck_assert_uint_eq(stats_of(e).users, 0); /* no profile anywhere */
    uint32_t home, garden, beds;
    ck_assert_int_eq(bvt_category_lookup(e, "home", &home), BVT_OK);
    ck_assert_int_eq(bvt_category_lookup(e, "garden", &garden), BVT_OK);
    ck_assert_int_eq(bvt_category_lookup(e, "home/bedroom/beds", &beds), BVT_OK);
    static const struct {
        uint32_t type;
        int cat; /* 0 none, 1 home, 2 garden, 3 any */
        uint64_t count;
        double sum;
    } q[] = {
        { BVT_EVENT_PAGE_VIEW, 1, 2, 0 },  { BVT_EVENT_PURCHASE, 1, 1, 30 },
        { BVT_EVENT_PURCHASE, 2, 1, 12.5 }, { BVT_EVENT_PURCHASE, 3, 2, 42.5 },
        { BVT_ANY, 1, 3, 30 },              { BVT_EVENT_SEARCH, 0, 1, 0 },
        { BVT_EVENT_CLICK, 3, 0, 0 },       { BVT_ANY, 3, 5, 42.5 },
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        uint32_t cat = q[i].cat == 1 ? home : q[i].cat == 2 ? garden : q[i].cat == 3 ? BVT_ANY : 0;
        uint64_t n = 99;
        double sum = -1;
        ck_assert_int_eq(bvt_anonymous_counts(e, q[i].type, cat, &n, &sum), BVT_OK);
        ck_assert_msg(n == q[i].count && sum == q[i].sum, "query %zu: %llu %g", i,
                      (unsigned long long)n, sum);
    }
    uint64_t n = 7;
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_EVENT_PAGE_VIEW, beds, &n, NULL), BVT_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(bvt_anonymous_counts(e, 40, BVT_ANY, &n, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, 60000, &n, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_anonymous_counts(NULL, BVT_ANY, BVT_ANY, &n, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_anonymous_counts(e, BVT_ANY, BVT_ANY, NULL, NULL), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(drop_policy_in_batches_and_at_a_full_table)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.analytics_policy = BVT_ANALYTICS_DROP;
    o.max_users = 2;
    o.full_policy = BVT_FULL_EVICT_LRU;
    o.shards = 1;
    bvt_engine *e = engine_with(&o);
    consent(e, "in1", BVT_PURPOSE_ANALYTICS, 1, T0);
    consent(e, "in2", BVT_PURPOSE_ANALYTICS, 1, T0);
    bvt_event evs[4] = { make_event("in1", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0),
                         make_event("out", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0),
                         make_event("in2", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0),
                         make_event("out2", BVT_EVENT_CLICK, T0 + 1, NULL, 0) };
    bvt_batch_error fails[4];
    size_t failed = 0;
    ck_assert_int_eq(bvt_event_track_batch(e, evs, 4, fails, 4, &failed, NULL), BVT_ECONSENT);
    ck_assert_uint_eq(failed, 2);
    ck_assert_uint_eq(fails[0].index, 1);
    ck_assert_int_eq(fails[0].code, BVT_ECONSENT);
    ck_assert_uint_eq(fails[1].index, 3);
    /* Refused before a profile was made: nobody was evicted for them. */
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 2);
    ck_assert_uint_eq(s.users_evicted, 0);
    ck_assert(exists(e, "in1") && exists(e, "in2"));
    ck_assert_uint_eq(profile_of(e, "in1", T0 + 2).events, 1);
    bvt_error err = BVT_ERROR_INIT;
    bvt_event one = make_event("out", BVT_EVENT_PAGE_VIEW, T0 + 1, NULL, 0);
    ck_assert_int_eq(bvt_event_track(e, &one, &err), BVT_ECONSENT);
    ck_assert_int_eq(err.code, BVT_ECONSENT);
    bvt_engine_free(e);
}
END_TEST

/* --------------------------------------------------- segments and consent */

START_TEST(segments_need_personalisation_consent)
{
    for (int need = 0; need <= 1; need++) {
        bvt_engine *e = engine_opts(BVT_ANALYTICS_TRACK, 0, (uint32_t)need);
        uint32_t all;
        bvt_error err = BVT_ERROR_INIT;
        ck_assert_int_eq(bvt_segment_define(e, "everyone", "events >= 0", &all, &err), BVT_OK);
        consent(e, "yes", BVT_PURPOSE_PERSONALISATION, 1, T0);
        consent(e, "withdrew", BVT_PURPOSE_PERSONALISATION, 1, T0);
        consent(e, "withdrew", BVT_PURPOSE_PERSONALISATION, 0, T0 + 1);
        consent(e, "ads", BVT_PURPOSE_ADS, 1, T0);
        track_ok(e, "never", BVT_EVENT_PAGE_VIEW, T0, "a", 0);
        const char *users[] = { "yes", "withdrew", "ads", "never" };
        for (int i = 0; i < 4; i++) {
            uint32_t n = nsegments(e, users[i], T0 + 2);
            if (need && i > 0)
                ck_assert_msg(n == 0, "%s is in %u segments", users[i], n);
            else
                ck_assert_uint_ge(n, 1);
        }
        uint64_t members = 0;
        ck_assert_int_eq(bvt_segment_members(e, all, T0 + 2, NULL, NULL, NULL, &members), BVT_OK);
        ck_assert_uint_eq(members, need ? 1 : 4);
        char buf[512];
        size_t len;
        ck_assert_int_eq(bvt_segments_openrtb(e, "never", 5, T0 + 2, NULL, "ex.com", NULL, 0, buf,
                                              sizeof buf, &len), BVT_OK);
        ck_assert_int_eq(strstr(buf, "\"segment\":[]") != NULL, need);
        /* The export reports the segments as bvt_segments_of() does. */
        export_ok(e, "never", T0 + 2);
        ck_assert_int_eq(jlen("segments"), (int)nsegments(e, "never", T0 + 2));
        ck_assert_int_eq(bvt_segments_of(e, "nobody", 6, T0, NULL, NULL, 0, &len), BVT_ENOTFOUND);
        bvt_engine_free(e);
    }
}
END_TEST

/* ------------------------------------------------------------ forgetting */

START_TEST(forget_erases_profile_and_aliases)
{
    bvt_engine *e = engine_default();
    track_ok(e, "cookie-1", BVT_EVENT_PAGE_VIEW, T0, "a", 0);
    track_ok(e, "cookie-2", BVT_EVENT_ADD_TO_CART, T0, "b", 5);
    track_ok(e, "login", BVT_EVENT_PURCHASE, T0 + 1, "b", 9);
    track_ok(e, "bystander", BVT_EVENT_PAGE_VIEW, T0, "a", 0);
    ck_assert_int_eq(bvt_user_alias(e, "cookie-1", 8, "login", 5, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_alias(e, "cookie-2", 8, "login", 5, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_alias(e, "cookie-3", 8, "login", 5, NULL), BVT_OK); /* alias only */
    consent(e, "login", BVT_PURPOSE_ADS, 1, T0);
    ck_assert_int_eq(bvt_attr_set_string(e, "login", 5, "band", "25-34"), BVT_OK);
    const char *ids[] = { "cookie-1", "cookie-2", "cookie-3", "login" };
    bvt_user_key keys[4];
    for (int i = 0; i < 4; i++)
        keys[i] = key_of(e, ids[i]);
    ck_assert_int_gt(key_held(e, keys[3]), 0);
    bvt_stats before = stats_of(e);

    /* Through an alias: the profile it points to and every alias go. */
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_user_forget(e, "cookie-2", 8, &err), BVT_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(key_held(e, keys[i]) == 0, "%s still held", ids[i]);
        ck_assert(!exists(e, ids[i]));
    }
    ck_assert_uint_eq(atomic_load(&e->aliases.count), 0);
    bvt_stats after = stats_of(e);
    ck_assert_uint_eq(after.users, before.users - 1);
    ck_assert(exists(e, "bystander"));
    ck_assert_uint_lt(after.bytes_attributes, before.bytes_attributes);
    /* Idempotent: nothing held is still BVT_OK, for every form of the id. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(bvt_user_forget(e, ids[i], strlen(ids[i]), NULL), BVT_OK);
    ck_assert_uint_eq(stats_of(e).users, after.users);
    /* A later event starts afresh. */
    track_ok(e, "cookie-1", BVT_EVENT_PAGE_VIEW, T0 + 5, NULL, 0);
    ck_assert_uint_eq(profile_of(e, "cookie-1", T0 + 6).events, 1);
    ck_assert(!exists(e, "login"));
    bvt_engine_free(e);
}
END_TEST

START_TEST(forget_by_known_id_and_bad_input)
{
    bvt_engine *e = engine_default();
    track_ok(e, "anon", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    track_ok(e, "other-anon", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(bvt_user_alias(e, "anon", 4, "known", 5, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_alias(e, "other-anon", 10, "other", 5, NULL), BVT_OK);
    bvt_stats before = stats_of(e);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_user_forget(NULL, "x", 1, &err), BVT_EINVAL);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ck_assert_int_eq(bvt_user_forget(e, NULL, 1, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_forget(e, "x", 0, NULL), BVT_EINVAL);
    char big[BVT_USER_ID_MAX + 1] = { 0 };
    ck_assert_int_eq(bvt_user_forget(e, big, sizeof big, NULL), BVT_EINVAL);
    bvt_stats same = stats_of(e); /* bad input changed nothing */
    ck_assert_uint_eq(same.users, before.users);
    ck_assert_uint_eq(atomic_load(&e->aliases.count), 2);

    ck_assert_int_eq(bvt_user_forget(e, "known", 5, NULL), BVT_OK);
    ck_assert_int_eq(key_held(e, key_of(e, "known")), 0);
    ck_assert_int_eq(key_held(e, key_of(e, "anon")), 0);
    ck_assert(!exists(e, "anon"));
    /* The other person's alias survives the deletion's shifting. */
    ck_assert_uint_eq(atomic_load(&e->aliases.count), 1);
    ck_assert(exists(e, "other-anon") && exists(e, "other"));
    ck_assert_int_eq(bvt_user_forget(e, "never-seen", 10, NULL), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

/* The alias map's backward-shift deletion against a model, with keys that
 * share their home slot (the hard case for deletion) and keys that do not. */
START_TEST(alias_map_deletion_matches_model)
{
    enum { N_ANON = 40, N_KNOWN = 6 };
    bvt_aliases a;
    bvt__aliases_init(&a, 1000);
    bvt_user_key anon[N_ANON], known[N_KNOWN];
    int model[N_ANON]; /* known index, or -1 */
    for (int i = 0; i < N_ANON; i++) {
        /* a third collide in slot 0, the rest spread over neighbours */
        anon[i] = (bvt_user_key){ 0x1000u + (uint64_t)i,
                                  i % 3 == 0 ? (uint64_t)i << 32 : (uint64_t)(i % 7) };
        model[i] = -1;
    }
    for (int i = 0; i < N_KNOWN; i++)
        known[i] = (bvt_user_key){ 0x9000u + (uint64_t)i, (uint64_t)i << 32 | 1 };
    uint64_t rng = 12345;
    for (int step = 0; step < 4000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int x = (int)((rng >> 33) % N_ANON), k = (int)((rng >> 20) % N_KNOWN);
        if ((rng >> 60) < 10) {
            int rc = bvt__aliases_add(&a, &anon[x], &known[k]);
            int want = model[x] >= 0 && model[x] != k ? BVT_EEXIST : BVT_OK;
            ck_assert_int_eq(rc, want);
            if (rc == BVT_OK)
                model[x] = k;
        } else {
            uint32_t expect = 0;
            for (int i = 0; i < N_ANON; i++)
                if (model[i] >= 0 && (i == x || model[i] == k)) {
                    model[i] = -1;
                    expect++;
                }
            ck_assert_uint_eq(bvt__aliases_forget(&a, &anon[x], &known[k]), expect);
        }
        uint32_t live = 0;
        for (int i = 0; i < N_ANON; i++) {
            bvt_user_key to;
            int found = bvt__aliases_find(&a, &anon[i], &to);
            ck_assert_msg(found == (model[i] >= 0), "step %d anon %d: found %d model %d (op x=%d k=%d)", step, i, found, model[i], x, k);
            if (found)
                ck_assert(to.hi == known[model[i]].hi && to.lo == known[model[i]].lo);
            live += model[i] >= 0;
        }
        ck_assert_uint_eq(atomic_load(&a.count), live);
    }
    bvt__aliases_destroy(&a);
}
END_TEST

/* -------------------------------------------------------------- export */

START_TEST(export_statuses)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, "a/b", 0);
    size_t len = 7;
    char buf[64];
    ck_assert_int_eq(bvt_user_export(e, "nobody", 6, T0, buf, sizeof buf, &len), BVT_ENOTFOUND);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(bvt_user_export(NULL, "u", 1, T0, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_export(e, "u", 0, T0, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_export(e, "u", 1, 0, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, NULL, 10, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, buf, sizeof buf, NULL), BVT_EINVAL);
    /* Too small: the length needed, and a prefix of the whole. */
    size_t need = 0;
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, NULL, 0, &need), BVT_ERANGE);
    ck_assert_uint_gt(need, sizeof buf);
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, buf, sizeof buf, &len), BVT_ERANGE);
    ck_assert_uint_eq(len, need);
    char *whole = malloc(need + 1);
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, whole, need, &len), BVT_ERANGE); /* no NUL room */
    ck_assert_int_eq(bvt_user_export(e, "u", 1, T0, whole, need + 1, &len), BVT_OK);
    ck_assert_uint_eq(len, need);
    ck_assert_uint_eq(strlen(whole), need);
    ck_assert_int_eq(memcmp(buf, whole, 40), 0);
    jparse(whole);
    free(whole);
    bvt_engine_free(e);
}
END_TEST

/* Every string the export writes came through a call that checks it: ill-
 * formed UTF-8 is refused at each door, so the JSON stays valid (issue 11),
 * and control characters that are allowed are escaped. */
START_TEST(export_stays_valid_json)
{
    bvt_engine *e = engine_default();
    const char *u = "dora";
    bvt_error err = BVT_ERROR_INIT;
    /* each door, with a string that is not UTF-8 */
    bvt_event ev = make_event(u, BVT_EVENT_PAGE_VIEW, T0, "shop/\xff\xfe", 0);
    ck_assert_int_eq(bvt_event_track(e, &ev, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 5);
    ck_assert_int_eq(bvt_attr_set_string(e, u, 4, "band\xc0", "x"), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_set_number(e, u, 4, "\xed\xa0\x80", 1), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_set_string(e, u, 4, "band", "25-34\xe2"), BVT_EINVAL);
    ck_assert_int_eq(bvt_segment_define(e, "Seg\x80", "true", NULL, &err), BVT_EINVAL);
    bvt_offer bad = offer_named("o\xf5\x80\x80\x80");
    ck_assert_int_eq(bvt_offer_define(e, &bad, NULL, &err), BVT_EINVAL);
    bvt_cap cap = { 5, DAY };
    ck_assert_int_eq(bvt_offer_group_define(e, "g\xfe", &cap, 1, &err), BVT_EINVAL);
    bvt_variant v[2] = { { "a", 1, NULL, NULL, 0 }, { "b", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp\xc3";
    x.variants = v;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(bvt_user_exists(e, u, 4), 0);

    /* the same doors with well-formed text, control characters included */
    ev.category = "shop/caf\xc3\xa9";
    ck_assert_int_eq(bvt_event_track(e, &ev, &err), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string(e, u, 4, "note\x01", "tab\there \"q\" back\\ \x1f\x7f"),
                     BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "Seg \xe2\x9c\x93\x02", "true", NULL, &err), BVT_OK);
    ck_assert_int_eq(bvt_offer_group_define(e, "gr\xc3\xbcn", &cap, 1, &err), BVT_OK);
    bvt_offer good = offer_named("\xe2\x82\xac-off");
    good.group = "gr\xc3\xbcn";
    offer_ok(e, &good);
    feedback_ok(e, u, BVT_EVENT_IMPRESSION, good.id, T0 + 1, 0);
    x.name = "exp\xc3\xa9";
    uint32_t xid;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &xid, &err), BVT_OK);
    int32_t variant;
    ck_assert_int_eq(bvt_experiment_assign(e, xid, u, 4, T0 + 2, &variant), BVT_OK);

    char ctl[40]; /* every control character, each escaped as \u00XX */
    for (int c = 1; c < 0x20; c++)
        ctl[c - 1] = (char)c;
    strcpy(ctl + 0x1f, "end");
    ck_assert_int_eq(bvt_attr_set_string(e, u, 4, "ctl", ctl), BVT_OK);

    export_ok(e, u, T0 + HOUR);
    ck_assert_msg(is_json(EXPORT), "export is not JSON: %.200s", EXPORT);
    ck_assert_str_eq(JSTR("attributes.ctl"), ctl);
    ck_assert_ptr_nonnull(strstr(EXPORT, "\"\\u0001\\u0002"));
    ck_assert_ptr_nonnull(strstr(EXPORT, "\\u000a\\u000b"));
    ck_assert_ptr_nonnull(strstr(EXPORT, "\\u001e\\u001fend\""));
    ck_assert_str_eq(JSTR("attributes.note\x01"), "tab\there \"q\" back\\ \x1f\x7f");
    ck_assert_ptr_nonnull(strstr(EXPORT, "\"note\\u0001\""));
    ck_assert_ptr_nonnull(strstr(EXPORT, "back\\\\ \\u001f\x7f\""));
    ck_assert_str_eq(JSTR("interests[0].category"), "shop/caf\xc3\xa9");
    ck_assert_str_eq(JSTR("caps[0].offer"), "\xe2\x82\xac-off");
    ck_assert_str_eq(JSTR("caps[1].group"), "gr\xc3\xbcn");
    ck_assert_str_eq(JSTR("experiments[0].experiment"), "exp\xc3\xa9");
    int named = 0;
    for (int i = 0; i < jlen("segments"); i++)
        named |= strcmp(JSTR("segments[%d].name", i), "Seg \xe2\x9c\x93\x02") == 0;
    ck_assert(named);
    bvt_engine_free(e);
}
END_TEST

static char hexkey[33];
static const char *hex_of(bvt_user_key k)
{
    snprintf(hexkey, sizeof hexkey, "%016llx%016llx", (unsigned long long)k.hi,
             (unsigned long long)k.lo);
    return hexkey;
}

START_TEST(export_round_trips_the_api)
{
    bvt_engine *e = engine_default();
    int64_t t = T0;
    track_ok(e, "cookie", BVT_EVENT_PAGE_VIEW, t, "home/bedroom", 0);
    track_ok(e, "shopper", BVT_EVENT_PAGE_VIEW, t + MIN, "home/kitchen", 0);
    track_ok(e, "shopper", BVT_EVENT_PURCHASE, t + 2 * MIN, "home/kitchen", 49.5);
    bvt_event add = make_event("shopper", BVT_EVENT_ADD_TO_CART, t + 3 * MIN, "garden", 12.25);
    add.item_id = "sku-1";
    ck_assert_int_eq(bvt_event_track(e, &add, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_alias(e, "cookie", 6, "shopper", 7, NULL), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_number(e, "shopper", 7, "income", 52000.5), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string(e, "shopper", 7, "motto", "say \"hi\"\n"), BVT_OK);
    consent(e, "shopper", BVT_PURPOSE_ADS, 1, t + 4 * MIN);
    consent(e, "shopper", BVT_PURPOSE_ANALYTICS, 0, t + 5 * MIN);
    bvt_offer o = offer_named("banner");
    bvt_cap cap = { 3, DAY };
    o.caps = &cap;
    o.n_caps = 1;
    offer_ok(e, &o);
    feedback_ok(e, "shopper", BVT_EVENT_IMPRESSION, "banner", t + 6 * MIN, 0);
    feedback_ok(e, "shopper", BVT_EVENT_DISMISS, "banner", t + 7 * MIN, 0);
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "treat", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp1";
    x.variants = v;
    x.n_variants = 2;
    uint32_t xid;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &xid, NULL), BVT_OK);
    int32_t variant;
    ck_assert_int_eq(bvt_experiment_assign(e, xid, "shopper", 7, t + 8 * MIN, &variant), BVT_OK);
    int64_t now = t + HOUR;

    export_ok(e, "cookie", now); /* through the alias: the same person */
    ck_assert_str_eq(JSTR("key"), hex_of(key_of(e, "shopper")));
    ck_assert_int_eq(jlen("aliases"), 1);
    ck_assert_str_eq(JSTR("aliases[0]"), hex_of(key_of(e, "cookie")));
    ck_assert(JNUM("now") == (double)now);

    bvt_profile p = profile_of(e, "shopper", now);
    ck_assert(JNUM("profile.first_seen_ms") == (double)p.first_seen_ms);
    ck_assert(JNUM("profile.last_seen_ms") == (double)p.last_seen_ms);
    ck_assert(JNUM("profile.events") == (double)p.events);
    ck_assert(JNUM("profile.purchases") == 1);
    ck_assert(JNUM("profile.monetary_total") == p.monetary_total);
    ck_assert(JNUM("profile.sessions") == p.sessions);
    ck_assert(JNUM("profile.type_counts.page_view") == p.type_counts[BVT_EVENT_PAGE_VIEW]);
    ck_assert(JNUM("profile.cart_value") == p.cart_value);
    ck_assert(JNUM("profile.history_events") == p.history_events);

    bvt_interest in[16];
    size_t n;
    ck_assert_int_eq(bvt_profile_interests(e, "shopper", 7, now, in, 16, &n), BVT_OK);
    ck_assert_int_eq(jlen("interests"), (int)n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(JSTR("interests[%zu].category", i), in[i].category);
        ck_assert(close_rel(JNUM("interests[%zu].score", i), in[i].score, 1e-15));
        ck_assert(close_rel(JNUM("interests[%zu].affinity", i), in[i].affinity, 1e-15));
    }

    bvt_cart_item items[4];
    ck_assert_int_eq(bvt_profile_cart(e, "shopper", 7, items, 4, &n), BVT_OK);
    ck_assert_int_eq(jlen("cart"), 1);
    ck_assert_uint_eq(n, 1);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)bvt_item_hash("sku-1", 5));
    ck_assert_str_eq(JSTR("cart[0].item_hash"), hash);
    ck_assert_str_eq(JSTR("cart[0].category"), "garden");
    ck_assert(JNUM("cart[0].value") == items[0].value);
    ck_assert(JNUM("cart[0].added_ms") == (double)items[0].added_ms);

    double income;
    const char *motto;
    ck_assert_int_eq(bvt_attr_get(e, "shopper", 7, "income", NULL, &income, NULL), BVT_OK);
    ck_assert_int_eq(bvt_attr_get(e, "shopper", 7, "motto", NULL, NULL, &motto), BVT_OK);
    ck_assert(JNUM("attributes.income") == income);
    ck_assert_str_eq(JSTR("attributes.motto"), motto); /* escaped and read back */

    ck_assert_int_eq(jlen("consent"), 2);
    for (int i = 0; i < 2; i++) {
        uint32_t purpose = (uint32_t)JNUM("consent[%d].purpose_id", i);
        int g;
        ck_assert_int_eq(bvt_consent_get(e, "shopper", 7, purpose, &g), BVT_OK);
        ck_assert_str_eq(jfind("consent[%d].granted", i)->val, g ? "true" : "false");
        ck_assert(JNUM("consent[%d].time_ms", i) ==
                  (double)(purpose == BVT_PURPOSE_ADS ? t + 4 * MIN : t + 5 * MIN));
    }
    ck_assert_str_eq(JSTR("consent[0].purpose"), "ads");

    uint32_t segs[64];
    ck_assert_int_eq(bvt_segments_of(e, "shopper", 7, now, NULL, segs, 64, &n), BVT_OK);
    ck_assert_int_eq(jlen("segments"), (int)n);
    for (size_t i = 0; i < n; i++) {
        ck_assert(JNUM("segments[%zu].id", i) == segs[i]);
        ck_assert_str_eq(JSTR("segments[%zu].name", i), bvt_segment_name(e, segs[i]));
    }

    ck_assert_int_eq(jlen("caps"), 1);
    ck_assert_str_eq(JSTR("caps[0].offer"), "banner");
    ck_assert_int_eq(jlen("caps[0].impressions_ms"), 1);
    ck_assert(JNUM("caps[0].impressions_ms[0]") == (double)(t + 6 * MIN));
    ck_assert(JNUM("caps[0].dismissed_ms") == (double)(t + 7 * MIN));

    ck_assert_int_eq(jlen("experiments"), 1);
    ck_assert_str_eq(JSTR("experiments[0].experiment"), "exp1");
    ck_assert(JNUM("experiments[0].variant") == variant);
    ck_assert(JNUM("experiments[0].exposed_ms") == (double)(t + 8 * MIN));

    ck_assert_int_eq(jlen("history.events"), (int)p.history_events);
    ck_assert_str_eq(JSTR("history.events[0].type"), "page_view");
    ck_assert_str_eq(JSTR("history.events[0].category"), "home/bedroom");
    ck_assert(JNUM("history.events[0].time_ms") == (double)t);
    ck_assert_str_eq(JSTR("history.events[2].type"), "purchase");
    ck_assert(JNUM("history.events[2].value") == 49.5);
    ck_assert_int_eq(jlen("history.days"), 0);
    bvt_engine_free(e);
}
END_TEST

/* People read the export too: every time has its ISO 8601 text beside the
 * epoch ms (NAME_ms, then NAME_iso; "now", then "now_iso"), reading back
 * to the same instant, and values kept as floats print as they were given
 * (15.3, not the 15.300000190734863 a float widens to). */
START_TEST(export_times_in_iso_and_floats_short)
{
    bvt_engine *e = engine_default();
    int64_t t = T0 + 10 * HOUR + 250; /* not a whole second */
    track_ok(e, "u", BVT_EVENT_PURCHASE, t, "home", 15.3);
    bvt_offer o = offer_named("banner");
    offer_ok(e, &o);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "banner", t + MIN, 0);
    int64_t now = t + HOUR;
    export_ok(e, "u", now);
    ck_assert_msg(strstr(EXPORT, "\"value\":15.3}"), "history value: %s", EXPORT);

    int times = 0;
    for (int i = 0; i < NJ; i++) {
        size_t n = strlen(J[i].path);
        if (n < 4 || strcmp(J[i].path + n - 4, "_iso") != 0 || J[i].kind == 'z')
            continue;
        char ms_path[192];
        int is_now = strcmp(J[i].path, "now_iso") == 0;
        snprintf(ms_path, sizeof ms_path, "%.*s%s", (int)n - 4, J[i].path, is_now ? "" : "_ms");
        int64_t back = 0;
        ck_assert_int_eq(bvt_time_parse(J[i].val, strlen(J[i].val), BVT_TIME_ISO, &back, NULL),
                         BVT_OK);
        ck_assert_msg(JNUM("%s", ms_path) == (double)back, "%s = %s", J[i].path, J[i].val);
        times++;
    }
    /* now, first/last seen, last purchase, last checkout, history time */
    ck_assert_int_ge(times, 6);
    ck_assert_str_eq(JSTR("now_iso"), "2023-12-09T11:00:00.250Z");
    ck_assert_str_eq(JSTR("profile.last_purchase_iso"), "2023-12-09T10:00:00.250Z");
    ck_assert_str_eq(JSTR("caps[0].impressions_iso[0]"), "2023-12-09T10:01:00.250Z");
    ck_assert_msg(jfind("profile.cart_oldest_iso")->kind == 'z', "no cart: null");
    ck_assert_msg(jfind("caps[0].dismissed_iso")->kind == 'z', "never dismissed: null");
    bvt_engine_free(e);
}
END_TEST

/* --------------------------------------------------------------- expiry */

START_TEST(expire_statuses)
{
    bvt_engine *e = engine_default();
    uint64_t removed = 9;
    ck_assert_int_eq(bvt_engine_expire(e, T0, &removed), BVT_EINVAL);
    ck_assert_uint_eq(removed, 0);
    bvt_engine_free(e);
    e = engine_opts(BVT_ANALYTICS_TRACK, DAY, 0);
    ck_assert_int_eq(bvt_engine_expire(NULL, T0, &removed), BVT_EINVAL);
    ck_assert_int_eq(bvt_engine_expire(e, 0, &removed), BVT_EINVAL);
    ck_assert_int_eq(bvt_engine_expire(e, -5, NULL), BVT_EINVAL);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, 10, NULL, 0);
    ck_assert_int_eq(bvt_engine_expire(e, DAY / 2, &removed), BVT_OK); /* cutoff < 0 */
    ck_assert_uint_eq(removed, 0);
    ck_assert_int_eq(bvt_engine_expire(e, DAY + 10, NULL), BVT_OK);
    ck_assert(!exists(e, "u"));
    bvt_engine_free(e);
}
END_TEST

/* A profile goes when last seen at or before now - retention; one
 * millisecond later it stays.  Table: last event's offset from the cutoff. */
static const struct {
    int64_t offset;
    int kept;
} boundary_cases[] = { { -DAY, 0 }, { -1, 0 }, { 0, 0 }, { 1, 1 }, { DAY, 1 } };

START_TEST(expire_profile_boundary)
{
    const int64_t R = 30 * DAY, now = T0 + 100 * DAY, cutoff = now - R;
    bvt_engine *e = engine_opts(BVT_ANALYTICS_TRACK, R, 0);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, cutoff - 5 * DAY, "a", 0);
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, cutoff + boundary_cases[_i].offset, "a", 0);
    ck_assert_int_eq(bvt_user_alias(e, "cookie", 6, "u", 1, NULL), BVT_OK);
    uint64_t removed = 9;
    ck_assert_int_eq(bvt_engine_expire(e, now, &removed), BVT_OK);
    ck_assert_int_eq(exists(e, "u"), boundary_cases[_i].kept);
    ck_assert_uint_eq(removed, (uint64_t)!boundary_cases[_i].kept);
    /* its aliases go with it */
    ck_assert_uint_eq(atomic_load(&e->aliases.count), (uint32_t)boundary_cases[_i].kept);
    if (!boundary_cases[_i].kept)
        ck_assert_int_eq(key_held(e, key_of(e, "u")) + key_held(e, key_of(e, "cookie")), 0);
    else
        ck_assert_uint_eq(profile_of(e, "u", now).history_events, 1); /* the old one went */
    bvt_engine_free(e);
}
END_TEST

START_TEST(expire_inside_a_profile)
{
    const int64_t R = 10 * DAY, now = T0 + 50 * DAY, cutoff = now - R;
    bvt_engine *e = engine_opts(BVT_ANALYTICS_TRACK, R, 0);
    bvt_offer o1 = offer_named("old"), o2 = offer_named("new");
    bvt_cap cap = { 2, 30 * DAY };
    o1.caps = o2.caps = &cap;
    o1.n_caps = o2.n_caps = 1;
    offer_ok(e, &o1);
    offer_ok(e, &o2);
    bvt_event a1 = make_event("u", BVT_EVENT_ADD_TO_CART, cutoff, "c", 1);
    a1.item_id = "i1";
    bvt_event a2 = make_event("u", BVT_EVENT_ADD_TO_CART, cutoff + 1, "c", 2);
    a2.item_id = "i2";
    ck_assert_int_eq(bvt_event_track(e, &a1, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_track(e, &a2, NULL), BVT_OK);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "old", cutoff, 0);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "new", cutoff - 1, 0);
    feedback_ok(e, "u", BVT_EVENT_IMPRESSION, "new", cutoff + 1, 0);
    bvt_variant v[2] = { { "a", 1, NULL, NULL, 0 }, { "b", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "sticky";
    x.variants = v;
    x.n_variants = 2;
    uint32_t xid;
    ck_assert_int_eq(bvt_experiment_define(e, &x, &xid, NULL), BVT_OK);
    int32_t variant;
    ck_assert_int_eq(bvt_experiment_assign(e, xid, "u", 1, cutoff - DAY, &variant), BVT_OK);
    consent(e, "u", BVT_PURPOSE_ADS, 1, cutoff - DAY);
    ck_assert_uint_eq(profile_of(e, "u", now).history_events, 5);
    uint64_t removed = 9;
    ck_assert_int_eq(bvt_engine_expire(e, now, &removed), BVT_OK);
    ck_assert_uint_eq(removed, 0);
    bvt_profile p = profile_of(e, "u", now);
    ck_assert_uint_eq(p.history_events, 2); /* cutoff + 1 twice */
    ck_assert_uint_eq(p.cart_items, 1);
    bvt_cart_item item;
    size_t n;
    ck_assert_int_eq(bvt_profile_cart(e, "u", 1, &item, 1, &n), BVT_OK);
    ck_assert_int_eq(item.added_ms, cutoff + 1);
    export_ok(e, "u", now);
    ck_assert_int_eq(jlen("caps"), 1);
    ck_assert_str_eq(JSTR("caps[0].offer"), "new");
    ck_assert_int_eq(jlen("caps[0].impressions_ms"), 1);
    ck_assert(JNUM("caps[0].impressions_ms[0]") == (double)(cutoff + 1));
    ck_assert_int_eq(jlen("experiments"), 1); /* assignments are not behaviour */
    ck_assert_int_eq(jlen("consent"), 1);
    for (int i = 0; i < jlen("history.events"); i++)
        ck_assert(JNUM("history.events[%d].time_ms", i) > (double)cutoff);
    ck_assert(JNUM("history.complete_from_day") > 0); /* what went is marked as gone */
    bvt_engine_free(e);
}
END_TEST

/* Day aggregates go when their whole UTC day is at or before the cutoff:
 * the day ending exactly at the cutoff goes, the next stays. */
START_TEST(expire_day_aggregates_boundary)
{
    for (int shift = 0; shift <= 1; shift++) {
        const int64_t D = 19800, R = 20 * DAY;
        const int64_t cutoff = (D + 1) * DAY - 1 - shift, now = cutoff + R;
        bvt_options o = BVT_OPTIONS_INIT;
        o.retention_ms = R;
        o.history_events = 1;
        bvt_engine *e = engine_with(&o);
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, D * DAY + 5, "a", 0);
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, (D + 1) * DAY + 5, "a", 0);
        track_ok(e, "u", BVT_EVENT_PAGE_VIEW, now - HOUR, "a", 0);
        ck_assert_uint_eq(profile_of(e, "u", now).history_day_slots, 2);
        ck_assert_int_eq(bvt_engine_expire(e, now, NULL), BVT_OK);
        bvt_profile p = profile_of(e, "u", now);
        ck_assert_uint_eq(p.history_day_slots, shift ? 2 : 1);
        ck_assert_uint_eq(p.history_events, 1);
        export_ok(e, "u", now);
        ck_assert(JNUM("history.days[0].day") == (double)(shift ? D : D + 1));
        bvt_engine_free(e);
    }
}
END_TEST

START_TEST(expire_profiles_without_events)
{
    const int64_t R = DAY, now = T0 + 10 * DAY, cutoff = now - R;
    bvt_engine *e = engine_opts(BVT_ANALYTICS_TRACK, R, 0);
    consent(e, "old-choice", BVT_PURPOSE_ADS, 1, cutoff);
    consent(e, "new-choice", BVT_PURPOSE_ADS, 0, cutoff + 1);
    ck_assert_int_eq(bvt_attr_set_number(e, "undated", 7, "x", 1), BVT_OK);
    bvt_stats before = stats_of(e);
    uint64_t removed = 0;
    ck_assert_int_eq(bvt_engine_expire(e, now, &removed), BVT_OK);
    ck_assert_uint_eq(removed, 1);
    ck_assert(!exists(e, "old-choice"));
    ck_assert(exists(e, "new-choice"));
    ck_assert(exists(e, "undated")); /* nothing dated: kept (documented) */
    bvt_stats after = stats_of(e);
    ck_assert_uint_eq(after.users, before.users - 1);
    ck_assert_uint_lt(after.bytes_attributes, before.bytes_attributes);
    bvt_engine_free(e);
}
END_TEST

/* ------------------------------------------------------- memory budget */

/* Tracking, attributes, consent and offer cap state at random: the bytes
 * the budget covers never pass it, after any call. */
static void budget_workload(uint32_t policy)
{
    const uint64_t budget = 256u * 1024u;
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 2;
    o.memory_budget = budget;
    o.full_policy = policy;
    bvt_engine *e = engine_with(&o);
    char offer_ids[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(offer_ids[i], sizeof offer_ids[i], "o%d", i);
        bvt_offer of = offer_named(offer_ids[i]);
        bvt_cap cap = { (uint32_t)(1 + i * 20), DAY };
        of.caps = &cap;
        of.n_caps = 1;
        offer_ok(e, &of);
    }
    uint64_t rng = 99 + policy, full = 0;
    char id[24], key[8];
    for (int i = 0; i < 12000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t r = (uint32_t)(rng >> 33);
        snprintf(id, sizeof id, "u%u", r % 900);
        int64_t t = T0 + i * MIN;
        int rc;
        switch (r % 5) {
        case 0:
            rc = bvt_attr_set_number(e, id, strlen(id), (snprintf(key, sizeof key, "k%u", r % 13), key), i);
            break;
        case 1:
            rc = bvt_consent_set(e, id, strlen(id), r % 3, (int)(r & 1), t);
            break;
        case 2: {
            bvt_event ev = make_event(id, BVT_EVENT_IMPRESSION, t, NULL, 0);
            ev.offer_id = offer_ids[r % 8];
            rc = bvt_event_track(e, &ev, NULL);
            break;
        }
        default: {
            char cat[16], item[16];
            snprintf(cat, sizeof cat, "c%u/s%u", r % 11, r % 5);
            snprintf(item, sizeof item, "i%u", r % 300);
            bvt_event ev = make_event(id, r % 4 == 0 ? BVT_EVENT_ADD_TO_CART : r % 12, t, cat, r % 40);
            ev.item_id = item;
            rc = bvt_event_track(e, &ev, NULL);
        }
        }
        ck_assert_msg(rc == BVT_OK || rc == BVT_EFULL || rc == BVT_ELIMIT, "op %d: %d", i, rc);
        full += rc == BVT_EFULL;
        bvt_stats s = stats_of(e);
        ck_assert_msg(s.bytes_total - s.bytes_registry <= budget, "op %d: %llu > %llu", i,
                      (unsigned long long)(s.bytes_total - s.bytes_registry),
                      (unsigned long long)budget);
    }
    bvt_stats s = stats_of(e);
    /* At the limit: a new user under the reject policy is refused and
     * changes nothing; under LRU another user makes room. */
    uint64_t users = s.users, evicted = s.users_evicted;
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "fresh-%d", i);
        int rc = track_event(e, id, BVT_EVENT_PAGE_VIEW, T0 + DAY, "c1/s1", 0);
        bvt_stats now = stats_of(e);
        ck_assert_uint_le(now.bytes_total - now.bytes_registry, budget);
        if (policy == BVT_FULL_REJECT) {
            if (rc == BVT_EFULL) {
                ck_assert(!exists(e, id));
                ck_assert_uint_eq(now.users, users);
            }
            users = now.users;
        } else {
            ck_assert_int_eq(rc, BVT_OK);
            ck_assert(exists(e, id));
        }
    }
    s = stats_of(e);
    if (policy == BVT_FULL_REJECT) {
        ck_assert_uint_gt(full, 0);
        ck_assert_uint_eq(s.users_evicted, 0);
    } else {
        ck_assert_uint_gt(s.users_evicted, evicted);
    }
    bvt_engine_free(e);
}

START_TEST(budget_never_exceeded_reject) { budget_workload(BVT_FULL_REJECT); }
END_TEST

START_TEST(budget_never_exceeded_evict) { budget_workload(BVT_FULL_EVICT_LRU); }
END_TEST

/* ---------------------------------------------------------- concurrency */

#define RACE_USERS 64
typedef struct race {
    bvt_engine *e;
    _Atomic int stop;
} race;

static void user_name(char *buf, size_t n, unsigned i)
{
    snprintf(buf, n, "racer-%u", i % RACE_USERS);
}

static void *race_track(void *arg)
{
    race *r = arg;
    char id[32], anon[32];
    for (unsigned i = 0; i < 6000; i++) {
        user_name(id, sizeof id, i * 7);
        int64_t t = T0 + (int64_t)i * 1000;
        int rc = track_event(r->e, id, i % 3 ? BVT_EVENT_PAGE_VIEW : BVT_EVENT_ADD_TO_CART, t, "a/b", 1);
        ck_assert_int_eq(rc, BVT_OK);
        if (i % 50 == 0) {
            snprintf(anon, sizeof anon, "anon-%u", i % 200);
            rc = bvt_user_alias(r->e, anon, strlen(anon), id, strlen(id), NULL);
            ck_assert(rc == BVT_OK || rc == BVT_EEXIST);
            bvt_consent_set(r->e, id, strlen(id), BVT_PURPOSE_ADS, 1, t);
        }
    }
    atomic_store(&r->stop, 1);
    return NULL;
}

static void *race_forget(void *arg)
{
    race *r = arg;
    char id[32];
    for (unsigned i = 0; !atomic_load(&r->stop); i++) {
        if (i % 2)
            user_name(id, sizeof id, i);
        else
            snprintf(id, sizeof id, "anon-%u", i % 200);
        ck_assert_int_eq(bvt_user_forget(r->e, id, strlen(id), NULL), BVT_OK);
    }
    return NULL;
}

static void *race_expire(void *arg)
{
    race *r = arg;
    for (int64_t now = T0; !atomic_load(&r->stop); now += 200000)
        ck_assert_int_eq(bvt_engine_expire(r->e, now, NULL), BVT_OK);
    return NULL;
}

static void *race_export(void *arg)
{
    race *r = arg;
    static char buf[1 << 16];
    char id[32];
    for (unsigned i = 0; !atomic_load(&r->stop); i++) {
        user_name(id, sizeof id, i);
        size_t len;
        int rc = bvt_user_export(r->e, id, strlen(id), T0 + DAY, buf, sizeof buf, &len);
        ck_assert(rc == BVT_OK || rc == BVT_ENOTFOUND);
    }
    return NULL;
}

START_TEST(forget_and_expire_race_tracking)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 4;
    o.retention_ms = HOUR;
    race r = { engine_with(&o), 0 };
    thread_fn fns[] = { race_track, race_forget, race_expire, race_export };
    run_threads(fns, 4, &r);
    /* Whatever interleaving happened, forgetting everyone now leaves
     * nothing held and the accounting at zero. */
    char id[32];
    for (unsigned i = 0; i < RACE_USERS; i++) {
        user_name(id, sizeof id, i);
        ck_assert_int_eq(bvt_user_forget(r.e, id, strlen(id), NULL), BVT_OK);
        ck_assert_int_eq(key_held(r.e, key_of(r.e, id)), 0);
    }
    bvt_stats s = stats_of(r.e);
    ck_assert_uint_eq(s.users, 0);
    ck_assert_uint_eq(s.bytes_history + s.bytes_cart + s.bytes_attributes, 0);
    ck_assert_uint_eq(atomic_load(&r.e->aliases.count), 0);
    bvt_engine_free(r.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("privacy");
    TCase *tc = tcase_create("privacy");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, econsent_status);
    tcase_add_test(tc, options_version_1_accepted);
    tcase_add_loop_test(tc, options_privacy_fields, 0,
                        (int)(sizeof option_cases / sizeof option_cases[0]));
    tcase_add_loop_test(tc, analytics_policy_table, 0,
                        (int)(sizeof policy_cases / sizeof policy_cases[0]));
    tcase_add_test(tc, anonymous_counts_by_type_and_top_category);
    tcase_add_test(tc, drop_policy_in_batches_and_at_a_full_table);
    tcase_add_test(tc, segments_need_personalisation_consent);
    tcase_add_test(tc, forget_erases_profile_and_aliases);
    tcase_add_test(tc, forget_by_known_id_and_bad_input);
    tcase_add_test(tc, alias_map_deletion_matches_model);
    tcase_add_test(tc, export_statuses);
    tcase_add_test(tc, export_round_trips_the_api);
    tcase_add_test(tc, export_stays_valid_json);
    tcase_add_test(tc, export_times_in_iso_and_floats_short);
    tcase_add_test(tc, expire_statuses);
    tcase_add_loop_test(tc, expire_profile_boundary, 0,
                        (int)(sizeof boundary_cases / sizeof boundary_cases[0]));
    tcase_add_test(tc, expire_inside_a_profile);
    tcase_add_test(tc, expire_day_aggregates_boundary);
    tcase_add_test(tc, expire_profiles_without_events);
    tcase_add_test(tc, budget_never_exceeded_reject);
    tcase_add_test(tc, budget_never_exceeded_evict);
    tcase_add_test(tc, forget_and_expire_race_tracking);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
