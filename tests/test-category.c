/* test-category.c — category paths: validation with offsets, ancestors,
 * parents, within(), dense ids and the 65535 limit; erased ids, their
 * restoring, and which categories a snapshot's erasure keeps. */
#include <stdio.h>
#include <string.h>

#include "behavtarget.h"
#include "bits.h"
#include "category.h"
#include "testutil.h"

static bvt_categories *make(void)
{
    bvt_categories *c = NULL;
    ck_assert_int_eq(bvt__categories_new(&c), BVT_OK);
    ck_assert_ptr_nonnull(c);
    return c;
}

static uint32_t intern_ok(bvt_categories *c, const char *path)
{
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt__categories_intern(c, path, strlen(path), &id, &err);
    ck_assert_msg(rc == BVT_OK, "intern \"%s\": %d %s", path, rc, err.message);
    ck_assert_uint_ge(id, 1);
    return id;
}

/* A path of n segments "s1/s2/.../sn". */
static void deep_path(char *buf, size_t size, unsigned n)
{
    buf[0] = '\0';
    for (unsigned i = 1; i <= n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, size - l, i == 1 ? "s%u" : "/s%u", i);
    }
}

static const struct {
    const char *path;
    int rc;
    int64_t offset;
} validation[] = {
    { "home", BVT_OK, -1 },
    { "home/bedroom/mattresses", BVT_OK, -1 },
    { "a", BVT_OK, -1 },
    { "Home & Garden/Über-Stühle", BVT_OK, -1 }, /* spaces, punctuation, UTF-8 */
    { "a b/c~d", BVT_OK, -1 },
    { "", BVT_EINVAL, 0 },
    { "/home", BVT_EINVAL, 0 },
    { "home/", BVT_EINVAL, 4 },
    { "home//bedroom", BVT_EINVAL, 5 },
    { "a/b//", BVT_EINVAL, 4 },
    { "/", BVT_EINVAL, 0 },
    { "home/bed\troom", BVT_EINVAL, 8 },
    { "home\n", BVT_EINVAL, 4 },
    { "\x1f", BVT_EINVAL, 0 },
    { "x/\x01/y", BVT_EINVAL, 2 },
};

START_TEST(validation_table)
{
    bvt_categories *c = make();
    for (size_t i = 0; i < sizeof validation / sizeof validation[0]; i++) {
        const char *p = validation[i].path;
        uint32_t id = 0;
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt__categories_intern(c, p, strlen(p), &id, &err);
        ck_assert_msg(rc == validation[i].rc, "\"%s\": rc %d, want %d", p, rc, validation[i].rc);
        if (rc == BVT_OK) {
            ck_assert_uint_eq(bvt__categories_find(c, p, strlen(p)), id);
        } else {
            ck_assert_msg(err.offset == validation[i].offset, "\"%s\": offset %lld, want %lld", p,
                          (long long)err.offset, (long long)validation[i].offset);
            ck_assert_int_eq(err.code, rc);
            ck_assert_uint_gt(strlen(err.message), 0);
            ck_assert_uint_eq(bvt__categories_find(c, p, strlen(p)), 0);
        }
    }
    bvt__categories_free(c);
}
END_TEST

START_TEST(embedded_nul_and_lengths)
{
    bvt_categories *c = make();
    uint32_t id;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__categories_intern(c, "ab\0cd", 5, &id, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 2);
    /* Only len bytes are read: no NUL needed. */
    ck_assert_int_eq(bvt__categories_intern(c, "shoes/red!!", 9, &id, NULL), BVT_OK);
    ck_assert_str_eq(bvt__categories_name(c, id), "shoes/red");

    char buf[300];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(bvt__categories_intern(c, buf, 255, &id, NULL), BVT_OK);
    ck_assert_uint_eq(strlen(bvt__categories_name(c, id)), 255);
    ck_assert_int_eq(bvt__categories_intern(c, buf, 256, &id, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 255);

    ck_assert_int_eq(bvt__categories_intern(c, NULL, 3, &id, NULL), BVT_EINVAL);
    ck_assert_int_eq(bvt__categories_intern(c, "a", 1, NULL, NULL), BVT_EINVAL);
    bvt__categories_free(c);
}
END_TEST

START_TEST(depth_limit)
{
    bvt_categories *c = make();
    char p[256];
    deep_path(p, sizeof p, 16);
    uint32_t leaf = intern_ok(c, p);
    ck_assert_uint_eq(bvt__categories_count(c), 16);
    uint32_t top = bvt__categories_find(c, "s1", 2);
    ck_assert_int_eq(bvt__categories_within(c, leaf, top), 1);

    deep_path(p, sizeof p, 17);
    uint32_t id;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__categories_intern(c, p, strlen(p), &id, &err), BVT_EINVAL);
    /* Points at the '/' that starts the 17th segment. */
    ck_assert_int_eq(err.offset, (int64_t)(strrchr(p, '/') - p));
    ck_assert_uint_eq(bvt__categories_count(c), 16);
    bvt__categories_free(c);
}
END_TEST

START_TEST(ancestors_interned_first)
{
    bvt_categories *c = make();
    uint32_t leaf = intern_ok(c, "home/bedroom/mattresses");
    ck_assert_uint_eq(leaf, 3);
    ck_assert_uint_eq(bvt__categories_count(c), 3);
    ck_assert_uint_eq(bvt__categories_find(c, "home", 4), 1);
    ck_assert_uint_eq(bvt__categories_find(c, "home/bedroom", 12), 2);
    ck_assert_str_eq(bvt__categories_name(c, 1), "home");
    ck_assert_str_eq(bvt__categories_name(c, 2), "home/bedroom");
    ck_assert_str_eq(bvt__categories_name(c, 3), "home/bedroom/mattresses");
    ck_assert_uint_eq(bvt__categories_parent(c, 3), 2);
    ck_assert_uint_eq(bvt__categories_parent(c, 2), 1);
    ck_assert_uint_eq(bvt__categories_parent(c, 1), 0);

    /* A sibling reuses known ancestors; ids stay dense. */
    ck_assert_uint_eq(intern_ok(c, "home/bedroom/pillows"), 4);
    ck_assert_uint_eq(intern_ok(c, "home/kitchen"), 5);
    ck_assert_uint_eq(intern_ok(c, "garden"), 6);
    ck_assert_uint_eq(intern_ok(c, "home/bedroom"), 2); /* known: same id */
    ck_assert_uint_eq(bvt__categories_count(c), 6);
    ck_assert_uint_eq(bvt__categories_parent(c, 5), 1);

    ck_assert_int_eq(bvt__categories_valid(c, 0), 0);
    ck_assert_int_eq(bvt__categories_valid(c, 6), 1);
    ck_assert_int_eq(bvt__categories_valid(c, 7), 0);
    ck_assert_ptr_null(bvt__categories_name(c, 0));
    ck_assert_ptr_null(bvt__categories_name(c, 7));
    ck_assert_uint_eq(bvt__categories_parent(c, 7), 0);
    ck_assert_uint_eq(bvt__categories_find(c, "home/bed", 8), 0);
    ck_assert_uint_eq(bvt__categories_find(c, "home/", 5), 0);
    ck_assert_uint_gt(bvt__categories_bytes(c), 0);
    bvt__categories_free(c);
}
END_TEST

START_TEST(within_table)
{
    bvt_categories *c = make();
    uint32_t mat = intern_ok(c, "home/bedroom/mattresses");
    uint32_t home = bvt__categories_find(c, "home", 4);
    uint32_t bed = bvt__categories_find(c, "home/bedroom", 12);
    uint32_t kit = intern_ok(c, "home/kitchen");
    uint32_t gar = intern_ok(c, "garden");
    /* "homeware" shares a prefix with "home" but is not below it. */
    uint32_t hw = intern_ok(c, "homeware/x");
    const struct {
        uint32_t id, anc;
        int want;
    } t[] = {
        { mat, mat, 1 }, { mat, bed, 1 }, { mat, home, 1 }, { mat, 0, 1 },
        { bed, mat, 0 }, { home, mat, 0 }, { mat, kit, 0 }, { mat, gar, 0 },
        { kit, home, 1 }, { gar, home, 0 }, { hw, home, 0 }, { 0, 0, 1 },
        { 0, home, 0 }, { 999, 999, 1 }, { 999, home, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(bvt__categories_within(c, t[i].id, t[i].anc) == t[i].want,
                      "row %zu: within(%u, %u) != %d", i, t[i].id, t[i].anc, t[i].want);
    bvt__categories_free(c);
}
END_TEST

START_TEST(limit_is_all_or_nothing)
{
    bvt_categories *c = make();
    char p[32];
    for (uint32_t i = 1; i <= BVT_CATEGORY_MAX_ID - 2; i++) {
        int n = snprintf(p, sizeof p, "c%u", i);
        uint32_t id;
        ck_assert_int_eq(bvt__categories_intern(c, p, (size_t)n, &id, NULL), BVT_OK);
        ck_assert_uint_eq(id, i);
    }
    /* Two ids left: a path needing three fails and interns none of them. */
    uint32_t id = 0;
    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__categories_intern(c, "x/y/z", 5, &id, &err), BVT_ELIMIT);
    ck_assert_int_eq(err.code, BVT_ELIMIT);
    ck_assert_uint_eq(bvt__categories_count(c), BVT_CATEGORY_MAX_ID - 2);
    ck_assert_uint_eq(bvt__categories_find(c, "x", 1), 0);
    /* Two fit exactly. */
    ck_assert_uint_eq(intern_ok(c, "x/y"), BVT_CATEGORY_MAX_ID);
    ck_assert_int_eq(bvt__categories_intern(c, "q", 1, &id, NULL), BVT_ELIMIT);
    /* Known paths still resolve when full. */
    ck_assert_uint_eq(intern_ok(c, "c7"), 7);
    ck_assert_str_eq(bvt__categories_name(c, BVT_CATEGORY_MAX_ID), "x/y");
    bvt__categories_free(c);
}
END_TEST

/* Erased ids (loaded tombstones): not valid, never found, a new id for
 * their path; replay restores one under its id below a known parent. */
START_TEST(erased_and_restored)
{
    bvt_categories *c = make();
    intern_ok(c, "a/b/c");
    uint32_t gone = 0, gone2 = 0;
    ck_assert_int_eq(bvt__categories_add_erased(c, &gone), BVT_OK);
    ck_assert_uint_eq(gone, 4);
    ck_assert(!bvt__categories_valid(c, gone));
    ck_assert_ptr_null(bvt__categories_name(c, gone));
    ck_assert_uint_eq(intern_ok(c, "q"), 5);
    ck_assert_int_eq(bvt__categories_add_erased(c, &gone2), BVT_OK);

    bvt_error err = BVT_ERROR_INIT;
    ck_assert_int_eq(bvt__categories_restore(c, gone, "a/b", 3, &err), BVT_EINVAL); /* known */
    ck_assert_int_eq(bvt__categories_restore(c, 5, "z", 1, &err), BVT_EINVAL);   /* live */
    ck_assert_int_eq(bvt__categories_restore(c, gone, "n/x", 3, &err), BVT_EINVAL); /* no parent */
    ck_assert_int_eq(bvt__categories_restore(c, gone, "q/x", 3, &err), BVT_EINVAL); /* parent newer */
    ck_assert_int_eq(bvt__categories_restore(c, gone, "a//x", 4, &err), BVT_EINVAL);
    ck_assert_int_eq(err.offset, 2);
    ck_assert_int_eq(bvt__categories_restore(c, gone, "a/b/z", 5, &err), BVT_OK);
    ck_assert_uint_eq(bvt__categories_find(c, "a/b/z", 5), gone);
    ck_assert_uint_eq(bvt__categories_parent(c, gone), 2);
    ck_assert(bvt__categories_within(c, gone, 1));
    ck_assert(!bvt__categories_within(c, gone, 3));
    ck_assert_int_eq(bvt__categories_restore(c, gone2, "top", 3, NULL), BVT_OK);
    ck_assert_uint_eq(bvt__categories_parent(c, gone2), 0);
    ck_assert(bvt__categories_valid(c, gone2));
    bvt__categories_free(c);
}
END_TEST

/* The CATEGORY records the hook sees, in order. */
typedef struct logged {
    uint32_t ids[16];
    int n;
} logged;

static int record(void *ud, uint32_t id, const char *path, size_t len)
{
    logged *l = ud;
    (void)path, (void)len;
    l->ids[l->n++] = id;
    return BVT_OK;
}

/* A snapshot's erasure: what its marks, pins, records after its cut and
 * kept descendants keep stays; the rest is flagged erased, and journaled
 * again (ancestors first) before a record names it. */
START_TEST(erasure_keeps_what_is_used)
{
    bvt_categories *c = make();
    intern_ok(c, "k/a"); /* k 1, k/a 2 */
    intern_ok(c, "k/b"); /* 3 */
    intern_ok(c, "p");   /* 4 */
    logged log = { { 0 }, 0 };
    bvt_categories_hooks h = { NULL, record, &log };
    bvt__categories_set_hooks(c, &h);
    ck_assert_int_eq(bvt__categories_pin(c, 4), BVT_OK);
    ck_assert_int_eq(bvt__categories_pin(c, 9), BVT_EINVAL);

    _Atomic uint64_t kept[BVT_BITS_WORDS(8)] = { 0 };
    bvt__categories_cut(c);
    bvt__bits_set(kept, 2); /* a profile uses k/a */
    ck_assert_uint_eq(bvt__categories_unused(c, 4, kept), 1);
    bvt__categories_erase(c, 4, kept);
    ck_assert(bvt__bits_has(kept, 1) && bvt__bits_has(kept, 2) && bvt__bits_has(kept, 4));
    ck_assert(!bvt__bits_has(kept, 3));
    ck_assert(bvt__categories_valid(c, 3)); /* erased in files only */
    ck_assert_int_eq(log.n, 0);
    ck_assert_int_eq(bvt__categories_named(c, 3), BVT_OK);
    ck_assert_int_eq(log.n, 1);
    ck_assert_uint_eq(log.ids[0], 3);
    ck_assert_int_eq(bvt__categories_named(c, 3), BVT_OK); /* once */
    ck_assert_int_eq(log.n, 1);

    /* named after the cut: kept, even when named after the first look */
    memset(kept, 0, sizeof kept);
    bvt__categories_cut(c);
    ck_assert_int_eq(bvt__categories_named(c, 2), BVT_OK);
    ck_assert_uint_eq(bvt__categories_unused(c, 4, kept), 1); /* k/b */
    ck_assert_int_eq(bvt__categories_named(c, 3), BVT_OK);
    bvt__categories_erase(c, 4, kept);
    for (uint32_t id = 1; id <= 4; id++)
        ck_assert(bvt__bits_has(kept, id));

    /* nothing used: all but the pinned erased; a new child brings back
     * its erased parent first */
    memset(kept, 0, sizeof kept);
    bvt__categories_cut(c);
    ck_assert_uint_eq(bvt__categories_unused(c, 4, kept), 3);
    bvt__categories_erase(c, 4, kept);
    log.n = 0;
    ck_assert_uint_eq(intern_ok(c, "k/new"), 5);
    ck_assert_int_eq(log.n, 2);
    ck_assert_uint_eq(log.ids[0], 1);
    ck_assert_uint_eq(log.ids[1], 5);
    /* a record naming k/a brings back k/a alone (k is back) */
    ck_assert_int_eq(bvt__categories_named(c, 2), BVT_OK);
    ck_assert_int_eq(log.n, 3);
    ck_assert_uint_eq(log.ids[2], 2);
    /* pinning an erased one journals it too */
    ck_assert_int_eq(bvt__categories_pin(c, 3), BVT_OK);
    ck_assert_int_eq(log.n, 4);
    ck_assert_uint_eq(log.ids[3], 3);
    bvt__categories_free(c);
}
END_TEST

/* Pins are counted (a definition holds one while it lives), an aggregate's
 * keep is for good, and a category created after a cut is named by its own
 * record, which may follow the cut in the journal: the snapshot keeps it. */
START_TEST(pins_counted_new_ids_named)
{
    bvt_categories *c = make();
    intern_ok(c, "a"); /* 1 */
    intern_ok(c, "b"); /* 2 */
    _Atomic uint64_t kept[BVT_BITS_WORDS(8)] = { 0 };
    ck_assert_int_eq(bvt__categories_pin(c, 1), BVT_OK);
    ck_assert_int_eq(bvt__categories_pin(c, 1), BVT_OK);
    bvt__categories_unpin(c, 1); /* one definition of two gone */
    bvt__categories_cut(c);
    ck_assert_uint_eq(bvt__categories_unused(c, 2, kept), 1); /* b */
    bvt__categories_erase(c, 2, kept);
    ck_assert(bvt__bits_has(kept, 1) && !bvt__bits_has(kept, 2));

    bvt__categories_unpin(c, 1); /* the other one gone */
    bvt__categories_unpin(c, 1); /* never below 0 */
    ck_assert_int_eq(bvt__categories_pin(c, 2), BVT_OK);
    ck_assert_int_eq(bvt__categories_keep(c, 2), BVT_OK);
    bvt__categories_unpin(c, 2); /* kept anyway */
    memset(kept, 0, sizeof kept);
    bvt__categories_cut(c);
    ck_assert_uint_eq(bvt__categories_unused(c, 2, kept), 1); /* a */
    bvt__categories_erase(c, 2, kept);
    ck_assert(!bvt__bits_has(kept, 1) && bvt__bits_has(kept, 2));

    /* created after the cut: kept by that snapshot, not by the next */
    memset(kept, 0, sizeof kept);
    bvt__categories_cut(c);
    ck_assert_uint_eq(intern_ok(c, "n/m"), 4);
    ck_assert_uint_eq(bvt__categories_unused(c, 4, kept), 1); /* a */
    bvt__categories_erase(c, 4, kept);
    ck_assert(bvt__bits_has(kept, 3) && bvt__bits_has(kept, 4));
    memset(kept, 0, sizeof kept);
    bvt__categories_cut(c);
    ck_assert_uint_eq(bvt__categories_unused(c, 4, kept), 3); /* a, n, n/m */
    bvt__categories_free(c);
}
END_TEST

static Suite *category_suite(void)
{
    Suite *s = suite_create("category");
    TCase *tc = tcase_create("category");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, validation_table);
    tcase_add_test(tc, embedded_nul_and_lengths);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, ancestors_interned_first);
    tcase_add_test(tc, within_table);
    tcase_add_test(tc, limit_is_all_or_nothing);
    tcase_add_test(tc, erased_and_restored);
    tcase_add_test(tc, erasure_keeps_what_is_used);
    tcase_add_test(tc, pins_counted_new_ids_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(category_suite()); }
