/* category.h — the category tree: '/'-separated paths interned with their
 * ancestors.  Ids 1..65535; 0 means "no category".  Lookups are lock-free. */
#ifndef BVT_CATEGORY_H
#define BVT_CATEGORY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

#define BVT_CATEGORY_MAX_ID 65535u
#define BVT_CATEGORY_MAX_LEN 255u
#define BVT_CATEGORY_MAX_DEPTH 16u

typedef struct bvt_categories bvt_categories;

int bvt__categories_new(bvt_categories **out);
void bvt__categories_free(bvt_categories *c);

/* The journal's view of paths (registry_persist.c sets them once, at
 * engine creation, before any other thread sees the registry).  `check`
 * runs before a path with missing levels is interned: a status other than
 * BVT_OK refuses the call and nothing is created.  `logged` writes an
 * id's CATEGORY record, under the category lock: once per new id,
 * ancestors first, right after the id is published, so records follow id
 * order; and again for an erased id before a record names it (below).  A
 * status other than BVT_OK is returned by the call that caused it (the id
 * stays published).  Either may be NULL. */
typedef struct bvt_categories_hooks {
    int (*check)(void *ud);
    int (*logged)(void *ud, uint32_t id, const char *path, size_t len);
    void *ud;
} bvt_categories_hooks;

void bvt__categories_set_hooks(bvt_categories *c, const bvt_categories_hooks *h);

/* Check a path without interning it: BVT_OK, or BVT_EINVAL with
 * err->offset the byte offset of the problem (rules below). */
int bvt__categories_check(const char *path, size_t len, bvt_error *err);

/* Validate and intern path (len bytes, no NUL needed) and all its ancestors.
 * Rules: 1..255 bytes of UTF-8, segments separated by '/', no empty segment
 * (so no leading, trailing or doubled '/'), at most 16 segments, no byte
 * < 0x20.  Returns BVT_OK; BVT_EINVAL (err->offset = byte offset of the problem);
 * BVT_ELIMIT; BVT_ENOMEM; or a hook's status (BVT_EIO). */
int bvt__categories_intern(bvt_categories *c, const char *path, size_t len,
                          uint32_t *out_id, bvt_error *err);

/* Id of a path, 0 if unknown or invalid.  Lock-free. */
uint32_t bvt__categories_find(const bvt_categories *c, const char *path, size_t len);
/* Path of an id, NULL if unknown. */
const char *bvt__categories_name(const bvt_categories *c, uint32_t id);
/* Parent id, 0 for a top-level or unknown id. */
uint32_t bvt__categories_parent(const bvt_categories *c, uint32_t id);
/* 1 if id == ancestor or id lies below ancestor; ancestor 0 matches every id
 * (including 0).  id 0 lies below nothing but 0.  Both must be 0 or ids
 * this registry handed out (O(1): no check, no walk). */
int bvt__categories_within(const bvt_categories *c, uint32_t id, uint32_t ancestor);
/* Is id a known category id (not 0, not erased)? */
int bvt__categories_valid(const bvt_categories *c, uint32_t id);

/* ---- erasure (category.c's header comment, docs/privacy.md) ----
 *
 * A snapshot keeps a category when what it holds uses it (marks: profiles,
 * and the definitions and aggregates of its sections), a live definition
 * names it (pinned), an aggregate keeps it, a journal record after the
 * snapshot's cut names it (a new category's own record included), or a
 * kept category lies below it; it writes a tombstone for any other. */

/* A definition names id (a segment or offer rule, an offer's tags, a
 * keyword, a cluster model): snapshots keep it until as many
 * bvt__categories_unpin() calls (the definition is replaced, removed or
 * freed).  Pin before the definition is published, unpin once no reader
 * can take it any more.  BVT_OK (pinned); BVT_EINVAL (not a valid id);
 * the hook's status (not pinned). */
int bvt__categories_pin(bvt_categories *c, uint32_t id);
void bvt__categories_unpin(bvt_categories *c, uint32_t id);

/* An aggregate that never shrinks (the anonymous aggregates) names id:
 * every snapshot keeps it from now on.  BVT_OK; BVT_EINVAL; the hook's
 * status. */
int bvt__categories_keep(bvt_categories *c, uint32_t id);

/* bvt__categories_intern(), then bvt__categories_pin() (a definition's path). */
int bvt__categories_intern_pinned(bvt_categories *c, const char *path, size_t len,
                                 uint32_t *out_id, bvt_error *err);

/* A journal record about to be written names id (0: none); call under
 * the lock of the shard the record belongs to, before writing it.  When
 * the last snapshot erased id, its CATEGORY record is journaled first; the
 * first call for an id also waits until its creator journaled it.
 * Lock-free otherwise.  BVT_OK; the hook's status. */
int bvt__categories_named(bvt_categories *c, uint32_t id);

/* A snapshot's cut (every shard lock held, before the journal switches
 * files): records from now on are after it. */
void bvt__categories_cut(bvt_categories *c);

/* After the cut, with kept (bits of ids 0..n) marking the ids the
 * snapshot's contents use: add what is kept whatever the marks say and
 * the ancestors of kept ids; the number of ids 1..n that stay unmarked. */
uint32_t bvt__categories_unused(const bvt_categories *c, uint32_t n, _Atomic uint64_t *kept);

/* With every shard lock held: keep (mark) what was named or pinned since
 * bvt__categories_unused() and flag the rest of ids 1..n erased; the
 * snapshot writes a tombstone for each id left unmarked. */
void bvt__categories_erase(bvt_categories *c, uint32_t n, _Atomic uint64_t *kept);

/* Loading a snapshot's tombstone: the next id, erased (no path, never
 * found, not valid).  BVT_OK; BVT_EINVAL; BVT_ELIMIT; BVT_ENOMEM. */
int bvt__categories_add_erased(bvt_categories *c, uint32_t *out_id);

/* Replay: give the erased id its path back (the path must be valid and
 * unknown, its parent known with a smaller id).  Only while no other
 * thread uses the registry.  BVT_OK; BVT_EINVAL (err says why);
 * BVT_ENOMEM. */
int bvt__categories_restore(bvt_categories *c, uint32_t id, const char *path, size_t len,
                           bvt_error *err);
uint32_t bvt__categories_count(const bvt_categories *c);
size_t bvt__categories_bytes(const bvt_categories *c);

#endif
