#!/usr/bin/env bash
# Direction changes over three uplinks: every uplink is limited with tbf to
# 30 Mbit/s each way (the router's side for downloads, the laptop's for
# uploads). Ten rounds, each a download then an upload of 3.5 s, one TCP
# flow. An uplink whose rate estimate froze at 0 when the direction changed
# would carry nothing from then on and the rate would decay round after
# round. Asserted: every round keeps 80% of the first round of its
# direction, more than one uplink's worth, and in the last four rounds each
# uplink carries at least 10% of the round's bytes (tc's counters) of an
# upload; of a download, at least two of the three do for now: measured on
# 2026-12-05 (4 runs), uploads ran at 81.6-81.9 Mbit/s on all three in
# every round; downloads at 81.6-81.9 on all three, except one run where
# the server never sent on the second uplink (its probes were answered):
# 54.4 Mbit/s on two uplinks in all ten rounds, and one where the first
# round reached 65.3 (shares 0.44/0.13/0.44). No decay in any run.
# Once the server stripes downloads over all three, raise DOWN_MIN_UPLINKS.
# Argument: the tg_flow binary.
. "$(dirname "$0")/lib.sh" || exit 1
FLOW="${1:?usage: alternate.sh TG_FLOW}"
need_root
topology
# The third uplink: laptop l3 192.0.2.130/26 -- r3 [br3 192.0.2.129/26] router.
ip link add l3 netns "$LAP" type veth peer name r3 netns "$RTR"
rtr ip link add br3 type bridge
rtr ip link set r3 master br3
rtr ip link set r3 up
rtr ip link set br3 up
rtr ip addr add 192.0.2.129/26 dev br3
lap ip link set l3 up
lap ip addr add 192.0.2.130/26 dev l3
lap ip route add default via 192.0.2.129 dev l3 metric 300
i=0
until lap "$NETTOOL" icmp-ping 192.0.2.129 1 1 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { log "the third uplink does not answer"; exit 1; }; sleep 0.1
done
for n in 1 2 3; do shape "$RTR" r$n 30mbit; shape "$LAP" l$n 30mbit; done
start_server ${SRV_ARGS:-}
start_client -i l1 -i l2 -i l3 --full-tunnel ${CLI_ARGS:-}

ROUNDS=10 SECS=3.5
single=$(awk 'BEGIN { printf "%.1f", 30 * 1376 / 1514 }')
sent() { # sent NS DEV: bytes tbf has sent on DEV
    ip netns exec "$1" tc -s qdisc show dev "$2" | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p'
}
counters() { # counters NS DEV-PREFIX: "b1 b2 b3"
    echo "$(sent "$1" "${2}1") $(sent "$1" "${2}2") $(sent "$1" "${2}3")"
}
: > "$WORK/rounds"
port=8100
for r in $(seq 1 $ROUNDS); do
    for dir in down up; do
        port=$((port + 1))
        if [ $dir = down ]; then
            ns=$RTR pre=r
            bg "$OUT" "$WORK/srv.$r.$dir" "$FLOW" send-serve $port $SECS 0 30
            wait_for "$WORK/srv.$r.$dir" listening 5
            before=$(counters $ns $pre)
            lap "$FLOW" recv 203.0.113.2 $port 30 > "$WORK/cli.$r.$dir" 2>&1
            res="$WORK/cli.$r.$dir"
        else
            ns=$LAP pre=l
            bg "$OUT" "$WORK/srv.$r.$dir" "$FLOW" recv-serve $port 30
            SINK=$LAST_PID
            wait_for "$WORK/srv.$r.$dir" listening 5
            before=$(counters $ns $pre)
            lap "$FLOW" send 203.0.113.2 $port $SECS 30 > "$WORK/cli.$r.$dir" 2>&1
            wait_pid "$SINK" 10
            res="$WORK/srv.$r.$dir"
        fi
        after=$(counters $ns $pre)
        mbit=$(sed -n 's/^mbit_after_1s //p' "$res")
        shares=$(echo "$before $after" | awk '{ t = $4 - $1 + $5 - $2 + $6 - $3; if (t <= 0) t = 1
            printf "%.2f %.2f %.2f", ($4 - $1) / t, ($5 - $2) / t, ($6 - $3) / t }')
        echo "$r $dir ${mbit:-0} $shares" >> "$WORK/rounds"
        log "round $r $dir: ${mbit:-0} Mbit/s, shares of the uplinks $shares"
    done
done
srv "$TRIGLAV" status --json --tun-name tgs --state-dir "$STATE" > "$WORK/status.json" 2>&1
lap "$TRIGLAV" status --json --tun-name tgc --state-dir "$STATE" > "$WORK/client-status.json" 2>&1
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
DOWN_MIN_UPLINKS=${DOWN_MIN_UPLINKS:-2}
for dir in down up; do
    first=$(awk -v d=$dir '$2 == d { print $3; exit }' "$WORK/rounds")
    check "$dir: the first round ($first Mbit/s) uses more than one uplink (> 1.3 x $single)" \
        awk -v m="$first" -v s="$single" 'BEGIN { exit !(m > 1.3 * s) }'
    worst=$(awk -v d=$dir '$2 == d { print $3 }' "$WORK/rounds" | sort -g | head -1)
    log "alternate_${dir}_mbit: first $first, worst $worst, all $(awk -v d=$dir '$2 == d { printf "%s ", $3 }' "$WORK/rounds")"
    check "$dir: no decay, every round >= 80% of the first ($worst vs $first Mbit/s)" \
        awk -v w="$worst" -v f="$first" 'BEGIN { exit !(w >= 0.8 * f) }'
    want=3; [ $dir = down ] && want=$DOWN_MIN_UPLINKS
    # the fewest uplinks with >= 10% of a round's bytes over the last 4 rounds
    used=$(awk -v d=$dir -v n=$ROUNDS '$2 == d && $1 > n - 4 { k = 0; for (i = 4; i <= 6; i++) k += ($i >= 0.10)
        if (m == "" || k < m) m = k } END { print m + 0 }' "$WORK/rounds")
    check "$dir: in each of the last 4 rounds >= $want uplinks carry >= 10% of the bytes (fewest: $used)" \
        test "$used" -ge "$want"
done
[ "$FAILED" -eq 0 ] || { log "--- server status"; cat "$WORK/status.json" >&2
    log "--- client status"; cat "$WORK/client-status.json" >&2; }
finish
