/* category.c — the category tree on top of the interner.
 *
 * Each path is interned with its parent's id as payload, ancestors first,
 * so "a/b/c" owns ids for "a", "a/b" and "a/b/c".  Only valid paths are ever
 * interned, which lets a lookup skip validation.  A category-level mutex
 * makes interning a path and its ancestors all-or-nothing with respect to
 * the id limit. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "category.h"
#include "error.h"
#include "interner.h"
#include "utf8.h"

/* Each id's ancestors by depth (anc[k] at depth k + 1, itself included), so
 * "is a within b" is one comparison.  Written before the id is published and
 * never changed; chunks never move. */
#define LINEAGE_CHUNK 1024u
typedef struct lineage {
    uint16_t anc[BVT_CATEGORY_MAX_DEPTH];
    uint8_t depth;
} lineage;

struct bvt_categories {
    bvt_interner *names;
    pthread_mutex_t lock; /* serialises interning of new paths */
    bvt_categories_hooks hooks;
    _Atomic(lineage *) lineage[(BVT_CATEGORY_MAX_ID + LINEAGE_CHUNK - 1) / LINEAGE_CHUNK];
};

/* Lineage of a published id (1..count). */
static inline const lineage *lineage_of(const bvt_categories *c, uint32_t id)
{
    const lineage *chunk = atomic_load_explicit(&c->lineage[(id - 1) / LINEAGE_CHUNK],
                                                memory_order_acquire);
    return &chunk[(id - 1) % LINEAGE_CHUNK];
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
    if (parent)
        *l = *lineage_of(c, parent);
    l->anc[l->depth++] = (uint16_t)id;
    return BVT_OK;
}

int bvt_categories_new(bvt_categories **out)
{
    if (!out)
        return BVT_EINVAL;
    *out = NULL;
    bvt_categories *c = calloc(1, sizeof *c);
    if (!c)
        return BVT_ENOMEM;
    int rc = bvt_interner_new(&c->names, BVT_CATEGORY_MAX_ID);
    if (rc != BVT_OK) {
        free(c);
        return rc;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        bvt_interner_free(c->names);
        free(c);
        return BVT_ENOMEM;
    }
    *out = c;
    return BVT_OK;
}

void bvt_categories_free(bvt_categories *c)
{
    if (!c)
        return;
    bvt_interner_free(c->names);
    pthread_mutex_destroy(&c->lock);
    for (size_t k = 0; k < sizeof c->lineage / sizeof c->lineage[0]; k++)
        free(atomic_load_explicit(&c->lineage[k], memory_order_relaxed));
    free(c);
}

void bvt_categories_set_hooks(bvt_categories *c, const bvt_categories_hooks *h)
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
        return bvt_fail(err, BVT_EINVAL, -1, "NULL category path");
    if (len == 0)
        return bvt_fail(err, BVT_EINVAL, 0, "empty category path");
    if (len > BVT_CATEGORY_MAX_LEN)
        return bvt_fail(err, BVT_EINVAL, BVT_CATEGORY_MAX_LEN,
                        "category path longer than %u bytes", BVT_CATEGORY_MAX_LEN);
    int rc = bvt_utf8_require(path, len, "category path", err);
    if (rc != BVT_OK)
        return rc;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/') {
            if ((unsigned char)path[i] < 0x20)
                return bvt_fail(err, BVT_EINVAL, (int64_t)i,
                                "control byte 0x%02x in category path at offset %zu",
                                (unsigned)(unsigned char)path[i], i);
            continue;
        }
        /* A segment ends at i: a '/' or the end of the path. */
        if (i == start) {
            /* Empty: point at the offending '/' (the trailing one at the end). */
            size_t at = i < len ? i : len - 1;
            return bvt_fail(err, BVT_EINVAL, (int64_t)at,
                            "empty segment in category path at offset %zu", at);
        }
        if (depth == (int)BVT_CATEGORY_MAX_DEPTH)
            return bvt_fail(err, BVT_EINVAL, (int64_t)start - 1,
                            "category path deeper than %u levels", BVT_CATEGORY_MAX_DEPTH);
        ends[depth++] = i;
        start = i + 1;
    }
    return depth;
}

int bvt_categories_check(const char *path, size_t len, bvt_error *err)
{
    size_t ends[BVT_CATEGORY_MAX_DEPTH];
    int depth = validate(path, len, ends, err);
    return depth < 0 ? depth : BVT_OK;
}

int bvt_categories_intern(bvt_categories *c, const char *path, size_t len,
                          uint32_t *out_id, bvt_error *err)
{
    if (!c || !out_id)
        return bvt_fail(err, BVT_EINVAL, -1, "NULL argument");
    /* Known paths are valid by construction: the common case stays lock-free. */
    uint32_t id = path ? bvt_interner_find(c->names, path, len) : 0;
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
            return bvt_fail(err, hrc, -1, "cannot intern category: %s", bvt_strerror(hrc));
    }

    pthread_mutex_lock(&c->lock);
    /* A known prefix has all its ancestors, so count missing levels from the
     * deepest up and check the limit before interning any of them. */
    int known = depth;
    uint32_t parent = 0;
    while (known > 0 && !(parent = bvt_interner_find(c->names, path, ends[known - 1])))
        known--;
    uint32_t missing = (uint32_t)(depth - known);
    int rc = BVT_OK;
    if (missing > BVT_CATEGORY_MAX_ID - bvt_interner_count(c->names)) {
        rc = bvt_fail(err, BVT_ELIMIT, -1, "category limit (%u) reached", BVT_CATEGORY_MAX_ID);
    } else {
        id = parent;
        for (int d = known; d < depth && rc == BVT_OK; d++) {
            rc = lineage_prepare(c, bvt_interner_count(c->names) + 1, parent);
            if (rc == BVT_OK)
                rc = bvt_interner_intern(c->names, path, ends[d], parent, &id, NULL);
            if (rc == BVT_OK && c->hooks.created)
                rc = c->hooks.created(c->hooks.ud, id, path, ends[d]);
            parent = id;
        }
        if (rc != BVT_OK)
            rc = bvt_fail(err, rc, -1, "cannot intern category: %s", bvt_strerror(rc));
    }
    pthread_mutex_unlock(&c->lock);
    if (rc == BVT_OK)
        *out_id = id;
    return rc;
}

uint32_t bvt_categories_find(const bvt_categories *c, const char *path, size_t len)
{
    return c ? bvt_interner_find(c->names, path, len) : 0;
}

const char *bvt_categories_name(const bvt_categories *c, uint32_t id)
{
    return c ? bvt_interner_str(c->names, id) : NULL;
}

uint32_t bvt_categories_parent(const bvt_categories *c, uint32_t id)
{
    return c ? bvt_interner_payload(c->names, id) : 0;
}

int bvt_categories_within(const bvt_categories *c, uint32_t id, uint32_t ancestor)
{
    if (ancestor == 0 || id == ancestor)
        return 1;
    if (id == 0)
        return 0; /* other ids come from records and rules: published ones */
    const lineage *a = lineage_of(c, ancestor), *l = lineage_of(c, id);
    return l->depth > a->depth && l->anc[a->depth - 1] == ancestor;
}

int bvt_categories_valid(const bvt_categories *c, uint32_t id)
{
    return id != 0 && id <= bvt_categories_count(c);
}

uint32_t bvt_categories_count(const bvt_categories *c)
{
    return c ? bvt_interner_count(c->names) : 0;
}

size_t bvt_categories_bytes(const bvt_categories *c)
{
    return c ? sizeof *c + bvt_interner_bytes(c->names) : 0;
}
