/* rfm_state.c — `bvt rfm --state DIR`: the lifetimes summary, and with
 * --scores the RFM scores, of every buyer a state directory holds, read by
 * keyed hash (bvt_rfm_summary_get_key): DIR keeps no customer ids, so the
 * lines are named and sorted by key; the columns are the file path's
 * (cli_rfm_row). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct buyer {
    bvt_user_key key;
    uint32_t scores[3];
} buyer;

typedef struct buyers {
    buyer *b;
    size_t n, cap;
    int64_t last_purchase_ms; /* the latest purchase of them all */
} buyers;

static int collect(const bvt_user_key *k, const bvt_profile *p, void *ud)
{
    buyers *B = ud;
    if (!p->last_purchase_ms)
        return 0;
    if (B->n == B->cap) {
        size_t cap = B->cap ? B->cap * 2 : 1024;
        buyer *b = realloc(B->b, cap * sizeof *b);
        if (!b)
            return 1;
        B->b = b;
        B->cap = cap;
    }
    B->b[B->n++] = (buyer){ *k, { p->r_score, p->f_score, p->m_score } };
    if (p->last_purchase_ms > B->last_purchase_ms)
        B->last_purchase_ms = p->last_purchase_ms;
    return 0;
}

/* Every buyer of e with the scores of the cut points e holds now. */
static int collect_buyers(bvt_engine *e, buyers *B)
{
    B->n = 0;
    /* any `now`: only stored values and the scores are read */
    int rc = bvt_engine_foreach_user(e, 1, collect, B);
    if (rc == BVT_OK)
        return 0;
    fprintf(stderr, "bvt: reading the buyers: %s\n", bvt_strerror(rc > 0 ? BVT_ENOMEM : rc));
    return CLI_EXIT_FAIL;
}

/* Keys in the order of their hex text. */
static int by_key(const void *a, const void *b)
{
    const bvt_user_key *x = &((const buyer *)a)->key, *y = &((const buyer *)b)->key;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* --scores: cut points over every buyer DIR holds, refreshed at the end (in
 * memory: DIR is read-only).  They rank purchases after the end too, which
 * a state cannot leave out, so such an end is refused. */
static int refresh_scores(bvt_engine *e, const char *dir, int64_t end_ms, buyers *B)
{
    if (B->n && end_ms < B->last_purchase_ms) {
        char last[BVT_TIME_TEXT_MAX] = "?";
        bvt_time_format(B->last_purchase_ms, last, sizeof last, NULL);
        fprintf(stderr, "bvt: %s: --scores ranks every purchase DIR holds, and its last one "
                        "(%s) is after --end; give an --end on or after that day\n", dir, last);
        return CLI_EXIT_FAIL;
    }
    int rc = B->n ? bvt_rfm_refresh(e, end_ms, NULL) : BVT_OK;
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: refreshing RFM scores: %s\n", bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    return collect_buyers(e, B);
}

/* One line per buyer with a purchase up to the end (the others have none to
 * summarise, as customers without a row up to it in a file). */
static int print_buyers(bvt_engine *e, const char *dir, const buyers *B, int64_t end_ms,
                        const cli_rfm_ask *ask)
{
    cli_out o = { 0 };
    cli_rfm_header(&o, "user_key", ask->scores);
    for (size_t i = 0; i < B->n; i++) {
        bvt_rfm_summary s;
        int rc = bvt_rfm_summary_get_key(e, &B->b[i].key, end_ms, ask->unit_ms, &s);
        if (rc == BVT_ENOTFOUND)
            continue;
        char hex[CLI_KEY_HEX];
        cli_key_hex(&B->b[i].key, hex);
        if (rc != BVT_OK) {
            fprintf(stderr, "bvt: %s: summary of user %s: %s%s\n", dir, hex, bvt_strerror(rc),
                    rc == BVT_ERANGE ? " (purchases up to --end have left the user's history; "
                                       "give a later --end)" : "");
            cli_out_free(&o);
            return CLI_EXIT_FAIL;
        }
        cli_rfm_row(&o, hex, CLI_KEY_HEX - 1, &s, ask->scores ? B->b[i].scores : NULL);
    }
    return cli_out_flush(&o);
}

int cli_rfm_state(cli_source *src, const cli_rfm_ask *ask)
{
    bvt_engine *e = NULL;
    buyers B = { 0 };
    int rc = cli_source_engine(src, NULL, &e);
    if (rc == 0)
        rc = collect_buyers(e, &B);
    int64_t end_ms = cli_rfm_end_ms(ask, B.last_purchase_ms);
    if (rc == 0 && ask->scores)
        rc = refresh_scores(e, src->state, end_ms, &B);
    if (rc == 0) {
        if (B.n > 1)
            qsort(B.b, B.n, sizeof *B.b, by_key);
        rc = print_buyers(e, src->state, &B, end_ms, ask);
    }
    free(B.b);
    bvt_engine_free(e);
    return rc;
}
