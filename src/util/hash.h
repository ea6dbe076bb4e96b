/* hash.h — XXH3, compiled inline into the library so no XXH* symbol leaks. */
#ifndef BVT_HASH_H
#define BVT_HASH_H

#define XXH_INLINE_ALL
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#endif
