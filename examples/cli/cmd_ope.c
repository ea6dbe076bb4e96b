/* cmd_ope.c — `bvt ope`: off-policy evaluation on Open Bandit Dataset logs.
 *
 * Each of the two logs of a campaign (logged by the uniform random policy
 * and by Bernoulli Thompson sampling) is replayed to estimate the CTR of
 * three policies (random, BTS from the campaign's priors, and the library's
 * own Thompson-sampling ranking trained on the log) with IPS, SNIPS and DR.
 * What is learned from a log (the bvt policy, DR's reward model) is
 * cross-fitted on two folds.  Reading is in obd_read.c, the estimators in
 * ope.c, the policies' action distributions in ope_policy.c; the method is
 * in docs/evaluation.md. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_reader.h"
#include "obd_read.h"
#include "ope.h"
#include "ope_policy.h"

static const char usage[] =
    "usage: bvt ope --data DIR --campaign NAME [--draws N] [--seed S]\n"
    "\n"
    "Off-policy evaluation on Open Bandit Dataset logs.  Reads\n"
    "DIR/random/NAME/NAME.csv and DIR/bts/NAME/NAME.csv (columns item_id, position,\n"
    "click, propensity_score; others ignored) and the campaign's Beta priors in\n"
    "DIR/prior_bts.yaml, and prints log,policy,estimator,ctr,ci_low,ci_high: the CTR\n"
    "of the policies random, bts and bvt (the library's Thompson sampling trained on\n"
    "the log) on each log, by ips, snips and dr, with 95% intervals.\n"
    "  --draws  Monte-Carlo rankings per Thompson-sampling action distribution\n"
    "           (default 20000)\n"
    "  --seed   seed of those rankings (default 20201124)\n";

enum { N_LOGS = 2, N_POLICIES = 3, N_ESTIMATORS = 3 };
static const char *const log_names[N_LOGS] = { "random", "bts" };
static const char *const estimator_names[N_ESTIMATORS] = { "ips", "snips", "dr" };

typedef struct policy_def {
    const char *name;
    ope_policy_fn fn;
    int learned; /* fitted on the log (cross-fitted), else the same for every fold */
} policy_def;

static const policy_def policies[N_POLICIES] = {
    { "random", ope_policy_random, 0 },
    { "bts", ope_policy_bts, 0 },
    { "bvt", ope_policy_bvt, 1 },
};

static void oom(void) { fprintf(stderr, "bvt: out of memory\n"); }

/* A campaign name becomes part of paths: keep it to one plain component. */
static int valid_campaign(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* dir/abc, without doubling a slash that ends dir. */
static char *path_join(const char *dir, const char *a, const char *b, const char *c)
{
    size_t nd = strlen(dir), n = nd + strlen(a) + strlen(b) + strlen(c) + 2;
    const char *sep = nd && dir[nd - 1] == '/' ? "" : "/";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s%s", dir, sep, a, b, c);
    return p;
}

static int load_log(const char *path, uint32_t n_items, obd_log *log)
{
    cli_file f;
    if (cli_file_load(&f, path) < 0)
        return CLI_EXIT_FAIL;
    int rc = obd_log_read(path, f.data, f.len, n_items, log);
    cli_file_free(&f);
    return rc;
}

static int load_prior(const char *path, const char *campaign, obd_prior *prior)
{
    cli_file f;
    if (cli_file_load(&f, path) < 0)
        return CLI_EXIT_FAIL;
    int rc = obd_prior_read(path, f.data, f.len, campaign, prior);
    cli_file_free(&f);
    return rc;
}

/* The estimates of every policy on one log.  pi_fixed[p]: the distribution
 * of a policy that learns nothing (computed once for both logs).
 * out[p][e]. */
static int evaluate_log(const obd_log *log, int log_index, const ope_policy_ctx *base,
                        double *const pi_fixed[N_POLICIES],
                        ope_estimate out[N_POLICIES][N_ESTIMATORS])
{
    uint32_t n = base->n_items;
    size_t cells = (size_t)OBD_POSITIONS * n;
    double *q[OPE_FOLDS], *pi_fold[OPE_FOLDS];
    double *clicks = malloc(n * sizeof *clicks), *imps = malloc(n * sizeof *imps);
    ope_terms t;
    int rc = 0, have_terms = ope_terms_alloc(&t, log->n) == 0;
    for (int f = 0; f < OPE_FOLDS; f++) {
        q[f] = malloc(cells * sizeof *q[f]);
        pi_fold[f] = malloc(cells * sizeof *pi_fold[f]);
        if (!q[f] || !pi_fold[f])
            rc = CLI_EXIT_FAIL;
    }
    if (!clicks || !imps || !have_terms)
        rc = CLI_EXIT_FAIL;
    /* The reward model for the rows of fold f is fitted on the other fold. */
    for (int f = 0; rc == 0 && f < OPE_FOLDS; f++)
        if (ope_reward_fit(log, (f + 1) % OPE_FOLDS, n, q[f]) < 0)
            rc = CLI_EXIT_FAIL;
    if (rc)
        oom();

    for (int p = 0; rc == 0 && p < N_POLICIES; p++) {
        const double *pi[OPE_FOLDS];
        int prc = 0;
        if (policies[p].learned) {
            for (int f = 0; prc == 0 && f < OPE_FOLDS; f++) {
                ope_policy_ctx ctx = *base;
                /* Every fit draws from its own seed. */
                ctx.seed = base->seed + 1 + (uint64_t)(log_index * OPE_FOLDS + f);
                ope_counts(log, (f + 1) % OPE_FOLDS, n, clicks, imps);
                prc = policies[p].fn(&ctx, clicks, imps, pi_fold[f]);
                pi[f] = pi_fold[f];
            }
        } else {
            for (int f = 0; f < OPE_FOLDS; f++)
                pi[f] = pi_fixed[p];
        }
        if (prc) {
            rc = prc;
            break;
        }
        ope_terms_fill(&t, log, n, pi, (const double *const *)q);
        ope_ips(&t, &out[p][0]);
        ope_snips(&t, &out[p][1]);
        ope_dr(&t, &out[p][2]);
    }
    for (int f = 0; f < OPE_FOLDS; f++) {
        free(q[f]);
        free(pi_fold[f]);
    }
    if (have_terms)
        ope_terms_free(&t);
    free(clicks);
    free(imps);
    return rc;
}

static void out_number(cli_out *o, double v)
{
    if (isnan(v)) {
        cli_out_bytes(o, "nan", 3);
        return;
    }
    if (v == 0)
        v = 0; /* no -0 */
    cli_out_printf(o, "%.9g", v);
}

int cmd_ope(int argc, char **argv)
{
    const char *data = NULL, *campaign = NULL, *draws_text = NULL, *seed_text = NULL;
    const cli_opt opts[] = { { "data", &data }, { "campaign", &campaign },
                             { "draws", &draws_text }, { "seed", &seed_text } };
    size_t npos;
    int rc = cli_parse(argc, argv, usage, opts, 4, NULL, 0, &npos);
    if (rc >= 0)
        return rc;
    if (!data)
        return cli_usage_error(usage, "ope needs --data DIR");
    if (!campaign)
        return cli_usage_error(usage, "ope needs --campaign NAME");
    if (!valid_campaign(campaign))
        return cli_usage_error(usage, "--campaign: '%s' is not a plain name (no '/', not '.' "
                               "or '..')", campaign);
    const char *why;
    uint64_t draws = OPE_DEFAULT_DRAWS, seed = OPE_DEFAULT_SEED;
    if (draws_text && (er_parse_uint(draws_text, strlen(draws_text), 100000000, &draws, &why) < 0
                       || draws == 0))
        return cli_usage_error(usage, "--draws: expected a whole number from 1 to 100000000, "
                               "not '%s'", draws_text);
    if (seed_text && er_parse_uint(seed_text, strlen(seed_text), UINT64_MAX, &seed, &why) < 0)
        return cli_usage_error(usage, "--seed: expected a whole number, not '%s'", seed_text);

    char *prior_path = path_join(data, "prior_bts.yaml", "", "");
    char *log_path[N_LOGS];
    for (int l = 0; l < N_LOGS; l++) {
        char *sub = path_join(log_names[l], campaign, "/", campaign);
        log_path[l] = sub ? path_join(data, sub, ".csv", "") : NULL;
        free(sub);
    }
    obd_prior prior;
    obd_log logs[N_LOGS];
    memset(&prior, 0, sizeof prior);
    memset(logs, 0, sizeof logs);
    double *pi_fixed[N_POLICIES] = { NULL, NULL, NULL };
    ope_estimate (*res)[N_POLICIES][N_ESTIMATORS] = calloc(N_LOGS, sizeof *res);

    rc = 0;
    if (!prior_path || !log_path[0] || !log_path[1] || !res) {
        oom();
        rc = CLI_EXIT_FAIL;
    }
    if (rc == 0)
        rc = load_prior(prior_path, campaign, &prior);
    for (int l = 0; rc == 0 && l < N_LOGS; l++)
        rc = load_log(log_path[l], prior.n_items, &logs[l]);

    ope_policy_ctx ctx = { prior.n_items, &prior, (uint32_t)draws, seed };
    size_t cells = (size_t)OBD_POSITIONS * prior.n_items;
    for (int p = 0; rc == 0 && p < N_POLICIES; p++) {
        if (policies[p].learned)
            continue;
        pi_fixed[p] = malloc(cells * sizeof *pi_fixed[p]);
        if (!pi_fixed[p]) {
            oom();
            rc = CLI_EXIT_FAIL;
            break;
        }
        rc = policies[p].fn(&ctx, NULL, NULL, pi_fixed[p]);
    }
    for (int l = 0; rc == 0 && l < N_LOGS; l++)
        rc = evaluate_log(&logs[l], l, &ctx, pi_fixed, res[l]);

    if (rc == 0) {
        cli_out o = { 0 };
        cli_out_printf(&o, "log,policy,estimator,ctr,ci_low,ci_high\n");
        for (int l = 0; l < N_LOGS; l++) {
            for (int p = 0; p < N_POLICIES; p++) {
                for (int e = 0; e < N_ESTIMATORS; e++) {
                    const ope_estimate *r = &res[l][p][e];
                    cli_out_printf(&o, "%s,%s,%s,", log_names[l], policies[p].name,
                                   estimator_names[e]);
                    out_number(&o, r->value);
                    cli_out_bytes(&o, ",", 1);
                    out_number(&o, r->ci_low);
                    cli_out_bytes(&o, ",", 1);
                    out_number(&o, r->ci_high);
                    cli_out_bytes(&o, "\n", 1);
                }
            }
        }
        rc = cli_out_flush(&o);
    }

    for (int p = 0; p < N_POLICIES; p++)
        free(pi_fixed[p]);
    for (int l = 0; l < N_LOGS; l++) {
        obd_log_free(&logs[l]);
        free(log_path[l]);
    }
    obd_prior_free(&prior);
    free(prior_path);
    free(res);
    return rc;
}
