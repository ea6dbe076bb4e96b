/* snapshot.c — the whole engine to and from a snapshot file: the META and
 * PROFILES sections, the order of all sections, and the save protocol.
 *
 * Saving locks every shard (in index order), lets the journal switch files
 * (the cut), copies every section but the profiles, marks every shard as
 * owing a copy and releases them all.  Then whoever locks a marked shard
 * first — this pass going shard by shard, or a call about to change it —
 * copies its records (bvt__shard_lock, store.h).  So the snapshot is the
 * engine exactly at the cut, and a call waits at most for one shard's
 * copy.  Compression and writing happen after every shard is copied.
 *
 * Erasure (docs/privacy.md): the copies mark the categories and attribute
 * strings the profiles name, the sections those their definitions and
 * aggregates name, and NAMES is written after them, with the counts fixed
 * at the cut: a name nothing keeps becomes a tombstone.  What live
 * definitions pin is kept too (category.h; rules pin strings likewise),
 * and so is what a change made after the cut names (categories: their
 * epochs; strings: e->snap_marks, which attribute changes mark until the
 * end).  Then every shard lock is taken once more, briefly, to settle it:
 * categories nothing keeps are flagged erased (the journal restores them
 * when named again: category.h), strings nothing keeps are forgotten (a
 * new id when used again, as after reopening), and e->snap_marks is
 * cleared. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine.h"
#include "error.h"
#include "hash.h"
#include "persist.h"
#include "profile_persist.h"
#include "snapfile.h"
#include "snapshot.h"

#define META_VERSION 1u
#define PROFILE_BLOCK_BYTES (8u << 20) /* raw bytes per profile block */
/* Room after the block is full: more than the largest profile the engine
 * bounds allow (4,096 events and 65,535 day aggregates of 15 bytes, 64 cap
 * entries of 255 times, ...: about 1.2 MB). */
#define PROFILE_BLOCK_SLACK (4u << 20)
#define PROFILE_BLOCK_MAP (PROFILE_BLOCK_BYTES + PROFILE_BLOCK_SLACK)

static const char CHECK_TEXT[] = "libbehavtarget user-id secret check";

uint64_t bvt__secret_check(const bvt_engine *e)
{
    return XXH3_64bits_withSecret(CHECK_TEXT, sizeof CHECK_TEXT - 1, e->secret, sizeof e->secret);
}

/* ---- META: the settings that shape stored data, and counts ---- */

static void save_meta(const bvt_engine *e, uint64_t seq, bvt_wbuf *w)
{
    const bvt_profile_cfg *c = &e->cfg;
    bvt__w_u32(w, META_VERSION);
    bvt__w_u64(w, seq);
    bvt__w_u32(w, c->top_k);
    bvt__w_f64(w, c->half_life_ms);
    bvt__w_f64(w, c->ancestor_credit);
    bvt__w_u32(w, c->hist.max_events);
    bvt__w_u32(w, c->hist.max_days);
    bvt__w_i64(w, c->hist.horizon_ms);
    bvt__w_i64(w, c->session_gap_ms);
    bvt__w_u32(w, c->cart_max);
    bvt__w_u32(w, c->attrs_max);
    bvt__w_u32(w, BVT_EVENT_BUILTIN_COUNT);
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        bvt__w_f64(w, bvt__event_types_weight(&e->types, t));
    uint64_t accepted = 0, evicted = 0;
    for (uint32_t i = 0; i < e->store.n_shards; i++) {
        accepted += e->store.shards[i].events_accepted;
        evicted += e->store.shards[i].evicted;
    }
    bvt__w_u64(w, accepted);
    bvt__w_u64(w, evicted);
    bvt__w_u64(w, atomic_load(&e->store.users));
}

#define SAME(field, a, b)                                                                  \
    if ((a) != (b))                                                                        \
        return bvt__fail(err, BVT_EINVAL, -1, "the snapshot was written with " field       \
                        " = %g; open it with the same value (now %g)", (double)(a), (double)(b))

static int load_meta(bvt_engine *e, bvt_rbuf *r, uint64_t file_len, uint64_t *seq,
                     bvt_error *err)
{
    const bvt_profile_cfg *c = &e->cfg;
    if (bvt__r_u32(r) != META_VERSION)
        return bvt__r_fail(r, "unknown META version"), BVT_ECORRUPT;
    *seq = bvt__r_u64(r);
    uint32_t top_k = bvt__r_u32(r);
    double half_life = bvt__r_f64(r), credit = bvt__r_f64(r);
    uint32_t max_events = bvt__r_u32(r), max_days = bvt__r_u32(r);
    int64_t horizon = bvt__r_i64(r), gap = bvt__r_i64(r);
    uint32_t cart = bvt__r_u32(r), attrs = bvt__r_u32(r);
    uint32_t n_weights = bvt__r_u32(r);
    if (r->bad || n_weights != BVT_EVENT_BUILTIN_COUNT)
        return bvt__r_fail(r, "bad META"), BVT_ECORRUPT;
    double weights[BVT_EVENT_BUILTIN_COUNT];
    for (uint32_t t = 0; t < n_weights; t++)
        weights[t] = bvt__r_f64(r);
    uint64_t accepted = bvt__r_u64(r), evicted = bvt__r_u64(r), users = bvt__r_u64(r);
    if (!bvt__r_end(r))
        return BVT_ECORRUPT;
    SAME("top_interests", top_k, c->top_k);
    SAME("interest_half_life_ms", half_life, c->half_life_ms);
    SAME("ancestor_credit", credit, c->ancestor_credit);
    SAME("history_events", max_events, c->hist.max_events);
    SAME("history_day_slots", max_days, c->hist.max_days);
    SAME("history_horizon_ms", horizon, c->hist.horizon_ms);
    SAME("session_gap_ms", gap, c->session_gap_ms);
    SAME("cart_items", cart, c->cart_max);
    SAME("max_attributes", attrs, c->attrs_max);
    for (uint32_t t = 0; t < n_weights; t++)
        SAME("a type weight", weights[t], bvt__event_types_weight(&e->types, t));
    e->store.shards[0].events_accepted = accepted;
    e->store.shards[0].evicted = evicted;
    /* A hint (END checks the count): each profile's 16 key bytes are
     * incompressible, so no file holds more than a sixteenth of its size. */
    if (users > file_len / 16)
        return bvt__r_fail(r, "more users than the file can hold"), BVT_ECORRUPT;
    int rc = bvt__store_presize(&e->store, users);
    return rc == BVT_EFULL ? bvt__fail(err, rc, -1, "the snapshot's %llu profiles exceed "
                                      "memory_budget", (unsigned long long)users)
                           : rc;
}

/* ---- the definition and state sections, in load order ---- */

typedef struct section {
    uint32_t id;
    const char *name;
    int (*save)(bvt_engine *, bvt_wbuf *);
    int (*load)(bvt_engine *, bvt_rbuf *);
} section;

/* NAMES has no save here: bvt__names_begin() at the cut, bvt__names_finish()
 * after the profiles (persist.h). */
static const section SECTIONS[] = {
    { BVT_SEC_NAMES, "names", NULL, bvt__names_load },
    { BVT_SEC_SEGMENTS, "segments", bvt__segments_save, bvt__segments_load },
    { BVT_SEC_OFFERS, "offers", bvt__offers_save, bvt__offers_load },
    { BVT_SEC_EXPERIMENTS, "experiments", bvt__experiments_save, bvt__experiments_load },
    { BVT_SEC_DERIVED, "derived state", bvt__derived_save, bvt__derived_load },
};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

/* ---- saving ---- */

/* Raw blocks waiting to be compressed: sections first, then profiles. */
typedef struct pending {
    uint32_t section;
    bvt_wbuf buf;
    int mapped; /* buf.p is a PROFILE_BLOCK_MAP mapping */
} pending;

typedef struct plan {
    pending *v;
    size_t len, cap;
    uint64_t users;
} plan;

static bvt_wbuf *plan_add(plan *p, uint32_t section)
{
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        pending *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->v = v;
        p->cap = cap;
    }
    pending *b = &p->v[p->len++];
    b->section = section;
    b->buf = (bvt_wbuf)BVT_WBUF_INIT;
    b->mapped = 0;
    return &b->buf;
}

/* A profile block's buffer: a mapping with transparent huge pages asked
 * for, since the copy is mostly page faults on fresh memory otherwise. */
static bvt_wbuf *plan_add_block(plan *p)
{
    void *m = mmap(NULL, PROFILE_BLOCK_MAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    bvt_wbuf *w = m != MAP_FAILED ? plan_add(p, BVT_SEC_PROFILES) : NULL;
    if (!w) {
        if (m != MAP_FAILED)
            munmap(m, PROFILE_BLOCK_MAP);
        return NULL;
    }
    madvise(m, PROFILE_BLOCK_MAP, MADV_HUGEPAGE);
    *w = bvt__wbuf_fixed(m, PROFILE_BLOCK_MAP);
    p->v[p->len - 1].mapped = 1;
    return w;
}

static void pending_free(pending *b)
{
    if (b->mapped && b->buf.p)
        munmap(b->buf.p, PROFILE_BLOCK_MAP);
    else
        bvt__wbuf_free(&b->buf);
    b->buf = (bvt_wbuf)BVT_WBUF_INIT;
    b->mapped = 0;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->len; i++)
        pending_free(&p->v[i]);
    free(p->v);
}

/* Overwrite the u32 at byte `at` of w (a count known only later). */
static void put_u32_at(bvt_wbuf *w, size_t at, uint32_t v)
{
    bvt_wbuf patch = bvt__wbuf_fixed(w->p + at, 4);
    bvt__w_u32(&patch, v);
}

/* Copy one shard's profiles into profile blocks (its lock held), marking
 * the names they use in m. */
static int copy_shard(const bvt_engine *e, const bvt_shard *sh, bvt_name_marks *m, plan *p)
{
    bvt_wbuf *w = NULL;
    uint32_t in_block = 0;
    size_t count_at = 0;
    for (uint32_t num = 0; num < sh->high_water; num++) {
        const bvt_record *rec = bvt__shard_record(sh, num);
        if (!bvt__record_live(rec))
            continue;
        if (!w || w->len >= PROFILE_BLOCK_BYTES) {
            if (w)
                put_u32_at(w, count_at, in_block);
            if (!(w = plan_add_block(p)))
                return BVT_ENOMEM;
            count_at = w->len;
            bvt__w_u32(w, 0);
            in_block = 0;
        }
        bvt__profile_save(rec, e->cfg.top_k, m, w);
        in_block++;
        p->users++;
        if (w->oom)
            return BVT_ENOMEM;
    }
    if (w)
        put_u32_at(w, count_at, in_block);
    return BVT_OK;
}

/* The copy of one shard a snapshot owes (store.h's bvt__shard_lock pays
 * it). */
struct bvt_snap_job {
    bvt_shard_debt debt; /* first: the shard points at it */
    const bvt_engine *e;
    bvt_name_marks *marks;
    plan p;
    int rc;
};

static void copy_owed(bvt_shard *sh)
{
    struct bvt_snap_job *job = (struct bvt_snap_job *)sh->snap;
    sh->snap = NULL;
    job->rc = copy_shard(job->e, sh, job->marks, &job->p);
}

/* Attribute strings 1..n nothing marked and no live rule pins, in *out
 * (*out_n of them; NULL when none); those a rule pins are marked kept. */
static int unused_strings(bvt_engine *e, uint32_t n, bvt_name_marks *m, uint32_t **out,
                          uint32_t *out_n)
{
    uint32_t *v = NULL, len = 0, cap = 0;
    for (uint32_t id = 1; id <= n; id++) {
        if (!bvt__interner_live(e->strings, id) || bvt__bits_has(m->strings, id))
            continue;
        if (bvt__interner_refs(e->strings, id) > 0) {
            bvt__bits_set(m->strings, id);
            continue;
        }
        if (len == cap) {
            cap = cap ? cap * 2 : 64;
            uint32_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                return BVT_ENOMEM;
            }
            v = nv;
        }
        v[len++] = id;
    }
    *out = v;
    *out_n = len;
    return BVT_OK;
}

/* After the copies (ok: they all succeeded), with every shard lock held
 * once more, so no profile changes meanwhile and no event record is being
 * written (category.h): flag the categories nothing keeps erased, forget
 * the strings nothing keeps (strings_lock orders that with rules pinning
 * one), and end the marking by changes (e->snap_marks). */
static int settle(bvt_engine *e, int ok, const bvt_names_cut *names, bvt_name_marks *m)
{
    uint32_t cats_unused = 0, *strings = NULL, n_strings = 0;
    int rc = BVT_OK;
    if (ok) {
        cats_unused = bvt__categories_unused(e->cats, names->cats, m->cats);
        rc = unused_strings(e, names->strings, m, &strings, &n_strings);
    }
    bvt__store_lock_all(&e->store);
    if (ok && rc == BVT_OK) {
        if (cats_unused)
            bvt__categories_erase(e->cats, names->cats, m->cats);
        pthread_mutex_lock(&e->strings_lock);
        for (uint32_t i = 0; i < n_strings; i++) {
            uint32_t id = strings[i];
            if (bvt__bits_has(m->strings, id))
                continue; /* stored since the cut */
            if (bvt__interner_refs(e->strings, id) > 0)
                bvt__bits_set(m->strings, id); /* a rule pinned it meanwhile */
            else
                bvt__interner_forget(e->strings, id);
        }
        pthread_mutex_unlock(&e->strings_lock);
    }
    e->snap_marks = NULL;
    bvt__store_unlock_all(&e->store);
    free(strings);
    return rc;
}

/* The cut, under every shard lock: the journal switches files, META and
 * the sections are copied into p (NAMES begun, last), and every shard is
 * marked as owing its copy into jobs[] (the names it uses marked in m). */
static int copy_at_cut(bvt_engine *e, bvt_snapshot_cut_fn cut, void *ud, plan *p,
                       struct bvt_snap_job *jobs, bvt_name_marks *m, bvt_names_cut *names,
                       bvt_error *err)
{
    bvt_store *s = &e->store;
    /* No shard is marked: saves run one at a time (save_lock). */
    bvt__store_lock_all(s);
    e->snap_marks = m; /* until settle() */
    bvt__categories_cut(e->cats); /* before the journal switches: category.h */
    uint64_t seq = 0;
    int rc = cut ? cut(e, ud, &seq, err) : BVT_OK;
    if (rc == BVT_OK && !plan_add(p, BVT_SEC_META))
        rc = BVT_ENOMEM;
    for (size_t i = 0; rc == BVT_OK && i < N_SECTIONS; i++)
        if (!plan_add(p, SECTIONS[i].id))
            rc = BVT_ENOMEM;
    if (rc == BVT_OK)
        save_meta(e, seq, &p->v[0].buf);
    /* Definitions may change meanwhile (they hold no shard lock), and the
     * registries of names only grow: saved last to first, each section
     * holds every name, segment or offer the ones loaded after it use. */
    for (size_t i = N_SECTIONS; rc == BVT_OK && i-- > 0;) {
        bvt_wbuf *w = &p->v[1 + i].buf;
        rc = SECTIONS[i].save ? SECTIONS[i].save(e, w) : bvt__names_begin(e, names);
        if (rc == BVT_OK && w->oom)
            rc = BVT_ENOMEM;
    }
    for (uint32_t i = 0; i < s->n_shards; i++) {
        jobs[i].debt.pay = copy_owed;
        jobs[i].e = e;
        jobs[i].marks = m;
        if (rc == BVT_OK)
            s->shards[i].snap = &jobs[i].debt;
    }
    bvt__store_unlock_all(s);
    return rc;
}

/* Copy everything under the protocol above into p (META and the sections)
 * and jobs[] (each shard's profiles), then write NAMES with what the
 * copies marked in m; every lock is released on return.  *tombstones: how
 * many NAMES holds. */
static int copy_engine(bvt_engine *e, bvt_snapshot_cut_fn cut, void *ud, plan *p,
                       struct bvt_snap_job *jobs, bvt_name_marks *m, uint32_t *tombstones,
                       bvt_error *err)
{
    bvt_store *s = &e->store;
    bvt_names_cut names;
    int rc = copy_at_cut(e, cut, ud, p, jobs, m, &names, err);
    int named = rc == BVT_OK; /* NAMES was begun (the last section) */
    /* Whoever locks a marked shard first copies it: this pass, or a call
     * that wants to change it. */
    for (uint32_t i = 0; rc == BVT_OK && i < s->n_shards; i++) {
        bvt__shard_lock(&s->shards[i]);
        pthread_mutex_unlock(&s->shards[i].lock);
    }
    for (uint32_t i = 0; rc == BVT_OK && i < s->n_shards; i++)
        rc = jobs[i].rc;
    int settled = settle(e, rc == BVT_OK, &names, m);
    if (rc == BVT_OK)
        rc = settled;
    if (rc == BVT_OK) {
        rc = bvt__names_finish(e, &names, m, &p->v[1].buf);
        *tombstones = names.tombstones;
    } else if (named) {
        bvt__names_cut_free(&names);
    }
    if (rc == BVT_ENOMEM)
        bvt__fail(err, rc, -1, "out of memory copying the engine for a snapshot");
    return rc;
}

int bvt__snapshot_write(bvt_engine *e, const char *path, bvt_snapshot_cut_fn cut, void *ud,
                       bvt_error *err)
{
    plan p = { 0 };
    uint32_t n_shards = e->store.n_shards, tombstones = 0;
    struct bvt_snap_job *jobs = calloc(n_shards, sizeof *jobs);
    bvt_name_marks *marks = calloc(1, sizeof *marks);
    if (!jobs || !marks) {
        free(jobs);
        free(marks);
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    }
    pthread_mutex_lock(&e->save_lock);
    int rc = copy_engine(e, cut, ud, &p, jobs, marks, &tombstones, err);
    free(marks);
    bvt_snapw w;
    if (rc == BVT_OK) /* format 1 when it has no tombstone: older libraries read it */
        rc = bvt__snapw_open(&w, path, tombstones ? BVT_SNAP_VERSION_TOMBSTONES : 1,
                            bvt__secret_check(e), err);
    if (rc == BVT_OK) {
        uint64_t blocks = 0, users = 0;
        for (uint32_t s = 0; s <= n_shards; s++) { /* the sections, then shard by shard */
            plan *q = s == 0 ? &p : &jobs[s - 1].p;
            for (size_t i = 0; rc == BVT_OK && i < q->len; i++) {
                rc = bvt__snapw_block(&w, q->v[i].section, q->v[i].buf.p, q->v[i].buf.len, err);
                pending_free(&q->v[i]); /* hand memory back as we go */
            }
            blocks += q->len;
            users += q->users;
        }
        bvt_wbuf end = BVT_WBUF_INIT;
        bvt__w_u64(&end, blocks);
        bvt__w_u64(&end, users);
        if (rc == BVT_OK)
            rc = end.oom ? bvt__fail(err, BVT_ENOMEM, -1, "out of memory")
                         : bvt__snapw_block(&w, BVT_SEC_END, end.p, end.len, err);
        bvt__wbuf_free(&end);
        if (rc == BVT_OK)
            rc = bvt__snapw_commit(&w, err);
        else
            bvt__snapw_abort(&w);
    }
    pthread_mutex_unlock(&e->save_lock);
    plan_free(&p);
    for (uint32_t s = 0; s < n_shards; s++)
        plan_free(&jobs[s].p);
    free(jobs);
    return rc;
}

/* ---- loading ---- */

static int corrupt(bvt_error *err, uint64_t at, const char *what, const bvt_rbuf *r)
{
    return bvt__fail(err, BVT_ECORRUPT, (int64_t)at, "%s block at byte %llu: %s (byte %zu of its data)",
                    what, (unsigned long long)at, r->why ? r->why : "bad data", r->bad_pos);
}

static int load_profiles(bvt_engine *e, bvt_rbuf *r, uint64_t at, uint64_t *users, bvt_error *err)
{
    uint32_t n = bvt__r_count(r, 16);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        int rc = bvt__profile_load(e, r, e->cfg.top_k);
        if (rc == BVT_EFULL)
            return bvt__fail(err, rc, (int64_t)at, "the snapshot holds more profiles than "
                            "max_users allows");
        if (rc == BVT_ENOMEM)
            return bvt__fail(err, rc, -1, "out of memory loading profiles");
        if (rc != BVT_OK)
            break;
        (*users)++;
    }
    return bvt__r_end(r) ? BVT_OK : corrupt(err, at, "profile", r);
}

static int read_blocks(bvt_engine *e, bvt_snapr *sr, uint64_t *out_seq, bvt_error *err)
{
    uint32_t sec;
    const void *raw;
    size_t len;
    uint64_t at, blocks = 0, users = 0;
    size_t next = 0; /* index into the expected order: META, SECTIONS..., then profiles */
    for (;;) {
        int rc = bvt__snapr_next(sr, &sec, &raw, &len, &at, err);
        if (rc != BVT_OK)
            return rc;
        bvt_rbuf r;
        bvt__rbuf_init(&r, raw, len);
        if (sec == BVT_SEC_END) {
            uint64_t want_blocks = bvt__r_u64(&r), want_users = bvt__r_u64(&r);
            if (!bvt__r_end(&r))
                return corrupt(err, at, "END", &r);
            if (next <= N_SECTIONS || want_blocks != blocks || want_users != users)
                return bvt__fail(err, BVT_ECORRUPT, (int64_t)at, "the END block at byte %llu "
                                "does not match the blocks before it", (unsigned long long)at);
            if (sr->pos != sr->len)
                return bvt__fail(err, BVT_ECORRUPT, (int64_t)sr->pos, "bytes after the END block");
            return BVT_OK;
        }
        blocks++;
        if (next == 0) {
            if (sec != BVT_SEC_META)
                return bvt__fail(err, BVT_ECORRUPT, (int64_t)at, "the first block is not META");
            rc = load_meta(e, &r, sr->len, out_seq, err);
            if (rc == BVT_ECORRUPT)
                return corrupt(err, at, "META", &r);
        } else if (next <= N_SECTIONS) {
            const section *s = &SECTIONS[next - 1];
            if (sec != s->id)
                return bvt__fail(err, BVT_ECORRUPT, (int64_t)at, "block at byte %llu is section "
                                "%u where %s was expected", (unsigned long long)at, sec, s->name);
            rc = s->load(e, &r);
            if (rc == BVT_OK && !bvt__r_end(&r))
                rc = BVT_ECORRUPT;
            if (rc == BVT_ECORRUPT)
                return corrupt(err, at, s->name, &r);
            if (rc != BVT_OK)
                return bvt__fail(err, rc, -1, "loading %s: %s", s->name, bvt_strerror(rc));
        } else {
            if (sec != BVT_SEC_PROFILES)
                return bvt__fail(err, BVT_ECORRUPT, (int64_t)at, "block at byte %llu is section "
                                "%u where profiles were expected", (unsigned long long)at, sec);
            rc = load_profiles(e, &r, at, &users, err);
        }
        if (rc != BVT_OK)
            return rc;
        if (next <= N_SECTIONS)
            next++;
    }
}

int bvt__snapshot_read(bvt_engine *e, const void *data, size_t len, uint64_t *out_seq,
                      bvt_error *err)
{
    bvt_snapr sr;
    int rc = bvt__snapr_open(&sr, data, len, bvt__secret_check(e), err);
    if (rc != BVT_OK) {
        bvt__snapr_close(&sr);
        return rc;
    }
    uint32_t policy = e->store.full_policy;
    e->store.full_policy = BVT_FULL_REJECT; /* loading never evicts what it loaded */
    rc = read_blocks(e, &sr, out_seq, err);
    e->store.full_policy = policy;
    bvt__snapr_close(&sr);
    return rc;
}
