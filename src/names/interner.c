/* interner.c — append-only string → id table with lock-free lookups.
 *
 * Layout:
 *  - an open-addressing hash table of 64-bit slots, each (hash tag << 32 | id),
 *    0 meaning empty; it is replaced by a doubled copy when half full, and the
 *    old copy is retired (kept until free) because readers may still probe it;
 *  - per-id entries (string, length, hash, payload) in chunks that never move:
 *    chunk k holds ENTRY_BASE << k entries, so an id maps to its chunk with
 *    one count-leading-zeros;
 *  - string bytes in an append-only arena of chunks that never move.
 *
 * Publication order on insert (all under the mutex): entry fields, then the
 * count (release), then the slot (release).  A reader that acquires a slot
 * therefore sees the entry and a count that covers the id; a reader that
 * acquires the count sees every entry up to it.
 *
 * An erased id (a tombstone loaded from a snapshot) has an entry without a
 * string and no slot, so it keeps its number and is never found.  A
 * forgotten id (bvt__interner_forget) keeps its string, for readers that
 * hold it, but its slot becomes FORGOTTEN, which lookups pass over like
 * any other slot that is not theirs; growth drops it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "hash.h"
#include "interner.h"

#define ENTRY_BASE_BITS 6u
#define ENTRY_BASE (1u << ENTRY_BASE_BITS)
#define ENTRY_CHUNKS 32u /* enough for ids up to 2^32 - 1 */
#define TABLE_MIN 16u
#define ARENA_MIN 4096u
#define ARENA_MAX (1u << 20)
#define FORGOTTEN 0xffffffff00000000u /* a slot whose id was forgotten: id 0 */

struct entry {
    const char *str; /* NULL: erased */
    uint64_t hash;
    uint32_t len;
    uint32_t payload;
    _Atomic uint32_t flags; /* the owner's (interner.h) */
    _Atomic uint32_t refs;  /* the owner's count (interner.h) */
    _Atomic uint8_t forgotten;
};

struct table {
    struct table *retired_next; /* list of tables replaced by growth */
    size_t mask;                /* slot count - 1 (a power of two) */
    _Atomic uint64_t slots[];
};

struct arena_chunk {
    struct arena_chunk *next;
    char data[];
};

struct bvt_interner {
    _Atomic(struct table *) table;
    _Atomic uint32_t count;
    uint32_t max_ids;
    _Atomic(struct entry *) chunks[ENTRY_CHUNKS];
    _Atomic size_t bytes;

    /* Writer state, touched only under lock. */
    pthread_mutex_t lock;
    struct table *retired;
    struct arena_chunk *arena;
    char *arena_pos;
    size_t arena_left;
    size_t arena_next_size;
};

static size_t table_bytes(size_t nslots)
{
    return sizeof(struct table) + nslots * sizeof(_Atomic uint64_t);
}

static struct table *table_alloc(size_t nslots)
{
    struct table *t = calloc(1, table_bytes(nslots));
    if (!t)
        return NULL;
    t->mask = nslots - 1;
    for (size_t i = 0; i < nslots; i++)
        atomic_init(&t->slots[i], 0);
    return t;
}

static inline uint64_t hash_bytes(const char *s, size_t len)
{
    return XXH3_64bits(len ? (const void *)s : (const void *)"", len);
}

static inline uint64_t slot_value(uint64_t hash, uint32_t id)
{
    return (hash & 0xffffffff00000000u) | id;
}

/* Chunk index of the zero-based entry index i, and the index within it. */
static inline unsigned chunk_of(uint32_t i, uint32_t *off)
{
    uint32_t q = (i >> ENTRY_BASE_BITS) + 1;
#if defined(__GNUC__)
    unsigned k = 31u - (unsigned)__builtin_clz(q);
#else
    unsigned k = 0;
    while (q >> (k + 1))
        k++;
#endif
    *off = i - (((1u << k) - 1u) << ENTRY_BASE_BITS);
    return k;
}

/* Entry of an id known to be published (id <= an acquired count or found
 * in an acquired slot). */
static inline const struct entry *entry_get(const bvt_interner *in, uint32_t id)
{
    uint32_t off;
    unsigned k = chunk_of(id - 1, &off);
    const struct entry *c = atomic_load_explicit(&in->chunks[k], memory_order_acquire);
    return &c[off];
}

static uint32_t find_in(const struct table *t, const bvt_interner *in, const char *s,
                        size_t len, uint64_t h)
{
    uint64_t tag = h & 0xffffffff00000000u;
    size_t i = (size_t)h & t->mask;
    for (;;) {
        uint64_t v = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (v == 0)
            return 0;
        if ((v & 0xffffffff00000000u) == tag && (uint32_t)v != 0) {
            uint32_t id = (uint32_t)v;
            const struct entry *e = entry_get(in, id);
            if (e->len == len && (len == 0 || memcmp(e->str, s, len) == 0))
                return id;
        }
        i = (i + 1) & t->mask;
    }
}

int bvt__interner_new(bvt_interner **out, uint32_t max_ids)
{
    if (!out || max_ids == 0)
        return BVT_EINVAL;
    *out = NULL;
    bvt_interner *in = calloc(1, sizeof *in);
    if (!in)
        return BVT_ENOMEM;
    struct table *t = table_alloc(TABLE_MIN);
    if (!t || pthread_mutex_init(&in->lock, NULL) != 0) {
        free(t);
        free(in);
        return BVT_ENOMEM;
    }
    atomic_init(&in->table, t);
    atomic_init(&in->count, 0);
    for (unsigned k = 0; k < ENTRY_CHUNKS; k++)
        atomic_init(&in->chunks[k], NULL);
    atomic_init(&in->bytes, sizeof *in + table_bytes(TABLE_MIN));
    in->max_ids = max_ids;
    in->arena_next_size = ARENA_MIN;
    *out = in;
    return BVT_OK;
}

void bvt__interner_free(bvt_interner *in)
{
    if (!in)
        return;
    free(atomic_load_explicit(&in->table, memory_order_relaxed));
    for (struct table *t = in->retired, *n; t; t = n) {
        n = t->retired_next;
        free(t);
    }
    for (unsigned k = 0; k < ENTRY_CHUNKS; k++)
        free(atomic_load_explicit(&in->chunks[k], memory_order_relaxed));
    for (struct arena_chunk *a = in->arena, *n; a; a = n) {
        n = a->next;
        free(a);
    }
    pthread_mutex_destroy(&in->lock);
    free(in);
}

uint32_t bvt__interner_find(const bvt_interner *in, const char *s, size_t len)
{
    if (!in || (!s && len) || len > UINT32_MAX)
        return 0;
    const struct table *t = atomic_load_explicit(&in->table, memory_order_acquire);
    return find_in(t, in, s, len, hash_bytes(s, len));
}

static void add_bytes(bvt_interner *in, size_t n)
{
    atomic_fetch_add_explicit(&in->bytes, n, memory_order_relaxed);
}

/* Under lock: store id's slot in t (readers may probe t: order says how). */
static void slot_put(struct table *t, uint64_t h, uint32_t id, memory_order order)
{
    size_t i = (size_t)h & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != 0)
        i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], slot_value(h, id), order);
}

/* Under lock: make room so one more id keeps the table at most half full. */
static int table_reserve(bvt_interner *in, uint32_t count)
{
    struct table *t = atomic_load_explicit(&in->table, memory_order_relaxed);
    size_t nslots = t->mask + 1;
    if (((size_t)count + 1) * 2 <= nslots)
        return BVT_OK;
    struct table *g = table_alloc(nslots * 2);
    if (!g)
        return BVT_ENOMEM;
    for (uint32_t id = 1; id <= count; id++) {
        const struct entry *e = entry_get(in, id);
        if (e->str && !atomic_load_explicit(&e->forgotten, memory_order_relaxed))
            slot_put(g, e->hash, id, memory_order_relaxed);
    }
    atomic_store_explicit(&in->table, g, memory_order_release);
    t->retired_next = in->retired;
    in->retired = t;
    add_bytes(in, table_bytes(nslots * 2));
    return BVT_OK;
}

/* Under lock: make sure the entry chunk for id exists. */
static int chunk_reserve(bvt_interner *in, uint32_t id)
{
    uint32_t off;
    unsigned k = chunk_of(id - 1, &off);
    if (atomic_load_explicit(&in->chunks[k], memory_order_relaxed))
        return BVT_OK;
    /* The last chunk is cut at max_ids so a small limit wastes nothing. */
    uint32_t first = ((1u << k) - 1u) << ENTRY_BASE_BITS;
    uint64_t n = (uint64_t)ENTRY_BASE << k;
    if (n > (uint64_t)in->max_ids - first)
        n = (uint64_t)in->max_ids - first;
    struct entry *c = calloc((size_t)n, sizeof *c);
    if (!c)
        return BVT_ENOMEM;
    atomic_store_explicit(&in->chunks[k], c, memory_order_release);
    add_bytes(in, (size_t)n * sizeof *c);
    return BVT_OK;
}

/* The entry of an id whose chunk exists, for writing: its fields under
 * lock, its flags (atomic) at any time. */
static struct entry *entry_mut(bvt_interner *in, uint32_t id)
{
    uint32_t off;
    unsigned k = chunk_of(id - 1, &off);
    return &atomic_load_explicit(&in->chunks[k], memory_order_relaxed)[off];
}

/* Under lock: a NUL-terminated copy of s in the arena. */
static const char *arena_copy(bvt_interner *in, const char *s, size_t len)
{
    if (in->arena_left < len + 1) {
        size_t size = in->arena_next_size;
        while (size < len + 1)
            size *= 2;
        struct arena_chunk *a = malloc(sizeof *a + size);
        if (!a)
            return NULL;
        a->next = in->arena;
        in->arena = a;
        in->arena_pos = a->data;
        in->arena_left = size;
        if (in->arena_next_size < ARENA_MAX)
            in->arena_next_size *= 2;
        add_bytes(in, sizeof *a + size);
    }
    char *p = in->arena_pos;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    in->arena_pos += len + 1;
    in->arena_left -= len + 1;
    return p;
}

int bvt__interner_intern(bvt_interner *in, const char *s, size_t len, uint32_t payload,
                        uint32_t *out_id, int *out_new)
{
    if (!in || !out_id || (!s && len) || len >= UINT32_MAX)
        return BVT_EINVAL;
    uint64_t h = hash_bytes(s, len);
    uint32_t id = find_in(atomic_load_explicit(&in->table, memory_order_acquire), in, s, len, h);
    if (id) {
        *out_id = id;
        if (out_new)
            *out_new = 0;
        return BVT_OK;
    }

    int rc = BVT_OK, fresh = 0;
    pthread_mutex_lock(&in->lock);
    struct table *t = atomic_load_explicit(&in->table, memory_order_relaxed);
    id = find_in(t, in, s, len, h); /* another writer may have won */
    if (id)
        goto out;
    uint32_t count = atomic_load_explicit(&in->count, memory_order_relaxed);
    if (count >= in->max_ids) {
        rc = BVT_ELIMIT;
        goto out;
    }
    if ((rc = table_reserve(in, count)) != BVT_OK || (rc = chunk_reserve(in, count + 1)) != BVT_OK)
        goto out;
    const char *copy = arena_copy(in, s, len);
    if (!copy) {
        rc = BVT_ENOMEM;
        goto out;
    }
    id = count + 1;
    struct entry *e = entry_mut(in, id);
    e->str = copy;
    e->hash = h;
    e->len = (uint32_t)len;
    e->payload = payload;
    atomic_store_explicit(&in->count, id, memory_order_release);
    slot_put(atomic_load_explicit(&in->table, memory_order_relaxed), h, id,
             memory_order_release);
    fresh = 1;
out:
    pthread_mutex_unlock(&in->lock);
    if (rc == BVT_OK) {
        *out_id = id;
        if (out_new)
            *out_new = fresh;
    }
    return rc;
}

int bvt__interner_add_erased(bvt_interner *in, uint32_t *out_id)
{
    if (!in || !out_id)
        return BVT_EINVAL;
    pthread_mutex_lock(&in->lock);
    uint32_t count = atomic_load_explicit(&in->count, memory_order_relaxed);
    int rc = count >= in->max_ids ? BVT_ELIMIT : table_reserve(in, count);
    if (rc == BVT_OK)
        rc = chunk_reserve(in, count + 1);
    if (rc == BVT_OK) /* the chunk is zeroed: no string, no flags */
        atomic_store_explicit(&in->count, *out_id = count + 1, memory_order_release);
    pthread_mutex_unlock(&in->lock);
    return rc;
}

int bvt__interner_restore(bvt_interner *in, uint32_t id, const char *s, size_t len,
                         uint32_t payload)
{
    if (!in || (!s && len) || len >= UINT32_MAX || id == 0 ||
        id > atomic_load_explicit(&in->count, memory_order_acquire) ||
        entry_get(in, id)->str || bvt__interner_find(in, s, len))
        return BVT_EINVAL;
    pthread_mutex_lock(&in->lock);
    const char *copy = arena_copy(in, s, len);
    if (copy) {
        struct entry *e = entry_mut(in, id);
        e->hash = hash_bytes(s, len);
        e->len = (uint32_t)len;
        e->payload = payload;
        e->str = copy;
        slot_put(atomic_load_explicit(&in->table, memory_order_relaxed), e->hash, id,
                 memory_order_release);
    }
    pthread_mutex_unlock(&in->lock);
    return copy ? BVT_OK : BVT_ENOMEM;
}

int bvt__interner_forget(bvt_interner *in, uint32_t id)
{
    if (!in || id == 0 || id > atomic_load_explicit(&in->count, memory_order_acquire))
        return 0;
    pthread_mutex_lock(&in->lock);
    struct entry *e = entry_mut(in, id);
    int done = 0;
    if (e->str && !atomic_load_explicit(&e->forgotten, memory_order_relaxed)) {
        struct table *t = atomic_load_explicit(&in->table, memory_order_relaxed);
        uint64_t want = slot_value(e->hash, id);
        for (size_t i = (size_t)e->hash & t->mask;; i = (i + 1) & t->mask) {
            uint64_t v = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
            if (v == want) {
                /* Not 0: that would cut the probe chains through this slot. */
                atomic_store_explicit(&t->slots[i], FORGOTTEN, memory_order_release);
                break;
            }
            if (v == 0)
                break; /* cannot happen: a live id has its slot */
        }
        atomic_store_explicit(&e->forgotten, 1, memory_order_release);
        done = 1;
    }
    pthread_mutex_unlock(&in->lock);
    return done;
}

int bvt__interner_live(const bvt_interner *in, uint32_t id)
{
    if (!in || id == 0 || id > atomic_load_explicit(&in->count, memory_order_acquire))
        return 0;
    const struct entry *e = entry_get(in, id);
    return e->str && !atomic_load_explicit(&e->forgotten, memory_order_acquire);
}

/* Entry of a caller-supplied id, or NULL when it has not been handed out. */
static inline const struct entry *entry_checked(const bvt_interner *in, uint32_t id)
{
    if (!in || id == 0 || id > atomic_load_explicit(&in->count, memory_order_acquire))
        return NULL;
    return entry_get(in, id);
}

const char *bvt__interner_str(const bvt_interner *in, uint32_t id)
{
    const struct entry *e = entry_checked(in, id);
    return e ? e->str : NULL;
}

size_t bvt__interner_len(const bvt_interner *in, uint32_t id)
{
    const struct entry *e = entry_checked(in, id);
    return e ? e->len : 0;
}

uint32_t bvt__interner_payload(const bvt_interner *in, uint32_t id)
{
    const struct entry *e = entry_checked(in, id);
    return e ? e->payload : 0;
}

uint32_t bvt__interner_count(const bvt_interner *in)
{
    return in ? atomic_load_explicit(&in->count, memory_order_acquire) : 0;
}

size_t bvt__interner_bytes(const bvt_interner *in)
{
    return in ? atomic_load_explicit(&in->bytes, memory_order_relaxed) : 0;
}

uint32_t bvt__interner_flags(const bvt_interner *in, uint32_t id)
{
    const struct entry *e = entry_checked(in, id);
    return e ? atomic_load_explicit(&e->flags, memory_order_acquire) : 0;
}

void bvt__interner_flags_set(bvt_interner *in, uint32_t id, uint32_t bits)
{
    if (entry_checked(in, id))
        atomic_fetch_or_explicit(&entry_mut(in, id)->flags, bits, memory_order_release);
}

void bvt__interner_flags_clear(bvt_interner *in, uint32_t id, uint32_t bits)
{
    if (entry_checked(in, id))
        atomic_fetch_and_explicit(&entry_mut(in, id)->flags, ~bits, memory_order_release);
}

uint32_t bvt__interner_ref(bvt_interner *in, uint32_t id)
{
    return entry_checked(in, id)
               ? atomic_fetch_add_explicit(&entry_mut(in, id)->refs, 1, memory_order_acq_rel) + 1
               : 0;
}

uint32_t bvt__interner_unref(bvt_interner *in, uint32_t id)
{
    if (!entry_checked(in, id))
        return 0;
    _Atomic uint32_t *refs = &entry_mut(in, id)->refs;
    uint32_t n = atomic_load_explicit(refs, memory_order_relaxed);
    while (n && !atomic_compare_exchange_weak_explicit(refs, &n, n - 1, memory_order_acq_rel,
                                                       memory_order_relaxed))
        ;
    return n ? n - 1 : 0;
}

uint32_t bvt__interner_refs(const bvt_interner *in, uint32_t id)
{
    const struct entry *e = entry_checked(in, id);
    return e ? atomic_load_explicit(&e->refs, memory_order_acquire) : 0;
}
