/* csv.h — RFC 4180 record splitter over a memory buffer.
 *
 * Fields are separated by a delimiter (',' unless csv_set_delimiter() says
 * otherwise: ';', '|' or a tab are common).  Fields come back as slices:
 * unquoted fields point into the buffer, quoted
 * fields are unescaped into a caller-provided scratch area of CSV_MAX_RECORD
 * bytes that is reused by the next call.  Records end at LF or CRLF; quoted
 * fields may span lines.  Blank lines are skipped.  Nothing is allocated. */
#ifndef BVT_CLI_CSV_H
#define BVT_CLI_CSV_H

#include <stddef.h>

/* Longest record accepted, line ending excluded.  Bounds the scratch area
 * and keeps a corrupt file from being read as one giant record. */
#define CSV_MAX_RECORD 65536

typedef struct csv_field {
    const char *p;
    size_t n;
} csv_field;

typedef struct csv_reader {
    const char *buf;
    size_t len;
    size_t pos;
    size_t line;   /* 1-based line where the next record starts */
    char *scratch; /* CSV_MAX_RECORD bytes */
    int failed;    /* sticky: after an error every call fails */
    char delim;    /* the field delimiter */
    size_t rec_start, rec_end; /* the last record's bytes in buf (line end excluded) */
} csv_reader;

/* Start reading buf[0..len).  A UTF-8 byte order mark is skipped. */
void csv_init(csv_reader *r, const char *buf, size_t len, char *scratch);

/* Start reading a part of a file that begins a record on line `line` (no
 * byte order mark is looked for). */
void csv_init_at(csv_reader *r, const char *buf, size_t len, char *scratch, size_t line);

/* Fields are separated by c from now on (',' after csv_init).  c must not
 * be '"', CR or LF. */
void csv_set_delimiter(csv_reader *r, char c);

/* Read the next record.  Up to `max` fields are stored in out; further
 * fields are counted in *nfields but not stored.  *line receives the line
 * the record starts on (or, on error, the line of the error).
 * Returns 1 for a record, 0 at the end, -1 on error with *why set to a
 * static reason.  After a record, buf[rec_start..rec_end) holds its bytes
 * as written (quotes included, line end excluded). */
int csv_next(csv_reader *r, csv_field *out, size_t max, size_t *nfields,
             size_t *line, const char **why);

#endif
