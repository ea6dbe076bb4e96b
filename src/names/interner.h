/* interner.h — an append-only string → id table with lock-free lookups.
 *
 * Ids are dense, start at 1, and are valid (with their string) until the
 * interner is freed.  Lookups never lock: tables are published with release
 * stores and replaced (never freed early) when they grow.  Inserts take a
 * mutex.  Each id carries one uint32 payload fixed at insertion (the
 * category tree stores the parent id there) and a word of flags its owner
 * may change at any time.
 *
 * An id may also be erased: it keeps its number but holds no string and
 * is never found, so interning its old text again makes a new id.  Loading
 * a snapshot creates them for the names the snapshot replaced by a
 * tombstone (docs/format.md). */
#ifndef BVT_INTERNER_H
#define BVT_INTERNER_H

#include <stddef.h>
#include <stdint.h>

typedef struct bvt_interner bvt_interner;

/* max_ids: the largest id that may be handed out (>= 1).
 * Returns BVT_OK, BVT_EINVAL or BVT_ENOMEM. */
int bvt__interner_new(bvt_interner **out, uint32_t max_ids);
void bvt__interner_free(bvt_interner *in);

/* Id of the len bytes at s, or 0 when absent.  Lock-free. */
uint32_t bvt__interner_find(const bvt_interner *in, const char *s, size_t len);

/* Find or insert.  payload is stored only when the string is new.  Returns
 * BVT_OK (*out_id set, *out_new = 1 if inserted; out_new may be NULL),
 * BVT_ELIMIT when max_ids is reached, BVT_ENOMEM. */
int bvt__interner_intern(bvt_interner *in, const char *s, size_t len, uint32_t payload,
                        uint32_t *out_id, int *out_new);

/* Hand out the next id erased.  BVT_OK; BVT_EINVAL; BVT_ELIMIT; BVT_ENOMEM. */
int bvt__interner_add_erased(bvt_interner *in, uint32_t *out_id);

/* Forget a live id: it keeps its number and its string (bvt__interner_str
 * still answers it, for readers holding it) but is never found again, so
 * interning the same text makes a new id.  1 when it was live, else 0
 * (unknown, erased or already forgotten).  Takes the insert mutex. */
int bvt__interner_forget(bvt_interner *in, uint32_t id);
/* 1 when id was handed out and is neither erased nor forgotten.  Lock-free. */
int bvt__interner_live(const bvt_interner *in, uint32_t id);

/* Give an erased id the len bytes at s (known under no other id) and a
 * payload.  Only while no other thread uses the interner (journal replay).
 * BVT_OK; BVT_EINVAL (id not erased, or s already known); BVT_ENOMEM. */
int bvt__interner_restore(bvt_interner *in, uint32_t id, const char *s, size_t len,
                         uint32_t payload);

/* NUL-terminated string of an id, or NULL for 0, unknown and erased ids.
 * Lock-free. */
const char *bvt__interner_str(const bvt_interner *in, uint32_t id);
/* Byte length of an id's string (0 for unknown ids).  Lock-free. */
size_t bvt__interner_len(const bvt_interner *in, uint32_t id);
/* Payload of an id, 0 for unknown ids.  Lock-free. */
uint32_t bvt__interner_payload(const bvt_interner *in, uint32_t id);
/* Number of ids handed out.  Lock-free. */
uint32_t bvt__interner_count(const bvt_interner *in);
/* Bytes held (tables, strings, retired tables). */
size_t bvt__interner_bytes(const bvt_interner *in);

/* The owner's flags of an id (0 when interned; 0 for unknown ids), and
 * setting or clearing some of them.  Lock-free; a change is a release and
 * reading an acquire, so what the changer did before is seen by whoever
 * sees the change (category.c: the records journaled before a flag). */
uint32_t bvt__interner_flags(const bvt_interner *in, uint32_t id);
void bvt__interner_flags_set(bvt_interner *in, uint32_t id, uint32_t bits);
void bvt__interner_flags_clear(bvt_interner *in, uint32_t id, uint32_t bits);

/* The owner's count of each id (0 when interned; 0 for unknown ids):
 * category.c and the attribute strings count the definitions that name an
 * id (a segment or offer rule, an offer's tags, a keyword, a cluster
 * model), so every snapshot keeps its text while one does.  ref returns
 * the new count, unref too (never below 0).  Lock-free (acquire-release). */
uint32_t bvt__interner_ref(bvt_interner *in, uint32_t id);
uint32_t bvt__interner_unref(bvt_interner *in, uint32_t id);
uint32_t bvt__interner_refs(const bvt_interner *in, uint32_t id);

#endif
