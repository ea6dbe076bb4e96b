/* progress.h — progress lines for the demo's long steps.
 *
 * Lines go to stderr, so stdout keeps only the report; they are written
 * when progress_init() is told to (the demo does so when stderr is a
 * terminal, or with --progress), and cost one comparison per call
 * otherwise. */
#ifndef DEMO_PROGRESS_H
#define DEMO_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int on;
    const char *what;   /* the step being counted */
    uint64_t total;
    unsigned tenths;    /* tenths already reported */
} progress;

void progress_init(progress *p, int on);

/* Start counting a step of `total` units (e.g. "streamed", events). */
void progress_start(progress *p, const char *what, uint64_t total);

/* `done` units of the step are done: a line each time another tenth
 * passes. */
void progress_tick(progress *p, uint64_t done);

/* One line for a step that is not counted. */
void progress_note(progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
