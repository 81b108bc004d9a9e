/*
 * alloc.h: the optional allocator hook.
 *
 * Objects the core creates on the heap (sessions, servers, windows sized at
 * creation) take their memory from a tg_allocator; NULL, or an allocator whose
 * alloc is NULL (a zeroed struct), means the C library's malloc/free. So an
 * object can keep a copy of the allocator it was given, zeroed when it was
 * given none, and pass that copy's address to every call. Nothing on the
 * per-packet path allocates: windows, rings and tables are sized when an
 * object is created. alloc.c is the only core file allowed to reference
 * malloc (the purity test checks this).
 */
#ifndef TG_ALLOC_H
#define TG_ALLOC_H

#include <stddef.h>

struct tg_allocator {
    void *(*alloc)(void *ctx, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *ptr);     /* ptr may be NULL */
    void *ctx;
};

/* Zeroed memory of `size` bytes from `a` (or the C library when a == NULL or
 * a->alloc == NULL); NULL when the allocator fails or size is 0. */
void *tg_alloc_zeroed(const struct tg_allocator *a, size_t size);

/* Give back memory from tg_alloc_zeroed with the same allocator (the C
 * library's free when a == NULL or a->alloc == NULL). NULL ptr is fine. */
void tg_alloc_free(const struct tg_allocator *a, void *ptr);

#endif
