/* demo_segments.h — the segments section of the demo report. */
#ifndef DEMO_SEGMENTS_H
#define DEMO_SEGMENTS_H

#include <stdint.h>

#include "behavtarget.h"
#include "shop.h"

#define DEMO_RULES 5         /* the marketer's rules */
#define DEMO_RFM_SEGMENTS 11 /* the built-in RFM segments */
#define DEMO_FUNNEL_STAGES 6 /* the built-in funnel stages */

/* A named count. */
typedef struct demo_count {
    const char *name; /* static */
    uint64_t n;
} demo_count;

/* What the segments section found, for the HTML report. */
typedef struct demo_segment_sizes {
    demo_count rules[DEMO_RULES];
    demo_count rfm[DEMO_RFM_SEGMENTS];
    demo_count funnel[DEMO_FUNNEL_STAGES];
    /* members of rfm[i] by R score and F score (1..5; 0 unused) */
    uint64_t rfm_cells[DEMO_RFM_SEGMENTS][6][6];
} demo_segment_sizes;

/* What the demo knows about a keyed hash that the library does not keep. */
typedef struct demo_user_map {
    /* the raw id, or NULL */
    const char *(*raw_id)(const bvt_user_key *key, void *ud);
    /* the R and F scores the demo read for the user; 0 when unknown */
    int (*rf_scores)(const bvt_user_key *key, void *ud, uint32_t *r, uint32_t *f);
    void *ud;
} demo_user_map;

/* Prints the section and fills *out. */
void demo_segments_report(bvt_engine *e, const shop *s, int64_t now, uint32_t users,
                          uint64_t profiles, uint64_t buyers, const demo_user_map *map,
                          demo_segment_sizes *out);

#endif
