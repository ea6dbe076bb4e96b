/* fuzz-rules-file.c — libFuzzer entry point for the rules file of
 * `bvt segments` and `bvt report` (examples/cli/cli_rules.c: one
 * "name: rule" per line, each defined with bvt_segment_define()).
 *
 * Each input is a rules file defined into a fresh engine that knows a
 * custom event type, a consent purpose, some categories and one user, as
 * after `bvt segments` has tracked its events file.  Besides the
 * sanitizers, the harness checks the parser's promises (cli.h, docs/cli.md):
 *  - a failure is CLI_EXIT_FAIL with exactly one FILE:LINE:COL message, on
 *    the first line not defined, at a column inside that line (or just
 *    past its end);
 *  - on success every line that is neither blank nor a comment defined one
 *    segment, in file order, named by the text before its first ':' with
 *    the blanks around it trimmed, under the id bvt_segment_lookup() gives;
 *  - the defined segments then evaluate for the user and over the
 *    population without error. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000000LL

/* cli_rules.c reports through the CLI's cli_input_error_at(): the harness
 * counts the messages instead of printing them. */
static size_t errors, error_line, error_col;

void cli_input_error_at(const char *path, size_t line, size_t col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!path || n <= 0)
        abort();
    errors++;
    error_line = line;
    error_col = col;
}

static void ok(int rc)
{
    if (rc != BVT_OK)
        abort();
}

static bvt_engine *fresh(void)
{
    static const char secret[] = "fuzz-rules-file-secret-012345678";
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    o.secret = secret;
    o.secret_len = sizeof secret - 1;
    bvt_engine *e;
    ok(bvt_engine_new(&e, &o, NULL));
    uint32_t id;
    ok(bvt_event_type_register(e, "wishlist", 2.0, &id, NULL));
    ok(bvt_consent_purpose(e, "newsletter", 1, &id));
    ok(bvt_keyword_map(e, "mattress", "home/beds/mattress", NULL));
    bvt_event ev = BVT_EVENT_INIT;
    ev.user_id = "u";
    ev.user_id_len = 1;
    ev.time_ms = NOW - 3600000;
    ev.type = BVT_EVENT_PAGE_VIEW;
    ev.category = "home/beds/mattress";
    ok(bvt_event_track(e, &ev, NULL));
    ev.type = BVT_EVENT_PURCHASE;
    ev.category = "sport/run";
    ev.value = 42;
    ok(bvt_event_track(e, &ev, NULL));
    ok(bvt_attr_set_string(e, "u", 1, "tier", "gold"));
    ok(bvt_attr_set_number(e, "u", 1, "age", 41));
    ok(bvt_consent_set(e, "u", 1, id, 1, NOW - 7200000));
    return e;
}

/* One line that cli_each_line() hands over: its number, bytes and length. */
typedef struct line {
    size_t number;
    const char *p;
    size_t n;
} line;

static int collect(void *ud, size_t number, const char *p, size_t n)
{
    line **at = ud;
    **at = (line){ number, p, n };
    (*at)++;
    return 0;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static int count_member(const bvt_user_key *key, void *ud)
{
    (void)key;
    (*(uint64_t *)ud)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t total = 1;
    for (size_t i = 0; i < size; i++)
        total += buf[i] == '\n';
    line *lines = malloc(total * sizeof *lines), *end = lines;
    if (!lines)
        abort();
    cli_each_line(buf, size, collect, &end);
    size_t n_lines = (size_t)(end - lines);

    bvt_engine *e = fresh();
    cli_rule_set rs = { 0 };
    errors = 0;
    int rc = cli_rules_define(e, "fuzz.rules", buf, size, &rs);
    if (rs.n > n_lines || rs.n > rs.cap)
        abort();
    if (rc != 0) {
        /* the first line not defined, a column inside it or just past it */
        if (rc != CLI_EXIT_FAIL || errors != 1 || rs.n == n_lines ||
            error_line != lines[rs.n].number || error_col < 1 || error_col > lines[rs.n].n + 1)
            abort();
    } else if (errors != 0 || rs.n != n_lines) {
        abort();
    }
    for (size_t i = 0; i < rs.n; i++) {
        const line *l = &lines[i];
        const char *colon = memchr(l->p, ':', l->n);
        if (!colon)
            abort();
        const char *a = l->p, *b = colon;
        while (a < b && blank(*a))
            a++;
        while (b > a && blank(b[-1]))
            b--;
        const char *name = rs.defs[i].name;
        uint32_t id;
        if (strlen(name) != (size_t)(b - a) || memcmp(name, a, (size_t)(b - a)) != 0 ||
            bvt_segment_lookup(e, name, &id) != BVT_OK || id != rs.defs[i].id)
            abort();
    }
    if (rc == 0 && rs.n > 0) {
        static const char *const keys[] = { "campaign" }, *const values[] = { "spring" };
        bvt_context ctx = BVT_CONTEXT_INIT;
        ctx.page_category = "home/beds";
        ctx.device = "mobile";
        ctx.geo = "FR";
        ctx.hour = 20;
        ctx.keys = keys;
        ctx.values = values;
        ctx.n = 1;
        uint32_t in[64];
        size_t n_in;
        ok(bvt_segments_of(e, "u", 1, NOW, &ctx, in, 64, &n_in));
        uint64_t members = 0, count = 0;
        ok(bvt_segment_members(e, rs.defs[rs.n - 1].id, NOW, &ctx, count_member, &members,
                               &count));
        if (members != count || count > 1)
            abort();
    }
    cli_rule_set_free(&rs);
    bvt_engine_free(e);
    free(lines);
    return 0;
}
