/* event_types.c — names and weights of event types; registering one is
 * journaled (BVT_OP_EVENT_TYPE, replayed by registry_persist.c). */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "event_types.h"
#include "persist.h"

static const char *const builtin_names[BVT_EVENT_BUILTIN_COUNT] = {
    "page_view", "search", "add_to_cart", "remove_from_cart", "purchase", "impression",
    "click", "conversion", "like", "share", "comment", "email_open",
};

/* Interest weights: strong intent (buying, carting) counts far more than
 * passive exposure (an impression is not interest). */
static const double builtin_weights[BVT_EVENT_BUILTIN_COUNT] = {
    1.0, 1.5, 4.0, 0.0, 8.0, 0.0, 2.0, 8.0, 2.0, 3.0, 2.0, 0.5,
};

double bvt_default_type_weight(uint32_t type)
{
    return type < BVT_EVENT_BUILTIN_COUNT ? builtin_weights[type] : -1.0;
}

void bvt__event_types_init(bvt_event_types *t, const double *weights, uint32_t n)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    for (uint32_t i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        t->weights[i] = weights && i < n ? weights[i] : builtin_weights[i];
}

void bvt__event_types_destroy(bvt_event_types *t)
{
    pthread_mutex_destroy(&t->lock);
}

int bvt__event_types_valid(const bvt_event_types *t, uint32_t type)
{
    if (type < BVT_EVENT_BUILTIN_COUNT || type == BVT_EVENT_DISMISS)
        return 1;
    return type >= BVT_EVENT_CUSTOM_FIRST &&
           type - BVT_EVENT_CUSTOM_FIRST <
               atomic_load_explicit(&t->n_custom, memory_order_acquire);
}

double bvt__event_types_weight(const bvt_event_types *t, uint32_t type)
{
    return t->weights[type];
}

const char *bvt_event_type_name(const bvt_engine *engine, uint32_t type)
{
    if (type < BVT_EVENT_BUILTIN_COUNT)
        return builtin_names[type];
    if (type == BVT_EVENT_DISMISS)
        return "dismiss";
    if (!engine || !bvt__event_types_valid(&engine->types, type))
        return NULL;
    return engine->types.names[type - BVT_EVENT_CUSTOM_FIRST];
}

int bvt_event_type_lookup(const bvt_engine *engine, const char *name, uint32_t *out_type)
{
    if (!name || !out_type)
        return BVT_EINVAL;
    for (uint32_t i = 0; i < BVT_EVENT_BUILTIN_COUNT; i++)
        if (strcmp(name, builtin_names[i]) == 0) {
            *out_type = i;
            return BVT_OK;
        }
    if (strcmp(name, "dismiss") == 0) {
        *out_type = BVT_EVENT_DISMISS;
        return BVT_OK;
    }
    if (engine) {
        uint32_t n = atomic_load_explicit(&engine->types.n_custom, memory_order_acquire);
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(name, engine->types.names[i]) == 0) {
                *out_type = BVT_EVENT_CUSTOM_FIRST + i;
                return BVT_OK;
            }
    }
    return BVT_ETYPE;
}

int bvt__name_is_identifier(const char *name, size_t max)
{
    size_t len = strlen(name);
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int bvt_event_type_register(bvt_engine *engine, const char *name, double interest_weight,
                            uint32_t *out_type, bvt_error *err)
{
    if (!engine || !name || !out_type)
        return bvt__fail(err, BVT_EINVAL, -1, "engine, name and out_type are required");
    if (!bvt__name_is_identifier(name, BVT_TYPE_NAME_MAX))
        return bvt__fail(err, BVT_EINVAL, -1,
                        "event type name must be 1..31 bytes of [a-z0-9_]: '%.40s'", name);
    if (!isfinite(interest_weight) || interest_weight < 0)
        return bvt__fail(err, BVT_EINVAL, -1, "interest weight must be finite and >= 0");
    int prc = bvt__persist_check(engine);
    if (prc != BVT_OK)
        return bvt__fail(err, prc, -1, "the journal has failed: nothing can change");
    bvt_event_types *t = &engine->types;
    pthread_mutex_lock(&t->lock);
    uint32_t found;
    int rc = BVT_OK;
    if (bvt_event_type_lookup(engine, name, &found) == BVT_OK) {
        if (found < BVT_EVENT_CUSTOM_FIRST)
            rc = bvt__fail(err, BVT_EEXIST, -1, "'%s' is a built-in event type", name);
        else if (t->weights[found] != interest_weight)
            rc = bvt__fail(err, BVT_EEXIST, -1, "'%s' is registered with weight %g", name,
                          t->weights[found]);
        else
            *out_type = found;
    } else {
        uint32_t n = atomic_load_explicit(&t->n_custom, memory_order_relaxed);
        if (n >= BVT_CUSTOM_TYPES_MAX) {
            rc = bvt__fail(err, BVT_ELIMIT, -1, "%d custom event types already registered",
                          BVT_CUSTOM_TYPES_MAX);
        } else {
            /* events of the type are held off until its record is in the
             * journal before theirs (persist.h) */
            bvt__persist_hold(engine);
            strcpy(t->names[n], name);
            t->weights[BVT_EVENT_CUSTOM_FIRST + n] = interest_weight;
            atomic_store_explicit(&t->n_custom, n + 1, memory_order_release);
            *out_type = BVT_EVENT_CUSTOM_FIRST + n;
            /* under the lock: records follow the order ids are handed out */
            bvt_wbuf w = BVT_WBUF_INIT;
            bvt__w_u8(&w, BVT_OP_EVENT_TYPE);
            bvt__w_u32(&w, *out_type);
            bvt__w_cstr(&w, name);
            bvt__w_f64(&w, interest_weight);
            rc = bvt__persist_log_release(engine, &w);
            if (rc != BVT_OK)
                rc = bvt__fail(err, rc, -1, "cannot journal the new type: %s", bvt_strerror(rc));
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}
