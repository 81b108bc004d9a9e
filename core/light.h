/*
 * light.h: light flows pass the tunnel's queue (internal).
 *
 * A bulk download fills the tunnel's own queue in front of each uplink
 * (pace.h: up to 100 ms) and the receiver's reorder buffer releases striped
 * packets in one global order, so a voice call or an SSH session beside it
 * would wait as long as the download's packets do. A flow that sends little
 * does not: at most `light_flow_rate` bytes a second (64 KB/s by default, but
 * at most 1/TG_LIGHT_SHARE of what the usable uplinks carry) in its current
 * 250 ms window and the one before, the light flows together at most
 * TG_LIGHT_ALL times that. Its packets go at once, on the uplink whose
 * one-way delay was last measured the least (its queue as the receiver
 * reported it: the flow's own packets since do not count, so a burst of it
 * stays on one uplink, in order), carry their own send time, and are
 * delivered as they come (unordered, like a flow-sticky packet); the
 * receiver's mark for one says nothing of its uplink (it may have passed
 * packets held for it). They are neither held nor asked for again after a loss
 * (a resent voice packet comes too late to play), but the striped packets
 * lost in a burst before one still are, and one lost with an uplink that
 * went silent is reinjected like a striped one (recover.h, tg_rtx_store).
 *
 * A new flow is light only after a whole window has shown it (a download's
 * first packets stay striped and in order), and a flow that was not light
 * is not again until a whole window has passed since, so its light packets
 * cannot overtake its own packets still held or reordered. Flows are kept in
 * a small table per session, each in one of two entries picked by its keyed
 * hash (flow.h); a flow that finds both taken by others active in the last
 * two windows is not light, so a collision costs delay, never order. Fixed
 * size: nothing is allocated.
 */
#ifndef TG_LIGHT_H
#define TG_LIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time.h"

#define TG_LIGHT_SLOTS     32
#define TG_LIGHT_WINDOW_US TG_MSEC(250)
#define TG_LIGHT_ALL       4  /* all light flows together: this many times one flow's rate */
#define TG_LIGHT_SHARE     32 /* one light flow: at most this part of the uplinks' rates */

struct tg_light_flow {
    uint64_t hash;    /* the flow's (flow.h) */
    tg_time win_at;   /* its current window started then */
    uint32_t bytes;   /* it sent this much in the current window ... */
    uint32_t prev;    /* ... and in the one before (0: it was quiet in between;
                         UINT32_MAX: the flow is new) */
    tg_time heavy_at; /* the last of its packets that did not pass went then ... */
    bool heavy;       /* ... if any did not */
    bool used;        /* the entry holds a flow */
};

struct tg_light {
    struct tg_light_flow flow[TG_LIGHT_SLOTS];
    tg_time win_at;
    uint32_t bytes; /* light bytes of all flows in the current window */
};

/* The rate under which a flow is light: light_flow_rate `cfg`, but at most
 * 1/TG_LIGHT_SHARE of what the usable uplinks carry together (`rates_bps`,
 * their delivery-rate estimates; 0: none known yet). */
uint32_t tg_light_rate(uint32_t cfg, double rates_bps);
/* Does this packet of `len` bytes of flow `hash` pass the queue? Counts it
 * either way. `rate` is tg_light_rate's (0: no flow is light). */
bool tg_light_pass(struct tg_light *l, uint32_t rate, uint64_t hash, size_t len, tg_time now);

#endif
