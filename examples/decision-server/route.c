/* route.c — answering a request without any network: the request line's
 * route, the body limit it allows, and the reply helpers.  http.c calls it
 * for each request; tests/fuzz/fuzz-ds-request.c calls it directly. */
#include "ds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t ds_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ds_reply_error(ds_reply *rep, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    jo_buf out = { 0 };
    JO_LIT(&out, "{\"error\":");
    jo_string(&out, msg, len);
    JO_LIT(&out, "}\n");
    rep->status = status;
    rep->type = "application/json";
    rep->body_static = 0;
    if (out.failed) { /* still a JSON body, without the detail */
        free(out.p);
        static const char oom[] = "{\"error\":\"out of memory\"}\n";
        rep->body = (char *)oom;
        rep->len = sizeof oom - 1;
        rep->body_static = 1;
        return;
    }
    rep->body = out.p;
    rep->len = out.len;
}

void ds_reply_json(ds_reply *rep, unsigned status, char *owned_json, size_t len)
{
    rep->status = status;
    rep->type = "application/json";
    rep->body = owned_json;
    rep->len = len;
    rep->body_static = 0;
}

int ds_query(const ds_request *req, const char *key, const char **out, ds_reply *rep)
{
    size_t len = 0;
    const char *v = req->arg(req->conn, key, &len);
    *out = NULL;
    if (!v)
        return 0;
    if (strlen(v) != len) { /* %00: C would read it cut short */
        ds_reply_error(rep, 400, "%s: a NUL byte (%%00) at offset %zu", key, strlen(v));
        return -1;
    }
    *out = v;
    return 1;
}

typedef enum { PAGE, PIXEL, EVENTS, DECIDE, CONSENT, NOWHERE } route_id;

static route_id route_of(const char *url)
{
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return PAGE;
    if (strcmp(url, "/p.gif") == 0)
        return PIXEL;
    if (strcmp(url, "/events") == 0)
        return EVENTS;
    if (strcmp(url, "/decide") == 0)
        return DECIDE;
    if (strcmp(url, "/consent") == 0)
        return CONSENT;
    return NOWHERE;
}

static int is_get(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int ds_route_refuse(const char *method, const char *url, ds_reply *rep)
{
    route_id r = route_of(url);
    if (r == NOWHERE)
        ds_reply_error(rep, 404, "no such page: GET /, GET /p.gif, POST /events, /decide, /consent");
    else if ((r == PAGE || r == PIXEL) && !is_get(method))
        ds_reply_error(rep, 405, "GET only");
    else if (r >= EVENTS && strcmp(method, "POST") != 0)
        ds_reply_error(rep, 405, "POST only");
    else
        return 0;
    return 1;
}

size_t ds_body_limit(const char *method, const char *url)
{
    if (strcmp(method, "POST") != 0)
        return 0;
    route_id r = route_of(url);
    return r == EVENTS ? DS_MAX_EVENTS_BODY : r == DECIDE || r == CONSENT ? DS_MAX_SMALL_BODY : 0;
}

void ds_route(const ds_request *req, const char *method, const char *url, ds_reply *rep)
{
    if (ds_route_refuse(method, url, rep))
        return;
    if (req->body_len > ds_body_limit(method, url)) /* the front refuses these first */
        DS_FAIL(rep, 413, "body larger than %zu bytes", ds_body_limit(method, url));
    switch (route_of(url)) {
    case PAGE:
        rep->status = 200;
        rep->type = "text/html; charset=utf-8";
        rep->body = (char *)ds_page_index; /* static, never freed */
        rep->len = ds_page_index_len;
        rep->body_static = 1;
        break;
    case PIXEL: ds_pixel(req, rep); break;
    case EVENTS: ds_events_post(req, rep); break;
    case DECIDE: ds_decide(req, rep); break;
    case CONSENT: ds_consent(req, rep); break;
    case NOWHERE: break; /* refused above */
    }
}
