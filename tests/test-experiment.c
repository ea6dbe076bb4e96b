/* test-experiment.c — A/B experiments: definitions and their checks,
 * deterministic assignment (XXH3 and GrowthBook hashes, weights, coverage,
 * holdout), sticky assignments across redefinition, exposure and outcome
 * counters (outcomes through bvt__experiments_on_event, white box, until the
 * tracking path calls it), per-segment rows, the report and its SRM check,
 * the memory budget, the 32-assignment limit, aliasing and threads.
 *
 * Outcomes through bvt_event_track are tested in test-experiment-track.c,
 * which is not built yet (see the note there). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "experiment-test-secret-0123456789"
#include "testutil.h"

#include "bucketing.h"
#include "engine.h"
#include "experiment.h"
#include "experiment_internal.h"
#include "stats.h"
#include "store.h"

/* ---- helpers ---- */

static const char *const vnames[BVT_VARIANTS_MAX] = {
    "control", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
};

typedef struct spec {
    const char *name;
    const char *salt;
    uint32_t hash;
    size_t n;
    double w[BVT_VARIANTS_MAX];
    double coverage, holdout;
} spec;

static int define_spec(bvt_engine *e, const spec *s, uint32_t *id)
{
    bvt_variant v[BVT_VARIANTS_MAX];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < s->n && i < BVT_VARIANTS_MAX; i++) {
        v[i].name = vnames[i];
        v[i].weight = s->w[i];
    }
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = s->name;
    x.salt = s->salt;
    x.hash = s->hash;
    x.variants = v;
    x.n_variants = s->n;
    x.coverage = s->coverage;
    x.holdout = s->holdout;
    return bvt_experiment_define(e, &x, id, NULL);
}

static uint32_t define_ok(bvt_engine *e, const spec *s)
{
    uint32_t id = 0;
    int rc = define_spec(e, s, &id);
    ck_assert_msg(rc == BVT_OK, "define %s: %d", s->name, rc);
    ck_assert_uint_ge(id, 1);
    return id;
}

/* A 50/50 experiment with the given name. */
static uint32_t define_ab(bvt_engine *e, const char *name)
{
    spec s = { name, NULL, BVT_HASH_XXH3, 2, { 1, 1 }, 1.0, 0.0 };
    return define_ok(e, &s);
}

static void user_name(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "user-%d", i);
}

static int32_t variant_of(bvt_engine *e, uint32_t id, const char *user)
{
    int32_t v = 99;
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, user, strlen(user), &v), BVT_OK);
    return v;
}

static int assign(bvt_engine *e, uint32_t id, const char *user, int64_t t, int32_t *v)
{
    return bvt_experiment_assign(e, id, user, strlen(user), t, v);
}

static int32_t assign_ok(bvt_engine *e, uint32_t id, const char *user, int64_t t)
{
    int32_t v = 99;
    int rc = assign(e, id, user, t, &v);
    ck_assert_msg(rc == BVT_OK, "assign %s: %d", user, rc);
    return v;
}

static bvt_experiment_report report_row(bvt_engine *e, uint32_t id, uint32_t row)
{
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt__experiment_report_row(e, id, row, &r), BVT_OK);
    return r;
}

static bvt_experiment_report report(bvt_engine *e, uint32_t id)
{
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &r), BVT_OK);
    return r;
}

static uint64_t total_users(const bvt_experiment_report *r)
{
    uint64_t n = r->holdout.users;
    for (uint32_t v = 0; v < r->n_variants; v++)
        n += r->variants[v].users;
    return n;
}

/* One tracked outcome, handed to the hook as feedback.c will: under the
 * user's shard lock, with the profile's ext (NULL for an unknown user).
 * Returns 1 when the user had assignments. */
static int outcome(bvt_engine *e, const char *user, uint32_t type, int64_t t, double revenue,
                   double cost)
{
    bvt_shard *sh;
    bvt_record *r = bvt__engine_lock_key(e, bvt__engine_key(e, user, strlen(user)), &sh);
    bvt_outcome o = { type, 0, t, revenue, cost };
    int had = r && r->ext && r->ext->experiments;
    bvt__experiments_on_event(e, r ? r->ext : NULL, &o);
    pthread_mutex_unlock(&sh->lock);
    return had;
}

/* ---- definitions ---- */

START_TEST(define_and_lookup)
{
    bvt_engine *e = engine_default();
    uint32_t a = define_ab(e, "checkout-button");
    uint32_t b = define_ab(e, "hero-banner");
    ck_assert_uint_eq(a, 1);
    ck_assert_uint_eq(b, 2);
    uint32_t id = 0;
    ck_assert_int_eq(bvt_experiment_lookup(e, "hero-banner", &id), BVT_OK);
    ck_assert_uint_eq(id, b);
    ck_assert_int_eq(bvt_experiment_lookup(e, "nope", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_lookup(e, NULL, &id), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_lookup(e, "hero-banner", NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_lookup(NULL, "hero-banner", &id), BVT_EINVAL);
    /* Redefinition keeps the id. */
    ck_assert_uint_eq(define_ab(e, "checkout-button"), a);
    /* The ranking path's handle. */
    const bvt_experiment_def *d = bvt__experiment_acquire(e, "hero-banner");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_null(bvt__experiment_variant_policy(d, 0));
    ck_assert_int_eq(bvt__experiment_variant_allows(d, 1, 7), 1);
    bvt__experiment_release(d);
    ck_assert_ptr_null(bvt__experiment_acquire(e, "nope"));
    bvt__experiment_release(NULL);
    /* Reports name the variants with borrowed strings. */
    bvt_experiment_report r = report(e, a);
    ck_assert_uint_eq(r.n_variants, 2);
    ck_assert_str_eq(r.variants[0].name, "control");
    ck_assert_str_eq(r.variants[1].name, "b");
    ck_assert_str_eq(r.holdout.name, "holdout");
    ck_assert_uint_gt(bvt__experiments_bytes(e->experiments), sizeof(struct bvt_experiments));
    bvt_engine_free(e);
}
END_TEST

START_TEST(init_matches_macro)
{
    bvt_experiment a = BVT_EXPERIMENT_INIT, b;
    memset(&b, 0x5a, sizeof b);
    bvt_experiment_init(&b);
    ck_assert_uint_eq(b.version, a.version);
    ck_assert_ptr_null(b.name);
    ck_assert_ptr_null(b.salt);
    ck_assert_ptr_null(b.variants);
    ck_assert_uint_eq(b.hash, BVT_HASH_XXH3);
    ck_assert(b.coverage == 1.0 && b.holdout == 0.0 && b.n_variants == 0);
    bvt_experiment_init(NULL);
}
END_TEST

START_TEST(policies_per_variant)
{
    bvt_engine *e = engine_default();
    bvt_policy greedy = BVT_POLICY_INIT;
    greedy.kind = BVT_POLICY_GREEDY;
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "greedy", 1, &greedy, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "policy-test";
    x.variants = v;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, NULL), BVT_OK);
    const bvt_experiment_def *d = bvt__experiment_acquire(e, "policy-test");
    ck_assert_ptr_null(bvt__experiment_variant_policy(d, 0));
    const bvt_policy *p = bvt__experiment_variant_policy(d, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_ne(p, &greedy); /* copied */
    ck_assert_uint_eq(p->kind, BVT_POLICY_GREEDY);
    ck_assert_ptr_null(bvt__experiment_variant_policy(d, BVT_VARIANT_HOLDOUT));
    ck_assert_ptr_null(bvt__experiment_variant_policy(d, BVT_VARIANT_NONE));
    ck_assert_ptr_null(bvt__experiment_variant_policy(d, 2));
    /* An empty offer set ranks nothing; no set ranks everything. */
    const char *none[1] = { NULL };
    v[1].offers = none;
    v[1].n_offers = 0;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, NULL), BVT_OK);
    /* d is the old version: still valid, unchanged, until released. */
    ck_assert_int_eq(bvt__experiment_variant_allows(d, 1, 3), 1);
    bvt__experiment_release(d);
    d = bvt__experiment_acquire(e, "policy-test");
    ck_assert_int_eq(bvt__experiment_variant_allows(d, 1, 3), 0);
    ck_assert_int_eq(bvt__experiment_variant_allows(d, 0, 3), 1);
    ck_assert_int_eq(bvt__experiment_variant_allows(d, BVT_VARIANT_HOLDOUT, 3), 1);
    bvt__experiment_release(d);
    bvt_engine_free(e);
}
END_TEST

/* Bad definitions: each case breaks one field of a good definition. */
enum { BAD_VERSION0, BAD_VERSION_NEW, BAD_NAME_NULL, BAD_NAME_EMPTY, BAD_NAME_LONG,
       BAD_NAME_CTRL, BAD_SALT_EMPTY, BAD_SALT_LONG, BAD_HASH, BAD_ONE_VARIANT,
       BAD_17_VARIANTS, BAD_VARIANTS_NULL, BAD_WEIGHT_NEG, BAD_WEIGHT_NAN, BAD_WEIGHT_INF,
       BAD_WEIGHT_SUM_INF, BAD_COVERAGE_NEG, BAD_COVERAGE_BIG, BAD_COVERAGE_NAN, BAD_HOLDOUT,
       BAD_HOLDOUT_NAN, BAD_VNAME_NULL, BAD_VNAME_DUP, BAD_VNAME_LONG, BAD_POLICY_V0,
       BAD_POLICY_NEW, BAD_POLICY_EPS, BAD_POLICY_KIND, BAD_OFFER_UNKNOWN,
       BAD_OFFERS_NULL, BAD_OFFER_NULL, BAD_REDEFINE_N, BAD_NAME_UTF8, BAD_SALT_UTF8,
       BAD_VNAME_UTF8, BAD_POLICY_DRAWS, BAD_VARIANT_OFFERS, BAD_CASES };

static const int bad_status[BAD_CASES] = {
    [BAD_VERSION0] = BVT_EINVAL, [BAD_VERSION_NEW] = BVT_EVERSION,
    [BAD_NAME_NULL] = BVT_EINVAL, [BAD_NAME_EMPTY] = BVT_EINVAL, [BAD_NAME_LONG] = BVT_EINVAL,
    [BAD_NAME_CTRL] = BVT_EINVAL, [BAD_SALT_EMPTY] = BVT_EINVAL, [BAD_SALT_LONG] = BVT_EINVAL,
    [BAD_HASH] = BVT_EINVAL, [BAD_ONE_VARIANT] = BVT_EINVAL, [BAD_17_VARIANTS] = BVT_EINVAL,
    [BAD_VARIANTS_NULL] = BVT_EINVAL, [BAD_WEIGHT_NEG] = BVT_EINVAL,
    [BAD_WEIGHT_NAN] = BVT_EINVAL, [BAD_WEIGHT_INF] = BVT_EINVAL,
    [BAD_WEIGHT_SUM_INF] = BVT_EINVAL, [BAD_COVERAGE_NEG] = BVT_EINVAL,
    [BAD_COVERAGE_BIG] = BVT_EINVAL, [BAD_COVERAGE_NAN] = BVT_EINVAL,
    [BAD_HOLDOUT] = BVT_EINVAL, [BAD_HOLDOUT_NAN] = BVT_EINVAL, [BAD_VNAME_NULL] = BVT_EINVAL,
    [BAD_VNAME_DUP] = BVT_EINVAL, [BAD_VNAME_LONG] = BVT_EINVAL,
    [BAD_POLICY_V0] = BVT_EINVAL, [BAD_POLICY_NEW] = BVT_EVERSION,
    [BAD_POLICY_EPS] = BVT_EINVAL, [BAD_POLICY_KIND] = BVT_EINVAL,
    [BAD_OFFER_UNKNOWN] = BVT_ENOTFOUND, [BAD_OFFERS_NULL] = BVT_EINVAL,
    [BAD_OFFER_NULL] = BVT_EINVAL, [BAD_REDEFINE_N] = BVT_EINVAL,
    [BAD_NAME_UTF8] = BVT_EINVAL, [BAD_SALT_UTF8] = BVT_EINVAL, [BAD_VNAME_UTF8] = BVT_EINVAL,
    [BAD_POLICY_DRAWS] = BVT_EINVAL, [BAD_VARIANT_OFFERS] = BVT_EINVAL,
};

START_TEST(bad_definitions)
{
    bvt_engine *e = engine_default();
    /* The existing definition a failed redefinition must leave alone. */
    spec good = { "exp", NULL, BVT_HASH_XXH3, 2, { 0.5, 0.5 }, 1.0, 0.0 };
    uint32_t id = define_ok(e, &good);
    int32_t before[200];
    char u[32];
    for (int i = 0; i < 200; i++) {
        user_name(u, sizeof u, i);
        before[i] = variant_of(e, id, u);
    }
    char long_name[80], long_salt[300];
    memset(long_name, 'x', 64);
    long_name[64] = 0;
    memset(long_salt, 's', 256);
    long_salt[256] = 0;
    bvt_policy pol = BVT_POLICY_INIT;
    const char *offers[2] = { "no-such-offer", NULL };
    bvt_variant v[BVT_VARIANTS_MAX + 1];
    for (int i = 0; i <= BVT_VARIANTS_MAX; i++)
        v[i] = (bvt_variant){ i < BVT_VARIANTS_MAX ? vnames[i] : "q", 0.1, NULL, NULL, 0 };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "exp";
    x.variants = v;
    x.n_variants = 2;
    x.coverage = 0.3; /* a change, so a wrongly accepted case would show */
    switch (_i) {
    case BAD_VERSION0: x.version = 0; break;
    case BAD_VERSION_NEW: x.version = BVT_EXPERIMENT_VERSION + 1; break;
    case BAD_NAME_NULL: x.name = NULL; break;
    case BAD_NAME_EMPTY: x.name = ""; break;
    case BAD_NAME_LONG: x.name = long_name; break;
    case BAD_NAME_CTRL: x.name = "ex\tp"; break;
    case BAD_SALT_EMPTY: x.salt = ""; break;
    case BAD_SALT_LONG: x.salt = long_salt; break;
    case BAD_HASH: x.hash = 3; break;
    case BAD_ONE_VARIANT: x.n_variants = 1; break;
    case BAD_17_VARIANTS: x.n_variants = BVT_VARIANTS_MAX + 1; break;
    case BAD_VARIANTS_NULL: x.variants = NULL; break;
    case BAD_WEIGHT_NEG: v[1].weight = -0.1; break;
    case BAD_WEIGHT_NAN: v[1].weight = NAN; break;
    case BAD_WEIGHT_INF: v[1].weight = INFINITY; break;
    case BAD_WEIGHT_SUM_INF: v[0].weight = v[1].weight = 1.7e308; break;
    case BAD_COVERAGE_NEG: x.coverage = -0.01; break;
    case BAD_COVERAGE_BIG: x.coverage = 1.01; break;
    case BAD_COVERAGE_NAN: x.coverage = NAN; break;
    case BAD_HOLDOUT: x.holdout = 1.5; break;
    case BAD_HOLDOUT_NAN: x.holdout = NAN; break;
    case BAD_VNAME_NULL: v[1].name = NULL; break;
    case BAD_VNAME_DUP: v[1].name = "control"; break;
    case BAD_VNAME_LONG: v[1].name = long_name; break;
    case BAD_POLICY_V0: pol.version = 0; v[1].policy = &pol; break;
    case BAD_POLICY_NEW: pol.version = BVT_POLICY_VERSION + 1; v[1].policy = &pol; break;
    case BAD_POLICY_EPS: pol.epsilon = 2.0; v[1].policy = &pol; break;
    case BAD_POLICY_KIND: pol.kind = 77; v[1].policy = &pol; break;
    case BAD_OFFER_UNKNOWN: v[1].offers = offers; v[1].n_offers = 1; break;
    case BAD_OFFERS_NULL: v[1].n_offers = 2; break;
    case BAD_OFFER_NULL: v[1].offers = offers + 1; v[1].n_offers = 1; break;
    case BAD_REDEFINE_N: x.n_variants = 3; break;
    case BAD_NAME_UTF8: x.name = "exp\xff"; break;
    case BAD_SALT_UTF8: x.salt = "s\xc0\x80"; break;
    case BAD_VNAME_UTF8: v[1].name = "trait\xe9"; break;
    case BAD_POLICY_DRAWS: pol.propensity_draws = 4000000000u; v[1].policy = &pol; break;
    case BAD_VARIANT_OFFERS: v[1].offers = offers; v[1].n_offers = (size_t)BVT_OFFERS_MAX + 1;
        break;
    }
    bvt_error err = BVT_ERROR_INIT;
    uint32_t out = 12345;
    int rc = bvt_experiment_define(e, &x, &out, &err);
    ck_assert_msg(rc == bad_status[_i], "case %d: %d, expected %d (%s)", _i, rc,
                  bad_status[_i], err.message);
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(err.message[0] != 0, "case %d: no message", _i);
    ck_assert_uint_eq(out, 12345);
    /* Nothing changed: the old assignment, no new name. */
    for (int i = 0; i < 200; i++) {
        user_name(u, sizeof u, i);
        ck_assert_int_eq(variant_of(e, id, u), before[i]);
    }
    ck_assert_int_eq(bvt_experiment_lookup(e, "q", &out), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_lookup(e, "", &out), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_lookup(e, long_name, &out), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_define(NULL, &x, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_define(e, NULL, NULL, NULL), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

/* The offset of ill-formed UTF-8 in a name is its first bad byte, and the
 * message names the field. */
START_TEST(names_utf8_offsets)
{
    bvt_engine *e = engine_default();
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "tr\xc3\xa9s-\xc3", 1, NULL, NULL, 0 } };
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    x.name = "caf\xc3\xa9-test";
    x.variants = v;
    x.n_variants = 2;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 6);
    ck_assert_msg(strstr(err.message, "variants[1].name") && strstr(err.message, "UTF-8"),
                  "%s", err.message);
    v[1].name = "tr\xc3\xa9s";
    x.name = "\xed\xa0\x80";
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 0);
    ck_assert_msg(strstr(err.message, "experiment name"), "%s", err.message);
    x.name = "caf\xc3\xa9-test";
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, &err), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(experiment_limit)
{
    bvt_engine *e = engine_default();
    char name[32];
    for (int i = 1; i <= BVT_EXPERIMENTS_MAX; i++) {
        snprintf(name, sizeof name, "exp-%d", i);
        ck_assert_uint_eq(define_ab(e, name), (uint32_t)i);
    }
    spec s = { "one-too-many", NULL, BVT_HASH_XXH3, 2, { 1, 1 }, 1.0, 0.0 };
    uint32_t id;
    ck_assert_int_eq(define_spec(e, &s, &id), BVT_ELIMIT);
    ck_assert_int_eq(bvt_experiment_lookup(e, "one-too-many", &id), BVT_ENOTFOUND);
    /* Redefining one that exists still works. */
    ck_assert_uint_eq(define_ab(e, "exp-7"), 7);
    bvt_engine_free(e);
}
END_TEST

/* ---- assignment ---- */

/* The variant the bucketing functions give, computed here from their
 * definitions (docs/experiments.md): holdout by the hash of salt +
 * "/holdout", then the ranges of the normalised weights. */
static int32_t expected_variant(const spec *s, const char *user)
{
    const char *salt = s->salt ? s->salt : s->name;
    char hsalt[300];
    snprintf(hsalt, sizeof hsalt, "%s/holdout", salt);
    size_t ul = strlen(user);
    double h, x;
    if (s->hash == BVT_HASH_XXH3) {
        h = bvt__bucket_hash_xxh3(hsalt, strlen(hsalt), user, ul);
        x = bvt__bucket_hash_xxh3(salt, strlen(salt), user, ul);
    } else {
        h = bvt__bucket_hash_gb(hsalt, strlen(hsalt), user, ul, (int)s->hash, NULL);
        x = bvt__bucket_hash_gb(salt, strlen(salt), user, ul, (int)s->hash, NULL);
    }
    if (h < s->holdout)
        return BVT_VARIANT_HOLDOUT;
    double w[BVT_VARIANTS_MAX], sum = 0, r[BVT_VARIANTS_MAX][2];
    for (size_t i = 0; i < s->n; i++)
        sum += s->w[i];
    for (size_t i = 0; i < s->n; i++)
        w[i] = sum > 0 ? s->w[i] / sum : 1.0 / (double)s->n;
    bvt__bucket_ranges(s->n, s->coverage, w, s->n, r);
    int v = bvt__bucket_choose(x, (const double (*)[2])r, s->n);
    return v < 0 ? BVT_VARIANT_NONE : v;
}

static const spec bucket_specs[] = {
    { "even", NULL, BVT_HASH_XXH3, 2, { 1, 1 }, 1.0, 0.0 },
    { "three", "salty", BVT_HASH_XXH3, 3, { 0.2, 0.3, 0.5 }, 0.7, 0.1 },
    { "zero-weights", NULL, BVT_HASH_XXH3, 4, { 0, 0, 0, 0 }, 1.0, 0.0 },
    { "gb-v1", "seed-1", BVT_HASH_GROWTHBOOK_V1, 2, { 0.4, 0.6 }, 0.9, 0.05 },
    { "gb-v2", NULL, BVT_HASH_GROWTHBOOK_V2, 3, { 0.25, 0.25, 0.5 }, 0.8, 0.1 },
    { "gb-v2-unnormalised", NULL, BVT_HASH_GROWTHBOOK_V2, 2, { 3, 1 }, 1.0, 0.0 },
};

START_TEST(assignment_follows_bucketing)
{
    bvt_engine *e = engine_default();
    const spec *s = &bucket_specs[_i];
    uint32_t id = define_ok(e, s);
    char u[32];
    for (int i = 0; i < 5000; i++) {
        user_name(u, sizeof u, i);
        int32_t v = variant_of(e, id, u);
        ck_assert_msg(v == expected_variant(s, u), "%s: %s got %d, expected %d", s->name, u,
                      v, expected_variant(s, u));
        ck_assert_int_eq(variant_of(e, id, u), v); /* and the same again */
    }
    /* The hash does not depend on the engine's key: another engine agrees. */
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = "a different secret";
    o.secret_len = strlen(o.secret);
    bvt_engine *e2 = engine_new_ok(&o);
    uint32_t id2 = define_ok(e2, s);
    for (int i = 0; i < 500; i++) {
        user_name(u, sizeof u, i);
        ck_assert_int_eq(variant_of(e2, id2, u), variant_of(e, id, u));
    }
    bvt_engine_free(e2);
    bvt_engine_free(e);
}
END_TEST

/* Pinned: these users' variants in "checkout-2026" (XXH3, 3 equal
 * variants, holdout 0.1) must never change between releases.  By hand from
 * the bucketing hashes: alice 0.2749 (holdout hash 0.84), bob 0.3229,
 * carol 0.5061, dave 0.5011, user-1 0.6963, user-2 0.4226 against the
 * thirds; user-5's holdout hash is below 0.1. */
START_TEST(assignment_pinned)
{
    static const struct { const char *user; int32_t v; } pins[] = {
        { "alice", 0 }, { "bob", 0 }, { "carol", 1 }, { "dave", 1 },
        { "user-1", 2 }, { "user-2", 1 }, { "user-5", BVT_VARIANT_HOLDOUT },
    };
    bvt_engine *e = engine_default();
    spec s = { "checkout-2026", NULL, BVT_HASH_XXH3, 3, { 1, 1, 1 }, 1.0, 0.1 };
    uint32_t id = define_ok(e, &s);
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++)
        ck_assert_msg(variant_of(e, id, pins[i].user) == pins[i].v, "%s: %d, pinned %d",
                      pins[i].user, variant_of(e, id, pins[i].user), pins[i].v);
    bvt_engine_free(e);
}
END_TEST

/* n users land in a bucket of probability p: within 3 sigma. */
static void within_3_sigma(uint64_t got, uint64_t n, double p, const char *what)
{
    double mean = (double)n * p, sigma = sqrt((double)n * p * (1 - p));
    ck_assert_msg(fabs((double)got - mean) <= 3 * sigma + 1e-9, "%s: %llu of %llu, expected "
                  "%.0f +- %.0f", what, (unsigned long long)got, (unsigned long long)n, mean,
                  3 * sigma);
}

static const spec fraction_specs[] = {
    { "weights", NULL, BVT_HASH_XXH3, 3, { 0.2, 0.3, 0.5 }, 1.0, 0.0 },
    { "raw-weights", NULL, BVT_HASH_XXH3, 3, { 2, 3, 5 }, 1.0, 0.0 },
    { "coverage-holdout", NULL, BVT_HASH_XXH3, 2, { 1, 3 }, 0.4, 0.1 },
    { "one-weight-zero", NULL, BVT_HASH_XXH3, 3, { 1, 0, 1 }, 1.0, 0.0 },
    { "gb2-weights", NULL, BVT_HASH_GROWTHBOOK_V2, 2, { 0.3, 0.7 }, 0.5, 0.2 },
};

START_TEST(fractions_respected)
{
    enum { N = 100000 };
    const spec *s = &fraction_specs[_i];
    bvt_engine *e = engine_default();
    uint32_t id = define_ok(e, s);
    uint64_t count[BVT_VARIANTS_MAX] = { 0 }, holdout = 0, none = 0;
    char u[32];
    for (int i = 0; i < N; i++) {
        user_name(u, sizeof u, i);
        int32_t v = variant_of(e, id, u);
        if (v == BVT_VARIANT_HOLDOUT)
            holdout++;
        else if (v == BVT_VARIANT_NONE)
            none++;
        else
            count[v]++;
    }
    double sum = 0;
    for (size_t v = 0; v < s->n; v++)
        sum += s->w[v];
    within_3_sigma(holdout, N, s->holdout, "holdout");
    within_3_sigma(none, N, (1 - s->holdout) * (1 - s->coverage), "outside coverage");
    char what[64];
    for (size_t v = 0; v < s->n; v++) {
        snprintf(what, sizeof what, "%s variant %zu", s->name, v);
        within_3_sigma(count[v], N, (1 - s->holdout) * s->coverage * s->w[v] / sum, what);
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(variant_of_arguments)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ab(e, "a");
    int32_t v = 42;
    ck_assert_int_eq(bvt_experiment_variant_of(NULL, id, "u", 1, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_variant_of(e, 0, "u", 1, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, NULL, 1, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, "u", 0, &v), BVT_EINVAL);
    char big[BVT_USER_ID_MAX + 1];
    memset(big, 'u', sizeof big);
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, big, sizeof big, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, big, BVT_USER_ID_MAX, &v), BVT_OK);
    ck_assert_int_eq(bvt_experiment_variant_of(e, id, "u", 1, NULL), BVT_EINVAL);
    v = 42;
    ck_assert_int_eq(bvt_experiment_variant_of(e, id + 1, "u", 1, &v), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_variant_of(e, BVT_EXPERIMENTS_MAX + 1, "u", 1, &v),
                     BVT_ENOTFOUND);
    ck_assert_int_eq(v, 42);
    /* assign */
    ck_assert_int_eq(bvt_experiment_assign(NULL, id, "u", 1, T0, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, 0, "u", 1, T0, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id, NULL, 1, T0, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id, "u", 0, T0, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id, "u", 1, 0, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id, "u", 1, -5, &v), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id, "u", 1, T0, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_assign(e, id + 1, "u", 1, T0, &v), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 0); /* no call above created anything */
    bvt_experiment_report r = report(e, id);
    ck_assert_uint_eq(total_users(&r), 0);
    bvt_engine_free(e);
}
END_TEST

/* ---- stickiness ---- */

START_TEST(sticky_across_redefinition)
{
    enum { N = 2000 };
    bvt_engine *e = engine_default();
    spec s = { "sticky", NULL, BVT_HASH_XXH3, 2, { 0.5, 0.5 }, 1.0, 0.0 };
    uint32_t id = define_ok(e, &s);
    static int32_t first[N];
    char u[32];
    for (int i = 0; i < N; i++) {
        user_name(u, sizeof u, i);
        first[i] = assign_ok(e, id, u, T0 + i);
        ck_assert_int_eq(first[i], variant_of(e, id, u));
    }
    bvt_experiment_report r0 = report(e, id);
    ck_assert_uint_eq(total_users(&r0), N);
    /* New weights, a new salt even: assignments already made stay. */
    s.w[0] = 0.1;
    s.w[1] = 0.9;
    s.salt = "reshuffled";
    ck_assert_uint_eq(define_ok(e, &s), id);
    int moved = 0;
    for (int i = 0; i < N; i++) {
        user_name(u, sizeof u, i);
        ck_assert_int_eq(assign_ok(e, id, u, T0 + DAY), first[i]);
        moved += variant_of(e, id, u) != first[i];
    }
    ck_assert_int_gt(moved, N / 4); /* the hash alone would have moved many */
    bvt_experiment_report r1 = report(e, id);
    ck_assert_uint_eq(r1.variants[0].users, r0.variants[0].users);
    ck_assert_uint_eq(r1.variants[1].users, r0.variants[1].users);
    /* New users follow the new definition. */
    for (int i = N; i < N + 200; i++) {
        user_name(u, sizeof u, i);
        ck_assert_int_eq(assign_ok(e, id, u, T0 + DAY), variant_of(e, id, u));
    }
    bvt_engine_free(e);
}
END_TEST

START_TEST(outside_coverage_not_recorded)
{
    bvt_engine *e = engine_default();
    spec s = { "cov", NULL, BVT_HASH_XXH3, 2, { 1, 1 }, 0.0, 0.0 };
    uint32_t id = define_ok(e, &s);
    /* Nobody is in: nothing is recorded, no profile is created. */
    ck_assert_int_eq(assign_ok(e, id, "zoe", T0), BVT_VARIANT_NONE);
    ck_assert_int_eq(bvt_user_exists(e, "zoe", 3), 0);
    /* Coverage up: the user joins (no sticky NONE kept her out). */
    s.coverage = 1.0;
    define_ok(e, &s);
    int32_t v = assign_ok(e, id, "zoe", T0 + 1);
    ck_assert_int_ge(v, 0);
    ck_assert_int_eq(bvt_user_exists(e, "zoe", 3), 1);
    /* Coverage down again: she stays in her variant. */
    s.coverage = 0.0;
    define_ok(e, &s);
    ck_assert_int_eq(variant_of(e, id, "zoe"), BVT_VARIANT_NONE);
    ck_assert_int_eq(assign_ok(e, id, "zoe", T0 + 2), v);
    bvt_experiment_report r = report(e, id);
    ck_assert_uint_eq(total_users(&r), 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(holdout_is_sticky_and_counted)
{
    bvt_engine *e = engine_default();
    spec s = { "ho", NULL, BVT_HASH_XXH3, 2, { 1, 1 }, 1.0, 0.5 };
    uint32_t id = define_ok(e, &s);
    char u[32], held[32] = "";
    for (int i = 0; i < 100 && !held[0]; i++) {
        user_name(u, sizeof u, i);
        if (variant_of(e, id, u) == BVT_VARIANT_HOLDOUT)
            strcpy(held, u);
    }
    ck_assert(held[0]);
    ck_assert_int_eq(assign_ok(e, id, held, T0), BVT_VARIANT_HOLDOUT);
    s.holdout = 0.0;
    define_ok(e, &s);
    ck_assert_int_ge(variant_of(e, id, held), 0);
    ck_assert_int_eq(assign_ok(e, id, held, T0 + 1), BVT_VARIANT_HOLDOUT);
    bvt_experiment_report r = report(e, id);
    ck_assert_uint_eq(r.holdout.users, 1);
    ck_assert_uint_eq(r.variants[0].users + r.variants[1].users, 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(sticky_limit)
{
    bvt_engine *e = engine_default();
    char name[32];
    uint32_t ids[BVT_EXP_USER_MAX + 1];
    int32_t got[BVT_EXP_USER_MAX + 1];
    for (int i = 0; i <= BVT_EXP_USER_MAX; i++) {
        snprintf(name, sizeof name, "many-%d", i);
        ids[i] = define_ab(e, name);
    }
    for (int i = 0; i < BVT_EXP_USER_MAX; i++)
        got[i] = assign_ok(e, ids[i], "busy", T0 + i);
    bvt_stats st0 = stats_of(e);
    /* The 33rd: BVT_ELIMIT, the hashed variant anyway, nothing recorded. */
    int32_t v = 99;
    ck_assert_int_eq(assign(e, ids[BVT_EXP_USER_MAX], "busy", T0 + 100, &v), BVT_ELIMIT);
    ck_assert_int_eq(v, variant_of(e, ids[BVT_EXP_USER_MAX], "busy"));
    bvt_experiment_report r = report(e, ids[BVT_EXP_USER_MAX]);
    ck_assert_uint_eq(total_users(&r), 0);
    bvt_stats st1 = stats_of(e);
    ck_assert_uint_eq(st1.bytes_attributes, st0.bytes_attributes);
    /* The 32 kept stay sticky; another user can still join the 33rd. */
    for (int i = 0; i < BVT_EXP_USER_MAX; i++)
        ck_assert_int_eq(assign_ok(e, ids[i], "busy", T0 + 200), got[i]);
    assign_ok(e, ids[BVT_EXP_USER_MAX], "idle", T0);
    r = report(e, ids[BVT_EXP_USER_MAX]);
    ck_assert_uint_eq(total_users(&r), 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(memory_accounted)
{
    bvt_engine *e = engine_default();
    uint32_t a = define_ab(e, "m1"), b = define_ab(e, "m2"), c = define_ab(e, "m3");
    track_ok(e, "mia", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_stats s0 = stats_of(e);
    assign_ok(e, a, "mia", T0);
    bvt_stats s1 = stats_of(e);
    ck_assert_uint_gt(s1.bytes_attributes, s0.bytes_attributes);
    assign_ok(e, b, "mia", T0);
    assign_ok(e, a, "mia", T0); /* again: nothing new */
    bvt_stats s2 = stats_of(e);
    ck_assert_uint_eq(s2.bytes_attributes, s1.bytes_attributes); /* room for 2 */
    assign_ok(e, c, "mia", T0);
    bvt_stats s3 = stats_of(e);
    ck_assert_uint_gt(s3.bytes_attributes, s2.bytes_attributes);
    bvt_engine_free(e);
}
END_TEST

/* Under a budget, assign fails with BVT_EFULL but still says the variant,
 * records nothing and leaves no empty profile behind. */
START_TEST(memory_budget_full)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.memory_budget = 16384;
    bvt_engine *e = engine_with(&o);
    uint32_t id = define_ab(e, "budget");
    char u[32];
    uint64_t ok = 0;
    int i, rc = BVT_OK;
    int32_t v = 99;
    for (i = 0; i < 100000; i++) {
        user_name(u, sizeof u, i);
        v = 99;
        rc = assign(e, id, u, T0, &v);
        if (rc != BVT_OK)
            break;
        ok++;
    }
    ck_assert_int_eq(rc, BVT_EFULL);
    ck_assert_int_eq(v, variant_of(e, id, u));
    ck_assert_int_eq(bvt_user_exists(e, u, strlen(u)), 0);
    bvt_experiment_report r = report(e, id);
    ck_assert_uint_eq(total_users(&r), ok);
    /* Users already assigned keep their variant; still BVT_OK. */
    user_name(u, sizeof u, 0);
    ck_assert_int_eq(assign_ok(e, id, u, T0 + 1), variant_of(e, id, u));

    /* Profiles that exist, with no room left for an entry: more
     * experiments per user grow their blocks until the budget refuses. */
    uint32_t more[BVT_EXP_USER_MAX];
    char name[32];
    for (int k = 0; k < BVT_EXP_USER_MAX - 1; k++) {
        snprintf(name, sizeof name, "budget-%d", k);
        more[k] = define_ab(e, name);
    }
    rc = BVT_OK;
    uint64_t okk = 0;
    int k = 0, j = 0;
    for (k = 0; k < BVT_EXP_USER_MAX - 1 && rc == BVT_OK; k++) {
        okk = 0;
        for (j = 0; j < i && rc == BVT_OK; j++) {
            user_name(u, sizeof u, j);
            v = 99;
            rc = assign(e, more[k], u, T0, &v);
            okk += rc == BVT_OK;
        }
    }
    k--;
    ck_assert_int_eq(rc, BVT_EFULL);
    ck_assert_int_eq(v, variant_of(e, more[k], u));
    ck_assert_int_eq(bvt_user_exists(e, u, strlen(u)), 1); /* kept: it had data */
    ck_assert_int_eq(assign_ok(e, id, u, T0 + 1), variant_of(e, id, u)); /* still sticky */
    r = report(e, more[k]);
    ck_assert_uint_eq(total_users(&r), okk);
    bvt_engine_free(e);
}
END_TEST

/* Aliasing: the known profile's assignments win, the anonymous one's
 * others move over. */
START_TEST(alias_merges_assignments)
{
    bvt_engine *e = engine_default();
    uint32_t x = define_ab(e, "x"), y = define_ab(e, "y");
    /* An anonymous and a known id that hash apart in x. */
    char anon[32], known[32];
    int i = 0;
    do {
        snprintf(anon, sizeof anon, "cookie-%d", i);
        snprintf(known, sizeof known, "login-%d", i);
        i++;
    } while (variant_of(e, x, anon) == variant_of(e, x, known));
    int32_t ax = assign_ok(e, x, anon, T0), ay = assign_ok(e, y, anon, T0);
    int32_t kx = assign_ok(e, x, known, T0);
    ck_assert_int_ne(ax, kx);
    ck_assert_int_eq(bvt_user_alias(e, anon, strlen(anon), known, strlen(known), NULL), BVT_OK);
    ck_assert_int_eq(assign_ok(e, x, known, T0 + 1), kx);
    ck_assert_int_eq(assign_ok(e, y, known, T0 + 1), ay); /* moved over */
    ck_assert_int_eq(assign_ok(e, x, anon, T0 + 1), kx);  /* the alias follows */
    /* Counters count identities exposed; the merge rewrites none. */
    bvt_experiment_report r = report(e, x);
    ck_assert_uint_eq(total_users(&r), 2);
    bvt_engine_free(e);
}
END_TEST

/* ---- outcomes and the report ---- */

/* Users u0..u3 in a 2-variant experiment, outcomes sent through the hook:
 * every counter, once-per-user converters, revenue per user and its
 * square sum, and outcomes before the exposure ignored. */
START_TEST(outcomes_counted)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ab(e, "outcomes");
    /* Two users per variant. */
    char users[2][2][32];
    int have[2] = { 0, 0 };
    char u[32];
    for (int i = 0; have[0] < 2 || have[1] < 2; i++) {
        user_name(u, sizeof u, i);
        int32_t v = variant_of(e, id, u);
        if (have[v] < 2)
            strcpy(users[v][have[v]++], u);
    }
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 2; k++)
            ck_assert_int_eq(assign_ok(e, id, users[v][k], T0 + HOUR), v);
    /* Before the exposure: not counted. */
    outcome(e, users[0][0], BVT_EVENT_IMPRESSION, T0, 0, 5);
    outcome(e, users[0][0], BVT_EVENT_PURCHASE, T0, 100, 0);
    /* Control: 3 impressions, 1 click, 2 conversions by one user, a purchase. */
    int64_t t = T0 + HOUR; /* at the exposure time: counted */
    outcome(e, users[0][0], BVT_EVENT_IMPRESSION, t, 0, 0.5);
    outcome(e, users[0][0], BVT_EVENT_IMPRESSION, t + 1, 0, 0.5);
    outcome(e, users[0][1], BVT_EVENT_IMPRESSION, t + 2, 0, 0.5);
    outcome(e, users[0][0], BVT_EVENT_CLICK, t + 3, 0, 0);
    outcome(e, users[0][0], BVT_EVENT_CONVERSION, t + 4, 10, 0);
    outcome(e, users[0][0], BVT_EVENT_CONVERSION, t + 5, 20, 0);
    outcome(e, users[0][0], BVT_EVENT_PURCHASE, t + 6, 30, 0);
    /* Variant b: 2 impressions, 2 clicks, both users buy. */
    outcome(e, users[1][0], BVT_EVENT_IMPRESSION, t, 0, 1);
    outcome(e, users[1][1], BVT_EVENT_IMPRESSION, t, 0, 1);
    outcome(e, users[1][0], BVT_EVENT_CLICK, t, 0, 0);
    outcome(e, users[1][1], BVT_EVENT_CLICK, t, 0, 0);
    outcome(e, users[1][0], BVT_EVENT_PURCHASE, t, 40, 0);
    outcome(e, users[1][1], BVT_EVENT_PURCHASE, t, 20, 0);
    /* Other types and unknown users change nothing. */
    outcome(e, users[1][1], BVT_EVENT_PAGE_VIEW, t, 1000, 1000);
    ck_assert_int_eq(outcome(e, "stranger", BVT_EVENT_PURCHASE, t, 1000, 0), 0);
    bvt__experiments_on_event(e, NULL, &(bvt_outcome){ BVT_EVENT_CLICK, 0, t, 0, 0 });

    bvt_experiment_report r = report(e, id);
    const bvt_variant_report *c = &r.variants[0], *b = &r.variants[1];
    ck_assert_uint_eq(c->users, 2);
    ck_assert_uint_eq(c->impressions, 3);
    ck_assert_uint_eq(c->clicks, 1);
    ck_assert_uint_eq(c->conversions, 2);
    ck_assert_uint_eq(c->converters, 1);
    ck_assert(close_rel(c->revenue, 60, 1e-12));
    ck_assert(close_rel(c->cost, 1.5, 1e-12));
    ck_assert(close_rel(c->ctr, 1.0 / 3, 1e-12));
    ck_assert(close_rel(c->conversion_rate, 0.5, 1e-12));
    ck_assert(close_rel(c->revenue_per_user, 30, 1e-12));
    ck_assert(close_rel(c->roi, (60 - 1.5) / 1.5, 1e-12));
    ck_assert_uint_eq(b->users, 2);
    ck_assert_uint_eq(b->impressions, 2);
    ck_assert_uint_eq(b->clicks, 2);
    ck_assert_uint_eq(b->conversions, 0);
    ck_assert_uint_eq(b->converters, 2);
    ck_assert(close_rel(b->revenue, 60, 1e-12));
    ck_assert(close_rel(b->conversion_rate, 1.0, 1e-12));
    /* Control's lifts are zeros. */
    ck_assert(c->ctr_lift.absolute == 0 && c->revenue_lift.p_value == 0);
    /* b's revenue lift: per-user revenue control {60, 0}, b {40, 20}:
     * means 30 and 30, variances 1800 and 200, difference 0, p 1;
     * se = sqrt(1800 / 2 + 200 / 2) = sqrt(1000) = 31.6227766,
     * CI 0 -+ 1.959964 * 31.6227766 = -+61.979503. */
    ck_assert(fabs(b->revenue_lift.absolute) < 1e-12);
    ck_assert(close_rel(b->revenue_lift.abs_high, 1.959963984540054 * sqrt(1000.0), 1e-9));
    ck_assert(close_rel(b->revenue_lift.p_value, 1.0, 1e-12));
    /* ctr lift: 2/2 against 1/3; conversion lift: 2/2 against 1/2. */
    ck_assert(close_rel(b->ctr_lift.absolute, 1 - 1.0 / 3, 1e-12));
    ck_assert(close_rel(b->ctr_lift.relative, 2.0, 1e-12));
    ck_assert(close_rel(b->conversion_lift.absolute, 0.5, 1e-12));
    ck_assert(close_rel(b->conversion_lift.relative, 1.0, 1e-12));
    bvt_engine_free(e);
}
END_TEST

/* The report's revenue statistics are Welch's test on per-user revenue,
 * which needs the sum of squares over users: with many events per user it
 * must equal sum over users of (their total)^2, not of each event's. */
START_TEST(revenue_squares_per_user)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ab(e, "rev");
    char u[32];
    double sum[2] = { 0, 0 }, sq[2] = { 0, 0 };
    uint64_t n[2] = { 0, 0 };
    for (int i = 0; i < 300; i++) {
        user_name(u, sizeof u, i);
        int32_t v = assign_ok(e, id, u, T0);
        double total = 0;
        for (int k = 0; k < i % 4; k++) {
            double x = 1.0 + (double)((i * 7 + k * 3) % 11) + (v == 1 ? 2.0 : 0.0);
            outcome(e, u, BVT_EVENT_PURCHASE, T0 + k, x, 0);
            total += x;
        }
        sum[v] += total;
        sq[v] += total * total;
        n[v]++;
    }
    bvt_lift want;
    bvt__stats_welch(n[0], sum[0], sq[0], n[1], sum[1], sq[1], 0.95, &want);
    bvt_experiment_report r = report(e, id);
    const bvt_lift *got = &r.variants[1].revenue_lift;
    ck_assert(close_rel(got->absolute, want.absolute, 1e-9));
    ck_assert(close_rel(got->abs_low, want.abs_low, 1e-9));
    ck_assert(close_rel(got->abs_high, want.abs_high, 1e-9));
    ck_assert(close_rel(got->p_value, want.p_value, 1e-9));
    ck_assert(close_rel(got->rel_low, want.rel_low, 1e-9));
    ck_assert(want.p_value < 0.05); /* +2 per purchase is visible at this size */
    bvt_engine_free(e);
}
END_TEST

/* Rows by offer segment at exposure (white box: the segment list is not
 * settable until the offer catalog lands, so masks are given directly). */
START_TEST(segment_rows)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ab(e, "seg");
    const bvt_experiment_def *d = bvt__experiment_acquire(e, "seg");
    char u[32];
    uint64_t in_row[BVT_EXP_ROWS] = { 0 }, impressions[BVT_EXP_ROWS] = { 0 };
    for (int i = 0; i < 64; i++) {
        user_name(u, sizeof u, i);
        uint32_t mask = (uint32_t)i & 0x5u; /* slots 0 and 2 */
        if (i == 63)
            mask |= 1u << 20; /* beyond the segment slots: ignored */
        int created;
        bvt_shard *sh;
        bvt_record *r;
        ck_assert_int_eq(bvt__engine_lock_or_create(e, bvt__engine_key(e, u, strlen(u)), &sh, &r,
                                                   &created), BVT_OK);
        int32_t v = bvt__experiment_expose_locked(e, d, &sh->mem, r, u, strlen(u), T0, mask);
        pthread_mutex_unlock(&sh->lock);
        ck_assert_int_eq(v, variant_of(e, id, u));
        in_row[0]++;
        for (int b = 0; b < 3; b++)
            in_row[1 + b] += (mask >> b) & 1;
        outcome(e, u, BVT_EVENT_IMPRESSION, T0 + 1, 0, 0);
        impressions[0]++;
        for (int b = 0; b < 3; b++)
            impressions[1 + b] += (mask >> b) & 1;
    }
    bvt__experiment_release(d);
    for (uint32_t row = 0; row < 4; row++) {
        bvt_experiment_report r = report_row(e, id, row);
        ck_assert_uint_eq(total_users(&r), in_row[row]);
        ck_assert_uint_eq(r.variants[0].impressions + r.variants[1].impressions,
                          impressions[row]);
    }
    ck_assert_uint_eq(in_row[2], 0); /* slot 1 never set */
    /* No segment list yet: any segment id is unknown to reports. */
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 1, &r), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt__experiment_report_row(e, id, BVT_EXP_ROWS, &r), BVT_EINVAL);
    bvt_engine_free(e);
}
END_TEST

START_TEST(report_arguments)
{
    bvt_engine *e = engine_default();
    uint32_t id = define_ab(e, "r");
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &r), BVT_EINVAL); /* version 0 */
    r.version = BVT_EXPERIMENT_REPORT_VERSION + 1;
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &r), BVT_EVERSION);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    ck_assert_int_eq(bvt_experiment_report_get(NULL, id, 0, &r), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_report_get(e, 0, 0, &r), BVT_EINVAL);
    ck_assert_int_eq(bvt_experiment_report_get(e, id + 1, 0, &r), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_report_get(e, 5000, 0, &r), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_experiment_report_get(e, id, 0, &r), BVT_OK);
    ck_assert_uint_eq(r.version, BVT_EXPERIMENT_REPORT_VERSION);
    ck_assert(r.srm_p_value == 1.0 && r.srm_chi2 == 0 && !r.srm_mismatch);
    bvt_engine_free(e);
}
END_TEST

/* SRM: a fair split passes; exposures logged for only half of variant b's
 * users (a classic cause: b's page fails to fire the exposure) fail. */
START_TEST(srm_detection)
{
    enum { N = 20000 };
    bvt_engine *e = engine_default();
    spec s = { "srm", NULL, BVT_HASH_XXH3, 3, { 0.5, 0.25, 0.25 }, 1.0, 0.1 };
    uint32_t fair = define_ok(e, &s);
    s.name = "srm-skewed";
    uint32_t skew = define_ok(e, &s);
    char u[32];
    for (int i = 0; i < N; i++) {
        user_name(u, sizeof u, i);
        assign_ok(e, fair, u, T0);
        if (variant_of(e, skew, u) != 1 || i % 2 == 0)
            assign_ok(e, skew, u, T0);
    }
    bvt_experiment_report r = report(e, fair);
    ck_assert_msg(!r.srm_mismatch, "fair split flagged: chi2 %g p %g", r.srm_chi2,
                  r.srm_p_value);
    ck_assert(r.srm_p_value > 0.001);
    /* The holdout does not enter the check, but is counted. */
    ck_assert_uint_gt(r.holdout.users, N / 20);
    r = report(e, skew);
    ck_assert_msg(r.srm_mismatch, "skewed split not flagged: chi2 %g p %g", r.srm_chi2,
                  r.srm_p_value);
    ck_assert(r.srm_p_value < 1e-10);
    /* The statistic is Pearson's against the normalised weights. */
    double n = 0;
    for (int v = 0; v < 3; v++)
        n += (double)r.variants[v].users;
    double chi = 0;
    for (int v = 0; v < 3; v++) {
        double x = n * s.w[v] / 1.0, d = (double)r.variants[v].users - x;
        chi += d * d / x;
    }
    ck_assert(close_rel(r.srm_chi2, chi, 1e-9));
    ck_assert(close_rel(r.srm_p_value, bvt__stats_chi2_sf(chi, 2), 1e-9));
    bvt_engine_free(e);
}
END_TEST

/* ---- threads ---- */

enum { C_USERS = 1500, C_REDEFINES = 200 };

typedef struct conc {
    bvt_engine *e;
    uint32_t id;
    int32_t seen[2][C_USERS];
    _Atomic uint64_t impressions_sent;
    _Atomic int bad;
} conc;

static void c_user(char *u, size_t cap, int i)
{
    snprintf(u, cap, "c-%d", i);
}

static void *c_assign_up(void *arg)
{
    conc *c = arg;
    char u[32];
    for (int i = 0; i < C_USERS; i++) {
        c_user(u, sizeof u, i);
        if (assign(c->e, c->id, u, T0 + i, &c->seen[0][i]) != BVT_OK)
            atomic_fetch_add(&c->bad, 1);
    }
    return NULL;
}

static void *c_assign_down(void *arg)
{
    conc *c = arg;
    char u[32];
    for (int i = C_USERS - 1; i >= 0; i--) {
        c_user(u, sizeof u, i);
        if (assign(c->e, c->id, u, T0 + i, &c->seen[1][i]) != BVT_OK)
            atomic_fetch_add(&c->bad, 1);
    }
    return NULL;
}

static void *c_redefine(void *arg)
{
    conc *c = arg;
    for (int k = 0; k < C_REDEFINES; k++) {
        /* Weights and holdout change; coverage stays 1, so nobody is ever
         * outside (which would not be sticky). */
        spec s = { "conc", NULL, BVT_HASH_XXH3, 2, { k % 2 ? 0.2 : 0.5, k % 2 ? 0.8 : 0.5 },
                   1.0, k % 5 ? 0.0 : 0.1 };
        uint32_t id;
        if (define_spec(c->e, &s, &id) != BVT_OK || id != c->id)
            atomic_fetch_add(&c->bad, 1);
    }
    return NULL;
}

static void *c_variant_of(void *arg)
{
    conc *c = arg;
    char u[32];
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < C_USERS; i++) {
            c_user(u, sizeof u, i);
            int32_t v = 99;
            if (bvt_experiment_variant_of(c->e, c->id, u, strlen(u), &v) != BVT_OK || v < -2 ||
                v > 1)
                atomic_fetch_add(&c->bad, 1);
        }
    return NULL;
}

static void *c_outcomes(void *arg)
{
    conc *c = arg;
    char u[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < C_USERS; i += 3) {
            c_user(u, sizeof u, i);
            /* Counted for the user's entry (a single experiment: one credit). */
            if (outcome(c->e, u, BVT_EVENT_IMPRESSION, T0 + DAY, 0.25, 0.125))
                atomic_fetch_add(&c->impressions_sent, 1);
        }
    return NULL;
}

static void *c_report(void *arg)
{
    conc *c = arg;
    uint64_t last_users = 0, last_imp = 0;
    for (int k = 0; k < 300; k++) {
        bvt_experiment_report r;
        memset(&r, 0, sizeof r);
        r.version = BVT_EXPERIMENT_REPORT_VERSION;
        if (bvt_experiment_report_get(c->e, c->id, 0, &r) != BVT_OK) {
            atomic_fetch_add(&c->bad, 1);
            continue;
        }
        uint64_t users = total_users(&r), imp = r.holdout.impressions;
        for (uint32_t v = 0; v < r.n_variants; v++)
            imp += r.variants[v].impressions;
        if (users < last_users || users > C_USERS || imp < last_imp || r.n_variants != 2)
            atomic_fetch_add(&c->bad, 1);
        last_users = users;
        last_imp = imp;
    }
    return NULL;
}

START_TEST(concurrent_use)
{
    static conc c;
    memset(&c, 0, sizeof c);
    c.e = engine_default();
    spec s = { "conc", NULL, BVT_HASH_XXH3, 2, { 0.5, 0.5 }, 1.0, 0.0 };
    c.id = define_ok(c.e, &s);
    const thread_fn fns[] = { c_assign_up, c_assign_down, c_redefine, c_variant_of, c_outcomes,
                              c_report };
    run_threads(fns, sizeof fns / sizeof fns[0], &c);
    ck_assert_int_eq(atomic_load(&c.bad), 0);
    /* Whoever came first, both saw the same sticky variant, and it holds. */
    uint64_t assigned = 0;
    char u[32];
    for (int i = 0; i < C_USERS; i++) {
        ck_assert_int_eq(c.seen[0][i], c.seen[1][i]);
        c_user(u, sizeof u, i);
        if (c.seen[0][i] != BVT_VARIANT_NONE) {
            ck_assert_int_eq(assign_ok(c.e, c.id, u, T0 + 2 * DAY), c.seen[0][i]);
            assigned++;
        }
    }
    bvt_experiment_report r = report(c.e, c.id);
    ck_assert_uint_eq(total_users(&r), assigned);
    uint64_t imp = r.holdout.impressions;
    double cost = r.holdout.cost;
    for (uint32_t v = 0; v < r.n_variants; v++) {
        imp += r.variants[v].impressions;
        cost += r.variants[v].cost;
    }
    ck_assert_uint_eq(imp, atomic_load(&c.impressions_sent));
    ck_assert(close_rel(cost, 0.125 * (double)imp, 1e-12));
    bvt_engine_free(c.e);
}
END_TEST

/* bvt_experiment_assign_v2 fills err on every failure; the 1.1 call
 * without err, now the same code with err NULL, answers as before. */
#define ERR_HAS(err, text) \
    ck_assert_msg(strstr((err).message, (text)) != NULL, "message: %s", (err).message)

START_TEST(assign_v2_explains)
{
    bvt_engine *e = engine_default();
    bvt_error err = BVT_ERROR_INIT;
    int32_t v = 99;
    uint32_t id = define_ab(e, "explained");
    ck_assert_int_eq(bvt_experiment_assign_v2(NULL, id, "u", 1, T0, &v, &err), BVT_EINVAL);
    ERR_HAS(err, "engine or out_variant is NULL");
    ck_assert_int_eq(bvt_experiment_assign_v2(e, id, "u", 0, T0, &v, &err), BVT_EINVAL);
    ERR_HAS(err, "user id must be 1..1024 bytes");
    ck_assert_int_eq(bvt_experiment_assign_v2(e, id, "u", 1, 0, &v, &err), BVT_EINVAL);
    ERR_HAS(err, "now must be > 0");
    ck_assert_int_eq(bvt_experiment_assign_v2(e, 0, "u", 1, T0, &v, &err), BVT_EINVAL);
    ERR_HAS(err, "experiment id 0");
    ck_assert_int_eq(bvt_experiment_assign_v2(e, id + 7, "u", 1, T0, &v, &err), BVT_ENOTFOUND);
    ck_assert_int_eq(err.code, BVT_ENOTFOUND);
    ERR_HAS(err, "no experiment has id");
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 0);
    /* A refused change: the user's assignments are at their bound. */
    char name[32];
    uint32_t ids[BVT_EXP_USER_MAX];
    for (int i = 0; i < BVT_EXP_USER_MAX; i++) {
        snprintf(name, sizeof name, "full-%d", i);
        ids[i] = define_ab(e, name);
        ck_assert_int_eq(bvt_experiment_assign_v2(e, ids[i], "u", 1, T0, &v, &err), BVT_OK);
        ck_assert_int_eq(v, variant_of(e, ids[i], "u"));
    }
    ck_assert_int_eq(bvt_experiment_assign_v2(e, id, "u", 1, T0, &v, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.code, BVT_ELIMIT);
    ERR_HAS(err, "32 experiment assignments");
    ck_assert_int_eq(v, variant_of(e, id, "u"));
    bvt_experiment_report r = report(e, id);
    ck_assert_uint_eq(total_users(&r), 0); /* nothing recorded */
    /* The call without err: the same answers. */
    ck_assert_int_eq(assign(e, id, "u", T0, &v), BVT_ELIMIT);
    ck_assert_int_eq(assign(e, 0, "u", T0, &v), BVT_EINVAL);
    ck_assert_int_eq(assign(e, id + 7 + BVT_EXP_USER_MAX, "u", T0, &v), BVT_ENOTFOUND);
    ck_assert_int_eq(assign(e, ids[3], "u", T0 + 1, &v), BVT_OK);
    ck_assert_int_eq(v, variant_of(e, ids[3], "u"));
    ck_assert_int_eq(bvt_experiment_assign_v2(e, id, "w", 1, T0, &v, NULL), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

static Suite *experiment_suite(void)
{
    Suite *s = suite_create("experiment");
    TCase *tc = tcase_create("experiment");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, define_and_lookup);
    tcase_add_test(tc, init_matches_macro);
    tcase_add_test(tc, policies_per_variant);
    tcase_add_loop_test(tc, bad_definitions, 0, BAD_CASES);
    tcase_add_test(tc, experiment_limit);
    tcase_add_test(tc, names_utf8_offsets);
    tcase_add_loop_test(tc, assignment_follows_bucketing, 0,
                        (int)(sizeof bucket_specs / sizeof bucket_specs[0]));
    tcase_add_test(tc, assignment_pinned);
    tcase_add_loop_test(tc, fractions_respected, 0,
                        (int)(sizeof fraction_specs / sizeof fraction_specs[0]));
    tcase_add_test(tc, variant_of_arguments);
    tcase_add_test(tc, sticky_across_redefinition);
    tcase_add_test(tc, outside_coverage_not_recorded);
    tcase_add_test(tc, holdout_is_sticky_and_counted);
    tcase_add_test(tc, sticky_limit);
    tcase_add_test(tc, memory_accounted);
    tcase_add_test(tc, memory_budget_full);
    tcase_add_test(tc, alias_merges_assignments);
    tcase_add_test(tc, outcomes_counted);
    tcase_add_test(tc, revenue_squares_per_user);
    tcase_add_test(tc, segment_rows);
    tcase_add_test(tc, report_arguments);
    tcase_add_test(tc, srm_detection);
    tcase_add_test(tc, concurrent_use);
    tcase_add_test(tc, assign_v2_explains);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(experiment_suite()); }
