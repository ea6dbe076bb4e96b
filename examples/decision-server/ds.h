/* ds.h — the decision server's parts (see README.md): the HTTP front
 * (http.c), the network-free routing (route.c) and its routes (page.c,
 * pixel.c, events_post.c, decide.c, consent.c, metrics.c), who a request is
 * about (uid.c), what consent lets out (consent.c), the engine and its state
 * directory (state.c), options (config.c), the startup catalogue
 * (catalogue.c) and small JSON helpers (json_body.c, json_out.c). */
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
#define DS_THREADS 2u                 /* default of --threads: libmicrohttpd's workers */
#define DS_CONN_TIMEOUT_S 10u         /* default of --timeout */
#define DS_MAX_CONNECTIONS 256u
#define DS_MAX_CONNECTIONS_PER_IP 16u
#define DS_MAX_HEADER_BYTES (32u * 1024u)
#define DS_MAX_K 8                    /* offers one /decide may ask for */
#define DS_UID_COOKIE "bvt_uid"
#define DS_PROVIDER "shop.example"    /* the OpenRTB data provider name */
/* What a refused time's message ends with (ds_time_read, POST /events). */
#define DS_TIME_ADVICE "send ISO 8601 text (\"2026-01-31T10:00:00Z\") or epoch milliseconds"

typedef struct ds_metrics ds_metrics;

/* What every request may use: the engine, the counters, and whether a
 * change must be durable before it is acknowledged (a state directory). */
typedef struct ds_server {
    bvt_engine *engine;
    ds_metrics *metrics; /* NULL: not counted */
    int durable_acks;    /* non-zero: bvt_engine_sync() before a change is acknowledged */
} ds_server;

/* A reply: status, content type, body (malloc'd, or static when
 * body_static), an optional Set-Cookie value and, on a 405, the methods
 * the path takes (the Allow header). */
typedef struct ds_reply {
    unsigned status;
    const char *type;
    char *body;
    size_t len;
    int body_static;
    char cookie[128];
    const char *allow;
} ds_reply;

#define DS_REPLY_INIT { 500, "application/json", NULL, 0, 0, { 0 }, NULL }

/* What a route sees of a request.  Query values are URL-decoded by the HTTP
 * layer (NULL when absent; *len their length, which a NUL byte inside makes
 * longer than strlen); cookies as sent. */
typedef struct ds_request {
    const ds_server *srv;
    const char *(*arg)(void *conn, const char *key, size_t *len); /* query argument */
    const char *(*cookie)(void *conn, const char *key);           /* request cookie */
    void *conn;
    const char *body;
    size_t body_len;
} ds_request;

/* Wall clock in epoch ms: the library never reads one, so the server does. */
int64_t ds_now_ms(void);

/* An error reply: status and {"error":"<message>"} (trailing newlines of the
 * message dropped; bytes that are not UTF-8 written as U+FFFD).  Any cookie
 * the route had set is dropped: a refused request starts no visit. */
void ds_reply_error(ds_reply *rep, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reply with an error and leave the route. */
#define DS_FAIL(rep, ...) do { ds_reply_error(rep, __VA_ARGS__); return; } while (0)
void ds_reply_json(ds_reply *rep, unsigned status, char *owned_json, size_t len);
/* A 200 with a static body. */
void ds_reply_static(ds_reply *rep, const char *type, const void *body, size_t len);

/* The status for a library refusal: 503 when the server cannot take the
 * request now (table or memory full, journal failed), else 400. */
unsigned ds_status_of(int bvt_rc);

/* A query value usable as a C string: 1 and *out set, 0 when absent, -1 with
 * a 400 in rep when it holds a NUL byte (%00). */
int ds_query(const ds_request *req, const char *key, const char **out, ds_reply *rep);

/* A time sent by a client (a pixel's t, /decide's now, an event's
 * timestamp): ISO 8601 text or epoch milliseconds, read by
 * bvt_time_parse(BVT_TIME_AUTO), so an integer that could mean two things
 * (8 digits: YYYYMMDD or ms; 9-10: seconds or ms) is refused, never
 * guessed; after 1970 and before year 10000.  The bvt readers' reading
 * (cli_time_read_advised() with DS_TIME_ADVICE), which POST /events gets
 * from the event reader.  0 and *out set, or -1 with the reason in why
 * (NUL-terminated, at most cap bytes). */
int ds_time_read(const char *text, size_t len, int64_t *out, char *why, size_t cap);

/* Routing, without any network (route.c): the HTTP front calls these, and
 * so does the request fuzzer.  ds_route_refuse() answers a request line no
 * route takes (404, 405 with Allow) and returns 1, before any body is read;
 * ds_body_limit() is the largest body the route takes (0: none);
 * ds_route() answers a request whose body is within that limit. */
int ds_route_refuse(const char *method, const char *url, ds_reply *rep);
size_t ds_body_limit(const char *method, const char *url);
void ds_route(const ds_request *req, const char *method, const char *url, ds_reply *rep);

/* ---- Who a request is about (uid.c) -------------------------------------- */

/* An id made for a visitor who has none: 32 hex digits. */
typedef struct ds_fresh_uid {
    char text[33];
} ds_fresh_uid;

/* The visitor of a request: the uid given (a 400 in rep when it is empty
 * or longer than the library's 1024 bytes), else the bvt_uid cookie (one
 * we could not have set counts as absent), else a fresh random
 * id kept in *fresh and sent back in Set-Cookie (dropped again if the
 * request is then refused).  NULL with the error reply filled. */
const char *ds_visitor(const ds_request *req, const char *explicit_uid, ds_fresh_uid *fresh,
                       ds_reply *rep);

/* ---- What consent lets out (consent.c) ----------------------------------- */

/* Each thing the server tells about a user, and the purposes it needs
 * (consent.c has the table; docs/openrtb.md and README.md explain it). */
typedef enum ds_output {
    DS_OUT_OFFERS,   /* offers ranked with the profile: ads (bvt_rank enforces it) */
    DS_OUT_PROFILE,  /* the profile's counts in /decide: personalisation */
    DS_OUT_SEGMENTS, /* segments in OpenRTB user.data: personalisation and ads */
    DS_OUT_COUNT
} ds_output;

/* The built-in purposes the user granted, as a mask of 1u << purpose (0 for
 * an unknown user).  Read once per request; every output is then gated on
 * the same answer. */
uint32_t ds_consent_read(bvt_engine *engine, const char *uid);
/* Whether `granted` (from ds_consent_read) lets `out` leave the server. */
int ds_consent_allows(uint32_t granted, ds_output out);
/* The built-in purposes as {"personalisation":b,"ads":b,"analytics":b}. */
typedef struct jo_buf jo_buf;
void ds_consent_json(uint32_t granted, jo_buf *out);

/* ---- The state directory (state.c) --------------------------------------- */

/* After a change succeeded in memory: 0 when it is durable (or there is no
 * state directory), else -1 with a 503 in rep: the change must not be
 * acknowledged. */
int ds_durable(const ds_request *req, ds_reply *rep);

/* ---- Counters (metrics.c) ------------------------------------------------ */

typedef enum ds_source { DS_SRC_PIXEL, DS_SRC_EVENTS, DS_SRC_COUNT } ds_source;

ds_metrics *ds_metrics_new(void);
void ds_metrics_free(ds_metrics *m);
/* Each takes NULL as "not counted". */
void ds_metrics_events(ds_metrics *m, ds_source src, uint64_t accepted, uint64_t rejected);
void ds_metrics_decision(ds_metrics *m, int personalised, int64_t elapsed_ns);
void ds_metrics_reply(ds_metrics *m, unsigned status);
/* Monotonic nanoseconds, for latencies. */
int64_t ds_clock_ns(void);

/* ---- Routes -------------------------------------------------------------- */

void ds_page(const ds_request *req, ds_reply *rep);
void ds_pixel(const ds_request *req, ds_reply *rep);
void ds_events_post(const ds_request *req, ds_reply *rep);
void ds_decide(const ds_request *req, ds_reply *rep);
void ds_consent(const ds_request *req, ds_reply *rep);
void ds_metrics_page(const ds_request *req, ds_reply *rep);

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

/* A request body of /decide or /consent: parsed as jb_parse() does, keys
 * outside the NULL-terminated `known` refused (a typo must not silently
 * change a decision), and its user found as ds_visitor() does.  0, or -1
 * with the error reply filled. */
int ds_body_open(const ds_request *req, ds_reply *rep, jb_object *o, const char *const *known,
                 ds_fresh_uid *fresh, const char **uid);

/* A growing output buffer.  On allocation failure it sets failed and
 * keeps what it has; callers check once at the end. */
struct jo_buf {
    char *p;
    size_t len, cap;
    int failed;
};

void jo_raw(jo_buf *b, const char *s, size_t n);
#define JO_LIT(b, lit) jo_raw(b, lit, sizeof lit - 1)
void jo_printf(jo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A quoted JSON string: quote, backslash and control characters escaped,
 * bytes that are not UTF-8 written as \ufffd, so the output stays JSON
 * whatever s holds. */
void jo_string(jo_buf *b, const char *s, size_t n);
/* Reply 200 with the buffer's JSON, or 503 when it could not be built
 * (the buffer is taken over either way). */
void jo_reply(jo_buf *b, ds_reply *rep);

#endif
