# tests/emu/lib.sh: three namespaces around `triglav-sim emulate`, for the
# emulator's self-checks and bench_emulator.
#   C (sender, 192.0.2.1) --veth-- E (the emulator, no addresses) --veth-- S (receiver, 192.0.2.2)
# The emulator relays frames between its two veth ends, so C and S share one
# Ethernet segment; their neighbour entries are set by hand so that no ARP
# has to cross an impaired link. Offloads are off where they matter: the
# veths do no GRO by default and the probes send single datagrams below the
# MTU (no GSO); checksums left to offload are finished by the emulator.
# Sourcing scripts set SIM and PROBE. Exit 77 only if not root or no netns/veth.

TAG=$$
NS_C=tgemuC$TAG NS_E=tgemuE$TAG NS_S=tgemuS$TAG
IF_CA=ec$TAG IF_EA=ea$TAG IF_EB=eb$TAG IF_SB=es$TAG
WORK=$(mktemp -d /tmp/tgemu.XXXXXX)
EMU_PID=

emu_cleanup() {
    if [ -n "$EMU_PID" ]; then
        kill "$EMU_PID" 2>/dev/null
        wait "$EMU_PID" 2>/dev/null
    fi
    ip netns del "$NS_C" 2>/dev/null
    ip netns del "$NS_E" 2>/dev/null
    ip netns del "$NS_S" 2>/dev/null
    rm -rf "$WORK"
}
trap emu_cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; exit 1; }

emu_setup() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    ip netns add "$NS_C" 2>/dev/null || { echo "SKIP: no network namespaces"; exit 77; }
    ip netns add "$NS_E" && ip netns add "$NS_S" || fail "ip netns add"
    if ! ip link add "$IF_CA" netns "$NS_C" type veth peer name "$IF_EA" netns "$NS_E" 2>/dev/null; then
        echo "SKIP: no veth support"; exit 77
    fi
    ip link add "$IF_EB" netns "$NS_E" type veth peer name "$IF_SB" netns "$NS_S" || fail "veth"
    for ns in "$NS_C" "$NS_E" "$NS_S"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_C" addr add 192.0.2.1/24 dev "$IF_CA"
    ip -n "$NS_S" addr add 192.0.2.2/24 dev "$IF_SB"
    for x in "$NS_C $IF_CA" "$NS_E $IF_EA" "$NS_E $IF_EB" "$NS_S $IF_SB"; do
        set -- $x
        ip -n "$1" link set "$2" up || fail "link up $2"
    done
    local mac_c mac_s
    mac_c=$(ip -n "$NS_C" -o link show "$IF_CA" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    mac_s=$(ip -n "$NS_S" -o link show "$IF_SB" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    ip -n "$NS_C" neigh replace 192.0.2.2 lladdr "$mac_s" dev "$IF_CA" nud permanent || fail "neigh"
    ip -n "$NS_S" neigh replace 192.0.2.1 lladdr "$mac_c" dev "$IF_SB" nud permanent || fail "neigh"
}

# emu_start SCN DURATION_S: start the emulator on uplink "u" between the
# two veth ends (with EMU_SERIES set, its --series goes to that file);
# sets EMU_PID and T0 (the links' time 0, monotonic seconds).
emu_start() {
    rm -f "$WORK/ready"
    ip netns exec "$NS_E" "$SIM" emulate "$1" --link u="$IF_EA,$IF_EB" --duration "$2" \
        --ready-file "$WORK/ready" ${EMU_SERIES:+--series "$EMU_SERIES"} >"$WORK/emu.out" 2>"$WORK/emu.err" &
    EMU_PID=$!
    local i
    for i in $(seq 500); do
        [ -e "$WORK/ready" ] && break
        kill -0 "$EMU_PID" 2>/dev/null || { cat "$WORK/emu.err"; fail "emulator exited early"; }
        sleep 0.01
    done
    [ -s "$WORK/ready" ] || sleep 0.05
    [ -s "$WORK/ready" ] || fail "emulator not ready after 5 s"
    T0=$(cat "$WORK/ready")
}

# emu_stop: SIGTERM, wait, show the counters.
emu_stop() {
    kill -TERM "$EMU_PID" 2>/dev/null
    wait "$EMU_PID" || fail "emulator exit status $?"
    EMU_PID=
    cat "$WORK/emu.out"
}

# emu_counter DIR COLUMN: a counter of uplink u from the emulator's table
# (columns: passed drop-queue drop-loss drop-down send-err rx-drop).
emu_counter() {
    awk -v d="$1" -v c="$2" '$1 == "u" && $2 == d {
        split("passed drop-queue drop-loss drop-down send-err rx-drop", k, " ");
        for (i in k) if (k[i] == c) print $(2 + i) }' "$WORK/emu.out"
}

# probe_flow SIZE PPS COUNT TIMEOUT_S [FROM TO]: receiver in S, sender in C;
# the receiver's "key value" lines end up in $WORK/recv.out. It stops after
# IDLE_MS (default 500) without a datagram.
probe_flow() {
    ip netns exec "$NS_S" "$PROBE" recv 5001 "$4" "${IDLE_MS:-500}" ${5:+"$5" "$6"} >"$WORK/recv.out" &
    local rpid=$!
    sleep 0.2
    ip netns exec "$NS_C" "$PROBE" send 192.0.2.2 5001 "$1" "$2" "$3" >"$WORK/send.out" ||
        fail "sender"
    wait "$rpid" || fail "receiver"
    cat "$WORK/send.out" "$WORK/recv.out"
}

val() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/recv.out"; }
