#!/usr/bin/env bash
# TCP fallback: the router drops every UDP datagram to and from the server's
# port (nftables), as a hotel or corporate network does.
#  1. A new client with two uplinks connects over TCP within CONNECT_MAX_S
#     (10 s) and a 20 MB download through the tunnel arrives sha256-intact.
#     Then strangers open more silent TCP connections than the server has
#     slots, and one sends a frame length of 0: the tunnel keeps working,
#     the server evicts unproven connections and drops the bad one.
#  2. UDP is let through again: both uplinks go back to UDP within
#     BACK_MAX_S (10 s), and the same download is intact over UDP.
#  3. UDP is blocked again in the middle of a download: the running tunnel
#     moves to TCP and the download completes intact.
# The figures printed: Mbit/s over TCP and over UDP (the same 2 x 30 Mbit/s
# uplinks, tbf), the time to connect and to return. Client and server exit
# cleanly and everything they changed is restored.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
shape "$RTR" r1 30mbit
shape "$RTR" r2 30mbit
CONNECT_MAX_S=${CONNECT_MAX_S:-10} BACK_MAX_S=${BACK_MAX_S:-10}
BYTES=$((20 * 1000 * 1000))
snapshot_all before

block_udp() {
    rtr nft -f - <<'NFT'
table inet tgblock {
    chain blocking {
        type filter hook forward priority 0;
        udp dport 7443 drop
        udp sport 7443 drop
    }
}
NFT
}
unblock_udp() { rtr nft delete table inet tgblock; }

# download LABEL PORT: one 20 MB transfer from the outside host; sets mbit
download() {
    bg "$OUT" "$WORK/serve.$1.log" "$NETTOOL" tcp-serve "$2" "$BYTES" 90
    wait_for "$WORK/serve.$1.log" listening 5 || fail "$1: the outside host cannot listen on $2"
    lap "$NETTOOL" tcp-fetch 203.0.113.2 "$2" 90 > "$WORK/fetch.$1.log" 2>&1
    check_intact "$1"
}
check_intact() {
    check_transfer "$1" "$BYTES"
    mbit=$(sed -n 's/^mbit //p' "$WORK/fetch.$1.log")
    mbit=${mbit:-0}
    log "tcp_fallback_${1}_mbit: $mbit"
}

start_server
tcp_listening() { srv ss -tlnH "sport = :7443" | grep -q 198.51.100.2:7443; }
check "the server listens on TCP too" tcp_listening
block_udp || { fail "nft: cannot block UDP"; finish; }

# 1. a new client behind the block
t0=$(date +%s%N)
bg "$LAP" "$WORK/client.log" "$TRIGLAV" tun "$KEY" --tun-name tgc --state-dir "$STATE" \
    -i l1 -i l2 --full-tunnel
CLIENT_PID=$LAST_PID
wait_for "$WORK/client.log" 'tunnel up' "$CONNECT_MAX_S"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
log "tcp_fallback_connect_ms: $ms"
check "connected over TCP within $CONNECT_MAX_S s ($ms ms)" grep -q 'tunnel up' "$WORK/client.log"
check "the client says its uplinks went over TCP" grep -q 'connected over TCP to 198.51.100.2:7443' "$WORK/client.log"
wait_for "$WORK/client.log" 'uplink 1 (l2): connected over TCP' 10
download tcp 8080
tcp_mbit=$mbit
check "both uplinks carry over TCP" test "$(grep -c 'connected over TCP' "$WORK/client.log")" -ge 2

# strangers without keys: more silent connections than the server has slots,
# and one with a frame length of 0; the client's proven connections stay
rtr bash -c 'for i in $(seq 300); do exec {fd}<>/dev/tcp/198.51.100.2/7443 || exit 1; done
    exec {g}<>/dev/tcp/198.51.100.2/7443 && printf "\0\0junk" >&$g; sleep 1' ||
    fail "the router could not open its connections"
lap "$NETTOOL" icmp-ping 203.0.113.2 3 5 > "$WORK/ping.strangers" 2>&1
check "the tunnel over TCP still answers after the strangers" grep -q '^icmp_replies [1-9]' "$WORK/ping.strangers"

# 2. UDP works again
unblock_udp
t0=$(date +%s%N)
wait_for "$WORK/client.log" 'uplink 0 (l1): UDP answers again' "$BACK_MAX_S"
wait_for "$WORK/client.log" 'uplink 1 (l2): UDP answers again' "$BACK_MAX_S"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
log "tcp_fallback_back_to_udp_ms: $ms"
check "both uplinks back on UDP within $BACK_MAX_S s ($ms ms)" \
    test "$(grep -c 'UDP answers again: back from TCP to UDP' "$WORK/client.log")" -ge 2
download udp 8081
udp_mbit=$mbit
log "tcp_fallback_ratio: $(awk -v t="$tcp_mbit" -v u="$udp_mbit" 'BEGIN { printf "%.2f", (u > 0) ? t / u : 0 }') (over TCP / over UDP)"

# 3. UDP blocked under a running download
before=$(grep -c 'connected over TCP' "$WORK/client.log")
bg "$OUT" "$WORK/serve.switch.log" "$NETTOOL" tcp-serve 8082 "$BYTES" 90
wait_for "$WORK/serve.switch.log" listening 5 || fail "switch: the outside host cannot listen"
bg "$LAP" "$WORK/fetch.switch.log" "$NETTOOL" tcp-fetch 203.0.113.2 8082 90
FETCH_PID=$LAST_PID
sleep 1
block_udp || fail "nft: cannot block UDP again"
wait_pid "$FETCH_PID" 90
check_intact switch
check "the running tunnel moved to TCP" test "$(grep -c 'connected over TCP' "$WORK/client.log")" -gt "$before"
stall=$(sed -n 's/^max_stall_ms //p' "$WORK/fetch.switch.log")
log "tcp_fallback_switch_max_stall_ms: ${stall:-?}"

stop "$CLIENT_PID" client
stop "$SERVER_PID" server
check "the server accepted TCP connections" grep -q 'TCP fallback: [1-9][0-9]* connections accepted' "$WORK/server.log"
check "strangers' silent connections made room for others" grep -q 'TCP fallback: .* [1-9][0-9]* evicted unproven' "$WORK/server.log"
check "a bad frame length closed its connection" grep -q 'TCP fallback: .* [1-9][0-9]* with bad frames' "$WORK/server.log"
unblock_udp
snapshot_all after
check_restored
finish
