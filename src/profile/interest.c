/* interest.c — forward-decayed top-K interests (see interest.h). */
#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "category.h"
#include "interest.h"

/* Rescale before 2^exponent can overflow a float (max ~2^127). */
#define RESCALE_EXPONENT 48.0

/* The landmark is kept to the minute (4 bytes instead of 8): any landmark
 * works as long as scores and reads use the same one. */
static int64_t landmark_ms(const bvt_record *r)
{
    return (int64_t)r->interest_landmark_min * 60000;
}

static int32_t to_minutes(int64_t t_ms)
{
    int64_t m = t_ms / 60000;
    return m > INT32_MAX ? INT32_MAX : m < INT32_MIN ? INT32_MIN : (int32_t)m;
}

static void rescale(bvt_record *r, const bvt_profile_cfg *cfg, int32_t new_landmark_min)
{
    float f = (float)exp2(-(double)((int64_t)new_landmark_min * 60000 - landmark_ms(r)) /
                          cfg->half_life_ms);
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++)
        r->iscore[i] *= f;
    r->interest_landmark_min = new_landmark_min;
}

/* Add an amount already expressed at r's landmark.  The common case (the
 * category is held) is one short scan; the slot choice runs only for a
 * category that is new to the user. */
/* Slot holding category, or -1: one compare of all 16 ids at once where
 * SSE2 exists. */
static int find_slot(const uint16_t icat[BVT_TOP_K_MAX], uint32_t category)
{
#ifdef __SSE2__
    __m128i want = _mm_set1_epi16((short)category);
    __m128i lo = _mm_loadu_si128((const __m128i *)icat);
    __m128i hi = _mm_loadu_si128((const __m128i *)(icat + 8));
    unsigned mask = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpeq_epi16(lo, want),
                                                                _mm_cmpeq_epi16(hi, want)));
    return mask ? __builtin_ctz(mask) : -1;
#else
    for (int i = 0; i < BVT_TOP_K_MAX; i++)
        if (icat[i] == category)
            return i;
    return -1;
#endif
}

static void credit(bvt_record *r, const bvt_profile_cfg *cfg, uint32_t category, float amount)
{
    int held = find_slot(r->icat, category);
    if (held >= 0) {
        r->iscore[held] += amount;
        return;
    }
    int slot = find_slot(r->icat, 0); /* a free slot, if any, is the first 0 */
    if (slot < 0 || (uint32_t)slot >= cfg->top_k) {
        slot = 0;
        for (uint32_t i = 1; i < cfg->top_k; i++)
            if (r->iscore[i] < r->iscore[slot])
                slot = (int)i;
        if (amount < r->iscore[slot])
            return; /* weaker than every interest held: not kept */
    }
    r->icat[slot] = (uint16_t)category;
    r->iscore[slot] = amount;
}

uint32_t bvt__interest_count(const bvt_record *r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++)
        n += r->icat[i] != 0;
    return n;
}

void bvt__interest_add(bvt_record *r, const bvt_profile_cfg *cfg, uint32_t category,
                      double weight, int64_t t_ms)
{
    if (category == 0 || !(weight > 0))
        return;
    if (bvt__interest_count(r) == 0)
        r->interest_landmark_min = to_minutes(t_ms);
    double exponent = (double)(t_ms - landmark_ms(r)) / cfg->half_life_ms;
    if (exponent > RESCALE_EXPONENT) {
        rescale(r, cfg, to_minutes(t_ms));
        exponent = (double)(t_ms - landmark_ms(r)) / cfg->half_life_ms;
    }
    double amount = weight * exp2(exponent);
    for (uint32_t c = category, depth = 0; c != 0 && depth < BVT_CATEGORY_MAX_DEPTH; depth++) {
        credit(r, cfg, c, (float)amount);
        amount *= cfg->ancestor_credit;
        if (!(amount > 0))
            break;
        c = bvt__categories_parent(cfg->cats, c);
    }
}

void bvt__interest_merge(bvt_record *dst, const bvt_record *src, const bvt_profile_cfg *cfg)
{
    if (bvt__interest_count(src) == 0)
        return;
    if (bvt__interest_count(dst) == 0) {
        memcpy(dst->icat, src->icat, sizeof dst->icat);
        memcpy(dst->iscore, src->iscore, sizeof dst->iscore);
        dst->interest_landmark_min = src->interest_landmark_min;
        return;
    }
    /* Express both at the later landmark so nothing overflows. */
    if (src->interest_landmark_min > dst->interest_landmark_min)
        rescale(dst, cfg, src->interest_landmark_min);
    double f = exp2(-(double)(landmark_ms(dst) - landmark_ms(src)) /
                    cfg->half_life_ms);
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++)
        if (src->icat[i])
            credit(dst, cfg, src->icat[i], (float)(src->iscore[i] * f));
}

size_t bvt__interest_top(const bvt_record *r, const bvt_profile_cfg *cfg, int64_t now,
                        uint32_t *cats, double *scores, double *out_sum, size_t cap)
{
    double f = exp2(-(double)(now - landmark_ms(r)) / cfg->half_life_ms);
    uint32_t c[BVT_TOP_K_MAX];
    double s[BVT_TOP_K_MAX], sum = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < BVT_TOP_K_MAX; i++) {
        if (!r->icat[i])
            continue;
        double v = r->iscore[i] * f;
        sum += v;
        size_t j = n++; /* insertion sort, descending; ties by category id */
        while (j > 0 && (s[j - 1] < v || (s[j - 1] == v && c[j - 1] > r->icat[i]))) {
            s[j] = s[j - 1];
            c[j] = c[j - 1];
            j--;
        }
        s[j] = v;
        c[j] = r->icat[i];
    }
    if (out_sum)
        *out_sum = sum;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        if (cats)
            cats[i] = c[i];
        if (scores)
            scores[i] = s[i];
    }
    return n;
}
