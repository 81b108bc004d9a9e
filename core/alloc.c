#include "alloc.h"

#include <stdlib.h>
#include <string.h>

/* NULL and a zeroed allocator alike mean the C library. */
static int is_libc(const struct tg_allocator *a)
{
    return a == NULL || a->alloc == NULL;
}

void *tg_alloc_zeroed(const struct tg_allocator *a, size_t size)
{
    if (size == 0)
        return NULL;
    if (is_libc(a))
        return calloc(1, size);
    void *p = a->alloc(a->ctx, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void tg_alloc_free(const struct tg_allocator *a, void *ptr)
{
    if (ptr == NULL)
        return;
    if (is_libc(a))
        free(ptr);
    else
        a->free(a->ctx, ptr);
}
