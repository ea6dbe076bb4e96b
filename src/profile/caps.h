/* caps.h — one profile's frequency-cap state: for each offer (and campaign
 * group) the user was shown, the times of the latest impressions, the
 * latest dismissal and the offer segments the user was in at the last
 * impression (which bucket a later click is credited to).
 *
 * Entries hang off the profile's ext and are accounted as BVT_MEM_ATTRS.
 * An entry keeps as many impression times as the largest cap of its offer
 * needs, in time order, so "at most N in any window W" is answered exactly
 * for impressions at or before `now`.  A user holds at most
 * BVT_USER_CAP_ENTRIES entries; beyond, the one idle longest is dropped.
 * All functions run under the shard lock of the record. */
#ifndef BVT_CAPS_H
#define BVT_CAPS_H

#include <stdint.h>

#include "behavtarget.h"
#include "mem.h"
#include "profile.h"

#define BVT_USER_CAP_ENTRIES 64

typedef struct bvt_cap_entry {
    uint32_t key;          /* offer id, or group id | BVT_CAP_GROUP_BIT */
    uint16_t mask;         /* offer segments at the last impression */
    uint8_t len, cap;      /* times held, room */
    int64_t dismissed_ms;  /* latest dismissal, 0 = none */
    int64_t times[];       /* ascending */
} bvt_cap_entry;

/* The entry for key, or NULL (x may be NULL). */
const bvt_cap_entry *bvt__caps_find(const bvt_ext *x, uint32_t key);

/* Make sure key has an entry holding at least depth times (1..255); when
 * the user already holds BVT_USER_CAP_ENTRIES, the entry idle longest other
 * than keep's goes (keep: the other key the same event needs, or 0).
 * BVT_OK, BVT_EFULL or BVT_ENOMEM (then nothing changed). */
int bvt__caps_reserve(bvt_ext *x, bvt_mem *m, uint32_t key, uint32_t depth, uint32_t keep);

/* The cap state before an event's reservations (bvt__caps_undo()). */
typedef struct bvt_caps_mark {
    uint8_t len, cap;                      /* entries and room for them */
    uint8_t depth[BVT_USER_CAP_ENTRIES];   /* each entry's room for times */
    uint32_t key[BVT_USER_CAP_ENTRIES];
} bvt_caps_mark;

void bvt__caps_mark_take(const bvt_ext *x, bvt_caps_mark *mk);

/* Give back what reservations made since mk (the event they were for was
 * refused): entries added (still empty), times room widened, the entry
 * array grown.  An entry a full table dropped for the new one stays gone. */
void bvt__caps_undo(bvt_ext *x, bvt_mem *m, const bvt_caps_mark *mk);

/* Record an impression at t (entry reserved; without one, nothing). */
void bvt__caps_impression(bvt_ext *x, uint32_t key, int64_t t, uint32_t mask);
/* Record a dismissal at t (entry reserved; without one, nothing). */
void bvt__caps_dismiss(bvt_ext *x, uint32_t key, int64_t t);

/* 1 when some cap of caps[0..n) is reached at now by entry e (may be NULL). */
int bvt__caps_reached(const bvt_cap_entry *e, const bvt_cap *caps, uint32_t n, int64_t now);

/* Retention: forget impression times and dismissals at or before
 * cutoff_ms; an entry left with neither goes.  Returns the entries removed. */
uint32_t bvt__caps_expire(bvt_ext *x, bvt_mem *m, int64_t cutoff_ms);

/* Entry i of the user's cap state (export): 1 with its key (offer id, or
 * group id | BVT_CAP_GROUP_BIT), impression times (ascending, borrowed
 * under the shard lock) and latest dismissal (0 = none); 0 past the end. */
int bvt__caps_read(const bvt_ext *x, uint32_t i, uint32_t *key, const int64_t **times,
                  uint32_t *n_times, int64_t *dismissed_ms);

void bvt__caps_release(bvt_ext *x, bvt_mem *m);
/* Aliasing: src's entries fold into dst's (times merged, newest kept). */
void bvt__caps_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m);
size_t bvt__caps_bytes(const bvt_ext *x);

#endif
