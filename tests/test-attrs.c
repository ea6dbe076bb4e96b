/* test-attrs.c — caller-set attributes (numbers and interned strings):
 * set, overwrite, read, unset, the per-user bound, and profiles created by
 * an attribute alone.  Public API only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "attrs-test-secret-0123456789"
#include "testutil.h"

static int set_num(bvt_engine *e, const char *user, const char *key, double v)
{
    return bvt_attr_set_number(e, user, strlen(user), key, v);
}

static int set_str(bvt_engine *e, const char *user, const char *key, const char *v)
{
    return bvt_attr_set_string(e, user, strlen(user), key, v);
}

static int get(bvt_engine *e, const char *user, const char *key, int *kind, double *num,
               const char **str)
{
    return bvt_attr_get(e, user, strlen(user), key, kind, num, str);
}

START_TEST(number_and_string_round_trip)
{
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    ck_assert_int_eq(set_num(e, "u", "income", 52000.5), BVT_OK);
    ck_assert_int_eq(set_str(e, "u", "age_band", "25-34"), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "zero", 0.0), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "negative", -3.25), BVT_OK);

    int kind = 0;
    double num = -1;
    const char *str = NULL;
    ck_assert_int_eq(get(e, "u", "income", &kind, &num, &str), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_NUMBER);
    ck_assert(num == 52000.5);
    ck_assert_int_eq(get(e, "u", "age_band", &kind, &num, &str), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_STRING);
    ck_assert_ptr_nonnull(str);
    ck_assert_str_eq(str, "25-34");
    ck_assert_int_eq(get(e, "u", "negative", &kind, &num, NULL), BVT_OK);
    ck_assert(num == -3.25);
    ck_assert_int_eq(get(e, "u", "zero", NULL, &num, NULL), BVT_OK);
    ck_assert(num == 0.0);
    /* All outputs are optional. */
    ck_assert_int_eq(get(e, "u", "income", NULL, NULL, NULL), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 4);
    bvt_engine_free(e);
}
END_TEST

START_TEST(overwrite_changes_value_and_kind)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set_num(e, "u", "k", 1), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "k", 2), BVT_OK);
    int kind = 0;
    double num = 0;
    const char *str = NULL;
    ck_assert_int_eq(get(e, "u", "k", &kind, &num, &str), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_NUMBER);
    ck_assert(num == 2);
    ck_assert_int_eq(set_str(e, "u", "k", "gold"), BVT_OK);
    ck_assert_int_eq(get(e, "u", "k", &kind, &num, &str), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_STRING);
    ck_assert_str_eq(str, "gold");
    const char *gold = str;
    ck_assert_int_eq(set_str(e, "u", "k", "silver"), BVT_OK);
    ck_assert_int_eq(get(e, "u", "k", &kind, &num, &str), BVT_OK);
    ck_assert_str_eq(str, "silver");
    /* Borrowed strings live as long as the engine. */
    ck_assert_str_eq(gold, "gold");
    ck_assert_int_eq(set_num(e, "u", "k", 7), BVT_OK);
    ck_assert_int_eq(get(e, "u", "k", &kind, &num, &str), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_NUMBER);
    ck_assert(num == 7);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(attributes_are_per_user)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set_str(e, "a", "tier", "gold"), BVT_OK);
    ck_assert_int_eq(set_str(e, "b", "tier", "bronze"), BVT_OK);
    const char *s = NULL;
    ck_assert_int_eq(get(e, "a", "tier", NULL, NULL, &s), BVT_OK);
    ck_assert_str_eq(s, "gold");
    ck_assert_int_eq(get(e, "b", "tier", NULL, NULL, &s), BVT_OK);
    ck_assert_str_eq(s, "bronze");
    ck_assert_int_eq(get(e, "a", "other", NULL, NULL, &s), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

START_TEST(unset_removes)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set_num(e, "u", "a", 1), BVT_OK);
    ck_assert_int_eq(set_str(e, "u", "b", "x"), BVT_OK);
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, "a"), BVT_OK);
    ck_assert_int_eq(get(e, "u", "a", NULL, NULL, NULL), BVT_ENOTFOUND);
    ck_assert_int_eq(get(e, "u", "b", NULL, NULL, NULL), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 1);
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, "a"), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_attr_unset(e, "nobody", 6, "a"), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_unset(NULL, "u", 1, "b"), BVT_EINVAL);
    /* Setting again after an unset works. */
    ck_assert_int_eq(set_num(e, "u", "a", 3), BVT_OK);
    double num = 0;
    ck_assert_int_eq(get(e, "u", "a", NULL, &num, NULL), BVT_OK);
    ck_assert(num == 3);
    bvt_engine_free(e);
}
END_TEST

START_TEST(bounded_by_max_attributes)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_attributes = 4;
    bvt_engine *e = engine_with(&o);
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_int_eq(set_num(e, "u", key, i), BVT_OK);
    }
    ck_assert_int_eq(set_num(e, "u", "k4", 4), BVT_ELIMIT);
    ck_assert_int_eq(set_str(e, "u", "k5", "v"), BVT_ELIMIT);
    ck_assert_int_eq(get(e, "u", "k4", NULL, NULL, NULL), BVT_ENOTFOUND);
    /* Overwriting a held key still works. */
    ck_assert_int_eq(set_str(e, "u", "k2", "two"), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "k3", 33), BVT_OK);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 4);
    /* An unset makes room. */
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, "k0"), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "k4", 4), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "k5", 5), BVT_ELIMIT);
    /* The bound is per user. */
    ck_assert_int_eq(set_num(e, "v", "k9", 9), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

START_TEST(default_bound_is_16)
{
    bvt_engine *e = engine_default();
    char key[16];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "key%d", i);
        ck_assert_int_eq(set_num(e, "u", key, i), BVT_OK);
    }
    ck_assert_int_eq(set_num(e, "u", "key16", 16), BVT_ELIMIT);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 16);
    bvt_engine_free(e);
}
END_TEST

START_TEST(attribute_creates_profile)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(bvt_user_exists(e, "new", 3), 0);
    ck_assert_int_eq(set_str(e, "new", "segment", "vip"), BVT_OK);
    ck_assert_int_eq(bvt_user_exists(e, "new", 3), 1);
    bvt_stats s = stats_of(e);
    ck_assert_uint_eq(s.users, 1);
    ck_assert_uint_eq(s.events_accepted, 0);
    bvt_profile p = profile_of(e, "new", T0 + DAY);
    ck_assert_int_eq(p.first_seen_ms, 0);
    ck_assert_int_eq(p.last_seen_ms, 0);
    ck_assert_uint_eq(p.events, 0);
    ck_assert_uint_eq(p.attributes, 1);
    /* The first event then sets the times. */
    track_ok(e, "new", BVT_EVENT_PAGE_VIEW, T0 + 5, NULL, 0);
    p = profile_of(e, "new", T0 + DAY);
    ck_assert_int_eq(p.first_seen_ms, T0 + 5);
    ck_assert_int_eq(p.last_seen_ms, T0 + 5);
    ck_assert_uint_eq(p.attributes, 1);
    bvt_engine_free(e);
}
END_TEST

START_TEST(attribute_on_full_table)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_users = 1;
    o.full_policy = BVT_FULL_REJECT;
    bvt_engine *e = engine_with(&o);
    ck_assert_int_eq(set_num(e, "first", "k", 1), BVT_OK);
    ck_assert_int_eq(set_num(e, "second", "k", 1), BVT_EFULL);
    ck_assert_int_eq(set_str(e, "second", "k", "v"), BVT_EFULL);
    ck_assert_int_eq(bvt_user_exists(e, "second", 6), 0);
    ck_assert_int_eq(set_num(e, "first", "k", 2), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

struct bad_attr {
    const char *label;
    const char *key;
    int string; /* 0: number `num`, 1: string `str` */
    double num;
    const char *str;
};

static char key64[65], str256[257];

static const struct bad_attr bad_attrs[] = {
    { "empty key", "", 0, 1, NULL },
    { "NULL key", NULL, 0, 1, NULL },
    { "64-byte key", key64, 0, 1, NULL },
    { "NaN", "k", 0, NAN, NULL },
    { "infinity", "k", 0, INFINITY, NULL },
    { "minus infinity", "k", 0, -INFINITY, NULL },
    { "empty string", "k", 1, 0, "" },
    { "NULL string", "k", 1, 0, NULL },
    { "256-byte string", "k", 1, 0, str256 },
    { "string with empty key", "", 1, 0, "v" },
    { "key not UTF-8", "ag\xe9", 0, 1, NULL },
    { "string key not UTF-8", "\xc0\x80", 1, 0, "v" },
    { "value not UTF-8", "band", 1, 0, "25\xe2\x80" },
    { "value with a surrogate", "band", 1, 0, "\xed\xbf\xbf" },
    { "value above U+10FFFF", "band", 1, 0, "\xf4\x90\x80\x80" },
};

START_TEST(invalid_attribute_refused)
{
    const struct bad_attr *c = &bad_attrs[_i];
    memset(key64, 'k', 64);
    key64[64] = 0;
    memset(str256, 's', 256);
    str256[256] = 0;
    bvt_engine *e = engine_default();
    track_ok(e, "u", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    int rc = c->string ? bvt_attr_set_string(e, "u", 1, c->key, c->str)
                       : bvt_attr_set_number(e, "u", 1, c->key, c->num);
    ck_assert_msg(rc == BVT_EINVAL, "%s: got %d", c->label, rc);
    ck_assert_uint_eq(profile_of(e, "u", T0 + DAY).attributes, 0);
    /* Nor does a refused attribute create a profile. */
    rc = c->string ? bvt_attr_set_string(e, "fresh", 5, c->key, c->str)
                   : bvt_attr_set_number(e, "fresh", 5, c->key, c->num);
    ck_assert_int_eq(rc, BVT_EINVAL);
    ck_assert_int_eq(bvt_user_exists(e, "fresh", 5), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(edge_sizes_accepted)
{
    memset(key64, 'k', 63);
    key64[63] = 0;
    memset(str256, 's', 255);
    str256[255] = 0;
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set_num(e, "u", key64, 1), BVT_OK);
    ck_assert_int_eq(set_str(e, "u", "s", str256), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "big", 1e300), BVT_OK);
    const char *s = NULL;
    ck_assert_int_eq(get(e, "u", "s", NULL, NULL, &s), BVT_OK);
    ck_assert_str_eq(s, str256);
    bvt_engine_free(e);
}
END_TEST

START_TEST(attribute_arguments)
{
    bvt_engine *e = engine_default();
    ck_assert_int_eq(set_num(e, "u", "k", 1), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_number(NULL, "u", 1, "k", 1), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_set_number(e, NULL, 1, "k", 1), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_set_number(e, "u", 0, "k", 1), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_set_string(NULL, "u", 1, "k", "v"), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_get(NULL, "u", 1, "k", NULL, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_get(e, "u", 1, NULL, NULL, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_get(e, "nobody", 6, "k", NULL, NULL, NULL), BVT_ENOTFOUND);
    bvt_engine_free(e);
}
END_TEST

/* The _v2 calls (@since 1.1) fill err on every failure, and the 1.0
 * calls, now the same code with err NULL, answer as before. */
#define ERR_HAS(err, text) \
    ck_assert_msg(strstr((err).message, (text)) != NULL, "message: %s", (err).message)

START_TEST(attribute_v2_explains)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.max_attributes = 2;
    bvt_engine *e = engine_with(&o);
    bvt_error err = BVT_ERROR_INIT;
    /* Bad arguments: each named, a bad byte's offset given. */
    ck_assert_int_eq(bvt_attr_set_number_v2(NULL, "u", 1, "k", 1, &err), BVT_EINVAL);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ERR_HAS(err, "engine is NULL");
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 0, "k", 1, &err), BVT_EINVAL);
    ERR_HAS(err, "user id must be 1..1024 bytes");
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "", 1, &err), BVT_EINVAL);
    ERR_HAS(err, "attribute key must be 1..63 bytes");
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "ab\xff", 1, &err), BVT_EINVAL);
    ERR_HAS(err, "attribute key is not valid UTF-8");
    ck_assert_int_eq(err.offset, 2);
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "k", NAN, &err), BVT_EINVAL);
    ERR_HAS(err, "must be finite");
    ck_assert_int_eq(err.offset, -1);
    ck_assert_int_eq(bvt_attr_set_string_v2(e, "u", 1, "k", "", &err), BVT_EINVAL);
    ERR_HAS(err, "attribute value must be 1..255 bytes");
    ck_assert_int_eq(bvt_attr_set_string_v2(e, "u", 1, "k", "\xc0\xaf", &err), BVT_EINVAL);
    ERR_HAS(err, "attribute value is not valid UTF-8");
    ck_assert_int_eq(err.offset, 0);
    ck_assert_int_eq(bvt_attr_unset_v2(e, "u", 1, NULL, &err), BVT_EINVAL);
    ERR_HAS(err, "attribute key");
    ck_assert_int_eq(bvt_user_exists(e, "u", 1), 0); /* nothing refused created it */
    /* Refused changes: the user's bound, a missing user or attribute. */
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "a", 1, &err), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string_v2(e, "u", 1, "b", "x", &err), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "c", 3, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.code, BVT_ELIMIT);
    ERR_HAS(err, "max_attributes (2)");
    ck_assert_int_eq(bvt_attr_set_string_v2(e, "u", 1, "c", "y", &err), BVT_ELIMIT);
    ERR_HAS(err, "max_attributes (2)");
    ck_assert_int_eq(bvt_attr_unset_v2(e, "u", 1, "c", &err), BVT_ENOTFOUND);
    ERR_HAS(err, "no attribute \"c\"");
    ck_assert_int_eq(bvt_attr_unset_v2(e, "nobody", 6, "a", &err), BVT_ENOTFOUND);
    ERR_HAS(err, "no such user");
    ck_assert_int_eq(bvt_attr_unset_v2(e, "u", 1, "a", NULL), BVT_OK); /* err may be NULL */
    ck_assert_int_eq(bvt_attr_get(e, "u", 1, "a", NULL, NULL, NULL), BVT_ENOTFOUND);
    /* The 1.0 calls: the same answers, without detail. */
    ck_assert_int_eq(set_num(e, "u", "a", 1), BVT_OK);
    ck_assert_int_eq(set_num(e, "u", "c", 1), BVT_ELIMIT);
    ck_assert_int_eq(set_str(e, "u", "c", "z"), BVT_ELIMIT);
    ck_assert_int_eq(set_num(e, "u", "k", NAN), BVT_EINVAL);
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, "c"), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_attr_unset(e, "u", 1, "a"), BVT_OK);
    bvt_engine_free(e);
    /* Attributes off, and a full table. */
    o = (bvt_options)BVT_OPTIONS_INIT;
    o.max_attributes = BVT_NONE;
    e = engine_with(&o);
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "a", 1, &err), BVT_ELIMIT);
    ERR_HAS(err, "attributes are off");
    bvt_engine_free(e);
    o = (bvt_options)BVT_OPTIONS_INIT;
    o.max_users = 1;
    e = engine_with(&o);
    ck_assert_int_eq(bvt_attr_set_number_v2(e, "u", 1, "a", 1, &err), BVT_OK);
    ck_assert_int_eq(bvt_attr_set_string_v2(e, "v", 1, "a", "x", &err), BVT_EFULL);
    ERR_HAS(err, "no room for a new profile");
    ck_assert_int_eq(bvt_user_exists(e, "v", 1), 0);
    bvt_engine_free(e);
}
END_TEST

static Suite *attrs_suite(void)
{
    Suite *s = suite_create("attrs");
    TCase *tc = tcase_create("attrs");
    tcase_add_test(tc, number_and_string_round_trip);
    tcase_add_test(tc, overwrite_changes_value_and_kind);
    tcase_add_test(tc, attributes_are_per_user);
    tcase_add_test(tc, unset_removes);
    tcase_add_test(tc, bounded_by_max_attributes);
    tcase_add_test(tc, default_bound_is_16);
    tcase_add_test(tc, attribute_creates_profile);
    tcase_add_test(tc, attribute_on_full_table);
    tcase_add_loop_test(tc, invalid_attribute_refused, 0,
                        (int)(sizeof bad_attrs / sizeof bad_attrs[0]));
    tcase_add_test(tc, edge_sizes_accepted);
    tcase_add_test(tc, attribute_v2_explains);
    tcase_add_test(tc, attribute_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(attrs_suite()); }
