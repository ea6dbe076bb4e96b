/* idmap.h — string -> dense index map for the command line.
 *
 * The library keeps only keyed hashes of user ids, so the CLI keeps the raw
 * strings it must print.  Keys are copied once into large blocks (stable
 * addresses, NUL-terminated) and numbered densely in insertion order.  The
 * 16-byte open-addressing slots hold the first 8 key bytes, the length and
 * 16 hash bits, so finding a known key of up to 8 bytes reads one slot, and
 * a caller can hash ahead and prefetch (see idmap_hash/idmap_prefetch).
 * Keys must not contain NUL bytes. */
#ifndef BVT_CLI_IDMAP_H
#define BVT_CLI_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct idmap_entry {
    const char *key; /* NUL-terminated copy */
    uint32_t len;
    uint64_t hash;   /* idmap_hash_of(key).h, kept so growing never rereads keys */
    uint64_t value;  /* the caller's */
} idmap_entry;

typedef struct idmap_slot {
    uint64_t prefix; /* first 8 key bytes, zero-padded */
    uint32_t index;  /* entry index + 1; 0 = empty */
    uint16_t len;    /* key length, 65535 for longer keys */
    uint16_t tag;    /* top 16 hash bits */
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

/* A key's hash and its zero-padded first 8 bytes. */
typedef struct idmap_hash {
    uint64_t h, prefix;
} idmap_hash;

void idmap_init(idmap *m);
void idmap_free(idmap *m);

idmap_hash idmap_hash_of(const char *key, size_t len);

/* Hint that key with hash h will be looked up soon. */
void idmap_prefetch(const idmap *m, idmap_hash h);

/* Index of key (inserting it with value 0 when new; *is_new says which,
 * and may be NULL).  Returns -1 when memory runs out. */
long idmap_intern(idmap *m, const char *key, size_t len, int *is_new);

/* The same with the hash already computed by idmap_hash_of(key, len). */
long idmap_intern_hashed(idmap *m, const char *key, size_t len, idmap_hash h, int *is_new);

/* Index of key, or -1. */
long idmap_find(const idmap *m, const char *key, size_t len);

#endif
