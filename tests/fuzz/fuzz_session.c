/* Fuzz both endpoints BEHIND authentication. For each input the harness
 * completes two real handshakes in memory: it plays a client against a real
 * server core (NK initiator with the MACs, then its first transport message,
 * so the server creates a session), and a server against a real client core
 * (NK responder; its SESSION frame makes the client's session). It then holds
 * the transport keys of both sides and reads the input as operations:
 *
 *   0 L bytes   seal `bytes` as a plaintext (frames: DATA, PING, FEEDBACK,
 *               NACK, SESSION, CLOSE ...) and give it to the server
 *   1 L bytes   the same to the client
 *   2 L bytes   a raw datagram to the server
 *   3 L bytes   a raw datagram to the client
 *   4 L bytes   a TUN packet to the server (its length may exceed max_packet)
 *   5 L bytes   a TUN packet to the client
 *   6 t         advance time by t ms and run both endpoints' timeouts
 *   7 u         uplink u (0..3) of the client down, then up again
 *
 * (L is a 16-bit length, capped by what is left.) After every operation all
 * outputs are drained; datagrams between the real client and server go
 * through, so what the fuzzer provokes on one side reaches the other.
 * Nothing may crash or trip the sanitizers, and every datagram and packet the
 * cores hand out must fit its queue slot. */
#include "core/cookie.h"
#include "core/endpoint.h"
#include "core/hello.h"
#include "core/noise.h"
#include "core/transport.h"
#include "core/wire.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void det_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}

struct world {
    struct tg_server *server; /* real, facing our fake client */
    struct tg_client *client; /* real, facing our fake server */
    struct tg_transport to_server, to_client; /* our keys towards each */
    tg_time now;
    uint64_t seeds[4];
    uint8_t buf[TG_MAX_DATAGRAM];
};

static const struct tg_key_addr peer = {.type = TG_ADDR_IPV4, .addr = {192, 0, 2, 10},
                                        .port = 1000};

/* Drain everything; datagrams from the server to our fake client and from
 * the client to our fake server go nowhere (we speak for those ends). */
static void drain(struct world *w)
{
    struct tg_datagram d;
    const uint8_t *p;
    size_t len;
    struct tg_event ev;
    while (tg_server_next_datagram(w->server, &d))
        if (d.len > TG_MAX_DATAGRAM)
            __builtin_trap();
    while (tg_server_next_tun_packet(w->server, &p, &len))
        if (len > 1500)
            __builtin_trap();
    while (tg_server_next_event(w->server, &ev)) {
    }
    while (tg_client_next_datagram(w->client, &d))
        if (d.len > TG_MAX_DATAGRAM)
            __builtin_trap();
    while (tg_client_next_tun_packet(w->client, &p, &len))
        if (len > 1500)
            __builtin_trap();
    while (tg_client_next_event(w->client, &ev)) {
    }
}

/* Seal `plain` under `t` and return the datagram's length in w->buf. */
static size_t seal(struct world *w, struct tg_transport *t, const uint8_t *plain, size_t len)
{
    if (len > sizeof w->buf - TG_DATA_OVERHEAD)
        len = sizeof w->buf - TG_DATA_OVERHEAD;
    memcpy(w->buf + TG_DATA_HEADER_LEN, plain, len);
    size_t out;
    if (tg_transport_seal(t, w->buf, len, sizeof w->buf, &out) != TG_OK)
        return 0;
    return out;
}

/* Play an NK initiator against the real server, then send the first
 * transport message (a PING) so the server makes the session. */
static bool connect_server(struct world *w, const uint8_t server_public[32])
{
    struct tg_noise_hs hs;
    uint8_t e[32], hello[TG_HELLO_INIT_LEN] = {TG_PROTOCOL_VERSION, 0};
    det_fill(&w->seeds[2], e, sizeof e);
    if (tg_noise_init(&hs, TG_NOISE_NK, TG_NOISE_INITIATOR, (const uint8_t *)TG_PROLOGUE,
                      sizeof TG_PROLOGUE - 1, NULL, server_public) != TG_OK)
        return false;
    tg_noise_set_ephemeral(&hs, e);
    size_t n;
    if (tg_noise_write_message(&hs, hello, sizeof hello, w->buf + TG_HS_INIT_HEADER_LEN, 200,
                               &n) != TG_OK)
        return false;
    tg_wire_put_hs_init_header(w->buf, TG_MSG_HS_INIT, 7);
    size_t len = TG_HS_INIT_HEADER_LEN + n + TG_MACS_LEN;
    struct tg_mac_keys k;
    tg_mac_keys_init(&k, server_public);
    tg_mac1_put(&k, w->buf, len);
    tg_mac2_put(NULL, w->buf, len);
    tg_server_udp_input(w->server, 0, &peer, w->buf, len, w->now);
    struct tg_datagram d;
    bool ok = false;
    while (tg_server_next_datagram(w->server, &d)) {
        struct tg_wire_msg m;
        uint8_t copy[256], reply[TG_HELLO_MAX];
        if (ok || d.len > sizeof copy)
            continue;
        memcpy(copy, d.data, d.len);
        if (tg_wire_parse(copy, d.len, &m) != TG_OK || m.type != TG_MSG_HS_RESP ||
            tg_noise_read_message(&hs, m.body, m.body_len, reply, sizeof reply, &n) != TG_OK)
            continue;
        struct tg_noise_cipher send, recv;
        uint8_t extra[32];
        if (tg_noise_split(&hs, &send, &recv, extra) != TG_OK)
            continue;
        tg_transport_init(&w->to_server, &send, &recv, 7, m.sender_index);
        ok = true;
    }
    tg_noise_clear(&hs);
    if (!ok)
        return false;
    uint8_t ping[TG_FRAME_PING_LEN];
    size_t off = 0;
    if (tg_frame_put_ping(ping, sizeof ping, &off, TG_FRAME_PING, 1, w->now) != TG_OK)
        return false;
    len = seal(w, &w->to_server, ping, off);
    tg_server_udp_input(w->server, 0, &peer, w->buf, len, w->now);
    drain(w);
    return tg_server_session_count(w->server) == 1;
}

/* Play an NK responder against the real client, then send it a SESSION
 * frame so its session is up. */
static bool connect_client(struct world *w, const uint8_t priv[32])
{
    if (tg_client_uplink_up(w->client, 0, w->now) != TG_OK)
        return false;
    struct tg_datagram d;
    bool ok = false;
    while (tg_client_next_datagram(w->client, &d)) {
        struct tg_wire_msg m;
        uint8_t copy[256], hello[TG_HELLO_MAX], resp[256];
        size_t n;
        if (ok || d.len > sizeof copy)
            continue;
        memcpy(copy, d.data, d.len);
        struct tg_noise_hs hs;
        uint8_t e[32];
        det_fill(&w->seeds[3], e, sizeof e);
        if (tg_wire_parse(copy, d.len, &m) != TG_OK || m.type != TG_MSG_HS_INIT ||
            tg_noise_init(&hs, TG_NOISE_NK, TG_NOISE_RESPONDER, (const uint8_t *)TG_PROLOGUE,
                          sizeof TG_PROLOGUE - 1, priv, NULL) != TG_OK)
            continue;
        tg_noise_set_ephemeral(&hs, e);
        const uint8_t reply[TG_HELLO_RESP_LEN] = {TG_PROTOCOL_VERSION, 0};
        struct tg_noise_cipher send, recv;
        uint8_t extra[32];
        if (tg_noise_read_message(&hs, m.body, m.body_len, hello, sizeof hello, &n) == TG_OK &&
            tg_noise_write_message(&hs, reply, sizeof reply, resp + TG_HS_RESP_HEADER_LEN,
                                   sizeof resp - TG_HS_RESP_HEADER_LEN, &n) == TG_OK &&
            tg_noise_split(&hs, &send, &recv, extra) == TG_OK) {
            tg_wire_put_hs_resp_header(resp, m.sender_index, 9);
            tg_transport_init(&w->to_client, &send, &recv, 9, m.sender_index);
            ok = true;
            tg_client_udp_input(w->client, 0, resp, TG_HS_RESP_HEADER_LEN + n, w->now);
        }
        tg_noise_clear(&hs);
    }
    if (!ok)
        return false;
    uint8_t frame[TG_FRAME_SESSION_LEN];
    const uint8_t token[TG_SESSION_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8}, addr[4] = {198, 18, 0, 2};
    size_t off = 0;
    if (tg_frame_put_session(frame, sizeof frame, &off, token, addr, 24) != TG_OK)
        return false;
    size_t len = seal(w, &w->to_client, frame, off);
    tg_client_udp_input(w->client, 0, w->buf, len, w->now);
    drain(w);
    return tg_client_session_up(w->client, NULL);
}

static bool setup(struct world *w)
{
    memset(w, 0, sizeof *w);
    w->now = TG_SEC(1);
    for (int i = 0; i < 4; i++)
        w->seeds[i] = (uint64_t)i + 1;
    struct tg_rng srng = {det_fill, &w->seeds[0]}, crng = {det_fill, &w->seeds[1]};
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    det_fill(&w->seeds[2], sc.static_private, 32);
    sc.max_sessions = 4;
    sc.pending_slots = 16;
    sc.mp.queue_slots = 64;
    struct tg_client_config cc;
    tg_client_config_default(&cc);
    uint8_t client_side_priv[32];
    det_fill(&w->seeds[3], client_side_priv, 32);
    tg_noise_public_key(client_side_priv, cc.server_public);
    cc.mp.queue_slots = 64;
    uint8_t server_public[32];
    tg_noise_public_key(sc.static_private, server_public);
    if (tg_server_new(&sc, &srng, NULL, w->now, &w->server) != TG_OK ||
        tg_client_new(&cc, &crng, NULL, w->now, &w->client) != TG_OK)
        return false;
    return connect_server(w, server_public) && connect_client(w, client_side_priv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct world w;
    if (sodium_init() < 0 || !setup(&w))
        __builtin_trap(); /* the harness itself must always connect */
    size_t i = 0;
    for (unsigned ops = 0; i < size && ops < 64; ops++) {
        uint8_t op = data[i++] % 8;
        size_t len = 0;
        if (op < 6) {
            len = i + 2 <= size ? (size_t)(data[i] | data[i + 1] << 8) : 0;
            i = i + 2 <= size ? i + 2 : size;
            if (len > size - i)
                len = size - i;
        }
        const uint8_t *p = data + i;
        i += len;
        switch (op) {
        case 0:
        case 1: {
            struct tg_transport *t = op == 0 ? &w.to_server : &w.to_client;
            size_t n = seal(&w, t, p, len);
            if (n > 0 && op == 0)
                tg_server_udp_input(w.server, 0, &peer, w.buf, n, w.now);
            else if (n > 0)
                tg_client_udp_input(w.client, 0, w.buf, n, w.now);
            break;
        }
        case 2:
        case 3:
            memcpy(w.buf, p, len);
            if (op == 2)
                tg_server_udp_input(w.server, 0, &peer, w.buf, len, w.now);
            else
                tg_client_udp_input(w.client, 0, w.buf, len, w.now);
            break;
        case 4:
            tg_server_tun_input(w.server, p, len, w.now);
            break;
        case 5:
            tg_client_tun_input(w.client, p, len, w.now);
            break;
        case 6:
            w.now += (tg_time)(i < size ? data[i++] : 1) * 1000u;
            tg_server_on_timeout(w.server, w.now);
            tg_client_on_timeout(w.client, w.now);
            break;
        default: {
            unsigned u = i < size ? data[i++] % 4 : 0;
            tg_client_uplink_down(w.client, u, w.now);
            if (tg_client_uplink_up(w.client, u, w.now) != TG_OK)
                __builtin_trap();
            break;
        }
        }
        drain(&w);
    }
    tg_client_free(w.client);
    tg_server_free(w.server);
    tg_transport_clear(&w.to_server);
    tg_transport_clear(&w.to_client);
    return 0;
}
