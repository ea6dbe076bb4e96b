/* idmap.c — string -> dense index map (see idmap.h). */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

struct idmap_block {
    idmap_block *next;
    char data[];
};

#define BLOCK_BYTES (256u * 1024u)
#define LONG_KEY 65535u

void idmap_init(idmap *m) { memset(m, 0, sizeof *m); }

void idmap_free(idmap *m)
{
    idmap_block *b = m->blocks;
    while (b) {
        idmap_block *next = b->next;
        free(b);
        b = next;
    }
    free(m->entries);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* Word-at-a-time multiply-xorshift: ids are short, so this beats a byte
 * loop and mixes well enough for a power-of-two table. */
idmap_hash idmap_hash_of(const char *key, size_t len)
{
    idmap_hash r;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (len * 0xff51afd7ed558ccdull);
    uint64_t w = 0;
    size_t i = 0;
    if (len)
        memcpy(&w, key, len < 8 ? len : 8);
    r.prefix = w;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    if (i < len) {
        w = 0;
        memcpy(&w, key + i, len - i);
        h = (h ^ w) * 0x94d049bb133111ebull;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    r.h = h;
    return r;
}

void idmap_prefetch(const idmap *m, idmap_hash h)
{
#if defined(__GNUC__)
    if (m->slots)
        __builtin_prefetch(&m->slots[(size_t)h.h & m->mask]);
#else
    (void)m;
    (void)h;
#endif
}

static const char *store_key(idmap *m, const char *key, size_t len)
{
    if (!m->blocks || m->block_used + len + 1 > m->block_cap) {
        size_t cap = len + 1 > BLOCK_BYTES ? len + 1 : BLOCK_BYTES;
        idmap_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = m->blocks;
        m->blocks = b;
        m->block_used = 0;
        m->block_cap = cap;
    }
    char *dst = m->blocks->data + m->block_used;
    memcpy(dst, key, len);
    dst[len] = '\0';
    m->block_used += len + 1;
    return dst;
}

static int grow(idmap *m)
{
    size_t nslots = m->mask ? (m->mask + 1) * 2 : 1024;
    idmap_slot *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    /* Walk the dense entries (sequential reads) rather than the old slots. */
    for (size_t i = 0; i < m->count; i++) {
        const idmap_entry *en = &m->entries[i];
        size_t s = (size_t)en->hash & (nslots - 1);
        while (slots[s].index)
            s = (s + 1) & (nslots - 1);
        uint64_t prefix = 0;
        memcpy(&prefix, en->key, en->len < 8 ? en->len : 8);
        slots[s].prefix = prefix;
        slots[s].index = (uint32_t)(i + 1);
        slots[s].len = en->len < LONG_KEY ? (uint16_t)en->len : (uint16_t)LONG_KEY;
        slots[s].tag = (uint16_t)(en->hash >> 48);
    }
    free(m->slots);
    m->slots = slots;
    m->mask = nslots - 1;
    return 0;
}

/* The slot holding key, or the empty slot where it belongs.  Keys of up to
 * 8 bytes are decided by the slot alone (no NUL bytes: the zero padding
 * cannot be mistaken for key bytes). */
static size_t probe(const idmap *m, const char *key, size_t len, idmap_hash h)
{
    uint16_t tag = (uint16_t)(h.h >> 48);
    uint16_t len16 = len < LONG_KEY ? (uint16_t)len : (uint16_t)LONG_KEY;
    size_t s = (size_t)h.h & m->mask;
    for (;;) {
        const idmap_slot *sl = &m->slots[s];
        if (!sl->index)
            return s;
        if (sl->tag == tag && sl->len == len16 && sl->prefix == h.prefix) {
            if (len <= 8)
                return s;
            const idmap_entry *en = &m->entries[sl->index - 1];
            if (en->len == len && memcmp(en->key + 8, key + 8, len - 8) == 0)
                return s;
        }
        s = (s + 1) & m->mask;
    }
}

long idmap_find(const idmap *m, const char *key, size_t len)
{
    if (!m->slots)
        return -1;
    size_t s = probe(m, key, len, idmap_hash_of(key, len));
    return m->slots[s].index ? (long)m->slots[s].index - 1 : -1;
}

long idmap_intern_hashed(idmap *m, const char *key, size_t len, idmap_hash h, int *is_new)
{
    if (is_new)
        *is_new = 0;
    if (len > UINT32_MAX || m->count >= UINT32_MAX - 1)
        return -1;
    /* Keep the load factor under 1/2. */
    if ((m->count + 1) * 2 > (m->mask ? m->mask + 1 : 0) && grow(m) < 0)
        return -1;
    size_t s = probe(m, key, len, h);
    if (m->slots[s].index)
        return (long)m->slots[s].index - 1;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        idmap_entry *ne = realloc(m->entries, cap * sizeof *ne);
        if (!ne)
            return -1;
        m->entries = ne;
        m->cap = cap;
    }
    const char *copy = store_key(m, key, len);
    if (!copy)
        return -1;
    idmap_entry *en = &m->entries[m->count];
    en->key = copy;
    en->len = (uint32_t)len;
    en->hash = h.h;
    en->value = 0;
    idmap_slot *sl = &m->slots[s];
    sl->prefix = h.prefix;
    sl->index = (uint32_t)(m->count + 1);
    sl->len = len < LONG_KEY ? (uint16_t)len : (uint16_t)LONG_KEY;
    sl->tag = (uint16_t)(h.h >> 48);
    if (is_new)
        *is_new = 1;
    return (long)m->count++;
}

long idmap_intern(idmap *m, const char *key, size_t len, int *is_new)
{
    return idmap_intern_hashed(m, key, len, idmap_hash_of(key, len), is_new);
}
