/* profile_persist.h — one profile in the snapshot encoding (profile_persist.c). */
#ifndef BVT_PROFILE_PERSIST_H
#define BVT_PROFILE_PERSIST_H

#include "codec.h"
#include "profile.h"

struct bvt_name_marks;

/* Append r (the first top_k interest slots) to w, marking in m (when not
 * NULL) the categories and attribute strings it names; runs under r's
 * shard lock. */
void bvt__profile_save(const bvt_record *r, uint32_t top_k, struct bvt_name_marks *m,
                      bvt_wbuf *w);

/* Read one profile from r and add it to e's store (which must not hold the
 * user yet: a duplicate is BVT_ECORRUPT).  BVT_OK; BVT_ECORRUPT (r marked
 * bad; nothing added); BVT_EFULL / BVT_ENOMEM (user limit or budget).
 * For a fresh engine that is not yet shared: takes no lock. */
int bvt__profile_load(bvt_engine *e, bvt_rbuf *r, uint32_t top_k);

#endif
