/*
 * scenario.h: a .scn file loaded and checked (format: scenarios/README.md).
 *
 * A scenario describes an environment (uplinks, their links in each
 * direction, events that take them down or degrade them), the traffic of the
 * hosts behind the tunnel, how long a run lasts, how many Monte Carlo
 * iterations a campaign runs by default and which strategies and
 * aggregation modes it sweeps. Random quantities are distributions here and
 * become numbers per iteration (sim_dist_draw), so one loaded scenario serves
 * every run of a campaign, read-only, from any thread.
 *
 * The text is parsed by the core's parser (core/conf.h); this module checks
 * meaning: known keys only, units of the right kind, names that exist, ranges.
 * Every error reads "file:line:col: what was wrong, what was expected".
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "core/sched.h"
#include "core/time.h"
#include "link.h"
#include "trace.h"
#include "traffic.h"

#define SIM_MAX_UPLINKS 8
#define SIM_MAX_EVENTS 16
#define SIM_MAX_FLOWS 32
#define SIM_MAX_STEPS 64
#define SIM_MAX_CHOICES 8
#define SIM_NAME_MAX 48

enum sim_dist_kind {
    SIM_DIST_CONST = 0, /* a */
    SIM_DIST_UNIFORM,   /* [a, b) */
    SIM_DIST_NORMAL,    /* mean a, sd b, truncated at 0 (redrawn) */
    SIM_DIST_LOGNORMAL, /* mean a, sd b of the variable itself */
    SIM_DIST_EXP,       /* mean a */
    SIM_DIST_PARETO,    /* scale (minimum) a, shape b */
    SIM_DIST_WEIBULL,   /* scale a, shape b */
    SIM_DIST_CHOICE,    /* one of choices[], equally likely */
};

/* A number in the base unit of its key (µs, bit/s, bytes, probability). */
struct sim_dist {
    enum sim_dist_kind kind;
    double a, b;
    double choices[SIM_MAX_CHOICES];
    size_t n_choices;
};

double sim_dist_draw(const struct sim_dist *d, gsl_rng *r);
/* The distribution's mean (for reports and for checking the scenario). */
double sim_dist_mean(const struct sim_dist *d);

enum sim_rate_kind { SIM_RATE_FIXED = 0, SIM_RATE_SCHEDULE, SIM_RATE_TRACE };

/* One direction of an uplink. */
struct sim_dir_spec {
    enum sim_rate_kind rate_kind;
    struct sim_dist rate_bps;                   /* FIXED: drawn per iteration */
    struct sim_rate_step steps[SIM_MAX_STEPS];  /* SCHEDULE */
    size_t n_steps;
    const struct sim_trace *trace;              /* TRACE: owned by the scenario */
    struct sim_dist trace_offset_us;            /* where in the trace a run starts */
    double trace_scale;                         /* capacity multiplier (1) */
    struct sim_dist delay_us, jitter_us;        /* drawn per iteration */
    enum sim_loss_model loss;
    struct sim_dist loss_p;                     /* Bernoulli, drawn per iteration */
    struct sim_ge ge;                           /* Gilbert-Elliott */
    struct sim_dist queue_bytes;
};

struct sim_uplink_spec {
    char name[SIM_NAME_MAX];
    char kind[SIM_NAME_MAX];                    /* free label: wifi, lte, starlink ... */
    struct sim_dir_spec up, down;               /* up: laptop -> server */
};

enum sim_effect {
    SIM_EFFECT_DOWN = 0,  /* the uplinks carry nothing, both directions */
    SIM_EFFECT_RATE,      /* capacity multiplied by `factor` */
    SIM_EFFECT_LOSS,      /* extra Bernoulli loss `loss` in both directions */
};

/* Something that happens to some uplinks: fixed times, or a renewal process
 * (first, then every `every` after the previous one ended), each occurrence
 * lasting `length`; each uplink's copy shifted by `stagger`, and spared
 * with its `coverage` probability (a carrier with coverage in that tunnel). */
struct sim_event_spec {
    char name[SIM_NAME_MAX];
    uint32_t uplink_mask;             /* bit i: uplinks[i] */
    enum sim_effect effect;
    double factor;                    /* RATE */
    double loss;                      /* LOSS */
    tg_time at_us[SIM_MAX_STEPS];     /* fixed occurrences (n_at > 0) ... */
    size_t n_at;
    struct sim_dist first_us, every_us;  /* ... or a renewal process */
    struct sim_dist length_us;
    struct sim_dist stagger_us;       /* per-uplink shift (0) */
    double probability;               /* each occurrence happens with this probability (1) */
    double coverage[SIM_MAX_UPLINKS]; /* by uplink index: the probability that an occurrence
                                         leaves that uplink alone (0) */
    uint32_t count;                   /* at most this many occurrences (0 = no limit) */
};

struct sim_flow_spec {
    struct sim_flow_config cfg;
    uint32_t count;                   /* identical parallel flows (1) */
};

struct sim_scenario {
    char path[512];
    char name[SIM_NAME_MAX];
    char description[256];
    tg_time duration_us;
    uint32_t iterations;              /* default per strategy x aggregation (100) */
    uint64_t seed;                    /* default base seed (1) */
    enum tg_strategy strategies[TG_STRATEGY_COUNT];
    size_t n_strategies;
    enum tg_aggregation aggregations[TG_AGG_COUNT];
    size_t n_aggregations;
    char defining[SIM_NAME_MAX];      /* the event whose occurrences define the scenario ("" none) */
    tg_time playout_us;               /* both ends' playout_max_us (0: off, the default) */
    int64_t light_flow_rate;          /* both ends' light_flow_rate, bytes/s (-1: the core's) */
    struct sim_uplink_spec uplinks[SIM_MAX_UPLINKS];
    size_t n_uplinks;
    struct sim_event_spec events[SIM_MAX_EVENTS];
    size_t n_events;
    struct sim_flow_spec flows[SIM_MAX_FLOWS];
    size_t n_flows;
    uint64_t content_hash;            /* of the file's bytes: identifies the scenario in results */
    struct sim_trace *traces;         /* loaded traces, shared by the dir specs */
    size_t n_traces;
};

/* The largest scenario file read, in bytes. */
#define SIM_SCENARIO_MAX_BYTES (4 << 20)

/* Load and check a scenario. `data_dir` resolves "data:..." paths (NULL: the
 * TRIGLAV_DATA environment variable, else sim_share_data()'s folder). Only a
 * regular file of at most SIM_SCENARIO_MAX_BYTES is read (a FIFO or a device
 * is refused without blocking or reading), and so are the traces it names
 * (trace.h). Returns 0, or -1 with "file:line:col: message" in err; messages
 * name the place and what was expected (the parser's, core/conf.h, may quote
 * a word of the file; this module's never do). */
int sim_scenario_load(const char *path, const char *data_dir, struct sim_scenario **out,
                      char *err, size_t errlen);

/* Where sim_scenario_load_text finds the trace files a scenario names. */
struct sim_scenario_files {
    /* The bytes of the file at `path` (resolved as trace paths are: against
     * the scenario's folder or the data folder), valid until the load
     * returns. 0, or -1 with errno set (0 reads as ENOENT). */
    int (*read)(void *ctx, const char *path, const char **text, size_t *len);
    void *ctx;
};

/* The same from the text of a scenario in memory (len bytes); `path` names it
 * in messages and is where relative trace paths start. files NULL: traces
 * are read from the file system, as by sim_scenario_load. */
int sim_scenario_load_text(const char *path, const char *text, size_t len, const char *data_dir,
                           const struct sim_scenario_files *files, struct sim_scenario **out,
                           char *err, size_t errlen);
void sim_scenario_free(struct sim_scenario *s);

#endif
