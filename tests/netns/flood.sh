#!/usr/bin/env bash
# Handshake flood: `triglav server` keeps serving while an attacker sends it
# 50 000 handshake messages in 30 s from 64 source addresses (tg_flood, the
# path given by CMake as $1): junk without a valid mac1, fresh valid NK
# initiations (anyone with the tg1_ key can make them), replays of one
# captured initiation, and 4 sources that echo every cookie they get and
# send a quarter of it all, about 100 messages/s each (the strongest
# attacker: only the per-source rate limit bounds it).
#
#   laptop  (l1, l2: tbf 20 + 20 Mbit/s downstream) -- router -- server
#   second laptop (m1 192.0.2.130/26)              -- router
#   attacker (at 192.0.2.194/26, sources 203.0.113.128/26) -- router
#
# The server routes 203.0.113.128/26 back through the router (more specific
# than its 203.0.113.0/24 to the outside host), so cookies reach the
# attacker. Asserted: the laptop's TCP download during the flood is >= 80 %
# of its baseline; a second client started during the flood has its tunnel
# address within 2 s and pings through it; the server is alive afterwards,
# its peak RSS grew < 64 MB, it dropped the junk on mac1, answered cookies,
# refused replays, rate-limited the echoers, and did no more Diffie-Hellman
# than the rate limit allows. Prints the figures.
#
# The download is one iperf3 TCP connection: seconds 0-4 are the baseline,
# the flood starts in second 5, seconds 8-12 are measured under it. One
# connection with no idle gap, so the flood is the only thing that changes.
. "$(dirname "$0")/lib.sh" || exit 1
FLOOD="${1:?usage: flood.sh PATH_TO_tg_flood}"
need_root
command -v iperf3 >/dev/null || { log "SKIP: iperf3 is not installed"; exit 77; }

ATK="${P}atk" LP2="${P}lp2"
flood_cleanup() {
    cleanup
    for ns in "$ATK" "$LP2"; do ip netns del "$ns" 2>/dev/null; done
}
trap flood_cleanup EXIT
atk() { ip netns exec "$ATK" "$@"; }
lp2() { ip netns exec "$LP2" "$@"; }

TOTAL=50000 SECONDS_FLOOD=30 SOURCES=64 ECHOERS=${FLOOD_ECHOERS:-4}
HS_PER_SOURCE=10 HS_BURST=20 HS_LOAD=100 # the server's defaults (core/server.c)

topology
shape "$RTR" r1 20mbit
shape "$RTR" r2 20mbit
for ns in "$ATK" "$LP2"; do
    ip netns add "$ns" || exit 1
    ip netns exec "$ns" ip link set lo up
done
ip link add m1 netns "$LP2" type veth peer name r3 netns "$RTR"
ip link add at netns "$ATK" type veth peer name ra netns "$RTR"
rtr ip link set r3 up
rtr ip link set ra up
rtr ip addr add 192.0.2.129/26 dev r3
rtr ip addr add 192.0.2.193/26 dev ra
rtr ip route add 203.0.113.128/26 via 192.0.2.194
lp2 ip link set m1 up
lp2 ip addr add 192.0.2.130/26 dev m1
lp2 ip route add default via 192.0.2.129
atk ip link set at up
atk ip addr add 192.0.2.194/26 dev at
atk ip route add default via 192.0.2.193
for i in $(seq 128 191); do echo "addr add 203.0.113.$i/32 dev at"; done | atk ip -batch - || exit 1
srv ip route add 203.0.113.128/26 via 198.51.100.1

SSTATE="$WORK/state-server" C1STATE="$WORK/state-client1" C2STATE="$WORK/state-client2"
bg "$SRV" "$WORK/server.log" "$TRIGLAV" server --generate-key --listen 198.51.100.2:7443 \
    --pool 198.18.0.0/24 --tun-name tgs --state-dir "$SSTATE"
SERVER_PID=$LAST_PID
wait_for "$WORK/server.log" '^tg1_' 10 || { cat "$WORK/server.log" >&2; fail "server did not start"; exit 1; }
KEY=$(grep '^tg1_' "$WORK/server.log" | head -1)
bg "$LAP" "$WORK/client.log" "$TRIGLAV" tun "$KEY" -i l1 -i l2 --full-tunnel --tun-name tgc \
    --state-dir "$C1STATE"
CLIENT_PID=$LAST_PID
wait_for "$WORK/client.log" 'tunnel up' 15 || { cat "$WORK/client.log" >&2; fail "client did not connect"; exit 1; }
# the attacker reaches the server (and only it) from every source
atk "$NETTOOL" icmp-ping 198.51.100.2 1 2 >/dev/null || { fail "the attacker cannot reach the server"; finish; }

bg "$OUT" "$WORK/iperf-server.log" iperf3 -s -B 203.0.113.2 -p 5201
i=0
while ! out ss -ltn | grep -q '203.0.113.2:5201' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

# metric NAME: a value of the server's Prometheus text, 0 when absent
metric() {
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' "$WORK/metrics"
}
server_metrics() {
    srv "$TRIGLAV" status --metrics --tun-name tgs --state-dir "$SSTATE" >"$WORK/metrics" 2>&1
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
# mean FROM TO: mean Mbit/s of the download's one-second intervals FROM..TO
# (counted after the 1 s of slow start that iperf3 leaves out)
mean() {
    awk -v a="$1" -v b="$2" '/sec/ && /Mbits\/sec/ && !/omitted|sender|receiver/ {
            split($3, t, "-"); s = int(t[1] + 0.5)
            for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1)
            if (s >= a && s <= b) { sum += v; n++ } }
         END { printf "%.1f", (n == b - a + 1 ? sum / n : 0) }' "$WORK/iperf.log"
}

# One TCP download (server -> laptop) through the tunnel for 1 + 14 s (the
# first second, slow start, left out); the flood starts 6.5 s after it.
iperf_t0=$(date +%s.%N)
timeout 40 ip netns exec "$LAP" iperf3 -c 203.0.113.2 -p 5201 -R -O 1 -t 14 -i 1 -f m \
    >"$WORK/iperf.log" 2>&1 &
IPERF_PID=$!
PIDS="$PIDS $IPERF_PID"
sleep 6
check "server metrics readable before the flood" server_metrics
hs_before=$(metric 'triglav_handshakes_total{state="done"}')
hwm_before=$(hwm_kb)
sleep_until() { # sleep_until T0 SECONDS: until SECONDS after T0
    local s
    s=$(awk -v t0="$1" -v d="$2" -v now="$(date +%s.%N)" 'BEGIN { s = t0 + d - now; printf "%.3f", (s > 0 ? s : 0) }')
    sleep "$s"
}
sleep_until "$iperf_t0" 6.5
flood_t0=$(date +%s.%N)
bg "$ATK" "$WORK/flood.log" "$FLOOD" "$KEY" 203.0.113.128 "$SOURCES" "$TOTAL" "$SECONDS_FLOOD" "$ECHOERS"
FLOOD_PID=$LAST_PID
flood_lead=$(awk -v a="$iperf_t0" -v b="$flood_t0" 'BEGIN { printf "%.2f", a + 1 + 8 - b }')
# what both ends think of the uplinks in the middle of the measured seconds
sleep_until "$iperf_t0" 11.5
srv "$TRIGLAV" status --tun-name tgs --state-dir "$SSTATE" >"$WORK/status-server-during" 2>&1
lap "$TRIGLAV" status --tun-name tgc --state-dir "$C1STATE" >"$WORK/status-client-during" 2>&1
wait "$IPERF_PID"
check "the download ran its 15 s" [ $? -eq 0 ]
check "the flood is still running after the download" kill -0 "$FLOOD_PID"
log "download per second (0-13): $(awk '/sec/ && /Mbits\/sec/ && !/omitted|sender|receiver/ {
    for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") printf "%s ", $(i - 1) }' "$WORK/iperf.log")"
baseline=$(mean 0 4)
during=$(mean 8 12)
ratio=$(awk -v b="$baseline" -v d="$during" 'BEGIN { printf "%.3f", (b > 0 ? d / b : 0) }')
log "download: $baseline Mbit/s before the flood, $during Mbit/s during it ($ratio); the flood began ${flood_lead} s before the measured seconds"
check "the flood was running >= 2 s before the measured seconds began (${flood_lead} s)" \
    awk -v l="$flood_lead" 'BEGIN { exit !(l >= 2) }'
check "baseline download works: $baseline Mbit/s >= 15 of 2 x 20" \
    awk -v m="$baseline" 'BEGIN { exit !(m >= 15) }'
check "download during the flood: $during Mbit/s >= 80% of $baseline" \
    awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }'

# a second client, started while the flood runs
c2_t0=$(date +%s.%N)
bg "$LP2" "$WORK/client2.log" "$TRIGLAV" tun "$KEY" -i m1 --tun-name tgc --state-dir "$C2STATE"
CLIENT2_PID=$LAST_PID
c2_up=""
for i in $(seq 1 100); do # 5 s at most
    if grep -q 'tunnel up' "$WORK/client2.log" 2>/dev/null; then c2_up=$(date +%s.%N); break; fi
    sleep 0.05
done
c2_flood_age=$(awk -v a="$flood_t0" -v b="$c2_t0" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$c2_up" ]; then
    c2_s=$(awk -v a="$c2_t0" -v b="$c2_up" 'BEGIN { printf "%.3f", b - a }')
    c2_log_s=$(sed -n 's/^\[ *\([0-9.]*\)\].*tunnel up.*/\1/p' "$WORK/client2.log" | head -1)
    c2_addr=$(sed -n 's/.*tunnel up: tgc has \([0-9.]*\)\/.*/\1/p' "$WORK/client2.log" | head -1)
    log "second client: tunnel address $c2_addr ${c2_s} s after start (its log: ${c2_log_s} s), ${c2_flood_age} s into the flood"
    check "second client connected within 2 s during the flood (${c2_s} s)" \
        awk -v t="$c2_s" 'BEGIN { exit !(t <= 2.0) }'
    check "second client pings the server through its tunnel during the flood" \
        lp2 "$NETTOOL" icmp-ping 198.18.0.1 3 6
else
    fail "second client: no tunnel within 5 s of starting during the flood"
fi
check "the flood was still running when the second client connected" kill -0 "$FLOOD_PID"

wait_pid "$FLOOD_PID" $((SECONDS_FLOOD + 15))
check "the flood generator ended by itself" [ $? -eq 0 ]
cat "$WORK/flood.log" >&2
fl() { sed -n "s/^flood_$1 //p" "$WORK/flood.log"; }
sent=$(fl sent)
check "the flood sent its $TOTAL messages, >= 99% (${sent:-none} in $(fl seconds) s)" \
    [ "${sent:-0}" -ge $((TOTAL * 99 / 100)) ]
check "the echoing sources opened cookies ($(fl cookies_opened), none failed)" \
    [ "$(fl cookies_opened)" -gt 0 -a "$(fl cookies_bad)" -eq 0 ]
check "the echoing sources sent again with mac2 ($(fl echo_resend))" [ "$(fl echo_resend)" -gt 0 ]

check "server alive after the flood" kill -0 "$SERVER_PID"
check "server answers its control socket after the flood" server_metrics
hwm_after=$(hwm_kb)
grow_kb=$(( ${hwm_after:-0} - ${hwm_before:-0} ))
log "server peak RSS (VmHWM): ${hwm_before} kB before the flood, ${hwm_after} kB after (+${grow_kb} kB)"
check "server peak RSS grew < 64 MB during the flood (+$grow_kb kB)" [ "$grow_kb" -lt 65536 ]

d_mac=$(metric 'triglav_drops_total{reason="mac"}')
d_cookie=$(metric 'triglav_drops_total{reason="cookie"}')
d_replay=$(metric 'triglav_drops_total{reason="replay"}')
d_rate=$(metric 'triglav_drops_total{reason="rate_limited"}')
d_queue=$(metric 'triglav_drops_total{reason="queue_full"}')
hs_after=$(metric 'triglav_handshakes_total{state="done"}')
hs_flood=$((hs_after - hs_before))
log "server drops: mac $d_mac, cookie $d_cookie, replay $d_replay, rate_limited $d_rate, queue_full $d_queue"
log "server Diffie-Hellmans during the flood: $hs_flood (attacker got $(fl resp_echo) answers as echoer, $(fl resp_other) as others, $(fl resp_replay) copies for replays)"
junk=$(fl junk)
check "junk without mac1 dropped on mac1: $d_mac >= 95% of $junk" \
    awk -v d="$d_mac" -v j="$junk" 'BEGIN { exit !(j > 0 && d >= 0.95 * j) }'
check "under load the server answered with cookies ($d_cookie)" [ "$d_cookie" -gt 1000 ]
check "replays refused ($d_replay)" [ "$d_replay" -gt 0 ]
check "the echoing sources were rate-limited ($d_rate)" [ "$d_rate" -gt 0 ]
# every proven source may pass burst + rate x time; before the load is seen,
# up to HS_LOAD messages pass without mac2; plus the second client's
dh_bound=$((ECHOERS * (HS_BURST + HS_PER_SOURCE * SECONDS_FLOOD) + HS_LOAD + 20))
check "Diffie-Hellmans during the flood bounded by the rate limit: $hs_flood <= $dh_bound" \
    [ "$hs_flood" -le "$dh_bound" ]

check "the first client still pings through its tunnel after the flood" \
    lap "$NETTOOL" icmp-ping 203.0.113.2 3 6

stop "$CLIENT2_PID" "second client"
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
grep 'server: tun in' "$WORK/server.log" >&2
log "flood_baseline_mbit: $baseline"
log "flood_during_mbit: $during"
log "flood_during_ratio: $ratio"
log "flood_second_client_connect_s: ${c2_s:-none}"
log "flood_server_dh: $hs_flood (bound $dh_bound)"
log "flood_server_hwm_growth_kb: $grow_kb"
if [ "$FAILED" -ne 0 ]; then
    log "--- second client log"; cat "$WORK/client2.log" >&2 2>/dev/null
    log "--- the download"; cat "$WORK/iperf.log" >&2 2>/dev/null
    log "--- server status during the flood"; cat "$WORK/status-server-during" >&2 2>/dev/null
    log "--- client status during the flood"; cat "$WORK/status-client-during" >&2 2>/dev/null
fi
finish
