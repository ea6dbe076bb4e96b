/* cli_input.c — the reading options of the command line into a cli_input
 * (cli_input.h), the vocabulary of event types from the library, and times
 * given as options. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "cli_time.h"
#include "event_reader.h"

/* --custom-types and --types-file into in->declared; -1 or an exit status. */
static int declared_types(const cli_input_args *a, cli_input *in, const char *usage)
{
    char why[160];
    if (a->custom_types && cli_types_add_list(&in->declared, a->custom_types,
                                              strlen(a->custom_types), 0, why, sizeof why) < 0)
        return cli_usage_error(usage, "--custom-types: %s", why);
    if (!a->types_file)
        return -1;
    cli_file f;
    if (cli_file_load(&f, a->types_file) < 0)
        return CLI_EXIT_USAGE;
    int bad = cli_types_add_list(&in->declared, f.data, f.len, 1, why, sizeof why) < 0;
    cli_file_free(&f);
    if (bad)
        return cli_usage_error(usage, "--types-file %s: %s", a->types_file, why);
    return -1;
}

static int parse_returns(const char *text, int rfm, int *out, const char *usage)
{
    if (strcmp(text, "reject") == 0)
        *out = CLI_RETURNS_REJECT;
    else if (strcmp(text, "ignore") == 0)
        *out = CLI_RETURNS_IGNORE;
    else if (strcmp(text, "subtract") == 0 && rfm)
        *out = CLI_RETURNS_SUBTRACT;
    else if (strcmp(text, "subtract") == 0)
        return cli_usage_error(usage, "--returns subtract is for bvt rfm: the library keeps "
                               "no negative purchases, so a return cannot be taken off a "
                               "profile; use ignore or reject");
    else
        return cli_usage_error(usage, "--returns must be reject, ignore%s, not '%s'",
                               rfm ? " or subtract" : "", text);
    return -1;
}

int cli_input_parse(const cli_input_args *a, cli_input *in, const char *usage,
                    const char *const *fields, size_t nfields, int rfm)
{
    char why[320];
    const char *static_why;
    memset(in, 0, sizeof *in);
    if (a->time_format && cli_time_format_of(a->time_format, &in->time_format) < 0)
        return cli_usage_error(usage, "--time-format must be %s, not '%s'", CLI_TIME_FORMATS,
                               a->time_format);
    if (a->columns && cli_columns_parse(&in->columns, a->columns, why, sizeof why) < 0)
        return cli_usage_error(usage, "--columns: %s", why);
    if (a->columns && fields &&
        cli_columns_check(&in->columns, fields, nfields, "event files", why, sizeof why) < 0)
        return cli_usage_error(usage, "--columns: %s", why);
    if (a->delimiter && cli_delimiter_of(a->delimiter, &in->delimiter) < 0)
        return cli_usage_error(usage, "--delimiter must be ',', ';', '|' or '\\t', not '%s'",
                               a->delimiter);
    if (a->max_errors && er_parse_uint(a->max_errors, strlen(a->max_errors), UINT64_MAX,
                                       &in->max_errors, &static_why) < 0)
        return cli_usage_error(usage, "--max-errors: expected a whole number >= 0, not '%s'",
                               a->max_errors);
    if (a->rejects && !*a->rejects)
        return cli_usage_error(usage, "--rejects: empty file name");
    in->rejects_path = a->rejects;
    int rc;
    if (a->returns && (rc = parse_returns(a->returns, rfm, &in->returns, usage)) >= 0)
        return rc;
    return declared_types(a, in, usage);
}

const char *cli_input_args_given(const cli_input_args *a)
{
    const struct {
        const char *value, *name;
    } opts[] = {
        { a->time_format, "--time-format" }, { a->columns, "--columns" },
        { a->delimiter, "--delimiter" },     { a->custom_types, "--custom-types" },
        { a->types_file, "--types-file" },   { a->max_errors, "--max-errors" },
        { a->rejects, "--rejects" },         { a->returns, "--returns" },
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].value)
            return opts[i].name;
    return NULL;
}

int cli_input_vocabulary(bvt_engine *e, const cli_input *in, cli_types *vocab)
{
    memset(vocab, 0, sizeof *vocab);
    for (size_t i = 0; in && i < in->declared.n; i++) {
        uint32_t id;
        bvt_error err = BVT_ERROR_INIT;
        const char *name = in->declared.name[i];
        int rc = !e || bvt_event_type_lookup(e, name, &id) == BVT_OK
                     ? BVT_OK
                     : bvt_event_type_register(e, name, 1.0, &id, &err);
        if (rc != BVT_OK) {
            fprintf(stderr, "bvt: custom type '%s': %s\n", name, cli_error_text(&err, rc));
            return CLI_EXIT_FAIL;
        }
        if (!e)
            cli_types_add(vocab, name, in->declared.len[i]);
    }
    for (uint32_t t = 0; t < BVT_EVENT_TYPE_MAX; t++) {
        const char *name = bvt_event_type_name(e, t);
        if (name)
            cli_types_add(vocab, name, strlen(name));
    }
    return 0;
}

int cli_time_option(const char *option, const char *text, int64_t *out, const char *usage)
{
    char why[256];
    const char *kind;
    if (cli_time_read(text, strlen(text), BVT_TIME_AUTO, NULL, out, why, sizeof why, &kind) < 0)
        return cli_usage_error(usage, "%s: %s", option, why);
    return 0;
}
