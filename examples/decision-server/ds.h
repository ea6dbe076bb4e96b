/* ds.h — the decision server's parts (see README.md): the HTTP front
 * (http.c), its routes (pixel.c, events_post.c, decide.c), the startup
 * catalogue (catalogue.c) and small JSON helpers (json_body.c, json_out.c). */
#ifndef DS_H
#define DS_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Bodies larger than these are refused with 413 before they are read. */
#define DS_MAX_EVENTS_BODY (1u << 20) /* POST /events: 1 MiB of JSON Lines */
#define DS_MAX_SMALL_BODY 4096u       /* POST /decide, POST /consent */
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
 * layer; NULL when absent. */
typedef struct ds_request {
    bvt_engine *engine;
    const char *(*arg)(void *conn, const char *key);    /* query argument */
    const char *(*cookie)(void *conn, const char *key); /* request cookie */
    void *conn;
    const char *body;
    size_t body_len;
} ds_request;

/* Wall clock in epoch ms: the library never reads one, so the server does. */
int64_t ds_now_ms(void);

/* Fill a reply: JSON or plain-text bodies are copied. */
void ds_reply_text(ds_reply *rep, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reply with a message and leave the route. */
#define DS_FAIL(rep, ...) do { ds_reply_text(rep, __VA_ARGS__); return; } while (0)
void ds_reply_json(ds_reply *rep, unsigned status, char *owned_json, size_t len);

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
 * but white space, no duplicate keys.  0, or -1 with *why set. */
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
void jo_string(jo_buf *b, const char *s, size_t n); /* a quoted, escaped JSON string */

#endif
