#!/usr/bin/env bash
# bench_fidelity.sh: the fidelity table (root, a few minutes): each fidelity
# scenario played live by scripts/testnet.sh (ITERATIONS iterations each,
# default 3) into one database with its simulated twins, then
# `triglav-sim report DB --fidelity`: per scenario the ratio live/sim of
# goodput and the voice flow's one-way delay p50/p95, with 95% CIs. The
# table in sim/README.md comes from this.
#   sudo tests/bench/bench_fidelity.sh BUILD_DIR [DB]
# (BUILD_DIR holds sim/triglav-sim and runtime/triglav; DB defaults to a new
# file under /tmp, kept and named at the end.) Live runs already in DB are
# skipped, so an interrupted table resumes.
set -u
BUILD=${1:?usage: bench_fidelity.sh BUILD_DIR [DB]}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DB=${2:-$(mktemp -u /tmp/triglav-fidelity.XXXXXX).db}
N=${ITERATIONS:-3}
SIM="$BUILD/sim/triglav-sim" TRIGLAV="$BUILD/runtime/triglav"
for s in live_equal live_skew_100_50 live_lossy live_failover live_cellular live_train; do
    bash "$SRC/scripts/testnet.sh" "$SRC/scenarios/$s.scn" --iterations "$N" --db "$DB" \
        --sim "$SIM" --triglav "$TRIGLAV" 2>&1 |
        grep -vE '^(triglav-sim emulate:|uplink +dir|[a-z0-9_]+ +(up|down) +[0-9])'
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 77 ] && exit 77
    [ "$rc" -eq 0 ] || echo "bench_fidelity: $s: scripts/testnet.sh exit status $rc" >&2
done
"$SIM" report "$DB" --fidelity
echo "database: $DB"
