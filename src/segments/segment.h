/* segment.h — the segment registry: named rules, published as immutable
 * versions so evaluation never waits for a definition change.
 *
 * A version (bvt_segment_set) lists the defined segments.  Readers take a
 * reference under a mutex held only for the pointer read; definers compile
 * outside any lock, build the next version and swap it in.  The last
 * reference frees a version; definitions are shared between versions by
 * reference count.
 *
 * Ids are the names' interner ids: a name is interned under the definers'
 * lock when it is first published, and a removed segment's name keeps its
 * id (defining the name again brings the id back), so ids follow the order
 * of publication and are never reused for another name.  Each definition
 * keeps its rule text: snapshots and the journal store text, not bytecode
 * (registry_persist.c). */
#ifndef BVT_SEGMENT_H
#define BVT_SEGMENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "interner.h"
#include "rule.h"

typedef struct bvt_segment_def {
    _Atomic uint32_t refs;
    uint32_t id;
    int builtin;
    bvt_rule *rule;
    char *text;                 /* the rule as written */
} bvt_segment_def;

typedef struct bvt_segment_set {
    _Atomic uint32_t refs;
    uint32_t n;                 /* defined segments, in list order */
    uint32_t max_id;
    int has_refs;               /* some rule uses in_segment() */
    bvt_segment_def **defs;     /* n, in list order */
    bvt_segment_def **by_id;    /* max_id + 1, NULL where undefined */
} bvt_segment_set;

typedef struct bvt_segments {
    pthread_mutex_t current_lock; /* guards `current` for the pointer read */
    pthread_mutex_t define_lock;  /* serialises definers */
    bvt_segment_set *current;
    bvt_interner *names;          /* segment name -> id (ids never reused) */
    /* The journal (registry_persist.c, set once at engine creation), all
     * NULL or all set.  Under define_lock, hold() is called before a
     * version is published, log() right after it with the definition put
     * (text set) or the id removed (text NULL), and release() last: so
     * what evaluates segments can be held off meanwhile.  The first
     * failure of log() or release() is returned by the call that
     * published. */
    void (*hold)(void *ud);
    int (*log)(void *ud, uint32_t id, int builtin, const char *text);
    int (*release)(void *ud);
    void *log_ud;
} bvt_segments;

/* A name bvt_segment_define() accepts: 1..BVT_SEGMENT_NAME_MAX bytes of
 * UTF-8, not starting with a space. */
static inline int bvt__segment_name_ok(const char *name, size_t len)
{
    return name && len >= 1 && len <= BVT_SEGMENT_NAME_MAX && name[0] != ' ' &&
           bvt_utf8_check(name, len) == len;
}

int bvt__segments_init(bvt_segments *s);
void bvt__segments_destroy(bvt_segments *s);

/* A reference to the current version; release it when done. */
bvt_segment_set *bvt__segments_acquire(bvt_segments *s);
void bvt__segments_release(bvt_segment_set *set);

/* Publish `rule`, compiled from `text`, under `name` (len bytes, a valid
 * name), interning the name if new; *out_id (may be NULL) gets its id.
 * Takes ownership of rule, also on failure.  BVT_OK, BVT_ECYCLE,
 * BVT_ENOTFOUND (the rule names a segment removed since it was compiled),
 * BVT_ELIMIT, BVT_EEXIST (replacing a built-in from outside), BVT_ENOMEM;
 * or the log hook's status (the version is then published). */
int bvt__segments_put(bvt_segments *s, const char *name, size_t len, const char *text,
                     bvt_rule *rule, int builtin, uint32_t *out_id);

/* Remove id.  BVT_OK, BVT_ENOTFOUND, BVT_EEXIST (built in or referenced:
 * *blocker set to the referencing id, or id itself when built in). */
int bvt__segments_drop(bvt_segments *s, uint32_t id, uint32_t *blocker);

/* As bvt__segments_drop, built-in segments included: the engine retiring
 * its own (cluster segments of an earlier, larger run). */
int bvt__segments_drop_builtin(bvt_segments *s, uint32_t id, uint32_t *blocker);

#endif
