/* pixel.c — GET /p.gif: one tracked event per request, answered with a
 * 1x1 transparent GIF.  A visitor without an id gets a random first-party
 * one in the bvt_uid cookie. */
#include "ds.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "event_reader.h"

/* The smallest transparent GIF (43 bytes). */
static const char gif[] =
    "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    "!\xf9\x04\x01\x00\x00\x00\x00"
    ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";

/* Ids we set are 32 hex digits; accept any short [A-Za-z0-9_-] cookie so a
 * site can set its own, and ignore anything else (it is then replaced). */
static int cookie_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *ds_request_uid(const ds_request *req, const char *explicit_uid)
{
    if (explicit_uid)
        return explicit_uid[0] && strlen(explicit_uid) <= ER_MAX_USER_ID ? explicit_uid : NULL;
    const char *c = req->cookie(req->conn, DS_UID_COOKIE);
    return c && cookie_ok(c) ? c : NULL;
}

/* 128 random bits as hex: unguessable, and carries nothing about the user. */
static int new_uid(char out[33])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

void ds_pixel(const ds_request *req, ds_reply *rep)
{
    const char *uid_arg, *ev_name, *cat, *item, *value;
    if (ds_query(req, "uid", &uid_arg, rep) < 0 || ds_query(req, "ev", &ev_name, rep) < 0 ||
        ds_query(req, "cat", &cat, rep) < 0 || ds_query(req, "item", &item, rep) < 0 ||
        ds_query(req, "value", &value, rep) < 0)
        return;

    if (uid_arg && !ds_request_uid(req, uid_arg))
        DS_FAIL(rep, 400, "uid: 1..%d bytes", ER_MAX_USER_ID);
    bvt_event ev = BVT_EVENT_INIT;
    ev.type = BVT_EVENT_PAGE_VIEW;
    /* Pixels are for what a page sees; custom types are not created here. */
    if (ev_name && bvt_event_type_lookup(req->engine, ev_name, &ev.type) != BVT_OK)
        DS_FAIL(rep, 400, "ev: unknown event type");
    if (value) {
        const char *why;
        if (er_parse_value(value, strlen(value), &ev.value, &why) != 0)
            DS_FAIL(rep, 400, "value: %s", why);
    }
    /* The id last, so a refused request sets no cookie. */
    const char *uid = ds_request_uid(req, uid_arg);
    char fresh[33];
    if (!uid) {
        if (new_uid(fresh) != 0)
            DS_FAIL(rep, 503, "no randomness for a new id");
        uid = fresh;
    }
    ev.user_id = uid;
    ev.user_id_len = strlen(uid);
    ev.time_ms = ds_now_ms();
    ev.category = cat && cat[0] ? cat : NULL;
    ev.item_id = item && item[0] ? item : NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(req->engine, &ev, &err);
    if (rc != BVT_OK) {
        unsigned status = rc == BVT_EFULL || rc == BVT_ENOMEM || rc == BVT_EIO ? 503 : 400;
        DS_FAIL(rep, status, "rejected: %s",
                err.message[0] ? err.message : bvt_strerror(rc));
    }
    if (uid == fresh)
        snprintf(rep->cookie, sizeof rep->cookie,
                 DS_UID_COOKIE "=%s; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", fresh);
    rep->status = 200;
    rep->type = "image/gif";
    rep->body = (char *)gif;
    rep->len = sizeof gif - 1;
    rep->body_static = 1;
}
