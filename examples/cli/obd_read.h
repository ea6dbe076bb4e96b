/* obd_read.h — the inputs of `bvt ope`: a bandit feedback log in the Open
 * Bandit Dataset's CSV layout, and the Beta priors of prior_bts.yaml
 * (docs/evaluation.md describes both). */
#ifndef BVT_CLI_OBD_READ_H
#define BVT_CLI_OBD_READ_H

#include <stddef.h>
#include <stdint.h>

/* Slots of the recommendation widget: positions 1..OBD_POSITIONS. */
#define OBD_POSITIONS 3
/* Largest number of items (actions) a campaign may have: the engine holds
 * at most 65,535 offers, one per item. */
#define OBD_MAX_ITEMS 65535u
/* Pseudo-counts fed to the engine for one campaign's priors: bounds the run
 * time of a bad or huge prior file. */
#define OBD_MAX_PRIOR_EVENTS 200000000.0

/* One impression: an item shown in a position of a round. */
typedef struct obd_row {
    uint32_t item;     /* 0..n_items-1 */
    uint32_t position; /* 1..OBD_POSITIONS */
    uint32_t click;    /* 0 or 1 */
    uint32_t line;     /* line in the file (saturates at UINT32_MAX) */
    double pscore;     /* pi_b(item | position), in (0, 1] */
} obd_row;

typedef struct obd_log {
    obd_row *rows;
    size_t n;
    uint64_t clicks;
} obd_log;

/* Read a log: CSV with a header naming item_id, position, click and
 * propensity_score in any order; every other column (the unnamed index,
 * timestamp, user features, affinities) is ignored.  Item ids must be below
 * n_items.  On bad input prints "PATH:LINE: reason" and returns
 * CLI_EXIT_FAIL; 0 on success (free with obd_log_free()).  An empty log
 * (header only) is an error: nothing can be estimated from it. */
int obd_log_read(const char *path, const char *buf, size_t len, uint32_t n_items,
                 obd_log *out);
void obd_log_free(obd_log *log);

/* One campaign's priors: item i's click rate is Beta(alpha[i], beta[i]). */
typedef struct obd_prior {
    double *alpha, *beta;
    uint32_t n_items;
} obd_prior;

/* Read the campaign's alpha and beta lists from a prior_bts.yaml-style file:
 *
 *   campaign:
 *     alpha:
 *       - 47.0
 *       ...
 *     beta: [12198.0, ...]
 *
 * (block or flow lists; '#' comments).  The lists must have the same length,
 * at least OBD_POSITIONS items, and whole numbers >= 1 (they are fed to the
 * engine as click and impression counts).  On bad input or a missing
 * campaign prints the problem with the file (and line) and returns
 * CLI_EXIT_FAIL; 0 on success (free with obd_prior_free()). */
int obd_prior_read(const char *path, const char *buf, size_t len, const char *campaign,
                   obd_prior *out);
void obd_prior_free(obd_prior *p);

#endif
