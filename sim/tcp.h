/*
 * tcp.h (private to the traffic models): one TCP-like connection carrying a
 * byte stream from a sender host to a receiver host, both ends in one object.
 * It knows nothing of IP: it hands decoded messages (struct sim_msg) to the
 * flow, which wraps them in IPv4/TCP, and takes decoded messages back.
 *
 * Sender: the window and pacing rate of cc.h (CUBIC, Reno, BBR-like); SACK
 * scoreboard; loss when 3 segments above are SACKed or by RACK (RFC 8985,
 * reo_wnd from min_rtt/4, widened on DSACK as Linux's: tcp_rack.h); lost
 * segments go first; one cwnd reduction per recovery episode; DSACK counts
 * spurious retransmits (and, as in Linux, their bytes as delivered for the
 * rate estimate) and undoes a recovery all of whose retransmissions it showed
 * spurious; delivery-rate sampling (draft-cheng-iccrg-delivery-rate-
 * estimation); RTO as Linux computes it (srtt + the largest deviation of
 * the last round trip, at least 200 ms) with Karn's rule, up to 60 s, backoff.
 * Receiver: in-order delivery, out-of-order segments kept, ACK every 2nd full
 * segment or after 40 ms, at once on out-of-order arrivals, hole fills and
 * duplicates (DSACK); up to 3 SACK blocks, most recent first; advertised
 * window = rwnd minus out-of-order bytes held.
 * Not modelled: handshake, FIN, Nagle, TLP, PRR, timestamps beyond an echo
 * for RACK, undo of spurious reductions, reo_wnd and dupthresh adaptation.
 *
 * Segments never change boundaries once sent, and every segment has an index
 * (0, 1, 2...) carried in the message; both ends keep rings indexed by it.
 */
#ifndef SIM_TCP_H
#define SIM_TCP_H

#include "traffic.h"

/* The model's own header in the payload of every packet (see traffic.c for
 * the byte layout). */
enum sim_msg_type { SIM_MSG_DATA = 1, SIM_MSG_ACK = 2, SIM_MSG_UDP = 3 };
enum sim_msg_flag { SIM_MSGF_RETX = 1, SIM_MSGF_DSACK = 2 };
#define SIM_MSG_SACK_MAX   3
#define SIM_MSG_DATA_BYTES 48 /* header of a data segment; shorter segments are padded */
#define SIM_MSG_UDP_BYTES  32

struct sim_msg {
    uint8_t type;  /* enum sim_msg_type */
    uint8_t conn;  /* which connection / direction of the flow (0 up, 1 down) */
    uint8_t flags; /* enum sim_msg_flag */
    uint8_t nsack; /* ACK: SACK blocks used */
    uint32_t gen;  /* connection generation (a web object's number) */
    tg_time ts_us; /* when this packet was sent */
    /* DATA and UDP */
    uint64_t seq;        /* DATA: first byte; UDP: packet number */
    uint64_t idx;        /* DATA: segment index */
    tg_time first_tx_us; /* DATA: first transmission of this segment */
    uint32_t len;        /* DATA: stream bytes carried; UDP: payload bytes */
    uint32_t frame;      /* UDP: video frame number */
    uint16_t frame_pkts; /* UDP: packets in this frame */
    /* ACK */
    uint64_t ack;                       /* next byte expected */
    tg_time ts_echo_us;                 /* ts_us of the data packet that triggered the ACK */
    uint32_t rwnd;                      /* advertised window, bytes */
    uint64_t sack[SIM_MSG_SACK_MAX][2]; /* [start, end) byte ranges, most recent first */
    uint64_t dsack[2];                  /* duplicate range when SIM_MSGF_DSACK */
    uint64_t dsack_idx;                 /* its segment index */
};

struct sim_tcp_ops {
    /* Put m on the wire from host `from`; the TCP payload is at least
     * max(m->len, header) bytes for data. */
    void (*xmit)(void *ctx, enum sim_side from, const struct sim_msg *m, tg_time now);
    /* The receiving application now has stream bytes [0, end) of `conn`. */
    void (*deliver)(void *ctx, unsigned conn, uint64_t end, tg_time now);
};

struct sim_tcp;

/* A connection numbered `conn` whose data goes from `sender` to the other
 * side; counters go to *st (shared with the flow). Returns NULL on no memory. */
struct sim_tcp *sim_tcp_new(enum sim_cc cc, uint32_t mss, uint32_t rwnd_bytes, unsigned conn,
                            enum sim_side sender, struct sim_evq *q, const struct sim_tcp_ops *ops,
                            void *ctx, struct sim_flow_stats *st);
void sim_tcp_free(struct sim_tcp *c);

/* Forget everything: a fresh connection (slow start, no data) of generation
 * gen. Messages and timers of the old generation are ignored from now on. */
void sim_tcp_reset(struct sim_tcp *c, uint32_t gen);
enum sim_side sim_tcp_sender(const struct sim_tcp *c);

/* The sending application writes n more bytes (UINT64_MAX: an endless stream). */
void sim_tcp_write(struct sim_tcp *c, uint64_t n, tg_time now);
/* The sending application writes nothing more than what has been sent. */
void sim_tcp_close(struct sim_tcp *c, tg_time now);

/* A message of this connection (DATA at the receiver, ACK at the sender). */
void sim_tcp_input(struct sim_tcp *c, const struct sim_msg *m, tg_time now);

/* End of the run: a stall in progress counts up to now. */
void sim_tcp_finish(struct sim_tcp *c, tg_time now);

/* Since when the sender has had data unacknowledged or unsent (not
 * app-limited), or TG_TIME_NEVER while it has none. */
tg_time sim_tcp_busy_since(const struct sim_tcp *c);

/* The sender's congestion window and bytes in flight now (time series). */
void sim_tcp_window(const struct sim_tcp *c, double *cwnd_bytes, uint64_t *inflight_bytes);

#endif
