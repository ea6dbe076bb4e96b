/* state.c — an engine's state directory: opening (snapshot, then journal
 * replay), checkpoints, sync, the public save/load calls, and the journal
 * journal as the engine's change sink (change_sink.h).
 *
 * The directory holds `snapshot.bvts`, the journal files written since
 * (`journal-<first sequence, 20 digits>.bvtj`, replayed in name order) and
 * a `lock` file held with flock() while an engine has it open.  A
 * checkpoint switches to a new journal file while every shard lock is held
 * (the snapshot's cut), writes the snapshot, then deletes the older files:
 * a crash at any step leaves a snapshot and journal files that together
 * hold every durable change exactly once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change_log.h"
#include "change_replay.h"
#include "engine.h"
#include "error.h"
#include "journal.h"
#include "persist.h"
#include "fileio.h"
#include "snapfile.h"
#include "snapshot.h"
#include "state_options.h"

#define SNAPSHOT_NAME "snapshot.bvts"
#define JOURNAL_FMT "journal-%020" PRIu64 ".bvtj"
#define DEFAULT_GROUP_MS 5u

struct bvt_state {
    char *dir;
    int lock_fd;
    uint32_t mode, group_ms, access;
    uint64_t check;
    bvt_state_info info;      /* what opening found; seqs filled on demand */
    uint64_t journal_first;   /* its first sequence number */
    pthread_mutex_t lock;     /* checkpoints, one at a time */
};

/* ---- the journal as the engine's change sink (change_sink.h) ---- */

static int journal_append(void *ud, const void *rec, size_t n)
{
    bvt_engine *e = ud;
    return bvt__journal_append(e->journal, rec, n, NULL);
}

static int journal_commit(void *ud)
{
    bvt_engine *e = ud;
    if (!e->journal || e->state->mode != BVT_JOURNAL_ALWAYS)
        return BVT_OK;
    return bvt__journal_sync(e->journal);
}

static int journal_failed(void *ud)
{
    bvt_engine *e = ud;
    return e->journal && bvt__journal_failed(e->journal);
}

static void state_free(struct bvt_state *st);

/* Engine teardown: the journal flushed and fsynced, the directory let go. */
static void state_close(void *ud)
{
    bvt_engine *e = ud;
    if (e->journal) {
        bvt__journal_close(e->journal);
        e->journal = NULL;
    }
    state_free(e->state);
    e->state = NULL;
}

/* The sink of an engine with a state directory: records go to the journal
 * once one is attached (replay runs without). */
static void attach_sink(bvt_engine *e)
{
    bvt_change_sink sink = { journal_append, journal_commit, journal_failed, state_close, e };
    if (!e->journal)
        sink.append = NULL;
    bvt__change_sink_set(e, &sink);
}

/* ---- paths ---- */

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static char *journal_name(const char *dir, uint64_t first_seq)
{
    char name[64];
    snprintf(name, sizeof name, JOURNAL_FMT, first_seq);
    return join(dir, name);
}

static char *name_in_dir(void *dir, uint64_t first_seq)
{
    return journal_name(dir, first_seq);
}

/* First sequence numbers of the journal files in dir, ascending. */
static int list_journals(const char *dir, uint64_t **out, size_t *out_n, bvt_error *err)
{
    *out = NULL;
    *out_n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return bvt__fail(err, BVT_EIO, -1, "cannot read directory %s: %s", dir, strerror(errno));
    size_t n = 0, cap = 0;
    uint64_t *v = NULL;
    int rc = BVT_OK;
    for (struct dirent *de; (de = readdir(d));) {
        uint64_t seq;
        char tail[8];
        if (sscanf(de->d_name, "journal-%20" SCNu64 ".bvt%7s", &seq, tail) != 2 ||
            strcmp(tail, "j") != 0 || strlen(de->d_name) != 33)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            uint64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
                break;
            }
            v = nv;
        }
        size_t i = n++;
        for (; i > 0 && v[i - 1] > seq; i--) /* insertion: a handful of files */
            v[i] = v[i - 1];
        v[i] = seq;
    }
    closedir(d);
    if (rc != BVT_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return BVT_OK;
}

/* ---- replay ---- */

typedef struct replay {
    bvt_engine *e;
    uint64_t next;      /* the sequence number expected next */
    uint64_t replayed;
    int rc;             /* why the callback stopped */
    char why[160];
} replay;

/* A change the memory budget shaped: its shard answers the change's growth
 * as the budget did when it was made (mem.h). */
static int dispatch_budgeted(bvt_engine *e, bvt_rbuf *r)
{
    int64_t room;
    bvt_mem *m = bvt__change_budget(e, r, &room);
    uint32_t op = bvt__r_u8(r);
    if (!m || r->bad || !(op == BVT_OP_EVENT || (op >= BVT_OP_ATTR_SET && op <= BVT_OP_ALIAS) ||
                          op == BVT_OP_EXPERIMENT_ASSIGN))
        return bvt__r_fail(r, "bad budget record"), BVT_ECORRUPT;
    bvt__mem_script(m, room);
    int rc = bvt__replay_op(e, op, r);
    bvt__mem_unscript(m);
    return rc;
}

int bvt__replay_op(bvt_engine *e, uint32_t op, bvt_rbuf *r)
{
    if (op == BVT_OP_BUDGETED)
        return dispatch_budgeted(e, r);
    if ((op >= BVT_OP_EVENT && op <= BVT_OP_EXPIRE) || op == BVT_OP_EVICT ||
        op == BVT_OP_REJECTED)
        return bvt__change_replay(e, op, r);
    if (op == BVT_OP_OPTIONS)
        return bvt__options_replay(e, r);
    if (op == BVT_OP_EXPERIMENT_ASSIGN || op == BVT_OP_EXPERIMENT_DEFINE)
        return bvt__experiments_replay(e, op, r);
    if (op >= BVT_OP_CATEGORY && op <= BVT_OP_CLUSTERS)
        return bvt__registry_replay(e, op, r);
    if (op >= BVT_OP_OFFER_DEFINE && op <= BVT_OP_POLICY)
        return bvt__offers_replay(e, op, r);
    return bvt__r_fail(r, "unknown record type"), BVT_ECORRUPT;
}

static int replay_record(void *ud, uint64_t seq, const void *rec, size_t n)
{
    replay *rp = ud;
    if (seq < rp->next)
        return 0; /* the snapshot holds it */
    if (seq > rp->next) {
        snprintf(rp->why, sizeof rp->why, "journal records %" PRIu64 "..%" PRIu64 " are missing",
                 rp->next, seq - 1);
        return rp->rc = BVT_ECORRUPT;
    }
    bvt_rbuf r;
    bvt__rbuf_init(&r, rec, n);
    uint32_t op = bvt__r_u8(&r);
    int rc = bvt__replay_op(rp->e, op, &r);
    /* What the original call refused was never journaled; a definition
     * already in the snapshot may be replayed again (persist.h). */
    if (rc == BVT_EEXIST || rc == BVT_ENOTFOUND)
        rc = BVT_OK;
    /* Any other refusal: no engine with these (recorded) options wrote it. */
    if (rc != BVT_OK && rc != BVT_ECORRUPT && rc != BVT_ENOMEM) {
        snprintf(rp->why, sizeof rp->why, "record %" PRIu64 " (type %u) is refused here (%s): "
                 "no engine with these options writes it", seq, op, bvt_strerror(rc));
        return rp->rc = BVT_ECORRUPT;
    }
    if (rc != BVT_OK) {
        snprintf(rp->why, sizeof rp->why, "record %" PRIu64 " (type %u): %s", seq, op,
                 rc == BVT_ECORRUPT && r.why ? r.why : bvt_strerror(rc));
        return rp->rc = rc;
    }
    rp->next++;
    rp->replayed++;
    return 0;
}

/* The last sequence number path holds (0 when none can be read). */
static uint64_t last_seq_in(const char *path, uint64_t check)
{
    bvt_journal_scan scan;
    bvt__journal_scan_file(path, check, NULL, NULL, &scan, NULL);
    uint64_t last = scan.next_seq > scan.first_seq ? scan.next_seq - 1 : 0;
    return scan.lost_last_seq > last ? scan.lost_last_seq : last;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* BVT_STATE_REPAIR: drop everything from `offset` of file i on — that file
 * cut there, the newer ones deleted — and report it in st->info. */
static int drop_from(struct bvt_state *st, const uint64_t *seqs, size_t n, size_t i,
                     const char *path, const bvt_journal_scan *scan, uint64_t next,
                     bvt_error *err)
{
    bvt_state_info *info = &st->info;
    info->dropped_first_seq = next;
    info->dropped_last_seq = scan->lost_last_seq;
    info->dropped_bytes = scan->torn_bytes;
    for (size_t k = i + 1; k < n; k++) {
        char *newer = journal_name(st->dir, seqs[k]);
        if (!newer)
            return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
        uint64_t last = last_seq_in(newer, st->check);
        if (last > info->dropped_last_seq)
            info->dropped_last_seq = last;
        info->dropped_bytes += file_size(newer);
        int gone = unlink(newer) == 0;
        int rc = gone ? BVT_OK : bvt__fail(err, BVT_EIO, -1, "cannot remove %s: %s", newer,
                                         strerror(errno));
        free(newer);
        if (rc != BVT_OK)
            return rc;
        info->dropped_files++;
    }
    int rc = bvt__journal_truncate(path, scan->valid_bytes, err);
    return rc == BVT_OK ? bvt__fsync_parent(path, err) : rc;
}

/* What to do with file i's unreadable tail (scan says where it starts):
 * a torn tail of the newest file is cut (skipped by a read-only open);
 * damage, or a tear with newer files after it, is refused — or dropped
 * on purpose by a repair. */
static int handle_tail(struct bvt_state *st, const uint64_t *seqs, size_t n, size_t i,
                       const char *path, const bvt_journal_scan *scan, uint64_t next,
                       bvt_error *err)
{
    int newest = i + 1 == n;
    if (!scan->damaged && newest) {
        st->info.torn_offset = scan->torn_offset;
        st->info.torn_bytes = scan->torn_bytes;
        return st->access == BVT_STATE_READ_ONLY ? BVT_OK
                                                 : bvt__journal_truncate(path, scan->valid_bytes, err);
    }
    if (st->access == BVT_STATE_REPAIR)
        return drop_from(st, seqs, n, i, path, scan, next, err);
    if (scan->damaged)
        return BVT_ECORRUPT; /* the scan's message says where */
    return bvt__fail(err, BVT_ECORRUPT, scan->torn_offset, "%s is damaged at byte %" PRId64
                    " and newer journal files follow it; open with BVT_STATE_REPAIR (bvt "
                    "repair) to drop it on purpose", path, scan->torn_offset);
}

static void suggest_repair(bvt_error *err)
{
    char msg[sizeof err->message];
    memcpy(msg, err->message, sizeof msg);
    bvt__fail(err, err->code, err->offset, "%.150s; open with BVT_STATE_REPAIR (bvt repair) to "
             "drop it on purpose", msg);
}

/* Replay every journal file after the snapshot, dealing with an
 * unreadable tail as handle_tail says.  *next ends one past the last
 * record. */
static int replay_journals(bvt_engine *e, struct bvt_state *st, uint64_t *next, bvt_error *err)
{
    uint64_t *seqs;
    size_t n;
    int rc = list_journals(st->dir, &seqs, &n, err);
    replay rp = { e, *next, 0, 0, { 0 } };
    for (size_t i = 0; rc == BVT_OK && i < n; i++) {
        char *path = journal_name(st->dir, seqs[i]);
        if (!path) {
            rc = bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
            break;
        }
        bvt_journal_scan scan;
        if (i + 1 == n && file_size(path) < 64) {
            /* a crash while the newest file's header was written: no records */
            st->info.torn_offset = 0;
            st->info.torn_bytes = file_size(path);
            if (st->access != BVT_STATE_READ_ONLY && unlink(path) != 0)
                rc = bvt__fail(err, BVT_EIO, -1, "cannot remove %s: %s", path, strerror(errno));
            free(path);
            continue;
        }
        rc = bvt__journal_scan_file(path, st->check, replay_record, &rp, &scan, err);
        if (rc == BVT_OK && scan.first_seq != seqs[i])
            rc = bvt__fail(err, BVT_ECORRUPT, 0, "%s starts at record %" PRIu64, path,
                          scan.first_seq);
        if ((rc == BVT_OK && scan.torn_offset >= 0) || (rc == BVT_ECORRUPT && scan.damaged)) {
            rc = handle_tail(st, seqs, n, i, path, &scan, rp.next, err);
            if (rc == BVT_OK && st->info.dropped_first_seq) {
                free(path);
                break; /* nothing after the damage is kept */
            }
        }
        if (rc != BVT_OK && rp.rc == rc && rp.why[0])
            bvt__fail(err, rc, -1, "%s: %s", path, rp.why);
        else if (rc == BVT_ECORRUPT && scan.damaged && err)
            suggest_repair(err);
        free(path);
    }
    free(seqs);
    st->info.replayed = rp.replayed;
    *next = rp.next;
    return rc;
}

/* ---- opening ---- */

static void state_free(struct bvt_state *st)
{
    if (!st)
        return;
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&st->lock);
    free(st->dir);
    free(st);
}


/* Lock the directory: exclusively to write, shared to read. */
static int lock_dir(struct bvt_state *st, const char *dir, bvt_error *err)
{
    char *lock = join(dir, "lock");
    if (!lock)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    int read_only = st->access == BVT_STATE_READ_ONLY;
    st->lock_fd = read_only ? open(lock, O_RDONLY | O_CLOEXEC)
                            : open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc = BVT_OK;
    if (st->lock_fd < 0 && !(read_only && errno == ENOENT)) /* never opened to write */
        rc = bvt__fail(err, BVT_EIO, -1, "cannot open %s: %s", lock, strerror(errno));
    else if (st->lock_fd >= 0 && flock(st->lock_fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0)
        rc = bvt__fail(err, BVT_EIO, -1, "%s is in use by another engine (%s)", dir,
                      strerror(errno));
    free(lock);
    return rc;
}

static int state_new(struct bvt_state **out, const bvt_state_options *o, bvt_error *err)
{
    *out = NULL;
    struct bvt_state *st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(o->dir))) {
        free(st);
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    }
    st->lock_fd = -1;
    pthread_mutex_init(&st->lock, NULL);
    st->mode = o->journal;
    st->group_ms = o->group_commit_ms ? o->group_commit_ms : DEFAULT_GROUP_MS;
    st->access = o->access;
    bvt_state_info init = BVT_STATE_INFO_INIT;
    st->info = init;
    *out = st;
    struct stat sb;
    if (st->access == BVT_STATE_READ_ONLY) {
        if (stat(o->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return bvt__fail(err, BVT_EIO, -1, "no state directory %s to open read-only", o->dir);
    } else if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
        return bvt__fail(err, BVT_EIO, -1, "cannot create %s: %s", o->dir, strerror(errno));
    }
    return lock_dir(st, o->dir, err);
}

/* Load path into e when it exists; *seq gets its journal boundary. */
static int load_if_present(bvt_engine *e, const char *path, uint64_t *seq, bvt_error *err)
{
    *seq = 0;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? BVT_OK
                               : bvt__fail(err, BVT_EIO, -1, "cannot stat %s: %s", path,
                                          strerror(errno));
    const void *data;
    size_t len;
    int rc = bvt__file_map(path, &data, &len, err);
    if (rc == BVT_OK)
        rc = bvt__snapshot_read(e, data, len, seq, err);
    bvt__file_unmap(data, len);
    return rc;
}

static int start_journal(bvt_engine *e, struct bvt_state *st, uint64_t first, bvt_error *err)
{
    char *path = journal_name(st->dir, first);
    if (!path)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    unlink(path); /* an empty file left by a crash before its first record */
    bvt_journal *j;
    int rc = bvt__journal_create(&j, path, first, st->check, st->mode, st->group_ms, err);
    free(path);
    if (rc != BVT_OK)
        return rc;
    st->journal_first = first;
    e->journal = j;
    attach_sink(e);
    return BVT_OK;
}

static int check_state_options(const bvt_state_options *o, bvt_error *err)
{
    if (!o || o->version == 0)
        return bvt__fail(err, BVT_EINVAL, -1, "state options are required (BVT_STATE_OPTIONS_INIT)");
    if (o->version > BVT_STATE_OPTIONS_VERSION)
        return bvt__fail(err, BVT_EVERSION, -1, "state options version %u is newer than this "
                        "library", o->version);
    if (!o->dir || !*o->dir)
        return bvt__fail(err, BVT_EINVAL, -1, "state options need a directory");
    if (o->journal > BVT_JOURNAL_ALWAYS)
        return bvt__fail(err, BVT_EINVAL, -1, "journal must be BVT_JOURNAL_OFF, _NONE, _GROUP "
                        "or _ALWAYS");
    if (o->group_commit_ms > 10000)
        return bvt__fail(err, BVT_EINVAL, -1, "group_commit_ms must be 1..10000 (0 = default)");
    if (o->options_from > BVT_OPTIONS_RECORDED)
        return bvt__fail(err, BVT_EINVAL, -1, "options_from must be BVT_OPTIONS_GIVEN or "
                        "BVT_OPTIONS_RECORDED");
    if (o->access > BVT_STATE_REPAIR)
        return bvt__fail(err, BVT_EINVAL, -1, "access must be BVT_STATE_READ_WRITE, "
                        "_READ_ONLY or _REPAIR");
    if (o->access == BVT_STATE_READ_ONLY && o->journal != BVT_JOURNAL_OFF)
        return bvt__fail(err, BVT_EINVAL, -1, "a read-only open writes no journal: use "
                        "BVT_JOURNAL_OFF");
    return BVT_OK;
}

void bvt_state_options_init(bvt_state_options *st)
{
    if (!st)
        return;
    bvt_state_options init = BVT_STATE_OPTIONS_INIT;
    *st = init;
}

/* The engine the directory's options call for: the recorded ones (with the
 * caller's secret) when asked, else the caller's, whose data-shaping
 * options must then equal the recorded ones. */
static int new_engine(bvt_engine **out, const bvt_options *opts, const bvt_state_options *so,
                      const bvt_recorded_options *rec, int recorded, bvt_error *err)
{
    if (!recorded || so->options_from != BVT_OPTIONS_RECORDED)
        return bvt_engine_new(out, opts, err);
    if (!opts)
        return bvt__fail(err, BVT_EINVAL, -1, "options are required (the secret at least)");
    bvt_options o = rec->o;
    o.secret = opts->secret;
    o.secret_len = opts->secret_len;
    return bvt_engine_new(out, &o, err);
}

/* Snapshot, then journal, with no limits applied (users, memory, aliases):
 * what they decided is in the files.  The directory must then fit
 * max_users. */
static int rebuild(bvt_engine *e, struct bvt_state *st, uint64_t *next, bvt_error *err)
{
    char *snap = join(st->dir, SNAPSHOT_NAME);
    if (!snap)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    bvt_store *s = &e->store;
    uint64_t max_users = s->max_users, budget = s->memory_budget;
    uint32_t alias_max = e->aliases.max;
    bvt__store_set_limits(s, 0, 0);
    e->aliases.max = UINT32_MAX;
    uint64_t seq = 0;
    int rc = load_if_present(e, snap, &seq, err);
    free(snap);
    *next = seq + 1;
    if (rc == BVT_OK) {
        st->info.snapshot_seq = seq;
        rc = replay_journals(e, st, next, err);
    }
    bvt__store_set_limits(s, max_users, budget);
    e->aliases.max = alias_max;
    uint64_t users = atomic_load(&s->users);
    if (rc == BVT_OK && max_users && users > max_users)
        rc = bvt__fail(err, BVT_EFULL, -1, "%s holds %llu users: open it with max_users >= %llu "
                      "(or 0)", st->dir, (unsigned long long)users, (unsigned long long)users);
    return rc;
}

int bvt_engine_open(bvt_engine **out, const bvt_options *opts, const bvt_state_options *so,
                    bvt_error *err)
{
    if (!out)
        return bvt__fail(err, BVT_EINVAL, -1, "out is NULL");
    *out = NULL;
    int rc = check_state_options(so, err);
    if (rc != BVT_OK)
        return rc;
    struct bvt_state *st = NULL;
    bvt_recorded_options rec, now;
    int recorded = 0;
    bvt_engine *e = NULL;
    rc = state_new(&st, so, err);
    if (rc == BVT_OK)
        rc = bvt__recorded_options_read(st->dir, &rec, &recorded, err);
    if (rc == BVT_OK)
        rc = new_engine(&e, opts, so, &rec, recorded, err);
    if (rc != BVT_OK) {
        state_free(st);
        return rc;
    }
    e->state = st;
    attach_sink(e); /* so freeing the engine lets the directory go */
    bvt__recorded_options_of(e, &now);
    if (recorded)
        rc = bvt__recorded_options_check(&rec, &now, err);
    st->check = bvt__secret_check(e);
    uint64_t next = 1;
    if (rc == BVT_OK)
        rc = rebuild(e, st, &next, err);
    int writable = st->access != BVT_STATE_READ_ONLY;
    if (rc == BVT_OK && writable && st->mode != BVT_JOURNAL_OFF)
        rc = start_journal(e, st, next, err);
    if (rc == BVT_OK && writable && !(recorded && bvt__recorded_options_equal(&rec, &now))) {
        /* From here on these apply: the file says so, and the journal marks where. */
        rc = bvt__recorded_options_write(st->dir, &now, err);
        if (rc == BVT_OK && recorded)
            rc = bvt__log_options(e, &now);
    }
    if (rc != BVT_OK) {
        bvt_engine_free(e);
        return rc;
    }
    st->info.journal = st->mode;
    st->info.accepted_seq = st->info.durable_seq = e->journal ? bvt__journal_accepted(e->journal)
                                                              : next - 1;
    *out = e;
    return BVT_OK;
}

/* ---- checkpoint ---- */

/* The cut (every shard lock held): the journal continues in a new file.
 * Names hold no shard lock and may be appended meanwhile: the rotation
 * orders them (persist.h says why either side is correct). */
static int switch_journal(bvt_engine *e, void *ud, uint64_t *out_seq, bvt_error *err)
{
    struct bvt_state *st = ud;
    if (!e->journal) {
        *out_seq = st->info.snapshot_seq = st->info.accepted_seq;
        return BVT_OK;
    }
    uint64_t last;
    int rc = bvt__journal_rotate(e->journal, name_in_dir, st->dir, &last, err);
    if (rc != BVT_OK)
        return rc;
    st->journal_first = last + 1;
    st->info.snapshot_seq = last;
    *out_seq = last;
    return BVT_OK;
}

static void remove_old_journals(struct bvt_state *st, uint64_t keep_from)
{
    uint64_t *seqs;
    size_t n;
    if (list_journals(st->dir, &seqs, &n, NULL) != BVT_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] >= keep_from)
            continue;
        char *path = journal_name(st->dir, seqs[i]);
        if (path)
            unlink(path);
        free(path);
    }
    free(seqs);
}

int bvt_engine_checkpoint(bvt_engine *e, bvt_error *err)
{
    if (!e || !e->state)
        return bvt__fail(err, BVT_EINVAL, -1, "checkpoint needs an engine from bvt_engine_open()");
    struct bvt_state *st = e->state;
    if (st->access == BVT_STATE_READ_ONLY)
        return bvt__fail(err, BVT_EINVAL, -1, "%s was opened read-only: checkpoint refused",
                        st->dir);
    char *snap = join(st->dir, SNAPSHOT_NAME);
    if (!snap)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    pthread_mutex_lock(&st->lock);
    int rc = bvt__persist_check(e);
    if (rc != BVT_OK)
        bvt__fail(err, rc, -1, "the journal has failed: checkpoint refused");
    else
        rc = bvt__snapshot_write(e, snap, switch_journal, st, err);
    if (rc == BVT_OK) {
        /* without a journal the snapshot holds everything replayed at open */
        remove_old_journals(st, e->journal ? st->journal_first : UINT64_MAX);
        rc = bvt__fsync_parent(snap, err);
    }
    pthread_mutex_unlock(&st->lock);
    free(snap);
    return rc;
}

int bvt_engine_sync(bvt_engine *e, bvt_error *err)
{
    if (!e)
        return bvt__fail(err, BVT_EINVAL, -1, "engine is NULL");
    if (!e->journal)
        return BVT_OK;
    int rc = bvt__journal_sync(e->journal);
    return rc == BVT_OK ? rc : bvt__fail(err, rc, -1, "the journal failed: not durable");
}

int bvt_state_info_get(bvt_engine *e, bvt_state_info *out)
{
    if (!e || !out)
        return BVT_EINVAL;
    if (out->version == 0)
        return BVT_EINVAL;
    if (out->version > BVT_STATE_INFO_VERSION)
        return BVT_EVERSION;
    bvt_state_info info = BVT_STATE_INFO_INIT;
    if (e->state)
        info = e->state->info;
    if (e->journal) {
        info.accepted_seq = bvt__journal_accepted(e->journal);
        info.durable_seq = bvt__journal_durable(e->journal);
    }
    *out = info;
    return BVT_OK;
}

/* ---- plain files ---- */

/* The cut of a plain save: the journal position at that moment (every
 * shard lock held), so the file holds each change exactly once should it
 * become a state directory's snapshot. */
static int journal_position(bvt_engine *e, void *ud, uint64_t *out_seq, bvt_error *err)
{
    (void)ud;
    (void)err;
    *out_seq = e->journal ? bvt__journal_accepted(e->journal) : 0;
    return BVT_OK;
}

/* 1 when path names the snapshot of a state directory (a `lock` file
 * beside a file named like it). */
static int is_state_snapshot(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strcmp(base, SNAPSHOT_NAME) != 0)
        return 0;
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    char *lock = malloc(dir_len + sizeof "lock");
    if (!lock)
        return 0;
    memcpy(lock, path, dir_len);
    memcpy(lock + dir_len, "lock", sizeof "lock");
    struct stat sb;
    int yes = stat(lock, &sb) == 0;
    free(lock);
    return yes;
}

int bvt_engine_save(bvt_engine *e, const char *path, bvt_error *err)
{
    if (!e || !path || !*path)
        return bvt__fail(err, BVT_EINVAL, -1, "engine and path are required");
    if (is_state_snapshot(path))
        return bvt__fail(err, BVT_EINVAL, -1, "%s is a state directory's snapshot: write it with "
                        "bvt_engine_checkpoint() on the engine that has the directory open", path);
    return bvt__snapshot_write(e, path, journal_position, NULL, err);
}

int bvt_engine_load(bvt_engine **out, const bvt_options *opts, const char *path, bvt_error *err)
{
    if (!out || !path)
        return bvt__fail(err, BVT_EINVAL, -1, "out and path are required");
    *out = NULL;
    bvt_engine *e;
    int rc = bvt_engine_new(&e, opts, err);
    if (rc != BVT_OK)
        return rc;
    const void *data;
    size_t len;
    uint64_t seq;
    rc = bvt__file_map(path, &data, &len, err);
    /* As a state directory's open: the budget bounds growth from here on,
     * not what was saved (aliasing moves a profile's memory into another
     * shard, and the shard count may differ now). */
    uint64_t budget = e->store.memory_budget;
    bvt__store_set_limits(&e->store, e->store.max_users, 0);
    if (rc == BVT_OK)
        rc = bvt__snapshot_read(e, data, len, &seq, err);
    bvt__store_set_limits(&e->store, e->store.max_users, budget);
    bvt__file_unmap(data, len);
    if (rc != BVT_OK) {
        bvt_engine_free(e);
        return rc;
    }
    *out = e;
    return BVT_OK;
}
