/* statetest.c — see statetest.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statecmp.h"
#include "statetest.h"

#include "codec.h"
#include "journal.h"
#include "snapfile.h"

#define EXPORT_CAP (1u << 20)
#define USERS STATE_USERS
#define NOW STATE_NOW


void state_dir_make(char *dir)
{
    strcpy(dir, "/tmp/bvt-state-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

void state_dir_remove(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp)
        return;
    for (struct dirent *de; (de = readdir(dp));) {
        if (de->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        unlink(p);
    }
    closedir(dp);
    rmdir(d);
}

const char *state_path(const char *dir, const char *name)
{
    static char p[2][256];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void user_name(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "user-%u", i);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ------------------------------------------------ a random engine state */

static const char *CATS[] = { "home/beds", "home/beds/mattress", "home/lamps", "sport/run",
                              "sport", "books/crime" };

static void offers_and_experiments(bvt_engine *e)
{
    const char *ids[] = { "o-bed", "o-lamp", "o-run", "o-gone" };
    for (unsigned i = 0; i < 4; i++) {
        bvt_offer o = BVT_OFFER_INIT;
        o.id = ids[i];
        o.value = 1 + i;
        bvt_cap cap = { 3, DAY };
        o.caps = &cap;
        o.n_caps = 1;
        ck_assert_int_eq(bvt_offer_define(e, &o, NULL, NULL), BVT_OK);
    }
    ck_assert_int_eq(bvt_offer_remove(e, "o-gone", NULL), BVT_OK);
    bvt_experiment x = BVT_EXPERIMENT_INIT;
    bvt_variant v[2] = { { "control", 1, NULL, NULL, 0 }, { "treatment", 1, NULL, NULL, 0 } };
    x.name = "exp";
    x.variants = v;
    x.n_variants = 2;
    ck_assert_int_eq(bvt_experiment_define(e, &x, NULL, NULL), BVT_OK);
}

void random_state(bvt_engine *e, uint64_t seed)
{
    uint64_t s = seed | 1;
    uint32_t purpose;
    ck_assert_int_eq(bvt_consent_purpose(e, "newsletter", 1, &purpose), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "mattress", "home/beds/mattress", NULL), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "sleepers", "count(page_view, *, 30d) >= 2", NULL, NULL),
                     BVT_OK);
    offers_and_experiments(e);
    const char *offers[] = { "o-bed", "o-lamp", "o-run" };
    char u[32];
    for (unsigned n = 0; n < USERS * 12; n++) {
        unsigned i = (unsigned)(rng_next(&s) % USERS);
        user_name(u, sizeof u, i);
        int64_t t = T0 + (int64_t)(rng_next(&s) % (uint64_t)(29 * DAY)) + 1;
        uint32_t kind = (uint32_t)(rng_next(&s) % 10);
        bvt_event ev = make_event(u, BVT_EVENT_PAGE_VIEW, t, CATS[rng_next(&s) % 6], 0);
        switch (kind) {
        case 0: ev.type = BVT_EVENT_SEARCH; ev.category = NULL; ev.search_text = "red mattress"; break;
        case 1: ev.type = BVT_EVENT_ADD_TO_CART; ev.item_id = "sku-1"; ev.value = 20; break;
        case 2: ev.type = BVT_EVENT_PURCHASE; ev.value = 5.0 + (double)(rng_next(&s) % 100); break;
        case 3: ev.type = BVT_EVENT_IMPRESSION; ev.offer_id = offers[rng_next(&s) % 3]; break;
        case 4: ev.type = BVT_EVENT_CLICK; ev.offer_id = offers[rng_next(&s) % 3]; break;
        default: ev.dwell_ms = (int64_t)(rng_next(&s) % 60000); break;
        }
        ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_OK);
        if (n % 7 == 0)
            ck_assert_int_eq(bvt_attr_set_string(e, u, strlen(u), "tier", n % 2 ? "gold" : "blue"),
                             BVT_OK);
        if (n % 11 == 0)
            ck_assert_int_eq(bvt_attr_set_number(e, u, strlen(u), "age", (double)(n % 70)), BVT_OK);
        if (n % 13 == 0)
            ck_assert_int_eq(bvt_consent_set(e, u, strlen(u), purpose, (int)(n % 2), t), BVT_OK);
        if (n % 17 == 0) {
            uint32_t exp;
            int32_t variant;
            ck_assert_int_eq(bvt_experiment_lookup(e, "exp", &exp), BVT_OK);
            ck_assert_int_eq(bvt_experiment_assign(e, exp, u, strlen(u), t, &variant), BVT_OK);
        }
    }
    for (unsigned i = 0; i < 10; i++) { /* anonymous visitors who log in */
        char anon[32];
        snprintf(anon, sizeof anon, "anon-%u", i);
        user_name(u, sizeof u, i * 3);
        track_ok(e, anon, BVT_EVENT_PAGE_VIEW, T0 + DAY, "sport/run", 0);
        ck_assert_int_eq(bvt_user_alias(e, anon, strlen(anon), u, strlen(u), NULL), BVT_OK);
    }
    ck_assert_int_eq(bvt_rfm_refresh(e, NOW, NULL), BVT_OK);
}

/* ------------------------------------------------------- comparing engines */

static char *export_of(bvt_engine *e, const char *u)
{
    char *buf = malloc(EXPORT_CAP);
    size_t len;
    int rc = bvt_user_export(e, u, strlen(u), NOW, buf, EXPORT_CAP, &len);
    if (rc == BVT_ENOTFOUND) {
        strcpy(buf, "absent");
        return buf;
    }
    ck_assert_int_eq(rc, BVT_OK);
    return buf;
}

void same_engines(bvt_engine *a, bvt_engine *b)
{
    char u[32];
    for (unsigned i = 0; i < USERS + 10; i++) {
        if (i < USERS)
            user_name(u, sizeof u, i);
        else
            snprintf(u, sizeof u, "anon-%u", i - USERS);
        char *x = export_of(a, u), *y = export_of(b, u);
        ck_assert_msg(strcmp(x, y) == 0, "%s differs:\n%s\n%s", u, x, y);
        free(x);
        free(y);
    }
    bvt_stats sa = stats_of(a), sb = stats_of(b);
    ck_assert_uint_eq(sa.users, sb.users);
    ck_assert_uint_eq(sa.events_accepted, sb.events_accepted);
    ck_assert_uint_eq(sa.events_rejected, sb.events_rejected);
    ck_assert_uint_eq(sa.bytes_history, sb.bytes_history);
    ck_assert_uint_eq(sa.bytes_cart, sb.bytes_cart);
    ck_assert_uint_eq(sa.bytes_attributes, sb.bytes_attributes);
    uint32_t offer;
    ck_assert_int_eq(bvt_offer_lookup(a, "o-bed", &offer), BVT_OK);
    bvt_metrics ma = BVT_METRICS_INIT, mb = BVT_METRICS_INIT;
    ck_assert_int_eq(bvt_metrics_get(a, offer, 0, &ma), BVT_OK);
    ck_assert_int_eq(bvt_metrics_get(b, offer, 0, &mb), BVT_OK);
    ck_assert_uint_eq(ma.impressions, mb.impressions);
    ck_assert_uint_eq(ma.clicks, mb.clicks);
    ck_assert(ma.revenue == mb.revenue);
}

void same_state(bvt_engine *a, bvt_engine *b, const statecmp_names *names, int64_t now)
{
    char *x = statecmp_capture(a, names, now, 0), *y = statecmp_capture(b, names, now, 0);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    char *diff = statecmp_diff(x, y);
    ck_assert_msg(!diff, "the states differ (a, b): %s", diff);
    free(x);
    free(y);
}

unsigned char *state_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*len ? *len : 1);
    ck_assert_uint_eq(fread(p, 1, *len, f), *len);
    fclose(f);
    return p;
}

void state_write_file(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

uint64_t state_check(const char *dir)
{
    size_t len;
    unsigned char *h = state_read_file(state_path(dir, "snapshot.bvts"), &len);
    ck_assert_uint_ge(len, 24);
    bvt_rbuf r;
    bvt__rbuf_init(&r, h + 16, 8);
    uint64_t check = bvt__r_u64(&r);
    free(h);
    return check;
}

typedef struct needle {
    const void *p;
    size_t n;
} needle;

static int has(const unsigned char *hay, size_t len, const needle *nd)
{
    for (size_t i = 0; i + nd->n <= len; i++)
        if (memcmp(hay + i, nd->p, nd->n) == 0)
            return 1;
    return 0;
}

static int record_has(void *ud, uint64_t seq, const void *rec, size_t n)
{
    (void)seq;
    return has(rec, n, ud);
}

static int snapshot_has(const unsigned char *img, size_t len, uint64_t check, const needle *nd)
{
    bvt_snapr r;
    ck_assert_int_eq(bvt__snapr_open(&r, img, len, check, NULL), BVT_OK);
    uint32_t sec;
    const void *raw;
    size_t n;
    uint64_t at;
    int found = 0;
    while (!found && bvt__snapr_next(&r, &sec, &raw, &n, &at, NULL) == BVT_OK && sec != 15)
        found = has(raw, n, nd);
    bvt__snapr_close(&r);
    return found;
}

int state_dir_holds(const char *dir, uint64_t check, const void *p, size_t n)
{
    needle nd = { p, n };
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int found = 0;
    for (struct dirent *de; !found && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        unsigned char *img = state_read_file(path, &len);
        found = has(img, len, &nd);
        if (!found && strstr(de->d_name, ".bvtj")) {
            bvt_journal_scan scan;
            found = bvt__journal_scan_buffer(img, len, check, record_has, &nd, &scan, NULL) == 1;
        } else if (!found && strstr(de->d_name, ".bvts")) {
            found = snapshot_has(img, len, check, &nd);
        }
        free(img);
    }
    closedir(d);
    return found;
}
