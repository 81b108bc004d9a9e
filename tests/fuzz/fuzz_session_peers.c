/* The harness's two fake peers for fuzz_session: a client of the real server
 * and the server of the solo client, each with its own Noise state, MACs and
 * transport keys, answering handshakes and PINGs as the real ends do. What
 * they receive from the real cores must authenticate and parse (CHECK). */
#include "fuzz_session.h"

#include <string.h>

const uint8_t solo_tun[4] = {198, 18, 1, 2}, solo_token[TG_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static size_t read_frames(const uint8_t *plain, size_t len, uint8_t *reply, size_t cap,
                          struct tg_frame *session)
{
    size_t off = 0, out = 0;
    struct tg_frame f;
    int rc;
    while ((rc = tg_frame_next(plain, len, &off, &f)) == 1) {
        if (f.type == TG_FRAME_PING && out + TG_FRAME_PING_LEN <= cap)
            CHECK(tg_frame_put_ping(reply, cap, &out, TG_FRAME_PONG, f.u.ping.id,
                                    f.u.ping.send_time_us) == TG_OK);
        if (f.type == TG_FRAME_SESSION && session != NULL)
            *session = f;
    }
    CHECK(rc == 0); /* cores write well-formed frames */
    return out;
}

/* ------------------------------------------------------------ fake client */

void fc_seal_send(struct world *w, unsigned slot, const uint8_t *plain, size_t len)
{
    struct fake_client *fc = &w->fc;
    if (len > sizeof w->buf - TG_DATA_OVERHEAD)
        len = sizeof w->buf - TG_DATA_OVERHEAD;
    memmove(w->buf + TG_DATA_HEADER_LEN, plain, len);
    size_t n;
    if (tg_transport_seal(&fc->t[slot], w->buf, len, sizeof w->buf, &n) != TG_OK)
        return;
    if (n <= sizeof fc->last) {
        memcpy(fc->last, w->buf, n);
        fc->last_len = (uint16_t)n;
        fc->last_slot = (uint8_t)slot;
    }
    struct tg_key_addr from = fc_addr(fc, slot);
    tg_server_udp_input(w->server, 0, &from, w->buf, n, w->now);
    drain(w);
}

void fc_start(struct world *w, unsigned slot, bool join)
{
    struct fake_client *fc = &w->fc;
    if (join && !fc->session)
        return;
    if (!join) { /* a new session: forget the old one (the server times it out) */
        for (unsigned k = 0; k < SLOTS; k++) {
            tg_noise_clear(&fc->hs[k]);
            tg_transport_clear(&fc->t[k]);
            fc->busy[k] = fc->keyed[k] = fc->roam[k] = false;
        }
        fc->session = false;
    }
    struct tg_noise_hs *hs = &fc->hs[slot];
    uint8_t e[32], hello[TG_HELLO_MAX] = {TG_PROTOCOL_VERSION, (uint8_t)slot};
    memcpy(hello + 2, fc->token, TG_TOKEN_LEN);
    det_fill(&fc->seed, e, sizeof e);
    CHECK(tg_noise_init(hs, join ? TG_NOISE_NKPSK2 : TG_NOISE_NK, TG_NOISE_INITIATOR,
                        (const uint8_t *)TG_PROLOGUE, sizeof TG_PROLOGUE - 1, NULL,
                        w->server_public) == TG_OK);
    tg_noise_set_ephemeral(hs, e);
    CHECK(!join || tg_noise_set_psk(hs, fc->join_key) == TG_OK);
    size_t n;
    CHECK(tg_noise_write_message(hs, hello, join ? TG_HELLO_JOIN_LEN : TG_HELLO_INIT_LEN,
                                 w->buf + TG_HS_INIT_HEADER_LEN, 256, &n) == TG_OK);
    fc->hs_index[slot] = 0x1000 + fc->next_index++;
    fc->busy[slot] = true;
    fc->joining[slot] = join;
    tg_wire_put_hs_init_header(w->buf, join ? TG_MSG_HS_JOIN : TG_MSG_HS_INIT, fc->hs_index[slot]);
    size_t len = TG_HS_INIT_HEADER_LEN + n + TG_MACS_LEN;
    tg_mac1_put(&w->server_mac, w->buf, len);
    tg_mac2_put(NULL, w->buf, len);
    struct tg_key_addr from = fc_addr(fc, slot);
    tg_server_udp_input(w->server, 0, &from, w->buf, len, w->now);
    drain(w);
}

void fc_receive(struct world *w, unsigned slot, uint8_t *data, size_t len)
{
    struct fake_client *fc = &w->fc;
    struct tg_wire_msg m;
    CHECK(tg_wire_parse(data, len, &m) == TG_OK);
    if (m.type == TG_MSG_HS_RESP) {
        unsigned j = 0;
        while (j < SLOTS && !(fc->busy[j] && fc->hs_index[j] == m.receiver_index))
            j++;
        if (j == SLOTS)
            return;
        CHECK(j == slot);
        uint8_t hello[TG_HELLO_MAX], extra[32];
        size_t n;
        struct tg_noise_cipher send, recv;
        CHECK(tg_noise_read_message(&fc->hs[j], m.body, m.body_len, hello, sizeof hello, &n) ==
              TG_OK);
        CHECK(n == TG_HELLO_RESP_LEN && hello[0] == TG_PROTOCOL_VERSION && hello[1] == 0);
        CHECK(tg_noise_split(&fc->hs[j], &send, &recv, extra) == TG_OK);
        tg_transport_clear(&fc->t[j]);
        tg_transport_init(&fc->t[j], &send, &recv, fc->hs_index[j], m.sender_index);
        fc->busy[j] = false;
        fc->keyed[j] = true;
        if (!fc->joining[j])
            memcpy(fc->join_key, extra, sizeof extra);
        uint8_t ping[TG_FRAME_PING_LEN];
        size_t off = 0;
        CHECK(tg_frame_put_ping(ping, sizeof ping, &off, TG_FRAME_PING, 1, w->now) == TG_OK);
        fc_seal_send(w, j, ping, off); /* proves the keys: the server binds them */
        return;
    }
    if (m.type != TG_MSG_DATA)
        return; /* a cookie: the server is under load */
    unsigned j = 0;
    while (j < SLOTS && !(fc->keyed[j] && fc->t[j].local_index == m.receiver_index))
        j++;
    if (j == SLOTS)
        return; /* for keys the harness has replaced */
    CHECK(j == slot);
    size_t plain;
    CHECK(tg_transport_open(&fc->t[j], &m, data, &plain) == TG_OK);
    struct tg_frame s = {0};
    uint8_t reply[256];
    size_t n = read_frames(data + TG_DATA_HEADER_LEN, plain, reply, sizeof reply, &s);
    if (s.type == TG_FRAME_SESSION && !fc->session) {
        fc->session = true;
        memcpy(fc->addr, s.u.session.addr, 4);
        memcpy(fc->token, s.u.session.token, TG_TOKEN_LEN);
    }
    if (n > 0)
        fc_seal_send(w, j, reply, n);
}

/* ------------------------------------------------------------ fake server */

void fs_seal_send(struct world *w, unsigned slot, unsigned uplink, const uint8_t *plain, size_t len)
{
    if (len > sizeof w->buf - TG_DATA_OVERHEAD)
        len = sizeof w->buf - TG_DATA_OVERHEAD;
    memmove(w->buf + TG_DATA_HEADER_LEN, plain, len);
    size_t n;
    if (tg_transport_seal(&w->fs.t[slot], w->buf, len, sizeof w->buf, &n) != TG_OK)
        return;
    tg_client_udp_input(w->solo, uplink, w->buf, n, w->now);
    drain(w);
}

/* Answer a handshake of the solo client's on `uplink`. */
static void fs_handshake(struct world *w, unsigned uplink, const uint8_t *data, size_t len,
                         const struct tg_wire_msg *m)
{
    struct fake_server *fs = &w->fs;
    bool join = m->type == TG_MSG_HS_JOIN;
    CHECK(tg_mac1_ok(&fs->mac, data, len));
    struct tg_noise_hs hs;
    uint8_t e[32], hello[TG_HELLO_MAX], extra[32], resp[128];
    size_t n;
    det_fill(&fs->seed, e, sizeof e);
    CHECK(tg_noise_init(&hs, join ? TG_NOISE_NKPSK2 : TG_NOISE_NK, TG_NOISE_RESPONDER,
                        (const uint8_t *)TG_PROLOGUE, sizeof TG_PROLOGUE - 1, fs->priv,
                        NULL) == TG_OK);
    tg_noise_set_ephemeral(&hs, e);
    CHECK(tg_noise_read_message(&hs, m->body, m->body_len, hello, sizeof hello, &n) == TG_OK);
    CHECK(n == (join ? TG_HELLO_JOIN_LEN : TG_HELLO_INIT_LEN));
    CHECK(hello[0] == TG_PROTOCOL_VERSION && hello[1] == uplink);
    CHECK(!join || (memcmp(hello + 2, solo_token, TG_TOKEN_LEN) == 0 &&
                    tg_noise_set_psk(&hs, fs->join_key) == TG_OK));
    const uint8_t reply[TG_HELLO_RESP_LEN] = {TG_PROTOCOL_VERSION, 0};
    struct tg_noise_cipher send, recv;
    CHECK(tg_noise_write_message(&hs, reply, sizeof reply, resp + TG_HS_RESP_HEADER_LEN,
                                 sizeof resp - TG_HS_RESP_HEADER_LEN, &n) == TG_OK);
    CHECK(tg_noise_split(&hs, &send, &recv, extra) == TG_OK);
    uint32_t index = 0x2000 + fs->next_index++;
    tg_wire_put_hs_resp_header(resp, m->sender_index, index);
    tg_transport_clear(&fs->t[uplink]);
    tg_transport_init(&fs->t[uplink], &send, &recv, index, m->sender_index);
    fs->keyed[uplink] = true;
    fs->nk[uplink] = !join;
    if (!join)
        memcpy(fs->join_key, extra, sizeof extra);
    send_to(w->next, TO_SOLO, uplink, resp, TG_HS_RESP_HEADER_LEN + n);
}

void fs_receive(struct world *w, unsigned uplink, uint8_t *data, size_t len)
{
    struct fake_server *fs = &w->fs;
    struct tg_wire_msg m;
    CHECK(tg_wire_parse(data, len, &m) == TG_OK);
    if (m.type == TG_MSG_HS_INIT || m.type == TG_MSG_HS_JOIN) {
        fs_handshake(w, uplink, data, len, &m);
        return;
    }
    CHECK(m.type == TG_MSG_DATA);
    unsigned j = 0;
    while (j < SLOTS && !(fs->keyed[j] && fs->t[j].local_index == m.receiver_index))
        j++;
    if (j == SLOTS)
        return;
    CHECK(j == uplink); /* each uplink seals with its own keys */
    size_t plain;
    CHECK(tg_transport_open(&fs->t[j], &m, data, &plain) == TG_OK);
    uint8_t reply[512];
    size_t n = read_frames(data + TG_DATA_HEADER_LEN, plain, reply, sizeof reply - 64, NULL);
    if (n > 0 && fs->nk[j]) /* like the server: SESSION rides on the first path's PONGs */
        CHECK(tg_frame_put_session(reply, sizeof reply, &n, solo_token, solo_tun, 24) == TG_OK);
    if (n > 0)
        fs_seal_send(w, j, j, reply, n);
}
