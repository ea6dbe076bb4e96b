/* consent.c — what consent lets out, and POST /consent (the page's
 * banner).
 *
 * Every output that says something about a user goes through
 * ds_consent_allows() with the purposes of the table below, read once per
 * request (ds_consent_read()).  The purposes are the library's built-in
 * ones (docs/privacy.md): `personalisation` covers profiling a user into
 * segments and showing what the profile holds; `ads` covers using it to
 * choose what the user is offered.  Segments sent to bidders in OpenRTB
 * user.data are both.  A purpose never chosen is not granted. */
#include "ds.h"

#include <stdlib.h>
#include <string.h>

#define P(purpose) (1u << (purpose))

static const uint32_t needs[DS_OUT_COUNT] = {
    /* bvt_rank() enforces this one itself (a user without ads consent
     * gets the non-personalised ranking); listed so the table is whole. */
    [DS_OUT_OFFERS] = P(BVT_PURPOSE_ADS),
    [DS_OUT_PROFILE] = P(BVT_PURPOSE_PERSONALISATION),
    [DS_OUT_SEGMENTS] = P(BVT_PURPOSE_PERSONALISATION) | P(BVT_PURPOSE_ADS),
};

/* The purposes the banner and /consent know, by their library names. */
static const struct {
    const char *name;
    uint32_t id;
} purposes[] = {
    { "personalisation", BVT_PURPOSE_PERSONALISATION },
    { "ads", BVT_PURPOSE_ADS },
    { "analytics", BVT_PURPOSE_ANALYTICS },
};
#define N_PURPOSES (sizeof purposes / sizeof purposes[0])

uint32_t ds_consent_read(bvt_engine *engine, const char *uid)
{
    uint32_t granted = 0;
    for (size_t i = 0; i < N_PURPOSES; i++) {
        int g = 0;
        if (bvt_consent_get(engine, uid, strlen(uid), purposes[i].id, &g) == BVT_OK && g)
            granted |= P(purposes[i].id);
    }
    return granted;
}

int ds_consent_allows(uint32_t granted, ds_output out)
{
    return out < DS_OUT_COUNT && (granted & needs[out]) == needs[out];
}

void ds_consent_json(uint32_t granted, jo_buf *out)
{
    for (size_t i = 0; i < N_PURPOSES; i++) {
        jo_raw(out, i ? "," : "{", 1);
        jo_string(out, purposes[i].name, strlen(purposes[i].name));
        jo_printf(out, ":%s", granted & P(purposes[i].id) ? "true" : "false");
    }
    JO_LIT(out, "}");
}

/* Record each purpose the body names; 0, or -1 with the reply. */
static int record(const ds_request *req, const jb_object *o, const char *uid, ds_reply *rep)
{
    int64_t now = ds_now_ms();
    size_t chosen = 0;
    for (size_t i = 0; i < N_PURPOSES; i++) {
        const jb_member *m = jb_get(o, purposes[i].name);
        if (!m)
            continue;
        if (m->kind != JB_TRUE && m->kind != JB_FALSE) {
            ds_reply_error(rep, 400, "%s: true or false", purposes[i].name);
            return -1;
        }
        chosen++;
    }
    if (!chosen) {
        ds_reply_error(rep, 400, "body: choose at least one of personalisation, ads, analytics");
        return -1;
    }
    for (size_t i = 0; i < N_PURPOSES; i++) {
        const jb_member *m = jb_get(o, purposes[i].name);
        if (!m)
            continue;
        int rc = bvt_consent_set(req->srv->engine, uid, strlen(uid), purposes[i].id,
                                 m->kind == JB_TRUE, now);
        if (rc != BVT_OK) {
            ds_reply_error(rep, ds_status_of(rc), "consent: %s", bvt_strerror(rc));
            return -1;
        }
    }
    return ds_durable(req, rep);
}

void ds_consent(const ds_request *req, ds_reply *rep)
{
    static const char *const known[] = { "uid", "personalisation", "ads", "analytics", NULL };
    jb_object *o = malloc(sizeof *o);
    if (!o)
        DS_FAIL(rep, 503, "out of memory");
    ds_fresh_uid fresh;
    const char *uid;
    if (ds_body_open(req, rep, o, known, &fresh, &uid) == 0 && record(req, o, uid, rep) == 0) {
        /* The choices as the engine now holds them (an older choice
         * arriving late does not override a newer one). */
        jo_buf out = { 0 };
        ds_consent_json(ds_consent_read(req->srv->engine, uid), &out);
        JO_LIT(&out, "\n");
        jo_reply(&out, rep);
    }
    free(o);
}
