#!/usr/bin/env bash
# Server restart (issue 5, robustness): the server goes away and comes back
# with the same key; the client notices that no uplink reaches it any more
# and starts a fresh session after --reconnect-after, without a restart of
# its own; traffic flows again; everything is restored after exit.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before
"$TRIGLAV" keygen --output "$WORK/server.key" --address 198.51.100.2:7443 > "$WORK/key.txt"
KEY=$(cat "$WORK/key.txt")
run_server() {
    bg "$SRV" "$WORK/server.log" "$TRIGLAV" server --key "$WORK/server.key" \
        --listen 198.51.100.2:7443 --pool 198.18.0.0/24 --tun-name tgs --state-dir "$STATE"
    SERVER_PID=$LAST_PID
    wait_for "$WORK/server.log" '^tg1_' 10 || { fail "server did not start"; finish; }
}
run_server
start_client -i l1 -i l2 --full-tunnel --reconnect-after 2
check "ping through the tunnel" lap "$NETTOOL" icmp-ping 203.0.113.2 2 10
stop "$SERVER_PID" server
sleep 1
run_server
check "the client starts a new session by itself" wait_for "$WORK/client.log" "session re-established" 30
check "ping through the tunnel again" lap "$NETTOOL" icmp-ping 203.0.113.2 2 10
grep -E "new session|re-established" "$WORK/client.log" >&2
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
