/* Checks a delivery: every sequence number 0..n-1 exactly once. */
#ifndef TG_TEST_ONCE_H
#define TG_TEST_ONCE_H

#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Tallies the sequence numbers 0..n-1 among seqs[0..count): how many came
 * twice or more (*dup) and how many never (*missing, each named on stderr
 * with TG_DEBUG set); returns how many came after a higher one. */
static inline long tally_delivery(const uint64_t *seqs, uint32_t count, uint64_t n, long *dup,
                                  long *missing)
{
    uint8_t *seen = calloc(n, 1);
    long out_of_order = 0;
    *dup = *missing = 0;
    CHECK(seen != NULL);
    if (seen == NULL)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        if (seqs[i] >= n)
            continue;
        *dup += seen[seqs[i]]++ > 0;
        out_of_order += i > 0 && seqs[i] < seqs[i - 1];
    }
    for (uint64_t s = 0; s < n; s++) {
        *missing += !seen[s];
        if (!seen[s] && getenv("TG_DEBUG"))
            fprintf(stderr, "missing %llu\n", (unsigned long long)s);
    }
    free(seen);
    return out_of_order;
}

/* Every sequence number 0..n-1 exactly once; returns how many were out of order. */
static inline long check_exactly_once(const uint64_t *seqs, uint32_t count, uint64_t n)
{
    long dup, missing;
    long out_of_order = tally_delivery(seqs, count, n, &dup, &missing);
    CHECK_EQ(dup, 0);
    CHECK_EQ(missing, 0);
    return out_of_order;
}

#endif
