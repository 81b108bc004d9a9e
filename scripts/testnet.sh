#!/usr/bin/env bash
# testnet.sh: play a scenario live and store what it measured beside the
# simulated runs, so `triglav-sim report DB --fidelity` compares the two.
#
# Per iteration it builds network namespaces (all deleted on exit):
#
#   laptop  l0 192.0.2.2/28   --[emulator: ea0 | eb0]--  r0 192.0.2.1/28   router
#           l1 192.0.2.18/28  --[emulator: ea1 | eb1]--  r1 192.0.2.17/28  (one per uplink)
#   router  rs 198.51.100.1/24 -- sr 198.51.100.2/24   server (triglav server)
#   server  so 203.0.113.1/24  -- os 203.0.113.2/24    outside host (iperf3, voice)
#
# `triglav-sim emulate FILE.scn --iteration I` relays each uplink's frames
# through the simulator's link model (rate, delay, jitter, loss, queue,
# outages) with iteration I's random draws; `triglav server` and `triglav tun
# --full-tunnel` (--no-offload) run the tunnel over them. The scenario's
# traffic is played with real programs: tcp flows with iperf3 (-C CC, -P
# COUNT, -R for downloads; several flows of one entry in one iperf3), voice
# flows with `triglav-sim live probe` (datagrams that carry their send time:
# one-way delay, loss), web flows with `triglav-sim live web` (short HTTP
# transfers, log-normal sizes and exponential think times like the
# simulator's), keystrokes with `live web fetch --keys` (echoed over one
# connection), video calls with `live probe send --video` both ways (frames
# of the simulator's sizes at 30 per second). The row's method says which
# flows were played and what the web, keys and video flows measured. Then
# `triglav-sim live record` stores one row in live_runs under the key of the
# simulated run of the same (scenario, strategy, aggregation, iteration,
# seed), and, unless --no-sim, `triglav-sim run` stores the simulated twins
# (runs already stored are kept).
#
# Measured: goodput_mbps = the tcp flows' receiver-side bit rate (iperf3)
# together; owd_p50/p95/p99_ms and loss of the first voice flow; session_up_ms
# = client start to "tunnel up". Printed, not stored: the emulator's counters
# and the tunnel's at exit (client and server: packets, drops by reason such
# as late and duplicate, in-tunnel retransmissions), beside what the
# simulator counts (series_tunnel). Each flow starts at its start time on the
# links' clock (the emulator's time 0 plus `start`), as in simulation, unless
# the tunnel came up later than that (it takes about a second): then at once,
# and the lag is printed and kept in the row's method. A scenario whose links
# change over time lines up with its simulated twin when its flows start at
# 2 s or later.
#
# Only 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 198.18.0.0/24 are
# used, nothing leaves the namespaces, every wait is bounded.
#
# Exit status: 0 every iteration stored; 1 an error; 2 bad usage; 77 this
# machine cannot run it (not root, no namespaces, no TUN, no iperf3/nft).
set -u

usage() {
    cat <<'EOF'
usage: scripts/testnet.sh FILE.scn [options]

Plays FILE.scn live (namespaces, `triglav-sim emulate`, `triglav server` and
`triglav tun`, iperf3 and `triglav-sim live probe`) and stores one live run per
iteration in the results database; then `triglav-sim report DB --fidelity`.
Needs root.

options:
  --iterations N      iterations to play, from --first (default 1)
  --first I           first iteration (default 0)
  --db PATH           results database (default results/triglav.db)
  --strategy S        strategy of both ends (default: the scenario's first)
  --aggregation A     aggregation of both ends (default: the scenario's first)
  --seed S            base seed (default: the scenario's)
  --replace           replace live runs already stored (default: skip them)
  --chaos MEAN_S      flap uplinks at random while the traffic runs: after gaps of
                      mean MEAN_S seconds (exponential), one uplink goes silent at
                      the router for 0.5-3 s (the laptop's interface stays up);
                      what was measured is printed, never stored (the links were
                      not the scenario's), and no simulated twins are run
  --no-sim            do not run the simulated twins (`triglav-sim run`)
  --emu-series DIR    keep the emulator's time series of each iteration in
                      DIR/SCENARIO.itI.emu (`triglav-sim emulate --series`: per
                      uplink and direction every 100 ms, the bit rate, the queue,
                      the drops), beside `triglav-sim run --series`' series_uplinks
  --prometheus DIR    run Prometheus (Debian's `prometheus`) in the laptop's
                      namespace, scraping the client and the server every second
                      (--metrics-addr), its data kept in DIR/data after the run
                      (labels scenario and iteration); see scripts/grafana-triglav.json
  --sim PATH          triglav-sim (default: $TRIGLAV_SIM, else in PATH)
  --triglav PATH      triglav (default: $TRIGLAV, else in PATH)
  --data-dir DIR      where the scenario's `data:` traces resolve
  -h, --help          this text
EOF
}

die() { printf 'testnet: %s\n' "$*" >&2; exit 1; }
skip() { printf 'testnet: SKIP: %s\n' "$*" >&2; exit 77; }
log() { printf 'testnet: %s\n' "$*" >&2; }
bad_usage() { printf 'testnet: %s\nTry scripts/testnet.sh --help.\n' "$*" >&2; exit 2; }

SCN="" ITERS=1 FIRST=0 DB=results/triglav.db STRATEGY="" AGG="" SEED="" REPLACE=0 NO_SIM=0 PROM_DIR="" CHAOS="" SERIES_DIR=""
SIM=${TRIGLAV_SIM:-$(command -v triglav-sim || true)}
TRIGLAV=${TRIGLAV:-$(command -v triglav || true)}
DATA_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --iterations|--first|--db|--strategy|--aggregation|--seed|--sim|--triglav|--data-dir|--prometheus|--chaos|--emu-series)
            [ $# -ge 2 ] || bad_usage "$1: missing value"
            case "$1" in
                --iterations) ITERS=$2 ;; --first) FIRST=$2 ;; --db) DB=$2 ;;
                --strategy) STRATEGY=$2 ;; --aggregation) AGG=$2 ;; --seed) SEED=$2 ;;
                --sim) SIM=$2 ;; --triglav) TRIGLAV=$2 ;; --data-dir) DATA_DIR=$2 ;;
                --prometheus) PROM_DIR=$2 ;; --chaos) CHAOS=$2 ;; --emu-series) SERIES_DIR=$2 ;;
            esac
            shift 2 ;;
        --replace) REPLACE=1; shift ;;
        --no-sim) NO_SIM=1; shift ;;
        -*) bad_usage "unknown option '$1'" ;;
        *) [ -z "$SCN" ] || bad_usage "one scenario file only"; SCN=$1; shift ;;
    esac
done
[ -n "$SCN" ] || bad_usage "no scenario file given"
case "$ITERS" in ''|*[!0-9]*) bad_usage "--iterations: expected a whole number, got '$ITERS'" ;; esac
case "$FIRST" in ''|*[!0-9]*) bad_usage "--first: expected a whole number, got '$FIRST'" ;; esac
[ "$ITERS" -ge 1 ] && [ "$ITERS" -le 1000 ] || bad_usage "--iterations: expected 1 to 1000"
[ -n "$SIM" ] && [ -x "$SIM" ] || bad_usage "no triglav-sim (--sim PATH or TRIGLAV_SIM)"
[ -n "$TRIGLAV" ] && [ -x "$TRIGLAV" ] || bad_usage "no triglav (--triglav PATH or TRIGLAV)"
if [ -n "$CHAOS" ]; then
    awk -v m="$CHAOS" 'BEGIN { exit !(m + 0 == m && m >= 0.5 && m <= 600) }' ||
        bad_usage "--chaos: expected a mean gap from 0.5 to 600 seconds, got '$CHAOS'"
    NO_SIM=1 # the links are not the scenario's: nothing to pair
fi

KEYOPTS=()
[ -n "$SEED" ] && KEYOPTS+=(--seed "$SEED")
[ -n "$DATA_DIR" ] && KEYOPTS+=(--data-dir "$DATA_DIR")
PLAN=$("$SIM" live plan "$SCN" "${KEYOPTS[@]}") || exit 1
pv() { printf '%s\n' "$PLAN" | awk -v k="$1" '$1 == k { print $2; exit }'; }
NAME=$(pv scenario) DUR=$(pv duration_s)
[ -n "$STRATEGY" ] || STRATEGY=$(pv strategies | cut -d, -f1)
[ -n "$AGG" ] || AGG=$(pv aggregations | cut -d, -f1)
mapfile -t UPLINKS < <(printf '%s\n' "$PLAN" | awk '$1 == "uplink" { print $3 }')
mapfile -t FLOWS < <(printf '%s\n' "$PLAN" | awk '$1 == "flow"')
N_UP=${#UPLINKS[@]}
[ "$N_UP" -ge 1 ] && [ "$N_UP" -le 14 ] || die "$SCN: $N_UP uplinks; the testnet takes 1 to 14"
# the traffic may run at most 10 minutes, each iteration gets that plus setup
awk -v d="$DUR" 'BEGIN { exit !(d > 0 && d <= 600) }' || die "$SCN: duration $DUR s; the testnet plays 0 to 600 s"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
[ -c /dev/net/tun ] || skip "/dev/net/tun is missing"
command -v iperf3 >/dev/null || skip "iperf3 is not installed"
command -v nft >/dev/null || skip "nft (nftables) is not installed"
command -v jq >/dev/null || skip "jq is not installed"
# iperf3 -C needs the kernel's congestion control of each tcp flow
for f in "${FLOWS[@]}"; do
    set -- $f
    [ "$3" = tcp ] || continue
    avail=/proc/sys/net/ipv4/tcp_available_congestion_control
    grep -qw -- "$5" "$avail" 2>/dev/null || modprobe "tcp_$5" 2>/dev/null
    grep -qw -- "$5" "$avail" 2>/dev/null ||
        skip "flow $2 needs TCP $5, which this kernel does not offer ($avail: $(cat "$avail" 2>/dev/null))"
done

if [ -n "$SERIES_DIR" ]; then
    mkdir -p "$SERIES_DIR" || die "--emu-series: cannot create $SERIES_DIR"
    SERIES_DIR=$(cd "$SERIES_DIR" && pwd)
fi

# --prometheus DIR: the client's and the server's metrics endpoints, and a
# Prometheus in the laptop's namespace that scrapes both every second (the
# server's through the tunnel, as any laptop traffic: a few kB/s)
SERVER_METRICS=() CLIENT_METRICS=()
if [ -n "$PROM_DIR" ]; then
    for t in prometheus curl; do
        command -v "$t" >/dev/null || die "--prometheus: $t is not installed (.ci/install-deps)"
    done
    mkdir -p "$PROM_DIR/data" || die "--prometheus: cannot create $PROM_DIR/data"
    PROM_DIR=$(cd "$PROM_DIR" && pwd)
    SERVER_METRICS=(--metrics-addr 198.51.100.2:9100)
    CLIENT_METRICS=(--metrics-addr 127.0.0.1:9101)
fi
# start_prometheus ITERATION DIR: LAST_PID is its pid
start_prometheus() {
    cat >"$2/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: client
    static_configs: [{targets: ["127.0.0.1:9101"], labels: {scenario: "$NAME", iteration: "$1"}}]
  - job_name: server
    static_configs: [{targets: ["198.51.100.2:9100"], labels: {scenario: "$NAME", iteration: "$1"}}]
YML
    bg "$LAP" "$2/prometheus.log" prometheus --config.file="$2/prometheus.yml" \
        --storage.tsdb.path="$PROM_DIR/data" --web.listen-address=127.0.0.1:9090 --log.level=warn
}
# stop_prometheus ITERATION DIR PID: say whether both targets were scraped, stop it
stop_prometheus() {
    # pq QUERY: the single value of an instant query, or 0
    pq() {
        in_ns "$LAP" curl -s --max-time 5 -G http://127.0.0.1:9090/api/v1/query \
            --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // 0' 2>/dev/null
    }
    local n u
    n=$(pq "count(up{iteration=\"$1\"} == 1)")
    u=$(pq "count(triglav_uplink_rtt_seconds{job=\"client\",iteration=\"$1\"})")
    if [ "${n:-0}" = 2 ]; then
        log "iteration $1: prometheus scraped the client and the server, ${u:-0} client uplink series ($PROM_DIR/data)"
    else
        log "iteration $1: prometheus: ${n:-0} of 2 targets up; its log:"
        tail -n 5 "$2/prometheus.log" >&2
    fi
    kill -TERM "$3" 2>/dev/null
    wait_pid "$3" 10 || log "iteration $1: prometheus exited with status $?"
}

P="tn$$"
LAP="${P}lap" EMU="${P}emu" RTR="${P}rtr" SRV="${P}srv" OUT="${P}out"
WORK=$(mktemp -d /tmp/triglav-testnet.XXXXXX) && [ -d "$WORK" ] || die "mktemp failed"
PIDS=""
ip netns add "${P}probe" 2>/dev/null || { rm -rf "$WORK"; skip "cannot create network namespaces"; }
ip netns del "${P}probe"

teardown() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    [ -n "$PIDS" ] && sleep 0.3
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    PIDS=""
    for ns in "$LAP" "$EMU" "$RTR" "$SRV" "$OUT"; do ip netns del "$ns" 2>/dev/null; done
}
cleanup() { teardown; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# bg NS LOG CMD...: in the background, pid in LAST_PID (killed at teardown)
bg() {
    local ns=$1 logf=$2; shift 2
    : >"$logf"
    ip netns exec "$ns" "$@" >"$logf" 2>&1 &
    LAST_PID=$!
    PIDS="$PIDS $!"
}
# wait_for FILE PATTERN TENTHS: grep FILE until PATTERN shows, at most TENTHS/10 s
wait_for() {
    local i=0
    while [ $i -lt "$3" ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# wait_pid PID SECONDS: wait for it to end (its exit status), kill it after SECONDS (124)
wait_pid() {
    local i=0 limit=$(($2 * 10))
    while kill -0 "$1" 2>/dev/null && [ $i -lt $limit ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then kill "$1" 2>/dev/null; sleep 0.3; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124; fi
    wait "$1"
}
# about CLOCK_MONOTONIC in seconds (the emulator's ready file is on that clock; 10 ms steps)
now_mono() { cut -d" " -f1 /proc/uptime; }
mac() { ip -n "$1" -o link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

topology() {
    local ns i lip rip
    for ns in "$LAP" "$EMU" "$RTR" "$SRV" "$OUT"; do
        ip netns add "$ns" || die "ip netns add $ns"
        ip -n "$ns" link set lo up
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    for ((i = 0; i < N_UP; i++)); do
        lip="192.0.2.$((16 * i + 2))" rip="192.0.2.$((16 * i + 1))"
        ip link add "l$i" netns "$LAP" type veth peer name "ea$i" netns "$EMU" || die "veth"
        ip link add "eb$i" netns "$EMU" type veth peer name "r$i" netns "$RTR" || die "veth"
        # one packet per frame: the emulator cuts GSO super-frames itself, but
        # kernels before 6.2 drop UDP ones before it can read them
        for x in "$LAP l$i" "$EMU ea$i" "$EMU eb$i" "$RTR r$i"; do
            set -- $x
            ip -n "$1" link set "$2" gso_max_segs 1 || skip "cannot set gso_max_segs on a veth"
            ip -n "$1" link set "$2" up
        done
        ip -n "$LAP" addr add "$lip/28" dev "l$i"
        ip -n "$RTR" addr add "$rip/28" dev "r$i"
        # no ARP across an impaired link: neighbours are set by hand
        ip -n "$LAP" neigh replace "$rip" lladdr "$(mac "$RTR" "r$i")" dev "l$i" nud permanent
        ip -n "$RTR" neigh replace "$lip" lladdr "$(mac "$LAP" "l$i")" dev "r$i" nud permanent
        ip -n "$LAP" route add default via "$rip" dev "l$i" metric $((100 + i))
    done
    ip link add rs netns "$RTR" type veth peer name sr netns "$SRV" || die "veth"
    ip link add so netns "$SRV" type veth peer name os netns "$OUT" || die "veth"
    ip -n "$RTR" link set rs up
    ip -n "$RTR" addr add 198.51.100.1/24 dev rs
    in_ns "$RTR" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$SRV" link set sr up
    ip -n "$SRV" link set so up
    ip -n "$SRV" addr add 198.51.100.2/24 dev sr
    ip -n "$SRV" addr add 203.0.113.1/24 dev so
    ip -n "$SRV" route add 192.0.2.0/24 via 198.51.100.1
    ip -n "$SRV" route add default via 203.0.113.2
    ip -n "$OUT" link set os up
    ip -n "$OUT" addr add 203.0.113.2/24 dev os
}

# chaos_loop ITERATION SECONDS LOG: until SECONDS have passed, after gaps
# drawn from an exponential distribution of mean $CHAOS, one uplink chosen at
# random goes silent at the router (its r side down; the laptop's interface
# stays up) for 0.5-3 s; each flap is a line "START_S UPLINK LENGTH_S" in LOG.
# Seeded by the iteration, so a --chaos run can be played again.
chaos_loop() {
    RANDOM=$((1000 + $1))
    local start end now gap i len sp=""
    trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
    start=$(now_mono)
    end=$(awk -v a="$start" -v s="$2" 'BEGIN { print a + s }')
    while :; do
        gap=$(awk -v m="$CHAOS" -v r="$RANDOM" 'BEGIN { printf "%.3f", -m * log((r + 1) / 32769) }')
        sleep "$gap" &
        sp=$!
        wait "$sp"
        now=$(now_mono)
        awk -v n="$now" -v e="$end" 'BEGIN { exit !(n < e) }' || break
        i=$((RANDOM % N_UP))
        len=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + 2.5 * r / 32767 }')
        printf '%s %s %s\n' "$(awk -v n="$now" -v a="$start" 'BEGIN { printf "%.2f", n - a }')" \
            "${UPLINKS[$i]}" "$len" >>"$3"
        ip -n "$RTR" link set "r$i" down
        sleep "$len" &
        sp=$!
        wait "$sp"
        ip -n "$RTR" link set "r$i" up
    done
}

# The scenario's flows, as the plan prints them:
#   flow INDEX KIND DIR CC COUNT START_S STOP_S BYTES PPS PACKET_BYTES
play_iteration() {
    local it=$1 d="$WORK/it$1" i port=5201 vport=6001 rc=0
    mkdir -p "$d"
    topology
    local links=()
    for ((i = 0; i < N_UP; i++)); do links+=(--link "${UPLINKS[$i]}=ea$i,eb$i"); done
    rm -f "$d/ready"
    bg "$EMU" "$d/emu.log" "$SIM" emulate "$SCN" "${KEYOPTS[@]}" --iteration "$it" "${links[@]}" \
        --duration 0 --ready-file "$d/ready" ${SERIES_DIR:+--series "$SERIES_DIR/$NAME.it$it.emu"}
    local emu_pid=$LAST_PID
    for i in $(seq 100); do [ -s "$d/ready" ] && break; sleep 0.05; done
    [ -s "$d/ready" ] || { cat "$d/emu.log" >&2; die "iteration $it: the emulator is not ready after 5 s"; }
    local t0
    t0=$(cat "$d/ready")

    bg "$SRV" "$d/server.log" "$TRIGLAV" server --generate-key --listen 198.51.100.2:7443 \
        --pool 198.18.0.0/24 --tun-name tgs --state-dir "$d/state-server" --no-offload \
        --strategy "$STRATEGY" --aggregation "$AGG" "${SERVER_METRICS[@]}"
    local server_pid=$LAST_PID
    wait_for "$d/server.log" '^tg1_' 100 || { cat "$d/server.log" >&2; die "iteration $it: the server did not start"; }
    local key
    key=$(grep -m1 '^tg1_' "$d/server.log")
    local ifs=()
    for ((i = 0; i < N_UP; i++)); do ifs+=(-i "l$i"); done
    local c0 c1
    c0=$(date +%s%N)
    bg "$LAP" "$d/client.log" "$TRIGLAV" tun "$key" "${ifs[@]}" --full-tunnel --tun-name tgc \
        --state-dir "$d/state-client" --no-offload --strategy "$STRATEGY" --aggregation "$AGG" \
        "${CLIENT_METRICS[@]}"
    local client_pid=$LAST_PID
    wait_for "$d/client.log" 'tunnel up' 300 || { cat "$d/client.log" >&2; die "iteration $it: the tunnel did not come up in 30 s"; }
    c1=$(date +%s%N)
    local session_up_ms=$(((c1 - c0) / 1000000))
    local prom_pid=""
    if [ -n "$PROM_DIR" ]; then
        start_prometheus "$it" "$d"
        prom_pid=$LAST_PID
    fi

    # start the traffic: receivers and iperf3 servers first
    local f kind dir cc count start stop bytes pps size think vbps mss secs played="" iperfs=() webs=() voice_recv="" voice_send="" wport=8000 k
    local vlabel=() vrecv=() vsend=() viport=6101
    for f in "${FLOWS[@]}"; do
        set -- $f
        kind=$3 dir=$4 cc=$5 count=$6 start=$7 stop=$8 bytes=$9 pps=${10} size=${11} think=${12:-2}
        vbps=${13:-2500000} mss=${14:-1360}
        [ "$stop" = "-" ] && stop=$DUR
        secs=$(awk -v a="$start" -v b="$stop" 'BEGIN { s = b - a; printf "%d", (s < 1) ? 1 : s + 0.5 }')
        case "$kind" in
            tcp)
                bg "$OUT" "$d/iperf-s$port.log" iperf3 -s -1 -p "$port" -B 203.0.113.2
                local opts=(-c 203.0.113.2 -p "$port" -P "$count" -C "$cc" --json)
                [ "$dir" = down ] && opts+=(-R)
                if [ "$bytes" -gt 0 ]; then opts+=(-n "$bytes"); else opts+=(-t "$secs"); fi
                iperfs+=("$port $start ${opts[*]}")
                played="$played tcp$2x$count/$dir"
                port=$((port + 1)) ;;
            voice)
                if [ -n "$voice_recv" ]; then log "iteration $it: flow $2 (voice) not played: one voice flow only"; continue; fi
                local n=$(awk -v p="$pps" -v s="$secs" 'BEGIN { printf "%d", p * s }')
                if [ "$dir" = down ]; then
                    voice_send="$OUT $start live probe send --hello-port $vport --count $n --pps $pps --size $size --timeout 60"
                    voice_recv="$LAP live probe recv --hello 203.0.113.2:$vport --count $n --span $secs --timeout $((secs + 60))"
                else
                    voice_recv="$OUT live probe recv --port $vport --count $n --span $secs --timeout $((secs + 60))"
                    voice_send="$LAP $start live probe send --to 203.0.113.2:$vport --count $n --pps $pps --size $size"
                fi
                played="$played voice$2/$dir" ;;
            web)
                bg "$OUT" "$d/web-s$wport.log" "$SIM" live web serve --port "$wport" --timeout $((secs + 120))
                for ((k = 0; k < count; k++)); do
                    local wopts="--to 203.0.113.2:$wport --size $bytes --duration $secs --seed $((1000 * it + 10 * $2 + k))"
                    wopts="$wopts --think-ms $(awk -v t="$think" 'BEGIN { printf "%.0f", t * 1000 }')"
                    [ "$dir" = up ] && wopts="$wopts --up"
                    webs+=("$wport.$k $start $wopts")
                done
                played="$played web$2x$count/$dir"
                wport=$((wport + 1)) ;;
            video) # both directions, as the simulator's video call
                for ((k = 0; k < count; k++)); do
                    local frames=$((30 * secs)) vs="--video $vbps --mss $mss"
                    vlabel+=("video$2.$k/down")
                    vrecv+=("$LAP live probe recv --hello 203.0.113.2:$viport --span $secs --timeout $((secs + 60)) --idle-ms 2000")
                    vsend+=("$OUT $start live probe send --hello-port $viport --count $frames $vs --seed $((1000 * it + 10 * $2 + k)) --timeout 60")
                    vlabel+=("video$2.$k/up")
                    vrecv+=("$OUT live probe recv --port $((viport + 1)) --span $secs --timeout $((secs + 60)) --idle-ms 2000")
                    vsend+=("$LAP $start live probe send --to 203.0.113.2:$((viport + 1)) --count $frames $vs --seed $((1000 * it + 10 * $2 + k + 5))")
                    viport=$((viport + 2))
                done
                played="$played video$2x$count" ;;
            keys)
                bg "$OUT" "$d/web-s$wport.log" "$SIM" live web serve --port "$wport" --timeout $((secs + 120))
                for ((k = 0; k < count; k++)); do
                    local kopts="--to 203.0.113.2:$wport --keys --size $size --duration $secs --seed $((1000 * it + 10 * $2 + k))"
                    kopts="$kopts --think-ms $(awk -v t="$think" 'BEGIN { printf "%.0f", t * 1000 }')"
                    webs+=("$wport.$k $start $kopts")
                done
                played="$played keys$2x$count"
                wport=$((wport + 1)) ;;
            *) log "iteration $it: flow $2 ($kind) not played: the testnet plays tcp, voice, web and keys flows" ;;
        esac
    done
    sleep 0.3 # the iperf3 servers listen
    local tstart pids=() x
    tstart=$(now_mono)
    # a flow starts at its start time on the links' clock (t0 + start), or
    # now when the tunnel came up later than that: "late" is the worst lag
    local offset late=0
    offset=$(awk -v a="$tstart" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
    wait_s() { awk -v t0="$t0" -v s="$1" -v now="$tstart" 'BEGIN { w = t0 + s - now; printf "%.3f", (w > 0) ? w : 0 }'; }
    lag() { awk -v t0="$t0" -v s="$1" -v now="$tstart" -v l="$late" 'BEGIN { x = now - t0 - s; if (x < l) x = l; printf "%.2f", (x > 0) ? x : 0 }'; }
    if [ -n "$voice_recv" ]; then
        set -- $voice_recv
        local ns=$1; shift
        ip netns exec "$ns" "$SIM" "$@" >"$d/voice-recv.out" 2>"$d/voice-recv.err" &
        pids+=($!)
        PIDS="$PIDS $!"
        set -- $voice_send
        ns=$1 start=$2; shift 2
        late=$(lag "$start")
        (sleep "$(wait_s "$start")"; exec ip netns exec "$ns" "$SIM" "$@") >"$d/voice-send.out" 2>"$d/voice-send.err" &
        pids+=($!)
        PIDS="$PIDS $!"
    fi
    for x in "${webs[@]}"; do
        set -- $x
        local w=$1 st=$2; shift 2
        late=$(lag "$st")
        (sleep "$(wait_s "$st")"; exec ip netns exec "$LAP" "$SIM" live web fetch "$@") >"$d/web-c$w.out" 2>"$d/web-c$w.err" &
        pids+=($!)
        PIDS="$PIDS $!"
    done
    for ((k = 0; k < ${#vlabel[@]}; k++)); do
        set -- ${vrecv[$k]}
        local vns=$1; shift
        ip netns exec "$vns" "$SIM" "$@" >"$d/video-recv.$k.out" 2>"$d/video-recv.$k.err" &
        pids+=($!)
        PIDS="$PIDS $!"
        set -- ${vsend[$k]}
        local vst=$2
        vns=$1; shift 2
        late=$(lag "$vst")
        (sleep "$(wait_s "$vst")"; exec ip netns exec "$vns" "$SIM" "$@") >"$d/video-send.$k.out" 2>"$d/video-send.$k.err" &
        pids+=($!)
        PIDS="$PIDS $!"
    done
    local j=0
    for x in "${iperfs[@]}"; do
        set -- $x
        local p=$1 st=$2; shift 2
        late=$(lag "$st")
        (sleep "$(wait_s "$st")"; exec ip netns exec "$LAP" iperf3 "$@") >"$d/iperf-c$p.json" 2>"$d/iperf-c$p.err" &
        pids+=($!)
        PIDS="$PIDS $!"
        j=$((j + 1))
    done
    local chaos_pid=""
    if [ -n "$CHAOS" ]; then
        : >"$d/chaos.log"
        chaos_loop "$it" "$DUR" "$d/chaos.log" &
        chaos_pid=$!
        PIDS="$PIDS $!"
    fi
    local limit
    limit=$(awk -v d="$DUR" 'BEGIN { printf "%d", d + 90 }')
    for x in "${pids[@]}"; do
        wait_pid "$x" "$limit" || { rc=1; log "iteration $it: a traffic program failed (pid $x, status $?)"; }
    done
    local tend
    tend=$(now_mono)
    local ran
    ran=$(awk -v a="$tstart" -v b="$tend" 'BEGIN { printf "%.3f", b - a }')
    if [ -n "$chaos_pid" ]; then
        kill -TERM "$chaos_pid" 2>/dev/null
        wait "$chaos_pid" 2>/dev/null
        for ((i = 0; i < N_UP; i++)); do ip -n "$RTR" link set "r$i" up; done
    fi

    [ -n "$prom_pid" ] && stop_prometheus "$it" "$d" "$prom_pid"
    kill -TERM "$client_pid" "$server_pid" 2>/dev/null
    wait_pid "$client_pid" 10 || log "iteration $it: triglav tun exited with status $? (log: kept in the error below)"
    wait_pid "$server_pid" 10 || log "iteration $it: triglav server exited with status $?"
    kill -TERM "$emu_pid" 2>/dev/null
    wait_pid "$emu_pid" 10 || log "iteration $it: the emulator exited with status $?"
    log "iteration $it: emulator counters (uplink dir passed drop-queue drop-loss drop-down send-err rx-drop):"
    grep -v '^$' "$d/emu.log" >&2
    log "iteration $it: the tunnel's counters at exit (client, then server):"
    grep -h -E ': (client|server): tun in ' "$d/client.log" "$d/server.log" >&2

    # what was measured
    local m="$d/measured.txt" g=0 have_g=0 retrans=0
    {
        echo "duration_s $ran"
        echo "session_up_ms $session_up_ms"
    } >"$m"
    for x in "${iperfs[@]}"; do
        set -- $x
        local bps
        bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$d/iperf-c$1.json" 2>/dev/null)
        if [ -z "$bps" ]; then
            log "iteration $it: iperf3 on port $1 gave no result:"
            jq -r '.error // empty' "$d/iperf-c$1.json" >&2 2>/dev/null
            tail -n 3 "$d/iperf-c$1.err" >&2
            rc=1
            continue
        fi
        g=$(awk -v a="$g" -v b="$bps" 'BEGIN { printf "%.6f", a + b / 1e6 }')
        local rx
        rx=$(jq -r '.end.sum_sent.retransmits // empty' "$d/iperf-c$1.json" 2>/dev/null)
        [ -n "$rx" ] && retrans=$((retrans + rx))
        have_g=1
    done
    [ "$have_g" -eq 1 ] && echo "goodput_mbps $g" >>"$m"
    local web_note=""
    for ((k = 0; k < ${#vlabel[@]}; k++)); do
        local vr vsn vp
        vr=$(awk '$1 == "received" { print $2 }' "$d/video-recv.$k.out")
        vsn=$(awk '$1 == "sent" { print $2 }' "$d/video-send.$k.out")
        vp=$(awk '$1 == "owd_p50_ms" { print $2 }' "$d/video-recv.$k.out")
        if [ -z "$vr" ] || [ -z "$vsn" ] || [ "$vr" = 0 ]; then
            log "iteration $it: ${vlabel[$k]}: nothing received:"
            tail -n 3 "$d/video-send.$k.err" "$d/video-recv.$k.err" >&2
            rc=1
            continue
        fi
        web_note="$web_note; ${vlabel[$k]}: $vr of $vsn datagrams, owd p50 ${vp:--} ms"
    done
    for x in "${webs[@]}"; do
        set -- $x
        local o p
        o=$(awk '$1 == "objects" { print $2 }' "$d/web-c$1.out")
        p=$(awk '$1 == "completion_p50_ms" { print $2 }' "$d/web-c$1.out")
        if [ -z "$o" ]; then
            log "iteration $it: the web fetcher $1 gave no result:"
            tail -n 3 "$d/web-c$1.err" >&2
            rc=1
            continue
        fi
        case "$x" in
            *--keys*) web_note="$web_note; keys $1: $o keys echoed, echo p50 ${p:--} ms" ;;
            *) web_note="$web_note; web $1: $o objects, completion p50 ${p:--} ms" ;;
        esac
    done
    if [ -n "$voice_recv" ]; then
        awk '$1 ~ /^(owd_p50_ms|owd_p95_ms|owd_p99_ms|loss)$/' "$d/voice-recv.out" >>"$m"
        grep -q '^owd_p50_ms' "$d/voice-recv.out" || { log "iteration $it: the voice probe received nothing"; cat "$d/voice-recv.err" "$d/voice-send.err" >&2; rc=1; }
    fi
    teardown
    if [ $rc -ne 0 ]; then
        log "--- client log"; tail -n 20 "$d/client.log" >&2
        log "--- server log"; tail -n 20 "$d/server.log" >&2
        die "iteration $it: not stored (see above)"
    fi
    log "iteration $it: traffic $ran s from $offset s of the links' clock, flows at most $late s after their start time; measured:"
    sed 's/^/  /' "$m" >&2
    log "iteration $it: TCP retransmits (iperf3, sender side): $retrans"
    [ -n "$web_note" ] && log "iteration $it: ${web_note#; }"
    if [ -n "$CHAOS" ]; then
        log "iteration $it: --chaos: $(wc -l <"$d/chaos.log") flaps (start_s uplink length_s):"
        sed 's/^/  /' "$d/chaos.log" >&2
        log "iteration $it: not stored (--chaos: the links were not the scenario's)"
        return 0
    fi
    local rep=()
    [ "$REPLACE" -eq 1 ] && rep=(--replace)
    "$SIM" live record --db "$DB" --scenario "$SCN" "${KEYOPTS[@]}" --strategy "$STRATEGY" \
        --aggregation "$AGG" --iteration "$it" --from "$m" "${rep[@]}" \
        --method "testnet: iperf3, live probe, live web (${played# }; $retrans TCP retransmits$web_note); flows at most $late s after their start time on the links' clock" ||
        die "iteration $it: live record failed"
}

log "$NAME ($SCN): $N_UP uplinks, $DUR s, $STRATEGY/$AGG, iterations $FIRST..$((FIRST + ITERS - 1)) -> $DB"
log "namespaces ${P}lap, ${P}emu, ${P}rtr, ${P}srv, ${P}out (deleted on exit); work folder $WORK"
for ((it = FIRST; it < FIRST + ITERS; it++)); do
    if [ "$REPLACE" -eq 0 ] && [ -z "$CHAOS" ]; then
        have=$("$SIM" live has --db "$DB" --scenario "$SCN" "${KEYOPTS[@]}" --strategy "$STRATEGY" \
            --aggregation "$AGG" --iteration "$it") || exit 1
        if [ "$have" = yes ]; then log "iteration $it: a live run is stored already (--replace replaces it)"; continue; fi
    fi
    play_iteration "$it"
done
if [ "$NO_SIM" -eq 0 ]; then
    SEEDOPT=()
    [ -n "$SEED" ] && SEEDOPT=(--seed "$SEED")
    DATAOPT=()
    [ -n "$DATA_DIR" ] && DATAOPT=(--data-dir "$DATA_DIR")
    "$SIM" run "$SCN" --iterations "$((FIRST + ITERS))" --strategy "$STRATEGY" --aggregation "$AGG" \
        "${SEEDOPT[@]}" "${DATAOPT[@]}" --db "$DB" -j 1 >&2 || die "the simulated twins: triglav-sim run failed"
fi
exit 0
