/* fuzz-event-reader.c — libFuzzer entry point for the event file reader.
 *
 * Each input is parsed as CSV and as JSON Lines.  Besides the sanitizers,
 * the harness checks the reader's promises: every record it returns is
 * valid (non-empty user, positive time, type name, bounded numbers), and
 * every failure has a line number inside the input and a reason. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static er_reader reader; /* ~66 KiB: too big for the stack of a test */

static size_t count_lines(const char *s, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    return lines;
}

static void check_slice(er_slice s, size_t max)
{
    if (s.n > max || (s.n > 0 && !s.p))
        abort();
    if (s.n > 0 && memchr(s.p, '\0', s.n))
        abort();
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < s.n; i++) /* every byte must be readable */
        sink ^= (unsigned char)s.p[i];
    (void)sink;
}

static void check_record(const er_record *r, size_t lines)
{
    if (r->line < 1 || r->line > lines)
        abort();
    if (r->user_id.n < 1 || r->type.n < 1 || r->type.n > ER_MAX_TYPE_NAME)
        abort();
    check_slice(r->user_id, ER_MAX_USER_ID);
    check_slice(r->type, ER_MAX_TYPE_NAME);
    check_slice(r->category, 255);
    check_slice(r->item_id, ER_MAX_LINE);
    check_slice(r->offer_id, ER_MAX_LINE);
    check_slice(r->search_text, ER_MAX_LINE);
    if (r->time_ms <= 0 || !isfinite(r->value) || r->value < 0)
        abort();
    if (r->dwell_ms < 0 || r->dwell_ms > ER_MAX_DWELL_MS)
        abort();
}

static void run(const char *buf, size_t len, enum er_format format)
{
    size_t lines = count_lines(buf, len);
    int rc = er_open(&reader, buf, len, format);
    while (rc == 0) {
        er_record rec;
        int got = er_next(&reader, &rec);
        if (got == 0)
            return;
        if (got < 0)
            break;
        check_record(&rec, lines);
    }
    /* Failed: the line must exist and the reason must say something. */
    size_t line = er_error_line(&reader);
    if (line < 1 || line > lines || er_error(&reader)[0] == '\0')
        abort();
    if (er_next(&reader, &(er_record){ 0 }) != -1) /* errors are sticky */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the end is caught. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    run(buf, size, ER_CSV);
    run(buf, size, ER_JSONL);
    run(buf, size, er_sniff(buf, size));

    /* The field parsers on their own (they also parse command-line values). */
    int64_t t;
    double v;
    uint64_t u;
    const char *why;
    if (er_parse_time(buf, size, &t, &why) == 0 && t <= 0)
        abort();
    if (er_parse_value(buf, size, &v, &why) == 0 && (!isfinite(v) || v < 0))
        abort();
    if (er_parse_uint(buf, size, 1000, &u, &why) == 0 && u > 1000)
        abort();
    free(buf);
    return 0;
}
