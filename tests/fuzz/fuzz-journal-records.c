/* fuzz-journal-records.c — libFuzzer entry point for journal replay: what
 * each record kind does to a fresh engine (change_log.c, registry_persist.c,
 * offer_persist.c, experiment_persist.c), and whether the state it builds
 * survives a snapshot.  (fuzz-journal covers the file container.)
 *
 * Input: journal-records.h (two bytes of options, then records).  The records
 * are replayed in order into a fresh engine the way state.c replays a
 * journal at open: routed by op code, "already there" and "already gone"
 * taken as success, the first refusal ends the replay.  Checks:
 *  - replay returns only what persist.h allows (BVT_OK, BVT_ECORRUPT,
 *    BVT_ENOMEM, BVT_EFULL; known_gap() below);
 *  - when every record was accepted the engine saves, the snapshot loads
 *    under the same options, the loaded engine has the same statistics and
 *    saves to a byte-identical file;
 *  - a checkpoint after the middle record (its snapshot loaded, then the
 *    records after it) ends in that same file;
 *  - the same records written as a real journal file and opened with
 *    bvt_engine_open() end the same way (same status, same snapshot), so
 *    the routing below cannot drift from state.c's unnoticed: every input
 *    in the fuzz-replay suite, every JR_OPEN_EVERY-th while fuzzing (a
 *    journal file costs a few milliseconds).
 * Files go to a private folder under /dev/shm (else $TMPDIR or /tmp). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change_log.h"
#include "engine.h"
#include "journal.h"
#include "persist.h"
#include "snapshot.h"

#include "journal-records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef JR_OPEN_EVERY
#define JR_OPEN_EVERY 1
#endif

/* ---- routing: state.c's dispatch, one line per range of op codes ---- */

typedef int (*replay_fn)(bvt_engine *e, uint32_t op, bvt_rbuf *r);

/* per_user: journaled under the user's shard lock, so a checkpoint puts
 * each in the snapshot or in the new journal; the others (definitions) may
 * be in both (persist.h). */
static const struct route {
    uint32_t first, last;
    replay_fn fn;
    int per_user;
} routes[] = {
    { BVT_OP_EVENT, BVT_OP_EXPIRE, bvt_change_replay, 1 },
    { BVT_OP_EXPERIMENT_ASSIGN, BVT_OP_EXPERIMENT_ASSIGN, bvt_experiments_replay, 1 },
    { BVT_OP_CATEGORY, BVT_OP_CLUSTERS, bvt_registry_replay, 0 },
    { BVT_OP_OFFER_DEFINE, BVT_OP_POLICY, bvt_offers_replay, 0 },
    { BVT_OP_EXPERIMENT_DEFINE, BVT_OP_EXPERIMENT_DEFINE, bvt_experiments_replay, 0 },
};

static int per_user(uint32_t op)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (op >= routes[i].first && op <= routes[i].last)
            return routes[i].per_user;
    return 1;
}

static int replay_one(bvt_engine *e, const uint8_t *rec, size_t n, uint32_t *out_op)
{
    /* An exact-size copy, so reading one byte past the record is caught. */
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    memcpy(copy, rec, n);
    bvt_rbuf r;
    bvt_rbuf_init(&r, copy, n);
    uint32_t op = *out_op = bvt_r_u8(&r);
    int rc = BVT_ECORRUPT;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (op >= routes[i].first && op <= routes[i].last)
            rc = routes[i].fn(e, op, &r);
    free(copy);
    return rc == BVT_EEXIST || rc == BVT_ENOTFOUND ? BVT_OK : rc;
}

/* Per-user records (change_log.c) replay by repeating the call, and pass
 * on its refusal when the options refuse what these records ask:
 * BVT_ELIMIT (attributes past max_attributes, or off), BVT_EINVAL (an
 * event time past the 2^31 days a history holds, which an engine without
 * history accepts).  No engine with the same data-shaping options writes
 * such a record, and a state directory records those options and refuses
 * others, so bvt_engine_open() reports these as BVT_ECORRUPT (state.c);
 * the module replay functions called directly here pass them on. */
static int known_gap(uint32_t op, int rc)
{
    return op >= BVT_OP_EVENT && op <= BVT_OP_EXPIRE && (rc == BVT_ELIMIT || rc == BVT_EINVAL);
}

/* ---- scratch files ---- */

static char base[256], state_dir[300], journal_path[400], options_path[400];
static char snap_a[300], snap_b[300], snap_c[300], snap_cut[300], snap_d[300];

static void remove_snapshots(void)
{
    unlink(snap_a);
    unlink(snap_b);
    unlink(snap_c);
    unlink(snap_cut);
    unlink(snap_d);
}

static void remove_scratch(void)
{
    DIR *d = opendir(state_dir);
    if (d) {
        for (struct dirent *de; (de = readdir(d));) {
            char p[600];
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", state_dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(state_dir);
    remove_snapshots();
    rmdir(base);
}

static void make_scratch(void)
{
    struct stat st;
    const char *tmp = getenv("TMPDIR");
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        tmp = "/dev/shm";
    else if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(base, sizeof base, "%s/bvt-fuzz-jr-XXXXXX", tmp);
    if (!mkdtemp(base))
        abort();
    snprintf(state_dir, sizeof state_dir, "%s/state", base);
    snprintf(journal_path, sizeof journal_path, "%s/journal-%020d.bvtj", state_dir, 1);
    snprintf(options_path, sizeof options_path, "%s/options", state_dir);
    snprintf(snap_a, sizeof snap_a, "%s/a.bvts", base);
    snprintf(snap_b, sizeof snap_b, "%s/b.bvts", base);
    snprintf(snap_c, sizeof snap_c, "%s/c.bvts", base);
    snprintf(snap_cut, sizeof snap_cut, "%s/cut.bvts", base);
    snprintf(snap_d, sizeof snap_d, "%s/d.bvts", base);
    if (mkdir(state_dir, 0700) != 0)
        abort();
    atexit(remove_scratch);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    if (fseek(f, 0, SEEK_END) != 0)
        abort();
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        abort();
    unsigned char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *pa = read_all(a, &na), *pb = read_all(b, &nb);
    if (na != nb || memcmp(pa, pb, na) != 0)
        abort(); /* the same state saved twice differs */
    free(pa);
    free(pb);
}

/* ---- checks ---- */

static bvt_engine *fresh(const bvt_options *o)
{
    bvt_engine *e = NULL;
    if (bvt_engine_new(&e, o, NULL) != BVT_OK)
        abort();
    return e;
}

static bvt_stats stats_of(bvt_engine *e)
{
    bvt_stats s = BVT_STATS_INIT;
    if (bvt_engine_stats(e, &s) != BVT_OK)
        abort();
    return s;
}

/* What replay built must save, load back as the same, and save the same. */
static void round_trip(bvt_engine *a, const bvt_options *o)
{
    if (bvt_engine_save(a, snap_a, NULL) != BVT_OK)
        abort();
    bvt_engine *b = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_load(&b, o, snap_a, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "replayed state does not load: %s (%s)\n", err.message,
                bvt_strerror(rc));
        abort();
    }
    bvt_stats sa = stats_of(a), sb = stats_of(b);
    if (sa.users != sb.users || sa.events_accepted != sb.events_accepted ||
        sa.events_rejected != sb.events_rejected || sa.categories != sb.categories ||
        sa.bytes_history != sb.bytes_history || sa.bytes_cart != sb.bytes_cart ||
        sa.bytes_attributes != sb.bytes_attributes)
        abort();
    if (bvt_engine_save(b, snap_b, NULL) != BVT_OK)
        abort();
    same_file(snap_a, snap_b);
    bvt_engine_free(b);
}

/* The records as a journal file, opened as the engine opens a state
 * directory: it must end as the in-memory replay did. */
static void open_check(const uint8_t *data, size_t size, const bvt_options *o, uint64_t check,
                       int want)
{
    unlink(journal_path);
    unlink(options_path); /* each input's options are its own */
    bvt_journal *j;
    if (bvt_journal_create(&j, journal_path, 1, check, BVT_JOURNAL_NONE, 0, NULL) != BVT_OK)
        abort();
    const uint8_t *p = data + JR_HEADER, *rec;
    size_t n;
    while (jr_next(&p, data + size, &rec, &n))
        if (n > 0 && bvt_journal_append(j, rec, n, NULL) != BVT_OK)
            abort();
    if (bvt_journal_close(j) != BVT_OK)
        abort();
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = state_dir;
    so.journal = BVT_JOURNAL_OFF;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, o, &so, &err);
    if (want != BVT_OK && want != BVT_ENOMEM)
        want = BVT_ECORRUPT; /* a refusal here is a record no such engine writes */
    if (rc != want) {
        fprintf(stderr, "bvt_engine_open: %s (%s), replay here: %s\n", err.message,
                bvt_strerror(rc), bvt_strerror(want));
        abort();
    }
    if (rc == BVT_OK) {
        if (bvt_engine_save(e, snap_c, NULL) != BVT_OK)
            abort();
        same_file(snap_a, snap_c);
    }
    bvt_engine_free(e);
    unlink(journal_path);
}

/* The records of an input (empty ones dropped: a journal holds none). */
typedef struct records {
    const uint8_t **p;
    size_t *n, count;
} records;

static records split(const uint8_t *data, size_t size)
{
    records rs = { NULL, NULL, 0 };
    size_t cap = size / JR_MARK_LEN + 1, n;
    rs.p = malloc(cap * sizeof *rs.p);
    rs.n = malloc(cap * sizeof *rs.n);
    if (!rs.p || !rs.n)
        abort();
    const uint8_t *at = data + JR_HEADER, *rec;
    while (jr_next(&at, data + size, &rec, &n))
        if (n > 0) {
            rs.p[rs.count] = rec;
            rs.n[rs.count++] = n;
        }
    return rs;
}

/* A checkpoint after record `cut`: the snapshot taken there, loaded, then
 * the journal from there on (the record at the cut again when it is a
 * definition) must give what replaying everything gave. */
static void checkpoint_check(const records *rs, size_t cut, const bvt_options *o)
{
    bvt_engine *b = NULL;
    bvt_error err = BVT_ERROR_INIT;
    if (bvt_engine_load(&b, o, snap_cut, &err) != BVT_OK) {
        fprintf(stderr, "snapshot at record %zu does not load: %s\n", cut, err.message);
        abort();
    }
    size_t from = cut;
    if (cut > 0 && per_user(rs->p[cut - 1][0]) == 0)
        from = cut - 1;
    for (size_t i = from; i < rs->count; i++) {
        uint32_t op;
        int rc = replay_one(b, rs->p[i], rs->n[i], &op);
        if (rc != BVT_OK) {
            fprintf(stderr, "after a checkpoint at record %zu, record %zu (op %u): %s\n", cut,
                    i + 1, op, bvt_strerror(rc));
            abort();
        }
    }
    if (bvt_engine_save(b, snap_d, NULL) != BVT_OK)
        abort();
    same_file(snap_a, snap_d);
    bvt_engine_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static unsigned long inputs;
    static int verbose;
    if (!ready) {
        make_scratch();
        verbose = getenv("JR_VERBOSE") ? atoi(getenv("JR_VERBOSE")) : 0;
        ready = 1;
    }
    if (size < JR_HEADER)
        return 0;
    bvt_options o;
    jr_options(data, &o);
    records rs = split(data, size);
    size_t cut = rs.count / 2, done = 0;
    bvt_engine *a = fresh(&o);
    int rc = BVT_OK;
    uint32_t op = 0;
    for (; rc == BVT_OK && done < rs.count; done++) {
        if (done == cut && bvt_engine_save(a, snap_cut, NULL) != BVT_OK)
            abort();
        rc = replay_one(a, rs.p[done], rs.n[done], &op);
        if (verbose > 1)
            fprintf(stderr, "record %zu: op %u, %zu bytes: %s\n", done + 1, op, rs.n[done],
                    bvt_strerror(rc));
    }
    if (rs.count == 0 && bvt_engine_save(a, snap_cut, NULL) != BVT_OK) /* cut == count */
        abort();
    if (verbose) /* to check that the seeds replay whole */
        fprintf(stderr, "%zu records, %s\n", done, bvt_strerror(rc));
    if (rc != BVT_OK && rc != BVT_ECORRUPT && rc != BVT_ENOMEM && rc != BVT_EFULL &&
        !known_gap(op, rc)) {
        fprintf(stderr, "replay of op %u returned %d (%s)\n", op, rc, bvt_strerror(rc));
        abort();
    }
    if (rc == BVT_OK) {
        round_trip(a, &o);
        checkpoint_check(&rs, cut, &o);
    }
    if (inputs++ % JR_OPEN_EVERY == 0)
        open_check(data, size, &o, bvt_secret_check(a), rc);
    bvt_engine_free(a);
    free(rs.p);
    free(rs.n);
    remove_snapshots(); /* a crash skips atexit: leave little behind */
    return 0;
}
