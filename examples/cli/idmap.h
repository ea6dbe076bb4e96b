/* idmap.h — string -> dense index map for the command line.
 *
 * The library keeps only keyed hashes of user ids, so the CLI keeps the raw
 * strings it must print.  Keys are copied once into large blocks (stable
 * addresses, NUL-terminated) and numbered densely in insertion order.  The
 * open-addressing slots hold the full hash and the first 8 key bytes, so a
 * lookup of a short known key touches one cache line and allocates nothing. */
#ifndef BVT_CLI_IDMAP_H
#define BVT_CLI_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct idmap_entry {
    const char *key; /* NUL-terminated copy */
    uint32_t len;
    uint64_t value;  /* the caller's */
} idmap_entry;

typedef struct idmap_slot {
    uint64_t hash;
    uint64_t prefix; /* first 8 key bytes, zero-padded */
    uint32_t len;
    uint32_t index;  /* entry index + 1; 0 = empty */
} idmap_slot;

typedef struct idmap_block idmap_block;

typedef struct idmap {
    idmap_entry *entries; /* dense, in insertion order */
    size_t count, cap;
    idmap_slot *slots;
    size_t mask;
    idmap_block *blocks;
    size_t block_used, block_cap;
} idmap;

void idmap_init(idmap *m);
void idmap_free(idmap *m);

/* Index of key (inserting it with value 0 when new; *is_new says which,
 * and may be NULL).  Returns -1 when memory runs out. */
long idmap_intern(idmap *m, const char *key, size_t len, int *is_new);

/* Index of key, or -1. */
long idmap_find(const idmap *m, const char *key, size_t len);

#endif
