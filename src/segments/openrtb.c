/* openrtb.c — a user's segments as OpenRTB 2.6 `user.data` JSON.
 *
 * Built on the public calls only (bvt_segments_of, bvt_segment_name), so it
 * is as thread-safe as they are.  The JSON goes straight into the caller's
 * buffer (json.h: a short buffer still learns the exact length it needs).
 * docs/openrtb.md describes the output. */
#include <stdint.h>
#include <string.h>

#include "behavtarget.h"
#include "json.h"

#define PROVIDER_MAX 63
#define IAB_SEGTAX "4" /* IAB Tech Lab segtax id of the Audience Taxonomy 1.1 */

/* Was map[j]'s IAB id already written, by an earlier segment of the user or
 * an earlier entry for the same segment?  at[s] is segment s's position
 * among the user's segments + 1 (0: not in one), so a call costs
 * O(n_map) and the whole export O(n_map^2) at worst. */
static int iab_written(const uint16_t *at, const bvt_iab_mapping *map, size_t n_map, size_t j)
{
    uint32_t pj = at[map[j].segment];
    for (size_t k = 0; k < n_map; k++) {
        uint32_t pk = map[k].segment <= BVT_SEGMENTS_MAX ? at[map[k].segment] : 0;
        if (pk && (pk < pj || (pk == pj && k < j)) && strcmp(map[k].iab_id, map[j].iab_id) == 0)
            return 1;
    }
    return 0;
}

/* Text the export writes: 1..max bytes of UTF-8. */
static int valid_text(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    return n >= 1 && n <= max && bvt_utf8_check(s, n) == n;
}

int bvt_segments_openrtb(bvt_engine *engine, const void *user_id, size_t len, int64_t now,
                         const bvt_context *ctx, const char *provider,
                         const bvt_iab_mapping *map, size_t n_map, char *buf, size_t cap,
                         size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!out_len || (!buf && cap) || !valid_text(provider, PROVIDER_MAX) || (!map && n_map) ||
        n_map > BVT_IAB_MAPPINGS_MAX)
        return BVT_EINVAL;
    for (size_t j = 0; j < n_map; j++)
        if (!valid_text(map[j].iab_id, BVT_IAB_ID_MAX))
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
    uint16_t at[BVT_SEGMENTS_MAX + 1];
    memset(at, 0, sizeof at);
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= BVT_SEGMENTS_MAX)
            at[ids[i]] = (uint16_t)(i + 1);

    bvt_json w = bvt__json_start(buf, cap);
    bvt__json_lit(&w, "[{\"id\":");
    bvt__json_str(&w, provider);
    bvt__json_lit(&w, ",\"name\":");
    bvt__json_str(&w, provider);
    bvt__json_lit(&w, ",\"segment\":[");
    for (size_t i = 0; i < n; i++) {
        bvt__json_lit(&w, i ? ",{\"id\":\"" : "{\"id\":\"");
        bvt__json_u64(&w, ids[i]);
        bvt__json_put(&w, "\"", 1);
        /* Names outlive removal, so NULL would only mean an id we never had. */
        const char *name = bvt_segment_name(engine, ids[i]);
        if (name) {
            bvt__json_lit(&w, ",\"name\":");
            bvt__json_str(&w, name);
        }
        bvt__json_put(&w, "}", 1);
    }
    bvt__json_lit(&w, "]}");

    int mapped = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_map; j++) {
            if (map[j].segment != ids[i] || iab_written(at, map, n_map, j))
                continue;
            if (!mapped) {
                bvt__json_lit(&w, ",{\"name\":");
                bvt__json_str(&w, provider);
                bvt__json_lit(&w, ",\"ext\":{\"segtax\":" IAB_SEGTAX "},\"segment\":[");
            }
            bvt__json_lit(&w, mapped ? ",{\"id\":" : "{\"id\":");
            bvt__json_str(&w, map[j].iab_id);
            bvt__json_put(&w, "}", 1);
            mapped = 1;
        }
    if (mapped)
        bvt__json_lit(&w, "]}");
    bvt__json_put(&w, "]", 1);

    return bvt__json_finish(&w, out_len);
}
