#include "transport.h"

#include <sodium.h>
#include <string.h>

void tg_transport_init(struct tg_transport *t, struct tg_noise_cipher *send,
                       struct tg_noise_cipher *recv, uint32_t local_index,
                       uint32_t remote_index)
{
    memcpy(t->send_key, send->k, sizeof t->send_key);
    memcpy(t->recv_key, recv->k, sizeof t->recv_key);
    tg_noise_cipher_clear(send);
    tg_noise_cipher_clear(recv);
    t->send_counter = 0;
    t->local_index = local_index;
    t->remote_index = remote_index;
    tg_replay_init(&t->replay);
}

int tg_transport_seal(struct tg_transport *t, uint8_t *pkt, size_t plain_len, size_t cap,
                      size_t *out_len)
{
    if (cap < TG_DATA_OVERHEAD || cap - TG_DATA_OVERHEAD < plain_len)
        return TG_ERR_NOBUF;
    if (t->send_counter >= TG_REPLAY_COUNTER_LIMIT)
        return TG_ERR_COUNTER_LIMIT;
    uint64_t counter = t->send_counter++;
    uint8_t nonce[TG_NOISE_NONCE_LEN];
    tg_noise_nonce(nonce, counter);
    tg_wire_put_data_header(pkt, t->remote_index, counter);
    uint8_t *body = pkt + TG_DATA_HEADER_LEN;
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(body, body + plain_len, NULL, body,
                                                       plain_len, pkt, TG_DATA_HEADER_LEN, NULL,
                                                       nonce, t->send_key);
    *out_len = plain_len + TG_DATA_OVERHEAD;
    return TG_OK;
}

int tg_transport_open(struct tg_transport *t, const struct tg_wire_msg *msg, uint8_t *pkt,
                      size_t *plain_len)
{
    if (msg->type != TG_MSG_DATA || msg->body_len < TG_AEAD_TAG_LEN)
        return TG_ERR_INVAL;
    int rc = tg_replay_check(&t->replay, msg->counter);
    if (rc != TG_OK)
        return rc;
    uint8_t nonce[TG_NOISE_NONCE_LEN];
    tg_noise_nonce(nonce, msg->counter);
    size_t len = msg->body_len - TG_AEAD_TAG_LEN;
    uint8_t *body = pkt + TG_DATA_HEADER_LEN;
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(body, NULL, body, len, body + len, pkt,
                                                           TG_DATA_HEADER_LEN, nonce,
                                                           t->recv_key) != 0)
        return TG_ERR_DECRYPT;
    tg_replay_record(&t->replay, msg->counter); /* checked above, unchanged since */
    *plain_len = len;
    return TG_OK;
}

void tg_transport_clear(struct tg_transport *t)
{
    sodium_memzero(t, sizeof *t);
}
