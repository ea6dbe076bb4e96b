/* The values of the published enums, as released in 1.0.  Programs compile
 * these numbers in, so abidiff (which sees only types that functions reach,
 * and these are passed as int) cannot guard them: this program does.  At a
 * release, the values it adds are appended here and never edited. */
#include <behavtarget.h>
#include <stdio.h>

static int failures;

static void pin(const char *name, long value, long released)
{
    if (value != released) {
        printf("%s is %ld, released as %ld\n", name, value, released);
        failures++;
    }
}

#define PIN(name, released) pin(#name, (long)(name), (released))

int main(void)
{
    /* 1.0 */
    PIN(BVT_OK, 0);
    PIN(BVT_EINVAL, -1);
    PIN(BVT_ENOMEM, -2);
    PIN(BVT_ENOTFOUND, -3);
    PIN(BVT_EFULL, -4);
    PIN(BVT_ELIMIT, -5);
    PIN(BVT_EEXIST, -6);
    PIN(BVT_ETYPE, -7);
    PIN(BVT_ERANGE, -8);
    PIN(BVT_EVERSION, -9);
    PIN(BVT_EIO, -10);
    PIN(BVT_ECORRUPT, -11);
    PIN(BVT_ESYNTAX, -12);
    PIN(BVT_ECYCLE, -13);

    PIN(BVT_EVENT_PAGE_VIEW, 0);
    PIN(BVT_EVENT_SEARCH, 1);
    PIN(BVT_EVENT_ADD_TO_CART, 2);
    PIN(BVT_EVENT_REMOVE_FROM_CART, 3);
    PIN(BVT_EVENT_PURCHASE, 4);
    PIN(BVT_EVENT_IMPRESSION, 5);
    PIN(BVT_EVENT_CLICK, 6);
    PIN(BVT_EVENT_CONVERSION, 7);
    PIN(BVT_EVENT_LIKE, 8);
    PIN(BVT_EVENT_SHARE, 9);
    PIN(BVT_EVENT_COMMENT, 10);
    PIN(BVT_EVENT_EMAIL_OPEN, 11);
    PIN(BVT_EVENT_BUILTIN_COUNT, 12); /* bvt_profile's counter array length */
    PIN(BVT_EVENT_CUSTOM_FIRST, 16);
    PIN(BVT_EVENT_TYPE_MAX, 64);

    PIN(BVT_FULL_REJECT, 0);
    PIN(BVT_FULL_EVICT_LRU, 1);
    PIN(BVT_ATTR_NUMBER, 1);
    PIN(BVT_ATTR_STRING, 2);
    PIN(BVT_PURPOSE_PERSONALISATION, 0);
    PIN(BVT_PURPOSE_ADS, 1);
    PIN(BVT_PURPOSE_ANALYTICS, 2);
    PIN(BVT_PURPOSES_MAX, 32);

    /* A struct version a 1.0 program passes must stay accepted; the
     * constants only grow. */
    PIN(BVT_ERROR_VERSION >= 1u, 1);
    PIN(BVT_OPTIONS_VERSION >= 1u, 1);
    PIN(BVT_STATS_VERSION >= 1u, 1);
    PIN(BVT_EVENT_VERSION >= 1u, 1);
    PIN(BVT_PROFILE_VERSION >= 1u, 1);
    PIN(BVT_CONTEXT_VERSION >= 1u, 1);
    PIN(BVT_CLUSTER_OPTIONS_VERSION >= 1u, 1);
    PIN(BVT_CLUSTER_REPORT_VERSION >= 1u, 1);

    if (failures)
        printf("%d published constant(s) changed: released values never change "
               "(docs/abi.md)\n", failures);
    else
        printf("every published 1.0 constant has its released value\n");
    return failures != 0;
}
