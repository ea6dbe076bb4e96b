/* cmd_ingest.c — `bvt ingest`: track an event file and report throughput,
 * in memory or (--state) into a state directory (ingest_state.c). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "event_reader.h"

static const char usage[] =
    "usage: bvt ingest --events FILE [ENGINE OPTIONS] [READING OPTIONS]\n"
    "                  [--secret-file FILE]\n"
    "       bvt ingest --events FILE --state DIR [--journal off|none|group|always]\n"
    "                  [--group-ms N] [--ack-every N] [ENGINE OPTIONS]\n"
    "                  [READING OPTIONS] [--secret-file FILE]\n"
    "\n"
    "Track every event of FILE (CSV or JSON Lines, see docs/events.md) and print\n"
    "key=value lines: users, events, events_per_s, bytes_per_user.\n"
    "\n"
    "Engine options (default: the library's; with --state, the ones DIR records):\n"
    "  --analytics P      track (every event updates profiles) or anonymous (event\n"
    "                     files carry no consent, so every event is only counted\n"
    "                     in the anonymous aggregates)\n"
    "  --history-events N exact recent events kept per user, 1..4096 (default 64);\n"
    "                     a state directory keeps the value it was written with\n"
    "\n"
    "  --state DIR        track into the state directory DIR (created if missing):\n"
    "                     its snapshot and journal are loaded first, and the events\n"
    "                     stay in DIR.  Needs BVT_SECRET or --secret-file.  DIR is\n"
    "                     opened with the engine options it records, or with the\n"
    "                     ones given (an option that shapes the data must then\n"
    "                     equal DIR's)\n"
    "  --journal MODE     with --state: off (DIR is written once, by a checkpoint\n"
    "                     at the end), none (journal never fsynced), group (fsync\n"
    "                     every --group-ms, the default) or always (fsync per batch)\n"
    "  --group-ms N       with --journal group: the group-commit interval, 1..10000\n"
    "                     (default 5)\n"
    "  --ack-every N      with --state: print 'acked K' (flushed at once) when the\n"
    "                     first K records of FILE are durable (or skipped), K = N,\n"
    "                     2N, ... and the total last\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                     stripped (instead of BVT_SECRET)\n"
    "\n"
    CLI_INPUT_USAGE "\n"
    "\n"
    "Exit status: 0 success; 1 bad input (more bad records than --max-errors), a\n"
    "refused event or a state directory problem; 2 bad command line or secret.\n";

static int ingest_memory(const char *events, const char *buf, size_t len,
                         const bvt_options *opts, const char *secret_file, const cli_input *in)
{
    bvt_engine *e = NULL;
    int rc = cli_engine_new(&e, opts, secret_file);
    if (rc)
        return rc;
    cli_load ld = { 0 };
    ld.input = in;
    rc = cli_load_events(e, events, buf, len, &ld);
    idmap_free(&ld.watch_items);
    if (rc == 0)
        rc = cli_print_ingest(e, &ld);
    bvt_engine_free(e);
    return rc;
}

int cli_print_ingest(bvt_engine *e, const cli_load *ld)
{
    bvt_stats st = BVT_STATS_INIT;
    int src = bvt_engine_stats(e, &st);
    if (src != BVT_OK) {
        fprintf(stderr, "bvt: reading statistics: %s\n", bvt_strerror(src));
        return CLI_EXIT_FAIL;
    }
    cli_out o = { 0 };
    double eps = ld->seconds > 0 ? (double)ld->events / ld->seconds : 0;
    cli_out_printf(&o, "users=%llu\n", (unsigned long long)st.users);
    cli_out_printf(&o, "events=%llu\n", (unsigned long long)ld->events);
    cli_out_printf(&o, "events_per_s=%.0f\n", eps);
    cli_out_printf(&o, "bytes_per_user=%.1f\n", st.bytes_per_user);
    return cli_out_flush(&o);
}

static int parse_journal(const char *s, uint32_t *out)
{
    static const struct { const char *name; uint32_t mode; } modes[] = {
        { "off", BVT_JOURNAL_OFF }, { "none", BVT_JOURNAL_NONE },
        { "group", BVT_JOURNAL_GROUP }, { "always", BVT_JOURNAL_ALWAYS },
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(s, modes[i].name) == 0) {
            *out = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

/* The engine options of the command line into *o; *given says whether
 * there were any.  -1 to go on, or an exit status. */
static int parse_engine_options(const char *analytics, const char *history, bvt_options *o,
                                int *given)
{
    bvt_options_init(o);
    *given = analytics || history;
    /* No `drop`: event files carry no consent, so it would refuse every event. */
    if (analytics && strcmp(analytics, "anonymous") == 0)
        o->analytics_policy = BVT_ANALYTICS_ANONYMOUS;
    else if (analytics && strcmp(analytics, "track") != 0)
        return cli_usage_error(usage, "--analytics must be track or anonymous, not '%s'",
                               analytics);
    const char *why;
    uint64_t n = 0;
    if (history && (er_parse_uint(history, strlen(history), 4096, &n, &why) < 0 || n == 0))
        return cli_usage_error(usage, "--history-events: expected a whole number from 1 to "
                               "4096, not '%s'", history);
    o->history_events = (uint32_t)n;
    return -1;
}

int cmd_ingest(int argc, char **argv)
{
    const char *events = NULL, *state = NULL, *journal_text = NULL, *ack_text = NULL,
               *group_text = NULL, *secret_file = NULL, *analytics = NULL, *history = NULL;
    cli_input_args ia = { 0 };
    const cli_opt opts[] = { { "events", &events }, { "state", &state },
                             { "journal", &journal_text }, { "ack-every", &ack_text },
                             { "group-ms", &group_text }, { "secret-file", &secret_file },
                             { "analytics", &analytics }, { "history-events", &history },
                             CLI_INPUT_OPTS(ia) };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    if (!events)
        return cli_usage_error(usage, "ingest needs --events FILE");
    if (!state && (journal_text || ack_text || group_text))
        return cli_usage_error(usage, "--%s needs --state DIR",
                               journal_text ? "journal" : ack_text ? "ack-every" : "group-ms");
    if (state && !*state)
        return cli_usage_error(usage, "--state: empty directory name");
    uint32_t journal = BVT_JOURNAL_GROUP;
    if (journal_text && parse_journal(journal_text, &journal) < 0)
        return cli_usage_error(usage, "--journal must be off, none, group or always, not '%s'",
                               journal_text);
    const char *why;
    uint64_t ack_every = 0, group_ms = 0;
    if (ack_text && (er_parse_uint(ack_text, strlen(ack_text), UINT64_MAX, &ack_every, &why) < 0
                     || ack_every == 0))
        return cli_usage_error(usage, "--ack-every: expected a whole number >= 1, not '%s'",
                               ack_text);
    if (group_text && journal != BVT_JOURNAL_GROUP)
        return cli_usage_error(usage, "--group-ms applies to --journal group");
    if (group_text && (er_parse_uint(group_text, strlen(group_text), 10000, &group_ms, &why) < 0
                       || group_ms == 0))
        return cli_usage_error(usage, "--group-ms: expected a whole number from 1 to 10000, "
                               "not '%s'", group_text);
    bvt_options eo;
    int given;
    if ((rc = parse_engine_options(analytics, history, &eo, &given)) >= 0)
        return rc;
    cli_input in;
    if ((rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0)) >= 0)
        return rc;

    cli_file f;
    if (cli_file_load(&f, events) < 0)
        return CLI_EXIT_FAIL;
    if (state) {
        cli_state cs = { state, secret_file, given ? &eo : NULL, BVT_STATE_READ_WRITE,
                         journal, (uint32_t)group_ms, 1 };
        rc = cli_ingest_state(events, f.data, f.len, &cs, ack_every, &in);
    } else {
        rc = ingest_memory(events, f.data, f.len, given ? &eo : NULL, secret_file, &in);
    }
    cli_file_free(&f);
    return rc;
}
