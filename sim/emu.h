/*
 * emu.h: the simulator's links in wall-clock time (`triglav-sim emulate`).
 * For each uplink of a scenario, frames read from interface A (laptop side)
 * go through the uplink's up-direction link and are written to interface B
 * (router side); frames read from B go through the down-direction link and
 * are written to A. The links are the simulator's own (sim/link.c, with the
 * iteration's environment from sim/env.h: same rates, traces, outages and
 * random streams as a simulated run of that iteration), scheduled on a
 * sim_evq whose virtual time is "microseconds since the emulator started" on
 * CLOCK_MONOTONIC: the loop advances the queue to now, feeds received frames
 * at that now, and sleeps on a timerfd (epoll) until the next event.
 *
 * What the links see: whole Ethernet frames, so a rate counts the 14 bytes of
 * Ethernet header of each frame too. Frames are read and written on AF_PACKET
 * sockets with PACKET_VNET_HDR, so a checksum a local sender left to offload
 * is finished before relaying; GSO super-frames are dropped (counted as
 * queue drops): turn TSO/GSO/GRO off on the interfaces around the emulator.
 * It is not a bridge of its own: it does not learn MACs or answer ARP, it
 * passes every frame of A to B and back.
 */
#ifndef SIM_EMU_H
#define SIM_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"

struct sim_emu_link {
    char name[64];                      /* the scenario's uplink name */
    char if_a[32], if_b[32];            /* laptop side, router side */
    size_t uplink;                      /* index into the env */
};

struct sim_emu_spec {
    struct sim_env *env;                /* the iteration's environment */
    struct sim_emu_link link[SIM_MAX_UPLINKS];
    size_t n;
    double duration_s;                  /* 0: until SIGINT/SIGTERM */
    const char *ready_file;             /* written once every socket is open, or NULL */
    const char *series_file;            /* per-link samples every 100 ms, or NULL */
};

/* Run until the duration ends or SIGINT/SIGTERM; print per-link counters to
 * stdout at exit. Returns 0, or -1 after printing what failed to stderr. */
int sim_emu_run(const struct sim_emu_spec *spec);

/* `triglav-sim emulate ...` (argv[1] is "emulate"). Returns the exit status. */
int sim_emulate_main(int argc, char **argv);

extern const char sim_usage_emulate[];

#endif
