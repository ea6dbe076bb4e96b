/* offer_persist.c — the offer catalog in snapshots (BVT_SEC_OFFERS), and
 * replaying its journal records (BVT_OP_OFFER_DEFINE .. BVT_OP_POLICY,
 * which offer_log.c writes): offer and group names in id order, group
 * caps, the offer-segment list, the policy as given, every current
 * definition as text, the counters of every id (metrics rows, bandit
 * evidence, hence budgets spent) and the unattributed count.
 *
 * Definitions are stored as the caller's text (rule source, tag paths,
 * group name) and loaded through the normal define path, so a rule is
 * compiled against the names and segments the earlier sections restored.
 * Numeric ids travel with the text and are checked, never assigned anew:
 * events in the journal carry resolved offer ids.
 *
 * Locks while saving (every shard lock held by the caller): the catalog is
 * read from one published version, taken with current_lock, which is held
 * only for the pointer read and never by a thread waiting for a shard lock
 * (tracking takes it under a shard lock, the same order as here).
 * define_lock is NOT taken: a definer holds it while it waits for every
 * shard lock to publish and journal (change_sink.h), so a snapshot waiting
 * for define_lock could deadlock with it; and holding the shard locks, the
 * snapshot sees no definition published meanwhile.  Names and counters are
 * read lock-free after the version, so every id the version names is among
 * the names written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"
#include "engine.h"
#include "error.h"
#include "offer.h"
#include "offer_codec.h"
#include "persist.h"
#include "profile_env.h"

/* Smallest encodings, for bvt__r_count. */
#define NAME_MIN 6u   /* u32 length, >= 1 byte, NUL */
#define GROUP_MIN 10u /* a name and a cap count */
#define DEF_MIN 80u   /* put_def with empty strings and lists */

/* ---- shared pieces ---- */

/* A status of a restoring call as a loader's: the caller's data did not
 * fit unless memory ran out. */
static int load_status(bvt_rbuf *r, int rc, const char *why)
{
    if (rc == BVT_OK || rc == BVT_ENOMEM || rc == BVT_EFULL)
        return rc;
    bvt__r_fail(r, why);
    return BVT_ECORRUPT;
}

static int done(bvt_rbuf *r)
{
    return bvt__r_end(r) ? BVT_OK : BVT_ECORRUPT;
}

/* Define offers[0..n) (decoded) as they were: each id must be the one
 * recorded, already known or (journal: allow_new) the next the names hand
 * out, checked before anything changes (a repeated id is refused by the
 * define path, before it changes anything).  Ids known but not defined now
 * (removed ones) come back; the catalog keeps the batch's order. */
static int define_decoded(bvt_engine *e, bvt_rbuf *r, const bvt_offer *offers,
                          const bvt_offer_def_text *texts, size_t n, int allow_new)
{
    bvt_interner *names = e->offers.names;
    uint32_t next = bvt__interner_count(names) + 1;
    for (size_t i = 0; i < n; i++) {
        if (!offers[i].id || !bvt__offer_id_valid(offers[i].id)) {
            bvt__r_fail(r, "bad offer id");
            return BVT_ECORRUPT;
        }
        uint32_t known = bvt__interner_find(names, offers[i].id, strlen(offers[i].id));
        if (known ? known != texts[i].id : !allow_new || texts[i].id != next) {
            bvt__r_fail(r, "offer id does not match its numeric id");
            return BVT_ECORRUPT;
        }
        next += !known;
    }
    uint32_t one, *ids = n == 1 ? &one : malloc(n * sizeof *ids);
    if (!ids)
        return BVT_ENOMEM;
    int rc = bvt__offer_define_restore(e, offers, n, ids, NULL);
    for (size_t i = 0; rc == BVT_OK && i < n; i++)
        if (ids[i] != texts[i].id)
            rc = BVT_ECORRUPT; /* cannot happen after the checks above */
    if (ids != &one)
        free(ids);
    return load_status(r, rc, "offer definition does not define");
}

/* n definitions from r (n already bounded by bvt__r_count), defined; a
 * record (journal) is all of r and may name new ids. */
static int read_defs(bvt_engine *e, bvt_rbuf *r, size_t n, int record)
{
    bvt_offer one_o, *offers = n == 1 ? &one_o : malloc(n * sizeof *offers);
    bvt_offer_def_text one_t, *texts = n == 1 ? &one_t : malloc(n * sizeof *texts);
    int rc = offers && texts ? BVT_OK : BVT_ENOMEM;
    for (size_t i = 0; rc == BVT_OK && i < n && !r->bad; i++)
        bvt__offers_get_def(r, &offers[i], &texts[i]);
    if (rc == BVT_OK && (r->bad || (record && !bvt__r_end(r))))
        rc = BVT_ECORRUPT;
    if (rc == BVT_OK && n)
        rc = define_decoded(e, r, offers, texts, n, record);
    if (offers != &one_o)
        free(offers);
    if (texts != &one_t)
        free(texts);
    return rc;
}

/* ---- counters ---- */

static uint64_t ld(const _Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static double ldd(const _Atomic double *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static int row_used(const bvt_offer_row *row)
{
    return ld(&row->impressions) || ld(&row->clicks) || ld(&row->conversions) ||
           ld(&row->dismissals) || ld(&row->engagements) || ldd(&row->revenue) != 0 ||
           ldd(&row->cost) != 0;
}

/* Rows (metrics) and buckets (evidence) that hold anything, then those. */
static void put_counters(bvt_wbuf *w, const bvt_offers *o, uint32_t id,
                         const bvt_offer_counters *c)
{
    uint32_t rows = 0, arms = 0;
    for (uint32_t i = 0; i < BVT_OFFER_ROWS; i++) {
        const bvt_arm_stats *a = bvt__offer_arm(o, id, i);
        rows |= (uint32_t)row_used(&c->rows[i]) << i;
        arms |= (uint32_t)(ld(&a->trials) || ld(&a->responses)) << i;
    }
    bvt__w_u32(w, rows);
    for (uint32_t i = 0; i < BVT_OFFER_ROWS; i++) {
        const bvt_offer_row *row = &c->rows[i];
        if (!(rows >> i & 1))
            continue;
        bvt__w_u64(w, ld(&row->impressions));
        bvt__w_u64(w, ld(&row->clicks));
        bvt__w_u64(w, ld(&row->conversions));
        bvt__w_u64(w, ld(&row->dismissals));
        bvt__w_u64(w, ld(&row->engagements));
        bvt__w_f64(w, ldd(&row->revenue));
        bvt__w_f64(w, ldd(&row->cost));
    }
    bvt__w_u32(w, arms);
    for (uint32_t i = 0; i < BVT_OFFER_ROWS; i++) {
        if (!(arms >> i & 1))
            continue;
        const bvt_arm_stats *a = bvt__offer_arm(o, id, i);
        bvt__w_u64(w, ld(&a->trials));
        bvt__w_u64(w, ld(&a->responses));
    }
}

static void st(_Atomic uint64_t *p, uint64_t v)
{
    atomic_store_explicit(p, v, memory_order_relaxed);
}

/* Sums of finite amounts >= 0. */
static double get_amount(bvt_rbuf *r)
{
    double v = bvt__r_f64(r);
    if (!(v >= 0) || isinf(v)) {
        bvt__r_fail(r, "revenue or cost is not finite and >= 0");
        return 0;
    }
    return v;
}

static int get_counters(bvt_rbuf *r, bvt_offers *o, uint32_t id)
{
    bvt_offer_counters *c = bvt__offer_counters_for(o, id);
    if (!c)
        return BVT_ENOMEM;
    uint32_t rows = bvt__r_u32(r);
    if (rows >> BVT_OFFER_ROWS)
        bvt__r_fail(r, "metrics row mask names rows that do not exist");
    for (uint32_t i = 0; i < BVT_OFFER_ROWS && !r->bad; i++) {
        if (!(rows >> i & 1))
            continue;
        bvt_offer_row *row = &c->rows[i];
        st(&row->impressions, bvt__r_u64(r));
        st(&row->clicks, bvt__r_u64(r));
        st(&row->conversions, bvt__r_u64(r));
        st(&row->dismissals, bvt__r_u64(r));
        st(&row->engagements, bvt__r_u64(r));
        atomic_store_explicit(&row->revenue, get_amount(r), memory_order_relaxed);
        atomic_store_explicit(&row->cost, get_amount(r), memory_order_relaxed);
    }
    uint32_t arms = bvt__r_u32(r);
    if (arms >> BVT_OFFER_ROWS)
        bvt__r_fail(r, "evidence bucket mask names buckets that do not exist");
    for (uint32_t i = 0; i < BVT_OFFER_ROWS && !r->bad; i++) {
        if (!(arms >> i & 1))
            continue;
        bvt_arm_stats *a = bvt__offer_arm(o, id, i);
        st(&a->trials, bvt__r_u64(r));
        st(&a->responses, bvt__r_u64(r));
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

/* ---- the section ---- */

int bvt__offers_save(bvt_engine *e, bvt_wbuf *w)
{
    bvt_offers *o = &e->offers;
    bvt_offer_set *set = bvt__offers_acquire(o);
    /* after the version: every id and group it names is counted */
    uint32_t n_names = bvt__interner_count(o->names);
    uint32_t n_groups = bvt__interner_count(o->group_names);

    bvt__w_u32(w, n_names);
    for (uint32_t id = 1; id <= n_names; id++)
        bvt__w_cstr(w, bvt__interner_str(o->names, id));
    bvt__w_u32(w, n_groups);
    for (uint32_t g = 1; g <= n_groups; g++) {
        const bvt_offer_group *grp = g <= set->max_group ? &set->groups[g] : NULL;
        bvt__w_cstr(w, bvt__interner_str(o->group_names, g));
        bvt__offers_put_caps(w, grp ? grp->caps : NULL, grp ? grp->n_caps : 0);
    }
    bvt__w_u32(w, set->n_segments);
    for (uint32_t i = 0; i < set->n_segments; i++)
        bvt__w_u32(w, set->segments[i]);
    bvt__offers_put_policy(w, &set->policy_given);
    bvt__w_u32(w, set->n);
    for (uint32_t i = 0; i < set->n; i++) {
        const bvt_offer_def *d = set->defs[i];
        /* the snapshot keeps what its definitions name */
        bvt__rule_mark_names(d->rule, e->snap_marks);
        for (uint32_t t = 0; e->snap_marks && t < d->n_tags; t++)
            bvt__bits_set(e->snap_marks->cats, d->tags[t]);
        bvt__offers_put_def(e, w, d);
    }
    for (uint32_t id = 1; id <= n_names; id++) {
        const bvt_offer_counters *c = bvt__offer_counters_of(o, id);
        bvt__w_u8(w, c != NULL);
        if (c)
            put_counters(w, o, id, c);
    }
    bvt__w_u64(w, atomic_load_explicit(&o->unattributed, memory_order_relaxed));
    bvt__offers_release(set);
    return w->oom ? BVT_ENOMEM : BVT_OK;
}

static int load_names(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, NAME_MIN);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        size_t len;
        const char *s = bvt__r_str(r, &len);
        uint32_t id = 0;
        int fresh = 0;
        if (!s || !bvt__offer_id_valid(s)) {
            bvt__r_fail(r, "bad offer id");
            break;
        }
        int rc = bvt__interner_intern(e->offers.names, s, len, 0, &id, &fresh);
        if (rc == BVT_ENOMEM)
            return rc;
        if (rc != BVT_OK || !fresh || id != i + 1)
            bvt__r_fail(r, "offer id repeated or beyond the limit");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

static int load_groups(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t n = bvt__r_count(r, GROUP_MIN);
    if (r->bad || n == 0)
        return r->bad ? BVT_ECORRUPT : BVT_OK;
    const char **names = malloc(n * sizeof *names);
    bvt_offer_group *groups = calloc(n, sizeof *groups);
    int rc = names && groups ? BVT_OK : BVT_ENOMEM;
    for (uint32_t i = 0; rc == BVT_OK && i < n && !r->bad; i++) {
        names[i] = bvt__r_str(r, NULL);
        groups[i].n_caps = bvt__offers_get_caps(r, groups[i].caps);
        if (!names[i])
            bvt__r_fail(r, "group without a name");
    }
    if (rc == BVT_OK)
        rc = r->bad ? BVT_ECORRUPT
                    : load_status(r, bvt__offer_groups_restore(e, names, groups, n, NULL),
                                  "offer groups do not define");
    free(names);
    free(groups);
    return rc;
}

/* The segment list of a section or record. */
static int get_segments(bvt_rbuf *r, uint32_t *ids, size_t *n)
{
    uint32_t count = bvt__r_u32(r);
    if (count > BVT_OFFER_SEGMENTS_MAX)
        bvt__r_fail(r, "too many offer segments");
    for (uint32_t i = 0; i < count && !r->bad; i++)
        ids[i] = bvt__r_u32(r);
    *n = r->bad ? 0 : count;
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

int bvt__offers_load(bvt_engine *e, bvt_rbuf *r)
{
    bvt_offers *o = &e->offers;
    if (bvt__interner_count(o->names) || bvt__interner_count(o->group_names)) {
        bvt__r_fail(r, "offers loaded into an engine that has some");
        return BVT_ECORRUPT;
    }
    int rc = load_names(e, r);
    if (rc == BVT_OK)
        rc = load_groups(e, r);
    uint32_t segments[BVT_OFFER_SEGMENTS_MAX];
    size_t n_segments = 0;
    if (rc == BVT_OK && (rc = get_segments(r, segments, &n_segments)) == BVT_OK)
        rc = load_status(r, bvt__offer_segments_restore(e, segments, n_segments, NULL),
                         "offer segment list does not fit the segments");
    if (rc == BVT_OK) {
        bvt_policy p;
        bvt__offers_get_policy(r, &p);
        rc = r->bad ? BVT_ECORRUPT
                    : load_status(r, bvt_policy_set(e, &p, NULL), "bad policy");
    }
    if (rc == BVT_OK) {
        uint32_t n = bvt__r_count(r, DEF_MIN);
        rc = r->bad ? BVT_ECORRUPT : read_defs(e, r, n, 0);
    }
    /* counters after the segment list, whose setting resets rows */
    uint32_t n_names = bvt__interner_count(o->names);
    for (uint32_t id = 1; rc == BVT_OK && id <= n_names; id++) {
        uint8_t has = bvt__r_u8(r);
        if (has > 1)
            bvt__r_fail(r, "counter flag is not 0 or 1");
        rc = r->bad ? BVT_ECORRUPT : has ? get_counters(r, o, id) : BVT_OK;
    }
    if (rc == BVT_OK) {
        atomic_store_explicit(&o->unattributed, bvt__r_u64(r), memory_order_relaxed);
        rc = done(r);
    }
    return rc;
}

/* A group record: its id must be the one known, or the next. */
static int replay_group(bvt_engine *e, bvt_rbuf *r)
{
    uint32_t id = bvt__r_u32(r);
    size_t len;
    const char *name = bvt__r_str(r, &len);
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
    uint32_t n = bvt__offers_get_caps(r, caps);
    if (!bvt__r_end(r))
        return BVT_ECORRUPT;
    bvt_interner *names = e->offers.group_names;
    uint32_t known = name ? bvt__interner_find(names, name, len) : 0;
    if (!name || (known ? known != id : id != bvt__interner_count(names) + 1)) {
        bvt__r_fail(r, "group name does not match its numeric id");
        return BVT_ECORRUPT;
    }
    return load_status(r, bvt_offer_group_define(e, name, caps, n, NULL), "bad group record");
}

int bvt__offers_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    switch (op) {
    case BVT_OP_OFFER_DEFINE:
        return read_defs(e, r, 1, 1);
    case BVT_OP_OFFER_BATCH: {
        uint32_t n = bvt__r_count(r, DEF_MIN);
        if (n == 0)
            bvt__r_fail(r, "empty batch");
        return r->bad ? BVT_ECORRUPT : read_defs(e, r, n, 1);
    }
    case BVT_OP_OFFER_REMOVE: {
        const char *id = bvt__r_str(r, NULL);
        if (!bvt__r_end(r))
            return BVT_ECORRUPT;
        int rc = id ? bvt_offer_remove(e, id, NULL) : BVT_EINVAL;
        return rc == BVT_ENOTFOUND ? BVT_OK : load_status(r, rc, "bad offer id");
    }
    case BVT_OP_OFFER_GROUP:
        return replay_group(e, r);
    case BVT_OP_OFFER_SEGMENTS: {
        uint32_t ids[BVT_OFFER_SEGMENTS_MAX];
        size_t n;
        if (get_segments(r, ids, &n) != BVT_OK || !bvt__r_end(r))
            return BVT_ECORRUPT;
        return load_status(r, bvt__offer_segments_restore(e, ids, n, NULL),
                           "offer segment list does not fit the segments");
    }
    case BVT_OP_POLICY: {
        bvt_policy p;
        bvt__offers_get_policy(r, &p);
        if (!bvt__r_end(r))
            return BVT_ECORRUPT;
        return load_status(r, bvt_policy_set(e, &p, NULL), "bad policy");
    }
    default:
        bvt__r_fail(r, "not an offer record");
        return BVT_ECORRUPT;
    }
}
