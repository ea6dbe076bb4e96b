/* testutil.c — helpers shared by the Check suites (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

bvt_engine *engine_new_ok(bvt_options *o)
{
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&e, o, &err);
    ck_assert_msg(rc == BVT_OK, "bvt_engine_new: %d %s", rc, err.message);
    ck_assert_ptr_nonnull(e);
    return e;
}

bvt_event make_event(const char *user, uint32_t type, int64_t t, const char *category,
                     double value)
{
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = type;
    ev.user_id = user;
    ev.user_id_len = strlen(user);
    ev.time_ms = t;
    ev.category = category;
    ev.value = value;
    return ev;
}

int track_event(bvt_engine *e, const char *user, uint32_t type, int64_t t,
                const char *category, double value)
{
    bvt_event ev = make_event(user, type, t, category, value);
    return bvt_event_track(e, &ev, NULL);
}

void track_ok(bvt_engine *e, const char *user, uint32_t type, int64_t t,
              const char *category, double value)
{
    bvt_event ev = make_event(user, type, t, category, value);
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &ev, &err);
    ck_assert_msg(rc == BVT_OK, "track %s type %u: %d %s", user, type, rc, err.message);
}

bvt_profile profile_of(bvt_engine *e, const char *user, int64_t now)
{
    bvt_profile p;
    bvt_profile_init(&p);
    int rc = bvt_profile_get(e, user, strlen(user), now, &p);
    ck_assert_msg(rc == BVT_OK, "profile of %s: %d", user, rc);
    return p;
}

bvt_stats stats_of(bvt_engine *e)
{
    bvt_stats s = BVT_STATS_INIT;
    ck_assert_int_eq(bvt_engine_stats(e, &s), BVT_OK);
    return s;
}

int close_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-12;
}

void run_threads(const thread_fn *fns, size_t n, void *arg)
{
    pthread_t *t = calloc(n, sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fns[i], arg), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- a small JSON validator (RFC 8259 grammar and UTF-8, no semantics) ---- */

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

int is_json(const char *s)
{
    /* JSON text is UTF-8 (RFC 8259 section 8.1) */
    if (bvt_utf8_check(s, strlen(s)) != strlen(s))
        return 0;
    const char *end = json_value(s, 0);
    return end && *json_ws(end) == '\0';
}
