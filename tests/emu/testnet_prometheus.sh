#!/usr/bin/env bash
# scripts/testnet.sh --prometheus (label emu, root): one iteration of
# tests/emu/testnet_mix.scn (a download, a sized upload, a voice call up, web
# browsing down, keystrokes, a video call) with a real Prometheus (Debian's)
# in the laptop's namespace. Asserted: the script succeeds; every flow kind
# was measured (the iperf3 goodput, the voice delay, web objects fetched,
# keys echoed, video received both ways); Prometheus had both targets up
# (client and server, labelled with the iteration) and two client uplink
# series of the RTT gauge; its data folder holds what it stored; the live
# run is stored (no simulated twin: --no-sim). No figure is asserted:
# Prometheus costs the 2-core machine CPU (tests/emu/testnet.sh checks the
# figures without it). Exit 77 when prometheus, curl or jq are missing.
# Usage: testnet_prometheus.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR
set -u
SIM=${1:?usage: testnet_prometheus.sh TRIGLAV_SIM TRIGLAV SOURCE_DIR} TRIGLAV=${2:?} SRC=${3:?}
for t in prometheus curl jq; do
    command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (.ci/install-deps)"; exit 77; }
done
WORK=$(mktemp -d /tmp/tgtestnet.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }

timeout 100 bash "$SRC/scripts/testnet.sh" "$SRC/tests/emu/testnet_mix.scn" --iterations 1 \
    --db "$WORK/results.db" --no-sim --prometheus "$WORK/prom" --sim "$SIM" --triglav "$TRIGLAV" \
    >"$WORK/testnet.out" 2>"$WORK/testnet.err"
rc=$?
cat "$WORK/testnet.err"
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "FAIL: scripts/testnet.sh exit status $rc"; exit 1; }
grep -q '^testnet: iteration 0: prometheus scraped the client and the server, 2 client uplink series' \
    "$WORK/testnet.err" && ok "prometheus scraped client and server, both client uplinks" ||
    fail "prometheus did not scrape both targets and uplinks"
[ -d "$WORK/prom/data/wal" ] && [ -n "$(ls -A "$WORK/prom/data/wal")" ] &&
    ok "its data kept in the folder given" || fail "no Prometheus data in $WORK/prom/data"
grep -q '^  goodput_mbps [0-9.]*$' "$WORK/testnet.err" && grep -q '^  owd_p50_ms [0-9.]*$' "$WORK/testnet.err" &&
    ok "bulk and voice measured" || fail "the bulk or the voice flow was not measured"
w=$(sed -n 's/^testnet: iteration 0: .*web [0-9.]*: \([0-9]*\) objects.*/\1/p' "$WORK/testnet.err")
[ "${w:-0}" -ge 1 ] && ok "$w web objects fetched" || fail "no web object fetched"
ks=$(sed -n 's/^testnet: iteration 0: .*keys [0-9.]*: \([0-9]*\) keys echoed.*/\1/p' "$WORK/testnet.err")
[ "${ks:-0}" -ge 1 ] && ok "$ks keystrokes echoed" || fail "no keystroke echoed"
for vd in down up; do
    grep -q "video5\.0/$vd: [1-9][0-9]* of [0-9]* datagrams" "$WORK/testnet.err" &&
        ok "video $vd received" || fail "no video datagram received $vd"
done
n=$("$SIM" query "$WORK/results.db" "SELECT count(*) FROM live_runs" --csv | tail -n +2 | tr -d '\r')
[ "$n" = 1 ] && ok "the live run stored" || fail "live runs stored: '$n' (expected 1)"
[ $FAILED -eq 0 ] && echo PASS
exit $FAILED
