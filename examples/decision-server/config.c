/* config.c — every option of the server in one table, read from a config
 * file (`key = value` lines, `#` comments) and from the command line
 * (`--key value`), the command line winning.  Unknown keys, keys given
 * twice in a file and bad values are refused with where they are. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "ds.h"

#define MAX_CONFIG_FILE (64u * 1024u)

/* An integer in [lo, hi]: 0, or -1 with why. */
static int integer(const char *value, unsigned long long lo, unsigned long long hi,
                   unsigned long long *out, char *why, size_t cap)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end || errno || v < lo || v > hi) {
        snprintf(why, cap, "expected an integer %llu..%llu, not '%.40s'", lo, hi, value);
        return -1;
    }
    *out = v;
    return 0;
}

static int copy_path(char *dst, const char *value, char *why, size_t cap)
{
    size_t n = strlen(value);
    if (n == 0 || n >= DS_PATH_MAX) {
        snprintf(why, cap, "a path of 1..%d bytes", DS_PATH_MAX - 1);
        return -1;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

static int set_bind(ds_config *c, const char *v, char *why, size_t cap)
{
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
    if (strlen(v) < sizeof c->bind && inet_pton(AF_INET, v, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else if (strlen(v) < sizeof c->bind && inet_pton(AF_INET6, v, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
    } else {
        snprintf(why, cap, "expected a numeric IPv4 or IPv6 address such as 127.0.0.1 or "
                 "::1, not '%.40s'", v);
        return -1;
    }
    c->addr = a;
    snprintf(c->bind, sizeof c->bind, "%s", v);
    return 0;
}

static int set_secret_file(ds_config *c, const char *v, char *why, size_t cap)
{
    return copy_path(c->secret_file, v, why, cap);
}

static int set_state(ds_config *c, const char *v, char *why, size_t cap)
{
    return copy_path(c->state_dir, v, why, cap);
}

static int set_journal(ds_config *c, const char *v, char *why, size_t cap)
{
    if (strcmp(v, "group") == 0) {
        c->journal = BVT_JOURNAL_GROUP;
    } else if (strcmp(v, "always") == 0) {
        c->journal = BVT_JOURNAL_ALWAYS;
    } else {
        snprintf(why, cap, "expected group or always, not '%.40s'", v);
        return -1;
    }
    return 0;
}

typedef struct option {
    const char *key; /* `key = value` in a file, `--key value` on the command line */
    const char *arg;
    const char *help;
    int (*set)(ds_config *c, const char *value, char *why, size_t cap); /* or a number: */
    size_t off, size;                  /* the ds_config field and its width (2, 4 or 8) */
    unsigned long long lo, hi;         /* its range */
} option;

#define TEXT(setter) setter, 0, 0, 0, 0
#define NUMBER(field, lo, hi) NULL, offsetof(ds_config, field), sizeof(((ds_config *)0)->field), lo, hi

/* A numeric option into its field, checked against its range. */
static int set_number(ds_config *c, const option *o, const char *v, char *why, size_t cap)
{
    unsigned long long n;
    if (integer(v, o->lo, o->hi, &n, why, cap) != 0)
        return -1;
    char *field = (char *)c + o->off;
    if (o->size == sizeof(uint16_t))
        *(uint16_t *)(void *)field = (uint16_t)n;
    else if (o->size == sizeof(unsigned))
        *(unsigned *)(void *)field = (unsigned)n;
    else
        *(uint64_t *)(void *)field = (uint64_t)n;
    return 0;
}

static const option options[] = {
    { "bind", "ADDR", "address to listen on, IPv4 or IPv6 (default 127.0.0.1)",
      TEXT(set_bind) },
    { "port", "N", "port (default 8080; 0 = any free port)", NUMBER(port, 0, 65535) },
    { "timeout", "S", "close a connection idle for S seconds (1..600, default 10)",
      NUMBER(timeout_s, 1, 600) },
    { "threads", "N", "worker threads; each answer that waits for the journal holds one "
      "(1..64, default 2)", NUMBER(threads, 1, 64) },
    { "secret-file", "PATH", "the user-id hashing secret (>= 16 bytes); else BVT_SECRET",
      TEXT(set_secret_file) },
    { "state", "DIR", "keep profiles in DIR across restarts (default: memory only)",
      TEXT(set_state) },
    { "journal", "MODE", "with --state: group or always (default group)", TEXT(set_journal) },
    { "group-commit-ms", "MS", "with --journal group: fsync every MS (1..10000, default 5)",
      NUMBER(group_commit_ms, 1, 10000) },
    { "checkpoint", "S", "with --state: a snapshot every S seconds (0..86400, default 300; "
      "0 = at shutdown only)", NUMBER(checkpoint_s, 0, 86400) },
    { "max-users", "N", "profiles held, the least recently seen evicted past it "
      "(1..100000000, default 100000)", NUMBER(max_users, 1, 100000000) },
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static const option *find(const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].key, key) == 0)
            return &options[i];
    return NULL;
}

void ds_config_defaults(ds_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char why[128];
    set_bind(cfg, "127.0.0.1", why, sizeof why);
    cfg->port = 8080;
    cfg->timeout_s = DS_CONN_TIMEOUT_S;
    cfg->threads = DS_THREADS;
    cfg->journal = BVT_JOURNAL_GROUP;
    cfg->group_commit_ms = 5;
    cfg->checkpoint_s = 300;
    cfg->max_users = 100000;
}

int ds_config_set(ds_config *cfg, const char *key, const char *value, char *why, size_t cap)
{
    const option *o = find(key);
    if (!o) {
        snprintf(why, cap, "unknown key '%.40s'", key);
        return -1;
    }
    char detail[256];
    if ((o->set ? o->set(cfg, value, detail, sizeof detail)
                : set_number(cfg, o, value, detail, sizeof detail)) != 0) {
        snprintf(why, cap, "%s: %s", key, detail);
        return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int ds_config_parse(ds_config *cfg, const char *text, size_t len, char *why, size_t cap)
{
    if (memchr(text, '\0', len)) {
        snprintf(why, cap, "a NUL byte: not a text file");
        return -1;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    size_t first_line[N_OPTIONS] = { 0 }; /* where each key was set, to refuse a repeat */
    char detail[300];
    int rc = 0;
    size_t line = 0;
    for (char *p = copy, *next; p && rc == 0; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(p);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(detail, sizeof detail, "expected key = value");
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        const option *o = find(key);
        if (o && first_line[o - options]) {
            snprintf(detail, sizeof detail, "'%s' given twice (first on line %zu)", key,
                     first_line[o - options]);
            rc = -1;
        } else if (ds_config_set(cfg, key, value, detail, sizeof detail) != 0) {
            rc = -1;
        } else {
            first_line[o - options] = line;
        }
    }
    if (rc != 0)
        snprintf(why, cap, "line %zu: %s", line, detail);
    free(copy);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: decision-server [--config FILE] [--KEY VALUE]...\n"
               "  --config FILE  read `key = value` lines for the options below first; the\n"
               "                 command line overrides them\n");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char flag[48];
        snprintf(flag, sizeof flag, "--%s %s", options[i].key, options[i].arg);
        fprintf(f, "  %-24s %s\n", flag, options[i].help);
    }
    fprintf(f, "The secret comes from --secret-file or BVT_SECRET.\n");
}

static int load_file(ds_config *cfg, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "decision-server: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_CONFIG_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_CONFIG_FILE + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    char why[400];
    int rc = -1;
    if (bad)
        fprintf(stderr, "decision-server: %s: cannot read it\n", path);
    else if (n > MAX_CONFIG_FILE)
        fprintf(stderr, "decision-server: %s: larger than %u bytes\n", path, MAX_CONFIG_FILE);
    else if (ds_config_parse(cfg, buf, n, why, sizeof why) != 0)
        fprintf(stderr, "decision-server: %s: %s\n", path, why);
    else
        rc = 0;
    free(buf);
    return rc;
}

int ds_config_load(ds_config *cfg, int argc, char **argv)
{
    ds_config_defaults(cfg);
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (file || i + 1 >= argc) {
                fprintf(stderr, "decision-server: --config: %s\n",
                        file ? "given twice" : "needs a FILE");
                return -1;
            }
            file = argv[++i];
        }
    }
    if (file && load_file(cfg, file) != 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        char why[400];
        if (strncmp(a, "--", 2) != 0 || !find(a + 2)) {
            fprintf(stderr, "decision-server: unknown option '%.60s'\n", a);
            usage(stderr);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "decision-server: %s needs a value\n", a);
            return -1;
        }
        if (ds_config_set(cfg, a + 2, argv[++i], why, sizeof why) != 0) {
            fprintf(stderr, "decision-server: --%s\n", why);
            return -1;
        }
    }
    return 0;
}
