/* profile_env.h — what rules read.  At compile time: the engine's names
 * (event types, categories, strings, purposes, segments).  At evaluation:
 * one locked record at `now`, with the request context and a segment
 * version for in_segment().  Segments and offer eligibility both use it. */
#ifndef BVT_PROFILE_ENV_H
#define BVT_PROFILE_ENV_H

#include "engine.h"
#include "rule.h"

typedef struct bvt_profile_env {
    const bvt_engine *e;
    const bvt_record *r;
    const bvt_rfm_cuts *cuts;
    const bvt_context *ctx;
    const bvt_segment_set *set;
    int64_t now;
    uint8_t *memo;    /* per segment id: 0 unknown, 1 out, 2 in (NULL: no memo) */
    uint32_t cluster; /* the cluster feature + 1, read once per user; 0 = not yet */
    char hour[4];     /* ctx.hour as text */
} bvt_profile_env;

struct bvt_name_marks;

/* Compile text (len bytes) against e's names; `builtin` lifts the horizon
 * check; `segment` resolves in_segment() names (NULL: the segments defined
 * now), called with a ud that bvt__rule_ud_engine() turns into e.  The rule
 * pins the categories and attribute strings it names until it is freed
 * (snapshots keep them meanwhile).  bvt__rule_compile()'s statuses. */
int bvt__rule_compile_in(bvt_engine *e, int builtin,
                        int (*segment)(void *ud, const char *name, size_t len, uint32_t *out),
                        const char *text, size_t len, bvt_rule **out, bvt_error *err);
bvt_engine *bvt__rule_ud_engine(void *ud);

/* Mark in m what a rule compiled by bvt__rule_compile_in() names (a
 * snapshot keeps what its definitions name).  m may be NULL. */
void bvt__rule_mark_names(const bvt_rule *rule, struct bvt_name_marks *m);

/* BVT_OK, BVT_EVERSION (newer than this library) or BVT_EINVAL (also more
 * than BVT_CONTEXT_KEYS_MAX keys), with err (may be NULL) saying why. */
int bvt__context_check(const bvt_context *ctx, bvt_error *err);

/* Evaluate at now in ctx (checked, may be NULL), in_segment() against set.
 * memo: set->max_id + 1 bytes, or NULL to evaluate referenced segments
 * again each time. */
void bvt__profile_env_init(bvt_profile_env *st, const bvt_engine *e, const bvt_segment_set *set,
                          const bvt_context *ctx, int64_t now, uint8_t *memo);

/* The record the next evaluations read (locked by the caller; an all-zero
 * record with no ext is a user with no data). */
void bvt__profile_env_user(bvt_profile_env *st, const bvt_record *r);

/* 1 if the current user matches. */
int bvt__profile_env_rule(bvt_profile_env *st, const bvt_rule *rule);
/* 1 if the current user is in the segment (0 when not defined in set). */
int bvt__profile_env_segment(bvt_profile_env *st, uint32_t segment);

#endif
