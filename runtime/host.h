/*
 * host.h: what every front end of the core shares (`tun` and `server`
 * around a TUN, `connect` around the userspace stack): reading the TUN in
 * batches (TSO super-packets split, the core's outputs drained every 64
 * packets so a burst never overflows its queues), writing it (segments
 * glued back when offloading), the journal of what it changes, and the
 * event loop's wait, which turns SIGINT, SIGTERM and SIGHUP into a request
 * to stop.
 */
#ifndef RT_HOST_H
#define RT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "core/time.h"
#include "journal.h"
#include "loop.h"
#include "netlink.h"
#include "offload.h"

#define RT_TUN_BATCH 64 /* reads per readiness; also packets between drains */

struct rt_tun_io {
    int fd; /* -1: none */
    bool offload;
    struct rt_coalescer co;
    rt_packet_fn feed;
    void (*drain)(void *ctx);
    void *ctx;
    unsigned fed;
    uint8_t pkt[65536 + 64];
    uint8_t seg[65536];
};

/* Opens the TUN `want` ("" = the kernel names it) with offloads unless
 * no_offload; its name in name[16]. Returns 0, or -1 with a sentence in err. */
int rt_tun_io_open(struct rt_tun_io *t, const char *want, bool no_offload, char name[16],
                   char *err, size_t errcap);
void rt_tun_io_close(struct rt_tun_io *t);

/* Reads up to RT_TUN_BATCH times: every packet to feed(ctx, ...), and
 * drain(ctx) after every 64 of them. */
void rt_tun_io_read(struct rt_tun_io *t, rt_packet_fn feed, void (*drain)(void *ctx), void *ctx);
/* One packet for the TUN; rt_tun_io_flush after a batch. */
void rt_tun_io_write(struct rt_tun_io *t, const uint8_t *pkt, size_t len);
void rt_tun_io_flush(struct rt_tun_io *t);

/* Opens the journal of what a front end changes, STATE_DIR/NAME.state (the
 * directory is made when missing). Returns 0, or 1 with the error logged. */
int rt_host_journal(struct rt_journal *j, struct rt_nl *nl, const char *state_dir,
                    const char *name);

/* Waits until deadline or events; returns the events other than signals.
 * A stopping signal sets *stop and is logged with `what` ("stopping"). */
int rt_host_wait(struct rt_loop *l, tg_time deadline, struct epoll_event *ev, int cap,
                 tg_time *now, bool *stop, const char *what);

#endif
