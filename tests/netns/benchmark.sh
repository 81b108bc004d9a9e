#!/usr/bin/env bash
# `triglav benchmark`: through a running client whose uplinks are shaped to
# 8 + 4 Mbit/s in the router, towards the server (the upload direction the
# discard service measures: one HTB class per uplink's source), the goodput lies within the shaped rate and near it,
# each uplink carries no more than its own rate, and the echo round trips
# grow under load. Then with the key and no client running: it brings up a
# tunnel of its own for the run and leaves nothing behind.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
command -v jq >/dev/null || { log "SKIP: jq is not installed (.ci/install-deps)"; exit 77; }
topology
# upload shaping per uplink in the router: HTB classes by source address, 100 ms of queue
rtr tc qdisc add dev rs root handle 1: htb || { log "SKIP: the kernel has no htb qdisc"; exit 77; }
rtr tc class add dev rs parent 1: classid 1:10 htb rate 8mbit ceil 8mbit
rtr tc class add dev rs parent 1: classid 1:20 htb rate 4mbit ceil 4mbit
rtr tc qdisc add dev rs parent 1:10 bfifo limit 100000
rtr tc qdisc add dev rs parent 1:20 bfifo limit 50000
rtr tc filter add dev rs parent 1: protocol ip u32 match ip src 192.0.2.0/26 flowid 1:10
rtr tc filter add dev rs parent 1: protocol ip u32 match ip src 192.0.2.64/26 flowid 1:20
start_server
start_client -i l1 -i l2

discarded() { srv "$TRIGLAV" status --json --tun-name tgs --state-dir "$STATE" | jq .services.discarded_bytes; }
d0=$(discarded)
lap "$TRIGLAV" benchmark --duration 6 --streams 4 --json --tun-name tgc --state-dir "$STATE" \
    > "$WORK/bench.json" 2> "$WORK/bench.err"
rc=$?
sleep 0.5
d1=$(discarded)
cat "$WORK/bench.json" "$WORK/bench.err" >&2
check "benchmark exits 0" test $rc -eq 0
jqb() { jq -e "$1" "$WORK/bench.json" >/dev/null; }
g=$(jq -r '.goodput_bps / 1e6 | floor' "$WORK/bench.json")
log "goodput ${g} Mbit/s (shaped: 8 + 4 Mbit/s of frames)"
check "goodput within the shaped 12 Mbit/s" jqb '.goodput_bps <= 12e6'
check "goodput a real load (more than 2 Mbit/s), below what the uplinks delivered" \
    jqb '.goodput_bps > 2e6 and .goodput_bps <= ([.uplinks[].delivered_bps] | add) * 1.02'
# the server's own count: what it discarded during the run is the goodput times the duration
# (plus what the connections delivered before the first and after the last measurement)
got=$(jq -r ".goodput_bps * .duration_us / 8e6 | floor" "$WORK/bench.json")
log "server discarded $((d1 - d0)) bytes; benchmark: $got bytes acknowledged"
check "the server's discard count agrees with the goodput (within 25 %)" \
    test $(( (d1 - d0) * 100 )) -ge $(( got * 100 )) -a $(( (d1 - d0) * 100 )) -le $(( got * 125 ))
check "it went through the tunnel (local address 198.18.0.x, server 198.18.0.1)" \
    jqb '(.local_address | startswith("198.18.0.")) and .server_tunnel_address == "198.18.0.1" and .streams == 4 and .duration_us == 6000000'
# "both deliver": more than 100 kbit/s each. How much the slower uplink carries is not what
# this test measures (netns_aggregation and netns_skew do): after a few losses at its 50 KB
# queue, adaptive may leave it out of striping for a while (runtime/README.md, known limits),
# and it then carries 0.4-4 Mbit/s from run to run.
check "per uplink: l1 and l2 both deliver, each within its own rate, shares summing to 1" \
    jqb '([.uplinks[].interface] == ["l1","l2"]) and .uplinks[0].delivered_bps <= 8e6 and .uplinks[1].delivered_bps <= 4e6 and ([.uplinks[].delivered_bps > 1e5] | all) and (([.uplinks[].share_ratio] | add) - 1 | fabs) < 0.01'
check "idle echoes come back" jqb '.latency.idle.received >= 8 and .latency.idle.min_us > 0'
check "round trips grow under load (queues fill)" jqb '.latency.loaded.received >= 10 and .latency.loaded.avg_us > .latency.idle.avg_us'
check "the server discarded what was sent" sh -c "grep -q 'benchmark services on 198.18.0.1' '$WORK/server.log'"

# the text report and its progress bar need a terminal; piped: no bar, a table
lap "$TRIGLAV" benchmark --duration 2 --streams 2 --tun-name tgc --state-dir "$STATE" > "$WORK/bench.txt" 2>&1
cat "$WORK/bench.txt" >&2
check "text report: throughput, latency and each uplink" \
    sh -c "grep -q '^  throughput .* goodput' '$WORK/bench.txt' && grep -q '^  loaded  *min' '$WORK/bench.txt' && grep -q '^  l1 ' '$WORK/bench.txt' && grep -q '^  l2 ' '$WORK/bench.txt'"
check "no progress bar when stderr is not a terminal" sh -c "! grep -q '\[#' '$WORK/bench.txt'"
if command -v script >/dev/null; then
    ip netns exec "$LAP" script -qec "$TRIGLAV benchmark --duration 2 --streams 1 --tun-name tgc --state-dir $STATE" /dev/null > "$WORK/bench.tty" 2>&1
    check "on a terminal: a progress bar redrawn in place" sh -c "grep -q '\[#*  *\] *[0-9]/2 s' '$WORK/bench.tty' && tr '\r' '\n' < '$WORK/bench.tty' | grep -c '^\[' | awk '\$1 >= 3 {ok=1} END {exit !ok}'"
fi
stop "$CLIENT_PID" client

# no client running: with the key it brings up its own tunnel, then removes it
lap "$TRIGLAV" benchmark "$KEY" -i l1 --duration 2 --streams 2 --json --tun-name tgb \
    --state-dir "$STATE" > "$WORK/own.json" 2> "$WORK/own.err"
rc=$?
cat "$WORK/own.json" "$WORK/own.err" >&2
check "with the key and no client: exits 0 through a tunnel of its own" test $rc -eq 0
jqo() { jq -e "$1" "$WORK/own.json" >/dev/null; }
check "... on l1 alone, within its 8 Mbit/s" \
    jqo '[.uplinks[].interface] == ["l1"] and .tun == "tgb" and .goodput_bps > 2e6 and .goodput_bps <= 8e6 and .uplinks[0].delivered_bps <= 8e6'
check "... and the tunnel is gone afterwards" sh -c "! ip netns exec $LAP ip link show tgb 2>/dev/null && [ ! -e '$STATE/tgb.state' ] && [ ! -e '$STATE/tgb.sock' ]"
check "without a client or a key it says what to do" sh -c "ip netns exec $LAP $TRIGLAV benchmark --tun-name tgc --state-dir $STATE 2>&1 | grep -q 'no tunnel runs'"
stop "$SERVER_PID" server
finish
