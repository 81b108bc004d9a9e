/* Checks a delivery: every sequence number 0..n-1 exactly once. */
#ifndef TG_TEST_ONCE_H
#define TG_TEST_ONCE_H

#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Every sequence number 0..n-1 exactly once; returns how many were out of order. */
static inline long check_exactly_once(const uint64_t *seqs, uint32_t count, uint64_t n)
{
    uint8_t *seen = calloc(n, 1);
    long dup = 0, missing = 0, out_of_order = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (seqs[i] >= n)
            continue;
        dup += seen[seqs[i]]++ > 0;
        out_of_order += i > 0 && seqs[i] < seqs[i - 1];
    }
    for (uint64_t s = 0; s < n; s++) {
        missing += !seen[s];
        if (!seen[s] && getenv("TG_DEBUG"))
            fprintf(stderr, "missing %llu\n", (unsigned long long)s);
    }
    free(seen);
    CHECK_EQ(dup, 0);
    CHECK_EQ(missing, 0);
    return out_of_order;
}

#endif
