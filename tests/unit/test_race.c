/* The client's race over a key's addresses (runtime/race.c, Happy Eyeballs):
 * the order of attempts as a table, starts at deadline and not before, where
 * datagrams go while racing and once won, the late starter's handshake. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "race.h"

static struct tg_key_addr v4(uint8_t last, uint16_t port)
{
    struct tg_key_addr a = {.type = TG_ADDR_IPV4, .addr = {192, 0, 2, last}, .port = port};
    return a;
}

static struct tg_key_addr v6(uint8_t last, uint16_t port)
{
    struct tg_key_addr a = {.type = TG_ADDR_IPV6, .addr = {0x20, 0x01, 0x0d, 0xb8}, .port = port};
    a.addr[15] = last;
    return a;
}

/* Each row: the key's addresses as letters (a-d IPv4 .1-.4, A-D IPv6 ::1-::4),
 * whether IPv6 is usable, and the order of attempts. */
static const struct {
    const char *key;
    int ipv6;
    const char *order;
} rows[] = {
    {"a", 1, "a"},       {"ab", 1, "ab"},
    {"aA", 1, "aA"},     {"Aa", 1, "Aa"},
    {"abAB", 1, "aAbB"}, {"ABab", 1, "AaBb"},
    {"abcA", 1, "aAbc"}, {"AaBCD", 1, "AaBCD"},
    {"aAB", 0, "a"},     {"ABa", 0, "a"},
    {"AB", 0, ""},       {"aa", 1, "a"}, /* an address named twice is tried once */
    {"aAaA", 1, "aA"},   {"", 1, ""},
};

static struct tg_key_addr letter(char ch)
{
    return ch >= 'a' ? v4((uint8_t)(ch - 'a' + 1), 7443) : v6((uint8_t)(ch - 'A' + 1), 7443);
}

static void order_table(void)
{
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct tg_key_addr in[TG_KEY_MAX_ADDRS], out[TG_KEY_MAX_ADDRS];
        size_t n = strlen(rows[r].key);
        for (size_t i = 0; i < n; i++)
            in[i] = letter(rows[r].key[i]);
        size_t k = rt_race_order(in, n, rows[r].ipv6 != 0, out);
        char got[TG_KEY_MAX_ADDRS + 1] = "";
        for (size_t i = 0; i < k; i++)
            got[i] = out[i].type == TG_ADDR_IPV4 ? (char)('a' + out[i].addr[3] - 1)
                                                 : (char)('A' + out[i].addr[15] - 1);
        if (strcmp(got, rows[r].order) != 0)
            fprintf(stderr, "row %zu: key %s: order %s, expected %s\n", r, rows[r].key, got,
                    rows[r].order);
        CHECK(strcmp(got, rows[r].order) == 0);
    }
}

static void timing(void)
{
    struct tg_key key = {.n_addrs = 3};
    key.addrs[0] = v4(1, 7443);
    key.addrs[1] = v4(2, 7443);
    key.addrs[2] = v6(1, 7443);
    struct rt_race *r = calloc(1, sizeof *r);
    const struct tg_key_addr *to[TG_KEY_MAX_ADDRS];
    const tg_time t0 = TG_SEC(10);
    rt_race_init(r, &key, true, 0, t0);
    CHECK_EQ(r->n, 3);
    CHECK_EQ(rt_race_deadline(r), t0 + RT_RACE_DELAY_US);
    /* the first handshake goes to the first address only */
    uint8_t hs[100] = {1, 2, 3};
    CHECK_EQ(rt_race_targets(r, 2, hs, sizeof hs, to), 1);
    CHECK(memcmp(to[0], &key.addrs[0], sizeof *to[0]) == 0);
    /* nothing at deadline - 1, the second (the IPv6 one: families alternate) at deadline */
    CHECK_EQ(rt_race_tick(r, t0 + RT_RACE_DELAY_US - 1), -1);
    CHECK_EQ(rt_race_tick(r, t0 + RT_RACE_DELAY_US), 1);
    CHECK_EQ(r->addr[1].type, TG_ADDR_IPV6);
    CHECK_EQ(rt_race_tick(r, t0 + RT_RACE_DELAY_US), -1); /* one per delay */
    size_t len;
    const uint8_t *last = rt_race_last(r, 2, &len);
    CHECK_EQ(len, sizeof hs);
    CHECK(last != NULL && memcmp(last, hs, sizeof hs) == 0);
    rt_race_last(r, 0, &len);
    CHECK_EQ(len, 0);
    CHECK_EQ(rt_race_targets(r, 2, hs, sizeof hs, to), 2);
    CHECK(!rt_race_knows(r, &key.addrs[1])); /* not started yet */
    CHECK(rt_race_knows(r, &key.addrs[2]));
    CHECK_EQ(rt_race_deadline(r), t0 + 2 * RT_RACE_DELAY_US);
    CHECK_EQ(rt_race_tick(r, t0 + 2 * RT_RACE_DELAY_US), 2);
    CHECK_EQ(rt_race_deadline(r), TG_TIME_NEVER); /* all started */
    /* the third address answers and wins, once */
    struct tg_key_addr port = v4(2, 7444); /* right address, wrong port */
    CHECK(!rt_race_knows(r, &port));
    CHECK(rt_race_won(r, &key.addrs[1]));
    CHECK(!rt_race_won(r, &key.addrs[0]));
    CHECK(memcmp(rt_race_server(r), &key.addrs[1], sizeof key.addrs[1]) == 0);
    CHECK_EQ(rt_race_targets(r, 0, hs, sizeof hs, to), 1);
    CHECK(memcmp(to[0], &key.addrs[1], sizeof *to[0]) == 0);
    CHECK_EQ(rt_race_deadline(r), TG_TIME_NEVER);
    CHECK(!rt_race_knows(r, &key.addrs[0])); /* the losers are no longer heard */
    /* a fresh session races again, the winner first */
    rt_race_restart(r, t0 + TG_SEC(5));
    CHECK(!r->won);
    CHECK(memcmp(&r->addr[0], &key.addrs[1], sizeof key.addrs[1]) == 0);
    CHECK(memcmp(&r->addr[1], &key.addrs[0], sizeof key.addrs[0]) == 0);
    CHECK_EQ(rt_race_deadline(r), t0 + TG_SEC(5) + RT_RACE_DELAY_US);
    /* data is never kept as a handshake */
    static uint8_t big[RT_RACE_DGRAM_MAX + 1];
    CHECK_EQ(rt_race_targets(r, 3, big, sizeof big, to), 1);
    rt_race_last(r, 3, &len);
    CHECK_EQ(len, 0);
    free(r);
}

/* A server that answers from an address the key does not name: that one
 * works, so it wins, ahead of the key's in a later race. */
static void stranger(void)
{
    struct tg_key key = {.n_addrs = 2};
    key.addrs[0] = v4(1, 7443);
    key.addrs[1] = v4(2, 7443);
    struct rt_race r;
    const struct tg_key_addr *to[TG_KEY_MAX_ADDRS];
    rt_race_init(&r, &key, true, 0, 0);
    struct tg_key_addr other = v4(99, 7443);
    CHECK(!rt_race_knows(&r, &other));
    CHECK(rt_race_won(&r, &other));
    CHECK_EQ(r.n, 3);
    CHECK(rt_race_knows(&r, &other));
    CHECK_EQ(rt_race_targets(&r, 0, (const uint8_t *)"x", 1, to), 1);
    CHECK(memcmp(to[0], &other, sizeof other) == 0);
    rt_race_restart(&r, 0);
    CHECK(memcmp(&r.addr[1], &key.addrs[0], sizeof other) == 0);
    CHECK(memcmp(&r.addr[2], &key.addrs[1], sizeof other) == 0);
    /* a full list makes room by dropping its last */
    struct tg_key full = {.n_addrs = TG_KEY_MAX_ADDRS};
    for (size_t i = 0; i < TG_KEY_MAX_ADDRS; i++)
        full.addrs[i] = v4((uint8_t)(i + 1), 7443);
    rt_race_init(&r, &full, true, 0, 0);
    CHECK(rt_race_won(&r, &other));
    CHECK_EQ(r.n, TG_KEY_MAX_ADDRS);
    CHECK(memcmp(&r.addr[0], &other, sizeof other) == 0);
    CHECK(memcmp(&r.addr[1], &full.addrs[0], sizeof other) == 0);
    CHECK(memcmp(&r.addr[TG_KEY_MAX_ADDRS - 1], &full.addrs[TG_KEY_MAX_ADDRS - 2], sizeof other) ==
          0);
}

static void one_address(void)
{
    struct tg_key key = {.n_addrs = 1};
    key.addrs[0] = v6(5, 443);
    struct rt_race r;
    rt_race_init(&r, &key, true, TG_MSEC(100), 0);
    CHECK_EQ(rt_race_deadline(&r), TG_TIME_NEVER);
    CHECK_EQ(rt_race_tick(&r, TG_SEC(100)), -1);
    rt_race_init(&r, &key, false, 0, 0); /* no IPv6 here: nothing to try */
    CHECK_EQ(r.n, 0);
    const struct tg_key_addr *to[TG_KEY_MAX_ADDRS];
    CHECK_EQ(rt_race_targets(&r, 0, (const uint8_t *)"x", 1, to), 0);
}

int main(void)
{
    order_table();
    timing();
    stranger();
    one_address();
    return check_exit("test_race");
}
