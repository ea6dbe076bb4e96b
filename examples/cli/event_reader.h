/* event_reader.h — event files (CSV with a header, or JSON Lines) parsed
 * from a memory buffer, one record at a time.
 *
 * The format is in docs/events.md.  Records hold slices that borrow from the
 * input buffer or from the reader's scratch area: they are valid until the
 * next er_next() call.  Slices are not NUL-terminated.  The reader never
 * allocates, never recurses, and caps a record at ER_MAX_LINE bytes, so any
 * input (the fuzz harness feeds it garbage) ends in a record, the end, or an
 * error with a line number and a reason. */
#ifndef BVT_CLI_EVENT_READER_H
#define BVT_CLI_EVENT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"

#define ER_MAX_LINE CSV_MAX_RECORD
#define ER_MAX_USER_ID 1024      /* the library's limit on a user id */
#define ER_MAX_TYPE_NAME 31      /* the library's limit on a custom type name */
#define ER_MAX_DWELL_MS 86400000 /* one day, the library's limit */

enum er_format { ER_CSV = 0, ER_JSONL = 1 };

typedef struct er_slice {
    const char *p;
    size_t n;
} er_slice;

/* One event.  Optional strings are empty (n == 0) when absent; no string
 * contains a NUL byte. */
typedef struct er_record {
    size_t line;          /* 1-based line the record starts on */
    er_slice user_id;     /* 1..ER_MAX_USER_ID bytes */
    int64_t time_ms;      /* epoch milliseconds, > 0 */
    er_slice type;        /* 1..31 bytes of [a-z0-9_]; not yet resolved */
    er_slice category;    /* empty, or a path: 1..255 bytes, no empty segment, <= 16 levels */
    er_slice item_id;
    er_slice offer_id;
    er_slice search_text;
    double value;         /* finite, >= 0; 0 when absent */
    uint32_t quantity;    /* 0 when absent */
    int64_t dwell_ms;     /* 0..ER_MAX_DWELL_MS; 0 when absent */
} er_record;

/* Column / key indices, in the order of er_field_names. */
enum er_field {
    ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE, ER_F_CATEGORY, ER_F_ITEM_ID,
    ER_F_VALUE, ER_F_QUANTITY, ER_F_OFFER_ID, ER_F_DWELL_MS, ER_F_SEARCH_TEXT,
    ER_F_COUNT
};

#define ER_MAX_COLUMNS 256 /* header columns looked at; later ones are ignored */

/* A reader of the timestamp field in place of er_parse_time: 0 with *out
 * set (> 0), or -1 with a reason written to why (NUL-terminated, at most
 * cap bytes).  The decision server installs one that reads times with
 * bvt_time_parse(). */
typedef int (*er_time_reader)(const char *s, size_t n, int64_t *out, char *why, size_t cap);

/* Reader state.  About 66 KiB (the scratch area): allocate it, do not put
 * it on a small stack. */
typedef struct er_reader {
    enum er_format format;
    csv_reader csv;                  /* ER_CSV */
    const char *buf;                 /* ER_JSONL */
    size_t len, pos, line;
    er_time_reader read_time;        /* NULL (er_open's choice): er_parse_time */
    int16_t column_of[ER_F_COUNT];   /* CSV: column index of each field, -1 if absent */
    size_t columns;                  /* CSV: fields in the header */
    int failed;
    size_t error_line;
    char error[256];
    char scratch[ER_MAX_LINE + 8];
} er_reader;

/* Guess the format: JSON Lines when the first byte that is not a byte order
 * mark or white space is '{', CSV otherwise. */
enum er_format er_sniff(const char *buf, size_t len);

/* Start reading buf[0..len) (which must outlive the reader's use).  For CSV
 * this reads the header.  Timestamps are read with er_parse_time until
 * read_time is set (after this call).  Returns 0, or -1 with the error set. */
int er_open(er_reader *r, const char *buf, size_t len, enum er_format format);

/* Next record: 1 and *rec filled; 0 at the end; -1 on error (sticky). */
int er_next(er_reader *r, er_record *rec);

/* After -1: the line and a reason such as "timestamp: month out of range in
 * '2024-13-01'". */
size_t er_error_line(const er_reader *r);
const char *er_error(const er_reader *r);

/* Field parsers, shared with the rfm command.  Each returns 0, or -1 with
 * *why set to a static reason. */

/* YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM] ('T' may be 't'
 * or a space; no zone means UTC), or epoch milliseconds (1..18 digits).
 * The result must be > 0. */
int er_parse_time(const char *s, size_t n, int64_t *out, const char **why);

/* A finite decimal number >= 0 ("12", "12.50", "1e3", "-0"). */
int er_parse_value(const char *s, size_t n, double *out, const char **why);

/* Decimal digits only, value <= max. */
int er_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why);

#endif
