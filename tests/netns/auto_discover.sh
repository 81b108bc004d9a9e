#!/usr/bin/env bash
# --auto-discover (issue 5): every interface with a default route is an
# uplink. During a transfer a new interface appears (veth l3 with an address
# and a default route: it joins) and one disappears (l2 deleted: it leaves),
# without restarting; the transfer completes intact.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
for r in r1 r2; do shape "$RTR" "$r" 30mbit; done
start_server
start_client --auto-discover --full-tunnel
check "l1 discovered" grep -q "uplink .: l1 joins" "$WORK/client.log"
check "l2 discovered" grep -q "uplink .: l2 joins" "$WORK/client.log"

BYTES=$((30 * 1000 * 1000))
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 "$BYTES" 120
wait_for "$WORK/serve.log" listening 5
bg "$LAP" "$WORK/fetch.log" "$NETTOOL" tcp-fetch 203.0.113.2 8080 120
FETCH=$LAST_PID
sleep 1

# a phone is plugged in: a new interface with a default route
ip link add l3 netns "$LAP" type veth peer name r3 netns "$RTR"
shape "$RTR" r3 30mbit
rtr ip addr add 192.0.2.129/26 dev r3
rtr ip link set r3 up
lap ip addr add 192.0.2.130/26 dev l3
lap ip link set l3 up
lap ip route add default via 192.0.2.129 dev l3 metric 300
check "l3 joins without a restart" wait_for "$WORK/client.log" "uplink .: l3 joins" 5
check "l3 connects" wait_for "$WORK/client.log" "uplink . (l3): connected" 5

sleep 1
# ... and another one goes away
lap ip link del l2
check "l2 leaves" wait_for "$WORK/client.log" "uplink .: l2 left" 5

wait_pid "$FETCH" 90 || fail "transfer did not finish in time"
cat "$WORK/fetch.log" >&2
want=$(grep '^sha256' "$WORK/serve.log")
check "transfer complete" grep -q "^bytes $BYTES\$" "$WORK/fetch.log"
check "sha256 identical" test -n "$want" -a "$want" = "$(grep '^sha256' "$WORK/fetch.log")"
log "auto_discover_max_stall_ms: $(sed -n 's/^max_stall_ms //p' "$WORK/fetch.log")"
b3=$(rtr tc -s qdisc show dev r3 | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p')
check "the new uplink carried traffic ($b3 bytes)" test "${b3:-0}" -gt 100000
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
finish
