/* interner.h — an append-only string → id table with lock-free lookups.
 *
 * Ids are dense, start at 1, and are valid (with their string) until the
 * interner is freed.  Lookups never lock: tables are published with release
 * stores and replaced (never freed early) when they grow.  Inserts take a
 * mutex.  Each id carries one uint32 payload fixed at insertion (the
 * category tree stores the parent id there). */
#ifndef BVT_INTERNER_H
#define BVT_INTERNER_H

#include <stddef.h>
#include <stdint.h>

typedef struct bvt_interner bvt_interner;

/* max_ids: the largest id that may be handed out (>= 1).
 * Returns BVT_OK, BVT_EINVAL or BVT_ENOMEM. */
int bvt_interner_new(bvt_interner **out, uint32_t max_ids);
void bvt_interner_free(bvt_interner *in);

/* Id of the len bytes at s, or 0 when absent.  Lock-free. */
uint32_t bvt_interner_find(const bvt_interner *in, const char *s, size_t len);

/* Find or insert.  payload is stored only when the string is new.  Returns
 * BVT_OK (*out_id set, *out_new = 1 if inserted; out_new may be NULL),
 * BVT_ELIMIT when max_ids is reached, BVT_ENOMEM. */
int bvt_interner_intern(bvt_interner *in, const char *s, size_t len, uint32_t payload,
                        uint32_t *out_id, int *out_new);

/* NUL-terminated string of an id, or NULL for 0 / unknown ids.  Lock-free. */
const char *bvt_interner_str(const bvt_interner *in, uint32_t id);
/* Byte length of an id's string (0 for unknown ids).  Lock-free. */
size_t bvt_interner_len(const bvt_interner *in, uint32_t id);
/* Payload of an id, 0 for unknown ids.  Lock-free. */
uint32_t bvt_interner_payload(const bvt_interner *in, uint32_t id);
/* Number of ids handed out.  Lock-free. */
uint32_t bvt_interner_count(const bvt_interner *in);
/* Bytes held (tables, strings, retired tables). */
size_t bvt_interner_bytes(const bvt_interner *in);

#endif
