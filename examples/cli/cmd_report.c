/* cmd_report.c — `bvt report`: offer metrics (bvt_metrics_get) over an
 * events file, per offer, for all users and per listed segment. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_reader.h"
#include "offers_file.h"

static const char usage[] =
    "usage: bvt report --events FILE --offers FILE [--rules FILE]\n"
    "                  [--segments NAME,...] [--now T] [READING OPTIONS]\n"
    "                  [--secret-file FILE]\n"
    "\n"
    "Define the offers of the offers file (and the segments of the rules file),\n"
    "track FILE (CSV or JSON Lines, see docs/events.md), and print each offer's\n"
    "metrics as CSV: a header, then for each offer in file order a row for all\n"
    "users (segment 'all') and one per listed segment, then the same rows for\n"
    "all offers together (offer '*').\n"
    "\n"
    "  --events FILE     the events; impression, click, conversion, dismiss,\n"
    "                    like, share and comment events with an offer_id count\n"
    "  --offers FILE     one offer per line: 'id: key=value ...' (docs/cli.md)\n"
    "  --rules FILE      segments to define, one 'name: rule' per line\n"
    "  --segments LIST   comma-separated segment names to report by (at most 15):\n"
    "                    the rules file's or built-in ones; a user counts in a\n"
    "                    segment when in it at the time of the event\n"
    "  --now T           count only events at or before T (ISO 8601 or epoch ms);\n"
    "                    default: every event\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                    stripped (instead of BVT_SECRET)\n"
    "\n"
    CLI_INPUT_USAGE "\n"
    "\n"
    "Exit status: 0 success; 1 bad events, offers or rules, unknown segment;\n"
    "2 bad command line.\n";

/* ---- defining the offers file's groups and offers --------------------- */

/* A definition the library refused, reported at its line. */
static void definition_error(const char *path, const offer_line *ol, int rc,
                             const bvt_error *err)
{
    char at[48] = "";
    if (ol->rule && err->offset >= 0 &&
        (rc == BVT_ESYNTAX || rc == BVT_EINVAL || rc == BVT_ENOTFOUND || rc == BVT_ERANGE ||
         rc == BVT_ECYCLE))
        snprintf(at, sizeof at, " (at byte %lld of the rule)", (long long)err->offset + 1);
    cli_input_error(path, ol->line, "%s '%s': %s%s", ol->is_group ? "group" : "offer", ol->id,
                    err->message[0] ? err->message : bvt_strerror(rc), at);
}

/* Groups first (an offer may name a group defined on a later line), then
 * the offers in file order. */
static int offers_define(bvt_engine *e, const char *path, offer_file *f)
{
    size_t n_offers = 0;
    for (size_t i = 0; i < f->n; i++) {
        offer_line *ol = &f->lines[i];
        bvt_error err = BVT_ERROR_INIT;
        int rc = ol->is_group ? bvt_offer_group_define(e, ol->id, ol->caps, ol->n_caps, &err)
                              : BVT_OK;
        if (rc != BVT_OK) {
            definition_error(path, ol, rc, &err);
            return CLI_EXIT_FAIL;
        }
        n_offers += !ol->is_group;
    }
    if (n_offers == 0)
        return 0;
    /* all offers in one catalog version: O(n) for a large file */
    bvt_offer *defs = malloc(n_offers * sizeof *defs);
    offer_line **lines = malloc(n_offers * sizeof *lines);
    uint32_t *ids = malloc(n_offers * sizeof *ids);
    int status = 0;
    if (!defs || !lines || !ids) {
        fprintf(stderr, "bvt: out of memory for %zu offers\n", n_offers);
        status = CLI_EXIT_FAIL;
    } else {
        size_t k = 0;
        for (size_t i = 0; i < f->n; i++)
            if (!f->lines[i].is_group) {
                lines[k] = &f->lines[i];
                defs[k++] = f->lines[i].def;
            }
        size_t failed = 0;
        bvt_error err = BVT_ERROR_INIT;
        int rc = bvt_offer_define_batch(e, defs, n_offers, ids, &failed, &err);
        if (rc != BVT_OK) {
            definition_error(path, lines[failed < n_offers ? failed : 0], rc, &err);
            status = CLI_EXIT_FAIL;
        }
        for (size_t i = 0; rc == BVT_OK && i < n_offers; i++)
            lines[i]->num = ids[i];
    }
    free(defs);
    free(lines);
    free(ids);
    return status;
}

/* ---- segments ------------------------------------------------------- */

typedef struct seg_list {
    char *buf;
    const char *names[BVT_OFFER_SEGMENTS_MAX];
    uint32_t ids[BVT_OFFER_SEGMENTS_MAX];
    size_t n;
} seg_list;

/* Split --segments; returns 0 or CLI_EXIT_USAGE. */
static int parse_segments(const char *text, seg_list *sl)
{
    if (!text)
        return 0;
    if (!(sl->buf = strdup(text))) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    for (char *p = sl->buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0')
            return cli_usage_error(usage, "--segments: empty name in '%s'", text);
        if (sl->n == BVT_OFFER_SEGMENTS_MAX)
            return cli_usage_error(usage, "--segments: at most %d segments",
                                   BVT_OFFER_SEGMENTS_MAX);
        for (size_t i = 0; i < sl->n; i++)
            if (strcmp(sl->names[i], p) == 0)
                return cli_usage_error(usage, "--segments: '%s' given twice", p);
        sl->names[sl->n++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* ---- output ----------------------------------------------------------- */

static int row(cli_out *o, bvt_engine *e, const char *offer, uint32_t num, const char *segment,
               uint32_t seg_id)
{
    bvt_metrics m = BVT_METRICS_INIT;
    int rc = bvt_metrics_get(e, num, seg_id, &m);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: metrics of '%s' in '%s': %s\n", offer, segment, bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    cli_out_csv_field(o, offer, strlen(offer));
    cli_out_bytes(o, ",", 1);
    cli_out_csv_field(o, segment, strlen(segment));
    cli_out_printf(o, ",%llu,%llu,%llu,%llu,%llu,", (unsigned long long)m.impressions,
                   (unsigned long long)m.clicks, (unsigned long long)m.conversions,
                   (unsigned long long)m.dismissals, (unsigned long long)m.engagements);
    const double v[] = {m.revenue, m.cost, m.ctr, m.conversion_rate, m.engagement_rate, m.roi};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cli_out_fixed6(o, v[i]);
        cli_out_bytes(o, i + 1 < sizeof v / sizeof v[0] ? "," : "\n", 1);
    }
    return 0;
}

static int print_report(bvt_engine *e, const offer_file *f, const seg_list *sl)
{
    cli_out o = { 0 };
    static const char header[] = "offer,segment,impressions,clicks,conversions,dismissals,"
                                 "engagements,revenue,cost,ctr,conversion_rate,"
                                 "engagement_rate,roi\n";
    cli_out_bytes(&o, header, sizeof header - 1);
    int rc = 0;
    for (size_t i = 0; i <= f->n && rc == 0; i++) {
        if (i < f->n && f->lines[i].is_group)
            continue;
        const char *name = i < f->n ? f->lines[i].id : "*";
        uint32_t num = i < f->n ? f->lines[i].num : BVT_ALL_OFFERS;
        rc = row(&o, e, name, num, "all", 0);
        for (size_t s = 0; s < sl->n && rc == 0; s++)
            rc = row(&o, e, name, num, sl->names[s], sl->ids[s]);
    }
    if (rc) {
        cli_out_free(&o);
        return rc;
    }
    return cli_out_flush(&o);
}

/* ---- the command ------------------------------------------------------ */

static int run(const char *events, const char *offers, const char *rules, int64_t now,
               seg_list *sl, const char *secret_file, const cli_input *in)
{
    cli_file ef = { 0 }, of = { 0 }, rf = { 0 };
    int have_rules = rules != NULL;
    if (cli_file_load(&of, offers) < 0)
        return CLI_EXIT_FAIL;
    if (have_rules && cli_file_load(&rf, rules) < 0) {
        cli_file_free(&of);
        return CLI_EXIT_FAIL;
    }
    if (cli_file_load(&ef, events) < 0) {
        cli_file_free(&of);
        cli_file_free(&rf);
        return CLI_EXIT_FAIL;
    }
    offer_file f = { 0 };
    cli_rule_set rs = { 0 };
    cli_load ld = { 0 };
    ld.input = in;
    ld.until_ms = now;
    bvt_engine *e = NULL;
    int rc = offer_file_parse(offers, of.data, of.len, &f);
    if (rc == 0)
        rc = cli_engine_new(&e, NULL, secret_file);
    /* Segments must exist before the events are tracked (membership is
     * taken as each feedback event is), and rules may name the declared
     * custom types: register those first. */
    cli_types vocab;
    if (rc == 0)
        rc = cli_input_vocabulary(e, in, &vocab);
    if (rc == 0 && have_rules)
        rc = cli_rules_define(e, rules, rf.data, rf.len, &rs);
    for (size_t i = 0; rc == 0 && i < sl->n; i++) {
        if (bvt_segment_lookup(e, sl->names[i], &sl->ids[i]) != BVT_OK) {
            fprintf(stderr, "bvt: no segment '%s'\n", sl->names[i]);
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == 0 && sl->n > 0) {
        bvt_error err = BVT_ERROR_INIT;
        int r = bvt_offer_segments_set(e, sl->ids, sl->n, &err);
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: --segments: %s\n", err.message[0] ? err.message : bvt_strerror(r));
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == 0)
        rc = offers_define(e, offers, &f);
    if (rc == 0)
        rc = cli_load_events(e, events, ef.data, ef.len, &ld);
    if (rc == 0)
        rc = print_report(e, &f, sl);
    idmap_free(&ld.watch_items);
    cli_rule_set_free(&rs);
    offer_file_free(&f);
    bvt_engine_free(e);
    cli_file_free(&ef);
    cli_file_free(&of);
    cli_file_free(&rf);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *events = NULL, *offers = NULL, *rules = NULL, *segments = NULL,
               *now_text = NULL, *secret_file = NULL;
    cli_input_args ia = { 0 };
    cli_input in;
    const cli_opt opts[] = { { "events", &events }, { "offers", &offers }, { "rules", &rules },
                             { "segments", &segments }, { "now", &now_text },
                             { "secret-file", &secret_file }, CLI_INPUT_OPTS(ia) };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    int64_t now = 0;
    seg_list sl = { 0 };
    rc = 0;
    if (!events)
        rc = cli_usage_error(usage, "report needs --events FILE");
    else if (!offers)
        rc = cli_usage_error(usage, "report needs --offers FILE");
    else if (now_text && cli_time_option("--now", now_text, &now, usage) != 0)
        rc = CLI_EXIT_USAGE;
    else if ((rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0)) < 0)
        rc = parse_segments(segments, &sl);
    if (rc == 0)
        rc = run(events, offers, rules, now, &sl, secret_file, &in);
    free(sl.buf);
    return rc;
}
