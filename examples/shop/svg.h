/* svg.h — the few HTML and SVG pieces the demo's HTML report draws with.
 *
 * Every string that reaches the file goes through html_text(), which
 * escapes it for text and attribute values alike; numbers are written with
 * printf.  Marks carry a class (the page's CSS styles them, the report's
 * test finds them by it) and optionally a <title>, which browsers show as a
 * tooltip. */
#ifndef DEMO_SVG_H
#define DEMO_SVG_H

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define SVG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SVG_PRINTF(f, a)
#endif

/* s escaped (& < > " '): safe as text and inside a quoted attribute. */
void html_text(FILE *f, const char *s);

/* printf, then escaped as html_text(). */
void html_textf(FILE *f, const char *fmt, ...) SVG_PRINTF(2, 3);

/* A linear map from data [d0, d1] to pixels [r0, r1]. */
typedef struct svg_scale {
    double d0, d1, r0, r1;
} svg_scale;

double svg_at(const svg_scale *s, double v);

/* About `most` round ticks (1, 2 or 5 times a power of ten) covering
 * [lo, hi]; out must hold most + 1.  Returns how many went into out.
 * Widen a scale to the first and last tick so the axis ends on round
 * numbers. */
size_t svg_ticks(double lo, double hi, size_t most, double *out);

/* <svg> with its size, an id and an accessible label; svg_end closes it. */
void svg_begin(FILE *f, const char *id, double w, double h, const char *label);
void svg_end(FILE *f);

/* Text at (x, y); cls also sets the anchor ("end", "mid") by CSS. */
void svg_text(FILE *f, double x, double y, const char *cls, const char *fmt, ...)
    SVG_PRINTF(5, 6);

/* Marks; fill and title may be NULL (the class styles it / no tooltip). */
void svg_rect(FILE *f, double x, double y, double w, double h, const char *cls, const char *fill,
              const char *title);
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *cls);
void svg_circle(FILE *f, double cx, double cy, double r, const char *cls, const char *title);
void svg_polyline(FILE *f, const double *x, const double *y, size_t n, const char *cls,
                  const char *title);

/* Writes the label of tick value v into buf. */
typedef void (*svg_label_fn)(double v, char *buf, size_t n);

/* Axes with grid lines: the x axis's ticks run from y0 (the axis, labels
 * below it) up to y1; the y axis's from x0 (the axis, labels left of it)
 * across to x1.  The title goes under the x labels / above the y axis. */
void svg_axis_x(FILE *f, const svg_scale *x, double y0, double y1, const double *ticks,
                size_t n, svg_label_fn label, const char *title);
void svg_axis_y(FILE *f, const svg_scale *y, double x0, double x1, const double *ticks,
                size_t n, svg_label_fn label, const char *title);

#endif
