/* jsoncheck.h — is this text one JSON value?  (jsoncheck.c) */
#ifndef BVT_JSONCHECK_H
#define BVT_JSONCHECK_H

/* 1 when s is one JSON value (RFC 8259 grammar, UTF-8, nesting up to 32),
 * else 0. */
int is_json(const char *s);

#endif
