/*
 * install-smoke.c — a user's first program, built against an installed
 * libbehavtarget through pkg-config (check-install.sh): the version it
 * linked, one event in, the profile out.
 */
#include <behavtarget.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    static const char secret[] = "install-smoke-secret-0123456789";
    bvt_options opts = BVT_OPTIONS_INIT;
    bvt_event ev = BVT_EVENT_INIT;
    bvt_profile prof;
    bvt_engine *engine = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc;

    if (strcmp(bvt_version(), BVT_VERSION_STRING) != 0 ||
        bvt_version_number() != BVT_VERSION_NUMBER) {
        fprintf(stderr, "linked version %s, header %s\n", bvt_version(),
                BVT_VERSION_STRING);
        return 1;
    }

    opts.secret = secret;
    opts.secret_len = sizeof secret - 1;
    rc = bvt_engine_new(&engine, &opts, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt_engine_new: %s (%s)\n", bvt_strerror(rc), err.message);
        return 1;
    }

    ev.type = BVT_EVENT_PURCHASE;
    ev.user_id = "alice";
    ev.user_id_len = 5;
    ev.time_ms = 1700000000000;
    ev.category = "books/fiction";
    ev.value = 12.5;
    rc = bvt_event_track(engine, &ev, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt_event_track: %s (%s)\n", bvt_strerror(rc), err.message);
        bvt_engine_free(engine);
        return 1;
    }

    bvt_profile_init(&prof);
    rc = bvt_profile_get(engine, "alice", 5, ev.time_ms + 1000, &prof);
    bvt_engine_free(engine);
    if (rc != BVT_OK || prof.purchases != 1 || prof.monetary_total != 12.5) {
        fprintf(stderr, "profile: rc %d, purchases %u, total %g\n", rc,
                (unsigned)prof.purchases, prof.monetary_total);
        return 1;
    }
    printf("libbehavtarget %s installed and working\n", bvt_version());
    return 0;
}
