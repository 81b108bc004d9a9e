#!/usr/bin/env bash
# Chaos: for 60 s both uplinks (40 Mbit/s, tbf on the router's side) flap,
# each on its own: its far side (the router's bridge) goes down or up after
# a random 1-5 s, from a seeded generator (SEED=N repeats a run; the seed is
# printed). Meanwhile one TCP download runs the whole time (the sender
# sends for 60 s) and a ping goes through the tunnel every 100 ms. Asserted:
#   - the sha256 of what arrived equals that of what was sent;
#   - failover stall: the longest gap in the download during which some
#     uplink stayed up the whole time is <= STALL_MAX (1 s, the goal);
#   - after every uplink was down, the download resumes within RESUME_MAX
#     (2.5 s) of an uplink's return: the inner TCP's retransmission timer
#     doubles while nothing gets through (and stays doubled until it
#     measures a round trip), but what it sent meanwhile is kept by the
#     tunnel and sent the moment an uplink answers (core/recover.h);
#   - the first ping answered after every uplink was down was sent <=
#     PING_BACK_MAX after an uplink came back (the tunnel's own recovery);
#   - of the pings sent while some uplink was up, >= PING_MIN answered.
# Measured on 2026-12-07 (shared 2-core machine, ASan build, random seeds):
# resumption after an all-down period, the longest per run 0.14-1.23 s
# (median 0.33, 10 runs) now that an uplink's packets in flight wait for the
# first other uplink that answers, against 0.20-1.35 s (median 0.80, 14
# runs) when they were sent onto another as silent or skipped when no other
# answered (traced: the laptop's acknowledgements lost so, the download
# waited for the inner TCP's next timeout after the other uplink returned).
# Before the tunnel kept what TCP sends during an outage: median 2.5 s over
# 27 runs, 28.5 s at worst (38.8 s in one CI run: TCP's timeout had grown
# to 30 s, its tries falling into outages one after another). What remains
# above a few tenths of a second is the tail of the download in flight when
# every uplink fell silent: the inner TCP's first acknowledgement after the
# return undoes its timeout (its timestamp shows the original got through)
# and it waits for its tail probe, a second later. Failover stall (some
# uplink up throughout) 0-0.27 s; download 30.3-38.3 Mbit/s (median
# 35.2); sha256 intact in every run.
# Argument: the tg_flow binary.
. "$(dirname "$0")/lib.sh" || exit 1
FLOW="${1:?usage: chaos.sh TG_FLOW}"
need_root
topology
shape "$RTR" r1 40mbit
shape "$RTR" r2 40mbit
start_server ${SRV_ARGS:-}
start_client -i l1 -i l2 --full-tunnel ${CLI_ARGS:-}
STALL_MAX=${STALL_MAX:-1.0} PING_MIN=${PING_MIN:-0.85} PING_BACK_MAX=${PING_BACK_MAX:-1.0} DURATION=60
RESUME_MAX=${RESUME_MAX:-2.5}
SEED=${SEED:-$(( $(date +%s%N) % 32768 ))}
log "chaos seed: $SEED (SEED=$SEED repeats this schedule)"

# The schedules, drawn before anything runs: "delay_ms" lines per uplink.
RANDOM=$SEED
for n in 1 2; do
    t=0; : > "$WORK/sched$n"
    while [ $t -lt $((DURATION * 1000)) ]; do
        d=$((1000 + (RANDOM * 32768 + RANDOM) % 4001)); t=$((t + d)); echo $d >> "$WORK/sched$n"
    done
done
flap() { # flap N: toggles br N on its schedule until DURATION, logs "TIME N up|down"
    local n=$1 state=up d end
    end=$(awk -v s="$T0" -v d=$DURATION 'BEGIN { print s + d }')
    while read -r d; do
        sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
        awk -v t="$("$FLOW" now)" -v e="$end" 'BEGIN { exit !(t < e) }' || break
        if [ $state = up ]; then state=down; else state=up; fi
        ip netns exec "$RTR" ip link set "br$n" $state
        echo "$("$FLOW" now) $n $state" >> "$WORK/events"
    done < "$WORK/sched$n"
    ip netns exec "$RTR" ip link set "br$n" up
}

bg "$OUT" "$WORK/serve.log" "$FLOW" send-serve 8080 $DURATION 0 200
wait_for "$WORK/serve.log" listening 5
bg "$LAP" "$WORK/recv.log" "$FLOW" recv 203.0.113.2 8080 200
RECV=$LAST_PID
bg "$LAP" "$WORK/ping.log" "$FLOW" ping 203.0.113.2 100 $((DURATION * 10))
PING=$LAST_PID
T0=$("$FLOW" now)
echo "$T0 1 up" > "$WORK/events"; echo "$T0 2 up" >> "$WORK/events"
flap 1 & PIDS="$PIDS $!"; F1=$!
flap 2 & PIDS="$PIDS $!"; F2=$!
wait $F1 $F2
T1=$("$FLOW" now)
echo "$T1 1 up" >> "$WORK/events"; echo "$T1 2 up" >> "$WORK/events"
log "flapping over: $(grep -c down "$WORK/events") outages"
wait_pid "$RECV" 120 || fail "the download did not end"
wait_pid "$PING" 20 || fail "the ping did not end"
grep -Ev '^(bin|gap) ' "$WORK/recv.log" >&2
want=$(grep '^sha256' "$WORK/serve.log")
check "sha256 of the received data equals the sent ($(sed -n 's/^sent //p' "$WORK/serve.log") bytes)" \
    test -n "$want" -a "$want" = "$(grep '^sha256' "$WORK/recv.log")"

# all-down intervals as "A B" lines, from the events sorted by time
sort -g "$WORK/events" | awk '{ st[$2] = $3; alld = (st[1] == "down" && st[2] == "down")
    if (alld && !was) a = $1; if (!alld && was) print a, $1; was = alld }' > "$WORK/alldown"
upshare=$(awk -v t0="$T0" -v t1="$T1" '{ s += $2 - $1 } END { printf "%.3f", 1 - s / (t1 - t0) }' "$WORK/alldown")
# per gap: "failover LEN" when no all-down period touches it, else
# "resume WAITED AFTER" (WAITED: from the gap's start to the last return
# of an uplink inside it, AFTER: from that return to the data)
awk 'NR == FNR { a[n + 0] = $1; b[n + 0] = $2; n++; next }
    /^gap / { r = 0; touch = 0
              for (i = 0; i < n; i++) if (a[i] < $3 && b[i] > $2) { touch = 1; if (b[i] <= $3 && b[i] > r) r = b[i] }
              if (!touch) printf "failover %.3f\n", $3 - $2
              else if (r > 0) printf "resume %.3f %.3f\n", r - $2, $3 - r }' \
    "$WORK/alldown" "$WORK/recv.log" > "$WORK/stalls"
stall=$(awk '$1 == "failover" && $2 > m { m = $2 } END { printf "%.3f", m }' "$WORK/stalls")
resume=$(awk '$1 == "resume" && $3 > m { m = $3 } END { printf "%.3f", m }' "$WORK/stalls")
late=$(awk -v m="$RESUME_MAX" '$1 == "resume" && $3 > m { k++ } END { print k + 0 }' "$WORK/stalls")
# for each return from all-down: when the first answered ping was sent after it
pingback=$(awk 'NR == FNR { b[n++] = $2; next }
    /^ping [0-9]/ && $4 == 1 { for (i = 0; i < n; i++) if (!(i in f) && $3 >= b[i]) { f[i] = $3 - b[i]; if (f[i] > m) m = f[i] } }
    END { printf "%.3f", m }' "$WORK/alldown" "$WORK/ping.log")
pings=$(awk 'NR == FNR { a[n + 0] = $1; b[n + 0] = $2; n++; next }
    /^ping [0-9]/ { d = 0; for (i = 0; i < n; i++) if ($3 >= a[i] && $3 < b[i]) d = 1
                    if (!d) { k++; ok += $4 } }
    END { printf "%d %d %.3f", ok, k, k ? ok / k : 0 }' "$WORK/alldown" "$WORK/ping.log")
log "chaos_some_uplink_up_share: $upshare"
log "chaos_failover_stall_s: $stall (longest gap overall $(sed -n 's/^max_stall_ms //p' "$WORK/recv.log") ms)"
log "chaos_resume_after_all_down_s: longest $resume; each (waited, after): $(awk '$1 == "resume" { printf "%s/%s ", $2, $3 }' "$WORK/stalls")"
log "chaos_first_ping_after_all_down_s: $pingback"
log "chaos_download_mbit: $(sed -n 's/^mbit //p' "$WORK/recv.log")"
log "chaos_pings_answered_while_up: $pings (answered, sent, share)"
log "chaos_sender_timeouts (time/backoff): $(awk '/^rto / { printf "%s/%s ", $2, $3 }' "$WORK/serve.log")"
check "failover stall (some uplink up throughout) $stall s <= $STALL_MAX s" \
    awk -v s="$stall" -v m="$STALL_MAX" 'BEGIN { exit !(s <= m) }'
check "after every all-down period the download resumed within $RESUME_MAX s of an uplink's return ($late late)" \
    test "$late" -eq 0
check "the first ping answered after an all-down period was sent <= $PING_BACK_MAX s after the return ($pingback)" \
    awk -v s="$pingback" -v m="$PING_BACK_MAX" 'BEGIN { exit !(s <= m) }'
check "pings answered while some uplink was up: ${pings##* } >= $PING_MIN" \
    awk -v s="${pings##* }" -v m="$PING_MIN" 'BEGIN { exit !(s >= m) }'
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
[ "$FAILED" -eq 0 ] || { log "--- events"; sort -g "$WORK/events" >&2; log "--- gaps"; grep '^gap ' "$WORK/recv.log" >&2; log "--- stalls"; cat "$WORK/stalls" >&2; }
finish
