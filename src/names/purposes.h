/* purposes.h — consent purposes: ids 0..31, three built in, the rest
 * registered by name and never removed (compiled rules keep their ids).
 * Registration is serialised by a mutex and published with a release
 * store of the count, so lock-free readers that see an id valid also see
 * its name. */
#ifndef BVT_PURPOSES_H
#define BVT_PURPOSES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* BVT_PURPOSES_MAX (32, public) ids fit the ext's 32-bit mask. */
#define BVT_PURPOSE_NAME_MAX 31

typedef struct bvt_purposes {
    pthread_mutex_t lock; /* serialises registration */
    _Atomic uint32_t n;   /* ids below n are valid */
    char names[BVT_PURPOSES_MAX][BVT_PURPOSE_NAME_MAX + 1];
} bvt_purposes;

void bvt__purposes_init(bvt_purposes *p);
void bvt__purposes_destroy(bvt_purposes *p);

/* Id of a purpose name (len bytes, no NUL needed): BVT_OK or BVT_ENOTFOUND. */
int bvt__purposes_find(const bvt_purposes *p, const char *name, size_t len, uint32_t *out);

/* Whether id names a purpose (lock-free). */
static inline int bvt__purposes_valid(const bvt_purposes *p, uint32_t id)
{
    return id < atomic_load_explicit(&p->n, memory_order_acquire);
}

#endif
