/* A stand-in for the core that keeps state of its own: the purity_statics
 * test runs purity.sh on it and expects exactly its three writable objects
 * refused, and the const table of pointers (in .data.rel.ro under PIE, where
 * nm calls it 'D' like writable data) left alone. */
#include <string.h>

extern const char *const purity_fixture_names[3];
const char *const purity_fixture_names[3] = {"alpha", "beta", "gamma"}; /* const: allowed */
int purity_fixture_counter = 1;                                         /* .data */

size_t purity_fixture_step(const char *s);
size_t purity_fixture_step(const char *s)
{
    static size_t last;                /* .bss */
    static _Thread_local size_t depth; /* .tbss */
    size_t prev = last;
    last = strlen(s); /* an undefined symbol, as every real core object has */
    depth++;
    return prev + depth + (size_t)purity_fixture_counter;
}
