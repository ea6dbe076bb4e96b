/* ingest_state.c — `bvt ingest --state`: track an event file into a state
 * directory and, with --ack-every, tell the caller as the events become
 * durable ("acked K" lines, docs/cli.md).
 *
 * K counts the file's records in file order (those skipped as bad or as
 * ignored returns too, so that the last ack says where to resume).
 * Batches never cross a multiple of N, so the batch that holds record K
 * ends at K; right after it
 * (one thread, so no other change in between) accepted_seq is the sequence
 * number of its last journal record, and event K is durable once
 * durable_seq reaches that number.  Acks wait in a queue, in order of both
 * K and sequence, and are printed as durable_seq passes them. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pending {
    uint64_t k, seq;
} pending;

typedef struct acker {
    bvt_engine *e;
    uint32_t mode;
    uint64_t every;
    pending *q; /* q[head..n) wait for durable_seq */
    size_t head, n, cap;
} acker;

/* Unlike every other output of bvt, written and flushed at once: a script
 * reading the pipe acts on an ack while the command still runs. */
static int say_acked(uint64_t k)
{
    if (printf("acked %llu\n", (unsigned long long)k) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "bvt: writing output: %s\n", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int push(acker *a, uint64_t k, uint64_t seq)
{
    if (a->n == a->cap && a->head > 0) { /* reuse what was printed */
        memmove(a->q, a->q + a->head, (a->n - a->head) * sizeof *a->q);
        a->n -= a->head;
        a->head = 0;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        pending *q = realloc(a->q, cap * sizeof *q);
        if (!q) {
            fprintf(stderr, "bvt: out of memory\n");
            return CLI_EXIT_FAIL;
        }
        a->q = q;
        a->cap = cap;
    }
    a->q[a->n].k = k;
    a->q[a->n].seq = seq;
    a->n++;
    return 0;
}

/* Print the acks whose record is at or before `durable`. */
static int release(acker *a, uint64_t durable)
{
    for (; a->head < a->n && a->q[a->head].seq <= durable; a->head++) {
        int rc = say_acked(a->q[a->head].k);
        if (rc)
            return rc;
    }
    return 0;
}

static bvt_state_info info_of(bvt_engine *e)
{
    bvt_state_info info = BVT_STATE_INFO_INIT;
    bvt_state_info_get(e, &info); /* cannot fail: valid engine and version */
    return info;
}

/* Event k is the last of a batch just tracked and k may need an ack. */
static int ack_point(acker *a, uint64_t k)
{
    switch (a->mode) {
    case BVT_JOURNAL_OFF:
        return 0; /* nothing is durable before the final checkpoint */
    case BVT_JOURNAL_ALWAYS:
        return say_acked(k); /* durable when the tracking call returned */
    default:
        return push(a, k, info_of(a->e).accepted_seq);
    }
}

static int after_batch(void *ud, uint64_t tracked)
{
    acker *a = ud;
    int rc = tracked % a->every == 0 ? ack_point(a, tracked) : 0;
    if (rc == 0 && a->head < a->n)
        rc = release(a, info_of(a->e).durable_seq);
    return rc;
}

/* --journal off: every ack at once, after the checkpoint made them true. */
static int say_all(uint64_t every, uint64_t total)
{
    for (uint64_t k = every; k <= total && k >= every; k += every) {
        if (printf("acked %llu\n", (unsigned long long)k) < 0)
            break;
    }
    if (total % every != 0)
        printf("acked %llu\n", (unsigned long long)total);
    if (ferror(stdout) || fflush(stdout) != 0) {
        fprintf(stderr, "bvt: writing output: %s\n", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

int cli_ingest_state(const char *path, const char *buf, size_t len, const cli_state *cs,
                     uint64_t ack_every, const cli_input *in)
{
    bvt_engine *e = NULL;
    const char *dir = cs->dir;
    uint32_t journal = cs->journal;
    int rc = cli_state_open(&e, cs);
    if (rc)
        return rc;
    acker a = { e, journal, ack_every, NULL, 0, 0, 0 };
    cli_load ld = { 0 };
    ld.input = in;
    if (ack_every > 0) {
        ld.batch_every = ack_every;
        ld.after_batch = after_batch;
        ld.after_batch_ud = &a;
    }
    rc = cli_load_events(e, path, buf, len, &ld);
    idmap_free(&ld.watch_items);
    bvt_error err = BVT_ERROR_INIT;
    if (journal == BVT_JOURNAL_OFF) {
        /* Without a journal nothing of this run is on disk until this
         * checkpoint; a failed run leaves DIR as it was. */
        int r = rc == 0 ? bvt_engine_checkpoint(e, &err) : BVT_OK;
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: %s: checkpoint: %s\n", dir, cli_error_text(&err, r));
            rc = CLI_EXIT_FAIL;
        }
        if (rc == 0 && ack_every > 0 && ld.events + ld.skipped > 0)
            rc = say_all(ack_every, ld.events + ld.skipped);
    } else {
        /* The journal holds every tracked event: no checkpoint needed.  After
         * a failure the acks of the batches before it still come out. */
        uint64_t records = ld.events + ld.skipped;
        if (rc == 0 && ack_every > 0 && records % ack_every != 0)
            rc = ack_point(&a, records);
        int r = bvt_engine_sync(e, &err);
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: %s: sync: %s\n", dir, cli_error_text(&err, r));
            rc = CLI_EXIT_FAIL;
        } else {
            int r2 = release(&a, UINT64_MAX);
            if (rc == 0)
                rc = r2;
        }
    }
    if (rc == 0)
        rc = cli_print_ingest(e, &ld);
    free(a.q);
    bvt_engine_free(e);
    return rc;
}
