/* cli_types.h — the event types a file may name: one vocabulary for every
 * reader of bvt.
 *
 * The vocabulary is the library's built-in types, the custom types a
 * command declares (--custom-types a,b or --types-file FILE) and those a
 * state directory already registered.  A name outside it is refused, with
 * the nearest name when it is a near miss ("did you mean page_view?"), so
 * a misspelt type never becomes a new custom type.  The commands fill the
 * vocabulary from the library (cli_input.c); this file only keeps names,
 * so the readers' fuzz harnesses link it without the engine. */
#ifndef BVT_CLI_TYPES_H
#define BVT_CLI_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <behavtarget.h>

#define CLI_TYPE_NAME_MAX 31 /* the library's limit on a custom type name */

typedef struct cli_types {
    size_t n;
    uint8_t len[BVT_EVENT_TYPE_MAX];
    char name[BVT_EVENT_TYPE_MAX][CLI_TYPE_NAME_MAX + 1];
} cli_types;

/* 1..31 bytes of a-z, 0-9, _: a name the library can register. */
int cli_types_valid_name(const char *s, size_t n);

/* Add a name (kept once).  Returns 0, or -1 when the vocabulary is full or
 * the name is not valid. */
int cli_types_add(cli_types *t, const char *s, size_t n);

/* Whether s[0..n) is in the vocabulary. */
int cli_types_has(const cli_types *t, const char *s, size_t n);

/* The name a near miss meant: the one equal to s when case and '_' are
 * ignored, else the closest within an edit distance of 2; NULL when none. */
const char *cli_types_near(const cli_types *t, const char *s, size_t n);

/* Add the names of a list: separated by commas (--custom-types) or one per
 * line (a types file: blank lines and '#' comments skipped); blanks around
 * a name and a CR before a line end are ignored.  Returns 0, or -1 with why
 * ("line 3: 'Video' is not a type name ..." for a file). */
int cli_types_add_list(cli_types *t, const char *text, size_t len, int one_per_line,
                       char *why, size_t cap);

/* The message for an unknown name s[0..n), into buf[0..cap):
 * "unknown event type 'pageview' (did you mean page_view?); declare custom
 * types with --custom-types or --types-file". */
const char *cli_types_unknown(const cli_types *t, const char *s, size_t n, char *buf,
                              size_t cap);

#endif
