/*
 * nat.h: the client's source NAT onto the tunnel address.
 *
 * Sockets bound before the tunnel came up (or to another local address) keep
 * sending with their old source address, and the kernel routes those packets
 * into the TUN, where the server would drop them. The NAT rewrites such a
 * packet's source to the tunnel address and its source port (TCP, UDP) or
 * echo identifier (ICMP, ICMPv6 echo request) to a port of its own from
 * [port_min, port_max]; a reply from the same remote address and port to the
 * tunnel address on that port is translated back. Every checksum involved is
 * updated incrementally (RFC 1624): the IPv4 header checksum, TCP and UDP
 * including the pseudo-header, ICMPv6 including the pseudo-header, ICMPv4 for
 * the identifier. An IPv4 UDP checksum of 0 ("none") stays 0; a UDP checksum
 * that comes out 0 is sent as 0xFFFF.
 *
 * One mapping per flow: the key is the whole 5-tuple (version, protocol,
 * original source address and port, remote address and port; for ICMP the
 * identifier and no remote port), and a mapped port belongs to one flow of
 * its version and protocol at a time. Replies must come from the flow's
 * remote address and port, so packets for a mapped port from anyone else
 * pass untouched. A mapping lives until `timeout` after the last packet in
 * either direction (UDP, TCP and ICMP have separate timeouts): with `last`
 * the time of that packet, it is usable while now < last + timeout and gone
 * from now >= last + timeout. The table has a fixed number of mappings,
 * allocated at creation; lookups in both directions are O(1) expected (two
 * open-addressing indexes over one array), expired mappings are reclaimed
 * oldest first in amortised O(1). Port choice is deterministic: a hash of
 * the flow picks where the search for a free port starts.
 *
 * Left untouched (TG_OK, counted as passthrough): packets whose source is
 * already the tunnel address, packets of a version without a tunnel address,
 * packets from the unspecified address or an IPv6 link-local one, to a
 * multicast, broadcast or IPv6 link-local address (the kernel's own
 * neighbour, router and multicast-listener traffic on the TUN), and inbound
 * packets that match no mapping. Foreign-source packets without ports
 * (protocols other than TCP/UDP/ICMP echo, ICMP errors, echo replies) cannot
 * be translated and also pass untouched (counted as untranslatable).
 * Fragments after the first of an outbound datagram get only their source
 * address rewritten (stateless, so the far end can reassemble); inbound
 * fragments after the first cannot be mapped and pass untouched, as does the
 * packet quoted inside ICMP error messages (no RFC 5508 translation).
 * Not here: reassembly, connection-state tracking (TCP FIN/RST do not
 * shorten a mapping), or choosing the tunnel address.
 */
#ifndef TG_NAT_H
#define TG_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "time.h"

/* Largest capacity tg_nat_new accepts. */
#define TG_NAT_MAX_CAPACITY (1u << 22)

struct tg_nat_config {
    uint32_t capacity;       /* mappings, 1..TG_NAT_MAX_CAPACITY (default 4096) */
    tg_time udp_timeout_us;  /* > 0 (default 3 min) */
    tg_time tcp_timeout_us;  /* > 0 (default 2 h) */
    tg_time icmp_timeout_us; /* ICMP and ICMPv6 echo; > 0 (default 30 s) */
    uint16_t port_min;       /* first mapped port, >= 1 (default 32768) */
    uint16_t port_max;       /* last mapped port, >= port_min (default 61000) */
    uint8_t tun_addr4[4];    /* tunnel IPv4 address, network order */
    bool has_v4;             /* false: IPv4 passes untouched (default false) */
    uint8_t tun_addr6[16];   /* tunnel IPv6 address */
    bool has_v6;             /* false: IPv6 passes untouched (default false) */
};

struct tg_nat_stats {
    uint64_t translated_out; /* outbound packets rewritten */
    uint64_t translated_in;  /* inbound packets rewritten back */
    uint64_t passthrough;    /* packets left untouched, both directions (see above) */
    uint64_t untranslatable; /* outbound foreign-source packets without ports, untouched */
    uint64_t created;        /* mappings created */
    uint64_t table_full;     /* outbound packets refused with TG_ERR_NOBUF */
    uint64_t expired;        /* mappings reclaimed after their timeout */
    uint32_t active;         /* mappings in the table now */
    uint32_t peak_active;    /* highest `active` seen */
};

struct tg_nat;

/* Fill `c` with the defaults above (no tunnel address: set one or both). */
void tg_nat_config_default(struct tg_nat_config *c);

/* Create a NAT with every table sized for c->capacity.
 * Returns TG_OK, TG_ERR_INVAL (a field out of its range above),
 * TG_ERR_NOMEM. */
int tg_nat_new(const struct tg_nat_config *c, const struct tg_allocator *a,
               struct tg_nat **out) TG_MUST_CHECK;
void tg_nat_free(struct tg_nat *n); /* NULL is fine */

/* A packet read from the TUN, about to enter the tunnel: translate it in
 * place if its source needs it (creating or refreshing its mapping), else
 * leave it. The length never changes. `now` never decreases between calls.
 * Returns TG_OK (translated or untouched), TG_ERR_TRUNCATED or
 * TG_ERR_MALFORMED (tg_ip_parse refused it; untouched), TG_ERR_NOBUF (a new
 * mapping was needed but every entry is live, or every port of the range is
 * taken for this version and protocol; untouched, counted in table_full). */
int tg_nat_outbound(struct tg_nat *n, uint8_t *pkt, size_t len, tg_time now) TG_MUST_CHECK;

/* A packet out of the tunnel, about to be written to the TUN: if it is a
 * reply to a live mapping (to the tunnel address and mapped port, from the
 * flow's remote address and port; ICMP: an echo reply with the mapped
 * identifier), rewrite its destination back to the original address and
 * port in place and refresh the mapping; else leave it.
 * Returns TG_OK (translated or untouched), TG_ERR_TRUNCATED or
 * TG_ERR_MALFORMED (tg_ip_parse refused it; untouched). */
int tg_nat_inbound(struct tg_nat *n, uint8_t *pkt, size_t len, tg_time now) TG_MUST_CHECK;

/* Reclaim every mapping whose timeout has passed at `now` (outbound and
 * inbound do this too). For a host's timer, so that stats stay current. */
void tg_nat_expire(struct tg_nat *n, tg_time now);

const struct tg_nat_stats *tg_nat_stats(const struct tg_nat *n);

#endif
