/* fuzz-ds-json.c — libFuzzer entry point for the decision server's JSON:
 * the strict parser of /decide and /consent bodies (json_body.c) and the
 * string writer of every reply (json_out.c).
 *
 * Each input is parsed as a body; on success every key and string value
 * must be NUL-terminated UTF-8 and keys unique.  Each string value, and the
 * input itself as raw bytes, is then written with jo_string() inside
 * {"s":...}: that must parse back, to the same text when it was UTF-8
 * without NUL (otherwise ill-formed bytes come back as U+FFFD). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "behavtarget.h"
#include "ds.h"
#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jb_object parsed, again;

/* Write s[0..n) as a JSON string member and read it back. */
static void round_trip(const char *s, size_t n)
{
    jo_buf out = { 0 };
    JO_LIT(&out, "{\"s\":");
    jo_string(&out, s, n);
    JO_LIT(&out, "}");
    if (out.failed)
        abort();
    const char *why;
    if (!is_json(out.p))
        abort();
    if (out.len + 8 <= sizeof again.store) { /* what the parser's store takes */
        int parsed_back = jb_parse(&again, out.p, out.len, &why) == 0;
        if (memchr(s, 0, n)) { /* written as \u0000, which bodies refuse */
            if (parsed_back)
                abort();
        } else {
            const jb_member *m = parsed_back ? jb_get(&again, "s") : NULL;
            if (!m || m->kind != JB_STRING)
                abort();
            /* UTF-8 comes back as it was; other bytes as U+FFFD */
            if (bvt_utf8_check(s, n) == n && (strlen(m->text) != n || memcmp(m->text, s, n)))
                abort();
        }
    }
    free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *why = NULL;
    if (jb_parse(&parsed, text, size, &why) == 0) {
        for (size_t i = 0; i < parsed.n; i++) {
            const jb_member *m = &parsed.m[i];
            size_t klen = strlen(m->key), tlen = strlen(m->text);
            if (bvt_utf8_check(m->key, klen) != klen || bvt_utf8_check(m->text, tlen) != tlen)
                abort();
            for (size_t j = 0; j < i; j++)
                if (strcmp(parsed.m[j].key, m->key) == 0)
                    abort();
            if (m->kind == JB_STRING)
                round_trip(m->text, tlen);
        }
    } else if (!why || !why[0]) {
        abort();
    }
    round_trip(text, size);
    return 0;
}
