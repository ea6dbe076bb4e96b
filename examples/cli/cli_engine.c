/* cli_engine.c — the engine of a bvt run and the user-id key it hashes
 * with: a fresh engine in memory (cli_engine_new) or one whose state lives
 * in a directory (cli_state_open, the one place a command opens one).  The
 * key comes from --secret-file, BVT_SECRET or, for in-memory engines only,
 * a built-in key. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Used when no secret is given, by the commands that keep nothing.  It is
 * public, so hashed ids made with it are only pseudonymous to people who
 * have not read this file: fit for local analysis, not for data that leaves
 * the machine, and never for a state directory (docs/cli.md). */
static const char default_secret[] = "bvt-cli-local-analysis-only-key";

/* A secret file larger than this is not a key but a mistake. */
#define SECRET_FILE_MAX 65536

/* The key, and the buffer to wipe when it came from a file. */
typedef struct cli_secret {
    const char *p;
    size_t n;
    char *heap;
    size_t heap_len;
} cli_secret;

static void secret_free(cli_secret *s)
{
    if (s->heap) {
        volatile char *v = s->heap; /* not optimised away: the key leaves memory */
        for (size_t i = 0; i < s->heap_len; i++)
            v[i] = 0;
        free(s->heap);
    }
    memset(s, 0, sizeof *s);
}

/* The whole file, one trailing newline (LF or CRLF) stripped. */
static int secret_read_file(cli_secret *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bvt: --secret-file %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    s->heap_len = SECRET_FILE_MAX + 1;
    s->heap = malloc(s->heap_len);
    if (!s->heap) {
        fclose(f);
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    size_t n = fread(s->heap, 1, s->heap_len, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "bvt: --secret-file %s: read error\n", path);
        return CLI_EXIT_USAGE;
    }
    if (n > SECRET_FILE_MAX) {
        fprintf(stderr, "bvt: --secret-file %s: longer than %d bytes\n", path, SECRET_FILE_MAX);
        return CLI_EXIT_USAGE;
    }
    if (n > 0 && s->heap[n - 1] == '\n') {
        n--;
        if (n > 0 && s->heap[n - 1] == '\r')
            n--;
    }
    if (n < 16) {
        fprintf(stderr, "bvt: --secret-file %s: the secret must be at least 16 bytes "
                        "(a trailing newline not counted)\n", path);
        return CLI_EXIT_USAGE;
    }
    s->p = s->heap;
    s->n = n;
    return 0;
}

/* --secret-file FILE, else BVT_SECRET, else the built-in key unless
 * `required` (then exit 2 with why).  0 or an exit status. */
static int secret_get(cli_secret *s, const char *file, int required)
{
    memset(s, 0, sizeof *s);
    if (file)
        return secret_read_file(s, file);
    const char *env = getenv("BVT_SECRET");
    if (env) {
        if (strlen(env) < 16) {
            fprintf(stderr, "bvt: BVT_SECRET must be at least 16 bytes\n");
            return CLI_EXIT_USAGE;
        }
        s->p = env;
        s->n = strlen(env);
        return 0;
    }
    if (required) {
        fprintf(stderr, "bvt: a state directory needs a secret: set BVT_SECRET or give "
                        "--secret-file FILE (the built-in key is public, so a state "
                        "written with it would be readable by anyone)\n");
        return CLI_EXIT_USAGE;
    }
    s->p = default_secret;
    s->n = sizeof default_secret - 1;
    return 0;
}

int cli_engine_new(bvt_engine **out, const bvt_options *opts, const char *secret_file)
{
    *out = NULL;
    bvt_options o = BVT_OPTIONS_INIT;
    bvt_error err = BVT_ERROR_INIT;
    if (opts)
        o = *opts;
    cli_secret s;
    int rc = secret_get(&s, secret_file, 0);
    if (rc) {
        secret_free(&s);
        return rc;
    }
    o.secret = s.p;
    o.secret_len = s.n;
    rc = bvt_engine_new(out, &o, &err); /* the engine keeps its own copy of the key */
    secret_free(&s);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: cannot create the engine: %s\n",
                err.message[0] ? err.message : bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* A missing or non-directory dir, unless the command creates it. */
static int check_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        fprintf(stderr, "bvt: %s: %s\n", dir, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "bvt: %s: not a directory\n", dir);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* The library ends some messages with how a program would act on them
 * ("; open with BVT_STATE_REPAIR ...", "; open it with the same value ...
 * BVT_OPTIONS_RECORDED"); a bvt user needs the bvt way instead.  Where the
 * library's wording changes, its message is printed whole. */
static const struct open_hint {
    int rc;
    const char *marker; /* in the library's advice clause */
    const char *advice; /* printf format with one %s: DIR */
} open_hints[] = {
    { BVT_ECORRUPT, "BVT_STATE_REPAIR",
      "run 'bvt repair --state %s' to drop the damaged records and all after them" },
    { BVT_EINVAL, "BVT_OPTIONS_RECORDED",
      "give that value, or no engine option to open %s with the options it records" },
};

/* The library's lock refusal ("DIR is in use by another engine (...)")
 * says who may hold DIR, given how the command asked for it, and what to
 * do: wait, since bvt never waits for a lock itself. */
static int print_in_use(const char *dir, const char *msg, uint32_t access)
{
    if (!strstr(msg, "in use by another engine"))
        return 0;
    if (access == BVT_STATE_READ_ONLY)
        fprintf(stderr, "bvt: %s: %s: another process has it open to write (such as "
                        "'bvt ingest --state', 'bvt forget' or a program on the library), and "
                        "a reader cannot share it with a writer; run this command again once "
                        "that process has finished\n", dir, msg);
    else
        fprintf(stderr, "bvt: %s: %s: another process has it open (a writer, or readers "
                        "such as 'bvt stats' or 'bvt profile --state'), and a writer must "
                        "have it alone; run this command again once they have finished\n",
                dir, msg);
    return 1;
}

static void print_open_error(const char *dir, int rc, const bvt_error *err, uint32_t access)
{
    const char *msg = cli_error_text(err, rc);
    if (rc == BVT_EIO && print_in_use(dir, msg, access))
        return;
    for (size_t i = 0; i < sizeof open_hints / sizeof open_hints[0]; i++) {
        const struct open_hint *h = &open_hints[i];
        const char *m = h->rc == rc ? strstr(msg, h->marker) : NULL;
        while (m && m > msg && m[0] != ';')
            m--;
        if (m && m > msg) { /* the library's reason, then the bvt advice */
            fprintf(stderr, "bvt: %s: %.*s; ", dir, (int)(m - msg), msg);
            fprintf(stderr, h->advice, dir);
            fputc('\n', stderr);
            return;
        }
    }
    if (rc == BVT_ESECRET)
        fprintf(stderr, "bvt: %s: %s (check BVT_SECRET or --secret-file)\n", dir, msg);
    else
        fprintf(stderr, "bvt: %s: %s\n", dir, msg);
}

int cli_state_open(bvt_engine **out, const cli_state *cs)
{
    *out = NULL;
    cli_secret s;
    int rc = secret_get(&s, cs->secret_file, 1);
    if (rc == 0 && !cs->create)
        rc = check_dir(cs->dir);
    if (rc) {
        secret_free(&s);
        return rc;
    }
    bvt_options o = BVT_OPTIONS_INIT;
    if (cs->opts)
        o = *cs->opts;
    o.secret = s.p;
    o.secret_len = s.n;
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = cs->dir;
    so.journal = cs->journal;
    so.group_commit_ms = cs->group_ms;
    so.access = cs->access;
    /* Without options on the command line, DIR's own: a directory written
     * with other history sizes or another analytics policy still opens, and
     * a reader does not turn its policy back to the defaults. */
    so.options_from = cs->opts ? BVT_OPTIONS_GIVEN : BVT_OPTIONS_RECORDED;
    bvt_error err = BVT_ERROR_INIT;
    rc = bvt_engine_open(out, &o, &so, &err);
    secret_free(&s);
    if (rc == BVT_OK)
        return 0;
    print_open_error(cs->dir, rc, &err, cs->access);
    return CLI_EXIT_FAIL;
}

const char *cli_error_text(const bvt_error *err, int rc)
{
    return err->message[0] ? err->message : bvt_strerror(rc);
}
