/* ope.c — IPS, SNIPS and DR estimates with normal intervals, and the
 * reward model of DR (see ope.h and docs/evaluation.md). */
#include "ope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ope_terms_alloc(ope_terms *t, size_t n)
{
    size_t m = n ? n : 1;
    t->n = n;
    t->r = malloc(m * sizeof *t->r);
    t->w = malloc(m * sizeof *t->w);
    t->qa = malloc(m * sizeof *t->qa);
    t->qpi = malloc(m * sizeof *t->qpi);
    if (!t->r || !t->w || !t->qa || !t->qpi) {
        ope_terms_free(t);
        return -1;
    }
    return 0;
}

void ope_terms_free(ope_terms *t)
{
    free(t->r);
    free(t->w);
    free(t->qa);
    free(t->qpi);
    memset(t, 0, sizeof *t);
}

void ope_terms_fill(ope_terms *t, const obd_log *log, uint32_t n_items,
                    const double *const pi[OPE_FOLDS], const double *const q[OPE_FOLDS])
{
    /* qpi depends only on the fold and the position. */
    double qpi[OPE_FOLDS][OBD_POSITIONS];
    for (int f = 0; f < OPE_FOLDS; f++) {
        for (int p = 0; p < OBD_POSITIONS; p++) {
            const double *pp = pi[f] + (size_t)p * n_items, *qp = q[f] + (size_t)p * n_items;
            double s = 0;
            for (uint32_t a = 0; a < n_items; a++)
                s += pp[a] * qp[a];
            qpi[f][p] = s;
        }
    }
    for (size_t i = 0; i < log->n; i++) {
        const obd_row *row = &log->rows[i];
        int f = (int)(i % OPE_FOLDS);
        size_t cell = (size_t)(row->position - 1) * n_items + row->item;
        t->r[i] = row->click;
        t->w[i] = pi[f][cell] / row->pscore;
        t->qa[i] = q[f][cell];
        t->qpi[i] = qpi[f][row->position - 1];
    }
    t->n = log->n;
}

/* value +/- z * sd(x) / sqrt(n), where sd is the sample standard deviation
 * (n - 1) of the n contributions x around their mean xbar. */
static void interval(ope_estimate *out, double sum_sq_dev, size_t n)
{
    double half = 0;
    if (n > 1)
        half = OPE_Z95 * sqrt(sum_sq_dev / (double)(n - 1) / (double)n);
    out->ci_low = out->value - half;
    out->ci_high = out->value + half;
}

void ope_ips(const ope_terms *t, ope_estimate *out)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < t->n; i++)
        s += t->r[i] * t->w[i];
    /* sum / n rather than a running mean: on a log scored with its own
     * policy (w = 1) this is exactly clicks / rows. */
    double mean = t->n ? s / (double)t->n : 0;
    for (size_t i = 0; i < t->n; i++) {
        double d = t->r[i] * t->w[i] - mean;
        ss += d * d;
    }
    out->value = mean;
    interval(out, ss, t->n);
}

void ope_snips(const ope_terms *t, ope_estimate *out)
{
    double srw = 0, sw = 0;
    for (size_t i = 0; i < t->n; i++) {
        srw += t->r[i] * t->w[i];
        sw += t->w[i];
    }
    if (!(sw > 0)) { /* pi_e gives no logged action any weight */
        out->value = out->ci_low = out->ci_high = NAN;
        return;
    }
    double v = srw / sw, wbar = sw / (double)t->n;
    /* Contributions of the linearised ratio: w_i (r_i - V) / mean(w); they
     * sum to zero, so their sample variance is their mean square. */
    double s = 0, ss = 0;
    for (size_t i = 0; i < t->n; i++)
        s += t->w[i] * (t->r[i] - v) / wbar;
    double m = s / (double)t->n;
    for (size_t i = 0; i < t->n; i++) {
        double d = t->w[i] * (t->r[i] - v) / wbar - m;
        ss += d * d;
    }
    out->value = v;
    interval(out, ss, t->n);
}

void ope_dr(const ope_terms *t, ope_estimate *out)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < t->n; i++)
        s += t->qpi[i] + t->w[i] * (t->r[i] - t->qa[i]);
    double mean = t->n ? s / (double)t->n : 0;
    for (size_t i = 0; i < t->n; i++) {
        double d = t->qpi[i] + t->w[i] * (t->r[i] - t->qa[i]) - mean;
        ss += d * d;
    }
    out->value = mean;
    interval(out, ss, t->n);
}

void ope_counts(const obd_log *log, int fold, uint32_t n_items, double *clicks, double *imps)
{
    for (uint32_t a = 0; a < n_items; a++)
        clicks[a] = imps[a] = 0;
    for (size_t i = 0; i < log->n; i++) {
        if (fold >= 0 && (int)(i % OPE_FOLDS) != fold)
            continue;
        imps[log->rows[i].item] += 1;
        clicks[log->rows[i].item] += log->rows[i].click;
    }
}

int ope_reward_fit(const obd_log *log, int fold, uint32_t n_items, double *q)
{
    size_t cells = (size_t)OBD_POSITIONS * n_items;
    double *imps = calloc(cells, sizeof *imps);
    if (!imps)
        return -1;
    double pc[OBD_POSITIONS] = { 0 }, pn[OBD_POSITIONS] = { 0 }, all_c = 0, all_n = 0;
    for (size_t c = 0; c < cells; c++)
        q[c] = 0;
    for (size_t i = 0; i < log->n; i++) {
        if (fold >= 0 && (int)(i % OPE_FOLDS) != fold)
            continue;
        const obd_row *row = &log->rows[i];
        size_t c = (size_t)(row->position - 1) * n_items + row->item;
        q[c] += row->click; /* clicks for now */
        imps[c] += 1;
        pc[row->position - 1] += row->click;
        pn[row->position - 1] += 1;
    }
    for (int p = 0; p < OBD_POSITIONS; p++) {
        all_c += pc[p];
        all_n += pn[p];
    }
    double m_all = all_n > 0 ? all_c / all_n : 0;
    for (int p = 0; p < OBD_POSITIONS; p++) {
        double m = pn[p] > 0 ? pc[p] / pn[p] : m_all;
        for (uint32_t a = 0; a < n_items; a++) {
            size_t c = (size_t)p * n_items + a;
            q[c] = (q[c] + OPE_Q_PRIOR * m) / (imps[c] + OPE_Q_PRIOR);
        }
    }
    free(imps);
    return 0;
}
