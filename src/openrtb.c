/* openrtb.c — a user's segments as OpenRTB 2.6 `user.data` JSON.
 *
 * Built on the public calls only (bvt_segments_of, bvt_segment_name), so it
 * is as thread-safe as they are.  The JSON goes straight into the caller's
 * buffer: the writer keeps counting past the end, so a short buffer still
 * learns the exact length it needs.  docs/openrtb.md describes the output. */
#include <stdint.h>
#include <string.h>

#include "behavtarget.h"

#define PROVIDER_MAX 63
#define IAB_SEGTAX "4" /* IAB Tech Lab segtax id of the Audience Taxonomy 1.1 */

/* Appends while the bytes and a final NUL fit; `len` counts everything. */
typedef struct json_writer {
    char *buf;
    size_t cap;
    size_t len;
} json_writer;

static void put(json_writer *w, const char *s, size_t n)
{
    if (n > SIZE_MAX - w->len) {
        w->len = SIZE_MAX; /* unreachable in practice; still never wraps */
        return;
    }
    /* len only grows, so once a piece misses, every later one does too:
     * what was written is always a prefix. */
    if (w->len + n < w->cap)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_lit(json_writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_u32(json_writer *w, uint32_t v)
{
    char digits[10];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, digits + i, sizeof digits - i);
}

/* A JSON string (RFC 8259 section 7): quote and backslash escaped, control
 * characters as \u00XX, every other byte (UTF-8 included) as it is. */
static void put_str(json_writer *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, run, (size_t)(s - run));
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            put(w, esc, 2);
        } else {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(w, esc, 6);
        }
        run = s + 1;
    }
    put(w, run, (size_t)(s - run));
    put(w, "\"", 1);
}

/* Was map[j]'s IAB id already written, by an earlier segment of the user or
 * an earlier entry for the same segment?  Only equal ids cost a scan. */
static int iab_written(const uint32_t *ids, size_t i, const bvt_iab_mapping *map, size_t n_map,
                       size_t j)
{
    for (size_t k = 0; k < n_map; k++) {
        if (k == j || strcmp(map[k].iab_id, map[j].iab_id) != 0)
            continue;
        for (size_t p = 0; p <= i; p++)
            if (ids[p] == map[k].segment && (p < i || k < j))
                return 1;
    }
    return 0;
}

static int valid_provider(const char *provider)
{
    size_t n = 0;
    while (provider && n <= PROVIDER_MAX && provider[n])
        n++;
    return n >= 1 && n <= PROVIDER_MAX;
}

int bvt_segments_openrtb(bvt_engine *engine, const void *user_id, size_t len, int64_t now,
                         const bvt_context *ctx, const char *provider,
                         const bvt_iab_mapping *map, size_t n_map, char *buf, size_t cap,
                         size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!out_len || (!buf && cap) || !valid_provider(provider) || (!map && n_map))
        return BVT_EINVAL;
    for (size_t j = 0; j < n_map; j++)
        if (!map[j].iab_id || !map[j].iab_id[0])
            return BVT_EINVAL;

    /* A user is in at most every defined segment: 16 KiB of stack, and no
     * second call that could see a different set of definitions. */
    uint32_t ids[BVT_SEGMENTS_MAX];
    size_t n;
    int rc = bvt_segments_of(engine, user_id, len, now, ctx, ids, BVT_SEGMENTS_MAX, &n);
    if (rc != BVT_OK)
        return rc;
    if (n > BVT_SEGMENTS_MAX)
        n = BVT_SEGMENTS_MAX;

    json_writer w = { buf, cap, 0 };
    put_lit(&w, "[{\"id\":");
    put_str(&w, provider);
    put_lit(&w, ",\"name\":");
    put_str(&w, provider);
    put_lit(&w, ",\"segment\":[");
    for (size_t i = 0; i < n; i++) {
        put_lit(&w, i ? ",{\"id\":\"" : "{\"id\":\"");
        put_u32(&w, ids[i]);
        put(&w, "\"", 1);
        /* Names outlive removal, so NULL would only mean an id we never had. */
        const char *name = bvt_segment_name(engine, ids[i]);
        if (name) {
            put_lit(&w, ",\"name\":");
            put_str(&w, name);
        }
        put(&w, "}", 1);
    }
    put_lit(&w, "]}");

    int mapped = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_map; j++) {
            if (map[j].segment != ids[i] || iab_written(ids, i, map, n_map, j))
                continue;
            if (!mapped) {
                put_lit(&w, ",{\"name\":");
                put_str(&w, provider);
                put_lit(&w, ",\"ext\":{\"segtax\":" IAB_SEGTAX "},\"segment\":[");
            }
            put_lit(&w, mapped ? ",{\"id\":" : "{\"id\":");
            put_str(&w, map[j].iab_id);
            put(&w, "}", 1);
            mapped = 1;
        }
    if (mapped)
        put_lit(&w, "]}");
    put(&w, "]", 1);

    *out_len = w.len;
    if (w.len >= cap)
        return BVT_ERANGE;
    buf[w.len] = '\0';
    return BVT_OK;
}
