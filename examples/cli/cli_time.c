/* cli_time.c — reading times with bvt_time_parse(), and warning about the
 * ones that are probably misread (see cli_time.h). */
#include "cli_time.h"

#include <stdio.h>
#include <string.h>

int cli_time_format_of(const char *name, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t format;
    } formats[] = {
        { "auto", BVT_TIME_AUTO },         { "iso", BVT_TIME_ISO },
        { "yyyymmdd", BVT_TIME_YYYYMMDD }, { "epoch-s", BVT_TIME_EPOCH_S },
        { "epoch-ms", BVT_TIME_EPOCH_MS },
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    }
    return -1;
}

/* cli_time_read() and cli_time_read_advised(): at most one of option and
 * advice is not NULL. */
static int read_time(const char *s, size_t n, uint32_t format, const char *option,
                     const char *advice, int64_t *out, char *why, size_t cap, const char **kind)
{
    bvt_error err = BVT_ERROR_INIT;
    int64_t t = 0;
    if (bvt_time_parse(s, n, format, &t, &err) != BVT_OK) {
        /* The library's message says why and quotes the text; an ambiguous
         * integer's message already lists the formats to choose from, which
         * advice replaces. */
        int ambiguous = strstr(err.message, "is ambiguous") != NULL;
        *kind = ambiguous ? CLI_TIME_AMBIGUOUS : CLI_TIME_NOT_A_TIME;
        char *choose = advice ? strstr(err.message, "; choose the format") : NULL;
        if (choose)
            *choose = '\0';
        snprintf(why, cap, "%s%s%s%s%s", err.message[0] ? err.message : "not a time",
                 ambiguous && option ? " with " : "", ambiguous && option ? option : "",
                 advice ? "; " : "", advice ? advice : "");
        return -1;
    }
    if (t <= 0) {
        *kind = CLI_TIME_TOO_EARLY;
        snprintf(why, cap, "time '%.*s' must be after 1970-01-01T00:00:00Z",
                 (int)(n > 40 ? 40 : n), s);
        return -1;
    }
    *out = t;
    return 0;
}

int cli_time_read(const char *s, size_t n, uint32_t format, const char *option, int64_t *out,
                  char *why, size_t cap, const char **kind)
{
    return read_time(s, n, format, option, NULL, out, why, cap, kind);
}

int cli_time_read_advised(const char *s, size_t n, uint32_t format, const char *advice,
                          int64_t *out, char *why, size_t cap, const char **kind)
{
    return read_time(s, n, format, NULL, advice, out, why, cap, kind);
}

void cli_time_check_init(cli_time_check *c, int64_t written_ms)
{
    memset(c, 0, sizeof *c);
    c->written_ms = written_ms;
}

static void merge_kind(uint64_t *count, size_t *line, uint64_t from_count, size_t from_line)
{
    if (from_count == 0)
        return;
    if (*count == 0 || from_line < *line)
        *line = from_line;
    *count += from_count;
}

void cli_time_check_merge(cli_time_check *into, const cli_time_check *from,
                          size_t from_line_offset)
{
    merge_kind(&into->early, &into->early_line, from->early,
               from->early_line + from_line_offset);
    merge_kind(&into->late, &into->late_line, from->late, from->late_line + from_line_offset);
}

void cli_time_check_warn(const cli_time_check *c, const char *path)
{
    if (c->early)
        fprintf(stderr, "bvt: warning: %s: %llu time%s before 1990-01-01 (first at line %zu): "
                "check --time-format\n", path, (unsigned long long)c->early,
                c->early == 1 ? "" : "s", c->early_line);
    if (c->late) {
        char when[BVT_TIME_TEXT_MAX];
        if (bvt_time_format(c->written_ms, when, sizeof when, NULL) != BVT_OK)
            snprintf(when, sizeof when, "%lld ms", (long long)c->written_ms);
        fprintf(stderr, "bvt: warning: %s: %llu time%s more than a day after the file was "
                "written (%s) (first at line %zu): check --time-format\n", path,
                (unsigned long long)c->late, c->late == 1 ? "" : "s", when, c->late_line);
    }
}
