/*
 * bench_engine: packets per second from the client's TUN input to the
 * server's TUN output in memory (seal, schedule, open, reorder), with 1, 2 and
 * 4 uplinks and 1400-byte packets, beside raw AEAD encrypt + decrypt of the
 * same packets measured in the same run. For each uplink count it prints
 * `ratio` = engine time per packet / (raw encrypt + raw decrypt time per
 * packet); the target for 2 uplinks is <= 1.3 (loss recovery on: every
 * striped packet is kept for resending). Medians over rounds.
 *
 * Usage: bench_engine [rounds]   (default 31 rounds of 20000 packets)
 */
#define _POSIX_C_SOURCE 200809L
#include "harness/harness.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PAYLOAD = 1400, PER_ROUND = 20000 };

#include "bench.h"

/* One round: PER_ROUND packets client TUN -> server TUN, datagrams handed
 * straight across (no delay), virtual time advancing 10 us per packet. */
static double engine_round(struct h_net *n, uint64_t *delivered)
{
    static uint8_t pkt[1600], dgram[2048];
    uint16_t len = h_packet(pkt, n->client_addr, (const uint8_t[]){203, 0, 113, 7}, 0, PAYLOAD);
    double t0 = now_ns();
    for (int i = 0; i < PER_ROUND; i++) {
        n->now += 10;
        tg_client_tun_input(n->client, pkt, len, n->now);
        struct tg_datagram d;
        while (tg_client_next_datagram(n->client, &d)) {
            struct tg_key_addr from = {.type = TG_ADDR_IPV4,
                                       .addr = {192, 0, 2, (uint8_t)(10 + d.uplink)},
                                       .port = (uint16_t)(1000 + d.uplink)};
            memcpy(dgram, d.data, d.len);
            tg_server_udp_input(n->server, 0, &from, dgram, d.len, n->now);
        }
        const uint8_t *p;
        size_t l;
        while (tg_server_next_tun_packet(n->server, &p, &l))
            (*delivered)++;
        if (tg_client_next_deadline(n->client) <= n->now)
            tg_client_on_timeout(n->client, n->now);
        if (tg_server_next_deadline(n->server) <= n->now)
            tg_server_on_timeout(n->server, n->now);
        /* the server's probes and feedback go back to the client */
        while (tg_server_next_datagram(n->server, &d)) {
            memcpy(dgram, d.data, d.len);
            tg_client_udp_input(n->client, d.to.port - 1000u, dgram, d.len, n->now);
        }
    }
    return (now_ns() - t0) / PER_ROUND;
}

static double raw_round(void)
{
    static uint8_t buf[PAYLOAD + 16];
    uint8_t key[32] = {1}, nonce[12] = {0};
    double t0 = now_ns();
    for (int i = 0; i < PER_ROUND; i++) {
        nonce[4] = (uint8_t)i;
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + PAYLOAD, NULL, buf, PAYLOAD,
                                                           NULL, 0, NULL, nonce, key);
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf, PAYLOAD,
                                                               buf + PAYLOAD, NULL, 0, nonce,
                                                               key) != 0)
            abort();
    }
    return (now_ns() - t0) / PER_ROUND;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 31;
    if (rounds < 1 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_engine [rounds >= 1]\n");
        return 2;
    }
    const unsigned counts[] = {1, 2, 4};
    printf("packet_bytes: %d bytes\n", PAYLOAD);
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        struct h_net n;
        const tg_time delays[4] = {0, 0, 0, 0};
        if (h_net_init(&n, counts[c], delays, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL,
                       NULL) != TG_OK ||
            !h_net_connect(&n, TG_SEC(5))) {
            fprintf(stderr, "bench_engine: could not connect %u uplinks\n", counts[c]);
            return 1;
        }
        double *eng = malloc(sizeof(double) * (size_t)rounds * 2), *raw = eng + rounds;
        uint64_t delivered = 0;
        for (int r = 0; r < rounds; r++) { /* interleaved: same machine state for both */
            eng[r] = engine_round(&n, &delivered);
            raw[r] = raw_round();
        }
        double me = median(eng, rounds), mr = median(raw, rounds);
        if (delivered != (uint64_t)rounds * PER_ROUND) {
            fprintf(stderr, "bench_engine: %llu of %llu packets delivered\n",
                    (unsigned long long)delivered, (unsigned long long)rounds * PER_ROUND);
            return 1;
        }
        printf("uplinks %u: engine %.1f ns/packet, %.0f packets/s, raw seal+open %.1f ns/packet, "
               "ratio %.3f%s\n",
               counts[c], me, 1e9 / me, mr, me / mr,
               counts[c] == 2 ? (me / mr <= 1.3 ? " (target <= 1.3: met)" : " (target <= 1.3: NOT met)")
                              : "");
        free(eng);
        h_net_free(&n);
    }
    return 0;
}
