/* test-persist-registry.c — the registries' snapshot sections and journal
 * records (registry_persist.c): an engine with categories, keywords,
 * attribute strings, custom types, purposes, segments (removed, redefined,
 * depending on a later one through in_segment()), RFM cut points, a cluster
 * model, an alias, anonymous aggregates and rejected events is saved
 * section by section and loaded into a fresh engine, and its journal
 * records are replayed into another (each record twice, and the whole
 * journal twice); both must answer every public query as the original
 * does.  Then every prefix and a bit flip at every byte of each section
 * must load or fail cleanly, and a failing journal must fail the calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SECRET "persist-registry-test-secret-0123"
#include "testutil.h"

#include "analytics.h"
#include "cluster_model.h"
#include "engine.h"
#include "persist.h"

#define NOW (T0 + 40 * DAY)
#define USERS 40

/* ------------------------------------------------------------ engines */

static bvt_engine *fresh(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1; /* cheap to create: the corruption loops make thousands */
    o.analytics_policy = BVT_ANALYTICS_ANONYMOUS;
    return engine_with(&o);
}

static void user_name(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "u%02d", i);
}

/* What users do: the same calls on the original and on a loaded engine, so
 * rules, scores and clusters can be compared user by user.  Categories and
 * strings they name already exist in a loaded engine (same ids). */
static void populate(bvt_engine *e)
{
    uint32_t wishlist;
    ck_assert_int_eq(bvt_event_type_lookup(e, "wishlist", &wishlist), BVT_OK);
    static const char *const cats[] = { "home/furniture/sofas", "home/garden", "electronics/tv",
                                        "books/fiction", "toys/lego/technic" };
    char u[16];
    for (int i = 0; i < USERS; i++) {
        user_name(u, sizeof u, i);
        ck_assert_int_eq(bvt_consent_set(e, u, strlen(u), BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
        for (int k = 0; k <= i % 4; k++)
            track_ok(e, u, BVT_EVENT_PAGE_VIEW, T0 + (i + k) * HOUR, cats[(i + k) % 5], 0);
        for (int p = 0; p < i % 5; p++) /* purchases on distinct days, values spread */
            track_ok(e, u, BVT_EVENT_PURCHASE, T0 + (i + 7 * p) * DAY / 2, cats[i % 5],
                     10.0 + 13.0 * i + p);
        if (i % 3 == 0)
            track_ok(e, u, wishlist, NOW - DAY, cats[(i + 1) % 5], 0);
        ck_assert_int_eq(bvt_attr_set_string(e, u, strlen(u), "tier", i % 2 ? "gold" : "silver"),
                         BVT_OK);
        if (i % 7 == 0)
            ck_assert_int_eq(bvt_attr_set_string(e, u, strlen(u), "city", i % 14 ? "Oslo" : "Rome"),
                             BVT_OK);
        if (i % 4 == 1) {
            uint32_t nl;
            ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 0, &nl), BVT_OK);
            ck_assert_int_eq(bvt_consent_set(e, u, strlen(u), nl, 1, T0), BVT_OK);
        }
    }
}

static void define_ok(bvt_engine *e, const char *name, const char *rule)
{
    bvt_error err = BVT_ERROR_INIT;
    uint32_t id;
    int rc = bvt_segment_define(e, name, rule, &id, &err);
    ck_assert_msg(rc == BVT_OK, "define %s: %d %s", name, rc, err.message);
}

static void remove_ok(bvt_engine *e, const char *name)
{
    ck_assert_int_eq(bvt_segment_remove(e, name, NULL), BVT_OK);
}

/* The original: definitions, users, derived state, in an order that makes
 * segment list order differ from id order. */
static void build(bvt_engine *e)
{
    uint32_t id;
    ck_assert_int_eq(bvt_category_intern(e, "home/furniture/sofas", &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt_category_intern(e, "electronics/tv", &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt_category_intern(e, "home/garden", &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "sofa", "home/furniture/sofas", NULL), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "Telly", "electronics/tv", NULL), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "novel", "books/fiction", NULL), BVT_OK); /* new path */
    ck_assert_int_eq(bvt_keyword_map(e, "sofa", "home/garden", NULL), BVT_OK);   /* remapped */
    ck_assert_int_eq(bvt_event_type_register(e, "wishlist", 2.5, &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_type_register(e, "review", 0.75, &id, NULL), BVT_OK);
    ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 1, &id), BVT_OK);
    ck_assert_int_eq(bvt_consent_purpose(e, "profiling", 1, &id), BVT_OK);

    define_ok(e, "early", "purchases > 3");
    define_ok(e, "tmp", "purchases > 0");
    define_ok(e, "gone", "events > 100");
    define_ok(e, "big", "monetary_total > 150");
    define_ok(e, "combo", "in_segment(\"big\") and attr.tier == \"gold\"");
    /* early keeps its place before combo but now depends on it */
    define_ok(e, "early", "in_segment(\"combo\") or purchases > 3");
    remove_ok(e, "gone");
    remove_ok(e, "tmp");
    define_ok(e, "wishers", "did(wishlist, *, 7d) and consent(newsletter)");
    define_ok(e, "readers", "interest(\"books\") > 0.2 or count(page_view, \"toys\", 60d) >= 2");
    define_ok(e, "tmp", "purchases >= 2"); /* back with its old id, at the end of the list */

    populate(e);
    uint64_t buyers;
    ck_assert_int_eq(bvt_rfm_refresh(e, NOW - 5 * DAY, &buyers), BVT_OK);
    ck_assert_int_eq(bvt_rfm_refresh(e, NOW, &buyers), BVT_OK); /* the latest counts */
    ck_assert_uint_gt(buyers, 10);
    bvt_cluster_options co = BVT_CLUSTER_OPTIONS_INIT;
    co.k = 4;
    co.seed = 7;
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &co, NULL, NULL), BVT_OK);
    co.k = 3; /* a smaller run: "Cluster 4" goes */
    ck_assert_int_eq(bvt_cluster_run(e, NOW, &co, NULL, NULL), BVT_OK);
    define_ok(e, "cluster2", "cluster == 2 and purchases > 0");
    define_ok(e, "loyal_gold", "rfm_segment == \"Champions\" or (r_score >= 4 and attr.city == \"Oslo\")");

    ck_assert_int_eq(bvt_user_alias(e, "anon-1", 6, "u01", 3, NULL), BVT_OK);
    ck_assert_int_eq(bvt_user_alias(e, "anon-2", 6, "u02", 3, NULL), BVT_OK);
    /* no analytics consent: counted anonymously */
    track_ok(e, "nocons", BVT_EVENT_PAGE_VIEW, NOW - HOUR, "books/fiction", 0);
    track_ok(e, "nocons", BVT_EVENT_PURCHASE, NOW - HOUR, "home/garden", 12.5);
    track_ok(e, "nocons2", BVT_EVENT_PURCHASE, NOW - HOUR, NULL, 3.25);
    ck_assert_int_eq(track_event(e, "u03", 63, NOW, NULL, 0), BVT_ETYPE); /* rejected */
}

/* ------------------------------------------------------------ compare */

typedef struct kw_list {
    char words[64][64];
    uint32_t cats[64];
    uint32_t n;
} kw_list;

static void collect_kw(const char *word, size_t len, uint32_t cat, void *ud)
{
    kw_list *l = ud;
    ck_assert_uint_lt(l->n, 64);
    memcpy(l->words[l->n], word, len);
    l->words[l->n][len] = 0;
    l->cats[l->n++] = cat;
}

static void same_names(bvt_engine *a, bvt_engine *b, int strings)
{
    uint32_t n = bvt__categories_count(a->cats);
    ck_assert_uint_gt(n, 8);
    ck_assert_uint_eq(bvt__categories_count(b->cats), n);
    for (uint32_t id = 1; id <= n; id++) {
        const char *p = bvt_category_name(a, id);
        ck_assert_str_eq(bvt_category_name(b, id), p);
        ck_assert_uint_eq(bvt_category_parent(b, id), bvt_category_parent(a, id));
        uint32_t got;
        ck_assert_int_eq(bvt_category_lookup(b, p, &got), BVT_OK);
        ck_assert_uint_eq(got, id);
    }
    kw_list ka = { .n = 0 }, kb = { .n = 0 };
    bvt__keywords_foreach(a->keywords, collect_kw, &ka);
    bvt__keywords_foreach(b->keywords, collect_kw, &kb);
    ck_assert_uint_eq(ka.n, 3);
    ck_assert_uint_eq(kb.n, ka.n);
    for (uint32_t i = 0; i < ka.n; i++) {
        ck_assert_str_eq(kb.words[i], ka.words[i]);
        ck_assert_uint_eq(kb.cats[i], ka.cats[i]);
    }
    if (strings) {
        n = bvt__interner_count(a->strings);
        ck_assert_uint_eq(bvt__interner_count(b->strings), n);
        for (uint32_t id = 1; id <= n; id++)
            ck_assert_str_eq(bvt__interner_str(b->strings, id), bvt__interner_str(a->strings, id));
    }
    static const char *const types[] = { "wishlist", "review", "page_view", "dismiss" };
    for (size_t i = 0; i < 4; i++) {
        uint32_t ta, tb;
        ck_assert_int_eq(bvt_event_type_lookup(a, types[i], &ta), BVT_OK);
        ck_assert_int_eq(bvt_event_type_lookup(b, types[i], &tb), BVT_OK);
        ck_assert_uint_eq(tb, ta);
        ck_assert_str_eq(bvt_event_type_name(b, tb), types[i]);
        ck_assert(b->types.weights[tb] == a->types.weights[ta]);
    }
    ck_assert_ptr_null(bvt_event_type_name(b, BVT_EVENT_CUSTOM_FIRST + 2));
    ck_assert_uint_eq(b->types.n_custom, 2);
    ck_assert_uint_eq(b->purposes.n, a->purposes.n);
    for (uint32_t i = 0; i < a->purposes.n; i++) {
        uint32_t id;
        ck_assert_int_eq(bvt_consent_purpose(b, a->purposes.names[i], 0, &id), BVT_OK);
        ck_assert_uint_eq(id, i);
    }
}

static void same_segment_defs(bvt_engine *a, bvt_engine *b)
{
    uint32_t la[128], lb[128];
    size_t na, nb;
    ck_assert_int_eq(bvt_segment_list(a, la, 128, &na), BVT_OK);
    ck_assert_int_eq(bvt_segment_list(b, lb, 128, &nb), BVT_OK);
    ck_assert_uint_eq(nb, na);
    for (size_t i = 0; i < na; i++) {
        ck_assert_uint_eq(lb[i], la[i]);
        const char *name = bvt_segment_name(a, la[i]);
        ck_assert_str_eq(bvt_segment_name(b, lb[i]), name);
        uint32_t id;
        ck_assert_int_eq(bvt_segment_lookup(b, name, &id), BVT_OK);
        ck_assert_uint_eq(id, la[i]);
    }
    /* ids of removed segments keep their names; gaps stay gaps */
    ck_assert_uint_eq(bvt__interner_count(b->segments.names), bvt__interner_count(a->segments.names));
    for (uint32_t id = 1; id <= bvt__interner_count(a->segments.names); id++)
        ck_assert_str_eq(bvt_segment_name(b, id), bvt_segment_name(a, id));
    uint32_t gone;
    ck_assert_int_eq(bvt_segment_lookup(b, "gone", &gone), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_lookup(b, "Cluster 4", &gone), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_lookup(b, "Cluster 3", &gone), BVT_OK);
    /* the list is not in id order: tmp came back with its old id, at the end */
    uint32_t tmp, early;
    ck_assert_int_eq(bvt_segment_lookup(b, "tmp", &tmp), BVT_OK);
    ck_assert_int_eq(bvt_segment_lookup(b, "early", &early), BVT_OK);
    ck_assert_uint_eq(tmp, early + 1);
    uint32_t wishers;
    ck_assert_int_eq(bvt_segment_lookup(b, "wishers", &wishers), BVT_OK);
    ck_assert_uint_gt(wishers, tmp);
    size_t at_tmp = nb, at_wishers = nb;
    for (size_t i = 0; i < nb; i++) {
        at_tmp = lb[i] == tmp ? i : at_tmp;
        at_wishers = lb[i] == wishers ? i : at_wishers;
    }
    ck_assert_uint_lt(at_wishers, nb);
    ck_assert_uint_gt(at_tmp, at_wishers);
    /* the removed name cannot be removed again, the built-ins cannot go */
    ck_assert_int_eq(bvt_segment_remove(b, "gone", NULL), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_segment_remove(b, "Champions", NULL), BVT_EEXIST);
    ck_assert_int_eq(bvt_segment_remove(b, "big", NULL), BVT_EEXIST); /* combo names it */
}

static void same_segments_of(bvt_engine *a, bvt_engine *b, const char *u)
{
    uint32_t sa[128], sb[128];
    size_t na = 0, nb = 0;
    ck_assert_int_eq(bvt_segments_of(a, u, strlen(u), NOW, NULL, sa, 128, &na), BVT_OK);
    ck_assert_int_eq(bvt_segments_of(b, u, strlen(u), NOW, NULL, sb, 128, &nb), BVT_OK);
    ck_assert_msg(na == nb, "%s: %zu segments, %zu after loading", u, na, nb);
    for (size_t i = 0; i < na; i++)
        ck_assert_uint_eq(sb[i], sa[i]);
}

static uint64_t anon_count(bvt_engine *e, uint32_t type, uint32_t cat, double *sum)
{
    uint64_t n = 0;
    ck_assert_int_eq(bvt_anonymous_counts(e, type, cat, &n, sum), BVT_OK);
    return n;
}

static void same_model_and_cuts(bvt_engine *a, bvt_engine *b)
{
    const bvt_rfm_cuts *ca = atomic_load(&a->cuts), *cb = atomic_load(&b->cuts);
    ck_assert_ptr_nonnull(cb);
    ck_assert_mem_eq(cb->cut, ca->cut, sizeof ca->cut);
    ck_assert_int_eq(cb->refreshed_ms, ca->refreshed_ms);
    bvt_wbuf ma = BVT_WBUF_INIT, mb = BVT_WBUF_INIT;
    bvt__cluster_model_write(atomic_load(&a->clusters), &ma);
    ck_assert_ptr_nonnull(atomic_load(&b->clusters));
    bvt__cluster_model_write(atomic_load(&b->clusters), &mb);
    ck_assert_uint_eq(mb.len, ma.len);
    ck_assert_mem_eq(mb.p, ma.p, ma.len);
    bvt__wbuf_free(&ma);
    bvt__wbuf_free(&mb);
}

/* The derived state that needs no users: cut points, model, aggregates,
 * aliases, the rejected count. */
static void same_derived(bvt_engine *a, bvt_engine *b)
{
    same_model_and_cuts(a, b);
    ck_assert_int_eq(atomic_load(&b->cuts)->refreshed_ms, NOW);
    ck_assert_uint_eq(atomic_load(&b->cuts)->buyers, atomic_load(&a->cuts)->buyers);

    uint32_t books, home;
    ck_assert_int_eq(bvt_category_lookup(b, "books", &books), BVT_OK);
    ck_assert_int_eq(bvt_category_lookup(b, "home", &home), BVT_OK);
    double sa = 0, sb = 0;
    ck_assert_uint_eq(anon_count(b, BVT_ANY, BVT_ANY, &sb), 3);
    anon_count(a, BVT_ANY, BVT_ANY, &sa);
    ck_assert(sa == sb && sb == 15.75);
    ck_assert_uint_eq(anon_count(b, BVT_EVENT_PURCHASE, home, &sb), 1);
    ck_assert(sb == 12.5);
    ck_assert_uint_eq(anon_count(b, BVT_EVENT_PURCHASE, 0, &sb), 1);
    ck_assert_uint_eq(anon_count(b, BVT_ANY, books, NULL), 1);
    ck_assert_uint_eq(anon_count(b, BVT_EVENT_PAGE_VIEW, BVT_ANY, NULL), 1);
    ck_assert_uint_eq(anon_count(b, BVT_EVENT_PURCHASE, BVT_ANY, NULL), 2);

    ck_assert_uint_eq(atomic_load(&b->aliases.count), 2);
    bvt_user_key anon, known, to;
    ck_assert_int_eq(bvt_user_key_of(b, "anon-2", 6, &anon), BVT_OK);
    ck_assert_int_eq(bvt_user_key_of(b, "u02", 3, &known), BVT_OK);
    ck_assert(bvt__aliases_find(&b->aliases, &anon, &to));
    ck_assert(to.hi == known.hi && to.lo == known.lo);
    ck_assert_uint_eq(stats_of(b).events_rejected, 1);
}

/* Everything users see, once b's users did what a's did (aliases: b has
 * a's alias map). */
static void same_behaviour(bvt_engine *a, bvt_engine *b, int aliases)
{
    populate(b);
    char u[16];
    for (int i = 0; i < USERS; i++) {
        user_name(u, sizeof u, i);
        bvt_profile pa = profile_of(a, u, NOW), pb = profile_of(b, u, NOW);
        ck_assert_uint_eq(pb.r_score, pa.r_score);
        ck_assert_uint_eq(pb.f_score, pa.f_score);
        ck_assert_uint_eq(pb.m_score, pa.m_score);
        same_segments_of(a, b, u);
    }
    /* clusters and scores actually vary across users */
    uint32_t c1, c2, champions;
    ck_assert_int_eq(bvt_segment_lookup(b, "Cluster 1", &c1), BVT_OK);
    ck_assert_int_eq(bvt_segment_lookup(b, "Cluster 2", &c2), BVT_OK);
    ck_assert_int_eq(bvt_segment_lookup(b, "Champions", &champions), BVT_OK);
    uint64_t n1, n2, nc;
    ck_assert_int_eq(bvt_segment_members(b, c1, NOW, NULL, NULL, NULL, &n1), BVT_OK);
    ck_assert_int_eq(bvt_segment_members(b, c2, NOW, NULL, NULL, NULL, &n2), BVT_OK);
    ck_assert_int_eq(bvt_segment_members(b, champions, NOW, NULL, NULL, NULL, &nc), BVT_OK);
    ck_assert_uint_gt(n1, 0);
    ck_assert_uint_gt(n2, 0);
    ck_assert_uint_gt(nc, 0);

    /* keyword matching: "sofa" was remapped to home/garden */
    bvt_event ev = make_event("searcher", BVT_EVENT_SEARCH, NOW, NULL, 0);
    ev.search_text = "Cheap SOFA and a telly";
    ck_assert_int_eq(bvt_consent_set(a, "searcher", 8, BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    ck_assert_int_eq(bvt_consent_set(b, "searcher", 8, BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    ck_assert_int_eq(bvt_event_track(a, &ev, NULL), BVT_OK);
    ck_assert_int_eq(bvt_event_track(b, &ev, NULL), BVT_OK);
    bvt_interest ia[8], ib[8];
    size_t na, nb;
    ck_assert_int_eq(bvt_profile_interests(a, "searcher", 8, NOW, ia, 8, &na), BVT_OK);
    ck_assert_int_eq(bvt_profile_interests(b, "searcher", 8, NOW, ib, 8, &nb), BVT_OK);
    ck_assert_uint_eq(nb, na);
    int garden = 0, tv = 0;
    for (size_t i = 0; i < nb; i++) {
        ck_assert_uint_eq(ib[i].category_id, ia[i].category_id);
        ck_assert(ib[i].score == ia[i].score);
        garden |= strcmp(ib[i].category, "home/garden") == 0;
        tv |= strcmp(ib[i].category, "electronics/tv") == 0;
    }
    ck_assert(garden && tv);

    if (!aliases)
        return;
    /* the alias routes the anonymous id to its known user */
    ck_assert_int_eq(track_event(b, "anon-1", BVT_EVENT_PAGE_VIEW, NOW, "home/garden", 0), BVT_OK);
    ck_assert_int_eq(bvt_user_exists(b, "anon-1", 6), 1); /* through the alias */
    ck_assert_int_eq(bvt_user_exists(b, "anon-3", 6), 0);
    ck_assert_uint_eq(profile_of(b, "u01", NOW).events, profile_of(a, "u01", NOW).events + 1);
}

/* ------------------------------------------------------------ snapshot */

typedef struct sections {
    bvt_wbuf names, segments, derived;
} sections;

static void save_all(bvt_engine *e, sections *s)
{
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(bvt__names_save(e, &s->names), BVT_OK);
    ck_assert_int_eq(bvt__segments_save(e, &s->segments), BVT_OK);
    ck_assert_int_eq(bvt__derived_save(e, &s->derived), BVT_OK);
}

static void free_all(sections *s)
{
    bvt__wbuf_free(&s->names);
    bvt__wbuf_free(&s->segments);
    bvt__wbuf_free(&s->derived);
}

static int load_one(bvt_engine *e, int (*load)(bvt_engine *, bvt_rbuf *), const bvt_wbuf *w)
{
    bvt_rbuf r;
    bvt__rbuf_init(&r, w->p, w->len);
    int rc = load(e, &r);
    if (rc == BVT_ECORRUPT)
        ck_assert_msg(r.bad, "corrupt without a position"); /* the reader can say where */

    return rc;
}

static void load_all(bvt_engine *e, const sections *s)
{
    ck_assert_int_eq(load_one(e, bvt__names_load, &s->names), BVT_OK);
    ck_assert_int_eq(load_one(e, bvt__segments_load, &s->segments), BVT_OK);
    ck_assert_int_eq(load_one(e, bvt__derived_load, &s->derived), BVT_OK);
}

START_TEST(snapshot_round_trip)
{
    bvt_engine *a = fresh();
    build(a);
    sections s;
    save_all(a, &s);
    bvt_engine *b = fresh();
    load_all(b, &s);
    same_names(a, b, 1);
    same_segment_defs(a, b);
    same_derived(a, b);

    /* saved again, the loaded engine gives the same bytes */
    sections t;
    save_all(b, &t);
    ck_assert_uint_eq(t.names.len, s.names.len);
    ck_assert_mem_eq(t.names.p, s.names.p, s.names.len);
    ck_assert_uint_eq(t.segments.len, s.segments.len);
    ck_assert_mem_eq(t.segments.p, s.segments.p, s.segments.len);
    ck_assert_uint_eq(t.derived.len, s.derived.len);
    ck_assert_mem_eq(t.derived.p, s.derived.p, s.derived.len);
    free_all(&t);

    same_behaviour(a, b, 1);
    same_names(a, b, 1); /* users of b created no name a does not have */
    free_all(&s);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

START_TEST(empty_engine_round_trip)
{
    bvt_engine *a = fresh();
    sections s;
    save_all(a, &s);
    bvt_engine *b = fresh();
    load_all(b, &s);
    ck_assert_ptr_null(atomic_load(&b->cuts));
    ck_assert_ptr_null(atomic_load(&b->clusters));
    size_t na, nb;
    ck_assert_int_eq(bvt_segment_list(a, NULL, 0, &na), BVT_OK);
    ck_assert_int_eq(bvt_segment_list(b, NULL, 0, &nb), BVT_OK);
    ck_assert_uint_eq(nb, na); /* built-ins not duplicated */
    ck_assert_uint_eq(bvt__interner_count(b->strings), bvt__interner_count(a->strings));
    free_all(&s);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

/* Anonymous aggregates saved by an engine that keeps them load into one
 * whose policy now keeps none: the past is not reinterpreted. */
START_TEST(anonymous_kept_whatever_the_policy)
{
    bvt_engine *a = fresh();
    track_ok(a, "x", BVT_EVENT_PAGE_VIEW, NOW, NULL, 0);
    sections s;
    save_all(a, &s);
    bvt_options o = BVT_OPTIONS_INIT;
    o.shards = 1;
    bvt_engine *b = engine_with(&o);
    ck_assert_int_eq(load_one(b, bvt__names_load, &s.names), BVT_OK);
    ck_assert_int_eq(load_one(b, bvt__derived_load, &s.derived), BVT_OK);
    uint64_t n = 0;
    ck_assert_int_eq(bvt_anonymous_counts(b, BVT_ANY, BVT_ANY, &n, NULL), BVT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(!bvt_user_exists(b, "x", 1));
    free_all(&s);
    bvt_engine_free(a);
    bvt_engine_free(b);
}
END_TEST

/* ------------------------------------------------------------ journal */

typedef struct journal {
    bvt_wbuf bytes; /* u32 length, record */
    uint32_t n;
    int fail;       /* status the hook returns */
} journal;

static int capture(void *ud, const void *rec, size_t n)
{
    journal *j = ud;
    if (j->fail)
        return j->fail;
    bvt__w_u32(&j->bytes, (uint32_t)n);
    bvt__w_bytes(&j->bytes, rec, n);
    j->n++;
    return BVT_OK;
}

/* Replay registry records number from..to-1 (counting only registry
 * records: the others belong to other modules), each `times` times in a
 * row; returns how many registry records the journal holds. */
static uint32_t replay_range(bvt_engine *e, const journal *j, uint32_t from, uint32_t to,
                             int times)
{
    bvt_rbuf all;
    bvt__rbuf_init(&all, j->bytes.p, j->bytes.len);
    uint32_t mine = 0;
    while (bvt__r_left(&all)) {
        uint32_t n = bvt__r_u32(&all);
        const unsigned char *p = bvt__r_bytes(&all, n);
        ck_assert(!all.bad && n >= 1);
        if (p[0] < BVT_OP_CATEGORY || p[0] > BVT_OP_CLUSTERS)
            continue;
        for (int t = 0; mine >= from && mine < to && t < times; t++) {
            bvt_rbuf r;
            bvt__rbuf_init(&r, p + 1, n - 1);
            int rc = bvt__registry_replay(e, p[0], &r);
            ck_assert_msg(rc == BVT_OK, "replaying op %u: %d (%s)", p[0], rc, r.why ? r.why : "");
        }
        mine++;
    }
    return mine;
}

static uint32_t replay(bvt_engine *e, const journal *j, int times)
{
    return replay_range(e, j, 0, UINT32_MAX, times);
}


static int seen_op(const journal *j, uint32_t op)
{
    bvt_rbuf all;
    bvt__rbuf_init(&all, j->bytes.p, j->bytes.len);
    while (bvt__r_left(&all)) {
        uint32_t n = bvt__r_u32(&all);
        const unsigned char *p = bvt__r_bytes(&all, n);
        if (p[0] == op)
            return 1;
    }
    return 0;
}

START_TEST(journal_replay)
{
    bvt_engine *a = fresh();
    journal j = { BVT_WBUF_INIT, 0, 0 };
    bvt__change_sink_set(a, &(bvt_change_sink){ .append = capture, .ud = &j });
    build(a);
    bvt__change_sink_set(a, NULL);
    for (uint32_t op = BVT_OP_CATEGORY; op <= BVT_OP_CLUSTERS; op++)
        ck_assert_msg(seen_op(&j, op), "no record of op %u", op);

    bvt_engine *c = fresh();
    uint32_t n = replay(c, &j, 2); /* each record twice in a row */
    ck_assert_uint_gt(n, 30);
    same_names(a, c, 0);
    same_segment_defs(a, c);
    same_model_and_cuts(a, c);
    const bvt_rfm_cuts *cc = atomic_load(&c->cuts);
    ck_assert_ptr_nonnull(cc->older);
    ck_assert_ptr_null(cc->older->older); /* each of the two refreshes published once */
    /* attribute strings and aliases are other modules' records (not
     * replayed here) */
    same_behaviour(a, c, 0);
    bvt__wbuf_free(&j.bytes);
    bvt_engine_free(a);
    bvt_engine_free(c);
}
END_TEST

/* A checkpoint: a snapshot taken after record k was published and the
 * journal from record k on (k in both, as persist.h allows), for every k. */
START_TEST(journal_after_snapshot)
{
    bvt_engine *a = fresh();
    journal j = { BVT_WBUF_INIT, 0, 0 };
    bvt__change_sink_set(a, &(bvt_change_sink){ .append = capture, .ud = &j });
    build(a);
    bvt__change_sink_set(a, NULL);
    uint32_t n = replay_range(NULL, &j, 0, 0, 0);
    for (uint32_t k = 0; k < n; k++) {
        bvt_engine *x = fresh(), *y = fresh();
        replay_range(x, &j, 0, k + 1, 1);
        sections s;
        save_all(x, &s);
        load_all(y, &s);
        replay_range(y, &j, k, n, 1);
        same_names(a, y, 0);
        same_segment_defs(a, y);
        same_model_and_cuts(a, y);
        free_all(&s);
        bvt_engine_free(x);
        bvt_engine_free(y);
    }
    bvt__wbuf_free(&j.bytes);
    bvt_engine_free(a);
}
END_TEST

/* A category created inside event tracking is journaled before the event
 * returns, ancestors first, one record per new id. */
START_TEST(journal_category_from_event)
{
    bvt_engine *a = fresh();
    journal j = { BVT_WBUF_INIT, 0, 0 };
    bvt__change_sink_set(a, &(bvt_change_sink){ .append = capture, .ud = &j });
    ck_assert_int_eq(bvt_consent_set(a, "u", 1, BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    uint32_t before = j.n;
    track_ok(a, "u", BVT_EVENT_PAGE_VIEW, NOW, "garden/tools/spades", 0);
    track_ok(a, "u", BVT_EVENT_PAGE_VIEW, NOW, "garden/tools", 0); /* known: no record */
    uint32_t cats = 0;
    bvt_rbuf all;
    bvt__rbuf_init(&all, j.bytes.p, j.bytes.len);
    static const char *const want[] = { "garden", "garden/tools", "garden/tools/spades" };
    while (bvt__r_left(&all)) {
        uint32_t n = bvt__r_u32(&all);
        const unsigned char *p = bvt__r_bytes(&all, n);
        if (p[0] != BVT_OP_CATEGORY)
            continue;
        bvt_rbuf r;
        bvt__rbuf_init(&r, p + 1, n - 1);
        ck_assert_uint_lt(cats, 3);
        ck_assert_uint_eq(bvt__r_u32(&r), cats + 1);
        ck_assert_str_eq(bvt__r_str(&r, NULL), want[cats]);
        cats++;
    }
    ck_assert_uint_eq(cats, 3);
    ck_assert_uint_ge(j.n - before, 3);
    bvt__wbuf_free(&j.bytes);
    bvt_engine_free(a);
}
END_TEST

/* A NAMES section by hand: categories and attribute strings (NULL: a
 * tombstone), one keyword naming category kw, the engine's own purposes. */
static void names_by_hand(bvt_engine *e, bvt_wbuf *w, const char *const *cats, uint32_t n_cats,
                          uint32_t kw, const char *const *strs, uint32_t n_strs)
{
    bvt__w_u32(w, n_cats);
    for (uint32_t i = 0; i < n_cats; i++)
        bvt__w_cstr(w, cats[i]);
    bvt__w_u32(w, 1);
    bvt__w_cstr(w, "word");
    bvt__w_u32(w, kw);
    bvt__w_u32(w, n_strs);
    for (uint32_t i = 0; i < n_strs; i++) {
        bvt__w_u32(w, strs[i] ? (uint32_t)strlen(strs[i]) : UINT32_MAX);
        if (strs[i])
            bvt__w_bytes(w, strs[i], strlen(strs[i]));
    }
    bvt__w_u32(w, 0);
    bvt__w_u32(w, e->purposes.n);
    for (uint32_t i = 0; i < e->purposes.n; i++)
        bvt__w_cstr(w, e->purposes.names[i]);
}

/* Tombstones (erasure) load as erased ids that keep every later id in
 * place, are never found, and are saved again as tombstones; a record of
 * the journal restores one; nothing may name one. */
START_TEST(tombstones_keep_ids)
{
    static const char *const cats[] = { "a", NULL, NULL, "a/b", NULL };
    static const char *const strs[] = { NULL, "zip", "75001", NULL };
    bvt_engine *a = fresh();
    bvt_wbuf w = BVT_WBUF_INIT;
    names_by_hand(a, &w, cats, 5, 4, strs, 4);
    ck_assert_int_eq(load_one(a, bvt__names_load, &w), BVT_OK);
    ck_assert_uint_eq(bvt__categories_count(a->cats), 5);
    ck_assert_uint_eq(bvt__categories_find(a->cats, "a/b", 3), 4);
    ck_assert(!bvt__categories_valid(a->cats, 2));
    ck_assert_uint_eq(bvt__interner_find(a->strings, "75001", 5), 3);
    ck_assert_ptr_null(bvt__interner_str(a->strings, 1));

    /* saved again as it is: a fresh engine loads the same */
    bvt_wbuf again = BVT_WBUF_INIT;
    ck_assert_int_eq(bvt__names_save(a, &again), BVT_OK);
    bvt_engine *b = fresh();
    ck_assert_int_eq(load_one(b, bvt__names_load, &again), BVT_OK);
    ck_assert_uint_eq(bvt__categories_count(b->cats), 5);
    for (uint32_t i = 1; i <= 5; i++)
        ck_assert_pstr_eq(bvt__categories_name(b->cats, i), cats[i - 1]);
    ck_assert_uint_eq(bvt__interner_count(b->strings), 4);
    for (uint32_t i = 1; i <= 4; i++)
        ck_assert_pstr_eq(bvt__interner_str(b->strings, i), strs[i - 1]);
    bvt__wbuf_free(&again);

    /* a tombstone's old text is new text; a record restores one in place */
    uint32_t id;
    ck_assert_int_eq(bvt_category_intern(b, "gone", &id, NULL), BVT_OK);
    ck_assert_uint_eq(id, 6);
    bvt_wbuf rec = BVT_WBUF_INIT;
    bvt__w_u32(&rec, 3);
    bvt__w_cstr(&rec, "a/back");
    bvt_rbuf r;
    bvt__rbuf_init(&r, rec.p, rec.len);
    ck_assert_int_eq(bvt__registry_replay(b, BVT_OP_CATEGORY, &r), BVT_OK);
    ck_assert_uint_eq(bvt__categories_find(b->cats, "a/back", 6), 3);
    ck_assert_uint_eq(bvt__categories_parent(b->cats, 3), 1);
    bvt__rbuf_init(&r, rec.p, rec.len);
    ck_assert_int_eq(bvt__registry_replay(b, BVT_OP_CATEGORY, &r), BVT_OK); /* idempotent */
    bvt__wbuf_free(&rec);
    bvt_engine_free(b);
    bvt_engine_free(a);

    /* a keyword naming a tombstone */
    bvt__wbuf_free(&w);
    a = fresh();
    names_by_hand(a, &w, cats, 5, 2, strs, 4);
    ck_assert_int_eq(load_one(a, bvt__names_load, &w), BVT_ECORRUPT);
    bvt_engine_free(a);
    bvt__wbuf_free(&w);
}
END_TEST

/* When the journal refuses a record the call fails with its status. */
START_TEST(journal_failure_is_returned)
{
    bvt_engine *a = fresh();
    journal j = { BVT_WBUF_INIT, 0, BVT_EIO };
    bvt__change_sink_set(a, &(bvt_change_sink){ .append = capture, .ud = &j });
    uint32_t id;
    ck_assert_int_eq(bvt_category_intern(a, "new/path", &id, NULL), BVT_EIO);
    ck_assert_int_eq(bvt_keyword_map(a, "word", "new/path", NULL), BVT_EIO);
    ck_assert_int_eq(bvt_event_type_register(a, "custom", 1.0, &id, NULL), BVT_EIO);
    ck_assert_int_eq(bvt_consent_purpose(a, "extra", 1, &id), BVT_EIO);
    ck_assert_int_eq(bvt_consent_purpose(a, "ads", 1, &id), BVT_OK); /* exists: nothing to log */
    ck_assert_int_eq(bvt_segment_define(a, "s", "purchases > 0", &id, NULL), BVT_EIO);
    ck_assert_int_eq(bvt_segment_remove(a, "s", NULL), BVT_EIO);
    ck_assert_int_eq(bvt_rfm_refresh(a, NOW, NULL), BVT_EIO);
    ck_assert_uint_eq(j.n, 0);
    bvt_engine_free(a);
}
END_TEST

/* Replay refuses records that do not fit the engine. */
START_TEST(journal_bad_records)
{
    bvt_engine *a = fresh();
    uint32_t id;
    ck_assert_int_eq(bvt_category_intern(a, "x", &id, NULL), BVT_OK);
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt_rbuf r;
    /* a category with an id out of order */
    bvt__w_u32(&w, 5);
    bvt__w_cstr(&w, "y");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_CATEGORY, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* a known category under another id */
    bvt__w_u32(&w, 2);
    bvt__w_cstr(&w, "x");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_CATEGORY, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* a child whose parent has no record */
    bvt__w_u32(&w, 2);
    bvt__w_cstr(&w, "q/r");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_CATEGORY, &r), BVT_ECORRUPT);
    ck_assert_uint_eq(bvt__categories_count(a->cats), 1);
    bvt__wbuf_free(&w);
    /* a known id under another path */
    bvt__w_u32(&w, 1);
    bvt__w_cstr(&w, "other");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_CATEGORY, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* trailing bytes */
    bvt__w_u32(&w, 1);
    bvt__w_cstr(&w, "x");
    bvt__w_u8(&w, 0);
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_CATEGORY, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* a keyword for an unknown category */
    bvt__w_cstr(&w, "word");
    bvt__w_cstr(&w, "nowhere");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_KEYWORD, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* a segment under an id its name cannot have */
    bvt__w_u32(&w, 99);
    bvt__w_u8(&w, 0);
    bvt__w_cstr(&w, "seg");
    bvt__w_cstr(&w, "purchases > 0");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_SEGMENT_DEFINE, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* a caller's definition over a built-in */
    ck_assert_int_eq(bvt_segment_lookup(a, "Champions", &id), BVT_OK);
    bvt__w_u32(&w, id);
    bvt__w_u8(&w, 0);
    bvt__w_cstr(&w, "Champions");
    bvt__w_cstr(&w, "purchases > 0");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_SEGMENT_DEFINE, &r), BVT_ECORRUPT);
    bvt__wbuf_free(&w);
    /* removing a segment that is gone is not an error */
    uint32_t sid;
    ck_assert_int_eq(bvt_segment_define(a, "seg", "purchases > 0", &sid, NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_remove(a, "seg", NULL), BVT_OK);
    bvt__w_u32(&w, sid);
    bvt__w_u8(&w, 0);
    bvt__w_cstr(&w, "seg");
    bvt__rbuf_init(&r, w.p, w.len);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_SEGMENT_REMOVE, &r), BVT_OK);
    bvt__wbuf_free(&w);
    /* an op of another module */
    bvt__rbuf_init(&r, "", 0);
    ck_assert_int_eq(bvt__registry_replay(a, BVT_OP_EVENT, &r), BVT_ECORRUPT);
    bvt_engine_free(a);
}
END_TEST

/* ------------------------------------------------------------ corruption */

typedef struct corrupt_case {
    const sections *s;
    int which; /* 0 names, 1 segments, 2 derived */
} corrupt_case;

/* Load the sections before `which` intact and `which` from bytes p..n;
 * returns the status of that last load (never crashes, never leaks). */
static int try_load(const corrupt_case *c, const unsigned char *p, size_t n)
{
    bvt_engine *e = fresh();
    if (c->which > 0)
        ck_assert_int_eq(load_one(e, bvt__names_load, &c->s->names), BVT_OK);
    if (c->which > 1)
        ck_assert_int_eq(load_one(e, bvt__segments_load, &c->s->segments), BVT_OK);
    static int (*const loads[])(bvt_engine *, bvt_rbuf *) = { bvt__names_load, bvt__segments_load,
                                                              bvt__derived_load };
    bvt_rbuf r;
    bvt__rbuf_init(&r, p, n);
    int rc = loads[c->which](e, &r);
    if (rc == BVT_ECORRUPT)
        ck_assert(r.bad);
    else
        ck_assert_msg(rc == BVT_OK || rc == BVT_ENOMEM, "status %d", rc);
    bvt_engine_free(e);
    return rc;
}

static void corrupt_section(int which)
{
    bvt_engine *a = fresh();
    build(a);
    sections s;
    save_all(a, &s);
    bvt_engine_free(a);
    const bvt_wbuf *w = which == 0 ? &s.names : which == 1 ? &s.segments : &s.derived;
    corrupt_case c = { &s, which };
    unsigned char *copy = malloc(w->len);
    ck_assert_ptr_nonnull(copy);
    /* every prefix is short of something */
    for (size_t n = 0; n < w->len; n++) {
        memcpy(copy, w->p, n);
        ck_assert_msg(try_load(&c, copy, n) == BVT_ECORRUPT, "prefix %zu of %zu loads", n, w->len);
    }
    /* a bit flip at every byte: loads or fails cleanly */
    size_t refused = 0;
    for (size_t i = 0; i < w->len; i++) {
        memcpy(copy, w->p, w->len);
        copy[i] ^= (unsigned char)(1u << (i % 8));
        refused += try_load(&c, copy, w->len) == BVT_ECORRUPT;
    }
    ck_assert_uint_gt(refused, 0);
    free(copy);
    free_all(&s);
}

START_TEST(corrupt_names) { corrupt_section(0); }
END_TEST

START_TEST(corrupt_segments) { corrupt_section(1); }
END_TEST

START_TEST(corrupt_derived) { corrupt_section(2); }
END_TEST

int main(void)
{
    Suite *s = suite_create("persist-registry");
    TCase *t = tcase_create("snapshot");
    tcase_add_test(t, snapshot_round_trip);
    tcase_add_test(t, empty_engine_round_trip);
    tcase_add_test(t, anonymous_kept_whatever_the_policy);
    tcase_add_test(t, tombstones_keep_ids);
    suite_add_tcase(s, t);
    t = tcase_create("journal");
    tcase_add_test(t, journal_replay);
    tcase_add_test(t, journal_after_snapshot);
    tcase_add_test(t, journal_category_from_event);
    tcase_add_test(t, journal_failure_is_returned);
    tcase_add_test(t, journal_bad_records);
    suite_add_tcase(s, t);
    t = tcase_create("corruption");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, corrupt_names);
    tcase_add_test(t, corrupt_segments);
    tcase_add_test(t, corrupt_derived);
    suite_add_tcase(s, t);
    return run_suite(s);
}
