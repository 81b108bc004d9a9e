/*
 * fidelity.h: `triglav-sim report DB --fidelity`: does the simulator predict
 * the live tunnel? Each live run (table live_runs, stored by the testnet,
 * scripts/testnet.sh) is paired with the simulated run of the same key
 * (scenario_hash, strategy, aggregation, iteration, seed), i.e. the same
 * environment draws, and compared metric by metric:
 *
 *   goodput_mbps  live: the bulk TCP flows together (iperf3, receiver side);
 *                 simulated: the sum of the run's tcp flows' goodput_mbps
 *   owd_p50_ms, owd_p95_ms
 *                 live: the voice probe's one-way delay (`live probe`);
 *                 simulated: the run's voice flows' (their mean when several)
 *
 * For each pair it prints live, simulated and the ratio live/sim; for each
 * (scenario, strategy, aggregation) the mean ratio over its pairs with its
 * 95% confidence interval (Student t, stats.h; none from one pair) and
 * whether that interval lies within 10% of 1. A metric missing on either side
 * (NULL, or a simulated value of 0) gives no ratio for that pair. It reads
 * the database only; it is not the testnet and measures nothing.
 */
#ifndef AN_FIDELITY_H
#define AN_FIDELITY_H

#include <stddef.h>
#include <stdio.h>

/* The bound the summary checks a ratio's interval against: [1 - b, 1 + b]. */
#define AN_FIDELITY_BOUND 0.10

/* Print the pairs and the summary to out. Returns the number of pairs (0 or
 * more: live runs without a simulated twin are listed, not paired), or -1
 * (err: not a results database, or no live runs stored). */
int an_fidelity_print(FILE *out, const char *db_path, char *err, size_t errlen);

#endif
