/* bvt.c — the bvt command line: RFM summaries, ingestion, profiles,
 * segments and offer metrics from event files, off-policy evaluation of
 * bandit logs, and state directories, through libbehavtarget.  Commands
 * are in cmd_*.c; the reference is docs/cli.md. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef BVT_TOOL_VERSION
#define BVT_TOOL_VERSION "unknown" /* set by the build (examples/meson.build) */
#endif

static const char usage[] =
    "usage: bvt COMMAND [OPTIONS]\n"
    "       bvt --version | --help\n"
    "\n"
    "Commands:\n"
    "  rfm      --input FILE [--end YYYY-MM-DD] [--unit-days N] [--scores]\n"
    "           lifetimes-style frequency/recency/T/monetary_value per customer\n"
    "           (--scores adds the RFM scores r_score, f_score, m_score)\n"
    "  ingest   --events FILE [--state DIR [--journal off|none|group|always]\n"
    "           [--group-ms N] [--ack-every N]] [--analytics track|anonymous]\n"
    "           [--history-events N]\n"
    "           track an event file (into a state directory); print users, events,\n"
    "           events_per_s, bytes_per_user\n"
    "  profile  --events FILE [--now T] USER\n"
    "           track an event file; print USER's profile as JSON\n"
    "  segments --events FILE --rules FILE [--now T] [--context k=v ...]\n"
    "           [--members NAME [--format ids|csv|jsonl]]\n"
    "           define segments from a rules file; print every segment's size,\n"
    "           or the user ids in one segment\n"
    "  report   --events FILE --offers FILE [--rules FILE] [--segments NAME,...]\n"
    "           [--now T]\n"
    "           offer metrics (impressions, clicks, CTR, revenue, ROI...) as CSV,\n"
    "           per offer, for all users and per segment\n"
    "  ope      --data DIR --campaign NAME [--draws N] [--seed S]\n"
    "           off-policy evaluation on Open Bandit Dataset logs: the CTR of the\n"
    "           random, BTS and bvt policies by IPS, SNIPS and DR, as CSV\n"
    "\n"
    "rfm, profile, segments and report also read a state directory instead of a\n"
    "file: --state DIR in place of --input/--events (read-only; see each\n"
    "command's --help for what a state cannot give, such as raw user ids).\n"
    "\n"
    "State directories (written by 'ingest --state'; opened with the engine\n"
    "options they record):\n"
    "  stats      --state DIR\n"
    "           users, events, bytes, what opening replayed and the options, as\n"
    "           key=value lines (read-only: no file changes)\n"
    "  export     --state DIR [--now T] USER\n"
    "           everything DIR holds about USER, as JSON (read-only)\n"
    "  forget     --state DIR USER\n"
    "           erase USER from every file of DIR; print forgotten=1 or 0\n"
    "  checkpoint --state DIR\n"
    "           write DIR's snapshot and drop its journal; print snapshot_seq\n"
    "  repair     --state DIR\n"
    "           drop damaged journal data, write DIR's snapshot; print what went\n"
    "\n"
    "rfm, ingest, profile, segments and report also take the reading options\n"
    "(--time-format, --columns, --delimiter, --custom-types, --types-file,\n"
    "--max-errors, --rejects, --returns; docs/cli.md, \"Reading files\").\n"
    "\n"
    "'bvt COMMAND --help' describes a command; 'bvt --version' prints the versions\n"
    "of bvt and of the libbehavtarget it runs on.  User ids are hashed with the key\n"
    "in --secret-file FILE (ingest, profile, segments, report and the state\n"
    "commands) or BVT_SECRET, at least 16 bytes.  Without either, the commands\n"
    "that keep nothing use a built-in key fit only for local analysis; anything on\n"
    "a state directory refuses to run.\n"
    "Exit status: 0 success, 1 bad input or failure, 2 bad command line.\n";

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(usage, "missing COMMAND");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        /* Both: the library is a shared object, and may be newer than bvt. */
        printf("bvt %s\nlibbehavtarget %s\n", BVT_TOOL_VERSION, bvt_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "rfm") == 0)
        return cmd_rfm(argc - 1, argv + 1);
    if (strcmp(cmd, "ingest") == 0)
        return cmd_ingest(argc - 1, argv + 1);
    if (strcmp(cmd, "profile") == 0)
        return cmd_profile(argc - 1, argv + 1);
    if (strcmp(cmd, "segments") == 0)
        return cmd_segments(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "ope") == 0)
        return cmd_ope(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "forget") == 0)
        return cmd_forget(argc - 1, argv + 1);
    if (strcmp(cmd, "checkpoint") == 0)
        return cmd_checkpoint(argc - 1, argv + 1);
    if (strcmp(cmd, "repair") == 0)
        return cmd_repair(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cli_usage_error(usage, "unknown option '%s'", cmd);
    return cli_usage_error(usage, "unknown command '%s'", cmd);
}
