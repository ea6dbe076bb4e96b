/* fileio.c — file operations shared by snapshots and the journal (fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"

static int io_fail(bvt_error *err, const char *what, const char *path)
{
    return bvt__fail(err, BVT_EIO, -1, "%s %s: %s", what, path, strerror(errno));
}

int bvt__write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0) /* a regular file never does this; do not spin */
            errno = EIO;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

int bvt__fsync_parent(const char *path, bvt_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? BVT_OK : io_fail(err, "fsync of directory", dir);
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int bvt__file_replace(const char *path, const void *p, size_t n, bvt_error *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    int rc = BVT_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = io_fail(err, "cannot create", tmp);
    else if (bvt__write_all(fd, p, n) != 0 || fsync(fd) != 0)
        rc = io_fail(err, "cannot write", tmp);
    if (fd >= 0 && close(fd) != 0 && rc == BVT_OK)
        rc = io_fail(err, "cannot close", tmp);
    if (rc == BVT_OK && rename(tmp, path) != 0)
        rc = io_fail(err, "cannot rename over", path);
    if (rc != BVT_OK)
        unlink(tmp);
    else
        rc = bvt__fsync_parent(path, err);
    free(tmp);
    return rc;
}

int bvt__file_map(const char *path, const void **out, size_t *out_len, bvt_error *err)
{
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, "cannot open", path);
    struct stat st;
    int rc = BVT_OK;
    if (fstat(fd, &st) != 0) {
        rc = io_fail(err, "cannot stat", path);
    } else if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            rc = io_fail(err, "cannot map", path);
        else {
            madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            *out = p;
            *out_len = (size_t)st.st_size;
        }
    }
    close(fd);
    return rc;
}

void bvt__file_unmap(const void *p, size_t len)
{
    if (p && len)
        munmap((void *)p, len);
}
