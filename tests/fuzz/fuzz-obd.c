/* fuzz-obd.c — libFuzzer entry point for the inputs of `bvt ope`
 * (examples/cli/obd_read.c).
 *
 * Each input is read as a bandit log (34 items) and as a prior file (for
 * campaign "men").  Besides the sanitizers, the harness checks the readers'
 * promises: every row of a log that was accepted has an item in range, a
 * position 1..3, a click 0/1 and a propensity in (0, 1]; accepted priors
 * have equal-length lists of whole numbers >= 1. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "obd_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The readers report bad lines through the CLI's cli_input_error(); the
 * harness has no use for the text. */
void cli_input_error(const char *path, size_t line, const char *fmt, ...);
void cli_input_error(const char *path, size_t line, const char *fmt, ...)
{
    (void)path;
    (void)line;
    (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    obd_log log;
    if (obd_log_read("fuzz.csv", buf, size, 34, &log) == 0) {
        if (log.n == 0)
            abort();
        uint64_t clicks = 0;
        for (size_t i = 0; i < log.n; i++) {
            const obd_row *r = &log.rows[i];
            if (r->item >= 34 || r->position < 1 || r->position > OBD_POSITIONS || r->click > 1
                || !(r->pscore > 0) || r->pscore > 1 || r->line < 2)
                abort();
            clicks += r->click;
        }
        if (clicks != log.clicks)
            abort();
        obd_log_free(&log);
    }
    obd_prior prior;
    if (obd_prior_read("fuzz.yaml", buf, size, "men", &prior) == 0) {
        if (prior.n_items < OBD_POSITIONS || prior.n_items > OBD_MAX_ITEMS)
            abort();
        for (uint32_t i = 0; i < prior.n_items; i++)
            if (!(prior.alpha[i] >= 1) || !(prior.beta[i] >= 1)
                || prior.alpha[i] != floor(prior.alpha[i]) || prior.beta[i] != floor(prior.beta[i]))
                abort();
        obd_prior_free(&prior);
    }
    return 0;
}
