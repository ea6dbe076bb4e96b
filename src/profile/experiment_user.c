/* experiment_user.c — one profile's sticky experiment assignments: finding
 * and reserving entries, merging, bytes, release, reading out and the
 * snapshot encoding (experiment_user.h).  Calls only the memory accounting
 * and the codec; what an assignment means (hashing, counters, the journal)
 * is experiment.c's and experiment_persist.c's. */
#include <math.h>
#include <string.h>

#include "experiment_user.h"

#define ENTRY_BYTES 24u /* one entry in the snapshot encoding */

typedef bvt_exp_entry exp_entry;

static size_t user_size(uint32_t cap)
{
    return bvt__exp_user_size(cap);
}

size_t bvt__experiments_user_bytes(const bvt_ext *x)
{
    return x && x->experiments ? user_size(x->experiments->cap) : 0;
}

void bvt__experiments_user_release(bvt_ext *x, bvt_mem *m)
{
    if (!x || !x->experiments)
        return;
    void *p = x->experiments;
    bvt__mem_resize(m, BVT_MEM_ATTRS, &p, user_size(x->experiments->cap), 0);
    x->experiments = NULL;
}

exp_entry *bvt__exp_user_find(const bvt_ext *x, uint32_t experiment)
{
    struct bvt_exp_user *u = x ? x->experiments : NULL;
    for (uint32_t i = 0; u && i < u->len; i++)
        if (u->e[i].experiment == experiment)
            return &u->e[i];
    return NULL;
}

/* Room for one more entry: BVT_OK, BVT_ELIMIT, BVT_EFULL, BVT_ENOMEM. */
int bvt__exp_user_reserve(bvt_ext *x, bvt_mem *m)
{
    struct bvt_exp_user *u = x->experiments;
    uint32_t len = u ? u->len : 0, cap = u ? u->cap : 0;
    if (len < cap)
        return BVT_OK;
    if (len >= BVT_EXP_USER_MAX)
        return BVT_ELIMIT;
    uint32_t want = cap ? cap * 2 : 2;
    if (want > BVT_EXP_USER_MAX)
        want = BVT_EXP_USER_MAX;
    void *p = u;
    int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, user_size(cap), user_size(want));
    if (rc != BVT_OK)
        return rc;
    u = p;
    u->len = (uint8_t)len;
    u->cap = (uint8_t)want;
    x->experiments = u;
    return BVT_OK;
}

void bvt__experiments_user_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m)
{
    if (!src || !src->experiments)
        return;
    if (!dst->experiments) { /* take the block over */
        dst->experiments = src->experiments;
        src->experiments = NULL;
        return;
    }
    const struct bvt_exp_user *s = src->experiments;
    for (uint32_t i = 0; i < s->len; i++) {
        if (bvt__exp_user_find(dst, s->e[i].experiment))
            continue; /* the known profile's assignment wins */
        if (bvt__exp_user_reserve(dst, m) != BVT_OK)
            continue; /* best effort: the budget or the 32 entries refused */
        dst->experiments->e[dst->experiments->len++] = s->e[i];
    }
    bvt__experiments_user_release(src, m);
}

int bvt__experiments_user_at(const bvt_ext *x, uint32_t i, bvt_exp_assignment *out)
{
    const struct bvt_exp_user *u = x ? x->experiments : NULL;
    if (!u || i >= u->len)
        return 0;
    out->experiment = u->e[i].experiment;
    out->variant = u->e[i].variant;
    out->exposed_ms = u->e[i].exposed_ms;
    return 1;
}

/* ---- the snapshot encoding ---- */

void bvt__experiments_user_save(const bvt_ext *x, bvt_wbuf *w)
{
    const struct bvt_exp_user *u = x ? x->experiments : NULL;
    bvt__w_u8(w, u ? u->cap : 0);
    if (!u)
        return;
    bvt__w_u8(w, u->len);
    for (uint32_t i = 0; i < u->len; i++) {
        const bvt_exp_entry *en = &u->e[i];
        bvt__w_u16(w, en->experiment);
        bvt__w_u8(w, (uint8_t)en->variant);
        bvt__w_u8(w, en->converted);
        bvt__w_u32(w, en->seg_mask);
        bvt__w_i64(w, en->exposed_ms);
        bvt__w_f64(w, en->revenue);
    }
}

/* The capacities bvt__exp_user_reserve grows through. */
static int cap_valid(uint32_t cap)
{
    return cap == 2 || cap == 4 || cap == 8 || cap == 16 || cap == BVT_EXP_USER_MAX;
}

int bvt__experiments_user_load(bvt_ext *x, bvt_mem *m, bvt_rbuf *r)
{
    bvt__experiments_user_release(x, m); /* a fresh ext holds none */
    uint32_t cap = bvt__r_u8(r);
    if (r->bad || cap == 0)
        return r->bad ? BVT_ECORRUPT : BVT_OK;
    uint32_t len = bvt__r_u8(r);
    if (!cap_valid(cap) || len > cap)
        bvt__r_fail(r, "bad assignment count");
    bvt_exp_entry tmp[BVT_EXP_USER_MAX];
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        bvt_exp_entry *en = &tmp[i];
        uint16_t experiment = bvt__r_u16(r);
        int8_t variant = (int8_t)bvt__r_u8(r);
        uint8_t converted = bvt__r_u8(r);
        uint32_t mask = bvt__r_u32(r);
        int64_t exposed = bvt__r_i64(r);
        double revenue = bvt__r_f64(r);
        if (r->bad)
            break;
        if (experiment == 0 || experiment > BVT_EXPERIMENTS_MAX ||
            (variant < 0 && variant != BVT_VARIANT_HOLDOUT) || variant >= BVT_VARIANTS_MAX ||
            converted > 1 || (mask & ~BVT_EXP_ROW_MASK) || exposed <= 0 || !isfinite(revenue)) {
            bvt__r_fail(r, "bad experiment assignment");
            break;
        }
        for (uint32_t j = 0; j < i; j++)
            if (tmp[j].experiment == experiment)
                bvt__r_fail(r, "experiment assigned twice");
        *en = (bvt_exp_entry){ .exposed_ms = exposed, .revenue = revenue, .seg_mask = mask,
                               .experiment = experiment, .variant = variant,
                               .converted = converted };
    }
    if (r->bad)
        return BVT_ECORRUPT;
    void *p = NULL;
    int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, 0, bvt__exp_user_size(cap));
    if (rc != BVT_OK)
        return rc;
    struct bvt_exp_user *u = p;
    u->cap = (uint8_t)cap;
    u->len = (uint8_t)len;
    if (len)
        memcpy(u->e, tmp, len * sizeof *tmp);
    x->experiments = u;
    return BVT_OK;
}
