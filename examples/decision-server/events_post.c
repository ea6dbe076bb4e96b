/* events_post.c — POST /events: a JSON Lines body of events (the format of
 * docs/events.md, read by the bvt command line's event reader, with times
 * read as every request's are: see body_input).  The body is parsed whole
 * first, so a syntax error tracks nothing; then each event is tracked, and
 * the reply, sent once the accepted events are durable, counts what the
 * engine accepted and why it refused the rest. */
#include "ds.h"

#include <stdlib.h>
#include <string.h>

#include "event_reader.h"

#define MAX_REPORTED 10 /* refusals listed in a reply */

/* NUL-terminated copy of a slice into the scratch area; NULL when empty. */
static const char *cstr(char **scratch, er_slice s)
{
    if (s.n == 0)
        return NULL;
    char *d = *scratch;
    memcpy(d, s.p, s.n);
    d[s.n] = '\0';
    *scratch += s.n + 1;
    return d;
}

static void track_all(bvt_engine *engine, er_reader *r, char *scratch, jo_buf *out,
                      size_t *accepted, size_t *rejected)
{
    er_record rec;
    while (er_next(r, &rec) == 1) {
        char *s = scratch;
        char type[ER_MAX_TYPE_NAME + 1];
        memcpy(type, rec.type.p, rec.type.n);
        type[rec.type.n] = '\0';
        bvt_event ev = BVT_EVENT_INIT;
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_event_type_lookup(engine, type, &ev.type);
        if (rc == BVT_OK) {
            ev.user_id = cstr(&s, rec.user_id);
            ev.user_id_len = rec.user_id.n;
            ev.time_ms = rec.time_ms;
            ev.category = cstr(&s, rec.category);
            ev.item_id = cstr(&s, rec.item_id);
            ev.offer_id = cstr(&s, rec.offer_id);
            ev.search_text = cstr(&s, rec.search_text);
            ev.value = rec.value;
            ev.quantity = rec.quantity;
            ev.dwell_ms = rec.dwell_ms;
            rc = bvt_event_track(engine, &ev, &err);
        }
        if (rc == BVT_OK) {
            (*accepted)++;
            continue;
        }
        if ((*rejected)++ < MAX_REPORTED) {
            const char *why = err.message[0] ? err.message : bvt_strerror(rc);
            jo_printf(out, "%s{\"line\":%zu,\"error\":", *rejected > 1 ? "," : "", rec.line);
            jo_string(out, why, strlen(why));
            JO_LIT(out, "}");
        }
    }
}

/* How the body is read: the strict default of the bvt readers (times by
 * BVT_TIME_AUTO, any well-formed type name, returns refused), with a
 * refused time's message saying what to send, as ds_time_read()'s does. */
static const cli_input body_input = { .time_format = BVT_TIME_AUTO,
                                      .time_advice = DS_TIME_ADVICE };

static int open_body(er_reader *r, const ds_request *req)
{
    return er_open_with(r, req->body, req->body_len, ER_JSONL, &body_input);
}

/* The line (from 1) holding byte `at` of the body. */
static size_t line_of(const char *body, size_t at)
{
    size_t line = 1;
    for (size_t i = 0; i < at; i++)
        line += body[i] == '\n';
    return line;
}

void ds_events_post(const ds_request *req, ds_reply *rep)
{
    if (req->body_len == 0)
        DS_FAIL(rep, 400, "empty body: send JSON Lines events");
    /* JSON text is UTF-8: a body that is not is refused whole, before the
     * reader sees it. */
    size_t bad = bvt_utf8_check(req->body, req->body_len);
    if (bad != req->body_len)
        DS_FAIL(rep, 400, "line %zu: not UTF-8 (byte 0x%02x; nothing was tracked)",
                line_of(req->body, bad), (unsigned)(unsigned char)req->body[bad]);
    er_reader *r = malloc(sizeof *r);
    char *scratch = malloc(ER_MAX_LINE + 8);
    if (!r || !scratch) {
        free(r);
        free(scratch);
        DS_FAIL(rep, 503, "out of memory");
    }
    /* Pass 1: syntax only. */
    size_t lines = 0;
    int rc = open_body(r, req);
    er_record rec;
    while (rc == 0 && (rc = er_next(r, &rec)) == 1) {
        lines++;
        rc = 0;
    }
    if (rc < 0) {
        ds_reply_error(rep, 400, "line %zu: %s (nothing was tracked)", er_error_line(r),
                      er_error(r));
        free(r);
        free(scratch);
        return;
    }
    /* Pass 2: track. */
    jo_buf out = { 0 };
    size_t accepted = 0, rejected = 0;
    JO_LIT(&out, "{\"errors\":[");
    if (open_body(r, req) == 0)
        track_all(req->srv->engine, r, scratch, &out, &accepted, &rejected);
    jo_printf(&out, "],\"events\":%zu,\"accepted\":%zu,\"rejected\":%zu}\n", lines, accepted,
              rejected);
    free(r);
    free(scratch);
    ds_metrics_events(req->srv->metrics, DS_SRC_EVENTS, accepted, rejected);
    if (ds_durable(req, rep) != 0) {
        free(out.p);
        return;
    }
    jo_reply(&out, rep);
}
