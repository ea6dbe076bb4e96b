/* cli_source.c — the events of an analysis command: a file tracked into a
 * fresh engine, or a state directory opened read-only (cli.h). */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int cli_source_check(const cli_source *src, const cli_input_args *ia, const char *file_opt,
                     const char *usage, const char *cmd)
{
    const char *given = src->state ? cli_input_args_given(ia) : NULL;
    if (src->events && src->state)
        return cli_usage_error(usage, "%s takes %s or --state DIR, not both", cmd, file_opt);
    if (!src->events && !src->state)
        return cli_usage_error(usage, "%s needs %s or --state DIR", cmd, file_opt);
    if (src->state && !*src->state)
        return cli_usage_error(usage, "--state: empty directory name");
    if (given)
        return cli_usage_error(usage, "%s with --state: the reading options are for %s; DIR "
                               "holds events read when they were tracked (and the types "
                               "they name)", given, file_opt);
    return -1;
}

int cli_source_engine(cli_source *src, const bvt_options *opts, bvt_engine **out)
{
    *out = NULL;
    if (src->state) {
        /* Read-only: the last checkpoint plus the journal, in memory; what
         * the command then changes (an RFM refresh, segments it defines)
         * stays in memory, so DIR is never written. */
        cli_state cs = { src->state, src->secret_file, NULL, BVT_STATE_READ_ONLY,
                         BVT_JOURNAL_OFF, 0, 0 };
        return cli_state_open(out, &cs);
    }
    if (cli_file_load(&src->file, src->events) < 0)
        return CLI_EXIT_FAIL;
    return cli_engine_new(out, opts, src->secret_file);
}

int cli_source_track(cli_source *src, bvt_engine *e)
{
    if (src->state) {
        idmap_init(&src->load.watch_items); /* no item ids in a state */
        return 0;
    }
    return cli_load_events(e, src->events, src->file.data, src->file.len, &src->load);
}

static int latest_seen(const bvt_user_key *key, const bvt_profile *p, void *ud)
{
    (void)key;
    int64_t *last = ud;
    if (p->last_seen_ms > *last)
        *last = p->last_seen_ms;
    return 0;
}

int cli_source_last_ms(cli_source *src, bvt_engine *e, int64_t *out)
{
    *out = 0;
    if (!src->state) {
        *out = src->load.last_ms;
        return 0;
    }
    /* any `now` will do: only the stored last_seen_ms is read */
    int rc = bvt_engine_foreach_user(e, 1, latest_seen, out);
    if (rc == BVT_OK)
        return 0;
    fprintf(stderr, "bvt: %s: reading the latest event time: %s\n", src->state, bvt_strerror(rc));
    return CLI_EXIT_FAIL;
}

const char *cli_source_name(const cli_source *src)
{
    return src->state ? src->state : src->events;
}

void cli_source_free(cli_source *src)
{
    idmap_free(&src->load.watch_items);
    cli_file_free(&src->file);
}

void cli_key_hex(const bvt_user_key *k, char out[CLI_KEY_HEX])
{
    snprintf(out, CLI_KEY_HEX, "%016" PRIx64 "%016" PRIx64, k->hi, k->lo);
}
