/* keywords.c — search keyword → category map with lock-free matching.
 *
 * Words are interned (word id = interner id); the category of word id i sits
 * in an atomic cell of a chunked array, so replacing a mapping is one atomic
 * store and readers never see a torn or moved value.  Writers serialise on
 * a mutex. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "behavtarget.h"
#include "error.h"
#include "interner.h"
#include "keywords.h"
#include "utf8.h"

#define CELL_CHUNK_BITS 10u
#define CELL_CHUNK (1u << CELL_CHUNK_BITS)
#define CELL_CHUNKS ((BVT_KEYWORDS_MAX >> CELL_CHUNK_BITS) + 1u)

typedef _Atomic uint32_t cell;

struct bvt_keywords {
    bvt_interner *words;
    _Atomic(cell *) cells[CELL_CHUNKS]; /* word id → category id */
    _Atomic size_t cell_bytes;
    pthread_mutex_t lock;
    bvt_keywords_hooks hooks;
};

static inline int word_byte(unsigned char b)
{
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
           b >= 0x80;
}

static inline char lower(unsigned char b)
{
    return (char)(b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
}

int bvt__keywords_new(bvt_keywords **out)
{
    if (!out)
        return BVT_EINVAL;
    *out = NULL;
    bvt_keywords *k = calloc(1, sizeof *k);
    if (!k)
        return BVT_ENOMEM;
    int rc = bvt__interner_new(&k->words, BVT_KEYWORDS_MAX);
    if (rc != BVT_OK) {
        free(k);
        return rc;
    }
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        bvt__interner_free(k->words);
        free(k);
        return BVT_ENOMEM;
    }
    for (unsigned i = 0; i < CELL_CHUNKS; i++)
        atomic_init(&k->cells[i], NULL);
    atomic_init(&k->cell_bytes, 0);
    *out = k;
    return BVT_OK;
}

void bvt__keywords_free(bvt_keywords *k)
{
    if (!k)
        return;
    for (unsigned i = 0; i < CELL_CHUNKS; i++)
        free(atomic_load_explicit(&k->cells[i], memory_order_relaxed));
    bvt__interner_free(k->words);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

void bvt__keywords_set_hooks(bvt_keywords *k, const bvt_keywords_hooks *h)
{
    if (k)
        k->hooks = *h;
}

/* Under lock: the cell of a word id, allocating its chunk if needed. */
static cell *cell_reserve(bvt_keywords *k, uint32_t id)
{
    _Atomic(cell *) *slot = &k->cells[id >> CELL_CHUNK_BITS];
    cell *c = atomic_load_explicit(slot, memory_order_relaxed);
    if (!c) {
        c = malloc(CELL_CHUNK * sizeof *c);
        if (!c)
            return NULL;
        for (unsigned i = 0; i < CELL_CHUNK; i++)
            atomic_init(&c[i], 0);
        atomic_store_explicit(slot, c, memory_order_release);
        atomic_fetch_add_explicit(&k->cell_bytes, CELL_CHUNK * sizeof *c, memory_order_relaxed);
    }
    return &c[id & (CELL_CHUNK - 1)];
}

int bvt__keyword_check(const char *word, size_t len, bvt_error *err)
{
    if (!word || len == 0 || len > BVT_KEYWORD_MAX_LEN)
        return bvt__fail(err, BVT_EINVAL, -1, "keyword must be 1..%u bytes", BVT_KEYWORD_MAX_LEN);
    for (size_t i = 0; i < len; i++)
        if (!word_byte((unsigned char)word[i]))
            return bvt__fail(err, BVT_EINVAL, (int64_t)i, "keyword must be one word of letters, "
                            "digits and non-ASCII characters: byte 0x%02x at offset %zu",
                            (unsigned)(unsigned char)word[i], i);
    return bvt__utf8_require(word, len, "keyword", err);
}

int bvt__keywords_set(bvt_keywords *k, const char *word, size_t len, uint32_t category_id)
{
    uint32_t old;
    int stored;
    return bvt__keywords_replace(k, word, len, category_id, &old, &stored);
}

int bvt__keywords_replace(bvt_keywords *k, const char *word, size_t len, uint32_t category_id,
                         uint32_t *out_old, int *out_stored)
{
    *out_old = 0;
    *out_stored = 0;
    if (!k || category_id == 0 || bvt__keyword_check(word, len, NULL) != BVT_OK)
        return BVT_EINVAL;
    char buf[BVT_KEYWORD_MAX_LEN];
    for (size_t i = 0; i < len; i++)
        buf[i] = lower((unsigned char)word[i]);
    if (k->hooks.check) {
        int hrc = k->hooks.check(k->hooks.ud);
        if (hrc != BVT_OK)
            return hrc;
    }

    int rc = BVT_OK;
    pthread_mutex_lock(&k->lock);
    uint32_t id = bvt__interner_find(k->words, buf, len);
    if (!id) {
        /* The new word gets the next id; its cell must exist before the word
         * is visible, so readers that find the word always find the cell. */
        uint32_t next = bvt__interner_count(k->words) + 1;
        if (next > BVT_KEYWORDS_MAX)
            rc = BVT_ELIMIT;
        else if (!cell_reserve(k, next))
            rc = BVT_ENOMEM;
        else
            rc = bvt__interner_intern(k->words, buf, len, 0, &id, NULL);
    }
    if (rc == BVT_OK) {
        *out_old = atomic_exchange_explicit(cell_reserve(k, id), category_id,
                                            memory_order_acq_rel);
        *out_stored = 1;
        if (k->hooks.mapped)
            rc = k->hooks.mapped(k->hooks.ud, buf, len, category_id);
    }
    pthread_mutex_unlock(&k->lock);
    return rc;
}

void bvt__keywords_foreach(bvt_keywords *k,
                          void (*fn)(const char *word, size_t len, uint32_t category_id, void *ud),
                          void *ud)
{
    /* A word's cell exists before the word is published (cell_reserve). */
    uint32_t n = bvt__interner_count(k->words);
    for (uint32_t id = 1; id <= n; id++) {
        const cell *c = atomic_load_explicit(&k->cells[id >> CELL_CHUNK_BITS], memory_order_acquire);
        uint32_t cat = atomic_load_explicit(&c[id & (CELL_CHUNK - 1)], memory_order_acquire);
        if (cat)
            fn(bvt__interner_str(k->words, id), bvt__interner_len(k->words, id), cat, ud);
    }
}

size_t bvt__keywords_match(const bvt_keywords *k, const char *text, size_t len,
                          uint32_t *out_ids, size_t cap)
{
    if (!k || !text || !out_ids || cap == 0)
        return 0;
    size_t n = 0;
    char buf[BVT_KEYWORD_MAX_LEN];
    size_t i = 0;
    while (i < len && n < cap) {
        if (!word_byte((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t wlen = 0;
        for (; i < len && word_byte((unsigned char)text[i]); i++) {
            if (wlen < BVT_KEYWORD_MAX_LEN)
                buf[wlen] = lower((unsigned char)text[i]);
            wlen++;
        }
        if (wlen > BVT_KEYWORD_MAX_LEN)
            continue; /* too long to be a keyword: never a prefix match */
        uint32_t id = bvt__interner_find(k->words, buf, wlen);
        if (!id)
            continue;
        const cell *c = atomic_load_explicit(&k->cells[id >> CELL_CHUNK_BITS],
                                             memory_order_acquire);
        uint32_t cat = c ? atomic_load_explicit(&c[id & (CELL_CHUNK - 1)], memory_order_acquire)
                         : 0;
        if (!cat)
            continue;
        size_t j = 0;
        while (j < n && out_ids[j] != cat)
            j++;
        if (j == n)
            out_ids[n++] = cat;
    }
    return n;
}

size_t bvt__keywords_bytes(const bvt_keywords *k)
{
    if (!k)
        return 0;
    return sizeof *k + bvt__interner_bytes(k->words) +
           atomic_load_explicit(&k->cell_bytes, memory_order_relaxed);
}

uint32_t bvt__keywords_count(const bvt_keywords *k)
{
    return k ? bvt__interner_count(k->words) : 0;
}
