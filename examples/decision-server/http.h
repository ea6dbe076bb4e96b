/* http.h — starting and stopping the HTTP front (http.c). */
#ifndef DS_HTTP_H
#define DS_HTTP_H

#include <netinet/in.h>
#include <stdint.h>

#include "ds.h"

struct MHD_Daemon;

/* Listen on 127.0.0.1:port (0 = any free port, written to *out_port);
 * connections idle for timeout_s seconds are closed. */
struct MHD_Daemon *ds_http_start(bvt_engine *engine, uint16_t port, unsigned timeout_s,
                                 uint16_t *out_port);
void ds_http_stop(struct MHD_Daemon *d);

#endif
