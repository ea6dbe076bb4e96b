/* page.c — GET /: the shop page.  A first-time visitor gets the bvt_uid
 * cookie with the page, so the page's first decision, its first pixel and
 * its consent banner all name the same visitor (before, a first visit's
 * /decide had no user and failed). */
#include "ds.h"

void ds_page(const ds_request *req, ds_reply *rep)
{
    ds_fresh_uid fresh;
    if (!ds_visitor(req, NULL, &fresh, rep))
        return;
    ds_reply_static(rep, "text/html; charset=utf-8", ds_page_index, ds_page_index_len);
}
