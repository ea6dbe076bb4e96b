/* cmd_ingest.c — `bvt ingest`: track an event file and report throughput. */
#include "cli.h"

#include <stdio.h>

static const char usage[] =
    "usage: bvt ingest --events FILE\n"
    "\n"
    "Track every event of FILE (CSV or JSON Lines, see docs/events.md) and print\n"
    "key=value lines: users, events, events_per_s, bytes_per_user.\n";

int cmd_ingest(int argc, char **argv)
{
    const char *events = NULL;
    const cli_opt opts[] = { { "events", &events } };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, 1, NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    if (!events)
        return cli_usage_error(usage, "ingest needs --events FILE");

    cli_file f;
    if (cli_file_load(&f, events) < 0)
        return CLI_EXIT_FAIL;
    bvt_engine *e = NULL;
    rc = cli_engine_new(&e, NULL);
    if (rc) {
        cli_file_free(&f);
        return rc;
    }
    cli_load ld = { 0 };
    rc = cli_load_events(e, events, f.data, f.len, &ld);
    idmap_free(&ld.watch_items);
    if (rc == 0) {
        bvt_stats st = BVT_STATS_INIT;
        int src = bvt_engine_stats(e, &st);
        if (src != BVT_OK) {
            fprintf(stderr, "bvt: reading statistics: %s\n", bvt_strerror(src));
            rc = CLI_EXIT_FAIL;
        } else {
            cli_out o = { 0 };
            double eps = ld.seconds > 0 ? (double)ld.events / ld.seconds : 0;
            cli_out_printf(&o, "users=%llu\n", (unsigned long long)st.users);
            cli_out_printf(&o, "events=%llu\n", (unsigned long long)ld.events);
            cli_out_printf(&o, "events_per_s=%.0f\n", eps);
            cli_out_printf(&o, "bytes_per_user=%.1f\n", st.bytes_per_user);
            rc = cli_out_flush(&o);
        }
    }
    bvt_engine_free(e);
    cli_file_free(&f);
    return rc;
}
