#!/usr/bin/env bash
# Full tunnel (issue 5): 50 MB over TCP from the outside host arrives
# sha256-identical and the outside host sees the server's address; ping, UDP
# and DNS go through the tunnel; after exit, rules, routing tables, nftables,
# forwarding and resolv.conf are what they were.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before

start_server
start_client -i l1 -i l2 --full-tunnel --dns --dns-server 203.0.113.2 --metrics-addr 192.0.2.2:9091

# the outside host is reachable only through the tunnel
check "ping through the tunnel" lap "$NETTOOL" icmp-ping 203.0.113.2 3 10

bg "$OUT" "$WORK/udp.log" "$NETTOOL" udp-echo 5353 5 20
wait_for "$WORK/udp.log" listening 5
check "UDP through the tunnel" lap "$NETTOOL" udp-ping 203.0.113.2 5353 5 10
check "UDP: the outside host sees the server's address" grep -q '^peer 203.0.113.1$' "$WORK/udp.log"

bg "$OUT" "$WORK/dns.log" "$NETTOOL" dns-serve 53 203.0.113.77 1 20
wait_for "$WORK/dns.log" listening 5
lap "$NETTOOL" dns-query www.example.test 10 > "$WORK/dnsq.log" 2>&1
check "resolv.conf points at the --dns-server" grep -q '^dns_server 203.0.113.2$' "$WORK/dnsq.log"
check "DNS answer through the tunnel" grep -q '^dns_answer 203.0.113.77$' "$WORK/dnsq.log"
check "DNS: the resolver sees the server's address" grep -q '^dns_from 203.0.113.1 www.example.test$' "$WORK/dns.log"

BYTES=$((50 * 1000 * 1000))
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 "$BYTES" 180
wait_for "$WORK/serve.log" listening 5
lap "$NETTOOL" tcp-fetch 203.0.113.2 8080 180 > "$WORK/fetch.log" 2>&1
cat "$WORK/fetch.log" >&2
want=$(grep '^sha256' "$WORK/serve.log")
got=$(grep '^sha256' "$WORK/fetch.log")
check "50 MB arrive complete" grep -q "^bytes $BYTES\$" "$WORK/fetch.log"
check "sha256 identical ($got)" test -n "$want" -a "$want" = "$got"
check "TCP: the outside host sees the server's address" grep -q '^peer 203.0.113.1$' "$WORK/serve.log"
log "full_tunnel_mbit: $(sed -n 's/^mbit //p' "$WORK/fetch.log")"

# status and metrics while running
lap "$TRIGLAV" status --tun-name tgc --state-dir "$STATE" > "$WORK/status.txt" 2>&1
cat "$WORK/status.txt" >&2
check "status: the tunnel and both uplinks" sh -c "grep -q 'triglav tun tgc: 198.18.0.2/24' $WORK/status.txt && grep -Eq '^0 +l1 +healthy' $WORK/status.txt && grep -Eq '^1 +l2 +healthy' $WORK/status.txt"
lap "$NETTOOL" http-get 192.0.2.2 9091 /metrics > "$WORK/metrics.txt" 2>&1
check "metrics: Prometheus text over HTTP" sh -c "grep -q '^HTTP/1.0 200' $WORK/metrics.txt && grep -q '^triglav_uplink_health{uplink=\"l1\"} 1' $WORK/metrics.txt && grep -q '^triglav_tun_packets_total{direction=\"in\"}' $WORK/metrics.txt"
srv "$TRIGLAV" status --tun-name tgs --state-dir "$STATE" > "$WORK/sstatus.txt" 2>&1
check "server status: the client and its two uplinks" sh -c "grep -q '^client 198.18.0.2:' $WORK/sstatus.txt && grep -Ec '^[01] +- +healthy' $WORK/sstatus.txt | grep -q 2"

# while running: the policy rules are there
check "policy rules installed" sh -c "ip netns exec $LAP ip rule | grep -q 'not from all fwmark 0x7467 lookup 7467'"
check "IPv6 is blocked, not leaked, in full tunnel" sh -c "ip netns exec $LAP ip -6 rule | grep -q 'lookup 7467' && ip netns exec $LAP ip -6 route get 2001:db8::1 2>&1 | grep -q 'No route to host'"

stop "$CLIENT_PID" client
# the client said it leaves (CLOSE): the server freed its session at once
sleep 0.3
srv "$TRIGLAV" status --tun-name tgs --state-dir "$STATE" > "$WORK/sstatus2.txt" 2>&1
cat "$WORK/sstatus2.txt" >&2
check "server freed the session when the client left" grep -q ' 0 sessions' "$WORK/sstatus2.txt"
stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
