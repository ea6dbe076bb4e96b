/* cmd_segments.c — `bvt segments`: the size of every segment over an event
 * file, or the raw ids of one segment's members (audience export). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_reader.h"

static const char usage[] =
    "usage: bvt segments --events FILE --rules FILE [--now T] [--context k=v ...]\n"
    "                    [--members NAME [--format ids|csv|jsonl]]\n"
    "                    [READING OPTIONS] [--secret-file FILE]\n"
    "\n"
    "Track FILE (CSV or JSON Lines, see docs/events.md), refresh the RFM scores\n"
    "at T, define the segments of the rules file, and print the size of every\n"
    "segment at T as CSV: a header 'segment,size', then the rules file's\n"
    "segments in file order, then the built-in RFM segments and funnel stages.\n"
    "\n"
    "  --events FILE   the events\n"
    "  --rules FILE    one 'name: rule' per line (docs/rules.md); blank lines and\n"
    "                  lines starting with '#' are skipped.  A name may not repeat\n"
    "                  nor be a built-in segment.  Errors: FILE:LINE:COL: message\n"
    "  --now T         evaluation time, ISO 8601 or epoch ms; default: the latest\n"
    "                  event time in the events file\n"
    "  --context k=v   a value of the request, read by rules as ctx.k; repeatable.\n"
    "                  page_category, device, geo and hour (0..23) are the\n"
    "                  standard keys; any other name is passed as is\n"
    "  --members NAME  print the user ids in segment NAME instead, sorted as bytes\n"
    "  --format F      of --members: ids (one per line, the default), csv (header\n"
    "                  'user_id', quoted as needed) or jsonl ({\"user_id\":\"...\"})\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                  stripped (instead of BVT_SECRET)\n"
    "\n"
    CLI_INPUT_USAGE "\n"
    "\n"
    "Exit status: 0 success; 1 bad events or rules, unknown segment; 2 bad\n"
    "command line.\n";

/* ---- the command line ------------------------------------------------ */

typedef struct ctx_args {
    bvt_context ctx;
    int any;                /* a --context was given */
    const char **keys, **values; /* the non-standard pairs */
    char *buf;              /* the keys, NUL-terminated copies */
} ctx_args;

static int is_name(const char *s, size_t n)
{
    if (n == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Fill the context from the "k=v" texts.  Returns 0 or CLI_EXIT_USAGE. */
static int parse_context(ctx_args *ca, const char *const *pairs, size_t n)
{
    bvt_context_init(&ca->ctx);
    ca->any = n > 0;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(pairs[i]) + 1;
    ca->keys = malloc((n ? n : 1) * sizeof *ca->keys);
    ca->values = malloc((n ? n : 1) * sizeof *ca->values);
    ca->buf = malloc(bytes ? bytes : 1);
    if (!ca->keys || !ca->values || !ca->buf) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    char *b = ca->buf;
    for (size_t i = 0; i < n; i++) {
        const char *p = pairs[i], *eq = strchr(p, '=');
        if (!eq)
            return cli_usage_error(usage, "--context '%s': expected KEY=VALUE", p);
        size_t klen = (size_t)(eq - p);
        if (!is_name(p, klen))
            return cli_usage_error(usage, "--context '%s': the key must be a name "
                                   "(letters, digits, '_', not starting with a digit)", p);
        memcpy(b, p, klen);
        b[klen] = '\0';
        const char *key = b, *value = eq + 1;
        b += klen + 1;
        for (size_t j = 0; j < i; j++) {
            const char *other = pairs[j];
            if (strncmp(other, p, klen) == 0 && other[klen] == '=')
                return cli_usage_error(usage, "--context: key '%s' given twice", key);
        }
        if (strcmp(key, "page_category") == 0) {
            ca->ctx.page_category = value;
        } else if (strcmp(key, "device") == 0) {
            ca->ctx.device = value;
        } else if (strcmp(key, "geo") == 0) {
            ca->ctx.geo = value;
        } else if (strcmp(key, "hour") == 0) {
            size_t vlen = strlen(value);
            if (vlen < 1 || vlen > 2 || value[0] < '0' || value[0] > '9'
                || (vlen == 2 && (value[1] < '0' || value[1] > '9'))
                || atoi(value) > 23)
                return cli_usage_error(usage, "--context '%s': hour must be a whole number 0..23", p);
            ca->ctx.hour = atoi(value);
        } else {
            ca->keys[ca->ctx.n] = key;
            ca->values[ca->ctx.n] = value;
            ca->ctx.n++;
        }
    }
    ca->ctx.keys = ca->keys;
    ca->ctx.values = ca->values;
    return 0;
}

static void ctx_args_free(ctx_args *ca)
{
    free(ca->keys);
    free(ca->values);
    free(ca->buf);
}

/* cli_parse() keeps one value per option, so the repeatable --context is
 * taken out of argv first.  Every other option takes a value, which is
 * skipped so a value that reads "--context" stays a value. */
static int take_contexts(int argc, char **argv, char **rest, int *nrest, const char **pairs,
                         size_t *npairs)
{
    *nrest = 0;
    *npairs = 0;
    rest[(*nrest)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                rest[(*nrest)++] = argv[i++];
            break;
        }
        if (strcmp(a, "--context") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error(usage, "option '--context' needs a value");
            pairs[(*npairs)++] = argv[++i];
            continue;
        }
        if (strncmp(a, "--context=", 10) == 0) {
            pairs[(*npairs)++] = a + 10;
            continue;
        }
        rest[(*nrest)++] = argv[i];
        if (a[0] == '-' && a[1] == '-' && a[2] && !strchr(a, '=') && strcmp(a, "--help") != 0
            && i + 1 < argc)
            rest[(*nrest)++] = argv[++i];
    }
    return -1;
}

/* ---- members: keyed hash -> raw id ------------------------------------ */

typedef struct key_slot {
    uint64_t hi, lo;
    uint32_t index; /* entry index + 1; 0 = empty */
} key_slot;

typedef struct members {
    const idmap *users;
    key_slot *slots;
    size_t mask;
    const idmap_entry **found;
    size_t n, cap;
    int unknown;    /* a member whose id was not in the file */
} members;

static int key_table(members *m, bvt_engine *e)
{
    size_t cap = 16;
    while (cap < 2 * m->users->count)
        cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots)
        return BVT_ENOMEM;
    m->mask = cap - 1;
    for (size_t i = 0; i < m->users->count; i++) {
        const idmap_entry *en = &m->users->entries[i];
        bvt_user_key k;
        int rc = bvt_user_key_of(e, en->key, en->len, &k);
        if (rc != BVT_OK)
            return rc;
        size_t s = (size_t)k.lo & m->mask;
        while (m->slots[s].index)
            s = (s + 1) & m->mask;
        m->slots[s] = (key_slot){ k.hi, k.lo, (uint32_t)i + 1 };
    }
    return BVT_OK;
}

static int on_member(const bvt_user_key *k, void *ud)
{
    members *m = ud;
    size_t s = (size_t)k->lo & m->mask;
    while (m->slots[s].index && (m->slots[s].hi != k->hi || m->slots[s].lo != k->lo))
        s = (s + 1) & m->mask;
    if (!m->slots[s].index) {
        m->unknown = 1;
        return 1;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        const idmap_entry **f = realloc(m->found, cap * sizeof *f);
        if (!f)
            return 1;
        m->found = f;
        m->cap = cap;
    }
    m->found[m->n++] = &m->users->entries[m->slots[s].index - 1];
    return 0;
}

static int by_bytes(const void *a, const void *b)
{
    const idmap_entry *x = *(const idmap_entry *const *)a, *y = *(const idmap_entry *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int print_members(bvt_engine *e, const char *name, int64_t now, const bvt_context *ctx,
                         const idmap *users, const char *format)
{
    uint32_t id;
    if (bvt_segment_lookup(e, name, &id) != BVT_OK) {
        fprintf(stderr, "bvt: no segment '%s'\n", name);
        return CLI_EXIT_FAIL;
    }
    members m = { .users = users };
    int rc = key_table(&m, e);
    if (rc == BVT_OK)
        rc = bvt_segment_members(e, id, now, ctx, on_member, &m, NULL);
    if (rc != BVT_OK) {
        if (m.unknown)
            fprintf(stderr, "bvt: a member of '%s' has no id in the events file\n", name);
        else
            fprintf(stderr, "bvt: members of '%s': %s\n", name,
                    bvt_strerror(rc > 0 ? BVT_ENOMEM : rc));
        free(m.slots);
        free(m.found);
        return CLI_EXIT_FAIL;
    }
    if (m.n > 1)
        qsort(m.found, m.n, sizeof *m.found, by_bytes);
    cli_out o = { 0 };
    if (strcmp(format, "csv") == 0)
        cli_out_bytes(&o, "user_id\n", 8);
    for (size_t i = 0; i < m.n; i++) {
        const idmap_entry *en = m.found[i];
        if (strcmp(format, "csv") == 0) {
            cli_out_csv_field(&o, en->key, en->len);
            cli_out_bytes(&o, "\n", 1);
        } else if (strcmp(format, "jsonl") == 0) {
            cli_out_bytes(&o, "{\"user_id\":", 11);
            cli_out_json_string(&o, en->key, en->len);
            cli_out_bytes(&o, "}\n", 2);
        } else {
            cli_out_bytes(&o, en->key, en->len);
            cli_out_bytes(&o, "\n", 1);
        }
    }
    free(m.slots);
    free(m.found);
    return cli_out_flush(&o);
}

/* ---- sizes ------------------------------------------------------------ */

static int size_row(cli_out *o, bvt_engine *e, uint32_t id, int64_t now, const bvt_context *ctx)
{
    const char *name = bvt_segment_name(e, id);
    uint64_t count = 0;
    int rc = name ? bvt_segment_members(e, id, now, ctx, NULL, NULL, &count) : BVT_ENOTFOUND;
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: size of segment %u: %s\n", (unsigned)id, bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    cli_out_csv_field(o, name, strlen(name));
    cli_out_printf(o, ",%llu\n", (unsigned long long)count);
    return 0;
}

static int print_sizes(bvt_engine *e, const cli_rule_set *rs, int64_t now, const bvt_context *ctx)
{
    size_t n = 0;
    uint32_t *ids = NULL;
    int rc = bvt_segment_list(e, NULL, 0, &n);
    if (rc == BVT_OK && !(ids = malloc((n ? n : 1) * sizeof *ids)))
        rc = BVT_ENOMEM;
    if (rc == BVT_OK)
        rc = bvt_segment_list(e, ids, n, &n);
    if (rc != BVT_OK) {
        fprintf(stderr, "bvt: listing segments: %s\n", bvt_strerror(rc));
        free(ids);
        return CLI_EXIT_FAIL;
    }
    cli_out o = { 0 };
    cli_out_bytes(&o, "segment,size\n", 13);
    rc = 0;
    for (size_t i = 0; i < rs->n && rc == 0; i++)
        rc = size_row(&o, e, rs->defs[i].id, now, ctx);
    /* The built-ins: everything listed that the file did not define. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t k = 0;
        while (k < rs->n && rs->defs[k].id != ids[i])
            k++;
        if (k == rs->n)
            rc = size_row(&o, e, ids[i], now, ctx);
    }
    free(ids);
    if (rc) {
        cli_out_free(&o);
        return rc;
    }
    return cli_out_flush(&o);
}

/* ---- the command ------------------------------------------------------ */

static int run(const char *events, const char *rules, const char *now_text, int64_t now,
               const ctx_args *ca, const char *member_name, const char *format,
               const char *secret_file, const cli_input *in)
{
    cli_file ef, rf;
    if (cli_file_load(&rf, rules) < 0)
        return CLI_EXIT_FAIL;
    if (cli_file_load(&ef, events) < 0) {
        cli_file_free(&rf);
        return CLI_EXIT_FAIL;
    }
    bvt_engine *e = NULL;
    idmap users;
    idmap_init(&users);
    cli_rule_set rs = { 0 };
    cli_load ld = { 0 };
    ld.input = in;
    ld.users = member_name ? &users : NULL;
    int rc = cli_engine_new(&e, NULL, secret_file);
    if (rc == 0)
        rc = cli_load_events(e, events, ef.data, ef.len, &ld);
    if (rc == 0 && !now_text)
        now = ld.last_ms;
    if (rc == 0 && now <= 0) {
        fprintf(stderr, "bvt: %s: no events, so no time to evaluate at (give --now)\n", events);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        int r = bvt_rfm_refresh(e, now, NULL);
        if (r != BVT_OK) {
            fprintf(stderr, "bvt: refreshing RFM scores: %s\n", bvt_strerror(r));
            rc = CLI_EXIT_FAIL;
        }
    }
    /* Rules after the events: they may name custom types the file brought. */
    if (rc == 0)
        rc = cli_rules_define(e, rules, rf.data, rf.len, &rs);
    const bvt_context *ctx = ca->any ? &ca->ctx : NULL;
    if (rc == 0)
        rc = member_name ? print_members(e, member_name, now, ctx, &users, format)
                         : print_sizes(e, &rs, now, ctx);
    cli_rule_set_free(&rs);
    idmap_free(&ld.watch_items);
    idmap_free(&users);
    bvt_engine_free(e);
    cli_file_free(&ef);
    cli_file_free(&rf);
    return rc;
}

int cmd_segments(int argc, char **argv)
{
    char **rest = malloc((size_t)(argc + 1) * sizeof *rest);
    const char **pairs = malloc((size_t)(argc + 1) * sizeof *pairs);
    if (!rest || !pairs) {
        free(rest);
        free(pairs);
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int nrest;
    size_t npairs;
    ctx_args ca = { 0 };
    int rc = take_contexts(argc, argv, rest, &nrest, pairs, &npairs);
    const char *events = NULL, *rules = NULL, *now_text = NULL, *member_name = NULL,
               *format = NULL, *secret_file = NULL;
    cli_input_args ia = { 0 };
    cli_input in;
    const cli_opt opts[] = { { "events", &events }, { "rules", &rules }, { "now", &now_text },
                             { "members", &member_name }, { "format", &format },
                             { "secret-file", &secret_file }, CLI_INPUT_OPTS(ia) };
    size_t npos;
    int64_t now = 0;
    if (rc < 0)
        rc = cli_parse(nrest, rest, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc < 0) {
        rc = 0;
        if (!events)
            rc = cli_usage_error(usage, "segments needs --events FILE");
        else if (!rules)
            rc = cli_usage_error(usage, "segments needs --rules FILE");
        else if (now_text && cli_time_option("--now", now_text, &now, usage) != 0)
            rc = CLI_EXIT_USAGE;
        else if (format && !member_name)
            rc = cli_usage_error(usage, "--format applies to --members");
        else if (format && strcmp(format, "ids") != 0 && strcmp(format, "csv") != 0
                 && strcmp(format, "jsonl") != 0)
            rc = cli_usage_error(usage, "--format must be ids, csv or jsonl, not '%s'", format);
        else if ((rc = cli_input_parse(&ia, &in, usage, er_field_names, ER_F_COUNT, 0)) < 0)
            rc = parse_context(&ca, pairs, npairs);
        if (rc == 0)
            rc = run(events, rules, now_text, now, &ca, member_name, format ? format : "ids",
                     secret_file, &in);
    }
    ctx_args_free(&ca);
    free(rest);
    free(pairs);
    return rc;
}
