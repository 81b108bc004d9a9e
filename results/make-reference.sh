#!/bin/sh
# Regenerates the reference report in results/reference/ (quoted by the
# top-level README): a Release build of triglav-sim, one campaign into a
# fresh database, then `triglav-sim report`. About 2-4 minutes on 2 cores.
#
#   results/make-reference.sh                 # build in build-rel, database in /tmp
#   BUILD=build JOBS=8 DB=/tmp/ref.db results/make-reference.sh
#
# The campaign: 4 scenarios (ICE tunnels, a fibre cut, a crowded cafe, Starlink
# obstructions) x 5 strategies x aggregation `adaptive` x 16 iterations, base
# seed 1: 320 runs. Every strategy of an iteration meets the same environment
# (common random numbers), so the report pairs them. Same seed, same rows: the
# numbers in the report change only when the simulator or a scenario does.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-rel}
DB=${DB:-/tmp/triglav-reference.db}
JOBS=${JOBS:-2}
OUT=results/reference

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" -j "$JOBS" --target triglav-sim
SIM=$BUILD/sim/triglav-sim

rm -f "$DB" "$DB-wal" "$DB-shm"
"$SIM" run scenarios/ice.scn scenarios/fibrecut.scn scenarios/cafe.scn scenarios/starlink.scn \
    --strategy adaptive,redundant,lowest_latency,weighted_round_robin,primary_backup \
    --aggregation adaptive --iterations 16 --seed 1 -j "$JOBS" --db "$DB"
rm -rf "$OUT"
"$SIM" report "$DB" --out "$OUT"
