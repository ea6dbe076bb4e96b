/* category.c — the category tree on top of the interner.
 *
 * Each path is interned with its parent's id as payload, ancestors first,
 * so "a/b/c" owns ids for "a", "a/b" and "a/b/c".  Only valid paths are ever
 * interned, which lets a lookup skip validation.  A category-level mutex
 * makes interning a path and its ancestors all-or-nothing with respect to
 * the id limit.
 *
 * Erasure (docs/privacy.md).  A snapshot writes a tombstone in place of a
 * category that nothing it holds uses, no live definition names (pins,
 * counted) and no aggregate keeps (bvt__categories_erase).  The path stays
 * in memory, flagged ERASED, and the next journal record to name the id
 * is preceded by the id's CATEGORY record (and its erased ancestors'),
 * from which replay gives the tombstone its path back under the same id.
 * Each id also keeps the epoch (one per snapshot cut) of the last record
 * that named it (its own CATEGORY record first), so a snapshot keeps what
 * records after its cut name.  Locks order both with
 * the decision, which holds every shard lock and the category lock:
 * events are journaled under their shard's lock, everything else that
 * names an id here (creating a child, pinning) under the category lock.
 * The same path also keeps an event record from overtaking the CATEGORY
 * record of an id another thread has just created. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bits.h"
#include "category.h"
#include "error.h"
#include "interner.h"
#include "utf8.h"

/* Interner flags (the interner's count of each id is its pins). */
#define KEPT 1u    /* an aggregate names it for the engine's life */
#define ERASED 2u  /* the last snapshot holds a tombstone */
#define SETTLED 4u /* bvt__categories_named() saw its CATEGORY record written */

/* Each id's ancestors by depth (anc[k] at depth k + 1, itself included), so
 * "is a within b" is one comparison.  Written before the id is published and
 * never changed (but when replay restores an erased id); chunks never move. */
#define LINEAGE_CHUNK 1024u
typedef struct lineage {
    uint16_t anc[BVT_CATEGORY_MAX_DEPTH];
    uint8_t depth;
    _Atomic uint32_t used; /* epoch of the last journal record naming the id */
} lineage;

struct bvt_categories {
    bvt_interner *names;
    pthread_mutex_t lock; /* serialises interning of new paths, pins, erasure */
    bvt_categories_hooks hooks;
    _Atomic uint32_t epoch; /* snapshot cuts so far */
    _Atomic(lineage *) lineage[(BVT_CATEGORY_MAX_ID + LINEAGE_CHUNK - 1) / LINEAGE_CHUNK];
};

/* Lineage of a published id (1..count). */
static inline lineage *lineage_of(const bvt_categories *c, uint32_t id)
{
    lineage *chunk = atomic_load_explicit(&c->lineage[(id - 1) / LINEAGE_CHUNK],
                                          memory_order_acquire);
    return &chunk[(id - 1) % LINEAGE_CHUNK];
}

static inline uint32_t flags_of(const bvt_categories *c, uint32_t id)
{
    return bvt__interner_flags(c->names, id);
}

static inline uint32_t epoch_of(const bvt_categories *c)
{
    return atomic_load_explicit(&c->epoch, memory_order_relaxed);
}

/* Write the lineage of the id about to be handed out (count + 1), child of
 * parent (0 for top level), before it is published. */
static int lineage_prepare(bvt_categories *c, uint32_t id, uint32_t parent)
{
    size_t k = (id - 1) / LINEAGE_CHUNK;
    lineage *chunk = atomic_load_explicit(&c->lineage[k], memory_order_relaxed);
    if (!chunk) {
        chunk = calloc(LINEAGE_CHUNK, sizeof *chunk);
        if (!chunk)
            return BVT_ENOMEM;
        atomic_store_explicit(&c->lineage[k], chunk, memory_order_release);
    }
    lineage *l = &chunk[(id - 1) % LINEAGE_CHUNK];
    const lineage *p = parent ? lineage_of(c, parent) : NULL;
    for (uint8_t d = 0; p && d < p->depth; d++)
        l->anc[d] = p->anc[d];
    l->depth = p ? p->depth : 0;
    l->anc[l->depth++] = (uint16_t)id;
    /* Its own CATEGORY record names it: one written after a snapshot's cut
     * began (so perhaps after the journal switched files) keeps it there. */
    atomic_store_explicit(&l->used, atomic_load_explicit(&c->epoch, memory_order_relaxed),
                          memory_order_relaxed);
    return BVT_OK;
}

int bvt__categories_new(bvt_categories **out)
{
    if (!out)
        return BVT_EINVAL;
    *out = NULL;
    bvt_categories *c = calloc(1, sizeof *c);
    if (!c)
        return BVT_ENOMEM;
    int rc = bvt__interner_new(&c->names, BVT_CATEGORY_MAX_ID);
    if (rc != BVT_OK) {
        free(c);
        return rc;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        bvt__interner_free(c->names);
        free(c);
        return BVT_ENOMEM;
    }
    *out = c;
    return BVT_OK;
}

void bvt__categories_free(bvt_categories *c)
{
    if (!c)
        return;
    bvt__interner_free(c->names);
    pthread_mutex_destroy(&c->lock);
    for (size_t k = 0; k < sizeof c->lineage / sizeof c->lineage[0]; k++)
        free(atomic_load_explicit(&c->lineage[k], memory_order_relaxed));
    free(c);
}

void bvt__categories_set_hooks(bvt_categories *c, const bvt_categories_hooks *h)
{
    if (c)
        c->hooks = *h;
}

/* Check path and record where each segment ends (ends[i] = length of the
 * prefix made of the first i + 1 segments).  Returns the segment count or a
 * negative status with err filled. */
static int validate(const char *path, size_t len, size_t ends[BVT_CATEGORY_MAX_DEPTH],
                    bvt_error *err)
{
    if (!path)
        return bvt__fail(err, BVT_EINVAL, -1, "NULL category path");
    if (len == 0)
        return bvt__fail(err, BVT_EINVAL, 0, "empty category path");
    if (len > BVT_CATEGORY_MAX_LEN)
        return bvt__fail(err, BVT_EINVAL, BVT_CATEGORY_MAX_LEN,
                        "category path longer than %u bytes", BVT_CATEGORY_MAX_LEN);
    int rc = bvt__utf8_require(path, len, "category path", err);
    if (rc != BVT_OK)
        return rc;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/') {
            if ((unsigned char)path[i] < 0x20)
                return bvt__fail(err, BVT_EINVAL, (int64_t)i,
                                "control byte 0x%02x in category path at offset %zu",
                                (unsigned)(unsigned char)path[i], i);
            continue;
        }
        /* A segment ends at i: a '/' or the end of the path. */
        if (i == start) {
            /* Empty: point at the offending '/' (the trailing one at the end). */
            size_t at = i < len ? i : len - 1;
            return bvt__fail(err, BVT_EINVAL, (int64_t)at,
                            "empty segment in category path at offset %zu", at);
        }
        if (depth == (int)BVT_CATEGORY_MAX_DEPTH)
            return bvt__fail(err, BVT_EINVAL, (int64_t)start - 1,
                            "category path deeper than %u levels", BVT_CATEGORY_MAX_DEPTH);
        ends[depth++] = i;
        start = i + 1;
    }
    return depth;
}

/* Under the lock: journal the CATEGORY record of id (the hook). */
static int log_id(bvt_categories *c, uint32_t id)
{
    if (!c->hooks.logged)
        return BVT_OK;
    return c->hooks.logged(c->hooks.ud, id, bvt__interner_str(c->names, id),
                           bvt__interner_len(c->names, id));
}

/* Under the lock: a record written from now on names id.  Note it in this
 * epoch (its ancestors are kept with it) and give each erased level its
 * CATEGORY record first, ancestors first, so replay can restore them. */
static int named_locked(bvt_categories *c, uint32_t id)
{
    lineage *l = lineage_of(c, id);
    atomic_store_explicit(&l->used, epoch_of(c), memory_order_relaxed);
    int rc = BVT_OK;
    for (uint8_t d = 0; d < l->depth && rc == BVT_OK; d++) {
        uint32_t a = l->anc[d];
        if (!(flags_of(c, a) & ERASED))
            continue;
        rc = log_id(c, a);
        if (rc == BVT_OK)
            bvt__interner_flags_clear(c->names, a, ERASED);
    }
    return rc;
}

int bvt__categories_check(const char *path, size_t len, bvt_error *err)
{
    size_t ends[BVT_CATEGORY_MAX_DEPTH];
    int depth = validate(path, len, ends, err);
    return depth < 0 ? depth : BVT_OK;
}

int bvt__categories_intern(bvt_categories *c, const char *path, size_t len,
                          uint32_t *out_id, bvt_error *err)
{
    if (!c || !out_id)
        return bvt__fail(err, BVT_EINVAL, -1, "NULL argument");
    /* Known paths are valid by construction: the common case stays lock-free. */
    uint32_t id = path ? bvt__interner_find(c->names, path, len) : 0;
    if (id) {
        *out_id = id;
        return BVT_OK;
    }
    size_t ends[BVT_CATEGORY_MAX_DEPTH];
    int depth = validate(path, len, ends, err);
    if (depth < 0)
        return depth;
    if (c->hooks.check) {
        int hrc = c->hooks.check(c->hooks.ud);
        if (hrc != BVT_OK)
            return bvt__fail(err, hrc, -1, "cannot intern category: %s", bvt_strerror(hrc));
    }

    pthread_mutex_lock(&c->lock);
    /* A known prefix has all its ancestors, so count missing levels from the
     * deepest up and check the limit before interning any of them. */
    int known = depth;
    uint32_t parent = 0;
    while (known > 0 && !(parent = bvt__interner_find(c->names, path, ends[known - 1])))
        known--;
    uint32_t missing = (uint32_t)(depth - known);
    int rc = BVT_OK;
    if (missing > BVT_CATEGORY_MAX_ID - bvt__interner_count(c->names)) {
        rc = bvt__fail(err, BVT_ELIMIT, -1, "category limit (%u) reached", BVT_CATEGORY_MAX_ID);
    } else {
        id = parent;
        if (parent) /* the new levels' records name it */
            rc = named_locked(c, parent);
        for (int d = known; d < depth && rc == BVT_OK; d++) {
            rc = lineage_prepare(c, bvt__interner_count(c->names) + 1, parent);
            if (rc == BVT_OK)
                rc = bvt__interner_intern(c->names, path, ends[d], parent, &id, NULL);
            if (rc == BVT_OK)
                rc = log_id(c, id);
            parent = id;
        }
        if (rc != BVT_OK)
            rc = bvt__fail(err, rc, -1, "cannot intern category: %s", bvt_strerror(rc));
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == BVT_OK)
        *out_id = id;
    return rc;
}

uint32_t bvt__categories_find(const bvt_categories *c, const char *path, size_t len)
{
    return c ? bvt__interner_find(c->names, path, len) : 0;
}

const char *bvt__categories_name(const bvt_categories *c, uint32_t id)
{
    return c ? bvt__interner_str(c->names, id) : NULL;
}

uint32_t bvt__categories_parent(const bvt_categories *c, uint32_t id)
{
    return c ? bvt__interner_payload(c->names, id) : 0;
}

int bvt__categories_within(const bvt_categories *c, uint32_t id, uint32_t ancestor)
{
    if (ancestor == 0 || id == ancestor)
        return 1;
    if (id == 0)
        return 0; /* other ids come from records and rules: published ones */
    const lineage *a = lineage_of(c, ancestor), *l = lineage_of(c, id);
    return l->depth > a->depth && l->anc[a->depth - 1] == ancestor;
}

int bvt__categories_valid(const bvt_categories *c, uint32_t id)
{
    return c && bvt__interner_str(c->names, id) != NULL; /* not 0, unknown or erased */
}

/* ---- pins and erasure ---- */

int bvt__categories_pin(bvt_categories *c, uint32_t id)
{
    if (!bvt__categories_valid(c, id))
        return BVT_EINVAL;
    pthread_mutex_lock(&c->lock);
    int rc = named_locked(c, id);
    /* After the CATEGORY records, under the lock the erasure decides under:
     * whoever sees the pin sees them journaled, and a pin is never missed
     * by a decision that would erase the id. */
    if (rc == BVT_OK)
        bvt__interner_ref(c->names, id);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void bvt__categories_unpin(bvt_categories *c, uint32_t id)
{
    if (c && id)
        bvt__interner_unref(c->names, id);
}

int bvt__categories_keep(bvt_categories *c, uint32_t id)
{
    if (!bvt__categories_valid(c, id))
        return BVT_EINVAL;
    if (flags_of(c, id) & KEPT) /* then never erased again */
        return BVT_OK;
    pthread_mutex_lock(&c->lock);
    int rc = named_locked(c, id);
    bvt__interner_flags_set(c->names, id, KEPT);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int bvt__categories_intern_pinned(bvt_categories *c, const char *path, size_t len,
                                 uint32_t *out_id, bvt_error *err)
{
    int rc = bvt__categories_intern(c, path, len, out_id, err);
    if (rc == BVT_OK && (rc = bvt__categories_pin(c, *out_id)) != BVT_OK)
        bvt__fail(err, rc, -1, "cannot keep category: %s", bvt_strerror(rc));
    return rc;
}

int bvt__categories_named(bvt_categories *c, uint32_t id)
{
    if (id == 0)
        return BVT_OK;
    lineage *l = lineage_of(c, id);
    uint32_t epoch = epoch_of(c);
    if (atomic_load_explicit(&l->used, memory_order_relaxed) != epoch)
        atomic_store_explicit(&l->used, epoch, memory_order_relaxed);
    /* Not erased (nor any ancestor: they are kept with id), and seen here
     * before, so its CATEGORY record is written: nothing to do. */
    if ((flags_of(c, id) & (ERASED | SETTLED)) == SETTLED)
        return BVT_OK;
    /* The first time, the lock also waits for the thread that created the
     * id to journal it (it publishes the id before, under this lock). */
    pthread_mutex_lock(&c->lock);
    int rc = named_locked(c, id);
    if (rc == BVT_OK)
        bvt__interner_flags_set(c->names, id, SETTLED);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void bvt__categories_cut(bvt_categories *c)
{
    pthread_mutex_lock(&c->lock);
    atomic_store_explicit(&c->epoch, epoch_of(c) + 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->lock);
}

/* Kept by a snapshot whatever its marks say: pinned by a live definition,
 * kept by an aggregate, or named since its cut. */
static int in_use(const bvt_categories *c, uint32_t id, uint32_t epoch)
{
    return bvt__interner_refs(c->names, id) > 0 || (flags_of(c, id) & KEPT) ||
           atomic_load_explicit(&lineage_of(c, id)->used, memory_order_relaxed) == epoch;
}

/* Descending ids visit every child before its parent (parents come first). */
uint32_t bvt__categories_unused(const bvt_categories *c, uint32_t n, _Atomic uint64_t *kept)
{
    uint32_t epoch = epoch_of(c), unused = 0;
    for (uint32_t id = n; id > 0; id--) {
        if (!bvt__categories_valid(c, id))
            continue;
        if (bvt__bits_has(kept, id) || in_use(c, id, epoch)) {
            bvt__bits_set(kept, id);
            uint32_t parent = bvt__categories_parent(c, id);
            if (parent)
                bvt__bits_set(kept, parent);
        } else {
            unused++;
        }
    }
    return unused;
}

void bvt__categories_erase(bvt_categories *c, uint32_t n, _Atomic uint64_t *kept)
{
    pthread_mutex_lock(&c->lock);
    uint32_t epoch = epoch_of(c);
    for (uint32_t id = n; id > 0; id--) {
        if (!bvt__categories_valid(c, id) || bvt__bits_has(kept, id))
            continue;
        if (in_use(c, id, epoch)) { /* named since bvt__categories_unused looked */
            const lineage *l = lineage_of(c, id);
            for (uint8_t d = 0; d < l->depth; d++)
                bvt__bits_set(kept, l->anc[d]);
        } else {
            bvt__interner_flags_set(c->names, id, ERASED);
        }
    }
    pthread_mutex_unlock(&c->lock);
}

int bvt__categories_add_erased(bvt_categories *c, uint32_t *out_id)
{
    if (!c || !out_id)
        return BVT_EINVAL;
    pthread_mutex_lock(&c->lock);
    uint32_t id = bvt__interner_count(c->names) + 1;
    int rc = id > BVT_CATEGORY_MAX_ID ? BVT_ELIMIT : lineage_prepare(c, id, 0);
    if (rc == BVT_OK)
        rc = bvt__interner_add_erased(c->names, out_id);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int bvt__categories_restore(bvt_categories *c, uint32_t id, const char *path, size_t len,
                           bvt_error *err)
{
    size_t ends[BVT_CATEGORY_MAX_DEPTH];
    int depth = validate(path, len, ends, err);
    if (depth < 0)
        return depth;
    if (!c || id == 0 || id > bvt__categories_count(c) || bvt__categories_valid(c, id) ||
        bvt__categories_find(c, path, len))
        return bvt__fail(err, BVT_EINVAL, -1, "category %u is not erased, or the path is known",
                        id);
    uint32_t parent = depth > 1 ? bvt__categories_find(c, path, ends[depth - 2]) : 0;
    if (depth > 1 && (!parent || parent >= id))
        return bvt__fail(err, BVT_EINVAL, -1, "the parent of category %u is missing", id);
    int rc = lineage_prepare(c, id, parent);
    if (rc == BVT_OK)
        rc = bvt__interner_restore(c->names, id, path, len, parent);
    return rc == BVT_OK ? rc : bvt__fail(err, rc, -1, "cannot restore category %u", id);
}

uint32_t bvt__categories_count(const bvt_categories *c)
{
    return c ? bvt__interner_count(c->names) : 0;
}

size_t bvt__categories_bytes(const bvt_categories *c)
{
    return c ? sizeof *c + bvt__interner_bytes(c->names) : 0;
}
