/*
 * Fuzz the Noise handshake readers with network bytes:
 *   1. an NK responder (fixed static key) reads the input as message 1;
 *   2. an NKpsk2 responder does the same and, if that succeeds, sets a psk
 *      and writes message 2;
 *   3. for both patterns, an initiator that has written message 1 with fixed
 *      keys reads the input as message 2 and, if that succeeds, splits.
 * Besides not crashing, every call must keep noise.h's promises: the payload
 * length on success, TG_ERR_TRUNCATED below 48 bytes, and a dead state after
 * any failed read. Keys are fixed so runs repeat; the seed corpus holds valid
 * messages for exactly these keys and prologue.
 */
#include "core/noise.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

enum { MSG_MIN = TG_NOISE_DH_LEN + TG_NOISE_TAG_LEN };

static const uint8_t prologue[] = "fuzz_handshake";
static const uint8_t s_priv[TG_NOISE_DH_LEN] = {
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12};
static const uint8_t e_ini[TG_NOISE_DH_LEN] = {
    0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f,
    0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f};
static const uint8_t e_res[TG_NOISE_DH_LEN] = {
    0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5,
    0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5};
static const uint8_t psk[TG_NOISE_KEY_LEN] = {
    0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32,
    0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32, 0x70, 0x73, 0x6b, 0x32};
static const uint8_t msg1_payload[] = "join?";

static uint8_t payload[TG_NOISE_MAX_MSG + 64];
static uint8_t out[TG_NOISE_MAX_MSG + 64];

/* Initiators of both patterns that have written message 1, built once. */
static struct tg_noise_hs waiting[2];

static void setup(void)
{
    static bool ready;
    uint8_t s_pub[TG_NOISE_DH_LEN];
    size_t n;

    if (ready)
        return;
    REQUIRE(sodium_init() >= 0);
    tg_noise_public_key(s_priv, s_pub);
    for (int p = TG_NOISE_NK; p <= TG_NOISE_NKPSK2; p++) {
        struct tg_noise_hs *hs = &waiting[p];
        REQUIRE(tg_noise_init(hs, (enum tg_noise_pattern)p, TG_NOISE_INITIATOR, prologue,
                              sizeof prologue, NULL, s_pub) == TG_OK);
        tg_noise_set_ephemeral(hs, e_ini);
        REQUIRE(tg_noise_write_message(hs, msg1_payload, sizeof msg1_payload, out, sizeof out,
                                       &n) == TG_OK);
        if (p == TG_NOISE_NKPSK2)
            REQUIRE(tg_noise_set_psk(hs, psk) == TG_OK);
    }
    ready = true;
}

/* hs reads data; checks what noise.h promises about the outcome. */
static bool read_checked(struct tg_noise_hs *hs, const uint8_t *data, size_t size)
{
    size_t n = 0;
    int rc = tg_noise_read_message(hs, data, size, payload, sizeof payload, &n);
    if (size < MSG_MIN)
        REQUIRE(rc == TG_ERR_TRUNCATED);
    if (rc == TG_OK) {
        REQUIRE(n == size - MSG_MIN);
        return true;
    }
    REQUIRE(rc == TG_ERR_TRUNCATED || rc == TG_ERR_INVAL || rc == TG_ERR_DH ||
            rc == TG_ERR_DECRYPT);
    REQUIRE(tg_noise_read_message(hs, data, size, payload, sizeof payload, &n) == TG_ERR_STATE);
    REQUIRE(!tg_noise_complete(hs));
    return false;
}

static void responder(enum tg_noise_pattern pattern, const uint8_t *data, size_t size)
{
    struct tg_noise_hs hs;
    size_t n;

    REQUIRE(tg_noise_init(&hs, pattern, TG_NOISE_RESPONDER, prologue, sizeof prologue, s_priv,
                          NULL) == TG_OK);
    if (read_checked(&hs, data, size) && pattern == TG_NOISE_NKPSK2) {
        size_t len = size - MSG_MIN;
        tg_noise_set_ephemeral(&hs, e_res);
        REQUIRE(tg_noise_write_message(&hs, NULL, 0, out, sizeof out, &n) == TG_ERR_STATE);
        REQUIRE(tg_noise_set_psk(&hs, psk) == TG_OK);
        /* Echo the payload; a message 1 that fits 65535 bytes always fits. */
        REQUIRE(tg_noise_write_message(&hs, payload, len, out, sizeof out, &n) == TG_OK);
        REQUIRE(n == size && tg_noise_complete(&hs));
    }
    tg_noise_clear(&hs);
}

static void initiator(enum tg_noise_pattern pattern, const uint8_t *data, size_t size)
{
    struct tg_noise_hs hs = waiting[pattern];
    struct tg_noise_cipher send, recv;
    uint8_t extra[TG_NOISE_KEY_LEN];

    if (read_checked(&hs, data, size)) {
        REQUIRE(tg_noise_complete(&hs));
        REQUIRE(tg_noise_split(&hs, &send, &recv, extra) == TG_OK);
        tg_noise_cipher_clear(&send);
        tg_noise_cipher_clear(&recv);
    }
    tg_noise_clear(&hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    responder(TG_NOISE_NK, data, size);
    responder(TG_NOISE_NKPSK2, data, size);
    initiator(TG_NOISE_NK, data, size);
    initiator(TG_NOISE_NKPSK2, data, size);
    return 0;
}
