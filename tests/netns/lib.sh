# Shared by the netns tests (sourced, bash). Builds the namespaces of the
# issue: a laptop with two uplinks, a router, the server, an outside host.
#
#   laptop  l1 192.0.2.2/26   -- r1 [br1 192.0.2.1/26]   router
#           l2 192.0.2.66/26  -- r2 [br2 192.0.2.65/26]  router
#   router  rs 198.51.100.1/24 -- sr 198.51.100.2/24     server
#   server  so 203.0.113.1/24  -- os 203.0.113.2/24      outside
#
# The router's uplink sides are bridges (br1, br2) with the veth inside, so
# `ip link set br1 down` kills the path silently: the laptop's l1 keeps its
# carrier and gets no error. The outside host has no route to the laptop or
# the tunnel pool: it can only answer the server (masquerade). Only the
# documentation ranges and 198.18.0.0/15 are used; nothing leaves the
# namespaces. Everything is deleted on exit (trap).
#
# Needs: TRIGLAV (the binary), NETTOOL (tg_nettool). Exit 77 = skip.
set -u
: "${TRIGLAV:?set TRIGLAV to the triglav binary}" "${NETTOOL:?set NETTOOL to tg_nettool}"
# TCP transfers (tg_nettool's servers) use CUBIC whatever the host's default
# (a namespace starts with the host's, BBR on some machines), so results do
# not depend on the machine; TG_CC=bbr measures BBR.
export TG_CC="${TG_CC:-cubic}"

P="tg$$"
LAP="${P}lap" RTR="${P}rtr" SRV="${P}srv" OUT="${P}out"
WORK="$(mktemp -d /tmp/triglav-netns.XXXXXX)" && [ -d "$WORK" ] || exit 1
STATE="$WORK/state"
PIDS=""
FAILED=0

lap() { ip netns exec "$LAP" "$@"; }
rtr() { ip netns exec "$RTR" "$@"; }
srv() { ip netns exec "$SRV" "$@"; }
out() { ip netns exec "$OUT" "$@"; }

log() { printf '%s\n' "$*" >&2; }
fail() { log "FAIL: $*"; FAILED=1; }
check() { # check DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@"; then log "ok: $what"; else fail "$what"; fi
}

cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    for ns in "$LAP" "$RTR" "$SRV" "$OUT"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "/etc/netns/$LAP" "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

need_root() {
    if [ "$(id -u)" -ne 0 ]; then log "SKIP: needs root (network namespaces)"; exit 77; fi
    if [ ! -c /dev/net/tun ]; then log "SKIP: /dev/net/tun is missing"; exit 77; fi
    if ! ip netns add "${P}probe" 2>/dev/null; then log "SKIP: cannot create network namespaces"; exit 77; fi
    ip netns del "${P}probe"
    command -v nft >/dev/null || { log "SKIP: nft (nftables) is not installed"; exit 77; }
}

# Run in the background, remember the pid: bg NS LOGFILE CMD...
bg() {
    local ns="$1" logf="$2"; shift 2
    : > "$logf" # truncate now: a wait_for must never see an earlier run's lines
    ip netns exec "$ns" "$@" >"$logf" 2>&1 &
    PIDS="$PIDS $!"
    LAST_PID=$!
}

# bg_unreaped NS LOGFILE CMD...: run CMD in the background under a parent
# (a sleep) that never reaps it, so that once killed it stays a zombie
# until the test ends. CMD's pid in LAST_PID, the parent's in LAST_PARENT.
bg_unreaped() {
    local ns="$1" logf="$2"; shift 2
    : > "$logf"
    rm -f "$logf.pid"
    ip netns exec "$ns" sh -c '"$@" >"$0" 2>&1 & echo $! >"$0.pid"; exec sleep 3600' "$logf" "$@" &
    LAST_PARENT=$!
    PIDS="$PIDS $!"
    local i=0
    while [ ! -s "$logf.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    LAST_PID=$(cat "$logf.pid" 2>/dev/null)
    [ -n "$LAST_PID" ] || { log "bg_unreaped: $1 did not start"; exit 1; }
    PIDS="$PIDS $LAST_PID"
}

# proc_state PID: the state letter of /proc/PID/stat (R, S, Z ...), or
# nothing when there is no such process
proc_state() {
    sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# proc_start PID: the start time of /proc/PID/stat (field 22, clock ticks)
proc_start() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# wait_for FILE PATTERN SECONDS
wait_for() {
    local i=0 limit=$(( $3 * 10 ))
    while [ $i -lt $limit ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# wait_pid PID SECONDS: wait for a process to end, kill it after SECONDS
wait_pid() {
    local i=0 limit=$(( $2 * 10 ))
    while kill -0 "$1" 2>/dev/null && [ $i -lt $limit ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then kill "$1"; sleep 0.5; kill -9 "$1" 2>/dev/null; return 124; fi
    wait "$1" 2>/dev/null
}

topology() {
    for ns in "$LAP" "$RTR" "$SRV" "$OUT"; do
        ip netns add "$ns" || exit 1
        ip netns exec "$ns" ip link set lo up
        # no duplicate address detection: link-local addresses (and their local
        # routes) exist at once, so before/after snapshots do not race them
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
    done
    mkdir -p "/etc/netns/$LAP"
    printf 'nameserver 192.0.2.1\n# laptop before triglav\n' > "/etc/netns/$LAP/resolv.conf"

    ip link add l1 netns "$LAP" type veth peer name r1 netns "$RTR"
    ip link add l2 netns "$LAP" type veth peer name r2 netns "$RTR"
    ip link add rs netns "$RTR" type veth peer name sr netns "$SRV"
    ip link add so netns "$SRV" type veth peer name os netns "$OUT"

    rtr ip link add br1 type bridge
    rtr ip link add br2 type bridge
    rtr ip link set r1 master br1
    rtr ip link set r2 master br2
    for i in br1 br2 r1 r2 rs; do rtr ip link set "$i" up; done
    rtr ip addr add 192.0.2.1/26 dev br1
    rtr ip addr add 192.0.2.65/26 dev br2
    rtr ip addr add 198.51.100.1/24 dev rs
    rtr sysctl -qw net.ipv4.ip_forward=1

    lap ip link set l1 up
    lap ip link set l2 up
    lap ip addr add 192.0.2.2/26 dev l1
    lap ip addr add 192.0.2.66/26 dev l2
    lap ip route add default via 192.0.2.1 dev l1 metric 100
    lap ip route add default via 192.0.2.65 dev l2 metric 200

    srv ip link set sr up
    srv ip link set so up
    srv ip addr add 198.51.100.2/24 dev sr
    srv ip addr add 203.0.113.1/24 dev so
    srv ip route add 192.0.2.0/24 via 198.51.100.1
    srv ip route add default via 203.0.113.2
    srv sysctl -qw net.ipv4.ip_forward=0

    out ip link set os up
    out ip addr add 203.0.113.2/24 dev os

    # wait for bridges/veths to forward (no STP: immediate, but carrier takes a moment)
    local i=0
    while [ $i -lt 50 ]; do
        lap "$NETTOOL" icmp-ping 198.51.100.2 1 1 >/dev/null 2>&1 &&
            lap "$NETTOOL" icmp-ping 192.0.2.65 1 1 >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    log "topology: the laptop cannot reach the server directly"; exit 1
}

# What must be the same before and after triglav: rules, every routing
# table, the nftables ruleset, forwarding, resolv.conf.
snapshot() { # snapshot NS
    ip netns exec "$1" sh -c 'ip rule; echo ---; ip route show table all; echo ---; ip -6 rule; echo ---; nft list ruleset; echo ---; sysctl net.ipv4.ip_forward net.ipv4.conf.all.src_valid_mark; echo ---; cat /etc/resolv.conf'
}
snapshot_all() { # snapshot_all SUFFIX
    for ns in "$LAP" "$SRV"; do snapshot "$ns" > "$WORK/snap.$ns.$1"; done
}
check_restored() {
    for ns in "$LAP" "$SRV"; do
        if diff -u "$WORK/snap.$ns.before" "$WORK/snap.$ns.after" >&2; then
            log "ok: $ns: rules, routes, nftables, sysctls and resolv.conf restored"
        else
            fail "$ns: state after exit differs from before"
        fi
    done
}

# start_server [extra args]: key in $KEY
start_server() {
    bg "$SRV" "$WORK/server.log" "$TRIGLAV" server --generate-key --listen 198.51.100.2:7443 \
        --pool 198.18.0.0/24 --tun-name tgs --state-dir "$STATE" "$@"
    SERVER_PID=$LAST_PID
    wait_for "$WORK/server.log" '^tg1_' 10 || { cat "$WORK/server.log" >&2; fail "server did not start"; exit 1; }
    KEY=$(grep '^tg1_' "$WORK/server.log" | head -1)
}

# start_client ARGS...: waits for "tunnel up"
start_client() {
    bg "$LAP" "$WORK/client.log" "$TRIGLAV" tun "$KEY" --tun-name tgc --state-dir "$STATE" "$@"
    CLIENT_PID=$LAST_PID
    wait_for "$WORK/client.log" 'tunnel up' 15 || { cat "$WORK/client.log" >&2; fail "client did not connect"; exit 1; }
}

stop() { # stop PID NAME: SIGTERM, wait, and insist on a clean exit (0)
    kill -TERM "$1" 2>/dev/null
    wait_pid "$1" 10
    local rc=$?
    if [ $rc -eq 124 ]; then fail "$2 did not stop within 10 s of SIGTERM"
    elif [ $rc -ne 0 ]; then fail "$2 exited with status $rc (an error or a sanitizer report: see its log)"; fi
}

finish() {
    if [ "$FAILED" -ne 0 ]; then
        log "--- server log"; cat "$WORK/server.log" >&2 2>/dev/null
        log "--- client log"; cat "$WORK/client.log" >&2 2>/dev/null
        exit 1
    fi
    log "PASS"
    exit 0
}

# check_transfer LABEL BYTES: the fetch ($WORK/fetch.LABEL.log, tg_nettool
# tcp-fetch) got BYTES, and their sha256 is the one the serving side
# ($WORK/serve.LABEL.log, tcp-serve) sent
check_transfer() {
    local got sent
    check "$1: transfer complete" grep -q "^bytes $2\$" "$WORK/fetch.$1.log"
    wait_for "$WORK/serve.$1.log" '^sha256 ' 10
    got=$(sed -n 's/^sha256 //p' "$WORK/fetch.$1.log")
    sent=$(sed -n 's/^sha256 //p' "$WORK/serve.$1.log")
    check "$1: sha256 of what arrived = what was sent" test -n "$sent" -a "$got" = "$sent"
}

# shape NS DEV RATE: a tbf rate limit on DEV (egress), 100 ms of queue
shape() {
    ip netns exec "$1" tc qdisc add dev "$2" root tbf rate "$3" burst 20kb latency "${TBF_LAT:-100ms}" ||
        { log "SKIP: the kernel has no tbf qdisc (sch_tbf)"; exit 77; }
}
