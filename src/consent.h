/* consent.h — consent per purpose: the engine's purpose names and the
 * public consent calls.
 *
 * Purposes are ids 0..31: three built in, the rest registered by name and
 * never removed (compiled rules keep their ids).  Registration is serialised
 * by a mutex and published with a release store of the count, so lock-free
 * readers that see an id valid also see its name.
 *
 * Each profile's recorded choices (the granted mask rules read, the latest
 * choice per purpose) are plain data owned by consent_state.h, included
 * here for the callers that read them. */
#ifndef BVT_CONSENT_H
#define BVT_CONSENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "consent_state.h"
#include "profile.h"

/* BVT_PURPOSES_MAX (32, public) ids fit the ext's 32-bit mask. */
#define BVT_PURPOSE_NAME_MAX 31

typedef struct bvt_purposes {
    pthread_mutex_t lock; /* serialises registration */
    _Atomic uint32_t n;   /* ids below n are valid */
    char names[BVT_PURPOSES_MAX][BVT_PURPOSE_NAME_MAX + 1];
} bvt_purposes;

void bvt_purposes_init(bvt_purposes *p);
void bvt_purposes_destroy(bvt_purposes *p);

/* Id of a purpose name (len bytes, no NUL needed): BVT_OK or BVT_ENOTFOUND. */
int bvt_purposes_find(const bvt_purposes *p, const char *name, size_t len, uint32_t *out);

#endif
