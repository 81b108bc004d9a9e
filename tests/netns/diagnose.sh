#!/usr/bin/env bash
# `triglav diagnose`: OK for a healthy setup; then, one broken thing at a
# time, the FAIL or WARN that names it with its fix: a NAT that maps per
# destination (the server listens on two ports, both in the key), a smaller
# path MTU behind one uplink, a silently dead uplink, an interface that is
# down or missing, strict rp_filter, no permissions, the server gone.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
start_server --listen 198.51.100.2:7444
D() { lap "$TRIGLAV" diagnose "$@"; }
# has FILE LEVEL WHAT REGEX: a line "LEVEL  WHAT: ...REGEX..."
has() { grep -Eq "^$2 +$3: .*$4" "$1"; }
# fix FILE WHAT REGEX: the fix line right after WHAT's line
fix() { grep -A1 -E "^(WARN|FAIL) +$2: " "$1" | grep -Eq "^      fix: .*$3"; }

# --- healthy: everything OK, exit 0
D "$KEY" -i l1 -i l2 > "$WORK/ok.txt"; rc=$?
cat "$WORK/ok.txt" >&2
check "healthy: exit 0" test $rc -eq 0
check "healthy: no FAIL" sh -c "! grep -q '^FAIL' '$WORK/ok.txt'"
check "key names both server addresses" has "$WORK/ok.txt" OK key 'server 198.51.100.2:7443 \(and a second address'
check "permissions OK as root" has "$WORK/ok.txt" OK permissions 'root'
check "/dev/net/tun OK" has "$WORK/ok.txt" OK /dev/net/tun 'can be opened'
check "clock checked" grep -Eq '^(OK|WARN) +clock: ' "$WORK/ok.txt"
check "l1: up, address, default route" has "$WORK/ok.txt" OK l1 'up, 192\.0\.2\.2, default route'
check "l2: up, address, default route" has "$WORK/ok.txt" OK l2 'up, 192\.0\.2\.66, default route'
check "l1: the server answers a handshake" has "$WORK/ok.txt" OK 'l1 reachability' '198\.51\.100\.2:7443 answers: handshake in [0-9.]+ ms'
check "l2: the server answers a handshake" has "$WORK/ok.txt" OK 'l2 reachability' 'handshake in'
check "the default run has no MTU or NAT checks" sh -c "! grep -Eq ' (path MTU|NAT): ' '$WORK/ok.txt'"
check "the server freed the diagnose sessions" sh -c "sleep 0.3; ip netns exec $SRV $TRIGLAV status --json --tun-name tgs --state-dir $STATE | grep -q '\"session_count\":0'"

# --- NAT: l1 masqueraded keeping ports, l2 with random ports (a mapping per destination);
# --- and a path MTU of 1400 behind l2 (a router route with a smaller MTU: it says so by ICMP)
rtr nft -f - <<'EOF'
table ip diagnat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "rs" ip saddr 192.0.2.0/26 masquerade
    oifname "rs" ip saddr 192.0.2.64/26 masquerade random
  }
}
EOF
rtr ip rule add from 192.0.2.64/26 lookup 100
rtr ip route add 198.51.100.0/24 dev rs table 100 mtu lock 1400
D "$KEY" -i l1 -i l2 --connectivity > "$WORK/conn.txt"; rc=$?
cat "$WORK/conn.txt" >&2
check "--connectivity: exit 0 (warnings only)" test $rc -eq 0
check "--connectivity: no permission or clock checks" sh -c "! grep -Eq ' (permissions|clock):' '$WORK/conn.txt'"
check "l1 NAT: mapped to the router's address, port kept, the same for both destinations" \
    has "$WORK/conn.txt" OK 'l1 NAT' '192\.0\.2\.2:[0-9]+ appears as 198\.51\.100\.1:[0-9]+ \(port kept\); the same for both server addresses'
check "l2 NAT: a mapping per destination is a WARN" \
    has "$WORK/conn.txt" WARN 'l2 NAT' 'as 198\.51\.100\.1:[0-9]+ to 198\.51\.100\.2:7443 but as 198\.51\.100\.1:[0-9]+ to 198\.51\.100\.2:7444: the NAT maps each destination separately'
check "... with what it means" fix "$WORK/conn.txt" 'l2 NAT' 'nothing for triglav'
check "l1 path MTU 1500 is OK" has "$WORK/conn.txt" OK 'l1 path MTU' '1500 bytes: full-size tunnel datagrams \(1500 for --mtu 1428\) pass'
check "l2 path MTU 1400 found, a WARN (the router says so)" has "$WORK/conn.txt" WARN 'l2 path MTU' '1400 bytes: .* are fragmented'
check "... fixed by --mtu 1328" fix "$WORK/conn.txt" 'l2 path MTU' '--mtu 1328'
D "$KEY" -i l2 --connectivity --mtu 1328 > "$WORK/mtu.txt"
check "with --mtu 1328 the 1400-byte path is enough" has "$WORK/mtu.txt" OK 'l2 path MTU' '1400 bytes: .*\(1400 for --mtu 1328\) pass'
rtr ip route del 198.51.100.0/24 dev rs table 100
rtr ip rule del from 192.0.2.64/26 lookup 100
rtr nft delete table ip diagnat

# --- a config file instead of the key: its interfaces
printf '[client]\nauth_key = "%s"\ninterfaces = ["l1"]\n' "$KEY" > "$WORK/client.toml"
D --config "$WORK/client.toml" > "$WORK/config.txt"; rc=$?
check "--config: exit 0, l1 only" sh -c "[ $rc -eq 0 ] && grep -q '^OK  *l1 reachability' '$WORK/config.txt' && ! grep -q 'l2' '$WORK/config.txt'"

# --- one uplink silently dead: FAIL for it with the fix, OK for the other, exit 1
rtr ip link set br2 down
D "$KEY" -i l1 -i l2 --timeout 2 > "$WORK/dead.txt"; rc=$?
cat "$WORK/dead.txt" >&2
check "dead l2: exit 1" test $rc -eq 1
check "dead l2: FAIL, no answer, with the handshakes sent" has "$WORK/dead.txt" FAIL 'l2 reachability' '198\.51\.100\.2:7443: no answer \([1-9][0-9]* handshakes sent in 2\.0 s\)'
check "... and the fix" fix "$WORK/dead.txt" 'l2 reachability' 'triglav server. runs at 198\.51\.100\.2:7443, that UDP 7443 is not blocked on the network of l2'
check "l1 still OK" has "$WORK/dead.txt" OK 'l1 reachability' 'handshake in'
check "the summary counts the failure" grep -Eq '^[0-9]+ OK, [0-9]+ WARN, 1 FAIL: the fixes are above$' "$WORK/dead.txt"
rtr ip link set br2 up

# --- interfaces: down, missing
lap ip link set l2 down
D "$KEY" -i l2 -i nosuch0 > "$WORK/if.txt"; rc=$?
cat "$WORK/if.txt" >&2
check "down and missing interfaces: exit 1" test $rc -eq 1
check "l2 is down, fix: bring it up" sh -c "grep -Eq '^FAIL +l2: is down' '$WORK/if.txt' && grep -A1 '^FAIL  *l2: is down' '$WORK/if.txt' | grep -q 'ip link set l2 up'"
check "nosuch0 does not exist" has "$WORK/if.txt" FAIL nosuch0 'no such interface'
lap ip link set l2 up
lap ip route add default via 192.0.2.65 dev l2 metric 200 2>/dev/null

# --- --full: a running tunnel's state; then strict rp_filter on an uplink
start_client -i l1 -i l2
FULL="--full --tun-name tgc --state-dir $STATE"
D "$KEY" -i l1 -i l2 $FULL > "$WORK/full.txt"; rc=$?
cat "$WORK/full.txt" >&2
check "--full: exit 0 with the tunnel running" test $rc -eq 0
check "--full: the running tunnel is up" has "$WORK/full.txt" OK 'running tunnel' 'session up'
check "--full: its uplinks are active and healthy" sh -c "grep -c '^OK  *running uplink: l[12] active, healthy' '$WORK/full.txt' | grep -qx 2"
check "--full: rp_filter is fine" sh -c "grep -Ec '^OK +l[12] rp_filter: (off|loose)' '$WORK/full.txt' | grep -qx 2"
check "--full: permissions, MTU and NAT too" sh -c "grep -q ' permissions: ' '$WORK/full.txt' && grep -q ' l1 path MTU: ' '$WORK/full.txt' && grep -q ' l1 NAT: ' '$WORK/full.txt'"
lap sysctl -qw net.ipv4.conf.l2.rp_filter=1
D "$KEY" -i l1 -i l2 $FULL --timeout 1.5 > "$WORK/rpf.txt"; rc=$?
cat "$WORK/rpf.txt" >&2
check "strict rp_filter on l2: exit 1, l2 gets no answer" sh -c "[ $rc -eq 1 ] && grep -Eq '^FAIL +l2 reachability: ' '$WORK/rpf.txt'"
check "... and the rp_filter check says why, with the loose-mode fix" sh -c "grep -Eq '^FAIL +l2 rp_filter: strict .*this is why' '$WORK/rpf.txt' && grep -A1 '^FAIL  *l2 rp_filter' '$WORK/rpf.txt' | grep -q 'net.ipv4.conf.l2.rp_filter=2'"
lap sysctl -qw net.ipv4.conf.l2.rp_filter=0
stop "$CLIENT_PID" client

# --- no permissions (an unprivileged user)
if command -v setpriv >/dev/null; then
    ip netns exec "$LAP" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        "$TRIGLAV" diagnose "$KEY" -i l1 > "$WORK/user.txt" 2>&1; rc=$?
    cat "$WORK/user.txt" >&2
    check "unprivileged: exit 1, FAIL permissions with the setcap fix" \
        sh -c "[ $rc -eq 1 ] && grep -q '^FAIL  *permissions: no CAP_NET_ADMIN' '$WORK/user.txt' && grep -A1 '^FAIL  *permissions' '$WORK/user.txt' | grep -q 'setcap cap_net_admin+ep'"
fi

# --- the server gone: its host says nothing listens there
stop "$SERVER_PID" server
D "$KEY" -i l1 --timeout 1.5 > "$WORK/gone.txt"; rc=$?
cat "$WORK/gone.txt" >&2
check "server gone: FAIL, nothing listens on that UDP port, start triglav server" \
    sh -c "[ $rc -eq 1 ] && grep -Eq '^FAIL +l1 reachability: .*nothing listens on that UDP port' '$WORK/gone.txt' && grep -A1 '^FAIL  *l1 reachability' '$WORK/gone.txt' | grep -q 'start .triglav server.'"
D "tg1_notakey" > "$WORK/badkey.txt"; rc=$?
check "a malformed key: FAIL key, exit 1" sh -c "[ $rc -eq 1 ] && grep -q '^FAIL  *key: ' '$WORK/badkey.txt'"
finish
