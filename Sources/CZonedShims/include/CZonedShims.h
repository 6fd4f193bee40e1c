#ifndef CZONEDSHIMS_H
#define CZONEDSHIMS_H

#include <stdint.h>

/// O_DIRECT, which Swift's Glibc module does not export (it needs _GNU_SOURCE).
int czoned_o_direct(void);

/// Deallocates [offset, offset+length) of a regular file, keeping its size
/// (fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)). Returns 0 or -1 with errno set.
int czoned_punch_hole(int fd, int64_t offset, int64_t length);

/// The current thread's errno.
int czoned_errno(void);

#endif
