/* main.c — decision-server: a demo shop backend on libbehavtarget.
 *
 *   decision-server [--port N] [--secret-file PATH] [--timeout S]
 *
 * The user-id secret comes from --secret-file or the BVT_SECRET environment
 * variable (at least 16 bytes).  --port 0 picks a free port; the port is
 * printed as "listening on http://127.0.0.1:PORT/".  --timeout closes a
 * connection idle for S seconds (1..600, default DS_CONN_TIMEOUT_S).
 * SIGINT or SIGTERM stop the server.  Profiles live in memory only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "http.h"

#define MAX_SECRET 4096

static int usage(void)
{
    fprintf(stderr, "usage: decision-server [--port N] [--secret-file PATH] [--timeout S]\n"
                    "       (or the secret in BVT_SECRET)\n");
    return 2;
}

/* The file's bytes, without one trailing newline (editors add it). */
static int read_secret(const char *path, char *buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t n = fread(buf, 1, MAX_SECRET, f);
    int bad = ferror(f) || !feof(f) || fgetc(f) != EOF;
    fclose(f);
    if (bad) {
        fprintf(stderr, "decision-server: %s: unreadable or over %d bytes\n", path, MAX_SECRET);
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    *len = n;
    return 0;
}

int main(int argc, char **argv)
{
    long port = 8080, timeout = DS_CONN_TIMEOUT_S;
    const char *secret_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 0 || port > 65535)
                return usage();
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            timeout = strtol(argv[++i], &end, 10);
            if (*end || timeout < 1 || timeout > 600)
                return usage();
        } else if (strcmp(argv[i], "--secret-file") == 0 && i + 1 < argc) {
            secret_file = argv[++i];
        } else {
            return usage();
        }
    }
    static char secret[MAX_SECRET];
    size_t secret_len = 0;
    const char *env = getenv("BVT_SECRET");
    if (secret_file) {
        if (read_secret(secret_file, secret, &secret_len) != 0)
            return 1;
    } else if (env && strlen(env) <= MAX_SECRET) {
        secret_len = strlen(env);
        memcpy(secret, env, secret_len);
    }
    if (secret_len < 16) {
        fprintf(stderr, "decision-server: a secret of at least 16 bytes is needed "
                        "(--secret-file or BVT_SECRET)\n");
        return 2;
    }

    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = secret_len;
    opts.max_users = 100000;              /* a demo: bounded memory */
    opts.full_policy = BVT_FULL_EVICT_LRU;
    bvt_engine *engine = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_new(&engine, &opts, &err);
    memset(secret, 0, sizeof secret);
    if (rc != BVT_OK) {
        fprintf(stderr, "decision-server: %s\n", err.message[0] ? err.message : bvt_strerror(rc));
        return 1;
    }
    if (ds_catalogue_define(engine) != 0) {
        bvt_engine_free(engine);
        return 1;
    }

    /* Block the stop signals before the server's threads start, so they
     * inherit the mask and only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    uint16_t bound = 0;
    struct MHD_Daemon *d = ds_http_start(engine, (uint16_t)port, (unsigned)timeout, &bound);
    if (!d) {
        fprintf(stderr, "decision-server: cannot listen on port %ld\n", port);
        bvt_engine_free(engine);
        return 1;
    }
    printf("listening on http://127.0.0.1:%u/\n", (unsigned)bound);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    ds_http_stop(d);
    bvt_engine_free(engine);
    return 0;
}
