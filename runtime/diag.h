/*
 * diag.h: the network probes of `triglav diagnose`, one uplink at a time
 * and independent of each other: a real handshake with the server (a
 * client core of its own per uplink and server address, so a dead uplink
 * never delays another), which also brings the address and port the server
 * sees (its OBSERVED frames); and the path MTU by ICMP echo probes with DF
 * set, bisected between 576 bytes and the interface's MTU.
 */
#ifndef RT_DIAG_H
#define RT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/key.h"
#include "core/time.h"

#define RT_DIAG_DESTS 2 /* server addresses compared for the NAT's mapping */

struct rt_diag_uplink {
    char ifname[16];
    uint8_t ipv4[4];            /* the interface's address (for "is there a NAT") */
    /* results */
    int open_err;               /* -errno: the socket could not be opened (err says why) */
    char err[200];
    uint16_t local_port;        /* of the one socket every probe of this uplink uses */
    bool keyed[RT_DIAG_DESTS];  /* the handshake with server address d completed */
    tg_time hs_us[RT_DIAG_DESTS]; /* ... after this long */
    uint64_t hs_sent[RT_DIAG_DESTS];
    struct tg_key_addr mapped[RT_DIAG_DESTS]; /* what server address d saw (type 0: nothing) */
    int icmp_type, icmp_code;   /* the last ICMP error that came back (-1: none) */
};

/* Handshakes from every uplink with each of dst[0..n_dst) (n_dst <=
 * RT_DIAG_DESTS) for at most `timeout`, all at once; the sessions they make
 * are closed again. mark: SO_MARK of the sockets (0 = none). Returns 0, or
 * -errno when nothing could run (no core); per-uplink failures are in up[]. */
int rt_diag_handshakes(const uint8_t server_public[32], const struct tg_key_addr *dst, int n_dst,
                       struct rt_diag_uplink *up, int n_up, uint32_t mark, tg_time timeout);

struct rt_diag_mtu {
    bool answered;     /* the server answered an echo at all */
    int path_mtu;      /* largest IP packet that came back with DF set (0: unknown) */
    int told_mtu;      /* next-hop MTU an ICMP "fragmentation needed" named (0: none) */
    int if_mtu;        /* the interface's MTU */
    char err[160];     /* why it could not probe ("" when it could) */
};

/* Probe the path MTU to dst through interface ifname (ICMP echo, DF set; a
 * raw socket: root or CAP_NET_RAW). */
void rt_diag_pmtu(const char *ifname, uint32_t mark, const uint8_t dst[4], struct rt_diag_mtu *out);

#endif
