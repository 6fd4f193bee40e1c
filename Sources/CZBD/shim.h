#ifndef CZBD_SHIM_H
#define CZBD_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <libzbd/zbd.h>

// errno is a macro over a thread-local; these give Swift a stable way to clear and read it
// around libzbd calls, which mix the -1+errno and -errno conventions.
static inline void czbd_clear_errno(void) { errno = 0; }
static inline int czbd_errno(void) { return errno; }

#endif
