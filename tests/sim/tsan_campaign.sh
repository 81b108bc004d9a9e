#!/bin/sh
# tsan_campaign.sh CMAKE SOURCE_DIR BUILD_DIR DATA_DIR NM: a parallel campaign
# is free of data races. Configures and builds triglav-sim alone with
# ThreadSanitizer (-DTG_TSAN=ON, clang) in BUILD_DIR, then runs a short
# campaign on two worker threads. Fails on any ThreadSanitizer report (the
# report, with both stacks, is printed), on a failed run, or when the
# campaign did not store every run.
#
# The scenario is geo.scn: two uplinks, so every run has a handshake and a
# join, 60 s of virtual time; 32 runs take about 10 s under TSan. SQLite, GSL
# and libsodium are not instrumented; TSan still sees their pthread calls, and
# no suppressions are needed.
set -eu
cmake=$1
src=$2
bin=$3
data=$4
nm=$5

scenario=$src/scenarios/geo.scn
iterations=8
strategies=adaptive,redundant
aggregations=none,full
runs=32 # iterations x strategies x aggregations
limit=240 # seconds; the campaign takes 10-20 s, so more is a hang

log=$bin/tsan_campaign.log
mkdir -p "$bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-tsan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! "$cmake" -S "$src" -B "$bin" -DTG_TSAN=ON -DTG_BUILD_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
        -DTG_SHARED_DATA="$data" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "tsan_campaign: configuring the TSan build in $bin failed (log: $log)" >&2
    exit 1
fi
if ! "$cmake" --build "$bin" --target triglav-sim -j 2 >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "tsan_campaign: building triglav-sim with TSan failed (log: $log)" >&2
    exit 1
fi
sim=$bin/sim/triglav-sim
if ! "$nm" "$sim" | grep -q ' __tsan_init$'; then
    echo "tsan_campaign: $sim carries no ThreadSanitizer runtime; is TG_TSAN wired up?" >&2
    exit 1
fi

# halt_on_error: the first report ends the process with exitcode. TSan
# reports a race only while it can still recall the earlier access's stack
# from the other thread's history; history_size=7 (the most, about 4 million
# accesses a thread) catches state touched once a run, such as a static
# buffer on the join path, whose two accesses can be tens of milliseconds
# apart. Ours come after the caller's options, so they win.
TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS }halt_on_error=1 exitcode=66 history_size=7 second_deadlock_stack=1"
export TSAN_OPTIONS

campaign() {
    rm -f "$tmp/campaign.db"
    set +e
    timeout -k 10 $limit "$@" "$sim" run "$scenario" --iterations $iterations \
        --strategy $strategies --aggregation $aggregations -j 2 --db "$tmp/campaign.db" \
        >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
campaign
# clang 14's TSan cannot map its shadow memory when the kernel randomizes
# mmap with more than 28 bits; without address randomization it can.
if grep -q 'ThreadSanitizer: unexpected memory mapping' "$tmp/err" &&
        command -v setarch >/dev/null 2>&1; then
    echo "tsan_campaign: TSan cannot run with this kernel's address randomization; again under setarch -R"
    campaign setarch "$(uname -m)" -R
fi

cat "$tmp/out"
if grep -q 'ThreadSanitizer' "$tmp/err"; then
    cat "$tmp/err" >&2
    echo "tsan_campaign: ThreadSanitizer reported the above in a -j 2 campaign (exit status $rc)" >&2
    exit 1
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    tail -n 20 "$tmp/err" >&2
    echo "tsan_campaign: the campaign did not finish within $limit s (a hang?)" >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    cat "$tmp/err" >&2
    echo "tsan_campaign: triglav-sim run exited with status $rc" >&2
    exit 1
fi
if ! grep -q ": $runs runs ($runs new, 0 already stored)" "$tmp/out"; then
    echo "tsan_campaign: expected $runs new runs stored" >&2
    exit 1
fi
echo "tsan_campaign: $runs runs on 2 threads under ThreadSanitizer, no reports"
