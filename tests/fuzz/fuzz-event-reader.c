/* fuzz-event-reader.c — libFuzzer entry point for the event file reader.
 *
 * Each input is parsed as CSV and as JSON Lines, with the strict default
 * and with reading options chosen by its first byte (time format,
 * delimiter, a vocabulary of types, --columns, returns read).  Besides the
 * sanitizers, the harness checks the reader's promises: every record it
 * returns is valid (non-empty user, positive time, type name, bounded
 * numbers; a return is a purchase read with returns allowed), every failure
 * has a line number inside the input, a reason and a short reason, and the
 * reader goes on after an error unless the error is fatal, which is
 * sticky. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_time.h"
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

/* Every byte of s must be readable. */
static void touch(er_slice s, size_t max)
{
    if (s.n > max || (s.n > 0 && !s.p))
        abort();
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < s.n; i++)
        sink ^= (unsigned char)s.p[i];
    (void)sink;
}

static void check_slice(er_slice s, size_t max)
{
    touch(s, max);
    if (s.n > 0 && memchr(s.p, '\0', s.n))
        abort();
}

static void check_record(const er_record *r, size_t lines, const cli_input *in)
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
    touch(r->raw, ER_MAX_LINE + 2);
    if (r->time_ms <= 0 || !isfinite(r->value) || r->value < 0)
        abort();
    if (r->dwell_ms < 0 || r->dwell_ms > ER_MAX_DWELL_MS)
        abort();
    int purchase = r->type.n == 8 && memcmp(r->type.p, "purchase", 8) == 0;
    if (r->is_return && (!in || in->returns == CLI_RETURNS_REJECT || !purchase))
        abort();
    if (in && in->vocab && !cli_types_has(in->vocab, r->type.p, r->type.n))
        abort();
}

static void run(const char *buf, size_t len, enum er_format format, const cli_input *in)
{
    size_t lines = count_lines(buf, len);
    int rc = er_open_with(&reader, buf, len, format, in);
    /* Each call reads at least one line or ends the read. */
    for (size_t calls = 0; calls <= lines + 1; calls++) {
        er_record rec;
        int got = rc == 0 ? er_next(&reader, &rec) : -1;
        if (got == 0)
            return;
        if (got > 0) {
            check_record(&rec, lines, in);
            continue;
        }
        /* Failed: the line must exist and the reasons must say something. */
        size_t line = er_error_line(&reader);
        if (line < 1 || line > lines || er_error(&reader)[0] == '\0'
            || er_error_kind(&reader)[0] == '\0')
            abort();
        touch(er_error_record(&reader), ER_MAX_LINE + 2);
        if (rc != 0 || er_error_fatal(&reader)) {
            if (er_next(&reader, &(er_record){ 0 }) != -1) /* fatal errors are sticky */
                abort();
            return;
        }
    }
    abort(); /* the reader did not advance */
}

/* Reading options from a byte: every combination is reachable. */
static void options_of(unsigned char b, cli_input *in, cli_types *vocab)
{
    static const char *const names[] = { "page_view", "purchase", "click", "search",
                                         "add_to_cart", "video_complete" };
    static const char delims[] = { ',', ';', '|', '\t' };
    memset(in, 0, sizeof *in);
    memset(vocab, 0, sizeof *vocab);
    in->time_format = b % 5;
    in->delimiter = delims[(b >> 3) & 3];
    in->returns = (b >> 5) & 1 ? CLI_RETURNS_IGNORE : CLI_RETURNS_REJECT;
    if ((b >> 6) & 1) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            cli_types_add(vocab, names[i], strlen(names[i]));
        in->vocab = vocab;
    }
    if (b >> 7) {
        char why[128];
        if (cli_columns_parse(&in->columns, "user_id=uid,timestamp=ts,value=amount", why,
                              sizeof why) < 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the end is caught. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    static cli_input opts; /* a few KiB each */
    static cli_types vocab;
    options_of(size ? (unsigned char)buf[0] : 0, &opts, &vocab);
    run(buf, size, ER_CSV, NULL);
    run(buf, size, ER_JSONL, NULL);
    run(buf, size, er_sniff(buf, size), NULL);
    run(buf, size, ER_CSV, &opts);
    run(buf, size, ER_JSONL, &opts);

    /* The field parsers on their own (they also parse command-line values). */
    int64_t t;
    double v;
    uint64_t u;
    const char *why, *kind;
    char msg[256];
    for (uint32_t f = BVT_TIME_AUTO; f <= BVT_TIME_ISO; f++) {
        int r = cli_time_read(buf, size, f, f ? NULL : "--time-format", &t, msg, sizeof msg,
                              &kind);
        if ((r == 0 && t <= 0) || (r < 0 && (msg[0] == '\0' || kind[0] == '\0')))
            abort();
    }
    if (er_parse_value(buf, size, &v, &why) == 0 && (!isfinite(v) || v < 0))
        abort();
    if (er_parse_uint(buf, size, 1000, &u, &why) == 0 && u > 1000)
        abort();
    free(buf);
    return 0;
}
