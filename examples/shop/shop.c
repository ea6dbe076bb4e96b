/* shop.c — the seeded synthetic shop (see shop.h).
 *
 * Time order across the whole population comes from two heaps: one keyed by
 * each user's next session start (touched once per session), and a small one
 * of the sessions in progress keyed by their next event (touched once per
 * event).  Each step of a session emits exactly one event and decides the
 * next step, so generating is a loop over the smaller heap.
 */
#include "shop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shop_catalogue.h"

#define N_SUBS (sizeof catalogue / sizeof catalogue[0])

#define MAX_NODES 512u
#define MAX_LEAVES 320u
#define ITEMS_PER_LEAF 100u
#define ITEM_ID_STRIDE 12u    /* "sku-LLL-III" + NUL */
#define N_OFFERS 48u
#define OFFER_ID_STRIDE 10u   /* "offer-NN" + NUL, padded */
#define PHRASES 4u            /* search phrases per leaf */
#define MAX_KEYWORDS 640u
#define CART_LINES 3u         /* what the generator remembers of a cart */
#define NO_NODE 0xFFFFu
#define ZIPF_S 0.7            /* exponent of leaf popularity */
#define EVENTS_PER_SESSION 9.2 /* measured mean; used to turn events into session rates */
#define MIN_GAP_S 3600.0      /* shortest time between a user's session starts
                                 (activity clock: ~35 min at the busiest hour) */
#define MAX_REL_S (1u << 30)  /* session starts stay within ~34 years of start_ms */

static const char *const phrase_fmt[PHRASES] = {"%s", "best %s", "cheap %s", "%s sale"};

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */
typedef struct shop_rng {
    uint64_t s[4];
} shop_rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(shop_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(shop_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double rng_unit(shop_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform in (0, 1], safe for log(). */
static inline double rng_unit_pos(shop_rng *r) { return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53; }

/* Uniform integer in [0, n). */
static inline uint32_t rng_below(shop_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_range(shop_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

static inline int rng_chance(shop_rng *r, double p) { return rng_unit(r) < p; }

static double rng_normal(shop_rng *r)
{
    double u = rng_unit_pos(r), v = rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- state ---- */

/* What a user is, in 28 bytes: the population can be tens of millions. */
typedef struct shop_user {
    float gap_s;          /* mean seconds between session starts */
    uint16_t fav[3];      /* favourite leaves, most favoured first */
    uint8_t buy;          /* propensity to buy, 0..255 */
    uint8_t ncart;        /* lines in cart[] */
    uint16_t cart_leaf[CART_LINES];
    uint16_t cart_item[CART_LINES];
    uint8_t cart_qty[CART_LINES];
} shop_user;

enum session_step {
    ST_START,
    ST_VIEW,
    ST_AD,
    ST_CLICK,
    ST_CONVERSION,
    ST_ADD,
    ST_LIKE,
    ST_SHARE,
    ST_COMMENT,
    ST_VIDEO,
    ST_SEARCH,
    ST_CHECKOUT,
    ST_PURCHASE
};

typedef struct shop_session {
    int64_t t;        /* time of the next event */
    int64_t view_end; /* when the current page's dwell ends */
    uint32_t user;
    uint16_t leaf;    /* the leaf the user is looking at */
    uint16_t item;
    uint16_t ad_leaf;
    uint8_t step;     /* enum session_step */
    uint8_t done;     /* the event just emitted was the last */
} shop_session;

struct shop {
    shop_config cfg;
    shop_rng rng;
    bvt_engine *engine; /* set by shop_setup_engine */
    uint32_t video_type;

    /* category tree: departments, subs and leaves share one node numbering */
    uint32_t n_nodes, n_leaves;
    char *node_path[MAX_NODES];
    uint16_t node_parent[MAX_NODES];
    uint32_t node_id[MAX_NODES];   /* engine ids after setup */
    uint16_t leaf_node[MAX_LEAVES];
    uint16_t leaf_sub[MAX_LEAVES]; /* node of the sub-category */
    uint16_t leaf_first_sibling[MAX_LEAVES], leaf_siblings[MAX_LEAVES];
    const char *phrase[MAX_LEAVES][PHRASES];
    double zipf_prob[MAX_LEAVES];  /* Walker alias table over leaves */
    uint16_t zipf_alias[MAX_LEAVES];
    char *text_arena;

    /* keywords: words of leaf names that name exactly one leaf */
    uint32_t n_keywords;
    const char *kw_word[MAX_KEYWORDS];
    uint16_t kw_leaf[MAX_KEYWORDS];

    char *item_ids;   /* ITEMS_PER_LEAF per leaf, ITEM_ID_STRIDE each */
    double *item_price;
    char offer_ids[N_OFFERS][OFFER_ID_STRIDE];
    int32_t dwell_tab[256]; /* page dwell times, ms, log-normal */
    double hour_w[24], act_cum[25], day_off_s, act_off_s; /* the activity clock */

    /* population */
    shop_user *users;
    char *user_ids;
    size_t uid_len, uid_stride;
    uint64_t *uheap; /* (seconds after start_ms << 32) | user, min-heap */

    /* sessions in progress */
    shop_session *sess;
    uint32_t sess_cap;
    uint32_t *free_slots;
    uint32_t n_free;
    uint64_t *aheap;   /* keys from akey() */
    uint32_t n_active;

    uint64_t produced, sessions;
    int64_t last_t;
};

/* ---- catalogue construction ---- */

/* Write v as exactly `digits` decimal digits (zero-padded). */
static void put_digits(char *dst, uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static char *arena_put(char **cursor, const char *text)
{
    char *p = *cursor;
    size_t n = strlen(text) + 1;
    memcpy(p, text, n);
    *cursor += n;
    return p;
}

static uint16_t add_node(shop *s, char **cursor, const char *path, uint16_t parent)
{
    for (uint32_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->node_path[i], path) == 0)
            return (uint16_t)i;
    uint16_t id = (uint16_t)s->n_nodes++;
    s->node_path[id] = arena_put(cursor, path);
    s->node_parent[id] = parent;
    return id;
}

/* Words of a leaf's last segment, '-' separated, into words[] (at most 4). */
static int leaf_words(const char *path, char words[4][32])
{
    const char *name = strrchr(path, '/') + 1;
    int n = 0;
    size_t len = 0;
    for (const char *p = name;; p++) {
        if (*p == '-' || *p == '\0') {
            if (len > 0 && n < 4) {
                words[n][len] = '\0';
                n++;
            }
            len = 0;
            if (*p == '\0')
                break;
        } else if (n < 4 && len < 31) {
            words[n][len++] = *p;
        }
    }
    return n;
}

static void build_zipf(shop *s)
{
    uint32_t L = s->n_leaves;
    uint32_t rank[MAX_LEAVES];
    double w[MAX_LEAVES], sum = 0;
    /* A seeded shuffle decides which leaves are popular. */
    for (uint32_t i = 0; i < L; i++)
        rank[i] = i;
    for (uint32_t i = L - 1; i > 0; i--) {
        uint32_t j = rng_below(&s->rng, i + 1);
        uint32_t t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    for (uint32_t i = 0; i < L; i++) {
        w[rank[i]] = 1.0 / pow((double)i + 1.0, ZIPF_S);
        sum += w[rank[i]];
    }
    /* Vose's alias method: O(1) draws. */
    uint32_t small[MAX_LEAVES], large[MAX_LEAVES], ns = 0, nl = 0;
    double q[MAX_LEAVES];
    for (uint32_t i = 0; i < L; i++) {
        q[i] = w[i] * L / sum;
        if (q[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t a = small[--ns], b = large[--nl];
        s->zipf_prob[a] = q[a];
        s->zipf_alias[a] = (uint16_t)b;
        q[b] = (q[b] + q[a]) - 1.0;
        if (q[b] < 1.0)
            small[ns++] = b;
        else
            large[nl++] = b;
    }
    while (nl > 0) {
        uint32_t b = large[--nl];
        s->zipf_prob[b] = 1.0;
        s->zipf_alias[b] = (uint16_t)b;
    }
    while (ns > 0) {
        uint32_t a = small[--ns];
        s->zipf_prob[a] = 1.0;
        s->zipf_alias[a] = (uint16_t)a;
    }
}

static inline uint16_t zipf_leaf(shop *s)
{
    uint32_t i = rng_below(&s->rng, s->n_leaves);
    return rng_unit(&s->rng) < s->zipf_prob[i] ? (uint16_t)i : s->zipf_alias[i];
}

static int build_catalogue(shop *s)
{
    /* paths, phrases and keywords all fit comfortably in 64 KiB */
    s->text_arena = malloc(64 * 1024);
    if (!s->text_arena)
        return -1;
    char *cur = s->text_arena;
    char buf[300];

    for (size_t i = 0; i < N_SUBS; i++) {
        const char *path = catalogue[i].path;
        const char *slash = strchr(path, '/');
        size_t dlen = (size_t)(slash - path);
        memcpy(buf, path, dlen);
        buf[dlen] = '\0';
        uint16_t dept = add_node(s, &cur, buf, NO_NODE);
        uint16_t sub = add_node(s, &cur, path, dept);
        uint16_t first = (uint16_t)s->n_leaves;

        const char *p = catalogue[i].leaves;
        while (*p) {
            const char *sp = strchr(p, ' ');
            const char *end = strchr(p, '|');
            if (!end)
                end = p + strlen(p);
            snprintf(buf, sizeof buf, "%s/%.*s", path, (int)(sp - p), p);
            double price = strtod(sp + 1, NULL);
            uint32_t leaf = s->n_leaves++;
            s->leaf_node[leaf] = add_node(s, &cur, buf, sub);
            s->leaf_sub[leaf] = sub;
            s->leaf_first_sibling[leaf] = first;
            s->item_price[leaf * ITEMS_PER_LEAF] = price; /* base, spread below */
            p = *end ? end + 1 : end;
        }
        for (uint32_t l = first; l < s->n_leaves; l++)
            s->leaf_siblings[l] = (uint16_t)(s->n_leaves - first);
    }

    /* search phrases: the leaf's words, sometimes with a modifier */
    for (uint32_t l = 0; l < s->n_leaves; l++) {
        char words[4][32], joined[128] = "";
        int nw = leaf_words(s->node_path[s->leaf_node[l]], words);
        for (int w = 0; w < nw; w++) {
            if (w)
                strcat(joined, " ");
            strcat(joined, words[w]);
        }
        for (uint32_t k = 0; k < PHRASES; k++) {
            snprintf(buf, sizeof buf, phrase_fmt[k], joined);
            s->phrase[l][k] = arena_put(&cur, buf);
        }
    }

    /* keywords: a word maps to its leaf when no other leaf uses it */
    for (uint32_t l = 0; l < s->n_leaves; l++) {
        char words[4][32];
        int nw = leaf_words(s->node_path[s->leaf_node[l]], words);
        for (int w = 0; w < nw; w++) {
            int shared = 0;
            for (uint32_t m = 0; m < s->n_leaves && !shared; m++) {
                char other[4][32];
                int no = m == l ? 0 : leaf_words(s->node_path[s->leaf_node[m]], other);
                for (int o = 0; o < no; o++)
                    if (strcmp(other[o], words[w]) == 0)
                        shared = 1;
            }
            if (!shared && s->n_keywords < MAX_KEYWORDS) {
                s->kw_word[s->n_keywords] = arena_put(&cur, words[w]);
                s->kw_leaf[s->n_keywords] = (uint16_t)l;
                s->n_keywords++;
            }
        }
    }

    /* items: ids and prices spread log-normally around the leaf's price */
    for (uint32_t l = 0; l < s->n_leaves; l++) {
        double base = s->item_price[l * ITEMS_PER_LEAF];
        for (uint32_t k = 0; k < ITEMS_PER_LEAF; k++) {
            uint32_t idx = l * ITEMS_PER_LEAF + k;
            char *id = s->item_ids + (size_t)idx * ITEM_ID_STRIDE; /* "sku-LLL-III" */
            memcpy(id, "sku-", 4);
            put_digits(id + 4, l, 3);
            id[7] = '-';
            put_digits(id + 8, k, 3);
            id[11] = '\0';
            double price = base * exp(0.45 * rng_normal(&s->rng));
            price = price < 10 ? floor(price) + 0.49 : floor(price) + 0.99;
            s->item_price[idx] = price;
        }
    }
    for (uint32_t k = 0; k < N_OFFERS; k++) {
        memcpy(s->offer_ids[k], "offer-", 6);
        put_digits(s->offer_ids[k] + 6, k, 2);
        s->offer_ids[k][8] = '\0';
    }
    /* page dwell: median ~25 s, long tail, at least 1 s */
    for (int k = 0; k < 256; k++) {
        double d = 25000.0 * exp(0.9 * rng_normal(&s->rng));
        s->dwell_tab[k] = d < 1000 ? 1000 : d > 900000 ? 900000 : (int32_t)d;
    }
    build_zipf(s);
    return 0;
}

/* ---- population ---- */

static void uheap_sift_down(uint64_t *h, size_t n, size_t i)
{
    uint64_t v = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* Draw the gap to a user's next session start, in seconds. */
static double next_gap_s(shop *s, const shop_user *u)
{
    double mean = u->gap_s;
    double floor_s = mean > 2 * MIN_GAP_S ? MIN_GAP_S : mean / 2;
    double g = floor_s - (mean - floor_s) * log(rng_unit_pos(&s->rng));
    return g;
}

/* Shoppers are busier in the evening than at night.  Sessions are scheduled
 * on an activity clock that runs fast at busy hours and is mapped to wall
 * time, so the daily rhythm changes when sessions start, not how many. */
static const double hour_weight[24] = {
    0.35, 0.2, 0.12, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.1, 1.2, 1.2,
    1.3, 1.3, 1.2, 1.2, 1.2, 1.3, 1.5, 1.7, 1.8, 1.6, 1.2, 0.7};

/* Wall seconds after start_ms -> activity seconds after start_ms. */
static double act_of_wall(const shop *s, double rel)
{
    double x = rel + s->day_off_s, day = floor(x / 86400.0), r = x - day * 86400.0;
    int k = (int)(r / 3600.0);
    k = k > 23 ? 23 : k;
    return day * 86400.0 + s->act_cum[k] + (r - 3600.0 * k) * s->hour_w[k] - s->act_off_s;
}

/* The inverse: activity seconds -> wall seconds after start_ms. */
static double wall_of_act(const shop *s, double act)
{
    double x = act + s->act_off_s, day = floor(x / 86400.0), r = x - day * 86400.0;
    int k = 0;
    while (k < 23 && s->act_cum[k + 1] <= r)
        k++;
    return day * 86400.0 + 3600.0 * k + (r - s->act_cum[k]) / s->hour_w[k] - s->day_off_s;
}

static void build_clock(shop *s)
{
    double sum = 0;
    for (int k = 0; k < 24; k++)
        sum += hour_weight[k];
    s->act_cum[0] = 0;
    for (int k = 0; k < 24; k++) {
        s->hour_w[k] = hour_weight[k] * 24.0 / sum;
        s->act_cum[k + 1] = s->act_cum[k] + 3600.0 * s->hour_w[k];
    }
    s->day_off_s = (double)((s->cfg.start_ms / 1000) % 86400);
    s->act_off_s = 0;
    s->act_off_s = act_of_wall(s, 0); /* both clocks start at start_ms */
}

static uint64_t ukey(double rel_s, uint32_t user)
{
    uint64_t t = rel_s < 0 ? 0 : rel_s >= MAX_REL_S ? MAX_REL_S : (uint64_t)rel_s;
    return (t << 32) | user;
}

static int build_population(shop *s)
{
    uint32_t n = s->cfg.users;
    double *w = malloc(sizeof *w * n);
    if (!w)
        return -1;
    double span_s = (double)s->cfg.days * 86400.0;
    build_clock(s);

    /* activity: a few heavy users, the rest a capped Pareto tail */
    for (uint32_t i = 0; i < n; i++) {
        shop_user *u = &s->users[i];
        memset(u, 0, sizeof *u);
        if (rng_chance(&s->rng, 0.001))
            w[i] = 1000.0 + 4000.0 * rng_unit(&s->rng);
        else {
            double x = 4.0 * pow(rng_unit_pos(&s->rng), -1.0 / 1.6);
            w[i] = x > 600.0 ? 600.0 : x;
        }
        u->fav[0] = zipf_leaf(s);
        for (int f = 1; f < 3; f++) {
            uint16_t l = zipf_leaf(s);
            for (int tries = 0; tries < 4 && (l == u->fav[0] || l == u->fav[f - 1]); tries++)
                l = zipf_leaf(s);
            u->fav[f] = l;
        }
        double b = rng_unit(&s->rng);
        u->buy = (uint8_t)(255.0 * b * b);
    }

    /* Turn weights into session rates so that the expected number of events
     * over the span is cfg.events.  A user with rate r sessions per span has
     * the first session uniform in [0, min(gap, span)) and Poisson ones after
     * it, so expects about r + 1/2 sessions (1 + r/2 when r < 1). */
    double target = (double)s->cfg.events / EVENTS_PER_SESSION, sum = 0;
    double max_rate = span_s / (2 * MIN_GAP_S);
    for (uint32_t i = 0; i < n; i++)
        sum += w[i];
    double scale = target / sum;
    for (int iter = 0; iter < 30; iter++) {
        double total = 0;
        for (uint32_t i = 0; i < n; i++) {
            double r = scale * w[i];
            r = r > max_rate ? max_rate : r;
            total += r >= 1.0 ? r + 0.5 : 1.0 + 0.5 * r;
        }
        if (total <= n) /* even one session each is more than asked for */
            break;
        scale *= (target - n) / (total - n) > 0 ? (target - n) / (total - n) : 0.5;
    }
    for (uint32_t i = 0; i < n; i++) {
        double r = scale * w[i];
        r = r > max_rate ? max_rate : r < 1e-9 ? 1e-9 : r;
        double gap = span_s / r;
        s->users[i].gap_s = (float)gap;
        double first = rng_unit(&s->rng) * (gap < span_s ? gap : span_s);
        s->uheap[i] = ukey(wall_of_act(s, first), i);
    }
    free(w);
    for (size_t i = n / 2; i-- > 0;)
        uheap_sift_down(s->uheap, n, i);

    /* user ids: "u" + zero-padded index, at least six digits */
    int digits = 6;
    for (uint32_t m = n - 1; m >= 1000000; m /= 10)
        digits++;
    s->uid_len = (size_t)digits + 1;
    s->uid_stride = s->uid_len + 1;
    s->user_ids = malloc(s->uid_stride * n);
    if (!s->user_ids)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        char *id = s->user_ids + s->uid_stride * i;
        id[0] = 'u';
        put_digits(id + 1, i, digits);
        id[1 + digits] = '\0';
    }
    return 0;
}

int shop_new(shop **out, const shop_config *cfg)
{
    if (!out)
        return -1;
    *out = NULL;
    if (!cfg || cfg->users == 0 || cfg->users > 100000000u || cfg->start_ms <= 0 ||
        cfg->days < 1 || cfg->days > 3650)
        return -1;
    shop *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->cfg = *cfg;
    rng_seed(&s->rng, cfg->seed);
    s->video_type = BVT_EVENT_CUSTOM_FIRST;
    s->item_ids = malloc((size_t)MAX_LEAVES * ITEMS_PER_LEAF * ITEM_ID_STRIDE);
    s->item_price = malloc(sizeof *s->item_price * MAX_LEAVES * ITEMS_PER_LEAF);
    s->users = malloc(sizeof *s->users * cfg->users);
    s->uheap = malloc(sizeof *s->uheap * cfg->users);
    s->sess_cap = 1024;
    s->sess = malloc(sizeof *s->sess * s->sess_cap);
    s->free_slots = malloc(sizeof *s->free_slots * s->sess_cap);
    s->aheap = malloc(sizeof *s->aheap * s->sess_cap);
    if (!s->item_ids || !s->item_price || !s->users || !s->uheap || !s->sess ||
        !s->free_slots || !s->aheap || build_catalogue(s) != 0 || build_population(s) != 0) {
        shop_free(s);
        return -1;
    }
    for (uint32_t i = 0; i < s->sess_cap; i++)
        s->free_slots[i] = s->sess_cap - 1 - i;
    s->n_free = s->sess_cap;
    *out = s;
    return 0;
}

void shop_free(shop *s)
{
    if (!s)
        return;
    free(s->text_arena);
    free(s->item_ids);
    free(s->item_price);
    free(s->users);
    free(s->user_ids);
    free(s->uheap);
    free(s->sess);
    free(s->free_slots);
    free(s->aheap);
    free(s);
}

int shop_setup_engine(shop *s, bvt_engine *e)
{
    if (!s || !e)
        return BVT_EINVAL;
    int rc;
    for (uint32_t i = 0; i < s->n_nodes; i++)
        if ((rc = bvt_category_intern(e, s->node_path[i], &s->node_id[i], NULL)) != BVT_OK)
            return rc;
    for (uint32_t k = 0; k < s->n_keywords; k++) {
        rc = bvt_keyword_map(e, s->kw_word[k], s->node_path[s->leaf_node[s->kw_leaf[k]]], NULL);
        if (rc != BVT_OK)
            return rc;
    }
    if ((rc = bvt_event_type_register(e, "video_complete", 3.0, &s->video_type, NULL)) != BVT_OK)
        return rc;
    s->engine = e;
    return BVT_OK;
}

/* ---- sessions in progress ---- */

/* Active-heap keys pack (ms after start_ms) << SLOT_BITS | slot, so one
 * integer compare orders by time and breaks ties by slot. */
#define SLOT_BITS 22u
#define MAX_SLOTS (1u << SLOT_BITS)

static inline uint64_t akey(const shop *s, int64_t t, uint32_t slot)
{
    return ((uint64_t)(t - s->cfg.start_ms) << SLOT_BITS) | slot;
}

static void aheap_sift_down(shop *s, uint32_t i)
{
    uint64_t *h = s->aheap, v = h[i];
    uint32_t n = s->n_active;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        c += (c + 1 < n && h[c + 1] < h[c]);
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

static void aheap_push(shop *s, uint64_t v)
{
    uint64_t *h = s->aheap;
    uint32_t i = s->n_active++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h[p] <= v)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

/* Grow the session pool (rare: only while concurrency rises). */
static int grow_sessions(shop *s)
{
    uint32_t cap = s->sess_cap * 2;
    if (cap > MAX_SLOTS)
        return -1;
    shop_session *ns = realloc(s->sess, sizeof *ns * cap);
    if (!ns)
        return -1;
    s->sess = ns;
    uint32_t *nf = realloc(s->free_slots, sizeof *nf * cap);
    if (!nf)
        return -1;
    s->free_slots = nf;
    uint64_t *nh = realloc(s->aheap, sizeof *nh * cap);
    if (!nh)
        return -1;
    s->aheap = nh;
    for (uint32_t i = cap; i-- > s->sess_cap;)
        s->free_slots[s->n_free++] = i;
    s->sess_cap = cap;
    return 0;
}

/* Pick the leaf a session starts on: mostly a favourite. */
static uint16_t session_leaf(shop *s, const shop_user *u)
{
    double r = rng_unit(&s->rng);
    if (r < 0.45)
        return u->fav[0];
    if (r < 0.65)
        return u->fav[1];
    if (r < 0.75)
        return u->fav[2];
    return zipf_leaf(s);
}

/* Start the session of the user at the top of the user heap and schedule
 * the user's next one. */
static int start_session(shop *s)
{
    if (s->n_free == 0 && grow_sessions(s) != 0)
        return -1;
    uint64_t key = s->uheap[0];
    uint32_t user = (uint32_t)key;
    double rel_s = (double)(key >> 32);
    shop_user *u = &s->users[user];

    uint32_t slot = s->free_slots[--s->n_free];
    shop_session *ss = &s->sess[slot];
    memset(ss, 0, sizeof *ss);
    ss->t = s->cfg.start_ms + (int64_t)(key >> 32) * 1000 + rng_below(&s->rng, 1000);
    ss->user = user;
    ss->leaf = session_leaf(s, u);
    ss->step = ST_START;
    s->sessions++;
    aheap_push(s, akey(s, ss->t, slot));

    s->uheap[0] = ukey(wall_of_act(s, act_of_wall(s, rel_s) + next_gap_s(s, u)), user);
    uheap_sift_down(s->uheap, s->cfg.users, 0);
    return 0;
}

/* ---- events ---- */

static inline void ev_base(shop *s, bvt_event *ev, uint32_t type, const shop_session *ss,
                           uint32_t node)
{
    ev->version = BVT_EVENT_VERSION;
    ev->type = type;
    ev->user_id = s->user_ids + s->uid_stride * ss->user;
    ev->user_id_len = s->uid_len;
    ev->time_ms = ss->t;
    if (node == NO_NODE) {
        ev->category = NULL;
        ev->category_id = 0;
    } else if (s->engine) {
        ev->category = NULL;
        ev->category_id = s->node_id[node];
    } else {
        ev->category = s->node_path[node];
        ev->category_id = 0;
    }
    ev->item_id = NULL;
    ev->value = 0.0;
    ev->quantity = 0;
    ev->offer_id = NULL;
    ev->dwell_ms = 0;
    ev->search_text = NULL;
}

static inline const char *item_id(const shop *s, uint32_t leaf, uint32_t item)
{
    return s->item_ids + ((size_t)leaf * ITEMS_PER_LEAF + item) * ITEM_ID_STRIDE;
}

static inline double item_price(const shop *s, uint32_t leaf, uint32_t item)
{
    return s->item_price[(size_t)leaf * ITEMS_PER_LEAF + item];
}

/* Popular items first: index ~ u^2. */
static inline uint16_t pick_item(shop *s)
{
    double u = rng_unit(&s->rng);
    return (uint16_t)(u * u * ITEMS_PER_LEAF);
}

static inline uint16_t pick_qty(shop *s)
{
    double r = rng_unit(&s->rng);
    return r < 0.8 ? 1 : r < 0.95 ? 2 : 3;
}

static inline double buy_p(const shop_user *u) { return u->buy / 255.0; }

/* After a page: what the user does next, and when. */
static void after_view(shop *s, shop_session *ss, const shop_user *u, int64_t t)
{
    double r = rng_unit(&s->rng);
    double p_add = 0.006 + 0.05 * buy_p(u);
    ss->t = t;
    if ((r -= p_add) < 0)
        ss->step = ST_ADD;
    else if ((r -= 0.02) < 0)
        ss->step = ST_LIKE;
    else if ((r -= 0.005) < 0)
        ss->step = ST_SHARE;
    else if ((r -= 0.005) < 0) {
        ss->step = ST_COMMENT;
        ss->t += rng_range(&s->rng, 20000, 120000); /* typing */
    } else if ((r -= 0.03) < 0)
        ss->step = ST_VIDEO;
    else if ((r -= 0.07) < 0)
        ss->step = ST_SEARCH;
    else if ((r -= 0.17) < 0) {
        /* leaving: a look at the cart first if it holds something */
        if (u->ncart > 0 && rng_chance(&s->rng, 0.5))
            ss->step = ST_CHECKOUT;
        else
            ss->done = 1;
    } else {
        ss->step = ST_VIEW;
        ss->t += rng_range(&s->rng, 500, 4000);
    }
}

static void cart_add(shop_user *u, uint16_t leaf, uint16_t item, uint16_t qty)
{
    for (uint32_t i = 0; i < u->ncart; i++)
        if (u->cart_leaf[i] == leaf && u->cart_item[i] == item) {
            u->cart_qty[i] = (uint8_t)(u->cart_qty[i] + qty > 255 ? 255 : u->cart_qty[i] + qty);
            return;
        }
    if (u->ncart == CART_LINES) /* forget the oldest: it was abandoned */
        for (uint32_t i = 1; i < CART_LINES; i++) {
            u->cart_leaf[i - 1] = u->cart_leaf[i];
            u->cart_item[i - 1] = u->cart_item[i];
            u->cart_qty[i - 1] = u->cart_qty[i];
        }
    else
        u->ncart++;
    u->cart_leaf[u->ncart - 1] = leaf;
    u->cart_item[u->ncart - 1] = item;
    u->cart_qty[u->ncart - 1] = (uint8_t)qty;
}

static void cart_drop(shop_user *u, uint32_t line)
{
    for (uint32_t i = line + 1; i < u->ncart; i++) {
        u->cart_leaf[i - 1] = u->cart_leaf[i];
        u->cart_item[i - 1] = u->cart_item[i];
        u->cart_qty[i - 1] = u->cart_qty[i];
    }
    u->ncart--;
}

static void emit_view(shop *s, shop_session *ss, shop_user *u, bvt_event *ev)
{
    ev_base(s, ev, BVT_EVENT_PAGE_VIEW, ss, s->leaf_node[ss->leaf]);
    ev->item_id = item_id(s, ss->leaf, ss->item);
    int64_t dwell = s->dwell_tab[rng_next(&s->rng) >> 56];
    ev->dwell_ms = dwell;
    ss->view_end = ss->t + dwell;
    if (rng_chance(&s->rng, 0.4)) {
        /* an ad on the page, shown a moment after it loads */
        ss->step = ST_AD;
        ss->t += rng_range(&s->rng, 100, 900);
        ss->ad_leaf = rng_chance(&s->rng, 0.5) ? ss->leaf : zipf_leaf(s);
    } else {
        after_view(s, ss, u, ss->view_end);
    }
}

/* Emit the session's next event into ev and decide the step after it. */
static void step(shop *s, shop_session *ss, bvt_event *ev)
{
    shop_user *u = &s->users[ss->user];
    shop_rng *r = &s->rng;
    uint16_t leaf = ss->leaf;

    switch ((enum session_step)ss->step) {
    case ST_START:
        if (u->ncart > 0 && rng_chance(r, 0.25 + 0.4 * buy_p(u))) {
            /* back for what is in the cart */
            ss->leaf = u->cart_leaf[0];
            ss->item = u->cart_item[0];
            ev_base(s, ev, BVT_EVENT_PAGE_VIEW, ss, s->leaf_node[ss->leaf]);
            ev->item_id = item_id(s, ss->leaf, ss->item);
            ev->dwell_ms = s->dwell_tab[rng_next(r) >> 56];
            ss->step = ST_CHECKOUT;
            ss->t += ev->dwell_ms;
        } else if (rng_chance(r, 0.06)) {
            ev_base(s, ev, BVT_EVENT_EMAIL_OPEN, ss, s->leaf_sub[leaf]);
            ss->step = ST_VIEW;
            ss->t += rng_range(r, 10000, 60000);
        } else if (rng_chance(r, 0.25)) {
            ev_base(s, ev, BVT_EVENT_SEARCH, ss, NO_NODE);
            ev->search_text = s->phrase[leaf][rng_below(r, PHRASES)];
            ss->step = ST_VIEW;
            ss->t += rng_range(r, 3000, 15000);
        } else {
            ss->item = pick_item(s);
            emit_view(s, ss, u, ev);
        }
        break;
    case ST_VIEW:
        if (rng_chance(r, 0.12)) /* wander to a sibling leaf */
            ss->leaf = (uint16_t)(s->leaf_first_sibling[leaf] +
                                  rng_below(r, s->leaf_siblings[leaf]));
        ss->item = pick_item(s);
        emit_view(s, ss, u, ev);
        break;
    case ST_AD: {
        uint32_t ad = ss->ad_leaf;
        ev_base(s, ev, BVT_EVENT_IMPRESSION, ss, s->leaf_node[ad]);
        ev->offer_id = s->offer_ids[ad % N_OFFERS];
        /* ads for what the user is already looking at are clicked more */
        double ctr = ad == leaf ? 0.035 : 0.012;
        if (rng_chance(r, ctr)) {
            ss->step = ST_CLICK;
            ss->t += rng_range(r, 1500, 8000);
        } else {
            after_view(s, ss, u, ss->view_end);
        }
        break;
    }
    case ST_CLICK: {
        uint32_t ad = ss->ad_leaf;
        ev_base(s, ev, BVT_EVENT_CLICK, ss, s->leaf_node[ad]);
        ev->offer_id = s->offer_ids[ad % N_OFFERS];
        ss->leaf = (uint16_t)ad; /* the click lands on the advertised leaf */
        if (rng_chance(r, 0.04 + 0.12 * buy_p(u))) {
            ss->step = ST_CONVERSION;
            ss->t += rng_range(r, 30000, 300000);
        } else {
            ss->step = ST_VIEW;
            ss->t += rng_range(r, 1000, 3000);
        }
        break;
    }
    case ST_CONVERSION: {
        uint32_t ad = ss->ad_leaf;
        ev_base(s, ev, BVT_EVENT_CONVERSION, ss, s->leaf_node[ad]);
        ev->offer_id = s->offer_ids[ad % N_OFFERS];
        ev->value = item_price(s, ad, pick_item(s));
        ss->step = ST_VIEW;
        ss->t += rng_range(r, 5000, 20000);
        ss->done = rng_chance(r, 0.5);
        break;
    }
    case ST_ADD: {
        uint16_t qty = pick_qty(s);
        ev_base(s, ev, BVT_EVENT_ADD_TO_CART, ss, s->leaf_node[leaf]);
        ev->item_id = item_id(s, leaf, ss->item);
        ev->quantity = qty;
        ev->value = item_price(s, leaf, ss->item) * qty;
        cart_add(u, leaf, ss->item, qty);
        if (rng_chance(r, 0.3)) {
            ss->step = ST_CHECKOUT;
            ss->t += rng_range(r, 5000, 30000);
        } else {
            ss->step = ST_VIEW;
            ss->t += rng_range(r, 2000, 10000);
        }
        break;
    }
    case ST_LIKE:
    case ST_SHARE:
    case ST_COMMENT:
    case ST_VIDEO: {
        static const uint32_t types[] = {BVT_EVENT_LIKE, BVT_EVENT_SHARE, BVT_EVENT_COMMENT, 0};
        uint32_t type = ss->step == ST_VIDEO ? s->video_type : types[ss->step - ST_LIKE];
        ev_base(s, ev, type, ss, s->leaf_node[leaf]);
        ev->item_id = item_id(s, leaf, ss->item);
        ss->step = ST_VIEW;
        ss->t += rng_range(r, 1000, 5000);
        break;
    }
    case ST_SEARCH:
        ss->leaf = rng_chance(r, 0.5) ? u->fav[rng_below(r, 3)] : zipf_leaf(s);
        ev_base(s, ev, BVT_EVENT_SEARCH, ss, NO_NODE);
        ev->search_text = s->phrase[ss->leaf][rng_below(r, PHRASES)];
        ss->step = ST_VIEW;
        ss->t += rng_range(r, 3000, 15000);
        break;
    case ST_CHECKOUT:
        if (u->ncart > 0 && rng_chance(r, 0.12 + 0.5 * buy_p(u))) {
            ss->step = ST_PURCHASE;
            step(s, ss, ev);
            return;
        }
        if (u->ncart > 0 && rng_chance(r, 0.25)) {
            uint32_t line = rng_below(r, u->ncart);
            ss->leaf = u->cart_leaf[line];
            ev_base(s, ev, BVT_EVENT_REMOVE_FROM_CART, ss, s->leaf_node[ss->leaf]);
            ev->item_id = item_id(s, ss->leaf, u->cart_item[line]);
            cart_drop(u, line);
        } else {
            /* looks at the cart and leaves: the abandoner */
            ss->item = u->ncart > 0 ? u->cart_item[0] : pick_item(s);
            ss->leaf = u->ncart > 0 ? u->cart_leaf[0] : leaf;
            ev_base(s, ev, BVT_EVENT_PAGE_VIEW, ss, s->leaf_node[ss->leaf]);
            ev->item_id = item_id(s, ss->leaf, ss->item);
            ev->dwell_ms = s->dwell_tab[rng_next(r) >> 56];
        }
        ss->done = 1;
        break;
    case ST_PURCHASE: {
        if (u->ncart == 0) { /* another session of this user emptied it */
            ss->step = ST_VIEW;
            step(s, ss, ev);
            return;
        }
        uint16_t pl = u->cart_leaf[0], pi = u->cart_item[0], qty = u->cart_qty[0];
        ss->leaf = pl;
        ev_base(s, ev, BVT_EVENT_PURCHASE, ss, s->leaf_node[pl]);
        ev->item_id = item_id(s, pl, pi);
        ev->quantity = qty;
        ev->value = item_price(s, pl, pi) * qty;
        cart_drop(u, 0);
        ss->t += rng_range(r, 200, 1500);
        if (u->ncart == 0) {
            ss->done = rng_chance(r, 0.7);
            ss->step = ST_VIEW;
        }
        break;
    }
    }
}

size_t shop_next_batch(shop *s, bvt_event *out, size_t n)
{
    size_t k = 0;
    if (!s || !out)
        return 0;
    while (k < n && s->produced < s->cfg.events) {
        int64_t ut = s->cfg.start_ms + (int64_t)(s->uheap[0] >> 32) * 1000;
        if (s->n_active == 0 || ut <= s->sess[s->aheap[0] & (MAX_SLOTS - 1)].t) {
            if (start_session(s) != 0)
                break; /* out of memory: stop early rather than crash */
            continue;
        }
        uint32_t slot = (uint32_t)(s->aheap[0] & (MAX_SLOTS - 1));
        shop_session *ss = &s->sess[slot];
        step(s, ss, &out[k]);
        s->last_t = out[k].time_ms;
        k++;
        s->produced++;
        if (ss->done) {
            s->free_slots[s->n_free++] = slot;
            s->aheap[0] = s->aheap[--s->n_active];
        } else {
            s->aheap[0] = akey(s, ss->t, slot);
        }
        if (s->n_active > 0)
            aheap_sift_down(s, 0);
    }
    return k;
}

const char *shop_user_id(const shop *s, uint32_t i)
{
    if (!s || i >= s->cfg.users)
        return NULL;
    return s->user_ids + s->uid_stride * i;
}

size_t shop_user_id_len(const shop *s) { return s ? s->uid_len : 0; }
uint64_t shop_events_produced(const shop *s) { return s ? s->produced : 0; }
int64_t shop_last_time_ms(const shop *s) { return s ? s->last_t : 0; }
uint64_t shop_sessions_started(const shop *s) { return s ? s->sessions : 0; }
uint32_t shop_category_count(const shop *s) { return s ? s->n_nodes : 0; }
uint32_t shop_leaf_count(const shop *s) { return s ? s->n_leaves : 0; }
uint32_t shop_keyword_count(const shop *s) { return s ? s->n_keywords : 0; }

uint32_t shop_item_count(const shop *s) { return s ? s->n_leaves * ITEMS_PER_LEAF : 0; }

const char *shop_item_id(const shop *s, uint32_t k)
{
    if (!s || k >= s->n_leaves * ITEMS_PER_LEAF)
        return NULL;
    return s->item_ids + (size_t)k * ITEM_ID_STRIDE;
}

const char *shop_leaf_path(const shop *s, uint32_t leaf)
{
    if (!s || leaf >= s->n_leaves)
        return NULL;
    return s->node_path[s->leaf_node[leaf]];
}
