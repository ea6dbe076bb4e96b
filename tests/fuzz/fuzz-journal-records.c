/* fuzz-journal-records.c — libFuzzer entry point for journal replay: what
 * each record kind does to a fresh engine (change_log.c, registry_persist.c,
 * offer_persist.c, experiment_persist.c), and whether the state it builds
 * survives a snapshot.  (fuzz-journal covers the file container.)
 *
 * Input: journal-records.h (two bytes of options, then records).  The records
 * are replayed in order into a fresh engine the way state.c replays a
 * journal at open (rebuild()): with the user limit, the memory budget and
 * the alias map's cap lifted (their outcomes are records: BVT_OP_EVICT,
 * BVT_OP_BUDGETED), each through bvt__replay_op() (the router state.c
 * uses), "already there" and "already gone" taken as success,
 * the first refusal ends the replay.  Checks:
 *  - replay returns only what persist.h allows (BVT_OK, BVT_ECORRUPT,
 *    BVT_ENOMEM, BVT_EFULL; known_gap() below);
 *  - when every record was accepted and the engine holds no more users
 *    than max_users: it saves, the snapshot loads (as opening loads a
 *    directory's: limits lifted), the loaded engine has the same
 *    statistics and saves to a byte-identical file;
 *  - then a checkpoint after the middle record (its snapshot loaded, then
 *    the records after it, each after the category records the engine
 *    that took the snapshot journals while applying it) ends in that same
 *    file;
 *  - when it holds more users than max_users, a plain bvt_engine_load()
 *    of its snapshot refuses it with BVT_EFULL, as opening does;
 *  - the same records written as a real journal file and opened with
 *    bvt_engine_open() end the same way (same status, BVT_EFULL for too
 *    many users, and the snapshot of a replay that took none in the
 *    middle), so a replay without a file cannot drift from an open:
 *    every input in the fuzz-replay suite, every JR_OPEN_EVERY-th while
 *    fuzzing (a journal file costs a few milliseconds).
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
#include "state_options.h"

#include "journal-records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef JR_OPEN_EVERY
#define JR_OPEN_EVERY 1
#endif

/* ---- routing: state.c's dispatch, one line per range of op codes ---- */

/* Per-user records (ops below 20) are on one side of a checkpoint, in the
 * snapshot or in the new journal; names and definitions are replayed twice
 * when at the cut, which their replay must take (persist.h: idempotent). */
static int per_user(uint32_t op)
{
    return op < BVT_OP_CATEGORY;
}

static int replay_one(bvt_engine *e, const uint8_t *rec, size_t n, uint32_t *out_op)
{
    /* An exact-size copy, so reading one byte past the record is caught. */
    uint8_t *copy = malloc(n);
    if (!copy)
        abort();
    memcpy(copy, rec, n);
    bvt_rbuf r;
    bvt__rbuf_init(&r, copy, n);
    uint32_t op = *out_op = bvt__r_u8(&r);
    int rc = bvt__replay_op(e, op, &r);
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
    return ((op >= BVT_OP_EVENT && op <= BVT_OP_EXPIRE) || op == BVT_OP_BUDGETED) &&
           (rc == BVT_ELIMIT || rc == BVT_EINVAL);
}

/* ---- limits: lifted while replaying, as state.c's rebuild() does ---- */

typedef struct limits {
    uint64_t max_users, budget;
    uint32_t alias_max;
} limits;

static limits lift(bvt_engine *e)
{
    limits l = { e->store.max_users, e->store.memory_budget, e->aliases.max };
    bvt__store_set_limits(&e->store, 0, 0);
    e->aliases.max = UINT32_MAX;
    return l;
}

static void restore(bvt_engine *e, limits l)
{
    bvt__store_set_limits(&e->store, l.max_users, l.budget);
    e->aliases.max = l.alias_max;
}

/* ---- what the engine journals while replaying after the cut ----
 *
 * A snapshot erases the categories nothing keeps, and the engine that took
 * it journals a category's record again before the next record naming it
 * (category.h), so a checkpoint changes the journal after it: the records
 * of the input, each preceded by the CATEGORY records the engine wrote
 * while applying it, are what an engine that checkpointed there journals. */

typedef struct captured {
    uint8_t *p;
    size_t len, cap;
} captured;

static int capture(void *ud, const void *rec, size_t n)
{
    captured *c = ud;
    if (n == 0 || ((const uint8_t *)rec)[0] != BVT_OP_CATEGORY)
        return BVT_OK;
    if (c->len + 4 + n > c->cap) {
        c->cap = (c->len + 4 + n) * 2;
        if (!(c->p = realloc(c->p, c->cap)))
            abort();
    }
    uint32_t len = (uint32_t)n;
    memcpy(c->p + c->len, &len, 4);
    memcpy(c->p + c->len + 4, rec, n);
    c->len += 4 + n;
    return BVT_OK;
}

/* ---- scratch files ---- */

static char base[256], state_dir[300], journal_path[400], options_path[400];
static char snap_a[300], snap_b[300], snap_c[300], snap_cut[300], snap_d[300], snap_w[300];

static void remove_snapshots(void)
{
    unlink(snap_a);
    unlink(snap_b);
    unlink(snap_c);
    unlink(snap_cut);
    unlink(snap_d);
    unlink(snap_w);
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
    snprintf(snap_w, sizeof snap_w, "%s/w.bvts", base);
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

/* Load a snapshot as opening a state directory does: limits lifted (the
 * caller restores them). */
static int load_lifted(bvt_engine **out, const bvt_options *o, const char *path, limits *lim,
                       bvt_error *err)
{
    bvt_engine *e = fresh(o);
    *lim = lift(e);
    size_t len;
    unsigned char *data = read_all(path, &len);
    uint64_t seq;
    int rc = bvt__snapshot_read(e, data, len, &seq, err);
    free(data);
    if (rc != BVT_OK) {
        bvt_engine_free(e);
        e = NULL;
    }
    *out = e;
    return rc;
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
    limits lim;
    int rc = load_lifted(&b, o, snap_a, &lim, &err);
    if (rc != BVT_OK) {
        fprintf(stderr, "replayed state does not load: %s (%s)\n", err.message,
                bvt_strerror(rc));
        abort();
    }
    restore(b, lim);
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

/* More users than max_users: a plain load of what replay built refuses
 * it, as opening the directory does. */
static void too_many_users(bvt_engine *a, const bvt_options *o)
{
    if (bvt_engine_save(a, snap_a, NULL) != BVT_OK)
        abort();
    bvt_engine *b = NULL;
    int rc = bvt_engine_load(&b, o, snap_a, NULL);
    if (rc != BVT_EFULL) {
        fprintf(stderr, "%llu users, max_users %llu: bvt_engine_load says %s\n",
                (unsigned long long)atomic_load(&a->store.users),
                (unsigned long long)o->max_users, bvt_strerror(rc));
        abort();
    }
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

static void replay_after_cut(bvt_engine *b, const uint8_t *rec, size_t n, size_t cut, size_t i,
                             const char *what)
{
    uint32_t op;
    int rc = replay_one(b, rec, n, &op);
    if (rc != BVT_OK) {
        fprintf(stderr, "after a checkpoint at record %zu, %s %zu (op %u): %s\n", cut, what,
                i + 1, op, bvt_strerror(rc));
        abort();
    }
}

/* A checkpoint after record `cut`: the snapshot taken there, loaded, then
 * the journal from there on (the record at the cut again when it is a
 * definition; each record after the category records engine a journaled
 * while applying it, cap[at[i]..at[i + 1]) for record i) must give what
 * replaying everything gave. */
static void checkpoint_check(const records *rs, size_t cut, const bvt_options *o,
                             const captured *cap, const size_t *at)
{
    bvt_engine *b = NULL;
    bvt_error err = BVT_ERROR_INIT;
    limits lim;
    if (load_lifted(&b, o, snap_cut, &lim, &err) != BVT_OK) {
        fprintf(stderr, "snapshot at record %zu does not load: %s\n", cut, err.message);
        abort();
    }
    size_t from = cut;
    if (cut > 0 && per_user(rs->p[cut - 1][0]) == 0)
        from = cut - 1;
    for (size_t i = from; i < rs->count; i++) {
        for (size_t k = i >= cut ? at[i] : 0; i >= cut && k < at[i + 1];) {
            uint32_t len;
            memcpy(&len, cap->p + k, 4);
            replay_after_cut(b, cap->p + k + 4, len, cut, i, "a category record before record");
            k += 4 + len;
        }
        replay_after_cut(b, rs->p[i], rs->n[i], cut, i, "record");
    }
    restore(b, lim);
    if (bvt_engine_save(b, snap_d, NULL) != BVT_OK)
        abort();
    same_file(snap_a, snap_d);
    bvt_engine_free(b);
}

/* The records replayed into a fresh engine as opening does (limits lifted,
 * restored at the end), until the first refusal.  With cut <= count the
 * engine saves snap_cut before record `cut`, as a checkpoint there would,
 * and from then on the category records it journals go to cap (record
 * i's: at[i]..at[i + 1]). */
typedef struct run {
    bvt_engine *e;
    int rc;      /* the first refusal, or BVT_OK */
    uint32_t op; /* of the last record replayed */
    size_t done; /* records replayed */
    int over;    /* BVT_OK with more users than max_users */
} run;

static run replay_all(const bvt_options *o, const records *rs, size_t cut, captured *cap,
                      size_t *at, int verbose)
{
    run u = { fresh(o), BVT_OK, 0, 0, 0 };
    limits lim = lift(u.e);
    for (; u.rc == BVT_OK && u.done < rs->count; u.done++) {
        size_t i = u.done;
        if (i == cut) {
            if (bvt_engine_save(u.e, snap_cut, NULL) != BVT_OK)
                abort();
            /* what it journals from here on */
            bvt__change_sink_set(u.e, &(bvt_change_sink){ .append = capture, .ud = cap });
        }
        if (at)
            at[i] = cap->len;
        u.rc = replay_one(u.e, rs->p[i], rs->n[i], &u.op);
        if (at)
            at[i + 1] = cap->len;
        if (verbose > 1)
            fprintf(stderr, "record %zu: op %u, %zu bytes: %s\n", i + 1, u.op, rs->n[i],
                    bvt_strerror(u.rc));
    }
    if (cut == rs->count && cut == 0 && bvt_engine_save(u.e, snap_cut, NULL) != BVT_OK)
        abort();
    bvt__change_sink_set(u.e, NULL);
    restore(u.e, lim);
    /* Opening checks the user count after replay (state.c's rebuild()). */
    u.over = u.rc == BVT_OK && o->max_users && atomic_load(&u.e->store.users) > o->max_users;
    return u;
}

/* The records as a journal file, opened as the engine opens a state
 * directory: it must end as the in-memory replay w did (no snapshot in
 * the middle, like opening): the same status (BVT_EFULL when it holds more
 * users than max_users) and the same snapshot. */
static void open_check(const uint8_t *data, size_t size, const bvt_options *o, const run *w)
{
    unlink(journal_path);
    unlink(options_path); /* each input's options are its own */
    bvt_journal *j;
    if (bvt__journal_create(&j, journal_path, 1, bvt__secret_check(w->e), BVT_JOURNAL_NONE, 0,
                           NULL) != BVT_OK)
        abort();
    const uint8_t *p = data + JR_HEADER, *rec;
    size_t n;
    while (jr_next(&p, data + size, &rec, &n))
        if (n > 0 && bvt__journal_append(j, rec, n, NULL) != BVT_OK)
            abort();
    if (bvt__journal_close(j) != BVT_OK)
        abort();
    bvt_state_options so = BVT_STATE_OPTIONS_INIT;
    so.dir = state_dir;
    so.journal = BVT_JOURNAL_OFF;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, o, &so, &err), want = w->rc;
    if (want != BVT_OK && want != BVT_ENOMEM)
        want = BVT_ECORRUPT; /* a refusal here is a record no such engine writes */
    else if (want == BVT_OK && w->over)
        want = BVT_EFULL;
    if (rc != want) {
        fprintf(stderr, "bvt_engine_open: %s (%s), replay here: %s\n", err.message,
                bvt_strerror(rc), bvt_strerror(want));
        abort();
    }
    if (rc == BVT_OK) {
        if (bvt_engine_save(e, snap_c, NULL) != BVT_OK ||
            bvt_engine_save(w->e, snap_w, NULL) != BVT_OK)
            abort();
        same_file(snap_w, snap_c);
    }
    bvt_engine_free(e);
    unlink(journal_path);
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
    size_t cut = rs.count / 2;
    captured cap = { NULL, 0, 0 };
    size_t *at = calloc(rs.count + 1, sizeof *at);
    if (!at)
        abort();
    run a = replay_all(&o, &rs, cut, &cap, at, verbose);
    if (verbose) /* to check that the seeds replay whole */
        fprintf(stderr, "%zu records, %s%s\n", a.done, bvt_strerror(a.rc),
                a.over ? ", more users than max_users" : "");
    if (a.rc != BVT_OK && a.rc != BVT_ECORRUPT && a.rc != BVT_ENOMEM && a.rc != BVT_EFULL &&
        !known_gap(a.op, a.rc)) {
        fprintf(stderr, "replay of op %u returned %d (%s)\n", a.op, a.rc, bvt_strerror(a.rc));
        abort();
    }
    if (a.over) {
        too_many_users(a.e, &o);
    } else if (a.rc == BVT_OK) {
        round_trip(a.e, &o);
        checkpoint_check(&rs, cut, &o, &cap, at);
    }
    if (inputs++ % JR_OPEN_EVERY == 0) {
        /* Opening replays without a snapshot in the middle: compare it with
         * a replay that took none either (a snapshot forgets the attribute
         * strings nothing uses, so one used again later gets a new id). */
        run w = replay_all(&o, &rs, SIZE_MAX, NULL, NULL, 0);
        if (w.rc != a.rc || w.done != a.done || w.over != a.over)
            abort(); /* a snapshot in the middle changed what replay accepts */
        open_check(data, size, &o, &w);
        bvt_engine_free(w.e);
    }
    bvt_engine_free(a.e);
    free(cap.p);
    free(at);
    free(rs.p);
    free(rs.n);
    remove_snapshots(); /* a crash skips atexit: leave little behind */
    return 0;
}
