/*
 * testnet.h: `triglav-sim live`, what the testnet (scripts/testnet.sh) needs
 * from the simulator's side to run a scenario with the live programs and to
 * store what it measured beside the simulated runs:
 *
 *   live plan FILE.scn      the scenario as the testnet plays it: name,
 *                           content hash, the iteration's seed, duration,
 *                           uplinks and flows, one "key value..." per line
 *   live has ...            is a live run of this key stored? (yes/no)
 *   live record ...         store one live run (results/schema.sql,
 *                           live_runs), keyed like a simulated run so that
 *                           `report --fidelity` pairs the two
 *   live probe send|recv    a constant-rate UDP flow whose datagrams carry
 *                           their CLOCK_MONOTONIC send time: the one-way
 *                           delay of the voice flows (testnet_probe.c)
 *   live web serve|fetch    short HTTP transfers, one connection per object:
 *                           the web flows (testnet_web.c)
 *
 * It is not the testnet itself (namespaces, programs, timing are the
 * script's) and it reads no clock except in the probe and the web flows.
 *
 * Exit status: 0 done; 1 a scenario, database or socket error; 2 bad usage.
 */
#ifndef SIM_TESTNET_H
#define SIM_TESTNET_H

extern const char sim_usage_live[];

/* triglav-sim live ... (argv[1] is "live"). */
int sim_live_main(int argc, char **argv);

/* triglav-sim live probe send|recv ... (argv[0] is "probe"); testnet_probe.c. */
int sim_live_probe_main(int argc, char **argv);

/* triglav-sim live web serve|fetch ... (argv[0] is "web"); testnet_web.c. */
int sim_live_web_main(int argc, char **argv);

#endif
