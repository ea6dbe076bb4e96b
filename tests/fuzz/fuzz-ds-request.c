/* fuzz-ds-request.c — libFuzzer entry point for the decision server's
 * request handling (examples/decision-server/route.c and its routes), with
 * no network: the HTTP front's part is played here.
 *
 * An input is a request:
 *   line 1  method
 *   line 2  path, optionally ?query (k=v&k=v, %XX and + decoded as
 *           libmicrohttpd does; a %00 stays inside the value)
 *   line 3  the Cookie header's value (name=value; name=value)
 *   rest    the body
 * routed as http.c routes it: a refused request line and a body over the
 * route's limit are answered before the body is read.  Besides the
 * sanitizers, the harness checks the server's promises: the status is one
 * of those it documents, every JSON reply parses (an error reply is exactly
 * {"error":"<non-empty string>"}), a refused request sets no cookie, a 405
 * and only a 405 names the allowed methods.  One engine with the demo
 * catalogue serves every input, as one server does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAIRS 32

typedef struct pair {
    char *key, *value;
    size_t value_len;
} pair;

typedef struct request {
    pair args[MAX_PAIRS], cookies[MAX_PAIRS];
    size_t n_args, n_cookies;
} request;

static const char *arg_of(void *conn, const char *key, size_t *len)
{
    request *r = conn;
    for (size_t i = 0; i < r->n_args; i++)
        if (strcmp(r->args[i].key, key) == 0) {
            *len = r->args[i].value_len;
            return r->args[i].value;
        }
    return NULL;
}

static const char *cookie_of(void *conn, const char *key)
{
    request *r = conn;
    for (size_t i = 0; i < r->n_cookies; i++)
        if (strcmp(r->cookies[i].key, key) == 0)
            return r->cookies[i].value;
    return NULL;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode s[0..n) in place (%XX, +); the decoded length. */
static size_t unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            s[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            s[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* Split text (NUL-terminated, modified) into key=value pairs at sep. */
static size_t pairs(char *text, char sep, int decode, pair *out)
{
    size_t n = 0;
    for (char *p = text; p && *p && n < MAX_PAIRS;) {
        char *end = strchr(p, sep);
        if (end)
            *end++ = '\0';
        while (sep == ';' && *p == ' ')
            p++;
        char *eq = strchr(p, '=');
        char *value = eq ? eq + 1 : p + strlen(p);
        if (eq)
            *eq = '\0';
        size_t len = strlen(value);
        if (decode) {
            unescape(p, strlen(p));
            len = unescape(value, len);
        }
        out[n++] = (pair){ p, value, len };
        p = end;
    }
    return n;
}

/* The next line of data (without its '\n'), copied NUL-terminated. */
static char *line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *data, n);
    s[n] = '\0';
    *data += nl ? n + 1 : n;
    *size -= nl ? n + 1 : n;
    return s;
}

static const ds_server *server(void)
{
    static ds_server srv;
    if (!srv.engine) {
        bvt_options o = BVT_OPTIONS_INIT;
        o.secret = "fuzz-ds-request-secret";
        o.secret_len = strlen(o.secret);
        o.max_users = 2000; /* bounded memory over a long run, as the server */
        o.full_policy = BVT_FULL_EVICT_LRU;
        if (bvt_engine_new(&srv.engine, &o, NULL) != BVT_OK ||
            ds_catalogue_define(srv.engine) != 0 || !(srv.metrics = ds_metrics_new()))
            abort();
    }
    return &srv;
}

static void check_reply(const ds_reply *rep)
{
    static const unsigned documented[] = { 200, 400, 404, 405, 413, 503 };
    int ok = 0;
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        ok |= rep->status == documented[i];
    if (!ok || !rep->type || (rep->len && !rep->body))
        abort();
    if (strcmp(rep->type, "application/json") == 0) {
        char *text = malloc(rep->len + 1);
        if (!text)
            abort();
        memcpy(text, rep->body, rep->len);
        text[rep->len] = '\0';
        if (strlen(text) != rep->len || !is_json(text))
            abort();
        if (rep->status != 200) {
            jb_object *o = malloc(sizeof *o);
            const char *why;
            if (!o || jb_parse(o, text, rep->len, &why) != 0 || o->n != 1 ||
                !jb_get(o, "error") || jb_get(o, "error")->kind != JB_STRING ||
                !jb_get(o, "error")->text[0])
                abort();
            free(o);
        }
        free(text);
    }
    if (rep->status != 200 && rep->cookie[0])
        abort();
    if ((rep->status == 405) != (rep->allow != NULL)) /* a 405 says what is allowed */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *method = line(&data, &size);
    char *url = line(&data, &size);
    char *cookie = line(&data, &size);
    request r = { 0 };
    char *query = strchr(url, '?');
    if (query)
        *query++ = '\0';
    r.n_args = pairs(query, '&', 1, r.args);
    r.n_cookies = pairs(cookie, ';', 0, r.cookies);
    /* The body as the front hands it over: its own copy, NUL-terminated. */
    char *body = malloc(size + 1);
    if (!body)
        abort();
    memcpy(body, data, size);
    body[size] = '\0';

    ds_reply rep = DS_REPLY_INIT;
    if (!ds_route_refuse(method, url, &rep)) {
        size_t limit = ds_body_limit(method, url);
        if (size > limit) {
            ds_reply_error(&rep, 413, "body larger than %zu bytes", limit);
        } else {
            ds_request req = { server(), arg_of, cookie_of, &r, size ? body : NULL, size };
            ds_route(&req, method, url, &rep);
        }
    }
    check_reply(&rep);
    if (!rep.body_static)
        free(rep.body);
    free(body);
    free(method);
    free(url);
    free(cookie);
    return 0;
}
