/* fmt.c — see fmt.h. */
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

const char *fmt_count(uint64_t v)
{
    static char bufs[16][32];
    static unsigned k;
    char tmp[32], *out = bufs[k++ % 16];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
    return out;
}
