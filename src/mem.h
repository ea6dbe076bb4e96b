/* mem.h — byte accounting for per-user memory, with an optional limit.
 *
 * Each shard owns one bvt_mem and only touches it under the shard lock, so
 * the counters are plain integers.  Every per-user allocation goes through
 * bvt_mem_resize() so that stats and the memory budget see it. */
#ifndef BVT_MEM_H
#define BVT_MEM_H

#include <stddef.h>
#include <stdint.h>

enum bvt_mem_kind {
    BVT_MEM_TABLE = 0,   /* fixed records and the index */
    BVT_MEM_HISTORY = 1, /* exact events and day aggregates */
    BVT_MEM_CART = 2,
    BVT_MEM_ATTRS = 3,
    BVT_MEM_KINDS = 4
};

typedef struct bvt_mem {
    uint64_t bytes[BVT_MEM_KINDS];
    uint64_t limit; /* 0 = no limit */
} bvt_mem;

/* Resize *p from old_size to new_size bytes (new_size 0 frees and sets *p to
 * NULL).  Returns BVT_OK; BVT_EFULL when growing would pass the limit;
 * BVT_ENOMEM when the allocator fails.  On failure *p is unchanged. */
int bvt_mem_resize(bvt_mem *m, int kind, void **p, size_t old_size, size_t new_size);

/* Double a small array's capacity (from 2) up to max entries of elem bytes;
 * *cap is updated on success.  Returns as bvt_mem_resize. */
int bvt_mem_grow_small(bvt_mem *m, int kind, void **p, uint8_t *cap, uint32_t max, size_t elem);

/* Sum of all kinds. */
uint64_t bvt_mem_total(const bvt_mem *m);

#endif
