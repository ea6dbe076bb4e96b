/* fuzz-journal.c — libFuzzer entry point for the journal reader
 * (bvt__journal_scan_buffer in src/io/journal_read.c).
 *
 * Each input is scanned as a journal image under a fixed check value, with
 * a callback that reads every byte of every record.  Besides the
 * sanitizers, the harness checks the reader's promises: records arrive
 * with dense sequence numbers from the header's first; on success the
 * counts agree, the good frames end at valid_bytes and what follows is
 * exactly the reported torn tail; a failure reports its own code, an
 * offset inside the input and a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The check value the seed corpus was written with. */
#define FUZZ_CHECK 0x66757a7a6a726e6cull

typedef struct seen {
    uint64_t next; /* 0 until the first record */
    uint64_t records;
} seen;

static int touch(void *ud, uint64_t seq, const void *rec, size_t n)
{
    seen *s = ud;
    if (n == 0 || n > BVT_JOURNAL_RECORD_MAX || (s->next && seq != s->next))
        abort();
    const volatile unsigned char *p = rec;
    unsigned char sink = 0;
    for (size_t i = 0; i < n; i++) /* every byte must be readable */
        sink ^= p[i];
    (void)sink;
    s->next = seq + 1;
    s->records++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so reading one byte past the end is caught. */
    unsigned char *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    if (size)
        memcpy(img, data, size);
    seen s = { 0, 0 };
    bvt_journal_scan sc;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt__journal_scan_buffer(size ? img : NULL, size, FUZZ_CHECK, touch, &s, &sc, &err);
    if (s.records && s.next - s.records != sc.first_seq)
        abort();
    if (rc == BVT_OK) {
        if (sc.records != s.records || sc.next_seq != sc.first_seq + sc.records
            || sc.first_seq == 0 || sc.valid_bytes < 64 || sc.valid_bytes > size)
            abort();
        if (sc.torn_offset < 0) {
            if (sc.valid_bytes != size || sc.torn_bytes != 0)
                abort();
        } else if ((uint64_t)sc.torn_offset != sc.valid_bytes
                   || sc.valid_bytes + sc.torn_bytes != size || sc.torn_bytes == 0) {
            abort();
        }
    } else {
        if (err.code != rc || err.message[0] == '\0' || memchr(err.message, 0, 240) == NULL)
            abort();
        if (rc != BVT_ENOMEM && (err.offset < 0 || (uint64_t)err.offset > size))
            abort();
        /* records are passed only from frames that were good */
        if (sc.records != s.records)
            abort();
    }
    free(img);
    return 0;
}
