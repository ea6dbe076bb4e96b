/* http.c — the libmicrohttpd front: bounded connections and bodies, and the
 * replies routed by route.c.  Routes never see the HTTP library. */
#include "http.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* The body read so far, per request. */
typedef struct upload {
    size_t limit;
    size_t len;
    char *buf;
} upload;

static const char *arg_of(void *conn, const char *key, size_t *len)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &n) !=
        MHD_YES)
        return NULL;
    *len = n;
    return v;
}

static const char *cookie_of(void *conn, const char *key)
{
    return MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, key);
}

static enum MHD_Result send_reply(const ds_server *srv, struct MHD_Connection *conn,
                                  ds_reply *rep)
{
    ds_metrics_reply(srv->metrics, rep->status);
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
    if (rep->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rep->allow);
    enum MHD_Result ret = MHD_queue_response(conn, rep->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    const ds_server *srv = cls;
    upload *up = *con_cls;
    ds_reply rep = DS_REPLY_INIT;
    if (!up) {
        /* First call, headers only: refuse what needs no body to refuse,
         * then a declared body over the limit, before reading a byte (MHD
         * then closes the connection after the reply). */
        if (ds_route_refuse(method, url, &rep))
            return send_reply(srv, conn, &rep);
        size_t limit = ds_body_limit(method, url);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > limit) {
            if (limit)
                ds_reply_error(&rep, 413, "body larger than %zu bytes", limit);
            else
                ds_reply_error(&rep, 413, "this request takes no body");
            return send_reply(srv, conn, &rep);
        }
        if (!(up = calloc(1, sizeof *up)))
            return MHD_NO;
        up->limit = limit;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* A piece of a body within its declared length, or of a chunked one
         * (no length given): past the limit nothing more is read and the
         * connection is closed at once (libmicrohttpd cannot queue a reply
         * while a body is arriving). */
        if (*upload_data_size > up->limit - up->len)
            return MHD_NO;
        char *b = realloc(up->buf, up->len + *upload_data_size + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + up->len, upload_data, *upload_data_size);
        up->buf = b;
        up->len += *upload_data_size;
        up->buf[up->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    ds_request req = { srv, arg_of, cookie_of, conn, up->buf, up->len };
    ds_route(&req, method, url, &rep);
    return send_reply(srv, conn, &rep);
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

struct MHD_Daemon *ds_http_start(const ds_server *srv, const struct sockaddr_storage *bind,
                                 uint16_t port, unsigned threads, unsigned timeout_s,
                                 uint16_t *out_port)
{
    struct sockaddr_storage addr = *bind;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons(port);
        flags |= MHD_USE_IPv6;
    } else {
        ((struct sockaddr_in *)&addr)->sin_port = htons(port);
    }
    /* epoll (MHD_USE_AUTO): no select() limit on descriptors. */
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, (void *)srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
        on_done, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, DS_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, DS_MAX_CONNECTIONS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)DS_MAX_HEADER_BYTES, MHD_OPTION_END);
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
