#!/bin/bash
# bench_emulator's measurements (run by tests/bench/bench_emulator; root):
# through one emulated uplink with no impairment (bench_none.scn) and over a
# plain veth pair between the same two namespaces, in the same run:
#   1500-byte IP packets as fast as one UDP sender goes (BENCH_COUNT of them),
#   then 1000/s for 2 s for the one-way delay.
# Prints "PATH key value" lines (PATH: emu or veth).
#   bench.sh SIM PROBE
set -u
SIM=$1 PROBE=$2
COUNT=${BENCH_COUNT:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
emu_setup
# the plain path: a second veth pair straight from C to S
ip link add "p$IF_CA" netns "$NS_C" type veth peer name "p$IF_SB" netns "$NS_S" || fail "veth"
ip -n "$NS_C" addr add 198.51.100.1/24 dev "p$IF_CA"
ip -n "$NS_S" addr add 198.51.100.2/24 dev "p$IF_SB"
ip -n "$NS_C" link set "p$IF_CA" up
ip -n "$NS_S" link set "p$IF_SB" up

# flow DEST SIZE PPS COUNT: prints the receiver's figures
flow() {
    ip netns exec "$NS_S" "$PROBE" recv 5001 30 500 >"$WORK/recv.out" &
    local rpid=$!
    sleep 0.2
    ip netns exec "$NS_C" "$PROBE" send "$1" 5001 "$2" "$3" "$4" >"$WORK/send.out" || fail "sender"
    wait "$rpid" || fail "receiver"
}
report() {
    local k
    for k in received rate_bps owd_p50_us owd_p99_us; do
        echo "$1 $2_$k $(val $k)"
    done
    echo "$1 $2_sent $(awk '$1 == "sent" { print $2 }' "$WORK/send.out")"
}

flow 198.51.100.2 1472 0 "$COUNT"
report veth bulk
flow 198.51.100.2 1472 1000 2000
report veth lat

emu_start "$HERE/bench_none.scn" 0
flow 192.0.2.2 1472 0 "$COUNT"
report emu bulk
flow 192.0.2.2 1472 1000 2000
report emu lat
emu_stop >"$WORK/emu.table"
echo "emu queue_drops $(emu_counter up drop-queue)"
echo "emu send_errors $(emu_counter up send-err)"
echo "emu rx_drops $(emu_counter up rx-drop)"
