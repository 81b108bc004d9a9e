/*
 * svc.h: the server's measurement services, for `triglav benchmark`: TCP
 * discard (RFC 863: reads and throws away) and UDP echo (RFC 862: sends
 * each datagram back), bound to the server's tunnel address only, so only
 * clients with a session reach them, through the tunnel. They run in the
 * server's event loop; a connection costs a socket and nothing else, and at
 * most RT_SVC_CONNS are open at once (more are refused, closed at once).
 */
#ifndef RT_SVC_H
#define RT_SVC_H

#include <stdint.h>

#include "loop.h"

#define RT_SVC_DISCARD_PORT 9 /* TCP */
#define RT_SVC_ECHO_PORT    7 /* UDP */
#define RT_SVC_CONNS        64
#define RT_TAG_SVC_TCP      400 /* loop tags 400 .. 402 + RT_SVC_CONNS */
#define RT_TAG_SVC_UDP      401
#define RT_TAG_SVC_CONN     402

struct rt_svc {
    int tcp_fd, udp_fd; /* -1: not open */
    int conn[RT_SVC_CONNS];
    struct rt_loop *loop;
    uint64_t discarded_bytes, echoed_datagrams;
};

/* Listen on addr:discard_port (TCP) and addr:echo_port (UDP). Returns 0, or
 * -errno with a sentence in err (nothing is left open then). */
int rt_svc_open(struct rt_svc *s, struct rt_loop *loop, const uint8_t addr[4], uint16_t discard_port,
                uint16_t echo_port, char *err, size_t errcap);
int rt_svc_owns(uint64_t tag);
void rt_svc_event(struct rt_svc *s, uint64_t tag);
void rt_svc_close(struct rt_svc *s); /* safe on a closed one */

#endif
