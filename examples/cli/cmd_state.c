/* cmd_state.c — the commands on a state directory written by `bvt ingest
 * --state`: stats, export, forget and checkpoint (docs/cli.md).  Each opens
 * the directory for the run (so no other process may have it open). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event_reader.h"

#define SECRET_HELP                                                                  \
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n" \
    "                     stripped; without it BVT_SECRET (one of the two is\n"    \
    "                     required)\n"

static const char stats_usage[] =
    "usage: bvt stats --state DIR [--secret-file FILE]\n"
    "\n"
    "Open the state directory DIR (snapshot, then journal replay; no journal is\n"
    "started) and print key=value lines: users, events, events_rejected,\n"
    "bytes_total, bytes_per_user, journal_replayed, snapshot_seq, torn_bytes,\n"
    "and torn_offset when a torn journal tail was cut.\n"
    "\n" SECRET_HELP
    "\n"
    "Exit status: 0 success; 1 DIR cannot be opened or read; 2 bad command line\n"
    "or secret.\n";

static const char export_usage[] =
    "usage: bvt export --state DIR [--now T] [--secret-file FILE] USER\n"
    "\n"
    "Print everything DIR holds about USER as one JSON object (bvt_user_export,\n"
    "see docs/privacy.md): keyed hashes, never the raw id.\n"
    "\n"
    "  --now T            the time features and segments are read at (ISO 8601\n"
    "                     or epoch ms); default: the current time\n" SECRET_HELP
    "\n"
    "Exit status: 0 success; 1 unknown USER or DIR problem; 2 bad command line\n"
    "or secret.\n";

static const char forget_usage[] =
    "usage: bvt forget --state DIR [--secret-file FILE] USER\n"
    "\n"
    "Erase USER from DIR (bvt_user_forget, then a checkpoint): when the command\n"
    "exits 0 the user is in no file of DIR.  Prints forgotten=1, or forgotten=0\n"
    "when DIR held no profile for USER (still exit 0: forgetting is idempotent).\n"
    "\n" SECRET_HELP
    "\n"
    "Exit status: 0 success; 1 DIR problem; 2 bad command line or secret.\n";

static const char checkpoint_usage[] =
    "usage: bvt checkpoint --state DIR [--secret-file FILE]\n"
    "\n"
    "Write DIR's snapshot from its snapshot and journal, delete the journal files\n"
    "it replaces, and print snapshot_seq=N: the last journal sequence number the\n"
    "snapshot holds.\n"
    "\n" SECRET_HELP
    "\n"
    "Exit status: 0 success; 1 DIR problem; 2 bad command line or secret.\n";

/* Options every state command takes; USER when `user` is set. */
typedef struct state_args {
    const char *dir, *secret_file, *now_text, *user;
} state_args;

static int parse_state_args(int argc, char **argv, const char *usage, const char *cmd,
                            int with_now, int with_user, state_args *sa)
{
    memset(sa, 0, sizeof *sa);
    const cli_opt opts[] = { { "state", &sa->dir }, { "secret-file", &sa->secret_file },
                             { "now", &sa->now_text } };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, with_now ? 3 : 2, &sa->user,
                       with_user ? 1 : 0, &npos);
    if (rc >= 0)
        return rc;
    if (!sa->dir || !*sa->dir)
        return cli_usage_error(usage, "%s needs --state DIR", cmd);
    if (with_user && (npos != 1 || sa->user[0] == '\0'))
        return cli_usage_error(usage, "%s needs a USER", cmd);
    return -1;
}

int cmd_stats(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, stats_usage, "stats", 0, 0, &sa);
    if (rc >= 0)
        return rc;
    bvt_engine *e;
    /* Journal off: reading the state must not start a journal file. */
    rc = cli_state_open(&e, sa.dir, 0, BVT_JOURNAL_OFF, 0, sa.secret_file);
    if (rc)
        return rc;
    bvt_stats st = BVT_STATS_INIT;
    bvt_state_info info = BVT_STATE_INFO_INIT;
    int r = bvt_engine_stats(e, &st);
    if (r == BVT_OK)
        r = bvt_state_info_get(e, &info);
    if (r != BVT_OK) {
        fprintf(stderr, "bvt: reading statistics: %s\n", bvt_strerror(r));
        bvt_engine_free(e);
        return CLI_EXIT_FAIL;
    }
    cli_out o = { 0 };
    cli_out_printf(&o, "users=%llu\n", (unsigned long long)st.users);
    cli_out_printf(&o, "events=%llu\n", (unsigned long long)st.events_accepted);
    cli_out_printf(&o, "events_rejected=%llu\n", (unsigned long long)st.events_rejected);
    cli_out_printf(&o, "bytes_total=%llu\n", (unsigned long long)st.bytes_total);
    cli_out_printf(&o, "bytes_per_user=%.1f\n", st.bytes_per_user);
    cli_out_printf(&o, "journal_replayed=%llu\n", (unsigned long long)info.replayed);
    cli_out_printf(&o, "snapshot_seq=%llu\n", (unsigned long long)info.snapshot_seq);
    cli_out_printf(&o, "torn_bytes=%llu\n", (unsigned long long)info.torn_bytes);
    if (info.torn_offset >= 0)
        cli_out_printf(&o, "torn_offset=%lld\n", (long long)info.torn_offset);
    bvt_engine_free(e);
    return cli_out_flush(&o);
}

static int64_t wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* USER's export into o; exit status. */
static int export_user(bvt_engine *e, const state_args *sa, int64_t now, cli_out *o)
{
    size_t ulen = strlen(sa->user), cap = 0, len = 0;
    char *buf = NULL;
    int r;
    /* Ask the length, then retry with room for it. */
    while ((r = bvt_user_export(e, sa->user, ulen, now, buf, cap, &len)) == BVT_ERANGE) {
        free(buf);
        cap = len + 1;
        if (!(buf = malloc(cap))) {
            fprintf(stderr, "bvt: out of memory\n");
            return CLI_EXIT_FAIL;
        }
    }
    int rc = 0;
    if (r == BVT_ENOTFOUND) {
        fprintf(stderr, "bvt: no user '%s' in %s\n", sa->user, sa->dir);
        rc = CLI_EXIT_FAIL;
    } else if (r != BVT_OK) {
        fprintf(stderr, "bvt: exporting '%s': %s\n", sa->user, bvt_strerror(r));
        rc = CLI_EXIT_FAIL;
    } else {
        cli_out_bytes(o, buf, len);
        if (len == 0 || buf[len - 1] != '\n')
            cli_out_bytes(o, "\n", 1);
    }
    free(buf);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, export_usage, "export", 1, 1, &sa);
    if (rc >= 0)
        return rc;
    int64_t now = 0;
    const char *why;
    if (sa.now_text && er_parse_time(sa.now_text, strlen(sa.now_text), &now, &why) < 0)
        return cli_usage_error(export_usage, "--now: %s in '%s'", why, sa.now_text);
    if (sa.now_text && now <= 0)
        return cli_usage_error(export_usage, "--now must be after 1970-01-01T00:00:00Z");
    if (!sa.now_text)
        now = wall_clock_ms();
    bvt_engine *e;
    rc = cli_state_open(&e, sa.dir, 0, BVT_JOURNAL_OFF, 0, sa.secret_file);
    if (rc)
        return rc;
    cli_out o = { 0 };
    rc = export_user(e, &sa, now, &o);
    bvt_engine_free(e);
    if (rc) {
        cli_out_free(&o);
        return rc;
    }
    return cli_out_flush(&o);
}

/* Checkpoint DIR's engine: 0, or CLI_EXIT_FAIL after saying why. */
static int checkpoint(bvt_engine *e, const char *dir)
{
    bvt_error err = BVT_ERROR_INIT;
    int r = bvt_engine_checkpoint(e, &err);
    if (r == BVT_OK)
        return 0;
    fprintf(stderr, "bvt: %s: checkpoint: %s\n", dir, cli_error_text(&err, r));
    return CLI_EXIT_FAIL;
}

int cmd_forget(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, forget_usage, "forget", 0, 1, &sa);
    if (rc >= 0)
        return rc;
    bvt_engine *e;
    /* A journal, so the erasure is on disk even if the checkpoint fails. */
    rc = cli_state_open(&e, sa.dir, 0, BVT_JOURNAL_GROUP, 0, sa.secret_file);
    if (rc)
        return rc;
    size_t ulen = strlen(sa.user);
    int held = bvt_user_exists(e, sa.user, ulen);
    bvt_error err = BVT_ERROR_INIT;
    int r = bvt_user_forget(e, sa.user, ulen, &err);
    if (r != BVT_OK) {
        fprintf(stderr, "bvt: forgetting '%s': %s\n", sa.user, cli_error_text(&err, r));
        rc = CLI_EXIT_FAIL;
    }
    /* The checkpoint is what takes the user out of the files: the old
     * snapshot and the journal records naming the user are replaced. */
    if (rc == 0)
        rc = checkpoint(e, sa.dir);
    bvt_engine_free(e);
    if (rc)
        return rc;
    cli_out o = { 0 };
    cli_out_printf(&o, "forgotten=%d\n", held ? 1 : 0);
    return cli_out_flush(&o);
}

int cmd_checkpoint(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, checkpoint_usage, "checkpoint", 0, 0, &sa);
    if (rc >= 0)
        return rc;
    bvt_engine *e;
    /* Journal off: the snapshot holds everything replayed, and every journal
     * file goes; the next writer starts a fresh one. */
    rc = cli_state_open(&e, sa.dir, 0, BVT_JOURNAL_OFF, 0, sa.secret_file);
    if (rc)
        return rc;
    rc = checkpoint(e, sa.dir);
    bvt_state_info info = BVT_STATE_INFO_INIT;
    bvt_state_info_get(e, &info);
    bvt_engine_free(e);
    if (rc)
        return rc;
    cli_out o = { 0 };
    cli_out_printf(&o, "snapshot_seq=%llu\n", (unsigned long long)info.snapshot_seq);
    return cli_out_flush(&o);
}
