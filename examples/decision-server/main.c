/* main.c — decision-server: a demo shop backend on libbehavtarget.
 *
 *   decision-server [--config FILE] [--KEY VALUE]...   (config.c; --help)
 *
 * The user-id secret comes from --secret-file or the BVT_SECRET environment
 * variable (at least 16 bytes).  --port 0 picks a free port; the address is
 * printed as "listening on http://ADDR:PORT/".  With --state DIR the
 * profiles live in DIR (snapshot and journal) and survive a crash; a
 * checkpoint is written every --checkpoint seconds and at shutdown.
 * SIGINT or SIGTERM stop the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ds.h"
#include "http.h"
#include "state.h"

#define MAX_SECRET BVT_SECRET_MAX

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

static int secret_of(const ds_config *cfg, char *secret, size_t *len)
{
    const char *env = getenv("BVT_SECRET");
    *len = 0;
    if (cfg->secret_file[0]) {
        if (read_secret(cfg->secret_file, secret, len) != 0)
            return -1;
    } else if (env && strlen(env) <= MAX_SECRET) {
        *len = strlen(env);
        memcpy(secret, env, *len);
    }
    if (*len < 16) {
        fprintf(stderr, "decision-server: a secret of at least 16 bytes is needed "
                        "(--secret-file or BVT_SECRET)\n");
        return -1;
    }
    return 0;
}

/* "http://127.0.0.1:8080/" or "http://[::1]:8080/" */
static void print_url(const ds_config *cfg, uint16_t port)
{
    char host[INET6_ADDRSTRLEN];
    int v6 = cfg->addr.ss_family == AF_INET6;
    const void *a = v6 ? (const void *)&((const struct sockaddr_in6 *)&cfg->addr)->sin6_addr
                       : (const void *)&((const struct sockaddr_in *)&cfg->addr)->sin_addr;
    printf("listening on http://%s%s%s:%u/\n", v6 ? "[" : "",
           inet_ntop(cfg->addr.ss_family, a, host, sizeof host) ? host : cfg->bind,
           v6 ? "]" : "", (unsigned)port);
    fflush(stdout);
}

/* Until SIGINT or SIGTERM, a checkpoint every checkpoint_s seconds. */
static void serve(bvt_engine *engine, const ds_config *cfg, const sigset_t *stop)
{
    for (;;) {
        if (!cfg->state_dir[0] || cfg->checkpoint_s == 0) {
            int sig;
            sigwait(stop, &sig);
            return;
        }
        struct timespec wait = { (time_t)cfg->checkpoint_s, 0 };
        if (sigtimedwait(stop, NULL, &wait) >= 0)
            return;
        if (errno == EAGAIN)
            ds_engine_checkpoint(engine, cfg);
    }
}

int main(int argc, char **argv)
{
    ds_config cfg;
    int rc = ds_config_load(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    static char secret[MAX_SECRET];
    size_t secret_len = 0;
    if (secret_of(&cfg, secret, &secret_len) != 0)
        return 2;
    /* Block the stop signals before any thread starts (the journal's
     * flusher too), so every thread inherits the mask and only the wait in
     * serve() sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    bvt_engine *engine = NULL;
    rc = ds_engine_open(&engine, &cfg, secret, secret_len);
    memset(secret, 0, sizeof secret);
    if (rc != 0)
        return 1;
    ds_server srv = { engine, ds_metrics_new(), cfg.state_dir[0] != '\0' };
    if (!srv.metrics || ds_catalogue_define(engine) != 0) {
        ds_metrics_free(srv.metrics);
        bvt_engine_free(engine);
        return 1;
    }

    uint16_t bound = 0;
    struct MHD_Daemon *d = ds_http_start(&srv, &cfg.addr, cfg.port, cfg.threads, cfg.timeout_s,
                                         &bound);
    if (!d) {
        fprintf(stderr, "decision-server: cannot listen on %s port %u\n", cfg.bind,
                (unsigned)cfg.port);
        ds_metrics_free(srv.metrics);
        bvt_engine_free(engine);
        return 1;
    }
    print_url(&cfg, bound);
    serve(engine, &cfg, &stop);
    ds_http_stop(d);
    ds_engine_checkpoint(engine, &cfg); /* the next start replays nothing */
    bvt_engine_free(engine);
    ds_metrics_free(srv.metrics);
    return 0;
}
