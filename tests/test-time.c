/* test-time.c — bvt_time_parse: every accepted spelling of a time, and
 * every text refused rather than guessed (the ambiguous integers above
 * all), table-driven. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

typedef struct good {
    const char *text;
    uint32_t format;
    int64_t ms;
} good;

/* 2024-03-01T09:20:00Z = 1709284800000 ms */
#define T_0920 1709284800000LL
static const good goods[] = {
    { "2024-03-01T09:20:00Z", BVT_TIME_ISO, T_0920 },
    { "2024-03-01T09:20:00Z", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01 09:20:00", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01T09:20", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01t09:20z", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01T09:20:00.5Z", BVT_TIME_AUTO, T_0920 + 500 },
    { "2024-03-01T09:20:00,123456Z", BVT_TIME_AUTO, T_0920 + 123 },
    { "2024-03-01T10:20:00+01:00", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01T10:20:00+0100", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01T10:20:00+01", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01T04:50:00-04:30", BVT_TIME_AUTO, T_0920 },
    { "  2024-03-01T09:20:00Z \r", BVT_TIME_AUTO, T_0920 },
    { "2024-03-01", BVT_TIME_AUTO, T_0920 - (9 * 60 + 20) * 60000LL },
    { "1970-01-01", BVT_TIME_ISO, 0 },
    { "2000-02-29", BVT_TIME_ISO, 951782400000LL },
    { "1997-01-01", BVT_TIME_ISO, 852076800000LL },
    { "19970101", BVT_TIME_YYYYMMDD, 852076800000LL },
    { "1709284800", BVT_TIME_EPOCH_S, T_0920 },
    { "1709284800000", BVT_TIME_EPOCH_MS, T_0920 },
    { "1709284800000", BVT_TIME_AUTO, T_0920 }, /* 13 digits: milliseconds only */
    { "19970101", BVT_TIME_EPOCH_MS, 19970101 },
    { "42", BVT_TIME_AUTO, 42 },
};

typedef struct refused {
    const char *text;
    uint32_t format;
    const char *says; /* in the message */
} refused;

static const refused refuseds[] = {
    { "19970101", BVT_TIME_AUTO, "YYYYMMDD date or epoch milliseconds" },
    { "1709287200", BVT_TIME_AUTO, "epoch seconds or epoch milliseconds" },
    { "170928720", BVT_TIME_AUTO, "epoch seconds or epoch milliseconds" },
    { "", BVT_TIME_AUTO, "expected a date" },
    { "yesterday", BVT_TIME_AUTO, "expected a date" },
    { "-5", BVT_TIME_AUTO, "expected a date" },
    { "2023-02-29", BVT_TIME_AUTO, "no such day" },
    { "2024-13-01", BVT_TIME_ISO, "month" },
    { "2024-03-01T24:00", BVT_TIME_ISO, "hour" },
    { "2024-03-01T09:60", BVT_TIME_ISO, "minutes" },
    { "2024-03-01T09:20:61", BVT_TIME_ISO, "seconds" },
    { "2024-03-01T09:20:00.", BVT_TIME_ISO, "digits after the decimal point" },
    { "2024-03-01T09:20:00+25:00", BVT_TIME_ISO, "offset" },
    { "2024-03-01T09:20:00 UTC", BVT_TIME_ISO, "offset" },
    { "2024-03-01X", BVT_TIME_ISO, "unexpected characters" },
    { "0000-01-01", BVT_TIME_ISO, "year" },
    { "1997-01-01", BVT_TIME_YYYYMMDD, "month" },
    { "199701011", BVT_TIME_YYYYMMDD, "exactly 8 digits" },
    { "1.5", BVT_TIME_EPOCH_MS, "whole number" },
    { "1709284800", BVT_TIME_ISO, "expected a date" },
    { "9999999999999999999", BVT_TIME_EPOCH_S, "whole number" },
    { "85202563200000000", BVT_TIME_EPOCH_S, "too large" }, /* was multiplied anyway */
};

START_TEST(accepted)
{
    const good *g = &goods[_i];
    int64_t ms = -1;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_time_parse(g->text, strlen(g->text), g->format, &ms, &err);
    ck_assert_msg(rc == BVT_OK, "'%s' (format %u): %s", g->text, g->format, err.message);
    ck_assert_msg(ms == g->ms, "'%s': %lld, want %lld", g->text, (long long)ms,
                  (long long)g->ms);
}
END_TEST

START_TEST(refused_not_guessed)
{
    const refused *r = &refuseds[_i];
    int64_t ms = 7;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_time_parse(r->text, strlen(r->text), r->format, &ms, &err);
    ck_assert_msg(rc == BVT_EINVAL, "'%s' (format %u) accepted as %lld", r->text, r->format,
                  (long long)ms);
    ck_assert_msg(strstr(err.message, r->says), "'%s': message '%s' lacks '%s'", r->text,
                  err.message, r->says);
    ck_assert_int_eq(ms, 0); /* nothing half-read */
}
END_TEST

START_TEST(arguments)
{
    int64_t ms;
    ck_assert_int_eq(bvt_time_parse(NULL, 0, BVT_TIME_AUTO, &ms, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_time_parse("1", 1, BVT_TIME_AUTO, NULL, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt_time_parse("1", 1, 99, &ms, NULL), BVT_EINVAL);
    /* not NUL-terminated: only len bytes are read */
    ck_assert_int_eq(bvt_time_parse("2024-03-01Tgarbage", 10, BVT_TIME_ISO, &ms, NULL), BVT_OK);
    ck_assert_int_eq(ms, T_0920 - (9 * 60 + 20) * 60000LL);
}
END_TEST

/* Every day from 1900 to 2100 parses to the day after the one before. */
START_TEST(days_are_contiguous)
{
    int64_t prev;
    ck_assert_int_eq(bvt_time_parse("1900-01-01", 10, BVT_TIME_ISO, &prev, NULL), BVT_OK);
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    char buf[48];
    int n = 0;
    for (int y = 1900; y <= 2100; y++)
        for (int m = 1; m <= 12; m++) {
            int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            for (int d = 1; d <= mdays[m - 1] + (m == 2 && leap); d++) {
                if (n++ == 0)
                    continue;
                snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
                int64_t ms;
                ck_assert_int_eq(bvt_time_parse(buf, 8, BVT_TIME_YYYYMMDD, &ms, NULL), BVT_OK);
                ck_assert_msg(ms - prev == DAY, "%s", buf);
                prev = ms;
            }
        }
}
END_TEST

/* Writing times: the form, milliseconds only when there are some, and
 * every written time read back to the same instant. */
typedef struct written {
    int64_t ms;
    const char *text;
} written;

static const written writtens[] = {
    { T_0920, "2024-03-01T09:20:00Z" },
    { T_0920 + 5, "2024-03-01T09:20:00.005Z" },
    { T_0920 + 999, "2024-03-01T09:20:00.999Z" },
    { 0, "1970-01-01T00:00:00Z" },
    { -1, "1969-12-31T23:59:59.999Z" },
    { 951782400000LL, "2000-02-29T00:00:00Z" },
    { 253402300799999LL, "9999-12-31T23:59:59.999Z" },
    { -62135596800000LL, "0001-01-01T00:00:00Z" },
};

START_TEST(written_and_read_back)
{
    const written *w = &writtens[_i];
    char buf[BVT_TIME_TEXT_MAX];
    size_t len = 0;
    ck_assert_int_eq(bvt_time_format(w->ms, buf, sizeof buf, &len), BVT_OK);
    ck_assert_str_eq(buf, w->text);
    ck_assert_uint_eq(len, strlen(w->text));
    int64_t back = 7;
    ck_assert_int_eq(bvt_time_parse(buf, len, BVT_TIME_ISO, &back, NULL), BVT_OK);
    ck_assert_int_eq(back, w->ms);
}
END_TEST

START_TEST(format_arguments)
{
    char buf[BVT_TIME_TEXT_MAX];
    size_t len = 9;
    /* outside the years bvt_time_parse reads */
    ck_assert_int_eq(bvt_time_format(253402300800000LL, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_time_format(-62135596800001LL, buf, sizeof buf, &len), BVT_EINVAL);
    ck_assert_int_eq(bvt_time_format(T_0920, NULL, 4, &len), BVT_EINVAL);
    /* too small: the length needed, nothing written */
    ck_assert_int_eq(bvt_time_format(T_0920, NULL, 0, &len), BVT_ERANGE);
    ck_assert_uint_eq(len, 20);
    ck_assert_int_eq(bvt_time_format(T_0920, buf, 20, NULL), BVT_ERANGE);
    ck_assert_int_eq(bvt_time_format(T_0920, buf, 21, NULL), BVT_OK);
}
END_TEST

/* Every hour (and a few ms) of 1999-2001 written and read back (leap days,
 * year ends). */
START_TEST(format_round_trips_years)
{
    int64_t from, to;
    ck_assert_int_eq(bvt_time_parse("1999-01-01", 10, BVT_TIME_ISO, &from, NULL), BVT_OK);
    ck_assert_int_eq(bvt_time_parse("2002-01-01", 10, BVT_TIME_ISO, &to, NULL), BVT_OK);
    char buf[BVT_TIME_TEXT_MAX];
    for (int64_t ms = from; ms < to; ms += HOUR + 7) {
        size_t len;
        ck_assert_int_eq(bvt_time_format(ms, buf, sizeof buf, &len), BVT_OK);
        int64_t back;
        ck_assert_int_eq(bvt_time_parse(buf, len, BVT_TIME_ISO, &back, NULL), BVT_OK);
        ck_assert_msg(back == ms, "%s", buf);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, accepted, 0, (int)(sizeof goods / sizeof goods[0]));
    tcase_add_loop_test(tc, refused_not_guessed, 0, (int)(sizeof refuseds / sizeof refuseds[0]));
    tcase_add_test(tc, arguments);
    tcase_add_test(tc, days_are_contiguous);
    tcase_add_loop_test(tc, written_and_read_back, 0, (int)(sizeof writtens / sizeof writtens[0]));
    tcase_add_test(tc, format_arguments);
    tcase_add_test(tc, format_round_trips_years);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
