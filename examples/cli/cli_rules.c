/* cli_rules.c — rules files ("name: rule" per line): segments defined in
 * file order, errors as FILE:LINE:COL (docs/cli.md, bvt segments). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_rule_set_free(cli_rule_set *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->defs[i].name);
    free(rs->defs);
}

/* Define one "name: rule" line (p[0..n), CR and LF removed).  Columns are
 * 1-based byte positions in the line.  Returns 0 or CLI_EXIT_FAIL. */
static int define_line(bvt_engine *e, const char *path, size_t line, const char *p, size_t n,
                       cli_rule_set *rs)
{
    if (memchr(p, '\0', n)) {
        cli_input_error_at(path, line, (size_t)((const char *)memchr(p, '\0', n) - p) + 1,
                           "NUL byte in the line");
        return CLI_EXIT_FAIL;
    }
    size_t name_at = 0;
    while (name_at < n && cli_is_blank(p[name_at]))
        name_at++;
    const char *colon = memchr(p, ':', n);
    if (!colon) {
        cli_input_error_at(path, line, name_at + 1, "expected 'name: rule'");
        return CLI_EXIT_FAIL;
    }
    size_t name_end = (size_t)(colon - p), rule_at = name_end + 1, rule_end = n;
    while (name_end > name_at && cli_is_blank(p[name_end - 1]))
        name_end--;
    while (rule_at < n && cli_is_blank(p[rule_at]))
        rule_at++;
    while (rule_end > rule_at && cli_is_blank(p[rule_end - 1]))
        rule_end--;
    size_t name_len = name_end - name_at;
    if (name_len == 0) {
        cli_input_error_at(path, line, name_at + 1, "missing segment name before ':'");
        return CLI_EXIT_FAIL;
    }
    if (name_len > BVT_SEGMENT_NAME_MAX) {
        cli_input_error_at(path, line, name_at + 1, "segment name longer than %d bytes",
                           BVT_SEGMENT_NAME_MAX);
        return CLI_EXIT_FAIL;
    }
    /* The library would refuse it too, but with an offset in the name that
     * reads as one in the rule: check here so the column is the byte's. */
    size_t bad = bvt_utf8_check(p + name_at, name_len);
    if (bad < name_len) {
        cli_input_error_at(path, line, name_at + bad + 1,
                           "segment name is not valid UTF-8 (byte 0x%02x)",
                           (unsigned)(unsigned char)p[name_at + bad]);
        return CLI_EXIT_FAIL;
    }
    char name[BVT_SEGMENT_NAME_MAX + 1];
    memcpy(name, p + name_at, name_len);
    name[name_len] = '\0';
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->defs[i].name, name) == 0) {
            cli_input_error_at(path, line, name_at + 1, "segment '%s' is defined twice", name);
            return CLI_EXIT_FAIL;
        }
    }
    /* Only built-ins exist besides the file's own, already checked above;
     * asked before compiling so the name is reported, not the rule. */
    uint32_t id;
    if (bvt_segment_lookup(e, name, &id) == BVT_OK) {
        cli_input_error_at(path, line, name_at + 1, "'%s' is a built-in segment", name);
        return CLI_EXIT_FAIL;
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        cli_rule_def *d = realloc(rs->defs, cap * sizeof *d);
        if (!d) {
            fprintf(stderr, "bvt: out of memory\n");
            return CLI_EXIT_FAIL;
        }
        rs->defs = d;
        rs->cap = cap;
    }
    char *rule = malloc(rule_end - rule_at + 1);
    if (!rule) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    memcpy(rule, p + rule_at, rule_end - rule_at);
    rule[rule_end - rule_at] = '\0';
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_segment_define(e, name, rule, &id, &err);
    free(rule);
    if (rc != BVT_OK) {
        size_t col = err.offset >= 0 ? rule_at + 1 + (size_t)err.offset : rule_at + 1;
        cli_input_error_at(path, line, col, "%s",
                           err.message[0] ? err.message : bvt_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    rs->defs[rs->n].name = malloc(name_len + 1);
    if (!rs->defs[rs->n].name) {
        fprintf(stderr, "bvt: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    memcpy(rs->defs[rs->n].name, name, name_len + 1);
    rs->defs[rs->n].id = id;
    rs->n++;
    return 0;
}

typedef struct rules_file {
    bvt_engine *e;
    const char *path;
    cli_rule_set *rs;
} rules_file;

static int rules_line(void *ud, size_t line, const char *p, size_t n)
{
    rules_file *f = ud;
    return define_line(f->e, f->path, line, p, n, f->rs);
}

int cli_rules_define(bvt_engine *e, const char *path, const char *buf, size_t len,
                     cli_rule_set *rs)
{
    rules_file f = { e, path, rs };
    return cli_each_line(buf, len, rules_line, &f);
}
