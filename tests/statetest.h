/* statetest.h — what the snapshot and state-directory suites share: a
 * scratch directory, a random engine state touching every kind of data
 * (events of every kind, attributes, consent, aliases, segments, keywords,
 * offers with feedback, an experiment, an RFM refresh), and a comparison
 * of two engines through every user's export, the statistics and metrics. */
#ifndef BVT_STATETEST_H
#define BVT_STATETEST_H

#include <stdint.h>

#include "testutil.h"

#define STATE_USERS 240
#define STATE_NOW (T0 + 30 * DAY)

/* mkdtemp a fresh directory into dir (at least 64 bytes). */
void state_dir_make(char *dir);
/* Remove dir and the files in it. */
void state_dir_remove(const char *dir);
/* dir/name in one of two static buffers (valid until the next-but-one call). */
const char *state_path(const char *dir, const char *name);

/* A whole file into malloc'd memory (the caller frees it), and back. */
unsigned char *state_read_file(const char *path, size_t *len);
void state_write_file(const char *path, const void *p, size_t len);

/* The secret's check value, read from the header of dir's snapshot. */
uint64_t state_check(const char *dir);

/* Does any file of dir hold the n bytes at needle: in its raw bytes, in a
 * snapshot block or in a journal record, both decompressed?  (Every block
 * of every file is read: erasure tests search it for what must be gone.) */
int state_dir_holds(const char *dir, uint64_t check, const void *needle, size_t n);

/* Build the same state in e for the same seed. */
void random_state(bvt_engine *e, uint64_t seed);

/* Fail the test unless a and b answer every query of the state the same. */
void same_engines(bvt_engine *a, bvt_engine *b);

/* Fail the test unless a and b hold the same whole state (statecmp.h) for
 * these names at now, with the first difference in the message. */
struct statecmp_names;
void same_state(bvt_engine *a, bvt_engine *b, const struct statecmp_names *names, int64_t now);

#endif
