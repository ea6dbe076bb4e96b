/* pixel.c — GET /p.gif: one tracked event per request, answered with a
 * 1x1 transparent GIF once the event is durable.  A visitor without an id
 * gets one (uid.c). */
#include "ds.h"

#include <string.h>

#include "event_reader.h"

/* The smallest transparent GIF (43 bytes). */
static const char gif[] =
    "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    "!\xf9\x04\x01\x00\x00\x00\x00"
    ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";

/* Read the query into ev (all but the user); 0, or -1 with the reply. */
static int read_event(const ds_request *req, bvt_event *ev, ds_reply *rep)
{
    const char *ev_name, *cat, *item, *value, *t;
    if (ds_query(req, "ev", &ev_name, rep) < 0 || ds_query(req, "cat", &cat, rep) < 0 ||
        ds_query(req, "item", &item, rep) < 0 || ds_query(req, "value", &value, rep) < 0 ||
        ds_query(req, "t", &t, rep) < 0)
        return -1;
    ev->type = BVT_EVENT_PAGE_VIEW;
    /* Pixels are for what a page sees; custom types are not created here. */
    if (ev_name && bvt_event_type_lookup(req->srv->engine, ev_name, &ev->type) != BVT_OK) {
        ds_reply_error(rep, 400, "ev: unknown event type");
        return -1;
    }
    if (value) {
        const char *why;
        if (er_parse_value(value, strlen(value), &ev->value, &why) != 0) {
            ds_reply_error(rep, 400, "value: %s", why);
            return -1;
        }
    }
    ev->time_ms = ds_now_ms();
    if (t) { /* when it happened, if the page queued it */
        char why[300];
        if (ds_time_read(t, strlen(t), &ev->time_ms, why, sizeof why) != 0) {
            ds_reply_error(rep, 400, "t: %s", why);
            return -1;
        }
    }
    ev->category = cat && cat[0] ? cat : NULL;
    ev->item_id = item && item[0] ? item : NULL;
    return 0;
}

void ds_pixel(const ds_request *req, ds_reply *rep)
{
    const char *uid_arg;
    bvt_event ev = BVT_EVENT_INIT;
    if (ds_query(req, "uid", &uid_arg, rep) < 0 || read_event(req, &ev, rep) < 0)
        return;
    ds_fresh_uid fresh;
    const char *uid = ds_visitor(req, uid_arg, &fresh, rep);
    if (!uid)
        return;
    ev.user_id = uid;
    ev.user_id_len = strlen(uid);
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(req->srv->engine, &ev, &err);
    ds_metrics_events(req->srv->metrics, DS_SRC_PIXEL, rc == BVT_OK, rc != BVT_OK);
    if (rc != BVT_OK)
        DS_FAIL(rep, ds_status_of(rc), "rejected: %s",
                err.message[0] ? err.message : bvt_strerror(rc));
    if (ds_durable(req, rep) != 0)
        return;
    ds_reply_static(rep, "image/gif", gif, sizeof gif - 1);
}
