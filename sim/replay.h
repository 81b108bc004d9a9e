/*
 * replay.h: open-loop replay of a packet capture through one run (DESIGN.md
 * §5). A capture (pcap or pcapng, read with libpcap) is loaded whole; each
 * of its IP packets goes into the tunnel at its capture time, counted from
 * the first packet and starting when the tunnel comes up (sim_run's replay
 * hook, run.h), and what comes out of the far core is matched back to the
 * packet it was, restored, and timed.
 *
 * Link types: Ethernet (with at most one 802.1Q/802.1ad tag), raw IP
 * (LINKTYPE_RAW, DLT_IPV4, DLT_IPV6), Linux cooked captures v1 and v2. Other
 * link types are refused. Frames that do not carry IPv4 or IPv6 (ARP, MPLS,
 * LLDP ...) are skipped and counted. A frame captured shorter than it was
 * (caplen < len) or a file that ends inside a record is an error: replay
 * needs whole packets, and so is a capture spanning more than a day (the
 * run would simulate all of it). An IP packet is the frame's payload cut to
 * the IP header's length (Ethernet padding is not part of it). Timestamps
 * that go back are taken as the previous packet's.
 *
 * Direction (SIM_REPLAY_AUTO): the laptop is the address, per IP version,
 * that appears in the most packets (as source or destination); ties go to a
 * private address (RFC 1918, 100.64/10, 169.254/16, fc00::/7, fe80::/10),
 * then to the one seen first as a source. Multicast, broadcast and
 * unspecified addresses are never the laptop. A packet from the laptop goes
 * up (into the client core), one to it goes down (into the server core), one
 * that involves neither goes up if its source is private, else down.
 *
 * What the cores need, and how it is undone. The server forwards IPv4 only,
 * checks that an upstream packet's source is the client's tunnel address and
 * routes downstream packets by that destination. So an IPv4 packet's laptop
 * side is rewritten to the tunnel address (source going up, destination
 * coming down; the other address is kept), with the IPv4 header checksum and
 * the TCP or UDP checksum updated incrementally (RFC 1624), and restored on
 * delivery. An IPv6 packet travels inside an IPv4 header (protocol 41, 6in4)
 * between the tunnel address and 203.0.113.41, which is stripped on
 * delivery. Every delivered packet is restored and compared with the
 * original: a difference is counted as corrupt (a bug, never expected).
 * A packet larger than the tunnel's largest (1500 bytes, after the 6in4
 * header) is dropped by the core and counted as lost.
 *
 * Not here: the command line (replay_cmd.c), writing the database (db.c).
 */
#ifndef SIM_REPLAY_H
#define SIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/time.h"
#include "run.h"

enum sim_replay_mode { SIM_REPLAY_AUTO = 0, SIM_REPLAY_UP, SIM_REPLAY_DOWN };

/* One IP packet of the capture, and what became of it in the last run. */
struct sim_replay_packet {
    uint64_t frame;             /* record number in the file, 1 first (as Wireshark counts) */
    tg_time capture_us;         /* capture time - first IP packet's, never decreasing */
    enum sim_side from;         /* laptop: up; outside: down */
    uint8_t version;            /* 4 or 6 (from the link layer, or the first nibble) */
    const uint8_t *orig;        /* the IP packet as captured */
    size_t len;                 /* bytes */
    /* results of the last run */
    tg_time sent_us;            /* virtual time it went into its core (TG_TIME_NEVER: never) */
    tg_time delivered_us;       /* virtual time it came out (TG_TIME_NEVER: lost) */
    int rc;                     /* the core's answer when it went in (TG_OK or TG_ERR_*) */
    uint32_t uplinks;           /* bit u: uplink u carried it (0: none or unknown) */
    bool reordered;             /* arrived after a later-sent packet of its direction */
    bool corrupt;               /* came out but did not restore to orig (never expected) */
    const uint8_t *restored;    /* delivered: the packet restored (len bytes), else NULL */
};

struct sim_replay_stats {
    uint64_t frames;            /* records in the file */
    uint64_t skipped;           /* records that are not IP */
    uint64_t injected;          /* IP packets: delivered + lost */
    uint64_t ipv6;              /* of those, IPv6 */
    uint64_t up, down;          /* of those, per direction */
    uint64_t delivered, lost;
    uint64_t reordered;
    uint64_t too_big;           /* lost because larger than the tunnel carries */
    uint64_t corrupt;           /* delivered but not restored byte for byte (a bug) */
    uint64_t unmatched;         /* packets out of a core that match no packet put in (a bug) */
    double owd_p50_us, owd_p99_us; /* one-way delay over delivered packets (NAN: none) */
    tg_time session_up_us;      /* when the tunnel came up (TG_TIME_NEVER: never) */
    bool oom;                   /* memory ran out in the run: nothing was injected */
};

struct sim_replay;

/* The largest capture replayed, in bytes (all of it is held in memory). */
#define SIM_REPLAY_MAX_BYTES (1024 << 20)

/* Load a capture file. Only a regular file of at most SIM_REPLAY_MAX_BYTES is
 * read (a FIFO or a device is refused without blocking or reading). Returns 0
 * with *out set, or -1 with "PATH: what went wrong" in err (unreadable, not
 * a regular file, too large, not pcap/pcapng, unsupported link type, a
 * truncated record, a frame captured short, out of memory). */
int sim_replay_load(const char *path, enum sim_replay_mode mode, struct sim_replay **out,
                    char *err, size_t errlen);
/* The same from an open stream (fmemopen for the fuzzer); `name` is used in
 * messages. The stream is closed in every case. */
int sim_replay_load_stream(FILE *f, const char *name, enum sim_replay_mode mode,
                           struct sim_replay **out, char *err, size_t errlen);
void sim_replay_free(struct sim_replay *rp); /* NULL is fine */

size_t sim_replay_count(const struct sim_replay *rp);
const struct sim_replay_packet *sim_replay_packet(const struct sim_replay *rp, size_t i);
/* The laptop's address chosen in auto mode, as text ("" if none or forced). */
const char *sim_replay_local(const struct sim_replay *rp);

/* The hook for sim_run (spec.replay). Clears the results of a previous run;
 * valid while rp lives. drain_us: how long the run goes on after the last
 * packet. */
const struct sim_replay_src *sim_replay_source(struct sim_replay *rp, tg_time drain_us);

/* Totals of the last run (call after sim_run). */
void sim_replay_stats(const struct sim_replay *rp, struct sim_replay_stats *st);

/* Write the delivered packets, restored, in arrival order, to a pcap file
 * (LINKTYPE_RAW); each timestamp is the capture's start + the packet's
 * arrival counted from when the tunnel came up. Returns 0 or -1 (err). */
int sim_replay_write_pcap(const struct sim_replay *rp, const char *path, char *err,
                          size_t errlen);

/* Rewrite every packet into its tunnel form and back, as a run does,
 * without a run: returns true when every packet restores byte for byte and
 * every IPv4 header, TCP or UDP checksum that verified before verifies in
 * the tunnel form too (the fuzzer's properties). Clears run results. */
bool sim_replay_selfcheck(struct sim_replay *rp, const uint8_t tunnel_addr[4]);

/* `triglav-sim replay` (replay_cmd.c): argv[0] is "replay". Returns the exit
 * status: 0 done, 1 error, 2 bad usage. */
int sim_replay_main(int argc, char **argv);

#endif
