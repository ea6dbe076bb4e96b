/* http.c — the libmicrohttpd front: reads bounded bodies, routes requests,
 * sends replies.  Routes never see the HTTP library. */
#include "http.h"

#include <microhttpd.h>
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

void ds_reply_text(ds_reply *rep, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    rep->status = status;
    rep->type = "text/plain; charset=utf-8";
    rep->body = malloc(len + 1);
    rep->body_static = 0;
    rep->len = rep->body ? len : 0;
    if (rep->body)
        memcpy(rep->body, msg, len + 1);
}

void ds_reply_json(ds_reply *rep, unsigned status, char *owned_json, size_t len)
{
    rep->status = status;
    rep->type = "application/json";
    rep->body = owned_json;
    rep->len = len;
    rep->body_static = 0;
}

/* The body read so far, per connection. */
typedef struct upload {
    size_t limit;
    size_t len;
    int too_large;
    char *buf;
} upload;

static const char *arg_of(void *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

static const char *cookie_of(void *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, key);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, ds_reply *rep)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        rep->len, rep->body ? rep->body : (char *)"",
        rep->body && !rep->body_static ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (!rep->body_static)
            free(rep->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->type);
    /* Decisions and pixels are per visit: nothing may be cached. */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (rep->cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, rep->cookie);
    enum MHD_Result ret = MHD_queue_response(conn, rep->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void route(bvt_engine *engine, const char *method, const char *url,
                  struct MHD_Connection *conn, const upload *up, ds_reply *rep)
{
    ds_request req = { engine, arg_of, cookie_of, conn, up ? up->buf : NULL, up ? up->len : 0 };
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        if (!get)
            DS_FAIL(rep, 405, "GET only\n");
        rep->status = 200;
        rep->type = "text/html; charset=utf-8";
        rep->body = (char *)ds_page_index; /* static, never freed */
        rep->len = ds_page_index_len;
        rep->body_static = 1;
    } else if (strcmp(url, "/p.gif") == 0) {
        if (!get)
            DS_FAIL(rep, 405, "GET only\n");
        ds_pixel(&req, rep);
    } else if (strcmp(url, "/events") == 0 || strcmp(url, "/decide") == 0 ||
               strcmp(url, "/consent") == 0) {
        if (!post)
            DS_FAIL(rep, 405, "POST only\n");
        if (up->too_large)
            DS_FAIL(rep, 413, "body larger than %zu bytes\n", up->limit);
        if (url[1] == 'e')
            ds_events_post(&req, rep);
        else if (url[1] == 'd')
            ds_decide(&req, rep);
        else
            ds_consent(&req, rep);
    } else {
        DS_FAIL(rep, 404, "no such page: GET /, GET /p.gif, POST /events, /decide, /consent\n");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    bvt_engine *engine = cls;
    upload *up = *con_cls;
    if (!up && strcmp(method, MHD_HTTP_METHOD_POST) == 0) {
        /* First call, headers only: set up the body buffer. */
        if (!(up = calloc(1, sizeof *up)))
            return MHD_NO;
        up->limit = strcmp(url, "/events") == 0 ? DS_MAX_EVENTS_BODY : DS_MAX_SMALL_BODY;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        up->too_large = cl && strtoull(cl, NULL, 10) > up->limit;
        *con_cls = up;
        return MHD_YES;
    }
    if (up && *upload_data_size) {
        /* A chunk: keep it if it fits, else drop the rest and answer 413. */
        if (!up->too_large && up->len + *upload_data_size <= up->limit) {
            char *b = realloc(up->buf, up->len + *upload_data_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + up->len, upload_data, *upload_data_size);
            up->buf = b;
            up->len += *upload_data_size;
            up->buf[up->len] = '\0';
        } else {
            up->too_large = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    ds_reply rep = { 500, "text/plain", NULL, 0, 0, { 0 } };
    route(engine, method, url, conn, up, &rep);
    return send_reply(conn, &rep);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    upload *up = *con_cls;
    if (up) {
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
}

struct MHD_Daemon *ds_http_start(bvt_engine *engine, uint16_t port, uint16_t *out_port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* a demo: this machine only */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL, on_request,
        engine, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
        on_done, NULL, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *out_port = info ? info->port : port;
    return d;
}

void ds_http_stop(struct MHD_Daemon *d)
{
    MHD_stop_daemon(d);
}
