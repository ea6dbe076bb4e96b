/* uid.c — who a request is about: the uid it names, else the bvt_uid
 * cookie, else, for a request that may start a visit (the page, the pixel,
 * /decide, /consent), a new random id sent back in a first-party cookie. */
#include "ds.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "event_reader.h"

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

/* The uid given, else the cookie; NULL when neither is valid. */
static const char *known_uid(const ds_request *req, const char *explicit_uid)
{
    if (explicit_uid)
        return explicit_uid[0] && strlen(explicit_uid) <= ER_MAX_USER_ID ? explicit_uid : NULL;
    const char *c = req->cookie(req->conn, DS_UID_COOKIE);
    return c && cookie_ok(c) ? c : NULL;
}

/* 128 random bits as hex: unguessable, and carries nothing about the user. */
static int new_uid(ds_fresh_uid *out)
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out->text + 2 * i, 3, "%02x", r[i]);
    return 0;
}

const char *ds_visitor(const ds_request *req, const char *explicit_uid, ds_fresh_uid *fresh,
                       ds_reply *rep)
{
    const char *uid = known_uid(req, explicit_uid);
    if (uid)
        return uid;
    if (explicit_uid) {
        ds_reply_error(rep, 400, "uid: 1..%d bytes", ER_MAX_USER_ID);
        return NULL;
    }
    if (new_uid(fresh) != 0) {
        ds_reply_error(rep, 503, "no randomness for a new id");
        return NULL;
    }
    /* First-party, unreadable by scripts; ds_reply_error() drops it again
     * if the request is refused after all. */
    snprintf(rep->cookie, sizeof rep->cookie,
             DS_UID_COOKIE "=%s; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", fresh->text);
    return fresh->text;
}
