#!/usr/bin/env bash
# The testnet's voice probe (`triglav-sim live probe`) across an outage, with
# real datagrams between two namespaces of its own (veth, 192.0.2.1 ->
# 192.0.2.2; the receiving end is set down for 2.5 s in the middle):
#  - a receiver told the flow's span keeps listening through the outage and
#    counts what came after it (received between the bounds, last after the gap);
#  - one that is not stops at the outage's start (its idle time), as before;
#  - two senders of the same sequence numbers: each number counted once, the
#    second copies reported as duplicates.
# usage: probe.sh TRIGLAV_SIM. Exit 77 only if not root or no netns/veth.
set -u
SIM=$1
TAG=$$ A=tgprA$$ B=tgprB$$
WORK=$(mktemp -d /tmp/tgprobe.XXXXXX)
cleanup() {
    ip netns del "$A" 2>/dev/null
    ip netns del "$B" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
ip netns add "$A" 2>/dev/null || { echo "SKIP: no network namespaces"; exit 77; }
ip netns add "$B" || fail "ip netns add"
ip link add pa$TAG netns "$A" type veth peer name pb$TAG netns "$B" 2>/dev/null ||
    { echo "SKIP: no veth support"; exit 77; }
ip -n "$A" addr add 192.0.2.1/24 dev pa$TAG
ip -n "$B" addr add 192.0.2.2/24 dev pb$TAG
ip -n "$A" link set pa$TAG up && ip -n "$B" link set pb$TAG up || fail "link up"
mac=$(ip -n "$B" -o link show pb$TAG | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$A" neigh replace 192.0.2.2 lladdr "$mac" dev pa$TAG nud permanent || fail "neigh"

val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# 1. 300 datagrams at 50/s (6 s); the receiving end down from 1.5 s to 4.0 s.
ip netns exec "$B" "$SIM" live probe recv --port 7001 --count 300 --span 6 --timeout 30 \
    >"$WORK/span.out" 2>"$WORK/span.err" &
r1=$!
ip netns exec "$B" "$SIM" live probe recv --port 7002 --count 300 --timeout 30 \
    >"$WORK/idle.out" 2>"$WORK/idle.err" &
r2=$!
sleep 0.3
ip netns exec "$A" "$SIM" live probe send --to 192.0.2.2:7001 --count 300 --pps 50 \
    >"$WORK/s1.out" 2>&1 &
s1=$!
ip netns exec "$A" "$SIM" live probe send --to 192.0.2.2:7002 --count 300 --pps 50 \
    >"$WORK/s2.out" 2>&1 &
s2=$!
sleep 1.5
ip -n "$B" link set pb$TAG down
sleep 2.5
ip -n "$B" link set pb$TAG up
wait $s1 $s2
wait $r1 || fail "recv with --span: exit $?: $(cat "$WORK/span.err")"
wait $r2 || fail "recv without --span: exit $?: $(cat "$WORK/idle.err")"
n=$(val "$WORK/span.out" received) gap=$(awk '$1 == "first_s" { f = $2 } $1 == "last_s" { l = $2 }
    END { printf "%.3f", l - f }' "$WORK/span.out")
echo "with --span 6: received $n of 300, first to last ${gap} s, loss $(val "$WORK/span.out" loss)"
[ -n "$n" ] && [ "$n" -ge 140 ] && [ "$n" -le 230 ] || fail "received $n, expected 140-230 (outage of ~125)"
awk -v g="$gap" 'BEGIN { exit !(g > 5) }' || fail "last datagram ${gap} s after the first: the outage ended the flow"
m=$(val "$WORK/idle.out" received)
echo "without --span: received $m of 300 (stops 1 s into the outage)"
[ -n "$m" ] && [ "$m" -ge 40 ] && [ "$m" -le 110 ] || fail "received $m, expected 40-110 (the part before the outage)"

# 2. Two senders of the same 50 sequence numbers: 50 received, the second
# copies duplicates (all but those still on the way when the 50th distinct came).
ip netns exec "$B" "$SIM" live probe recv --port 7003 --count 50 --span 2 --timeout 20 \
    >"$WORK/dup.out" 2>"$WORK/dup.err" &
r3=$!
sleep 0.3
for k in 1 2; do
    ip netns exec "$A" "$SIM" live probe send --to 192.0.2.2:7003 --count 50 --pps 50 \
        >"$WORK/d$k.out" 2>&1 &
done
wait $r3 || fail "recv: exit $?: $(cat "$WORK/dup.err")"
wait
n=$(val "$WORK/dup.out" received) d=$(val "$WORK/dup.out" duplicates)
echo "two senders of 50: received $n, duplicates $d"
[ "$n" = 50 ] || fail "received $n distinct, expected 50"
[ -n "$d" ] && [ "$d" -ge 45 ] && [ "$d" -le 50 ] || fail "duplicates $d, expected 45-50 (it stops at the 50th distinct)"
[ "$(val "$WORK/dup.out" loss)" = 0.000000 ] || fail "loss $(val "$WORK/dup.out" loss), expected 0"
echo "PASS"
