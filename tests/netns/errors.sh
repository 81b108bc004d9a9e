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
expect metrics_flag 2 "expected ADDR:PORT" lap "$TRIGLAV" tun "$KEY" -i l1 --metrics-addr nowhere
expect uplink_add 1 "nothing is running for tg0" lap "$TRIGLAV" uplink add l3 --state-dir "$STATE"
expect uplink_usage 2 "expects one interface name" lap "$TRIGLAV" uplink add
expect status_nothing 1 "nothing is running for tgx" lap "$TRIGLAV" status --tun-name tgx --state-dir "$STATE"

# --config: a server from a TOML file, then a typo in one
cat > "$WORK/server.toml" <<TOML
# server config (the seed's tables)
[server]
listen_addrs = ["198.51.100.2:7445"]
key_file = "$WORK/k2"
pool = "198.18.1.0/24"
tun_name = "tgs3"
idle_timeout = 300s
tcp_fallback = false

[transport]
send_buffer_size = 2MiB
recv_buffer_size = 2MiB

[metrics]
enabled = true
listen_addr = "198.51.100.2:9092"
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
[client]
auth_key = "$K3"
interfaces = ["l1", "l2"]
full_tunnel = false
routes = ["203.0.113.0/24"]
strategy = "lowest_latency"
aggregation = "none"
TOML
bg "$LAP" "$WORK/client3.log" "$TRIGLAV" tun --config "$WORK/client.toml" --tun-name tgc3 --state-dir "$STATE"
C3=$LAST_PID
check "config: client connects from its config file" wait_for "$WORK/client3.log" "tunnel up: tgc3 has 198.18.1.2" 10
check "config: route from the file" sh -c "ip netns exec $LAP ip -o route get 203.0.113.2 | grep -q 'dev tgc3'"
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

printf '[server]\nlisten_addrs = ["198.51.100.2:7446"]\nlisten_adrs = 1\n' > "$WORK/typo.toml"
expect config_typo 2 "typo.toml:3: unknown key 'listen_adrs' in \[server\]" srv "$TRIGLAV" server --config "$WORK/typo.toml" --generate-key
printf '[transport]\ntcp_nodelay = true\n' > "$WORK/tcp.toml"
expect config_unsupported 2 "tcp.toml:2: tcp_nodelay: not supported" srv "$TRIGLAV" server --config "$WORK/tcp.toml" --generate-key
printf '[server]\nlisten_addrs = [\n' > "$WORK/broken.toml"
expect config_syntax 2 "broken.toml:[0-9]+:[0-9]+: " srv "$TRIGLAV" server --config "$WORK/broken.toml" --generate-key

stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
