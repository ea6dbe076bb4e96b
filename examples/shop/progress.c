/* progress.c — see progress.h. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

#include "fmt.h"

void progress_init(progress *p, int on)
{
    p->on = on;
    p->what = "";
    p->total = 0;
    p->tenths = 0;
}

void progress_start(progress *p, const char *what, uint64_t total)
{
    p->what = what;
    p->total = total;
    p->tenths = 0;
}

void progress_tick(progress *p, uint64_t done)
{
    if (!p->on || p->total == 0)
        return;
    unsigned tenths = done >= p->total ? 10 : (unsigned)(done * 10 / p->total);
    if (tenths <= p->tenths)
        return;
    p->tenths = tenths;
    fprintf(stderr, "demo: %s %3u%% (%s of %s)\n", p->what, tenths * 10, fmt_count(done),
            fmt_count(p->total));
}

void progress_note(progress *p, const char *fmt, ...)
{
    if (!p->on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("demo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
