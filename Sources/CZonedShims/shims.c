#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include "CZonedShims.h"

int czoned_o_direct(void) { return O_DIRECT; }

int czoned_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}

int czoned_errno(void) { return errno; }
