/* category.h — the category tree: '/'-separated paths interned with their
 * ancestors.  Ids 1..65535; 0 means "no category".  Lookups are lock-free. */
#ifndef BVT_CATEGORY_H
#define BVT_CATEGORY_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

#define BVT_CATEGORY_MAX_ID 65535u
#define BVT_CATEGORY_MAX_LEN 255u
#define BVT_CATEGORY_MAX_DEPTH 16u

typedef struct bvt_categories bvt_categories;

int bvt_categories_new(bvt_categories **out);
void bvt_categories_free(bvt_categories *c);

/* The journal's view of new paths (registry_persist.c sets them once, at
 * engine creation, before any other thread sees the registry).  `check`
 * runs before a path with missing levels is interned: a status other than
 * BVT_OK refuses the call and nothing is created.  `created` runs once per
 * new id, ancestors first, under the category lock right after the id is
 * published, so records follow id order; a status other than BVT_OK is
 * returned by the intern call (the id stays published).  Either may be
 * NULL. */
typedef struct bvt_categories_hooks {
    int (*check)(void *ud);
    int (*created)(void *ud, uint32_t id, const char *path, size_t len);
    void *ud;
} bvt_categories_hooks;

void bvt_categories_set_hooks(bvt_categories *c, const bvt_categories_hooks *h);

/* Check a path without interning it: BVT_OK, or BVT_EINVAL with
 * err->offset the byte offset of the problem (rules below). */
int bvt_categories_check(const char *path, size_t len, bvt_error *err);

/* Validate and intern path (len bytes, no NUL needed) and all its ancestors.
 * Rules: 1..255 bytes of UTF-8, segments separated by '/', no empty segment
 * (so no leading, trailing or doubled '/'), at most 16 segments, no byte
 * < 0x20.  Returns BVT_OK; BVT_EINVAL (err->offset = byte offset of the problem);
 * BVT_ELIMIT; BVT_ENOMEM; or a hook's status (BVT_EIO). */
int bvt_categories_intern(bvt_categories *c, const char *path, size_t len,
                          uint32_t *out_id, bvt_error *err);

/* Id of a path, 0 if unknown or invalid.  Lock-free. */
uint32_t bvt_categories_find(const bvt_categories *c, const char *path, size_t len);
/* Path of an id, NULL if unknown. */
const char *bvt_categories_name(const bvt_categories *c, uint32_t id);
/* Parent id, 0 for a top-level or unknown id. */
uint32_t bvt_categories_parent(const bvt_categories *c, uint32_t id);
/* 1 if id == ancestor or id lies below ancestor; ancestor 0 matches every id
 * (including 0).  id 0 lies below nothing but 0.  Both must be 0 or ids
 * this registry handed out (O(1): no check, no walk). */
int bvt_categories_within(const bvt_categories *c, uint32_t id, uint32_t ancestor);
/* Is id a known category id? */
int bvt_categories_valid(const bvt_categories *c, uint32_t id);
uint32_t bvt_categories_count(const bvt_categories *c);
size_t bvt_categories_bytes(const bvt_categories *c);

#endif
