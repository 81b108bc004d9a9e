/*
 * check.h: the assertions of the test programs. A failed CHECK prints
 * file:line and the expression, counts the failure and carries on, so one run
 * shows every broken row of a table; main returns check_exit().
 */
#ifndef TG_TEST_CHECK_H
#define TG_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        check_count++;                                                                       \
        if (!(cond)) {                                                                       \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
        }                                                                                    \
    } while (0)

/* Integer equality, printing both sides. */
#define CHECK_EQ(a, b)                                                                       \
    do {                                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                      \
        check_count++;                                                                       \
        if (check_a_ != check_b_) {                                                          \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", __FILE__,   \
                    __LINE__, #a, #b, check_a_, check_b_);                                   \
        }                                                                                    \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                   \
    do {                                                                                     \
        check_count++;                                                                       \
        if (memcmp((a), (b), (n)) != 0) {                                                    \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: CHECK_MEM failed: %s == %s (%zu bytes)\n", __FILE__,     \
                    __LINE__, #a, #b, (size_t)(n));                                          \
        }                                                                                    \
    } while (0)

static inline int check_exit(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, check_failures, check_count);
        return 1;
    }
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    printf("%s: %d checks passed\n", name, check_count);
    return 0;
}

#endif
