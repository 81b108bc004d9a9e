#!/usr/bin/env bash
# Clear errors (issue 5) and --config: each failure says what was wrong and
# what to do, exits non-zero, and leaves nothing behind. Covers: malformed
# key, unknown interface, port in use, unreachable server, no permission for
# the TUN, a bad key file, a TOML config (and a typo in one).
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before

expect() { # expect NAME EXIT_CODE PATTERN CMD...: run, check exit code and message
    local name="$1" code="$2" pat="$3"; shift 3
    "$@" > "$WORK/$name.out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -Eq -- "$pat" "$WORK/$name.out"; then
        log "ok: $name: $(grep -E -- "$pat" "$WORK/$name.out" | head -1 | cut -c1-160)"
    else
        fail "$name: exit $rc (want $code), output:"; cat "$WORK/$name.out" >&2
    fi
}

# malformed keys: the key parser's own words (tg_strerror)
expect malformed_key 2 "connection key is malformed: .*must start with" lap "$TRIGLAV" tun tg2_AAAA -i l1 --state-dir "$STATE"
expect malformed_key_chars 2 "connection key is malformed: .*base64" lap "$TRIGLAV" tun 'tg1_AA=A' -i l1 --state-dir "$STATE"
expect no_interfaces 2 "say which interfaces" lap "$TRIGLAV" tun "$("$TRIGLAV" keygen --output "$WORK/k0" --address 198.51.100.2:7443)" --state-dir "$STATE"

# a real server, and a real key
start_server
expect unknown_interface 2 "unknown interface 'nosuch0'" lap "$TRIGLAV" tun "$KEY" -i nosuch0 --state-dir "$STATE"

# port in use: a second server on the same address
expect port_in_use 1 "already in use" srv "$TRIGLAV" server --generate-key --listen 198.51.100.2:7443 --tun-name tgs2 --state-dir "$STATE"

# unreachable server: a key for an address nobody answers on
DEAD=$("$TRIGLAV" keygen --output "$WORK/k1" --address 198.51.100.2:7999)
expect unreachable_server 3 "no answer from the server at 198.51.100.2:7999 within 2 s" \
    lap "$TRIGLAV" tun "$DEAD" -i l1 --connect-timeout 2 --full-tunnel --tun-name tgc --state-dir "$STATE"

# no permission: root without capabilities
expect no_permission_tun 1 "no permission .*(sudo|setcap)" \
    lap setpriv --bounding-set=-all --inh-caps=-all "$TRIGLAV" tun "$KEY" -i l1 --tun-name tgc --state-dir "$WORK"

# key files
printf 'hello\n' > "$WORK/junk.key"
expect bad_key_file 2 "not a Triglav key file" srv "$TRIGLAV" server --key "$WORK/junk.key" --listen 198.51.100.2:7444 --state-dir "$STATE"
expect keygen_no_overwrite 1 "not overwritten" "$TRIGLAV" keygen --output "$WORK/k1"
expect keygen_key 0 "^tg1_" "$TRIGLAV" keygen --output "$WORK/k2" --address 198.51.100.2:7443

# misuse and nothing to talk to say so
expect metrics_flag 2 "--metrics-addr .nowhere.: expected IP:PORT" lap "$TRIGLAV" tun "$KEY" -i l1 --metrics-addr nowhere
expect uplink_add 1 "nothing is running for tg0" lap "$TRIGLAV" uplink add l3 --state-dir "$STATE"
expect uplink_usage 2 "expects one interface name" lap "$TRIGLAV" uplink add
expect status_nothing 1 "nothing is running for tgx" lap "$TRIGLAV" status --tun-name tgx --state-dir "$STATE"

# --config: a server from a TOML file (the seed's spellings: durations and
# sizes as strings, [metrics] listen), then a client, then broken files
cat > "$WORK/server.toml" <<TOML
# server config (the seed's tables)
[server]
listen = ["198.51.100.2:7445"]
key_file = "$WORK/k2"
pool = "198.18.1.0/24"
tun_name = "tgs3"
idle_timeout = "5m"
tcp_fallback = false

[transport]
send_buffer_size = "2MB"
recv_buffer_size = 2097152

[multipath.scheduler]
strategy = "redundant"

[metrics]
enabled = true
listen = "198.51.100.2:9092"
TOML
bg "$SRV" "$WORK/server3.log" "$TRIGLAV" server --config "$WORK/server.toml" --state-dir "$STATE"
S3=$LAST_PID
check "config: server listens where the file says" wait_for "$WORK/server3.log" "listening on udp 198.51.100.2:7445" 5
check "config: pool from the file" grep -q "clients get addresses from 198.18.1.0/24" "$WORK/server3.log"
srv "$NETTOOL" http-get 198.51.100.2 9092 /metrics > "$WORK/metrics3.txt" 2>&1
check "config: [metrics] serves Prometheus text" grep -q "^triglav_sessions 0" "$WORK/metrics3.txt"
K3=$(grep '^tg1_' "$WORK/server3.log" | head -1)
K2=$(grep '^tg1_' "$WORK/keygen_key.out")
check "config: the server uses the key file's key" test -n "$K3" -a "${K3:0:44}" = "${K2:0:44}"
cat > "$WORK/client.toml" <<TOML
# the client's tables, as \`triglav config --client\` writes them
[client]
auth_key = "$K3"
interfaces = ["l1", "l2"]
connect_timeout = "10s"

[tun]
name = "tgx9"
mtu = 1400

[routing]
full_tunnel = false
include_routes = ["203.0.113.0/24"]

[nat]
enabled = true

[multipath]
aggregation_mode = "none"

[multipath.aggregator]
reorder_buffer_size = 2048
reorder_timeout = "300ms"

[multipath.scheduler]
strategy = "lowest_latency"
rtt_weight = 0.5
TOML
bg "$LAP" "$WORK/client3.log" "$TRIGLAV" tun --config "$WORK/client.toml" --tun-name tgc3 --state-dir "$STATE"
C3=$LAST_PID
check "config: client connects from its config file (--tun-name over [tun] name)" wait_for "$WORK/client3.log" "tunnel up: tgc3 has 198.18.1.2" 10
check "config: route from [routing]" sh -c "ip netns exec $LAP ip -o route get 203.0.113.2 | grep -q 'dev tgc3'"
check "config: mtu from [tun]" sh -c "ip netns exec $LAP ip -o link show tgc3 | grep -q 'mtu 1400'"
check "config: strategy and aggregation from [multipath*]" sh -c \
    "ip netns exec $LAP $TRIGLAV status --json --tun-name tgc3 --state-dir $STATE > $WORK/c3.json && grep -q '\"strategy\": *\"lowest_latency\"' $WORK/c3.json && grep -q '\"aggregation\": *\"none\"' $WORK/c3.json"
stop "$C3" client3
stop "$S3" server3

# --daemon --pid-file: returns once the server runs in the background
srv "$TRIGLAV" server --generate-key --listen 198.51.100.2:7447 --pool 198.18.2.0/24 --tun-name tgs4 \
    --state-dir "$STATE" --daemon --pid-file "$WORK/s4.pid" --log-file "$WORK/s4.log" > "$WORK/s4.out" 2>&1
check "daemon: the command returns with the key printed" grep -q '^tg1_' "$WORK/s4.out"
D=$(cat "$WORK/s4.pid" 2>/dev/null)
PIDS="$PIDS ${D:-}" # killed on exit whatever happens
check "daemon: pid file names a running process" kill -0 "${D:-0}"
check "daemon: a table of its own next to the other server's" sh -c "ip netns exec $SRV nft list tables | grep -q 'triglav_tgs4' && ip netns exec $SRV nft list tables | grep -q 'triglav_tgs$'"
kill -TERM "${D:-0}" 2>/dev/null
for i in $(seq 50); do kill -0 "${D:-0}" 2>/dev/null || break; sleep 0.1; done
check "daemon: stops on SIGTERM and removes its pid file" test ! -e "$WORK/s4.pid"
check "daemon: logs to --log-file" grep -q "stopped" "$WORK/s4.log"
check "daemon: its table is gone, the other server's stays" sh -c "! ip netns exec $SRV nft list tables | grep -q 'triglav_tgs4' && ip netns exec $SRV nft list tables | grep -q 'triglav_tgs$'"

# broken files: FILE:LINE:COL and what was expected, never the file's text
# (the full table of them is test_options, label unit)
printf '[server]\nlisten_addrs = ["198.51.100.2:7446"]\nlisten_adrs = 1\n' > "$WORK/typo.toml"
expect config_typo 2 "typo.toml:3:1: unknown key in \[server\]; its keys are: listen," srv "$TRIGLAV" server --config "$WORK/typo.toml" --generate-key
check "config: the typo is not quoted" sh -c "! grep -q listen_adrs $WORK/config_typo.out"
printf '[transport]\ntcp_nodelay = true\n' > "$WORK/tcp.toml"
expect config_unsupported 2 "tcp.toml:2:1: \[transport\] tcp_nodelay: not configurable" srv "$TRIGLAV" server --config "$WORK/tcp.toml" --generate-key
printf '[proxy]\nsocks_port = 0\n' > "$WORK/proxy.toml"
expect config_proxy 2 "triglav connect: say which proxy to serve" lap "$TRIGLAV" connect --config "$WORK/proxy.toml" -i l1 tg1_x
printf '[multipath]\nmax_uplinks = 16\n' > "$WORK/mp.toml"
expect config_multipath_typo 2 "mp.toml:2:1: unknown key in \[multipath\]" lap "$TRIGLAV" tun "$K3" --config "$WORK/mp.toml" -i l1
printf '[server]\nidle_timeout = "5 minutes"\n' > "$WORK/dur.toml"
expect config_duration 2 "dur.toml:2:16: \[server\] idle_timeout: expected a duration like" srv "$TRIGLAV" server --config "$WORK/dur.toml" --generate-key
printf '[server]\nlisten_addrs = [\n' > "$WORK/broken.toml"
expect config_syntax 2 "broken.toml:[0-9]+:[0-9]+: " srv "$TRIGLAV" server --config "$WORK/broken.toml" --generate-key

stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
