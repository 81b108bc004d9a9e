/* Happy Eyeballs over the key's addresses (race.h). The addresses started
 * so far are a prefix of addr[]; the winner is moved to addr[0] so "won"
 * means "send to addr[0] only". */
#include <string.h>

#include "race.h"

static bool same(const struct tg_key_addr *a, const struct tg_key_addr *b)
{
    return a->type == b->type && a->port == b->port &&
           memcmp(a->addr, b->addr, a->type == TG_ADDR_IPV6 ? 16 : 4) == 0;
}

size_t rt_race_order(const struct tg_key_addr *in, size_t n, bool with_ipv6,
                     struct tg_key_addr *out)
{
    size_t k = 0, next[3] = {0, 0, 0}; /* per family: where its next address is searched */
    if (n == 0)
        return 0;
    uint8_t fam = in[0].type;
    if (fam == TG_ADDR_IPV6 && !with_ipv6)
        fam = TG_ADDR_IPV4;
    for (;;) {
        bool took = false;
        for (int turn = 0; turn < 2; turn++) {
            uint8_t f = turn == 0 ? fam : (fam == TG_ADDR_IPV4 ? TG_ADDR_IPV6 : TG_ADDR_IPV4);
            if (f == TG_ADDR_IPV6 && !with_ipv6)
                continue;
            size_t *at = &next[f];
            while (*at < n && in[*at].type != f)
                (*at)++;
            if (*at < n) {
                bool dup = false; /* a key may name an address twice: try it once */
                for (size_t j = 0; j < k && !dup; j++)
                    dup = same(&out[j], &in[*at]);
                if (!dup)
                    out[k++] = in[*at];
                (*at)++;
                took = true;
            }
        }
        if (!took)
            return k;
    }
}

void rt_race_init(struct rt_race *r, const struct tg_key *key, bool with_ipv6, tg_time delay_us,
                  tg_time now)
{
    memset(r, 0, sizeof *r);
    r->n = rt_race_order(key->addrs, key->n_addrs, with_ipv6, r->addr);
    r->delay_us = delay_us != 0 ? delay_us : RT_RACE_DELAY_US;
    r->started = r->n > 0 ? 1 : 0;
    r->next_at = r->n > 1 ? tg_time_add(now, r->delay_us) : TG_TIME_NEVER;
}

void rt_race_restart(struct rt_race *r, tg_time now)
{
    r->won = false;
    r->started = r->n > 0 ? 1 : 0;
    r->next_at = r->n > 1 ? tg_time_add(now, r->delay_us) : TG_TIME_NEVER;
    memset(r->last_len, 0, sizeof r->last_len);
}

tg_time rt_race_deadline(const struct rt_race *r)
{
    return r->won ? TG_TIME_NEVER : r->next_at;
}

int rt_race_tick(struct rt_race *r, tg_time now)
{
    if (r->won || r->started >= r->n || now < r->next_at)
        return -1;
    int i = (int)r->started++;
    r->next_at = r->started < r->n ? tg_time_add(now, r->delay_us) : TG_TIME_NEVER;
    return i;
}

size_t rt_race_targets(struct rt_race *r, unsigned uplink, const uint8_t *data, size_t len,
                       const struct tg_key_addr **to)
{
    if (r->won) {
        to[0] = &r->addr[0];
        return 1;
    }
    if (uplink < TG_MAX_UPLINKS && len <= RT_RACE_DGRAM_MAX) {
        memcpy(r->last[uplink], data, len);
        r->last_len[uplink] = len;
    }
    for (size_t i = 0; i < r->started; i++)
        to[i] = &r->addr[i];
    return r->started;
}

bool rt_race_knows(const struct rt_race *r, const struct tg_key_addr *from)
{
    size_t n = r->won ? 1 : r->started;
    for (size_t i = 0; i < n; i++)
        if (same(&r->addr[i], from))
            return true;
    return false;
}

bool rt_race_won(struct rt_race *r, const struct tg_key_addr *from)
{
    if (r->won)
        return false;
    size_t i = 0;
    while (i < r->n && !same(&r->addr[i], from))
        i++;
    if (i == r->n && r->n == TG_KEY_MAX_ADDRS)
        i--; /* a stranger: the last attempt makes room */
    else if (i == r->n)
        r->n++;
    /* the others keep their order behind it, for a later race */
    memmove(&r->addr[1], &r->addr[0], i * sizeof r->addr[0]);
    r->addr[0] = *from;
    r->won = true;
    r->next_at = TG_TIME_NEVER;
    memset(r->last_len, 0, sizeof r->last_len);
    return true;
}

const struct tg_key_addr *rt_race_server(const struct rt_race *r)
{
    return &r->addr[0];
}

const uint8_t *rt_race_last(const struct rt_race *r, unsigned u, size_t *len)
{
    *len = u < TG_MAX_UPLINKS ? r->last_len[u] : 0;
    return u < TG_MAX_UPLINKS ? r->last[u] : NULL;
}
