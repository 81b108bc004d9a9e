/*
 * race.h: which of the key's server addresses the client uses (Happy
 * Eyeballs, RFC 8305). The addresses are tried in the key's order with the
 * families interleaved (the first address's family first, then one of the
 * other, and so on: §4); each attempt starts RT_RACE_DELAY_US after the
 * previous one unless an answer came first (§5). Until then every handshake
 * an uplink sends goes to every address started so far, and an address
 * that starts late gets the handshake each uplink sent last. The first
 * address that answers wins: every uplink sends to it from then on.
 *
 * No sockets and no clock here: the client feeds the time and says who
 * answered; the race says where to send.
 */
#ifndef RT_RACE_H
#define RT_RACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"
#include "core/key.h"
#include "core/time.h"

#define RT_RACE_DELAY_US  TG_MSEC(250) /* RFC 8305's recommended Connection Attempt Delay */
#define RT_RACE_DGRAM_MAX 512          /* a handshake message fits; data never races */

struct rt_race {
    struct tg_key_addr addr[TG_KEY_MAX_ADDRS];       /* in the order they are tried */
    size_t n;                                        /* addresses */
    size_t started;                                  /* addr[0..started) are being tried */
    tg_time next_at;                                 /* the next start (TG_TIME_NEVER: none) */
    tg_time delay_us;                                /* between starts */
    bool won;                                        /* addr[0] answered: only it is used */
    uint8_t last[TG_MAX_UPLINKS][RT_RACE_DGRAM_MAX]; /* each uplink's latest handshake */
    size_t last_len[TG_MAX_UPLINKS];                 /* 0: none */
};

/* Order the n addresses of `in` for the race into out (RFC 8305 §4: the
 * families alternate, starting with the family of in[0], each family in its
 * own order); skip IPv6 ones unless with_ipv6. Returns how many are in out. */
size_t rt_race_order(const struct tg_key_addr *in, size_t n, bool with_ipv6,
                     struct tg_key_addr *out);

/* Start a race over the key's addresses at `now`: the first starts at once.
 * delay_us 0 means RT_RACE_DELAY_US. r->n is 0 when no address is usable. */
void rt_race_init(struct rt_race *r, const struct tg_key *key, bool with_ipv6, tg_time delay_us,
                  tg_time now);

/* Race again (a fresh session): the winner, if any, is tried first. */
void rt_race_restart(struct rt_race *r, tg_time now);

/* When the next address starts (TG_TIME_NEVER once won or all started). */
tg_time rt_race_deadline(const struct rt_race *r);

/* Start the next address if it is due. Returns its index (send it every
 * uplink's last handshake: rt_race_last), or -1 when none started. */
int rt_race_tick(struct rt_race *r, tg_time now);

/* Where a datagram of `uplink` goes now: fills to[] with the addresses to
 * send it to and returns how many (1 once won). While racing, a datagram of
 * at most RT_RACE_DGRAM_MAX bytes is kept as the uplink's last handshake. */
size_t rt_race_targets(struct rt_race *r, unsigned uplink, const uint8_t *data, size_t len,
                       const struct tg_key_addr **to);

/* Is `from` one of the addresses being tried (or the winner)? */
bool rt_race_knows(const struct rt_race *r, const struct tg_key_addr *from);

/* The server answered from `from` (a datagram from there completed a
 * handshake): it wins, also when the key does not name it (a server that
 * answers from another of its addresses: that one demonstrably works).
 * Returns false, changing nothing, when the race was won already. */
bool rt_race_won(struct rt_race *r, const struct tg_key_addr *from);

/* The address to show and to send to once won (addr[0]). */
const struct tg_key_addr *rt_race_server(const struct rt_race *r);

/* Uplink u's last handshake (len 0: none). */
const uint8_t *rt_race_last(const struct rt_race *r, unsigned u, size_t *len);

#endif
