// ThreadSanitizer does not see Swift's Synchronization.Mutex on Linux (Swift 6.3): the lock's
// fast path is inlined into instrumented code, but its contended paths (_lockSlow, _tryLockSlow,
// _unlockSlow) live in libswiftSynchronization.so, which is not instrumented, so a lock taken
// after waiting gives TSan no happens-before edge and every access the Mutex protects can be
// reported as a race (a four-thread counter under Mutex reports one).
//
// tools/sanitize.sh preloads this library in TSan runs: it wraps those three functions and tells
// TSan that taking the lock acquires, and releasing it releases, the Mutex's address (the address
// the inlined fast path's atomics use).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// Weak: the library is preloaded into every process of the run (swift-test itself is not
// instrumented), and only TSan-instrumented processes define these.
__attribute__((weak)) void __tsan_acquire(void *addr);
__attribute__((weak)) void __tsan_release(void *addr);

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFTSELF __attribute__((swift_context))

typedef SWIFTCALL void (*LockSlow)(uint32_t, void *SWIFTSELF);
typedef SWIFTCALL bool (*TryLockSlow)(void *SWIFTSELF);
typedef SWIFTCALL void (*UnlockSlow)(void *SWIFTSELF);

static void *next(const char *name) {
    void *symbol = dlsym(RTLD_NEXT, name);
    if (symbol == NULL) {
        fprintf(stderr, "mutex-annotations: %s not found\n", name);
        abort();
    }
    return symbol;
}

// Synchronization._MutexHandle._lockSlow(_: UInt32)
SWIFTCALL void $s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF(uint32_t owner, void *SWIFTSELF handle) {
    static LockSlow original;
    if (original == NULL) original = (LockSlow)next("$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF");
    original(owner, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

// Synchronization._MutexHandle._tryLockSlow() -> Bool
SWIFTCALL bool $s15Synchronization12_MutexHandleV12_tryLockSlowSbyF(void *SWIFTSELF handle) {
    static TryLockSlow original;
    if (original == NULL) original = (TryLockSlow)next("$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF");
    bool locked = original(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

// Synchronization._MutexHandle._unlockSlow()
SWIFTCALL void $s15Synchronization12_MutexHandleV11_unlockSlowyyF(void *SWIFTSELF handle) {
    static UnlockSlow original;
    if (original == NULL) original = (UnlockSlow)next("$s15Synchronization12_MutexHandleV11_unlockSlowyyF");
    if (__tsan_release) __tsan_release(handle);
    original(handle);
}
