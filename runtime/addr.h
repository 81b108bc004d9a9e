/*
 * addr.h: parsing and printing the addresses people type: HOST:PORT
 * (IPv4 a.b.c.d:port or [IPv6]:port, numeric only) and CIDR prefixes.
 * Socket addresses convert to and from the core's tg_key_addr.
 */
#ifndef RT_ADDR_H
#define RT_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/key.h"

#define RT_ADDRSTRLEN 64

struct rt_prefix {
    uint8_t addr[4]; /* network byte order, host bits cleared */
    uint8_t len;     /* 0..32 */
};

/* "a.b.c.d:port" or "[v6]:port". Returns 0 or -1. */
int rt_addr_parse(const char *s, struct tg_key_addr *out);
/* "a.b.c.d/len" (or a bare address = /32). With keep_host the host bits are
 * kept (an interface address). Returns 0 or -1. */
int rt_prefix_parse(const char *s, struct rt_prefix *out, bool keep_host);
/* "v6addr/len" (len required, 0..128), host bits cleared; returns 0 or -1. */
int rt_prefix6_parse(const char *s, uint8_t out[16], uint8_t *len);
/* An IPv6 address and prefix length as "v6addr/len". */
const char *rt_prefix6_str(const uint8_t a[16], uint8_t len, char buf[RT_ADDRSTRLEN]);
/* "a.b.c.d" into 4 bytes; returns 0 or -1. */
int rt_ipv4_parse(const char *s, uint8_t out[4]);

const char *rt_addr_str(const struct tg_key_addr *a, char buf[RT_ADDRSTRLEN]);
const char *rt_ipv4_str(const uint8_t a[4], char buf[RT_ADDRSTRLEN]);
const char *rt_prefix_str(const struct rt_prefix *p, char buf[RT_ADDRSTRLEN]);

/* tg_key_addr <-> sockaddr_storage; *len gets the sockaddr's size. */
void rt_addr_to_sockaddr(const struct tg_key_addr *a, struct sockaddr_storage *ss, socklen_t *len);
/* Returns 0, or -1 for a family other than IPv4/IPv6. IPv4-mapped IPv6
 * addresses come back as IPv4. */
int rt_addr_from_sockaddr(const struct sockaddr *sa, struct tg_key_addr *out);
bool rt_addr_is_any(const struct tg_key_addr *a);

#endif
