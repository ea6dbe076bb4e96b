/* cmd_report.c — `bvt report`: offer metrics (bvt_metrics_get) over an
 * events file, per offer, for all users and per listed segment. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_reader.h"

static const char usage[] =
    "usage: bvt report --events FILE --offers FILE [--rules FILE]\n"
    "                  [--segments NAME,...] [--now T]\n"
    "\n"
    "Define the offers of the offers file (and the segments of the rules file),\n"
    "track FILE (CSV or JSON Lines, see docs/events.md), and print each offer's\n"
    "metrics as CSV: a header, then for each offer in file order a row for all\n"
    "users (segment 'all') and one per listed segment, then the same rows for\n"
    "all offers together (offer '*').\n"
    "\n"
    "  --events FILE     the events; impression, click, conversion, dismiss,\n"
    "                    like, share and comment events with an offer_id count\n"
    "  --offers FILE     one offer per line: 'id: key=value ...' (docs/cli.md)\n"
    "  --rules FILE      segments to define, one 'name: rule' per line\n"
    "  --segments LIST   comma-separated segment names to report by (at most 15):\n"
    "                    the rules file's or built-in ones; a user counts in a\n"
    "                    segment when in it at the time of the event\n"
    "  --now T           count only events at or before T (ISO 8601 or epoch ms);\n"
    "                    default: every event\n"
    "\n"
    "Exit status: 0 success; 1 bad events, offers or rules, unknown segment;\n"
    "2 bad command line.\n";

/* ---- the offers file ------------------------------------------------- */

typedef struct offer_line {
    size_t line;
    int is_group;
    char *id;                 /* offer id or group name */
    bvt_offer def;            /* offers: strings point into the owned copies below */
    char *tags_buf;
    const char *tags[BVT_OFFER_TAGS_MAX];
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
    size_t n_caps;
    char *group;
    char *rule;
    uint32_t num;             /* numeric id once defined */
} offer_line;

typedef struct offer_file {
    offer_line *lines;
    size_t n, cap;
    int any_rule;
} offer_file;

static void offer_file_free(offer_file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->lines[i].id);
        free(f->lines[i].tags_buf);
        free(f->lines[i].group);
        free(f->lines[i].rule);
    }
    free(f->lines);
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* A duration as in the rule language: digits and a unit (ms, s, m, h, d, w). */
static int parse_duration(const char *s, size_t n, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
                 {"w", 604800000}};
    size_t d = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9')
        d++;
    if (d == 0 || d > 12)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < d; i++)
        v = v * 10 + (s[i] - '0');
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t ul = strlen(units[u].unit);
        if (n - d == ul && memcmp(s + d, units[u].unit, ul) == 0) {
            if (v > INT64_MAX / units[u].ms)
                return -1;
            *out = v * units[u].ms;
            return 0;
        }
    }
    return -1;
}

/* "3/1d": at most 3 in any day. */
static int parse_cap(const char *s, size_t n, bvt_cap *out)
{
    const char *slash = memchr(s, '/', n);
    uint64_t max;
    const char *why;
    if (!slash || er_parse_uint(s, (size_t)(slash - s), BVT_CAP_MAX_COUNT, &max, &why) < 0
        || max == 0)
        return -1;
    int64_t w;
    if (parse_duration(slash + 1, n - (size_t)(slash + 1 - s), &w) < 0 || w <= 0)
        return -1;
    out->max = (uint32_t)max;
    out->window_ms = w;
    return 0;
}

#define BAD(...)                                                                             \
    do {                                                                                     \
        cli_input_error(path, line, __VA_ARGS__);                                            \
        return CLI_EXIT_FAIL;                                                                \
    } while (0)

/* Comma-separated caps into ol->caps. */
static int parse_caps(const char *path, size_t line, const char *v, size_t vn, offer_line *ol)
{
    for (size_t at = 0; at <= vn;) {
        const char *comma = memchr(v + at, ',', vn - at);
        size_t end = comma ? (size_t)(comma - v) : vn;
        if (ol->n_caps == BVT_OFFER_CAPS_MAX)
            BAD("caps: more than %d caps", BVT_OFFER_CAPS_MAX);
        if (parse_cap(v + at, end - at, &ol->caps[ol->n_caps]) < 0)
            BAD("caps: expected COUNT/DURATION such as 3/1d (count 1..%d; units ms, s, m, "
                "h, d, w), found '%.*s'", BVT_CAP_MAX_COUNT, (int)(end - at), v + at);
        ol->n_caps++;
        at = end + 1;
    }
    return 0;
}

static int parse_tags(const char *path, size_t line, const char *v, size_t vn, offer_line *ol)
{
    if (!(ol->tags_buf = dup_n(v, vn)))
        BAD("out of memory");
    char *p = ol->tags_buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            BAD("tags: empty tag in '%.*s'", (int)vn, v);
        if (ol->def.n_tags == BVT_OFFER_TAGS_MAX)
            BAD("tags: more than %d tags", BVT_OFFER_TAGS_MAX);
        ol->tags[ol->def.n_tags++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    ol->def.tags = ol->tags;
    return 0;
}

/* One "key=value" of an offer (rule= takes the rest of the line). */
static int offer_field(const char *path, size_t line, const char *k, size_t kn, const char *v,
                       size_t vn, offer_line *ol, unsigned *seen)
{
    static const char *const keys[] = {"value", "cost", "cost_per", "response", "tags",
                                       "caps", "group", "rule", "start", "end", "priority",
                                       "budget", "cooloff", "personalised"};
    size_t key = 0, nkeys = sizeof keys / sizeof keys[0];
    while (key < nkeys && !(strlen(keys[key]) == kn && memcmp(keys[key], k, kn) == 0))
        key++;
    if (key == nkeys || (ol->is_group && key != 5))
        BAD("unknown key '%.*s'%s", (int)kn, k,
            ol->is_group ? " (a group has only caps=)" : "");
    if (*seen & (1u << key))
        BAD("key '%s' given twice", keys[key]);
    *seen |= 1u << key;
    if (vn == 0)
        BAD("%s: empty value", keys[key]);
    bvt_offer *d = &ol->def;
    const char *why = NULL;
    uint64_t u;
    int64_t t;
    switch (key) {
    case 0:
    case 1:
        if (er_parse_value(v, vn, key == 0 ? &d->value : &d->cost, &why) < 0)
            BAD("%s: %s in '%.*s'", keys[key], why, (int)vn, v);
        return 0;
    case 2:
        if (vn == 10 && memcmp(v, "impression", 10) == 0)
            d->cost_per = BVT_EVENT_IMPRESSION;
        else if (vn == 5 && memcmp(v, "click", 5) == 0)
            d->cost_per = BVT_EVENT_CLICK;
        else
            BAD("cost_per: expected impression or click, found '%.*s'", (int)vn, v);
        return 0;
    case 3:
        if (vn == 5 && memcmp(v, "click", 5) == 0)
            d->response = BVT_EVENT_CLICK;
        else if (vn == 10 && memcmp(v, "conversion", 10) == 0)
            d->response = BVT_EVENT_CONVERSION;
        else
            BAD("response: expected click or conversion, found '%.*s'", (int)vn, v);
        return 0;
    case 4:
        return parse_tags(path, line, v, vn, ol);
    case 5:
        return parse_caps(path, line, v, vn, ol);
    case 6:
        if (!(ol->group = dup_n(v, vn)))
            BAD("out of memory");
        return 0;
    case 7:
        if (!(ol->rule = dup_n(v, vn)))
            BAD("out of memory");
        return 0;
    case 8:
    case 9:
        if (er_parse_time(v, vn, &t, &why) < 0)
            BAD("%s: %s in '%.*s'", keys[key], why, (int)vn, v);
        *(key == 8 ? &d->start_ms : &d->end_ms) = t;
        return 0;
    case 10: {
        int neg = v[0] == '-';
        if (er_parse_uint(v + neg, vn - (size_t)neg, 2147483647u, &u, &why) < 0)
            BAD("priority: expected a whole number, found '%.*s'", (int)vn, v);
        d->priority = neg ? -(int32_t)u : (int32_t)u;
        return 0;
    }
    case 11:
        if (er_parse_uint(v, vn, UINT64_MAX, &u, &why) < 0)
            BAD("budget: %s in '%.*s'", why, (int)vn, v);
        d->budget_impressions = u;
        return 0;
    case 12:
        if (parse_duration(v, vn, &d->cooloff_ms) < 0)
            BAD("cooloff: expected a duration such as 12h or 7d, found '%.*s'", (int)vn, v);
        return 0;
    default:
        if ((vn == 3 && memcmp(v, "yes", 3) == 0) || (vn == 1 && v[0] == '1'))
            d->personalised = 1;
        else if ((vn == 2 && memcmp(v, "no", 2) == 0) || (vn == 1 && v[0] == '0'))
            d->personalised = 0;
        else
            BAD("personalised: expected yes or no, found '%.*s'", (int)vn, v);
        return 0;
    }
}

/* One "id: key=value ..." or "group NAME: caps=..." line (p[0..n)). */
static int offer_parse_line(const char *path, size_t line, const char *p, size_t n,
                            offer_file *f)
{
    if (memchr(p, '\0', n))
        BAD("NUL byte in the line");
    const char *colon = memchr(p, ':', n);
    if (!colon)
        BAD("expected 'id: key=value ...'");
    size_t hs = 0, he = (size_t)(colon - p);
    while (hs < he && is_blank(p[hs]))
        hs++;
    while (he > hs && is_blank(p[he - 1]))
        he--;
    int is_group = he - hs > 6 && memcmp(p + hs, "group", 5) == 0 && is_blank(p[hs + 5]);
    if (is_group)
        for (hs += 6; hs < he && is_blank(p[hs]); hs++)
            ;
    if (he == hs)
        BAD("missing %s before ':'", is_group ? "group name" : "offer id");
    if (he - hs > BVT_OFFER_ID_MAX)
        BAD("%s longer than %d bytes", is_group ? "group name" : "offer id", BVT_OFFER_ID_MAX);
    for (size_t i = 0; i < f->n; i++)
        if (f->lines[i].is_group == is_group && strlen(f->lines[i].id) == he - hs
            && memcmp(f->lines[i].id, p + hs, he - hs) == 0)
            BAD("%s '%.*s' is defined twice", is_group ? "group" : "offer", (int)(he - hs),
                p + hs);
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        offer_line *l = realloc(f->lines, cap * sizeof *l);
        if (!l)
            BAD("out of memory");
        f->lines = l;
        f->cap = cap;
    }
    offer_line *ol = &f->lines[f->n++];
    memset(ol, 0, sizeof *ol);
    bvt_offer_init(&ol->def);
    ol->line = line;
    ol->is_group = is_group;
    if (!(ol->id = dup_n(p + hs, he - hs)))
        BAD("out of memory");
    unsigned seen = 0;
    for (size_t at = (size_t)(colon - p) + 1;;) {
        while (at < n && is_blank(p[at]))
            at++;
        if (at == n)
            break;
        size_t ks = at;
        while (at < n && !is_blank(p[at]) && p[at] != '=')
            at++;
        if (at == n || p[at] != '=')
            BAD("expected key=value, found '%.*s'", (int)(at - ks), p + ks);
        size_t kn = at - ks, vs = ++at;
        if (kn == 4 && memcmp(p + ks, "rule", 4) == 0) {
            size_t ve = n;
            while (ve > vs && is_blank(p[ve - 1]))
                ve--;
            f->any_rule = 1;
            int rc = offer_field(path, line, p + ks, kn, p + vs, ve - vs, ol, &seen);
            if (rc)
                return rc;
            break;
        }
        while (at < n && !is_blank(p[at]))
            at++;
        int rc = offer_field(path, line, p + ks, kn, p + vs, at - vs, ol, &seen);
        if (rc)
            return rc;
    }
    ol->def.id = ol->id;
    ol->def.caps = ol->caps;
    ol->def.n_caps = ol->n_caps;
    ol->def.group = ol->group;
    ol->def.rule = ol->rule;
    return 0;
}

typedef struct offers_input {
    const char *path;
    offer_file *f;
} offers_input;

static int offers_line(void *ud, size_t line, const char *p, size_t n)
{
    offers_input *in = ud;
    return offer_parse_line(in->path, line, p, n, in->f);
}

static int offers_parse(const char *path, const char *buf, size_t len, offer_file *f)
{
    offers_input in = { path, f };
    return cli_each_line(buf, len, offers_line, &in);
}

/* Groups first (an offer may name a group defined on a later line), then
 * offers in file order. */
static int offers_define(bvt_engine *e, const char *path, offer_file *f)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < f->n; i++) {
            offer_line *ol = &f->lines[i];
            if (ol->is_group != (pass == 0))
                continue;
            bvt_error err = BVT_ERROR_INIT;
            int rc = ol->is_group
                         ? bvt_offer_group_define(e, ol->id, ol->caps, ol->n_caps, &err)
                         : bvt_offer_define(e, &ol->def, &ol->num, &err);
            if (rc != BVT_OK) {
                char at[48] = "";
                if (ol->rule && err.offset >= 0
                    && (rc == BVT_ESYNTAX || rc == BVT_EINVAL || rc == BVT_ENOTFOUND
                        || rc == BVT_ERANGE || rc == BVT_ECYCLE))
                    snprintf(at, sizeof at, " (at byte %lld of the rule)",
                             (long long)err.offset + 1);
                cli_input_error(path, ol->line, "%s '%s': %s%s", ol->is_group ? "group" : "offer",
                                ol->id, err.message[0] ? err.message : bvt_strerror(rc), at);
                return CLI_EXIT_FAIL;
            }
        }
    }
    return 0;
}

#undef BAD

/* ---- segments and custom types -------------------------------------- */

/* Rules may name custom event types that only the events file introduces,
 * and segments must exist before the events are tracked (membership is
 * taken when each feedback event is tracked): so the file's custom types
 * are registered first, as the loader would (interest weight 1). */
static int register_types(bvt_engine *e, const char *path, const char *buf, size_t len)
{
    er_reader *r = malloc(sizeof *r);
    if (!r) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int rc = 0;
    if (er_open(r, buf, len, er_sniff(buf, len)) < 0) {
        cli_input_error(path, er_error_line(r), "%s", er_error(r));
        rc = CLI_EXIT_FAIL;
    }
    while (rc == 0) {
        er_record rec;
        int got = er_next(r, &rec);
        if (got == 0)
            break;
        if (got < 0) {
            cli_input_error(path, er_error_line(r), "%s", er_error(r));
            rc = CLI_EXIT_FAIL;
            break;
        }
        char name[ER_MAX_TYPE_NAME + 1];
        uint32_t id;
        memcpy(name, rec.type.p, rec.type.n);
        name[rec.type.n] = '\0';
        if (bvt_event_type_lookup(e, name, &id) == BVT_ETYPE) {
            bvt_error err = BVT_ERROR_INIT;
            int r2 = bvt_event_type_register(e, name, 1.0, &id, &err);
            if (r2 != BVT_OK) {
                cli_input_error(path, rec.line, "type: cannot register custom type '%s': %s",
                                name, err.message[0] ? err.message : bvt_strerror(r2));
                rc = CLI_EXIT_FAIL;
            }
        }
    }
    free(r);
    return rc;
}

typedef struct seg_list {
    char *buf;
    const char *names[BVT_OFFER_SEGMENTS_MAX];
    uint32_t ids[BVT_OFFER_SEGMENTS_MAX];
    size_t n;
} seg_list;

/* Split --segments; returns 0 or CLI_EXIT_USAGE. */
static int parse_segments(const char *text, seg_list *sl)
{
    if (!text)
        return 0;
    if (!(sl->buf = dup_n(text, strlen(text)))) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    for (char *p = sl->buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            return cli_usage_error(usage, "--segments: empty name in '%s'", text);
        if (sl->n == BVT_OFFER_SEGMENTS_MAX)
            return cli_usage_error(usage, "--segments: at most %d segments",
                                   BVT_OFFER_SEGMENTS_MAX);
        for (size_t i = 0; i < sl->n; i++)
            if (strcmp(sl->names[i], p) == 0)
                return cli_usage_error(usage, "--segments: '%s' given twice", p);
        sl->names[sl->n++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* ---- output ----------------------------------------------------------- */

static int row(cli_out *o, bvt_engine *e, const char *offer, uint32_t num, const char *segment,
               uint32_t seg_id)
{
    bvt_metrics m = BVT_METRICS_INIT;
    int rc = bvt_metrics_get(e, num, seg_id, &m);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: metrics of '%s' in '%s': %s\n", offer, segment, bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    cli_out_csv_field(o, offer, strlen(offer));
    cli_out_bytes(o, ",", 1);
    cli_out_csv_field(o, segment, strlen(segment));
    cli_out_printf(o, ",%llu,%llu,%llu,%llu,%llu,", (unsigned long long)m.impressions,
                   (unsigned long long)m.clicks, (unsigned long long)m.conversions,
                   (unsigned long long)m.dismissals, (unsigned long long)m.engagements);
    const double v[] = {m.revenue, m.cost, m.ctr, m.conversion_rate, m.engagement_rate, m.roi};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cli_out_fixed6(o, v[i]);
        cli_out_bytes(o, i + 1 < sizeof v / sizeof v[0] ? "," : "\n", 1);
    }
    return 0;
}

static int print_report(bvt_engine *e, const offer_file *f, const seg_list *sl)
{
    cli_out o = { 0 };
    static const char header[] = "offer,segment,impressions,clicks,conversions,dismissals,"
                                 "engagements,revenue,cost,ctr,conversion_rate,"
                                 "engagement_rate,roi\n";
    cli_out_bytes(&o, header, sizeof header - 1);
    int rc = 0;
    for (size_t i = 0; i <= f->n && rc == 0; i++) {
        if (i < f->n && f->lines[i].is_group)
            continue;
        const char *name = i < f->n ? f->lines[i].id : "*";
        uint32_t num = i < f->n ? f->lines[i].num : BVT_ALL_OFFERS;
        rc = row(&o, e, name, num, "all", 0);
        for (size_t s = 0; s < sl->n && rc == 0; s++)
            rc = row(&o, e, name, num, sl->names[s], sl->ids[s]);
    }
    if (rc) {
        cli_out_free(&o);
        return rc;
    }
    return cli_out_flush(&o);
}

/* ---- the command ------------------------------------------------------ */

static int run(const char *events, const char *offers, const char *rules, int64_t now,
               seg_list *sl)
{
    cli_file ef = { 0 }, of = { 0 }, rf = { 0 };
    int have_rules = rules != NULL;
    if (cli_file_load(&of, offers) < 0)
        return CLI_EXIT_FAIL;
    if (have_rules && cli_file_load(&rf, rules) < 0) {
        cli_file_free(&of);
        return CLI_EXIT_FAIL;
    }
    if (cli_file_load(&ef, events) < 0) {
        cli_file_free(&of);
        cli_file_free(&rf);
        return CLI_EXIT_FAIL;
    }
    offer_file f = { 0 };
    cli_rule_set rs = { 0 };
    cli_load ld = { 0 };
    ld.until_ms = now;
    bvt_engine *e = NULL;
    int rc = offers_parse(offers, of.data, of.len, &f);
    if (rc == 0)
        rc = cli_engine_new(&e, NULL);
    if (rc == 0 && (have_rules || f.any_rule))
        rc = register_types(e, events, ef.data, ef.len);
    if (rc == 0 && have_rules)
        rc = cli_rules_define(e, rules, rf.data, rf.len, &rs);
    for (size_t i = 0; rc == 0 && i < sl->n; i++) {
        if (bvt_segment_lookup(e, sl->names[i], &sl->ids[i]) != BVT_OK) {
            fprintf(stderr, "bvt: no segment '%s'\n", sl->names[i]);
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == 0 && sl->n > 0) {
        bvt_error err = BVT_ERROR_INIT;
        int r = bvt_offer_segments_set(e, sl->ids, sl->n, &err);
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: --segments: %s\n", err.message[0] ? err.message : bvt_strerror(r));
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == 0)
        rc = offers_define(e, offers, &f);
    if (rc == 0)
        rc = cli_load_events(e, events, ef.data, ef.len, &ld);
    if (rc == 0)
        rc = print_report(e, &f, sl);
    idmap_free(&ld.watch_items);
    cli_rule_set_free(&rs);
    offer_file_free(&f);
    bvt_engine_free(e);
    cli_file_free(&ef);
    cli_file_free(&of);
    cli_file_free(&rf);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *events = NULL, *offers = NULL, *rules = NULL, *segments = NULL,
               *now_text = NULL;
    const cli_opt opts[] = { { "events", &events }, { "offers", &offers }, { "rules", &rules },
                             { "segments", &segments }, { "now", &now_text } };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    int64_t now = 0;
    const char *why;
    seg_list sl = { 0 };
    rc = 0;
    if (!events)
        rc = cli_usage_error(usage, "report needs --events FILE");
    else if (!offers)
        rc = cli_usage_error(usage, "report needs --offers FILE");
    else if (now_text && er_parse_time(now_text, strlen(now_text), &now, &why) < 0)
        rc = cli_usage_error(usage, "--now: %s in '%s'", why, now_text);
    else
        rc = parse_segments(segments, &sl);
    if (rc == 0)
        rc = run(events, offers, rules, now, &sl);
    free(sl.buf);
    return rc;
}
