/* csv.c — RFC 4180 record splitter (see csv.h). */
#include "csv.h"

#include <string.h>

void csv_init_at(csv_reader *r, const char *buf, size_t len, char *scratch, size_t line)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->line = line;
    r->scratch = scratch;
    r->failed = 0;
    r->delim = ',';
    r->rec_start = r->rec_end = 0;
}

void csv_set_delimiter(csv_reader *r, char c)
{
    r->delim = c;
}

void csv_init(csv_reader *r, const char *buf, size_t len, char *scratch)
{
    csv_init_at(r, buf, len, scratch, 1);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

/* True when buf[i] ends a record: LF, CRLF, or CR as the last byte. */
static int at_eol(const csv_reader *r, size_t i)
{
    char c = r->buf[i];
    return c == '\n' || (c == '\r' && (i + 1 == r->len || r->buf[i + 1] == '\n'));
}

static int fail(csv_reader *r, const char **why, const char *reason)
{
    r->failed = 1;
    *why = reason;
    return -1;
}

int csv_next(csv_reader *r, csv_field *out, size_t max, size_t *nfields,
             size_t *line, const char **why)
{
    const char *b = r->buf;
    size_t len = r->len;
    char delim = r->delim;

    *nfields = 0;
    *line = r->line;
    if (r->failed)
        return fail(r, why, "reader already failed");

    /* Skip blank lines. */
    while (r->pos < len && at_eol(r, r->pos)) {
        r->pos += b[r->pos] == '\r' ? 2 : 1;
        if (r->pos > len)
            r->pos = len;
        r->line++;
    }
    if (r->pos >= len)
        return 0;

    size_t start = r->pos, pos = r->pos, sp = 0, nf = 0;
    *line = r->line;
    for (;;) {
        csv_field f;
        if (pos < len && b[pos] == '"') {
            size_t fs = sp;
            pos++;
            for (;;) {
                if (pos - start > CSV_MAX_RECORD) {
                    *line = r->line;
                    return fail(r, why, "line longer than 65536 bytes");
                }
                if (pos >= len)
                    return fail(r, why, "unterminated quoted field");
                char c = b[pos];
                if (c == '"') {
                    if (pos + 1 < len && b[pos + 1] == '"') {
                        r->scratch[sp++] = '"';
                        pos += 2;
                        continue;
                    }
                    pos++;
                    break;
                }
                if (c == '\n')
                    r->line++;
                r->scratch[sp++] = c;
                pos++;
            }
            if (pos < len && b[pos] != delim && !at_eol(r, pos)) {
                *line = r->line;
                return fail(r, why, "unexpected character after a closing quote");
            }
            f.p = r->scratch + fs;
            f.n = sp - fs;
        } else {
            size_t fs = pos;
            while (pos < len && b[pos] != delim && !at_eol(r, pos))
                pos++;
            f.p = b + fs;
            f.n = pos - fs;
        }
        if (pos - start > CSV_MAX_RECORD) {
            *line = r->line;
            return fail(r, why, "line longer than 65536 bytes");
        }
        if (nf < max)
            out[nf] = f;
        nf++;
        if (pos < len && b[pos] == delim) {
            pos++;
            continue;
        }
        break;
    }
    r->rec_start = start;
    r->rec_end = pos;
    if (pos < len) { /* at_eol: LF, CRLF or a final CR */
        pos += b[pos] == '\r' ? 2 : 1;
        if (pos > len)
            pos = len;
        r->line++;
    }
    r->pos = pos;
    *nfields = nf;
    return 1;
}
