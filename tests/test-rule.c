/* test-rule.c — the segment rule language against a fake profile: grammar
 * and precedence, every error with its offset, each feature and function,
 * and a seeded property test comparing the compiled evaluator with a direct
 * evaluation of randomly generated rules. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "testutil.h"

/* ---- fake names ---------------------------------------------------------- */

#define MAX_NAMES 64

typedef struct table {
    char s[MAX_NAMES][64];
    uint32_t n, limit;
} table;

static table categories, strings;

static int table_id(table *t, const char *s, size_t len, uint32_t *out)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (strlen(t->s[i]) == len && memcmp(t->s[i], s, len) == 0) {
            *out = i + 1;
            return BVT_OK;
        }
    if (t->n >= (t->limit ? t->limit : MAX_NAMES) || len >= 64)
        return BVT_ELIMIT;
    memcpy(t->s[t->n], s, len);
    t->s[t->n][len] = '\0';
    *out = ++t->n;
    return BVT_OK;
}

static uint32_t id_of(table *t, const char *s)
{
    uint32_t id = 0;
    ck_assert_int_eq(table_id(t, s, strlen(s), &id), BVT_OK);
    return id;
}

static int name_in(const char *const *list, uint32_t n, const char *s, size_t len,
                   uint32_t *out)
{
    for (uint32_t i = 0; i < n; i++)
        if (list[i] && strlen(list[i]) == len && memcmp(list[i], s, len) == 0) {
            *out = i;
            return BVT_OK;
        }
    return BVT_ENOTFOUND;
}

static const char *const type_names[] = { "page_view", "search", "add_to_cart",
                                          "remove_from_cart", "purchase", "impression",
                                          "click", "conversion" };
static int cb_type(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    return name_in(type_names, 8, s, len, out) == BVT_OK ? BVT_OK : BVT_ETYPE;
}
static int cb_category(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    return table_id(&categories, s, len, out);
}
static int cb_string(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    return table_id(&strings, s, len, out);
}
static const char *const purposes[] = { NULL, "ads", "analytics" };
static int cb_purpose(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    return name_in(purposes, 3, s, len, out);
}
static const char *const segments[] = { NULL, NULL, NULL, NULL, NULL, NULL, NULL, "vip",
                                        NULL, "churn" };
static int cb_segment(void *ud, const char *s, size_t len, uint32_t *out)
{
    (void)ud;
    return name_in(segments, 10, s, len, out);
}

static bvt_rule_names names_default(void)
{
    bvt_rule_names n = { NULL, cb_type, cb_category, cb_string, cb_purpose, cb_segment,
                         400 * DAY };
    return n;
}

/* ---- fake profile ---------------------------------------------------------- */

typedef struct fake_attr {
    const char *key;
    int kind;
    double num;
    const char *str;
} fake_attr;

typedef struct fake_ctx {
    const char *key, *value;
} fake_ctx;

typedef struct fake {
    double feature[BVT_F_COUNT];
    fake_attr attrs[4];
    fake_ctx ctx[4];
    uint32_t consent_mask, segment_mask;
    uint32_t seed; /* makes window / interest / cart answers differ per profile */
    /* the last window asked for */
    uint32_t w_type, w_cat;
    int64_t w_ms;
    int calls;
} fake;

static uint32_t mix(uint32_t a, uint32_t b)
{
    uint32_t h = a * 2654435761u ^ (b + 0x9e3779b9u + (a << 6) + (a >> 2));
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return h;
}

static uint64_t fake_count(const fake *f, uint32_t type, uint32_t cat, int64_t ms)
{
    return mix(mix(f->seed, type), mix(cat, (uint32_t)(ms / 1000))) % 5;
}
static double fake_interest(const fake *f, uint32_t cat) { return (mix(f->seed, cat) % 11) / 10.0; }
static int fake_carted(const fake *f, int64_t ms) { return mix(f->seed, (uint32_t)(ms / 1000)) & 1; }
static int fake_viewed(const fake *f, uint32_t cat, int64_t ms)
{
    return mix(mix(f->seed, cat), (uint32_t)(ms / 1000)) % 3 == 0;
}

static double env_feature(void *ud, uint32_t feature)
{
    fake *f = ud;
    f->calls++;
    return feature < BVT_F_COUNT ? f->feature[feature] : NAN;
}
static double env_interest(void *ud, uint32_t cat)
{
    fake *f = ud;
    f->calls++;
    return fake_interest(f, cat);
}
static void env_window(void *ud, uint32_t type, uint32_t cat, int64_t ms, uint64_t *count,
                       double *sum)
{
    fake *f = ud;
    f->calls++;
    f->w_type = type;
    f->w_cat = cat;
    f->w_ms = ms;
    *count = fake_count(f, type, cat, ms);
    *sum = (double)*count * 2.5;
}
static int env_carted(void *ud, int64_t ms)
{
    fake *f = ud;
    f->calls++;
    f->w_ms = ms;
    return fake_carted(f, ms);
}
static int env_viewed(void *ud, uint32_t cat, int64_t ms)
{
    fake *f = ud;
    f->calls++;
    f->w_cat = cat;
    f->w_ms = ms;
    return fake_viewed(f, cat, ms);
}
static int env_attr(void *ud, uint32_t key, double *num, uint32_t *str)
{
    fake *f = ud;
    f->calls++;
    for (int i = 0; i < 4; i++) {
        const fake_attr *a = &f->attrs[i];
        uint32_t k = 0;
        if (!a->key || table_id(&strings, a->key, strlen(a->key), &k) != BVT_OK || k != key)
            continue;
        if (a->kind == BVT_ATTR_NUMBER)
            *num = a->num;
        else if (table_id(&strings, a->str, strlen(a->str), str) != BVT_OK)
            return 0;
        return a->kind;
    }
    return 0;
}
static int env_context(void *ud, const char *key, size_t len, const char **value,
                       size_t *value_len)
{
    fake *f = ud;
    f->calls++;
    for (int i = 0; i < 4; i++)
        if (f->ctx[i].key && strlen(f->ctx[i].key) == len && memcmp(f->ctx[i].key, key, len) == 0) {
            *value = f->ctx[i].value;
            *value_len = strlen(f->ctx[i].value);
            return 1;
        }
    return 0;
}
static int env_consent(void *ud, uint32_t purpose)
{
    fake *f = ud;
    f->calls++;
    return purpose < 32 && (f->consent_mask >> purpose & 1);
}
static int env_in_segment(void *ud, uint32_t seg)
{
    fake *f = ud;
    f->calls++;
    return seg < 32 && (f->segment_mask >> seg & 1);
}

static bvt_rule_env env_of(fake *f)
{
    bvt_rule_env e = { f, T0, env_feature, env_interest, env_window, env_carted, env_viewed,
                       env_attr, env_context, env_consent, env_in_segment };
    return e;
}

/* The profile most table tests use. */
static fake fake_default(void)
{
    fake f;
    memset(&f, 0, sizeof f);
    f.feature[BVT_F_PURCHASES] = 3;
    f.feature[BVT_F_EVENTS] = 10;
    f.feature[BVT_F_CLICKS] = 2;
    f.feature[BVT_F_IMPRESSIONS] = 40;
    f.feature[BVT_F_CTR] = 0.05;
    f.feature[BVT_F_RECENCY] = 2.0 * DAY;
    f.feature[BVT_F_MONETARY_TOTAL] = 1250;
    f.feature[BVT_F_RFM_SEGMENT] = BVT_RFM_CHAMPIONS;
    f.feature[BVT_F_R_SCORE] = 5;
    f.attrs[0] = (fake_attr){ "age_band", BVT_ATTR_STRING, 0, "25-34" };
    f.attrs[1] = (fake_attr){ "income", BVT_ATTR_NUMBER, 52000, NULL };
    f.ctx[0] = (fake_ctx){ "device", "mobile" };
    f.ctx[1] = (fake_ctx){ "hour", "21" };
    f.ctx[2] = (fake_ctx){ "page_category", "sports/football" };
    f.ctx[3] = (fake_ctx){ "geo", "DE" };
    f.consent_mask = 1u << 1; /* ads */
    f.segment_mask = 1u << 7; /* vip */
    f.seed = 42;
    return f;
}

static bvt_rule *compile_ok(const char *text)
{
    bvt_rule_names n = names_default();
    bvt_error err = BVT_ERROR_INIT;
    bvt_rule *r = NULL;
    int rc = bvt__rule_compile(&r, text, strlen(text), &n, &err);
    ck_assert_msg(rc == BVT_OK, "compile \"%s\": %d at %lld: %s", text, rc,
                  (long long)err.offset, err.message);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int eval_text(const char *text, fake *f)
{
    bvt_rule *r = compile_ok(text);
    bvt_rule_env e = env_of(f);
    int got = bvt__rule_eval(r, &e);
    bvt__rule_free(r);
    return got;
}

/* ---- grammar, precedence and semantics --------------------------------------- */

static const struct {
    const char *text;
    int want;
} eval_table[] = {
    /* precedence */
    { "1 + 2 * 3 == 7", 1 },
    { "(1 + 2) * 3 == 9", 1 },
    { "events - purchases * 2 == 4", 1 },
    { "events - purchases - 2 == 5", 1 },      /* left-associative */
    { "events / 2 / 5 == 1", 1 },
    { "-purchases * 2 == -6", 1 },
    { "- -purchases == 3", 1 },
    { "not false and false", 0 },              /* (not false) and false */
    { "not (false and false)", 1 },
    { "true or false and false", 1 },          /* and binds tighter than or */
    { "(true or false) and false", 0 },
    { "not purchases > 5", 1 },                /* not (purchases > 5) */
    { "not not true", 1 },
    { "purchases + 1 in (4, 5)", 1 },
    { "purchases in 1..3", 1 },                /* inclusive */
    { "purchases in 4..10", 0 },
    { "purchases in -1..3", 1 },
    { "purchases in (1, 2)", 0 },
    /* literals */
    { "recency == 2d", 1 },
    { "recency == 48h and recency == 2880m and recency == 172800s", 1 },
    { "recency == 172800000ms", 1 },
    { "2w == 14d", 1 },
    { "ctr == 0.05", 1 },
    { "monetary == 1250 and monetary_total == monetary", 1 },
    { "1 / 0 == 1 / 0", 0 },                   /* no value: never equal */
    { "1 / 0 != 1", 0 },                       /* nor unequal */
    { "\"a\\\"b\" == \"a\\\"b\"", 1 },
    { "\"a\\\\\" != \"a\"", 1 },
    /* comparisons */
    { "purchases >= 3 and purchases <= 3 and purchases > 2 and purchases < 4", 1 },
    { "purchases != 3", 0 },
    /* rfm */
    { "rfm_segment == \"Champions\"", 1 },
    { "rfm_segment != \"Champions\"", 0 },
    { "rfm_segment in (\"Loyal\", \"Champions\")", 1 },
    { "rfm_segment in (\"At Risk\", \"Can't Lose Them\")", 0 },
    { "\"Champions\" == rfm_segment", 1 },
    /* attributes */
    { "attr.age_band == \"25-34\"", 1 },
    { "attr.age_band != \"25-34\"", 0 },
    { "attr.age_band != \"35-44\"", 1 },
    { "attr.age_band in (\"18-24\", \"25-34\")", 1 },
    { "attr.income >= 50000", 1 },
    { "attr.income / 1000 == 52", 1 },
    { "attr.income in 50000..60000", 1 },
    { "attr.missing == \"x\"", 0 },            /* absent: never equal ... */
    { "attr.missing != \"x\"", 0 },            /* ... nor unequal */
    { "attr.missing > 0 or attr.missing <= 0", 0 },
    { "attr.income == \"52000\"", 0 },         /* number compared with a string */
    { "attr.income != \"52000\"", 0 },
    { "attr.age_band > 0", 0 },                /* string compared with a number */
    { "not (attr.missing == \"x\")", 1 },
    /* context */
    { "ctx.device == \"mobile\"", 1 },
    { "ctx.device != \"mobile\"", 0 },
    { "ctx.device in (\"tablet\", \"mobile\")", 1 },
    { "ctx.hour >= 20 and ctx.hour < 24", 1 },
    { "ctx.hour == 21", 1 },
    { "ctx.geo == 1", 0 },                     /* not a number: no value */
    { "ctx.geo != 1", 0 },
    { "ctx.nothing == \"x\" or ctx.nothing != \"x\"", 0 },
    { "ctx.hour in 18..23", 1 },
    { "within(ctx.page_category, \"sports\")", 1 },
    { "within(ctx.page_category, \"sports/football\")", 1 },
    { "within(ctx.page_category, \"sport\")", 0 }, /* only at a '/' boundary */
    { "within(ctx.page_category, \"sports/football/x\")", 0 },
    { "within(ctx.nothing, \"sports\")", 0 },
    /* consent, segments */
    { "consent(ads)", 1 },
    { "consent(analytics)", 0 },
    { "consent(\"ads\")", 1 },
    { "in_segment(\"vip\") and not in_segment(\"churn\")", 1 },
    /* whitespace */
    { " \t\npurchases\n>\r\n2 ", 1 },
};

START_TEST(eval_rows)
{
    fake f = fake_default();
    const char *text = eval_table[_i].text;
    ck_assert_msg(eval_text(text, &f) == eval_table[_i].want, "\"%s\" should be %d", text,
                  eval_table[_i].want);
}
END_TEST

/* ---- errors: code and offset ------------------------------------------------- */

static const struct {
    const char *text;
    int code;
    int64_t offset;
    const char *message; /* a fragment of the message */
} error_table[] = {
    { "", BVT_ESYNTAX, 0, "expected a value" },
    { "purchases >", BVT_ESYNTAX, 11, "expected a value, found end of rule" },
    { "count(page_view, \"x\", 7d", BVT_ESYNTAX, 24, "expected ')' after arguments of count" },
    { "count(page_view, \"x\" 7d) > 1", BVT_ESYNTAX, 21, "expected ',' after argument 2 of count" },
    { "count(page_view) > 1", BVT_ESYNTAX, 15, "too few arguments" },
    { "did(page_view, *, 1d, 2)", BVT_ESYNTAX, 20, "too many arguments" },
    { "purchases > 1 > 0", BVT_ESYNTAX, 14, "do not chain" },
    { "purchases in (1) == 1", BVT_ESYNTAX, 17, "do not chain" },
    { "purchases = 1", BVT_ESYNTAX, 10, "'=='" },
    { "purchases ! 1", BVT_ESYNTAX, 10, "'not'" },
    { "purchases @ 1", BVT_ESYNTAX, 10, "unexpected character '@'" },
    { "attr.band == \"abc", BVT_ESYNTAX, 13, "unterminated string" },
    { "\"a\\n\" == ctx.device", BVT_ESYNTAX, 2, "unknown escape" },
    { "(purchases > 1", BVT_ESYNTAX, 14, "expected ')' to close" },
    { "purchases > 1)", BVT_ESYNTAX, 13, "expected an operator or end of rule" },
    { "purchases > 1 purchases", BVT_ESYNTAX, 14, "expected an operator" },
    { "attr == 1", BVT_ESYNTAX, 5, "expected '.'" },
    { "ctx. == 1", BVT_ESYNTAX, 5, "context key" },
    { "purchases in (1, )", BVT_ESYNTAX, 17, "expected a number, duration or string" },
    { "purchases in ()", BVT_ESYNTAX, 14, "expected a number" },
    { "purchases in (1 2)", BVT_ESYNTAX, 16, "expected ',' or ')'" },
    { "purchases in 1 10", BVT_ESYNTAX, 15, "expected '..'" },
    { "purchases in 1..2..3", BVT_ESYNTAX, 17, "expected an operator" },
    { "purchases in (-\"a\")", BVT_ESYNTAX, 15, "expected a number" },
    { "not", BVT_ESYNTAX, 3, "expected a value" },
    { "1 + not true", BVT_ESYNTAX, 4, "expected a value, found 'not'" },
    { "count(*, *, 1d) > *", BVT_ESYNTAX, 18, "found '*'" },
    { "frobnicate > 1", BVT_ENOTFOUND, 0, "unknown feature 'frobnicate'" },
    { "purchases > 1 and frob(1)", BVT_ENOTFOUND, 18, "unknown function 'frob'" },
    { "count(page_vieww, *, 7d) > 1", BVT_ENOTFOUND, 6, "unknown event type 'page_vieww'" },
    { "consent(ads2)", BVT_ENOTFOUND, 8, "unknown consent purpose 'ads2'" },
    { "in_segment(\"nope\")", BVT_ENOTFOUND, 11, "unknown segment 'nope'" },
    { "rfm_segment == \"Champs\"", BVT_ENOTFOUND, 15, "unknown RFM segment" },
    { "rfm_segment in (\"Loyal\", \"loyal\")", BVT_ENOTFOUND, 25, "unknown RFM segment" },
    { "purchase > 1", BVT_ENOTFOUND, 0, "unknown feature" },
    { "unknown_thing", BVT_ENOTFOUND, 0, "unknown feature" },
    { "count(page_view, *, 7d) and 3", BVT_EINVAL, 0, "expected a condition" },
    { "did(*, *, 1d) or 1", BVT_EINVAL, 17, "expected a condition" },
    { "attr.income + \"a\" > 1", BVT_EINVAL, 14, "expected a number, found a string" },
    { "interest(3) > 0", BVT_EINVAL, 9, "expected a category string" },
    { "interest(*) > 0", BVT_EINVAL, 9, "expected a category string" },
    { "purchases", BVT_EINVAL, 0, "expected a condition (true or false), found a number" },
    { "\"vip\"", BVT_EINVAL, 0, "found a string" },
    { "not 3", BVT_EINVAL, 4, "expected a condition" },
    { "-did(*, *, 1d) > 0", BVT_EINVAL, 1, "expected a number, found a condition" },
    { "(purchases > 1) + 1 > 0", BVT_EINVAL, 0, "expected a number, found a condition" },
    { "count(page_view, *, 7) > 1", BVT_EINVAL, 20, "expected a duration" },
    { "count(page_view, *, -7d) > 1", BVT_EINVAL, 20, "expected a duration" },
    { "count(page_view, *, 3d + 4d) > 1", BVT_EINVAL, 20, "expected a duration" },
    { "count(page_view, *, 0d) > 1", BVT_ERANGE, 20, "longer than 0" },
    { "count(page_view, *, 500d) > 1", BVT_ERANGE, 20, "horizon" },
    { "carted_not_bought(58w)", BVT_ERANGE, 18, "horizon" },
    { "purchases > 3x", BVT_EINVAL, 13, "unknown unit 'x'" },
    { "recency > 1.5h", BVT_EINVAL, 10, "whole number" },
    { "rfm_segment > 1", BVT_EINVAL, 0, "rfm_segment compares only" },
    { "rfm_segment + 1 > 1", BVT_EINVAL, 0, "rfm_segment compares only" },
    { "purchases < \"a\"", BVT_EINVAL, 10, "only with == and !=" },
    { "purchases == \"a\"", BVT_EINVAL, 13, "a string compares only with" },
    { "\"a\" == did(*, *, 1d)", BVT_EINVAL, 0, "a string compares only with" },
    { "purchases in (1, \"a\")", BVT_EINVAL, 17, "mixes numbers and strings" },
    { "purchases in 1..\"a\"", BVT_EINVAL, 16, "mixes numbers and strings" },
    { "attr.band in \"a\"..\"b\"", BVT_EINVAL, 13, "a range needs numbers" },
    { "purchases in (\"a\")", BVT_EINVAL, 0, "a list of strings needs" },
    { "within(purchases, \"x\")", BVT_EINVAL, 7, "within() needs a context value" },
    { "within(ctx.page_category, \"\")", BVT_EINVAL, 26, "non-empty" },
    { "count(\"page_view\", *, 1d) > 0", BVT_EINVAL, 6, "expected an event type name" },
    { "count(page_view, home, 1d) > 0", BVT_EINVAL, 17, "expected a category string or '*'" },
    { "viewed_not_bought(*, 1d)", BVT_EINVAL, 18, "expected a category string, found" },
    { "consent(1)", BVT_EINVAL, 8, "consent purpose" },
    { "in_segment(vip)", BVT_EINVAL, 11, "segment name string" },
    { "carted_not_bought(\"1d\")", BVT_EINVAL, 18, "expected a duration" },
};

START_TEST(error_rows)
{
    bvt_rule_names n = names_default();
    const char *text = error_table[_i].text;
    bvt_error err = BVT_ERROR_INIT;
    bvt_rule *r = (bvt_rule *)&err; /* must be reset to NULL */
    int rc = bvt__rule_compile(&r, text, strlen(text), &n, &err);
    ck_assert_msg(rc == error_table[_i].code, "\"%s\": code %d, want %d (%s)", text, rc,
                  error_table[_i].code, err.message);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(err.offset == error_table[_i].offset, "\"%s\": offset %lld, want %lld (%s)",
                  text, (long long)err.offset, (long long)error_table[_i].offset, err.message);
    ck_assert_msg(strstr(err.message, error_table[_i].message) != NULL,
                  "\"%s\": message \"%s\" lacks \"%s\"", text, err.message,
                  error_table[_i].message);
}
END_TEST

START_TEST(limits)
{
    bvt_rule_names n = names_default();
    bvt_error err = BVT_ERROR_INIT;
    bvt_rule *r = NULL;
    char buf[8192];

    /* 64 levels of parentheses compile, 65 do not (offset of the 65th). */
    for (int depth = 64; depth <= 65; depth++) {
        size_t k = 0;
        for (int i = 0; i < depth; i++)
            buf[k++] = '(';
        memcpy(buf + k, "true", 4);
        k += 4;
        for (int i = 0; i < depth; i++)
            buf[k++] = ')';
        int rc = bvt__rule_compile(&r, buf, k, &n, &err);
        if (depth == 64) {
            ck_assert_int_eq(rc, BVT_OK);
            bvt__rule_free(r);
        } else {
            ck_assert_int_eq(rc, BVT_ELIMIT);
            ck_assert_int_eq(err.offset, 64);
            ck_assert_ptr_nonnull(strstr(err.message, "deeper than 64"));
        }
    }
    /* Unary chains count as nesting too. */
    memset(buf, '-', 70);
    memcpy(buf + 70, "1 > 0", 5);
    ck_assert_int_eq(bvt__rule_compile(&r, buf, 75, &n, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.offset, 64);

    /* Text longer than 4 KiB. */
    memset(buf, ' ', sizeof buf);
    memcpy(buf, "true", 4);
    ck_assert_int_eq(bvt__rule_compile(&r, buf, 4096, &n, &err), BVT_OK);
    bvt__rule_free(r);
    ck_assert_int_eq(bvt__rule_compile(&r, buf, 4097, &n, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.offset, 4096);

    /* A long flat or-chain within 4 KiB compiles and evaluates. */
    size_t k = 0;
    for (int i = 0; i < 300 && k < 4000; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%strue", i ? " or " : "");
    ck_assert_int_eq(bvt__rule_compile(&r, buf, k, &n, &err), BVT_OK);
    fake f = fake_default();
    bvt_rule_env e = env_of(&f);
    ck_assert_int_eq(bvt__rule_eval(r, &e), 1);
    bvt__rule_free(r);

    /* More than 512 nested operations. */
    k = 0;
    for (int i = 0; i < 700 && k < 4090; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s1", i ? "+" : "");
    k += (size_t)snprintf(buf + k, sizeof buf - k, ">0");
    ck_assert_int_eq(bvt__rule_compile(&r, buf, k, &n, &err), BVT_ELIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "too complex"));
}
END_TEST

START_TEST(arguments_and_callbacks)
{
    bvt_rule_names n = names_default();
    bvt_error err = BVT_ERROR_INIT;
    bvt_rule *r = NULL;
    ck_assert_int_eq(bvt__rule_compile(NULL, "true", 4, &n, &err), BVT_EINVAL);
    ck_assert_int_eq(bvt__rule_compile(&r, NULL, 4, &n, &err), BVT_EINVAL);
    ck_assert_ptr_null(r);
    /* Text need not be NUL-terminated: only len bytes are read. */
    ck_assert_int_eq(bvt__rule_compile(&r, "truex", 4, &n, &err), BVT_OK);
    bvt__rule_free(r);

    /* Missing callbacks: the construct that needs one is an error. */
    bvt_rule_names none = { 0 };
    const char *need[] = { "consent(ads)", "in_segment(\"vip\")", "attr.x > 1",
                           "count(page_view, *, 1d) > 1", "count(*, \"a\", 1d) > 1",
                           "interest(\"a\") > 0" };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        ck_assert_int_eq(bvt__rule_compile(&r, need[i], strlen(need[i]), &none, &err), BVT_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.message, "not available"));
    }
    /* NULL names: everything that needs no callback still compiles; a
     * horizon of 0 sets no bound. */
    ck_assert_int_eq(bvt__rule_compile(&r, "purchases > 1 and ctx.geo == \"DE\"", 33, NULL, &err),
                     BVT_OK);
    bvt__rule_free(r);
    ck_assert_int_eq(bvt__rule_compile(&r, "carted_not_bought(5000d)", 24, &none, &err), BVT_OK);
    bvt__rule_free(r);

    /* A callback's own failure is reported at the name it was given. */
    table saved = categories;
    id_of(&categories, "known");
    categories.limit = categories.n;
    const char *text = "purchases > 0 and interest(\"brand/new/path\") > 0";
    ck_assert_int_eq(bvt__rule_compile(&r, text, strlen(text), &n, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.offset, 27);
    categories = saved;

    bvt__rule_free(NULL);
    ck_assert_uint_eq(bvt__rule_bytes(NULL), 0);
    const uint32_t *ids = NULL;
    ck_assert_uint_eq(bvt__rule_segment_refs(NULL, &ids), 0);
}
END_TEST

/* ---- functions against the fake env ---------------------------------------------- */

START_TEST(windows_pass_through)
{
    static const struct {
        const char *text;
        uint32_t type;
        const char *cat; /* NULL: any (0) */
        int64_t ms;
    } rows[] = {
        { "count(page_view, \"home/bedroom/mattresses\", 7d) >= 0", BVT_EVENT_PAGE_VIEW,
          "home/bedroom/mattresses", 7 * DAY },
        { "sum(purchase, *, 30d) >= 0", BVT_EVENT_PURCHASE, NULL, 30 * DAY },
        { "did(add_to_cart, \"shoes\", 24h)", BVT_EVENT_ADD_TO_CART, "shoes", DAY },
        { "did(*, *, 30m) or true", UINT32_MAX, NULL, 30 * MIN },
        { "count(click, *, 400d) >= 0", BVT_EVENT_CLICK, NULL, 400 * DAY },
        { "count(*, \"tv\", 1ms) >= 0", UINT32_MAX, "tv", 1 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fake f = fake_default();
        eval_text(rows[i].text, &f);
        ck_assert_uint_eq(f.w_type, rows[i].type);
        ck_assert_uint_eq(f.w_cat, rows[i].cat ? id_of(&categories, rows[i].cat) : 0);
        ck_assert_int_eq(f.w_ms, rows[i].ms);
    }

    /* The values: count, value sum, count > 0. */
    fake f = fake_default();
    uint32_t shoes = id_of(&categories, "shoes");
    for (f.seed = 0; f.seed < 40; f.seed++) {
        uint64_t c = fake_count(&f, BVT_EVENT_PURCHASE, shoes, 7 * DAY);
        char text[128];
        snprintf(text, sizeof text, "count(purchase, \"shoes\", 7d) == %llu", (unsigned long long)c);
        ck_assert_int_eq(eval_text(text, &f), 1);
        snprintf(text, sizeof text, "sum(purchase, \"shoes\", 1w) == %g", (double)c * 2.5);
        ck_assert_int_eq(eval_text(text, &f), 1);
        ck_assert_int_eq(eval_text("did(purchase, \"shoes\", 168h)", &f), c > 0);
    }
}
END_TEST

START_TEST(retargeting_interest_features)
{
    fake f = fake_default();
    uint32_t tv = id_of(&categories, "tv");
    uint32_t bedroom = id_of(&categories, "home/bedroom");
    for (f.seed = 0; f.seed < 40; f.seed++) {
        ck_assert_int_eq(eval_text("carted_not_bought(24h)", &f), fake_carted(&f, DAY));
        ck_assert_int_eq(f.w_ms, DAY);
        ck_assert_int_eq(eval_text("viewed_not_bought(\"tv\", 3d)", &f),
                         fake_viewed(&f, tv, 3 * DAY));
        ck_assert_uint_eq(f.w_cat, tv);
        char text[128];
        snprintf(text, sizeof text, "interest(\"home/bedroom\") == %.17g",
                 fake_interest(&f, bedroom));
        ck_assert_int_eq(eval_text(text, &f), 1);
    }

    /* Every feature name reads its own feature. */
    static const struct {
        const char *name;
        uint32_t f;
    } features[] = {
        { "recency", BVT_F_RECENCY }, { "first_seen", BVT_F_FIRST_SEEN },
        { "last_seen", BVT_F_LAST_SEEN }, { "purchase_recency", BVT_F_PURCHASE_RECENCY },
        { "last_purchase", BVT_F_LAST_PURCHASE }, { "purchases", BVT_F_PURCHASES },
        { "frequency", BVT_F_FREQUENCY }, { "monetary", BVT_F_MONETARY_TOTAL },
        { "monetary_total", BVT_F_MONETARY_TOTAL }, { "monetary_mean", BVT_F_MONETARY_MEAN },
        { "r_score", BVT_F_R_SCORE }, { "f_score", BVT_F_F_SCORE }, { "m_score", BVT_F_M_SCORE },
        { "events", BVT_F_EVENTS }, { "impressions", BVT_F_IMPRESSIONS },
        { "clicks", BVT_F_CLICKS }, { "conversions", BVT_F_CONVERSIONS }, { "ctr", BVT_F_CTR },
        { "conversion_rate", BVT_F_CONVERSION_RATE }, { "interactions", BVT_F_INTERACTIONS },
        { "sessions", BVT_F_SESSIONS }, { "dwell", BVT_F_DWELL },
        { "mean_dwell", BVT_F_MEAN_DWELL }, { "cart_items", BVT_F_CART_ITEMS },
        { "cart_value", BVT_F_CART_VALUE }, { "page_views", BVT_F_PAGE_VIEWS },
        { "searches", BVT_F_SEARCHES },
    };
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        memset(f.feature, 0, sizeof f.feature);
        f.feature[features[i].f] = 1000 + (double)i;
        char text[128];
        snprintf(text, sizeof text, "%s == %zu", features[i].name, 1000 + i);
        ck_assert_msg(eval_text(text, &f) == 1, "%s", features[i].name);
    }
    /* Each RFM segment name maps to its code. */
    static const char *const rfm[] = { "Champions", "Loyal", "Potential Loyalist",
                                       "New Customers", "Promising", "Need Attention",
                                       "About to Sleep", "At Risk", "Can't Lose Them",
                                       "Hibernating", "Lost" };
    for (uint32_t c = 0; c < 11; c++) {
        f.feature[BVT_F_RFM_SEGMENT] = c + 1;
        char text[128];
        snprintf(text, sizeof text, "rfm_segment == \"%s\"", rfm[c]);
        ck_assert_msg(eval_text(text, &f) == 1, "%s", rfm[c]);
        f.feature[BVT_F_RFM_SEGMENT] = BVT_RFM_NONE;
        ck_assert_int_eq(eval_text(text, &f), 0);
    }
}
END_TEST

START_TEST(short_circuit_and_refs)
{
    fake f = fake_default();
    f.calls = 0;
    ck_assert_int_eq(eval_text("purchases > 100 and count(*, *, 1d) >= 0", &f), 0);
    ck_assert_int_eq(f.calls, 1); /* the window was not asked */
    f.calls = 0;
    ck_assert_int_eq(eval_text("purchases > 1 or count(*, *, 1d) >= 0", &f), 1);
    ck_assert_int_eq(f.calls, 1);
    /* Constant arithmetic is folded: no callback at all. */
    f.calls = 0;
    ck_assert_int_eq(eval_text("2 * 3 + 1 == 7 and not false", &f), 1);
    ck_assert_int_eq(f.calls, 0);

    bvt_rule *r = compile_ok("in_segment(\"vip\") or in_segment(\"churn\") or "
                             "not in_segment(\"vip\")");
    const uint32_t *ids = NULL;
    ck_assert_uint_eq(bvt__rule_segment_refs(r, &ids), 2);
    ck_assert_uint_eq(ids[0], 7);
    ck_assert_uint_eq(ids[1], 9);
    ck_assert_uint_gt(bvt__rule_bytes(r), 0);
    bvt__rule_free(r);
    r = compile_ok("true");
    ck_assert_uint_eq(bvt__rule_segment_refs(r, &ids), 0);
    bvt__rule_free(r);
}
END_TEST

/* Attribute strings compare as interned ids; the rule's literal and the
 * profile's value meet in the same string table. */
START_TEST(attribute_kinds)
{
    fake f = fake_default();
    f.attrs[2] = (fake_attr){ "segment_hint", BVT_ATTR_STRING, 0, "sports-fan" };
    ck_assert_int_eq(eval_text("attr.segment_hint == \"sports-fan\"", &f), 1);
    ck_assert_int_eq(eval_text("attr.segment_hint in (\"a\", \"sports-fan\")", &f), 1);
    ck_assert_int_eq(eval_text("attr.segment_hint in (\"a\", \"b\")", &f), 0);
    f.attrs[2].kind = BVT_ATTR_NUMBER;
    f.attrs[2].num = 7;
    ck_assert_int_eq(eval_text("attr.segment_hint == \"sports-fan\"", &f), 0);
    ck_assert_int_eq(eval_text("attr.segment_hint in (\"sports-fan\")", &f), 0);
    ck_assert_int_eq(eval_text("attr.segment_hint == 7", &f), 1);
    ck_assert_int_eq(eval_text("attr.segment_hint in (6, 7)", &f), 1);
    /* Context value with a decimal point; a value that is not a number. */
    f.ctx[3] = (fake_ctx){ "score", "2.5" };
    ck_assert_int_eq(eval_text("ctx.score * 2 == 5", &f), 1);
    f.ctx[3] = (fake_ctx){ "score", "2.5x" };
    ck_assert_int_eq(eval_text("ctx.score * 2 == 5 or ctx.score * 2 != 5", &f), 0);
    f.ctx[3] = (fake_ctx){ "score", "" };
    ck_assert_int_eq(eval_text("ctx.score == \"\"", &f), 1);
    ck_assert_int_eq(eval_text("ctx.score >= 0", &f), 0);
}
END_TEST

/* ---- worked examples from docs/rules.md -------------------------------------------- */

START_TEST(worked_examples)
{
    fake f = fake_default();
    const char *ex[] = {
        ("count(page_view, \"home/bedroom/mattresses\", 7d) >= 3 and "
         "not did(purchase, \"home/bedroom/mattresses\", 7d)"),
        "rfm_segment == \"Champions\"",
        "ctx.device == \"mobile\" and within(ctx.page_category, \"sports\") and ctx.hour >= 18",
        "monetary_total >= 1000 and purchase_recency > 90d",
        "carted_not_bought(24h) and consent(ads)",
        "viewed_not_bought(\"tv\", 3d) and interest(\"electronics/tv\") > 0.3",
        "attr.age_band in (\"25-34\", \"35-44\") and attr.income >= 50000",
        "clicks >= 3 and ctr > 0.02 and sessions in 2..10",
        "in_segment(\"vip\") and not in_segment(\"churn\") and recency < 30d",
        "rfm_segment in (\"At Risk\", \"Can't Lose Them\") and sum(purchase, *, 365d) > 500",
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
        bvt__rule_free(compile_ok(ex[i]));
    f.ctx[1].value = "19";
    ck_assert_int_eq(eval_text(ex[2], &f), 1);
    f.ctx[0].value = "desktop";
    ck_assert_int_eq(eval_text(ex[2], &f), 0);
}
END_TEST

/* ---- property test ---------------------------------------------------------------- */

/* A random rule as a tree; the test prints it with the fewest parentheses
 * the precedence table allows, compiles it, and compares bvt__rule_eval
 * with evaluating the tree directly. */
enum { G_NUM, G_FEAT, G_ATTR, G_CTX, G_COUNT, G_SUM, G_INTEREST, G_NEG, G_ARITH,
       G_BOOL, G_CMP, G_NOT, G_AND, G_OR, G_DID, G_CONSENT, G_SEG, G_ATTR_STR, G_CTX_STR,
       G_IN_NUM, G_RANGE, G_ATTR_IN, G_CTX_IN, G_WITHIN, G_RFM, G_CARTED, G_VIEWED };

typedef struct gnode {
    int kind, op; /* op: '+', '-', '*', '/' or a comparison index */
    double v;     /* literal */
    int idx;      /* which feature / key / type / name */
    int neg;      /* != instead of == */
    int is_dur;
    double list[3];
    int n;
    struct gnode *l, *r;
} gnode;

typedef struct rng { uint64_t s; } rng;
static uint32_t rnd(rng *g, uint32_t n)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (uint32_t)(g->s % n);
}

static const char *const p_features[] = { "purchases", "events", "clicks", "ctr", "recency" };
static const uint32_t p_feature_ids[] = { BVT_F_PURCHASES, BVT_F_EVENTS, BVT_F_CLICKS, BVT_F_CTR,
                                          BVT_F_RECENCY };
static const char *const p_num_keys[] = { "age", "income", "band" };
static const char *const p_str_vals[] = { "a", "b", "c" };
static const char *const p_ctx_keys[] = { "hour", "device", "page_category" };
static const char *const p_ctx_vals[] = { "21", "7", "x", "2.5", "mobile", "sports",
                                          "sports/football", "sportswear" };
static const char *const p_types[] = { "page_view", "purchase", "*" };
static const char *const p_cats[] = { "shoes", "home/bedroom", "*" };
static const char *const p_units[] = { "1d", "7d", "12h" };
static const int64_t p_unit_ms[] = { DAY, 7 * DAY, 12 * HOUR };
static const char *const p_rfm[] = { "Champions", "Loyal", "Lost" };
static const char *const p_cmp[] = { "==", "!=", "<", "<=", ">", ">=" };

static gnode pool_nodes[4096];
static int pool_used;

static gnode *gnew(int kind)
{
    ck_assert_int_lt(pool_used, 4096);
    gnode *n = &pool_nodes[pool_used++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

static gnode *gen_num_tree(rng *g, int depth);

static gnode *gen_bool_tree(rng *g, int depth)
{
    int k = depth <= 0 ? (int)rnd(g, 3) : (int)rnd(g, 18);
    gnode *n;
    switch (k) {
    case 0: n = gnew(G_BOOL); n->v = rnd(g, 2); return n;
    case 1: n = gnew(G_DID); n->idx = (int)rnd(g, 27); return n;
    case 2: n = gnew(G_ATTR_STR); n->idx = (int)rnd(g, 9); n->neg = (int)rnd(g, 2); return n;
    case 3: n = gnew(G_CONSENT); n->idx = (int)rnd(g, 2); return n;
    case 4: n = gnew(G_SEG); n->idx = (int)rnd(g, 2); return n;
    case 5: n = gnew(G_CTX_STR); n->idx = (int)rnd(g, 3 * 8); n->neg = (int)rnd(g, 2); return n;
    case 6: n = gnew(G_WITHIN); n->idx = (int)rnd(g, 3); return n;
    case 7: n = gnew(G_RFM); n->idx = (int)rnd(g, 3); n->neg = (int)rnd(g, 2); return n;
    case 8: n = gnew(G_CARTED); n->idx = (int)rnd(g, 3); return n;
    case 9: n = gnew(G_VIEWED); n->idx = (int)rnd(g, 6); return n;
    case 10: case 11:
        n = gnew(G_CMP);
        n->op = (int)rnd(g, 6);
        n->l = gen_num_tree(g, depth - 1);
        n->r = gen_num_tree(g, depth - 1);
        return n;
    case 12: n = gnew(G_NOT); n->l = gen_bool_tree(g, depth - 1); return n;
    case 13: case 14:
        n = gnew(rnd(g, 2) ? G_AND : G_OR);
        n->l = gen_bool_tree(g, depth - 1);
        n->r = gen_bool_tree(g, depth - 1);
        return n;
    case 15:
        n = gnew(G_IN_NUM);
        n->l = gen_num_tree(g, depth - 1);
        n->n = 1 + (int)rnd(g, 3);
        for (int i = 0; i < n->n; i++)
            n->list[i] = (double)rnd(g, 6) - 1;
        return n;
    case 16:
        n = gnew(G_RANGE);
        n->l = gen_num_tree(g, depth - 1);
        n->list[0] = (double)rnd(g, 5) - 1;
        n->list[1] = n->list[0] + rnd(g, 4);
        return n;
    default:
        n = gnew(rnd(g, 2) ? G_ATTR_IN : G_CTX_IN);
        n->idx = (int)rnd(g, 3);
        n->n = 1 + (int)rnd(g, 3);
        for (int i = 0; i < n->n; i++)
            n->list[i] = rnd(g, n->kind == G_ATTR_IN ? 3 : 8);
        return n;
    }
}

static gnode *gen_num_tree(rng *g, int depth)
{
    int k = depth <= 0 ? (int)rnd(g, 5) : (int)rnd(g, 10);
    gnode *n;
    switch (k) {
    case 0:
        n = gnew(G_NUM);
        if (rnd(g, 6) == 0) {
            n->is_dur = 1;
            n->idx = (int)rnd(g, 3);
            n->v = (double)p_unit_ms[n->idx];
        } else {
            n->v = rnd(g, 4) ? (double)rnd(g, 12) : 0.5 * rnd(g, 9);
        }
        return n;
    case 1: n = gnew(G_FEAT); n->idx = (int)rnd(g, 5); return n;
    case 2: n = gnew(G_ATTR); n->idx = (int)rnd(g, 3); return n;
    case 3: n = gnew(G_CTX); n->idx = (int)rnd(g, 3); return n;
    case 4:
        n = gnew(rnd(g, 3) == 0 ? G_INTEREST : rnd(g, 2) ? G_COUNT : G_SUM);
        n->idx = (int)rnd(g, 27);
        return n;
    case 5: n = gnew(G_NEG); n->l = gen_num_tree(g, depth - 1); return n;
    default:
        n = gnew(G_ARITH);
        n->op = "+-*/"[rnd(g, 4)];
        n->l = gen_num_tree(g, depth - 1);
        n->r = gen_num_tree(g, depth - 1);
        return n;
    }
}

/* Precedence levels as docs/rules.md gives them. */
enum { P_OR = 1, P_AND, P_NOT, P_CMP, P_SUM, P_PROD, P_UNARY, P_PRIMARY };

static int prec(const gnode *n)
{
    switch (n->kind) {
    case G_OR: return P_OR;
    case G_AND: return P_AND;
    case G_NOT: return P_NOT;
    case G_CMP: case G_IN_NUM: case G_RANGE: case G_ATTR_STR: case G_CTX_STR: case G_RFM:
    case G_ATTR_IN: case G_CTX_IN: return P_CMP;
    case G_ARITH: return n->op == '+' || n->op == '-' ? P_SUM : P_PROD;
    case G_NEG: return P_UNARY;
    case G_NUM: return n->v < 0 ? P_UNARY : P_PRIMARY;
    default: return P_PRIMARY;
    }
}

typedef struct sbuf {
    char s[8192];
    size_t n;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n = b->n + (size_t)k < sizeof b->s ? b->n + (size_t)k : sizeof b->s - 1;
}

static void print_tree(sbuf *b, const gnode *n, int min_prec);

static void print_num_lit(sbuf *b, double v)
{
    if (v == floor(v))
        put(b, "%d", (int)v);
    else
        put(b, "%.1f", v);
}

static void print_window(sbuf *b, int idx)
{
    put(b, "%s, ", p_types[idx % 3]);
    if (strcmp(p_cats[idx / 3 % 3], "*") == 0)
        put(b, "*, ");
    else
        put(b, "\"%s\", ", p_cats[idx / 3 % 3]);
    put(b, "%s", p_units[idx / 9 % 3]);
}

static void print_inner(sbuf *b, const gnode *n)
{
    switch (n->kind) {
    case G_NUM:
        if (n->is_dur)
            put(b, "%s", p_units[n->idx]);
        else
            print_num_lit(b, n->v);
        break;
    case G_FEAT: put(b, "%s", p_features[n->idx]); break;
    case G_ATTR: put(b, "attr.%s", p_num_keys[n->idx]); break;
    case G_CTX: put(b, "ctx.%s", p_ctx_keys[n->idx]); break;
    case G_COUNT: case G_SUM:
        put(b, "%s(", n->kind == G_COUNT ? "count" : "sum");
        print_window(b, n->idx);
        put(b, ")");
        break;
    case G_DID: put(b, "did("); print_window(b, n->idx); put(b, ")"); break;
    case G_INTEREST: put(b, "interest(\"%s\")", p_cats[n->idx % 2]); break;
    case G_NEG: put(b, "-"); print_tree(b, n->l, P_UNARY); break;
    case G_ARITH:
        print_tree(b, n->l, prec(n));
        put(b, " %c ", n->op);
        print_tree(b, n->r, prec(n) + 1);
        break;
    case G_BOOL: put(b, "%s", n->v ? "true" : "false"); break;
    case G_CMP:
        print_tree(b, n->l, P_SUM);
        put(b, " %s ", p_cmp[n->op]);
        print_tree(b, n->r, P_SUM);
        break;
    case G_NOT: put(b, "not "); print_tree(b, n->l, P_NOT); break;
    case G_AND: case G_OR:
        print_tree(b, n->l, prec(n));
        put(b, n->kind == G_AND ? " and " : " or ");
        print_tree(b, n->r, prec(n) + 1);
        break;
    case G_CONSENT: put(b, "consent(%s)", n->idx ? "analytics" : "ads"); break;
    case G_SEG: put(b, "in_segment(\"%s\")", n->idx ? "churn" : "vip"); break;
    case G_ATTR_STR:
        put(b, "attr.%s %s \"%s\"", p_num_keys[n->idx % 3], n->neg ? "!=" : "==",
            p_str_vals[n->idx / 3]);
        break;
    case G_CTX_STR:
        put(b, "\"%s\" %s ctx.%s", p_ctx_vals[n->idx / 3], n->neg ? "!=" : "==",
            p_ctx_keys[n->idx % 3]);
        break;
    case G_WITHIN: put(b, "within(ctx.page_category, \"%s\")", p_ctx_vals[5 + n->idx]); break;
    case G_RFM: put(b, "rfm_segment %s \"%s\"", n->neg ? "!=" : "==", p_rfm[n->idx]); break;
    case G_CARTED: put(b, "carted_not_bought(%s)", p_units[n->idx]); break;
    case G_VIEWED: put(b, "viewed_not_bought(\"%s\", %s)", p_cats[n->idx % 2], p_units[n->idx / 2]); break;
    case G_IN_NUM:
        print_tree(b, n->l, P_SUM);
        put(b, " in (");
        for (int i = 0; i < n->n; i++) {
            put(b, i ? ", " : "");
            print_num_lit(b, n->list[i]);
        }
        put(b, ")");
        break;
    case G_RANGE:
        print_tree(b, n->l, P_SUM);
        put(b, " in ");
        print_num_lit(b, n->list[0]);
        put(b, "..");
        print_num_lit(b, n->list[1]);
        break;
    case G_ATTR_IN: case G_CTX_IN:
        put(b, n->kind == G_ATTR_IN ? "attr.%s in (" : "ctx.%s in (",
            n->kind == G_ATTR_IN ? p_num_keys[n->idx] : p_ctx_keys[n->idx]);
        for (int i = 0; i < n->n; i++)
            put(b, "%s\"%s\"", i ? ", " : "",
                n->kind == G_ATTR_IN ? p_str_vals[(int)n->list[i]] : p_ctx_vals[(int)n->list[i]]);
        put(b, ")");
        break;
    }
}

static void print_tree(sbuf *b, const gnode *n, int min_prec)
{
    int paren = prec(n) < min_prec;
    put(b, paren ? "(" : "");
    print_inner(b, n);
    put(b, paren ? ")" : "");
}

/* The reference: the language's meaning written directly. */
static const fake_attr *ref_attr(const fake *f, const char *key)
{
    for (int i = 0; i < 4; i++)
        if (f->attrs[i].key && strcmp(f->attrs[i].key, key) == 0)
            return &f->attrs[i];
    return NULL;
}
static const char *ref_ctx(const fake *f, const char *key)
{
    for (int i = 0; i < 4; i++)
        if (f->ctx[i].key && strcmp(f->ctx[i].key, key) == 0)
            return f->ctx[i].value;
    return NULL;
}
static uint32_t ref_type(int idx) { return idx % 3 == 0 ? 0 : idx % 3 == 1 ? 4 : UINT32_MAX; }
static uint32_t ref_cat(int idx)
{
    return idx / 3 % 3 == 2 ? 0 : id_of(&categories, p_cats[idx / 3 % 3]);
}

static double ref_num(const fake *f, const gnode *n)
{
    switch (n->kind) {
    case G_NUM: return n->v;
    case G_FEAT: return f->feature[p_feature_ids[n->idx]];
    case G_ATTR: {
        const fake_attr *a = ref_attr(f, p_num_keys[n->idx]);
        return a && a->kind == BVT_ATTR_NUMBER ? a->num : NAN;
    }
    case G_CTX: {
        const char *v = ref_ctx(f, p_ctx_keys[n->idx]);
        char *end;
        if (!v || !*v || !(*v >= '0' && *v <= '9'))
            return NAN;
        double d = strtod(v, &end);
        return *end ? NAN : d;
    }
    case G_COUNT: case G_SUM: {
        uint64_t c = fake_count(f, ref_type(n->idx), ref_cat(n->idx), p_unit_ms[n->idx / 9 % 3]);
        return n->kind == G_COUNT ? (double)c : (double)c * 2.5;
    }
    case G_INTEREST: return fake_interest(f, id_of(&categories, p_cats[n->idx % 2]));
    case G_NEG: return -ref_num(f, n->l);
    default: {
        double a = ref_num(f, n->l), b = ref_num(f, n->r);
        switch (n->op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        default: return b == 0 ? NAN : a / b;
        }
    }
    }
}

static int ref_bool(const fake *f, const gnode *n)
{
    switch (n->kind) {
    case G_BOOL: return n->v != 0;
    case G_DID:
        return fake_count(f, ref_type(n->idx), ref_cat(n->idx), p_unit_ms[n->idx / 9 % 3]) > 0;
    case G_CONSENT: return (f->consent_mask >> (n->idx ? 2 : 1)) & 1;
    case G_SEG: return (f->segment_mask >> (n->idx ? 9 : 7)) & 1;
    case G_ATTR_STR: {
        const fake_attr *a = ref_attr(f, p_num_keys[n->idx % 3]);
        if (!a || a->kind != BVT_ATTR_STRING)
            return 0;
        return (strcmp(a->str, p_str_vals[n->idx / 3]) == 0) != n->neg;
    }
    case G_CTX_STR: {
        const char *v = ref_ctx(f, p_ctx_keys[n->idx % 3]);
        return v && (strcmp(v, p_ctx_vals[n->idx / 3]) == 0) != n->neg;
    }
    case G_WITHIN: {
        const char *v = ref_ctx(f, "page_category"), *p = p_ctx_vals[5 + n->idx];
        size_t k = strlen(p);
        return v && strncmp(v, p, k) == 0 && (v[k] == '\0' || v[k] == '/');
    }
    case G_RFM: {
        static const double codes[] = { BVT_RFM_CHAMPIONS, BVT_RFM_LOYAL, BVT_RFM_LOST };
        return (f->feature[BVT_F_RFM_SEGMENT] == codes[n->idx]) != n->neg;
    }
    case G_CARTED: return fake_carted(f, p_unit_ms[n->idx]);
    case G_VIEWED:
        return fake_viewed(f, id_of(&categories, p_cats[n->idx % 2]), p_unit_ms[n->idx / 2]);
    case G_CMP: {
        double a = ref_num(f, n->l), b = ref_num(f, n->r);
        if (isnan(a) || isnan(b))
            return 0;
        switch (n->op) {
        case 0: return a == b;
        case 1: return a != b;
        case 2: return a < b;
        case 3: return a <= b;
        case 4: return a > b;
        default: return a >= b;
        }
    }
    case G_NOT: return !ref_bool(f, n->l);
    case G_AND: return ref_bool(f, n->l) && ref_bool(f, n->r);
    case G_OR: return ref_bool(f, n->l) || ref_bool(f, n->r);
    case G_IN_NUM: {
        double x = ref_num(f, n->l);
        for (int i = 0; i < n->n; i++)
            if (x == n->list[i])
                return 1;
        return 0;
    }
    case G_RANGE: {
        double x = ref_num(f, n->l);
        return x >= n->list[0] && x <= n->list[1];
    }
    case G_ATTR_IN: {
        const fake_attr *a = ref_attr(f, p_num_keys[n->idx]);
        for (int i = 0; a && a->kind == BVT_ATTR_STRING && i < n->n; i++)
            if (strcmp(a->str, p_str_vals[(int)n->list[i]]) == 0)
                return 1;
        return 0;
    }
    case G_CTX_IN: {
        const char *v = ref_ctx(f, p_ctx_keys[n->idx]);
        for (int i = 0; v && i < n->n; i++)
            if (strcmp(v, p_ctx_vals[(int)n->list[i]]) == 0)
                return 1;
        return 0;
    }
    default:
        ck_abort_msg("bad node %d", n->kind);
        return 0;
    }
}

static void random_profile(rng *g, fake *f)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 5; i++)
        f->feature[p_feature_ids[i]] = rnd(g, 4) ? (double)rnd(g, 12) : 0.5 * rnd(g, 9);
    f->feature[BVT_F_RFM_SEGMENT] = rnd(g, BVT_RFM_SEGMENT_COUNT);
    for (int i = 0; i < 3; i++) {
        int kind = (int)rnd(g, 3);
        if (kind == 0)
            continue;
        f->attrs[i].key = p_num_keys[i];
        f->attrs[i].kind = kind == 1 ? BVT_ATTR_NUMBER : BVT_ATTR_STRING;
        f->attrs[i].num = (double)rnd(g, 10);
        f->attrs[i].str = p_str_vals[rnd(g, 3)];
    }
    for (int i = 0; i < 3; i++)
        if (rnd(g, 4))
            f->ctx[i] = (fake_ctx){ p_ctx_keys[i], p_ctx_vals[rnd(g, 8)] };
    f->consent_mask = rnd(g, 8);
    f->segment_mask = rnd(g, 1024);
    f->seed = rnd(g, 1000);
}

START_TEST(property_matches_reference)
{
    rng g = { 0x9E3779B97F4A7C15ull };
    bvt_rule_names names = names_default();
    int rules = 0, evals = 0, matched = 0;
    for (int i = 0; i < 3000; i++) {
        pool_used = 0;
        gnode *root = gen_bool_tree(&g, 1 + (int)rnd(&g, 5));
        sbuf b = { .n = 0 };
        print_tree(&b, root, 0);
        bvt_error err = BVT_ERROR_INIT;
        bvt_rule *r = NULL;
        int rc = bvt__rule_compile(&r, b.s, b.n, &names, &err);
        ck_assert_msg(rc == BVT_OK, "case %d: \"%s\": %d at %lld: %s", i, b.s, rc,
                      (long long)err.offset, err.message);
        rules++;
        for (int p = 0; p < 8; p++) {
            fake f;
            random_profile(&g, &f);
            bvt_rule_env e = env_of(&f);
            int got = bvt__rule_eval(r, &e), want = ref_bool(&f, root);
            ck_assert_msg(got == want, "case %d profile %d: \"%s\": got %d, want %d", i, p,
                          b.s, got, want);
            evals++;
            matched += got;
        }
        bvt__rule_free(r);
    }
    ck_assert_int_eq(rules, 3000);
    /* Both outcomes occur often enough for the comparison to mean something. */
    ck_assert_int_gt(matched, evals / 10);
    ck_assert_int_lt(matched, evals - evals / 10);
}
END_TEST

static Suite *rule_suite(void)
{
    Suite *s = suite_create("rule");
    TCase *tc = tcase_create("language");
    tcase_add_loop_test(tc, eval_rows, 0, (int)(sizeof eval_table / sizeof eval_table[0]));
    tcase_add_loop_test(tc, error_rows, 0, (int)(sizeof error_table / sizeof error_table[0]));
    tcase_add_test(tc, limits);
    tcase_add_test(tc, arguments_and_callbacks);
    tcase_add_test(tc, windows_pass_through);
    tcase_add_test(tc, retargeting_interest_features);
    tcase_add_test(tc, short_circuit_and_refs);
    tcase_add_test(tc, attribute_kinds);
    tcase_add_test(tc, worked_examples);
    tcase_add_test(tc, property_matches_reference);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(rule_suite()); }
