#!/usr/bin/env bash
# --capture (issue 6): the client records the tunnel's inner traffic, both
# directions, while ping, UDP and a small TCP transfer go through; the file
# is flushed while running (a crash loses little) and at SIGINT; triglav-sim
# replays it with every packet accounted for (injected = delivered + lost),
# as many up and down as the client recorded out and in. A capture file
# that cannot be created is a clear error before anything is changed.
# Usage: capture.sh TRIGLAV_SIM
. "$(dirname "$0")/lib.sh" || exit 1
SIM="${1:?usage: capture.sh path/to/triglav-sim}"
need_root
topology
snapshot_all before

start_server

# an impossible path: refused at once, exit 1, nothing left behind
lap "$TRIGLAV" tun "$KEY" -i l1 --tun-name tgc --state-dir "$STATE" \
    --capture "$WORK/no/such/dir/x.pcap" > "$WORK/badcap.log" 2>&1
rc=$?
cat "$WORK/badcap.log" >&2
check "unwritable capture path: exit 1 (got $rc)" test "$rc" -eq 1
check "unwritable capture path: the message says why and what to do" \
    grep -q 'cannot create the --capture file: .*No such file or directory.*directory exists' "$WORK/badcap.log"
check "unwritable capture path: no TUN left" sh -c "! ip netns exec $LAP ip link show tgc >/dev/null 2>&1"

PCAP="$WORK/session.pcap"
start_client -i l1 -i l2 --full-tunnel --capture "$PCAP"

check "ping through the tunnel" lap "$NETTOOL" icmp-ping 203.0.113.2 5 10

# flushed while running: more than the 24-byte file header within ~1 s
sleep 1.5
size=$(stat -c %s "$PCAP" 2>/dev/null || echo 0)
check "the capture is flushed while running ($size bytes)" test "$size" -gt 24

bg "$OUT" "$WORK/udp.log" "$NETTOOL" udp-echo 5353 5 20
wait_for "$WORK/udp.log" listening 5
check "UDP through the tunnel" lap "$NETTOOL" udp-ping 203.0.113.2 5353 5 10

BYTES=$((300 * 1000))
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 "$BYTES" 60
wait_for "$WORK/serve.log" listening 5
lap "$NETTOOL" tcp-fetch 203.0.113.2 8080 60 > "$WORK/fetch.log" 2>&1
check "300 kB of TCP through the tunnel" grep -q "^bytes $BYTES\$" "$WORK/fetch.log"

# SIGINT: the clean shutdown path closes the capture
kill -INT "$CLIENT_PID"
wait_pid "$CLIENT_PID" 10
rc=$?
check "client exits 0 on SIGINT (got $rc)" test "$rc" -eq 0
line=$(grep 'capture .*packets out' "$WORK/client.log")
log "client: $line"
out_n=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9]*\) packets out.*/\1/p')
in_n=$(printf '%s\n' "$line" | sed -n 's/.*), \([0-9]*\) in (.*/\1/p')
# out: 5 pings, 5 UDP, the TCP handshake and ACKs (the kernel acks GRO'd
# bursts); in: their answers and 300 kB in packets of at most 1346 bytes
check "packets recorded out ($out_n > 15) and in ($in_n > 220)" \
    test "${out_n:-0}" -gt 15 -a "${in_n:-0}" -gt 220

cat > "$WORK/two.scn" <<'SCN'
[scenario]
name = "capture-test"
description = "netns capture.sh: two clean uplinks"
duration = 5s
iterations = 1
strategies = ["adaptive"]
aggregation = ["full"]

[[uplink]]
name = "a"
rate = 50Mbit
delay = 10ms

[[uplink]]
name = "b"
rate = 20Mbit
delay = 25ms

# the loader wants traffic; a replay does not run it
[[traffic]]
kind = "voice"
SCN
"$SIM" replay "$PCAP" --scenario "$WORK/two.scn" --direction auto --no-db > "$WORK/replay.log" 2>&1
rc=$?
cat "$WORK/replay.log" >&2
check "triglav-sim replay reads the capture (exit $rc)" test "$rc" -eq 0
sum=$(grep '^injected:' "$WORK/replay.log")
inj=$(printf '%s\n' "$sum" | sed -n 's/^injected: \([0-9]*\) .*/\1/p')
del=$(printf '%s\n' "$sum" | sed -n 's/.* delivered: \([0-9]*\) .*/\1/p')
lost=$(printf '%s\n' "$sum" | sed -n 's/.* lost: \([0-9]*\) .*/\1/p')
check "replay: injected $inj > 0 and = delivered $del + lost $lost" \
    test "${inj:-0}" -gt 0 -a "${inj:-0}" -eq $(( ${del:-0} + ${lost:-0} ))
head=$(head -1 "$WORK/replay.log")
up=$(printf '%s\n' "$head" | sed -n 's/.*; \([0-9]*\) up, .*/\1/p')
down=$(printf '%s\n' "$head" | sed -n 's/.* up, \([0-9]*\) down.*/\1/p')
check "replay: $up up = $out_n recorded out, $down down = $in_n recorded in" \
    test -n "$up" -a "$up" = "$out_n" -a "$down" = "$in_n"
check "replay: the laptop is the tunnel address" grep -Eq '\(laptop 198\.18\.0\.2[,)]' "$WORK/replay.log"

stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
