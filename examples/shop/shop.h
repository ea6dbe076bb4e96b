/* shop.h — a seeded synthetic online shop that generates behavioural events.
 *
 * The shop has a category tree (12 departments, ~60 sub-categories, ~250
 * leaves such as "home/bedroom/mattresses") with Zipf-distributed popularity,
 * items and prices per leaf, search keywords mapped to leaves, ad offers, and
 * a population of users with a few favourite categories each.  Users come in
 * sessions (bursts of events separated by hours or days); inside a session
 * they walk a funnel page_view → (search) → add_to_cart → (remove) →
 * purchase, see ads (impression → rare click → rarer conversion), and now
 * and then like, share, comment, open an email or finish a video (the custom
 * type "video_complete").  A few users are heavy (thousands of events), most
 * are light.
 *
 * Same config, same events: all randomness comes from one seeded generator,
 * and registering the shop in an engine does not change what is drawn.
 *
 * Session rates are set so that cfg.events cover about cfg.days.  Every user
 * gets at least one session (~9 events), so with fewer events than that per
 * user the stream ends early and later users never appear; and a user starts
 * at most one session every ~2 hours on average, so a handful of users asked
 * for millions of events spread them over a longer time.
 * Memory is about 40 bytes per user plus fixed tables; generating allocates
 * nothing per event.
 */
#ifndef SHOP_H
#define SHOP_H

#include <stddef.h>
#include <stdint.h>

#include "behavtarget.h"

typedef struct shop_config {
    uint64_t seed;    /* same seed, same events */
    uint32_t users;   /* distinct users, e.g. 50000 (1..100,000,000) */
    uint64_t events;  /* events to generate, e.g. 1000000 */
    int64_t start_ms; /* first event time (epoch ms, > 0) */
    int64_t days;     /* span of time the events cover (1..3650) */
} shop_config;

typedef struct shop shop;

/* Build the catalogue and the population.  Returns 0, or -1 on a bad config
 * or when memory runs out (*out is then NULL). */
int shop_new(shop **out, const shop_config *cfg);

/* NULL is a no-op. */
void shop_free(shop *s);

/* Intern the shop's categories, map its search keywords and register its
 * custom event type ("video_complete") in the engine.  Afterwards events carry
 * category_id (not the path) and the registered custom type id.  Call it
 * before tracking: without it events carry category paths and custom events
 * use BVT_EVENT_CUSTOM_FIRST, which an engine rejects unless that id is
 * registered.  Returns BVT_OK or the first failing BVT_* code. */
int shop_setup_engine(shop *s, bvt_engine *e);

/* Fill up to n events.  Pointers inside them stay valid until the next call
 * (in fact for the shop's life).  Events come in non-decreasing time across
 * calls.  Returns how many, 0 when all cfg.events were produced. */
size_t shop_next_batch(shop *s, bvt_event *out, size_t n);

/* The raw id of user i (0 <= i < users), e.g. "u000123"; borrowed for the
 * shop's life.  NULL when i is out of range. */
const char *shop_user_id(const shop *s, uint32_t i);

/* ---- Extras for reports and benchmarks ---- */

/* Length of every user id (they are all the same length). */
size_t shop_user_id_len(const shop *s);

/* Events produced so far, and the time of the latest one (0 before any). */
uint64_t shop_events_produced(const shop *s);
int64_t shop_last_time_ms(const shop *s);
uint64_t shop_sessions_started(const shop *s);

/* Catalogue sizes and names.  Category paths are borrowed for the shop's life. */
uint32_t shop_category_count(const shop *s); /* departments + subs + leaves */
uint32_t shop_leaf_count(const shop *s);
const char *shop_leaf_path(const shop *s, uint32_t leaf);
uint32_t shop_keyword_count(const shop *s);

/* Every item id the shop can emit ("sku-LLL-III"), k < shop_item_count();
 * borrowed for the shop's life.  Lets a report map cart item hashes back. */
uint32_t shop_item_count(const shop *s);
const char *shop_item_id(const shop *s, uint32_t k);

#endif
