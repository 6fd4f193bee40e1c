#ifndef CXXHASH_SHIM_H
#define CXXHASH_SHIM_H
// xxHash (Debian libxxhash-dev, pkg-config libxxhash): the extent and metadata checksums of
// ZoneStore. Only XXH3_64bits (stable since xxHash 0.8.0, the on-disk format depends on it)
// is used; the helper below gives Swift one call with plain pointer types.
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

/// XXH3 64-bit hash of `length` bytes at `data`, seed 0.
static inline uint64_t cxxhash_xxh3_64(const void *data, size_t length) {
    return (uint64_t)XXH3_64bits(data, length);
}

#endif
