/* segment_eval.c — segments over profiles: defining them and the per-user
 * and population calls (rules read the profile through profile_env.h). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_keys.h"
#include "error.h"
#include "persist.h"
#include "profile_env.h"
#include "utf8.h"

static int valid_segment_name(const char *name)
{
    return name && bvt__segment_name_ok(name, strlen(name));
}

/* Compile and publish; `builtin` marks the engine's own segments. */
int bvt__segment_define_internal(bvt_engine *e, const char *name, const char *rule, int builtin,
                                uint32_t *out_id, bvt_error *err)
{
    size_t len = name ? strlen(name) : 0;
    if (!e || !rule || len < 1 || len > BVT_SEGMENT_NAME_MAX || name[0] == ' ')
        return bvt__fail(err, BVT_EINVAL, -1, "segment name must be 1..%d bytes, not starting "
                        "with a space, and rule set", BVT_SEGMENT_NAME_MAX);
    int prc = bvt__utf8_require(name, len, "segment name", err);
    if (prc != BVT_OK)
        return prc;
    prc = bvt__persist_check(e);
    if (prc != BVT_OK)
        return bvt__fail(err, prc, -1, "the journal has failed: nothing can change");
    bvt_rule *compiled = NULL;
    int rc = bvt__rule_compile_in(e, builtin, NULL, rule, strlen(rule), &compiled, err);
    if (rc != BVT_OK)
        return rc;
    uint32_t id;
    rc = bvt__segments_put(&e->segments, name, strlen(name), rule, compiled, builtin, &id);
    if (rc == BVT_ELIMIT)
        return bvt__fail(err, rc, -1, "%d segment names already used", BVT_SEGMENTS_MAX);
    if (rc == BVT_ENOTFOUND)
        return bvt__fail(err, rc, -1, "'%s' names a segment removed meanwhile", name);
    if (rc == BVT_ECYCLE)
        return bvt__fail(err, rc, -1, "'%s' would depend on itself through in_segment()", name);
    if (rc == BVT_EEXIST)
        return bvt__fail(err, rc, -1, "'%s' is a built-in segment", name);
    if (rc != BVT_OK)
        return bvt__fail(err, rc, -1, "%s", bvt_strerror(rc));
    if (out_id)
        *out_id = id;
    return BVT_OK;
}

int bvt_segment_define(bvt_engine *e, const char *name, const char *rule, uint32_t *out_id,
                       bvt_error *err)
{
    return bvt__segment_define_internal(e, name, rule, 0, out_id, err);
}

int bvt_segment_remove(bvt_engine *e, const char *name, bvt_error *err)
{
    if (!e || !valid_segment_name(name))
        return bvt__fail(err, BVT_EINVAL, -1, "bad segment name");
    int prc = bvt__persist_check(e);
    if (prc != BVT_OK)
        return bvt__fail(err, prc, -1, "the journal has failed: nothing can change");
    uint32_t id = bvt__interner_find(e->segments.names, name, strlen(name)), blocker = 0;
    int rc = id ? bvt__segments_drop(&e->segments, id, &blocker) : BVT_ENOTFOUND;
    if (rc == BVT_ENOTFOUND)
        return bvt__fail(err, rc, -1, "no segment '%s'", name);
    if (rc == BVT_EEXIST)
        return bvt__fail(err, rc, -1, blocker == id ? "'%s' is built in" : "'%s' is used by '%s'",
                        name, bvt__interner_str(e->segments.names, blocker));
    return rc;
}

const char *bvt_segment_name(bvt_engine *e, uint32_t id)
{
    return e ? bvt__interner_str(e->segments.names, id) : NULL;
}

int bvt_segment_list(bvt_engine *e, uint32_t *out, size_t cap, size_t *out_n)
{
    if (!e || (!out && cap) || !out_n)
        return BVT_EINVAL;
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    for (uint32_t i = 0; i < set->n && i < cap; i++)
        out[i] = set->defs[i]->id;
    *out_n = set->n;
    bvt__segments_release(set);
    return BVT_OK;
}

void bvt_context_init(bvt_context *ctx)
{
    if (!ctx)
        return;
    bvt_context init = BVT_CONTEXT_INIT;
    *ctx = init;
}

/* Whether segments may hold the user: always, unless segments_need_consent
 * asks for the personalisation purpose. */
static int consents(const bvt_engine *e, const bvt_record *r)
{
    return !e->segments_need_consent || bvt__consent_granted(r->ext, BVT_PURPOSE_PERSONALISATION);
}


int bvt_segments_of(bvt_engine *e, const void *id, size_t len, int64_t now,
                    const bvt_context *ctx, uint32_t *out, size_t cap, size_t *out_n)
{
    if (!e || !bvt__user_id_valid(id, len) || now <= 0 || (!out && cap) || !out_n)
        return BVT_EINVAL;
    int crc = bvt__context_check(ctx, NULL);
    if (crc != BVT_OK)
        return crc;
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    uint8_t memo[BVT_SEGMENTS_MAX + 1];
    bvt_profile_env st;
    bvt__profile_env_init(&st, e, set, ctx, now, set->has_refs ? memo : NULL);
    bvt_shard *sh;
    bvt__profile_env_user(&st, bvt__engine_lock_key(e, bvt__engine_key(e, id, len), &sh));
    size_t n = 0;
    int consented = st.r && consents(e, st.r);
    for (uint32_t i = 0; consented && i < set->n; i++)
        if (bvt__profile_env_segment(&st, set->defs[i]->id)) {
            if (n < cap)
                out[n] = set->defs[i]->id;
            n++;
        }
    int found = st.r != NULL;
    pthread_mutex_unlock(&sh->lock);
    bvt__segments_release(set);
    *out_n = n;
    return found ? BVT_OK : BVT_ENOTFOUND;
}

#define MEMBER_CHUNK 1024u

int bvt_segment_members(bvt_engine *e, uint32_t segment, int64_t now, const bvt_context *ctx,
                        bvt_member_fn fn, void *ud, uint64_t *out_count)
{
    if (out_count)
        *out_count = 0;
    if (!e || now <= 0)
        return BVT_EINVAL;
    int crc = bvt__context_check(ctx, NULL);
    if (crc != BVT_OK)
        return crc;
    bvt_segment_set *set = bvt__segments_acquire(&e->segments);
    const bvt_segment_def *d = segment <= set->max_id ? set->by_id[segment] : NULL;
    bvt_user_key *keys = d && fn ? malloc(MEMBER_CHUNK * sizeof *keys) : NULL;
    uint8_t *memo = d && set->has_refs ? malloc(set->max_id + 1) : NULL;
    int rc = !d ? BVT_ENOTFOUND : (fn && !keys) || (set->has_refs && !memo) ? BVT_ENOMEM : 0;
    uint64_t count = 0;
    bvt_profile_env st;
    bvt__profile_env_init(&st, e, set, ctx, now, memo);
    for (uint32_t s = 0; rc == 0 && s < e->store.n_shards; s++) {
        bvt_shard *sh = &e->store.shards[s];
        for (uint32_t next = 0, end;;) {
            size_t n = 0;
            bvt__shard_lock(sh);
            end = sh->high_water;
            for (; next < end && n < MEMBER_CHUNK; next++) {
                const bvt_record *r = bvt__shard_record(sh, next);
                if (!bvt__record_live(r) || !consents(e, r))
                    continue;
                bvt__profile_env_user(&st, r);
                if (!bvt__profile_env_segment(&st, d->id))
                    continue;
                if (keys)
                    keys[n] = (bvt_user_key){ st.r->key_hi, st.r->key_lo };
                n++;
            }
            pthread_mutex_unlock(&sh->lock);
            count += n;
            for (size_t i = 0; keys && i < n && rc == 0; i++)
                rc = fn(&keys[i], ud);
            if (rc != 0 || next >= end)
                break;
        }
    }
    free(keys);
    free(memo);
    bvt__segments_release(set);
    if (out_count)
        *out_count = count;
    return rc;
}
