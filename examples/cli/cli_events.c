/* cli_events.c — track an event file into an engine, in batches. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t n;
    char *arena;
    size_t used;
    idmap categories;        /* path -> category id */
    type_entry types[BVT_EVENT_TYPE_MAX];
    size_t ntypes;
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

static int flush(loader *L, cli_load *ld)
{
    if (L->n == 0)
        return 0;
    bvt_batch_error first;
    bvt_error err = BVT_ERROR_INIT;
    size_t failed = 0;
    int rc = bvt_event_track_batch(L->engine, L->events, L->n, &first, 1, &failed, &err);
    if (rc != BVT_OK || failed > 0) {
        size_t idx = failed > 0 && first.index < L->n ? first.index : 0;
        int code = failed > 0 ? first.code : rc;
        cli_input_error(L->path, L->lines[idx], "rejected: %s",
                        err.message[0] ? err.message : bvt_strerror(code));
        return CLI_EXIT_FAIL;
    }
    ld->events += L->n;
    L->n = 0;
    L->used = 0;
    return ld->after_batch ? ld->after_batch(ld->after_batch_ud, ld->events) : 0;
}

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
    if (rc == BVT_ETYPE) {
        bvt_error err = BVT_ERROR_INIT;
        rc = bvt_event_type_register(L->engine, t.name, 1.0, &t.id, &err);
        if (rc != BVT_OK) {
            cli_input_error(L->path, rec->line, "type: cannot register custom type '%s': %s",
                            t.name, err.message[0] ? err.message : bvt_strerror(rc));
            return CLI_EXIT_FAIL;
        }
    } else if (rc != BVT_OK) {
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
    if (L->n == CLI_BATCH || L->used + ER_MAX_LINE + 8 > ARENA_BYTES
        || (ld->batch_every > 0 && L->n > 0 && (ld->events + L->n) % ld->batch_every == 0)) {
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

int cli_load_events(bvt_engine *e, const char *path, const char *buf, size_t len,
                    cli_load *ld)
{
    idmap_init(&ld->watch_items);
    ld->events = 0;
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

    double t0 = cli_seconds();
    int rc = 0;
    uint64_t records = 0;
    if (er_open(&L->reader, buf, len, er_sniff(buf, len)) < 0) {
        cli_input_error(path, er_error_line(&L->reader), "%s", er_error(&L->reader));
        rc = CLI_EXIT_FAIL;
    }
    while (rc == 0) {
        er_record rec;
        int got = er_next(&L->reader, &rec);
        if (got == 0)
            break;
        if (got < 0) {
            cli_input_error(path, er_error_line(&L->reader), "%s", er_error(&L->reader));
            rc = CLI_EXIT_FAIL;
            break;
        }
        rc = add(L, ld, &rec);
        if (++records % 1000000 == 0)
            cli_progress(path, records);
    }
    if (rc == 0)
        rc = flush(L, ld);
    cli_progress_done(records);
    ld->seconds = cli_seconds() - t0;

    idmap_free(&L->categories);
    free(L->arena);
    free(L);
    return rc;
}
