#!/usr/bin/env bash
# One testnet iteration end to end (label emu, root): scripts/testnet.sh
# plays scenarios/live_equal.scn (2 x 20 Mbit/s, 10 ms each way, a CUBIC
# download and a voice call) live through the emulator and stores its row;
# the simulated twin is stored beside it; `report --fidelity` prints the
# pair. Asserted: exactly one live run and one simulated run of the same key;
# the pair printed; the goodput ratio live/sim within [GOODPUT_MIN,
# GOODPUT_MAX] (default 0.58 to 1.10); the voice flow measured, with a
# one-way delay no shorter than the 10 ms the links add and loss under 5%;
# no namespace of the testnet left behind.
# Measured on 2026-12-05 (ASan build, the shared 2-core VM): the live
# download is bimodal. With the tunnel as of commit 688e472, 10 runs of the
# script and this test: goodput ratio 0.92-0.97 in 5, 0.66-0.76 in 5 (with
# 100-134 TCP retransmits against 2-42; simulated 36.9 Mbit/s every time);
# before fb2881b, 0.95-0.97 in 15 of 18 and 0.72-0.73 in 3. Voice p50 ratio
# 0.66-1.05. The goodput bound admits both modes with a margin (the lowest
# seen is 0.66) and 10% above 1; one uplink alone could carry at most
# about 0.54 of it (20 of the 36.9 Mbit/s), so the bound still proves that
# both uplinks carry the download. The delay ratio is printed, not asserted.
# Usage: testnet.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR
set -u
SIM=${1:?usage: testnet.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR} TRIGLAV=${2:?} SRC=${3:?}
GOODPUT_MIN=${GOODPUT_MIN:-0.58} GOODPUT_MAX=${GOODPUT_MAX:-1.10}
WORK=$(mktemp -d /tmp/tgtestnet.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }
DB="$WORK/results.db"
SCN="$SRC/scenarios/live_equal.scn"

timeout 100 bash "$SRC/scripts/testnet.sh" "$SCN" --iterations 1 --db "$DB" --sim "$SIM" \
    --triglav "$TRIGLAV" >"$WORK/testnet.out" 2>"$WORK/testnet.err"
rc=$?
cat "$WORK/testnet.err"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAIL: scripts/testnet.sh exit status $rc"; exit 1; }

prefix=$(sed -n 's/^testnet: namespaces \([a-z0-9]*\)lap,.*/\1/p' "$WORK/testnet.err")
[ -n "$prefix" ] || fail "testnet.sh did not say its namespaces"
if [ -n "$prefix" ] && ip netns list | grep -q "^$prefix"; then
    fail "namespaces $prefix* left behind"
else
    ok "no namespace left behind"
fi

q() { "$SIM" query "$DB" "$1" --csv | tail -n +2 | tr -d '\r'; }
n_live=$(q "SELECT count(*) FROM live_runs")
n_pair=$(q "SELECT count(*) FROM live_runs l JOIN runs r USING (scenario_hash, strategy, aggregation, iteration, seed)")
[ "$n_live" = 1 ] && ok "one live run stored" || fail "live runs stored: '$n_live' (expected 1)"
[ "$n_pair" = 1 ] && ok "its simulated twin stored" || fail "live runs with a simulated twin: '$n_pair' (expected 1)"

"$SIM" report "$DB" --fidelity >"$WORK/fidelity.out" || fail "report --fidelity failed"
cat "$WORK/fidelity.out"
grep -q '^  iteration 0 seed 0x[0-9a-f]* (simulated run [0-9]*)$' "$WORK/fidelity.out" &&
    ok "report --fidelity prints the pair" || fail "report --fidelity: no pair line"
ratio() { awk -v m="$1" '$1 == m && $2 == "live" && $6 == "ratio" { print $7; exit }' "$WORK/fidelity.out"; }
g=$(ratio goodput_mbps) p50=$(ratio owd_p50_ms)
echo "goodput ratio live/sim: ${g:-none} (bound $GOODPUT_MIN..$GOODPUT_MAX); voice owd p50 ratio: ${p50:-none}"
awk -v r="${g:-x}" -v lo="$GOODPUT_MIN" -v hi="$GOODPUT_MAX" 'BEGIN { exit !(r + 0 == r && r >= lo && r <= hi) }' &&
    ok "goodput ratio $g within $GOODPUT_MIN..$GOODPUT_MAX" || fail "goodput ratio '${g:-none}' outside $GOODPUT_MIN..$GOODPUT_MAX"
p50_live=$(q "SELECT owd_p50_ms FROM live_runs")
loss=$(q "SELECT loss FROM live_runs")
awk -v d="${p50_live:-x}" -v l="${loss:-x}" 'BEGIN { exit !(d + 0 == d && d >= 10 && d < 1000 && l + 0 == l && l < 0.05) }' &&
    ok "voice measured: owd p50 $p50_live ms (>= the links' 10 ms), loss $loss" ||
    fail "voice: owd p50 '$p50_live' ms, loss '$loss' (expected >= 10 ms and < 0.05)"
[ $FAILED -eq 0 ] && echo PASS
exit $FAILED
