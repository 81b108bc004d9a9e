#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *tg_alloc_zeroed(const struct tg_allocator *a, size_t size)
{
    if (size == 0)
        return NULL;
    if (a == NULL)
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
    if (a == NULL)
        free(ptr);
    else
        a->free(a->ctx, ptr);
}
