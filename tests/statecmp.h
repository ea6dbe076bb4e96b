/* statecmp.h — an engine's whole observable state as text, read through
 * the public API only, and the first difference between two such texts.
 *
 * The text holds, one item per line (so a difference names what differs):
 * the statistics; the categories ("name" lines), event types, consent
 * purposes, segment names, the segment list and the offer names and list; which segments
 * offers report by; every offer's metrics (all users and per offer
 * segment) and the unattributed feedback; every experiment's report (all
 * users and per offer segment) and the variant each user hashes to; the
 * anonymous aggregates per (type, top-level category); every user's key
 * from bvt_engine_foreach_user(); for every raw id the caller names, its
 * bvt_user_export() (or "absent": forgotten, evicted and expired ids
 * must be absent on both sides) and a ranking of every offer (which reads
 * the catalog, the policy, the bandit evidence, the caps and the rules);
 * and each segment's members.  What the API cannot read back (rule text,
 * keyword maps, an offer's fields) shows through what it decides: the
 * exports' segments, the rankings.
 *
 * Texts of one state are equal byte for byte: lists the engine returns in
 * an internal order (aliases, members, users) are sorted, and numbers are
 * printed exactly (%.17g). */
#ifndef BVT_STATECMP_H
#define BVT_STATECMP_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* The names the caller's workload used: raw user ids (every one, also
 * those forgotten, evicted or expired), and the purpose, segment, offer
 * and experiment names it may have registered (looked up by name; any
 * may be unknown to the engine). */
typedef struct statecmp_names {
    const char *const *users;
    size_t n_users;
    const char *const *purposes;
    size_t n_purposes;
    const char *const *segments;
    size_t n_segments;
    const char *const *offers;
    size_t n_offers;
    const char *const *experiments;
    size_t n_experiments;
    const char *const *searches; /* search texts statecmp_probe() tries */
    size_t n_searches;
} statecmp_names;

enum statecmp_flags {
    /* Leave out segment membership (the exports' "segments" and the member
     * lists): what bvt_options.segments_need_consent filters, when the two
     * engines read with different values of it. */
    STATECMP_NO_MEMBERSHIP = 1u << 0,
    /* Leave out the per-user rankings (a cheaper text). */
    STATECMP_NO_RANK = 1u << 1,
    /* statecmp_diff_flags(): b may lack names a holds (its "name" lines,
     * the categories), as a state directory reopened after a checkpoint
     * lacks those nothing used (docs/privacy.md); every name b holds must
     * be a's, with the same id.  A name something still uses shows
     * wherever it is used (exports, rankings), so its loss is seen there. */
    STATECMP_NAMES_MAY_GO = 1u << 2
};

/* The state of e read at `now`, as a NUL-terminated malloc'd text (the
 * caller frees it); NULL only when memory runs out.  Reads only; safe
 * while nothing else changes e. */
char *statecmp_capture(bvt_engine *e, const statecmp_names *names, int64_t now, unsigned flags);

/* What the API cannot read back, made visible by using it: a new user
 * (an id no workload uses) grants every purpose, searches each of
 * names->searches, tracks an event of every custom type and an impression,
 * click, conversion and dismissal of every offer defined now, and is
 * assigned to every experiment, all at `now`; the text holds that user's
 * export and what the calls added to each offer's metrics and each
 * experiment's counters.  Then the user is forgotten.  So two engines in
 * one state give the same text when their keyword maps, event type
 * weights, offer definitions (response, cost, value) and experiments
 * agree.  It changes e (the aggregates keep the probe's counts): run it on
 * both engines, or on one that is discarded after.  NULL when memory runs
 * out. */
char *statecmp_probe(bvt_engine *e, const statecmp_names *names, int64_t now);

/* NULL when a and b are equal; else a malloc'd description of the first
 * differing line (its section, both versions around the first differing
 * byte) and the number of differing lines. */
char *statecmp_diff(const char *a, const char *b);

/* statecmp_diff() as flags say (STATECMP_NAMES_MAY_GO). */
char *statecmp_diff_flags(const char *a, const char *b, unsigned flags);

#endif
