#!/usr/bin/env bash
# Failover (issue 5): mid-transfer, the far side of the uplink carrying the
# download goes down silently (the router's bridge for it: the laptop keeps
# its carrier and gets no error). The transfer completes; the longest stall
# is printed; the uplink comes back once the link does.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
shape "$RTR" r1 40mbit
shape "$RTR" r2 40mbit
start_server ${SRV_ARGS:-}
start_client -i l1 -i l2 --full-tunnel ${CLI_ARGS:-}

BYTES=$((30 * 1000 * 1000))
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 "$BYTES" 120
wait_for "$WORK/serve.log" listening 5
TG_PROGRESS=1 bg "$LAP" "$WORK/fetch.log" "$NETTOOL" tcp-fetch 203.0.113.2 8080 120
FETCH=$LAST_PID
sleep 1.5
b1=$(rtr tc -s qdisc show dev r1 | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p')
b2=$(rtr tc -s qdisc show dev r2 | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p')
if [ "${b1:-0}" -ge "${b2:-0}" ]; then BR=br1 DEV=l1 SLOT=0; else BR=br2 DEV=l2 SLOT=1; fi
log "active uplink: $DEV (router sent $b1 bytes on r1, $b2 on r2); taking $BR down silently"
rtr ip link set "$BR" down
check "the laptop's $DEV keeps its carrier" sh -c "ip netns exec $LAP ip link show $DEV | grep -q LOWER_UP"
sleep 3
healthy_before=$(grep -c "uplink $SLOT ($DEV): .* -> healthy" "$WORK/client.log")
log "bringing $BR back"
rtr ip link set "$BR" up
wait_pid "$FETCH" 90 || fail "transfer did not finish in time"
cat "$WORK/fetch.log" >&2
want=$(grep '^sha256' "$WORK/serve.log")
check "transfer complete" grep -q "^bytes $BYTES\$" "$WORK/fetch.log"
check "sha256 identical" test -n "$want" -a "$want" = "$(grep '^sha256' "$WORK/fetch.log")"
log "failover_max_stall_ms: $(sed -n 's/^max_stall_ms //p' "$WORK/fetch.log")"
log "failover_transfer_mbit: $(sed -n 's/^mbit //p' "$WORK/fetch.log")"
check "the dead uplink was noticed" grep -Eq "uplink $SLOT \($DEV\): .* -> (degraded|unhealthy|down)" "$WORK/client.log"
i=0
while [ $i -lt 100 ] && [ "$(grep -c "uplink $SLOT ($DEV): .* -> healthy" "$WORK/client.log")" -le "$healthy_before" ]; do
    sleep 0.1; i=$((i + 1))
done
check "the uplink returns when its link comes back" test "$(grep -c "uplink $SLOT ($DEV): .* -> healthy" "$WORK/client.log")" -gt "$healthy_before"
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
grep -E "uplink $SLOT \($DEV\)" "$WORK/client.log" >&2
finish
