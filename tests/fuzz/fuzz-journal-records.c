/* fuzz-journal-records.c — libFuzzer entry point for journal replay: what
 * each record kind does to a fresh engine (change_log.c, registry_persist.c,
 * offer_persist.c, experiment_persist.c, state_options.c), and whether the
 * state it builds survives snapshots and checkpoints.  (fuzz-journal
 * covers the file container.)
 *
 * Input: journal-records.h (two bytes of options, then records).  The
 * records are replayed into a fresh engine the way state.c rebuilds a state
 * directory: routed by op code with no limits applied (users, memory,
 * aliases: what they decided is in the records), "already there" and
 * "already gone" taken as success, the first refusal ending it, then the
 * user limit must hold.  Checks:
 *  - the module replay functions return only what persist.h allows
 *    (BVT_OK, BVT_ECORRUPT, BVT_ENOMEM, BVT_EFULL; known_gap() below);
 *  - when the replay succeeds the engine saves; the snapshot opened as a
 *    state directory has the same statistics and saves byte-identically,
 *    and so does bvt_engine_load() of it, which may also refuse it with
 *    BVT_EFULL (replay applies no memory budget, a plain load does);
 *  - a checkpoint after the middle record (its snapshot loaded, then the
 *    records after it, the one at the cut again when it is a definition,
 *    as persist.h allows) ends in that same snapshot;
 *  - the same through real journal files and bvt_engine_open(): all the
 *    records into an empty directory, and the checkpoint's snapshot with
 *    the journal after it.  Each must end as the replay here did (status
 *    as state.c reports it, same snapshot), so the routing and limits here
 *    cannot drift from state.c's unnoticed: every input in the fuzz-replay
 *    suite, every JR_OPEN_EVERY-th while fuzzing (a journal file costs a
 *    few milliseconds).
 * Files go to a private folder under /dev/shm (else $TMPDIR or /tmp). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "category.h"
#include "change_log.h"
#include "engine.h"
#include "fileio.h"
#include "interner.h"
#include "journal.h"
#include "persist.h"
#include "snapfile.h"
#include "snapshot.h"
#include "state_options.h"
#include "store.h"

#include "journal-records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef JR_OPEN_EVERY
#define JR_OPEN_EVERY 1
#endif

/* ---- routing: state.c's dispatch, one line per range of op codes ---- */

typedef int (*replay_fn)(bvt_engine *e, uint32_t op, bvt_rbuf *r);

static int options_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    (void)op;
    return bvt_options_replay(e, r);
}

/* per_user: journaled under the user's shard lock (or as part of a per-user
 * change), so a checkpoint puts each in the snapshot or in the new journal;
 * the others (definitions, options) may be in both (persist.h). */
static const struct route {
    uint32_t first, last;
    replay_fn fn;
    int per_user;
} routes[] = {
    { BVT_OP_EVENT, BVT_OP_EXPIRE, bvt_change_replay, 1 },
    { BVT_OP_EXPERIMENT_ASSIGN, BVT_OP_EXPERIMENT_ASSIGN, bvt_experiments_replay, 1 },
    { BVT_OP_EVICT, BVT_OP_EVICT, bvt_change_replay, 1 },
    { BVT_OP_OPTIONS, BVT_OP_OPTIONS, options_replay, 0 },
    { BVT_OP_REJECTED, BVT_OP_REJECTED, bvt_change_replay, 1 },
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

/* What bvt_engine_open() reports for a replay that ended with rc (state.c:
 * a refusal the original could not have had is a record no such engine
 * writes), or for one that left more users than max_users. */
static int open_status(int rc, int over_limit)
{
    if (rc == BVT_OK)
        return over_limit ? BVT_EFULL : BVT_OK;
    return rc == BVT_ENOMEM ? rc : BVT_ECORRUPT;
}

/* Replay runs with no limits (state.c's rebuild()); the user limit must
 * hold again after. */
typedef struct limits {
    uint64_t max_users, budget;
    uint32_t alias_max;
} limits;

static limits lift(bvt_engine *e)
{
    limits l = { e->store.max_users, e->store.memory_budget, e->aliases.max };
    bvt_store_set_limits(&e->store, 0, 0);
    e->aliases.max = UINT32_MAX;
    return l;
}

static int restore(bvt_engine *e, limits l)
{
    bvt_store_set_limits(&e->store, l.max_users, l.budget);
    e->aliases.max = l.alias_max;
    return l.max_users && atomic_load(&e->store.users) > l.max_users;
}

/* ---- the records of an input (empty ones dropped: a journal has none) ---- */

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

/* Where a journal after a checkpoint at `cut` starts: the record at the cut
 * again when it is a definition. */
static size_t resume_at(const records *rs, size_t cut)
{
    return cut > 0 && !per_user(rs->p[cut - 1][0]) ? cut - 1 : cut;
}

/* ---- scratch files ---- */

static char base[256], state_dir[300], state_snap[400];
static char snap_a[300], snap_b[300], snap_c[300], snap_cut[300];

static void clear_state_dir(void)
{
    DIR *d = opendir(state_dir);
    if (!d)
        abort();
    for (struct dirent *de; (de = readdir(d));) {
        char p[600];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", state_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void remove_snapshots(void)
{
    unlink(snap_a);
    unlink(snap_b);
    unlink(snap_c);
    unlink(snap_cut);
}

static void remove_scratch(void)
{
    clear_state_dir();
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
    snprintf(state_snap, sizeof state_snap, "%s/snapshot.bvts", state_dir);
    snprintf(snap_a, sizeof snap_a, "%s/a.bvts", base);
    snprintf(snap_b, sizeof snap_b, "%s/b.bvts", base);
    snprintf(snap_c, sizeof snap_c, "%s/c.bvts", base);
    snprintf(snap_cut, sizeof snap_cut, "%s/cut.bvts", base);
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

/* The raw blocks of a snapshot file, in order (checked with `check`). */
typedef struct blocks {
    uint32_t n, section[16];
    unsigned char *raw[16];
    size_t len[16];
} blocks;

static blocks read_blocks(const char *path, uint64_t check)
{
    blocks b;
    memset(&b, 0, sizeof b);
    size_t n;
    unsigned char *file = read_all(path, &n);
    bvt_snapr r;
    if (bvt_snapr_open(&r, file, n, check, NULL) != BVT_OK)
        abort();
    uint32_t sec = 0;
    const void *raw;
    size_t len;
    uint64_t at;
    while (sec != BVT_SEC_END && b.n < 16 &&
           bvt_snapr_next(&r, &sec, &raw, &len, &at, NULL) == BVT_OK) {
        b.section[b.n] = sec;
        b.raw[b.n] = malloc(len ? len : 1);
        if (!b.raw[b.n])
            abort();
        memcpy(b.raw[b.n], raw, len);
        b.len[b.n++] = len;
    }
    bvt_snapr_close(&r);
    free(file);
    return b;
}

/* The same state saved twice: the same file, or with names = 0 the same
 * blocks but NAMES.  (A snapshot keeps the names a definition ever pinned
 * in this process, and pins are not saved: after a reload or a
 * checkpoint, a name only a replaced definition used becomes a tombstone.
 * Ids stay, so every other block is the same.) */
static void same_snapshot(const char *a, const char *b, uint64_t check, int names,
                          const char *what)
{
    blocks x = read_blocks(a, check), y = read_blocks(b, check);
    int same = x.n == y.n;
    for (uint32_t i = 0; same && i < x.n; i++)
        same = x.section[i] == y.section[i] &&
               ((!names && x.section[i] == BVT_SEC_NAMES) ||
                (x.len[i] == y.len[i] && memcmp(x.raw[i], y.raw[i], x.len[i]) == 0));
    if (!same) {
        fprintf(stderr, "%s: the snapshot differs from the one replay gave\n", what);
        abort();
    }
    for (uint32_t i = 0; i < x.n; i++)
        free(x.raw[i]);
    for (uint32_t i = 0; i < y.n; i++)
        free(y.raw[i]);
}

static void save(bvt_engine *e, const char *path)
{
    bvt_error err = BVT_ERROR_INIT;
    if (bvt_engine_save(e, path, &err) != BVT_OK) {
        fprintf(stderr, "save: %s\n", err.message);
        abort();
    }
}

/* A snapshot whose journal boundary is record `seq`, as a checkpoint
 * writes it. */
static int boundary(bvt_engine *e, void *ud, uint64_t *out_seq, bvt_error *err)
{
    (void)e;
    (void)err;
    *out_seq = *(const uint64_t *)ud;
    return BVT_OK;
}

static void save_at(bvt_engine *e, const char *path, uint64_t seq)
{
    if (bvt_snapshot_write(e, path, boundary, &seq, NULL) != BVT_OK)
        abort();
}

/* Records [from, count) as the journal file of state_dir whose first
 * sequence number is first_seq. */
static void write_journal(const records *rs, size_t from, uint64_t first_seq, uint64_t check)
{
    char path[600];
    snprintf(path, sizeof path, "%s/journal-%020llu.bvtj", state_dir,
             (unsigned long long)first_seq);
    bvt_journal *j;
    if (bvt_journal_create(&j, path, first_seq, check, BVT_JOURNAL_NONE, 0, NULL) != BVT_OK)
        abort();
    for (size_t i = from; i < rs->count; i++)
        if (bvt_journal_append(j, rs->p[i], rs->n[i], NULL) != BVT_OK)
            abort();
    if (bvt_journal_close(j) != BVT_OK)
        abort();
}

static int open_state(const bvt_options *o, bvt_engine **out, bvt_error *err)
{
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = state_dir;
    so.journal = BVT_JOURNAL_OFF;
    return bvt_engine_open(out, o, &so, err);
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

static void same_stats(bvt_engine *a, bvt_engine *b)
{
    bvt_stats sa = stats_of(a), sb = stats_of(b);
    if (sa.users != sb.users || sa.events_accepted != sb.events_accepted ||
        sa.events_rejected != sb.events_rejected || sa.categories != sb.categories ||
        sa.bytes_history != sb.bytes_history || sa.bytes_cart != sb.bytes_cart ||
        sa.bytes_attributes != sb.bytes_attributes)
        abort();
}

/* What replay built must save, load back as the same, and save the same:
 * opened as a state directory and with bvt_engine_load(); a reload of the
 * reloaded state is then byte for byte the same (names included). */
static void round_trip(bvt_engine *a, const bvt_options *o, uint64_t check)
{
    save(a, snap_a);
    clear_state_dir();
    save(a, state_snap);
    bvt_engine *b = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = open_state(o, &b, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "replayed state does not open: %s (%s)\n", err.message,
                bvt_strerror(rc));
        abort();
    }
    same_stats(a, b);
    save(b, snap_b);
    same_snapshot(snap_a, snap_b, check, 0, "opened as a state directory");
    bvt_engine_free(b);

    rc = bvt_engine_load(&b, o, snap_a, &err);
    if (rc != BVT_OK && rc != BVT_EFULL) {
        fprintf(stderr, "replayed state does not load: %s (%s)\n", err.message,
                bvt_strerror(rc));
        abort();
    }
    if (rc == BVT_OK) {
        same_stats(a, b);
        save(b, snap_c);
        same_snapshot(snap_b, snap_c, check, 1, "bvt_engine_load()");
        bvt_engine_free(b);
    }

    if (bvt_engine_load(&b, o, snap_b, &err) == BVT_OK) { /* reloaded: a fixed point */
        save(b, snap_c);
        same_snapshot(snap_b, snap_c, check, 1, "a second reload");
        bvt_engine_free(b);
    }
}

/* Names the snapshot just loaded into e erased (tombstones). */
static int has_tombstones(const bvt_engine *e)
{
    for (uint32_t id = 1; id <= bvt_categories_count(e->cats); id++)
        if (!bvt_categories_valid(e->cats, id))
            return 1;
    for (uint32_t id = 1; id <= bvt_interner_count(e->strings); id++)
        if (!bvt_interner_str(e->strings, id))
            return 1;
    return 0;
}

/* A checkpoint at record `cut`: its snapshot loaded and the journal after
 * it replayed, as rebuild() does, must end where replaying everything did.
 * Unless the snapshot erased a name: the library then journals the name
 * again before the next record that uses it, which records captured
 * without a checkpoint lack, so the comparison is skipped (returns 0). */
static int checkpoint_check(const records *rs, size_t cut, const bvt_options *o,
                            uint64_t check)
{
    bvt_engine *c = fresh(o);
    limits l = lift(c);
    const void *data;
    size_t len;
    uint64_t seq;
    if (bvt_file_map(snap_cut, &data, &len, NULL) != BVT_OK)
        abort();
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_snapshot_read(c, data, len, &seq, &err);
    bvt_file_unmap(data, len);
    if (rc != BVT_OK || seq != cut) {
        fprintf(stderr, "snapshot at record %zu does not load: %s\n", cut, err.message);
        abort();
    }
    if (has_tombstones(c)) {
        restore(c, l);
        bvt_engine_free(c);
        return 0;
    }
    uint32_t op = 0;
    for (size_t i = resume_at(rs, cut); i < rs->count && rc == BVT_OK; i++)
        rc = replay_one(c, rs->p[i], rs->n[i], &op);
    if (rc != BVT_OK || restore(c, l)) {
        fprintf(stderr, "after a checkpoint at record %zu, op %u: %s\n", cut, op,
                bvt_strerror(rc));
        abort();
    }
    save(c, snap_b);
    same_snapshot(snap_a, snap_b, check, 0, "after a checkpoint");
    bvt_engine_free(c);
    return 1;
}

/* The same two replays from journal files through bvt_engine_open(). */
static void open_checks(const records *rs, size_t cut, const bvt_options *o, uint64_t check,
                        int want, int checkpoint)
{
    clear_state_dir();
    if (rs->count > 0)
        write_journal(rs, 0, 1, check);
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = open_state(o, &e, &err);
    if (rc != want) {
        fprintf(stderr, "bvt_engine_open: %s (%s), replay here: %s\n", err.message,
                bvt_strerror(rc), bvt_strerror(want));
        abort();
    }
    if (rc != BVT_OK)
        return;
    save(e, snap_b);
    same_snapshot(snap_a, snap_b, check, 1, "bvt_engine_open() of the journal");
    bvt_engine_free(e);
    if (!checkpoint)
        return;

    clear_state_dir();
    size_t len;
    unsigned char *snap = read_all(snap_cut, &len);
    FILE *f = fopen(state_snap, "wb");
    if (!f || fwrite(snap, 1, len, f) != len || fclose(f) != 0)
        abort();
    free(snap);
    size_t from = resume_at(rs, cut);
    if (from < rs->count)
        write_journal(rs, from, cut + 1, check);
    rc = open_state(o, &e, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt_engine_open after a checkpoint at record %zu: %s (%s)\n", cut,
                err.message, bvt_strerror(rc));
        abort();
    }
    save(e, snap_b);
    same_snapshot(snap_a, snap_b, check, 0, "bvt_engine_open() after a checkpoint");
    bvt_engine_free(e);
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
    limits l = lift(a);
    int rc = BVT_OK;
    uint32_t op = 0;
    for (; rc == BVT_OK && done < rs.count; done++) {
        if (done == cut)
            save_at(a, snap_cut, cut);
        rc = replay_one(a, rs.p[done], rs.n[done], &op);
        if (verbose > 1)
            fprintf(stderr, "record %zu: op %u, %zu bytes: %s\n", done + 1, op, rs.n[done],
                    bvt_strerror(rc));
    }
    if (rs.count == 0) /* cut == count */
        save_at(a, snap_cut, 0);
    int over = restore(a, l);
    if (verbose) /* to check that the seeds replay whole */
        fprintf(stderr, "%zu records, %s%s\n", done, bvt_strerror(rc),
                over ? ", more users than max_users" : "");
    if (rc != BVT_OK && rc != BVT_ECORRUPT && rc != BVT_ENOMEM && rc != BVT_EFULL &&
        !known_gap(op, rc)) {
        fprintf(stderr, "replay of op %u returned %d (%s)\n", op, rc, bvt_strerror(rc));
        abort();
    }
    uint64_t check = bvt_secret_check(a);
    int checkpoint = 0;
    if (rc == BVT_OK && !over) {
        round_trip(a, &o, check);
        checkpoint = checkpoint_check(&rs, cut, &o, check);
        if (verbose && !checkpoint)
            fprintf(stderr, "the snapshot at record %zu erased a name: no checkpoint check\n",
                    cut);
    }
    if (inputs++ % JR_OPEN_EVERY == 0)
        open_checks(&rs, cut, &o, check, open_status(rc, over), checkpoint);
    bvt_engine_free(a);
    free(rs.p);
    free(rs.n);
    remove_snapshots(); /* a crash skips atexit: leave little behind */
    return 0;
}
