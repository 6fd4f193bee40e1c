// glibc's heap counters for the memory probe (MemoryFootprintProbe). Swift's Glibc module does
// not export mallinfo2 (glibc 2.33+), so it is wrapped here.
#ifndef CMALLOCINFO_H
#define CMALLOCINFO_H

#include <stddef.h>

/// Bytes in use on the heap now: allocated chunks of the arenas (`uordblks`) plus memory
/// allocated with mmap (`hblkhd`), glibc's `mallinfo2()`. With one arena (see
/// cmallocinfo_use_one_arena) this counts every thread's allocations.
size_t cmallocinfo_heap_in_use(void);

/// Makes every thread allocate from the main arena (`mallopt(M_ARENA_MAX, 1)`), so that
/// cmallocinfo_heap_in_use sees allocations made on other threads too. Call it first.
/// Returns 1 on success.
int cmallocinfo_use_one_arena(void);

/// Returns free memory at the top of the heap to the system (`malloc_trim(0)`).
void cmallocinfo_trim(void);

#endif
