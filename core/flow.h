/*
 * flow.h: the keyed flow hash behind flow-sticky scheduling.
 *
 * A flow is the directional 5-tuple of an IP packet (version, transport
 * protocol, source and destination address, source and destination port or
 * ICMP echo identifier). Its hash is SipHash-2-4 (libsodium's
 * crypto_shorthash_siphash24) under a 16-byte key the caller keeps secret, so
 * a sender cannot choose tuples that all land on one uplink. The hash is over
 * a fixed byte encoding, never over a struct's memory, so padding and unused
 * address bytes cannot change it. Packets without ports (non-first fragments,
 * other protocols, ICMP other than echo) hash with ports 0: all of one
 * address pair's such packets form one flow.
 *
 * Not here: choosing an uplink from the hash (the scheduler does that), or
 * making both directions of a connection hash alike (each side hashes only
 * what it sends).
 */
#ifndef TG_FLOW_H
#define TG_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ip.h"

#define TG_FLOW_KEY_LEN 16

/* The encoding hashed, in order: version (1 byte), proto (1), src (16: IPv4
 * in the first 4, the rest zero), dst (16, likewise), src_port (2,
 * big-endian), dst_port (2, big-endian); ports are zero when !has_ports. */
#define TG_FLOW_ENCODING_LEN 38

/* The 64-bit SipHash-2-4 of `ip`'s flow under `key` (the 8 output bytes read
 * little-endian). Deterministic; never fails. */
uint64_t tg_flow_hash(const uint8_t key[TG_FLOW_KEY_LEN], const struct tg_ip_info *ip);

/* Parse pkt[0..len) (tg_ip_parse) and hash its flow into *out.
 * Returns TG_OK, or tg_ip_parse's TG_ERR_TRUNCATED / TG_ERR_MALFORMED (then
 * *out is 0). */
int tg_flow_hash_packet(const uint8_t key[TG_FLOW_KEY_LEN], const uint8_t *pkt, size_t len,
                        uint64_t *out) TG_MUST_CHECK;

#endif
