/* cli_events.c — track an event file into an engine, in batches, as the
 * command's reading options say (cli_input.h): bad records counted against
 * the --max-errors budget (cli_rejects.c), returns refused or skipped, and
 * misread times warned about (cli_time.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_rejects.h"
#include "cli_time.h"
#include "event_reader.h"

/* Strings of a batch are copied here (NUL-terminated, as the library wants
 * them) and the arena is reset after each batch: no allocation per event. */
#define ARENA_BYTES (2u * 1024u * 1024u)

typedef struct type_entry {
    char name[ER_MAX_TYPE_NAME + 1];
    size_t len;
    uint32_t id;
} type_entry;

typedef struct loader {
    bvt_engine *engine;
    const char *path;
    bvt_event events[CLI_BATCH];
    size_t lines[CLI_BATCH];
    er_slice raws[CLI_BATCH];              /* each event's record as written */
    bvt_batch_error failures[CLI_BATCH];
    size_t n;
    char *arena;
    size_t used;
    idmap categories;        /* path -> category id */
    type_entry types[BVT_EVENT_TYPE_MAX];
    size_t ntypes;
    cli_input input;   /* the command's, with the vocabulary below */
    cli_types vocab;
    cli_rejects rejects;
    cli_time_check times;
    er_reader reader;
} loader;

static const char *arena_copy(loader *L, er_slice s)
{
    char *d = L->arena + L->used;
    memcpy(d, s.p, s.n);
    d[s.n] = '\0';
    L->used += s.n + 1;
    return d;
}

/* Records done: tracked, pending in the batch, or skipped. */
static uint64_t done(const loader *L, const cli_load *ld)
{
    return ld->events + ld->skipped + L->n;
}

/* Events of the batch the library refused: each is a bad record (its
 * message is the library's for the first, the status's text for the rest). */
static int refused(loader *L, cli_load *ld, size_t failed, const bvt_error *err, int rc)
{
    size_t kept = failed < CLI_BATCH ? failed : CLI_BATCH;
    if (kept == 0) { /* the whole call failed: nothing was applied */
        cli_input_error(L->path, L->lines[0], "rejected: %s", cli_error_text(err, rc));
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < kept; i++) {
        size_t idx = L->failures[i].index < L->n ? L->failures[i].index : 0;
        char reason[sizeof err->message + 16];
        snprintf(reason, sizeof reason, "rejected: %s",
                 i == 0 && err->message[0] ? err->message : bvt_strerror(L->failures[i].code));
        cli_reject r = { L->lines[idx], "", "refused by the library", L->raws[idx].p,
                         L->raws[idx].n, 0, 0 };
        if (cli_rejects_take(&L->rejects, &r, reason))
            return CLI_EXIT_FAIL;
        ld->skipped++;
    }
    return 0;
}

static int batch_done(cli_load *ld)
{
    return ld->after_batch ? ld->after_batch(ld->after_batch_ud, ld->events + ld->skipped) : 0;
}

static int flush(loader *L, cli_load *ld)
{
    if (L->n == 0)
        return 0;
    bvt_error err = BVT_ERROR_INIT;
    size_t failed = 0;
    int rc = bvt_event_track_batch(L->engine, L->events, L->n, L->failures, CLI_BATCH,
                                   &failed, &err);
    if (rc != BVT_OK || failed > 0) {
        int r = refused(L, ld, failed, &err, rc);
        if (r)
            return r;
    }
    ld->events += L->n - failed;
    L->n = 0;
    L->used = 0;
    return batch_done(ld);
}

/* With acks, no batch crosses a multiple of batch_every: before each
 * record, a batch that ends on one is tracked. */
static int at_boundary(loader *L, cli_load *ld)
{
    if (ld->batch_every > 0 && L->n > 0 && done(L, ld) % ld->batch_every == 0)
        return flush(L, ld);
    return 0;
}

/* A record skipped (bad, or an ignored return): with acks, the one that
 * completes a multiple of batch_every ends a batch too, tracked or empty. */
static int skipped(loader *L, cli_load *ld)
{
    ld->skipped++;
    if (ld->batch_every == 0 || done(L, ld) % ld->batch_every != 0)
        return 0;
    return L->n > 0 ? flush(L, ld) : batch_done(ld);
}

/* The record's type id: every name the reader lets through is in the
 * vocabulary, which the engine knows (cli_input_vocabulary()). */
static int resolve_type(loader *L, const er_record *rec, uint32_t *out)
{
    for (size_t i = 0; i < L->ntypes; i++) {
        if (L->types[i].len == rec->type.n && memcmp(L->types[i].name, rec->type.p, rec->type.n) == 0) {
            *out = L->types[i].id;
            return 0;
        }
    }
    type_entry t;
    memcpy(t.name, rec->type.p, rec->type.n);
    t.name[rec->type.n] = '\0';
    t.len = rec->type.n;
    int rc = bvt_event_type_lookup(L->engine, t.name, &t.id);
    if (rc != BVT_OK) {
        cli_input_error(L->path, rec->line, "type: '%s': %s", t.name, bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    if (L->ntypes < BVT_EVENT_TYPE_MAX)
        L->types[L->ntypes++] = t;
    *out = t.id;
    return 0;
}

static int resolve_category(loader *L, const er_record *rec, uint32_t *out)
{
    int is_new;
    long idx = idmap_intern(&L->categories, rec->category.p, rec->category.n, &is_new);
    if (idx < 0) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    idmap_entry *en = &L->categories.entries[idx];
    if (is_new) {
        bvt_error err = BVT_ERROR_INIT;
        uint32_t id = 0;
        int rc = bvt_category_intern(L->engine, en->key, &id, &err);
        if (rc != BVT_OK) {
            cli_input_error(L->path, rec->line, "category: %s",
                            err.message[0] ? err.message : bvt_strerror(rc));
            return CLI_EXIT_FAIL;
        }
        en->value = id;
    }
    *out = (uint32_t)en->value;
    return 0;
}

static int add(loader *L, cli_load *ld, const er_record *rec)
{
    if (ld->until_ms > 0 && rec->time_ms > ld->until_ms)
        return 0;
    /* A record's strings fit in ER_MAX_LINE bytes plus one NUL each. */
    if (L->n == CLI_BATCH || L->used + ER_MAX_LINE + 8 > ARENA_BYTES) {
        int rc = flush(L, ld);
        if (rc)
            return rc;
    }
    bvt_event *ev = &L->events[L->n];
    bvt_event_init(ev);
    int rc = resolve_type(L, rec, &ev->type);
    if (rc)
        return rc;
    if (rec->category.n > 0 && (rc = resolve_category(L, rec, &ev->category_id)) != 0)
        return rc;
    ev->user_id = arena_copy(L, rec->user_id);
    ev->user_id_len = rec->user_id.n;
    ev->time_ms = rec->time_ms;
    ev->item_id = rec->item_id.n ? arena_copy(L, rec->item_id) : NULL;
    ev->offer_id = rec->offer_id.n ? arena_copy(L, rec->offer_id) : NULL;
    ev->search_text = rec->search_text.n && ev->type == BVT_EVENT_SEARCH
                          ? arena_copy(L, rec->search_text) : NULL;
    ev->value = rec->value;
    ev->quantity = rec->quantity;
    ev->dwell_ms = rec->dwell_ms;
    L->raws[L->n] = rec->raw;
    L->lines[L->n++] = rec->line;

    if (ld->users && idmap_intern(ld->users, rec->user_id.p, rec->user_id.n, NULL) < 0) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    if (rec->time_ms > ld->last_ms)
        ld->last_ms = rec->time_ms;
    if (ld->watch_user && rec->item_id.n && rec->user_id.n == ld->watch_len
        && memcmp(rec->user_id.p, ld->watch_user, ld->watch_len) == 0
        && idmap_intern(&ld->watch_items, rec->item_id.p, rec->item_id.n, NULL) < 0) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* A bad record from the reader: skipped within the budget, else the end. */
static int bad_record(loader *L, cli_load *ld)
{
    er_reader *r = &L->reader;
    er_slice raw = er_error_record(r);
    cli_reject rj = { er_error_line(r), er_error_field(r), er_error_kind(r), raw.p, raw.n,
                      er_error_fatal(r), 0 };
    if (cli_rejects_take(&L->rejects, &rj, er_error(r)))
        return CLI_EXIT_FAIL;
    return skipped(L, ld);
}

/* Read every record, track the good ones; 0 or an exit status. */
static int load(loader *L, cli_load *ld, const char *buf, size_t len, uint64_t *records)
{
    int rc = 0;
    if (er_open_with(&L->reader, buf, len, er_sniff(buf, len), &L->input) < 0) {
        bad_record(L, ld); /* the header: fatal, so it ends the read */
        return CLI_EXIT_FAIL;
    }
    while (rc == 0) {
        er_record rec;
        int got = er_next(&L->reader, &rec);
        if (got == 0)
            break;
        if (++*records % 1000000 == 0)
            cli_progress(L->path, *records);
        if ((rc = at_boundary(L, ld)) != 0)
            break;
        if (got < 0) {
            rc = bad_record(L, ld);
            continue;
        }
        if (rec.is_return) { /* only when --returns ignore: subtract is refused */
            L->rejects.returns_ignored++;
            rc = skipped(L, ld);
            continue;
        }
        cli_time_check_add(&L->times, rec.time_ms, rec.line);
        rc = add(L, ld, &rec);
    }
    if (rc == 0)
        rc = flush(L, ld);
    return rc;
}

int cli_load_events(bvt_engine *e, const char *path, const char *buf, size_t len,
                    cli_load *ld)
{
    idmap_init(&ld->watch_items);
    ld->events = 0;
    ld->skipped = 0;
    ld->last_ms = 0;
    ld->seconds = 0;

    loader *L = calloc(1, sizeof *L);
    char *arena = L ? malloc(ARENA_BYTES) : NULL;
    if (!arena) {
        free(L);
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    L->engine = e;
    L->path = path;
    L->arena = arena;
    idmap_init(&L->categories);
    if (ld->input)
        L->input = *ld->input;
    L->input.vocab = &L->vocab;
    cli_time_check_init(&L->times, cli_file_written_ms(path));

    double t0 = cli_seconds();
    uint64_t records = 0;
    int rc = cli_input_vocabulary(e, &L->input, &L->vocab);
    if (rc == 0)
        rc = cli_rejects_open(&L->rejects, path, &L->input);
    if (rc == 0) {
        rc = load(L, ld, buf, len, &records);
        cli_progress_done(records);
        int rc2 = cli_rejects_close(&L->rejects);
        cli_rejects_report(&L->rejects, records);
        if (rc == 0)
            rc = rc2;
        if (rc == 0)
            cli_time_check_warn(&L->times, path);
    }
    ld->seconds = cli_seconds() - t0;

    idmap_free(&L->categories);
    free(L->arena);
    free(L);
    return rc;
}
