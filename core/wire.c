#include "wire.h"

#include "cookie.h"

#include <string.h>

int tg_wire_parse(const uint8_t *dgram, size_t len, struct tg_wire_msg *out)
{
    memset(out, 0, sizeof *out);
    if (len < 4)
        return TG_ERR_TRUNCATED;
    if (len > TG_MAX_DATAGRAM)
        return TG_ERR_MALFORMED;
    size_t hdr;
    size_t min_body;
    switch (dgram[0]) {
    case TG_MSG_HS_INIT:
    case TG_MSG_HS_JOIN:
        hdr = TG_HS_INIT_HEADER_LEN;
        min_body = TG_HS_MSG_MIN + TG_MACS_LEN;
        break;
    case TG_MSG_HS_RESP:
        hdr = TG_HS_RESP_HEADER_LEN;
        min_body = TG_HS_MSG_MIN;
        break;
    case TG_MSG_DATA:
        hdr = TG_DATA_HEADER_LEN;
        min_body = TG_AEAD_TAG_LEN;
        break;
    case TG_MSG_HS_COOKIE:
        if (len != TG_COOKIE_MSG_LEN)
            return len < TG_COOKIE_MSG_LEN ? TG_ERR_TRUNCATED : TG_ERR_MALFORMED;
        hdr = 8;
        min_body = TG_COOKIE_MSG_LEN - 8;
        break;
    default:
        return TG_ERR_UNKNOWN_TYPE;
    }
    if (dgram[1] | dgram[2] | dgram[3])
        return TG_ERR_MALFORMED;
    if (len < hdr + min_body)
        return TG_ERR_TRUNCATED;

    out->type = dgram[0];
    switch (dgram[0]) {
    case TG_MSG_HS_INIT:
    case TG_MSG_HS_JOIN:
        out->sender_index = tg_get_u32(dgram + 4);
        out->macs = dgram + len - TG_MACS_LEN;
        len -= TG_MACS_LEN; /* the body is the Noise message alone */
        break;
    case TG_MSG_HS_COOKIE:
        out->receiver_index = tg_get_u32(dgram + 4);
        break;
    case TG_MSG_HS_RESP:
        out->receiver_index = tg_get_u32(dgram + 4);
        out->sender_index = tg_get_u32(dgram + 8);
        break;
    default: /* TG_MSG_DATA */
        out->receiver_index = tg_get_u32(dgram + 4);
        out->counter = tg_get_u64(dgram + 8);
        break;
    }
    out->body = dgram + hdr;
    out->body_len = len - hdr;
    return TG_OK;
}

static void put_prefix(uint8_t *out, uint8_t type)
{
    out[0] = type;
    out[1] = out[2] = out[3] = 0;
}

void tg_wire_put_data_header(uint8_t out[TG_DATA_HEADER_LEN], uint32_t receiver_index,
                             uint64_t counter)
{
    put_prefix(out, TG_MSG_DATA);
    tg_put_u32(out + 4, receiver_index);
    tg_put_u64(out + 8, counter);
}

void tg_wire_put_hs_init_header(uint8_t out[TG_HS_INIT_HEADER_LEN], uint8_t type,
                                uint32_t sender_index)
{
    put_prefix(out, type);
    tg_put_u32(out + 4, sender_index);
}

void tg_wire_put_hs_resp_header(uint8_t out[TG_HS_RESP_HEADER_LEN], uint32_t receiver_index,
                                uint32_t sender_index)
{
    put_prefix(out, TG_MSG_HS_RESP);
    tg_put_u32(out + 4, receiver_index);
    tg_put_u32(out + 8, sender_index);
}

/* Fixed part of each frame type, type byte included; 0 for unknown types. */
static size_t frame_fixed_len(uint8_t type)
{
    switch (type) {
    case TG_FRAME_DATA: return TG_FRAME_DATA_HEADER_LEN;
    case TG_FRAME_PING:
    case TG_FRAME_PONG: return TG_FRAME_PING_LEN;
    case TG_FRAME_FEEDBACK: return TG_FRAME_FEEDBACK_LEN;
    case TG_FRAME_CLOSE: return TG_FRAME_CLOSE_LEN;
    case TG_FRAME_PATH_SEQ: return TG_FRAME_PATH_SEQ_LEN;
    case TG_FRAME_SESSION: return TG_FRAME_SESSION_LEN;
    case TG_FRAME_NACK: return TG_FRAME_NACK_HEADER_LEN;
    case TG_FRAME_OBSERVED: return TG_FRAME_OBSERVED_HEADER_LEN;
    case TG_FRAME_LOST_RUN: return TG_FRAME_LOST_RUN_LEN;
    default: return 0;
    }
}

int tg_frame_next(const uint8_t *plaintext, size_t len, size_t *off, struct tg_frame *out)
{
    if (*off >= len || plaintext[*off] == TG_FRAME_PADDING) {
        *off = len;
        return 0;
    }
    const uint8_t *p = plaintext + *off;
    size_t left = len - *off;
    size_t fixed = frame_fixed_len(p[0]);
    if (fixed == 0)
        return TG_ERR_UNKNOWN_TYPE;
    if (left < fixed)
        return TG_ERR_TRUNCATED;

    memset(out, 0, sizeof *out);
    out->type = p[0];
    switch (p[0]) {
    case TG_FRAME_DATA:
        out->u.data.flags = p[1];
        out->u.data.seq = tg_get_u32(p + 2);
        out->u.data.send_time_us = tg_get_u32(p + 6);
        if (p[1] & TG_DATA_FLAG_PREV) {
            if (left - fixed < 2)
                return TG_ERR_TRUNCATED;
            out->u.data.prev_delta = tg_get_u16(p + fixed);
            fixed += 2;
        }
        if (left - fixed > UINT16_MAX)
            return TG_ERR_MALFORMED;
        out->u.data.len = (uint16_t)(left - fixed);
        out->u.data.packet = p + fixed;
        fixed = left; /* the packet runs to the end */
        break;
    case TG_FRAME_PING:
    case TG_FRAME_PONG:
        out->u.ping.id = tg_get_u32(p + 1);
        out->u.ping.send_time_us = tg_get_u64(p + 5);
        break;
    case TG_FRAME_FEEDBACK:
        out->u.feedback.uplink = p[1];
        out->u.feedback.rx_packets = tg_get_u64(p + 2);
        out->u.feedback.rx_bytes = tg_get_u64(p + 10);
        out->u.feedback.highest_seq = tg_get_u64(p + 18);
        out->u.feedback.owd_us = (int64_t)tg_get_u64(p + 26);
        break;
    case TG_FRAME_PATH_SEQ:
        out->u.path_seq.prev_seq = tg_get_u32(p + 1);
        break;
    case TG_FRAME_LOST_RUN:
        out->u.lost_run.seq = tg_get_u32(p + 1);
        out->u.lost_run.after = tg_get_u32(p + 5);
        break;
    case TG_FRAME_NACK:
        if (p[1] == 0 || p[1] > TG_NACK_MAX)
            return TG_ERR_MALFORMED;
        if (left - fixed < (size_t)p[1] * 4)
            return TG_ERR_TRUNCATED;
        out->u.nack.count = p[1];
        out->u.nack.seqs = p + fixed;
        fixed += (size_t)p[1] * 4;
        break;
    case TG_FRAME_OBSERVED: {
        size_t alen = p[1] == TG_ADDR_IPV4 ? 4 : p[1] == TG_ADDR_IPV6 ? 16 : 0;
        if (alen == 0)
            return TG_ERR_MALFORMED;
        if (left - fixed < alen)
            return TG_ERR_TRUNCATED;
        out->u.observed.type = p[1];
        out->u.observed.port = tg_get_u16(p + 2);
        memcpy(out->u.observed.addr, p + fixed, alen);
        fixed += alen;
        break;
    }
    case TG_FRAME_SESSION:
        memcpy(out->u.session.token, p + 1, TG_SESSION_TOKEN_LEN);
        memcpy(out->u.session.addr, p + 1 + TG_SESSION_TOKEN_LEN, 4);
        out->u.session.prefix = p[1 + TG_SESSION_TOKEN_LEN + 4];
        break;
    default: /* TG_FRAME_CLOSE */
        out->u.close.reason = p[1];
        break;
    }
    *off += fixed;
    return 1;
}

int tg_frame_put_data(uint8_t *out, size_t cap, size_t *off, uint8_t flags, uint64_t seq,
                      uint64_t send_time_us, uint16_t prev_delta, const uint8_t *packet,
                      uint16_t len)
{
    size_t head = TG_FRAME_DATA_HEADER_LEN + (prev_delta ? 2u : 0u);
    if (*off > cap || cap - *off < head + len)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_DATA;
    p[1] = (uint8_t)((flags & ~TG_DATA_FLAG_PREV) | (prev_delta ? TG_DATA_FLAG_PREV : 0));
    tg_put_u32(p + 2, (uint32_t)seq);
    tg_put_u32(p + 6, (uint32_t)send_time_us);
    if (prev_delta)
        tg_put_u16(p + 10, prev_delta);
    if (len > 0)
        memmove(p + head, packet, len);
    *off += head + (size_t)len;
    return TG_OK;
}

int tg_frame_put_ping(uint8_t *out, size_t cap, size_t *off, uint8_t type, uint32_t id,
                      uint64_t send_time_us)
{
    if (type != TG_FRAME_PING && type != TG_FRAME_PONG)
        return TG_ERR_INVAL;
    if (*off > cap || cap - *off < TG_FRAME_PING_LEN)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = type;
    tg_put_u32(p + 1, id);
    tg_put_u64(p + 5, send_time_us);
    *off += TG_FRAME_PING_LEN;
    return TG_OK;
}

int tg_frame_put_feedback(uint8_t *out, size_t cap, size_t *off, uint8_t uplink,
                          uint64_t rx_packets, uint64_t rx_bytes, uint64_t highest_seq,
                          int64_t owd_us)
{
    if (*off > cap || cap - *off < TG_FRAME_FEEDBACK_LEN)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_FEEDBACK;
    p[1] = uplink;
    tg_put_u64(p + 2, rx_packets);
    tg_put_u64(p + 10, rx_bytes);
    tg_put_u64(p + 18, highest_seq);
    tg_put_u64(p + 26, (uint64_t)owd_us);
    *off += TG_FRAME_FEEDBACK_LEN;
    return TG_OK;
}

int tg_frame_put_close(uint8_t *out, size_t cap, size_t *off, uint8_t reason)
{
    if (*off > cap || cap - *off < TG_FRAME_CLOSE_LEN)
        return TG_ERR_NOBUF;
    out[*off] = TG_FRAME_CLOSE;
    out[*off + 1] = reason;
    *off += TG_FRAME_CLOSE_LEN;
    return TG_OK;
}

int tg_frame_put_path_seq(uint8_t *out, size_t cap, size_t *off, uint64_t prev_seq)
{
    if (*off > cap || cap - *off < TG_FRAME_PATH_SEQ_LEN)
        return TG_ERR_NOBUF;
    out[*off] = TG_FRAME_PATH_SEQ;
    tg_put_u32(out + *off + 1, (uint32_t)prev_seq);
    *off += TG_FRAME_PATH_SEQ_LEN;
    return TG_OK;
}

int tg_frame_put_session(uint8_t *out, size_t cap, size_t *off,
                         const uint8_t token[TG_SESSION_TOKEN_LEN], const uint8_t addr[4],
                         uint8_t prefix)
{
    if (*off > cap || cap - *off < TG_FRAME_SESSION_LEN)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_SESSION;
    memcpy(p + 1, token, TG_SESSION_TOKEN_LEN);
    memcpy(p + 1 + TG_SESSION_TOKEN_LEN, addr, 4);
    p[1 + TG_SESSION_TOKEN_LEN + 4] = prefix;
    *off += TG_FRAME_SESSION_LEN;
    return TG_OK;
}

int tg_frame_put_nack(uint8_t *out, size_t cap, size_t *off, const uint64_t *seqs, uint8_t count)
{
    size_t need = TG_FRAME_NACK_HEADER_LEN + (size_t)count * 4;
    if (count == 0 || count > TG_NACK_MAX)
        return TG_ERR_INVAL;
    if (*off > cap || cap - *off < need)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_NACK;
    p[1] = count;
    for (uint8_t i = 0; i < count; i++)
        tg_put_u32(p + 2 + 4 * i, (uint32_t)seqs[i]);
    *off += need;
    return TG_OK;
}

int tg_frame_put_lost_run(uint8_t *out, size_t cap, size_t *off, uint64_t seq, uint64_t after)
{
    if (*off > cap || cap - *off < TG_FRAME_LOST_RUN_LEN)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_LOST_RUN;
    tg_put_u32(p + 1, (uint32_t)seq);
    tg_put_u32(p + 5, (uint32_t)after);
    *off += TG_FRAME_LOST_RUN_LEN;
    return TG_OK;
}

int tg_frame_put_observed(uint8_t *out, size_t cap, size_t *off, const struct tg_key_addr *a)
{
    size_t alen = a->type == TG_ADDR_IPV4 ? 4 : a->type == TG_ADDR_IPV6 ? 16 : 0;
    if (alen == 0)
        return TG_ERR_INVAL;
    if (*off > cap || cap - *off < TG_FRAME_OBSERVED_HEADER_LEN + alen)
        return TG_ERR_NOBUF;
    uint8_t *p = out + *off;
    p[0] = TG_FRAME_OBSERVED;
    p[1] = a->type;
    tg_put_u16(p + 2, a->port);
    memcpy(p + TG_FRAME_OBSERVED_HEADER_LEN, a->addr, alen);
    *off += TG_FRAME_OBSERVED_HEADER_LEN + alen;
    return TG_OK;
}
