/* test-erasure.c — erasure is total (issue 11): after bvt_user_forget()
 * and a checkpoint, no file of the state directory holds a value only the
 * forgotten user brought into the shared registries (attribute keys and
 * string values, category paths its events created), nor its search text
 * or raw item ids, while what another user, a definition or an aggregate
 * still uses survives a reopen intact.  Also: a second checkpoint, a
 * reopen and checkpoint, an erased name used again before and after a
 * reopen, the names rules keep (and those of definitions removed or
 * replaced, which go), a category record replayed again after the cut
 * that erased it, the categories aggregates keep, and erasure racing
 * tracking and checkpoints. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_SECRET "erasure-test-secret-0123456789"
#include "testutil.h"
#include "statetest.h"

#include "codec.h"
#include "engine.h"
#include "persist.h"
#include "snapshot.h"

static char dir[64], scratch[64]; /* the state directory; other files */

/* Two file names in a fresh scratch directory (removed by scratch_done). */
static void scratch_files(char *f1, char *f2, size_t cap)
{
    state_dir_make(scratch);
    snprintf(f1, cap, "%s/one.bvts", scratch);
    snprintf(f2, cap, "%s/two.bvts", scratch);
}

#define A "alice@example.org"
#define B "bob@example.org"
#define C "carol@example.org"
#define D "dave@example.org" /* checks a segment, then is forgotten */
#define NOW (T0 + DAY)

/* Only A brings these. */
#define A_ZIP "ALICEZIP-75001"
#define A_KEY "alice_only_key"
#define A_VALUE "ALICEVAL-8841"
#define A_CAT "alicecat/deep/secret-path-4411"
#define A_BRANCH "shared/alice-branch-9932" /* under a category B uses */
#define A_ITEM "ALICE-ITEM-55501"
#define A_SEARCH "alicesearchterm qq7781"
/* Shared with B, or named by a definition. */
#define SHARED_COLOR "SHARED-TEAL"
#define SHARED_CAT "shared/shoes"
#define B_ZIP "BOBZIP-10001"
#define RULED_CAT "ruled/cat"  /* only A's events created it; a segment names it */
#define RULED_TIER "RULEDTIER" /* only A set it; a segment names it */
#define KEYWORD_CAT "kwcat/only"

static bvt_engine *open_with(uint32_t analytics_policy)
{
    bvt_options o = BVT_OPTIONS_INIT;
    o.analytics_policy = analytics_policy;
    set_test_secret(&o);
    bvt_state_options st = BVT_STATE_OPTIONS_INIT;
    st.dir = dir;
    st.journal = BVT_JOURNAL_GROUP;
    st.group_commit_ms = 1;
    bvt_engine *e = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_open(&e, &o, &st, &err);
    ck_assert_msg(rc == BVT_OK, "open: %d %s at %lld", rc, err.message, (long long)err.offset);
    return e;
}

static bvt_engine *open_ok(void)
{
    return open_with(BVT_ANALYTICS_TRACK);
}

static void checkpoint_ok(bvt_engine *e)
{
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_checkpoint(e, &err);
    ck_assert_msg(rc == BVT_OK, "checkpoint: %d %s", rc, err.message);
}

static void attr_ok(bvt_engine *e, const char *user, const char *key, const char *value)
{
    ck_assert_int_eq(bvt_attr_set_string(e, user, strlen(user), key, value), BVT_OK);
}

static void track_full(bvt_engine *e, const char *user, uint32_t type, const char *category,
                       const char *item, const char *search)
{
    bvt_event ev = make_event(user, type, NOW - HOUR, category, 5);
    ev.item_id = item;
    ev.search_text = search;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_event_track(e, &ev, &err);
    ck_assert_msg(rc == BVT_OK, "track: %d %s", rc, err.message);
}

/* A's and B's data, a segment and a keyword (a definition each). */
static void populate(bvt_engine *e)
{
    uint32_t id;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_keyword_map(e, "kwword", KEYWORD_CAT, &err), BVT_OK);
    attr_ok(e, A, "zip", A_ZIP);
    attr_ok(e, A, A_KEY, A_VALUE);
    attr_ok(e, A, "color", SHARED_COLOR);
    attr_ok(e, A, "tier", RULED_TIER);
    track_full(e, A, BVT_EVENT_PAGE_VIEW, A_CAT, NULL, NULL);
    track_full(e, A, BVT_EVENT_PAGE_VIEW, A_BRANCH, NULL, NULL);
    track_full(e, A, BVT_EVENT_PAGE_VIEW, RULED_CAT, NULL, NULL);
    track_full(e, A, BVT_EVENT_ADD_TO_CART, SHARED_CAT, A_ITEM, NULL);
    track_full(e, A, BVT_EVENT_SEARCH, NULL, NULL, A_SEARCH);
    ck_assert_int_eq(bvt_segment_define(e, "ruled",
                                        "interest(\"" RULED_CAT "\") > 0.5 or attr.tier == \""
                                        RULED_TIER "\"", &id, &err), BVT_OK);
    attr_ok(e, B, "zip", B_ZIP);
    attr_ok(e, B, "color", SHARED_COLOR);
    track_full(e, B, BVT_EVENT_PAGE_VIEW, SHARED_CAT, NULL, NULL);
}

static int holds(const char *text)
{
    return state_dir_holds(dir, state_check(dir), text, strlen(text));
}

static void key_of(bvt_engine *e, const char *user, unsigned char key[16])
{
    bvt_user_key k;
    ck_assert_int_eq(bvt_user_key_of(e, user, strlen(user), &k), BVT_OK);
    bvt_wbuf w = bvt__wbuf_fixed(key, 16);
    bvt__w_u64(&w, k.hi);
    bvt__w_u64(&w, k.lo);
}

/* The format version in the snapshot's header. */
static int snapshot_format(void)
{
    size_t len;
    unsigned char *h = state_read_file(state_path(dir, "snapshot.bvts"), &len);
    int v = len > 8 ? h[8] : -1;
    free(h);
    return v;
}

/* What only A brought (a_key: its key) is in no file; what others use is.
 * e, when not NULL, is synced first. */
static void a_is_gone(bvt_engine *e, const unsigned char a_key[16], const char *when)
{
    if (e)
        ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    static const char *const gone[] = { A_ZIP, A_KEY, A_VALUE, "alicecat", "secret-path",
                                        "alice-branch", A_ITEM, "alicesearchterm", "qq7781" };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        ck_assert_msg(!holds(gone[i]), "%s: a file still holds \"%s\"", when, gone[i]);
    ck_assert_msg(!state_dir_holds(dir, state_check(dir), a_key, 16),
                  "%s: a file still holds A's key", when);
    static const char *const kept[] = { SHARED_COLOR, SHARED_CAT, B_ZIP, RULED_CAT,
                                        RULED_TIER, KEYWORD_CAT, "zip", "color", "tier" };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        ck_assert_msg(holds(kept[i]), "%s: no file holds \"%s\"", when, kept[i]);
}

static void attr_is(bvt_engine *e, const char *user, const char *key, const char *want)
{
    const char *got = NULL;
    int kind = 0;
    ck_assert_int_eq(bvt_attr_get(e, user, strlen(user), key, &kind, NULL, &got), BVT_OK);
    ck_assert_int_eq(kind, BVT_ATTR_STRING);
    ck_assert_str_eq(got, want);
}

static int has_interest(bvt_engine *e, const char *user, const char *category)
{
    bvt_interest in[16];
    size_t n = 0;
    ck_assert_int_eq(bvt_profile_interests(e, user, strlen(user), NOW, in, 16, &n), BVT_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].category, category) == 0)
            return 1;
    return 0;
}

static uint32_t category_id(bvt_engine *e, const char *path)
{
    uint32_t id = 0;
    return bvt_category_lookup(e, path, &id) == BVT_OK ? id : 0;
}

/* B, the segment and the keyword came through; A did not. */
static void b_is_intact(bvt_engine *e)
{
    ck_assert(!bvt_user_exists(e, A, strlen(A)));
    attr_is(e, B, "zip", B_ZIP);
    attr_is(e, B, "color", SHARED_COLOR);
    ck_assert(has_interest(e, B, SHARED_CAT));
    ck_assert_uint_ne(category_id(e, RULED_CAT), 0);
    ck_assert_uint_ne(category_id(e, KEYWORD_CAT), 0);
    /* the segment's rule still reads its string (D leaves no trace: forgotten) */
    attr_ok(e, D, "tier", RULED_TIER);
    uint32_t ids[16], ruled = 0;
    size_t n = 0;
    ck_assert_int_eq(bvt_segment_lookup(e, "ruled", &ruled), BVT_OK);
    ck_assert_int_eq(bvt_segments_of(e, D, strlen(D), NOW, NULL, ids, 16, &n), BVT_OK);
    int member = 0;
    for (size_t i = 0; i < n; i++)
        member |= ids[i] == ruled;
    ck_assert(member);
    ck_assert_int_eq(bvt_user_forget(e, D, strlen(D), NULL), BVT_OK);
}

START_TEST(forget_leaves_no_name_of_the_user)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok();
    unsigned char a_key[16];
    key_of(e, A, a_key);
    populate(e);
    checkpoint_ok(e);
    /* the test can see what it looks for */
    ck_assert(holds(A_ZIP) && holds(A_VALUE) && holds("alicecat") && holds("alice-branch"));
    ck_assert(state_dir_holds(dir, state_check(dir), a_key, 16));

    ck_assert_int_eq(snapshot_format(), 1);
    ck_assert_int_eq(bvt_user_forget(e, A, strlen(A), NULL), BVT_OK);
    checkpoint_ok(e);
    a_is_gone(e, a_key, "after forget and a checkpoint");
    ck_assert_int_eq(snapshot_format(), 2); /* it holds tombstones */
    checkpoint_ok(e);
    a_is_gone(e, a_key, "after a second checkpoint");
    b_is_intact(e);
    checkpoint_ok(e);
    bvt_engine_free(e);
    a_is_gone(NULL, a_key, "after free");

    e = open_ok();
    b_is_intact(e);
    ck_assert_uint_eq(category_id(e, A_CAT), 0);
    ck_assert_uint_eq(category_id(e, "alicecat"), 0);
    ck_assert_uint_eq(category_id(e, A_BRANCH), 0);
    ck_assert_uint_ne(category_id(e, "shared"), 0);
    checkpoint_ok(e);
    a_is_gone(e, a_key, "after reopening and a checkpoint");
    bvt_engine_free(e);
    e = open_ok();
    b_is_intact(e);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

/* An erased name used again by C in the same process: the journal brings
 * it back under its old id, so C's data replays after a crash. */
START_TEST(erased_name_used_again_keeps_its_id)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok();
    populate(e);
    uint32_t old = category_id(e, A_CAT);
    ck_assert_int_eq(bvt_user_forget(e, A, strlen(A), NULL), BVT_OK);
    checkpoint_ok(e);
    ck_assert(!holds("alicecat"));
    track_full(e, C, BVT_EVENT_PAGE_VIEW, "alicecat/newborn", NULL, NULL); /* erased parent */
    track_full(e, C, BVT_EVENT_PAGE_VIEW, A_CAT, NULL, NULL);
    attr_ok(e, C, "zip", A_ZIP);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    bvt_engine_free(e); /* no checkpoint: replay brings it back */

    for (int round = 0; round < 2; round++) {
        e = open_ok();
        ck_assert_uint_eq(category_id(e, A_CAT), old);
        ck_assert(has_interest(e, C, A_CAT));
        ck_assert(has_interest(e, C, "alicecat/newborn"));
        attr_is(e, C, "zip", A_ZIP);
        b_is_intact(e);
        checkpoint_ok(e);
        ck_assert(holds(A_CAT)); /* C brought them now */
        ck_assert(holds(A_ZIP));
        bvt_engine_free(e);
    }
    state_dir_remove(dir);
}
END_TEST

/* After a reopen an erased name is gone from memory too: interning its
 * text again makes a new id, and that replays and loads. */
START_TEST(erased_name_interned_again_after_reopen)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok();
    populate(e);
    uint32_t old = category_id(e, A_CAT);
    ck_assert_int_eq(bvt_user_forget(e, A, strlen(A), NULL), BVT_OK);
    checkpoint_ok(e);
    bvt_engine_free(e);

    e = open_ok();
    ck_assert_uint_eq(category_id(e, A_CAT), 0);
    ck_assert_ptr_null(bvt_category_name(e, old));
    bvt_event ev = make_event(C, BVT_EVENT_PAGE_VIEW, NOW - HOUR, NULL, 0);
    ev.category_id = old; /* an erased id is no category */
    ck_assert_int_eq(bvt_event_track(e, &ev, NULL), BVT_EINVAL);
    track_full(e, C, BVT_EVENT_PAGE_VIEW, A_CAT, NULL, NULL);
    attr_ok(e, C, "zip", A_ZIP);
    attr_ok(e, C, A_KEY, A_VALUE);
    uint32_t fresh = category_id(e, A_CAT);
    ck_assert_uint_gt(fresh, old);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    bvt_engine_free(e);

    for (int round = 0; round < 3; round++) { /* replayed, then checkpointed, then loaded */
        e = open_ok();
        ck_assert_uint_eq(category_id(e, A_CAT), fresh);
        ck_assert_ptr_null(bvt_category_name(e, old));
        ck_assert(has_interest(e, C, A_CAT));
        attr_is(e, C, "zip", A_ZIP);
        attr_is(e, C, A_KEY, A_VALUE);
        attr_is(e, B, "zip", B_ZIP);
        if (round < 2)
            checkpoint_ok(e);
        bvt_engine_free(e);
    }
    state_dir_remove(dir);
}
END_TEST

static void cluster_ok(bvt_engine *e)
{
    bvt_cluster_options co = BVT_CLUSTER_OPTIONS_INIT;
    co.k = 2;
    co.seed = 7;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_cluster_run(e, NOW, &co, NULL, &err);
    ck_assert_msg(rc == BVT_OK, "cluster run: %d %s", rc, err.message);
}

/* Aggregates keep the top-level categories they count under: the
 * anonymous aggregates always, a cluster model while it is the current one
 * (docs/privacy.md); what only they use below goes. */
START_TEST(aggregates_keep_their_categories)
{
    state_dir_make(dir);
    bvt_engine *e = open_with(BVT_ANALYTICS_ANONYMOUS);
    /* no analytics consent: counted anonymously, no profile */
    track_full(e, "visitor", BVT_EVENT_PAGE_VIEW, "anontop/secret-sub-7731", NULL, NULL);
    char u[32];
    for (int i = 0; i < 30; i++) {
        snprintf(u, sizeof u, "user-%d", i);
        ck_assert_int_eq(bvt_consent_set(e, u, strlen(u), BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
        track_full(e, u, BVT_EVENT_PAGE_VIEW, i % 2 ? "sport/run" : "home/sofa", NULL, NULL);
    }
    ck_assert_int_eq(bvt_consent_set(e, A, strlen(A), BVT_PURPOSE_ANALYTICS, 1, T0), BVT_OK);
    track_full(e, A, BVT_EVENT_PAGE_VIEW, "alicetop/only-9174", NULL, NULL);
    cluster_ok(e); /* alicetop is one of its dimensions */
    ck_assert_int_eq(bvt_user_forget(e, A, strlen(A), NULL), BVT_OK);
    checkpoint_ok(e);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    ck_assert(holds("anontop") && !holds("secret-sub"));
    ck_assert(holds("alicetop") && !holds("only-9174"));
    ck_assert(holds("sport/run") && holds("home/sofa"));

    cluster_ok(e); /* without A now: the new model does not name alicetop */
    checkpoint_ok(e);
    ck_assert(!holds("alicetop"));
    ck_assert(holds("anontop") && holds("sport/run"));
    bvt_engine_free(e);

    for (int round = 0; round < 2; round++) {
        e = open_with(BVT_ANALYTICS_ANONYMOUS);
        uint64_t n = 0;
        ck_assert_int_eq(bvt_anonymous_counts(e, BVT_EVENT_PAGE_VIEW, category_id(e, "anontop"),
                                              &n, NULL), BVT_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert(has_interest(e, "user-1", "sport/run"));
        checkpoint_ok(e);
        ck_assert(!holds("alicetop"));
        ck_assert(holds("anontop") && holds("sport/run"));
        bvt_engine_free(e);
    }
    state_dir_remove(dir);
}
END_TEST

static int member_of(bvt_engine *e, const char *user, const char *segment)
{
    uint32_t ids[64], want = 0;
    size_t n = 0;
    ck_assert_int_eq(bvt_segment_lookup(e, segment, &want), BVT_OK);
    ck_assert_int_eq(bvt_segments_of(e, user, strlen(user), NOW, NULL, ids, 64, &n), BVT_OK);
    for (size_t i = 0; i < n && i < 64; i++)
        if (ids[i] == want)
            return 1;
    return 0;
}

static bvt_engine *plain_engine(void)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    bvt_engine *e = NULL;
    ck_assert_int_eq(bvt_engine_new(&e, &o, NULL), BVT_OK);
    return e;
}

static bvt_engine *load_ok(const char *path)
{
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    bvt_engine *b = NULL;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_load(&b, &o, path, &err);
    ck_assert_msg(rc == BVT_OK, "load %s: %d %s", path, rc, err.message);
    return b;
}

static void same_bytes(const char *path, const char *path2)
{
    size_t n1, n2;
    unsigned char *f1 = state_read_file(path, &n1), *f2 = state_read_file(path2, &n2);
    ck_assert_msg(n1 == n2 && memcmp(f1, f2, n1) == 0, "%s and %s differ", path, path2);
    free(f1);
    free(f2);
}

/* Save e to path, load it, save that to path2: the same bytes (a loaded
 * engine keeps what the engine that saved it kept).  An engine with a
 * journal writes its position in the file, which a loaded one has not:
 * then the loaded one is saved, loaded and saved again instead. */
static void save_load_save(bvt_engine *e, const char *path, const char *path2)
{
    ck_assert_int_eq(bvt_engine_save(e, path, NULL), BVT_OK);
    bvt_engine *b = load_ok(path);
    if (e->journal) {
        ck_assert_int_eq(bvt_engine_save(b, path, NULL), BVT_OK);
        bvt_engine_free(b);
        b = load_ok(path);
    }
    ck_assert_int_eq(bvt_engine_save(b, path2, NULL), BVT_OK);
    same_bytes(path, path2);
    bvt_engine_free(b);
}

/* The definitions an engine holds keep their names, and only those: a
 * segment rule replaced by one that no longer names an attribute, without
 * a user having it, leaves it out of the snapshot of the engine that
 * defined both as out of the one of an engine that loaded it (fuzz seed
 * `segments`: the first kept it for its life, the second did not). */
START_TEST(definitions_keep_their_names_and_no_more)
{
    char f1[96], f2[96];
    scratch_files(f1, f2, sizeof f1);
    bvt_engine *e = plain_engine();
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "gold", "attr.tier == \"gold\" or attr.agekey >= 40",
                                        NULL, &err), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "beds", "did(page_view, \"home/beds\", 30d)", NULL,
                                        &err), BVT_OK);
    save_load_save(e, f1, f2);
    uint64_t check = bvt__secret_check(e);
    ck_assert(state_dir_holds(scratch, check, "agekey", 6));
    ck_assert(state_dir_holds(scratch, check, "home/beds", 9));
    ck_assert_int_eq(bvt_segment_remove(e, "gold", &err), BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "gold", "attr.tier == \"gold\"", NULL, &err),
                     BVT_OK);
    ck_assert_int_eq(bvt_segment_define(e, "beds", "monetary > 5", NULL, &err), BVT_OK);
    save_load_save(e, f1, f2);
    ck_assert(!state_dir_holds(scratch, check, "agekey", 6));
    ck_assert(!state_dir_holds(scratch, check, "home", 4));
    ck_assert(state_dir_holds(scratch, check, "tier", 4));
    /* the rule still reads what it names */
    attr_ok(e, C, "tier", "gold");
    ck_assert(member_of(e, C, "gold"));
    bvt_engine *b = load_ok(f1);
    attr_ok(b, C, "tier", "gold");
    ck_assert(member_of(b, C, "gold"));
    bvt_engine_free(b);
    bvt_engine_free(e);
    state_dir_remove(scratch);
}
END_TEST

/* A rule keeps what it names although no user has it: an attribute key
 * and value, a category (with its parent) only the rule brought.  Across a
 * checkpoint, a reopen and a checkpoint again the rule still works and the
 * names are still in the files; save, load and save give the same bytes
 * (fuzz seed `segments`: a rule loaded from a snapshot or replayed keeps
 * what the one defined did). */
START_TEST(rules_keep_what_they_name)
{
    state_dir_make(dir);
    char f1[96], f2[96];
    scratch_files(f1, f2, sizeof f1);
    bvt_engine *e = open_ok();
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "xxl",
                                        "attr.shoesize == \"XXL-RULE-ONLY\" and "
                                        "count(page_view, \"ruleonly/cat\", 30d) >= 1", NULL,
                                        &err), BVT_OK);
    track_full(e, B, BVT_EVENT_PAGE_VIEW, SHARED_CAT, NULL, NULL); /* someone else */
    checkpoint_ok(e);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
        ck_assert(holds("shoesize") && holds("XXL-RULE-ONLY") && holds("ruleonly/cat"));
        ck_assert_uint_ne(category_id(e, "ruleonly/cat"), 0);
        save_load_save(e, f1, f2);
        bvt_engine_free(e);
        e = open_ok(); /* round 0: replayed from the snapshot; then after checkpoints */
        checkpoint_ok(e);
    }
    /* the rule works: a user with both is a member */
    attr_ok(e, C, "shoesize", "XXL-RULE-ONLY");
    ck_assert(!member_of(e, C, "xxl"));
    track_full(e, C, BVT_EVENT_PAGE_VIEW, "ruleonly/cat", NULL, NULL);
    ck_assert(member_of(e, C, "xxl"));
    checkpoint_ok(e);
    bvt_engine_free(e);
    e = open_ok();
    ck_assert(member_of(e, C, "xxl"));
    bvt_engine_free(e);
    state_dir_remove(scratch);
    state_dir_remove(dir);
}
END_TEST

/* A definition keeps its names while it lives: once a segment rule is
 * replaced, an offer removed (its tags, its rule), a keyword mapped
 * elsewhere, the next checkpoint leaves out what only they named, in the
 * engine that defined them as in one that loaded them. */
START_TEST(replaced_definitions_release_their_names)
{
    state_dir_make(dir);
    char f1[96], f2[96];
    scratch_files(f1, f2, sizeof f1);
    bvt_engine *e = open_ok();
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_segment_define(e, "temp", "attr.tempkey == \"TEMPVAL-31\" or "
                                        "interest(\"tempcat/x\") > 0.5", NULL, &err), BVT_OK);
    static const char *const tags[] = { "tagcat/only" };
    bvt_offer offer = BVT_OFFER_INIT;
    offer.id = "o-temp";
    offer.tags = tags;
    offer.n_tags = 1;
    offer.rule = "attr.offerkey == \"OFFERVAL-77\"";
    ck_assert_int_eq(bvt_offer_define(e, &offer, NULL, &err), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "kwtemp", "kwcat/old", &err), BVT_OK);
    attr_ok(e, B, "zip", B_ZIP);
    checkpoint_ok(e);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    static const char *const named[] = { "tempkey", "TEMPVAL-31", "tempcat", "tagcat",
                                         "offerkey", "OFFERVAL-77", "kwcat/old" };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        ck_assert_msg(holds(named[i]), "no file holds \"%s\"", named[i]);
    save_load_save(e, f1, f2);

    ck_assert_int_eq(bvt_segment_define(e, "temp", "monetary > 1", NULL, &err), BVT_OK);
    ck_assert_int_eq(bvt_offer_remove(e, "o-temp", &err), BVT_OK);
    ck_assert_int_eq(bvt_keyword_map(e, "kwtemp", "kwcat/new", &err), BVT_OK);
    save_load_save(e, f1, f2);
    checkpoint_ok(e);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        ck_assert_msg(!holds(named[i]), "a file still holds \"%s\"", named[i]);
    ck_assert(holds("kwcat/new") && holds(B_ZIP));
    bvt_engine_free(e);
    e = open_ok();
    ck_assert_uint_eq(category_id(e, "kwcat/old"), 0);
    ck_assert_uint_ne(category_id(e, "kwcat/new"), 0);
    save_load_save(e, f1, f2);
    bvt_engine_free(e);
    state_dir_remove(scratch);
    state_dir_remove(dir);
}
END_TEST

/* An attribute string a checkpoint left out, used again before the engine
 * is freed, gets a new id as it does when the directory is reopened: the
 * running engine and the reopened one save the same bytes. */
START_TEST(string_used_again_after_a_checkpoint)
{
    state_dir_make(dir);
    char f1[96], f2[96];
    scratch_files(f1, f2, sizeof f1);
    bvt_engine *e = open_ok();
    attr_ok(e, A, "zip", A_ZIP);
    attr_ok(e, B, "color", SHARED_COLOR);
    ck_assert_int_eq(bvt_user_forget(e, A, strlen(A), NULL), BVT_OK);
    checkpoint_ok(e);
    ck_assert(!holds(A_ZIP));
    attr_ok(e, C, "zip", A_ZIP);
    attr_is(e, C, "zip", A_ZIP);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt_engine_save(e, f1, &err), BVT_OK);
    bvt_engine_free(e);
    e = open_ok();
    attr_is(e, C, "zip", A_ZIP);
    ck_assert_int_eq(bvt_engine_save(e, f2, &err), BVT_OK);
    size_t n1, n2;
    unsigned char *p1 = state_read_file(f1, &n1), *p2 = state_read_file(f2, &n2);
    ck_assert(n1 == n2 && memcmp(p1, p2, n1) == 0);
    free(p1);
    free(p2);
    bvt_engine_free(e);
    state_dir_remove(scratch);
    state_dir_remove(dir);
}
END_TEST

/* The CATEGORY records an engine journals, in order (u32 length, record). */
static int capture_categories(void *ud, const void *rec, size_t n)
{
    bvt_wbuf *w = ud;
    if (n && ((const unsigned char *)rec)[0] == BVT_OP_CATEGORY) {
        bvt__w_u32(w, (uint32_t)n);
        bvt__w_bytes(w, rec, n);
    }
    return BVT_OK;
}

/* Replay the k-th record of a capture (0-based). */
static int replay_captured(bvt_engine *e, const bvt_wbuf *w, int k)
{
    bvt_rbuf all;
    bvt__rbuf_init(&all, w->p, w->len);
    for (int i = 0;; i++) {
        uint32_t n = bvt__r_u32(&all);
        const unsigned char *p = bvt__r_bytes(&all, n);
        ck_assert(!all.bad);
        if (i < k)
            continue;
        bvt_rbuf r;
        bvt__rbuf_init(&r, p + 1, n - 1);
        return bvt__registry_replay(e, p[0], &r);
    }
}

/* A category record is a definition a checkpoint may both hold and find in
 * the journal after its cut (persist.h).  When nothing used the category
 * at the cut its snapshot holds a tombstone (its parent's too), and
 * replaying the record there is no error (fuzz seed `tight-bounds`); the
 * records the engine journals when a later event names it restore both
 * under their ids. */
START_TEST(category_record_again_after_its_cut)
{
    char f[96], unused[96];
    scratch_files(f, unused, sizeof f);
    bvt_options o = BVT_OPTIONS_INIT;
    set_test_secret(&o);
    bvt_engine *a = NULL;
    ck_assert_int_eq(bvt_engine_new(&a, &o, NULL), BVT_OK);
    bvt_wbuf log = BVT_WBUF_INIT;
    bvt__change_sink_set(a, &(bvt_change_sink){ .append = capture_categories, .ud = &log });
    track_full(a, B, BVT_EVENT_PAGE_VIEW, SHARED_CAT, NULL, NULL); /* shared 1, shared/shoes 2 */
    uint32_t id = 0;
    ck_assert_int_eq(bvt_category_intern(a, "books/crime", &id, NULL), BVT_OK);
    ck_assert_uint_eq(id, 4); /* books 3: records 2 and 3 */
    ck_assert_int_eq(bvt_engine_save(a, f, NULL), BVT_OK);

    bvt_engine *b = NULL;
    ck_assert_int_eq(bvt_engine_load(&b, &o, f, NULL), BVT_OK);
    ck_assert(!bvt__categories_valid(b->cats, 3) && !bvt__categories_valid(b->cats, 4));
    ck_assert_int_eq(replay_captured(b, &log, 3), BVT_OK); /* books/crime again */
    ck_assert_uint_eq(category_id(b, "books/crime"), 0);   /* nothing to restore yet */

    /* a event names it: the engine that took the snapshot journals both */
    size_t before = log.len;
    track_full(a, C, BVT_EVENT_PAGE_VIEW, "books/crime", NULL, NULL);
    ck_assert_uint_gt(log.len, before);
    ck_assert_int_eq(replay_captured(b, &log, 4), BVT_OK); /* books */
    ck_assert_int_eq(replay_captured(b, &log, 5), BVT_OK); /* books/crime */
    ck_assert_uint_eq(category_id(b, "books"), 3);
    ck_assert_uint_eq(category_id(b, "books/crime"), 4);
    ck_assert_uint_eq(bvt_category_parent(b, 4), 3);
    ck_assert_int_eq(replay_captured(b, &log, 3), BVT_OK); /* idempotent now */
    /* a restored top-level tombstone, replayed twice */
    bvt_engine *c = NULL;
    ck_assert_int_eq(bvt_engine_load(&c, &o, f, NULL), BVT_OK);
    ck_assert_int_eq(replay_captured(c, &log, 2), BVT_OK);
    ck_assert_int_eq(replay_captured(c, &log, 2), BVT_OK);
    ck_assert_uint_eq(category_id(c, "books"), 3);
    bvt_engine_free(c);
    bvt_engine_free(b);
    bvt_engine_free(a);
    bvt__wbuf_free(&log);
    state_dir_remove(scratch);
}
END_TEST

/* Users that each bring their own categories and strings, tracked and
 * forgotten by two threads while a third checkpoints: every state the
 * directory passes through reopens, to what the engine held. */
#define RACE_ROUNDS 3000
#define RACE_USERS 24

typedef struct racer {
    bvt_engine *e;
    int index;
    _Atomic int *running; /* trackers still running */
} racer;

static void race_user(char *buf, size_t cap, int thread, int i)
{
    snprintf(buf, cap, "t%d-u%d", thread, i % RACE_USERS);
}

static void *race_track(void *arg)
{
    racer *r = arg;
    char user[32], cat[64], value[32];
    for (int i = 0; i < RACE_ROUNDS; i++) {
        race_user(user, sizeof user, r->index, i);
        /* a path of this user's and this round's: new names all the time */
        snprintf(cat, sizeof cat, "t%d/u%d/c%d", r->index, i % RACE_USERS, i % 11);
        bvt_event ev = make_event(user, BVT_EVENT_PAGE_VIEW, T0 + i + 1, cat, 1);
        if (bvt_event_track(r->e, &ev, NULL) != BVT_OK)
            abort();
        snprintf(value, sizeof value, "v%d-%d", r->index, i % 13);
        if (bvt_attr_set_string(r->e, user, strlen(user), "v", value) != BVT_OK)
            abort();
        if (i % 7 == 3 && bvt_user_forget(r->e, user, strlen(user), NULL) != BVT_OK)
            abort();
    }
    atomic_fetch_sub(r->running, 1);
    return NULL;
}

static void *race_checkpoint(void *arg)
{
    racer *r = arg;
    while (atomic_load(r->running) > 0) {
        if (bvt_engine_checkpoint(r->e, NULL) != BVT_OK)
            abort();
        usleep(500);
    }
    return NULL;
}

/* Each user's interests and attribute, as text. */
static void describe(bvt_engine *e, char *out, size_t cap)
{
    size_t at = 0;
    for (int t = 0; t < 2; t++)
        for (int u = 0; u < RACE_USERS; u++) {
            char user[32];
            race_user(user, sizeof user, t, u);
            at += (size_t)snprintf(out + at, cap - at, "%s:", user);
            if (!bvt_user_exists(e, user, strlen(user)))
                continue;
            bvt_interest in[16];
            size_t n = 0;
            ck_assert_int_eq(bvt_profile_interests(e, user, strlen(user), T0 + DAY, in, 16, &n),
                             BVT_OK);
            for (size_t i = 0; i < n; i++)
                at += (size_t)snprintf(out + at, cap - at, " %s", in[i].category);
            const char *v = NULL;
            if (bvt_attr_get(e, user, strlen(user), "v", NULL, NULL, &v) == BVT_OK)
                at += (size_t)snprintf(out + at, cap - at, " v=%s", v);
            at += (size_t)snprintf(out + at, cap - at, "\n");
            ck_assert_uint_lt(at, cap);
        }
}

START_TEST(erasure_races_tracking_and_checkpoints)
{
    state_dir_make(dir);
    bvt_engine *e = open_ok();
    _Atomic int running = 2;
    racer rs[3] = { { e, 0, &running }, { e, 1, &running }, { e, 2, &running } };
    pthread_t t[3];
    pthread_create(&t[0], NULL, race_track, &rs[0]);
    pthread_create(&t[1], NULL, race_track, &rs[1]);
    pthread_create(&t[2], NULL, race_checkpoint, &rs[2]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    static char before[1 << 16], after[1 << 16];
    describe(e, before, sizeof before);
    ck_assert_int_eq(bvt_engine_sync(e, NULL), BVT_OK);
    bvt_engine_free(e);
    e = open_ok(); /* the last snapshot and its journal */
    describe(e, after, sizeof after);
    ck_assert_str_eq(before, after);
    checkpoint_ok(e);
    bvt_engine_free(e);
    e = open_ok();
    describe(e, after, sizeof after);
    ck_assert_str_eq(before, after);
    bvt_engine_free(e);
    state_dir_remove(dir);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("erasure");
    TCase *t = tcase_create("erasure");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, forget_leaves_no_name_of_the_user);
    tcase_add_test(t, erased_name_used_again_keeps_its_id);
    tcase_add_test(t, erased_name_interned_again_after_reopen);
    tcase_add_test(t, aggregates_keep_their_categories);
    tcase_add_test(t, definitions_keep_their_names_and_no_more);
    tcase_add_test(t, rules_keep_what_they_name);
    tcase_add_test(t, replaced_definitions_release_their_names);
    tcase_add_test(t, string_used_again_after_a_checkpoint);
    tcase_add_test(t, category_record_again_after_its_cut);
    tcase_add_test(t, erasure_races_tracking_and_checkpoints);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return run_suite(suite()); }
