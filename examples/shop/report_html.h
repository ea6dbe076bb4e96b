/* report_html.h — the demo's HTML report: one self-contained page (inline
 * CSS and SVG, a few lines of inline script, nothing fetched) with the
 * segment sizes, the funnel, the RFM grid, the regret of each bandit policy
 * and the A/B test's lift, each with a sentence on what it means and what
 * a marketer would do with it. */
#ifndef REPORT_HTML_H
#define REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "adsim.h"
#include "demo_segments.h"

typedef struct demo_report {
    const char *version;          /* bvt_version() */
    uint64_t seed, events;
    uint64_t profiles, buyers;
    int64_t start_ms, end_ms;     /* the stream's first and last event */
    /* the funnel: users who viewed a product; of them, who added to the
     * cart; of those, who bought */
    uint64_t viewed, carted, bought;
    uint64_t rf[6][6];            /* buyers by R score and F score (1..5) */
    uint64_t one_day_buyers;      /* buyers who bought on one day only */
    const demo_segment_sizes *segments;
    const adsim_result *sim;
} demo_report;

/* Writes the page to path (through a temporary file renamed over it).
 * Returns 0, or -1 with errno set. */
int report_html_write(const char *path, const demo_report *r);

#endif
