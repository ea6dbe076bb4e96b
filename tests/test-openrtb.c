/* OpenRTB user.data export: the exact JSON for a user's segments with and
 * without IAB mappings, string escaping, a short buffer learning the size it
 * needs, argument checks, and that every output parses as JSON. */
#include <stdio.h>
#include <string.h>

#define TEST_SECRET "openrtb-suite-secret-key"
#include "testutil.h"

#include "engine.h" /* bvt__segment_define_internal: to quiet the built-ins */

#define PROVIDER "example.com"
#define OUT_MAX 4096

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
    ck_assert(!is_json("[\"caf\xe9\"]")); /* JSON text is UTF-8 */
    ck_assert(!is_json("[\"\xed\xa0\x80\"]"));
    ck_assert(is_json("[\"caf\xc3\xa9\"]"));
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
        ck_assert_int_eq(bvt__segment_define_internal(e, bvt_segment_name(e, ids[i]),
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
    /* the provider is written into the JSON: it must be UTF-8 */
    ck_assert_int_eq(export(f.e, "alice", "caf\xe9.example", NULL, 0, buf, sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", "x\xc3", NULL, 0, buf, sizeof buf, &len), BVT_EINVAL);
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
    /* IAB ids are written too: UTF-8, at most BVT_IAB_ID_MAX bytes */
    char long_iab[BVT_IAB_ID_MAX + 2];
    memset(long_iab, '7', BVT_IAB_ID_MAX + 1);
    long_iab[BVT_IAB_ID_MAX + 1] = '\0';
    bvt_iab_mapping bytes_id[] = { { f.browsers, "24\xff" } };
    bvt_iab_mapping long_id[] = { { f.browsers, long_iab } };
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, bytes_id, 1, buf, sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, long_id, 1, buf, sizeof buf, &len),
                     BVT_EINVAL);
    long_iab[BVT_IAB_ID_MAX] = '\0';
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, long_id, 1, buf, sizeof buf, &len), BVT_OK);
    /* and their number is bounded */
    static bvt_iab_mapping many[BVT_IAB_MAPPINGS_MAX + 1];
    for (size_t j = 0; j <= BVT_IAB_MAPPINGS_MAX; j++)
        many[j] = (bvt_iab_mapping){ f.buyers, "300" };
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, many, BVT_IAB_MAPPINGS_MAX + 1, buf,
                            sizeof buf, &len),
                     BVT_EINVAL);
    ck_assert_int_eq(export(f.e, "alice", PROVIDER, many, BVT_IAB_MAPPINGS_MAX, buf,
                            sizeof buf, &len),
                     BVT_OK);
    bvt_engine_free(f.e);
}
END_TEST

/* The most mappings over a user in thousands of segments, every mapping to
 * one IAB id (the worst case for de-duplication): written once, quickly
 * (it was cubic in the mappings and took minutes). */
START_TEST(many_mappings_written_once)
{
    enum { SEGS = 4000 };
    bvt_engine *e = engine_quiet();
    static uint32_t seg[SEGS];
    char name[16];
    for (int i = 0; i < SEGS; i++) {
        snprintf(name, sizeof name, "s%d", i);
        seg[i] = define_ok(e, name, "page_views > 0");
    }
    track_ok(e, "erin", BVT_EVENT_PAGE_VIEW, T0, NULL, 0);
    /* later segments of the user first: each entry's earlier duplicates
     * then lie after it in the map */
    static bvt_iab_mapping map[BVT_IAB_MAPPINGS_MAX];
    for (size_t j = 0; j < BVT_IAB_MAPPINGS_MAX; j++)
        map[j] = (bvt_iab_mapping){ seg[SEGS - 1 - j % SEGS], "243" };
    size_t len = 0;
    ck_assert_int_eq(export(e, "erin", PROVIDER, map, BVT_IAB_MAPPINGS_MAX, NULL, 0, &len),
                     BVT_ERANGE);
    char *buf = malloc(len + 1);
    ck_assert_int_eq(export(e, "erin", PROVIDER, map, BVT_IAB_MAPPINGS_MAX, buf, len + 1, &len),
                     BVT_OK);
    ck_assert(is_json(buf));
    const char *tail = "\"ext\":{\"segtax\":4},\"segment\":[{\"id\":\"243\"}]}]";
    ck_assert_msg(len > strlen(tail) && strcmp(buf + len - strlen(tail), tail) == 0, "%s",
                  buf + (len > 80 ? len - 80 : 0));
    free(buf);
    bvt_engine_free(e);
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
    tcase_set_timeout(tc, 120); /* 4,000 segment definitions: slow under ThreadSanitizer */
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
    tcase_add_test(tc, many_mappings_written_once);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
