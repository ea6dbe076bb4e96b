/* experiment_persist.c — experiments in snapshots (BVT_SEC_EXPERIMENTS:
 * variant names and experiment names in id order, each current definition
 * as the caller gave it, every counter the report reads), the check of a
 * loaded profile's sticky assignments against the definitions (their
 * encoding is experiment_user.c's), and replaying the journal records
 * BVT_OP_EXPERIMENT_DEFINE and BVT_OP_EXPERIMENT_ASSIGN (experiment_log.c
 * writes them).
 *
 * Definitions load through the define path (the raw weights and the
 * policies as given, so ranges and resolved policies come out identical);
 * numeric ids travel with them and are checked.  An assignment record
 * carries its outcome (variant, exposure time, offer segments) and the
 * user's key: the raw id a GrowthBook hash needs is not at rest.
 *
 * Locks while saving (every shard lock held by the caller): a slot's
 * `lock` is taken to read its definition.  It is held only to read or swap
 * that pointer and no thread holds it while waiting for a shard lock
 * (ranking and assignment take their reference before locking the shard;
 * the report takes no shard lock, and a definer takes the slot's lock only
 * once it holds every shard lock, change_sink.h).  define_lock is NOT
 * taken: a definer holds it while it waits for every shard lock.  Names are read
 * lock-free before the definitions (a definition's names are interned
 * before it is published), counters with relaxed loads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "experiment.h"
#include "experiment_internal.h"
#include "offer.h"
#include "persist.h"

#define NAME_MIN 6u /* u32 length, >= 1 byte, NUL */
#define DEF_MIN 40u /* the smallest definition encoding */

static int load_status(bvt_rbuf *r, int rc, const char *why)
{
    if (rc == BVT_OK || rc == BVT_ENOMEM || rc == BVT_EFULL)
        return rc;
    bvt__r_fail(r, why);
    return BVT_ECORRUPT;
}

/* ---- one definition ---- */

/* A decoded definition; strings point into the data, offer names into a
 * block freed with def_text_free. */
typedef struct def_text {
    uint32_t id;
    bvt_experiment exp;
    bvt_variant variants[BVT_VARIANTS_MAX];
    bvt_policy policies[BVT_VARIANTS_MAX];
    const char **offers[BVT_VARIANTS_MAX];
} def_text;

static void def_text_free(def_text *t)
{
    for (uint32_t v = 0; v < BVT_VARIANTS_MAX; v++)
        free(t->offers[v]);
}

/* BVT_OK, BVT_ECORRUPT (r bad), BVT_ENOMEM; t is to be freed either way. */
static int get_def(bvt_rbuf *r, def_text *t)
{
    memset(t, 0, sizeof *t);
    bvt_experiment init = BVT_EXPERIMENT_INIT;
    t->exp = init;
    t->id = bvt__r_u32(r);
    t->exp.name = bvt__r_str(r, NULL);
    t->exp.salt = bvt__r_str(r, NULL);
    t->exp.hash = bvt__r_u32(r);
    t->exp.coverage = bvt__r_f64(r);
    t->exp.holdout = bvt__r_f64(r);
    uint32_t n = bvt__r_u32(r);
    if (n < 2 || n > BVT_VARIANTS_MAX)
        bvt__r_fail(r, "variant count out of range");
    for (uint32_t v = 0; v < n && !r->bad; v++) {
        bvt_variant *var = &t->variants[v];
        var->name = bvt__r_str(r, NULL);
        var->weight = bvt__r_f64(r);
        uint8_t has_policy = bvt__r_u8(r);
        if (has_policy == 1) {
            bvt__offers_get_policy(r, &t->policies[v]);
            var->policy = &t->policies[v];
        }
        uint8_t has_offers = bvt__r_u8(r);
        if (has_policy > 1 || has_offers > 1)
            bvt__r_fail(r, "flag is not 0 or 1");
        if (has_offers != 1 || r->bad)
            continue;
        uint32_t k = bvt__r_count(r, NAME_MIN);
        /* + 1: a non-NULL set even when empty (nothing ranks in the variant) */
        if (!r->bad && !(t->offers[v] = malloc(((size_t)k + 1) * sizeof *t->offers[v])))
            return BVT_ENOMEM;
        for (uint32_t i = 0; i < k && !r->bad; i++)
            t->offers[v][i] = bvt__r_str(r, NULL);
        var->offers = t->offers[v];
        var->n_offers = k;
    }
    t->exp.variants = t->variants;
    t->exp.n_variants = r->bad ? 0 : n;
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

/* Define t as it was: its id known already with that number or, for a
 * journal record (allow_new), the next the names hand out. */
static int define_decoded(bvt_engine *e, bvt_rbuf *r, const def_text *t, int allow_new)
{
    bvt_interner *names = e->experiments->names;
    size_t len;
    if (!t->exp.name || !bvt__experiment_text_valid(t->exp.name, BVT_EXP_NAME_MAX, &len)) {
        bvt__r_fail(r, "bad experiment name");
        return BVT_ECORRUPT;
    }
    uint32_t known = bvt__interner_find(names, t->exp.name, len);
    if (known ? known != t->id : !allow_new || t->id != bvt__interner_count(names) + 1) {
        bvt__r_fail(r, "experiment name does not match its numeric id");
        return BVT_ECORRUPT;
    }
    uint32_t id = 0;
    int rc = bvt__experiment_define_restore(e, &t->exp, &id, NULL);
    if (rc == BVT_OK && id != t->id)
        rc = BVT_ECORRUPT; /* cannot happen after the check above */
    return load_status(r, rc, "experiment definition does not define");
}

/* ---- counters ---- */

static uint64_t ld(const _Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static double ldd(const _Atomic double *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static int cell_used(const bvt_exp_cell *c)
{
    return ld(&c->users) || ld(&c->impressions) || ld(&c->clicks) || ld(&c->conversions) ||
           ld(&c->converters) || ldd(&c->revenue) != 0 || ldd(&c->revenue_sq) != 0 ||
           ldd(&c->cost) != 0;
}

/* Rows with anything in them (a mask), then each such row's n + 1 cells. */
static void put_cells(bvt_wbuf *w, bvt_exp_cell *cells, uint32_t n)
{
    uint32_t rows = 0;
    for (uint32_t row = 0; row < BVT_EXP_ROWS; row++)
        for (uint32_t col = 0; col <= n; col++)
            if (cell_used(bvt__exp_cell_at(cells, n, row, col)))
                rows |= 1u << row;
    bvt__w_u32(w, rows);
    for (uint32_t row = 0; row < BVT_EXP_ROWS; row++) {
        if (!(rows >> row & 1))
            continue;
        for (uint32_t col = 0; col <= n; col++) {
            const bvt_exp_cell *c = bvt__exp_cell_at(cells, n, row, col);
            bvt__w_u64(w, ld(&c->users));
            bvt__w_u64(w, ld(&c->impressions));
            bvt__w_u64(w, ld(&c->clicks));
            bvt__w_u64(w, ld(&c->conversions));
            bvt__w_u64(w, ld(&c->converters));
            bvt__w_f64(w, ldd(&c->revenue));
            bvt__w_f64(w, ldd(&c->revenue_sq));
            bvt__w_f64(w, ldd(&c->cost));
        }
    }
}

static void st(_Atomic uint64_t *p, uint64_t v)
{
    atomic_store_explicit(p, v, memory_order_relaxed);
}

static void st_amount(_Atomic double *p, bvt_rbuf *r)
{
    double v = bvt__r_f64(r);
    if (!isfinite(v)) {
        bvt__r_fail(r, "counter is not finite");
        v = 0;
    }
    atomic_store_explicit(p, v, memory_order_relaxed);
}

static int get_cells(bvt_rbuf *r, bvt_exp_cell *cells, uint32_t n)
{
    uint32_t rows = bvt__r_u32(r);
    if (rows >> BVT_EXP_ROWS)
        bvt__r_fail(r, "counter row mask names rows that do not exist");
    for (uint32_t row = 0; row < BVT_EXP_ROWS && !r->bad; row++) {
        if (!(rows >> row & 1))
            continue;
        for (uint32_t col = 0; col <= n && !r->bad; col++) {
            bvt_exp_cell *c = bvt__exp_cell_at(cells, n, row, col);
            st(&c->users, bvt__r_u64(r));
            st(&c->impressions, bvt__r_u64(r));
            st(&c->clicks, bvt__r_u64(r));
            st(&c->conversions, bvt__r_u64(r));
            st(&c->converters, bvt__r_u64(r));
            st_amount(&c->revenue, r);
            st_amount(&c->revenue_sq, r);
            st_amount(&c->cost, r);
        }
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

/* ---- the section ---- */

static void put_names(bvt_wbuf *w, const bvt_interner *in, uint32_t n)
{
    bvt__w_u32(w, n);
    for (uint32_t id = 1; id <= n; id++)
        bvt__w_str(w, bvt__interner_str(in, id), bvt__interner_len(in, id));
}

int bvt__experiments_save(bvt_engine *e, bvt_wbuf *w)
{
    struct bvt_experiments *x = e->experiments;
    /* names first: whatever definition is read below has its names among them */
    uint32_t n_vnames = bvt__interner_count(x->vnames);
    uint32_t n_names = bvt__interner_count(x->names);
    put_names(w, x->vnames, n_vnames);
    put_names(w, x->names, n_names);
    for (uint32_t id = 1; id <= n_names; id++) {
        bvt_exp_slot *s = &x->slots[id];
        pthread_mutex_lock(&s->lock);
        bvt_experiment_def *d = s->def;
        if (d)
            atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(&s->lock);
        bvt__w_u8(w, d != NULL);
        if (d) {
            bvt__experiments_put_def(e, w, d);
            put_cells(w, atomic_load_explicit(&s->cells, memory_order_acquire), s->n);
        }
        bvt__experiment_release(d);
    }
    return w->oom ? BVT_ENOMEM : BVT_OK;
}

/* Names in id order into an empty interner. */
static int load_names(bvt_rbuf *r, bvt_interner *in)
{
    uint32_t n = bvt__r_count(r, NAME_MIN);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        size_t len, ok_len;
        const char *s = bvt__r_str(r, &len);
        uint32_t id = 0;
        int fresh = 0;
        if (!s || !bvt__experiment_text_valid(s, BVT_EXP_NAME_MAX, &ok_len)) {
            bvt__r_fail(r, "bad name");
            break;
        }
        int rc = bvt__interner_intern(in, s, len, 0, &id, &fresh);
        if (rc == BVT_ENOMEM)
            return rc;
        if (rc != BVT_OK || !fresh || id != i + 1)
            bvt__r_fail(r, "name repeated or beyond the limit");
    }
    return r->bad ? BVT_ECORRUPT : BVT_OK;
}

int bvt__experiments_load(bvt_engine *e, bvt_rbuf *r)
{
    struct bvt_experiments *x = e->experiments;
    if (bvt__interner_count(x->names) || bvt__interner_count(x->vnames)) {
        bvt__r_fail(r, "experiments loaded into an engine that has some");
        return BVT_ECORRUPT;
    }
    int rc = load_names(r, x->vnames);
    if (rc == BVT_OK)
        rc = load_names(r, x->names);
    uint32_t n_names = bvt__interner_count(x->names);
    for (uint32_t id = 1; rc == BVT_OK && id <= n_names; id++) {
        uint8_t has = bvt__r_u8(r);
        if (has > 1)
            bvt__r_fail(r, "definition flag is not 0 or 1");
        if (r->bad) {
            rc = BVT_ECORRUPT;
            break;
        }
        if (!has)
            continue;
        def_text t;
        rc = get_def(r, &t);
        if (rc == BVT_OK && t.id != id) {
            bvt__r_fail(r, "definition out of order");
            rc = BVT_ECORRUPT;
        }
        if (rc == BVT_OK)
            rc = define_decoded(e, r, &t, 0);
        def_text_free(&t);
        if (rc == BVT_OK) {
            bvt_exp_slot *s = &x->slots[id];
            rc = get_cells(r, atomic_load_explicit(&s->cells, memory_order_relaxed), s->n);
        }
    }
    if (rc == BVT_OK && !bvt__r_end(r))
        rc = BVT_ECORRUPT;
    return rc;
}

/* ---- a profile's assignments (encoded by experiment_user.c) ---- */

int bvt__experiments_user_check(bvt_engine *e, const bvt_ext *x)
{
    const struct bvt_exp_user *u = x ? x->experiments : NULL;
    for (uint32_t i = 0; u && i < u->len; i++) {
        const bvt_exp_entry *en = &u->e[i];
        const bvt_exp_slot *s = en->experiment && en->experiment <= BVT_EXPERIMENTS_MAX
                                    ? &e->experiments->slots[en->experiment] : NULL;
        if (!s || !atomic_load_explicit(&s->hot, memory_order_acquire) ||
            (en->variant >= 0 && (uint32_t)en->variant >= s->n))
            return BVT_ECORRUPT;
    }
    return BVT_OK;
}

int bvt__experiments_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    if (op == BVT_OP_EXPERIMENT_DEFINE) {
        def_text t;
        int rc = get_def(r, &t);
        if (rc == BVT_OK && !bvt__r_end(r))
            rc = BVT_ECORRUPT;
        if (rc == BVT_OK)
            rc = define_decoded(e, r, &t, 1);
        def_text_free(&t);
        return rc;
    }
    if (op == BVT_OP_EXPERIMENT_ASSIGN) {
        bvt_user_key k;
        k.hi = bvt__r_u64(r);
        k.lo = bvt__r_u64(r);
        uint32_t experiment = bvt__r_u32(r);
        int32_t variant = bvt__r_i32(r);
        int64_t now = bvt__r_i64(r);
        uint32_t mask = bvt__r_u32(r);
        if (!bvt__r_end(r))
            return BVT_ECORRUPT;
        int rc = bvt__experiment_replay_assign(e, k, experiment, variant, now, mask);
        if (rc == BVT_ELIMIT)
            rc = BVT_ECORRUPT; /* the original recorded it, so there was room */
        if (rc == BVT_ECORRUPT)
            bvt__r_fail(r, "assignment names no such experiment, variant or user key");
        return rc;
    }
    bvt__r_fail(r, "not an experiment record");
    return BVT_ECORRUPT;
}
