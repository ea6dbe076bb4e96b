/* route.c — answering a request without any network: the request line's
 * route, the body limit it allows, the reply helpers and the reading of
 * query values and times.  http.c calls it for each request;
 * tests/fuzz/fuzz-ds-request.c calls it directly. */
#include "ds.h"

#include "cli_time.h"

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
    rep->cookie[0] = '\0'; /* a refused request starts no visit */
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

void ds_reply_static(ds_reply *rep, const char *type, const void *body, size_t len)
{
    rep->status = 200;
    rep->type = type;
    rep->body = (char *)body; /* static, never freed */
    rep->len = len;
    rep->body_static = 1;
}

unsigned ds_status_of(int bvt_rc)
{
    return bvt_rc == BVT_EFULL || bvt_rc == BVT_ENOMEM || bvt_rc == BVT_EIO ? 503 : 400;
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

int ds_time_read(const char *text, size_t len, int64_t *out, char *why, size_t cap)
{
    /* The bvt readers' reading (cli_time.h), with the library's advice to
     * choose a format (a client of this server has no such option)
     * replaced by what to send; bvt_time_parse() reads no year after 9999. */
    const char *kind;
    return cli_time_read_advised(text, len, BVT_TIME_AUTO, DS_TIME_ADVICE, out, why, cap, &kind);
}

/* The routes: a path, the methods it takes (Allow), its body limit and the
 * function that answers it. */
typedef struct route {
    const char *path;
    int post; /* 0: GET and HEAD; 1: POST */
    size_t body_limit;
    void (*answer)(const ds_request *req, ds_reply *rep);
} route;

static void healthz(const ds_request *req, ds_reply *rep)
{
    (void)req;
    static const char ok[] = "{\"status\":\"ok\"}\n";
    ds_reply_static(rep, "application/json", ok, sizeof ok - 1);
}

static const route routes[] = {
    { "/", 0, 0, ds_page },
    { "/index.html", 0, 0, ds_page },
    { "/p.gif", 0, 0, ds_pixel },
    { "/healthz", 0, 0, healthz },
    { "/metrics", 0, 0, ds_metrics_page },
    { "/events", 1, DS_MAX_EVENTS_BODY, ds_events_post },
    { "/decide", 1, DS_MAX_SMALL_BODY, ds_decide },
    { "/consent", 1, DS_MAX_SMALL_BODY, ds_consent },
};

static const route *route_of(const char *url)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0)
            return &routes[i];
    return NULL;
}

static int method_ok(const route *r, const char *method)
{
    if (r->post)
        return strcmp(method, "POST") == 0;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int ds_route_refuse(const char *method, const char *url, ds_reply *rep)
{
    const route *r = route_of(url);
    if (!r) {
        ds_reply_error(rep, 404, "no such page: GET /, /p.gif, /healthz, /metrics; "
                       "POST /events, /decide, /consent");
    } else if (!method_ok(r, method)) {
        ds_reply_error(rep, 405, "%s only", r->post ? "POST" : "GET or HEAD");
        rep->allow = r->post ? "POST" : "GET, HEAD";
    } else {
        return 0;
    }
    return 1;
}

size_t ds_body_limit(const char *method, const char *url)
{
    const route *r = route_of(url);
    return r && method_ok(r, method) ? r->body_limit : 0;
}

void ds_route(const ds_request *req, const char *method, const char *url, ds_reply *rep)
{
    if (ds_route_refuse(method, url, rep))
        return;
    if (req->body_len > ds_body_limit(method, url)) /* the front refuses these first */
        DS_FAIL(rep, 413, "body larger than %zu bytes", ds_body_limit(method, url));
    route_of(url)->answer(req, rep); /* known: not refused above */
}
