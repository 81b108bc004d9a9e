/*
 * splits.h: the ways a parser test cuts an input of `len` bytes into the
 * pieces a stream delivers, so it can check that every cutting gives what
 * the whole input gives: byte by byte (at most `cap` pieces), one cut at
 * every `step`-th position, and `rounds` random cuttings (rand()) of pieces
 * of 1 .. `max_piece` bytes, at most `max_cuts` cuts each. For each cutting
 * `try` gets the cut positions in ascending order. `cuts` is the caller's
 * scratch of `cap` entries (cap >= max_cuts).
 */
#ifndef TG_TEST_SPLITS_H
#define TG_TEST_SPLITS_H

#include <stddef.h>
#include <stdlib.h>

static inline void split_plans(size_t len, size_t step, int rounds, size_t max_piece,
                               size_t max_cuts, size_t *cuts, size_t cap,
                               void (*try)(void *ctx, const size_t *cuts, size_t n), void *ctx)
{
    size_t n = len < cap ? len : cap;
    for (size_t i = 0; i < cap; i++) /* all of it: no cutting reads an unset entry */
        cuts[i] = i < n ? i + 1 : len;
    try(ctx, cuts, n); /* byte by byte */
    for (size_t i = 1; i < len; i += step) /* one cut anywhere */
        try(ctx, &i, 1);
    for (int round = 0; round < rounds; round++) { /* random pieces */
        size_t k = 0, at = 0;
        while (k < max_cuts && at < len) {
            at += 1 + (size_t)rand() % max_piece;
            cuts[k++] = at;
        }
        try(ctx, cuts, k);
    }
}

#endif
