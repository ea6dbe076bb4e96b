/* registry_persist.c — snapshot sections and replay of the engine's
 * registries and derived state (persist.h):
 *  - BVT_SEC_NAMES: categories, keyword maps, attribute strings, custom
 *    event types, consent purposes;
 *  - BVT_SEC_SEGMENTS: segment names (every id ever handed out) and the
 *    definitions with their rule text;
 *  - BVT_SEC_DERIVED: RFM cut points, the cluster model, the anonymous
 *    aggregates, the alias map, the rejected-event counter;
 *  - replaying the records BVT_OP_CATEGORY .. BVT_OP_CLUSTERS (written by
 *    registry_log.c, event_types.c, consent.c and cluster.c).
 *
 * Everything is restored by the same calls that built it, in id order, so
 * ids come back identical; a loader checks each id it gets against the one
 * saved, which is also how it catches duplicates and gaps.
 *
 * Locks while saving (the caller holds every shard lock; NAMES is begun
 * then and finished after the profile copies, persist.h).  Interners, the
 * keyword map, event types, purposes, the cut points, the cluster model
 * and the anonymous aggregates are read lock-free (release-published); the
 * locks of those modules are held while their journal hook runs, so a
 * snapshot must not wait for them.  Segments are read through a version
 * reference (current_lock is held only for the pointer read, never while
 * waiting for anything).  One module lock is taken: the alias map's, a
 * leaf (alias.c calls out to nothing that locks while holding it; user.c
 * and privacy.c take it while holding shard locks, shard then alias,
 * never the other way), so taking it with every shard lock held cannot
 * deadlock.
 *
 * What a section refers to is read before the section it refers to is
 * counted: the keyword map before the categories, the segment list before
 * the segment names, so every id a section holds is covered.
 *
 * Layouts (codec.h encoding: str = u32 length, bytes, NUL):
 *   NAMES     u32 n, n x str category path (ids 1..n; no string: a tombstone)
 *             u32 n, n x (str word, u32 category id)
 *             u32 n, n x (u32 len, bytes) attribute string (ids 1..n;
 *                        len UINT32_MAX without bytes: a tombstone)
 *             u32 n, n x (str name, f64 weight) custom type (ids 16..)
 *             u32 n, n x str purpose name (ids 0..n-1, built-ins first)
 *   SEGMENTS  u32 n, n x str segment name (ids 1..n, removed ones too)
 *             u32 m, m x (u32 id, u8 built-in, str rule) in list order
 *   DERIVED   cuts: u8 layout (0 = none; 1 = 12 x f64 r/f/m cut values, read only;
 *             2 = 12 x (3 x f64 ranked values, u64 hash): r, f, m cut ranks), then
 *             i64 refreshed, u64 buyers
 *             u8 model? [bvt__cluster_model_write()]
 *             u8 anon?  [u64 total count, f64 total sum,
 *                        u32 n, n x (u32 key, u64 count, f64 sum)]
 *             u32 n, n x (u64 hi, u64 lo, u64 hi, u64 lo) alias from, to
 *             u64 events rejected
 * Records (after the op byte):
 *   CATEGORY        u32 id, str path (one per new id, ancestors first; an
 *                   erased id's again before a record names it: replay
 *                   restores the tombstone)
 *   KEYWORD         str word (lower-cased), str category path
 *   EVENT_TYPE      u32 type, str name, f64 weight
 *   PURPOSE         u32 id, str name
 *   SEGMENT_DEFINE  u32 id, u8 built-in, str name, str rule
 *   SEGMENT_REMOVE  u32 id, u8 built-in, str name
 *   RFM_CUTS        cuts as above
 *   CLUSTERS        bvt__cluster_model_write() */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics.h"
#include "cluster_model.h"
#include "engine.h"
#include "persist.h"
#include "profile_env.h"
#include "registry_log.h"

static int corrupt(bvt_rbuf *r, const char *why)
{
    bvt__r_fail(r, why);
    return BVT_ECORRUPT;
}

/* The status of a restoring call that failed on saved data: allocation
 * failure is itself, anything else means the data does not fit. */
static int refused(bvt_rbuf *r, int rc, const char *why)
{
    if (rc == BVT_ENOMEM)
        return rc;
    return corrupt(r, why);
}

/* A section or record must be read to its end. */
static int finish(bvt_rbuf *r)
{
    return bvt__r_end(r) ? BVT_OK : BVT_ECORRUPT;
}

/* ================================================================ names */

static void put_keyword(const char *word, size_t len, uint32_t category, void *ud)
{
    bvt_names_cut *cut = ud;
    if (cut->marks) /* what the snapshot's keyword map names it keeps */
        bvt__bits_set(cut->marks->cats, category);
    bvt__w_str(&cut->keywords, word, len);
    bvt__w_u32(&cut->keywords, category);
    cut->n_keywords++;
}

void bvt__names_cut_free(bvt_names_cut *cut)
{
    bvt__wbuf_free(&cut->keywords);
    bvt__wbuf_free(&cut->tail);
}

int bvt__names_begin(bvt_engine *e, bvt_names_cut *cut)
{
    *cut = (bvt_names_cut){ 0, 0, 0, 0, BVT_WBUF_INIT, BVT_WBUF_INIT, e->snap_marks };
    /* Keywords first: every category they name is then below the count.
     * Their ids are internal (matching answers categories), so a word
     * skipped by the walk (see bvt__keywords_foreach) changes nothing. */
    bvt__keywords_foreach(e->keywords, put_keyword, cut);
    cut->cats = bvt__categories_count(e->cats);
    cut->strings = bvt__interner_count(e->strings);

    /* Custom event types (built-in weights come from the options). */
    bvt_wbuf *w = &cut->tail;
    uint32_t n = atomic_load_explicit(&e->types.n_custom, memory_order_acquire);
    bvt__w_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        bvt__w_cstr(w, e->types.names[i]);
        bvt__w_f64(w, e->types.weights[BVT_EVENT_CUSTOM_FIRST + i]);
    }

    /* Every purpose, the built-in ones too (checked on load). */
    n = atomic_load_explicit(&e->purposes.n, memory_order_acquire);
    bvt__w_u32(w, n);
    for (uint32_t i = 0; i < n; i++)
        bvt__w_cstr(w, e->purposes.names[i]);
    if (!cut->keywords.oom && !w->oom)
        return BVT_OK;
    bvt__names_cut_free(cut);
    return BVT_ENOMEM;
}

/* Does the snapshot write the text of attribute string id?  With marks,
 * when they say so (snapshot.c marked what live rules pin and forgot the
 * rest); without, when it is live. */
static int string_kept(const bvt_engine *e, const bvt_name_marks *m, uint32_t id)
{
    return m ? bvt__bits_has(m->strings, id) : bvt__interner_live(e->strings, id);
}

int bvt__names_finish(bvt_engine *e, bvt_names_cut *cut, const bvt_name_marks *m, bvt_wbuf *w)
{
    /* Categories in id order: interning them in that order gives the same
     * ids, and the same parents (a parent precedes its children).  An
     * erased id is "no string" (a tombstone), so later ids keep theirs. */
    bvt__w_u32(w, cut->cats);
    for (uint32_t id = 1; id <= cut->cats; id++) {
        const char *path = !m || bvt__bits_has(m->cats, id) ? bvt__categories_name(e->cats, id)
                                                           : NULL;
        bvt__w_cstr(w, path);
        cut->tombstones += !path;
    }

    bvt__w_u32(w, cut->n_keywords);
    bvt__w_bytes(w, cut->keywords.p, cut->keywords.len);

    /* Attribute keys and string values in id order, as raw bytes; an
     * erased one is the length UINT32_MAX alone. */
    bvt__w_u32(w, cut->strings);
    for (uint32_t id = 1; id <= cut->strings; id++) {
        const char *s = string_kept(e, m, id) ? bvt__interner_str(e->strings, id) : NULL;
        size_t len = s ? bvt__interner_len(e->strings, id) : 0;
        bvt__w_u32(w, s ? (uint32_t)len : UINT32_MAX);
        bvt__w_bytes(w, s, len);
        cut->tombstones += !s;
    }

    bvt__w_bytes(w, cut->tail.p, cut->tail.len);
    bvt__names_cut_free(cut);
    return w->oom ? BVT_ENOMEM : BVT_OK;
}

int bvt__names_save(bvt_engine *e, bvt_wbuf *w)
{
    bvt_names_cut cut;
    int rc = bvt__names_begin(e, &cut);
    return rc == BVT_OK ? bvt__names_finish(e, &cut, NULL, w) : rc;
}

static int load_categories(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 4);
    for (uint32_t i = 1; i <= n && !r->bad; i++) {
        size_t len;
        const char *path = bvt__r_str(r, &len);
        if (r->bad)
            return BVT_ECORRUPT;
        uint32_t id = 0;
        int rc = path ? bvt__categories_intern(e->cats, path, len, &id, NULL)
                      : bvt__categories_add_erased(e->cats, &id); /* a tombstone */
        if (rc != BVT_OK)
            return refused(r, rc, "category path not accepted");
        if (id != i) /* also when it brought a missing ancestor */
            return corrupt(r, "category out of id order");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_keywords(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 9);
    for (uint32_t i = 1; i <= n && !r->bad; i++) {
        size_t len;
        const char *word = bvt__r_str(r, &len);
        uint32_t cat = bvt__r_u32(r);
        if (r->bad || !word)
            return corrupt(r, "keyword missing");
        if (!bvt__categories_valid(e->cats, cat))
            return corrupt(r, "keyword names an unknown category");
        int rc = bvt__categories_pin(e->cats, cat);
        if (rc == BVT_OK)
            rc = bvt__keyword_pin_map(e, word, len, cat);
        if (rc != BVT_OK)
            return refused(r, rc, "keyword not accepted");
        if (bvt__keywords_count(e->keywords) != i)
            return corrupt(r, "keyword repeated");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_strings(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 4);
    for (uint32_t i = 1; i <= n && !r->bad; i++) {
        uint32_t len = bvt__r_u32(r);
        const char *s = len == UINT32_MAX ? NULL : bvt__r_bytes(r, len);
        if (r->bad)
            return BVT_ECORRUPT;
        if (s && bvt_utf8_check(s, len) != len)
            return corrupt(r, "attribute string is not UTF-8");
        uint32_t id = 0;
        int rc = len == UINT32_MAX ? bvt__interner_add_erased(e->strings, &id) /* a tombstone */
                                   : bvt__interner_intern(e->strings, len ? s : "", len, 0, &id,
                                                         NULL);
        if (rc != BVT_OK)
            return refused(r, rc, "too many attribute strings");
        if (id != i)
            return corrupt(r, "attribute string repeated or out of id order");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_types(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 13);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const char *name = bvt__r_str(r, NULL);
        double weight = bvt__r_f64(r);
        if (r->bad || !name)
            return corrupt(r, "event type missing");
        uint32_t type = 0;
        int rc = bvt_event_type_register(e, name, weight, &type, NULL);
        if (rc != BVT_OK)
            return refused(r, rc, "event type not accepted");
        if (type != BVT_EVENT_CUSTOM_FIRST + i)
            return corrupt(r, "event type repeated");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_purposes(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 5);
    if (!r->bad && n < atomic_load_explicit(&e->purposes.n, memory_order_relaxed))
        return corrupt(r, "built-in purposes missing");
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const char *name = bvt__r_str(r, NULL);
        if (!name)
            return corrupt(r, "purpose missing");
        uint32_t id = 0;
        int rc = bvt_consent_purpose(e, name, 1, &id);
        if (rc != BVT_OK)
            return refused(r, rc, "purpose not accepted");
        if (id != i)
            return corrupt(r, "purpose repeated or out of id order");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

int bvt__names_load(bvt_engine *e, bvt_rbuf *r)
{
    int rc;
    if ((rc = load_categories(e, r)) != BVT_OK || (rc = load_keywords(e, r)) != BVT_OK ||
        (rc = load_strings(e, r)) != BVT_OK || (rc = load_types(e, r)) != BVT_OK ||
        (rc = load_purposes(e, r)) != BVT_OK)
        return rc;
    return finish(r);
}

/* ============================================================= segments */

int bvt__segments_save(bvt_engine *e, bvt_wbuf *w)
{
    /* The version first: its ids were interned before it was published, so
     * the name count read after it covers them. */
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    bvt_interner *names = e->segments.names;
    uint32_t n = bvt__interner_count(names);
    bvt__w_u32(w, n);
    for (uint32_t id = 1; id <= n; id++)
        bvt__w_str(w, bvt__interner_str(names, id), bvt__interner_len(names, id));
    /* In list order (bvt_segment_list() answers in it), built-ins included:
     * the loader checks the engine's own against them. */
    bvt__w_u32(w, set->n);
    for (uint32_t i = 0; i < set->n; i++) {
        const bvt_segment_def *d = set->defs[i];
        bvt__rule_mark_names(d->rule, e->snap_marks); /* the snapshot keeps what it names */
        bvt__w_u32(w, d->id);
        bvt__w_u8(w, d->builtin != 0);
        bvt__w_cstr(w, d->text);
    }
    bvt__segments_release(set);
    return w->oom ? BVT_ENOMEM : BVT_OK;
}

typedef struct saved_def {
    uint32_t id, builtin;
    const char *text;
} saved_def;

/* Compile text (as the engine's own segment when builtin) and publish it
 * under id's name. */
static int put_rule(bvt_engine *e, uint32_t id, int builtin, const char *compile,
                    const char *text)
{
    bvt_rule *rule = NULL;
    int rc = bvt__rule_compile_in(e, builtin, NULL, compile, strlen(compile), &rule, NULL);
    if (rc != BVT_OK)
        return rc;
    const char *name = bvt__interner_str(e->segments.names, id);
    uint32_t got = 0;
    rc = bvt__segments_put(&e->segments, name, strlen(name), text, rule, builtin, &got);
    return rc == BVT_OK && got != id ? BVT_ECORRUPT : rc;
}

/* Saved definitions in list order: those the fresh engine has (its
 * built-ins) must open the list unchanged; the others are defined in two
 * passes.  First each gets a placeholder rule (`false`), appended in list
 * order so the list comes back in that order; then each gets its real rule
 * in place.  Every in_segment() then finds its segment defined, whatever
 * the order, and no intermediate version can hold a cycle: its references
 * are a subset of the saved, acyclic ones. */
static int load_defs(bvt_engine *e, bvt_rbuf *r, saved_def *defs, uint32_t m)
{
    uint32_t n_names = bvt__interner_count(e->segments.names);
    bvt_segment_set *fresh = bvt__segments_acquire(&e->segments);
    uint32_t fresh_n = fresh->n;
    int rc = BVT_OK;
    if (m < fresh_n)
        rc = corrupt(r, "built-in segments missing");
    for (uint32_t i = 0; i < fresh_n && rc == BVT_OK; i++) {
        const bvt_segment_def *d = fresh->defs[i];
        if (defs[i].id != d->id || defs[i].builtin != (uint32_t)(d->builtin != 0) ||
            strcmp(defs[i].text, d->text) != 0)
            rc = corrupt(r, "built-in segment differs from this engine's");
    }
    bvt__segments_release(fresh);
    uint8_t *seen = rc == BVT_OK ? calloc((size_t)n_names + 1, 1) : NULL;
    if (rc == BVT_OK && !seen)
        rc = BVT_ENOMEM;
    for (uint32_t i = 0; i < m && rc == BVT_OK; i++) {
        if (seen[defs[i].id])
            rc = corrupt(r, "segment defined twice");
        seen[defs[i].id] = 1;
    }
    for (uint32_t i = fresh_n; i < m && rc == BVT_OK; i++) {
        rc = put_rule(e, defs[i].id, (int)defs[i].builtin, "false", defs[i].text);
        if (rc != BVT_OK)
            rc = refused(r, rc, "segment not accepted");
    }
    for (uint32_t i = fresh_n; i < m && rc == BVT_OK; i++) {
        rc = put_rule(e, defs[i].id, (int)defs[i].builtin, defs[i].text, defs[i].text);
        if (rc != BVT_OK)
            rc = refused(r, rc, "segment rule does not compile here");
    }
    free(seen);
    return rc;
}

int bvt__segments_load(bvt_engine *e, bvt_rbuf *r)
{
    /* Names in id order, removed segments' included: ids come back with
     * their gaps.  The engine's own names must come back at their ids. */
    bvt_interner *names = e->segments.names;
    uint32_t n = bvt__r_count(r, 5);
    for (uint32_t i = 1; i <= n && !r->bad; i++) {
        size_t len;
        const char *name = bvt__r_str(r, &len);
        if (!name || !bvt__segment_name_ok(name, len))
            return corrupt(r, "bad segment name");
        uint32_t id = 0;
        int rc = bvt__interner_intern(names, name, len, 0, &id, NULL);
        if (rc != BVT_OK)
            return refused(r, rc, "too many segment names");
        if (id != i) /* a new name gets the next id, an old one its own */
            return corrupt(r, "segment name repeated or out of id order");
    }
    if (!r->bad && n < bvt__interner_count(names))
        return corrupt(r, "built-in segment names missing");
    uint32_t m = bvt__r_count(r, 10);
    if (!r->bad && m > BVT_SEGMENTS_MAX)
        return corrupt(r, "too many segments");
    if (r->bad)
        return BVT_ECORRUPT;
    saved_def *defs = malloc(((size_t)m + 1) * sizeof *defs);
    if (!defs)
        return BVT_ENOMEM;
    for (uint32_t i = 0; i < m && !r->bad; i++) {
        defs[i].id = bvt__r_u32(r);
        defs[i].builtin = bvt__r_u8(r);
        defs[i].text = bvt__r_str(r, NULL);
        if (!r->bad && (defs[i].id == 0 || defs[i].id > n || defs[i].builtin > 1 ||
                        !defs[i].text))
            bvt__r_fail(r, "bad segment definition");
    }
    int rc = r->bad ? BVT_ECORRUPT : bvt__r_end(r) ? load_defs(e, r, defs, m) : BVT_ECORRUPT;
    free(defs);
    return rc;
}

/* ============================================================== derived */

static void put_alias(const bvt_user_key *from, const bvt_user_key *to, void *ud)
{
    bvt_wbuf *w = ud;
    bvt__w_u64(w, from->hi);
    bvt__w_u64(w, from->lo);
    bvt__w_u64(w, to->hi);
    bvt__w_u64(w, to->lo);
}

int bvt__derived_save(bvt_engine *e, bvt_wbuf *w)
{
    /* Only the latest cut points and model: older versions are kept only
     * until no reader can hold them. */
    const bvt_rfm_cuts *cuts = atomic_load_explicit(&e->cuts, memory_order_acquire);
    if (cuts)
        bvt__rfm_cuts_write(cuts, w); /* its layout byte says it is there */
    else
        bvt__w_u8(w, 0);
    const bvt_cluster_model *m = atomic_load_explicit(&e->clusters, memory_order_acquire);
    bvt__w_u8(w, m != NULL);
    if (m) {
        bvt__cluster_model_mark(m, e->snap_marks); /* the snapshot keeps what it names */
        bvt__cluster_model_write(m, w);
    }

    /* Anonymous aggregates: the claimed cells, by key. */
    bvt_anon *a = e->anon;
    bvt__w_u8(w, a != NULL);
    if (a) {
        bvt__w_u64(w, atomic_load_explicit(&a->total_count, memory_order_relaxed));
        bvt__w_f64(w, bvt__atomic_load_double(&a->total_sum));
        bvt_wbuf cells = BVT_WBUF_INIT;
        uint32_t n = 0;
        for (uint32_t i = 0; i < BVT_ANON_SLOTS; i++) {
            bvt_anon_cell *c = &a->cells[i];
            uint32_t key = atomic_load_explicit(&c->key, memory_order_acquire);
            if (!key)
                continue;
            uint32_t cat = (key - 1) & 0xFFFFu;
            if (cat && e->snap_marks)
                bvt__bits_set(e->snap_marks->cats, cat);
            bvt__w_u32(&cells, key);
            bvt__w_u64(&cells, atomic_load_explicit(&c->count, memory_order_relaxed));
            bvt__w_f64(&cells, bvt__atomic_load_double(&c->sum));
            n++;
        }
        bvt__w_u32(w, n);
        bvt__w_bytes(w, cells.p, cells.len);
        if (cells.oom)
            w->oom = 1;
        bvt__wbuf_free(&cells);
    }

    /* The alias map under its lock (a leaf: see the top of the file). */
    bvt_wbuf al = BVT_WBUF_INIT;
    bvt__aliases_foreach(&e->aliases, put_alias, &al);
    bvt__w_u32(w, (uint32_t)(al.len / 32));
    bvt__w_bytes(w, al.p, al.len);
    if (al.oom)
        w->oom = 1;
    bvt__wbuf_free(&al);

    bvt__w_u64(w, atomic_load_explicit(&e->events_rejected, memory_order_relaxed));
    return w->oom ? BVT_ENOMEM : BVT_OK;
}

static int load_anon(bvt_engine *e, bvt_rbuf *r)
{
    uint64_t total = bvt__r_u64(r);
    double total_sum = bvt__r_f64(r);
    uint32_t n = bvt__r_count(r, 20);
    if (r->bad)
        return BVT_ECORRUPT;
    if (bvt__analytics_ensure(e) != BVT_OK) /* kept whatever the policy is now */
        return BVT_ENOMEM;
    if (!(total_sum >= 0) || n > BVT_ANON_PAIRS)
        return corrupt(r, "bad anonymous totals");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = bvt__r_u32(r);
        uint64_t count = bvt__r_u64(r);
        double sum = bvt__r_f64(r);
        if (r->bad)
            return BVT_ECORRUPT;
        uint32_t type = (key - 1) >> 16, cat = (key - 1) & 0xFFFFu;
        if (key == 0 || !bvt__event_types_valid(&e->types, type) ||
            (cat && (!bvt__categories_valid(e->cats, cat) ||
                     bvt__categories_parent(e->cats, cat) != 0)) ||
            !(sum >= 0))
            return corrupt(r, "bad anonymous pair");
        if (bvt__anon_restore(e->anon, key, count, sum) != BVT_OK)
            return corrupt(r, "anonymous pair repeated");
        int rc = cat ? bvt__categories_keep(e->cats, cat) : BVT_OK; /* the table names it */
        if (rc != BVT_OK)
            return rc;
    }
    atomic_store_explicit(&e->anon->total_count, total, memory_order_relaxed);
    atomic_store_explicit(&e->anon->total_sum, total_sum, memory_order_relaxed);
    return BVT_OK;
}

static bvt_user_key read_key(bvt_rbuf *r)
{
    bvt_user_key k;
    k.hi = bvt__r_u64(r);
    k.lo = bvt__r_u64(r);
    return k;
}

static int load_aliases(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, 32);
    bvt_rbuf again = *r; /* second pass: the map must hold what was saved */
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        bvt_user_key from = read_key(r), to = read_key(r);
        if (r->bad)
            break;
        if ((from.hi | from.lo) == 0 || (to.hi | to.lo) == 0 || bvt__user_key_cmp(&from, &to) == 0)
            return corrupt(r, "bad alias");
        int rc = bvt__aliases_add(&e->aliases, &from, &to);
        if (rc == BVT_ELIMIT)
            return BVT_EFULL; /* more aliases than this engine's max_users allows */
        if (rc != BVT_OK)
            return refused(r, rc, "alias repeated or chained");
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        bvt_user_key from = read_key(&again), to = read_key(&again), got, next;
        if (!bvt__aliases_find(&e->aliases, &from, &got) || bvt__user_key_cmp(&got, &to) != 0 ||
            bvt__aliases_find(&e->aliases, &to, &next))
            return corrupt(r, "alias chained");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

int bvt__derived_load(bvt_engine *e, bvt_rbuf *r)
{
    int rc = BVT_OK;
    uint8_t has = bvt__r_u8(r); /* 0, or the cut points' layout */
    if (has) {
        bvt_rfm_cuts *cuts;
        if ((rc = bvt__rfm_cuts_read(r, has, &cuts)) != BVT_OK)
            return rc;
        pthread_mutex_lock(&e->rfm_lock);
        bvt__rfm_republish(e, cuts);
        pthread_mutex_unlock(&e->rfm_lock);
    }
    has = bvt__r_u8(r);
    if (!r->bad && has > 1)
        return corrupt(r, "bad flag");
    if (has) {
        bvt_cluster_model *m;
        if ((rc = bvt__cluster_model_read(e, r, &m)) != BVT_OK)
            return rc;
        pthread_mutex_lock(&e->rfm_lock);
        rc = bvt__cluster_restore(e, m);
        pthread_mutex_unlock(&e->rfm_lock);
        if (rc != BVT_OK)
            return rc;
    }
    has = bvt__r_u8(r);
    if (!r->bad && has > 1)
        return corrupt(r, "bad flag");
    if (has && (rc = load_anon(e, r)) != BVT_OK)
        return rc;
    if ((rc = load_aliases(e, r)) != BVT_OK)
        return rc;
    uint64_t rejected = bvt__r_u64(r);
    if (r->bad)
        return BVT_ECORRUPT;
    atomic_store_explicit(&e->events_rejected, rejected, memory_order_relaxed);
    return finish(r);
}

/* =============================================================== replay */

static int replay_category(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r);
    size_t len;
    const char *path = bvt__r_str(r, &len);
    if (finish(r) != BVT_OK || !path)
        return corrupt(r, "bad category record");
    uint32_t have = bvt__categories_find(e->cats, path, len);
    if (have)
        return have == id ? BVT_OK : corrupt(r, "category has another id");
    /* A tombstone of the snapshot named again after its cut: its path comes
     * back under its id (category.c). */
    if (id && id <= bvt__categories_count(e->cats)) {
        if (bvt__categories_valid(e->cats, id))
            return corrupt(r, "category has another path");
        /* Its parent a tombstone too: a record the snapshot also holds (a
         * definition journaled as the cut was taken: persist.h), whose
         * category nothing used then.  Nothing to restore: a record that
         * names it later comes after its erased ancestors' records, the
         * parent's first (category.h), and replaying those restores it. */
        size_t cut = len;
        while (cut > 0 && path[cut - 1] != '/')
            cut--;
        if (cut > 1 && !bvt__categories_find(e->cats, path, cut - 1) &&
            bvt__categories_check(path, len, NULL) == BVT_OK)
            return BVT_OK;
        int rc = bvt__categories_restore(e->cats, id, path, len, NULL);
        return rc == BVT_OK ? rc : refused(r, rc, "erased category cannot be restored");
    }
    /* One record per new id: only the last level may be missing. */
    if (id != bvt__categories_count(e->cats) + 1)
        return corrupt(r, "category record out of id order");
    size_t cut = len;
    while (cut > 0 && path[cut - 1] != '/')
        cut--;
    if (cut > 1 && !bvt__categories_find(e->cats, path, cut - 1))
        return corrupt(r, "category parent missing");
    uint32_t got = 0;
    int rc = bvt__categories_intern(e->cats, path, len, &got, NULL);
    if (rc != BVT_OK)
        return refused(r, rc, "category path not accepted");
    return got == id ? BVT_OK : corrupt(r, "category has another id");
}

static int replay_keyword(bvt_engine *e, bvt_rbuf *r)
{
    size_t len, plen;
    const char *word = bvt__r_str(r, &len), *path = bvt__r_str(r, &plen);
    if (finish(r) != BVT_OK || !word || !path)
        return corrupt(r, "bad keyword record");
    uint32_t cat = bvt__categories_find(e->cats, path, plen);
    if (!cat)
        return corrupt(r, "keyword names an unknown category");
    int rc = bvt__categories_pin(e->cats, cat);
    if (rc == BVT_OK)
        rc = bvt__keyword_pin_map(e, word, len, cat);
    return rc == BVT_OK ? rc : refused(r, rc, "keyword not accepted");
}

static int replay_type(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r);
    const char *name = bvt__r_str(r, NULL);
    double weight = bvt__r_f64(r);
    if (finish(r) != BVT_OK || !name)
        return corrupt(r, "bad event type record");
    uint32_t got = 0;
    int rc = bvt_event_type_register(e, name, weight, &got, NULL);
    if (rc != BVT_OK)
        return refused(r, rc, "event type not accepted");
    return got == id ? BVT_OK : corrupt(r, "event type has another id");
}

static int replay_purpose(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r);
    const char *name = bvt__r_str(r, NULL);
    if (finish(r) != BVT_OK || !name)
        return corrupt(r, "bad purpose record");
    uint32_t got = 0;
    int rc = bvt_consent_purpose(e, name, 1, &got);
    if (rc != BVT_OK)
        return refused(r, rc, "purpose not accepted");
    return got == id ? BVT_OK : corrupt(r, "purpose has another id");
}

/* The id a record names must be the name's id, or the next one for a new
 * name (names are interned in publication order). */
static int segment_id_fits(bvt_engine *e, uint32_t id, const char *name, size_t len)
{
    uint32_t have = bvt__interner_find(e->segments.names, name, len);
    return have ? have == id : id == bvt__interner_count(e->segments.names) + 1;
}

static int replay_segment_define(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r), builtin = bvt__r_u8(r);
    size_t len;
    const char *name = bvt__r_str(r, &len), *text = bvt__r_str(r, NULL);
    if (finish(r) != BVT_OK || !name || !text || builtin > 1 || !bvt__segment_name_ok(name, len))
        return corrupt(r, "bad segment record");
    if (!segment_id_fits(e, id, name, len))
        return corrupt(r, "segment has another id");
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    const bvt_segment_def *d = id <= set->max_id ? set->by_id[id] : NULL;
    int same = d && (uint32_t)(d->builtin != 0) == builtin && strcmp(d->text, text) == 0;
    bvt__segments_release(set);
    if (same)
        return BVT_OK; /* already as recorded (the snapshot had it) */
    uint32_t got = 0;
    int rc = bvt__segment_define_internal(e, name, text, (int)builtin, &got, NULL);
    if (rc != BVT_OK)
        return refused(r, rc, "segment definition not accepted");
    return got == id ? BVT_OK : corrupt(r, "segment has another id");
}

static int replay_segment_remove(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r), builtin = bvt__r_u8(r);
    size_t len;
    const char *name = bvt__r_str(r, &len);
    if (finish(r) != BVT_OK || !name || builtin > 1)
        return corrupt(r, "bad segment record");
    if (bvt__interner_find(e->segments.names, name, len) != id)
        return corrupt(r, "removed segment has another id");
    uint32_t blocker = 0;
    int rc = builtin ? bvt__segments_drop_builtin(&e->segments, id, &blocker)
                     : bvt__segments_drop(&e->segments, id, &blocker);
    if (rc == BVT_ENOTFOUND)
        return BVT_OK; /* already gone */
    return rc == BVT_OK ? rc : refused(r, rc, "segment cannot be removed");
}

static int replay_cuts(bvt_engine *e, bvt_rbuf *r)
{
    bvt_rfm_cuts *cuts;
    int rc = bvt__rfm_cuts_read(r, bvt__r_u8(r), &cuts);
    if (rc != BVT_OK)
        return rc;
    if (finish(r) != BVT_OK) {
        free(cuts);
        return BVT_ECORRUPT;
    }
    pthread_mutex_lock(&e->rfm_lock);
    bvt__rfm_republish(e, cuts);
    pthread_mutex_unlock(&e->rfm_lock);
    return BVT_OK;
}

static int replay_clusters(bvt_engine *e, bvt_rbuf *r)
{
    bvt_cluster_model *m;
    int rc = bvt__cluster_model_read(e, r, &m);
    if (rc != BVT_OK)
        return rc;
    if (finish(r) != BVT_OK) {
        free(m);
        return BVT_ECORRUPT;
    }
    pthread_mutex_lock(&e->rfm_lock);
    rc = bvt__cluster_restore(e, m);
    pthread_mutex_unlock(&e->rfm_lock);
    return rc;
}

int bvt__registry_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    switch (op) {
    case BVT_OP_CATEGORY: return replay_category(e, r);
    case BVT_OP_KEYWORD: return replay_keyword(e, r);
    case BVT_OP_EVENT_TYPE: return replay_type(e, r);
    case BVT_OP_PURPOSE: return replay_purpose(e, r);
    case BVT_OP_SEGMENT_DEFINE: return replay_segment_define(e, r);
    case BVT_OP_SEGMENT_REMOVE: return replay_segment_remove(e, r);
    case BVT_OP_RFM_CUTS: return replay_cuts(e, r);
    case BVT_OP_CLUSTERS: return replay_clusters(e, r);
    default: return corrupt(r, "not a registry record");
    }
}
