/* purposes.c — the engine's consent purpose names (purposes.h): the
 * built-in ones and those registered by name, journaled as they are
 * handed out. */
#include <string.h>

#include "change_sink.h"
#include "event_types.h"
#include "persist.h"
#include "purposes.h"

static const char *const builtin_purposes[] = { "personalisation", "ads", "analytics" };
#define BUILTIN_PURPOSES (sizeof builtin_purposes / sizeof builtin_purposes[0])

void bvt__purposes_init(bvt_purposes *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    for (uint32_t i = 0; i < BUILTIN_PURPOSES; i++)
        strcpy(p->names[i], builtin_purposes[i]);
    atomic_store_explicit(&p->n, (uint32_t)BUILTIN_PURPOSES, memory_order_release);
}

void bvt__purposes_destroy(bvt_purposes *p)
{
    pthread_mutex_destroy(&p->lock);
}

int bvt__purposes_find(const bvt_purposes *p, const char *name, size_t len, uint32_t *out)
{
    uint32_t n = atomic_load_explicit(&p->n, memory_order_acquire);
    for (uint32_t i = 0; i < n && len <= BVT_PURPOSE_NAME_MAX; i++)
        if (strncmp(p->names[i], name, len) == 0 && p->names[i][len] == 0) {
            *out = i;
            return BVT_OK;
        }
    return BVT_ENOTFOUND;
}

static int valid_purpose_name(const char *name)
{
    return bvt__name_is_identifier(name, BVT_PURPOSE_NAME_MAX);
}

int bvt_consent_purpose(bvt_engine *e, const char *name, int create, uint32_t *out_id)
{
    if (!e || !name || !out_id || !valid_purpose_name(name))
        return BVT_EINVAL;
    bvt_purposes *p = &e->purposes;
    size_t len = strlen(name);
    int rc = bvt__purposes_find(p, name, len, out_id);
    if (rc == BVT_OK || !create)
        return rc;
    if ((rc = bvt__persist_check(e)) != BVT_OK)
        return rc;
    pthread_mutex_lock(&p->lock);
    rc = bvt__purposes_find(p, name, len, out_id); /* another thread may have won */
    if (rc != BVT_OK) {
        uint32_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
        rc = BVT_ELIMIT;
        if (n < BVT_PURPOSES_MAX) {
            /* consent changes naming it are held off until its record is
             * in the journal before theirs (persist.h) */
            bvt__persist_hold(e);
            strcpy(p->names[n], name);
            atomic_store_explicit(&p->n, n + 1, memory_order_release);
            *out_id = n;
            /* under the lock: records follow the order ids are handed out */
            bvt_wbuf w = BVT_WBUF_INIT;
            bvt__w_u8(&w, BVT_OP_PURPOSE);
            bvt__w_u32(&w, n);
            bvt__w_str(&w, name, len);
            rc = bvt__persist_log_release(e, &w);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}
