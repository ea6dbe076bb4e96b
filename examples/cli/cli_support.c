/* cli_support.c — what the file readers need besides parsing: large row
 * arrays and progress on a terminal.  Apart from cli_util.c so that a
 * reader's fuzz harness (tests/fuzz/fuzz-rfm.c) links them without the
 * engine, files and output of the rest of the CLI. */
#include "cli.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

void *cli_big_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    return p;
}

void cli_big_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

/* ---- progress ------------------------------------------------------- */

void cli_progress(const char *path, uint64_t lines)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (tty)
        fprintf(stderr, "\rbvt: %s: %llu million lines", path,
                (unsigned long long)(lines / 1000000));
}

void cli_progress_done(uint64_t lines)
{
    if (lines >= 1000000 && isatty(STDERR_FILENO))
        fputc('\n', stderr);
}
