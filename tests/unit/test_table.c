/* The hash table against a naive oracle (a flat array) over a long random
 * sequence of puts, finds and deletes with heavy churn, plus the edge rows:
 * key 0, a full table, deleting what is absent. */
#include "check.h"
#include "testrng.h"
#include "core/table.h"

#include <stdint.h>
#include <stdlib.h>

#define KEYS 512

static void test_edges(void)
{
    struct tg_table t;
    CHECK_EQ(tg_table_init(&t, 0, NULL), TG_ERR_INVAL);
    CHECK_EQ(tg_table_init(&t, 4, NULL), TG_OK);
    CHECK_EQ(tg_table_put(&t, 0, 1), TG_ERR_INVAL);
    CHECK(tg_table_find(&t, 0) == NULL);
    CHECK(!tg_table_del(&t, 7));
    uint32_t cap = t.mask + 1, k;
    for (k = 1; k <= cap / 2; k++)
        CHECK_EQ(tg_table_put(&t, k, k * 10), TG_OK);
    CHECK_EQ(tg_table_put(&t, k, 1), TG_ERR_NOBUF); /* half load is the limit */
    CHECK_EQ(tg_table_put(&t, 3, 33), TG_OK);       /* replacing still works */
    CHECK(*tg_table_find(&t, 3) == 33);
    CHECK(tg_table_del(&t, 3));
    CHECK(!tg_table_del(&t, 3));
    CHECK_EQ(tg_table_put(&t, k, 1), TG_OK);
    tg_table_clear(&t, NULL);
}

static void test_oracle(void)
{
    struct tg_table t;
    CHECK_EQ(tg_table_init(&t, KEYS, NULL), TG_OK);
    uint64_t key[KEYS] = {0}, val[KEYS] = {0}; /* the oracle: slot i holds key[i] or 0 */
    rng_state = 42;
    long mismatches = 0;
    for (long step = 0; step < 2000000; step++) {
        unsigned i = (unsigned)(rnd() % KEYS);
        unsigned op = (unsigned)(rnd() % 3);
        if (op == 0 && key[i] == 0) {
            /* few distinct high bits: keys that collide on purpose */
            key[i] = (rnd() & 0xffff) << 20 | (uint64_t)(i + 1);
            val[i] = rnd();
            mismatches += tg_table_put(&t, key[i], val[i]) != TG_OK;
        } else if (op == 1 && key[i] != 0) {
            mismatches += !tg_table_del(&t, key[i]);
            key[i] = 0;
        } else if (key[i] != 0) {
            const uint64_t *v = tg_table_find(&t, key[i]);
            mismatches += v == NULL || *v != val[i];
        }
    }
    uint32_t held = 0;
    for (unsigned i = 0; i < KEYS; i++) {
        held += key[i] != 0;
        if (key[i] != 0) {
            const uint64_t *v = tg_table_find(&t, key[i]);
            mismatches += v == NULL || *v != val[i];
        }
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(t.count, held);
    /* no tombstones: after the churn, every probe run is as short as at the
     * start, so a lookup of an absent key stops at the first empty slot */
    uint32_t longest = 0, run = 0;
    for (uint32_t s = 0; s <= 2 * t.mask + 1; s++) {
        run = t.e[s & t.mask].key != 0 ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    CHECK(longest < 64);
    tg_table_clear(&t, NULL);
}

int main(void)
{
    test_edges();
    test_oracle();
    return check_exit("test_table");
}
