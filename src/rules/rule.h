/* rule.h — the segment rule language: compile once to bytecode, evaluate
 * many times without parsing or allocating.
 *
 * The compiler knows nothing about the engine: it resolves names through
 * callbacks (bvt_rule_names) and the evaluator reads a profile through
 * callbacks (bvt_rule_env).  The segment registry supplies both.  The
 * language is documented in docs/rules.md. */
#ifndef BVT_RULE_H
#define BVT_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

/* Numeric profile features a rule can name.  Times and durations are in
 * milliseconds (durations such as 7d compile to milliseconds too). */
enum bvt_rule_feature {
    BVT_F_RECENCY = 0,          /* now - last_seen */
    BVT_F_FIRST_SEEN,           /* epoch ms */
    BVT_F_LAST_SEEN,
    BVT_F_PURCHASE_RECENCY,     /* now - last purchase, or -1 */
    BVT_F_LAST_PURCHASE,
    BVT_F_PURCHASES,            /* purchase events */
    BVT_F_FREQUENCY,            /* distinct purchase days */
    BVT_F_MONETARY_TOTAL,
    BVT_F_MONETARY_MEAN,
    BVT_F_R_SCORE,
    BVT_F_F_SCORE,
    BVT_F_M_SCORE,
    BVT_F_EVENTS,
    BVT_F_IMPRESSIONS,
    BVT_F_CLICKS,
    BVT_F_CONVERSIONS,
    BVT_F_CTR,
    BVT_F_CONVERSION_RATE,
    BVT_F_INTERACTIONS,
    BVT_F_SESSIONS,
    BVT_F_DWELL,                /* total dwell ms */
    BVT_F_MEAN_DWELL,
    BVT_F_CART_ITEMS,
    BVT_F_CART_VALUE,
    BVT_F_PAGE_VIEWS,
    BVT_F_SEARCHES,
    BVT_F_RFM_SEGMENT,          /* enum bvt_rfm_segment_code; compared with its name */
    BVT_F_CLUSTER,              /* 1-based behavioural cluster, 0 = no model */
    BVT_F_COUNT                 /* number of features */
};

/* RFM segment codes; rules write the names ("Champions", "Can't Lose Them"). */
enum bvt_rfm_segment_code {
    BVT_RFM_NONE = 0, /* not scored */
    BVT_RFM_CHAMPIONS, BVT_RFM_LOYAL, BVT_RFM_POTENTIAL_LOYALIST, BVT_RFM_NEW_CUSTOMERS,
    BVT_RFM_PROMISING, BVT_RFM_NEED_ATTENTION, BVT_RFM_ABOUT_TO_SLEEP, BVT_RFM_AT_RISK,
    BVT_RFM_CANT_LOSE_THEM, BVT_RFM_HIBERNATING, BVT_RFM_LOST,
    BVT_RFM_SEGMENT_COUNT
};

/* ---- compiling ---------------------------------------------------------- */

/* Name resolution at compile time.  Each callback returns BVT_OK with the
 * id, or an error status (BVT_ENOTFOUND, BVT_EINVAL, BVT_ELIMIT) that the
 * compiler reports with the offset of the name.  Any callback may be NULL:
 * the construct that needs it is then an error ("not available"). */
typedef struct bvt_rule_names {
    void *ud;
    /* event type by name ("page_view", or a registered custom type) */
    int (*event_type)(void *ud, const char *name, size_t len, uint32_t *out);
    /* category path, interned if new (ids >= 1) */
    int (*category)(void *ud, const char *path, size_t len, uint32_t *out);
    /* attribute key, and string values compared with attributes, interned */
    int (*string)(void *ud, const char *s, size_t len, uint32_t *out);
    /* consent purpose ("ads", "analytics", ... or caller-defined) */
    int (*purpose)(void *ud, const char *name, size_t len, uint32_t *out);
    /* another segment, for in_segment("name") */
    int (*segment)(void *ud, const char *name, size_t len, uint32_t *out);
    int64_t horizon_ms; /* windows longer than this are rejected (BVT_ERANGE) */
} bvt_rule_names;

typedef struct bvt_rule bvt_rule; /* immutable once compiled */

/* Compile rule text (len bytes, no NUL needed).  On error returns
 * BVT_ESYNTAX (grammar), BVT_ENOTFOUND (unknown name), BVT_EINVAL (type
 * mismatch, bad literal), BVT_ERANGE (window beyond the horizon) or what a
 * callback returned, with err->offset the byte offset of the offending token
 * and a message that names what was expected.  BVT_ENOMEM. */
int bvt__rule_compile(bvt_rule **out, const char *text, size_t len,
                     const bvt_rule_names *names, bvt_error *err);

/* Frees r, after calling its owner's release (below). */
void bvt__rule_free(bvt_rule *r);

/* The owner's data of a rule (what it pinned to compile it: profile_env.c),
 * given once, right after compiling: bvt__rule_free() calls release(ud)
 * first.  bvt__rule_owner() answers ud (NULL when none). */
void bvt__rule_set_owner(bvt_rule *r, void (*release)(void *ud), void *ud);
void *bvt__rule_owner(const bvt_rule *r);

/* Segment ids this rule names through in_segment() (for cycle checks);
 * returns how many, *ids borrowed from r. */
size_t bvt__rule_segment_refs(const bvt_rule *r, const uint32_t **ids);

/* Bytes held by r. */
size_t bvt__rule_bytes(const bvt_rule *r);

/* ---- evaluating --------------------------------------------------------- */

/* What the evaluator may ask about one user at one time.  Callbacks must not
 * allocate; all are required. */
typedef struct bvt_rule_env {
    void *ud;
    int64_t now;
    double (*feature)(void *ud, uint32_t feature);           /* enum bvt_rule_feature */
    /* decayed affinity (0..1) of the category and its descendants */
    double (*interest)(void *ud, uint32_t category);
    /* events of type (UINT32_MAX = any) within category (0 = any) with
     * now - window < t <= now: their count and value sum */
    void (*window)(void *ud, uint32_t type, uint32_t category, int64_t window_ms,
                   uint64_t *count, double *sum);
    /* a cart item added within the window and not bought or removed */
    int (*carted_not_bought)(void *ud, int64_t window_ms);
    /* viewed the category within the window and bought nothing in it since */
    int (*viewed_not_bought)(void *ud, uint32_t category, int64_t window_ms);
    /* attribute by interned key: 0 absent, BVT_ATTR_NUMBER (*num set) or
     * BVT_ATTR_STRING (*str set to the interned value id) */
    int (*attr)(void *ud, uint32_t key, double *num, uint32_t *str);
    /* request context value by key (raw bytes, not interned); 0 when absent.
     * Keys: "page_category", "device", "geo", "hour", or any caller name. */
    int (*context)(void *ud, const char *key, size_t key_len, const char **value,
                   size_t *value_len);
    int (*consent)(void *ud, uint32_t purpose);              /* 1 granted */
    int (*in_segment)(void *ud, uint32_t segment);           /* 1 member */
} bvt_rule_env;

/* 1 if the user matches, 0 if not.  Never allocates, never fails: a missing
 * attribute or context value makes its comparison false (documented in
 * docs/rules.md). */
int bvt__rule_eval(const bvt_rule *r, const bvt_rule_env *env);

#endif
