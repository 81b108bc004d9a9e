/*
 * bench_crypto: nanoseconds per 1400-byte packet for raw libsodium
 * ChaCha20-Poly1305 IETF encrypt/decrypt and for the core's full seal path
 * (header, nonce, associated data, AEAD) and open path (parse, replay check,
 * AEAD, window update), all measured in one run, interleaved round by round,
 * reporting medians over the rounds. The ratio that matters is
 * max(seal / raw encrypt, open / raw decrypt); the target is <= 1.15.
 *
 * Usage: bench_crypto [rounds]   (default 301 rounds of 256 packets)
 */
#define _POSIX_C_SOURCE 200809L
#include "core/transport.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PAYLOAD = 1400, BATCH = 256, SLOT = 1536 };

static uint8_t batch[BATCH][SLOT];

#include "bench.h"

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 301;
    if (rounds < 1 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_crypto [rounds >= 1]\n");
        return 2;
    }
    uint8_t key[32], nonce[12] = {0};
    randombytes_buf(key, sizeof key);
    struct tg_noise_cipher k1 = {.has_key = true}, k2 = {.has_key = true};
    memcpy(k1.k, key, 32);
    memcpy(k2.k, key, 32);
    struct tg_transport tx, rx;

    double *enc = malloc(sizeof(double) * (size_t)rounds * 4);
    double *dec = enc + rounds, *seal = dec + rounds, *open = seal + rounds;
    uint64_t failures = 0;

    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < BATCH; i++)
            randombytes_buf(batch[i] + TG_DATA_HEADER_LEN, PAYLOAD);

        /* raw AEAD, in place, no associated data: the ceiling */
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            uint8_t *m = batch[i] + TG_DATA_HEADER_LEN;
            nonce[4] = (uint8_t)i;
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(m, m + PAYLOAD, NULL, m, PAYLOAD,
                                                               NULL, 0, NULL, nonce, key);
        }
        double t1 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            uint8_t *m = batch[i] + TG_DATA_HEADER_LEN;
            nonce[4] = (uint8_t)i;
            failures += crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                            m, NULL, m, PAYLOAD, m + PAYLOAD, NULL, 0, nonce, key) != 0;
        }
        double t2 = now_ns();

        /* the core: fresh sessions each round so counters repeat the same work */
        struct tg_noise_cipher a = k1, b = k2, c = k2, d = k1;
        tg_transport_init(&tx, &a, &b, 1, 2);
        tg_transport_init(&rx, &c, &d, 2, 1);
        double t3 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            size_t len;
            failures += tg_transport_seal(&tx, batch[i], PAYLOAD, SLOT, &len) != TG_OK;
        }
        double t4 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            struct tg_wire_msg m;
            size_t plain;
            failures += tg_wire_parse(batch[i], PAYLOAD + TG_DATA_OVERHEAD, &m) != TG_OK ||
                        tg_transport_open(&rx, &m, batch[i], &plain) != TG_OK;
        }
        double t5 = now_ns();
        enc[r] = (t1 - t0) / BATCH;
        dec[r] = (t2 - t1) / BATCH;
        seal[r] = (t4 - t3) / BATCH;
        open[r] = (t5 - t4) / BATCH;
    }
    if (failures) {
        fprintf(stderr, "bench_crypto: %llu operations failed\n", (unsigned long long)failures);
        return 1;
    }
    double me = median(enc, rounds), md = median(dec, rounds);
    double ms = median(seal, rounds), mo = median(open, rounds);
    double rs = ms / me, ro = mo / md, ratio = rs > ro ? rs : ro;
    printf("packet_bytes: %d bytes\n", PAYLOAD);
    printf("rounds: %d x %d packets\n", rounds, BATCH);
    printf("raw_encrypt: %.1f ns/packet\n", me);
    printf("raw_decrypt: %.1f ns/packet\n", md);
    printf("seal: %.1f ns/packet\n", ms);
    printf("open: %.1f ns/packet\n", mo);
    printf("seal_ratio: %.3f\n", rs);
    printf("open_ratio: %.3f\n", ro);
    printf("ratio: %.3f (target <= 1.15: %s)\n", ratio, ratio <= 1.15 ? "met" : "NOT met");
    free(enc);
    return 0;
}
