/* mem.h — byte accounting for per-user memory, with an optional limit.
 *
 * Each shard owns one bvt_mem and only touches it under the shard lock, so
 * the counters are plain integers.  Every per-user allocation goes through
 * bvt__mem_resize() so that stats and the memory budget see it. */
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

/* The budget's answers are part of what a change did: a history folds and
 * a cart drops its oldest item when growth is refused.  So each change
 * begins with bvt__mem_begin(), and when growth was refused its journal
 * record carries the room the change had (bvt__mem_room()); replay gives
 * the change that room again (bvt__mem_script()), and the same requests
 * get the same answers whatever else the shard holds then. */
typedef struct bvt_mem {
    uint64_t bytes[BVT_MEM_KINDS];
    uint64_t limit;    /* 0 = no limit */
    uint64_t begun_at; /* the total when the current change began */
    int refused;       /* growth was refused since */
    int scripted;      /* replay: growth is refused past `room`, not `limit` */
    int64_t room;      /* bytes the change may grow by (scripted) */
} bvt_mem;

/* A change begins (every shard lock, and each attempt of an event). */
void bvt__mem_begin(bvt_mem *m);

/* The bytes the current change could grow by when it began (may be
 * negative: a shard over its limit). */
int64_t bvt__mem_room(const bvt_mem *m);

/* Replay: answer growth as a change that began with `room` bytes of room
 * was answered, until bvt__mem_unscript(). */
void bvt__mem_script(bvt_mem *m, int64_t room);
void bvt__mem_unscript(bvt_mem *m);

/* Resize *p from old_size to new_size bytes (new_size 0 frees and sets *p to
 * NULL).  Returns BVT_OK; BVT_EFULL when growing would pass the limit
 * (or the scripted room; m->refused is then set);
 * BVT_ENOMEM when the allocator fails.  On failure *p is unchanged. */
int bvt__mem_resize(bvt_mem *m, int kind, void **p, size_t old_size, size_t new_size);

/* Double a small array's capacity (from 2) up to max entries of elem bytes;
 * *cap is updated on success.  Returns as bvt__mem_resize. */
int bvt__mem_grow_small(bvt_mem *m, int kind, void **p, uint8_t *cap, uint32_t max, size_t elem);

/* Sum of all kinds. */
uint64_t bvt__mem_total(const bvt_mem *m);

#endif
