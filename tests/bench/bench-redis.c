/* bench-redis.c — the same event stream into the library and into a local
 * Redis, events/s of each and their ratio.
 *
 * Redis is the usual do-it-yourself profile store: per event a HINCRBY of
 * the user's counter for the event type and, when the type carries interest
 * weight, a ZINCRBY of the category in the user's interest set:
 *     HINCRBY user:<id> <type> 1
 *     ZINCRBY interest:<id> <weight> <category>
 * sent pipelined (a small RESP client over a loopback socket) and every
 * reply read and checked.  That is less work than the library does per
 * event (no decay, history, cart, RFM or session state), which favours Redis.
 * The Redis server is started and stopped by run-all.sh; this program only
 * connects to 127.0.0.1.
 *
 * Usage: bench-redis -P port [-e events] [-u users] [-k pipeline depth]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define T0_MS 1735689600000LL /* 2025-01-01T00:00:00Z */

/* ---- a minimal RESP client ------------------------------------------- */

typedef struct resp {
    int fd;
    char *out;
    size_t out_len, out_cap;
    char *in;
    size_t in_pos, in_len, in_cap;
    size_t errors;
    char first_error[128];
} resp;

static void die(const char *what)
{
    fprintf(stderr, "bench-redis: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static int resp_connect(resp *c, int port)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The server may still be starting: retry for up to ten seconds. */
    for (int tries = 0; tries < 100; tries++) {
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0)
            die("socket");
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0) {
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->out_cap = 1 << 20;
            c->out = malloc(c->out_cap);
            c->in_cap = 1 << 20;
            c->in = malloc(c->in_cap);
            if (!c->out || !c->in)
                die("malloc");
            return 0;
        }
        close(c->fd);
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void out_reserve(resp *c, size_t n)
{
    if (c->out_len + n <= c->out_cap)
        return;
    while (c->out_len + n > c->out_cap)
        c->out_cap *= 2;
    c->out = realloc(c->out, c->out_cap);
    if (!c->out)
        die("realloc");
}

static char *put_uint(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* Append one command of argc bulk strings. */
static void resp_command(resp *c, int argc, const char *const *argv, const size_t *lens)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++)
        need += lens[i] + 24;
    out_reserve(c, need);
    char *p = c->out + c->out_len;
    *p++ = '*';
    p = put_uint(p, (size_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        *p++ = '$';
        p = put_uint(p, lens[i]);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    c->out_len = (size_t)(p - c->out);
}

static void resp_flush(resp *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t w = write(c->fd, c->out + off, c->out_len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        off += (size_t)w;
    }
    c->out_len = 0;
}

/* Make at least n unread bytes available. */
static void in_need(resp *c, size_t n)
{
    while (c->in_len - c->in_pos < n) {
        if (c->in_pos) {
            memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
            c->in_len -= c->in_pos;
            c->in_pos = 0;
        }
        if (c->in_cap - c->in_len < n) {
            c->in_cap = c->in_cap * 2 + n;
            c->in = realloc(c->in, c->in_cap);
            if (!c->in)
                die("realloc");
        }
        ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            errno = r < 0 ? errno : 0;
            die("read from redis (connection closed?)");
        }
        c->in_len += (size_t)r;
    }
}

/* Read one line (without CRLF); returns its start, sets *len. */
static const char *in_line(resp *c, size_t *len)
{
    size_t scanned = 0;
    for (;;) {
        const char *s = c->in + c->in_pos;
        size_t avail = c->in_len - c->in_pos;
        for (size_t i = scanned; i + 1 < avail; i++) {
            if (s[i] == '\r' && s[i + 1] == '\n') {
                *len = i;
                c->in_pos += i + 2;
                return s;
            }
        }
        scanned = avail ? avail - 1 : 0;
        in_need(c, avail + 1);
    }
}

/* Read and check one reply (integer, bulk, simple string or error). */
static void resp_reply(resp *c)
{
    size_t len;
    const char *line = in_line(c, &len);
    switch (line[0]) {
    case ':':
    case '+':
        return;
    case '$': {
        long n = strtol(line + 1, NULL, 10);
        if (n >= 0) {
            in_need(c, (size_t)n + 2);
            c->in_pos += (size_t)n + 2;
        }
        return;
    }
    case '-':
        if (!c->errors++)
            snprintf(c->first_error, sizeof c->first_error, "%.*s", (int)len, line);
        return;
    default:
        fprintf(stderr, "bench-redis: unexpected reply type '%c'\n", line[0]);
        exit(1);
    }
}

/* One command, flushed, reply read; returns the reply line (integer/status). */
static long long resp_simple(resp *c, int argc, const char *const *argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    resp_command(c, argc, argv, lens);
    resp_flush(c);
    size_t len;
    const char *line = in_line(c, &len);
    if (line[0] == '-') {
        fprintf(stderr, "bench-redis: %s: %.*s\n", argv[0], (int)len, line);
        exit(1);
    }
    return line[0] == ':' ? strtoll(line + 1, NULL, 10) : 0;
}

/* ---- the benchmark ---------------------------------------------------- */

static double run_library(const bvt_event *ev, size_t n, int batch, const bench_cats *ref,
                          uint64_t *users_out)
{
    bvt_engine *engine = bench_engine_new();
    bench_cats cats;
    if (bench_cats_intern(&cats, engine) != BVT_OK)
        exit(1);
    /* The events carry category ids from another engine of the same build. */
    if (memcmp(&cats, ref, sizeof cats) != 0) {
        fprintf(stderr, "bench-redis: category ids differ between engines\n");
        exit(1);
    }
    size_t failed_total = 0;
    double t = bench_now();
    if (batch) {
        for (size_t off = 0; off < n; off += 1024) {
            size_t m = n - off < 1024 ? n - off : 1024, failed = 0;
            bvt_event_track_batch(engine, ev + off, m, NULL, 0, &failed, NULL);
            failed_total += failed;
        }
    } else {
        for (size_t k = 0; k < n; k++)
            failed_total += bvt_event_track(engine, &ev[k], NULL) != BVT_OK;
    }
    t = bench_now() - t;
    if (failed_total) {
        fprintf(stderr, "bench-redis: the library refused %zu events\n", failed_total);
        exit(1);
    }
    bvt_stats st = BVT_STATS_INIT;
    bvt_engine_stats(engine, &st);
    *users_out = st.users;
    bvt_engine_free(engine);
    return t;
}

static double run_redis(resp *c, const bvt_event *ev, size_t n, size_t depth,
                        const char (*paths)[48], const uint32_t *leaf_of_id)
{
    /* Names and weights are what the application already holds. */
    const char *type_name[BVT_EVENT_BUILTIN_COUNT];
    char weight[BVT_EVENT_BUILTIN_COUNT][16];
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++) {
        type_name[t] = bvt_event_type_name(NULL, t);
        if (!type_name[t]) {
            fprintf(stderr, "bench-redis: no name for event type %u\n", t);
            exit(1);
        }
        snprintf(weight[t], sizeof weight[t], "%g", bvt_default_type_weight(t));
    }
    double t0 = bench_now();
    for (size_t off = 0; off < n; off += depth) {
        size_t m = n - off < depth ? n - off : depth, replies = 0;
        for (size_t k = off; k < off + m; k++) {
            const bvt_event *e = &ev[k];
            char key[5 + BENCH_ID_LEN + 9];
            /* HINCRBY user:<id> <type> 1 */
            memcpy(key, "user:", 5);
            memcpy(key + 5, e->user_id, BENCH_ID_LEN);
            const char *a1[4] = { "HINCRBY", key, type_name[e->type], "1" };
            size_t l1[4] = { 7, 5 + BENCH_ID_LEN, strlen(type_name[e->type]), 1 };
            resp_command(c, 4, a1, l1);
            replies++;
            if (bvt_default_type_weight(e->type) > 0) {
                /* ZINCRBY interest:<id> <weight> <category> */
                memcpy(key, "interest:", 9);
                memcpy(key + 9, e->user_id, BENCH_ID_LEN);
                const char *path = paths[leaf_of_id[e->category_id]];
                const char *a2[4] = { "ZINCRBY", key, weight[e->type], path };
                size_t l2[4] = { 7, 9 + BENCH_ID_LEN, strlen(weight[e->type]), strlen(path) };
                resp_command(c, 4, a2, l2);
                replies++;
            }
        }
        resp_flush(c);
        for (size_t r = 0; r < replies; r++)
            resp_reply(c);
    }
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    int port = 0;
    size_t n = 1000000, depth = 1000;
    uint64_t users = 100000;
    int opt;
    while ((opt = getopt(argc, argv, "P:e:u:k:")) != -1) {
        switch (opt) {
        case 'P': port = atoi(optarg); break;
        case 'e': n = strtoull(optarg, NULL, 10); break;
        case 'u': users = strtoull(optarg, NULL, 10); break;
        case 'k': depth = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench-redis -P port [-e events] [-u users] [-k depth]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || n < 1 || users < 1 || depth < 1) {
        fprintf(stderr, "usage: bench-redis -P port [-e events] [-u users] [-k depth]\n");
        return 2;
    }

    /* The stream: generated once, used by both sides. */
    bench_users ids;
    if (bench_users_make(&ids, users) != 0)
        die("malloc");
    bvt_engine *scratch = bench_engine_new(); /* only to learn the category ids */
    bench_cats cats;
    if (bench_cats_intern(&cats, scratch) != BVT_OK)
        return 1;
    static char paths[BENCH_LEAVES][48];
    uint32_t max_id = 0;
    for (unsigned i = 0; i < BENCH_LEAVES; i++) {
        bench_cat_path(paths[i], sizeof paths[i], i);
        if (cats.leaves[i] > max_id)
            max_id = cats.leaves[i];
    }
    uint32_t *leaf_of_id = calloc((size_t)max_id + 1, sizeof *leaf_of_id);
    for (unsigned i = 0; i < BENCH_LEAVES; i++)
        leaf_of_id[cats.leaves[i]] = i;
    bvt_engine_free(scratch);
    bvt_event *ev = malloc(n * sizeof *ev);
    char *idcopy = malloc(n * BENCH_ID_LEN);
    if (!ev || !idcopy || !leaf_of_id)
        die("malloc");
    bench_rng rng = { 0xdecafULL };
    bench_events_fill(ev, idcopy, n, &ids, BENCH_UNIFORM, 0, 0, 0, &cats, T0_MS, 3600LL * 1000, &rng);

    printf("peer-redis: %zu events over %llu users, pipeline depth %zu events\n", n,
           (unsigned long long)users, depth);

    uint64_t lib_users = 0;
    double t_batch = run_library(ev, n, 1, &cats, &lib_users);
    double t_single = run_library(ev, n, 0, &cats, &lib_users);

    resp c;
    if (resp_connect(&c, port) != 0) {
        fprintf(stderr, "bench-redis: cannot connect to redis on 127.0.0.1:%d\n", port);
        return 1;
    }
    const char *flush[1] = { "FLUSHALL" };
    resp_simple(&c, 1, flush);
    double t_redis = run_redis(&c, ev, n, depth, (const char (*)[48])paths, leaf_of_id);
    if (c.errors) {
        fprintf(stderr, "bench-redis: redis returned %zu errors, first: %s\n", c.errors,
                c.first_error);
        return 1;
    }
    const char *dbsize[1] = { "DBSIZE" };
    long long keys = resp_simple(&c, 1, dbsize);
    printf("  redis holds %lld keys; the library %llu profiles\n", keys,
           (unsigned long long)lib_users);
    resp_simple(&c, 1, flush);
    close(c.fd);

    double r_batch = (double)n / t_batch, r_single = (double)n / t_single;
    double r_redis = (double)n / t_redis;
    printf("  library batch:  %.2f M events/s (%.0f ns/event)\n", r_batch / 1e6,
           1e9 / r_batch);
    printf("  library single: %.2f M events/s (%.0f ns/event)\n", r_single / 1e6,
           1e9 / r_single);
    printf("  redis pipelined: %.3f M events/s (%.0f ns/event)\n", r_redis / 1e6,
           1e9 / r_redis);
    printf("  ratio library batch / redis: %.1fx; single / redis: %.1fx (target >= 50x)\n",
           r_batch / r_redis, r_single / r_redis);
    bench_result("peer_redis.library_batch.events_per_s", r_batch);
    bench_result("peer_redis.library_single.events_per_s", r_single);
    bench_result("peer_redis.redis.events_per_s", r_redis);
    bench_result("peer_redis.ratio_batch", r_batch / r_redis);
    bench_result("peer_redis.ratio_single", r_single / r_redis);

    free(ev);
    free(idcopy);
    free(leaf_of_id);
    free(c.out);
    free(c.in);
    bench_users_free(&ids);
    return 0;
}
