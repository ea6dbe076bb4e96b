/* timefmt.c — reading times written by people and other systems into
 * epoch milliseconds (bvt_time_parse), refusing what could mean two things;
 * and writing them back as ISO 8601 (bvt_time_format).
 * Readers of outside input (the CLI, the decision server, the bindings)
 * share it, so a file, a request and a data frame are read the same way. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "behavtarget.h"
#include "error.h"

#define DAY_MS 86400000LL

typedef struct cursor {
    const char *p, *end, *start;
} cursor;

static int at_end(const cursor *c)
{
    return c->p == c->end;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Exactly n digits; -1 when they are not there. */
static int64_t digits(cursor *c, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, c->p++) {
        if (at_end(c) || !is_digit(*c->p))
            return -1;
        v = v * 10 + (*c->p - '0');
    }
    return v;
}

static int accept(cursor *c, char ch)
{
    if (!at_end(c) && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian): shift the year to
 * start in March so the leap day ends it, then count whole eras of 400
 * years (146,097 days each). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return n[m - 1] + (m == 2 && leap);
}

static int bad(const cursor *c, bvt_error *err, const char *what)
{
    return bvt__fail(err, BVT_EINVAL, (int64_t)(c->p - c->start), "time '%.*s': %s",
                    (int)(c->end - c->start > 40 ? 40 : c->end - c->start), c->start, what);
}

/* YYYY-MM-DD or YYYYMMDD (dash = 0) into days; checks the date exists. */
static int read_date(cursor *c, int dash, int64_t *out_days, bvt_error *err)
{
    int64_t y = digits(c, 4);
    if (y < 1 || (dash && !accept(c, '-')))
        return bad(c, err, "expected a date YYYY-MM-DD (year 0001..9999)");
    int64_t m = digits(c, 2);
    if (m < 1 || m > 12 || (dash && !accept(c, '-')))
        return bad(c, err, "month must be 01..12");
    int64_t d = digits(c, 2);
    if (d < 1 || d > days_in_month(y, m))
        return bad(c, err, "no such day in that month");
    *out_days = days_from_civil(y, m, d);
    return BVT_OK;
}

/* HH:MM[:SS[.fff...]] into milliseconds. */
static int read_clock(cursor *c, int64_t *out_ms, bvt_error *err)
{
    int64_t h = digits(c, 2);
    if (h < 0 || h > 23 || !accept(c, ':'))
        return bad(c, err, "expected a time HH:MM (hour 00..23)");
    int64_t mi = digits(c, 2), s = 0, frac = 0;
    if (mi < 0 || mi > 59)
        return bad(c, err, "minutes must be 00..59");
    if (accept(c, ':')) {
        s = digits(c, 2);
        if (s < 0 || s > 59)
            return bad(c, err, "seconds must be 00..59");
        if (accept(c, '.') || accept(c, ',')) {
            int n = 0;
            for (; !at_end(c) && is_digit(*c->p); c->p++, n++)
                if (n < 3)
                    frac = frac * 10 + (*c->p - '0');
            if (n == 0)
                return bad(c, err, "expected digits after the decimal point");
            for (; n < 3; n++)
                frac *= 10;
        }
    }
    *out_ms = ((h * 60 + mi) * 60 + s) * 1000 + frac;
    return BVT_OK;
}

/* Z, +HH:MM, +HHMM, +HH (or -), or nothing: the offset east of UTC. */
static int read_offset(cursor *c, int64_t *out_ms, bvt_error *err)
{
    *out_ms = 0;
    if (at_end(c) || accept(c, 'Z') || accept(c, 'z'))
        return BVT_OK;
    int sign = accept(c, '+') ? 1 : accept(c, '-') ? -1 : 0;
    int64_t h = sign ? digits(c, 2) : -1, m = 0;
    if (h < 0 || h > 23)
        return bad(c, err, "expected Z or an offset +HH:MM after the time");
    if (!at_end(c)) {
        accept(c, ':');
        m = digits(c, 2);
        if (m < 0 || m > 59)
            return bad(c, err, "offset minutes must be 00..59");
    }
    *out_ms = sign * (h * 60 + m) * 60000;
    return BVT_OK;
}

static int read_iso(cursor *c, int64_t *out, bvt_error *err)
{
    int64_t days = 0, clock = 0, offset = 0;
    int rc = read_date(c, 1, &days, err);
    if (rc == BVT_OK && (accept(c, 'T') || accept(c, 't') || accept(c, ' '))) {
        rc = read_clock(c, &clock, err);
        if (rc == BVT_OK)
            rc = read_offset(c, &offset, err);
    }
    if (rc == BVT_OK && !at_end(c))
        rc = bad(c, err, "unexpected characters after the time");
    if (rc == BVT_OK) /* days is not read when the date was refused */
        *out = days * DAY_MS + clock - offset;
    return rc;
}

/* An unsigned integer of at most 18 digits; *n_digits its length. */
static int read_integer(cursor *c, int64_t *out, int *n_digits, bvt_error *err)
{
    const char *from = c->p;
    int64_t v = 0;
    for (; !at_end(c) && is_digit(*c->p) && c->p - from < 18; c->p++)
        v = v * 10 + (*c->p - '0');
    *n_digits = (int)(c->p - from);
    if (*n_digits == 0 || !at_end(c))
        return bad(c, err, "expected a whole number of at most 18 digits");
    *out = v;
    return BVT_OK;
}

static int read_auto(cursor *c, int64_t *out, bvt_error *err)
{
    const char *p = c->p;
    while (p < c->end && is_digit(*p))
        p++;
    if (p != c->end || p == c->p) /* not a bare integer: ISO 8601 or nothing */
        return read_iso(c, out, err);
    int n = (int)(p - c->p);
    if (n == 8)
        return bvt__fail(err, BVT_EINVAL, 0, "time '%.*s' is ambiguous: a YYYYMMDD date or "
                        "epoch milliseconds; choose the format (yyyymmdd or epoch-ms)", n,
                        c->start);
    if (n == 9 || n == 10)
        return bvt__fail(err, BVT_EINVAL, 0, "time '%.*s' is ambiguous: epoch seconds or "
                        "epoch milliseconds; choose the format (epoch-s or epoch-ms)", n,
                        c->start);
    return read_integer(c, out, &n, err);
}

int bvt_time_parse(const char *text, size_t len, uint32_t format, int64_t *out_ms,
                   bvt_error *err)
{
    if (!text || !out_ms)
        return bvt__fail(err, BVT_EINVAL, -1, "text and out_ms are required");
    *out_ms = 0;
    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        len--;
    cursor c = { text, text + len, text };
    int64_t v = 0, days = 0;
    int n, rc;
    switch (format) {
    case BVT_TIME_AUTO:
        rc = read_auto(&c, &v, err);
        break;
    case BVT_TIME_EPOCH_MS:
        rc = read_integer(&c, &v, &n, err);
        break;
    case BVT_TIME_EPOCH_S:
        rc = read_integer(&c, &v, &n, err);
        if (rc == BVT_OK && v > INT64_MAX / 1000)
            rc = bad(&c, err, "too large for epoch seconds");
        if (rc == BVT_OK)
            v *= 1000;
        break;
    case BVT_TIME_YYYYMMDD:
        rc = read_date(&c, 0, &days, err);
        if (rc == BVT_OK && !at_end(&c))
            rc = bad(&c, err, "expected exactly 8 digits YYYYMMDD");
        if (rc == BVT_OK)
            v = days * DAY_MS;
        break;
    case BVT_TIME_ISO:
        rc = read_iso(&c, &v, err);
        break;
    default:
        return bvt__fail(err, BVT_EINVAL, -1, "unknown time format %u", format);
    }
    if (rc == BVT_OK)
        *out_ms = v;
    return rc;
}

/* The inverse of days_from_civil (same March-based eras). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The times bvt_time_parse() reads: years 1..9999. */
#define FIRST_MS (days_from_civil(1, 1, 1) * DAY_MS)
#define END_MS (days_from_civil(10000, 1, 1) * DAY_MS)

int bvt_time_format(int64_t ms, char *buf, size_t cap, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if ((!buf && cap) || ms < FIRST_MS || ms >= END_MS)
        return BVT_EINVAL;
    int64_t days = (ms >= 0 ? ms : ms - (DAY_MS - 1)) / DAY_MS; /* floor */
    int64_t in_day = ms - days * DAY_MS, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char text[BVT_TIME_TEXT_MAX];
    int n = snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", (int)y, m, d,
                     (int)(in_day / 3600000), (int)(in_day / 60000 % 60),
                     (int)(in_day / 1000 % 60));
    if (in_day % 1000) /* milliseconds only when there are some */
        n += snprintf(text + n, sizeof text - (size_t)n, ".%03d", (int)(in_day % 1000));
    text[n++] = 'Z';
    text[n] = '\0';
    if (out_len)
        *out_len = (size_t)n;
    if ((size_t)n >= cap)
        return BVT_ERANGE;
    memcpy(buf, text, (size_t)n + 1);
    return BVT_OK;
}
