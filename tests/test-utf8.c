/* test-utf8.c — the UTF-8 validator every kept string passes: well-formed
 * text of every length, and each way a sequence can be ill-formed
 * (overlong forms, surrogates, code points above U+10FFFF, stray and
 * missing continuation bytes, sequences cut short), with the offset of the
 * first bad byte; then the same rule seen through the public API. */
#include <string.h>

#define TEST_SECRET "utf8-suite-secret-key-0001"
#include "testutil.h"

#include "utf8.h"

/* Strings with explicit lengths: some hold NUL, some end mid-sequence. */
#define S(lit) lit, sizeof lit - 1

static const struct {
    const char *s;
    size_t len;
    size_t bad; /* offset of the first bad byte; len when valid */
    const char *what;
} table[] = {
    { S(""), 0, "empty" },
    { S("plain ascii"), 11, "ASCII" },
    { S("nul\0inside"), 10, "NUL is a character like any other" },
    { S("\x7f"), 1, "DEL" },
    { S("\xc2\x80"), 2, "U+0080, smallest 2-byte" },
    { S("\xdf\xbf"), 2, "U+07FF, largest 2-byte" },
    { S("\xe0\xa0\x80"), 3, "U+0800, smallest 3-byte" },
    { S("\xed\x9f\xbf"), 3, "U+D7FF, below the surrogates" },
    { S("\xee\x80\x80"), 3, "U+E000, above the surrogates" },
    { S("\xef\xbf\xbf"), 3, "U+FFFF" },
    { S("\xf0\x90\x80\x80"), 4, "U+10000, smallest 4-byte" },
    { S("\xf4\x8f\xbf\xbf"), 4, "U+10FFFF, the largest code point" },
    { S("Stühle/日本語/😀"), 22, "mixed" },
    /* overlong forms */
    { S("\xc0\xaf"), 0, "overlong '/' in 2 bytes" },
    { S("\xc1\xbf"), 0, "overlong U+007F" },
    { S("\xe0\x80\xaf"), 0, "overlong '/' in 3 bytes" },
    { S("\xe0\x9f\xbf"), 0, "overlong U+07FF" },
    { S("\xf0\x80\x80\xaf"), 0, "overlong '/' in 4 bytes" },
    { S("\xf0\x8f\xbf\xbf"), 0, "overlong U+FFFF" },
    /* surrogates */
    { S("\xed\xa0\x80"), 0, "U+D800" },
    { S("\xed\xbf\xbf"), 0, "U+DFFF" },
    { S("ab\xed\xa0\x80\xed\xb0\x80"), 2, "a surrogate pair in CESU-8" },
    /* beyond U+10FFFF */
    { S("\xf4\x90\x80\x80"), 0, "U+110000" },
    { S("\xf5\x80\x80\x80"), 0, "lead F5" },
    { S("\xf7\xbf\xbf\xbf"), 0, "lead F7" },
    { S("\xf8\x88\x80\x80\x80"), 0, "5-byte form" },
    { S("\xfc\x84\x80\x80\x80\x80"), 0, "6-byte form" },
    { S("\xfe"), 0, "FE" },
    { S("\xff"), 0, "FF" },
    /* stray continuation bytes */
    { S("\x80"), 0, "lone 80" },
    { S("x\xbf"), 1, "lone BF after ASCII" },
    { S("\xc3\xa9\xa9"), 2, "one continuation too many" },
    /* missing continuation bytes and truncation */
    { S("\xc3"), 0, "2-byte lead at the end" },
    { S("\xe2\x82"), 0, "3-byte sequence cut after 2" },
    { S("\xf0\x9f\x98"), 0, "4-byte sequence cut after 3" },
    { S("ok\xe2\x82"), 2, "cut short after ASCII" },
    { S("\xc3("), 0, "2-byte lead then ASCII" },
    { S("\xe2\x28\xa1"), 0, "3-byte lead then ASCII" },
    { S("\xe2\x82\x28"), 0, "third byte not a continuation" },
    { S("\xf0\x9f\x98\x28"), 0, "fourth byte not a continuation" },
    { S("\xc3\xa9\xc3"), 2, "valid then cut short" },
};

START_TEST(check_table)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t got = bvt_utf8_check(table[i].s, table[i].len);
        ck_assert_msg(got == table[i].bad, "%s: first bad byte %zu, want %zu", table[i].what,
                      got, table[i].bad);
    }
}
END_TEST

/* Every code point encodes to a sequence the validator accepts, and every
 * surrogate's encoding is refused. */
START_TEST(every_code_point)
{
    unsigned bad = 0, first = 0;
    for (unsigned cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char b[4];
        size_t n;
        if (cp < 0x80)
            b[0] = (unsigned char)cp, n = 1;
        else if (cp < 0x800)
            b[0] = (unsigned char)(0xC0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 63)),
            n = 2;
        else if (cp < 0x10000)
            b[0] = (unsigned char)(0xE0 | cp >> 12),
            b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
            b[2] = (unsigned char)(0x80 | (cp & 63)), n = 3;
        else
            b[0] = (unsigned char)(0xF0 | cp >> 18),
            b[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
            b[3] = (unsigned char)(0x80 | (cp & 63)), n = 4;
        size_t want = cp >= 0xD800 && cp <= 0xDFFF ? 0 : n;
        /* and cut short, never (one check at the end: a Check assertion
         * per code point would take minutes) */
        if (bvt_utf8_check((const char *)b, n) != want ||
            (n > 1 && bvt_utf8_check((const char *)b, n - 1) != 0))
            bad++, first = bad == 1 ? cp : first;
    }
    ck_assert_msg(bad == 0, "%u code points misjudged, first U+%04X", bad, first);
}
END_TEST

START_TEST(require_names_the_field_and_offset)
{
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__utf8_require(S("fine"), "thing", &err), BVT_OK);
    ck_assert_int_eq(bvt__utf8_require(S("ab\xff"), "offer id", &err), BVT_EINVAL);
    ck_assert_int_eq(err.code, BVT_EINVAL);
    ck_assert_int_eq(err.offset, 2);
    ck_assert_msg(strstr(err.message, "offer id") && strstr(err.message, "UTF-8") &&
                  strstr(err.message, "0xff"), "%s", err.message);
    ck_assert_int_eq(bvt__utf8_require(S("\xc0\x80"), "x", NULL), BVT_EINVAL);
}
END_TEST

/* Through the public API: a category path is refused at its first bad
 * byte, and nothing is interned. */
START_TEST(public_category_offset)
{
    bvt_engine *e = engine_default();
    bvt_error err = BVT_ERROR_INIT;
    uint32_t id = 0;
    ck_assert_int_eq(bvt_category_intern(e, "shoes/\xed\xa0\x80", &id, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 6);
    ck_assert_int_eq(bvt_category_lookup(e, "shoes", &id), BVT_ENOTFOUND);
    ck_assert_int_eq(bvt_category_intern(e, "shoes/Stühle", &id, &err), BVT_OK);
    bvt_engine_free(e);
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, check_table);
    tcase_add_test(tc, every_code_point);
    tcase_add_test(tc, require_names_the_field_and_offset);
    tcase_add_test(tc, public_category_offset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(utf8_suite()); }
