#!/usr/bin/env bash
# The commands that read and steer a running tunnel: `status --json` (parsed
# by jq, every documented field present), `status --watch` piped (one line
# per interval), `uplink list/show`, and `uplink disable/enable/remove/add`
# acting on the running client while a download runs: a disabled uplink's
# socket counters stop, the other carries the download, enable brings it
# back; remove and add change the set of uplinks.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
command -v jq >/dev/null || { log "SKIP: jq is not installed (.ci/install-deps)"; exit 77; }
topology
shape "$RTR" r1 20mbit
shape "$RTR" r2 20mbit
start_server
start_client -i l1 -i l2 --route 203.0.113.0/24

T() { lap "$TRIGLAV" "$@" --tun-name tgc --state-dir "$STATE"; }
TS() { srv "$TRIGLAV" "$@" --tun-name tgs --state-dir "$STATE"; }
J() { T status --json; }
# jq_ok DESCRIPTION FILTER: the filter holds on the client's status JSON
jq_ok() { check "$1" sh -c "ip netns exec $LAP $TRIGLAV status --json --tun-name tgc --state-dir $STATE | jq -e '$2' >/dev/null"; }

# both uplinks keyed and their mapped address known (OBSERVED rides on PONGs)
i=0
while [ $i -lt 50 ] && ! J | jq -e '[.uplinks[] | select(.keyed and .mapped_port != null)] | length == 2' >/dev/null; do
    sleep 0.1; i=$((i + 1))
done

# --- status --json: the documented schema
J > "$WORK/status.json"
check "status --json parses" sh -c "jq -e . '$WORK/status.json' >/dev/null"
jq_ok "schema 1, role client, session up with a 198.18.0.x address" \
    '.schema_version == 1 and .role == "client" and .session.up and (.session.tunnel_address | startswith("198.18.0.")) and .session.tunnel_prefix_len == 24 and .session.server_tunnel_address == "198.18.0.1"'
jq_ok "server address and port" '.server_address == "198.51.100.2" and .server_port == 7443'
TOP='["aggregation","auto_discover","counters","mode","pid","role","schema_version","server_address","server_port","session","strategy","tun","uplinks","uptime_us","version"]'
UPL='["datagrams_received","datagrams_refused","datagrams_sent","delivered_bytes","delivery_rate_bps","health","interface","keyed","keys_age_us","local_address","loss_ratio","mapped_address","mapped_port","min_rtt_us","owd_us","pinned","probes_lost","probes_sent","queued_bytes","received_bytes","rttvar_us","rx_bytes","rx_packets","slot","srtt_us","state","transport","tx_bytes","tx_packets"]'
CNT='["cookies","datagrams_in","datagrams_out","drops","failovers","handshakes_done","handshakes_sent","nacks_sent","reorder_peak_packets","retransmitted_packets","tun_in_bytes","tun_in_packets","tun_out_bytes","tun_out_packets"]'
jq_ok "top-level fields are the documented ones" "(keys) == $TOP"
jq_ok "each uplink has exactly the documented fields" "[.uplinks[] | keys == $UPL] | all"
jq_ok "counters have the documented fields" "(.counters | keys) == $CNT and (.counters.drops | has(\"decrypt\"))"
jq_ok "two active uplinks l1 and l2, healthy, with an RTT" \
    '[.uplinks[] | .interface] == ["l1","l2"] and ([.uplinks[] | .state == "active" and .health == "healthy" and .srtt_us > 0] | all)'
jq_ok "mapped addresses: the server sees the laptop's own addresses (no NAT here)" \
    '.uplinks[0].mapped_address == "192.0.2.2" and .uplinks[1].mapped_address == "192.0.2.66" and (.uplinks[0].mapped_port | type) == "number"'

TS status --json > "$WORK/server.json"
jqf() { jq -e "$1" "$2" >/dev/null; }
check "server status --json: role server, 1 session with 2 uplinks seen from the laptop's addresses" \
    jqf '.role == "server" and .session_count == 1 and (.sessions | length) == 1 and (.sessions[0].uplinks | length) == 2 and ([.sessions[0].uplinks[].peer_address] | sort) == ["192.0.2.2","192.0.2.66"] and .services.discard_tcp_port == 9 and .services.echo_udp_port == 7 and .tunnel_address == "198.18.0.1"' "$WORK/server.json"

# --- status --watch, piped: one line per interval
start=$(date +%s%N)
T status --watch --interval 0.5 --count 4 > "$WORK/watch.txt"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$WORK/watch.txt" >&2
check "--watch --count 4 piped: 4 lines" test "$(wc -l < "$WORK/watch.txt")" -eq 4
check "... taking 3 intervals of 0.5 s (${ms} ms)" test "$ms" -ge 1400 -a "$ms" -lt 4000
check "... each line: time, session, uplinks and rates" \
    sh -c "grep -cE '^[0-9-]{10}T[0-9:]{8}Z tgc session up 198\.18\.0\.[0-9]+ uplinks 2/2 up_mbps [0-9.]+ down_mbps [0-9.]+ \| l1 active healthy srtt_ms [0-9.]+ tx_mbps [0-9.]+ rx_mbps [0-9.]+ \| l2 ' '$WORK/watch.txt' | grep -qx 4"
timeout 2.7 ip netns exec "$LAP" "$TRIGLAV" status --watch --json --interval 1 --tun-name tgc --state-dir "$STATE" > "$WORK/watch.jsonl"
check "--watch --json piped for 2.7 s at 1 s: 3 JSON lines" test "$(jq -c .role "$WORK/watch.jsonl" | grep -c client)" -eq 3
if command -v script >/dev/null; then
    ip netns exec "$LAP" script -qec "$TRIGLAV status --watch --interval 0.3 --count 3 --tun-name tgc --state-dir $STATE" /dev/null > "$WORK/watch.tty"
    check "--watch on a terminal: redrawn in place 3 times (ESC[H ESC[J: 6 escapes)" \
        test "$(tr -cd '\033' < "$WORK/watch.tty" | wc -c)" -eq 6
    check "... each a header and the uplink table with the rates now" \
        sh -c "grep -c 'every 0.3 s (Ctrl-C to stop)' '$WORK/watch.tty' | grep -qx 3 && grep -q 'uplink  *interface  *state .*tx now' '$WORK/watch.tty'"
fi
check "status --detailed names every uplink's estimates" sh -c "ip netns exec $LAP $TRIGLAV status --detailed --tun-name tgc --state-dir $STATE | grep -c 'delivery rate' | grep -qx 2"

# --- uplink list / show
T uplink list > "$WORK/list.txt"; cat "$WORK/list.txt" >&2
check "uplink list names l1 and l2 as active" sh -c "grep -q '^0 *l1 *active' '$WORK/list.txt' && grep -q '^1 *l2 *active' '$WORK/list.txt'"
T uplink show l2 > "$WORK/show.txt"; cat "$WORK/show.txt" >&2
for f in 'local address *192.0.2.66' 'mapped address *192.0.2.66:' 'health *healthy' srtt 'one-way delay' loss 'delivery rate' queued sent received probes socket; do
    check "uplink show l2: $f" grep -q "$f" "$WORK/show.txt"
done
check "uplink show l2 --json is that uplink's object" sh -c "ip netns exec $LAP $TRIGLAV uplink show l2 --json --tun-name tgc --state-dir $STATE | jq -e '.interface == \"l2\" and .slot == 1' >/dev/null"
check "uplink show of a non-uplink fails" sh -c "! ip netns exec $LAP $TRIGLAV uplink show lo --tun-name tgc --state-dir $STATE 2>/dev/null"

# --- disable / enable while a download runs
BYTES=$((200 * 1000 * 1000))
bg "$OUT" "$WORK/serve.log" "$NETTOOL" tcp-serve 8080 "$BYTES" 60
wait_for "$WORK/serve.log" listening 5
bg "$LAP" "$WORK/fetch.log" "$NETTOOL" tcp-fetch 203.0.113.2 8080 60
FETCH=$LAST_PID
sleep 2
# sock N FIELD: uplink N's field
up() { J | jq -r ".uplinks[] | select(.interface == \"$1\") | .$2"; }
check "before: l2 carries part of the download" test "$(up l2 rx_bytes)" -gt 1000000
out=$(T uplink disable l2)
check "uplink disable l2 answers '$out'" test "$out" = "l2 disabled"
sleep 0.3
s2=$(up l2 datagrams_sent) r2=$(up l2 datagrams_received) r1=$(up l1 received_bytes)
check "l2 is disabled, without estimates; l1 active" sh -c "[ '$(up l2 state)' = disabled ] && [ '$(up l2 health)' = null ] && [ '$(up l1 state)' = active ]"
sleep 1.5
check "disabled l2 sends nothing ($s2 -> $(up l2 datagrams_sent) datagrams)" test "$(up l2 datagrams_sent)" -eq "$s2"
check "disabled l2 receives nothing ($r2 -> $(up l2 datagrams_received) datagrams)" test "$(up l2 datagrams_received)" -eq "$r2"
check "l1 carries the download meanwhile ($r1 -> $(up l1 received_bytes) bytes)" test "$(up l1 received_bytes)" -gt $((r1 + 1000000))
check "disabling it again says so" sh -c "ip netns exec $LAP $TRIGLAV uplink disable l2 --tun-name tgc --state-dir $STATE | grep -q 'disabled already'"
out=$(T uplink enable l2)
check "uplink enable l2 answers '$out'" test "$out" = "l2 enabled"
i=0
while [ $i -lt 50 ] && [ "$(up l2 keyed)" != true ]; do sleep 0.1; i=$((i + 1)); done
check "l2 joins again (keyed)" test "$(up l2 keyed)" = true
r2=$(up l2 received_bytes)
i=0
while [ $i -lt 40 ] && [ "$(up l2 received_bytes)" -le $((r2 + 1000000)) ]; do sleep 0.1; i=$((i + 1)); done
check "enabled l2 carries the download again ($r2 -> $(up l2 received_bytes) bytes in $((i / 10)).$((i % 10)) s)" test "$(up l2 received_bytes)" -gt $((r2 + 1000000))
kill "$FETCH" 2>/dev/null; wait "$FETCH" 2>/dev/null

# --- remove / add
out=$(T uplink remove l2)
check "uplink remove l2 answers '$out'" test "$out" = "l2 removed"
jq_ok "after remove: only l1" '[.uplinks[].interface] == ["l1"]'
check "removing it again fails" sh -c "! ip netns exec $LAP $TRIGLAV uplink remove l2 --tun-name tgc --state-dir $STATE 2>/dev/null"
out=$(T uplink add l2)
check "uplink add l2 answers '$out'" test "$out" = "l2 added"
i=0
while [ $i -lt 50 ] && [ "$(up l2 keyed)" != true ]; do sleep 0.1; i=$((i + 1)); done
jq_ok "after add: l1 and l2, l2 keyed and active" '[.uplinks[].interface] == ["l1","l2"] and (.uplinks[1].state == "active") and .uplinks[1].keyed'
check "adding an existing uplink fails, naming why" sh -c "ip netns exec $LAP $TRIGLAV uplink add l1 --tun-name tgc --state-dir $STATE 2>&1 >/dev/null | grep -q 'uplink already'"
check "adding an unknown interface fails, naming why" sh -c "ip netns exec $LAP $TRIGLAV uplink add nosuch0 --tun-name tgc --state-dir $STATE 2>&1 >/dev/null | grep -q 'no interface here'"
check "a bad interface name is refused before asking" sh -c "ip netns exec $LAP $TRIGLAV uplink add a/b --tun-name tgc --state-dir $STATE 2>&1 | grep -q 'not an interface name'"
check "uplink commands on the server are refused" sh -c "ip netns exec $SRV $TRIGLAV uplink disable sr --tun-name tgs --state-dir $STATE 2>&1 | grep -q 'it is a server'"
check "the client logged the changes" grep -q 'uplink l2: disabled (control socket)' "$WORK/client.log"

stop "$CLIENT_PID" client
stop "$SERVER_PID" server
finish
