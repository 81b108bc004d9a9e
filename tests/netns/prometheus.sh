#!/usr/bin/env bash
# The metrics as a real Prometheus sees them: a server, a client with two
# uplinks (l1, l2) on the laptop and a second client with one uplink on the
# outside host, each serving --metrics-addr; Debian's prometheus scrapes all
# three every second (its own config and storage in the test's folder, its
# web API on the server namespace's loopback). Checked: every scrape is
# healthy (Prometheus parsed the text), queries through the HTTP API (JSON
# read with jq) give the client's active uplinks, the server's sessions and
# per-client series that are really per client (only the first client sends
# data, only its counters grow), and with 70 more sessions from one process
# (tg_sessions) status, status --json and the metrics list all 72; promtool's linter passes on each endpoint,
# every family has HELP and TYPE; /metrics is the only path (404 elsewhere)
# and its Content-Type is the Prometheus text format's.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
for t in prometheus promtool jq curl; do
    command -v "$t" >/dev/null || { log "SKIP: $t is not installed (.ci/install-deps)"; exit 77; }
done
topology
shape "$RTR" r1 20mbit
shape "$RTR" r2 20mbit
# the outside host reaches the server's listener (for the second client)
out ip route add 198.51.100.0/24 via 203.0.113.1 dev os

SM=198.51.100.2:9100 C1M=192.0.2.2:9101 C2M=203.0.113.2:9102 PROM=127.0.0.1:9090
start_server --metrics-addr "$SM"
start_client -i l1 -i l2 --metrics-addr "$C1M"
bg "$OUT" "$WORK/client2.log" "$TRIGLAV" tun "$KEY" -i os --tun-name tgc2 --state-dir "$WORK/state2" \
    --metrics-addr "$C2M"
C2_PID=$LAST_PID
wait_for "$WORK/client2.log" 'tunnel up' 15 || { cat "$WORK/client2.log" >&2; fail "second client did not connect"; finish; }

# --- the endpoints themselves, from the server's namespace
code() { srv curl -s -o /dev/null -w '%{http_code}' "http://$1$2"; }
for ep in "$SM" "$C1M" "$C2M"; do
    check "$ep: / answers 404" test "$(code "$ep" /)" = 404
    check "$ep: /foo answers 404" test "$(code "$ep" /foo)" = 404
    check "$ep: /metricsx answers 404" test "$(code "$ep" /metricsx)" = 404
    check "$ep: POST /metrics answers 405" \
        test "$(srv curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ep/metrics")" = 405
    check "$ep: /metrics answers 200 with the text format's Content-Type" \
        sh -c "ip netns exec $SRV curl -s -D - -o /dev/null http://$ep/metrics | tr -d '\r' | grep -qix 'content-type: text/plain; version=0.0.4; charset=utf-8'"
    srv curl -s "http://$ep/metrics" > "$WORK/scrape.txt"
    # promtool: the exposition format and Prometheus's naming rules (units,
    # _total on counters, help text)
    if promtool check metrics < "$WORK/scrape.txt" > "$WORK/promtool.txt" 2>&1; then
        log "ok: $ep: promtool check metrics passes"
    else
        fail "$ep: promtool check metrics:"; cat "$WORK/promtool.txt" >&2
    fi
    # every family that has samples has exactly one HELP and one TYPE, before them
    bad=$(awk '
        /^# HELP / { help[$3]++; next }
        /^# TYPE / { type[$3]++; next }
        /^#/ || /^$/ { next }
        { n = $1; sub(/\{.*/, "", n); if (!(n in type) || !(n in help)) { print "no HELP/TYPE before " n; exit } }
        END { for (f in type) if (type[f] != 1 || help[f] != 1) print "HELP/TYPE not once: " f }' "$WORK/scrape.txt")
    check "$ep: every family has one HELP and one TYPE before its samples${bad:+ ($bad)}" test -z "$bad"
done
srv curl -s "http://$C1M/metrics" > "$WORK/client1.txt"
check "client: the names users were given" sh -c "grep -q '^triglav_uplink_rtt_seconds{uplink=\"l1\"} ' $WORK/client1.txt &&
    grep -q '^triglav_bytes_sent_total{uplink=\"l2\"} [1-9]' $WORK/client1.txt &&
    grep -qx 'triglav_connection_state 1' $WORK/client1.txt &&
    grep -q '^triglav_packets_retransmitted_total [0-9]' $WORK/client1.txt &&
    grep -q '^triglav_nat_active_entries [0-9]' $WORK/client1.txt &&
    grep -qx 'triglav_active_uplinks 2' $WORK/client1.txt"

# --- only the first client sends data: 300 datagrams to the server's UDP echo
lap "$NETTOOL" udp-ping 198.18.0.1 7 300 20 > "$WORK/ping.txt" 2>&1
check "300 datagrams echoed through the first client's tunnel" grep -qx 'udp_replies 300' "$WORK/ping.txt"
C1=$(lap "$TRIGLAV" status --json --tun-name tgc --state-dir "$STATE" | jq -r .session.tunnel_address)
C2=$(out "$TRIGLAV" status --json --tun-name tgc2 --state-dir "$WORK/state2" | jq -r .session.tunnel_address)
log "clients: $C1 (two uplinks, sends), $C2 (one uplink, idle)"
TS() { srv "$TRIGLAV" "$@" --tun-name tgs --state-dir "$STATE"; }

# --- a download through the first client: plain `status` shows what each
# uplink carries now, beside the estimate
bg "$SRV" "$WORK/tcpserve.log" "$NETTOOL" tcp-serve 5001 12000000 30
wait_for "$WORK/tcpserve.log" listening 5 || fail "tcp-serve did not start"
bg "$LAP" "$WORK/fetch.log" "$NETTOOL" tcp-fetch 198.18.0.1 5001 30
FETCH_PID=$LAST_PID
sleep 2.5
lap "$TRIGLAV" status --tun-name tgc --state-dir "$STATE" > "$WORK/status_dl.txt"
cat "$WORK/status_dl.txt" >&2
check "status: a table with measured tx/rx and the estimate labelled as such" \
    grep -qE '^uplink +interface +health +keys +srtt +loss +tx now +rx now +est\. tx rate' "$WORK/status_dl.txt"
# columns: slot iface health keys srtt ms loss tx Mbit/s rx Mbit/s est Mbit/s ...
rx_now=$(awk '$2 == "l1" || $2 == "l2" { s += $10 } END { print int(s) }' "$WORK/status_dl.txt")
check "status: the uplinks receive the download now (${rx_now} Mbit/s, measured)" test "${rx_now:-0}" -ge 2
TS status > "$WORK/server_dl.txt"
cat "$WORK/server_dl.txt" >&2
to1=$(sed -n "s/^client $C1: 2 of 2 uplinks active, now \([0-9]*\)\.[0-9]* Mbit\/s sent to it.*/\1/p" "$WORK/server_dl.txt")
to2=$(sed -n "s/^client $C2: 1 of 1 uplinks active, now \([0-9]*\)\.[0-9]* Mbit\/s sent to it.*/\1/p" "$WORK/server_dl.txt")
check "server status: the download's client gets it now (${to1} Mbit/s measured), the other little (${to2})" \
    test "${to1:-0}" -ge 2 -a "${to2:-99}" -lt 1
wait_pid "$FETCH_PID" 30
check "the download completed" grep -q '^bytes 12000000' "$WORK/fetch.log"

# --- Prometheus
mkdir -p "$WORK/prom"
cat > "$WORK/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: server
    static_configs: [{targets: ["$SM"]}]
  - job_name: client
    static_configs: [{targets: ["$C1M"]}]
  - job_name: client2
    static_configs: [{targets: ["$C2M"]}]
YML
check "promtool check config" promtool check config "$WORK/prom/prometheus.yml"
bg "$SRV" "$WORK/prometheus.log" prometheus --config.file="$WORK/prom/prometheus.yml" \
    --storage.tsdb.path="$WORK/prom/data" --web.listen-address="$PROM" --log.level=warn \
    --storage.tsdb.retention.time=1h
PROM_PID=$LAST_PID

# q QUERY: the instant query's JSON result
q() { srv curl -s --max-time 5 -G "http://$PROM/api/v1/query" --data-urlencode "query=$1"; }
# qv QUERY: its single value, or nothing
qv() { q "$1" | jq -r 'if .status == "success" and (.data.result | length) == 1 then .data.result[0].value[1] else empty end'; }

# wait until every target has been scraped (up == 1) and the data rows are in
i=0
while [ $i -lt 60 ]; do
    [ "$(qv 'count(up == 1)')" = 3 ] && [ -n "$(qv "sum(triglav_bytes_received_total{job=\"server\",client=\"$C1\"})")" ] && break
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.5; i=$((i + 1))
done
check "prometheus scraped all three targets (up == 1)" test "$(qv 'count(up == 1)')" = 3
srv curl -s "http://$PROM/api/v1/targets" > "$WORK/targets.json"
check "every target healthy, no scrape error" jq -e '.status == "success" and (.data.activeTargets | length) == 3 and ([.data.activeTargets[] | .health == "up" and .lastError == ""] | all)' "$WORK/targets.json"
check "client: triglav_active_uplinks is 2" test "$(qv 'triglav_active_uplinks{job="client"}')" = 2
check "second client: triglav_active_uplinks is 1" test "$(qv 'triglav_active_uplinks{job="client2"}')" = 1
check "client: triglav_connection_state is 1 (connected)" test "$(qv 'triglav_connection_state{job="client"}')" = 1
check "client: an RTT per uplink, in seconds (l1 and l2, below 1 s)" \
    test "$(qv 'count(triglav_uplink_rtt_seconds{job="client"} > 0 and triglav_uplink_rtt_seconds{job="client"} < 1)')" = 2
check "server: triglav_sessions is 2" test "$(qv 'triglav_sessions{job="server"}')" = 2
check "server: active uplinks per client (2 for $C1, 1 for $C2)" sh -c \
    "[ \"\$(ip netns exec $SRV curl -s -G http://$PROM/api/v1/query --data-urlencode 'query=triglav_active_uplinks{job=\"server\"}' |
       jq -r '[.data.result[] | \"\\(.metric.client)=\\(.value[1])\"] | sort | join(\" \")')\" = '$C1=2 $C2=1' ]"
# per client, really: the first client's data reached the server, the second's did not
got1=$(qv "sum(triglav_bytes_received_total{job=\"server\",client=\"$C1\"})")
got2=$(qv "sum(triglav_bytes_received_total{job=\"server\",client=\"$C2\"})")
log "server received: $got1 bytes of data from $C1, $got2 from $C2"
check "server: bytes received from the first client >= 300 echo datagrams ($got1)" test "${got1:-0}" -ge 9000
check "server: the second client's count is its own, far smaller ($got2)" test "${got2:-999999}" -lt $(( ${got1:-0} / 4 ))
sent1=$(qv "sum(triglav_bytes_sent_total{job=\"server\",client=\"$C1\"})")
check "server: bytes sent to the first client, per client ($sent1)" test "${sent1:-0}" -ge 9000
check "server: one series per uplink of each client (3)" \
    test "$(qv 'count(triglav_uplink_rtt_seconds{job="server"})')" = 3
check "server: server-wide counters have no client label" \
    test "$(qv 'count(triglav_handshakes_total{job="server",state="done"})')" = 1

# --- many sessions: status, status --json and the metrics list every one
SESSIONS="${1:?the tg_sessions program}"
bg "$LAP" "$WORK/sessions.log" "$SESSIONS" "$KEY" 70 60
wait_for "$WORK/sessions.log" '^sessions_up 70$' 20 || { cat "$WORK/sessions.log" >&2; fail "70 more sessions did not come up"; }
TS status > "$WORK/status72.txt"
check "status: 72 sessions counted" grep -q '^triglav server tgs: 72 sessions' "$WORK/status72.txt"
check "status: ... and 72 listed, each once" \
    test "$(grep -E '^client 198\.18\.0\.[0-9]+: ' "$WORK/status72.txt" | sort -u | wc -l)" -eq 72
TS status --json > "$WORK/status72.json"
check "status --json: session_count 72, 72 distinct sessions listed" \
    jq -e '.session_count == 72 and ([.sessions[].tunnel_address] | unique | length) == 72' "$WORK/status72.json"
i=0
while [ $i -lt 40 ] && [ "$(qv 'count(triglav_active_uplinks{job="server"})')" != 72 ]; do sleep 0.25; i=$((i + 1)); done
check "prometheus: triglav_active_uplinks for each of the 72 clients" \
    test "$(qv 'count(triglav_active_uplinks{job="server"})')" = 72
check "prometheus: triglav_sessions is 72" test "$(qv 'triglav_sessions{job="server"}')" = 72
check "prometheus: the server's scrapes stayed healthy" \
    test "$(qv 'up{job="server"}')" = 1
check "prometheus is still running" kill -0 "$PROM_PID"

kill "$PROM_PID" 2>/dev/null
wait_pid "$PROM_PID" 10
[ "$FAILED" -eq 0 ] || { log "--- prometheus log"; cat "$WORK/prometheus.log" >&2; }
# the server first, so that it still holds both sessions: its exit log has
# one line per client with that client's own figures
stop "$SERVER_PID" server
check "server exit log: $C1 with its 2 uplinks" grep -q "server: client $C1: 2 uplinks, 2 active" "$WORK/server.log"
check "server exit log: $C2 with its 1 uplink" grep -q "server: client $C2: 1 uplinks, 1 active" "$WORK/server.log"
check "server exit log: a line for each of the 72 clients" \
    test "$(grep -cE 'server: client 198\.18\.0\.[0-9]+: [0-9]+ uplinks' "$WORK/server.log")" -eq 72
stop "$C2_PID" "second client"
stop "$CLIENT_PID" client
finish
