#ifndef CXXHASH_SHIM_H
#define CXXHASH_SHIM_H
// xxHash (Debian libxxhash-dev, pkg-config libxxhash): the extent and metadata checksums of
// ZoneStore. Only XXH3_64bits (stable since xxHash 0.8.0, the on-disk format depends on it)
// is used; the helper below gives Swift one call with plain pointer types.
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#if defined(__x86_64__) || defined(__i386__)
// Debian's and Ubuntu's libxxhash also export xxHash's x86 dispatcher (xxh_x86dispatch.c):
// the same XXH3 value, computed with AVX2 or AVX-512 when the CPU has them (about 4× the
// SSE2 build's speed on data in cache). Declared weak: a libxxhash built without it leaves
// the symbol null, and the portable XXH3_64bits is used.
extern XXH64_hash_t XXH3_64bits_dispatch(const void *input, size_t length) __attribute__((weak));
#endif

/// XXH3 64-bit hash of `length` bytes at `data`, seed 0.
static inline uint64_t cxxhash_xxh3_64(const void *data, size_t length) {
#if defined(__x86_64__) || defined(__i386__)
    if (XXH3_64bits_dispatch) return (uint64_t)XXH3_64bits_dispatch(data, length);
#endif
    return (uint64_t)XXH3_64bits(data, length);
}

#endif
