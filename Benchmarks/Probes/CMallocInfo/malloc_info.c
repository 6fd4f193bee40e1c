#include "CMallocInfo.h"

#include <malloc.h>

size_t cmallocinfo_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int cmallocinfo_use_one_arena(void) {
    return mallopt(M_ARENA_MAX, 1);
}

void cmallocinfo_trim(void) {
    malloc_trim(0);
}
