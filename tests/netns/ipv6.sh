#!/usr/bin/env bash
# IPv6 as the server's address. The topology of lib.sh gets IPv6 addresses
# from 2001:db8::/32 beside its IPv4 ones (topology6 below), and the server's
# default routes go through the router, so a wildcard listener advertises
# the addresses clients reach.
#   1. `listen = ["0.0.0.0:7443", "[::]:7443"]` in a config file: both
#      sockets open, the printed key names 198.51.100.2 and 2001:db8:100::2;
#      two --listen flags do the same for a second server.
#   2. A key with only the IPv6 address: every uplink runs over IPv6 (the
#      router sees UDP over IPv6 only), the TUN MTU leaves room for the
#      longer outer header, and a full-tunnel TCP download is intact with
#      nothing fragmented anywhere.
#      IPv6 inside the tunnel (pool6 2001:db8:85::/64): the client gets
#      2001:db8:85::2, ping6 (small and full-size), TCP and UDP reach the
#      outside host 2001:db8:113::2, which sees the server's address.
#   3. A key whose first address is a dead IPv6 one and whose second is the
#      IPv4 one: connected through IPv4 within 3 s (families interleave).
# Everything is restored after exit.
. "$(dirname "$0")/lib.sh" || exit 1
NET6=${1:?usage: ipv6.sh TG_NET6}
need_root

topology6() {
    lap ip -6 addr add 2001:db8:1::2/64 dev l1 nodad
    lap ip -6 addr add 2001:db8:2::2/64 dev l2 nodad
    rtr ip -6 addr add 2001:db8:1::1/64 dev br1 nodad
    rtr ip -6 addr add 2001:db8:2::1/64 dev br2 nodad
    rtr ip -6 addr add 2001:db8:100::1/64 dev rs nodad
    rtr sysctl -qw net.ipv6.conf.all.forwarding=1
    srv ip -6 addr add 2001:db8:100::2/64 dev sr nodad
    srv ip -6 addr add 2001:db8:113::1/64 dev so nodad
    out ip -6 addr add 2001:db8:113::2/64 dev os nodad
    lap ip -6 route add default via 2001:db8:1::1 dev l1 metric 100
    lap ip -6 route add default via 2001:db8:2::1 dev l2 metric 200
    srv ip route replace default via 198.51.100.1
    srv ip -6 route add default via 2001:db8:100::1
    local i=0
    while [ $i -lt 50 ]; do
        lap "$NET6" ping6 2001:db8:100::2 1 1 >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    log "topology6: the laptop cannot reach the server over IPv6"; exit 1
}
topology
topology6
snapshot_all before
"$TRIGLAV" keygen --output "$WORK/server.key" > /dev/null || { fail "keygen"; finish; }

# 1. both wildcards from a config file
cat > "$WORK/server.toml" <<CONF
[server]
listen = ["0.0.0.0:7443", "[::]:7443"]
key_file = "$WORK/server.key"
pool = "198.18.0.0/24"
pool6 = "2001:db8:85::/64"
CONF
bg "$SRV" "$WORK/server.log" "$TRIGLAV" server --config "$WORK/server.toml" --tun-name tgs \
    --state-dir "$STATE"
SERVER_PID=$LAST_PID
wait_for "$WORK/server.log" '^tg1_' 10 || { fail "the server did not start on both wildcards"; finish; }
check "listening on 0.0.0.0:7443" grep -q "listening on udp 0.0.0.0:7443" "$WORK/server.log"
check "listening on [::]:7443" grep -q "listening on udp \[::\]:7443" "$WORK/server.log"
KEY=$(grep '^tg1_' "$WORK/server.log" | head -1)
KEY46=$(ip netns exec "$SRV" "$TRIGLAV" server --print-key --key "$WORK/server.key" \
    --advertise 198.51.100.2:7443 --advertise "[2001:db8:100::2]:7443")
check "the printed key names 198.51.100.2:7443 and [2001:db8:100::2]:7443" test "$KEY" = "$KEY46"
# ... and from two --listen flags (a second server beside the first)
bg "$SRV" "$WORK/server2.log" "$TRIGLAV" server --generate-key --listen 0.0.0.0:7444 \
    --listen "[::]:7444" --pool 198.18.1.0/24 --pool6 off --tun-name tgs2 --state-dir "$STATE"
check "two --listen flags, 0.0.0.0:7444 and [::]:7444: the server starts" \
    wait_for "$WORK/server2.log" '^tg1_' 10
check "... listening on both" sh -c "grep -q 'listening on udp 0.0.0.0:7444' $WORK/server2.log &&
    grep -q 'listening on udp \[::\]:7444' $WORK/server2.log"
stop "$LAST_PID" "the second server"
KEY6=$(ip netns exec "$SRV" "$TRIGLAV" server --print-key --key "$WORK/server.key" \
    --advertise "[2001:db8:100::2]:7443")

# 2. IPv6 uplinks; the router counts the tunnel's datagrams by family
rtr nft -f - <<'NFT' || { fail "nft"; finish; }
table inet h3count {
  chain counting {
    type filter hook forward priority 0; policy accept;
    meta nfproto ipv4 udp dport 7443 counter
    meta nfproto ipv6 udp dport 7443 counter
    meta nfproto ipv4 udp sport 7443 counter
    meta nfproto ipv6 udp sport 7443 counter
  }
}
NFT
count() { # bytes (UDP GSO packets cross the veths whole: packets undercount)
    rtr nft list table inet h3count |
        sed -n "s/.*nfproto $1 udp [sd]port 7443 counter packets [0-9]* bytes \([0-9]*\).*/\1/p" |
        awk '{ n += $1 } END { print n + 0 }'
}
frags() { # fragments NS created: IPv4 FragCreates + IPv6 Ip6FragCreates
    ip netns exec "$1" awk '
        FILENAME ~ /snmp6/ && $1 == "Ip6FragCreates" { n += $2 }
        FILENAME !~ /snmp6/ && $1 == "Ip:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "FragCreates") c = i; h = 1 } else n += $c }
        END { print n + 0 }' /proc/net/snmp /proc/net/snmp6
}
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 20000000 60
KEY=$KEY6
start_client -i l1 -i l2 --full-tunnel
check "the server answered over IPv6" grep -q "server \[2001:db8:100::2\]:7443 answered" "$WORK/client.log"
check "TUN MTU 1408 for IPv6 outer headers" sh -c "ip netns exec $LAP ip link show tgc | grep -q 'mtu 1408'"
check "both uplinks connect" wait_for "$WORK/client.log" "(l2): connected" 10
lap "$NETTOOL" tcp-fetch 203.0.113.2 8080 60 > "$WORK/fetch.txt"
check "the tunnel got IPv6 address 2001:db8:85::2" wait_for "$WORK/client.log" \
    "tunnel IPv6: tgc has 2001:db8:85::2/64, IPv6 goes through the tunnel" 5
check "the server's TUN has 2001:db8:85::1" sh -c "ip netns exec $SRV ip -6 addr show dev tgs | grep -q 2001:db8:85::1/64"
check "status shows both tunnel addresses" sh -c "ip netns exec $LAP $TRIGLAV status --tun-name tgc --state-dir $STATE |
    grep -q 'triglav tun tgc: 198.18.0.2/24 and 2001:db8:85::2/64, server \[2001:db8:100::2\]:7443'"
check "ping6 the outside host through the tunnel" lap "$NET6" ping6 2001:db8:113::2 3 10
check "ping6 of a full 1408-byte packet (MTU) through the tunnel, not fragmented" \
    lap "$NET6" ping6 2001:db8:113::2 2 10 1368
bg "$OUT" "$WORK/serve6.log" "$NET6" tcp-serve 8086 5000000 60
sleep 0.3
lap "$NET6" tcp-fetch 2001:db8:113::2 8086 60 > "$WORK/fetch6.txt"
check "5 MB of TCP over IPv6 through the tunnel intact" sh -c "grep -q '^bytes 5000000' $WORK/fetch6.txt &&
    test \"\$(sed -n 's/^sha256 //p' $WORK/fetch6.txt)\" = \"\$(sed -n 's/^sha256 //p' $WORK/serve6.log)\""
check "the outside host saw the server's IPv6 address (masquerade)" grep -q "^peer 2001:db8:113::1$" "$WORK/serve6.log"
bg "$OUT" "$WORK/echo6.log" "$NET6" udp-echo 5353 5 30
sleep 0.3
check "UDP over IPv6 through the tunnel: 5 echoes" lap "$NET6" udp-ping 2001:db8:113::2 5353 5 15
check "the outside host saw the server's IPv6 address for UDP too" grep -q "^peer 2001:db8:113::1$" "$WORK/echo6.log"
check "20 MB through the tunnel intact" sh -c "grep -q '^bytes 20000000' $WORK/fetch.txt &&
    test \"\$(sed -n 's/^sha256 //p' $WORK/fetch.txt)\" = \"\$(sed -n 's/^sha256 //p' $WORK/serve.log)\""
v4=$(count ipv4) v6=$(count ipv6)
log "tunnel bytes through the router: IPv4 $v4, IPv6 $v6"
check "the uplinks ran over IPv6 ($v6 bytes), none over IPv4 ($v4)" test "$v6" -gt 20000000 -a "$v4" -eq 0
for ns in "$LAP" "$RTR" "$SRV"; do
    f=$(frags "$ns")
    check "no fragments created in $ns ($f)" test "$f" -eq 0
done
stop "$CLIENT_PID" client

# 3. a dead IPv6 address first, the IPv4 one second
KEY=$("$TRIGLAV" server --print-key --key "$WORK/server.key" \
    --advertise "[2001:db8:100::99]:7443" --advertise 198.51.100.2:7443)
t0=$(date +%s%N)
start_client -i l1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "connected through IPv4 within 3 s ($ms ms)" test "$ms" -le 3000
check "the IPv4 address answered" grep -q "server 198.51.100.2:7443 answered" "$WORK/client.log"
check "TUN MTU 1428 over IPv4" sh -c "ip netns exec $LAP ip link show tgc | grep -q 'mtu 1428'"
check "ping the server's tunnel address" lap "$NETTOOL" icmp-ping 198.18.0.1 2 10
stop "$CLIENT_PID" client

rtr nft delete table inet h3count
stop "$SERVER_PID" server
check "the server's IPv6 forwarding is off again" \
    test "$(ip netns exec "$SRV" sysctl -n net.ipv6.conf.all.forwarding)" = 0
snapshot_all after
check_restored
finish
