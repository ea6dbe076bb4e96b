/* experiment_log.c — the journal records of experiments (experiment.c
 * appends them; experiment_persist.c replays them): a definition as the
 * caller gave it, and an assignment's outcome with the user's key. */
#include "change_log.h"
#include "engine.h"
#include "experiment_internal.h"
#include "offer.h"
#include "persist.h"

void bvt__experiments_put_def(bvt_engine *e, bvt_wbuf *w, const bvt_experiment_def *d)
{
    const bvt_exp_hot *h = d->hot;
    bvt__w_u32(w, d->id);
    bvt__w_cstr(w, d->name);
    bvt__w_str(w, h->salt, h->salt_len);
    bvt__w_u32(w, h->kind);
    bvt__w_f64(w, h->coverage);
    bvt__w_f64(w, h->holdout);
    bvt__w_u32(w, d->n);
    for (uint32_t v = 0; v < d->n; v++) {
        bvt__w_cstr(w, d->vname[v]);
        bvt__w_f64(w, d->raw_weight[v]);
        bvt__w_u8(w, d->has_policy[v]);
        if (d->has_policy[v])
            bvt__offers_put_policy(w, &d->policy_given[v]);
        bvt__w_u8(w, d->has_offers[v]);
        if (d->has_offers[v]) {
            bvt__w_u32(w, d->n_offers[v]);
            for (uint32_t i = 0; i < d->n_offers[v]; i++)
                bvt__w_cstr(w, bvt_offer_name(e, d->offers[v][i]));
        }
    }
}

int bvt__experiments_log_define(bvt_engine *e, const bvt_experiment_def *d)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_EXPERIMENT_DEFINE);
    bvt__experiments_put_def(e, &w, d);
    return bvt__persist_log(e, &w);
}

/* op, key (hi, lo), experiment, variant, exposure time, offer segments. */
int bvt__experiments_log_assign(bvt_engine *e, const bvt_record *r, uint32_t experiment,
                               int32_t variant, int64_t now, uint32_t seg_mask)
{
    unsigned char buf[40];
    bvt_wbuf w = bvt__wbuf_fixed(buf, sizeof buf); /* no allocation under the shard lock */
    bvt__w_u8(&w, BVT_OP_EXPERIMENT_ASSIGN);
    bvt__w_u64(&w, r->key_hi);
    bvt__w_u64(&w, r->key_lo);
    bvt__w_u32(&w, experiment);
    bvt__w_i32(&w, variant);
    bvt__w_i64(&w, now);
    bvt__w_u32(&w, seg_mask);
    return bvt__log_change(e, (bvt_user_key){ r->key_hi, r->key_lo }, w.p, w.len);
}
