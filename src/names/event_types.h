/* event_types.h — built-in and custom event types with their interest weights.
 * Custom types are published with a release store of the count, so readers
 * that see a type id valid also see its name and weight. */
#ifndef BVT_EVENT_TYPES_H
#define BVT_EVENT_TYPES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

#define BVT_CUSTOM_TYPES_MAX (BVT_EVENT_TYPE_MAX - BVT_EVENT_CUSTOM_FIRST)
#define BVT_TYPE_NAME_MAX 31

typedef struct bvt_event_types {
    pthread_mutex_t lock; /* serialises registration */
    _Atomic uint32_t n_custom;
    double weights[BVT_EVENT_TYPE_MAX];
    char names[BVT_CUSTOM_TYPES_MAX][BVT_TYPE_NAME_MAX + 1];
} bvt_event_types;

/* 1 if name is 1..max bytes of [a-z0-9_]: the form of type and purpose names. */
int bvt__name_is_identifier(const char *name, size_t max);

/* Built-in weights from `weights` (n entries, rest default). */
void bvt__event_types_init(bvt_event_types *t, const double *weights, uint32_t n);
void bvt__event_types_destroy(bvt_event_types *t);

/* 1 if type is built in or registered. */
int bvt__event_types_valid(const bvt_event_types *t, uint32_t type);
/* Interest weight of a valid type. */
double bvt__event_types_weight(const bvt_event_types *t, uint32_t type);

#endif
