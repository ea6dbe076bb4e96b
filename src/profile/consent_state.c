/* consent_state.c — one profile's consent choices: recording, merging,
 * bytes, release and the snapshot encoding (consent_state.h).  Calls only
 * the memory accounting and the codec; purpose names and the public calls
 * are in consent.c. */
#include <string.h>

#include "consent_state.h"

static size_t log_size(uint32_t len)
{
    return len ? sizeof(bvt_consent_log) + len * sizeof(bvt_consent_choice) : 0;
}

static bvt_consent_choice *find_choice(const bvt_ext *x, uint32_t purpose)
{
    for (uint32_t i = 0; x->consent && i < x->consent->len; i++)
        if (x->consent->c[i].purpose == purpose)
            return &x->consent->c[i];
    return NULL;
}

int bvt__consent_record(bvt_ext *x, bvt_mem *m, uint32_t purpose, int granted, int64_t t_ms)
{
    bvt_consent_choice *c = find_choice(x, purpose);
    if (!c) {
        /* Grown one choice at a time: a user chooses for a few purposes, rarely. */
        uint32_t n = x->consent ? x->consent->len : 0;
        void *p = x->consent;
        int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, log_size(n), log_size(n + 1));
        if (rc != BVT_OK)
            return rc;
        x->consent = p;
        x->consent->len = n + 1;
        x->consent->unused = 0;
        c = &x->consent->c[n];
        c->purpose = purpose;
    } else if (t_ms < c->t_ms || (t_ms == c->t_ms && granted)) {
        return BVT_OK; /* a late arrival, or a tie that a denial already won */
    }
    c->t_ms = t_ms;
    c->granted = granted != 0;
    if (granted)
        x->consent_granted |= 1u << purpose;
    else
        x->consent_granted &= ~(1u << purpose);
    return BVT_OK;
}

void bvt__consent_merge(bvt_ext *dst, bvt_ext *src, bvt_mem *m)
{
    if (!src->consent)
        return;
    if (!dst->consent) { /* take the block over: nothing to compare, nothing to allocate */
        dst->consent = src->consent;
        dst->consent_granted = src->consent_granted;
        src->consent = NULL;
        src->consent_granted = 0;
        return;
    }
    /* Only a purpose dst never chose needs room; if that fails dst simply
     * stays without a choice for it, which grants nothing. */
    for (uint32_t i = 0; i < src->consent->len; i++) {
        const bvt_consent_choice *c = &src->consent->c[i];
        (void)bvt__consent_record(dst, m, c->purpose, (int)c->granted, c->t_ms);
    }
}

size_t bvt__consent_bytes(const bvt_ext *x)
{
    return x && x->consent ? log_size(x->consent->len) : 0;
}

void bvt__consent_release(bvt_ext *x, bvt_mem *m)
{
    void *p = x->consent;
    bvt__mem_resize(m, BVT_MEM_ATTRS, &p, bvt__consent_bytes(x), 0);
    x->consent = NULL;
    x->consent_granted = 0;
}

/* ---- the snapshot encoding ---- */

void bvt__consent_save(const bvt_ext *x, bvt_wbuf *w)
{
    bvt__w_u32(w, x->consent_granted);
    uint32_t n_consent = x->consent ? x->consent->len : 0;
    bvt__w_u32(w, n_consent);
    for (uint32_t i = 0; i < n_consent; i++) {
        bvt__w_i64(w, x->consent->c[i].t_ms);
        bvt__w_u32(w, x->consent->c[i].purpose);
        bvt__w_u8(w, (uint8_t)x->consent->c[i].granted);
    }
}

int bvt__consent_load(bvt_ext *x, bvt_mem *m, bvt_rbuf *r, uint32_t purposes)
{
    x->consent_granted = bvt__r_u32(r);
    uint32_t len = bvt__r_count(r, 13);
    if (len > purposes || (purposes < 32 && x->consent_granted >> purposes))
        return bvt__r_fail(r, "consent for an unknown purpose"), BVT_ECORRUPT;
    if (len == 0)
        return r->bad ? BVT_ECORRUPT : BVT_OK;
    size_t size = sizeof(bvt_consent_log) + len * sizeof(bvt_consent_choice);
    void *p = NULL;
    int rc = bvt__mem_resize(m, BVT_MEM_ATTRS, &p, 0, size);
    if (rc != BVT_OK)
        return rc;
    memset(p, 0, size);
    x->consent = p;
    for (uint32_t i = 0; i < len; i++) {
        bvt_consent_choice *c = &x->consent->c[i];
        c->t_ms = bvt__r_i64(r);
        c->purpose = bvt__r_u32(r);
        c->granted = bvt__r_u8(r);
        if (c->purpose >= purposes || c->granted > 1)
            return bvt__r_fail(r, "consent choice for an unknown purpose"), BVT_ECORRUPT;
        x->consent->len = i + 1;
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}
