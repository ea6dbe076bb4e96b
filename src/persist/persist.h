/* persist.h — what each module gives the snapshot and the journal.
 *
 * Snapshot: a module that owns state writes it as one section (a block of
 * the snapshot file, see snapfile.h) and reads it back into a fresh
 * engine.  Journal: every mutating call appends one record after it has
 * succeeded in memory; opening replays the records through the module's
 * replay function.  Both use the byte encoding of codec.h.
 *
 * Save functions run while the snapshot holds every shard lock: no event,
 * per-user call or expire pass is running.  Definitions may still change:
 * the sections are saved last to first (the registries of names only
 * grow), so each holds whatever the sections loaded after it refer to
 * (NAMES is counted then and written after the profiles: see
 * bvt__names_begin below).  They read published
 * definitions lock-free (or take a module lock that is never held by a
 * thread waiting for a shard lock) and return BVT_OK or BVT_ENOMEM.
 *
 * Load functions run on a freshly created engine (same options, built-in
 * segments defined, no users, no journal attached), one section after
 * another in enum order, so a section may rely on the ones before.  On
 * data that does not fit they call bvt__r_fail() (or find r already bad)
 * and return BVT_ECORRUPT; the snapshot reader turns r->bad_pos into a
 * file offset.  Allocation failure: BVT_ENOMEM.
 *
 * Journal records start with a u8 op code.  Per-user records (events,
 * attributes, consent, experiment assignment, alias, forget) are appended
 * under the user's shard lock, so a checkpoint (which switches journal
 * files while holding every shard lock) sees each exactly once: in the
 * snapshot or in the new journal.  A definition an event or a per-user
 * call reads (offers, segments, experiments, event types, purposes, RFM
 * cuts, the cluster model) is published and its record appended between
 * bvt__persist_hold() and bvt__persist_release(), under every shard lock:
 * so each record that read the old definition comes before it in the
 * journal and each that read the new one after, and a checkpoint puts it
 * on exactly one side.  Replaying a definition is idempotent all the same
 * (defining what is already defined changes nothing observable; removing
 * what is gone is not an error).  Records name users by key (never raw ids) and
 * carry outcomes rather than inputs where an input is not at rest (an
 * experiment's variant, not the raw id it was hashed from). */
#ifndef BVT_PERSIST_H
#define BVT_PERSIST_H

#include "behavtarget.h"
#include "bits.h"
#include "codec.h"
#include "change_sink.h"
#include "engine.h"

/* Snapshot sections, in file and load order. */
enum bvt_section {
    BVT_SEC_META = 1,        /* snapshot.c: saved options, counts, journal boundary */
    BVT_SEC_NAMES = 2,       /* registry_persist.c: categories, keywords, attribute
                                strings, custom event types, consent purposes */
    BVT_SEC_SEGMENTS = 3,    /* registry_persist.c: user segment definitions */
    BVT_SEC_OFFERS = 4,      /* offer_persist.c: offer names, groups, definitions,
                                offer segments, policy, evidence, metrics, budgets */
    BVT_SEC_EXPERIMENTS = 5, /* experiment_persist.c: definitions and counters */
    BVT_SEC_DERIVED = 6,     /* registry_persist.c: RFM cuts, cluster model,
                                anonymous aggregates, alias map, engine counters */
    BVT_SEC_PROFILES = 7,    /* snapshot.c: any number of blocks of profiles */
    BVT_SEC_END = 15         /* snapshot.c: totals, last block */
};

int bvt__names_save(bvt_engine *e, bvt_wbuf *w);
int bvt__names_load(bvt_engine *e, bvt_rbuf *r);

/* Erasure (docs/privacy.md): a snapshot's NAMES section keeps only the
 * categories and attribute strings something it or the journal needs, and
 * writes a tombstone for every other.  The profile copies mark what they
 * write (any thread, relaxed: the snapshot reads the marks after taking
 * each shard's lock again), and so do the sections saved at the cut for
 * what their definitions and aggregates name (through e->snap_marks);
 * what live definitions name is pinned (category.h; rules pin strings
 * likewise: profile_env.c) and kept too. */
typedef struct bvt_name_marks {
    _Atomic uint64_t cats[BVT_BITS_WORDS(BVT_CATEGORY_MAX_ID + 1)];
    _Atomic uint64_t strings[BVT_BITS_WORDS(BVT_STRINGS_MAX + 1)];
} bvt_name_marks;

/* NAMES in two steps (snapshot.c).  At the cut, after the sections saved
 * before it: bvt__names_begin() fixes the counts (so they cover what those
 * sections name) and copies the keyword map, event types and purposes
 * (on failure it frees what it made).  After the profile copies and
 * bvt__categories_erase(): bvt__names_finish() writes the section and frees
 * the cut, with a tombstone for each erased name, each category m leaves
 * unmarked and each attribute string m leaves unmarked (snapshot.c marks
 * the pinned ones and forgets the others); m NULL keeps every name that is
 * not erased or forgotten (bvt__names_save() is both steps so).
 * bvt__names_cut_free() drops a cut that will not be finished.  BVT_OK;
 * BVT_ENOMEM. */
typedef struct bvt_names_cut {
    uint32_t cats, strings;     /* ids 1..n written */
    uint32_t n_keywords;
    uint32_t tombstones;        /* written by bvt__names_finish() */
    bvt_wbuf keywords, tail;    /* the keyword entries; types and purposes */
    bvt_name_marks *marks;      /* the snapshot's (e->snap_marks): keywords mark theirs */
} bvt_names_cut;

int bvt__names_begin(bvt_engine *e, bvt_names_cut *cut);
int bvt__names_finish(bvt_engine *e, bvt_names_cut *cut, const bvt_name_marks *m, bvt_wbuf *w);
void bvt__names_cut_free(bvt_names_cut *cut);
int bvt__segments_save(bvt_engine *e, bvt_wbuf *w);
int bvt__segments_load(bvt_engine *e, bvt_rbuf *r);
int bvt__offers_save(bvt_engine *e, bvt_wbuf *w);
int bvt__offers_load(bvt_engine *e, bvt_rbuf *r);
int bvt__experiments_save(bvt_engine *e, bvt_wbuf *w);
int bvt__experiments_load(bvt_engine *e, bvt_rbuf *r);
int bvt__derived_save(bvt_engine *e, bvt_wbuf *w);
int bvt__derived_load(bvt_engine *e, bvt_rbuf *r);

/* Journal record op codes (u8).  Values are part of the file format. */
enum bvt_op {
    /* per-user and event records (track.c, user.c, consent.c, privacy.c) */
    BVT_OP_EVENT = 1,            /* key, resolved event */
    BVT_OP_ANON_EVENT = 2,       /* resolved event counted in the anonymous aggregates */
    BVT_OP_ATTR_SET = 3,         /* key, attribute name, kind, number or string */
    BVT_OP_ATTR_UNSET = 4,       /* key, attribute name */
    BVT_OP_CONSENT_SET = 5,      /* key, purpose id, granted, time */
    BVT_OP_ALIAS = 6,            /* anonymous key, known key */
    BVT_OP_FORGET = 7,           /* key */
    BVT_OP_EXPIRE = 8,           /* cutoff, first and last key high word of one shard */
    BVT_OP_EXPERIMENT_ASSIGN = 9,/* experiment_persist.c: key and the outcome */
    BVT_OP_EVICT = 10,           /* key of a user the full policy evicted */
    BVT_OP_OPTIONS = 11,         /* state_options.c: the options in force from here on */
    BVT_OP_REJECTED = 12,        /* u64 events refused (the statistics' count) */
    BVT_OP_BUDGETED = 13,        /* key, i64 room, then a per-user record (1, 3..6, 9)
                                    whose change the memory budget refused growth */
    /* names and segments (registry_persist.c) */
    BVT_OP_CATEGORY = 20,
    BVT_OP_KEYWORD = 21,
    BVT_OP_EVENT_TYPE = 22,
    BVT_OP_PURPOSE = 23,
    BVT_OP_SEGMENT_DEFINE = 24,
    BVT_OP_SEGMENT_REMOVE = 25,
    BVT_OP_RFM_CUTS = 26,        /* the refreshed cut points (the outcome) */
    BVT_OP_CLUSTERS = 27,        /* the fitted model (the outcome) */
    /* offers and experiments (offer_persist.c, experiment_persist.c) */
    BVT_OP_OFFER_DEFINE = 40,
    BVT_OP_OFFER_BATCH = 41,
    BVT_OP_OFFER_REMOVE = 42,
    BVT_OP_OFFER_GROUP = 43,
    BVT_OP_OFFER_SEGMENTS = 44,
    BVT_OP_POLICY = 45,
    BVT_OP_EXPERIMENT_DEFINE = 46
};

/* Replay one journal record (its op byte read) through the module that
 * owns it (state.c; opening a state directory, and the journal fuzzer).
 * BVT_OK, or the module's status: BVT_ECORRUPT for an unknown op. */
int bvt__replay_op(bvt_engine *e, uint32_t op, bvt_rbuf *r);

/* Replay one record of a module's ops (the op byte already read).  The
 * engine has no journal attached while replaying.  BVT_OK; BVT_ECORRUPT
 * (the record does not parse or names what cannot exist); or the status
 * of the call it repeats when that fails for a reason the original could
 * not have had (BVT_ENOMEM, BVT_EFULL). */
int bvt__registry_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r);
int bvt__offers_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r);
int bvt__experiments_replay(bvt_engine *e, uint32_t op, bvt_rbuf *r);

#endif
