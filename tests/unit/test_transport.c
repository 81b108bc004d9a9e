/* Transport sessions: seal/open over loss, reordering, replay and forgery,
 * starting from a real NK handshake. */
#include "check.h"
#include "core/transport.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static struct tg_transport a, b; /* a = initiator side, b = responder side */

static void handshake_pair(void)
{
    uint8_t s_priv[32], s_pub[32], e1[32], e2[32];
    randombytes_buf(s_priv, sizeof s_priv);
    randombytes_buf(e1, sizeof e1);
    randombytes_buf(e2, sizeof e2);
    tg_noise_public_key(s_priv, s_pub);

    struct tg_noise_hs i, r;
    const uint8_t prologue[] = "triglav test";
    CHECK_EQ(tg_noise_init(&i, TG_NOISE_NK, TG_NOISE_INITIATOR, prologue, sizeof prologue, NULL,
                           s_pub),
             TG_OK);
    CHECK_EQ(tg_noise_init(&r, TG_NOISE_NK, TG_NOISE_RESPONDER, prologue, sizeof prologue,
                           s_priv, NULL),
             TG_OK);
    tg_noise_set_ephemeral(&i, e1);
    tg_noise_set_ephemeral(&r, e2);
    uint8_t msg[128], payload[64];
    size_t n, p;
    CHECK_EQ(tg_noise_write_message(&i, NULL, 0, msg, sizeof msg, &n), TG_OK);
    CHECK_EQ(tg_noise_read_message(&r, msg, n, payload, sizeof payload, &p), TG_OK);
    CHECK_EQ(tg_noise_write_message(&r, NULL, 0, msg, sizeof msg, &n), TG_OK);
    CHECK_EQ(tg_noise_read_message(&i, msg, n, payload, sizeof payload, &p), TG_OK);
    struct tg_noise_cipher is, ir, rs, rr;
    CHECK_EQ(tg_noise_split(&i, &is, &ir, NULL), TG_OK);
    CHECK_EQ(tg_noise_split(&r, &rs, &rr, NULL), TG_OK);
    tg_transport_init(&a, &is, &ir, 111, 222);
    tg_transport_init(&b, &rs, &rr, 222, 111);
    tg_noise_clear(&i);
    tg_noise_clear(&r);
}

/* Seal `len` bytes of pattern `seed` from `from`; returns the datagram length. */
static size_t seal(struct tg_transport *from, uint8_t *pkt, size_t len, uint8_t seed)
{
    for (size_t k = 0; k < len; k++)
        pkt[TG_DATA_HEADER_LEN + k] = (uint8_t)(seed + k);
    size_t out = 0;
    CHECK_EQ(tg_transport_seal(from, pkt, len, 2048, &out), TG_OK);
    return out;
}

static int open_copy(struct tg_transport *to, const uint8_t *dgram, size_t len, size_t *plain)
{
    static uint8_t buf[2048];
    memcpy(buf, dgram, len);
    struct tg_wire_msg m;
    int rc = tg_wire_parse(buf, len, &m);
    if (rc != TG_OK)
        return rc;
    return tg_transport_open(to, &m, buf, plain);
}

static void test_round_trip(void)
{
    static uint8_t pkt[2048];
    size_t n = seal(&a, pkt, 1400, 7);
    CHECK_EQ(n, 1400 + TG_DATA_OVERHEAD);
    struct tg_wire_msg m;
    CHECK_EQ(tg_wire_parse(pkt, n, &m), TG_OK);
    CHECK_EQ(m.receiver_index, 222);
    CHECK_EQ(m.counter, 0);
    size_t plain = 0;
    CHECK_EQ(tg_transport_open(&b, &m, pkt, &plain), TG_OK);
    CHECK_EQ(plain, 1400);
    int ok = 1;
    for (size_t k = 0; k < plain; k++)
        ok &= pkt[TG_DATA_HEADER_LEN + k] == (uint8_t)(7 + k);
    CHECK(ok);
    /* and back, empty payload */
    n = seal(&b, pkt, 0, 0);
    CHECK_EQ(open_copy(&a, pkt, n, &plain), TG_OK);
    CHECK_EQ(plain, 0);
}

/* The seed's implicit nonces broke on the first lost packet: here 1000 packets
 * arrive shuffled with every seventh lost, and every survivor opens. */
static void test_loss_and_reorder(void)
{
    enum { N = 1000, LEN = 200 };
    static uint8_t dgrams[N][LEN + TG_DATA_OVERHEAD];
    size_t order[N];
    for (size_t k = 0; k < N; k++) {
        uint8_t pkt[2048];
        size_t n = seal(&a, pkt, LEN, (uint8_t)k);
        memcpy(dgrams[k], pkt, n);
        order[k] = k;
    }
    for (size_t k = N - 1; k > 0; k--) {
        size_t j = randombytes_uniform((uint32_t)(k + 1));
        size_t t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    int opened = 0;
    for (size_t k = 0; k < N; k++) {
        if (order[k] % 7 == 0)
            continue;
        size_t plain;
        opened += open_copy(&b, dgrams[order[k]], sizeof dgrams[0], &plain) == TG_OK;
    }
    CHECK_EQ(opened, N - (N + 6) / 7);
    /* every delivered one is now a replay; the lost ones still open once */
    size_t plain;
    CHECK_EQ(open_copy(&b, dgrams[1], sizeof dgrams[0], &plain), TG_ERR_REPLAY);
    CHECK_EQ(open_copy(&b, dgrams[7], sizeof dgrams[0], &plain), TG_OK);
    CHECK_EQ(open_copy(&b, dgrams[7], sizeof dgrams[0], &plain), TG_ERR_REPLAY);
}

static void test_forgery(void)
{
    uint8_t pkt[2048], copy[2048];
    size_t n = seal(&a, pkt, 100, 1), plain;
    /* flip each byte of header and body in turn: all refused */
    int refused = 0;
    for (size_t k = 0; k < n; k++) {
        memcpy(copy, pkt, n);
        copy[k] ^= 0x01;
        int rc = open_copy(&b, copy, n, &plain);
        refused += rc != TG_OK; /* decrypt, replay (counter bits), malformed, type */
    }
    CHECK_EQ(refused, (long long)n);
    /* the untouched one still opens: failed forgeries did not move the window */
    CHECK_EQ(open_copy(&b, pkt, n, &plain), TG_OK);

    /* a forged far-future counter must not push the window past real traffic */
    uint64_t next = a.send_counter;
    uint8_t honest[2048];
    size_t hn = seal(&a, honest, 50, 3);
    memcpy(copy, pkt, n);
    tg_put_u64(copy + 8, next + 100000);
    CHECK_EQ(open_copy(&b, copy, n, &plain), TG_ERR_DECRYPT);
    CHECK_EQ(open_copy(&b, honest, hn, &plain), TG_OK);

    /* wrong direction key: a's own packet fed back to a */
    n = seal(&a, pkt, 10, 9);
    CHECK_EQ(open_copy(&a, pkt, n, &plain), TG_ERR_DECRYPT);
}

static void test_limits(void)
{
    uint8_t pkt[2048];
    size_t out = 0;
    CHECK_EQ(tg_transport_seal(&a, pkt, 100, 100 + TG_DATA_OVERHEAD - 1, &out), TG_ERR_NOBUF);
    CHECK_EQ(tg_transport_seal(&a, pkt, 0, TG_DATA_OVERHEAD - 1, &out), TG_ERR_NOBUF);
    a.send_counter = TG_REPLAY_COUNTER_LIMIT - 1;
    CHECK_EQ(tg_transport_seal(&a, pkt, 10, sizeof pkt, &out), TG_OK);
    size_t plain;
    CHECK_EQ(open_copy(&b, pkt, out, &plain), TG_OK);
    CHECK_EQ(tg_transport_seal(&a, pkt, 10, sizeof pkt, &out), TG_ERR_COUNTER_LIMIT);

    struct tg_wire_msg m = {.type = TG_MSG_HS_INIT};
    CHECK_EQ(tg_transport_open(&b, &m, pkt, &plain), TG_ERR_INVAL);

    tg_transport_clear(&a);
    static const uint8_t zero[TG_NOISE_KEY_LEN];
    CHECK_MEM(a.send_key, zero, sizeof zero);
    CHECK_MEM(a.recv_key, zero, sizeof zero);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    handshake_pair();
    test_round_trip();
    test_loss_and_reorder();
    test_forgery();
    test_limits();
    return check_exit("test_transport");
}
