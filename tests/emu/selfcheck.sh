#!/bin/bash
# The emulator's self-checks (label emu): real datagrams through
# `triglav-sim emulate` between two namespaces, against the scenario's link.
#   selfcheck.sh SIM PROBE delay|rate|loss|outage|trace
# delay:  10 ms configured; the p50 one-way delay it adds (over the same
#         emulator with no delay, in the same run) within 0.2 ms of it
# rate:   20 Mbit/s, offered 25; IP packets delivered at 20 Mbit/s within 2%
# loss:   5% Bernoulli; 4000 datagrams lost within 4 binomial sigmas, and the
#         emulator's loss counter accounts for every one of them
# geloss: Gilbert-Elliott (p_gb 2%, p_bg 20%, all lost in the bad state):
#         9.1% of 4000 lost within 4 sigmas of a two-state chain (its
#         correlation makes sigma about 2.8 times the binomial one), and
#         the emulator's loss counter accounts for every one of them
# outage: down from 1 s to 2 s; nothing sent during it arrives, the rest does
# trace:  a Mahimahi LTE trace (3 s); IP packets delivered within 3% of its
#         opportunities' bytes while the sender keeps the queue full
# errors: a missing interface, an unknown uplink, bad usage, a bad scenario
#         and (when setpriv can drop to nobody) no root: a message, no hang
set -u
SIM=$1 PROBE=$2 CHECK=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# expect STATUS PATTERN CMD...: CMD exits with STATUS within 10 s, and says PATTERN on stderr
expect() {
    local want=$1 pat=$2 rc
    shift 2
    timeout 10 "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ "$rc" = "$want" ] || { cat "$WORK/err"; fail "exit $rc, expected $want: $*"; }
    grep -q -- "$pat" "$WORK/err" || { cat "$WORK/err"; fail "no '$pat' from: $*"; }
    echo "ok: $* -> $rc"
}
if [ "$CHECK" = errors ]; then
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    S=$HERE/delay.scn
    expect 1 "no interface 'tgnosuch0'" "$SIM" emulate "$S" --link u=tgnosuch0,tgnosuch1 --duration 1
    expect 1 "no uplink of that name" "$SIM" emulate "$S" --link x=lo,lo --duration 1
    expect 2 "expected NAME=IF_A,IF_B" "$SIM" emulate "$S" --link u=lo
    expect 2 "no --link given" "$SIM" emulate "$S"
    expect 2 "--duration: expected seconds" "$SIM" emulate "$S" --link u=lo,lo --duration -1
    printf '[scenario]\nduration = 10s\n' >"$WORK/bad.scn"
    expect 1 "bad.scn:1:1:" "$SIM" emulate "$WORK/bad.scn" --link u=lo,lo
    mkfifo "$WORK/fifo.scn"
    expect 1 "not a regular file" "$SIM" emulate "$WORK/fifo.scn" --link u=lo,lo
    chmod 755 "$WORK" && cp "$S" "$WORK/d.scn" && chmod 644 "$WORK/d.scn"
    if command -v setpriv >/dev/null &&
        setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$SIM" 2>/dev/null; then
        expect 1 "run it as root" setpriv --reuid 65534 --regid 65534 --clear-groups \
            "$SIM" emulate "$WORK/d.scn" --link u=lo,lo --duration 1
    else
        echo "note: the not-root case is not checked (no setpriv, or nobody cannot run $SIM)"
    fi
    echo "PASS: errors"
    exit 0
fi
emu_setup

case $CHECK in
delay)
    # the same probe through the emulator with no delay first: what the
    # veths, the relay and the probe cost on their own is not the delay
    emu_start "$HERE/bench_none.scn" 20
    probe_flow 100 200 600 10
    emu_stop
    base=$(val owd_p50_us)
    emu_start "$HERE/delay.scn" 20
    probe_flow 100 200 600 10
    emu_stop
    p50=$(val owd_p50_us)
    added=$((p50 - base))
    echo "delay: p50 ${p50} us, ${base} us without delay: ${added} us added (configured 10000 us)"
    [ "$(val received)" -ge 590 ] || fail "received $(val received) of 600"
    [ "$added" -ge 9800 ] && [ "$added" -le 10200 ] || fail "added ${added} us not within 0.2 ms of 10 ms"
    ;;
rate)
    EMU_SERIES=$WORK/series emu_start "$HERE/rate.scn" 20
    # 1458-byte datagrams are 1486-byte IP packets (the links charge those,
    # not the 1500-byte frames); 2103/s offers 25 Mbit/s
    probe_flow 1458 2103 8000 15
    emu_stop
    r=$(val ip_rate_bps)
    echo "rate: ${r} bit/s of IP packets (configured 20000000)"
    dq=$(emu_counter up drop-queue)
    [ "$dq" -gt 0 ] || fail "the queue never overflowed: not saturated"
    awk -v r="$r" 'BEGIN { exit !(r >= 19600000 && r <= 20400000) }' ||
        fail "rate ${r} not within 2% of 20 Mbit/s"
    # --series: the median of the busy 100 ms samples is the rate, the queue
    # reaches its 256 KB while it overflows, the last drops are the table's
    sort -k4,4n <(awk '$2 == "u" && $3 == "up" && $4 > 1' "$WORK/series") >"$WORK/busy"
    n=$(wc -l <"$WORK/busy")
    med=$(awk -v n="$n" 'NR == int((n + 1) / 2) { print $4 }' "$WORK/busy")
    qmax=$(awk '$3 == "up" { if ($5 > m) m = $5 } END { print m + 0 }' "$WORK/series")
    last=$(awk '$3 == "up" { d = $6 } END { print d + 0 }' "$WORK/series")
    echo "series: $n busy samples, median ${med} Mbit/s, queue up to ${qmax} bytes, ${last} drops"
    [ "$n" -ge 30 ] || fail "only $n busy samples in the series"
    awk -v m="$med" 'BEGIN { exit !(m >= 19.6 && m <= 20.4) }' ||
        fail "series median ${med} Mbit/s not within 2% of 20"
    [ "$qmax" -ge 240000 ] && [ "$qmax" -le 262144 ] || fail "series queue peak ${qmax}, expected ~256 KB"
    [ "$last" = "$dq" ] || fail "series drops ${last}, the table's ${dq}"
    ;;
loss | geloss)
    emu_start "$HERE/$CHECK.scn" 20
    probe_flow 200 2000 4000 10
    emu_stop
    got=$(val received)
    lost=$((4000 - got))
    byemu=$(emu_counter up drop-loss)
    if [ "$CHECK" = loss ]; then # Bernoulli 5%: mean 200, sigma 14
        rate=5% want="200 +- 55" lo=145 hi=255
    else # mean 4000 * 0.02 / 0.22 = 364; sigma = sqrt(n p (1-p) (1+r)/(1-r)), r = 0.78: 52
        rate=9.1% want="364 +- 206" lo=158 hi=570
    fi
    echo "$CHECK: ${lost} of 4000 lost (expected $want), emulator counted ${byemu}"
    [ "$lost" -ge "$lo" ] && [ "$lost" -le "$hi" ] || fail "${lost} lost: outside 4 sigmas of $rate"
    [ "$lost" = "$byemu" ] || fail "lost ${lost} but the emulator dropped ${byemu} by loss"
    ;;
outage)
    emu_start "$HERE/outage.scn" 20
    from=$(awk -v t="$T0" 'BEGIN { printf "%.6f", t + 1.02 }')
    to=$(awk -v t="$T0" 'BEGIN { printf "%.6f", t + 1.98 }')
    # 1000/s for 3 s from about T0 + 0.2 s
    IDLE_MS=1500 probe_flow 200 1000 3000 10 "$from" "$to"
    emu_stop
    win=$(val in_window) gap=$(val max_gap_ms) got=$(val received)
    down=$(emu_counter up drop-down)
    echo "outage: ${win} sent during the outage arrived; longest gap ${gap} ms; ${got} of 3000; emulator down-drops ${down}"
    [ "$win" = 0 ] || fail "${win} datagrams sent during the outage arrived"
    awk -v g="$gap" 'BEGIN { exit !(g >= 950 && g <= 1100) }' || fail "longest gap ${gap} ms, expected about 1000"
    [ "$got" -ge 1900 ] || fail "only ${got} of 3000 arrived (the outage covers 1000)"
    ;;
trace)
    emu_start "$HERE/trace.scn" 20
    # 1472-byte datagrams are 1500-byte IP packets: an opportunity's 1504
    # bytes carry one (and 4 bytes of the next); 600/s (7.2 Mbit/s) is more
    # than the trace gives in its first 2 s
    probe_flow 1472 600 960 10
    emu_stop
    first=$(val first) last=$(val last) got=$(val received)
    # opportunities in (first, last] (less the 1 ms delay), in trace time
    want=$(awk -v a="$first" -v b="$last" -v t0="$T0" \
        'BEGIN { lo = (a - t0 - 0.001) * 1000; hi = (b - t0 - 0.001) * 1000 }
         $1 > lo && $1 <= hi { n++ } END { printf "%d\n", n * 1504 / 1500 }' "$HERE/lte_3s.up")
    echo "trace: ${got} packets arrived (after the first: $((got - 1))), the trace allows ${want} in that time"
    [ "$(emu_counter up drop-queue)" -gt 0 ] || fail "the queue never overflowed: not saturated"
    awk -v g="$((got - 1))" -v w="$want" 'BEGIN { exit !(w > 300 && g >= w * 0.97 && g <= w * 1.03) }' ||
        fail "$((got - 1)) packets, not within 3% of the trace's ${want}"
    ;;
*)
    fail "unknown check '$CHECK'"
    ;;
esac
echo "PASS: $CHECK"
