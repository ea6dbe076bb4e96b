/* fmt.c — see fmt.h. */
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

void fmt_print_wrapped(const char *text, int indent, int width)
{
    size_t room = width > indent + 8 ? (size_t)(width - indent) : 8;
    const char *p = text;
    while (*p) {
        size_t cut = strlen(p);
        if (cut > room) {
            cut = room;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = room;
        }
        printf("%*s%.*s\n", indent, "", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}
