#!/usr/bin/env bash
# Every address in the key (Happy Eyeballs): the key names a dead address
# first (nothing answers there: no host has it, so it is blackholed) and the
# server second. The client tries the second 250 ms after the first and is
# connected through it within 3 s; an uplink added afterwards sends only to
# the address that answered. When no address answers, the error names every
# one tried. Everything is restored after exit.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before
"$TRIGLAV" keygen --output "$WORK/server.key" --address 198.51.100.99:7443 \
    --address 198.51.100.2:7443 > "$WORK/key.txt" || { fail "keygen"; finish; }
KEY=$(cat "$WORK/key.txt")
bg "$SRV" "$WORK/server.log" "$TRIGLAV" server --key "$WORK/server.key" \
    --listen 198.51.100.2:7443 --pool 198.18.0.0/24 --tun-name tgs --state-dir "$STATE"
SERVER_PID=$LAST_PID
wait_for "$WORK/server.log" '^tg1_' 10 || { fail "server did not start"; finish; }

# the router counts what each uplink sends to the dead address
rtr nft -f - <<'NFT' || { fail "nft"; finish; }
table ip h3count {
  chain counting {
    type filter hook forward priority 0; policy accept;
    ip saddr 192.0.2.2 ip daddr 198.51.100.99 udp dport 7443 counter
    ip saddr 192.0.2.66 ip daddr 198.51.100.99 udp dport 7443 counter
  }
}
NFT
dead_count() { # dead_count SRCADDR: packets from SRCADDR to the dead address
    rtr nft list table ip h3count | sed -n "s/.*ip saddr $1 .*counter packets \([0-9]*\).*/\1/p"
}

t0=$(date +%s%N)
bg "$LAP" "$WORK/client.log" "$TRIGLAV" tun "$KEY" --tun-name tgc --state-dir "$STATE" -i l1
CLIENT_PID=$LAST_PID
wait_for "$WORK/client.log" 'tunnel up' 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
log "connected after $ms ms"
check "connected through the second address within 3 s ($ms ms)" test "$ms" -le 3000
check "the second address was tried after the first" \
    grep -q "trying server address 198.51.100.2:7443 too" "$WORK/client.log"
check "the second address answered" grep -q "server 198.51.100.2:7443 answered" "$WORK/client.log"
n1=$(dead_count 192.0.2.2)
check "uplink l1 tried the dead address first ($n1 datagrams)" test "${n1:-0}" -ge 1
check "ping the server's tunnel address" lap "$NETTOOL" icmp-ping 198.18.0.1 2 10

# a later uplink uses the address that answered, and never the dead one
out=$(lap "$TRIGLAV" uplink add l2 --tun-name tgc --state-dir "$STATE")
check "uplink add l2 ($out)" test "$out" = "l2 added"
check "l2 connects" wait_for "$WORK/client.log" "(l2): connected" 5
n2=$(dead_count 192.0.2.66)
check "l2 sent nothing to the dead address ($n2 datagrams)" test "${n2:-x}" = 0
rtr nft delete table ip h3count

stop "$CLIENT_PID" client

# every address dead: the error names each one tried
DEAD=$("$TRIGLAV" keygen --output "$WORK/k2" --address 198.51.100.99:7443 --address 198.51.100.2:7999)
lap "$TRIGLAV" tun "$DEAD" -i l1 --connect-timeout 2 --tun-name tgc --state-dir "$STATE" \
    > "$WORK/dead.log" 2>&1
rc=$?
check "no address answers: exit 3 ($rc), naming both addresses" sh -c "test $rc -eq 3 &&
    grep -q 'no answer from the server at 198.51.100.99:7443 or 198.51.100.2:7999 within 2 s' $WORK/dead.log"

stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
