/*
 * traffic.h: the hosts behind the tunnel (DESIGN.md §5). A flow has two ends:
 * the laptop (behind the client core) and an outside host (behind the server
 * core). Every packet a flow emits is a real IPv4 packet with a valid header
 * checksum and a TCP or UDP header (ports identify the flow), so the cores
 * hash, schedule, forward and check it as they would live traffic; the
 * model's own fields (sequence numbers, timestamps, SACK blocks) travel in
 * the payload.
 *
 * Models:
 *  - TCP bulk or sized transfer: slow start; CUBIC (default), Reno, or a
 *    simple BBR-like rate-based sender (max-filtered delivery rate x min RTT,
 *    pacing, loss does not cut the rate); SACK scoreboard; fast retransmit
 *    after 3 duplicate ACKs or when RACK says so (a segment sent more than
 *    reo_wnd = min_rtt/4 before one that was SACKed is lost), so reordering
 *    across paths causes spurious retransmits and cwnd cuts the way it does in
 *    Linux; RTO as Linux's (srtt + at least 200 ms, backoff); delayed ACKs (every 2nd
 *    segment or 40 ms); receive window.
 *  - voice: CBR UDP, pkt_rate packets/s of pkt_bytes (50/s x 160 B);
 *  - video call: UDP frames at 30 fps averaging video_bps, frame sizes drawn
 *    from the flow's stream, split into packets of at most mss bytes, both
 *    directions;
 *  - keystrokes: small TCP-like packets (one per key, echoed back) with
 *    exponential gaps of mean think_us;
 *  - web: a sequence of short TCP transfers (object sizes log-normal with mean
 *    `bytes`, think times exponential with mean think_us), each a new
 *    connection with slow start.
 *
 * Keystrokes and web objects use one TCP connection each way: the laptop
 * writes pkt_bytes per key up and the outside host echoes each complete key
 * down; for web the laptop sends a 500-byte request up and the object comes
 * down (dir = up: the object goes up and a 500-byte response comes down);
 * both connections start afresh for every object (no handshake is
 * modelled). Video frames are log-normal around the mean with a key frame
 * 4 times larger every 2 s, sent in a burst.
 *
 * Timers go on the shared event queue; a flow never reads a clock. Events
 * point at the flow: free it only when the queue will not run again.
 */
#ifndef SIM_TRAFFIC_H
#define SIM_TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "evq.h"
#include "hist.h"

enum sim_side { SIM_SIDE_LAPTOP = 0, SIM_SIDE_OUTSIDE = 1 };
enum sim_flow_kind { SIM_FLOW_TCP = 1, SIM_FLOW_VOICE, SIM_FLOW_VIDEO, SIM_FLOW_KEYS, SIM_FLOW_WEB };
enum sim_cc { SIM_CC_CUBIC = 0, SIM_CC_RENO, SIM_CC_BBR };
enum sim_dir { SIM_DIR_DOWN = 0, SIM_DIR_UP }; /* down: outside host -> laptop */

/* Names as scenario files spell them ("tcp", "voice", ...; "cubic", "reno",
 * "bbr"); "invalid" outside the enums. */
const char *sim_flow_kind_name(enum sim_flow_kind k);
const char *sim_cc_name(enum sim_cc cc);

/* Flow `id` uses port SIM_FLOW_PORT_BASE + id on both sides. */
#define SIM_FLOW_PORT_BASE 10000

struct sim_flow_config {
    enum sim_flow_kind kind;
    enum sim_cc cc;
    enum sim_dir dir;
    tg_time start_us;       /* when the flow starts (virtual time) */
    tg_time stop_us;        /* no new data after this (TG_TIME_NEVER: until the run ends) */
    uint64_t bytes;         /* TCP: transfer size, 0 = unlimited bulk; web: mean object size */
    uint32_t rwnd_bytes;    /* TCP receive window (6 MB) */
    uint32_t mss;           /* largest payload per packet, 64..1460 (1360) */
    double pkt_rate;        /* voice: packets per second (50) */
    uint32_t pkt_bytes;     /* voice: payload bytes per packet (160); keys: bytes per key (48) */
    double video_bps;       /* video: mean rate each way (2.5 Mbit/s) */
    tg_time think_us;       /* web and keystrokes: mean gap (web 2 s, keys 150 ms) */
};

/* Fill with the defaults above for `kind`. */
void sim_flow_config_default(struct sim_flow_config *c, enum sim_flow_kind kind);

struct sim_flow_io {
    /* Hand an IP packet from host `from` to the network (the tunnel). */
    void (*emit)(void *ctx, enum sim_side from, const uint8_t *pkt, size_t len, tg_time now);
    void *ctx;
    struct sim_evq *q;
    gsl_rng *rng;                   /* this flow's own stream */
    uint8_t laptop_addr[4];         /* the client's tunnel address */
    uint8_t outside_addr[4];        /* the outside host (203.0.113.x) */
};

struct sim_flow_stats {
    /* Both directions of a flow add up; TCP counts data packets, not ACKs. */
    uint64_t bytes_sent;            /* payload bytes sent, retransmissions included */
    uint64_t bytes_delivered;       /* payload bytes delivered to the receiving application */
    uint64_t pkts_sent, pkts_delivered;
    uint64_t pkts_lost;             /* UDP: sent but never delivered (counted at finish: call
                                       it once the network has drained) */
    uint64_t retransmits, spurious_retransmits, rto_count, fast_recoveries;
    uint64_t undos;                 /* TCP: recoveries undone, DSACKs showing them spurious */
    tg_time reo_wnd_max_us;         /* TCP: widest RACK reordering window used */
    uint64_t bad_pkts;              /* input ignored: malformed, bad checksum, wrong host */
    tg_time first_send_us, last_delivery_us; /* TG_TIME_NEVER until it happens */
    tg_time completion_us;          /* sized TCP: start to last byte delivered; else TG_TIME_NEVER */
    uint64_t objects_done;          /* web objects / keystrokes echoed / video frames complete */
    tg_time longest_stall_us;       /* longest gap between deliveries while data was outstanding
                                       (TCP) or being sent (UDP), one still open at finish too */
    double jitter_us;               /* UDP flows: RFC 3550 interarrival jitter (video: the
                                       worse direction) */
    uint64_t reorder_events;        /* packets that arrived below the highest sequence seen
                                       (TCP: first transmissions only) */
    struct sim_hist owd_us;         /* one-way delay: first transmission to delivery to the application */
    struct sim_hist object_us;      /* web: object completion times (request to last byte);
                                       keys: echo round trips; video: first send to frame complete */
};

struct sim_flow;

/* A flow using ports 10000+id on both sides. Returns NULL on bad config or no memory. */
struct sim_flow *sim_flow_new(const struct sim_flow_config *c, const struct sim_flow_io *io,
                              unsigned id);
void sim_flow_free(struct sim_flow *f);

/* Schedule the flow's first events (call once, before running the queue). */
void sim_flow_start(struct sim_flow *f);

/* The flow id a packet belongs to (from its destination port, or its source
 * port if the destination is below SIM_FLOW_PORT_BASE), or -1 if it is not
 * ours: not IPv4, bad header length or total length, a fragment, neither TCP
 * nor UDP, transport header cut short, ports below the base, or no model
 * header. Checksums are checked by sim_flow_input, not here. */
int sim_flow_demux(const uint8_t *pkt, size_t len);

/* A packet of this flow arrived at host `at`. Malformed input (bad checksums
 * included) is ignored and counted in bad_pkts. */
void sim_flow_input(struct sim_flow *f, enum sim_side at, const uint8_t *pkt, size_t len,
                    tg_time now);

/* End of the run: close open intervals (stalls in progress, UDP losses). */
void sim_flow_finish(struct sim_flow *f, tg_time now);

const struct sim_flow_stats *sim_flow_stats(const struct sim_flow *f);

/* Since when the flow has had data outstanding without a break: TCP, the
 * earliest of its connections' senders busy since (data unacknowledged or
 * unsent, not app-limited); the open-loop models send from their start on,
 * so their start time. TG_TIME_NEVER while nothing is outstanding: a gap
 * in delivery then is the application's pause, not a stall. */
tg_time sim_flow_outstanding_since(const struct sim_flow *f);

/* TCP and web flows: the congestion window and bytes in flight of the
 * connection in the flow's direction (its bulk data), for time series.
 * Returns false for the other kinds (nothing written). */
bool sim_flow_window(const struct sim_flow *f, double *cwnd_bytes, uint64_t *inflight_bytes);

#endif
