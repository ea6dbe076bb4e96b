/* event_reader.h — event files (CSV with a header, or JSON Lines) parsed
 * from a memory buffer, one record at a time.
 *
 * The format is in docs/events.md.  Records hold slices that borrow from the
 * input buffer or from the reader's scratch area: they are valid until the
 * next er_next() call.  Slices are not NUL-terminated.  The reader never
 * allocates, never recurses, and caps a record at ER_MAX_LINE bytes, so any
 * input (the fuzz harness feeds it garbage) ends in a record, the end, or an
 * error with a line number and a reason.
 *
 * How the file is read (time format, --columns, delimiter, the vocabulary
 * of types, returns) comes from a cli_input (cli_input.h).  An error in one
 * record leaves the reader at the next one, so a lenient caller can skip
 * it; an error after which the next record cannot be found (the header, a
 * quote never closed, an overlong CSV record) is fatal: every later call
 * fails too. */
#ifndef BVT_CLI_EVENT_READER_H
#define BVT_CLI_EVENT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "cli_input.h"
#include "csv.h"

#define ER_MAX_LINE CSV_MAX_RECORD
#define ER_MAX_USER_ID 1024      /* the library's limit on a user id */
#define ER_MAX_TYPE_NAME CLI_TYPE_NAME_MAX /* the library's limit on a custom type name */
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
    double value;         /* finite, >= 0; 0 when absent (a return's: the amount returned) */
    uint32_t quantity;    /* 0 when absent (a return's: the items returned) */
    int64_t dwell_ms;     /* 0..ER_MAX_DWELL_MS; 0 when absent */
    int is_return;        /* a purchase with a negative value or quantity, read as
                             such because the cli_input's returns are not refused */
    er_slice raw;         /* the record as written in the input (line end excluded) */
} er_record;

/* Column / key indices, in the order of er_field_names. */
enum er_field {
    ER_F_USER_ID, ER_F_TIMESTAMP, ER_F_TYPE, ER_F_CATEGORY, ER_F_ITEM_ID,
    ER_F_VALUE, ER_F_QUANTITY, ER_F_OFFER_ID, ER_F_DWELL_MS, ER_F_SEARCH_TEXT,
    ER_F_COUNT
};

/* The field names, in that order (what --columns maps). */
extern const char *const er_field_names[ER_F_COUNT];

#define ER_MAX_COLUMNS 256 /* header columns looked at; later ones are ignored */

/* Reader state.  About 66 KiB (the scratch area): allocate it, do not put
 * it on a small stack. */
typedef struct er_reader {
    enum er_format format;
    csv_reader csv;                  /* ER_CSV */
    const char *buf;                 /* ER_JSONL */
    size_t len, pos, line;
    int16_t column_of[ER_F_COUNT];   /* CSV: column index of each field, -1 if absent */
    size_t columns;                  /* CSV: fields in the header */
    const cli_input *in;             /* how to read; never NULL after er_open */
    char label[ER_F_COUNT][80];      /* each field's name in messages */
    int failed;                      /* a fatal error: sticky */
    size_t error_line;
    const char *error_field, *error_kind;
    er_slice error_raw;
    char error[320];
    char scratch[ER_MAX_LINE + 8];
} er_reader;

/* Guess the format: JSON Lines when the first byte that is not a byte order
 * mark or white space is '{', CSV otherwise. */
enum er_format er_sniff(const char *buf, size_t len);

/* Start reading buf[0..len) (which must outlive the reader's use) as in
 * says (NULL: the strict default; in must outlive the reader's use).  For
 * CSV this reads the header.  Returns 0, or -1 with the (fatal) error set. */
int er_open_with(er_reader *r, const char *buf, size_t len, enum er_format format,
                 const cli_input *in);

/* er_open_with() with the strict default. */
int er_open(er_reader *r, const char *buf, size_t len, enum er_format format);

/* Next record: 1 and *rec filled; 0 at the end; -1 on error.  After an
 * error that is not fatal the next call reads the next record. */
int er_next(er_reader *r, er_record *rec);

/* After -1: the line and a reason such as "timestamp: time '2024-13-01':
 * month must be 01..12"; the field ("timestamp", or "" for the record as a
 * whole) and a short reason to count by ("not a time of the format"), both
 * static; whether the error is fatal; the record's text as written (NULL
 * when not known). */
size_t er_error_line(const er_reader *r);
const char *er_error(const er_reader *r);
const char *er_error_field(const er_reader *r);
const char *er_error_kind(const er_reader *r);
int er_error_fatal(const er_reader *r);
er_slice er_error_record(const er_reader *r);

/* Field parsers, shared with the other readers (times: cli_time.h).  Each
 * returns 0, or -1 with *why set to a static reason. */

/* A finite decimal number >= 0 ("12", "12.50", "1e3", "-0"). */
int er_parse_value(const char *s, size_t n, double *out, const char **why);

/* Decimal digits only, value <= max. */
int er_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out, const char **why);

/* A value or quantity that may be negative (a return): a leading '-' is
 * taken off s[0..n) and *neg set (then parse the rest as above). */
static inline void er_strip_minus(const char **s, size_t *n, int *neg)
{
    *neg = *n > 1 && (*s)[0] == '-';
    if (*neg) {
        (*s)++;
        (*n)--;
    }
}

#endif
