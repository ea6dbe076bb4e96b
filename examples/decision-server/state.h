/* state.h — opening the engine as the options say (state.c). */
#ifndef DS_STATE_H
#define DS_STATE_H

#include "config.h"
#include "ds.h"

/* In memory, or on cfg->state_dir with cfg->journal: the snapshot and the
 * journal replayed, so every change acknowledged before a crash is back.
 * 0, or -1 with the reason printed. */
int ds_engine_open(bvt_engine **out, const ds_config *cfg, const void *secret,
                   size_t secret_len);

/* With a state directory: a snapshot now, the journal then starts afresh
 * (a failure is printed; the previous snapshot and journal stay valid). */
void ds_engine_checkpoint(bvt_engine *engine, const ds_config *cfg);

#endif
