/*
 * ra.h: how a client learns its tunnel IPv6 address, in the tunnel, with the
 * messages IPv6 already has for it (RFC 4861): once its session is up the
 * client sends a Router Solicitation; the server answers with a Router
 * Advertisement whose Prefix Information option names the tunnel's IPv6
 * prefix. The client's address is that prefix with its IPv4 host number in
 * the low 32 bits (10.85.0.7/16 in fd85::/64 is fd85::7), so the server needs
 * no second pool and the SESSION frame no second address; the server's own
 * is host number 1. The prefix is at most /96 so the host number fits.
 *
 * Builders and parsers of those two packets and the address arithmetic.
 * Pure: buffers in, buffers out. Not a neighbour-discovery implementation:
 * no lifetimes, no timers, no other options.
 */
#ifndef TG_RA_H
#define TG_RA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum {
    TG_RA_SOLICIT_LEN = 40 + 8,      /* IPv6 header + Router Solicitation */
    TG_RA_ADVERT_LEN = 40 + 16 + 32, /* IPv6 header + Router Advertisement + prefix option */
    TG_RA_PREFIX_MAX = 96,           /* longest tunnel prefix: 32 bits of host number */
    TG_RA_PREFIX_MIN = 16,           /* shortest tunnel prefix we accept */
};

/* Write a Router Solicitation from :: to ff02::2 (hop limit 255, checksum
 * filled) into out[0..TG_RA_SOLICIT_LEN). Returns TG_OK or TG_ERR_NOBUF. */
int tg_ra_solicit(uint8_t *out, size_t cap) TG_MUST_CHECK;

/* Is pkt[0..len) a Router Solicitation (ICMPv6 133, code 0, hop limit 255,
 * from :: or a link-local address)? The checksum is not checked: the packet
 * arrived authenticated, and a bad one costs only an answer. */
bool tg_ra_is_solicit(const uint8_t *pkt, size_t len);

/* Write a Router Advertisement from fe80::1 to ff02::1 with one Prefix
 * Information option for prefix/plen into out[0..TG_RA_ADVERT_LEN).
 * Returns TG_OK, TG_ERR_NOBUF, TG_ERR_INVAL (plen outside
 * TG_RA_PREFIX_MIN..TG_RA_PREFIX_MAX). */
int tg_ra_advertise(uint8_t *out, size_t cap, const uint8_t prefix[16], uint8_t plen) TG_MUST_CHECK;

/* Read the prefix of a Router Advertisement (ICMPv6 134 from a link-local
 * address, hop limit 255, valid checksum, a Prefix Information option of
 * TG_RA_PREFIX_MIN..TG_RA_PREFIX_MAX bits; the first such option counts).
 * prefix gets the prefix with its host bits cleared. Returns TG_OK,
 * TG_ERR_MALFORMED (not such a packet); on error prefix and *plen are zero. */
int tg_ra_parse(const uint8_t *pkt, size_t len, uint8_t prefix[16], uint8_t *plen) TG_MUST_CHECK;

/* out = prefix/plen with `host` in its low 32 bits (plen <= 96). */
void tg_ra_addr(const uint8_t prefix[16], uint8_t plen, uint32_t host, uint8_t out[16]);

/* The host number of addr in prefix/plen: true when addr is in the prefix
 * and its bits between plen and 96 are zero (*host = its low 32 bits). */
bool tg_ra_host(const uint8_t prefix[16], uint8_t plen, const uint8_t addr[16], uint32_t *host);

/* Clear the host bits of a/plen in place. */
void tg_ra_mask(uint8_t a[16], uint8_t plen);

#endif
