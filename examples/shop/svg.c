/* svg.c — see svg.h. */
#include "svg.h"

#include <math.h>
#include <stdarg.h>

void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void vtext(FILE *f, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    html_text(f, buf);
}

void html_textf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtext(f, fmt, ap);
    va_end(ap);
}

double svg_at(const svg_scale *s, double v)
{
    double span = s->d1 - s->d0;
    return span == 0 ? s->r0 : s->r0 + (v - s->d0) / span * (s->r1 - s->r0);
}

size_t svg_ticks(double lo, double hi, size_t most, double *out)
{
    if (most < 2 || !(hi > lo)) {
        out[0] = lo;
        return 1;
    }
    double raw = (hi - lo) / (double)(most - 1), mag = pow(10, floor(log10(raw)));
    double step = mag * 10;
    static const double nice[] = {1, 2, 5, 10};
    for (size_t i = 0; i < 4; i++)
        if (mag * nice[i] >= raw) {
            step = mag * nice[i];
            break;
        }
    double first = floor(lo / step) * step;
    size_t n = 0;
    while (n < most + 1) {
        double t = first + (double)n * step; /* not summed: no creeping error */
        out[n++] = fabs(t) < step * 1e-9 ? 0 : t; /* no "-0" */
        if (t >= hi - step * 1e-9)
            break;
    }
    return n;
}

void svg_begin(FILE *f, const char *id, double w, double h, const char *label)
{
    fprintf(f, "<svg id=\"");
    html_text(f, id);
    fprintf(f, "\" class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "role=\"img\" aria-label=\"",
            w, h, w, h);
    html_text(f, label);
    fprintf(f, "\">\n");
}

void svg_end(FILE *f) { fputs("</svg>\n", f); }

static void class_attr(FILE *f, const char *cls)
{
    if (cls && *cls) {
        fputs(" class=\"", f);
        html_text(f, cls);
        fputc('"', f);
    }
}

/* Closes a mark's start tag: with a <title> child, or empty. */
static void close_mark(FILE *f, const char *tag, const char *title)
{
    if (!title) {
        fputs("/>\n", f);
        return;
    }
    fputs("><title>", f);
    html_text(f, title);
    fprintf(f, "</title></%s>\n", tag);
}

void svg_text(FILE *f, double x, double y, const char *cls, const char *fmt, ...)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    class_attr(f, cls);
    fputc('>', f);
    va_list ap;
    va_start(ap, fmt);
    vtext(f, fmt, ap);
    va_end(ap);
    fputs("</text>\n", f);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *cls, const char *fill,
              const char *title)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y,
            w > 0 ? w : 0, h > 0 ? h : 0);
    class_attr(f, cls);
    if (fill) {
        fputs(" fill=\"", f);
        html_text(f, fill);
        fputc('"', f);
    }
    close_mark(f, "rect", title);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *cls)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x1, y1, x2, y2);
    class_attr(f, cls);
    fputs("/>\n", f);
}

void svg_circle(FILE *f, double cx, double cy, double r, const char *cls, const char *title)
{
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", cx, cy, r);
    class_attr(f, cls);
    close_mark(f, "circle", title);
}

void svg_polyline(FILE *f, const double *x, const double *y, size_t n, const char *cls,
                  const char *title)
{
    fputs("<polyline points=\"", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", x[i], y[i]);
    fputc('"', f);
    class_attr(f, cls);
    close_mark(f, "polyline", title);
}

void svg_axis_x(FILE *f, const svg_scale *x, double y0, double y1, const double *ticks,
                size_t n, svg_label_fn label, const char *title)
{
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        double at = svg_at(x, ticks[i]);
        svg_line(f, at, y0, at, y1, ticks[i] == 0 ? "grid zero" : "grid");
        label(ticks[i], buf, sizeof buf);
        svg_text(f, at, y0 + 16, "tick mid", "%s", buf);
    }
    svg_line(f, x->r0, y0, x->r1, y0, "axis");
    if (title)
        svg_text(f, (x->r0 + x->r1) / 2, y0 + 36, "axis-title mid", "%s", title);
}

void svg_axis_y(FILE *f, const svg_scale *y, double x0, double x1, const double *ticks,
                size_t n, svg_label_fn label, const char *title)
{
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        double at = svg_at(y, ticks[i]);
        svg_line(f, x0, at, x1, at, ticks[i] == 0 ? "grid zero" : "grid");
        label(ticks[i], buf, sizeof buf);
        svg_text(f, x0 - 6, at + 4, "tick end", "%s", buf);
    }
    svg_line(f, x0, y->r0, x0, y->r1, "axis");
    if (title)
        svg_text(f, x0, y->r1 - 14, "axis-title", "%s", title);
}
