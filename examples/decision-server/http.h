/* http.h — starting and stopping the HTTP front (http.c). */
#ifndef DS_HTTP_H
#define DS_HTTP_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ds.h"

struct MHD_Daemon;

/* Listen on bind (an IPv4 or IPv6 address) and port (0 = any free port;
 * the port taken is written to *out_port) with `threads` worker threads;
 * connections idle for timeout_s seconds are closed.  srv must outlive the
 * daemon. */
struct MHD_Daemon *ds_http_start(const ds_server *srv, const struct sockaddr_storage *bind,
                                 uint16_t port, unsigned threads, unsigned timeout_s,
                                 uint16_t *out_port);
void ds_http_stop(struct MHD_Daemon *d);

#endif
