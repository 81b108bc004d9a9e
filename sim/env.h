/*
 * env.h: the environment of one iteration of a scenario, without the
 * simulation around it: each uplink's link configs (rates, schedules, traces,
 * delay, jitter, loss, queue, down intervals with the scenario's events
 * folded in), the random streams its links consume, and its loss events.
 * It is built by the same code and from the same streams as a simulated run
 * (sim/run.c), so iteration i of seed s meets here exactly the capacities
 * and outages it meets in `triglav-sim run`. `triglav-sim emulate` is its
 * user: it drives real packets through these links in wall-clock time.
 */
#ifndef SIM_ENV_H
#define SIM_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "link.h"
#include "scenario.h"

struct sim_env_uplink {
    struct sim_link_config cfg[2];    /* 0 up (laptop -> server), 1 down; point into the env */
    gsl_rng *loss_rng[2], *jitter_rng[2]; /* for sim_link_new, owned by the env */
};

struct sim_env {
    struct sim_env_uplink up[SIM_MAX_UPLINKS];
    size_t n_uplinks;
    void *priv;                       /* the run state the configs live in */
};

/* Build the environment of scenario `sc` with iteration seed `seed`
 * (sim_iteration_seed). `sc` must outlive the env (traces are shared).
 * Returns 0, or -1 when memory runs out. */
int sim_env_build(const struct sim_scenario *sc, uint64_t seed, struct sim_env *env);

/* Does a LOSS event drop a packet that link (uplink, dir) delivers at `now`?
 * Call once per packet the link delivers, as the simulator does: it draws
 * from the event's own stream only while an event is on. */
bool sim_env_extra_loss(struct sim_env *env, size_t uplink, int dir, tg_time now);

/* Free what sim_env_build made (safe on a zeroed env). */
void sim_env_free(struct sim_env *env);

#endif
