/* segment.c — immutable, reference-counted versions of the segment list,
 * and the order of ids (segment.h). */
#include <stdlib.h>
#include <string.h>

#include "segment.h"

int bvt__segments_init(bvt_segments *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->current_lock, NULL);
    pthread_mutex_init(&s->define_lock, NULL);
    int rc = bvt__interner_new(&s->names, BVT_SEGMENTS_MAX);
    if (rc != BVT_OK)
        return rc;
    s->current = calloc(1, sizeof *s->current);
    if (!s->current)
        return BVT_ENOMEM;
    atomic_init(&s->current->refs, 1);
    return BVT_OK;
}

static void def_release(bvt_segment_def *d)
{
    if (d && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
        bvt__rule_free(d->rule);
        free(d->text);
        free(d);
    }
}

void bvt__segments_release(bvt_segment_set *set)
{
    if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < set->n; i++)
        def_release(set->defs[i]);
    free(set->defs);
    free(set->by_id);
    free(set);
}

void bvt__segments_destroy(bvt_segments *s)
{
    if (!s->names)
        return; /* never initialised */
    bvt__segments_release(s->current);
    bvt__interner_free(s->names);
    pthread_mutex_destroy(&s->current_lock);
    pthread_mutex_destroy(&s->define_lock);
}

bvt_segment_set *bvt__segments_acquire(bvt_segments *s)
{
    pthread_mutex_lock(&s->current_lock);
    bvt_segment_set *set = s->current;
    atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->current_lock);
    return set;
}

/* Swap in `next`; the old version goes when its last reader releases it. */
static void publish(bvt_segments *s, bvt_segment_set *next)
{
    pthread_mutex_lock(&s->current_lock);
    bvt_segment_set *old = s->current;
    s->current = next;
    pthread_mutex_unlock(&s->current_lock);
    bvt__segments_release(old);
}

/* publish(), journaled through the hooks (define_lock held): the log's
 * status, else the release's. */
static int publish_logged(bvt_segments *s, bvt_segment_set *next, uint32_t id, int builtin,
                          const char *text)
{
    if (!s->log) {
        publish(s, next);
        return BVT_OK;
    }
    s->hold(s->log_ud);
    publish(s, next);
    int rc = s->log(s->log_ud, id, builtin, text);
    int durable = s->release(s->log_ud);
    return rc == BVT_OK ? durable : rc;
}

/* A new version from `base` with `def` put at id (def NULL removes id). */
static bvt_segment_set *derive(const bvt_segment_set *base, uint32_t id, bvt_segment_def *def)
{
    bvt_segment_set *next = calloc(1, sizeof *next);
    uint32_t max_id = base->max_id > id ? base->max_id : id;
    if (!next)
        return NULL;
    next->defs = malloc((base->n + 1) * sizeof *next->defs);
    next->by_id = calloc(max_id + 1, sizeof *next->by_id);
    if (!next->defs || !next->by_id) {
        free(next->defs);
        free(next->by_id);
        free(next);
        return NULL;
    }
    atomic_init(&next->refs, 1);
    next->max_id = max_id;
    int placed = 0;
    for (uint32_t i = 0; i < base->n; i++) {
        bvt_segment_def *d = base->defs[i];
        if (d->id == id) {
            placed = 1;
            if (!def)
                continue;
            d = def; /* replaced: keeps its place in the list */
        } else {
            atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
        }
        next->defs[next->n++] = d;
    }
    if (def && !placed)
        next->defs[next->n++] = def;
    for (uint32_t i = 0; i < next->n; i++) {
        const uint32_t *refs;
        next->by_id[next->defs[i]->id] = next->defs[i];
        next->has_refs |= bvt__rule_segment_refs(next->defs[i]->rule, &refs) > 0;
    }
    return next;
}

/* Does following in_segment() from `from` reach `target`?  Depth-first with
 * an explicit stack; every id is visited once. */
static int reaches(const bvt_segment_set *set, uint32_t from, uint32_t target)
{
    uint8_t *seen = calloc(set->max_id + 1, 1);
    uint32_t *stack = malloc((set->max_id + 1) * sizeof *stack);
    int found = 0;
    size_t top = 0;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return -1;
    }
    stack[top++] = from;
    seen[from] = 1;
    while (top && !found) {
        const bvt_segment_def *d = set->by_id[stack[--top]];
        const uint32_t *refs;
        size_t n = d ? bvt__rule_segment_refs(d->rule, &refs) : 0;
        for (size_t i = 0; i < n && !found; i++) {
            if (refs[i] == target)
                found = 1;
            else if (refs[i] <= set->max_id && !seen[refs[i]]) {
                seen[refs[i]] = 1;
                stack[top++] = refs[i];
            }
        }
    }
    free(seen);
    free(stack);
    return found;
}

/* Under define_lock: does every in_segment() of rule name a segment of
 * base (or id itself, which the cycle check then refuses)? */
static int refs_defined(const bvt_segment_set *base, uint32_t id, const bvt_rule *rule)
{
    const uint32_t *refs;
    size_t n = bvt__rule_segment_refs(rule, &refs);
    for (size_t i = 0; i < n; i++)
        if (refs[i] != id && (refs[i] > base->max_id || !base->by_id[refs[i]]))
            return 0;
    return 1;
}

int bvt__segments_put(bvt_segments *s, const char *name, size_t len, const char *text,
                     bvt_rule *rule, int builtin, uint32_t *out_id)
{
    bvt_segment_def *def = calloc(1, sizeof *def);
    size_t tlen = text ? strlen(text) : 0;
    char *copy = malloc(tlen + 1);
    if (!def || !copy) {
        free(def);
        free(copy);
        bvt__rule_free(rule);
        return BVT_ENOMEM;
    }
    if (tlen)
        memcpy(copy, text, tlen);
    copy[tlen] = 0;
    atomic_init(&def->refs, 1);
    def->rule = rule;
    def->text = copy;
    def->builtin = builtin;
    pthread_mutex_lock(&s->define_lock);
    const bvt_segment_set *base = s->current; /* only definers replace it */
    /* A new name takes the next id, interned only once nothing else can
     * fail, so ids follow publication order and none is lost to an error. */
    uint32_t id = bvt__interner_find(s->names, name, len);
    int rc = BVT_OK, fresh = id == 0;
    if (fresh) {
        id = bvt__interner_count(s->names) + 1;
        if (id > BVT_SEGMENTS_MAX)
            rc = BVT_ELIMIT;
    }
    def->id = id;
    if (rc != BVT_OK)
        ;
    else if (id <= base->max_id && base->by_id[id] && base->by_id[id]->builtin && !builtin)
        rc = BVT_EEXIST;
    else if (base->n >= BVT_SEGMENTS_MAX && !(id <= base->max_id && base->by_id[id]))
        rc = BVT_ELIMIT;
    else if (!refs_defined(base, id, rule))
        rc = BVT_ENOTFOUND;
    bvt_segment_set *next = rc == BVT_OK ? derive(base, id, def) : NULL;
    if (rc == BVT_OK && !next)
        rc = BVT_ENOMEM;
    if (rc == BVT_OK) {
        int cycle = reaches(next, id, id);
        rc = cycle < 0 ? BVT_ENOMEM : cycle ? BVT_ECYCLE : BVT_OK;
    }
    if (rc == BVT_OK && fresh) {
        uint32_t got = 0;
        rc = bvt__interner_intern(s->names, name, len, 0, &got, NULL);
        if (rc == BVT_OK && got != id)
            rc = BVT_ENOMEM; /* cannot happen: names are interned only here */
    }
    if (rc == BVT_OK) {
        rc = publish_logged(s, next, id, builtin, def->text);
        if (out_id)
            *out_id = id;
    } else {
        if (next) {
            /* def is in next: keep it alive through the release, free below */
            atomic_fetch_add_explicit(&def->refs, 1, memory_order_relaxed);
            bvt__segments_release(next);
        }
        def_release(def);
    }
    pthread_mutex_unlock(&s->define_lock);
    return rc;
}

static int drop(bvt_segments *s, uint32_t id, uint32_t *blocker, int builtin_ok)
{
    pthread_mutex_lock(&s->define_lock);
    const bvt_segment_set *base = s->current;
    int rc = BVT_OK;
    if (id > base->max_id || !base->by_id[id]) {
        rc = BVT_ENOTFOUND;
    } else if (base->by_id[id]->builtin && !builtin_ok) {
        *blocker = id;
        rc = BVT_EEXIST;
    } else {
        for (uint32_t i = 0; i < base->n && rc == BVT_OK; i++) {
            const uint32_t *refs;
            size_t n = bvt__rule_segment_refs(base->defs[i]->rule, &refs);
            for (size_t j = 0; j < n; j++)
                if (refs[j] == id && base->defs[i]->id != id) {
                    *blocker = base->defs[i]->id;
                    rc = BVT_EEXIST;
                }
        }
    }
    int builtin = rc == BVT_OK && base->by_id[id]->builtin;
    bvt_segment_set *next = rc == BVT_OK ? derive(base, id, NULL) : NULL;
    if (rc == BVT_OK && !next)
        rc = BVT_ENOMEM;
    if (rc == BVT_OK)
        rc = publish_logged(s, next, id, builtin, NULL);
    pthread_mutex_unlock(&s->define_lock);
    return rc;
}

int bvt__segments_drop(bvt_segments *s, uint32_t id, uint32_t *blocker)
{
    return drop(s, id, blocker, 0);
}

int bvt__segments_drop_builtin(bvt_segments *s, uint32_t id, uint32_t *blocker)
{
    return drop(s, id, blocker, 1);
}
