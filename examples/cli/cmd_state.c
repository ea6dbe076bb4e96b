/* cmd_state.c — the commands on a state directory written by `bvt ingest
 * --state`: stats, export, forget, checkpoint and repair (docs/cli.md).
 * Each opens the directory for the run with the engine options it records:
 * stats and export read-only (other readers may share it, no file
 * changes), the others as its one writer. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "event_reader.h"

#define SECRET_HELP                                                                  \
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n" \
    "                     stripped; without it BVT_SECRET (one of the two is\n"    \
    "                     required)\n"

static const char stats_usage[] =
    "usage: bvt stats --state DIR [--secret-file FILE]\n"
    "\n"
    "Open the state directory DIR read-only (snapshot, then journal replay; no\n"
    "file is changed) and print key=value lines: users, events, events_rejected,\n"
    "bytes_total, bytes_per_user, journal_replayed, snapshot_seq, torn_bytes,\n"
    "torn_offset when the journal has a torn tail (left for the next writer to\n"
    "cut), then option.NAME=VALUE for each engine option DIR records.\n"
    "\n" SECRET_HELP
    "\n"
    "Exit status: 0 success; 1 DIR cannot be opened or read; 2 bad command line\n"
    "or secret.\n";

static const char export_usage[] =
    "usage: bvt export --state DIR [--now T] [--secret-file FILE] USER\n"
    "\n"
    "Print everything DIR holds about USER as one JSON object (bvt_user_export,\n"
    "see docs/privacy.md): keyed hashes, never the raw id.  DIR is opened\n"
    "read-only: no file is changed.\n"
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

static const char repair_usage[] =
    "usage: bvt repair --state DIR [--secret-file FILE]\n"
    "\n"
    "Open DIR dropping damaged journal data on purpose: everything from the first\n"
    "damaged byte on (that file is cut there, newer journal files are deleted);\n"
    "then write DIR's snapshot.  Prints what was dropped as key=value lines:\n"
    "dropped_first_seq, dropped_last_seq (or unknown), dropped_bytes and\n"
    "dropped_files for damage, torn_offset and torn_bytes for a torn tail; or\n"
    "'nothing dropped'.\n"
    "\n" SECRET_HELP
    "\n"
    "Exit status: 0 success (also when nothing was dropped); 1 DIR problem (a\n"
    "damaged snapshot cannot be repaired); 2 bad command line or secret.\n";

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

/* DIR opened for a command, with the engine options DIR records. */
static int open_state(bvt_engine **e, const state_args *sa, uint32_t access, uint32_t journal)
{
    cli_state cs = { sa->dir, sa->secret_file, NULL, access, journal, 0, 0 };
    return cli_state_open(e, &cs);
}

/* An option's value: a fraction as the shortest decimal that reads back to
 * it (the file keeps 17 digits, "0.10000000000000001" for 0.1), anything
 * else as written. */
static void option_value(cli_out *o, const char *v, size_t n)
{
    char text[64], *end;
    if (n < sizeof text && memchr(v, '.', n)) {
        memcpy(text, v, n);
        text[n] = '\0';
        double d = strtod(text, &end);
        if (end == text + n) {
            cli_out_double(o, d);
            return;
        }
    }
    cli_out_bytes(o, v, n);
}

static int option_line(void *ud, size_t line, const char *p, size_t n)
{
    (void)line;
    const char *sp = memchr(p, ' ', n);
    size_t k = sp ? (size_t)(sp - p) : n;
    /* the file's own lines, not options */
    if (!sp || (k == 7 && memcmp(p, "version", 7) == 0) || (k == 5 && memcmp(p, "check", 5) == 0))
        return 0;
    cli_out_printf(ud, "option.%.*s=", (int)k, p);
    option_value(ud, sp + 1, n - k - 1);
    cli_out_bytes(ud, "\n", 1);
    return 0;
}

/* The options DIR records, one option.NAME=VALUE line each, from its
 * `options` file: `NAME VALUE` lines (the library checked the file when it
 * opened DIR, and holds DIR's lock, so no writer changes it meanwhile).  A
 * DIR written before options were recorded has none.  0 or an exit status. */
static int print_options(cli_out *o, const char *dir)
{
    size_t len = strlen(dir) + sizeof "/options";
    char *path = malloc(len);
    if (!path) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    snprintf(path, len, "%s/options", dir);
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) == 0 || errno != ENOENT) {
        cli_file f;
        rc = cli_file_load(&f, path) < 0 ? CLI_EXIT_FAIL : 0;
        if (rc == 0)
            cli_each_line(f.data, f.len, option_line, o);
        cli_file_free(&f);
    }
    free(path);
    return rc;
}

int cmd_stats(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, stats_usage, "stats", 0, 0, &sa);
    if (rc >= 0)
        return rc;
    bvt_engine *e;
    /* Read-only: looking must not change DIR (a torn tail stays for the next
     * writer, which cuts it). */
    rc = open_state(&e, &sa, BVT_STATE_READ_ONLY, BVT_JOURNAL_OFF);
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
    rc = print_options(&o, sa.dir); /* while DIR is still locked */
    bvt_engine_free(e);
    if (rc) {
        cli_out_free(&o);
        return rc;
    }
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
    if (sa.now_text && (rc = cli_time_option("--now", sa.now_text, &now, export_usage)) != 0)
        return rc;
    if (sa.now_text && now <= 0)
        return cli_usage_error(export_usage, "--now must be after 1970-01-01T00:00:00Z");
    if (!sa.now_text)
        now = wall_clock_ms();
    bvt_engine *e;
    rc = open_state(&e, &sa, BVT_STATE_READ_ONLY, BVT_JOURNAL_OFF);
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
    rc = open_state(&e, &sa, BVT_STATE_READ_WRITE, BVT_JOURNAL_GROUP);
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
    rc = open_state(&e, &sa, BVT_STATE_READ_WRITE, BVT_JOURNAL_OFF);
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

/* What a repairing open dropped, as key=value lines, or "nothing dropped". */
static void report_dropped(cli_out *o, const bvt_state_info *in)
{
    if (in->dropped_first_seq == 0 && in->torn_offset < 0) {
        cli_out_printf(o, "nothing dropped\n");
        return;
    }
    if (in->dropped_first_seq != 0) {
        cli_out_printf(o, "dropped_first_seq=%llu\n", (unsigned long long)in->dropped_first_seq);
        if (in->dropped_last_seq != 0) /* 0: no sound frame after the damage told */
            cli_out_printf(o, "dropped_last_seq=%llu\n", (unsigned long long)in->dropped_last_seq);
        else
            cli_out_printf(o, "dropped_last_seq=unknown\n");
        cli_out_printf(o, "dropped_bytes=%llu\n", (unsigned long long)in->dropped_bytes);
        cli_out_printf(o, "dropped_files=%u\n", (unsigned)in->dropped_files);
    }
    if (in->torn_offset >= 0) {
        cli_out_printf(o, "torn_offset=%lld\n", (long long)in->torn_offset);
        cli_out_printf(o, "torn_bytes=%llu\n", (unsigned long long)in->torn_bytes);
    }
}

int cmd_repair(int argc, char **argv)
{
    state_args sa;
    int rc = parse_state_args(argc, argv, repair_usage, "repair", 0, 0, &sa);
    if (rc >= 0)
        return rc;
    bvt_engine *e;
    /* Journal off, as for checkpoint: the new snapshot holds what was kept,
     * and every journal file goes, the cut one included. */
    rc = open_state(&e, &sa, BVT_STATE_REPAIR, BVT_JOURNAL_OFF);
    if (rc)
        return rc;
    bvt_state_info info = BVT_STATE_INFO_INIT;
    bvt_state_info_get(e, &info); /* cannot fail: valid engine and version */
    cli_out o = { 0 };
    report_dropped(&o, &info);
    rc = checkpoint(e, sa.dir);
    bvt_engine_free(e);
    if (rc) {
        /* The drop is on disk already: say what it was. */
        if (o.n)
            fwrite(o.p, 1, o.n, stderr);
        cli_out_free(&o);
        return rc;
    }
    return cli_out_flush(&o);
}
