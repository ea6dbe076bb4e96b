/* test-cdnow.c — the RFM summary on the CDNOW sample, against the summary
 * published with the Python `lifetimes` package (see
 * ../shared/data/cdnow/SOURCE.md).
 *
 * Every transaction is tracked as a purchase through the public API; for all
 * 2,357 customers bvt_rfm_summary_get(end 1997-09-30, unit 7 days) must match
 * x, t_x, T and zbar within 0.01:
 *  (a) tracking only the rows up to the end (the summary is exact);
 *  (b) tracking every row with a 730-day history horizon, so customers who
 *      bought after the end are answered from their behaviour history.
 * The published monetary statistics of the 946 repeat buyers are checked
 * too.  Usage: test-cdnow DATA_DIR (or env BVT_SHARED_DATA); exits 77 when
 * the data is absent. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"

#define DAY_MS 86400000LL
#define CUSTOMERS 2357
#define MAX_TX 8000
#define TOLERANCE 0.01

static const char SECRET[] = "cdnow-conformance-secret-0123";

typedef struct tx {
    int customer;  /* 1..2357 */
    int64_t t_ms;  /* UTC midnight of the purchase day */
    double dollars;
} tx;

typedef struct published {
    int seen;
    double x, t_x, T, zbar;
} published;

static tx txs[MAX_TX];
static size_t ntx;
static published ref[CUSTOMERS + 1];
static int64_t end_ms;

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t ymd_ms(long ymd)
{
    return days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100) * DAY_MS;
}

/* Returns 0, or -1 with a message when a file is missing or malformed. */
static int load_data(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cdnow/CDNOW_sample.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "skipping: cannot open %s\n", path);
        return -1;
    }
    long master, cust, ymd, cds;
    double dollars;
    while (fscanf(f, "%ld %ld %ld %ld %lf", &master, &cust, &ymd, &cds, &dollars) == 5) {
        if (ntx == MAX_TX || cust < 1 || cust > CUSTOMERS) {
            fprintf(stderr, "%s: unexpected row %zu\n", path, ntx + 1);
            fclose(f);
            return -1;
        }
        txs[ntx].customer = (int)cust;
        txs[ntx].t_ms = ymd_ms(ymd);
        txs[ntx].dollars = dollars;
        ntx++;
    }
    fclose(f);

    snprintf(path, sizeof path, "%s/cdnow/cdnow_customers_summary_with_transactions.csv", dir);
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "skipping: cannot open %s\n", path);
        return -1;
    }
    char line[256];
    if (!fgets(line, sizeof line, f)) { /* header ID,x,t_x,T,zbar */
        fclose(f);
        return -1;
    }
    int id;
    double x, t_x, T, zbar;
    while (fscanf(f, "%d,%lf,%lf,%lf,%lf", &id, &x, &t_x, &T, &zbar) == 5) {
        if (id < 1 || id > CUSTOMERS)
            continue;
        ref[id] = (published){ 1, x, t_x, T, zbar };
    }
    fclose(f);
    end_ms = ymd_ms(19970930);
    return 0;
}

static bvt_engine *engine_with_horizon(int64_t horizon_ms)
{
    bvt_options o = BVT_OPTIONS_INIT;
    bvt_error err = BVT_ERROR_INIT;
    bvt_engine *e = NULL;
    o.secret = SECRET;
    o.secret_len = sizeof SECRET - 1;
    o.history_horizon_ms = horizon_ms;
    int rc = bvt_engine_new(&e, &o, &err);
    ck_assert_msg(rc == BVT_OK, "bvt_engine_new: %s", err.message);
    return e;
}

/* Track the rows (up to the end day only, or all) in one batch. */
static void track_rows(bvt_engine *e, int up_to_end)
{
    static bvt_event evs[MAX_TX];
    static char ids[MAX_TX][8];
    size_t n = 0;
    for (size_t i = 0; i < ntx; i++) {
        if (up_to_end && txs[i].t_ms > end_ms)
            continue;
        bvt_event ev = BVT_EVENT_INIT;
        snprintf(ids[n], sizeof ids[n], "%d", txs[i].customer);
        ev.type = BVT_EVENT_PURCHASE;
        ev.user_id = ids[n];
        ev.user_id_len = strlen(ids[n]);
        ev.time_ms = txs[i].t_ms;
        ev.value = txs[i].dollars;
        evs[n++] = ev;
    }
    size_t failed = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track_batch(e, evs, n, NULL, 0, &failed, &err);
    ck_assert_msg(rc == BVT_OK && failed == 0, "track_batch: %zu failed: %s", failed, err.message);
}

/* Compare every customer with the published summary; returns mismatches
 * and prints the first few. */
static int compare_all(bvt_engine *e, const char *label)
{
    int mismatches = 0;
    for (int id = 1; id <= CUSTOMERS; id++) {
        char uid[8];
        bvt_rfm_summary s;
        snprintf(uid, sizeof uid, "%d", id);
        ck_assert_msg(ref[id].seen, "customer %d missing from the published summary", id);
        int rc = bvt_rfm_summary_get(e, uid, strlen(uid), end_ms, 7 * DAY_MS, &s);
        int bad = rc != BVT_OK || fabs(s.frequency - ref[id].x) > TOLERANCE
                  || fabs(s.recency - ref[id].t_x) > TOLERANCE
                  || fabs(s.T - ref[id].T) > TOLERANCE
                  || fabs(s.monetary_value - ref[id].zbar) > TOLERANCE;
        if (bad && ++mismatches <= 5) {
            if (rc != BVT_OK)
                fprintf(stderr, "%s: customer %d: %s\n", label, id, bvt_strerror(rc));
            else
                fprintf(stderr, "%s: customer %d: got x=%g t_x=%.4f T=%.4f zbar=%.4f, "
                        "published %g %.2f %.2f %.2f\n", label, id, s.frequency, s.recency,
                        s.T, s.monetary_value, ref[id].x, ref[id].t_x, ref[id].T, ref[id].zbar);
        }
    }
    if (mismatches)
        fprintf(stderr, "%s: %d of %d customers differ\n", label, mismatches, CUSTOMERS);
    return mismatches;
}

START_TEST(rows_up_to_end_match_lifetimes)
{
    bvt_engine *e = engine_with_horizon(0);
    track_rows(e, 1);
    ck_assert_int_eq(compare_all(e, "rows up to the end"), 0);
    bvt_engine_free(e);
}
END_TEST

START_TEST(all_rows_answered_from_history_match_lifetimes)
{
    bvt_engine *e = engine_with_horizon(730 * DAY_MS);
    track_rows(e, 0);
    /* The test means something only if some customers bought after the end. */
    int later = 0;
    for (size_t i = 0; i < ntx; i++)
        later += txs[i].t_ms > end_ms;
    ck_assert_int_gt(later, 0);
    ck_assert_int_eq(compare_all(e, "all rows, 730-day history"), 0);
    bvt_engine_free(e);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(repeat_buyer_statistics_match_the_paper)
{
    static double m[CUSTOMERS];
    int n = 0;
    bvt_engine *e = engine_with_horizon(730 * DAY_MS);
    track_rows(e, 0);
    for (int id = 1; id <= CUSTOMERS; id++) {
        char uid[8];
        bvt_rfm_summary s;
        snprintf(uid, sizeof uid, "%d", id);
        ck_assert_int_eq(bvt_rfm_summary_get(e, uid, strlen(uid), end_ms, 7 * DAY_MS, &s), BVT_OK);
        if (s.frequency > 0)
            m[n++] = s.monetary_value;
    }
    bvt_engine_free(e);

    ck_assert_int_eq(n, 946);
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++)
        sum += m[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++)
        ss += (m[i] - mean) * (m[i] - mean);
    double sd = sqrt(ss / (n - 1));
    qsort(m, (size_t)n, sizeof m[0], cmp_double);
    double median = n % 2 ? m[n / 2] : (m[n / 2 - 1] + m[n / 2]) / 2;
    ck_assert_double_eq_tol(mean, 35.08, 0.005);
    ck_assert_double_eq_tol(sd, 30.28, 0.005);
    ck_assert_double_eq_tol(m[0], 2.99, 0.005);
    ck_assert_double_eq_tol(median, 27.50, 0.005);
    ck_assert_double_eq_tol(m[n - 1], 299.63, 0.005);
}
END_TEST

START_TEST(sample_has_the_documented_shape)
{
    ck_assert_uint_eq(ntx, 6919);
    for (int id = 1; id <= CUSTOMERS; id++)
        ck_assert_msg(ref[id].seen, "customer %d missing from the published summary", id);
}
END_TEST

static Suite *cdnow_suite(void)
{
    Suite *s = suite_create("cdnow");
    TCase *tc = tcase_create("lifetimes");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sample_has_the_documented_shape);
    tcase_add_test(tc, rows_up_to_end_match_lifetimes);
    tcase_add_test(tc, all_rows_answered_from_history_match_lifetimes);
    tcase_add_test(tc, repeat_buyer_statistics_match_the_paper);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("BVT_SHARED_DATA");
    if (!dir) {
        fprintf(stderr, "skipping: no data folder given (argument or BVT_SHARED_DATA)\n");
        return 77;
    }
    if (load_data(dir) < 0)
        return 77;
    SRunner *sr = srunner_create(cdnow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
