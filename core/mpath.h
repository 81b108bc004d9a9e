/*
 * mpath.h: the multipath session that client and server share (internal to
 * the core). It owns one transport per uplink slot ("path"), the per-path
 * estimators, the scheduler, the dedup window and the reorder buffer; it
 * turns IP packets into sealed datagrams and authenticated datagrams back into
 * IP packets, and runs probes and receiver feedback. Handshakes and lookups by
 * receiver index belong to client.c and server.c; this file only receives
 * the keys they produce.
 */
#ifndef TG_MPATH_H
#define TG_MPATH_H

#include "endpoint.h"
#include "light.h"
#include "noise.h"
#include "transport.h"

/* A fixed ring of output slots (datagrams or TUN packets). */
struct tg_queue {
    uint8_t *buf;            /* slots * slot_bytes */
    struct tg_datagram *meta; /* per slot */
    uint32_t slots, slot_bytes;
    uint32_t head, count;
};

int tg_queue_init(struct tg_queue *q, uint32_t slots, uint32_t slot_bytes,
                  const struct tg_allocator *a) TG_MUST_CHECK;
static inline uint32_t tg_queue_room(const struct tg_queue *q)
{
    return q->slots - q->count;
}
void tg_queue_clear(struct tg_queue *q, const struct tg_allocator *a);
/* The next free slot's buffer, or NULL when full. Commit with tg_queue_push. */
uint8_t *tg_queue_reserve(struct tg_queue *q);
void tg_queue_push(struct tg_queue *q, const struct tg_datagram *meta, size_t len);
bool tg_queue_pop(struct tg_queue *q, struct tg_datagram *out);

/* What an endpoint owns once, shared by its sessions. */
struct tg_io {
    struct tg_queue out;  /* datagrams to send */
    struct tg_queue tun;  /* IP packets for the TUN side */
    struct tg_event events[64];
    uint32_t ev_head, ev_count;
    struct tg_endpoint_counters counters;
};

void tg_io_event(struct tg_io *io, const struct tg_event *ev);
void tg_io_drop(struct tg_io *io, enum tg_drop why);
/* Queue an IP packet for the TUN side (copied), counting it or the drop. */
void tg_io_tun_push(struct tg_io *io, const uint8_t *pkt, size_t len);
/* Take the oldest event; false when there is none. */
bool tg_io_pop_event(struct tg_io *io, struct tg_event *out);
/* A slot for an outgoing datagram, or NULL (counted as queue_full). */
uint8_t *tg_io_reserve_out(struct tg_io *io);
/* Queue the datagram written into the slot tg_io_reserve_out gave, counted. */
void tg_io_push_out(struct tg_io *io, const struct tg_datagram *meta, size_t len);
/* Take the oldest packet for the TUN side; false when there is none. */
bool tg_io_pop_tun(struct tg_io *io, const uint8_t **pkt, size_t *len);

#define TG_LATE_PROBES 4 /* timed-out probes remembered per path, for a late answer */
#define TG_TX_RING 1024 /* recent (counter -> bytes sent so far, when) per path */
#define TG_LOST_RUNS 8 /* runs of lost datagrams named in one NACK datagram (LOST_RUN) */

/* Low 32 bits only (12 bytes a mark, so the ring covers 1024 datagrams, a
 * 1 MB queue at full size, in 12 KB): only differences between marks, and
 * between a mark and now, are ever taken, and those stay far below 2^32
 * (4 GB, 71 minutes). */
struct tg_tx_mark {
    uint32_t cum;  /* bytes sent on the path up to and including this counter */
    uint32_t at;   /* when this counter was sent (us) */
    uint32_t held; /* ... this long after the time it carries (pace.h), or
                      TG_MARK_UNTIMED: it carried none (a feedback, NACK or PONG
                      alone), and a delay reported beside its counter is of the
                      DATA or PING before it */
};
#define TG_MARK_UNTIMED UINT32_MAX
/* Microseconds from a mark's time `at` to `now`. */
static inline tg_time tg_mark_age(uint32_t at, tg_time now)
{
    return (uint32_t)((uint32_t)now - at);
}
/* A mark's time `at` in full, as of `now` (the mark is older). */
static inline tg_time tg_mark_time(uint32_t at, tg_time now)
{
    return now - tg_mark_age(at, now);
}
/* Microseconds from mark a to mark b (b sent later). */
static inline tg_time tg_mark_span(const struct tg_tx_mark *a, const struct tg_tx_mark *b)
{
    return (uint32_t)(b->at - a->at);
}

struct tg_path {
    bool keyed;                  /* has current keys */
    bool confirmed;              /* a message under cur decrypted: the peer has them too */
    struct tg_transport cur;
    bool has_prev;               /* previous keys, still accepted after a rekey */
    struct tg_transport prev;
    tg_time keys_at;             /* when cur was installed */
    tg_time prev_until;          /* prev accepted until then */
    struct tg_key_addr peer;     /* server: where this path's datagrams go */
    struct tg_key_addr mapped;   /* client: this path's source as the server last saw it
                                    (OBSERVED on its PONGs); type 0 until then */
    unsigned listen;             /* server: listening socket */
    struct tg_uplink_est est;
    /* probes */
    uint32_t probe_id;
    uint64_t last_data_seq;  /* multipath seq of the last DATA frame sent here ... */
    bool last_data_solo;     /* ... valid, and sent on this uplink only (PATH_SEQ) */
    bool last_data_ordered;  /* ... and striped (the receiver asks for it if it is lost) */
    bool probe_out;
    uint32_t late_probes[TG_LATE_PROBES]; /* probes timed out whose answers may still come
                                             (ids; 0: none) */
    tg_time probe_sent, next_probe;
    uint64_t probes_sent, probes_lost;
    /* receiver side: what arrived on this path, reported by feedback */
    uint64_t rx_packets, rx_bytes, rx_highest;
    uint64_t rx_data_seq;    /* the multipath seq of the newest DATA frame received on it */
    int64_t rx_owd_us;       /* TG_OWD_UNKNOWN until the peer's clock is anchored */
    /* receiver: the queue this uplink's DATA met, to tell an overflowing queue
     * (congestion: the inner flow must see it) from a random loss (recovered) */
    int64_t rx_owd_min[2];       /* minimum one-way delay, this and the last 5 s bucket */
    int64_t rx_queue_max[2];     /* largest queueing delay, this and the last 10 s bucket */
    tg_time rx_owd_bucket, rx_queue_bucket;
    bool rx_owd_seen;
    /* DATA received and losses seen, all and those near the top of that queue
     * (halved every LOSS_WINDOW samples): a loss is taken for an overflow when
     * losses near the top are clearly more frequent than below it */
    uint32_t lc_n, lc_top_n, lc_loss, lc_top_loss;
    bool fb_pending;
    tg_time fb_due;
    uint32_t rx_unreported;      /* DATA frames since the last feedback sent */
    /* sender side */
    uint64_t tx_packets, tx_bytes;
    struct tg_tx_mark tx[TG_TX_RING];
    uint64_t fb_rx_packets, fb_rx_bytes, fb_highest; /* last feedback seen */
    tg_time fb_at;
    bool fb_seen;
    struct tg_tx_mark reported;  /* the mark of the newest packet the receiver reported
                                    (fb_highest); cum only, if it had left the ring */
    bool anchor_valid;           /* reported is that packet's own mark (see queued_now) */
    bool q_valid;                /* the queue model below holds (a rate and an anchor) */
    double q_bytes;              /* the bottleneck's queue after the datagram sent at q_at */
    tg_time q_at;
    tg_time fb_arrival;          /* when the newest DATA or PING the last feedback reported
                                    reached the receiver (the sender's clock; valid below) */
    bool fb_arrival_valid;
    tg_time fb_advanced_at;      /* a feedback last reported a higher counter then */
    uint64_t elicit_counter;     /* the last DATA or PING (what a receiver reports) */
    bool unreported;             /* one of those is not reported yet ... */
    tg_time unreported_at;       /* ... and the oldest went about then */
    uint64_t reinject_seq;       /* multipath seqs below this were looked at for sending
                                    again on the others while it was overdue (recover.h) */
    tg_time reinject_at;         /* ... and the others are looked at no sooner than this */
    tg_time last_rx;
    /* sender: packets held for this uplink until its bottleneck has room (pace.h) */
    uint32_t pace_head, pace_tail, pace_n;
    uint64_t pace_bytes;
    tg_time valve_drop_at; /* the last packet dropped at the valve */
    tg_time drain_at, drain_until; /* the last drain of its bottleneck's queue began and
                                      ends then (pace.h) */
    tg_time held_us;             /* the DATA or PING being sent carries a time this much
                                    older than its sending ... */
    bool timed;                  /* ... and one is being sent (its mark keeps held_us) */
    tg_time probe_backdate;      /* the probe out carried a time this much older */
};

struct tg_rtx;
struct tg_pace;
struct tg_mp;
/* Host of the session: what to do with an authenticated IP packet. */
typedef void (*tg_mp_deliver_fn)(void *owner, struct tg_mp *mp, uint8_t *pkt, size_t len,
                                 tg_time now);
/* Host of the session: an authenticated SESSION or CLOSE frame on path `slot`.
 * It must not free the session: the host does that after the input returns. */
typedef void (*tg_mp_frame_fn)(void *owner, struct tg_mp *mp, unsigned slot,
                               const struct tg_frame *f, tg_time now);

struct tg_mp {
    const struct tg_mp_config *cfg;
    struct tg_io *io;
    struct tg_allocator alloc;    /* zeroed: the C library */
    struct tg_path *paths[TG_MAX_UPLINKS]; /* allocated when a slot first gets keys */
    struct tg_sched *sched;
    struct tg_reorder *reorder;   /* allocated at the first striped packet, freed when
                                     it has been empty for reorder_idle_us */
    tg_time ordered_at;           /* the last striped packet arrived then */
    tg_time expect_at[TG_MAX_UPLINKS]; /* tg_mp_expect was called then */
    tg_time drained_at;           /* the reorder buffer was last drained then */
    /* loss recovery of striped packets */
    struct tg_pace *pace;         /* sender: packets held until their uplink has room
                                     (pace.h), allocated like the retransmit store */
    struct tg_rtx *rtx;           /* sender: the last retransmit_slots packets kept
                                     (recover.h), allocated and given back like the
                                     reorder buffer */
    tg_time kept_at;              /* sender: the last packet kept (recover.h) went then */
    bool blind;                   /* sender: kept packets went while no uplink answered, */
    uint64_t blind_from;          /* ... the oldest of them not sent again yet is this seq; */
    tg_time replay_at;            /* ... the rest go no sooner than this (0: on a datagram) */
    double rtx_tokens;            /* sender: retransmissions allowed now */
    double ask_tokens;            /* receiver: the same budget, counted on what arrives, so
                                     it never waits for a packet the sender will not send */
    uint64_t nack[TG_NACK_MAX];   /* receiver: lost packets to ask for */
    uint8_t n_nack;
    struct {
        uint64_t seq, after;
    } runs[TG_LOST_RUNS];         /* receiver: ... and the runs lost before them (LOST_RUN) */
    uint8_t n_runs;
    struct tg_replay dedup;       /* over multipath sequence numbers */
    uint64_t next_seq;
    uint64_t peer_time;           /* the peer's clock (us) in its newest DATA frame or PING */
    bool peer_time_known;         /* anchored by a PING's full 64-bit send time */
    uint64_t dgram_sent;          /* the datagram being read: its send time on the peer's
                                     clock, once a DATA frame or PING in it told (else 0),
                                     for the reorder buffer; never a time borrowed from
                                     another uplink's datagram, which the buffer would take
                                     for how far this uplink has delivered */
    int64_t playout_owd;          /* receiver: striped packets leave at their send time
                                     plus this (the slowest uplink's one-way delay) ... */
    bool playout_on;              /* ... when this is set (playout.h) */
    uint8_t flow_key[16];
    struct tg_light light;        /* sender: flows that pass the tunnel's queue */
    bool server;                  /* datagrams carry a destination */
    uint32_t id;                  /* server: the session's slot */
    uint32_t ev_session;          /* server: the session number its events carry */
    tg_mp_deliver_fn deliver;
    tg_mp_frame_fn on_frame;      /* NULL: SESSION and CLOSE frames are ignored */
    void *owner;
    /* server: a SESSION frame rides on every PONG until announce_until */
    tg_time announce_until;
    uint8_t announce_token[TG_SESSION_TOKEN_LEN], announce_addr[4], announce_prefix;
    int last_best;                /* uplink the scheduler used last (failover count) */
    tg_time last_activity;
    tg_time data_at;              /* a DATA frame was sent or received then (probe pace) */
};

int tg_mp_init(struct tg_mp *mp, const struct tg_mp_config *cfg, struct tg_io *io,
               const struct tg_rng *rng, const struct tg_allocator *a, bool server,
               tg_time now) TG_MUST_CHECK;
void tg_mp_clear(struct tg_mp *mp, const struct tg_allocator *a);

/* Install fresh keys on path `slot` (allocating the path the first time).
 * If it already had keys they become `prev` for a grace period (rekey).
 * Returns TG_OK or TG_ERR_NOMEM (nothing changed). */
int tg_mp_path_keys(struct tg_mp *mp, unsigned slot, struct tg_noise_cipher *send,
                     struct tg_noise_cipher *recv, uint32_t local_index, uint32_t remote_index,
                     tg_time now) TG_MUST_CHECK;
/* Forget path `slot`'s keys. */
void tg_mp_path_drop(struct tg_mp *mp, unsigned slot, tg_time now);
/* The peer may start sending on uplink `slot` within a round trip: the
 * server answered a join on it, and binds the keys only when the first
 * message under them arrives. The reorder buffer counts the uplink alive
 * from now (for the hold time), so the first packets the client stripes
 * onto it, on a slower uplink, do not find their gaps given up on before
 * the keys are even bound here. */
void tg_mp_expect(struct tg_mp *mp, unsigned slot, tg_time now);
/* Path `slot`, or NULL when it never had keys. */
static inline struct tg_path *tg_mp_path(const struct tg_mp *mp, unsigned slot)
{
    return slot < TG_MAX_UPLINKS ? mp->paths[slot] : NULL;
}
static inline bool tg_mp_keyed(const struct tg_mp *mp, unsigned slot)
{
    const struct tg_path *p = tg_mp_path(mp, slot);
    return p != NULL && p->keyed;
}
/* Send CLOSE(reason) on every keyed path now. */
void tg_mp_close(struct tg_mp *mp, uint8_t reason, tg_time now);

/* Between the session's files (mpath.c, recover.c): */
/* keys present and not too old to send with */
bool tg_mp_usable(const struct tg_mp *mp, const struct tg_path *p, tg_time now);
/* Bytes per microsecond the queue model drains: the delivery rate. A rate
 * measured while the tunnel held packets back (pace.h) may be below what the
 * uplink can carry; the model then sees a queue the receiver does not, every
 * report re-anchors it at the queue measured (empty), and the limit's worth
 * sent beyond the rate each time lets the estimate rise. Draining faster than
 * the rate on such a report instead overfilled a long path's small buffer:
 * the error grows with the time since the report, and the buffer overflowed
 * again and again (100 + 50 Mbit/s, 40 ms of skew, 64 KB queues). */
static inline double tg_mp_drain_per_us(const struct tg_path *p)
{
    return p->est.rate_bps / 8e6;
}
/* The queue the receiver last measured on the path, in bytes at its rate
 * (0 before a rate is known): not what was sent since. */
static inline double tg_mp_measured_queue(const struct tg_path *p)
{
    return p->est.has_rate ? (double)p->est.queue_delay_us * tg_mp_drain_per_us(p) : 0;
}
/* The model's queue `q` bytes after `dt` more of draining (never below empty). */
static inline double tg_mp_drained(const struct tg_path *p, double q, tg_time dt)
{
    q -= tg_mp_drain_per_us(p) * (double)dt;
    return q > 0 ? q : 0;
}
/* a health change of path `slot` since `before`, as an event */
void tg_mp_health_event(struct tg_mp *mp, unsigned slot, enum tg_health before, tg_time now);
/* srtt + 4 rttvar, or the initial RTO before any sample: how long an answer
 * may take on this path */
tg_time tg_mp_rtt_bound(const struct tg_path *p);
/* a datagram with only the path's FEEDBACK (feedback.c) */
void tg_mp_send_feedback(struct tg_mp *mp, unsigned slot, tg_time now);
/* the peer's FEEDBACK frame: the estimator and the queue model (feedback.c) */
void tg_mp_on_feedback(struct tg_mp *mp, const struct tg_frame *f, tg_time now);
/* bytes the path's bottleneck still has to carry (a queue model, feedback.c) */
uint64_t tg_mp_queued(const struct tg_mp *mp, const struct tg_path *p, tg_time now);
/* when the path may be dead: the oldest DATA or PING the receiver has not
 * reported on it, and the last feedback that reported progress, are both
 * srtt + 4 rttvar + two feedback intervals old (a path whose queue holds a
 * burst still reports, so it is not taken for dead; feedback, PONG and NACK
 * datagrams are never reported, so they do not count). TG_TIME_NEVER when
 * nothing is outstanding. */
tg_time tg_mp_overdue_at(const struct tg_mp *mp, const struct tg_path *p);
/* a DATA or PING just went out on p (tg_mp_finish): the receiver owes a report */
void tg_mp_elicit(struct tg_path *p, tg_time now);
/* append the path's pending FEEDBACK frame when it fits in cap */
void tg_mp_add_feedback(struct tg_mp *mp, unsigned slot, uint8_t *plain, size_t cap,
                        size_t *off);
/* room for plaintext in an output slot */
size_t tg_mp_plain_cap(const struct tg_mp *mp);
/* seal the plaintext written after the DATA header of `buf` and queue it on `slot` */
void tg_mp_finish(struct tg_mp *mp, unsigned slot, uint8_t *buf, size_t plain_len, tg_time now);

/* Put DATA frame `seq` (with feedback when it fits) on path `slot` now; `solo`:
 * on no other uplink. */
void tg_mp_send_data(struct tg_mp *mp, unsigned slot, uint64_t seq, uint8_t flags, bool solo,
                     const uint8_t *pkt, size_t len, tg_time stamp, tg_time now);

/* Send one IP packet of the TUN side. */
int tg_mp_send(struct tg_mp *mp, const uint8_t *pkt, size_t len, tg_time now);
/* An authenticated-or-not DATA message for path `slot`, key `which`
 * (0 = cur, 1 = prev). Returns TG_OK or the drop reason's TG_ERR_*. */
int tg_mp_receive(struct tg_mp *mp, unsigned slot, struct tg_transport *t,
                  const struct tg_wire_msg *m, uint8_t *dgram, tg_time now);
/* Send a PING on `slot` now (confirms new keys; probes). */
void tg_mp_ping(struct tg_mp *mp, unsigned slot, tg_time now);

tg_time tg_mp_next_deadline(const struct tg_mp *mp);
void tg_mp_on_timeout(struct tg_mp *mp, tg_time now);
/* Move packets the reorder buffer has ready into the TUN queue, as far as it
 * has room (as of the last receive or timeout). The host calls it after taking
 * packets out of a full queue: a gap filled late can make more packets ready at
 * once than the queue holds, and those wait in the buffer meanwhile. */
void tg_mp_release(struct tg_mp *mp);
void tg_mp_snapshot(const struct tg_mp *mp, unsigned slot, tg_time now,
                    struct tg_uplink_snapshot *out);

#endif
