/* cli_columns.h — which column of a file holds which field, for every
 * reader of bvt: --columns (field=COLUMN pairs that map a reader's field
 * names to the header names, or JSON keys, of a file) and --delimiter.
 *
 * A field mapped to a column is read from that column only; a column named
 * like a field that is mapped elsewhere is then ignored.  Fields that are
 * not mapped are read from the column of their own name. */
#ifndef BVT_CLI_COLUMNS_H
#define BVT_CLI_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"

#define CLI_COLUMNS_MAX 16 /* pairs in --columns */

typedef struct cli_colmap {
    size_t n;
    struct {
        const char *field, *column; /* borrowed from the --columns text */
        size_t field_len, column_len;
    } pair[CLI_COLUMNS_MAX];
} cli_colmap;

/* Split --columns "field=COLUMN,field=COLUMN..." (spec outlives m).  Only
 * the syntax is checked here (cli_columns_check() checks the field names
 * against a reader's).  Returns 0, or -1 with why. */
int cli_columns_parse(cli_colmap *m, const char *spec, char *why, size_t cap);

/* Every pair of m names a field of fields[0..n) (what: "events files",
 * for the message).  Returns 0, or -1 with why naming the first other
 * field and the list. */
int cli_columns_check(const cli_colmap *m, const char *const *fields, size_t n,
                      const char *what, char *why, size_t cap);

/* The field (index in fields[0..n)) that the column or key `name` holds,
 * or -1.  m may be NULL (no mapping). */
int cli_columns_field_of(const cli_colmap *m, const char *const *fields, size_t n,
                         const char *name, size_t len);

/* The field's name for messages: "timestamp", or with a mapping
 * "timestamp (column 'InvoiceDate')". */
const char *cli_columns_label(const cli_colmap *m, const char *field, char *buf, size_t cap);

/* Map a CSV header: col_of[f] = the column holding fields[f], or -1.
 * Columns past max_cols are ignored.  Returns 0, or -1 with why when two
 * columns hold the same field ("column 'x' appears twice"). */
int cli_columns_map_header(const cli_colmap *m, const char *const *fields, size_t n,
                           const csv_field *cols, size_t ncols, size_t max_cols,
                           int16_t *col_of, char *why, size_t cap);

/* "header: missing column 'timestamp'", or with a mapping "header: missing
 * column 'InvoiceDate' (timestamp, from --columns)", then `expected` when
 * not NULL. */
void cli_columns_missing(const cli_colmap *m, const char *field, const char *expected,
                         char *buf, size_t cap);

/* A --delimiter value: ",", ";", "|", or a tab ("\t" as two characters,
 * "tab", or the character itself).  0 and *out, or -1. */
int cli_delimiter_of(const char *text, char *out);

#endif
