/*
 * emu.h: the simulator's links in wall-clock time (DESIGN.md §5, "Emulator").
 * For each uplink, packets read from interface A (laptop side) go through the
 * uplink's up-direction sim_link and are written to interface B (router side);
 * packets read from B go through the down-direction link and are written to A.
 * The links are the simulator's own (sim/link.c), scheduled on a sim_evq
 * whose virtual time is "microseconds since the emulator started" on
 * CLOCK_MONOTONIC: the loop advances the queue to now, feeds received frames
 * with that now, and sleeps on a timerfd until the queue's next event.
 *
 * It is not a model of its own: link configs and random streams come from
 * the caller, who builds them exactly as a simulated run of the same
 * iteration does, so the live run meets the same outages and capacities.
 *
 * Frames are read and written with AF_PACKET sockets (PACKET_VNET_HDR, so
 * checksums a local sender left to offload are finished before relaying;
 * GSO super-frames are dropped as QUEUE: turn TSO/GSO off on the senders).
 *
 * Not yet in the build: `triglav-sim emulate` still needs the link configs
 * of an iteration exported from sim/run.c (its environment builder is
 * private there), and tests/emu/ is not registered yet.
 */
#ifndef SIM_EMU_H
#define SIM_EMU_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "link.h"

#define SIM_EMU_MAX_LINKS 8

struct sim_emu_uplink {
    char name[64];
    char if_a[32], if_b[32];            /* laptop side, router side */
    struct sim_link_config cfg[2];      /* 0: A -> B (up), 1: B -> A (down) */
    gsl_rng *loss_rng[2], *jitter_rng[2]; /* owned by the caller */
};

struct sim_emu_spec {
    struct sim_emu_uplink up[SIM_EMU_MAX_LINKS];
    size_t n;
    double duration_s;                  /* 0: until SIGINT/SIGTERM */
    const char *ready_file;             /* written once every socket is open, or NULL */
};

/* Run until the duration ends or SIGINT/SIGTERM; print per-link counters to
 * stdout at exit. Returns 0, or -1 after printing what failed to stderr. */
int sim_emu_run(const struct sim_emu_spec *spec);

#endif
