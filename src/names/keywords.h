/* keywords.h — search keyword → category map, with lock-free matching.
 *
 * Text is split into words: maximal runs of ASCII letters, digits and bytes
 * >= 0x80, ASCII letters lower-cased.  Words of 1..63 bytes are looked up. */
#ifndef BVT_KEYWORDS_H
#define BVT_KEYWORDS_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

#define BVT_KEYWORD_MAX_LEN 63u
#define BVT_KEYWORDS_MAX 65535u

typedef struct bvt_keywords bvt_keywords;

int bvt__keywords_new(bvt_keywords **out);
void bvt__keywords_free(bvt_keywords *k);

/* The journal's view of mappings (registry_persist.c sets them once, at
 * engine creation).  `check` runs before a mapping is changed (a status
 * other than BVT_OK refuses it); `mapped` runs under the map's lock right
 * after a mapping is stored, with the lower-cased word, so records follow
 * the order of the stores; its status is returned.  Either may be NULL. */
typedef struct bvt_keywords_hooks {
    int (*check)(void *ud);
    int (*mapped)(void *ud, const char *word, size_t len, uint32_t category_id);
    void *ud;
} bvt_keywords_hooks;

void bvt__keywords_set_hooks(bvt_keywords *k, const bvt_keywords_hooks *h);

/* Call fn for every mapped word in id order with its category.  Lock-free
 * (snapshots: the map's lock is held while the journal hook runs, so a
 * snapshot must not wait for it).  A word whose first mapping is being
 * stored meanwhile (always the last id) is skipped: its record follows. */
void bvt__keywords_foreach(bvt_keywords *k,
                          void (*fn)(const char *word, size_t len, uint32_t category_id, void *ud),
                          void *ud);

/* BVT_OK when len bytes at word are one word as defined above, 1..63
 * bytes, and UTF-8 (the map is kept, and snapshots and exports read it);
 * else BVT_EINVAL with err naming the first bad byte. */
int bvt__keyword_check(const char *word, size_t len, bvt_error *err);

/* Map one word to category_id (>= 1), replacing an earlier mapping.  The word
 * must pass bvt__keyword_check().
 * Returns BVT_OK; BVT_EINVAL; BVT_ELIMIT; BVT_ENOMEM; or a hook's status. */
int bvt__keywords_set(bvt_keywords *k, const char *word, size_t len, uint32_t category_id);

/* bvt__keywords_set(), telling whether the mapping was stored (*out_stored,
 * also when the hook then failed) and the category the word mapped to
 * before (*out_old, 0 for a new word): the caller's pin of the old
 * category is released, its pin of the new one kept (category.h). */
int bvt__keywords_replace(bvt_keywords *k, const char *word, size_t len, uint32_t category_id,
                         uint32_t *out_old, int *out_stored);

/* Category ids of the mapped words in text, in order of first appearance,
 * without duplicates, at most cap.  Lock-free; allocates nothing. */
size_t bvt__keywords_match(const bvt_keywords *k, const char *text, size_t len,
                          uint32_t *out_ids, size_t cap);

size_t bvt__keywords_bytes(const bvt_keywords *k);
uint32_t bvt__keywords_count(const bvt_keywords *k);

#endif
