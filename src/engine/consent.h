/* consent.h — consent per purpose: the public consent calls (consent.c),
 * with the purpose names (purposes.h).
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
#include "purposes.h"
#include "profile.h"

#endif
