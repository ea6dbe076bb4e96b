/* cmd_profile.c — `bvt profile`: one user's profile as JSON. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "event_reader.h"

static const char usage[] =
    "usage: bvt profile --events FILE [--now T] [READING OPTIONS] [--secret-file FILE]\n"
    "                   USER\n"
    "\n"
    "Track FILE (CSV or JSON Lines, see docs/events.md) and print USER's profile\n"
    "at time T as JSON.  T is ISO 8601 or epoch milliseconds; by default the\n"
    "latest event time in FILE.  --secret-file FILE: the user-id secret is FILE's\n"
    "content, a trailing newline stripped (instead of BVT_SECRET).\n"
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
    key_i(o, "now_ms", now);
    key_i(o, "first_seen_ms", p->first_seen_ms);
    key_i(o, "last_seen_ms", p->last_seen_ms);
    key_i(o, "recency_ms", p->recency_ms);
    key_i(o, "last_purchase_ms", p->last_purchase_ms);
    key_i(o, "purchase_recency_ms", p->purchase_recency_ms);
    key_i(o, "purchases", p->purchases);
    key_i(o, "purchase_days", p->purchase_days);
    key_d(o, "monetary_total", p->monetary_total);
    key_d(o, "monetary_mean", p->monetary_mean);
    key_i(o, "r_score", p->r_score);
    key_i(o, "f_score", p->f_score);
    key_i(o, "m_score", p->m_score);
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
    key_i(o, "cart_oldest_ms", p->cart_oldest_ms);
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
        cli_out_printf(o, ", \"added_ms\": %lld}", (long long)c->added_ms);
    }
    cli_out_printf(o, "%s]\n}\n", ncart ? "\n  " : "");
}

int cmd_profile(int argc, char **argv)
{
    const char *events = NULL, *now_text = NULL, *user = NULL, *secret_file = NULL;
    cli_input_args ia = { 0 };
    const cli_opt opts[] = { { "events", &events }, { "now", &now_text },
                             { "secret-file", &secret_file }, CLI_INPUT_OPTS(ia) };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], &user, 1, &npos);
    if (rc >= 0)
        return rc;
    if (!events)
        return cli_usage_error(usage, "profile needs --events FILE");
    if (npos != 1 || user[0] == '\0')
        return cli_usage_error(usage, "profile needs a USER");
    int64_t now = 0;
    if (now_text && (rc = cli_time_option("--now", now_text, &now, usage)) != 0)
        return rc;
    cli_input in;
    if ((rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0)) >= 0)
        return rc;

    cli_file f;
    if (cli_file_load(&f, events) < 0)
        return CLI_EXIT_FAIL;
    bvt_engine *e = NULL;
    rc = cli_engine_new(&e, NULL, secret_file);
    if (rc) {
        cli_file_free(&f);
        return rc;
    }
    cli_load ld = { 0 };
    ld.input = &in;
    ld.watch_user = user;
    ld.watch_len = strlen(user);
    rc = cli_load_events(e, events, f.data, f.len, &ld);
    if (rc == 0) {
        if (!now_text)
            now = ld.last_ms;
        bvt_profile p;
        bvt_interest in[MAX_INTERESTS];
        bvt_cart_item cart[MAX_CART];
        size_t nin = 0, ncart = 0;
        bvt_profile_init(&p);
        int prc = now > 0 ? bvt_profile_get(e, user, ld.watch_len, now, &p) : BVT_ENOTFOUND;
        if (prc == BVT_OK)
            prc = bvt_profile_interests(e, user, ld.watch_len, now, in, MAX_INTERESTS, &nin);
        if (prc == BVT_OK)
            prc = bvt_profile_cart(e, user, ld.watch_len, cart, MAX_CART, &ncart);
        if (prc == BVT_ENOTFOUND) {
            fprintf(stderr, "bvt: no events for user '%s' in %s\n", user, events);
            rc = CLI_EXIT_FAIL;
        } else if (prc != BVT_OK) {
            fprintf(stderr, "bvt: reading the profile of '%s': %s\n", user, bvt_strerror(prc));
            rc = CLI_EXIT_FAIL;
        } else {
            cli_out o = { 0 };
            print_profile(&o, e, user, now, &p, in, nin, cart, ncart, &ld.watch_items);
            rc = cli_out_flush(&o);
        }
    }
    idmap_free(&ld.watch_items);
    bvt_engine_free(e);
    cli_file_free(&f);
    return rc;
}
