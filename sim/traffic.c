/*
 * traffic.c: flows (see traffic.h). Packets on the wire, the UDP models, and
 * the applications on top of sim_tcp: bulk and sized transfers, keystrokes
 * with echo, web objects.
 *
 * The model header at the start of every TCP or UDP payload (big-endian):
 *   0 magic 'T' | 1 type | 2 conn | 3 flags | 4 gen u32 | 8 ts_us u64
 *   DATA 16 seq u64 | 24 idx u64 | 32 first_tx_us u64 | 40 len u32 | 44 0 u32   (48 bytes)
 *   ACK  16 ack u64 | 24 ts_echo_us u64 | 32 rwnd u32 | 36 nsack u8 | 37 0[3]
 *        | 40 nsack x (start u64, end u64) | DSACK flag: start u64, end u64, idx u64
 *   UDP  16 seq u64 | 24 frame u32 | 28 frame_pkts u16 | 30 0 u16                 (32 bytes)
 * The rest of the payload is zeros, so the checksum of the padding is free.
 */
#include "traffic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "core/ip.h"
#include "tcp.h"

#define MAGIC            0x54
#define MSG_MIN          16
#define ACK_BYTES        40
#define DSACK_BYTES      24
#define IP_BYTES         20
#define TCP_BYTES        20
#define UDP_BYTES        8
#define KEY_RING         1024 /* keystrokes awaiting their echo */
#define SEEN_BITS        4096 /* UDP duplicate window, packets */
#define FRAME_RING       64
#define VIDEO_FPS        30
#define VIDEO_GOP        60  /* a key frame every 2 s ... */
#define VIDEO_KEY_FACTOR 4.0 /* ... 4 times the size of the others */
#define VIDEO_SIGMA      0.3 /* log-normal spread of frame sizes */
#define WEB_SIGMA        1.0 /* log-normal spread of object sizes */
#define WEB_SMALL_BYTES  500 /* a request (download) or a response (upload) */

enum { EV_START, EV_STOP, EV_VOICE, EV_VIDEO, EV_KEY, EV_WEB };

struct frame_rx {
    uint32_t frame;
    uint16_t got, total;
    tg_time sent;
    bool used, done;
};

/* One direction of a UDP model (0 up: the laptop sends; 1 down). */
struct udp_dir {
    bool on;
    uint64_t sent;  /* packets sent = next packet number */
    uint32_t frame; /* next frame number */
    uint64_t high;  /* receiver: highest packet number + 1 */
    uint64_t delivered;
    uint64_t seen[SEEN_BITS / 64];
    bool have_transit;
    int64_t transit; /* RFC 3550: last arrival - send time */
    double jitter;
    tg_time last_delivery;
    struct frame_rx frames[FRAME_RING];
};

struct sim_flow {
    struct sim_flow_config c;
    struct sim_flow_io io;
    unsigned id;
    uint16_t port;
    uint16_t ip_id;
    struct sim_flow_stats st;
    struct sim_tcp *tcp[2]; /* by direction: 0 up, 1 down */
    struct udp_dir udp[2];
    uint32_t gen; /* web: object number */
    uint64_t req_bytes, resp_bytes;
    tg_time obj_start;
    uint64_t keys, keys_echoed, echo_written;
    tg_time key_ts[KEY_RING];
    uint8_t pkt[IP_BYTES + TCP_BYTES + 1460];
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static enum sim_side sender_of(unsigned dir)
{
    return dir == 0 ? SIM_SIDE_LAPTOP : SIM_SIDE_OUTSIDE;
}

static tg_time exp_us(gsl_rng *rng, tg_time mean)
{
    double v = gsl_ran_exponential(rng, (double)mean);
    return v < 1 ? 1 : v > 1e15 ? (tg_time)1e15 : (tg_time)llround(v);
}

/* ---- the model header ---- */

static size_t msg_size(const struct sim_msg *m)
{
    switch (m->type) {
    case SIM_MSG_DATA:
        return SIM_MSG_DATA_BYTES;
    case SIM_MSG_ACK:
        return ACK_BYTES + 16u * m->nsack + (m->flags & SIM_MSGF_DSACK ? DSACK_BYTES : 0);
    default:
        return SIM_MSG_UDP_BYTES;
    }
}

static void msg_put(uint8_t *p, const struct sim_msg *m)
{
    p[0] = MAGIC;
    p[1] = m->type;
    p[2] = m->conn;
    p[3] = m->flags;
    put32(p + 4, m->gen);
    put64(p + 8, m->ts_us);
    if (m->type == SIM_MSG_DATA) {
        put64(p + 16, m->seq);
        put64(p + 24, m->idx);
        put64(p + 32, m->first_tx_us);
        put32(p + 40, m->len);
    } else if (m->type == SIM_MSG_ACK) {
        put64(p + 16, m->ack);
        put64(p + 24, m->ts_echo_us);
        put32(p + 32, m->rwnd);
        p[36] = m->nsack;
        uint8_t *q = p + ACK_BYTES;
        for (unsigned k = 0; k < m->nsack; k++, q += 16) {
            put64(q, m->sack[k][0]);
            put64(q + 8, m->sack[k][1]);
        }
        if (m->flags & SIM_MSGF_DSACK) {
            put64(q, m->dsack[0]);
            put64(q + 8, m->dsack[1]);
            put64(q + 16, m->dsack_idx);
        }
    } else {
        put64(p + 16, m->seq);
        put32(p + 24, m->frame);
        put16(p + 28, m->frame_pkts);
    }
}

/* Decode a payload of n bytes. Returns 0, or -1 if it is not a well-formed
 * message of ours. */
static int msg_get(const uint8_t *p, size_t n, struct sim_msg *m)
{
    memset(m, 0, sizeof *m);
    if (n < MSG_MIN || p[0] != MAGIC)
        return -1;
    m->type = p[1];
    m->conn = p[2];
    m->flags = p[3];
    m->gen = get32(p + 4);
    m->ts_us = get64(p + 8);
    if (m->conn > 1)
        return -1;
    if (m->type == SIM_MSG_DATA) {
        if (n < SIM_MSG_DATA_BYTES)
            return -1;
        m->seq = get64(p + 16);
        m->idx = get64(p + 24);
        m->first_tx_us = get64(p + 32);
        m->len = get32(p + 40);
        /* segments shorter than the header are padded to it */
        if (m->len == 0 || n != (m->len > SIM_MSG_DATA_BYTES ? m->len : SIM_MSG_DATA_BYTES))
            return -1;
    } else if (m->type == SIM_MSG_ACK) {
        if (n < ACK_BYTES)
            return -1;
        m->ack = get64(p + 16);
        m->ts_echo_us = get64(p + 24);
        m->rwnd = get32(p + 32);
        m->nsack = p[36];
        if (m->nsack > SIM_MSG_SACK_MAX || n < msg_size(m))
            return -1;
        const uint8_t *q = p + ACK_BYTES;
        for (unsigned k = 0; k < m->nsack; k++, q += 16) {
            m->sack[k][0] = get64(q);
            m->sack[k][1] = get64(q + 8);
        }
        if (m->flags & SIM_MSGF_DSACK) {
            m->dsack[0] = get64(q);
            m->dsack[1] = get64(q + 8);
            m->dsack_idx = get64(q + 16);
        }
    } else if (m->type == SIM_MSG_UDP) {
        if (n < SIM_MSG_UDP_BYTES)
            return -1;
        m->seq = get64(p + 16);
        m->frame = get32(p + 24);
        m->frame_pkts = get16(p + 28);
        m->len = (uint32_t)n;
    } else {
        return -1;
    }
    return 0;
}

/* ---- IPv4 + TCP/UDP ---- */

struct parsed {
    size_t hl, total, off; /* IP header, IP total length, payload offset */
    uint8_t proto;
    uint16_t port;
};

static int parse(const uint8_t *p, size_t len, struct parsed *o)
{
    if (len < IP_BYTES || p[0] >> 4 != 4)
        return -1;
    size_t hl = (size_t)(p[0] & 15) * 4, total = get16(p + 2);
    if (hl < IP_BYTES || total < hl || total > len)
        return -1;
    if (get16(p + 6) & 0x3fff) /* a fragment: more-fragments or an offset */
        return -1;
    o->hl = hl;
    o->total = total;
    o->proto = p[9];
    if (o->proto == TG_PROTO_TCP) {
        if (total < hl + TCP_BYTES)
            return -1;
        size_t doff = (size_t)(p[hl + 12] >> 4) * 4;
        if (doff < TCP_BYTES || hl + doff > total)
            return -1;
        o->off = hl + doff;
    } else if (o->proto == TG_PROTO_UDP) {
        if (total < hl + UDP_BYTES || get16(p + hl + 4) != total - hl)
            return -1;
        o->off = hl + UDP_BYTES;
    } else {
        return -1;
    }
    uint16_t sport = get16(p + hl), dport = get16(p + hl + 2);
    o->port = dport >= SIM_FLOW_PORT_BASE ? dport : sport;
    if (o->port < SIM_FLOW_PORT_BASE)
        return -1;
    if (total - o->off < MSG_MIN || p[o->off] != MAGIC)
        return -1;
    return 0;
}

const char *sim_flow_kind_name(enum sim_flow_kind k)
{
    switch (k) {
    case SIM_FLOW_TCP:
        return "tcp";
    case SIM_FLOW_VOICE:
        return "voice";
    case SIM_FLOW_VIDEO:
        return "video";
    case SIM_FLOW_KEYS:
        return "keys";
    case SIM_FLOW_WEB:
        return "web";
    }
    return "invalid";
}

const char *sim_cc_name(enum sim_cc cc)
{
    switch (cc) {
    case SIM_CC_CUBIC:
        return "cubic";
    case SIM_CC_RENO:
        return "reno";
    case SIM_CC_BBR:
        return "bbr";
    }
    return "invalid";
}

int sim_flow_demux(const uint8_t *pkt, size_t len)
{
    struct parsed o;
    if (!pkt || parse(pkt, len, &o) != 0)
        return -1;
    return o.port - SIM_FLOW_PORT_BASE;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)l4_len);
    return tg_ip_sum(ph, sizeof ph, 0);
}

/* Wrap m in IPv4 and TCP or UDP with `payload` bytes of payload and emit it. */
static void emit(struct sim_flow *f, enum sim_side from, uint8_t proto, const struct sim_msg *m,
                 size_t payload, tg_time now)
{
    uint8_t *p = f->pkt, *l = p + IP_BYTES;
    size_t l4 = proto == TG_PROTO_TCP ? TCP_BYTES : UDP_BYTES, total = IP_BYTES + l4 + payload;
    memset(p, 0, total);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)total);
    put16(p + 4, f->ip_id++);
    put16(p + 6, 0x4000); /* DF */
    p[8] = 64;
    p[9] = proto;
    const uint8_t *lap = f->io.laptop_addr, *out = f->io.outside_addr;
    memcpy(p + 12, from == SIM_SIDE_LAPTOP ? lap : out, 4);
    memcpy(p + 16, from == SIM_SIDE_LAPTOP ? out : lap, 4);
    put16(p + 10, tg_ip_fold(tg_ip_sum(p, IP_BYTES, 0)));
    put16(l, f->port);
    put16(l + 2, f->port);
    msg_put(l + l4, m);
    size_t hdr = msg_size(m); /* even; the rest is zeros */
    if (proto == TG_PROTO_TCP) {
        put32(l + 4, (uint32_t)(m->type == SIM_MSG_DATA ? m->seq : 0));
        put32(l + 8, (uint32_t)(m->type == SIM_MSG_ACK ? m->ack : 0));
        l[12] = 5 << 4;
        l[13] = m->type == SIM_MSG_DATA ? 0x18 : 0x10; /* PSH|ACK, ACK */
        uint32_t w = f->c.rwnd_bytes >> 7;             /* window scale 7 */
        put16(l + 14, w > 0xffff ? 0xffff : (uint16_t)w);
        uint32_t sum = tg_ip_sum(l, l4 + hdr, pseudo_sum(p, proto, l4 + payload));
        put16(l + 16, tg_ip_fold(sum));
    } else {
        put16(l + 4, (uint16_t)(l4 + payload));
        uint16_t sum = tg_ip_fold(tg_ip_sum(l, l4 + hdr, pseudo_sum(p, proto, l4 + payload)));
        put16(l + 6, sum ? sum : 0xffff);
    }
    f->io.emit(f->io.ctx, from, p, total, now);
}

/* ---- applications on TCP ---- */

static void flow_event(void *ctx, uint64_t arg, tg_time now);

static void push(struct sim_flow *f, tg_time at, unsigned kind, uint64_t param)
{
    /* no memory: the event is lost and the queue's failed flag fails the run */
    (void)sim_evq_push(f->io.q, at, flow_event, f, param << 8 | kind);
}

static void tcp_xmit(void *ctx, enum sim_side from, const struct sim_msg *m, tg_time now)
{
    size_t n = msg_size(m);
    if (m->type == SIM_MSG_DATA && m->len > n)
        n = m->len;
    emit(ctx, from, TG_PROTO_TCP, m, n, now);
}

static void app_deliver(void *ctx, unsigned conn, uint64_t end, tg_time now)
{
    struct sim_flow *f = ctx;
    uint64_t kb = f->c.pkt_bytes;
    switch (f->c.kind) {
    case SIM_FLOW_TCP:
        if (f->c.bytes && end >= f->c.bytes && f->st.completion_us == TG_TIME_NEVER)
            f->st.completion_us = now - f->c.start_us;
        break;
    case SIM_FLOW_KEYS:
        if (conn == 0) { /* the outside host echoes each complete keystroke */
            uint64_t keys = end / kb;
            if (keys > f->echo_written) {
                sim_tcp_write(f->tcp[1], (keys - f->echo_written) * kb, now);
                f->echo_written = keys;
            }
        } else {
            for (uint64_t keys = end / kb; f->keys_echoed < keys; f->keys_echoed++) {
                sim_hist_add(&f->st.object_us, now - f->key_ts[f->keys_echoed % KEY_RING]);
                f->st.objects_done++;
            }
        }
        break;
    case SIM_FLOW_WEB:
        if (conn == 0 && end == f->req_bytes) {
            sim_tcp_write(f->tcp[1], f->resp_bytes, now);
        } else if (conn == 1 && end == f->resp_bytes) {
            f->st.objects_done++;
            sim_hist_add(&f->st.object_us, now - f->obj_start);
            push(f, now + exp_us(f->io.rng, f->c.think_us), EV_WEB, 0);
        }
        break;
    default:
        break;
    }
}

static const struct sim_tcp_ops tcp_ops = {tcp_xmit, app_deliver};

/* A new object: fresh connections both ways, a request up, the object down
 * (or the object up and a small response down). */
static void web_next(struct sim_flow *f, tg_time now)
{
    double sigma = WEB_SIGMA, mean = (double)f->c.bytes;
    double v = gsl_ran_lognormal(f->io.rng, log(mean) - sigma * sigma / 2, sigma);
    uint64_t size = v < 1 ? 1 : v > 1e12 ? (uint64_t)1e12 : (uint64_t)llround(v);
    f->gen++;
    sim_tcp_reset(f->tcp[0], f->gen);
    sim_tcp_reset(f->tcp[1], f->gen);
    f->req_bytes = f->c.dir == SIM_DIR_UP ? size : WEB_SMALL_BYTES;
    f->resp_bytes = f->c.dir == SIM_DIR_UP ? WEB_SMALL_BYTES : size;
    f->obj_start = now;
    sim_tcp_write(f->tcp[0], f->req_bytes, now);
}

/* ---- UDP ---- */

static void udp_send(struct sim_flow *f, unsigned d, uint32_t bytes, uint32_t frame,
                     uint16_t frame_pkts, tg_time now)
{
    struct udp_dir *u = &f->udp[d];
    if (bytes < SIM_MSG_UDP_BYTES)
        bytes = SIM_MSG_UDP_BYTES;
    struct sim_msg m = {.type = SIM_MSG_UDP,
                        .conn = (uint8_t)d,
                        .ts_us = now,
                        .seq = u->sent++,
                        .frame = frame,
                        .frame_pkts = frame_pkts,
                        .len = bytes};
    f->st.pkts_sent++;
    f->st.bytes_sent += bytes;
    if (f->st.first_send_us == TG_TIME_NEVER)
        f->st.first_send_us = now;
    emit(f, sender_of(d), TG_PROTO_UDP, &m, bytes, now);
}

static void video_frame(struct sim_flow *f, unsigned d, uint64_t k, tg_time now)
{
    double mean = f->c.video_bps / 8 / VIDEO_FPS * VIDEO_GOP / (VIDEO_GOP - 1 + VIDEO_KEY_FACTOR);
    if (k % VIDEO_GOP == 0)
        mean *= VIDEO_KEY_FACTOR;
    double sigma = VIDEO_SIGMA,
           v = gsl_ran_lognormal(f->io.rng, log(mean) - sigma * sigma / 2, sigma);
    uint64_t size = v < 1 ? 1 : (uint64_t)llround(fmin(v, 1e7));
    uint64_t npk = (size + f->c.mss - 1) / f->c.mss;
    if (npk > 0xffff)
        npk = 0xffff;
    uint32_t frame = f->udp[d].frame++;
    for (uint64_t i = 0; i < npk; i++) {
        uint64_t b = size / npk + (i < size % npk ? 1 : 0);
        udp_send(f, d, (uint32_t)(b > f->c.mss ? f->c.mss : b), frame, (uint16_t)npk, now);
    }
}

static void udp_stall(struct sim_flow *f, const struct udp_dir *u, tg_time now)
{
    tg_time from = u->last_delivery > f->c.start_us ? u->last_delivery : f->c.start_us;
    if (now > from && now - from > f->st.longest_stall_us)
        f->st.longest_stall_us = now - from;
}

static void udp_input(struct sim_flow *f, unsigned d, const struct sim_msg *m, tg_time now)
{
    struct udp_dir *u = &f->udp[d];
    uint64_t s = m->seq;
    if (s >= u->sent || s + SEEN_BITS <= u->high)
        return; /* never sent, or too old to tell from a duplicate */
    uint64_t bit = 1ull << (s % 64), *w = &u->seen[(s % SEEN_BITS) / 64];
    if (s >= u->high) {
        if (s + 1 - u->high >= SEEN_BITS)
            memset(u->seen, 0, sizeof u->seen);
        else
            for (uint64_t x = u->high; x <= s; x++)
                u->seen[(x % SEEN_BITS) / 64] &= ~(1ull << (x % 64));
        u->high = s + 1;
    } else if (*w & bit) {
        return; /* a duplicate */
    } else {
        f->st.reorder_events++;
    }
    *w |= bit;
    u->delivered++;
    f->st.pkts_delivered++;
    f->st.bytes_delivered += m->len;
    sim_hist_add(&f->st.owd_us, now > m->ts_us ? now - m->ts_us : 0);
    int64_t transit = (int64_t)now - (int64_t)m->ts_us;
    if (u->have_transit) {
        int64_t dd = transit - u->transit;
        u->jitter += ((double)(dd < 0 ? -dd : dd) - u->jitter) / 16;
    }
    u->transit = transit;
    u->have_transit = true;
    f->st.jitter_us = fmax(f->udp[0].jitter, f->udp[1].jitter);
    udp_stall(f, u, now);
    u->last_delivery = now;
    f->st.last_delivery_us = now;
    if (m->frame_pkts > 0) {
        struct frame_rx *fr = &u->frames[m->frame % FRAME_RING];
        if (!fr->used || fr->frame != m->frame)
            *fr = (struct frame_rx){m->frame, 0, m->frame_pkts, m->ts_us, true, false};
        if (!fr->done && ++fr->got >= fr->total) {
            fr->done = true;
            f->st.objects_done++;
            sim_hist_add(&f->st.object_us, now - fr->sent);
        }
    }
}

/* ---- events ---- */

static void flow_event(void *ctx, uint64_t arg, tg_time now)
{
    struct sim_flow *f = ctx;
    uint64_t param = arg >> 8;
    bool stopped = now >= f->c.stop_us;
    switch (arg & 0xff) {
    case EV_START:
        if (stopped)
            break;
        switch (f->c.kind) {
        case SIM_FLOW_TCP: {
            unsigned d = f->c.dir == SIM_DIR_UP ? 0 : 1;
            sim_tcp_write(f->tcp[d], f->c.bytes ? f->c.bytes : UINT64_MAX, now);
            break;
        }
        case SIM_FLOW_VOICE:
            flow_event(f, (uint64_t)EV_VOICE, now);
            break;
        case SIM_FLOW_VIDEO:
            flow_event(f, (uint64_t)EV_VIDEO, now);
            flow_event(f, 1u << 8 | EV_VIDEO, now);
            break;
        case SIM_FLOW_KEYS:
            push(f, now + exp_us(f->io.rng, f->c.think_us), EV_KEY, 0);
            break;
        default:
            web_next(f, now);
            break;
        }
        break;
    case EV_STOP:
        for (unsigned d = 0; d < 2; d++)
            if (f->c.kind == SIM_FLOW_TCP && f->tcp[d])
                sim_tcp_close(f->tcp[d], now);
        break;
    case EV_VOICE: {
        if (stopped)
            break;
        unsigned d = f->c.dir == SIM_DIR_UP ? 0 : 1;
        udp_send(f, d, f->c.pkt_bytes, 0, 0, now);
        double at = (double)(param + 1) * 1e6 / f->c.pkt_rate;
        push(f, f->c.start_us + (tg_time)llround(at), EV_VOICE, param + 1);
        break;
    }
    case EV_VIDEO: {
        if (stopped)
            break;
        unsigned d = (unsigned)(param & 1);
        uint64_t k = param >> 1;
        video_frame(f, d, k, now);
        double at = (double)(k + 1) * 1e6 / VIDEO_FPS;
        push(f, f->c.start_us + (tg_time)llround(at), EV_VIDEO, (k + 1) << 1 | d);
        break;
    }
    case EV_KEY:
        if (stopped)
            break;
        if (f->keys - f->keys_echoed < KEY_RING) { /* else the typist waits */
            f->key_ts[f->keys++ % KEY_RING] = now;
            sim_tcp_write(f->tcp[0], f->c.pkt_bytes, now);
        }
        push(f, now + exp_us(f->io.rng, f->c.think_us), EV_KEY, 0);
        break;
    default: /* EV_WEB */
        if (!stopped)
            web_next(f, now);
        break;
    }
}

/* ---- the API ---- */

void sim_flow_config_default(struct sim_flow_config *c, enum sim_flow_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->cc = SIM_CC_CUBIC;
    c->dir = SIM_DIR_DOWN;
    c->start_us = 0;
    c->stop_us = TG_TIME_NEVER;
    c->bytes = kind == SIM_FLOW_WEB ? 100000 : 0;
    c->rwnd_bytes = 6u << 20;
    c->mss = 1360;
    c->pkt_rate = 50;
    c->pkt_bytes = kind == SIM_FLOW_KEYS ? 48 : 160;
    c->video_bps = 2.5e6;
    c->think_us = kind == SIM_FLOW_WEB ? TG_SEC(2) : kind == SIM_FLOW_KEYS ? TG_MSEC(150) : 0;
}

static bool config_ok(const struct sim_flow_config *c, const struct sim_flow_io *io)
{
    if (!io || !io->emit || !io->q)
        return false;
    if (c->kind < SIM_FLOW_TCP || c->kind > SIM_FLOW_WEB || (unsigned)c->cc > SIM_CC_BBR ||
        (unsigned)c->dir > SIM_DIR_UP)
        return false;
    if (c->mss < 64 || c->mss > 1460 || c->rwnd_bytes < 2 * c->mss)
        return false;
    switch (c->kind) {
    case SIM_FLOW_VOICE:
        return c->pkt_rate >= 0.01 && c->pkt_rate <= 1e5 && c->pkt_bytes <= 1472;
    case SIM_FLOW_VIDEO:
        return io->rng && c->video_bps >= 1000 && c->video_bps <= 1e10;
    case SIM_FLOW_KEYS:
        return io->rng && c->think_us > 0 && c->pkt_bytes > 0 && c->pkt_bytes <= c->mss;
    case SIM_FLOW_WEB:
        return io->rng && c->think_us > 0 && c->bytes > 0 && c->bytes <= (uint64_t)1e10;
    default:
        return true;
    }
}

struct sim_flow *sim_flow_new(const struct sim_flow_config *c, const struct sim_flow_io *io,
                              unsigned id)
{
    if (!c || !config_ok(c, io) || id > 0xffffu - SIM_FLOW_PORT_BASE)
        return NULL;
    struct sim_flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->c = *c;
    f->io = *io;
    f->id = id;
    f->port = (uint16_t)(SIM_FLOW_PORT_BASE + id);
    sim_hist_init(&f->st.owd_us);
    sim_hist_init(&f->st.object_us);
    f->st.first_send_us = f->st.last_delivery_us = f->st.completion_us = TG_TIME_NEVER;
    bool ok = true;
    for (unsigned d = 0; d < 2; d++) {
        bool used = c->kind == SIM_FLOW_KEYS || c->kind == SIM_FLOW_WEB ||
                    c->kind == SIM_FLOW_VIDEO || (d == 1) == (c->dir == SIM_DIR_DOWN);
        if (!used)
            continue;
        if (c->kind == SIM_FLOW_VOICE || c->kind == SIM_FLOW_VIDEO) {
            f->udp[d].on = true;
            continue;
        }
        f->tcp[d] =
            sim_tcp_new(c->cc, c->mss, c->rwnd_bytes, d, sender_of(d), io->q, &tcp_ops, f, &f->st);
        ok = ok && f->tcp[d];
    }
    if (!ok) {
        sim_flow_free(f);
        return NULL;
    }
    return f;
}

void sim_flow_free(struct sim_flow *f)
{
    if (!f)
        return;
    sim_tcp_free(f->tcp[0]);
    sim_tcp_free(f->tcp[1]);
    free(f);
}

void sim_flow_start(struct sim_flow *f)
{
    push(f, f->c.start_us, EV_START, 0);
    if (f->c.stop_us != TG_TIME_NEVER)
        push(f, f->c.stop_us, EV_STOP, 0);
}

void sim_flow_input(struct sim_flow *f, enum sim_side at, const uint8_t *pkt, size_t len,
                    tg_time now)
{
    struct parsed o;
    struct sim_msg m;
    if (!pkt || parse(pkt, len, &o) != 0 || o.port != f->port || tg_ip_sum(pkt, o.hl, 0) != 0xffff)
        goto bad;
    size_t l4_len = o.total - o.hl;
    const uint8_t *l = pkt + o.hl;
    bool udp = o.proto == TG_PROTO_UDP;
    if ((!udp || get16(l + 6) != 0) &&
        tg_ip_sum(l, l4_len, pseudo_sum(pkt, o.proto, l4_len)) != 0xffff)
        goto bad;
    if (msg_get(pkt + o.off, o.total - o.off, &m) != 0 || m.ts_us > now) /* one clock */
        goto bad;
    if (udp != (f->c.kind == SIM_FLOW_VOICE || f->c.kind == SIM_FLOW_VIDEO))
        goto bad;
    if (udp) {
        if (m.type != SIM_MSG_UDP || !f->udp[m.conn].on || at == sender_of(m.conn))
            goto bad;
        udp_input(f, m.conn, &m, now);
        return;
    }
    struct sim_tcp *c = f->tcp[m.conn];
    if (!c || (m.type != SIM_MSG_DATA && m.type != SIM_MSG_ACK) ||
        (at == sim_tcp_sender(c)) != (m.type == SIM_MSG_ACK))
        goto bad;
    sim_tcp_input(c, &m, now);
    return;
bad:
    f->st.bad_pkts++;
}

void sim_flow_finish(struct sim_flow *f, tg_time now)
{
    for (unsigned d = 0; d < 2; d++) {
        if (f->tcp[d])
            sim_tcp_finish(f->tcp[d], now);
        const struct udp_dir *u = &f->udp[d];
        if (!u->on)
            continue;
        /* the sender was sending until stop_us */
        udp_stall(f, u, now < f->c.stop_us ? now : f->c.stop_us);
    }
    f->st.pkts_lost = f->udp[0].sent - f->udp[0].delivered + f->udp[1].sent - f->udp[1].delivered;
}

tg_time sim_flow_outstanding_since(const struct sim_flow *f)
{
    if (!f->tcp[0] && !f->tcp[1])
        return f->c.start_us;
    tg_time t = TG_TIME_NEVER;
    for (unsigned d = 0; d < 2; d++)
        if (f->tcp[d]) {
            tg_time b = sim_tcp_busy_since(f->tcp[d]);
            if (b < t)
                t = b;
        }
    return t;
}

const struct sim_flow_stats *sim_flow_stats(const struct sim_flow *f)
{
    return &f->st;
}

bool sim_flow_window(const struct sim_flow *f, double *cwnd_bytes, uint64_t *inflight_bytes)
{
    int d = f->c.dir == SIM_DIR_UP ? 0 : 1;
    if ((f->c.kind != SIM_FLOW_TCP && f->c.kind != SIM_FLOW_WEB) || f->tcp[d] == NULL)
        return false;
    sim_tcp_window(f->tcp[d], cwnd_bytes, inflight_bytes);
    return true;
}
