/* rfm.c — quintile scores and the lifetimes summary of one record. */
#include <stdlib.h>

#include "rfm.h"

uint32_t bvt_rfm_score(const double cuts[4], double value)
{
    uint32_t s = 1;
    for (int k = 0; k < 4; k++)
        s += value > cuts[k];
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bvt_rfm_quintiles(double *values, size_t n, double cuts[4])
{
    qsort(values, n, sizeof *values, cmp_double);
    for (int k = 1; k <= 4; k++) {
        /* the largest value of the k-th fifth */
        size_t rank = (size_t)k * n / 5;
        cuts[k - 1] = n ? values[rank ? rank - 1 : 0] : 0;
    }
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

int bvt_rfm_summary_of(const bvt_record *r, int64_t end_ms, int64_t unit_ms,
                       bvt_rfm_summary *out)
{
    int32_t end = bvt_day_of(end_ms);
    if (r->last_purchase_ms == 0 || r->first_purchase_day > end)
        return BVT_ENOTFOUND;
    if (bvt_day_of(r->last_purchase_ms) <= end) {
        fill(out, r->purchase_days, r->first_purchase_day, bvt_day_of(r->last_purchase_ms), end,
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
    size_t n = bvt_history_daily(h, BVT_EVENT_PURCHASE, r->first_purchase_day, end, days,
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
