/* fuzz-offers-file.c — libFuzzer entry point for the offers file of
 * `bvt report` (examples/cli/offers_file.c).
 *
 * Each input is parsed as an offers file, then freed.  Besides the
 * sanitizers, the harness checks the parser's promises (offers_file.h):
 * a failure reports exactly one message, at a line inside the input; an
 * accepted file has distinct ids of 1..63 bytes with no ':' and no blank at
 * either end, lines in increasing order, and for each offer a definition
 * whose strings and arrays are the line's own, readable to the last byte,
 * with every value in the range bvt_offer_define() documents. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "offers_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parser reports bad lines through the CLI's cli_input_error().  The
 * harness formats each message (so its arguments are read the way stderr
 * would read them) and counts them instead of printing. */
static size_t errors, error_line;

void cli_input_error(const char *path, size_t line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!path || n <= 0)
        abort();
    errors++;
    error_line = line;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

/* A NUL-terminated string of 1..max bytes with none of the bytes in bad;
 * every byte is read. */
static size_t check_string(const char *s, size_t max, const char *bad)
{
    if (!s)
        abort();
    size_t n = strlen(s);
    if (n == 0 || n > max || strpbrk(s, bad))
        abort();
    return n;
}

static void check_caps(const bvt_cap *caps, size_t n)
{
    if (n > BVT_OFFER_CAPS_MAX || (n > 0 && !caps))
        abort();
    for (size_t i = 0; i < n; i++)
        if (caps[i].max < 1 || caps[i].max > BVT_CAP_MAX_COUNT || caps[i].window_ms <= 0)
            abort();
}

static void check_offer(const offer_line *ol)
{
    const bvt_offer *d = &ol->def;
    if (d->version != BVT_OFFER_VERSION || d->id != ol->id || d->group != ol->group
        || d->rule != ol->rule || d->n_caps != ol->n_caps)
        abort();
    if (ol->n_caps > 0 && d->caps != ol->caps)
        abort();
    check_caps(d->caps, d->n_caps);
    if (d->n_tags > BVT_OFFER_TAGS_MAX || (d->n_tags > 0 && d->tags != ol->tags))
        abort();
    for (size_t i = 0; i < d->n_tags; i++)
        check_string(d->tags[i], SIZE_MAX, ",");
    if (d->group)
        check_string(d->group, SIZE_MAX, " \t");
    if (d->rule) /* the rest of the line, trailing blanks trimmed */
        if (check_string(d->rule, SIZE_MAX, "\n") > 0 && strchr(" \t", d->rule[strlen(d->rule) - 1]))
            abort();
    if (!isfinite(d->value) || d->value < 0 || !isfinite(d->cost) || d->cost < 0)
        abort();
    if (d->response != BVT_EVENT_CLICK && d->response != BVT_EVENT_CONVERSION && d->response != 0)
        abort();
    if (d->cost_per != BVT_EVENT_IMPRESSION && d->cost_per != BVT_EVENT_CLICK && d->cost_per != 0)
        abort();
    if (d->cooloff_ms < 0 || d->start_ms < 0 || d->end_ms < 0 || (d->personalised & ~1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t lines = count_lines(buf, size);
    offer_file f = { 0 };
    errors = 0;
    int rc = offer_file_parse("fuzz.txt", buf, size, &f);
    if (rc != 0) {
        if (rc != CLI_EXIT_FAIL || errors != 1 || error_line < 1 || error_line > lines)
            abort();
    } else {
        if (errors != 0 || f.n > f.cap)
            abort();
        int any_rule = 0;
        for (size_t i = 0; i < f.n; i++) {
            const offer_line *ol = &f.lines[i];
            size_t n = check_string(ol->id, BVT_OFFER_ID_MAX, ":");
            if (strchr(" \t", ol->id[0]) || strchr(" \t", ol->id[n - 1]) || ol->num != 0)
                abort();
            if (ol->line < 1 || ol->line > lines || (i > 0 && ol->line <= f.lines[i - 1].line))
                abort();
            for (size_t j = 0; j < i; j++)
                if (f.lines[j].is_group == ol->is_group && strcmp(f.lines[j].id, ol->id) == 0)
                    abort();
            if (ol->is_group) {
                if (ol->group || ol->rule || ol->tags_buf)
                    abort();
                check_caps(ol->caps, ol->n_caps);
            } else {
                check_offer(ol);
                any_rule |= ol->rule != NULL;
            }
        }
        if (any_rule != f.any_rule)
            abort();
    }
    offer_file_free(&f);
    if (f.lines || f.n || f.cap)
        abort();
    return 0;
}
