#!/usr/bin/env bash
# Proxy mode without root: `triglav connect` runs as user nobody in the
# laptop namespace with two uplinks (30 Mbit/s each, tbf), and curl fetches
# 20 MB from an HTTP server on the outside host three ways: through SOCKS5,
# through the HTTP proxy as a plain request, and through the HTTP proxy's
# CONNECT. Asserted: each body is sha256-identical to what was sent; the
# outside host sees the server's address (the streams left through the
# tunnel); a name given to SOCKS5 (socks5h) is resolved through the tunnel
# by the resolver on the outside host; a DNS query through SOCKS5 UDP
# ASSOCIATE is answered; both uplinks carried a share of the data; a wrong
# password is refused; the program exits cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
command -v curl >/dev/null || { log "SKIP: curl is not installed"; exit 77; }
command -v setpriv >/dev/null || { log "SKIP: setpriv (util-linux) is missing"; exit 77; }
id nobody >/dev/null 2>&1 || { log "SKIP: no user nobody"; exit 77; }
topology
shape "$RTR" r1 30mbit
shape "$RTR" r2 30mbit
BYTES=$((20 * 1000 * 1000))
PSTATE="/tmp/triglav-proxy-state.$$"
mkdir -p "$PSTATE" && chown nobody "$PSTATE" && chmod 700 "$PSTATE"
trap 'cleanup; rm -rf "$PSTATE"' EXIT

start_server
# the resolver the proxies ask, reachable only through the tunnel
bg "$OUT" "$WORK/dns.log" "$NETTOOL" dns-serve 53 203.0.113.2 5 120
bg "$LAP" "$WORK/client.log" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$TRIGLAV" connect "$KEY" -i l1 -i l2 --socks 1080 --http-proxy 8118 \
    --dns-server 203.0.113.2 --state-dir "$PSTATE" --proxy-auth "tg:proxy-test"
CLIENT_PID=$LAST_PID
wait_for "$WORK/client.log" 'tunnel up' 15 || { fail "connect did not come up"; finish; }
check "it runs as nobody" test "$(awk '/^Uid:/ { print $2 }' /proc/"$CLIENT_PID"/status)" = "$(id -u nobody)"
check "the proxies listen on loopback only" grep -q 'SOCKS5 proxy on 127.0.0.1:1080' "$WORK/client.log"

# fetch NAME PORT CURL-ARGS...: 20 MB from the outside host's port PORT
fetch() {
    local name="$1" port="$2"; shift 2
    bg "$OUT" "$WORK/serve.$name.log" "$NETTOOL" http-serve "$port" "$BYTES" 90
    wait_for "$WORK/serve.$name.log" listening 5 || fail "$name: cannot listen on $port"
    lap setpriv --reuid=nobody --regid=nogroup --clear-groups \
        curl -sS --max-time 90 -o "$PSTATE/body.$name" -w 'speed %{speed_download}\n' "$@" \
        > "$WORK/curl.$name" 2>&1
    wait_for "$WORK/serve.$name.log" '^sha256 ' 10
    local got sent
    got=$(sha256sum < "$PSTATE/body.$name" 2>/dev/null | cut -d' ' -f1)
    sent=$(sed -n 's/^sha256 //p' "$WORK/serve.$name.log")
    check "$name: $(stat -c %s "$PSTATE/body.$name" 2>/dev/null || echo 0) bytes, sha256 = what was sent" \
        test -n "$sent" -a "$got" = "$sent"
    check "$name: the outside host saw the server's address" grep -q '^peer 203.0.113.1$' "$WORK/serve.$name.log"
    log "proxy_${name}_mbit: $(awk '$1 == "speed" { printf "%.1f", $2 * 8 / 1e6 }' "$WORK/curl.$name")"
    rm -f "$PSTATE/body.$name"
}
AUTH="tg:proxy-test"
fetch socks 8080 --proxy "socks5://$AUTH@127.0.0.1:1080" "http://203.0.113.2:8080/file"
fetch http 8081 --proxy "http://$AUTH@127.0.0.1:8118" "http://203.0.113.2:8081/file"
check "http: the origin got the request in origin form" grep -q '^request GET /file HTTP/1.1' "$WORK/serve.http.log"
fetch connect 8082 --proxytunnel --proxy "http://$AUTH@127.0.0.1:8118" "http://203.0.113.2:8082/file"
fetch name 8083 --proxy "socks5h://$AUTH@127.0.0.1:1080" "http://files.example:8083/file"
check "name: resolved through the tunnel by the outside host's resolver" \
    grep -q '^dns_from 203.0.113.1 files.example' "$WORK/dns.log"

# UDP ASSOCIATE: a DNS query through the relay, answered through the tunnel
lap setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$NETTOOL" socks-dns 1080 tg proxy-test 203.0.113.2 voice.example 10 > "$WORK/udp.log" 2>&1
check "UDP ASSOCIATE: the relayed DNS query was answered" grep -q '^dns_answer 203.0.113.2$' "$WORK/udp.log"
check "UDP ASSOCIATE: the resolver saw the server's address" \
    grep -q '^dns_from 203.0.113.1 voice.example' "$WORK/dns.log"

# a wrong password gets nothing
lap setpriv --reuid=nobody --regid=nogroup --clear-groups curl -sS --max-time 10 -o /dev/null \
    --proxy "socks5://tg:wrong@127.0.0.1:1080" "http://203.0.113.2:9/" > "$WORK/curl.wrong" 2>&1
check "a wrong SOCKS5 password is refused" grep -q 'rejected' "$WORK/curl.wrong"
code=$(lap setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --max-time 10 -o /dev/null \
    -w '%{http_code}' --proxy "http://tg:wrong@127.0.0.1:8118" "http://203.0.113.2:9/")
check "a wrong HTTP proxy password gets 407 ($code)" test "$code" = 407

stop "$CLIENT_PID" connect
# both uplinks carried data: each received at least a fifth of the packets
rx0=$(sed -n 's/.*client: uplink 0: tx [0-9]* rx \([0-9]*\) packets.*/\1/p' "$WORK/client.log")
rx1=$(sed -n 's/.*client: uplink 1: tx [0-9]* rx \([0-9]*\) packets.*/\1/p' "$WORK/client.log")
log "proxy_uplink_rx_packets: ${rx0:-?} ${rx1:-?}"
check "both uplinks shared the load" awk -v a="${rx0:-0}" -v b="${rx1:-0}" \
    'BEGIN { exit !(a + b > 0 && a >= 0.2 * (a + b) && b >= 0.2 * (a + b)) }'
stop "$SERVER_PID" server
finish
