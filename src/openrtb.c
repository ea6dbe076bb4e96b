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

    bvt_json w = bvt_json_start(buf, cap);
    bvt_json_lit(&w, "[{\"id\":");
    bvt_json_str(&w, provider);
    bvt_json_lit(&w, ",\"name\":");
    bvt_json_str(&w, provider);
    bvt_json_lit(&w, ",\"segment\":[");
    for (size_t i = 0; i < n; i++) {
        bvt_json_lit(&w, i ? ",{\"id\":\"" : "{\"id\":\"");
        bvt_json_u64(&w, ids[i]);
        bvt_json_put(&w, "\"", 1);
        /* Names outlive removal, so NULL would only mean an id we never had. */
        const char *name = bvt_segment_name(engine, ids[i]);
        if (name) {
            bvt_json_lit(&w, ",\"name\":");
            bvt_json_str(&w, name);
        }
        bvt_json_put(&w, "}", 1);
    }
    bvt_json_lit(&w, "]}");

    int mapped = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n_map; j++) {
            if (map[j].segment != ids[i] || iab_written(ids, i, map, n_map, j))
                continue;
            if (!mapped) {
                bvt_json_lit(&w, ",{\"name\":");
                bvt_json_str(&w, provider);
                bvt_json_lit(&w, ",\"ext\":{\"segtax\":" IAB_SEGTAX "},\"segment\":[");
            }
            bvt_json_lit(&w, mapped ? ",{\"id\":" : "{\"id\":");
            bvt_json_str(&w, map[j].iab_id);
            bvt_json_put(&w, "}", 1);
            mapped = 1;
        }
    if (mapped)
        bvt_json_lit(&w, "]}");
    bvt_json_put(&w, "]", 1);

    return bvt_json_finish(&w, out_len);
}
