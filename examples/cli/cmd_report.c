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
    "       bvt report --state DIR [--segments NAME,...] [--secret-file FILE]\n"
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
    "  --state DIR       instead: the metrics the state directory DIR counted, for\n"
    "                    the offers DIR defines, in their order (opened read-only:\n"
    "                    no file changes; refused while a writer has it).  Metrics\n"
    "                    are counted as events are tracked, so DIR has them only\n"
    "                    for offers defined before its events came ('bvt ingest'\n"
    "                    defines none), by the segments chosen then; --offers,\n"
    "                    --rules and --now cannot change them and are refused\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                    stripped (instead of BVT_SECRET; DIR needs one of them)\n"
    "\n"
    CLI_INPUT_USAGE "\n"
    "\n"
    "Exit status: 0 success; 1 bad events, offers or rules, unknown segment, DIR\n"
    "problem; 2 bad command line.\n";

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

/* The offers a report has rows for, in order, with their numeric ids. */
typedef struct report_offers {
    const char **names;
    uint32_t *nums;
    size_t n;
} report_offers;

static int report_offers_alloc(report_offers *ro, size_t n)
{
    ro->names = malloc((n ? n : 1) * sizeof *ro->names);
    ro->nums = malloc((n ? n : 1) * sizeof *ro->nums);
    if (ro->names && ro->nums)
        return 0;
    fprintf(stderr, "bvt: out of memory\n");
    return CLI_EXIT_FAIL;
}

static void report_offers_free(report_offers *ro)
{
    free(ro->names);
    free(ro->nums);
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

static int print_report(bvt_engine *e, const report_offers *ro, const seg_list *sl)
{
    cli_out o = { 0 };
    static const char header[] = "offer,segment,impressions,clicks,conversions,dismissals,"
                                 "engagements,revenue,cost,ctr,conversion_rate,"
                                 "engagement_rate,roi\n";
    cli_out_bytes(&o, header, sizeof header - 1);
    int rc = 0;
    for (size_t i = 0; i <= ro->n && rc == 0; i++) {
        const char *name = i < ro->n ? ro->names[i] : "*";
        uint32_t num = i < ro->n ? ro->nums[i] : BVT_ALL_OFFERS;
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

/* ---- where the offers and their counts come from ---------------------- */

static int lookup_segments(bvt_engine *e, seg_list *sl)
{
    for (size_t i = 0; i < sl->n; i++) {
        if (bvt_segment_lookup(e, sl->names[i], &sl->ids[i]) != BVT_OK) {
            fprintf(stderr, "bvt: no segment '%s'\n", sl->names[i]);
            return CLI_EXIT_FAIL;
        }
    }
    return 0;
}

/* An events file: the definitions go in before the events are tracked, so
 * the metrics are counted with them (membership is taken as each feedback
 * event is), and rules may name the declared custom types: those first. */
static int setup_file(bvt_engine *e, const char *offers, offer_file *f, const char *rules,
                      const cli_file *rf, cli_rule_set *rs, seg_list *sl, report_offers *ro,
                      const cli_input *in)
{
    cli_types vocab;
    int rc = cli_input_vocabulary(e, in, &vocab);
    if (rc == 0 && rules)
        rc = cli_rules_define(e, rules, rf->data, rf->len, rs);
    if (rc == 0)
        rc = lookup_segments(e, sl);
    if (rc == 0 && sl->n > 0) {
        bvt_error err = BVT_ERROR_INIT;
        int r = bvt_offer_segments_set(e, sl->ids, sl->n, &err);
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: --segments: %s\n", err.message[0] ? err.message : bvt_strerror(r));
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == 0)
        rc = offers_define(e, offers, f);
    if (rc == 0)
        rc = report_offers_alloc(ro, f->n);
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        if (f->lines[i].is_group)
            continue;
        ro->names[ro->n] = f->lines[i].id;
        ro->nums[ro->n++] = f->lines[i].num;
    }
    return rc;
}

/* A state directory: its offers, as counted when its events were tracked,
 * by the segments its offers report by (chosen then, so a listed segment
 * must be one of them). */
static int setup_state(bvt_engine *e, const char *dir, seg_list *sl, report_offers *ro)
{
    int rc = lookup_segments(e, sl);
    for (size_t i = 0; rc == 0 && i < sl->n; i++) {
        bvt_metrics m = BVT_METRICS_INIT;
        if (bvt_metrics_get(e, BVT_ALL_OFFERS, sl->ids[i], &m) == BVT_ENOTFOUND) {
            fprintf(stderr, "bvt: %s counts no offer metrics by segment '%s': offers count by "
                            "the segments chosen before the events were tracked "
                            "(bvt_offer_segments_set)\n", dir, sl->names[i]);
            rc = CLI_EXIT_FAIL;
        }
    }
    size_t n = 0;
    if (rc == 0 && bvt_offer_list(e, NULL, 0, &n) == BVT_OK && n == 0) {
        fprintf(stderr, "bvt: %s defines no offers, so it counted no offer metrics: an offer "
                        "counts the events tracked after it was defined, and 'bvt ingest' "
                        "defines none; use 'bvt report --events FILE --offers FILE'\n", dir);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0)
        rc = report_offers_alloc(ro, n);
    if (rc == 0 && bvt_offer_list(e, ro->nums, n, &ro->n) != BVT_OK)
        rc = CLI_EXIT_FAIL;
    for (size_t i = 0; rc == 0 && i < ro->n && i < n; i++)
        ro->names[i] = bvt_offer_name(e, ro->nums[i]);
    if (ro->n > n) /* not with a read-only open: nothing defines offers meanwhile */
        ro->n = n;
    return rc;
}

/* ---- the command ------------------------------------------------------ */

static int run(cli_source *src, const char *offers, const char *rules, int64_t now, seg_list *sl,
               const cli_input *in)
{
    cli_file of = { 0 }, rf = { 0 };
    offer_file f = { 0 };
    cli_rule_set rs = { 0 };
    report_offers ro = { 0 };
    bvt_engine *e = NULL;
    src->load.input = in;
    src->load.until_ms = now;
    int rc = 0;
    if (offers && cli_file_load(&of, offers) < 0)
        rc = CLI_EXIT_FAIL;
    if (rc == 0 && rules && cli_file_load(&rf, rules) < 0)
        rc = CLI_EXIT_FAIL;
    if (rc == 0 && offers)
        rc = offer_file_parse(offers, of.data, of.len, &f);
    if (rc == 0)
        rc = cli_source_engine(src, NULL, &e);
    if (rc == 0)
        rc = src->state ? setup_state(e, src->state, sl, &ro)
                        : setup_file(e, offers, &f, rules, &rf, &rs, sl, &ro, in);
    if (rc == 0)
        rc = cli_source_track(src, e);
    if (rc == 0)
        rc = print_report(e, &ro, sl);
    report_offers_free(&ro);
    cli_rule_set_free(&rs);
    offer_file_free(&f);
    bvt_engine_free(e);
    cli_file_free(&of);
    cli_file_free(&rf);
    return rc;
}

/* What --state cannot honour: the counts were made when the events were
 * tracked, with the definitions DIR had then.  -1 or the usage error. */
static int check_state_options(const char *offers, const char *rules, const char *now_text)
{
    if (offers)
        return cli_usage_error(usage, "--offers with --state: DIR's metrics were counted with "
                               "the offers DIR defines; they are reported as they are");
    if (rules)
        return cli_usage_error(usage, "--rules with --state: DIR counted offers by the segments "
                               "it had when its events were tracked; name them in --segments");
    if (now_text)
        return cli_usage_error(usage, "--now with --state: DIR keeps totals, which cannot be "
                               "cut at a time");
    return -1;
}

int cmd_report(int argc, char **argv)
{
    cli_source src = { 0 };
    const char *offers = NULL, *rules = NULL, *segments = NULL, *now_text = NULL;
    cli_input_args ia = { 0 };
    cli_input in;
    const cli_opt opts[] = { { "events", &src.events }, { "state", &src.state },
                             { "offers", &offers }, { "rules", &rules },
                             { "segments", &segments }, { "now", &now_text },
                             { "secret-file", &src.secret_file }, CLI_INPUT_OPTS(ia) };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc >= 0 || (rc = cli_source_check(&src, &ia, "--events FILE", usage, "report")) >= 0)
        return rc;
    int64_t now = 0;
    seg_list sl = { 0 };
    if (src.state)
        rc = check_state_options(offers, rules, now_text);
    else if (!offers)
        rc = cli_usage_error(usage, "report needs --offers FILE");
    else if (now_text && cli_time_option("--now", now_text, &now, usage) != 0)
        rc = CLI_EXIT_USAGE;
    if (rc < 0)
        rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0);
    if (rc < 0)
        rc = parse_segments(segments, &sl);
    if (rc == 0)
        rc = run(&src, offers, rules, now, &sl, &in);
    free(sl.buf);
    cli_source_free(&src);
    return rc;
}
