/*
 * capture.h: `triglav tun --capture FILE.pcap`, the tunnel's inner traffic
 * written as it crosses the TUN, both directions, so a live session can be
 * replayed in simulation (`triglav-sim replay FILE.pcap`).
 *
 * The file is classic pcap, link type LINKTYPE_RAW (one IPv4 or IPv6 packet
 * per record, no link header), dated with Unix time. Outgoing packets are
 * recorded as the core receives them (after TSO splitting), incoming ones
 * as the core hands them over (before GRO-style coalescing): the records are
 * the packets the tunnel carries, never the kernel's super-packets. Raw IP
 * has no direction field; replay decides it by addresses (the tunnel address
 * is in every packet). Not a packet filter: everything is recorded.
 *
 * Written through stdio (libpcap's dumper) and flushed at least once a
 * second while packets arrive, and at close, so a crash loses at most about
 * a second. Without --capture the runtime never creates one: the hot path
 * pays one NULL test.
 */
#ifndef RT_CAPTURE_H
#define RT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

struct rt_capture;

enum rt_capture_dir {
    RT_CAPTURE_OUT = 0, /* read from the TUN: leaving through the tunnel */
    RT_CAPTURE_IN = 1,  /* written to the TUN: arrived through the tunnel */
};

/* Create (truncate) `path`. `wall_offset_us` turns the runtime's monotonic
 * `now` into Unix time (rt_wall_offset()). Returns 0 and *out, or -1 after
 * writing a sentence that says what to do into err[errcap]. */
int rt_capture_new(const char *path, tg_time wall_offset_us, struct rt_capture **out, char *err,
                   size_t errcap) __attribute__((warn_unused_result));

/* Record one IP packet of `len` bytes seen at `now` (monotonic, rt_now()).
 * Records above 65535 bytes are truncated (the record keeps the length). */
void rt_capture_packet(struct rt_capture *c, enum rt_capture_dir dir, const uint8_t *pkt,
                       size_t len, tg_time now);

/* When rt_capture_tick() must run next: a second after the first record not
 * yet flushed, TG_TIME_NEVER when everything is on disk. */
tg_time rt_capture_deadline(const struct rt_capture *c);

/* Flush to the file when the deadline has come. */
void rt_capture_tick(struct rt_capture *c, tg_time now);

/* Flush, close and log what was recorded (packets each way). NULL is
 * fine. Returns 0, or -1 after logging a write error (disk full). */
int rt_capture_free(struct rt_capture *c);

#endif
