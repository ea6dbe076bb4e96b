/* rfm_events.c — `bvt rfm` on an event file (docs/events.md): its
 * purchases are the transactions, so one file serves every command.  The
 * records are read by the event reader, with the command's reading
 * options; every record is checked, only purchases become rows. */
#include "rfm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_rejects.h"
#include "event_reader.h"

static const cli_input strict_input; /* zeroed: the strict default */

typedef struct events_read {
    rfm_input *in;
    const cli_input *o;
    er_reader *reader;
    cli_rejects *rejects; /* in->rejects */
    size_t cap;
    long last;      /* the previous row's customer, or -1 */
    int scattered;  /* a customer came back after another one */
} events_read;

static int is_purchase(const er_record *rec)
{
    return rec->type.n == 8 && memcmp(rec->type.p, "purchase", 8) == 0;
}

/* A purchase (or a return, value < 0) as a row.  0, or CLI_EXIT_FAIL. */
static int keep(events_read *E, const er_record *rec, double value)
{
    rfm_input *in = E->in;
    if (in->has_end && rec->time_ms / DAY_MS > in->end_day)
        return 0; /* after the observation end, as in a transactions file */
    int is_new;
    long idx = in->nrows < E->cap ? idmap_intern(&in->customers, rec->user_id.p,
                                                 rec->user_id.n, &is_new) : -1;
    if (idx < 0) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    E->scattered |= !is_new && idx != E->last;
    E->last = idx;
    rfm_row *row = &in->rows[in->nrows++];
    row->customer = (uint32_t)idx;
    row->line = rec->line > UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line;
    row->t_ms = rec->time_ms;
    row->value = value;
    if (rec->time_ms > in->last_ms)
        in->last_ms = rec->time_ms;
    return 0;
}

/* One record: checked, and kept when a purchase or a return to subtract. */
static int take(events_read *E, const er_record *rec)
{
    rfm_input *in = E->in;
    cli_time_check_add(&in->times, rec->time_ms, rec->line);
    if (!is_purchase(rec))
        return 0;
    if (!rec->is_return)
        return keep(E, rec, rec->value);
    if (E->o->returns == CLI_RETURNS_IGNORE) {
        E->rejects->returns_ignored++;
        return 0;
    }
    in->returns = 1; /* CLI_RETURNS_SUBTRACT: rejected ones never get here */
    return rec->value > 0 ? keep(E, rec, -rec->value) : 0;
}

static int read_all(events_read *E, const char *buf, size_t len)
{
    rfm_input *in = E->in;
    er_reader *r = E->reader;
    int rc = 0;
    int opened = er_open_with(r, buf, len, er_sniff(buf, len), E->o) == 0;
    while (rc == 0) {
        er_record rec;
        int got = opened ? er_next(r, &rec) : -1;
        if (got == 0)
            break;
        if (opened && ++in->records % 1000000 == 0)
            cli_progress(in->path, in->records);
        if (got > 0) {
            rc = take(E, &rec);
            continue;
        }
        er_slice raw = er_error_record(r);
        cli_reject rj = { er_error_line(r), er_error_field(r), er_error_kind(r), raw.p, raw.n,
                          !opened || er_error_fatal(r), 0 };
        rc = cli_rejects_take(E->rejects, &rj, er_error(r));
    }
    cli_progress_done(in->records);
    return rc;
}

int rfm_read_events(rfm_input *in, const char *buf, size_t len)
{
    events_read E = { in, in->opts ? in->opts : &strict_input, NULL, &in->rejects, 0, -1, 0 };
    char why[320];
    in->events = 1;
    if (cli_columns_check(&E.o->columns, er_field_names, ER_F_COUNT, "event files", why,
                          sizeof why) < 0) {
        fprintf(stderr, "bvt: %s: --columns: %s\n", in->path, why);
        return CLI_EXIT_FAIL;
    }
    int rc = cli_rejects_open(E.rejects, in->path, E.o);
    if (rc)
        return rc;
    E.reader = malloc(sizeof *E.reader);
    if (!E.reader)
        fprintf(stderr, "bvt: out of memory\n");
    if (!E.reader || rfm_alloc_rows(in, len, &E.cap) < 0)
        rc = CLI_EXIT_FAIL;
    else
        rc = read_all(&E, buf, len);
    in->grouped = !E.scattered;
    int rc2 = cli_rejects_close(E.rejects);
    free(E.reader);
    return rc ? rc : rc2;
}
