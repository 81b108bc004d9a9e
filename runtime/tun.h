/*
 * tun.h: the TUN device (IFF_TUN | IFF_NO_PI: one read or write is one IPv4
 * or IPv6 packet, or with offloads a virtio_net_hdr and a packet, see
 * offload.h). The device lives as long as its file descriptor; routes
 * through it disappear with it.
 */
#ifndef RT_TUN_H
#define RT_TUN_H

#include <stdbool.h>
#include <stddef.h>

/* Create (or attach to) TUN `name` ("" = kernel's choice, tunN). With
 * `offload`, ask for TSO and checksum offload (*got_offload says whether the
 * kernel agreed). On success returns a non-blocking fd and writes the final
 * name into name_out[16]; on failure returns -errno and writes a sentence
 * that says what to do into err[errcap]. */
int rt_tun_open(const char *name, bool offload, bool *got_offload, char name_out[16], char *err,
                size_t errcap);

#endif
