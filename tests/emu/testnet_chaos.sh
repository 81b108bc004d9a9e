#!/usr/bin/env bash
# scripts/testnet.sh --chaos (label emu, root): one iteration of
# scenarios/live_equal.scn while uplinks go silent at random (mean gap 1 s,
# 0.5-3 s each). Asserted: the tunnel survives it (the script succeeds: the
# download and the voice flow finish and are measured); the flaps are listed;
# nothing is stored (the links were not the scenario's); no namespace of the
# testnet is left behind. No figure is asserted.
# Usage: testnet_chaos.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR
set -u
SIM=${1:?usage: testnet_chaos.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR} TRIGLAV=${2:?} SRC=${3:?}
WORK=$(mktemp -d /tmp/tgtestnet.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }

timeout 100 bash "$SRC/scripts/testnet.sh" "$SRC/scenarios/live_equal.scn" --iterations 1 \
    --db "$WORK/results.db" --chaos 1 --sim "$SIM" --triglav "$TRIGLAV" \
    >"$WORK/testnet.out" 2>"$WORK/testnet.err"
rc=$?
cat "$WORK/testnet.err"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] && ok "the tunnel and the traffic came through the flaps" ||
    fail "scripts/testnet.sh exit status $rc"
n=$(sed -n 's/^testnet: iteration 0: --chaos: \([0-9]*\) flaps.*/\1/p' "$WORK/testnet.err")
[ "${n:-0}" -ge 1 ] && ok "$n flaps listed" || fail "no flap listed"
grep -q '^  goodput_mbps [0-9.]*$' "$WORK/testnet.err" && grep -q '^  owd_p50_ms [0-9.]*$' "$WORK/testnet.err" &&
    ok "download and voice measured" || fail "the download or the voice flow was not measured"
[ ! -e "$WORK/results.db" ] && ok "nothing stored" || fail "a --chaos run wrote $WORK/results.db"
prefix=$(sed -n 's/^testnet: namespaces \([a-z0-9]*\)lap,.*/\1/p' "$WORK/testnet.err")
[ -n "$prefix" ] && ! ip netns list | grep -q "^$prefix" && ok "no namespace left behind" ||
    fail "namespaces ${prefix:-?}* left behind (or not named)"
[ $FAILED -eq 0 ] && echo PASS
exit $FAILED
