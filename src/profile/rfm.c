/* rfm.c — quintile scores and the lifetimes summary of one record. */
#include <stdlib.h>
#include <string.h>

#include "rfm.h"

/* The values a dimension compares, in order: its own, then the others. */
static const int ORDER[3][3] = {
    [BVT_RFM_R] = { 0, 1, 2 }, /* recency, frequency, monetary */
    [BVT_RFM_F] = { 1, 2, 0 }, /* frequency, monetary, recency */
    [BVT_RFM_M] = { 2, 1, 0 }, /* monetary, frequency, recency */
};

static bvt_rfm_rank rank_in(const bvt_rfm_buyer *b, int dim)
{
    const double v[3] = { b->last_purchase, b->days, b->monetary };
    bvt_rfm_rank k = { { v[ORDER[dim][0]], v[ORDER[dim][1]], v[ORDER[dim][2]] }, b->tie };
    return k;
}

int bvt__rfm_rank_cmp(const bvt_rfm_rank *a, const bvt_rfm_rank *b)
{
    for (int i = 0; i < 3; i++)
        if (a->v[i] != b->v[i])
            return a->v[i] < b->v[i] ? -1 : 1;
    return (a->tie > b->tie) - (a->tie < b->tie);
}

void bvt__rfm_buyer_of(const bvt_record *r, bvt_rfm_buyer *out)
{
    out->last_purchase = (double)r->last_purchase_ms;
    out->days = r->purchase_days;
    out->monetary = r->monetary_total;
    out->tie = r->key_lo;
}

void bvt__rfm_scores(const bvt_rfm_cuts *cuts, const bvt_record *r, uint32_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    if (!cuts || !r->last_purchase_ms)
        return;
    bvt_rfm_buyer b;
    bvt__rfm_buyer_of(r, &b);
    for (int d = 0; d < 3; d++) {
        bvt_rfm_rank k = rank_in(&b, d);
        out[d] = 1;
        for (int c = 0; c < 4; c++)
            out[d] += bvt__rfm_rank_cmp(&k, &cuts->cut[d][c]) > 0;
    }
}

static int cmp_ranks(const void *a, const void *b)
{
    return bvt__rfm_rank_cmp(a, b);
}

int bvt__rfm_cuts_compute(const bvt_rfm_buyer *buyers, size_t n, bvt_rfm_cuts *out)
{
    memset(out->cut, 0, sizeof out->cut);
    if (n == 0)
        return BVT_OK;
    bvt_rfm_rank *ranks = malloc(n * sizeof *ranks);
    if (!ranks)
        return BVT_ENOMEM;
    for (int d = 0; d < 3; d++) {
        for (size_t i = 0; i < n; i++)
            ranks[i] = rank_in(&buyers[i], d);
        qsort(ranks, n, sizeof *ranks, cmp_ranks);
        for (int k = 1; k <= 4; k++) {
            /* the highest-ranked buyer of the k-th fifth */
            size_t at = (size_t)k * n / 5;
            out->cut[d][k - 1] = ranks[at ? at - 1 : 0];
        }
    }
    free(ranks);
    return BVT_OK;
}

static void fill(bvt_rfm_summary *out, uint32_t days, int32_t first, int32_t last,
                 int32_t end, double repeat_value, int64_t unit_ms)
{
    double unit_days = (double)unit_ms / (double)BVT_DAY_MS;
    out->frequency = days - 1;
    out->recency = (last - first) / unit_days;
    out->T = (end - first) / unit_days;
    out->monetary_value = days > 1 ? repeat_value / (days - 1) : 0;
}

int bvt__rfm_summary_of(const bvt_record *r, int64_t end_ms, int64_t unit_ms,
                       bvt_rfm_summary *out)
{
    int32_t end = bvt__day_of(end_ms);
    if (r->last_purchase_ms == 0 || r->first_purchase_day > end)
        return BVT_ENOTFOUND;
    if (bvt__day_of(r->last_purchase_ms) <= end) {
        fill(out, r->purchase_days, r->first_purchase_day, bvt__day_of(r->last_purchase_ms), end,
             r->monetary_total - r->first_day_value, unit_ms);
        return BVT_OK;
    }
    /* Purchases after the end: answer from the history, if it still holds
     * every purchase day from the first one. */
    const bvt_history *h = r->ext ? &r->ext->hist : NULL;
    if (!h || h->complete_from_day > r->first_purchase_day)
        return BVT_ERANGE;
    size_t cap = (size_t)h->ev_len + h->day_len;
    int32_t *days = malloc(cap * sizeof *days + 1);
    double *values = malloc(cap * sizeof *values + 1);
    if (!days || !values) {
        free(days);
        free(values);
        return BVT_ENOMEM;
    }
    size_t n = bvt__history_daily(h, BVT_EVENT_PURCHASE, r->first_purchase_day, end, days,
                                 values, cap);
    int rc = BVT_ERANGE;
    if (n > 0 && n <= cap && days[0] == r->first_purchase_day) {
        double repeat = 0;
        for (size_t i = 1; i < n; i++)
            repeat += values[i];
        fill(out, (uint32_t)n, days[0], days[n - 1], end, repeat, unit_ms);
        rc = BVT_OK;
    }
    free(days);
    free(values);
    return rc;
}
