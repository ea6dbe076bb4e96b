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
    "       bvt segments --state DIR --rules FILE [--now T] [--context k=v ...]\n"
    "                    [--members NAME [--format ids|csv|jsonl]] [--secret-file FILE]\n"
    "\n"
    "Track FILE (CSV or JSON Lines, see docs/events.md), or open the state\n"
    "directory DIR read-only (its last checkpoint plus its journal; no file\n"
    "changes, other readers may share it; refused while a writer has it); refresh\n"
    "the RFM scores at T, define the segments of the rules file (in memory), and\n"
    "print the size of every segment at T as CSV: a header 'segment,size', then\n"
    "the rules file's segments in file order, then the built-in RFM segments and\n"
    "funnel stages.\n"
    "\n"
    "  --events FILE   the events\n"
    "  --state DIR     instead of --events: the profiles DIR holds\n"
    "  --rules FILE    one 'name: rule' per line (docs/rules.md); blank lines and\n"
    "                  lines starting with '#' are skipped.  A name may not repeat\n"
    "                  nor be a built-in segment.  Errors: FILE:LINE:COL: message\n"
    "  --now T         evaluation time, ISO 8601 or epoch ms; default: the latest\n"
    "                  event time in FILE or DIR\n"
    "  --context k=v   a value of the request, read by rules as ctx.k; repeatable.\n"
    "                  page_category, device, geo and hour (0..23) are the\n"
    "                  standard keys; any other name is passed as is\n"
    "  --members NAME  print the user ids in segment NAME instead, sorted as bytes;\n"
    "                  from DIR, which keeps no raw ids, their keyed hashes (32 hex\n"
    "                  digits, as 'bvt export' prints them) under the name user_key\n"
    "  --format F      of --members: ids (one per line, the default), csv (header\n"
    "                  'user_id', quoted as needed) or jsonl ({\"user_id\":\"...\"})\n"
    "  --secret-file FILE the user-id secret: FILE's content, a trailing newline\n"
    "                  stripped (instead of BVT_SECRET; DIR needs one of them)\n"
    "\n"
    CLI_INPUT_USAGE "\n"
    "\n"
    "Exit status: 0 success; 1 bad events or rules, unknown segment, DIR problem;\n"
    "2 bad command line.\n";

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

/* ---- members: keyed hash -> raw id, or the hash itself --------------- */

typedef struct key_slot {
    uint64_t hi, lo;
    uint32_t index; /* entry index + 1; 0 = empty */
} key_slot;

/* The raw ids of an events file by keyed hash. */
typedef struct key_index {
    key_slot *slots;
    size_t mask;
} key_index;

static int key_index_build(key_index *x, bvt_engine *e, const idmap *users)
{
    size_t cap = 16;
    while (cap < 2 * users->count)
        cap *= 2;
    x->slots = calloc(cap, sizeof *x->slots);
    if (!x->slots)
        return BVT_ENOMEM;
    x->mask = cap - 1;
    for (size_t i = 0; i < users->count; i++) {
        const idmap_entry *en = &users->entries[i];
        bvt_user_key k;
        int rc = bvt_user_key_of(e, en->key, en->len, &k);
        if (rc != BVT_OK)
            return rc;
        size_t s = (size_t)k.lo & x->mask;
        while (x->slots[s].index)
            s = (s + 1) & x->mask;
        x->slots[s] = (key_slot){ k.hi, k.lo, (uint32_t)i + 1 };
    }
    return BVT_OK;
}

/* The entry index of k's raw id, or -1 when the file had none. */
static long key_index_find(const key_index *x, const bvt_user_key *k)
{
    size_t s = (size_t)k->lo & x->mask;
    while (x->slots[s].index && (x->slots[s].hi != k->hi || x->slots[s].lo != k->lo))
        s = (s + 1) & x->mask;
    return x->slots[s].index ? (long)x->slots[s].index - 1 : -1;
}

/* Every member's key, as the library reports them. */
typedef struct key_list {
    bvt_user_key *keys;
    size_t n, cap;
} key_list;

static int on_member(const bvt_user_key *k, void *ud)
{
    key_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        bvt_user_key *keys = realloc(l->keys, cap * sizeof *keys);
        if (!keys)
            return 1;
        l->keys = keys;
        l->cap = cap;
    }
    l->keys[l->n++] = *k;
    return 0;
}

typedef struct name {
    const char *p;
    size_t len;
} name;

static int by_bytes(const void *a, const void *b)
{
    const name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Name each member: by its raw id from the events file (users), or, from a
 * state directory, which keeps none, by its keyed hash in hex (into hex).
 * 0, or an exit status after printing why. */
static int name_members(bvt_engine *e, const char *segment, const key_list *l,
                        const idmap *users, name *names, char (*hex)[CLI_KEY_HEX])
{
    key_index x = { 0 };
    int rc = users ? key_index_build(&x, e, users) : BVT_OK;
    for (size_t i = 0; rc == BVT_OK && i < l->n; i++) {
        long at = users ? key_index_find(&x, &l->keys[i]) : -1;
        if (users && at < 0) {
            fprintf(stderr, "bvt: a member of '%s' has no id in the events file\n", segment);
            free(x.slots);
            return CLI_EXIT_FAIL;
        }
        if (users) {
            names[i] = (name){ users->entries[at].key, users->entries[at].len };
        } else {
            cli_key_hex(&l->keys[i], hex[i]);
            names[i] = (name){ hex[i], CLI_KEY_HEX - 1 };
        }
    }
    free(x.slots);
    if (rc == BVT_OK)
        return 0;
    fprintf(stderr, "bvt: members of '%s': %s\n", segment, bvt_strerror(rc));
    return CLI_EXIT_FAIL;
}

/* One name per line in the chosen format; column is the CSV header and the
 * JSON member: user_id for raw ids, user_key for keyed hashes. */
static int print_names(const name *names, size_t n, const char *format, const char *column)
{
    cli_out o = { 0 };
    if (strcmp(format, "csv") == 0)
        cli_out_printf(&o, "%s\n", column);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(format, "csv") == 0) {
            cli_out_csv_field(&o, names[i].p, names[i].len);
            cli_out_bytes(&o, "\n", 1);
        } else if (strcmp(format, "jsonl") == 0) {
            cli_out_printf(&o, "{\"%s\":", column);
            cli_out_json_string(&o, names[i].p, names[i].len);
            cli_out_bytes(&o, "}\n", 2);
        } else {
            cli_out_bytes(&o, names[i].p, names[i].len);
            cli_out_bytes(&o, "\n", 1);
        }
    }
    return cli_out_flush(&o);
}

static int print_members(bvt_engine *e, const char *segment, int64_t now, const bvt_context *ctx,
                         const idmap *users, const char *format)
{
    uint32_t id;
    if (bvt_segment_lookup(e, segment, &id) != BVT_OK) {
        fprintf(stderr, "bvt: no segment '%s'\n", segment);
        return CLI_EXIT_FAIL;
    }
    key_list l = { 0 };
    int r = bvt_segment_members(e, id, now, ctx, on_member, &l, NULL);
    size_t n = l.n ? l.n : 1;
    name *names = malloc(n * sizeof *names);
    char (*hex)[CLI_KEY_HEX] = users ? NULL : malloc(n * sizeof *hex);
    int rc = 0;
    if (r != BVT_OK || !names || (!users && !hex)) {
        fprintf(stderr, "bvt: members of '%s': %s\n", segment,
                bvt_strerror(r != BVT_OK && r < 0 ? r : BVT_ENOMEM));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0)
        rc = name_members(e, segment, &l, users, names, hex);
    if (rc == 0) {
        if (l.n > 1)
            qsort(names, l.n, sizeof *names, by_bytes);
        rc = print_names(names, l.n, format, users ? "user_id" : "user_key");
    }
    free(l.keys);
    free(names);
    free(hex);
    return rc;
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

static int run(cli_source *src, const char *rules, const char *now_text, int64_t now,
               const ctx_args *ca, const char *member_name, const char *format,
               const cli_input *in)
{
    cli_file rf;
    if (cli_file_load(&rf, rules) < 0)
        return CLI_EXIT_FAIL;
    bvt_engine *e = NULL;
    idmap users;
    idmap_init(&users);
    cli_rule_set rs = { 0 };
    src->load.input = in;
    /* raw ids to name members by: only an events file has them */
    src->load.users = member_name && src->events ? &users : NULL;
    int rc = cli_source_engine(src, NULL, &e);
    if (rc == 0)
        rc = cli_source_track(src, e);
    if (rc == 0 && !now_text)
        rc = cli_source_last_ms(src, e, &now);
    if (rc == 0 && now <= 0) {
        fprintf(stderr, "bvt: %s: no events, so no time to evaluate at (give --now)\n",
                cli_source_name(src));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0) {
        /* in memory: a state directory opened read-only is not written */
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
        rc = member_name ? print_members(e, member_name, now, ctx, src->load.users, format)
                         : print_sizes(e, &rs, now, ctx);
    cli_rule_set_free(&rs);
    idmap_free(&users);
    bvt_engine_free(e);
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
    cli_source src = { 0 };
    const char *rules = NULL, *now_text = NULL, *member_name = NULL, *format = NULL;
    cli_input_args ia = { 0 };
    cli_input in;
    const cli_opt opts[] = { { "events", &src.events }, { "state", &src.state },
                             { "rules", &rules }, { "now", &now_text },
                             { "members", &member_name }, { "format", &format },
                             { "secret-file", &src.secret_file }, CLI_INPUT_OPTS(ia) };
    size_t npos;
    int64_t now = 0;
    if (rc < 0)
        rc = cli_parse(nrest, rest, usage, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc < 0) {
        if ((rc = cli_source_check(&src, &ia, "--events FILE", usage, "segments")) >= 0)
            ; /* printed */
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
            rc = run(&src, rules, now_text, now, &ca, member_name, format ? format : "ids",
                     &in);
    }
    ctx_args_free(&ca);
    cli_source_free(&src);
    free(rest);
    free(pairs);
    return rc;
}
