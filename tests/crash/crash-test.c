/* crash-test.c — the journal's promise under SIGKILL.
 *
 * Round after round, a child process opens a state directory and tracks a
 * numbered sequence of purchases (event i: user u<i mod USERS>, value
 * i + 1), telling the parent through a pipe how many are durable — after
 * each call under BVT_JOURNAL_ALWAYS, when durable_seq passes them under
 * _GROUP, after bvt_engine_sync() under _NONE — and now and then
 * checkpointing.  The parent kills it with SIGKILL at a random moment,
 * reopens the directory and checks that what it holds is exactly the
 * first N events for some N no smaller than the last acknowledgement:
 * every durable event present, none twice, none invented, every checksum
 * good (the open succeeds).  The next round continues the sequence.
 *
 *   crash-test [ROUNDS] [SEED]     (defaults 40 and 1) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <behavtarget.h>
#include <dirent.h>

#define USERS 50
#define T_BASE 1700000000000LL
#define CHECKPOINT_EVERY 3000u

static const char SECRET[] = "crash-test-secret-0123456789abcdef";
static char dir[64];

static void die(const char *what, int rc, const bvt_error *err)
{
    fprintf(stderr, "crash-test: %s: %d %s\n", what, rc, err ? err->message : "");
    exit(1);
}

static bvt_engine *open_dir(uint32_t mode)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.secret = SECRET;
    o.secret_len = sizeof SECRET - 1;
    o.shards = 8;
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    st.journal = mode;
    st.group_commit_ms = 2;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, &o, &st, &err);
    if (rc != BVT_OK)
        die("open", rc, &err);
    return e;
}

static uint64_t events_in(bvt_engine *e)
{
    bvt_stats s = BVT_STATS_INIT;
    if (bvt_engine_stats(e, &s) != BVT_OK)
        die("stats", -1, NULL);
    return s.events_accepted;
}

static void ack(int fd, uint64_t n)
{
    if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
        _exit(3);
}

static uint64_t durable_seq(bvt_engine *e)
{
    bvt_state_info info = BVT_STATE_INFO_INIT;
    bvt_state_info_get(e, &info);
    return info.durable_seq;
}

static uint64_t accepted_seq(bvt_engine *e)
{
    bvt_state_info info = BVT_STATE_INFO_INIT;
    bvt_state_info_get(e, &info);
    return info.accepted_seq;
}

/* The child: track from event `from` on until killed. */
static void child(int fd, uint32_t mode, uint64_t seed)
{
    bvt_engine *e = open_dir(mode);
    uint64_t i = events_in(e);
    char user[16];
    /* pending acknowledgements under GROUP: event count -> its sequence */
    uint64_t pend_n[64], pend_seq[64];
    unsigned head = 0, tail = 0;
    for (uint64_t k = 0;; k++, i++) {
        snprintf(user, sizeof user, "u%u", (unsigned)(i % USERS));
        bvt_event ev = BVT_EVENT_INIT;
        ev.user_id = user;
        ev.user_id_len = strlen(user);
        ev.type = BVT_EVENT_PURCHASE;
        ev.time_ms = T_BASE + (int64_t)i * 1000;
        ev.value = (double)(i + 1);
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_event_track(e, &ev, &err);
        if (rc != BVT_OK)
            die("track", rc, &err);
        if (mode == BVT_JOURNAL_ALWAYS) {
            ack(fd, i + 1);
        } else if (mode == BVT_JOURNAL_GROUP) {
            if ((k & 15) == 0 && (tail - head) < 64) {
                pend_n[tail % 64] = i + 1;
                pend_seq[tail % 64] = accepted_seq(e);
                tail++;
            }
            uint64_t d = durable_seq(e);
            while (head != tail && pend_seq[head % 64] <= d)
                ack(fd, pend_n[head++ % 64]);
        } else if ((k & 63) == 63) {
            if ((rc = bvt_engine_sync(e, &err)) != BVT_OK)
                die("sync", rc, &err);
            ack(fd, i + 1);
        }
        if ((i + 1) % CHECKPOINT_EVERY == (seed % CHECKPOINT_EVERY)) {
            if ((rc = bvt_engine_checkpoint(e, &err)) != BVT_OK)
                die("checkpoint", rc, &err);
            ack(fd, i + 1); /* a checkpoint makes everything durable */
        }
    }
}

/* The state must be exactly events 0..n-1. */
static void verify(bvt_engine *e, uint64_t n, int round)
{
    for (unsigned u = 0; u < USERS; u++) {
        char user[16];
        snprintf(user, sizeof user, "u%u", u);
        uint64_t count = n > u ? (n - u + USERS - 1) / USERS : 0;
        double sum = 0; /* values i + 1 for i = u, u + USERS, ... < n */
        for (uint64_t i = u; i < n; i += USERS)
            sum += (double)(i + 1);
        bvt_profile p;
        bvt_profile_init(&p);
        int rc = bvt_profile_get(e, user, strlen(user), T_BASE + (int64_t)n * 1000 + 1, &p);
        if (count == 0 && rc == BVT_ENOTFOUND)
            continue;
        if (rc != BVT_OK || p.purchases != count || p.monetary_total != sum) {
            fprintf(stderr, "crash-test: round %d: %s holds %llu purchases (%.0f), expected "
                    "%llu (%.0f) for the first %llu events\n", round, user,
                    (unsigned long long)p.purchases, p.monetary_total,
                    (unsigned long long)count, sum, (unsigned long long)n);
            exit(1);
        }
    }
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        char p[512];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 40;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    strcpy(dir, "/tmp/bvt-crash-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp", errno, NULL);
    signal(SIGPIPE, SIG_IGN);
    uint64_t acked = 0, torn = 0, total_kills = 0;
    srand((unsigned)seed);
    const uint32_t modes[] = { BVT_JOURNAL_ALWAYS, BVT_JOURNAL_GROUP, BVT_JOURNAL_NONE };
    for (int round = 0; round < rounds; round++) {
        uint32_t mode = modes[round % 3];
        int fds[2];
        if (pipe(fds) != 0)
            die("pipe", errno, NULL);
        pid_t pid = fork();
        if (pid < 0)
            die("fork", errno, NULL);
        if (pid == 0) {
            close(fds[0]);
            child(fds[1], mode, seed + (uint64_t)round);
            _exit(0);
        }
        close(fds[1]);
        /* let it run 5..60 ms (opening included), then kill it */
        struct timespec ts = { 0, (long)(5 + rand() % 56) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            fprintf(stderr, "crash-test: round %d: the child exited by itself (%d)\n", round,
                    WEXITSTATUS(status));
            return 1;
        }
        total_kills++;
        uint64_t n;
        while (read(fds[0], &n, sizeof n) == (ssize_t)sizeof n)
            if (n > acked)
                acked = n;
        close(fds[0]);
        bvt_engine *e = open_dir(BVT_JOURNAL_OFF);
        bvt_state_info info = BVT_STATE_INFO_INIT;
        bvt_state_info_get(e, &info);
        torn += info.torn_offset >= 0;
        uint64_t held = events_in(e);
        if (held < acked) {
            fprintf(stderr, "crash-test: round %d (mode %u): %llu events acknowledged as "
                    "durable, %llu after reopening\n", round, mode, (unsigned long long)acked,
                    (unsigned long long)held);
            return 1;
        }
        verify(e, held, round);
        acked = held; /* what the next round starts from */
        bvt_engine_free(e);
    }
    printf("crash-test: %llu kills, %llu events durable at the end, %llu torn tails cut\n",
           (unsigned long long)total_kills, (unsigned long long)acked,
           (unsigned long long)torn);
    remove_dir();
    return 0;
}
