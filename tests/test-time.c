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

int main(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, accepted, 0, (int)(sizeof goods / sizeof goods[0]));
    tcase_add_loop_test(tc, refused_not_guessed, 0, (int)(sizeof refuseds / sizeof refuseds[0]));
    tcase_add_test(tc, arguments);
    tcase_add_test(tc, days_are_contiguous);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
