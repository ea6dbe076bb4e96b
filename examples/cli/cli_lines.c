/* cli_lines.c — the line walker of the definition files (rules, offers).
 * Apart from cli_util.c so that a parser's fuzz harness can link it without
 * the engine, files and output of the rest of the CLI. */
#include "cli.h"

#include <string.h>

int cli_each_line(const char *buf, size_t len,
                  int (*fn)(void *ud, size_t line, const char *p, size_t n), void *ud)
{
    size_t line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - buf) : len, n = end - at;
        const char *p = buf + at;
        at = end + 1;
        line++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        size_t i = 0;
        while (i < n && cli_is_blank(p[i]))
            i++;
        if (i == n || p[i] == '#')
            continue;
        int rc = fn(ud, line, p, n);
        if (rc)
            return rc;
    }
    return 0;
}
