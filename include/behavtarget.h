/*
 * behavtarget.h — libbehavtarget public API.
 *
 * libbehavtarget records user behaviour (events) into bounded per-user
 * profiles and answers questions about them at an explicit time.  This header
 * is the contract and the reference documentation.
 *
 * Conventions (read once, they hold everywhere):
 *  - Every fallible function returns int: BVT_OK (0) or a negative BVT_E* code.
 *    Published values never change.  bvt_strerror() names them.
 *  - Functions that can explain a failure take an optional `bvt_error *err`
 *    (may be NULL) that receives a message and, where it applies, an offset or
 *    index.  There is no thread-local error state.
 *  - Every time is `int64_t` milliseconds since the Unix epoch, passed by the
 *    caller.  The library never reads a clock.  Event times must be > 0.
 *  - Handles are opaque.  bvt_*_free(NULL) is a no-op.  What comes back
 *    through an `out` parameter is owned by the caller; strings returned by
 *    pointer are borrowed and say how long they live.
 *  - Threads: one bvt_engine may be shared by any number of threads.  Tracking,
 *    reading and registering calls may run concurrently; exceptions are named
 *    on the function (only bvt_engine_free).
 *  - Versioned structs start with `uint32_t version`; initialise them with
 *    their BVT_*_INIT macro or bvt_*_init() function, then set fields.
 *  - Strings the engine keeps must be UTF-8 (see bvt_utf8_check()).
 *  - Every count that multiplies the work or memory of one call has an upper
 *    bound (a BVT_*_MAX constant or the range given on the field), checked
 *    where the value enters: a larger value returns BVT_EINVAL with a
 *    message naming the field and the limit, and changes nothing.  The
 *    bounds are far above any real use and keep one call well under a
 *    second; calls over the whole population (bvt_cluster_run(),
 *    bvt_rfm_refresh(), iteration) grow with it instead.
 *
 * Raw user ids are never stored: the engine keeps only a 128-bit keyed hash
 * (XXH3-128 under a secret the caller supplies) of each id.
 *
 * The header compiles as C89, C99, C11 and C++.
 */
#ifndef BEHAVTARGET_H
#define BEHAVTARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BVT_BUILDING_LIBRARY) && defined(__GNUC__)
#define BVT_API __attribute__((visibility("default")))
#else
#define BVT_API
#endif

/** The engine: profiles, registries and their locks.  Opaque. */
typedef struct bvt_engine bvt_engine;

/* ======================================================================
 * Version
 * ====================================================================== */

#define BVT_VERSION_MAJOR 1
#define BVT_VERSION_MINOR 1
#define BVT_VERSION_PATCH 0
/** Version as one number: major * 10000 + minor * 100 + patch. */
#define BVT_VERSION_NUMBER \
    (BVT_VERSION_MAJOR * 10000 + BVT_VERSION_MINOR * 100 + BVT_VERSION_PATCH)
#define BVT_VERSION_STRING "1.1.0"

/**
 * @brief Version of the library actually linked.
 * @return static string "MAJOR.MINOR.PATCH"; never NULL.
 * @since 1.0  Thread-safe.
 */
BVT_API const char *bvt_version(void);

/**
 * @brief BVT_VERSION_NUMBER of the library actually linked.
 * @return major * 10000 + minor * 100 + patch.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_version_number(void);

/* ======================================================================
 * Status codes and error detail
 * ====================================================================== */

/** Status codes.  Values are pinned: they never change once published. */
enum bvt_status {
    BVT_OK = 0,
    BVT_EINVAL = -1,    /**< an argument is invalid (NULL, out of range, bad struct version) */
    BVT_ENOMEM = -2,    /**< the system allocator failed */
    BVT_ENOTFOUND = -3, /**< no such user, category, type or attribute */
    BVT_EFULL = -4,     /**< the user table is at its configured limit (reject policy) */
    BVT_ELIMIT = -5,    /**< a bounded registry is full (categories, custom types, strings) */
    BVT_EEXIST = -6,    /**< a name is already registered with a different meaning */
    BVT_ETYPE = -7,     /**< unknown event type */
    BVT_ERANGE = -8,    /**< a value or time is outside what can be answered */
    BVT_EVERSION = -9,  /**< a struct version newer than this library knows */
    BVT_EIO = -10,      /**< input/output failure (the message names the file and call);
                             also what every call that changes state returns once the
                             engine's journal has failed (@since 1.1, bvt_engine_open()) */
    BVT_ECORRUPT = -11, /**< persisted data fails its checksum or does not parse
                             (offset = file byte) */
    BVT_ESYNTAX = -12,  /**< syntax error in rule text (offset = byte) */
    BVT_ECYCLE = -13,   /**< a segment would depend on itself through in_segment() */
    BVT_ECONSENT = -14, /**< the user has not granted the purpose this needs (@since 1.1) */
    BVT_ETRUNCATED = -15, /**< a file ends before its data does (offset = where) (@since 1.1) */
    BVT_EFORMAT = -16,  /**< not a libbehavtarget file of the kind expected (@since 1.1) */
    BVT_ESECRET = -17   /**< the file was written with another user-id secret (@since 1.1) */
};

/**
 * @brief Static English text for a status code.
 * @param code a BVT_* status.
 * @return never NULL; unknown codes give "unknown error".
 * @since 1.0  Thread-safe.
 */
BVT_API const char *bvt_strerror(int code);

#define BVT_ERROR_VERSION 1u
/**
 * Detail about a failure, filled by calls that take a `bvt_error *`.
 * `offset` is a byte offset (rule text, file) or an element index (batch),
 * or -1 when it does not apply.
 */
typedef struct bvt_error {
    uint32_t version; /**< BVT_ERROR_VERSION */
    int code;         /**< the status the call returned */
    int64_t offset;   /**< byte offset / index, or -1 */
    char message[240];/**< NUL-terminated English text */
} bvt_error;

#define BVT_ERROR_INIT { BVT_ERROR_VERSION, 0, -1, { 0 } }

/**
 * @brief Initialise a bvt_error (for bindings): version set, offset -1.
 * @param err the error to fill; NULL is a no-op.
 * @since 1.0  Thread-safe for distinct objects.
 */
BVT_API void bvt_error_init(bvt_error *err);

/* ======================================================================
 * Text
 * ====================================================================== */

/**
 * @brief Check text the way the library checks every string it keeps.
 *
 * Every string the engine keeps is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no sequence cut
 * short), because kept strings come back out in JSON (bvt_user_export(),
 * bvt_segments_openrtb()) and must leave it valid.  This holds for category
 * paths (an event's category, offer tags, rules), search keywords,
 * attribute keys and string values, rule text, segment, offer, campaign
 * group, experiment and variant names, experiment salts, and the provider
 * and IAB ids of bvt_segments_openrtb().  A call given ill-formed text
 * returns BVT_EINVAL and changes nothing; a call that takes a bvt_error
 * names the field in the message and sets `offset` to the byte offset of
 * the first bad byte within that string (the start of the first ill-formed
 * sequence, which is what this function returns).  Bytes that are only
 * hashed or looked up (user ids, item ids, search text, request context
 * values, candidate offer ids) may be anything.
 *
 * @param text the bytes (may be NULL when len is 0).
 * @param len  their number.
 * @return the byte offset of the first ill-formed sequence, or len when all
 *         of text is well-formed UTF-8 (a NUL byte is well-formed).
 * @since 1.1  Thread-safe; allocates nothing.
 */
BVT_API size_t bvt_utf8_check(const char *text, size_t len);

/* ======================================================================
 * Times
 * ====================================================================== */

/** How bvt_time_parse() reads a time (@since 1.1). */
enum bvt_time_format {
    BVT_TIME_AUTO = 0,      /**< ISO 8601 text, or an integer that can only mean epoch
                                 milliseconds; an integer of 8 digits (a YYYYMMDD date or
                                 milliseconds?) or 9-10 digits (epoch seconds or
                                 milliseconds?) is refused, never guessed */
    BVT_TIME_EPOCH_MS = 1,  /**< integer milliseconds since 1970-01-01 UTC */
    BVT_TIME_EPOCH_S = 2,   /**< integer seconds since 1970-01-01 UTC */
    BVT_TIME_YYYYMMDD = 3,  /**< an 8-digit date, midnight UTC */
    BVT_TIME_ISO = 4        /**< ISO 8601: `YYYY-MM-DD`, or that with `T` or a space and
                                 `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff...` (fractions below a
                                 millisecond truncated), then `Z`, `+HH:MM`, `+HHMM`, `+HH`
                                 (or `-`) or nothing (UTC) */
};

/**
 * @brief Read a time as epoch milliseconds, or refuse it; never guess.
 *
 * Leading and trailing spaces are ignored.  Dates must exist (no
 * 2023-02-30), years 1..9999, hours 0..23 (24:00:00 is not accepted),
 * offsets up to 23:59.
 * @param text   the characters (need not be NUL-terminated).
 * @param len    their length.
 * @param format enum bvt_time_format.
 * @param[out] out_ms the time in epoch milliseconds (may be <= 0 for times
 *             up to 1970; callers that track events need > 0).
 * @param[out] err optional detail: what was expected, offset = the byte
 *             where reading stopped.
 * @return BVT_OK; BVT_EINVAL (NULL argument, unknown format, text that is
 *         not a time of that format, or an ambiguous integer under
 *         BVT_TIME_AUTO: the message names the readings and the formats to
 *         choose from).
 * @since 1.1  Thread-safe, allocates nothing.
 */
BVT_API int bvt_time_parse(const char *text, size_t len, uint32_t format, int64_t *out_ms,
                           bvt_error *err);

/** Bytes that always hold bvt_time_format()'s text, its NUL included. */
#define BVT_TIME_TEXT_MAX 32

/**
 * @brief Write a time as ISO 8601 UTC, the form every output of the
 * project uses next to epoch milliseconds.
 *
 * `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` before the `Z` only when the time is
 * not a whole second ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.250Z");
 * bvt_time_parse() reads it back to the same milliseconds.
 * @param ms     epoch milliseconds, in the years 1..9999 as bvt_time_parse() reads them.
 * @param buf    output, NUL-terminated on success (may be NULL when cap is 0).
 * @param cap    its size; BVT_TIME_TEXT_MAX always suffices.
 * @param[out] out_len the text's length without the NUL, also on BVT_ERANGE
 *             (may be NULL).
 * @return BVT_OK; BVT_EINVAL (buf NULL with cap > 0, or ms outside the years
 *         1..9999); BVT_ERANGE (cap too small).
 * @since 1.1  Thread-safe, allocates nothing.
 */
BVT_API int bvt_time_format(int64_t ms, char *buf, size_t cap, size_t *out_len);

/* ======================================================================
 * Event types
 * ====================================================================== */

/** Built-in event types.  Custom types get ids >= BVT_EVENT_CUSTOM_FIRST. */
enum bvt_event_type {
    BVT_EVENT_PAGE_VIEW = 0,
    BVT_EVENT_SEARCH = 1,
    BVT_EVENT_ADD_TO_CART = 2,
    BVT_EVENT_REMOVE_FROM_CART = 3,
    BVT_EVENT_PURCHASE = 4,
    BVT_EVENT_IMPRESSION = 5,
    BVT_EVENT_CLICK = 6,
    BVT_EVENT_CONVERSION = 7,
    BVT_EVENT_LIKE = 8,
    BVT_EVENT_SHARE = 9,
    BVT_EVENT_COMMENT = 10,
    BVT_EVENT_EMAIL_OPEN = 11,
    BVT_EVENT_BUILTIN_COUNT = 12, /**< types below this have counters in bvt_profile */
    BVT_EVENT_DISMISS = 12,  /**< the user dismissed an offer (offer feedback; no profile
                                  counter; @since 1.1) */
    BVT_EVENT_CUSTOM_FIRST = 16,
    BVT_EVENT_TYPE_MAX = 64 /**< type ids are < this; 48 custom types at most */
};

/**
 * @brief Name of an event type: "page_view", "search", "add_to_cart",
 * "remove_from_cart", "purchase", "impression", "click", "conversion",
 * "like", "share", "comment", "email_open", "dismiss", or a registered custom name.
 * @param engine the engine (needed for custom names); may be NULL for built-ins.
 * @param type   a type id.
 * @return borrowed string valid until bvt_engine_free(), or NULL when unknown.
 * @since 1.0  Thread-safe.
 */
BVT_API const char *bvt_event_type_name(const bvt_engine *engine, uint32_t type);

/**
 * @brief Find an event type id by name (built-in or registered custom).
 * @param engine the engine; may be NULL to look up built-ins only.
 * @param name   NUL-terminated name.
 * @param[out] out_type the id.
 * @return BVT_OK; BVT_EINVAL if name/out_type is NULL; BVT_ETYPE if unknown.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_event_type_lookup(const bvt_engine *engine, const char *name,
                                  uint32_t *out_type);

/**
 * @brief Register a custom event type (e.g. "video_complete").
 *
 * Registering an existing custom name again with the same weight returns its
 * id; with another weight it fails with BVT_EEXIST.  Built-in names cannot be
 * registered.  Events of a custom type count in the behaviour history and
 * credit interests with `interest_weight`; they do not touch RFM or
 * engagement counters.
 *
 * @param engine the engine.
 * @param name   NUL-terminated, 1..31 bytes of [a-z0-9_].
 * @param interest_weight weight of one event in interest scores (>= 0, finite).
 * @param[out] out_type the new id (>= BVT_EVENT_CUSTOM_FIRST).
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL (NULL argument, bad name or weight); BVT_EEXIST
 *         (a built-in name, or registered with another weight); BVT_ELIMIT
 *         (48 custom types already).  Allocates nothing.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_event_type_register(bvt_engine *engine, const char *name,
                                    double interest_weight, uint32_t *out_type,
                                    bvt_error *err);

/* ======================================================================
 * Engine
 * ====================================================================== */

/** What to do when a new user arrives and the table is full. */
enum bvt_full_policy {
    BVT_FULL_REJECT = 0,    /**< the event fails with BVT_EFULL */
    BVT_FULL_EVICT_LRU = 1  /**< evict an approximately least-recently-seen user */
};

/** What happens to an event of a user without analytics consent
 * (bvt_options.analytics_policy, @since 1.1).  A user who never chose
 * counts as not granted. */
enum bvt_analytics_policy {
    BVT_ANALYTICS_TRACK = 0,    /**< tracked whatever the consent (the default) */
    BVT_ANALYTICS_DROP = 1,     /**< refused with BVT_ECONSENT; nothing changes */
    BVT_ANALYTICS_ANONYMOUS = 2 /**< no profile changes; counted in the engine-wide
                                     anonymous aggregates (bvt_anonymous_counts()) */
};

/** Version 2 (@since 1.1) appended retention_ms, analytics_policy and
 * segments_need_consent; a version-1 struct is still accepted (those
 * fields then take their defaults). */
#define BVT_OPTIONS_VERSION 2u

/** Largest bvt_options.secret_len (@since 1.1): the secret is hashed once
 * per engine, and a longer one adds no strength. */
#define BVT_SECRET_MAX 4096

/** In history_events, history_day_slots, cart_items or max_attributes:
 * keep none (0 already means "the default"). */
#define BVT_NONE 0xFFFFFFFFu

/**
 * Engine options.  Zero in a numeric field means "the default" given below.
 */
typedef struct bvt_options {
    uint32_t version;            /**< BVT_OPTIONS_VERSION */
    uint32_t shards;             /**< power of two, 1..4096; default 64 */
    uint64_t max_users;          /**< user limit; 0 = unlimited */
    uint64_t memory_budget;      /**< bytes for profiles, history, carts and attributes,
                                      split evenly between shards; 0 = unlimited; else at
                                      least shards x 8,384 bytes */
    uint32_t full_policy;        /**< enum bvt_full_policy; default BVT_FULL_REJECT */
    uint32_t top_interests;      /**< interests kept per user, 1..16; default 16 */
    int64_t interest_half_life_ms; /**< default 14 days */
    double ancestor_credit;      /**< fraction of an event's interest weight credited to
                                      the parent category, squared to the grandparent...;
                                      0..1; default 0.5 (a negative value means 0) */
    uint32_t history_events;     /**< exact recent events kept per user, 1..4096 or
                                      BVT_NONE; default 64 */
    uint32_t history_day_slots;  /**< per-day aggregates kept per user, 1..65535 or
                                      BVT_NONE; default 2048.  With both BVT_NONE there is no
                                      history: windows answer 0 and late purchases count
                                      a new purchase day */
    int64_t history_horizon_ms;  /**< oldest age the history answers; default 400 days */
    int64_t session_gap_ms;      /**< inactivity that starts a new session; default 30 min */
    uint32_t cart_items;         /**< cart items kept per user, 1..255 or BVT_NONE; default 32 */
    uint32_t max_attributes;     /**< attributes per user, 1..255 or BVT_NONE; default 16 */
    const void *secret;          /**< key for user-id hashing, >= 16 bytes; required.
                                      Copied: the caller may free it after the call. */
    size_t secret_len;           /**< bytes in secret, 16..BVT_SECRET_MAX */
    const double *type_weights;  /**< interest weight per built-in type (indexed by
                                      enum bvt_event_type), or NULL for defaults */
    uint32_t type_weights_len;   /**< entries in type_weights, <= BVT_EVENT_BUILTIN_COUNT */
    /* version 2 (@since 1.1) */
    int64_t retention_ms;        /**< how long behaviour is kept (bvt_engine_expire());
                                      0 = forever; else > 0 */
    uint32_t analytics_policy;   /**< enum bvt_analytics_policy; default BVT_ANALYTICS_TRACK */
    uint32_t segments_need_consent; /**< non-zero: users without the personalisation purpose
                                      are in no segment (bvt_segments_of(),
                                      bvt_segment_members(), bvt_segments_openrtb());
                                      default 0 (not enforced) */
} bvt_options;

#define BVT_OPTIONS_INIT { BVT_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0, 0, \
                           0, 0, NULL, 0, NULL, 0, 0, 0, 0 }

/**
 * @brief Initialise options to all defaults (for bindings).
 * @param opts options to fill; NULL is a no-op.
 * @since 1.0  Thread-safe for distinct objects.
 */
BVT_API void bvt_options_init(bvt_options *opts);

/**
 * @brief Default interest weight of a built-in event type.
 *
 * Defaults: page_view 1, search 1.5, add_to_cart 4, remove_from_cart 0,
 * purchase 8, impression 0, click 2, conversion 8, like 2, share 3,
 * comment 2, email_open 0.5.
 * @param type a built-in type.
 * @return the weight, or -1 for a type that is not built in.
 * @since 1.0  Thread-safe.
 */
BVT_API double bvt_default_type_weight(uint32_t type);

/**
 * @brief Create an engine.
 * @param[out] out    receives the engine; the caller frees it with bvt_engine_free().
 * @param opts        options; NULL is not allowed (the secret is required).
 * @param err         optional detail (names the offending option).
 * @return BVT_OK; BVT_EINVAL (out/opts NULL, option out of range, secret
 *         shorter than 16 or longer than BVT_SECRET_MAX bytes); BVT_EVERSION
 *         (opts->version too new);
 *         BVT_ENOMEM.  On failure *out is set to NULL.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_engine_new(bvt_engine **out, const bvt_options *opts, bvt_error *err);

/**
 * @brief Free an engine and everything it holds.  NULL is a no-op.
 * @param engine the engine; borrowed strings it returned become invalid.
 * @note Not thread-safe: no other call may use the engine during or after it.
 * @since 1.0
 */
BVT_API void bvt_engine_free(bvt_engine *engine);

/** Engine statistics.  Byte counts are what the engine holds, allocator
 * overhead excluded. */
#define BVT_STATS_VERSION 1u
typedef struct bvt_stats {
    uint32_t version;          /**< BVT_STATS_VERSION */
    uint64_t users;            /**< profiles held */
    uint64_t events_accepted;  /**< events applied since creation */
    uint64_t events_rejected;  /**< events refused with an error */
    uint64_t users_evicted;    /**< profiles evicted by the LRU policy */
    uint64_t bytes_total;      /**< all of the below plus registries */
    uint64_t bytes_table;      /**< fixed-size records + index, free slots included */
    uint64_t bytes_history;    /**< exact recent events + day aggregates */
    uint64_t bytes_cart;       /**< carts */
    uint64_t bytes_attributes; /**< attributes */
    uint64_t bytes_registry;   /**< category/string registries, keyword map, aliases */
    double bytes_per_user;     /**< bytes_table / users (0 without users) */
    uint32_t categories;       /**< interned categories */
    uint32_t record_bytes;     /**< size of one fixed profile record */
} bvt_stats;

#define BVT_STATS_INIT { BVT_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0 }

/**
 * @brief Read engine statistics.
 *
 * Counts are consistent per shard; across shards they are a sum taken shard
 * by shard while tracking continues.
 * @param engine the engine.
 * @param[in,out] out stats; out->version must be set (BVT_STATS_INIT).
 * @return BVT_OK; BVT_EINVAL (NULL argument, version 0); BVT_EVERSION
 *         (out->version too new).  Allocates nothing.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_engine_stats(bvt_engine *engine, bvt_stats *out);

/* ======================================================================
 * Categories and search keywords
 * ====================================================================== */

/**
 * Categories are '/'-separated paths ("home/bedroom/mattresses"), 1..255
 * bytes of UTF-8 without control characters, no empty segment, at most 16
 * levels.  They are interned once: each
 * gets a small id (1..65535) valid for the engine's life.  Interning a path
 * interns its ancestors.  Ids are dense and start at 1; 0 means "none".
 * A snapshot leaves out a category nothing uses any more (docs/privacy.md,
 * erasure): in an engine opened from it, that id names nothing and the
 * path, interned again, gets a new id.
 */

/**
 * @brief Intern a category path and return its id.
 * @param engine the engine.
 * @param path   NUL-terminated path.
 * @param[out] out_id the id (>= 1).
 * @param err    optional detail (byte offset of a bad segment).
 * @return BVT_OK; BVT_EINVAL (bad path); BVT_ELIMIT (65535 categories);
 *         BVT_ENOMEM.
 * @since 1.0  Thread-safe; lock-free when the path is already known.
 */
BVT_API int bvt_category_intern(bvt_engine *engine, const char *path,
                                uint32_t *out_id, bvt_error *err);

/**
 * @brief Look up a category id without interning.
 * @param engine the engine.
 * @param path   NUL-terminated path.
 * @param[out] out_id the id.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.0  Thread-safe, lock-free.
 */
BVT_API int bvt_category_lookup(const bvt_engine *engine, const char *path,
                                uint32_t *out_id);

/**
 * @brief Path of a category id.
 * @param engine the engine.
 * @param id     a category id.
 * @return borrowed string valid until bvt_engine_free(); NULL for an unknown id.
 * @since 1.0  Thread-safe, lock-free.
 */
BVT_API const char *bvt_category_name(const bvt_engine *engine, uint32_t id);

/**
 * @brief Parent of a category id.
 * @param engine the engine.
 * @param id     a category id.
 * @return the parent id, 0 for a top-level category or an unknown id.
 * @since 1.0  Thread-safe, lock-free.
 */
BVT_API uint32_t bvt_category_parent(const bvt_engine *engine, uint32_t id);

/**
 * @brief Map a search keyword to a category.
 *
 * Search text is lower-cased and split on characters other than ASCII
 * letters and digits (bytes >= 0x80 are kept as word bytes, so UTF-8 words
 * survive).  Each word found in the map credits its category with the search
 * event's weight, up to 8 words per event.  Mapping the same keyword again
 * replaces its category.  Keywords are matched exactly after lower-casing.
 * @param engine   the engine.
 * @param keyword  NUL-terminated, 1..63 bytes of UTF-8, one word as defined above.
 * @param category category path (interned if new).
 * @param err      optional detail (offset: the first bad byte of the keyword
 *                 or category).
 * @return BVT_OK; BVT_EINVAL (nothing is interned); BVT_ELIMIT (65535
 *         keywords or categories); BVT_ENOMEM.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_keyword_map(bvt_engine *engine, const char *keyword,
                            const char *category, bvt_error *err);

/**
 * @brief Stable 64-bit hash of an item id, as kept in carts.
 *
 * Carts hold item hashes, not item strings; hash your catalogue with this to
 * map them back.  Unkeyed (items are not personal data), stable across
 * versions and platforms: XXH3-64 with seed 0.
 * @param item_id the item id bytes.
 * @param len     bytes in item_id.
 * @return the hash.
 * @since 1.0  Thread-safe.
 */
BVT_API uint64_t bvt_item_hash(const void *item_id, size_t len);

/* ======================================================================
 * Tracking events
 * ====================================================================== */

#define BVT_EVENT_VERSION 1u
/**
 * One behavioural event.  Pointers are borrowed for the duration of the
 * call only.
 */
typedef struct bvt_event {
    uint32_t version;        /**< BVT_EVENT_VERSION */
    uint32_t type;           /**< enum bvt_event_type or a custom id */
    const void *user_id;     /**< raw user id bytes (hashed, never stored) */
    size_t user_id_len;      /**< 1..1024 */
    int64_t time_ms;         /**< event time, > 0 */
    const char *category;    /**< category path, or NULL */
    uint32_t category_id;    /**< an interned id, used when category is NULL; 0 = none */
    const char *item_id;     /**< NUL-terminated item id, or NULL */
    double value;            /**< the event's total monetary value (order value of a
                                  purchase, value of what a cart add added), finite, >= 0 */
    uint32_t quantity;       /**< items; 0 is read as 1 */
    const char *offer_id;    /**< NUL-terminated offer id, or NULL */
    int64_t dwell_ms;        /**< time on page, 0..86400000 */
    const char *search_text; /**< free text for BVT_EVENT_SEARCH, or NULL */
} bvt_event;

#define BVT_EVENT_INIT { BVT_EVENT_VERSION, 0, NULL, 0, 0, NULL, 0, NULL, 0.0, 0, NULL, 0, NULL }

/**
 * @brief Initialise an event (for bindings).
 * @param ev the event to fill; NULL is a no-op.
 * @since 1.0  Thread-safe for distinct objects.
 */
BVT_API void bvt_event_init(bvt_event *ev);

/**
 * @brief Track one event.
 *
 * The event updates the user's profile (created on first sight), in any
 * time order: a late event is placed where it belongs in the history and
 * decays from its own time.  When the call returns BVT_OK the event is
 * applied and visible to every reader; on error nothing changed.
 *
 * @param engine the engine.
 * @param ev     the event.
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL (missing user id, time <= 0, negative or
 *         non-finite value, dwell out of range, bad category path, unknown
 *         category_id); BVT_ETYPE; BVT_EVERSION; BVT_EFULL (a new user and
 *         the table is full under the reject policy, or the memory budget has
 *         no room even for this user's first history entry); BVT_ELIMIT
 *         (category registry full);
 *         BVT_ENOMEM; BVT_ECONSENT (@since 1.1: under BVT_ANALYTICS_DROP, a user
 *         without analytics consent; nothing changed).  Under
 *         BVT_ANALYTICS_ANONYMOUS such an event returns BVT_OK, changes no
 *         profile (none is created) and is counted in bvt_anonymous_counts().
 *         BVT_EIO (@since 1.1: the journal has failed; see bvt_engine_open()
 *         for when an accepted event is durable).
 * @since 1.0  Thread-safe.  Allocates nothing for a known user in steady state.
 */
BVT_API int bvt_event_track(bvt_engine *engine, const bvt_event *ev, bvt_error *err);

/** Events one bvt_event_track_batch() call takes at most (@since 1.1):
 * about a tenth of a second of work; send more in several calls. */
#define BVT_EVENT_BATCH_MAX 65536

/** Outcome of one event in a batch. */
typedef struct bvt_batch_error {
    size_t index; /**< position in the batch */
    int code;     /**< its status */
} bvt_batch_error;

/**
 * @brief Track a batch of events; the good ones are kept, the bad ones reported.
 *
 * Equivalent to calling bvt_event_track() on each event in order (events of
 * one user are applied in batch order), but faster: user ids are hashed and
 * profiles prefetched ahead, and each shard is locked once per run of events.
 * Events of different users may become visible in a different order.  When
 * the batch may fill the table under BVT_FULL_REJECT it is applied in event
 * order, so the same new users are refused as with single calls; under
 * BVT_FULL_EVICT_LRU, or when the memory budget runs out mid-batch, which
 * user is evicted or refused may differ from single calls.
 *
 * @param engine   the engine.
 * @param events   array of n events.
 * @param n        number of events, 0..BVT_EVENT_BATCH_MAX.
 * @param failures optional array that receives one entry per failed event,
 *                 in index order; may be NULL.
 * @param failures_cap capacity of failures.
 * @param[out] out_failed number of failed events (may exceed failures_cap); may be NULL.
 * @param err      optional detail about the first failure (offset = its index).
 * @return BVT_OK when every event was applied; otherwise the code of the first
 *         failed event (any status bvt_event_track() returns), and every
 *         valid event was applied.  BVT_EINVAL if engine is NULL, events is
 *         NULL with n > 0, or n > BVT_EVENT_BATCH_MAX, and BVT_ENOMEM if the batch's working block cannot
 *         be allocated: then no event was applied and *out_failed is 0.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_event_track_batch(bvt_engine *engine, const bvt_event *events, size_t n,
                                  bvt_batch_error *failures, size_t failures_cap,
                                  size_t *out_failed, bvt_error *err);

/* ======================================================================
 * Identity
 * ====================================================================== */

/**
 * @brief Merge an anonymous profile into a known one (identity resolution).
 *
 * Counts add; first/last times take min/max; interests merge after decaying
 * both to a common time; histories and carts merge (bounded as usual);
 * attributes of the known profile win.  The anonymous profile is removed and
 * its id becomes an alias: later events for it go to the known profile.
 * Aliasing an id to itself is BVT_EINVAL.  If the anonymous id has no
 * profile only the alias is recorded.  If the known id has none, the
 * anonymous profile is moved to it.
 *
 * @param engine the engine.
 * @param anon_id, anon_len   the anonymous id (e.g. a cookie).
 * @param known_id, known_len the known id (e.g. a login).
 * @param err optional detail.
 * @return BVT_OK; BVT_EINVAL; BVT_EEXIST (known_id is itself an alias, or
 *         anon_id is already an alias of another id); BVT_ELIMIT (alias table
 *         full: 1/4 of max_users, or 2^24 without a limit); BVT_EFULL; BVT_ENOMEM.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_user_alias(bvt_engine *engine, const void *anon_id, size_t anon_len,
                           const void *known_id, size_t known_len, bvt_error *err);

/**
 * @brief Whether the engine holds a profile for a user (following aliases).
 * @param engine the engine.
 * @param user_id, len the user.
 * @return 1 if it does, 0 if not (or on bad arguments).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_user_exists(bvt_engine *engine, const void *user_id, size_t len);

/* ======================================================================
 * Profile features (read at an explicit `now`)
 * ====================================================================== */

#define BVT_PROFILE_VERSION 1u
/**
 * A user's features at a time `now`.  Times are epoch ms, 0 when the thing
 * never happened.  Durations ending at `now` are clamped at 0 when an event
 * lies after `now`.
 */
typedef struct bvt_profile {
    uint32_t version;             /**< BVT_PROFILE_VERSION */
    /* recency / frequency / monetary */
    int64_t first_seen_ms;        /**< earliest event */
    int64_t last_seen_ms;         /**< latest event */
    int64_t recency_ms;           /**< now - last_seen */
    int64_t last_purchase_ms;     /**< latest purchase */
    int64_t purchase_recency_ms;  /**< now - last_purchase, or -1 without purchases */
    uint32_t purchases;           /**< purchase events */
    uint32_t purchase_days;       /**< distinct UTC days with a purchase */
    double monetary_total;        /**< sum of purchase values */
    double monetary_mean;         /**< monetary_total / purchases (0 without) */
    uint32_t r_score, f_score, m_score; /**< 1..5 from the last bvt_rfm_refresh(); 0 = not
                                          scored (no refresh yet, or no purchase) */
    /* counts per built-in type, indexed by enum bvt_event_type */
    uint32_t type_counts[BVT_EVENT_BUILTIN_COUNT];
    uint64_t events;              /**< all events, custom types included */
    /* engagement */
    uint32_t impressions, clicks, conversions;
    double ctr;                   /**< clicks / impressions (0 without impressions) */
    double conversion_rate;       /**< conversions / clicks (0 without clicks) */
    uint32_t interactions;        /**< likes + shares + comments */
    uint32_t sessions;            /**< runs of events separated by > session_gap */
    int64_t dwell_ms;             /**< total dwell time (kept to 100 ms) */
    double mean_dwell_ms;         /**< dwell_ms / page views (0 without) */
    /* cart */
    uint32_t cart_items;          /**< distinct items added and not bought or removed */
    double cart_value;            /**< sum of their values */
    int64_t cart_oldest_ms;       /**< when the oldest of them was added, 0 if empty */
    /* sizes */
    uint32_t interests;           /**< interests held (<= top_interests) */
    uint32_t attributes;          /**< attributes held */
    uint32_t history_events;      /**< events in the exact history */
    uint32_t history_day_slots;   /**< day aggregates in the history */
} bvt_profile;

/**
 * @brief Initialise a bvt_profile (for bindings).
 * @param p the profile to fill; NULL is a no-op.
 * @since 1.0  Thread-safe for distinct objects.
 */
BVT_API void bvt_profile_init(bvt_profile *p);

/**
 * @brief Read a user's features at `now`.
 * @param engine the engine.
 * @param user_id, len the user (aliases followed).
 * @param now    the time to evaluate at (> 0).
 * @param[in,out] out features; out->version must be set (bvt_profile_init()).
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION; BVT_ENOTFOUND (no such user).
 * @since 1.0  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_profile_get(bvt_engine *engine, const void *user_id, size_t len,
                            int64_t now, bvt_profile *out);

/** One interest of a user. */
typedef struct bvt_interest {
    uint32_t category_id;  /**< interned id */
    const char *category;  /**< borrowed path, valid until bvt_engine_free() */
    double score;          /**< decayed weight at `now` */
    double affinity;       /**< score / sum of the user's scores, in [0, 1] */
} bvt_interest;

/**
 * @brief A user's top interests at `now`, highest score first.
 *
 * Each event adds its type's weight to its category (and the ancestor credit
 * to each ancestor); scores halve every interest_half_life_ms.
 * @param engine the engine.
 * @param user_id, len the user.
 * @param now    evaluation time (> 0).
 * @param out    array for up to cap interests (may be NULL when cap is 0).
 * @param cap    capacity of out.
 * @param[out] out_n interests written (<= cap).
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.0  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_profile_interests(bvt_engine *engine, const void *user_id, size_t len,
                                  int64_t now, bvt_interest *out, size_t cap,
                                  size_t *out_n);

/** One item in a user's cart. */
typedef struct bvt_cart_item {
    uint64_t item_hash;    /**< bvt_item_hash() of the item id (0 if none was given) */
    uint32_t category_id;  /**< 0 if none */
    uint32_t quantity;
    double value;          /**< total value added for this item */
    int64_t added_ms;      /**< latest add of this item */
} bvt_cart_item;

/**
 * @brief Items a user added to the cart and has not bought or removed, oldest first.
 *
 * add_to_cart adds (same item: quantity adds, time updates); remove_from_cart
 * removes the item (or all items of its category when no item id is given);
 * a purchase removes its item, or, without an item id, empties the cart
 * (a checkout) — a later-tracked add older than that checkout is ignored.
 * When the cart is full the oldest item makes room.
 * @param engine the engine.
 * @param user_id, len the user.
 * @param out array for up to cap items (may be NULL when cap is 0).
 * @param cap capacity.
 * @param[out] out_n items written.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_profile_cart(bvt_engine *engine, const void *user_id, size_t len,
                             bvt_cart_item *out, size_t cap, size_t *out_n);

/* ======================================================================
 * Behaviour history (windowed counts)
 * ====================================================================== */

/**
 * @brief Count and sum a user's events of a type and category in a window.
 *
 * The window covers events with `now - window_ms < t <= now`.  Events held
 * exactly (the most recent history_events of the user) are counted exactly.
 * A window starting at or after the oldest exactly held event is exact.
 * Older events are kept as per-UTC-day aggregates: a day aggregate counts in
 * full when any part of its day lies in the window, so for them the window is
 * rounded outward to whole UTC days; when the day tier fills, old days lose
 * their categories before any day is dropped.  See docs/history.md.
 *
 * @param engine    the engine.
 * @param user_id, len the user.
 * @param type      event type id, or UINT32_MAX for any type.
 * @param category  category path (descendants included), or NULL for any.
 * @param window_ms window length, 1..history_horizon_ms.
 * @param now       end of the window (> 0).
 * @param[out] out_count events in the window (may be NULL).
 * @param[out] out_sum   sum of their values (may be NULL).
 * @return BVT_OK; BVT_EINVAL; BVT_ERANGE (window beyond the horizon);
 *         BVT_ENOTFOUND (no such user; an unknown category gives BVT_OK and 0).
 * @since 1.0  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_history_count(bvt_engine *engine, const void *user_id, size_t len,
                              uint32_t type, const char *category, int64_t window_ms,
                              int64_t now, uint64_t *out_count, double *out_sum);

/* ======================================================================
 * RFM: lifetimes summary and population scores
 * ====================================================================== */

/** The summary used by BTYD models (lifetimes' summary_data_from_transaction_data). */
typedef struct bvt_rfm_summary {
    double frequency;      /**< distinct purchase days - 1 (repeat purchase days) */
    double recency;        /**< last - first purchase day, in units */
    double T;              /**< observation end - first purchase day, in units */
    double monetary_value; /**< mean value per repeat purchase day (first day excluded), 0 without repeats */
} bvt_rfm_summary;

/**
 * @brief The lifetimes / BTYD summary of a user's purchases up to `end_ms`.
 *
 * Purchases are snapped to their UTC day and summed per day; purchases after
 * the day of `end_ms` are ignored.  Exact when end_ms is at or after the
 * user's last purchase; otherwise computed from the behaviour history, and
 * BVT_ERANGE when purchases on or before the end have already left it.
 *
 * @param engine   the engine.
 * @param user_id, len the user.
 * @param end_ms   observation end (any time on the end day).
 * @param unit_ms  time unit, e.g. 86400000 for days, 604800000 for weeks (> 0).
 * @param[out] out the summary.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND (no user, or no purchase up to end);
 *         BVT_ERANGE; BVT_ENOMEM (working space when computed from history).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_rfm_summary_get(bvt_engine *engine, const void *user_id, size_t len,
                                int64_t end_ms, int64_t unit_ms, bvt_rfm_summary *out);

/**
 * @brief Recompute the population quintiles behind r_score, f_score, m_score.
 *
 * Over users with at least one purchase: R from the time of the last
 * purchase (more recent is higher), F from purchase days, M from total value.
 * Scores rank buyers, so each level 1..5 holds a fifth of them even where
 * values tie (most buyers buy on one day only): in each dimension buyers
 * are ordered by its value, ties broken by the other two values (F: spend,
 * then recency; M: purchase days, then recency; R: purchase days, then
 * spend; higher ranks higher) and last by the user's keyed hash, arbitrary
 * but the same at every refresh.  A score is 1 + the number of quintile cut
 * points the buyer ranks above.  With more than 1,000,000 buyers the cut points come
 * from a seeded uniform sample of 1,000,000 (rank error below 0.2% at 95%).
 * The scores then hold until the next refresh; new users are scored against
 * the stored cut points.  Takes each shard's lock in turn, briefly.
 * @param engine the engine.
 * @param now    the time of the refresh (recorded; > 0).
 * @param[out] out_buyers number of buyers seen (may be NULL).
 * @return BVT_OK; BVT_EINVAL; BVT_ENOMEM.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_rfm_refresh(bvt_engine *engine, int64_t now, uint64_t *out_buyers);

/* ======================================================================
 * Attributes (demographic / psychographic, set by the caller)
 * ====================================================================== */

/** Kind of an attribute value. */
enum bvt_attr_kind { BVT_ATTR_NUMBER = 1, BVT_ATTR_STRING = 2 };

/**
 * @brief Set a numeric attribute (e.g. "income") on a user, creating the
 * profile if needed (a profile without events has first_seen_ms 0).
 * @param engine the engine.
 * @param user_id, len the user.
 * @param key   NUL-terminated, 1..63 bytes of UTF-8.
 * @param value finite number.
 * @return BVT_OK; BVT_EINVAL; BVT_ELIMIT (user has max_attributes already,
 *         attributes are off (BVT_NONE), or the engine's string registry is
 *         full); BVT_EFULL (user table or memory budget at its limit); BVT_ENOMEM;
 *         BVT_EIO (the journal has failed: see bvt_engine_open()).
 *         bvt_attr_set_number_v2() says which failure it was.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_attr_set_number(bvt_engine *engine, const void *user_id, size_t len,
                                const char *key, double value);

/**
 * @brief bvt_attr_set_number() with an explanation of every failure.
 *
 * Sets a numeric attribute exactly as bvt_attr_set_number() does (that
 * call is this one with err NULL), and on failure fills `err` with what
 * was wrong and what to do about it.
 * @param engine the engine.
 * @param user_id, len the user (1..1024 bytes); the raw id is not kept.
 * @param key   NUL-terminated, 1..63 bytes of UTF-8; copied (interned).
 * @param value finite number.
 * @param[out] err detail on failure (may be NULL): the message names the
 *         argument or limit; for a key that is not UTF-8, `offset` is its
 *         first bad byte, else -1.  Untouched on success.
 * @return BVT_OK; BVT_EINVAL (NULL engine, bad id, bad key, a value that is
 *         NaN or infinite); BVT_ELIMIT (the user has max_attributes already,
 *         attributes are off (max_attributes BVT_NONE), or the engine's 2^20
 *         attribute strings are in use); BVT_EFULL (no room for a new profile
 *         under BVT_FULL_REJECT, or the memory budget refuses the attribute);
 *         BVT_ENOMEM; BVT_EIO (the journal has failed: nothing changes; or
 *         it failed while this change was journaled: the attribute is set in
 *         memory but not durable).  On any failure but that last one
 *         nothing changes, and no profile is left created.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_attr_set_number_v2(bvt_engine *engine, const void *user_id, size_t len,
                                   const char *key, double value, bvt_error *err);

/**
 * @brief Set a string attribute (e.g. "age_band" = "25-34").
 * Strings are interned engine-wide (at most 1..255 bytes; 2^20 distinct
 * strings per engine): use them for bounded vocabularies, not free text.
 * @param engine the engine.
 * @param user_id, len the user.
 * @param key   NUL-terminated, 1..63 bytes of UTF-8.
 * @param value NUL-terminated, 1..255 bytes of UTF-8; copied.
 * @return as bvt_attr_set_number().  bvt_attr_set_string_v2() says which
 *         failure it was.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_attr_set_string(bvt_engine *engine, const void *user_id, size_t len,
                                const char *key, const char *value);

/**
 * @brief bvt_attr_set_string() with an explanation of every failure.
 *
 * Sets a string attribute exactly as bvt_attr_set_string() does (that call
 * is this one with err NULL), and on failure fills `err`.
 * @param engine the engine.
 * @param user_id, len the user (1..1024 bytes); the raw id is not kept.
 * @param key   NUL-terminated, 1..63 bytes of UTF-8; copied (interned).
 * @param value NUL-terminated, 1..255 bytes of UTF-8; copied (interned
 *              engine-wide, as bvt_attr_set_string() says).
 * @param[out] err detail on failure (may be NULL): the message names the
 *         argument or limit; for a key or value that is not UTF-8, `offset`
 *         is its first bad byte, else -1.  Untouched on success.
 * @return as bvt_attr_set_number_v2(), BVT_EINVAL also for a bad value.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_attr_set_string_v2(bvt_engine *engine, const void *user_id, size_t len,
                                   const char *key, const char *value, bvt_error *err);

/**
 * @brief Read an attribute.
 * @param engine the engine.
 * @param user_id, len the user.
 * @param key   NUL-terminated name.
 * @param[out] out_kind    BVT_ATTR_NUMBER or BVT_ATTR_STRING (may be NULL).
 * @param[out] out_number  the number for numeric attributes (may be NULL).
 * @param[out] out_string  borrowed string for string attributes, valid until
 *                         bvt_engine_free() (may be NULL).
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND (no user or no such attribute).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_attr_get(bvt_engine *engine, const void *user_id, size_t len,
                         const char *key, int *out_kind, double *out_number,
                         const char **out_string);

/**
 * @brief Remove an attribute.
 * @param engine the engine.
 * @param user_id, len the user.
 * @param key   NUL-terminated name.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND (no user or no such attribute);
 *         BVT_EIO (the journal has failed: see bvt_engine_open()).
 *         bvt_attr_unset_v2() says which failure it was.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_attr_unset(bvt_engine *engine, const void *user_id, size_t len,
                           const char *key);

/**
 * @brief bvt_attr_unset() with an explanation of every failure.
 *
 * Removes an attribute exactly as bvt_attr_unset() does (that call is this
 * one with err NULL), and on failure fills `err`.  Never creates a profile.
 * @param engine the engine.
 * @param user_id, len the user (1..1024 bytes).
 * @param key   NUL-terminated, 1..63 bytes of UTF-8.
 * @param[out] err detail on failure (may be NULL): the message says whether
 *         the user or the attribute is missing; for a key that is not UTF-8,
 *         `offset` is its first bad byte, else -1.  Untouched on success.
 * @return BVT_OK; BVT_EINVAL (NULL engine, bad id or key); BVT_ENOTFOUND (no
 *         such user, or the user has no such attribute); BVT_ENOMEM; BVT_EIO
 *         (the journal has failed: nothing changes; or it failed while this
 *         change was journaled: the attribute is gone from memory, and the
 *         removal is not durable).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_attr_unset_v2(bvt_engine *engine, const void *user_id, size_t len,
                              const char *key, bvt_error *err);

/* ======================================================================
 * Iterating users (audience export)
 * ====================================================================== */

/** A user as the engine knows it: the keyed hash, never the raw id. */
typedef struct bvt_user_key {
    uint64_t hi, lo;
} bvt_user_key;

/**
 * @brief Callback for bvt_engine_foreach_user().
 * @param key  the user's hashed id.
 * @param p    the user's features at the iteration's `now` (borrowed for the call).
 * @param ud   the caller's pointer.
 * @return 0 to continue, anything else to stop (returned by the iteration).
 */
typedef int (*bvt_user_fn)(const bvt_user_key *key, const bvt_profile *p, void *ud);

/**
 * @brief Visit every user with their features at `now`.
 *
 * Works in small chunks: a shard is locked only while up to 256 profiles are
 * copied out, and the callback runs without any lock (it may call the
 * engine).  Every user present for the whole iteration is visited exactly
 * once; users added or removed meanwhile may or may not be visited.
 * @param engine the engine.
 * @param now    evaluation time.
 * @param fn     callback.
 * @param ud     passed to fn.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOMEM (chunk buffer); or the callback's
 *         non-zero value.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_engine_foreach_user(bvt_engine *engine, int64_t now, bvt_user_fn fn,
                                    void *ud);

/**
 * @brief The keyed hash the engine uses for a raw user id.
 * @param engine the engine.
 * @param user_id, len the raw id (1..1024 bytes).
 * @param[out] out the key.
 * @return BVT_OK; BVT_EINVAL.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_user_key_of(const bvt_engine *engine, const void *user_id, size_t len,
                            bvt_user_key *out);

/**
 * @brief The lifetimes / BTYD summary of the user with a keyed hash.
 *
 * As bvt_rfm_summary_get(), for a user known only by key: the keys that
 * bvt_engine_foreach_user() and bvt_segment_members() report, e.g. over a
 * state directory, which holds no raw ids.  The key of an aliased id
 * leads to the profile it is an alias of, as the id does.
 * @param engine   the engine.
 * @param key      the user's keyed hash.
 * @param end_ms   observation end (any time on the end day).
 * @param unit_ms  time unit (> 0).
 * @param[out] out the summary.
 * @return as bvt_rfm_summary_get().
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_rfm_summary_get_key(bvt_engine *engine, const bvt_user_key *key,
                                    int64_t end_ms, int64_t unit_ms, bvt_rfm_summary *out);

/* ======================================================================
 * Consent
 * ====================================================================== */

/**
 * Built-in consent purposes, named "personalisation", "ads" and "analytics"
 * in rules.  Caller-defined purposes get the ids above them; an engine has
 * at most BVT_PURPOSES_MAX purposes in all.
 */
enum bvt_purpose {
    BVT_PURPOSE_PERSONALISATION = 0,
    BVT_PURPOSE_ADS = 1,
    BVT_PURPOSE_ANALYTICS = 2,
    BVT_PURPOSES_MAX = 32 /**< purpose ids are < this; 29 caller-defined at most */
};

/**
 * @brief Look up a consent purpose by name, or register it.
 *
 * Purposes are never removed: an id stays valid, and means the same name,
 * for the engine's life.  Registering a name that exists (a built-in
 * included) returns its id.  Rules name purposes in consent(); register a
 * purpose before defining a segment that names it.
 * @param engine the engine.
 * @param name   NUL-terminated, 1..31 bytes of [a-z0-9_].
 * @param create 0 to look up only; non-zero to register the name if unknown.
 * @param[out] out_id the purpose id (< BVT_PURPOSES_MAX).
 * @return BVT_OK; BVT_EINVAL (NULL argument or bad name); BVT_ENOTFOUND
 *         (create is 0 and the name is unknown); BVT_ELIMIT (create is set
 *         and BVT_PURPOSES_MAX purposes exist).
 * @since 1.0  Thread-safe; lookups never wait for a registration.
 */
BVT_API int bvt_consent_purpose(bvt_engine *engine, const char *name, int create,
                                uint32_t *out_id);

/**
 * @brief Record a user's consent choice for one purpose, creating the
 * profile if needed (a profile without events has first_seen_ms 0).
 *
 * `time_ms` is when the user made the choice, and orders choices: one older
 * than the user's last recorded choice for the purpose is ignored (a late
 * arrival) and the call still returns BVT_OK.  At equal times a denial wins,
 * so the outcome does not depend on the order of calls.  Segments read the
 * choice at once through consent() in rules.
 * @param engine  the engine.
 * @param user_id, len the user (1..1024 bytes).
 * @param purpose a purpose id (built-in or registered).
 * @param granted non-zero grants the purpose, 0 denies (withdraws) it.
 * @param time_ms when the user chose (> 0).
 * @return BVT_OK; BVT_EINVAL (bad id, unknown purpose id, time_ms <= 0);
 *         BVT_EFULL (the user table or memory budget is at its limit);
 *         BVT_ENOMEM; BVT_EIO (the journal has failed: see bvt_engine_open()).
 *         bvt_consent_set_v2() says which failure it was.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_consent_set(bvt_engine *engine, const void *user_id, size_t len,
                            uint32_t purpose, int granted, int64_t time_ms);

/**
 * @brief bvt_consent_set() with an explanation of every failure.
 *
 * Records a consent choice exactly as bvt_consent_set() does (that call is
 * this one with err NULL: same ordering of choices by time_ms, a late
 * arrival ignored with BVT_OK), and on failure fills `err`.
 * @param engine  the engine.
 * @param user_id, len the user (1..1024 bytes); the raw id is not kept.
 * @param purpose a purpose id (built-in, or from bvt_consent_purpose()).
 * @param granted non-zero grants the purpose, 0 denies (withdraws) it.
 * @param time_ms when the user chose (> 0).
 * @param[out] err detail on failure (may be NULL; `offset` is -1).
 *         Untouched on success.
 * @return BVT_OK; BVT_EINVAL (NULL engine, bad id, a purpose id the engine
 *         does not have, time_ms <= 0); BVT_EFULL (no room for a new
 *         profile under BVT_FULL_REJECT, or the memory budget refuses the
 *         choice); BVT_ENOMEM; BVT_EIO (the journal has failed: nothing
 *         changes; or it failed while this change was journaled: the choice
 *         is recorded in memory but not durable).  On any failure but that
 *         last one nothing changes, and no profile is left created.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_consent_set_v2(bvt_engine *engine, const void *user_id, size_t len,
                               uint32_t purpose, int granted, int64_t time_ms,
                               bvt_error *err);

/**
 * @brief Whether a user granted a purpose.  Privacy by default: a purpose
 * the user never chose for is not granted.
 * @param engine  the engine.
 * @param user_id, len the user.
 * @param purpose a purpose id (built-in or registered).
 * @param[out] out_granted 1 granted; 0 denied or never chosen (also set to 0
 *         when the user is unknown).
 * @return BVT_OK; BVT_EINVAL (bad id, unknown purpose id, NULL out_granted);
 *         BVT_ENOTFOUND (no such user).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_consent_get(bvt_engine *engine, const void *user_id, size_t len,
                            uint32_t purpose, int *out_granted);

/* ======================================================================
 * Segments
 * ====================================================================== */

#define BVT_SEGMENT_NAME_MAX 63
#define BVT_SEGMENTS_MAX 4096

/** Caller-named keys one bvt_context holds at most (@since 1.1): rules
 * read ctx.\<key\> by scanning them, once per rule and offer. */
#define BVT_CONTEXT_KEYS_MAX 64

#define BVT_CONTEXT_VERSION 1u
/**
 * The request a decision is made for (contextual targeting).  Rules read it
 * as ctx.page_category, ctx.device, ctx.geo, ctx.hour and ctx.\<key\> for the
 * caller-named pairs.  Pointers are borrowed for the duration of the call.
 */
typedef struct bvt_context {
    uint32_t version;          /**< BVT_CONTEXT_VERSION */
    const char *page_category; /**< category path of the page, or NULL */
    const char *device;        /**< e.g. "mobile", or NULL */
    const char *geo;           /**< e.g. "FR", or NULL */
    int32_t hour;              /**< 0..23 local hour, or -1 when unknown */
    const char *const *keys;   /**< n caller-named keys (NUL-terminated) */
    const char *const *values; /**< their values */
    size_t n;                  /**< pairs in keys and values, 0..BVT_CONTEXT_KEYS_MAX */
} bvt_context;

#define BVT_CONTEXT_INIT { BVT_CONTEXT_VERSION, NULL, NULL, NULL, -1, NULL, NULL, 0 }

/**
 * @brief Initialise a context (for bindings); hour is -1.
 * @param ctx the context to fill; NULL is a no-op.
 * @since 1.0  Thread-safe for distinct objects.
 */
BVT_API void bvt_context_init(bvt_context *ctx);

/**
 * @brief Define a segment by a rule, or replace the rule of an existing one.
 *
 * The rule language is in docs/rules.md.  The rule is compiled once here;
 * evaluation never parses.  A replaced segment keeps its id.  Readers that
 * are evaluating segments meanwhile finish with the definitions they
 * started with; nobody waits for the compile.
 * @param engine the engine.
 * @param name   NUL-terminated, 1..63 bytes of UTF-8, not starting with a space.
 * @param rule   NUL-terminated rule text (at most 4 KiB of UTF-8).
 * @param[out] out_id the segment's id (may be NULL).
 * @param err    optional detail: message and byte offset in the rule (or in
 *               the name, for a name that is not UTF-8).
 * @return BVT_OK; BVT_EINVAL (bad name, type mismatch, bad literal);
 *         BVT_ESYNTAX; BVT_ENOTFOUND (unknown feature, type, purpose or
 *         segment); BVT_ERANGE (window beyond the history horizon);
 *         BVT_ECYCLE; BVT_ELIMIT (BVT_SEGMENTS_MAX segments); BVT_EEXIST (the
 *         name is a built-in segment); BVT_ENOMEM.
 * @since 1.0  Thread-safe; definitions are serialised among themselves.
 */
BVT_API int bvt_segment_define(bvt_engine *engine, const char *name, const char *rule,
                               uint32_t *out_id, bvt_error *err);

/**
 * @brief Remove a segment.
 * @param engine the engine.
 * @param name   NUL-terminated segment name.
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND; BVT_EEXIST (another segment
 *         names it in in_segment(), or it is built in; err names which).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_segment_remove(bvt_engine *engine, const char *name, bvt_error *err);

/**
 * @brief Look up a segment id by name.
 * @param engine the engine.
 * @param name   NUL-terminated segment name.
 * @param[out] out_id the id.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_segment_lookup(bvt_engine *engine, const char *name, uint32_t *out_id);

/**
 * @brief Name of a segment id (defined now or ever).
 * @param engine the engine.
 * @param id     a segment id.
 * @return borrowed string valid until bvt_engine_free(), or NULL.
 * @since 1.0  Thread-safe.
 */
BVT_API const char *bvt_segment_name(bvt_engine *engine, uint32_t id);

/**
 * @brief Ids of the segments defined now, built-in first, then in order of
 * first definition.
 * @param engine the engine.
 * @param out array for up to cap ids (may be NULL when cap is 0).
 * @param cap its length.
 * @param[out] out_n number of segments (may exceed cap).
 * @return BVT_OK; BVT_EINVAL.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_segment_list(bvt_engine *engine, uint32_t *out, size_t cap, size_t *out_n);

/**
 * @brief The segments a user is in at `now` in a request context.
 * @param engine the engine.
 * @param user_id, len the user (aliases followed).
 * @param now    evaluation time (> 0).
 * @param ctx    the request, or NULL for none (ctx.* comparisons are false).
 * @param out    array for up to cap segment ids, in bvt_segment_list() order.
 * @param cap    capacity of out.
 * @param[out] out_n number of segments the user is in (may exceed cap).
 * With bvt_options.segments_need_consent set, a user without the
 * personalisation purpose is in no segment (BVT_OK, *out_n 0; @since 1.1).
 * @return BVT_OK; BVT_EINVAL (also ctx->n > 0 without keys/values, or
 *         ctx->n > BVT_CONTEXT_KEYS_MAX);
 *         BVT_EVERSION (context version too new); BVT_ENOTFOUND (no such user).
 * @since 1.0  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_segments_of(bvt_engine *engine, const void *user_id, size_t len, int64_t now,
                            const bvt_context *ctx, uint32_t *out, size_t cap, size_t *out_n);

/**
 * @brief Callback for bvt_segment_members(): one member's keyed hash.
 * @return 0 to continue, anything else to stop.
 */
typedef int (*bvt_member_fn)(const bvt_user_key *key, void *ud);

/**
 * @brief Visit the members of a segment at `now` (audience export).
 *
 * Works shard by shard in chunks, as bvt_engine_foreach_user(); the
 * callback runs without locks.  Pass fn NULL to only count.  With
 * bvt_options.segments_need_consent set, users without the
 * personalisation purpose are never members (@since 1.1).
 * @param engine  the engine.
 * @param segment a segment id.
 * @param now     evaluation time (> 0).
 * @param ctx     the request, or NULL.
 * @param fn      callback, or NULL.
 * @param ud      passed to fn.
 * @param[out] out_count members visited (may be NULL).
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION (context version too new);
 *         BVT_ENOTFOUND (no such segment); BVT_ENOMEM; or the callback's
 *         non-zero value.
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_segment_members(bvt_engine *engine, uint32_t segment, int64_t now,
                                const bvt_context *ctx, bvt_member_fn fn, void *ud,
                                uint64_t *out_count);

/* ======================================================================
 * Behavioural clusters (k-means)
 * ====================================================================== */

#define BVT_CLUSTERS_MAX 32
/** Largest bvt_cluster_options.sample (@since 1.1): the fit holds the sample
 * in memory (about 128 bytes a user) and passes over it each iteration. */
#define BVT_CLUSTER_SAMPLE_MAX 1000000u
/** Largest bvt_cluster_options.max_iterations (@since 1.1). */
#define BVT_CLUSTER_ITERATIONS_MAX 1000u

#define BVT_CLUSTER_OPTIONS_VERSION 1u
/** Options of bvt_cluster_run().  Zero means the default. */
typedef struct bvt_cluster_options {
    uint32_t version;        /**< BVT_CLUSTER_OPTIONS_VERSION */
    uint32_t k;              /**< clusters, 2..BVT_CLUSTERS_MAX; default 8 */
    uint64_t seed;           /**< k-means++ seeding and sampling; same seed, same clusters */
    uint32_t max_iterations; /**< Lloyd iterations at most, 1..BVT_CLUSTER_ITERATIONS_MAX;
                                  default 50 */
    uint64_t sample;         /**< users sampled to fit (all if fewer),
                                  1..BVT_CLUSTER_SAMPLE_MAX; default 200,000 */
} bvt_cluster_options;

#define BVT_CLUSTER_OPTIONS_INIT { BVT_CLUSTER_OPTIONS_VERSION, 0, 0, 0, 0 }

/** One cluster as fitted. */
typedef struct bvt_cluster_info {
    uint32_t segment;            /**< id of its segment ("Cluster 1", ...) */
    uint64_t size;               /**< users of the population assigned to it */
    double mean_recency_days;    /**< mean days since last seen */
    double mean_frequency;       /**< mean purchase days */
    double mean_monetary;        /**< mean monetary total */
    uint32_t top_categories[3];  /**< top-level categories with the highest mean affinity (0 = none) */
    double top_affinity[3];      /**< their mean affinity */
} bvt_cluster_info;

#define BVT_CLUSTER_REPORT_VERSION 1u
/** What bvt_cluster_run() found. */
typedef struct bvt_cluster_report {
    uint32_t version;            /**< BVT_CLUSTER_REPORT_VERSION */
    uint32_t k;
    uint32_t iterations;         /**< Lloyd iterations run */
    double inertia;              /**< sum of squared distances to the centroids (fitted sample) */
    uint64_t users;              /**< users assigned (the whole population) */
    bvt_cluster_info clusters[BVT_CLUSTERS_MAX];
} bvt_cluster_report;

/**
 * @brief Segment the population by k-means over interest and RFM features.
 *
 * Each user is a vector of their affinity to each top-level category (their
 * interests summed up the tree) and of log1p(recency in days),
 * log1p(purchase days) and log1p(monetary total), standardised over the
 * sample.  Seeding is k-means++ from `seed`; the result is deterministic.
 * The clusters become built-in segments "Cluster 1" .. "Cluster k"
 * (replacing those of an earlier run, and a caller's segments of those
 * names), usable in rules as `cluster == 3`; a user's cluster is the nearest
 * centroid, computed when a segment is evaluated, so new users are placed
 * too.  The sampling pass holds each shard's lock in turn while it scans that
 * shard (as bvt_rfm_refresh() does); the report pass works in chunks.
 * @param engine the engine.
 * @param now    the time features are read at (> 0).
 * @param opts   options, or NULL for defaults.
 * @param[out] out the report (out->version set by the caller), or NULL.
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL (k, max_iterations or sample out of range,
 *         fewer users than k, a version 0); BVT_EVERSION (opts or out version too new); BVT_ELIMIT (no room for the cluster segments);
 *         BVT_ENOMEM.
 * @since 1.0  Thread-safe; runs are serialised.
 */
BVT_API int bvt_cluster_run(bvt_engine *engine, int64_t now, const bvt_cluster_options *opts,
                            bvt_cluster_report *out, bvt_error *err);

/* ======================================================================
 * OpenRTB export
 * ====================================================================== */

/** Mappings one bvt_segments_openrtb() call takes at most (@since 1.1). */
#define BVT_IAB_MAPPINGS_MAX 4096
/** Bytes in an IAB id of a mapping (@since 1.1). */
#define BVT_IAB_ID_MAX 63

/** A caller's mapping of one of our segments to an IAB Audience Taxonomy id. */
typedef struct bvt_iab_mapping {
    uint32_t segment;   /**< our segment id */
    const char *iab_id; /**< IAB Audience Taxonomy 1.1 node id, e.g. "243":
                             1..BVT_IAB_ID_MAX bytes of UTF-8 */
} bvt_iab_mapping;

/**
 * @brief A user's segments as an OpenRTB 2.6 `user.data` JSON array.
 *
 * Writes `[{"id":PROVIDER,"name":PROVIDER,"segment":[{"id":"17","name":"Champions"},...]}]`
 * and, when any of the user's segments is mapped, a second Data object
 * `{"name":PROVIDER,"ext":{"segtax":4},"segment":[{"id":"243"},...]}` with
 * the IAB Audience Taxonomy ids.  Strings are JSON-escaped.  The segments
 * are bvt_segments_of()'s, so segments_need_consent applies (an empty
 * segment array for a user without the personalisation purpose).
 * @param engine the engine.
 * @param user_id, len the user.
 * @param now    evaluation time.
 * @param ctx    the request, or NULL.
 * @param provider the data provider name (1..63 bytes of UTF-8), e.g. your domain.
 * @param map, n_map the mappings (map may be NULL when n_map is 0);
 *               n_map 0..BVT_IAB_MAPPINGS_MAX.
 * @param buf    output buffer, NUL-terminated on success.
 * @param cap    its size.
 * @param[out] out_len bytes written without the NUL (required); on BVT_ERANGE the
 *             JSON's length, so a buffer of *out_len + 1 bytes suffices.
 * @return BVT_OK; BVT_EINVAL (also a provider or IAB id that is not
 *         UTF-8 or too long, n_map > BVT_IAB_MAPPINGS_MAX); BVT_EVERSION
 *         (context version too new); BVT_ENOTFOUND (no such user);
 *         BVT_ERANGE (buf too small).
 * @since 1.0  Thread-safe.
 */
BVT_API int bvt_segments_openrtb(bvt_engine *engine, const void *user_id, size_t len,
                                 int64_t now, const bvt_context *ctx, const char *provider,
                                 const bvt_iab_mapping *map, size_t n_map, char *buf,
                                 size_t cap, size_t *out_len);

/* ======================================================================
 * Offers: the catalog
 * ====================================================================== */

/**
 * An offer is something the engine can rank for a user: an ad, a banner, a
 * recommendation.  Offers are defined by id; each definition publishes a new
 * immutable version of the catalog, so ranking never waits for a definer.
 * An id defined once keeps its numeric id, its statistics and the users'
 * cap state for the engine's life, also across removal and redefinition.
 *
 * Feedback reaches offers through ordinary events: an event of type
 * impression, click, conversion, dismiss, like, share or comment whose
 * `offer_id` names a defined offer updates that offer's frequency caps (per
 * user), its bandit statistics and its metrics in the same call that
 * updates the profile.  An event naming an offer id never defined is still
 * applied to the profile and counted in bvt_metrics_unattributed().
 */

#define BVT_OFFER_ID_MAX 63      /**< bytes in an offer or group id (UTF-8) */
#define BVT_OFFERS_MAX 65535     /**< offer ids ever defined per engine */
#define BVT_OFFER_TAGS_MAX 8     /**< tags per offer */
#define BVT_OFFER_CAPS_MAX 4     /**< caps per offer and per group */
#define BVT_CAP_MAX_COUNT 255    /**< largest count a cap allows */
#define BVT_OFFER_SEGMENTS_MAX 15 /**< segments offers learn and report by */

/** A frequency cap: at most `max` impressions in any `window_ms` ending now. */
typedef struct bvt_cap {
    uint32_t max;      /**< impressions allowed, 1..BVT_CAP_MAX_COUNT */
    int64_t window_ms; /**< sliding window, > 0: an impression at t counts while now - window_ms < t */
} bvt_cap;

#define BVT_OFFER_VERSION 1u
/**
 * An offer definition.  Pointers are borrowed for the duration of
 * bvt_offer_define(); the engine copies what it keeps.
 */
typedef struct bvt_offer {
    uint32_t version;            /**< BVT_OFFER_VERSION */
    const char *id;              /**< 1..63 bytes of UTF-8, NUL-terminated; no control
                                      characters */
    const char *const *tags;     /**< category paths the offer is about (interned if new);
                                      the user's affinity to them raises the prior */
    size_t n_tags;               /**< 0..BVT_OFFER_TAGS_MAX */
    const char *rule;            /**< eligibility rule (docs/rules.md), NULL = every user */
    double value;                /**< revenue per response, finite, >= 0; 0 scores as 1 */
    uint32_t response;           /**< what the bandit learns and value is paid for:
                                      BVT_EVENT_CLICK (also when 0) or BVT_EVENT_CONVERSION */
    double cost;                 /**< cost per cost_per event, finite, >= 0 */
    uint32_t cost_per;           /**< BVT_EVENT_IMPRESSION (also when 0) or BVT_EVENT_CLICK */
    const bvt_cap *caps;         /**< per-user frequency caps of this offer */
    size_t n_caps;               /**< 0..BVT_OFFER_CAPS_MAX */
    const char *group;           /**< campaign group whose caps also apply
                                      (bvt_offer_group_define()), or NULL */
    int64_t cooloff_ms;          /**< after the user dismisses it, hidden this long; 0 = never hidden */
    int64_t start_ms;            /**< shown when start_ms <= now (0 = no start) */
    int64_t end_ms;              /**< and now < end_ms (0 = no end) */
    int32_t priority;            /**< higher tiers fill the slots before lower ones; default 0 */
    uint64_t budget_impressions; /**< total impressions over all users; 0 = unlimited */
    int personalised;            /**< non-zero: needs the user's ads consent (retargeting) */
} bvt_offer;

#define BVT_OFFER_INIT { BVT_OFFER_VERSION, NULL, NULL, 0, NULL, 0.0, 0, 0.0, 0, NULL, 0, \
                         NULL, 0, 0, 0, 0, 0, 0 }

/**
 * @brief Initialise an offer (for bindings).
 * @param offer the offer to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_offer_init(bvt_offer *offer);

/**
 * @brief Define an offer, or replace the definition of an existing id.
 *
 * The eligibility rule is compiled here.  A replaced offer keeps its numeric
 * id, statistics, metrics, budget spent and every user's cap state; new caps
 * apply to impressions already recorded.  Rankings in progress finish with
 * the catalog they started with.
 * @param engine the engine.
 * @param offer  the definition.
 * @param[out] out_id the offer's numeric id, >= 1 (may be NULL).
 * @param err    optional detail: which field, or the rule's byte offset.
 * @return BVT_OK; BVT_EINVAL (NULL argument, bad id, tag, value, cost,
 *         response, cost_per, cap, schedule with end <= start, negative
 *         cool-off, a type mismatch in the rule); BVT_EVERSION; BVT_ENOTFOUND
 *         (unknown group, or a name in the rule); BVT_ESYNTAX and BVT_ERANGE
 *         (rule); BVT_ELIMIT (BVT_OFFERS_MAX ids); BVT_ENOMEM.
 * @since 1.1  Thread-safe; definitions are serialised among themselves.
 */
BVT_API int bvt_offer_define(bvt_engine *engine, const bvt_offer *offer, uint32_t *out_id,
                             bvt_error *err);

/**
 * @brief Define (or replace) many offers at once, all or none.
 *
 * As n calls of bvt_offer_define(), but the catalog is copied and published
 * once, so loading a catalog of n offers costs O(n) rather than O(n^2).
 * Either every offer is defined or, on any error, none is.
 * @param engine  the engine.
 * @param offers  n definitions (each as for bvt_offer_define(); an id may
 *                appear once).
 * @param n       1..BVT_OFFERS_MAX.
 * @param[out] out_ids n numeric ids, in the order of offers (may be NULL).
 * @param[out] out_failed on error, the index of the offer that failed (may be NULL).
 * @param err     optional detail about that offer, as bvt_offer_define() gives it.
 * @return as bvt_offer_define(), and BVT_EINVAL for an id listed twice or
 *         n > BVT_OFFERS_MAX.
 * @since 1.1  Thread-safe; definitions are serialised among themselves.
 */
BVT_API int bvt_offer_define_batch(bvt_engine *engine, const bvt_offer *offers, size_t n,
                                   uint32_t *out_ids, size_t *out_failed, bvt_error *err);

/**
 * @brief Remove an offer from the catalog.  Its id, statistics and metrics
 * stay (a later definition of the same id continues them).
 * @param engine the engine.
 * @param id     NUL-terminated offer id.
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND (not defined now).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_offer_remove(bvt_engine *engine, const char *id, bvt_error *err);

/**
 * @brief Numeric id of an offer id defined now or ever.
 * @param engine the engine.
 * @param id     NUL-terminated offer id.
 * @param[out] out_id the numeric id.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.1  Thread-safe, lock-free.
 */
BVT_API int bvt_offer_lookup(bvt_engine *engine, const char *id, uint32_t *out_id);

/**
 * @brief The string id of a numeric offer id.
 * @param engine the engine.
 * @param offer  a numeric id.
 * @return borrowed string valid until bvt_engine_free(), or NULL when unknown.
 * @since 1.1  Thread-safe, lock-free.
 */
BVT_API const char *bvt_offer_name(bvt_engine *engine, uint32_t offer);

/**
 * @brief Numeric ids of the offers defined now, in order of definition (a
 * replaced offer keeps its place; a removed one defined again comes last).
 * @param engine the engine.
 * @param out    array for up to cap ids (may be NULL when cap is 0).
 * @param cap    capacity of out.
 * @param[out] out_n number of offers defined (may exceed cap).
 * @return BVT_OK; BVT_EINVAL.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_offer_list(bvt_engine *engine, uint32_t *out, size_t cap, size_t *out_n);

/**
 * @brief Define (or redefine) a campaign group's frequency caps.
 *
 * An impression of any offer of the group counts against the group's caps,
 * which apply to every offer naming the group in addition to its own.
 * @param engine the engine.
 * @param name   NUL-terminated, 1..63 bytes of UTF-8 without control characters.
 * @param caps   n_caps caps (may be NULL when n_caps is 0).
 * @param n_caps 0..BVT_OFFER_CAPS_MAX.
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL (bad name or cap); BVT_ELIMIT (groups share
 *         the BVT_OFFERS_MAX ids); BVT_ENOMEM.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_offer_group_define(bvt_engine *engine, const char *name, const bvt_cap *caps,
                                   size_t n_caps, bvt_error *err);

/**
 * @brief Choose the segments offers learn and report by.
 *
 * A user's bandit bucket is the first of these segments the user is in
 * (bucket i + 1), or bucket 0 when in none; each offer keeps a posterior
 * per bucket.  Metrics and experiment outcomes are counted for every listed
 * segment the user is in.  Membership is evaluated when the feedback event
 * is tracked, and a click or conversion is credited to the buckets of the
 * offer's last impression to that user.  Replacing the list resets the
 * statistics of each position whose segment changed.
 * @param engine   the engine.
 * @param segments n segment ids (may be NULL when n is 0).
 * @param n        0..BVT_OFFER_SEGMENTS_MAX.
 * @param err      optional detail.
 * @return BVT_OK; BVT_EINVAL (n too large, a repeated id); BVT_ENOTFOUND
 *         (a segment not defined now).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_offer_segments_set(bvt_engine *engine, const uint32_t *segments, size_t n,
                                   bvt_error *err);

/* ======================================================================
 * Ranking policies
 * ====================================================================== */

/** How a ranking turns estimates into choices. */
enum bvt_policy_kind {
    BVT_POLICY_GREEDY = 1,         /**< highest score first */
    BVT_POLICY_EPSILON_GREEDY = 2, /**< with probability epsilon a uniform choice */
    BVT_POLICY_SOFTMAX = 3,        /**< P ~ exp((score / best score - 1) / temperature) */
    BVT_POLICY_THOMPSON = 4,       /**< one Beta posterior draw per offer and ranking,
                                        highest draw x value first */
    BVT_POLICY_UCB1 = 5            /**< mean + sqrt(2 ln N / n), deterministic */
};

/** Largest bvt_policy.propensity_draws (@since 1.1). */
#define BVT_PROPENSITY_DRAWS_MAX 10000u
/** Monte-Carlo work of one ranking at most (@since 1.1): each draw ranks
 * every eligible offer again, so a ranking of m eligible offers makes
 * min(propensity_draws, max(1, BVT_PROPENSITY_WORK_MAX / m)) draws, about
 * a quarter of a second at most; its propensities are estimated over the
 * draws made. */
#define BVT_PROPENSITY_WORK_MAX 500000u

#define BVT_POLICY_VERSION 1u
/**
 * A ranking policy and the bandit's prior.  Zero in a field means the
 * default given.  The estimate of an offer's response rate in a bucket is the
 * mean of Beta(a, b) with
 *   a = prior_strength * m + responses,  b = prior_strength * (1 - m) + impressions - responses,
 *   m = prior_rate * (1 + affinity_boost * affinity), capped at 0.5,
 * where affinity (0..1) is the user's highest interest affinity among the
 * offer's tags.  The score is estimate * value.
 */
typedef struct bvt_policy {
    uint32_t version;          /**< BVT_POLICY_VERSION */
    uint32_t kind;             /**< enum bvt_policy_kind; default BVT_POLICY_THOMPSON */
    double epsilon;            /**< epsilon-greedy exploration, 0..1; default 0.1 */
    double temperature;        /**< softmax temperature, > 0; default 0.1 */
    double floor;              /**< exploration floor for every kind, 0..1: with this
                                    probability a slot is filled uniformly; default 0 */
    double prior_rate;         /**< response rate before any feedback, 0..1; default 0.01 */
    double prior_strength;     /**< pseudo-impressions of the prior, > 0; default 20 */
    double affinity_boost;     /**< how much interest affinity lifts the prior, >= 0;
                                    default 1 (a negative value means 0) */
    uint32_t propensity_draws; /**< Monte-Carlo rankings to estimate the propensities a
                                    policy cannot give exactly (every slot of Thompson
                                    sampling; slots after the first of a random policy);
                                    0 = not estimated (-1); at most
                                    BVT_PROPENSITY_DRAWS_MAX, and fewer are made when
                                    many offers are eligible (BVT_PROPENSITY_WORK_MAX) */
} bvt_policy;

#define BVT_POLICY_INIT { BVT_POLICY_VERSION, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0 }

/**
 * @brief Initialise a policy to all defaults (for bindings).
 * @param policy the policy to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_policy_init(bvt_policy *policy);

/**
 * @brief Set the engine's default ranking policy (initially all defaults:
 * Thompson sampling).
 * @param engine the engine.
 * @param policy the policy (copied).
 * @param err    optional detail naming the bad field.
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_policy_set(bvt_engine *engine, const bvt_policy *policy, bvt_error *err);

/* ======================================================================
 * Ranking
 * ====================================================================== */

/** Candidates one bvt_rank() call takes at most (@since 1.1): as many as
 * offer ids can exist. */
#define BVT_RANK_CANDIDATES_MAX 65535
/** Slots one bvt_rank() call fills at most (@since 1.1): each slot is a
 * pass over the eligible offers. */
#define BVT_RANK_SLOTS_MAX 256

#define BVT_RANK_REQUEST_VERSION 1u
/** What to rank, for whom, when.  Pointers are borrowed for the call. */
typedef struct bvt_rank_request {
    uint32_t version;                /**< BVT_RANK_REQUEST_VERSION */
    const void *user_id;             /**< raw user id (1..1024 bytes); aliases followed */
    size_t user_id_len;
    int64_t now;                     /**< decision time, > 0 */
    const bvt_context *ctx;          /**< the request, or NULL */
    const char *const *candidates;   /**< offer ids to choose from, or NULL for ... */
    const uint32_t *candidate_ids;   /**< ... numeric ids, or both NULL: every defined offer */
    size_t n_candidates;             /**< entries in candidates or candidate_ids,
                                          0..BVT_RANK_CANDIDATES_MAX */
    size_t k;                        /**< slots to fill, 0..BVT_RANK_SLOTS_MAX; 0 means 1 */
    const bvt_policy *policy;        /**< NULL: the experiment variant's, else the engine's */
    uint64_t seed;                   /**< every random draw follows it: same seed and
                                          state, same ranking */
    const char *experiment;          /**< NULL, or an experiment (bvt_experiment_define())
                                          whose variant may switch the policy or the offer
                                          set; the user's exposure is recorded */
} bvt_rank_request;

#define BVT_RANK_REQUEST_INIT { BVT_RANK_REQUEST_VERSION, NULL, 0, 0, NULL, NULL, NULL, 0, \
                                0, NULL, 0, NULL }

/**
 * @brief Initialise a rank request (for bindings).
 * @param req the request to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_rank_request_init(bvt_rank_request *req);

/** One ranked offer. */
typedef struct bvt_ranked_offer {
    uint32_t offer;       /**< numeric offer id */
    const char *offer_id; /**< borrowed, valid until bvt_engine_free() */
    double score;         /**< what the policy ranked by: estimate x value (Thompson: the
                               posterior draw x value; UCB1: the upper bound x value) */
    double estimate;      /**< posterior mean response rate */
    double propensity;    /**< probability that the policy puts this offer in this slot,
                               over all its random draws (position-wise, as the Open
                               Bandit Dataset logs it): exact for deterministic
                               rankings and for the first slot of all but Thompson
                               sampling; otherwise (hits + 1) / (draws + 1) over
                               the draws made (propensity_draws, or fewer under
                               BVT_PROPENSITY_WORK_MAX) further rankings of the same
                               request, the one given counted; -1 when not estimated */
} bvt_ranked_offer;

/** One offer the policy could choose for the first slot, with its probability. */
typedef struct bvt_offer_choice {
    uint32_t offer;     /**< numeric offer id */
    double probability; /**< P(first slot); -1 when not estimated */
} bvt_offer_choice;

/** Why an offer was not ranked. */
enum bvt_exclusion_reason {
    BVT_EXCLUDED_UNKNOWN = 1,   /**< the candidate is not defined now */
    BVT_EXCLUDED_SCHEDULE = 2,  /**< now is outside [start_ms, end_ms) */
    BVT_EXCLUDED_BUDGET = 3,    /**< the impression budget is spent */
    BVT_EXCLUDED_CONSENT = 4,   /**< a personalised offer and no ads consent */
    BVT_EXCLUDED_VARIANT = 5,   /**< not in the experiment variant's offer set */
    BVT_EXCLUDED_RULE = 6,      /**< the eligibility rule is false for the user */
    BVT_EXCLUDED_COOLOFF = 7,   /**< dismissed less than cooloff_ms ago */
    BVT_EXCLUDED_CAP = 8,       /**< one of the offer's caps is reached */
    BVT_EXCLUDED_GROUP_CAP = 9  /**< one of its group's caps is reached */
};

/** An offer left out, and the first reason found (in the order of the enum). */
typedef struct bvt_exclusion {
    uint32_t offer;       /**< numeric id (0 for an unknown candidate) */
    const char *offer_id; /**< borrowed, valid until bvt_engine_free() (the caller's
                               string for an unknown candidate: valid as the request) */
    uint32_t reason;      /**< enum bvt_exclusion_reason */
} bvt_exclusion;

#define BVT_RANK_RESULT_VERSION 1u
/**
 * Where bvt_rank() writes.  The caller supplies the arrays; any may be NULL
 * with capacity 0.  Counts are the full numbers and may exceed capacities.
 */
typedef struct bvt_rank_result {
    uint32_t version;             /**< BVT_RANK_RESULT_VERSION */
    bvt_ranked_offer *offers;     /**< the slots, best first */
    size_t offers_cap;
    size_t n_offers;              /**< [out] slots filled: min(k, eligible offers) */
    bvt_exclusion *excluded;      /**< why each left-out offer was left out */
    size_t excluded_cap;
    size_t n_excluded;            /**< [out] */
    bvt_offer_choice *choices;    /**< every eligible offer with P(first slot) */
    size_t choices_cap;
    size_t n_choices;             /**< [out] eligible offers */
    int personalised;             /**< [out] 1 when the profile was used; 0 for an unknown
                                       user or one without ads consent */
    int32_t variant;              /**< [out] experiment variant, BVT_VARIANT_NONE or
                                       BVT_VARIANT_HOLDOUT */
    uint32_t bucket;              /**< [out] the bandit bucket (bvt_offer_segments_set()) */
} bvt_rank_result;

#define BVT_RANK_RESULT_INIT { BVT_RANK_RESULT_VERSION, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0, \
                               0, -1, 0 }

/**
 * @brief Initialise a rank result (for bindings): no arrays.
 * @param res the result to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_rank_result_init(bvt_rank_result *res);

/**
 * @brief Rank offers for a user at `now`.
 *
 * Candidates pass, in this order, the schedule, the impression budget,
 * consent (personalised offers need ads consent), the experiment variant's
 * offer set, the eligibility rule (read against the profile and the
 * context), the dismissal cool-off, the offer's caps and its group's caps.
 * The eligible offers are scored (see bvt_policy) and the slots filled
 * highest priority tier first, each slot chosen by the policy among the
 * offers left in the highest tier that has any, with the exploration floor
 * mixed in (Thompson sampling draws every posterior once per call and fills
 * the slots by the draws).  A user without ads consent, or unknown to the engine, gets the
 * non-personalised ranking: rules see an empty profile (the context still
 * counts), no interest prior, bucket 0; caps still apply.
 *
 * Ranking reads the profile and changes nothing, except with `experiment`
 * set: then the user's variant is fixed (sticky) and the exposure counted,
 * creating the profile if needed (when the table is full the variant is
 * still returned, but not recorded).
 *
 * @param engine the engine.
 * @param req    the request.
 * @param[in,out] res where to write; res->version must be set.
 * @param err    optional detail.
 * @return BVT_OK (also when nothing is eligible: n_offers is 0); BVT_EINVAL
 *         (NULL argument, bad user id, now <= 0, n_candidates > 0 without
 *         candidates, n_candidates or k beyond their limits, a bad policy or
 *         context, arrays NULL with a capacity);
 *         BVT_EVERSION (a struct version too new); BVT_ENOTFOUND (unknown
 *         experiment).
 * @since 1.1  Thread-safe.  Allocates nothing for up to 4,096 candidates
 *         (one working block per call beyond: BVT_ENOMEM when that fails).
 */
BVT_API int bvt_rank(bvt_engine *engine, const bvt_rank_request *req, bvt_rank_result *res,
                     bvt_error *err);

/* ======================================================================
 * Metrics
 * ====================================================================== */

#define BVT_ALL_OFFERS 0u /**< in bvt_metrics_get(): every offer */

#define BVT_METRICS_VERSION 1u
/**
 * Counters and rates of one offer (or all) in one segment (or everyone).
 * Revenue is the value of each response event (the event's value when > 0,
 * else the offer's value); cost is the offer's cost per cost_per event.
 */
typedef struct bvt_metrics {
    uint32_t version;        /**< BVT_METRICS_VERSION */
    uint64_t impressions;
    uint64_t clicks;
    uint64_t conversions;
    uint64_t dismissals;
    uint64_t engagements;    /**< clicks + likes, shares and comments naming the offer */
    double revenue;
    double cost;
    double ctr;              /**< clicks / impressions (0 without impressions) */
    double conversion_rate;  /**< conversions / clicks (0 without clicks) */
    double engagement_rate;  /**< engagements / impressions (0 without impressions) */
    double roi;              /**< (revenue - cost) / cost (0 without cost) */
} bvt_metrics;

#define BVT_METRICS_INIT { BVT_METRICS_VERSION, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0 }

/**
 * @brief Metrics of an offer in a segment.
 *
 * Counts are totals since the offer id was first defined, taken with relaxed
 * atomic reads while tracking continues.
 * @param engine  the engine.
 * @param offer   numeric offer id, or BVT_ALL_OFFERS.
 * @param segment a segment from bvt_offer_segments_set(), or 0 for all users.
 * @param[in,out] out the metrics; out->version must be set.
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION; BVT_ENOTFOUND (unknown offer, or a
 *         segment not in the list).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_metrics_get(bvt_engine *engine, uint32_t offer, uint32_t segment,
                            bvt_metrics *out);

/**
 * @brief Feedback events whose offer_id names no offer ever defined (or
 * one whose first bvt_offer_define() had not finished when they arrived).
 * @param engine the engine.
 * @return their number (0 for a NULL engine).
 * @since 1.1  Thread-safe.
 */
BVT_API uint64_t bvt_metrics_unattributed(bvt_engine *engine);

/* ======================================================================
 * Experiments (A/B tests)
 * ====================================================================== */

#define BVT_VARIANTS_MAX 16
#define BVT_EXPERIMENTS_MAX 1024 /**< experiment names ever defined */
#define BVT_VARIANT_NONE (-1)    /**< not in the experiment (outside coverage) */
#define BVT_VARIANT_HOLDOUT (-2) /**< held out: default experience, measured */

/** How users are hashed into variants. */
enum bvt_hash_kind {
    BVT_HASH_XXH3 = 0,          /**< XXH3-64 of salt, 0x00, user id (docs/bucketing.md) */
    BVT_HASH_GROWTHBOOK_V1 = 1, /**< GrowthBook's hash version 1 (seed = salt) */
    BVT_HASH_GROWTHBOOK_V2 = 2  /**< GrowthBook's hash version 2 */
};

/** One arm of an experiment.  Pointers are borrowed for the definition call. */
typedef struct bvt_variant {
    const char *name;            /**< 1..63 bytes of UTF-8, no control characters */
    double weight;               /**< share of covered users, >= 0 */
    const bvt_policy *policy;    /**< ranking policy in this variant, or NULL (unchanged) */
    const char *const *offers;   /**< the offer set ranked in this variant, or NULL (all) */
    size_t n_offers;             /**< entries in offers, 0..BVT_OFFERS_MAX */
} bvt_variant;

#define BVT_EXPERIMENT_VERSION 1u
/** An experiment.  Variant 0 is the control the others are compared with. */
typedef struct bvt_experiment {
    uint32_t version;            /**< BVT_EXPERIMENT_VERSION */
    const char *name;            /**< 1..63 bytes of UTF-8, no control characters */
    const char *salt;            /**< hash seed, 1..255 bytes of UTF-8 without control
                                      characters; NULL = the name */
    uint32_t hash;               /**< enum bvt_hash_kind */
    const bvt_variant *variants; /**< 2..BVT_VARIANTS_MAX variants */
    size_t n_variants;
    double coverage;             /**< fraction of users in the experiment, 0..1 (INIT: 1) */
    double holdout;              /**< fraction of users held out before coverage, 0..1 */
} bvt_experiment;

#define BVT_EXPERIMENT_INIT { BVT_EXPERIMENT_VERSION, NULL, NULL, BVT_HASH_XXH3, NULL, 0, 1.0, 0.0 }

/**
 * @brief Initialise an experiment (for bindings): coverage 1, no holdout.
 * @param exp the experiment to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_experiment_init(bvt_experiment *exp);

/**
 * @brief Define an experiment, or redefine one (weights, coverage, variants).
 *
 * Assignment is deterministic: a user's hash in [0, 1) picks the variant
 * whose range holds it (ranges cut from coverage and weights as GrowthBook
 * does; weights are normalised to sum 1, all zero means equal).  The holdout
 * is decided first by a second hash (seed salt + "/holdout").  A redefined
 * experiment keeps its users' sticky variants and its counters.
 * @param engine the engine.
 * @param exp    the definition.
 * @param[out] out_id numeric id, >= 1 (may be NULL).
 * @param err    optional detail.
 * @return BVT_OK; BVT_EINVAL (bad name, salt, hash, variant count, weight,
 *         coverage, holdout, policy, a redefinition that changes the number
 *         of variants); BVT_ENOTFOUND (an unknown offer in a variant);
 *         BVT_EVERSION; BVT_ELIMIT (BVT_EXPERIMENTS_MAX names); BVT_ENOMEM.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_experiment_define(bvt_engine *engine, const bvt_experiment *exp,
                                  uint32_t *out_id, bvt_error *err);

/**
 * @brief Look up an experiment id by name.
 * @param engine the engine.
 * @param name   NUL-terminated name.
 * @param[out] out_id the id.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_experiment_lookup(bvt_engine *engine, const char *name, uint32_t *out_id);

/**
 * @brief The variant a user's id hashes to, with no state read or written
 * (sticky assignments are not consulted).
 * @param engine the engine.
 * @param experiment numeric experiment id.
 * @param user_id, len the raw user id.
 * @param[out] out_variant 0..n-1, BVT_VARIANT_NONE or BVT_VARIANT_HOLDOUT.
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND (no such experiment).
 * @since 1.1  Thread-safe, lock-free; allocates nothing.
 */
BVT_API int bvt_experiment_variant_of(bvt_engine *engine, uint32_t experiment,
                                      const void *user_id, size_t len, int32_t *out_variant);

/**
 * @brief Assign a user to a variant and record the exposure.
 *
 * The first assignment is kept in the user's profile (created if needed):
 * later calls return it even after the weights change.  The first exposure
 * counts the user in the variant; outcomes (impressions, clicks,
 * conversions, purchases and their revenue and cost) tracked at or after
 * the exposure time count for the variant.
 * @param engine the engine.
 * @param experiment numeric experiment id.
 * @param user_id, len the raw user id.
 * @param now    exposure time (> 0).
 * @param[out] out_variant as bvt_experiment_variant_of().
 * @return BVT_OK; BVT_EINVAL; BVT_ENOTFOUND; BVT_EFULL (no room for the
 *         profile or the assignment: *out_variant is still set, nothing is
 *         recorded); BVT_ELIMIT (the user already holds 32 assignments:
 *         *out_variant is still set, nothing is recorded); BVT_ENOMEM;
 *         BVT_EIO (the journal has failed: see bvt_engine_open()).
 *         bvt_experiment_assign_v2() says which failure it was.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_experiment_assign(bvt_engine *engine, uint32_t experiment, const void *user_id,
                                  size_t len, int64_t now, int32_t *out_variant);

/**
 * @brief bvt_experiment_assign() with an explanation of every failure.
 *
 * Assigns and records the exposure exactly as bvt_experiment_assign() does
 * (that call is this one with err NULL), and on failure fills `err`.
 * @param engine the engine.
 * @param experiment numeric experiment id (bvt_experiment_define(),
 *        bvt_experiment_lookup()).
 * @param user_id, len the raw user id (1..1024 bytes); hashed, not kept.
 * @param now    exposure time (> 0).
 * @param[out] out_variant as bvt_experiment_variant_of(); set also on
 *         BVT_EFULL and BVT_ELIMIT (the variant the user hashes to).
 * @param[out] err detail on failure (may be NULL; `offset` is -1).
 *         Untouched on success.
 * @return BVT_OK; BVT_EINVAL (NULL engine or out_variant, bad id, now <= 0,
 *         experiment 0); BVT_ENOTFOUND (no experiment of that id);
 *         BVT_EFULL (no room for the profile or the assignment: nothing is
 *         recorded); BVT_ELIMIT (the user already holds 32 assignments:
 *         nothing is recorded); BVT_ENOMEM; BVT_EIO (the journal has failed:
 *         nothing is recorded; or it failed while this exposure was
 *         journaled: it is recorded in memory but not durable).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_experiment_assign_v2(bvt_engine *engine, uint32_t experiment,
                                     const void *user_id, size_t len, int64_t now,
                                     int32_t *out_variant, bvt_error *err);

/** A comparison of one variant's metric with the control's. */
typedef struct bvt_lift {
    double absolute;      /**< variant - control */
    double abs_low;       /**< 95% confidence interval of absolute */
    double abs_high;
    double relative;      /**< variant / control - 1 (0 when the control is 0) */
    double rel_low;       /**< 95% interval of relative (delta method on the log ratio) */
    double rel_high;
    double p_value;       /**< two-sided, H0: no difference (1 when undefined) */
} bvt_lift;

/** Counters and statistics of one variant (or the holdout). */
typedef struct bvt_variant_report {
    const char *name;           /**< borrowed, valid until bvt_engine_free() */
    uint64_t users;             /**< users exposed */
    uint64_t impressions;
    uint64_t clicks;
    uint64_t conversions;
    uint64_t converters;        /**< users with a conversion or purchase after exposure */
    double revenue;
    double cost;
    double ctr;                 /**< clicks / impressions */
    double conversion_rate;     /**< converters / users */
    double revenue_per_user;
    double roi;                 /**< (revenue - cost) / cost, 0 without cost */
    bvt_lift ctr_lift;          /**< against variant 0 (zeros for variant 0) */
    bvt_lift conversion_lift;
    bvt_lift revenue_lift;      /**< revenue per user, Welch's t (normal approximation) */
} bvt_variant_report;

#define BVT_EXPERIMENT_REPORT_VERSION 1u
/** What bvt_experiment_report_get() computes. */
typedef struct bvt_experiment_report {
    uint32_t version;           /**< BVT_EXPERIMENT_REPORT_VERSION */
    uint32_t n_variants;
    bvt_variant_report variants[BVT_VARIANTS_MAX];
    bvt_variant_report holdout; /**< lifts against variant 0 too */
    double srm_chi2;            /**< sample-ratio-mismatch chi-square of users per variant */
    double srm_p_value;         /**< its p-value (1 without users) */
    int srm_mismatch;           /**< 1 when srm_p_value < 0.001: do not trust the lifts */
} bvt_experiment_report;

/**
 * @brief Report an experiment, for all users or one segment.
 * @param engine the engine.
 * @param experiment numeric experiment id.
 * @param segment a segment from bvt_offer_segments_set(), or 0 for all users
 *        (users counted in the segment they were in at exposure).
 * @param[in,out] out the report; out->version must be set.
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION; BVT_ENOTFOUND (no such experiment,
 *         or a segment not in the list).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_experiment_report_get(bvt_engine *engine, uint32_t experiment, uint32_t segment,
                                      bvt_experiment_report *out);

/* ======================================================================
 * Privacy: data subject rights, retention, consent-aware aggregates
 * ====================================================================== */

/**
 * @brief Everything the engine holds about a user, as one JSON object.
 *
 * The object (docs/privacy.md lists every member) holds: the profile's
 * keyed hash as 32 hex digits ("key") and the keys of the ids aliased to it
 * ("aliases"); the features of bvt_profile_get() at `now` ("profile");
 * the interests ("interests"), cart ("cart") and attributes
 * ("attributes"); every consent choice with its time ("consent"); the
 * segments the user is in at `now` without a request context
 * ("segments", as bvt_segments_of()); the frequency-cap state per offer
 * and campaign group with impression times and the latest dismissal
 * ("caps"); the sticky experiment assignments ("experiments"); and the
 * behaviour history, exact events and day aggregates ("history").  Times
 * are epoch milliseconds, each followed by the same instant as ISO 8601
 * UTC text (bvt_time_format()): "now" by "now_iso" and every time member
 * "NAME_ms" by "NAME_iso" (null where the time is 0 or null; durations have
 * none).  Numbers are the shortest decimal that reads back to the value
 * held, as a float for the history's values (kept as floats).  Item hashes
 * and keys are hex strings.  The JSON
 * is written while the user's shard is locked, so it is one consistent
 * state of the profile.
 *
 * @param engine the engine.
 * @param user_id, len the user (1..1024 bytes; aliases followed).
 * @param now    the time features and segments are read at (> 0).
 * @param buf    output buffer (may be NULL when cap is 0), NUL-terminated on success.
 * @param cap    its size.
 * @param[out] out_len bytes written without the NUL (required); on BVT_ERANGE the
 *             JSON's length, so a buffer of *out_len + 1 bytes suffices (for
 *             the state at that moment: tracking may make it longer).
 * @return BVT_OK; BVT_EINVAL (NULL argument, bad id, now <= 0, buf NULL with
 *         cap > 0); BVT_ENOTFOUND (no such user: *out_len is 0);
 *         BVT_ERANGE (buf too small; what was written is a prefix).
 * @since 1.1  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_user_export(bvt_engine *engine, const void *user_id, size_t len, int64_t now,
                            char *buf, size_t cap, size_t *out_len);

/**
 * @brief Erase a user (right to erasure): the profile the id resolves to
 * (following an alias), every alias that points to that profile, and the
 * id's own alias entry.
 *
 * Afterwards no record and no alias entry of the engine holds the user's
 * keys; aggregate counters (offer metrics, bandit statistics, experiment
 * counters, anonymous aggregates) keep the counts they were given, which
 * name nobody.  Forgetting is idempotent: a user the engine holds nothing
 * about gives BVT_OK, so a retried request is safe.  An event tracked for
 * the id after the call starts a new profile.  Persistence (snapshots, the
 * journal) is not part of this version: see docs/privacy.md.
 *
 * @param engine the engine.
 * @param user_id, len the user (1..1024 bytes).
 * @param err    optional detail.
 * @return BVT_OK (also when nothing was held); BVT_EINVAL (NULL engine, bad id).
 * @since 1.1  Thread-safe with every other call; allocates nothing.
 */
BVT_API int bvt_user_forget(bvt_engine *engine, const void *user_id, size_t len,
                            bvt_error *err);

/**
 * @brief Apply the retention period (bvt_options.retention_ms) at `now`.
 *
 * With cutoff = now - retention_ms:
 *  - a profile last seen at or before the cutoff is removed, with every
 *    alias that points to it; a profile without events is judged by its
 *    latest consent choice, and one with no dated data at all (attributes
 *    only) is kept;
 *  - in the profiles that remain, exact history events at or before the
 *    cutoff, day aggregates whose whole UTC day is at or before it, cart
 *    items added at or before it, and cap entries (per offer or group)
 *    whose latest impression or dismissal is at or before it are removed.
 * Lifetime counters of a remaining profile (RFM, counts, interests, which
 * decay) and its experiment assignments stay with it until it goes.
 * Works shard by shard, holding one shard's lock while it passes over that
 * shard (a call about a user of that shard waits for it); tracking in the
 * other shards continues.  With a state directory each shard's pass is
 * journaled under its lock with its cutoff, so replay removes exactly what
 * it removed, whatever retention a later open gives.  Call it periodically
 * (e.g. hourly).
 *
 * @param engine the engine.
 * @param now    the current time (> 0).
 * @param[out] out_users_removed profiles removed (may be NULL).
 * @return BVT_OK; BVT_EINVAL (NULL engine, now <= 0, or no retention_ms
 *         configured: a call that would do nothing is a mistake worth
 *         reporting); BVT_EIO (the journal has failed: shards passed before
 *         the failure are expired in memory but not durable).
 * @since 1.1  Thread-safe.  Allocates nothing.
 */
BVT_API int bvt_engine_expire(bvt_engine *engine, int64_t now, uint64_t *out_users_removed);

/** In bvt_anonymous_counts(): every type, or every category. */
#define BVT_ANY 0xFFFFFFFFu

/**
 * @brief The anonymous aggregates kept under BVT_ANALYTICS_ANONYMOUS.
 *
 * Events of users without analytics consent change no profile and are
 * counted per (event type, top-level category of the event's category; 0
 * for an event without one).  The table holds 4,096 (type, category)
 * pairs; an event of a pair that finds no room still counts in the totals
 * (type and category both BVT_ANY).  Counts since engine creation, read with
 * relaxed atomic loads while tracking continues.
 * @param engine   the engine.
 * @param type     an event type id, or BVT_ANY.
 * @param category_id a top-level category id, 0 for events without a
 *                 category, or BVT_ANY.
 * @param[out] out_count events counted (may be NULL).
 * @param[out] out_sum   sum of their values (may be NULL).
 * @return BVT_OK (also with nothing counted, or under another policy: 0);
 *         BVT_EINVAL (NULL engine, unknown type, a category id that is not
 *         top-level).
 * @since 1.1  Thread-safe, lock-free.
 */
BVT_API int bvt_anonymous_counts(bvt_engine *engine, uint32_t type, uint32_t category_id,
                                 uint64_t *out_count, double *out_sum);

/* ======================================================================
 * Persistence: snapshots and the journal (@since 1.1)
 * ====================================================================== */

/**
 * @brief Save the whole engine to a snapshot file.
 *
 * Everything is saved: profiles (with history, cart, attributes, consent,
 * cap state and experiment assignments), the alias map, categories,
 * keyword maps, custom event types, consent purposes, attribute strings,
 * segment definitions, the offer catalog with its groups, offer segments
 * and policy, bandit evidence, metrics and budgets, experiments with their
 * counters, RFM cut points, the cluster model and the anonymous
 * aggregates.  The user-id secret is not saved: a check value derived
 * from it is, so a file opened with another secret is refused.  The file
 * format is described in docs/format.md.
 *
 * The file is written to `path`.tmp (mode 0600), fsynced, renamed over
 * `path`, and the directory is fsynced, so `path` always holds a complete
 * snapshot, the old or the new.  The snapshot is the engine at one moment:
 * every shard is locked for that moment only, then copied one by one (a
 * memory copy; compression and writing come after), and a call that needs
 * a shard not yet copied copies it first.  So a call waits for at most one
 * shard's copy, about 1/shards of the profile bytes (docs/benchmarks.md
 * has the figures).
 *
 * The snapshot of an engine with a journal records the journal position of
 * that moment, so it holds each change exactly once when it later becomes
 * a state directory's snapshot.  A state directory's own snapshot
 * (`snapshot.bvts` beside its `lock` file) is refused: an engine open on
 * that directory writes it with bvt_engine_checkpoint().
 *
 * @param engine the engine.
 * @param path   the file to write.
 * @param[out] err detail on failure (may be NULL).
 * @return BVT_OK; BVT_EINVAL (NULL argument, or a state directory's
 *         snapshot); BVT_EIO (create, write, fsync or rename failed; `path`
 *         is unchanged); BVT_ENOMEM.
 * @since 1.1  Thread-safe; concurrent saves of one engine run one at a time.
 */
BVT_API int bvt_engine_save(bvt_engine *engine, const char *path, bvt_error *err);

/**
 * @brief Create an engine from a snapshot file.
 *
 * `opts` must be the options the engine was created with (the secret
 * included); shards, max_users, memory_budget and full_policy may differ.
 * Options that shape the stored data (top_interests, history_events,
 * history_day_slots, history_horizon_ms, cart_items, max_attributes,
 * interest_half_life_ms, ancestor_credit, session_gap_ms, type_weights)
 * must resolve to the values saved: otherwise BVT_EINVAL names the first
 * that differs.  Every block is verified (checksum, then structure) before
 * the engine is returned; on any failure nothing is returned and nothing
 * stays allocated.  As when a state directory is opened, the memory budget
 * bounds what grows after the load, not what is loaded (a profile that
 * aliasing moved may leave a shard above its part, and the shard count
 * may differ): profiles in a shard above its part get no more memory until
 * it has room.
 *
 * @param[out] out the new engine (NULL on failure); free with bvt_engine_free().
 * @param opts   engine options (secret required).
 * @param path   the snapshot file.
 * @param[out] err detail on failure, with `offset` the file byte at which the
 *         problem was found (may be NULL).
 * @return BVT_OK; BVT_EINVAL; BVT_EIO (cannot open or read); BVT_EFORMAT (not
 *         a snapshot: wrong magic); BVT_EVERSION (written by a newer format
 *         version); BVT_ESECRET (another secret); BVT_ETRUNCATED (the file
 *         ends early); BVT_ECORRUPT (a checksum or structure check failed);
 *         BVT_EFULL (more profiles than the max_users of `opts`); BVT_ENOMEM.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_engine_load(bvt_engine **out, const bvt_options *opts, const char *path,
                            bvt_error *err);

/** Journal durability (bvt_state_options.journal). */
enum bvt_journal_mode {
    BVT_JOURNAL_OFF = 0,    /**< no journal: state is on disk only after a checkpoint */
    BVT_JOURNAL_NONE = 1,   /**< journaled, never fsynced: survives a process crash once
                                 written to the OS (the buffer is written when it fills,
                                 on bvt_engine_sync() and on close), not a power loss */
    BVT_JOURNAL_GROUP = 2,  /**< group commit: a background thread writes and fsyncs
                                 every group_commit_ms */
    BVT_JOURNAL_ALWAYS = 3  /**< every mutating call returns after its record is fsynced
                                 (concurrent callers share one fsync) */
};

/** Which engine options an open uses (bvt_state_options.options_from). */
enum bvt_options_from {
    BVT_OPTIONS_GIVEN = 0,    /**< the caller's: the options that shape stored data must
                                   equal the directory's (else BVT_EINVAL naming the
                                   option); the others replace the recorded ones from
                                   this open on */
    BVT_OPTIONS_RECORDED = 1  /**< the directory's recorded options; the caller's give
                                   only the secret (and every option when the directory
                                   records none yet) */
};

/** How an open may touch the directory's files (bvt_state_options.access). */
enum bvt_state_access {
    BVT_STATE_READ_WRITE = 0, /**< the default: a torn tail is cut; damage is refused */
    BVT_STATE_READ_ONLY = 1,  /**< no file is changed: a torn tail is skipped (and
                                   reported), the journal must be BVT_JOURNAL_OFF and
                                   bvt_engine_checkpoint() is refused.  Calls that change
                                   state change only memory.  Shares the directory with
                                   other read-only opens, not with a writer */
    BVT_STATE_REPAIR = 2      /**< as READ_WRITE, and damage is cut instead of refused:
                                   everything from the first damaged byte on is dropped
                                   (that file truncated there, newer journal files
                                   deleted) and reported in bvt_state_info */
};

#define BVT_STATE_OPTIONS_VERSION 1u
/** Where and how an engine keeps its state on disk (bvt_engine_open()). */
typedef struct bvt_state_options {
    uint32_t version;          /**< BVT_STATE_OPTIONS_VERSION */
    uint32_t journal;          /**< enum bvt_journal_mode; default BVT_JOURNAL_OFF */
    const char *dir;           /**< state directory, created (mode 0700) if missing */
    uint32_t group_commit_ms;  /**< BVT_JOURNAL_GROUP interval, 1..10000; default 5 */
    uint32_t options_from;     /**< enum bvt_options_from; default BVT_OPTIONS_GIVEN */
    uint32_t access;           /**< enum bvt_state_access; default BVT_STATE_READ_WRITE */
} bvt_state_options;

#define BVT_STATE_OPTIONS_INIT { BVT_STATE_OPTIONS_VERSION, 0, NULL, 0, 0, 0 }

/**
 * @brief Initialise state options to their defaults (for bindings).
 * @param st options to fill; NULL is a no-op.
 * @since 1.1  Thread-safe for distinct objects.
 */
BVT_API void bvt_state_options_init(bvt_state_options *st);

/**
 * @brief Open (or create) an engine whose state lives in a directory.
 *
 * The directory holds the options it was written with (`options`), one
 * snapshot (`snapshot.bvts`) and the journal files written since it
 * (`journal-<first sequence>.bvtj`).  Opening loads the snapshot as
 * bvt_engine_load() does, then replays the journal records after it in
 * sequence order.  Replay is a function of the files alone: records carry
 * outcomes (evictions, expiry cut-offs, events counted anonymously), so
 * neither the options given now nor how threads raced when it was written
 * change what it rebuilds.  The user limit and memory budget apply to
 * users added after opening, not to replay; a directory holding more users
 * than `max_users` is refused (BVT_EFULL naming it).
 *
 * Options: the ones that shape stored data (top_interests, half-life,
 * ancestor_credit, history sizes and horizon, session gap, cart and
 * attribute limits, type weights) must equal the recorded ones, else
 * BVT_EINVAL names the first that differs.  The others (shards, max_users,
 * memory_budget, full_policy, retention_ms, analytics_policy,
 * segments_need_consent) apply from this open on and are recorded (and
 * journaled) in their turn.  With `st->options_from` =
 * BVT_OPTIONS_RECORDED the recorded options are used as they are.
 *
 * Damage: only a torn tail — a partial last frame of the newest journal
 * file, as a crash mid-write leaves it, never acknowledged — is cut (by a
 * writable open) and reported in bvt_state_info_get().  A complete frame
 * that fails its checksum, or damage followed by data, is BVT_ECORRUPT with
 * the file and byte offset; reopen with `st->access` = BVT_STATE_REPAIR to
 * drop it on purpose (bvt_state_info_get() reports what was dropped).  A
 * BVT_STATE_READ_ONLY open changes no file.  A journal is then started
 * when `st->journal` asks for one.
 *
 * Every mutating call (events, attributes, consent, aliases, forget,
 * expire, definitions) is journaled after it succeeds in memory.  When its
 * record is durable depends on the mode: BVT_JOURNAL_ALWAYS: when the call
 * returns BVT_OK; BVT_JOURNAL_GROUP: at the next group commit, at most
 * group_commit_ms later (bvt_engine_sync() waits for it); BVT_JOURNAL_NONE:
 * after bvt_engine_sync() returns, as far as the OS writes what it was
 * given; BVT_JOURNAL_OFF: after the next bvt_engine_checkpoint().  Should
 * the journal fail (disk full, I/O error), every later mutating call
 * returns BVT_EIO and changes nothing; a call in flight at that moment
 * returns BVT_EIO with its change made in memory but not durable.
 *
 * @param[out] out the engine (NULL on failure); bvt_engine_free() flushes and
 *         fsyncs the journal, then closes it.
 * @param opts   engine options (as for bvt_engine_load()).
 * @param st     the directory, journal mode, options source and access.
 * @param[out] err detail on failure (file and byte offset for data problems).
 * @return as bvt_engine_load(), plus BVT_EIO for the directory or journal;
 *         BVT_EINVAL (a data-shaping option differs from the recorded one;
 *         a read-only open with a journal); BVT_EFULL (more users than
 *         max_users); BVT_ECORRUPT (damage, or an `options` file that fails
 *         its check).
 * @since 1.1  Thread-safe.  One writer at a time may open a directory (it
 *         is locked): a second open gets BVT_EIO.  Read-only opens share it
 *         with each other.
 */
BVT_API int bvt_engine_open(bvt_engine **out, const bvt_options *opts,
                            const bvt_state_options *st, bvt_error *err);

/**
 * @brief Write a snapshot into the state directory and start a new journal.
 *
 * The snapshot holds exactly what the journal held up to the moment of
 * the switch; older journal files are then deleted.  This is also the
 * journal's compaction: a forgotten user's records leave the disk here,
 * and so do the category paths and attribute strings only it used
 * (docs/privacy.md).
 * @param engine an engine from bvt_engine_open().
 * @param[out] err detail on failure (may be NULL).
 * @return BVT_OK; BVT_EINVAL (NULL, an engine without a state directory,
 *         or one opened read-only); BVT_EIO; BVT_ENOMEM.  On failure the
 *         previous snapshot and journal stay valid.
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_engine_checkpoint(bvt_engine *engine, bvt_error *err);

/**
 * @brief Make every change accepted before this call durable.
 * @param engine the engine.
 * @param[out] err detail on failure (may be NULL).
 * @return BVT_OK (also without a journal: nothing to do); BVT_EINVAL;
 *         BVT_EIO (the journal failed: the changes are not durable).
 * @since 1.1  Thread-safe.
 */
BVT_API int bvt_engine_sync(bvt_engine *engine, bvt_error *err);

#define BVT_STATE_INFO_VERSION 1u
/** What opening found and where the journal stands (bvt_state_info_get()). */
typedef struct bvt_state_info {
    uint32_t version;          /**< BVT_STATE_INFO_VERSION */
    uint32_t journal;          /**< enum bvt_journal_mode in use */
    uint64_t snapshot_seq;     /**< last journal sequence the loaded snapshot holds */
    uint64_t replayed;         /**< journal records replayed at open */
    int64_t torn_offset;       /**< file offset where a torn tail was cut, or -1 */
    uint64_t torn_bytes;       /**< bytes cut there */
    uint64_t accepted_seq;     /**< sequence of the latest journaled change */
    uint64_t durable_seq;      /**< every change up to this sequence is durable */
    uint64_t dropped_first_seq;/**< BVT_STATE_REPAIR: first journal record dropped, or 0 */
    uint64_t dropped_last_seq; /**< last record dropped as far as sound frames after the
                                    damage tell (0: unknown, none were sound) */
    uint64_t dropped_bytes;    /**< bytes cut from journal files, in all */
    uint32_t dropped_files;    /**< newer journal files deleted */
} bvt_state_info;

#define BVT_STATE_INFO_INIT { BVT_STATE_INFO_VERSION, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0 }

/**
 * @brief Where the journal stands.
 *
 * Every journaled change has a sequence number, one more than the change
 * before it.  A single thread that reads accepted_seq right after its call
 * learns its change's number, durable once durable_seq reaches it.
 * @param engine the engine.
 * @param[out] out filled (version set by the caller).
 * @return BVT_OK; BVT_EINVAL; BVT_EVERSION.
 * @since 1.1  Thread-safe, lock-free.
 */
BVT_API int bvt_state_info_get(bvt_engine *engine, bvt_state_info *out);

#ifdef __cplusplus
}
#endif

#endif /* BEHAVTARGET_H */
