/* statecmp.c — see statecmp.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statecmp.h"

#define RANK_CAP 64
#define CATEGORY_IDS 65535u /* category ids are 1..65535 */

/* ---------------------------------------------------------------- text */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_reserve(sbuf *s, size_t more)
{
    if (s->oom || s->len + more + 1 <= s->cap)
        return;
    size_t cap = s->cap ? s->cap : 1 << 16;
    while (cap < s->len + more + 1)
        cap *= 2;
    char *p = realloc(s->p, cap);
    if (!p) {
        s->oom = 1;
        return;
    }
    s->p = p;
    s->cap = cap;
}

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(s, (size_t)n);
    if (s->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* ---------------------------------------------------------------- keys */

static int key_cmp(const void *a, const void *b)
{
    const bvt_user_key *x = a, *y = b;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

typedef struct keys {
    bvt_user_key *k;
    size_t n, cap;
} keys;

static void keys_add(keys *ks, const bvt_user_key *k)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 256;
        bvt_user_key *p = realloc(ks->k, cap * sizeof *p);
        if (!p)
            return;
        ks->k = p;
        ks->cap = cap;
    }
    ks->k[ks->n++] = *k;
}

static int member_fn(const bvt_user_key *k, void *ud)
{
    keys_add(ud, k);
    return 0;
}

/* A user from foreach_user: its key and a few features, one line each,
 * sorted afterwards with the keys (the line starts with the key). */
typedef struct user_line {
    bvt_user_key k;
    char text[160];
} user_line;

typedef struct user_lines {
    user_line *v;
    size_t n, cap;
} user_lines;

static int user_fn(const bvt_user_key *k, const bvt_profile *p, void *ud)
{
    user_lines *ul = ud;
    if (ul->n == ul->cap) {
        size_t cap = ul->cap ? ul->cap * 2 : 256;
        user_line *v = realloc(ul->v, cap * sizeof *v);
        if (!v)
            return 0;
        ul->v = v;
        ul->cap = cap;
    }
    user_line *u = &ul->v[ul->n++];
    u->k = *k;
    snprintf(u->text, sizeof u->text, "events %llu first %lld last %lld purchases %u total %.17g",
             (unsigned long long)p->events, (long long)p->first_seen_ms,
             (long long)p->last_seen_ms, p->purchases, p->monetary_total);
    return 0;
}

static int user_line_cmp(const void *a, const void *b)
{
    return key_cmp(&((const user_line *)a)->k, &((const user_line *)b)->k);
}

/* ---------------------------------------------------------------- exports */

/* The closing bracket of the array that starts at p ('['), strings skipped. */
static char *array_end(char *p)
{
    int depth = 0, in_str = 0;
    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '[' || *p == '{') {
            depth++;
        } else if (*p == ']' || *p == '}') {
            if (--depth == 0)
                return p;
        }
    }
    return NULL;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "aliases" come in the alias table's order, which depends on its size
 * and history, not on the state: sort them. */
static void sort_aliases(char *json)
{
    char *a = strstr(json, "\"aliases\":[");
    if (!a)
        return;
    a += strlen("\"aliases\":[");
    char *end = strchr(a, ']');
    if (!end || end == a)
        return;
    size_t n = 1;
    for (char *p = a; p < end; p++)
        n += *p == ',';
    char *copy = malloc((size_t)(end - a) + 1);
    char **items = malloc(n * sizeof *items);
    if (!copy || !items) {
        free(copy);
        free(items);
        return;
    }
    memcpy(copy, a, (size_t)(end - a));
    copy[end - a] = 0;
    size_t k = 0;
    for (char *tok = strtok(copy, ","); tok && k < n; tok = strtok(NULL, ","))
        items[k++] = tok;
    qsort(items, k, sizeof *items, str_cmp);
    char *w = a;
    for (size_t i = 0; i < k; i++) {
        size_t l = strlen(items[i]);
        if (i)
            *w++ = ',';
        memcpy(w, items[i], l);
        w += l;
    }
    free(items);
    free(copy);
}

static void strip_member(char *json, const char *member)
{
    char *m = strstr(json, member);
    if (!m)
        return;
    char *open = strchr(m, '[');
    char *close = open ? array_end(open) : NULL;
    if (!close)
        return;
    memmove(m, close + 1, strlen(close + 1) + 1);
}

static void put_export(sbuf *s, bvt_engine *e, const char *id, int64_t now, unsigned flags,
                       char **buf, size_t *cap)
{
    size_t len = 0;
    int rc = bvt_user_export(e, id, strlen(id), now, *buf, *cap, &len);
    if (rc == BVT_ERANGE) {
        char *p = realloc(*buf, len + 1);
        if (!p) {
            s->oom = 1;
            return;
        }
        *buf = p;
        *cap = len + 1;
        rc = bvt_user_export(e, id, strlen(id), now, *buf, *cap, &len);
    }
    if (rc == BVT_ENOTFOUND) {
        sb_printf(s, "export %s: absent\n", id);
        return;
    }
    if (rc != BVT_OK) {
        sb_printf(s, "export %s: status %d\n", id, rc);
        return;
    }
    sort_aliases(*buf);
    if (flags & STATECMP_NO_MEMBERSHIP)
        strip_member(*buf, ",\"segments\":");
    sb_printf(s, "export %s: %s\n", id, *buf);
}

/* ---------------------------------------------------------------- ranking */

static void put_rank(sbuf *s, bvt_engine *e, const char *id, int64_t now)
{
    static const char *keys_[] = { "tier" };
    static const char *values_[] = { "gold" };
    bvt_context ctx = BVT_CONTEXT_INIT;
    ctx.page_category = "sport";
    ctx.device = "mobile";
    ctx.geo = "FR";
    ctx.hour = 20;
    ctx.keys = keys_;
    ctx.values = values_;
    ctx.n = 1;
    bvt_ranked_offer offers[RANK_CAP];
    bvt_exclusion excluded[RANK_CAP];
    bvt_offer_choice choices[RANK_CAP];
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    res.offers = offers;
    res.offers_cap = RANK_CAP;
    res.excluded = excluded;
    res.excluded_cap = RANK_CAP;
    res.choices = choices;
    res.choices_cap = RANK_CAP;
    bvt_rank_request q = BVT_RANK_REQUEST_INIT;
    q.user_id = id;
    q.user_id_len = strlen(id);
    q.now = now;
    q.ctx = &ctx;
    q.k = RANK_CAP;
    q.seed = 0x5eed;
    int rc = bvt_rank(e, &q, &res, NULL);
    sb_printf(s, "rank %s: status %d personalised %d variant %d bucket %u;", id, rc,
              res.personalised, res.variant, res.bucket);
    for (size_t i = 0; rc == BVT_OK && i < res.n_offers && i < RANK_CAP; i++)
        sb_printf(s, " %s %.17g %.17g %.17g", offers[i].offer_id, offers[i].score,
                  offers[i].estimate, offers[i].propensity);
    sb_printf(s, "; excluded");
    for (size_t i = 0; rc == BVT_OK && i < res.n_excluded && i < RANK_CAP; i++)
        sb_printf(s, " %s:%u", excluded[i].offer_id ? excluded[i].offer_id : "?",
                  excluded[i].reason);
    sb_printf(s, "; choices");
    for (size_t i = 0; rc == BVT_OK && i < res.n_choices && i < RANK_CAP; i++)
        sb_printf(s, " %u:%.17g", choices[i].offer, choices[i].probability);
    sb_printf(s, "\n");
}

/* ---------------------------------------------------------------- aggregates */

static void put_metrics(sbuf *s, bvt_engine *e, uint32_t offer, uint32_t segment)
{
    bvt_metrics m = BVT_METRICS_INIT;
    int rc = bvt_metrics_get(e, offer, segment, &m);
    if (rc != BVT_OK) {
        sb_printf(s, "metrics %u/%u: status %d\n", offer, segment, rc);
        return;
    }
    sb_printf(s, "metrics %u/%u: impressions %llu clicks %llu conversions %llu dismissals %llu "
              "engagements %llu revenue %.17g cost %.17g ctr %.17g cr %.17g er %.17g roi %.17g\n",
              offer, segment, (unsigned long long)m.impressions, (unsigned long long)m.clicks,
              (unsigned long long)m.conversions, (unsigned long long)m.dismissals,
              (unsigned long long)m.engagements, m.revenue, m.cost, m.ctr, m.conversion_rate,
              m.engagement_rate, m.roi);
}

static void put_lift(sbuf *s, const char *name, const bvt_lift *l)
{
    sb_printf(s, " %s %.17g [%.17g %.17g] %.17g [%.17g %.17g] p %.17g", name, l->absolute,
              l->abs_low, l->abs_high, l->relative, l->rel_low, l->rel_high, l->p_value);
}

static void put_variant(sbuf *s, const bvt_variant_report *v)
{
    sb_printf(s, " {%s users %llu impressions %llu clicks %llu conversions %llu converters "
              "%llu revenue %.17g cost %.17g", v->name ? v->name : "-",
              (unsigned long long)v->users, (unsigned long long)v->impressions,
              (unsigned long long)v->clicks, (unsigned long long)v->conversions,
              (unsigned long long)v->converters, v->revenue, v->cost);
    put_lift(s, "ctr", &v->ctr_lift);
    put_lift(s, "conversion", &v->conversion_lift);
    put_lift(s, "revenue", &v->revenue_lift);
    sb_printf(s, "}");
}

static void put_report(sbuf *s, bvt_engine *e, uint32_t x, uint32_t segment)
{
    bvt_experiment_report r;
    memset(&r, 0, sizeof r);
    r.version = BVT_EXPERIMENT_REPORT_VERSION;
    int rc = bvt_experiment_report_get(e, x, segment, &r);
    sb_printf(s, "experiment %u/%u: status %d", x, segment, rc);
    if (rc == BVT_OK) {
        sb_printf(s, " variants %u srm %.17g %.17g %d", r.n_variants, r.srm_chi2, r.srm_p_value,
                  r.srm_mismatch);
        for (uint32_t i = 0; i < r.n_variants && i < BVT_VARIANTS_MAX; i++)
            put_variant(s, &r.variants[i]);
        sb_printf(s, " holdout");
        put_variant(s, &r.holdout);
    }
    sb_printf(s, "\n");
}

/* ---------------------------------------------------------------- capture */

static void put_stats(sbuf *s, bvt_engine *e)
{
    bvt_stats st = BVT_STATS_INIT;
    int rc = bvt_engine_stats(e, &st);
    /* bytes_table, bytes_registry and bytes_total depend on how the table
     * and registries grew (free slots, shards), not on what they hold. */
    /* (the category count is in the list of names: see put_names) */
    sb_printf(s, "stats: status %d users %llu accepted %llu evicted %llu history %llu cart %llu "
              "attributes %llu record %u\n", rc, (unsigned long long)st.users,
              (unsigned long long)st.events_accepted, (unsigned long long)st.users_evicted,
              (unsigned long long)st.bytes_history, (unsigned long long)st.bytes_cart,
              (unsigned long long)st.bytes_attributes, st.record_bytes);
    sb_printf(s, "stats rejected: %llu\n", (unsigned long long)st.events_rejected);
}

static void put_names(sbuf *s, bvt_engine *e, const statecmp_names *nm)
{
    /* ids erased at a checkpoint name nothing after a reopen: no stop at
     * the first gap */
    for (uint32_t id = 1; id <= CATEGORY_IDS; id++) {
        const char *path = bvt_category_name(e, id);
        if (path)
            sb_printf(s, "name category %u: %s parent %u\n", id, path,
                      bvt_category_parent(e, id));
    }
    for (uint32_t t = 0; t < BVT_EVENT_TYPE_MAX; t++) {
        const char *name = bvt_event_type_name(e, t);
        if (name)
            sb_printf(s, "type %u: %s\n", t, name);
    }
    static const char *builtin[] = { "personalisation", "ads", "analytics" };
    for (size_t i = 0; i < 3 + nm->n_purposes; i++) {
        const char *name = i < 3 ? builtin[i] : nm->purposes[i - 3];
        uint32_t id = 0;
        int rc = bvt_consent_purpose(e, name, 0, &id);
        sb_printf(s, "purpose %s: status %d id %u\n", name, rc, rc == BVT_OK ? id : 0);
    }
}

/* Segment names (ids are dense from 1, removed ones keep theirs), the list
 * defined now, lookups; *out_max the largest id. */
static void put_segments(sbuf *s, bvt_engine *e, const statecmp_names *nm, uint32_t *out_max)
{
    uint32_t id = 1;
    for (;; id++) {
        const char *name = bvt_segment_name(e, id);
        if (!name)
            break;
        sb_printf(s, "segment %u: %s\n", id, name);
    }
    *out_max = id - 1;
    uint32_t list[BVT_SEGMENTS_MAX];
    size_t n = 0;
    int rc = bvt_segment_list(e, list, BVT_SEGMENTS_MAX, &n);
    sb_printf(s, "segment list: status %d n %zu:", rc, n);
    for (size_t i = 0; rc == BVT_OK && i < n && i < BVT_SEGMENTS_MAX; i++)
        sb_printf(s, " %u", list[i]);
    sb_printf(s, "\n");
    for (size_t i = 0; i < nm->n_segments; i++) {
        uint32_t sid = 0;
        rc = bvt_segment_lookup(e, nm->segments[i], &sid);
        sb_printf(s, "segment lookup %s: status %d id %u\n", nm->segments[i], rc,
                  rc == BVT_OK ? sid : 0);
    }
}

static void put_offers(sbuf *s, bvt_engine *e, const statecmp_names *nm, uint32_t max_segment,
                       uint32_t *offer_segs, size_t *n_offer_segs, uint32_t *out_offers)
{
    uint32_t id = 1;
    for (;; id++) {
        const char *name = bvt_offer_name(e, id);
        if (!name)
            break;
        sb_printf(s, "offer %u: %s\n", id, name);
    }
    *out_offers = id - 1;
    uint32_t list[RANK_CAP * 4];
    size_t n = 0;
    int rc = bvt_offer_list(e, list, RANK_CAP * 4, &n);
    sb_printf(s, "offer list: status %d n %zu:", rc, n);
    for (size_t i = 0; rc == BVT_OK && i < n && i < RANK_CAP * 4; i++)
        sb_printf(s, " %u", list[i]);
    sb_printf(s, "\n");
    for (size_t i = 0; i < nm->n_offers; i++) {
        uint32_t oid = 0;
        rc = bvt_offer_lookup(e, nm->offers[i], &oid);
        sb_printf(s, "offer lookup %s: status %d id %u\n", nm->offers[i], rc,
                  rc == BVT_OK ? oid : 0);
    }
    /* the offer segments: the ids metrics accept */
    *n_offer_segs = 0;
    sb_printf(s, "offer segments:");
    for (uint32_t sid = 1; sid <= max_segment; sid++) {
        bvt_metrics m = BVT_METRICS_INIT;
        if (bvt_metrics_get(e, BVT_ALL_OFFERS, sid, &m) == BVT_OK) {
            sb_printf(s, " %u", sid);
            if (*n_offer_segs < BVT_OFFER_SEGMENTS_MAX)
                offer_segs[(*n_offer_segs)++] = sid;
        }
    }
    sb_printf(s, "\n");
}

static void put_anonymous(sbuf *s, bvt_engine *e)
{
    uint32_t tops[256];
    size_t n_tops = 0;
    tops[n_tops++] = BVT_ANY;
    tops[n_tops++] = 0;
    for (uint32_t id = 1; id <= CATEGORY_IDS && n_tops < 256; id++)
        if (bvt_category_name(e, id) && bvt_category_parent(e, id) == 0)
            tops[n_tops++] = id;
    for (uint32_t t = 0; t <= BVT_EVENT_TYPE_MAX; t++) {
        uint32_t type = t == BVT_EVENT_TYPE_MAX ? BVT_ANY : t;
        if (type != BVT_ANY && !bvt_event_type_name(e, type))
            continue;
        for (size_t c = 0; c < n_tops; c++) {
            uint64_t count = 0;
            double sum = 0;
            int rc = bvt_anonymous_counts(e, type, tops[c], &count, &sum);
            if (rc != BVT_OK || count || sum)
                sb_printf(s, "anonymous %d/%d: status %d count %llu sum %.17g\n", (int)type,
                          (int)tops[c], rc, (unsigned long long)count, sum);
        }
    }
}

char *statecmp_capture(bvt_engine *e, const statecmp_names *nm, int64_t now, unsigned flags)
{
    sbuf s = { NULL, 0, 0, 0 };
    sb_reserve(&s, 1 << 16);
    sb_printf(&s, "now: %lld\n", (long long)now);
    put_stats(&s, e);
    put_names(&s, e, nm);
    uint32_t max_segment = 0, n_offers = 0, offer_segs[BVT_OFFER_SEGMENTS_MAX];
    size_t n_offer_segs = 0;
    put_segments(&s, e, nm, &max_segment);
    put_offers(&s, e, nm, max_segment, offer_segs, &n_offer_segs, &n_offers);
    for (uint32_t o = 0; o <= n_offers; o++) {
        put_metrics(&s, e, o, 0);
        for (size_t i = 0; i < n_offer_segs; i++)
            put_metrics(&s, e, o, offer_segs[i]);
    }
    sb_printf(&s, "unattributed: %llu\n", (unsigned long long)bvt_metrics_unattributed(e));

    uint32_t n_exp = 0;
    for (uint32_t x = 1; x <= BVT_EXPERIMENTS_MAX; x++, n_exp++) {
        bvt_experiment_report r;
        memset(&r, 0, sizeof r);
        r.version = BVT_EXPERIMENT_REPORT_VERSION;
        if (bvt_experiment_report_get(e, x, 0, &r) == BVT_ENOTFOUND)
            break;
        put_report(&s, e, x, 0);
        for (size_t i = 0; i < n_offer_segs; i++)
            put_report(&s, e, x, offer_segs[i]);
    }
    for (size_t i = 0; i < nm->n_experiments; i++) {
        uint32_t xid = 0;
        int rc = bvt_experiment_lookup(e, nm->experiments[i], &xid);
        sb_printf(&s, "experiment lookup %s: status %d id %u\n", nm->experiments[i], rc,
                  rc == BVT_OK ? xid : 0);
    }
    put_anonymous(&s, e);

    /* every user the engine holds, by key */
    user_lines ul = { NULL, 0, 0 };
    int rc = bvt_engine_foreach_user(e, now, user_fn, &ul);
    if (ul.n > 1)
        qsort(ul.v, ul.n, sizeof *ul.v, user_line_cmp);
    sb_printf(&s, "users: status %d n %zu\n", rc, ul.n);
    for (size_t i = 0; i < ul.n; i++)
        sb_printf(&s, "user %016llx%016llx: %s\n", (unsigned long long)ul.v[i].k.hi,
                  (unsigned long long)ul.v[i].k.lo, ul.v[i].text);
    free(ul.v);

    /* every raw id: export, variants, ranking */
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    if (!buf)
        s.oom = 1;
    for (size_t i = 0; buf && i < nm->n_users; i++) {
        const char *id = nm->users[i];
        put_export(&s, e, id, now, flags, &buf, &cap);
        sb_printf(&s, "variants %s:", id);
        for (uint32_t x = 1; x <= n_exp; x++) {
            int32_t v = 0;
            rc = bvt_experiment_variant_of(e, x, id, strlen(id), &v);
            sb_printf(&s, " %d/%d", rc, v);
        }
        sb_printf(&s, "\n");
        if (!(flags & STATECMP_NO_RANK))
            put_rank(&s, e, id, now);
    }
    free(buf);

    /* members of each segment defined now */
    if (!(flags & STATECMP_NO_MEMBERSHIP)) {
        uint32_t list[BVT_SEGMENTS_MAX];
        size_t n = 0;
        bvt_segment_list(e, list, BVT_SEGMENTS_MAX, &n);
        for (size_t i = 0; i < n && i < BVT_SEGMENTS_MAX; i++) {
            keys ks = { NULL, 0, 0 };
            uint64_t count = 0;
            rc = bvt_segment_members(e, list[i], now, NULL, member_fn, &ks, &count);
            if (ks.n > 1)
                qsort(ks.k, ks.n, sizeof *ks.k, key_cmp);
            sb_printf(&s, "members %u: status %d count %llu:", list[i], rc,
                      (unsigned long long)count);
            for (size_t j = 0; j < ks.n; j++)
                sb_printf(&s, " %016llx%016llx", (unsigned long long)ks.k[j].hi,
                          (unsigned long long)ks.k[j].lo);
            sb_printf(&s, "\n");
            free(ks.k);
        }
    }
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* ---------------------------------------------------------------- probe */

#define PROBE_ID "statecmp-probe"
#define PROBE_OFFERS 256

typedef struct offer_counts {
    uint32_t offer;
    bvt_metrics m;
} offer_counts;

static size_t read_offers(bvt_engine *e, offer_counts *out)
{
    uint32_t list[PROBE_OFFERS];
    size_t n = 0;
    if (bvt_offer_list(e, list, PROBE_OFFERS, &n) != BVT_OK)
        return 0;
    if (n > PROBE_OFFERS)
        n = PROBE_OFFERS;
    for (size_t i = 0; i < n; i++) {
        out[i].offer = list[i];
        bvt_metrics m = BVT_METRICS_INIT;
        bvt_metrics_get(e, list[i], 0, &m);
        out[i].m = m;
    }
    return n;
}

static void read_experiments(bvt_engine *e, uint64_t *users, uint64_t *conversions,
                             double *revenue, uint32_t *n)
{
    for (*n = 0; *n < 64; (*n)++) {
        bvt_experiment_report r;
        memset(&r, 0, sizeof r);
        r.version = BVT_EXPERIMENT_REPORT_VERSION;
        if (bvt_experiment_report_get(e, *n + 1, 0, &r) != BVT_OK)
            break;
        users[*n] = conversions[*n] = 0;
        revenue[*n] = 0;
        for (uint32_t v = 0; v < r.n_variants && v < BVT_VARIANTS_MAX; v++) {
            users[*n] += r.variants[v].users;
            conversions[*n] += r.variants[v].conversions;
            revenue[*n] += r.variants[v].revenue;
        }
        users[*n] += r.holdout.users;
        conversions[*n] += r.holdout.conversions;
        revenue[*n] += r.holdout.revenue;
    }
}

static int probe_track(bvt_engine *e, uint32_t type, int64_t t, const char *category,
                       const char *offer, const char *search)
{
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = type;
    ev.user_id = PROBE_ID;
    ev.user_id_len = strlen(PROBE_ID);
    ev.time_ms = t;
    ev.category = category;
    ev.offer_id = offer;
    ev.search_text = search;
    ev.value = type == BVT_EVENT_CONVERSION ? 7 : 0;
    return bvt_event_track(e, &ev, NULL);
}

char *statecmp_probe(bvt_engine *e, const statecmp_names *nm, int64_t now)
{
    sbuf s = { NULL, 0, 0, 0 };
    sb_reserve(&s, 1 << 14);
    offer_counts *before = malloc(2 * PROBE_OFFERS * sizeof *before), *after;
    if (!before)
        return NULL;
    after = before + PROBE_OFFERS;
    uint64_t xu[64], xc[64], xu2[64], xc2[64];
    double xr[64], xr2[64];
    uint32_t nx, nx2;
    size_t n_offers = read_offers(e, before);
    read_experiments(e, xu, xc, xr, &nx);
    const size_t len = strlen(PROBE_ID);
    int64_t t = now - 3600000;
    static const char *builtin[] = { "personalisation", "ads", "analytics" };
    sb_printf(&s, "probe consent:");
    for (size_t i = 0; i < 3 + nm->n_purposes; i++) {
        uint32_t id;
        const char *name = i < 3 ? builtin[i] : nm->purposes[i - 3];
        int rc = bvt_consent_purpose(e, name, 0, &id);
        if (rc == BVT_OK)
            rc = bvt_consent_set(e, PROBE_ID, len, id, 1, t);
        sb_printf(&s, " %d", rc);
    }
    sb_printf(&s, "\nprobe events:");
    for (size_t i = 0; i < nm->n_searches; i++)
        sb_printf(&s, " %d", probe_track(e, BVT_EVENT_SEARCH, ++t, NULL, NULL, nm->searches[i]));
    /* no category: one nothing uses may be gone after a reopen (as it should) */
    for (uint32_t type = BVT_EVENT_CUSTOM_FIRST; type < BVT_EVENT_TYPE_MAX; type++)
        if (bvt_event_type_name(e, type))
            sb_printf(&s, " %d", probe_track(e, type, ++t, NULL, NULL, NULL));
    static const uint32_t feedback[] = { BVT_EVENT_IMPRESSION, BVT_EVENT_CLICK,
                                         BVT_EVENT_CONVERSION, BVT_EVENT_DISMISS };
    for (size_t i = 0; i < n_offers; i++)
        for (size_t f = 0; f < 4; f++)
            sb_printf(&s, " %d", probe_track(e, feedback[f], ++t, NULL,
                                             bvt_offer_name(e, before[i].offer), NULL));
    sb_printf(&s, "\nprobe assignments:");
    for (uint32_t x = 1; x <= nx; x++) {
        int32_t v = 0;
        int rc = bvt_experiment_assign(e, x, PROBE_ID, len, ++t, &v);
        sb_printf(&s, " %d/%d", rc, v);
    }
    sb_printf(&s, "\n");
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    if (buf)
        put_export(&s, e, PROBE_ID, now, 0, &buf, &cap);
    free(buf);
    /* what the calls added */
    size_t n_after = read_offers(e, after);
    for (size_t i = 0; i < n_after && i < n_offers; i++) {
        const bvt_metrics *a = &before[i].m, *b = &after[i].m;
        sb_printf(&s, "probe offer %u: impressions %llu clicks %llu conversions %llu dismissals "
                  "%llu engagements %llu revenue %.17g cost %.17g\n", after[i].offer,
                  (unsigned long long)(b->impressions - a->impressions),
                  (unsigned long long)(b->clicks - a->clicks),
                  (unsigned long long)(b->conversions - a->conversions),
                  (unsigned long long)(b->dismissals - a->dismissals),
                  (unsigned long long)(b->engagements - a->engagements), b->revenue - a->revenue,
                  b->cost - a->cost);
    }
    read_experiments(e, xu2, xc2, xr2, &nx2);
    for (uint32_t x = 0; x < nx && x < nx2; x++)
        sb_printf(&s, "probe experiment %u: users %llu conversions %llu revenue %.17g\n", x + 1,
                  (unsigned long long)(xu2[x] - xu[x]), (unsigned long long)(xc2[x] - xc[x]),
                  xr2[x] - xr[x]);
    sb_printf(&s, "probe forget: %d\n", bvt_user_forget(e, PROBE_ID, len, NULL));
    free(before);
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* ---------------------------------------------------------------- diff */

static size_t line_len(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? (size_t)(nl - p) : strlen(p);
}


static void put_context(sbuf *s, const char *tag, const char *line, size_t len, size_t at)
{
    size_t from = at > 160 ? at - 160 : 0;
    size_t to = at + 240 < len ? at + 240 : len;
    sb_printf(s, "  %s: %s%.*s%s\n", tag, from ? "..." : "", (int)(to - from), line + from,
              to < len ? "..." : "");
}

/* A malloc'd copy of t without its "name " lines; with check set, NULL
 * (and *missing set to the first) when one of them is not a line of
 * names_of. */
static char *without_names(const char *t, const char *names_of, const char **missing)
{
    char *out = malloc(strlen(t) + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *line = t; *line;) {
        size_t len = line_len(line), step = len + (line[len] == '\n');
        if (strncmp(line, "name ", 5) != 0) {
            memcpy(w, line, step);
            w += step;
        } else if (names_of && missing && !*missing) {
            int found = 0;
            for (const char *p = names_of; *p && !found;) {
                size_t l = line_len(p);
                found = l == len && memcmp(p, line, len) == 0;
                p += l + (p[l] == '\n');
            }
            if (!found)
                *missing = line;
        }
        line += step;
    }
    *w = 0;
    return out;
}

char *statecmp_diff_flags(const char *a, const char *b, unsigned flags)
{
    if (!(flags & STATECMP_NAMES_MAY_GO))
        return statecmp_diff(a, b);
    const char *missing = NULL;
    char *x = without_names(a, NULL, NULL), *y = without_names(b, a, &missing);
    char *diff = NULL;
    if (!x || !y) {
        diff = NULL;
    } else if (missing) {
        sbuf s = { NULL, 0, 0, 0 };
        sb_printf(&s, "b names what a does not: %.*s\n", (int)line_len(missing), missing);
        diff = s.p;
    } else {
        diff = statecmp_diff(x, y);
    }
    free(x);
    free(y);
    return diff;
}

char *statecmp_diff(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return NULL;
    sbuf s = { NULL, 0, 0, 0 };
    size_t line = 1, differing = 0;
    const char *pa = a, *pb = b;
    const char *fa = NULL, *fb = NULL;
    size_t first = 0;
    while (*pa || *pb) {
        size_t la = line_len(pa), lb = line_len(pb);
        if (la != lb || memcmp(pa, pb, la) != 0) {
            if (!differing) {
                fa = pa;
                fb = pb;
                first = line;
            }
            differing++;
        }
        pa += la + (pa[la] == '\n');
        pb += lb + (pb[lb] == '\n');
        line++;
    }
    size_t la = line_len(fa), lb = line_len(fb), at = 0;
    while (at < la && at < lb && fa[at] == fb[at])
        at++;
    sb_printf(&s, "%zu differing line(s); the first, line %zu, differs at byte %zu:\n", differing,
              first, at);
    put_context(&s, "a", fa, la, at);
    put_context(&s, "b", fb, lb, at);
    return s.p;
}
