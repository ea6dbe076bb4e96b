/* cli_rejects.c — the error budget, the rejects file and the counts of a
 * read (see cli_rejects.h). */
#include "cli_rejects.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- the list ------------------------------------------------------- */

int cli_reject_list_add(cli_reject_list *l, const cli_reject *r, const char *reason)
{
    size_t rn = strlen(reason) + 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        cli_reject *v = realloc(l->v, cap * sizeof *v);
        if (v)
            l->v = v;
        size_t *at = v ? realloc(l->reason_at, cap * sizeof *at) : NULL;
        if (!at) {
            l->oom = 1;
            return -1;
        }
        l->reason_at = at;
        l->cap = cap;
    }
    if (l->text_n + rn > l->text_cap) {
        size_t cap = l->text_cap ? 2 * l->text_cap : 1024;
        while (cap < l->text_n + rn)
            cap *= 2;
        char *t = realloc(l->text, cap);
        if (!t) {
            l->oom = 1;
            return -1;
        }
        l->text = t;
        l->text_cap = cap;
    }
    memcpy(l->text + l->text_n, reason, rn);
    l->reason_at[l->n] = l->text_n;
    l->text_n += rn;
    l->v[l->n++] = *r;
    return 0;
}

void cli_reject_list_free(cli_reject_list *l)
{
    free(l->v);
    free(l->reason_at);
    free(l->text);
    memset(l, 0, sizeof *l);
}

/* ---- the read ------------------------------------------------------- */

int cli_rejects_open(cli_rejects *s, const char *path, const cli_input *in)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    if (!in)
        return 0;
    s->max_errors = in->max_errors;
    s->out_path = in->rejects_path;
    s->lenient = in->max_errors > 0 || in->rejects_path != NULL;
    if (!s->out_path)
        return 0;
    s->out = fopen(s->out_path, "w");
    if (!s->out) {
        fprintf(stderr, "bvt: %s: %s\n", s->out_path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    fputs("line,field,reason,record\n", s->out);
    return 0;
}

/* A CSV field, quoted when it holds the delimiter, a quote or a line break. */
static void put_field(FILE *f, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != ',' && p[i] != '"' && p[i] != '\n' && p[i] != '\r')
        i++;
    if (i == n) {
        fwrite(p, 1, n, f);
        return;
    }
    fputc('"', f);
    for (i = 0; i < n; i++) {
        if (p[i] == '"')
            fputc('"', f);
        fputc(p[i], f);
    }
    fputc('"', f);
}

static void count(cli_rejects *s, const cli_reject *r)
{
    size_t k = 0;
    while (k < s->nkinds && !(strcmp(s->kinds[k].field, r->field) == 0
                              && strcmp(s->kinds[k].kind, r->kind) == 0))
        k++;
    if (k == s->nkinds) {
        if (k >= CLI_REJECT_KINDS - 1) { /* the last slot counts the rest */
            k = CLI_REJECT_KINDS - 1;
            if (s->nkinds < CLI_REJECT_KINDS) {
                s->kinds[k].field = "";
                s->kinds[k].kind = "other reasons";
                s->kinds[k].n = 0;
                s->nkinds = CLI_REJECT_KINDS;
            }
        } else {
            s->kinds[k].field = r->field;
            s->kinds[k].kind = r->kind;
            s->kinds[k].n = 0;
            s->nkinds++;
        }
    }
    s->kinds[k].n++;
    s->rejected++;
}

int cli_rejects_take(cli_rejects *s, const cli_reject *r, const char *reason)
{
    count(s, r);
    if (!r->fatal && s->rejected <= s->max_errors) {
        if (s->out) {
            fprintf(s->out, "%zu,", r->line);
            put_field(s->out, r->field, strlen(r->field));
            fputc(',', s->out);
            put_field(s->out, reason, strlen(reason));
            fputc(',', s->out);
            put_field(s->out, r->raw ? r->raw : "", r->raw ? r->raw_len : 0);
            fputc('\n', s->out);
        } else {
            cli_input_error(s->path, r->line, "%s", reason);
        }
        return 0;
    }
    cli_input_error(s->path, r->line, "%s", reason);
    s->stopped = 1;
    s->stop_fatal = r->fatal;
    s->stop_line = r->line;
    s->stop_record = r->record;
    return CLI_EXIT_FAIL;
}

int cli_rejects_take_list(cli_rejects *s, const cli_reject_list *l, size_t line_offset,
                          uint64_t record_offset)
{
    for (size_t i = 0; i < l->n; i++) {
        cli_reject r = l->v[i];
        r.line += line_offset;
        r.record += record_offset;
        int rc = cli_rejects_take(s, &r, l->text + l->reason_at[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int cli_rejects_close(cli_rejects *s)
{
    int rc = 0;
    if (s->out) {
        if (ferror(s->out) | (fclose(s->out) != 0)) {
            fprintf(stderr, "bvt: %s: writing the rejected records failed\n", s->out_path);
            rc = CLI_EXIT_FAIL;
        }
        s->out = NULL;
    }
    return rc;
}

void cli_rejects_report(const cli_rejects *s, uint64_t records)
{
    if (!s->lenient && !s->returns_ignored)
        return;
    if (s->stopped && s->stop_fatal)
        fprintf(stderr, "bvt: %s: stopped at line %zu: the file cannot be read past this "
                "error\n", s->path, s->stop_line);
    else if (s->stopped)
        fprintf(stderr, "bvt: %s: stopped at line %zu: more than %llu bad record%s "
                "(--max-errors %llu)\n", s->path, s->stop_line,
                (unsigned long long)s->max_errors, s->max_errors == 1 ? "" : "s",
                (unsigned long long)s->max_errors);
    uint64_t skipped = s->rejected + s->returns_ignored;
    uint64_t accepted = records > skipped ? records - skipped : 0; /* a bad header */
    fprintf(stderr, "bvt: %s: %llu record%s read: %llu accepted, %llu rejected", s->path,
            (unsigned long long)records, records == 1 ? "" : "s",
            (unsigned long long)accepted, (unsigned long long)s->rejected);
    if (s->returns_ignored)
        fprintf(stderr, ", %llu return%s ignored", (unsigned long long)s->returns_ignored,
                s->returns_ignored == 1 ? "" : "s");
    fprintf(stderr, "%s\n", s->stopped ? " (stopped early)" : "");
    for (size_t k = 0; k < s->nkinds; k++)
        fprintf(stderr, "bvt: %s: rejected %llu: %s%s%s\n", s->path,
                (unsigned long long)s->kinds[k].n, s->kinds[k].field,
                s->kinds[k].field[0] ? ": " : "", s->kinds[k].kind);
}
