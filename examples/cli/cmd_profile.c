/* cmd_profile.c — `bvt profile`: one user's profile as JSON. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "event_reader.h"

static const char usage[] =
    "usage: bvt profile --events FILE [--now T] [READING OPTIONS] [--secret-file FILE]\n"
    "                   USER\n"
    "       bvt profile --state DIR [--now T] [--secret-file FILE] USER\n"
    "\n"
    "Print USER's profile at time T as JSON: from the events of FILE (CSV or JSON\n"
    "Lines, see docs/events.md), or from the state directory DIR, opened read-only\n"
    "(its last checkpoint plus its journal; no file changes, other readers may\n"
    "share it; refused while a writer has it).  The RFM scores are refreshed at T\n"
    "over every buyer of FILE or DIR (in memory only); null when USER has no\n"
    "purchase.  Each time in epoch ms (NAME_ms) is followed by NAME_iso, the same\n"
    "time in ISO 8601 UTC.\n"
    "\n"
    "  --now T            ISO 8601 or epoch milliseconds; default: the latest event\n"
    "                     time in FILE or DIR\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                     stripped (instead of BVT_SECRET; DIR needs one of them)\n"
    "\n"
    "From DIR the cart's item ids are null (a state keeps only their hashes).\n"
    "\n"
    CLI_INPUT_USAGE "\n";

#define MAX_INTERESTS 16
#define MAX_CART 255

static void key(cli_out *o, const char *name, int first)
{
    cli_out_printf(o, "%s\n  \"%s\": ", first ? "" : ",", name);
}

static void key_i(cli_out *o, const char *name, long long v)
{
    key(o, name, 0);
    cli_out_printf(o, "%lld", v);
}

static void key_d(cli_out *o, const char *name, double v)
{
    key(o, name, 0);
    cli_out_json_number(o, v);
}

/* A time twice: "NAME_ms" for programs, then "NAME_iso" for people (null
 * when the time is 0: it never happened). */
static void key_time(cli_out *o, const char *name, int64_t ms)
{
    char k[64];
    snprintf(k, sizeof k, "%s_ms", name);
    key_i(o, k, ms);
    snprintf(k, sizeof k, "%s_iso", name);
    key(o, k, 0);
    cli_out_json_time(o, ms);
}

/* An RFM score 1..5, or null: 0 means not scored (no purchase). */
static void key_score(cli_out *o, const char *name, uint32_t score)
{
    key(o, name, 0);
    if (score)
        cli_out_printf(o, "%u", score);
    else
        cli_out_bytes(o, "null", 4);
}

/* The item id whose bvt_item_hash() is h, among the user's items. */
static const idmap_entry *item_named(const idmap *items, uint64_t h)
{
    for (size_t i = 0; i < items->count; i++) {
        if (bvt_item_hash(items->entries[i].key, items->entries[i].len) == h)
            return &items->entries[i];
    }
    return NULL;
}

static void print_profile(cli_out *o, bvt_engine *e, const char *user, int64_t now,
                          const bvt_profile *p, const bvt_interest *in, size_t nin,
                          const bvt_cart_item *cart, size_t ncart, const idmap *items)
{
    cli_out_bytes(o, "{", 1);
    key(o, "user", 1);
    cli_out_json_string(o, user, strlen(user));
    key_time(o, "now", now);
    key_time(o, "first_seen", p->first_seen_ms);
    key_time(o, "last_seen", p->last_seen_ms);
    key_i(o, "recency_ms", p->recency_ms);
    key_time(o, "last_purchase", p->last_purchase_ms);
    key_i(o, "purchase_recency_ms", p->purchase_recency_ms);
    key_i(o, "purchases", p->purchases);
    key_i(o, "purchase_days", p->purchase_days);
    key_d(o, "monetary_total", p->monetary_total);
    key_d(o, "monetary_mean", p->monetary_mean);
    key_score(o, "r_score", p->r_score);
    key_score(o, "f_score", p->f_score);
    key_score(o, "m_score", p->m_score);
    key_i(o, "events", (long long)p->events);
    key(o, "type_counts", 0);
    cli_out_bytes(o, "{", 1);
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++) {
        const char *name = bvt_event_type_name(NULL, t);
        cli_out_printf(o, "%s\"%s\": %u", t ? ", " : "", name ? name : "?", p->type_counts[t]);
    }
    cli_out_bytes(o, "}", 1);
    key_i(o, "impressions", p->impressions);
    key_i(o, "clicks", p->clicks);
    key_i(o, "conversions", p->conversions);
    key_d(o, "ctr", p->ctr);
    key_d(o, "conversion_rate", p->conversion_rate);
    key_i(o, "interactions", p->interactions);
    key_i(o, "sessions", p->sessions);
    key_i(o, "dwell_ms", p->dwell_ms);
    key_d(o, "mean_dwell_ms", p->mean_dwell_ms);
    key_i(o, "cart_items", p->cart_items);
    key_d(o, "cart_value", p->cart_value);
    key_time(o, "cart_oldest", p->cart_oldest_ms);
    key_i(o, "attributes", p->attributes);
    key_i(o, "history_events", p->history_events);
    key_i(o, "history_day_slots", p->history_day_slots);

    key(o, "interests", 0);
    cli_out_bytes(o, "[", 1);
    for (size_t i = 0; i < nin; i++) {
        const char *cat = in[i].category ? in[i].category : bvt_category_name(e, in[i].category_id);
        cli_out_printf(o, "%s\n    {\"category\": ", i ? "," : "");
        if (cat)
            cli_out_json_string(o, cat, strlen(cat));
        else
            cli_out_bytes(o, "null", 4);
        cli_out_bytes(o, ", \"score\": ", 11);
        cli_out_json_number(o, in[i].score);
        cli_out_bytes(o, ", \"affinity\": ", 14);
        cli_out_json_number(o, in[i].affinity);
        cli_out_bytes(o, "}", 1);
    }
    cli_out_printf(o, "%s]", nin ? "\n  " : "");

    key(o, "cart", 0);
    cli_out_bytes(o, "[", 1);
    for (size_t i = 0; i < ncart; i++) {
        const bvt_cart_item *c = &cart[i];
        const idmap_entry *item = c->item_hash ? item_named(items, c->item_hash) : NULL;
        const char *cat = c->category_id ? bvt_category_name(e, c->category_id) : NULL;
        cli_out_printf(o, "%s\n    {\"item\": ", i ? "," : "");
        if (item)
            cli_out_json_string(o, item->key, item->len);
        else
            cli_out_bytes(o, "null", 4);
        cli_out_printf(o, ", \"item_hash\": \"%016llx\", \"category\": ",
                       (unsigned long long)c->item_hash);
        if (cat)
            cli_out_json_string(o, cat, strlen(cat));
        else
            cli_out_bytes(o, "null", 4);
        cli_out_printf(o, ", \"quantity\": %u, \"value\": ", c->quantity);
        cli_out_json_number(o, c->value);
        cli_out_printf(o, ", \"added_ms\": %lld, \"added_iso\": ", (long long)c->added_ms);
        cli_out_json_time(o, c->added_ms);
        cli_out_bytes(o, "}", 1);
    }
    cli_out_printf(o, "%s]\n}\n", ncart ? "\n  " : "");
}

/* USER's profile, interests and cart at now into o; exit status. */
static int print_user(cli_out *o, bvt_engine *e, const cli_source *src, const char *user,
                      int64_t now)
{
    size_t len = strlen(user);
    bvt_profile p;
    bvt_interest in[MAX_INTERESTS];
    bvt_cart_item cart[MAX_CART];
    size_t nin = 0, ncart = 0;
    bvt_profile_init(&p);
    int rc = now > 0 ? bvt_profile_get(e, user, len, now, &p) : BVT_ENOTFOUND;
    if (rc == BVT_OK)
        rc = bvt_profile_interests(e, user, len, now, in, MAX_INTERESTS, &nin);
    if (rc == BVT_OK)
        rc = bvt_profile_cart(e, user, len, cart, MAX_CART, &ncart);
    if (rc == BVT_ENOTFOUND) {
        fprintf(stderr, "bvt: no %s for user '%s' in %s\n", src->state ? "profile" : "events",
                user, cli_source_name(src));
        return CLI_EXIT_FAIL;
    }
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: reading the profile of '%s': %s\n", user, bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    print_profile(o, e, user, now, &p, in, nin, cart, ncart, &src->load.watch_items);
    return 0;
}

/* Scores against cut points as fresh as the profile: the engine does not
 * say when its cuts were computed (a state may hold old ones, a file none),
 * so a one-shot command refreshes them at now, in memory. */
static int refresh_scores(bvt_engine *e, int64_t now)
{
    int rc = now > 0 ? bvt_rfm_refresh(e, now, NULL) : BVT_OK;
    if (rc == BVT_OK)
        return 0;
    fprintf(stderr, "bvt: refreshing RFM scores: %s\n", bvt_strerror(rc));
    return CLI_EXIT_FAIL;
}

int cmd_profile(int argc, char **argv)
{
    cli_source src = { 0 };
    const char *now_text = NULL, *user = NULL;
    cli_input_args ia = { 0 };
    const cli_opt opts[] = { { "events", &src.events }, { "state", &src.state },
                             { "now", &now_text }, { "secret-file", &src.secret_file },
                             CLI_INPUT_OPTS(ia) };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], &user, 1, &npos);
    if (rc >= 0 || (rc = cli_source_check(&src, &ia, "--events FILE", usage, "profile")) >= 0)
        return rc;
    if (npos != 1 || user[0] == '\0')
        return cli_usage_error(usage, "profile needs a USER");
    int64_t now = 0;
    if (now_text && (rc = cli_time_option("--now", now_text, &now, usage)) != 0)
        return rc;
    cli_input in;
    if ((rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0)) >= 0)
        return rc;

    bvt_engine *e = NULL;
    src.load.input = &in;
    src.load.watch_user = user;
    src.load.watch_len = strlen(user);
    rc = cli_source_engine(&src, NULL, &e);
    if (rc == 0)
        rc = cli_source_track(&src, e);
    if (rc == 0 && !now_text)
        rc = cli_source_last_ms(&src, e, &now);
    if (rc == 0)
        rc = refresh_scores(e, now);
    cli_out o = { 0 };
    if (rc == 0)
        rc = print_user(&o, e, &src, user, now);
    rc = rc ? rc : cli_out_flush(&o);
    cli_out_free(&o);
    bvt_engine_free(e);
    cli_source_free(&src);
    return rc;
}
