/* OpenRTB user.data export: the exact JSON for a user's segments with and
 * without IAB mappings, string escaping, a short buffer learning the size it
 * needs, argument checks, and that every output parses as JSON. */
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "openrtb-suite-secret-key"
#include "testutil.h"

#include "engine.h" /* bvt_segment_define_internal: to quiet the built-ins */

#define PROVIDER "example.com"
#define OUT_MAX 4096

/* ---- a small JSON validator (RFC 8259 grammar, no semantics) ---- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *json_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL; /* raw control characters (and the end) are not allowed */
        if (c != '\\')
            continue;
        c = (unsigned char)*p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++)
                if (!is_hex(*p++))
                    return NULL;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return NULL;
        }
    }
}

static const char *json_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (*++p < '0' || *p > '9')
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

/* Members of an object (`close` '}') or elements of an array (']'). */
static const char *json_items(const char *p, char close, int depth)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (close == '}') {
            p = json_string(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p, depth + 1);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p, int depth)
{
    if (depth > 32)
        return NULL;
    p = json_ws(p);
    switch (*p) {
    case '{': return json_items(p, '}', depth);
    case '[': return json_items(p, ']', depth);
    case '"': return json_string(p);
    case 't': return strncmp(p, "true", 4) ? NULL : p + 4;
    case 'f': return strncmp(p, "false", 5) ? NULL : p + 5;
    case 'n': return strncmp(p, "null", 4) ? NULL : p + 4;
    default: return json_number(p);
    }
}

static int is_json(const char *s)
{
    const char *end = json_value(s, 0);
    return end && *json_ws(end) == '\0';
}

START_TEST(validator_rejects_broken_json)
{
    /* The parse-back checks below can only fail if this can say no. */
    ck_assert(is_json("[{\"id\":\"1\",\"ext\":{\"segtax\":4},\"segment\":[]}]"));
    ck_assert(is_json("[\"a\\u0001\\\\\\\"\", -1.5e3, true, null]"));
    ck_assert(!is_json("[{\"id\":\"1\",}]"));
    ck_assert(!is_json("[{\"id\":\"a\"b\"}]"));
    ck_assert(!is_json("[\"tab\there\"]"));
    ck_assert(!is_json("[\"\\x\"]"));
    ck_assert(!is_json("[{\"id\":\"1\"}"));
    ck_assert(!is_json("[1] x"));
}
END_TEST

/* ---- helpers ---- */

static uint32_t define_ok(bvt_engine *e, const char *name, const char *rule)
{
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_segment_define(e, name, rule, &id, &err);
    ck_assert_msg(rc == BVT_OK, "%s: %s: %d %s", name, rule, rc, err.message);
    return id;
}

/* An engine whose built-in segments match nobody, so a test decides exactly
 * which segments its users are in (every user is otherwise in one funnel
 * stage). */
static bvt_engine *engine_quiet(void)
{
    bvt_engine *e = engine_default();
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t n;
    ck_assert_int_eq(bvt_segment_list(e, ids, BVT_SEGMENTS_MAX, &n), BVT_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(bvt_segment_define_internal(e, bvt_segment_name(e, ids[i]),
                                                     "events < 0", 1, NULL, NULL),
                         BVT_OK);
    return e;
}

static int export(bvt_engine *e, const char *user, const char *provider,
                  const bvt_iab_mapping *map, size_t n_map, char *buf, size_t cap,
                  size_t *len)
{
    return bvt_segments_openrtb(e, user, strlen(user), T0 + HOUR, NULL, provider, map, n_map,
                                buf, cap, len);
}

/* Export with room to spare; the result must succeed, be what out_len says,
 * and parse as JSON. */
static void export_ok(bvt_engine *e, const char *user, const bvt_context *ctx,
                      const bvt_iab_mapping *map, size_t n_map, char *buf)
{
    size_t len = 0;
    int rc = bvt_segments_openrtb(e, user, strlen(user), T0 + HOUR, ctx, PROVIDER, map, n_map,
                                  buf, OUT_MAX, &len);
    ck_assert_int_eq(rc, BVT_OK);
    ck_assert_uint_eq(len, strlen(buf));
    ck_assert_msg(is_json(buf), "not JSON: %s", buf);
}

/* alice viewed a page and searched; she is in Browsers and Searchers, not
 * Buyers. */
typedef struct fixture {
    bvt_engine *e;
    uint32_t browsers, searchers, buyers;
} fixture;

static fixture two_segments(void)
{
    fixture f;
    f.e = engine_quiet();
    f.browsers = define_ok(f.e, "Browsers", "page_views > 0");
    f.buyers = define_ok(f.e, "Buyers", "purchases > 0");
    f.searchers = define_ok(f.e, "Searchers", "searches > 0");
    track_ok(f.e, "alice", BVT_EVENT_PAGE_VIEW, T0, "home/bedroom", 0);
    track_ok(f.e, "alice", BVT_EVENT_SEARCH, T0 + MIN, NULL, 0);
    return f;
}

static void expected_two(const fixture *f, char *out, size_t cap)
{
    snprintf(out, cap,
             "[{\"id\":\"" PROVIDER "\",\"name\":\"" PROVIDER "\",\"segment\":["
             "{\"id\":\"%u\",\"name\":\"Browsers\"},{\"id\":\"%u\",\"name\":\"Searchers\"}]}]",
             (unsigned)f->browsers, (unsigned)f->searchers);
}

/* ---- the output ---- */

START_TEST(segments_without_mapping)
{
    fixture f = two_segments();
    char buf[OUT_MAX], want[OUT_MAX];
    expected_two(&f, want, sizeof want);
    export_ok(f.e, "alice", NULL, NULL, 0, buf);
    ck_assert_str_eq(buf, want);
    /* Mappings of segments she is not in add nothing. */
    bvt_iab_mapping other = { f.buyers, "300" };
    export_ok(f.e, "alice", NULL, &other, 1, buf);
    ck_assert_str_eq(buf, want);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(segments_with_mapping)
{
    fixture f = two_segments();
    /* Out of order, one segment mapped twice, one IAB id reached twice, and
     * a mapped segment she is not in. */
    bvt_iab_mapping map[] = {
        { f.searchers, "244" },
        { f.browsers, "243" },
        { f.buyers, "300" },
        { f.searchers, "243" },
        { f.browsers, "245" },
    };
    char buf[OUT_MAX], want[OUT_MAX];
    snprintf(want, sizeof want,
             "[{\"id\":\"" PROVIDER "\",\"name\":\"" PROVIDER "\",\"segment\":["
             "{\"id\":\"%u\",\"name\":\"Browsers\"},{\"id\":\"%u\",\"name\":\"Searchers\"}]},"
             "{\"name\":\"" PROVIDER "\",\"ext\":{\"segtax\":4},\"segment\":["
             "{\"id\":\"243\"},{\"id\":\"245\"},{\"id\":\"244\"}]}]",
             (unsigned)f.browsers, (unsigned)f.searchers);
    export_ok(f.e, "alice", NULL, map, sizeof map / sizeof map[0], buf);
    ck_assert_str_eq(buf, want);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(context_decides_membership)
{
    fixture f = two_segments();
    uint32_t mobile = define_ok(f.e, "Mobile now", "ctx.device == \"mobile\"");
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.device = "mobile";
    char buf[OUT_MAX], want[OUT_MAX];
    snprintf(want, sizeof want,
             "[{\"id\":\"" PROVIDER "\",\"name\":\"" PROVIDER "\",\"segment\":["
             "{\"id\":\"%u\",\"name\":\"Browsers\"},{\"id\":\"%u\",\"name\":\"Searchers\"},"
             "{\"id\":\"%u\",\"name\":\"Mobile now\"}]}]",
             (unsigned)f.browsers, (unsigned)f.searchers, (unsigned)mobile);
    export_ok(f.e, "alice", &ctx, NULL, 0, buf);
    ck_assert_str_eq(buf, want);
    expected_two(&f, want, sizeof want);
    export_ok(f.e, "alice", NULL, NULL, 0, buf);
    ck_assert_str_eq(buf, want);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(builtin_funnel_stage_is_exported)
{
    /* With the built-ins live, a first-time visitor is a "New Visitor". */
    bvt_engine *e = engine_default();
    track_ok(e, "bob", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    uint32_t id;
    ck_assert_int_eq(bvt_segment_lookup(e, "New Visitor", &id), BVT_OK);
    char buf[OUT_MAX], want[OUT_MAX];
    snprintf(want, sizeof want,
             "[{\"id\":\"" PROVIDER "\",\"name\":\"" PROVIDER "\",\"segment\":["
             "{\"id\":\"%u\",\"name\":\"New Visitor\"}]}]", (unsigned)id);
    export_ok(e, "bob", NULL, NULL, 0, buf);
    ck_assert_str_eq(buf, want);
    bvt_engine_free(e);
}
END_TEST

START_TEST(strings_are_escaped)
{
    bvt_engine *e = engine_quiet();
    uint32_t id = define_ok(e, "Say \"hi\" \\ now\x01\t\x1f", "page_views > 0");
    track_ok(e, "carol", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_iab_mapping map = { id, "a\"b\\c\n" };
    char buf[OUT_MAX], want[OUT_MAX];
    size_t len;
    snprintf(want, sizeof want,
             "[{\"id\":\"caf\xc3\xa9 \\\"fr\\\"\",\"name\":\"caf\xc3\xa9 \\\"fr\\\"\","
             "\"segment\":[{\"id\":\"%u\",\"name\":\"Say \\\"hi\\\" \\\\ now\\u0001\\u0009\\u001f\"}]},"
             "{\"name\":\"caf\xc3\xa9 \\\"fr\\\"\",\"ext\":{\"segtax\":4},"
             "\"segment\":[{\"id\":\"a\\\"b\\\\c\\u000a\"}]}]",
             (unsigned)id);
    ck_assert_int_eq(export(e, "carol", "caf\xc3\xa9 \"fr\"", &map, 1, buf, sizeof buf, &len),
                     BVT_OK);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(is_json(buf));
    bvt_engine_free(e);
}
END_TEST

START_TEST(user_in_no_segment)
{
    bvt_engine *e = engine_quiet();
    uint32_t buyers = define_ok(e, "Buyers", "purchases > 0");
    track_ok(e, "dave", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    bvt_iab_mapping map = { buyers, "300" };
    const char *want = "[{\"id\":\"" PROVIDER "\",\"name\":\"" PROVIDER "\",\"segment\":[]}]";
    char buf[OUT_MAX];
    export_ok(e, "dave", NULL, NULL, 0, buf);
    ck_assert_str_eq(buf, want);
    export_ok(e, "dave", NULL, &map, 1, buf);
    ck_assert_str_eq(buf, want);
    bvt_engine_free(e);
}
END_TEST

/* ---- sizes ---- */

START_TEST(short_buffer_learns_exact_size)
{
    fixture f = two_segments();
    bvt_iab_mapping map[] = { { f.browsers, "243" }, { f.searchers, "244" } };
    char want[OUT_MAX];
    export_ok(f.e, "alice", NULL, map, 2, want);
    size_t need = strlen(want), len = 0;

    /* Asking with no buffer at all. */
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, map, 2, NULL, 0, &len), BVT_ERANGE);
    ck_assert_uint_eq(len, need);

    /* One byte short of the NUL: refused, and nothing written past cap. */
    char buf[OUT_MAX];
    memset(buf, '#', sizeof buf);
    len = 0;
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, map, 2, buf, need, &len), BVT_ERANGE);
    ck_assert_uint_eq(len, need);
    for (size_t i = need; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], '#');

    /* Far too short: still the exact size. */
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, map, 2, buf, 5, &len), BVT_ERANGE);
    ck_assert_uint_eq(len, need);

    /* Exactly enough. */
    memset(buf, '#', sizeof buf);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, map, 2, buf, need + 1, &len), BVT_OK);
    ck_assert_uint_eq(len, need);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(buf[need + 1], '#');
    bvt_engine_free(f.e);
}
END_TEST

/* ---- refusals ---- */

START_TEST(unknown_user)
{
    fixture f = two_segments();
    char buf[OUT_MAX];
    size_t len = 7;
    ck_assert_int_eq(export(f.e, "nobody", PROVIDER, NULL, 0, buf, sizeof buf, &len),
                     BVT_ENOTFOUND);
    ck_assert_uint_eq(len, 0);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(bad_provider)
{
    fixture f = two_segments();
    char buf[OUT_MAX], longest[65];
    size_t len;
    memset(longest, 'p', 64);
    longest[64] = '\0';
    ck_assert_int_eq(export(f.e, "alice", NULL, NULL, 0, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", "", NULL, 0, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", longest, NULL, 0, buf, sizeof buf, &len), BVT_EINVAL);
    longest[63] = '\0'; /* 63 bytes is allowed */
    ck_assert_int_eq(export(f.e, "alice", longest, NULL, 0, buf, sizeof buf, &len), BVT_OK);
    ck_assert(strstr(buf, longest) != NULL);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(bad_mapping)
{
    fixture f = two_segments();
    char buf[OUT_MAX];
    size_t len;
    /* A bad entry is refused even when it maps a segment the user is not in. */
    bvt_iab_mapping null_id[] = { { f.browsers, "243" }, { f.buyers, NULL } };
    bvt_iab_mapping empty_id[] = { { f.browsers, "" } };
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, null_id, 2, buf, sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, empty_id, 1, buf, sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, NULL, 1, buf, sizeof buf, &len),
                     BVT_EINVAL);
    bvt_engine_free(f.e);
}
END_TEST

START_TEST(bad_arguments)
{
    fixture f = two_segments();
    char buf[OUT_MAX];
    size_t len;
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, NULL, 0, NULL, 10, &len), BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, NULL, 0, buf, sizeof buf, NULL),
                     BVT_EINVAL);
    ck_assert_int_eq(export(NULL, "alice", PROVIDER, NULL, 0, buf, sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(bvt_segments_openrtb(f.e, "alice", 5, 0, NULL, PROVIDER, NULL, 0, buf,
                                          sizeof buf, &len),
                     BVT_EINVAL);
    bvt_engine_free(f.e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openrtb");
    TCase *tc = tcase_create("openrtb");
    tcase_add_test(tc, validator_rejects_broken_json);
    tcase_add_test(tc, segments_without_mapping);
    tcase_add_test(tc, segments_with_mapping);
    tcase_add_test(tc, context_decides_membership);
    tcase_add_test(tc, builtin_funnel_stage_is_exported);
    tcase_add_test(tc, strings_are_escaped);
    tcase_add_test(tc, user_in_no_segment);
    tcase_add_test(tc, short_buffer_learns_exact_size);
    tcase_add_test(tc, unknown_user);
    tcase_add_test(tc, bad_provider);
    tcase_add_test(tc, bad_mapping);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
