/*
 * ip.h: just enough IPv4/IPv6 to steer and translate packets: parse the
 * addresses and the transport 5-tuple (TCP, UDP, ICMP, ICMPv6) of a packet in
 * memory, and the Internet checksum, full (RFC 1071) and incremental
 * (RFC 1624). Parsing never reads outside the buffer and never allocates.
 * Not a full IP stack: no fragment reassembly (non-first fragments have no
 * ports), IPv6 extension headers are walked only for the common ones
 * (hop-by-hop, routing, destination options, fragment).
 */
#ifndef TG_IP_H
#define TG_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum tg_ip_proto { TG_PROTO_ICMP = 1, TG_PROTO_TCP = 6, TG_PROTO_UDP = 17, TG_PROTO_ICMPV6 = 58 };

struct tg_ip_info {
    uint8_t version;     /* 4 or 6 */
    uint8_t proto;       /* transport protocol number (after IPv6 extension headers) */
    uint8_t src[16];     /* IPv4 in the first 4 bytes, the rest zero */
    uint8_t dst[16];
    uint16_t src_port;   /* host order; ICMP echo: identifier; else 0 */
    uint16_t dst_port;   /* host order; ICMP echo: identifier too; else 0 */
    bool has_ports;      /* TCP, UDP, or ICMP/ICMPv6 echo request/reply, first fragment */
    bool later_fragment; /* a fragment other than the first: no transport header */
    size_t l3_len;       /* bytes of IP header (incl. IPv6 extension headers) */
    size_t l4_off;       /* offset of the transport header (non-first fragment: payload) */
    size_t total_len;    /* length from the IP header (<= buffer length) */
};

/* Parse pkt[0..len). Returns TG_OK, TG_ERR_TRUNCATED (len shorter than the
 * fixed or IHL-given IP header; an IPv6 extension header or, in a first
 * fragment, the fixed TCP/UDP/ICMP(v6) header cut short by the total length),
 * TG_ERR_MALFORMED (bad version, header length, total length larger than len,
 * hop-by-hop header not first); *out is all zero on error. Bytes past the
 * total length are ignored. */
int tg_ip_parse(const uint8_t *pkt, size_t len, struct tg_ip_info *out) TG_MUST_CHECK;

/* One's complement sum of data (RFC 1071) as big-endian 16-bit words, folded
 * to 0..0xFFFF, not complemented; `seed` is a previous partial sum (so every
 * piece but the last must have even length). An odd last byte is padded. */
uint32_t tg_ip_sum(const uint8_t *data, size_t len, uint32_t seed);
/* Final checksum: ~fold(sum). */
uint16_t tg_ip_fold(uint32_t sum);

/* RFC 1624 eqn. 3: checksum after a 16-bit word changed from old to new:
 * HC' = ~(~HC + ~m + m'). */
uint16_t tg_ip_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);
/* The same over a changed byte string of even length (addresses). */
uint16_t tg_ip_csum_update(uint16_t csum, const uint8_t *old_bytes, const uint8_t *new_bytes,
                           size_t len);

#endif
