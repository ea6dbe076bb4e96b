/* fileio.h — the few file operations snapshots and the journal share:
 * writing everything, making a name durable, mapping a file to read it. */
#ifndef BVT_FILEIO_H
#define BVT_FILEIO_H

#include <stddef.h>

#include "behavtarget.h"

/* write() all n bytes through short writes and EINTR: 0, or -1 with errno. */
int bvt__write_all(int fd, const void *p, size_t n);

/* fsync the directory that holds path, so a create, rename or unlink in
 * it survives a crash.  BVT_OK; BVT_EIO (err names the directory). */
int bvt__fsync_parent(const char *path, bvt_error *err);

/* Replace path with n bytes atomically: written to path.tmp (mode 0600),
 * fsynced, renamed over path, and the directory fsynced.  BVT_OK; BVT_EIO
 * (path unchanged); BVT_ENOMEM. */
int bvt__file_replace(const char *path, const void *p, size_t n, bvt_error *err);

/* Map a whole file read-only (*out NULL for an empty one).  BVT_OK; BVT_EIO. */
int bvt__file_map(const char *path, const void **out, size_t *out_len, bvt_error *err);
void bvt__file_unmap(const void *p, size_t len);

#endif
