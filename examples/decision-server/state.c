/* state.c — the engine, in memory or on a state directory with a journal,
 * and the rule that makes a restart lose nothing acknowledged: a request
 * that changed something is answered only once the change is durable. */
#include "state.h"

#include <stdio.h>

int ds_durable(const ds_request *req, ds_reply *rep)
{
    if (!req->srv->durable_acks)
        return 0;
    /* Under BVT_JOURNAL_GROUP this waits for the next group commit (at most
     * group_commit_ms; requests meanwhile share its fsync); under
     * BVT_JOURNAL_ALWAYS the change is durable already and this returns at
     * once. */
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_sync(req->srv->engine, &err);
    if (rc == BVT_OK)
        return 0;
    ds_reply_error(rep, 503, "journal: %s; the change is in memory but not on disk, so it "
                   "is not acknowledged", err.message[0] ? err.message : bvt_strerror(rc));
    return -1;
}

int ds_engine_open(bvt_engine **out, const ds_config *cfg, const void *secret,
                   size_t secret_len)
{
    bvt_options opts = BVT_OPTIONS_INIT;
    opts.secret = secret;
    opts.secret_len = secret_len;
    opts.max_users = cfg->max_users; /* bounded memory */
    opts.full_policy = BVT_FULL_EVICT_LRU;
    bvt_error err = BVT_ERROR_INIT;
    int rc;
    if (cfg->state_dir[0]) {
        bvt_state_options st = BVT_STATE_OPTIONS_INIT;
        st.dir = cfg->state_dir;
        st.journal = cfg->journal;
        st.group_commit_ms = cfg->group_commit_ms;
        rc = bvt_engine_open(out, &opts, &st, &err);
    } else {
        rc = bvt_engine_new(out, &opts, &err);
    }
    if (rc != BVT_OK) {
        fprintf(stderr, "decision-server: %s%s%s\n", cfg->state_dir[0] ? cfg->state_dir : "",
                cfg->state_dir[0] ? ": " : "", err.message[0] ? err.message : bvt_strerror(rc));
        return -1;
    }
    return 0;
}

void ds_engine_checkpoint(bvt_engine *engine, const ds_config *cfg)
{
    if (!cfg->state_dir[0])
        return;
    bvt_error err = BVT_ERROR_INIT;
    int rc = bvt_engine_checkpoint(engine, &err);
    if (rc != BVT_OK) /* the previous snapshot and the journal stay valid */
        fprintf(stderr, "decision-server: checkpoint: %s\n",
                err.message[0] ? err.message : bvt_strerror(rc));
}
