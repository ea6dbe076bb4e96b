/* offers_file.h — the offers file of `bvt report` (docs/cli.md, "Offers
 * file"): one offer per line, "id: key=value ...", or a campaign group,
 * "group NAME: caps=...".  Blank lines and '#' comments are skipped; LF or
 * CRLF.
 *
 * Parsing checks the syntax and every value (numbers, times, durations,
 * caps, tags, repeated keys, repeated ids) but needs no engine: whether the
 * library accepts a definition (a group that exists, a rule that compiles)
 * is for the caller to find out when it defines the offers. */
#ifndef BVT_CLI_OFFERS_FILE_H
#define BVT_CLI_OFFERS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <behavtarget.h>

#include "idmap.h"

/* One accepted line: an offer or a group. */
typedef struct offer_line {
    size_t line;     /* 1-based line number in the file */
    int is_group;    /* 1: "group NAME: caps=...", 0: an offer */
    char *id;        /* offer id or group name, 1..BVT_OFFER_ID_MAX bytes */
    /* Offers: the definition for bvt_offer_define(), with the keys given on
     * the line and BVT_OFFER_INIT defaults for the others.  Its strings and
     * arrays point into this line (id, tags, caps, group, rule): complete
     * once offer_file_parse() returned 0, valid until offer_file_free().
     * Groups: unused. */
    bvt_offer def;
    char *tags_buf;  /* the tags' bytes, NUL-separated */
    const char *tags[BVT_OFFER_TAGS_MAX];
    bvt_cap caps[BVT_OFFER_CAPS_MAX]; /* an offer's or group's caps */
    size_t n_caps;
    char *group;     /* group=, or NULL */
    char *rule;      /* rule=, or NULL */
    uint32_t num;    /* 0 after parsing; the caller may keep the engine's id here */
} offer_line;

/* The lines of a file, in file order. */
typedef struct offer_file {
    offer_line *lines;
    size_t n, cap;
    int any_rule;    /* some offer has rule= */
    idmap names[2];  /* the offer ids [0] and group names [1] seen: repeats are errors */
} offer_file;

/* Parse buf[0..len) (NUL bytes included: they are refused) into f, which
 * must be zeroed (offer_file f = { 0 }).  Returns 0 when every line was
 * accepted, or CLI_EXIT_FAIL after printing "PATH:LINE: reason" on stderr
 * (cli_input_error) for the first line that was not (or on running out of
 * memory); path only names the file in that message.  Either way the
 * caller frees f with offer_file_free(). */
int offer_file_parse(const char *path, const char *buf, size_t len, offer_file *f);

/* Free what f owns and zero it. */
void offer_file_free(offer_file *f);

#endif
