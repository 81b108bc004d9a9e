/*
 * stack.h: the userspace TCP/IP stack of proxy mode (`triglav connect`).
 * lwIP (Debian's liblwip) runs in the client's own thread with one network
 * interface whose "wire" is the tunnel: IP packets it sends go to the core
 * as if read from a TUN, and packets the core delivers for the tunnel
 * address are handed to it. It owns the session's tunnel address, so the
 * server sees proxied streams exactly like a TUN client's traffic.
 *
 * lwIP keeps its state in globals: one stack per process. Its timers run
 * from rt_stack_tick, at the times rt_stack_deadline gives.
 */
#ifndef RT_STACK_H
#define RT_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

/* An IP packet the stack sends into the tunnel. */
typedef void (*rt_stack_out_fn)(void *ctx, const uint8_t *pkt, size_t len);

/* Starts lwIP with an interface of `mtu` bytes; returns 0, or -1 when a
 * stack runs already. */
int rt_stack_open(unsigned mtu, rt_stack_out_fn out, void *ctx);
void rt_stack_close(void);

/* The session's tunnel address (the interface comes up with it). */
void rt_stack_set_addr(const uint8_t addr[4], uint8_t prefix);
bool rt_stack_has_addr(void);

/* An IP packet from the tunnel; dropped when malformed or too long. */
void rt_stack_input(const uint8_t *pkt, size_t len);

tg_time rt_stack_deadline(tg_time now);
void rt_stack_tick(void);

/* Packets dropped on the way in (no memory, too long). */
uint64_t rt_stack_drops(void);

#endif
