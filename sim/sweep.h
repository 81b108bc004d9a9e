/*
 * sweep.h: parameter sweeps (`triglav-sim run FILE.scn --sweep KEY=V1,V2,...`).
 *
 * A sweep runs a scenario once per value, each time with one of its keys set
 * to that value, as if the file said so: the value is written into the
 * scenario's text and the result loaded and checked as any scenario is, so
 * every key of the format (scenarios/README.md) can be swept, with its own
 * units and checks. KEY names the table and the key:
 *
 *   scenario.KEY             [scenario]           e.g. scenario.duration
 *   uplink.SEL.KEY           [[uplink]]           SEL: a name, an index from 0, or *
 *   event.SEL.KEY            [[event]]            (every table when *)
 *   traffic.SEL.KEY          [[traffic]]
 *   uplinks                  the number of uplinks: the first N [[uplink]]
 *                            tables, or the last one repeated up to N (the
 *                            K-th uplink named NAME_K, NAME the last one's;
 *                            events name only the uplinks the file names)
 *
 * A key the table does not have yet is added to it. The scenario's name
 * does not change, so every value's iteration i has the same seed (paired
 * runs); its content hash does, so each value's runs are stored apart.
 */
#ifndef SIM_SWEEP_H
#define SIM_SWEEP_H

#include <stddef.h>

#define SIM_SWEEP_MAX_VALUES 64

struct sim_sweep {
    char *key;                          /* malloc'd, as given */
    char *values[SIM_SWEEP_MAX_VALUES]; /* malloc'd, as given */
    size_t n;
};

/* Parse "KEY=V1,V2,..." (commas inside parentheses or brackets belong to a
 * value). Returns 0, or -1 with a message naming the key and what was
 * expected. */
int sim_sweep_parse(const char *arg, struct sim_sweep *out, char *err, size_t errlen);
void sim_sweep_clear(struct sim_sweep *s);

/* The scenario text (len bytes, named `path` in messages) with the sweep's
 * key set to `value`: a malloc'd string (its length in *out_len), or NULL
 * with a message (a table or key the scenario does not have). */
char *sim_sweep_apply(const char *path, const char *text, size_t len, const char *key,
                      const char *value, size_t *out_len, char *err, size_t errlen);

#endif
