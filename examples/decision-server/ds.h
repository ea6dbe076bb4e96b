/* ds.h — the decision server's parts (see README.md): the HTTP front
 * (http.c), the network-free routing (route.c) and its routes (pixel.c,
 * events_post.c, decide.c), the startup catalogue (catalogue.c) and small
 * JSON helpers (json_body.c, json_out.c). */
#ifndef DS_H
#define DS_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Bodies larger than these are refused with 413: from Content-Length before
 * any of the body is read, or, for a chunked body, as soon as it grows past
 * the limit. */
#define DS_MAX_EVENTS_BODY (1u << 20) /* POST /events: 1 MiB of JSON Lines */
#define DS_MAX_SMALL_BODY 4096u       /* POST /decide, POST /consent */

/* Connections (http.c): a slow client cannot hold the server.  An idle
 * connection (no byte for the timeout) is closed; one address holds at most
 * DS_MAX_CONNECTIONS_PER_IP of the DS_MAX_CONNECTIONS; a request's headers
 * must fit DS_MAX_HEADER_BYTES. */
#define DS_THREADS 2u                 /* libmicrohttpd's worker threads */
#define DS_CONN_TIMEOUT_S 10u         /* default of --timeout */
#define DS_MAX_CONNECTIONS 256u
#define DS_MAX_CONNECTIONS_PER_IP 16u
#define DS_MAX_HEADER_BYTES (32u * 1024u)
#define DS_MAX_K 8                    /* offers one /decide may ask for */
#define DS_UID_COOKIE "bvt_uid"
#define DS_PROVIDER "shop.example"    /* the OpenRTB data provider name */

/* A reply: status, content type, body (malloc'd, or static when
 * body_static), and an optional Set-Cookie value. */
typedef struct ds_reply {
    unsigned status;
    const char *type;
    char *body;
    size_t len;
    int body_static;
    char cookie[128];
} ds_reply;

/* What a route sees of a request.  Query values are URL-decoded by the HTTP
 * layer (NULL when absent; *len their length, which a NUL byte inside makes
 * longer than strlen); cookies as sent. */
typedef struct ds_request {
    bvt_engine *engine;
    const char *(*arg)(void *conn, const char *key, size_t *len); /* query argument */
    const char *(*cookie)(void *conn, const char *key);           /* request cookie */
    void *conn;
    const char *body;
    size_t body_len;
} ds_request;

/* Wall clock in epoch ms: the library never reads one, so the server does. */
int64_t ds_now_ms(void);

/* An error reply: status and {"error":"<message>"} (trailing newlines of the
 * message dropped; bytes that are not UTF-8 written as U+FFFD). */
void ds_reply_error(ds_reply *rep, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reply with an error and leave the route. */
#define DS_FAIL(rep, ...) do { ds_reply_error(rep, __VA_ARGS__); return; } while (0)
void ds_reply_json(ds_reply *rep, unsigned status, char *owned_json, size_t len);

/* A query value usable as a C string: 1 and *out set, 0 when absent, -1 with
 * a 400 in rep when it holds a NUL byte (%00). */
int ds_query(const ds_request *req, const char *key, const char **out, ds_reply *rep);

/* Routing, without any network (route.c): the HTTP front calls these, and
 * so does the request fuzzer.  ds_route_refuse() answers a request line no
 * route takes (404, 405) and returns 1, before any body is read;
 * ds_body_limit() is the largest body the route takes (0: none);
 * ds_route() answers a request whose body is within that limit. */
int ds_route_refuse(const char *method, const char *url, ds_reply *rep);
size_t ds_body_limit(const char *method, const char *url);
void ds_route(const ds_request *req, const char *method, const char *url, ds_reply *rep);

/* The user a request is about: the uid parameter/field if given, else the
 * bvt_uid cookie.  Returns NULL when neither is valid (a cookie that is not
 * one we could have set counts as absent). */
const char *ds_request_uid(const ds_request *req, const char *explicit_uid);

/* Routes. */
void ds_pixel(const ds_request *req, ds_reply *rep);
void ds_events_post(const ds_request *req, ds_reply *rep);
void ds_decide(const ds_request *req, ds_reply *rep);
void ds_consent(const ds_request *req, ds_reply *rep);

/* Segments, offers and policy defined at startup; 0 or -1 with a message. */
int ds_catalogue_define(bvt_engine *engine);

/* The shop page (generated from static/index.html at build time). */
extern const unsigned char ds_page_index[];
extern const size_t ds_page_index_len;

/* ---- JSON ---------------------------------------------------------------- */

/* A flat JSON object's members: strings decoded to UTF-8 (NUL-terminated,
 * no NUL inside), numbers as their text, true/false/null by kind. */
enum jb_kind { JB_STRING, JB_NUMBER, JB_TRUE, JB_FALSE, JB_NULL };
typedef struct jb_member {
    const char *key;
    enum jb_kind kind;
    const char *text; /* JB_STRING: the decoded string; JB_NUMBER: the literal */
} jb_member;

#define JB_MAX_MEMBERS 16
typedef struct jb_object {
    jb_member m[JB_MAX_MEMBERS];
    size_t n;
    char store[DS_MAX_SMALL_BODY * 2 + JB_MAX_MEMBERS * 2];
} jb_object;

/* Parse one object {"k": v, ...} with scalar values only, nothing after it
 * but white space, no duplicate keys, the whole text UTF-8 (RFC 8259).  0,
 * or -1 with *why set. */
int jb_parse(jb_object *o, const char *s, size_t n, const char **why);
const jb_member *jb_get(const jb_object *o, const char *key);

/* A growing output buffer.  On allocation failure it sets failed and
 * keeps what it has; callers check once at the end. */
typedef struct jo_buf {
    char *p;
    size_t len, cap;
    int failed;
} jo_buf;

void jo_raw(jo_buf *b, const char *s, size_t n);
#define JO_LIT(b, lit) jo_raw(b, lit, sizeof lit - 1)
void jo_printf(jo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A quoted JSON string: quote, backslash and control characters escaped,
 * bytes that are not UTF-8 written as \ufffd, so the output stays JSON
 * whatever s holds. */
void jo_string(jo_buf *b, const char *s, size_t n);

#endif
