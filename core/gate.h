/*
 * gate.h: what a handshake message must get past before the server spends a
 * Diffie-Hellman on it (internal to the server).
 *
 * In order, cheapest first: mac1 (the sender holds the tg1_ key: one keyed
 * hash); under load, mac2 (the sender proved it receives at its address and
 * port by echoing a cookie, cookie.h); then the rate limit, charged only to
 * such proven sources: hs_per_source_per_s per address and port, so clients
 * behind one carrier NAT do not share a budget, and GATE_ADDR_FACTOR times
 * that per address, so one host cannot multiply its budget by its ports.
 * Nothing is charged and no state is kept for a message that proves
 * nothing; the server is under load when more than hs_load_per_s mac1-valid
 * messages arrived within a second, or its pending table is half full.
 */
#ifndef TG_GATE_H
#define TG_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "rng.h"
#include "time.h"
#include "wire.h"

#define TG_GATE_BUCKETS 4096

struct tg_gate {
    struct tg_mac_keys mac;
    uint8_t hash_key[16];                /* keys rate buckets and tg_gate_hash */
    uint64_t rate_tat[TG_GATE_BUCKETS];  /* GCRA theoretical arrival time per bucket (us) */
    uint8_t cookie_secret[TG_COOKIE_SECRET_LEN];
    tg_time cookie_at;                   /* the secret was drawn then (rotates every 120 s) */
    tg_time load_window;                 /* start of the current one-second window */
    uint32_t load_now, load_prev;        /* mac1-valid messages in it and the one before */
    uint32_t load_per_s, per_source_per_s, burst;
};

enum tg_gate_verdict {
    TG_GATE_PASS,   /* go on to the Diffie-Hellman */
    TG_GATE_MAC,    /* no valid mac1: drop */
    TG_GATE_COOKIE, /* under load without a valid mac2: answer with tg_gate_cookie */
    TG_GATE_RATE,   /* proven source over its rate: drop */
};

void tg_gate_init(struct tg_gate *g, const uint8_t server_public[32], uint32_t load_per_s,
                  uint32_t per_source_per_s, uint32_t burst, const struct tg_rng *rng,
                  tg_time now);
/* Screen a whole HS_INIT/HS_JOIN datagram from `from`. `pending_full`: the
 * server's table of answered handshakes is half full (load by another name). */
enum tg_gate_verdict tg_gate_screen(struct tg_gate *g, const struct tg_key_addr *from,
                                    const uint8_t *dgram, size_t len, bool pending_full,
                                    tg_time now);
/* The HS_COOKIE answer to message `m` from `from`, into out. */
void tg_gate_cookie(struct tg_gate *g, const struct tg_rng *rng, const struct tg_key_addr *from,
                    const struct tg_wire_msg *m, tg_time now, uint8_t out[TG_COOKIE_MSG_LEN]);
/* A keyed 64-bit hash, never 0 (handshake replay memory). */
uint64_t tg_gate_hash(const struct tg_gate *g, const uint8_t *p, size_t len);

#endif
