/* report_html.c — see report_html.h.
 *
 * One function per chart, each a <section> with a title, the sentence a
 * marketer reads first, and an inline <svg> drawn with svg.h.  The page
 * fetches nothing: a Content-Security-Policy forbids every load, and the
 * fonts are the system's.  A few lines of script at the end mark <body>
 * (data-script="ok") once they ran and found every chart drawn: the
 * report's test looks for that mark in the DOM headless Chromium dumps. */
#include "report_html.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "svg.h"

#define WIDTH 900.0
#define BAR_COLOR "#4c78a8"

static double share(uint64_t n, uint64_t of) { return of ? 100.0 * (double)n / (double)of : 0; }

static void label_count(double v, char *buf, size_t n)
{
    snprintf(buf, n, "%s", fmt_count(v > 0 ? (uint64_t)llround(v) : 0));
}

/* "p = 0.0013", or "p < 0.0001" where four decimals would print zero. */
static const char *p_text(double p)
{
    static char buf[32];
    if (p < 0.0001)
        return "p < 0.0001";
    snprintf(buf, sizeof buf, "p = %.4f", p);
    return buf;
}

static void label_percent(double v, char *buf, size_t n)
{
    snprintf(buf, n, v == 0 ? "0%%" : "%+g%%", v);
}

/* ---- page frame ---- */

static const char style[] =
    "body{margin:0;background:#f6f7f9;color:#1d2330;"
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
    "main{max-width:940px;margin:0 auto;padding:24px 16px 40px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 6px}"
    ".meta{color:#5b6475;margin:0 0 20px}"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 18px;"
    "margin:0 0 18px}"
    ".lead{margin:0 0 10px;max-width:860px}"
    ".note{margin:8px 0 0;color:#5b6475;font-size:13px;max-width:860px}"
    ".why{margin:10px 0 0;padding:10px 12px;background:#fff8e6;border-left:4px solid #f2b134;"
    "max-width:840px}"
    "svg.chart{display:block;max-width:100%;height:auto;font-size:12px}"
    "svg text{fill:#1d2330}svg .tick{fill:#5b6475;font-size:11px}"
    "svg .axis-title{fill:#5b6475;font-size:12px}svg .group{font-weight:600}"
    "svg .end{text-anchor:end}svg .mid{text-anchor:middle}"
    "svg .grid{stroke:#e6e9ee}svg .grid.zero,svg .axis{stroke:#9aa3b2}"
    "svg .zero-line{stroke:#c0392b;stroke-dasharray:4 3}"
    "svg .series{fill:none;stroke-width:2.5}"
    /* one colour per policy: random, greedy, Thompson sampling */
    "svg .series.p0{stroke:#8c8c8c}svg .series.p1{stroke:#4c78a8}svg .series.p2{stroke:#e45756}"
    "svg text.p0{fill:#6b6b6b}svg text.p1{fill:#3b6290}svg text.p2{fill:#c0392b}"
    "svg text.series-label{font-weight:600}"
    "svg .ci{stroke:#1d2330;stroke-width:2}svg .estimate{fill:#e45756;stroke:#1d2330}"
    "svg .cell{stroke:#fff;stroke-width:2}svg .count{font-weight:600}"
    "svg .light{fill:#fff}svg .small{font-size:10.5px}"
    "table{border-collapse:collapse;margin:10px 0 0;font-size:13px}"
    "th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #e6e9ee}"
    "th:first-child,td:first-child{text-align:left}"
    "footer{color:#5b6475;font-size:13px}";

static void day_of(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

static void page_begin(FILE *f, const demo_report *r)
{
    char from[16], to[16];
    day_of(r->start_ms, from, sizeof from);
    day_of(r->end_ms, to, sizeof to);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          /* nothing may be fetched: the page is its own world */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>libbehavtarget demo report</title>\n<style>",
          f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body data-script=\"not run\">\n<main>\n"
          "<h1>A synthetic shop through libbehavtarget</h1>\n<p class=\"meta\">",
          f);
    html_textf(f, "libbehavtarget %s \u00b7 seed %llu \u00b7 %s events from %s to %s UTC \u00b7 "
                  "%s user profiles, %s buyers",
               r->version, (unsigned long long)r->seed, fmt_count(r->events), from, to,
               fmt_count(r->profiles), fmt_count(r->buyers));
    fputs("</p>\n", f);
}

/* Ends the page with the script that marks <body>: data-charts is how
 * many charts hold a mark, data-script "ok" when that is all `charts`.
 * It takes no string from the report, so it needs no escaping. */
static void page_end(FILE *f, int charts)
{
    fputs("<footer><p>Written by the demo (examples/shop); the same seed gives the same page. "
          "Hover over a bar, cell or line for its figures.</p></footer>\n</main>\n<script>\n"
          "(function () {\n"
          "  var drawn = Array.prototype.filter.call(document.querySelectorAll('svg.chart'),\n"
          "    function (svg) { return svg.querySelector('rect, polyline, circle') !== null; });\n"
          "  document.body.setAttribute('data-charts', String(drawn.length));\n",
          f);
    fprintf(f, "  document.body.setAttribute('data-script', drawn.length === %d ? 'ok' : "
               "'charts missing');\n})();\n</script>\n</body>\n</html>\n",
            charts);
}

static void section_begin(FILE *f, const char *id, const char *title)
{
    fputs("<section id=\"", f);
    html_text(f, id);
    fputs("\">\n<h2>", f);
    html_text(f, title);
    fputs("</h2>\n", f);
}

/* A paragraph of escaped text with the given class. */
static void para(FILE *f, const char *cls, const char *text)
{
    fputs("<p class=\"", f);
    html_text(f, cls);
    fputs("\">", f);
    html_text(f, text);
    fputs("</p>\n", f);
}

/* ---- horizontal bars with a label and "n (x%)" (segments, RFM list) ---- */

typedef struct bar_layout {
    double label_x; /* labels end here */
    svg_scale x;    /* count -> bar end */
    double height;
    uint64_t of;    /* the share's base */
    const char *of_what;
} bar_layout;

static void bar_row(FILE *f, const bar_layout *L, double y, const char *label, uint64_t n,
                    const char *fill)
{
    char title[256];
    snprintf(title, sizeof title, "%s: %s users, %.1f%% of %s %s", label, fmt_count(n),
             share(n, L->of), fmt_count(L->of), L->of_what);
    svg_text(f, L->label_x, y + L->height * 0.5 + 4, "end", "%s", label);
    double end = svg_at(&L->x, (double)n);
    svg_rect(f, L->x.r0, y, end - L->x.r0, L->height, "bar", fill, title);
    svg_text(f, end + 6, y + L->height * 0.5 + 4, "", "%s (%.1f%%)", fmt_count(n),
             share(n, L->of));
}

static uint64_t max_count(const demo_count *c, size_t n, uint64_t most)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].n > most)
            most = c[i].n;
    return most;
}

/* ---- 1. segment sizes ---- */

static void chart_segments(FILE *f, const demo_report *r)
{
    const demo_segment_sizes *s = r->segments;
    const struct {
        const char *title;
        const demo_count *c;
        size_t n;
    } groups[] = {{"Marketer rules", s->rules, DEMO_RULES},
                  {"Funnel stages (built in)", s->funnel, DEMO_FUNNEL_STAGES}};
    const demo_count *pool = &s->funnel[2]; /* the Retargeting Pool */
    char lead[512];
    snprintf(lead, sizeof lead,
             "Each bar counts the users a segment holds at the end of the stream, out of %s "
             "profiles. Size campaigns by it: the %s (%s users) is the audience for cart and "
             "browsing reminders, while a small rule segment deserves a tailored message.",
             fmt_count(r->profiles), pool->name, fmt_count(pool->n));
    section_begin(f, "segments", "Segment sizes");
    para(f, "lead", lead);

    uint64_t most = max_count(s->funnel, DEMO_FUNNEL_STAGES,
                              max_count(s->rules, DEMO_RULES, 1));
    const double row = 24;
    double h = 12 + row * (double)(DEMO_RULES + DEMO_FUNNEL_STAGES + 2) + 8;
    bar_layout L = {248, {0, (double)most, 256, 740}, 16, r->profiles, "profiles"};
    svg_begin(f, "chart-segments", WIDTH, h, "Segment sizes: users per segment");
    double y = 12;
    for (size_t g = 0; g < 2; g++) {
        svg_text(f, 8, y + 13, "group", "%s", groups[g].title);
        y += row;
        for (size_t i = 0; i < groups[g].n; i++, y += row)
            bar_row(f, &L, y, groups[g].c[i].name, groups[g].c[i].n, BAR_COLOR);
    }
    svg_end(f);
    fputs("</section>\n", f);
}

/* ---- 2. the funnel ---- */

static void chart_funnel(FILE *f, const demo_report *r)
{
    static const char *const stages[3] = {"Viewed a product", "Added to the cart", "Bought"};
    static const char *const steps[2] = {"went on to add to the cart", "of those went on to buy"};
    const uint64_t n[3] = {r->viewed, r->carted, r->bought};
    double rate[2] = {share(n[1], n[0]), share(n[2], n[1])};
    int worse = rate[1] < rate[0]; /* the step that loses the larger share */
    char lead[512];
    snprintf(lead, sizeof lead,
             "Of %s users who viewed a product, %.1f%% added one to the cart and %.1f%% of "
             "those bought. The step that loses the most is %s: that is where reminders and "
             "incentives pay most.",
             fmt_count(n[0]), rate[0], rate[1],
             worse ? "from the cart to the purchase" : "from viewing to the cart");
    section_begin(f, "funnel", "Funnel: view \u2192 cart \u2192 purchase");
    para(f, "lead", lead);

    const double row = 84, bar = 44, mid = 450, half = 290;
    svg_begin(f, "chart-funnel", WIDTH, 3 * row - (row - bar) + 24,
              "Funnel: users who viewed, added to the cart, bought");
    for (int i = 0; i < 3; i++) {
        double y = 12 + row * i, w = n[0] ? half * (double)n[i] / (double)n[0] : 0;
        w = w > 1 ? w : 1; /* an empty stage still shows where it is */
        char title[160];
        snprintf(title, sizeof title, "%s: %s users (%.1f%% of viewers)", stages[i],
                 fmt_count(n[i]), share(n[i], n[0]));
        svg_rect(f, mid - w, y, 2 * w, bar, "bar", BAR_COLOR, title);
        svg_text(f, mid - half - 12, y + bar / 2 + 5, "end", "%s", stages[i]);
        svg_text(f, mid + half + 12, y + bar / 2 + 5, "count", "%s users", fmt_count(n[i]));
        if (i < 2)
            svg_text(f, mid, y + bar + (row - bar) / 2 + 5, "mid",
                     "\u2193 %.1f%% %s", rate[i], steps[i]);
    }
    svg_end(f);
    fputs("</section>\n", f);
}

/* ---- 3. the RFM grid ---- */

/* White to dark blue by t in [0, 1]. */
static void heat(double t, char *buf, size_t n)
{
    static const double lo[3] = {235, 241, 248}, hi[3] = {31, 78, 121};
    int c[3];
    for (int k = 0; k < 3; k++)
        c[k] = (int)lround(lo[k] + (hi[k] - lo[k]) * t);
    snprintf(buf, n, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* The named segment most of cell (rr, ff) is in, or -1. */
static int main_segment(const demo_segment_sizes *s, int rr, int ff)
{
    int best = -1;
    for (int i = 0; i < DEMO_RFM_SEGMENTS; i++)
        if (s->rfm_cells[i][rr][ff] > 0 && (best < 0 || s->rfm_cells[i][rr][ff] >
                                                            s->rfm_cells[best][rr][ff]))
            best = i;
    return best;
}

/* The cell's tooltip: its count and every named segment in it. */
static void cell_title(const demo_report *r, int rr, int ff, char *buf, size_t n)
{
    int o = snprintf(buf, n, "R %d, F %d: %s buyers", rr, ff, fmt_count(r->rf[rr][ff]));
    for (int i = 0; i < DEMO_RFM_SEGMENTS && o > 0 && (size_t)o < n; i++) {
        uint64_t c = r->segments->rfm_cells[i][rr][ff];
        if (c)
            o += snprintf(buf + o, n - (size_t)o, "\n%s: %s", r->segments->rfm[i].name,
                          fmt_count(c));
    }
}

static void rfm_cell(FILE *f, const demo_report *r, int rr, int ff, double x, double y,
                     double w, double h, uint64_t most)
{
    uint64_t c = r->rf[rr][ff];
    double t = most ? (double)c / (double)most : 0;
    char fill[8], title[512];
    if (c)
        heat(0.08 + 0.92 * t, fill, sizeof fill); /* a non-empty cell never looks empty */
    else
        snprintf(fill, sizeof fill, "#f4f5f7");
    cell_title(r, rr, ff, title, sizeof title);
    svg_rect(f, x, y, w, h, "cell", fill, title);
    const char *ink = t > 0.5 ? " light" : "";
    char cls[32];
    snprintf(cls, sizeof cls, "mid count%s", ink);
    int seg = c ? main_segment(r->segments, rr, ff) : -1;
    svg_text(f, x + w / 2, seg >= 0 ? y + 19 : y + h / 2 + 4, cls, "%s",
             c ? fmt_count(c) : "\u2013");
    if (seg >= 0) {
        snprintf(cls, sizeof cls, "mid small%s", ink);
        svg_text(f, x + w / 2, y + 36, cls, "%s", r->segments->rfm[seg].name);
        svg_text(f, x + w / 2, y + 51, cls, "%.0f%% of the cell",
                 share(r->segments->rfm_cells[seg][rr][ff], c));
    }
}

/* "F = 2, 3 and 4" for the empty columns, or "" when none is empty. */
static void empty_columns(const demo_report *r, char *buf, size_t n)
{
    int cols[5], k = 0, o = 0;
    for (int ff = 1; ff <= 5; ff++) {
        uint64_t sum = 0;
        for (int rr = 1; rr <= 5; rr++)
            sum += r->rf[rr][ff];
        if (sum == 0)
            cols[k++] = ff;
    }
    buf[0] = '\0';
    for (int i = 0; i < k && o >= 0 && (size_t)o < n; i++) {
        const char *sep = i == 0 ? "F = " : i + 1 == k ? " and " : ", ";
        o += snprintf(buf + o, n - (size_t)o, "%s%d", sep, cols[i]);
    }
}

static void chart_rfm(FILE *f, const demo_report *r)
{
    section_begin(f, "rfm", "RFM grid: recency \u00d7 frequency");
    para(f, "lead",
         "Each cell counts buyers by recency score R (rows; 5 = bought most recently) and "
         "frequency score F (columns; 5 = bought on the most days), and names the RFM "
         "segment most of them are in. Reward the top right (Champions, Loyal) and win back "
         "the lower rows (At Risk, Hibernating, Lost) before they lapse.");

    const double x0 = 92, y0 = 34, w = 108, h = 62, list_x = 760;
    uint64_t most = 0;
    for (int rr = 1; rr <= 5; rr++)
        for (int ff = 1; ff <= 5; ff++)
            most = r->rf[rr][ff] > most ? r->rf[rr][ff] : most;
    svg_begin(f, "chart-rfm", WIDTH, y0 + 5 * h + 50,
              "RFM grid: buyers by recency and frequency score, with the RFM segments");
    svg_text(f, 8, y0 - 14, "axis-title", "R score");
    for (int row = 0; row < 5; row++) {
        int rr = 5 - row; /* the most recent on top */
        double y = y0 + h * row;
        svg_text(f, x0 - 12, y + h / 2 + 4, "end", "R %d", rr);
        for (int ff = 1; ff <= 5; ff++)
            rfm_cell(f, r, rr, ff, x0 + w * (ff - 1), y, w, h, most);
    }
    for (int ff = 1; ff <= 5; ff++)
        svg_text(f, x0 + w * (ff - 0.5), y0 + 5 * h + 18, "mid", "F %d", ff);
    svg_text(f, x0 + 2.5 * w, y0 + 5 * h + 40, "axis-title mid",
             "F score: 1 = fewest purchase days, 5 = most");

    /* the named segments beside the grid */
    const demo_count *seg = r->segments->rfm;
    bar_layout L = {list_x - 8, {0, (double)max_count(seg, DEMO_RFM_SEGMENTS, 1), list_x,
                                 list_x + 56},
                    14, r->buyers, "buyers"};
    svg_text(f, list_x - 8, y0 - 14, "group end", "RFM segments (all buyers)");
    for (int i = 0; i < DEMO_RFM_SEGMENTS; i++)
        bar_row(f, &L, y0 + 28.0 * i, seg[i].name, seg[i].n, "#72b7b2");
    svg_end(f);

    char cols[64];
    empty_columns(r, cols, sizeof cols);
    if (cols[0] && r->buyers) {
        char note[512];
        snprintf(note, sizeof note,
                 "No buyer has %s: the library gives buyers with the same number of purchase "
                 "days the same F score, and %s of the %s buyers bought on one day only.",
                 cols, fmt_count(r->one_day_buyers), fmt_count(r->buyers));
        para(f, "note", note);
    }
    fputs("</section>\n", f);
}

/* ---- 4. regret per policy ---- */

/* The first checkpoint from which policy `k` has the lowest regret of
 * all (ADSIM_POINTS - 1 when only at the end). */
static int leads_from(const adsim_result *s, int k)
{
    int from = ADSIM_POINTS - 1;
    for (int c = ADSIM_POINTS - 1; c >= 0; c--) {
        int lowest = 1;
        for (int j = 0; j < ADSIM_POLICIES; j++)
            lowest &= j == k || s->policy[k].regret[c] <= s->policy[j].regret[c];
        if (!lowest)
            break;
        from = c;
    }
    return from;
}

/* The policy with the lowest final regret, other than `skip`. */
static int lowest(const adsim_result *s, int skip)
{
    int best = -1;
    for (int k = 0; k < ADSIM_POLICIES; k++)
        if (k != skip && (best < 0 || s->policy[k].regret[ADSIM_POINTS - 1] <
                                         s->policy[best].regret[ADSIM_POINTS - 1]))
            best = k;
    return best;
}

/* Says what this run shows and no more: one run of a learning policy is
 * one draw (greedy's first lucky clicks decide what it exploits), so a
 * small gap between the two learners is not a verdict. */
static void regret_lead(const adsim_result *s, char *buf, size_t n)
{
    const adsim_policy_result *p = s->policy;
    int best = lowest(s, -1), second = lowest(s, best), worst = 3 - best - second;
    double b = p[best].regret[ADSIM_POINTS - 1], sec = p[second].regret[ADSIM_POINTS - 1];
    double gap = sec > 0 ? 100.0 * (sec - b) / sec : 0;
    int o = snprintf(buf, n,
                     "Regret is the clicks a policy can expect to lose against the best "
                     "eligible offer, added up request by request: lower is better. After %s "
                     "requests %s lost %.0f, %s %.0f and %s %.0f. ",
                     fmt_count(s->requests), p[0].name, p[0].regret[ADSIM_POINTS - 1], p[1].name,
                     p[1].regret[ADSIM_POINTS - 1], p[2].name, p[2].regret[ADSIM_POINTS - 1]);
    int from = leads_from(s, best);
    char when[96] = "";
    if (from > 0)
        snprintf(when, sizeof when, ", ahead only from %s requests on",
                 fmt_count((uint64_t)(from + 1) * s->requests / ADSIM_POINTS));
    if (o > 0 && (size_t)o < n)
        o += snprintf(buf + o, n - (size_t)o, "Lowest at the end: %s%s, %.0f%% below %s%s. ",
                      p[best].name, when, gap, p[second].name,
                      gap < 10 ? ", too close to choose on one simulated week" : " in this run");
    if (o > 0 && (size_t)o < n && worst == 0 && p[0].regret[ADSIM_POINTS - 1] > 0)
        snprintf(buf + o, n - (size_t)o,
                 "Let a learning policy rank offers rather than a random rotation, which lost "
                 "%.0f%% more than %s; check a choice between the learners on more traffic.",
                 b > 0 ? 100.0 * (p[0].regret[ADSIM_POINTS - 1] - b) / b : 0, p[best].name);
}

/* Nudges end labels apart so none overlaps the one above it. */
static void spread_labels(double *y, const int *order, int n, double gap)
{
    for (int i = 1; i < n; i++)
        if (y[order[i]] - y[order[i - 1]] < gap)
            y[order[i]] = y[order[i - 1]] + gap;
}

static void chart_regret(FILE *f, const adsim_result *s)
{
    char lead[1024];
    regret_lead(s, lead, sizeof lead);
    section_begin(f, "regret", "Bandit policies: regret over a simulated week");
    para(f, "lead", lead);

    double most = 0, tick[16], xs[ADSIM_POINTS + 1], ys[ADSIM_POINTS + 1];
    for (int k = 0; k < ADSIM_POLICIES; k++)
        most = fmax(most, s->policy[k].regret[ADSIM_POINTS - 1]);
    size_t ny = svg_ticks(0, most > 0 ? most : 1, 6, tick);
    svg_scale y = {0, tick[ny - 1], 300, 36};
    svg_scale x = {0, (double)s->requests, 90, 740};
    svg_begin(f, "chart-regret", WIDTH, 350, "Cumulative regret per bandit policy over requests");
    svg_axis_y(f, &y, x.r0, x.r1, tick, ny, label_count, "expected clicks lost (cumulative)");
    size_t nx = svg_ticks(0, (double)s->requests, 6, tick);
    svg_axis_x(f, &x, y.r0, y.r1, tick, nx, label_count, "ad requests served");

    double end_y[ADSIM_POLICIES];
    int order[ADSIM_POLICIES];
    for (int k = 0; k < ADSIM_POLICIES; k++) {
        const adsim_policy_result *p = &s->policy[k];
        xs[0] = x.r0;
        ys[0] = y.r0;
        for (int c = 0; c < ADSIM_POINTS; c++) {
            xs[c + 1] = svg_at(&x, (double)(c + 1) * (double)s->requests / ADSIM_POINTS);
            ys[c + 1] = svg_at(&y, p->regret[c]);
        }
        char title[160];
        snprintf(title, sizeof title, "%s: %.0f expected clicks lost over %s requests, CTR %.2f%%",
                 p->name, p->regret[ADSIM_POINTS - 1], fmt_count(s->requests),
                 share(p->clicks, p->impressions));
        char cls[32];
        snprintf(cls, sizeof cls, "series p%d", k);
        svg_polyline(f, xs, ys, ADSIM_POINTS + 1, cls, title);
        end_y[k] = ys[ADSIM_POINTS];
        order[k] = k;
    }
    /* labels at the lines' ends, top to bottom */
    for (int i = 1; i < ADSIM_POLICIES; i++)
        for (int j = i; j > 0 && end_y[order[j - 1]] > end_y[order[j]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    spread_labels(end_y, order, ADSIM_POLICIES, 15);
    for (int k = 0; k < ADSIM_POLICIES; k++) {
        char cls[32];
        snprintf(cls, sizeof cls, "series-label p%d", k);
        svg_text(f, x.r1 + 8, end_y[k] + 4, cls, "%s %.0f", s->policy[k].name,
                 s->policy[k].regret[ADSIM_POINTS - 1]);
    }
    svg_end(f);
    fputs("</section>\n", f);
}

/* ---- 5. the A/B test's lift ---- */

static void lift_lead(const adsim_result *s, char *buf, size_t n)
{
    const bvt_lift *l = &s->lift;
    int clear = l->rel_low > 0 || l->rel_high < 0;
    snprintf(buf, n,
             "The dot is %s's click-through rate relative to %s's, the bar its 95%% confidence "
             "interval: a bar clear of zero is a real difference, one across zero is not. Here "
             "%s's CTR is %.1f%% %s than %s's (%s), %s.",
             s->arm[1].name, s->arm[0].name, s->arm[1].name, fabs(100.0 * l->relative),
             l->relative < 0 ? "lower" : "higher", s->arm[0].name, p_text(l->p_value),
             clear ? "and the interval excludes zero" : "but the interval includes zero");
}

/* One table cell of escaped, formatted text. */
static void cell(FILE *f, const char *tag, const char *text)
{
    fprintf(f, "<%s>", tag);
    html_text(f, text);
    fprintf(f, "</%s>", tag);
}

static void arm_table(FILE *f, const adsim_result *s)
{
    static const char *const head[] = {"variant", "users", "impressions", "clicks", "CTR",
                                       "expected CTR (hidden truth)",
                                       "expected clicks lost per impression: alone / in this test"};
    fputs("<table><tr>", f);
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        cell(f, "th", head[i]);
    fputs("</tr>\n", f);
    for (int k = 0; k < 2; k++) {
        const adsim_arm *a = &s->arm[k];
        char pct[3][32];
        snprintf(pct[0], sizeof pct[0], "%.2f%%", 100.0 * a->ctr);
        snprintf(pct[1], sizeof pct[1], "%.2f%%", 100.0 * a->true_ctr);
        snprintf(pct[2], sizeof pct[2], "%.2f%% / %.2f%%", 100.0 * a->alone_regret_rate,
                 100.0 * a->regret_rate);
        fputs("<tr>", f);
        cell(f, "td", a->name);
        cell(f, "td", fmt_count(a->users));
        cell(f, "td", fmt_count(a->impressions));
        cell(f, "td", fmt_count(a->clicks));
        for (int i = 0; i < 3; i++)
            cell(f, "td", pct[i]);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Percent, with 0 for what the statistics could not compute. */
static double pct_or_0(double v) { return isfinite(v) ? 100.0 * v : 0; }

static void chart_lift(FILE *f, const adsim_result *s)
{
    const double est = pct_or_0(s->lift.relative), low = pct_or_0(s->lift.rel_low),
                 high = pct_or_0(s->lift.rel_high);
    char text[1024];
    lift_lead(s, text, sizeof text);
    section_begin(f, "lift", "A/B test: CTR lift with its confidence interval");
    para(f, "lead", text);

    double lo = fmin(0, low), hi = fmax(0, high), tick[16];
    double pad = fmax(1, 0.15 * (hi - lo));
    size_t nt = svg_ticks(lo - pad, hi + pad, 8, tick);
    svg_scale x = {tick[0], tick[nt - 1], 90, 810};
    const double axis_y = 96, mark_y = 56;
    svg_begin(f, "chart-lift", WIDTH, 150, "CTR lift of the treatment against the control");
    svg_axis_x(f, &x, axis_y, 20, tick, nt, label_percent,
               "relative CTR difference (treatment against control)");
    double zx = svg_at(&x, 0);
    svg_line(f, zx, 14, zx, axis_y, "zero-line");
    svg_text(f, zx + 4, 14, "tick", "no difference");
    double x_lo = svg_at(&x, low), x_hi = svg_at(&x, high);
    svg_line(f, x_lo, mark_y, x_hi, mark_y, "ci");
    svg_line(f, x_lo, mark_y - 8, x_lo, mark_y + 8, "ci");
    svg_line(f, x_hi, mark_y - 8, x_hi, mark_y + 8, "ci");
    char title[256];
    snprintf(title, sizeof title, "%s vs %s: %+.2f%% (95%% CI %+.2f%% .. %+.2f%%), %s",
             s->arm[1].name, s->arm[0].name, est, low, high, p_text(s->lift.p_value));
    svg_circle(f, svg_at(&x, est), mark_y, 7, "estimate", title);
    svg_text(f, svg_at(&x, est), mark_y - 14, "mid", "%s vs %s: %+.1f%%", s->arm[1].name,
             s->arm[0].name, est);
    svg_end(f);
    arm_table(f, s);
    adsim_explain_ab(s, text, sizeof text);
    fputs("<p class=\"why\"><strong>Read it with the regret chart.</strong> ", f);
    html_text(f, text);
    fputs("</p>\n", f);
    if (s->srm_mismatch)
        para(f, "note", "Sample-ratio mismatch: the arms' sizes are not what the split asked "
                        "for, so do not trust this lift.");
    fputs("</section>\n", f);
}

/* A section saying why a chart is missing (a simulation that did not run). */
static void not_run(FILE *f, const char *id, const char *title, const char *why)
{
    section_begin(f, id, title);
    para(f, "lead", why);
    fputs("</section>\n", f);
}

static void write_page(FILE *f, const demo_report *r)
{
    int charts = 3 + (r->sim->ran != 0) + (r->sim->ab_ran != 0);
    page_begin(f, r);
    chart_segments(f, r);
    chart_funnel(f, r);
    chart_rfm(f, r);
    if (r->sim->ran)
        chart_regret(f, r->sim);
    else
        not_run(f, "regret", "Bandit policies", "The ad simulation had no users to run on.");
    if (r->sim->ab_ran)
        chart_lift(f, r->sim);
    else
        not_run(f, "lift", "A/B test", "The A/B test did not run in this build.");
    page_end(f, charts);
}

int report_html_write(const char *path, const demo_report *r)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp)
        return -1;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    write_page(f, r);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        int saved = errno ? errno : EIO;
        remove(tmp);
        free(tmp);
        errno = saved;
        return -1;
    }
    free(tmp);
    return 0;
}
