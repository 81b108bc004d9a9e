/*
 * endpoint.h: the two ends of a Triglav tunnel as state machines, the API
 * that the simulator and the live runtime drive (DESIGN.md §2).
 *
 * A client holds one multipath session with a server over up to
 * TG_MAX_UPLINKS uplinks; a server holds many sessions. The host feeds
 * inputs (an IP packet from the TUN side, a datagram received on an uplink or
 * listening socket, uplinks appearing and disappearing), then drains the
 * outputs (datagrams to send, IP packets for the TUN side, events), and calls
 * on_timeout() when next_deadline() is reached. Nothing here reads a clock,
 * touches a socket or allocates per packet: every call takes `now`, queues
 * and tables are sized at creation. Output pointers stay valid until the next
 * input or timeout call on the same endpoint.
 *
 * Session establishment: the first uplink runs Noise NK (HS_INIT). The server
 * answers, but creates the session (tunnel address, token, buffers) only
 * once the client's first transport message under the new keys decrypts,
 * and tells the client in a SESSION frame. Every further uplink joins with
 * NKpsk2 (HS_JOIN), naming the token inside message 1's encrypted payload
 * and proving the join key (a third key split from the first handshake);
 * it too is bound only when a transport message under its keys decrypts.
 * The same join rekeys an uplink before its keys age out. Handshake
 * messages carry MACs and, under load, cookies (cookie.h, gate.h).
 */
#ifndef TG_ENDPOINT_H
#define TG_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "key.h"
#include "reorder.h"
#include "rng.h"
#include "sched.h"
#include "time.h"
#include "uplink.h"

#define TG_MAX_UPLINKS 16
#define TG_PROTOCOL_VERSION 1

/* Everything both ends share: multipath behaviour and timers. */
struct tg_mp_config {
    struct tg_sched_config sched;
    struct tg_reorder_config reorder;
    struct tg_uplink_config uplink;
    tg_time probe_interval_us;      /* PING on each live uplink (100 ms) */
    tg_time down_probe_interval_us; /* PING on Down uplinks so they come back (200 ms) */
    tg_time idle_probe_after_us;    /* a session with no DATA either way for this long ... (10 s) */
    tg_time idle_probe_interval_us; /* ... probes this slowly (1 s): idle sessions cost a server
                                       little, and the first DATA brings the pace back */
    tg_time feedback_interval_us;   /* receiver feedback at most this late (20 ms) */
    uint32_t feedback_packets;      /* ... or this many DATA datagrams late (32) */
    tg_time rekey_after_us;         /* rejoin an uplink when its keys are this old (120 s) */
    uint64_t rekey_after_packets;   /* ... or have sent this many packets (2^60) */
    tg_time reject_after_us;        /* keys older than this are not used any more (180 s) */
    uint32_t queue_slots;           /* datagram and TUN output queue length (256 each) */
    uint32_t max_packet;            /* largest IP packet carried (1500) */
    uint32_t retransmit_slots;      /* packets kept to send again (recover.h; 2048;
                                       0: no loss recovery in the tunnel) */
    double retransmit_budget;       /* at most this many retransmissions per striped
                                       packet sent, over time (0.1) */
    uint32_t max_datagram;          /* UDP payload a path carries unfragmented (1472, for
                                       IPv4 over 1500): a feedback frame rides on a DATA
                                       datagram only below it */
    uint32_t uplink_queue_limit;    /* bytes the sender keeps at most in an uplink's
                                       bottleneck queue, or 2 ms of its rate if more;
                                       the rest waits in the tunnel (48 KB; 0:
                                       everything is sent at once; pace.h) */
    uint32_t pace_slots;            /* packets the tunnel holds at most meanwhile (2048) */
    uint32_t light_flow_rate;       /* a flow sending at most this many bytes a second
                                       passes that queue and is delivered unordered
                                       (64 KB/s; 0: none does; light.h) */
    tg_time playout_max_us;         /* striped packets reach the host with the delay of the
                                       slowest uplink when the uplinks' delays differ by up
                                       to this (0, the default: as they arrive; playout.h) */
};

/* Why a datagram or packet was dropped; counted, never fatal. */
enum tg_drop {
    TG_DROP_MALFORMED = 0,  /* outer message fails to parse */
    TG_DROP_UNKNOWN_INDEX,  /* no session/uplink with that receiver index */
    TG_DROP_DECRYPT,        /* AEAD or handshake authentication failed */
    TG_DROP_REPLAY,         /* nonce counter replayed or too old; handshake message seen before */
    TG_DROP_BAD_FRAME,      /* authenticated plaintext with a malformed frame */
    TG_DROP_DUPLICATE,      /* multipath sequence number seen (redundant copies) */
    TG_DROP_LATE,           /* arrived after the reorder buffer gave up on it */
    TG_DROP_RATE_LIMITED,   /* handshake over the rate of its (proven) source */
    TG_DROP_NO_UPLINK,      /* TUN packet with no usable uplink */
    TG_DROP_QUEUE_FULL,     /* host did not drain outputs */
    TG_DROP_TOO_BIG,        /* IP packet larger than max_packet (either end's) */
    TG_DROP_BAD_PACKET,     /* TUN-side packet that is not IPv4/IPv6 */
    TG_DROP_SPOOFED,        /* inner source address is not the client's */
    TG_DROP_NO_SESSION,     /* server: TUN packet for an address with no session */
    TG_DROP_HANDSHAKE,      /* unexpected or stale handshake message */
    TG_DROP_NAT,            /* client NAT refused (table full, malformed) */
    TG_DROP_MAC,            /* handshake without a valid mac1: sender lacks the tg1_ key */
    TG_DROP_COOKIE,         /* server under load: handshake without a valid mac2, answered
                               with a cookie instead */
    TG_DROP_COUNT
};
const char *tg_drop_name(enum tg_drop d);

enum tg_event_type {
    TG_EV_SESSION_UP = 1,   /* client: tunnel address assigned; server: session created */
    TG_EV_UPLINK_UP,        /* an uplink finished a handshake (first time or after loss) */
    TG_EV_UPLINK_REKEYED,   /* an uplink switched to fresh keys */
    TG_EV_UPLINK_HEALTH,    /* health changed: health_from -> health_to */
    TG_EV_UPLINK_DOWN,      /* an uplink lost its keys (removed, or keys expired) */
    TG_EV_SESSION_DOWN,     /* server: session ended (idle, keys expired, or the client closed it) */
};

struct tg_event {
    enum tg_event_type type;
    unsigned uplink;           /* uplink slot, where it applies */
    uint32_t session;          /* server: session number; client: 0 */
    enum tg_health health_from, health_to;
    uint8_t tunnel_addr[4];    /* SESSION_UP: the client's tunnel IPv4 address */
    uint8_t tunnel_prefix;     /* ... and prefix length */
    tg_time at;
};

/* An outgoing datagram. */
struct tg_datagram {
    unsigned uplink;        /* client: the uplink to send on; server: the listening socket */
    struct tg_key_addr to;  /* server: destination; client: zero (the uplink knows) */
    const uint8_t *data;
    size_t len;
};

/* One uplink as seen from outside (status, metrics, simulator results). */
struct tg_uplink_snapshot {
    unsigned uplink;
    bool present, keyed;
    enum tg_health health;
    tg_time srtt_us, rttvar_us, min_rtt_us;
    double loss, rate_bps;
    int64_t owd_us;
    uint64_t tx_packets, tx_bytes;  /* datagrams sealed on this uplink, and their bytes */
    uint64_t rx_packets, rx_bytes;  /* datagrams opened, and the IP bytes of their DATA */
    uint64_t peer_rx_bytes;    /* the peer's rx_bytes on this uplink as its last FEEDBACK
                                  said: IP bytes delivered over it (0 until it said) */
    uint64_t probes_sent, probes_lost;
    uint64_t queued_bytes;
    tg_time keys_age_us;
    struct tg_key_addr mapped; /* client: the address and port the server sees this
                                  uplink's datagrams come from, after any NAT (type 0
                                  until the server said); server: the same, as it sees it */
};

struct tg_endpoint_counters {
    uint64_t drops[TG_DROP_COUNT];
    uint64_t tun_in, tun_out;           /* IP packets from / to the TUN side */
    uint64_t tun_in_bytes, tun_out_bytes;
    uint64_t dgram_in, dgram_out;       /* datagrams received / queued to send */
    uint64_t handshakes_sent, handshakes_done;
    uint64_t cookies_sent;              /* server: cookie replies; client: cookies received */
    uint64_t reorder_peak;              /* peak reorder-buffer occupancy (any session) */
    uint64_t failovers;                 /* times the scheduler had to leave an uplink that went bad */
    uint64_t retransmitted;             /* striped packets sent again because the peer's NACK
                                           said they were lost */
    uint64_t nacks_sent;                /* NACK frames sent (each names up to 32 packets) */
    uint64_t data_bytes;                /* IP bytes of the TUN packets sent over the tunnel ... */
    uint64_t data_copy_bytes;           /* ... times the number of uplinks each copy went on */
};

void tg_mp_config_default(struct tg_mp_config *c);

/* ---------------------------------------------------------------- client */

struct tg_client_config {
    uint8_t server_public[32];  /* from the tg1_ key */
    struct tg_mp_config mp;
    tg_time handshake_retry_us; /* first retransmission (1 s), doubling up to 4x */
    bool nat;                   /* rewrite other local sources to the tunnel address */
    bool ipv6;                  /* once the session is up, ask the server for a tunnel IPv6
                                   address (ra.h); see tg_client_tunnel_addr6 (false) */
};

struct tg_client;

void tg_client_config_default(struct tg_client_config *c);

/* Create a client. Returns TG_OK, TG_ERR_INVAL (bad configuration), TG_ERR_NOMEM. */
int tg_client_new(const struct tg_client_config *c, const struct tg_rng *rng,
                  const struct tg_allocator *a, tg_time now, struct tg_client **out) TG_MUST_CHECK;
void tg_client_free(struct tg_client *c); /* NULL is fine */

/* Uplink `uplink` (< TG_MAX_UPLINKS) is usable (appeared, or its address
 * changed: the server learns the new address from the next authenticated
 * packet). Starts a handshake if it has no keys.
 * Returns TG_OK or TG_ERR_INVAL. */
int tg_client_uplink_up(struct tg_client *c, unsigned uplink, tg_time now) TG_MUST_CHECK;
/* The uplink disappeared: its keys are wiped, traffic moves to the others. */
void tg_client_uplink_down(struct tg_client *c, unsigned uplink, tg_time now);

/* An IP packet from the TUN side. Returns TG_OK or the TG_ERR_* of a drop
 * (the drop is also counted). */
int tg_client_tun_input(struct tg_client *c, const uint8_t *pkt, size_t len, tg_time now);
/* A datagram received on `uplink`. dgram is modified (decrypted in place). */
int tg_client_udp_input(struct tg_client *c, unsigned uplink, uint8_t *dgram, size_t len,
                        tg_time now);

bool tg_client_next_datagram(struct tg_client *c, struct tg_datagram *out);
/* The next IP packet for the TUN side; *pkt stays valid until the next call
 * into the client. */
bool tg_client_next_tun_packet(struct tg_client *c, const uint8_t **pkt, size_t *len);
bool tg_client_next_event(struct tg_client *c, struct tg_event *out);
tg_time tg_client_next_deadline(const struct tg_client *c);
void tg_client_on_timeout(struct tg_client *c, tg_time now);

/* The client is leaving: tell the server on every keyed uplink (CLOSE), so it
 * frees the session now. Drain the datagrams afterwards. */
void tg_client_close(struct tg_client *c, tg_time now);

/* True once the first handshake completed (the tunnel address is known). */
bool tg_client_session_up(const struct tg_client *c, uint8_t tunnel_addr[4]);
/* The tunnel IPv6 address the server gave (config `ipv6`, a server with an
 * IPv6 prefix): false until its answer came, else addr and *prefix (the
 * prefix length, for the TUN) are filled. */
bool tg_client_tunnel_addr6(const struct tg_client *c, uint8_t addr[16], uint8_t *prefix);
/* Fill up to `cap` snapshots (one per present uplink); returns how many. */
size_t tg_client_snapshot(const struct tg_client *c, struct tg_uplink_snapshot *out, size_t cap);
const struct tg_endpoint_counters *tg_client_counters(const struct tg_client *c);
/* Mappings in the client's NAT table now (nat.h): flows whose foreign
 * source address is rewritten to the tunnel address. Mappings past their
 * timeout are reclaimed by traffic and by tg_client_on_timeout, so the count
 * is current to the last timeout call. 0 before the session is up and
 * without NAT (config `nat` false). */
uint32_t tg_client_nat_entries(const struct tg_client *c);

/* ---------------------------------------------------------------- server */

struct tg_server_config {
    uint8_t static_private[32];
    struct tg_mp_config mp;
    uint8_t pool_addr[4];       /* tunnel address pool (10.85.0.0) */
    uint8_t pool_prefix;        /* (16); .1 is the server, clients from .2 */
    uint8_t pool6_addr[16];     /* tunnel IPv6 prefix (ra.h): a client's address is it with
                                   its IPv4 host number in the low 32 bits */
    uint8_t pool6_prefix;       /* 0: no IPv6 in the tunnel (0), else 16..96 */
    uint32_t max_sessions;      /* (10000; the pool also bounds them) */
    tg_time session_idle_us;    /* a session with no traffic for this long ends (300 s) */
    tg_time pending_timeout_us; /* an answered handshake not proven by then is forgotten (10 s) */
    uint32_t pending_slots;     /* answered, unproven handshakes held at once, oldest
                                   evicted first; also how many recent handshakes are
                                   remembered to refuse replays (1024) */
    uint32_t hs_load_per_s;     /* above this many handshake messages a second the server
                                   is under load and wants mac2 (cookies) (100) */
    uint32_t hs_per_source_per_s; /* under load: handshakes per proven source address and
                                     port (10); an address as a whole gets 8 times that */
    uint32_t hs_burst;          /* (20) */
};

struct tg_server;

void tg_server_config_default(struct tg_server_config *c);
int tg_server_new(const struct tg_server_config *c, const struct tg_rng *rng,
                  const struct tg_allocator *a, tg_time now, struct tg_server **out) TG_MUST_CHECK;
void tg_server_free(struct tg_server *s);

/* A datagram that arrived on listening socket `listen` from `from`. */
int tg_server_udp_input(struct tg_server *s, unsigned listen, const struct tg_key_addr *from,
                        uint8_t *dgram, size_t len, tg_time now);
/* An IP packet from the server's TUN for some client's tunnel address. */
int tg_server_tun_input(struct tg_server *s, const uint8_t *pkt, size_t len, tg_time now);

bool tg_server_next_datagram(struct tg_server *s, struct tg_datagram *out);
bool tg_server_next_tun_packet(struct tg_server *s, const uint8_t **pkt, size_t *len);
bool tg_server_next_event(struct tg_server *s, struct tg_event *out);
tg_time tg_server_next_deadline(const struct tg_server *s);
void tg_server_on_timeout(struct tg_server *s, tg_time now);
uint32_t tg_server_session_count(const struct tg_server *s);
/* Calls fn(ctx, addr) once with the tunnel address of every live session,
 * in no particular order, and returns how many there were (the session
 * count). O(sessions), for status and metrics. fn may read the server
 * (tg_server_snapshot, tg_server_counters) but must not change it. */
typedef void (*tg_server_session_fn)(void *ctx, const uint8_t addr[4]);
uint32_t tg_server_sessions(const struct tg_server *s, tg_server_session_fn fn, void *ctx);
/* Snapshots of the uplinks of the session whose tunnel address is `addr`. */
size_t tg_server_snapshot(const struct tg_server *s, const uint8_t addr[4],
                          struct tg_uplink_snapshot *out, size_t cap);
const struct tg_endpoint_counters *tg_server_counters(const struct tg_server *s);

#endif
