/* error.c — status texts, error detail and the library version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

const char *bvt_version(void) { return BVT_VERSION_STRING; }

int bvt_version_number(void) { return BVT_VERSION_NUMBER; }

const char *bvt_strerror(int code)
{
    switch (code) {
    case BVT_OK: return "success";
    case BVT_EINVAL: return "invalid argument";
    case BVT_ENOMEM: return "out of memory";
    case BVT_ENOTFOUND: return "not found";
    case BVT_EFULL: return "user table full";
    case BVT_ELIMIT: return "registry limit reached";
    case BVT_EEXIST: return "already exists with another meaning";
    case BVT_ETYPE: return "unknown event type";
    case BVT_ERANGE: return "out of range";
    case BVT_EVERSION: return "unsupported struct version";
    case BVT_EIO: return "input/output error";
    case BVT_ECORRUPT: return "corrupt data";
    case BVT_ESYNTAX: return "syntax error";
    case BVT_ECYCLE: return "segment cycle";
    case BVT_ECONSENT: return "the user has not granted the purpose this needs";
    case BVT_ETRUNCATED: return "the file ends before its data does";
    case BVT_EFORMAT: return "not a libbehavtarget file of the expected kind";
    case BVT_ESECRET: return "the file was written with another user-id secret";
    default: return "unknown error";
    }
}

void bvt_error_init(bvt_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->version = BVT_ERROR_VERSION;
    err->offset = -1;
}

int bvt__fail(bvt_error *err, int code, int64_t offset, const char *fmt, ...)
{
    if (!err)
        return code;
    err->version = BVT_ERROR_VERSION;
    err->code = code;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}
