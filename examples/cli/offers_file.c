/* offers_file.c — parsing the offers file of `bvt report` (offers_file.h,
 * docs/cli.md "Offers file"). */
#include "offers_file.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_time.h"
#include "event_reader.h"

void offer_file_free(offer_file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->lines[i].id);
        free(f->lines[i].tags_buf);
        free(f->lines[i].group);
        free(f->lines[i].rule);
    }
    free(f->lines);
    idmap_free(&f->names[0]);
    idmap_free(&f->names[1]);
    memset(f, 0, sizeof *f);
}

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
    char msg[160];
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
        if (cli_time_read(v, vn, BVT_TIME_AUTO, NULL, &t, msg, sizeof msg, &why) < 0)
            BAD("%s: %s", keys[key], msg);
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
    while (hs < he && cli_is_blank(p[hs]))
        hs++;
    while (he > hs && cli_is_blank(p[he - 1]))
        he--;
    int is_group = he - hs > 6 && memcmp(p + hs, "group", 5) == 0 && cli_is_blank(p[hs + 5]);
    if (is_group)
        for (hs += 6; hs < he && cli_is_blank(p[hs]); hs++)
            ;
    if (he == hs) /* "group NAME" needs a NAME to be a group line at all */
        BAD("missing offer id before ':'");
    if (he - hs > BVT_OFFER_ID_MAX)
        BAD("%s longer than %d bytes", is_group ? "group name" : "offer id", BVT_OFFER_ID_MAX);
    int is_new = 0;
    if (idmap_intern(&f->names[is_group], p + hs, he - hs, &is_new) < 0)
        BAD("out of memory");
    if (!is_new)
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
    bvt_offer init = BVT_OFFER_INIT; /* bvt_offer_init() without linking the library */
    ol->def = init;
    ol->line = line;
    ol->is_group = is_group;
    if (!(ol->id = dup_n(p + hs, he - hs)))
        BAD("out of memory");
    unsigned seen = 0;
    for (size_t at = (size_t)(colon - p) + 1;;) {
        while (at < n && cli_is_blank(p[at]))
            at++;
        if (at == n)
            break;
        size_t ks = at;
        while (at < n && !cli_is_blank(p[at]) && p[at] != '=')
            at++;
        if (at == n || p[at] != '=')
            BAD("expected key=value, found '%.*s'", (int)(at - ks), p + ks);
        size_t kn = at - ks, vs = ++at;
        if (kn == 4 && memcmp(p + ks, "rule", 4) == 0) {
            size_t ve = n;
            while (ve > vs && cli_is_blank(p[ve - 1]))
                ve--;
            f->any_rule = 1;
            int rc = offer_field(path, line, p + ks, kn, p + vs, ve - vs, ol, &seen);
            if (rc)
                return rc;
            break;
        }
        while (at < n && !cli_is_blank(p[at]))
            at++;
        int rc = offer_field(path, line, p + ks, kn, p + vs, at - vs, ol, &seen);
        if (rc)
            return rc;
    }
    /* def.tags and def.caps point into the lines array, which the next
     * line may move: offer_file_parse() sets them at the end. */
    ol->def.id = ol->id;
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

int offer_file_parse(const char *path, const char *buf, size_t len, offer_file *f)
{
    offers_input in = { path, f };
    int rc = cli_each_line(buf, len, offers_line, &in);
    if (rc)
        return rc;
    for (size_t i = 0; i < f->n; i++) {
        offer_line *ol = &f->lines[i];
        ol->def.tags = ol->def.n_tags ? ol->tags : NULL;
        ol->def.caps = ol->caps;
    }
    return 0;
}

#undef BAD
