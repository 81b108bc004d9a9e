#!/usr/bin/env bash
# Silent failover, timed: while one TCP download runs over two uplinks of
# 40 Mbit/s (tbf on the router's side), the far side of the busier uplink
# goes down silently for 3 s (its bridge on the router: the laptop keeps its
# carrier and gets no error), then comes back. From the receiver's
# timeline (50 ms bins, CLOCK_MONOTONIC, the script's clock too):
#   stall  the longest gap between two reads of the download;
#   back   the time from the link's return to the end of the first 250 ms
#          in which the download runs at >= 90% of its two-path rate (the
#          mean over the 2 s before the outage).
# The goals are stall <= 0.15 s and back <= 0.5 s. Measured on 2026-12-05
# (a shared, noisy 2-core machine, 10 runs, ASan build): stall 0.046-0.300
# s (median 0.10; 7 of 10 within the goal): the client finds the silent
# uplink overdue after its round trip with the 100 ms tbf queue plus two
# feedback intervals, and what it resends waits in the other uplink's
# queue; back (5 runs) 0.29-0.47 s (median 0.44, all within the goal): a
# Down uplink is probed every 200 ms while the session carries data. The
# bounds asserted guard against a regression (stall 0.35 s: before the
# tunnel resent an overdue uplink's packets it was 0.4-1.0 s; back 0.75 s:
# with a probe a second it was 1.2-2.0 s). Some runs see the server send
# the download on one uplink only from the start (see alternate.sh): the
# two-path rate is printed, not asserted, here.
# Argument: the tg_flow binary.
. "$(dirname "$0")/lib.sh" || exit 1
FLOW="${1:?usage: silent_failover.sh TG_FLOW}"
need_root
topology
shape "$RTR" r1 40mbit
shape "$RTR" r2 40mbit
start_server ${SRV_ARGS:-}
start_client -i l1 -i l2 --full-tunnel ${CLI_ARGS:-}
STALL_MAX=${STALL_MAX:-0.35} BACK_MAX=${BACK_MAX:-0.75}

bg "$OUT" "$WORK/serve.log" "$FLOW" send-serve 8080 12 0 60
wait_for "$WORK/serve.log" listening 5
TG_BINS=1 bg "$LAP" "$WORK/recv.log" "$FLOW" recv 203.0.113.2 8080 60
RECV=$LAST_PID
sleep 4
b1=$(rtr tc -s qdisc show dev r1 | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p')
b2=$(rtr tc -s qdisc show dev r2 | sed -n 's/^ Sent \([0-9]*\) bytes.*/\1/p')
if [ "${b1:-0}" -ge "${b2:-0}" ]; then BR=br1 DEV=l1; else BR=br2 DEV=l2; fi
t_down=$("$FLOW" now)
rtr ip link set "$BR" down
log "the busier uplink is $DEV (router sent $b1 bytes on r1, $b2 on r2): $BR down at $t_down"
sleep 3
t_up=$("$FLOW" now)
rtr ip link set "$BR" up
log "$BR up at $t_up"
wait_pid "$RECV" 60 || fail "the download did not finish in time"
grep -v '^bin ' "$WORK/recv.log" >&2
want=$(grep '^sha256' "$WORK/serve.log")
check "sha256 identical" test -n "$want" -a "$want" = "$(grep '^sha256' "$WORK/recv.log")"
stall=$(awk '/^max_stall_ms / { printf "%.3f", $2 / 1000 }' "$WORK/recv.log")
# base: mean of the bins in [t_down - 2, t_down); back: rolling 5 bins from t_up
read -r base back <<EOT
$(awk -v d="$t_down" -v u="$t_up" '/^bin / { t[n] = $2; b[n] = $3; n++ }
    END { s = 0; k = 0
          for (i = 0; i < n; i++) if (t[i] >= d - 2 && t[i] + 0.05 <= d) { s += b[i]; k++ }
          base = k ? s / k : 0; back = -1
          for (i = 0; i + 5 <= n; i++) { if (t[i] < u) continue
              w = 0; for (j = i; j < i + 5; j++) w += b[j]
              if (w / 5 >= 0.9 * base) { back = t[i] + 0.25 - u; break } }
          printf "%.0f %.3f\n", base * 8 / 0.05 / 1e6 * 1e6, back }' "$WORK/recv.log")
EOT
log "Mbit/s per 0.5 s from the start (down at $t_down, up at $t_up): $(awk '/^start / { t0 = $2 }
    /^bin / { k = int(($2 - t0) * 2); r[k] += $3; if (k > m) m = k } END { for (k = 0; k <= m; k++) printf "%.0f ", r[k] * 16 / 1e6 }' "$WORK/recv.log")"
log "silent_failover_two_path_mbit: $(awk -v b="$base" 'BEGIN { printf "%.1f", b / 1e6 }')"
log "silent_failover_stall_s: $stall"
log "silent_failover_back_s: $back"
awk -v b="$base" 'BEGIN { exit !(b > 40e6 * 1376 / 1514 * 1.2) }' ||
    log "note: before the outage the download used one uplink only"
check "longest stall $stall s <= $STALL_MAX s" awk -v s="$stall" -v m="$STALL_MAX" 'BEGIN { exit !(s != "" && s <= m) }'
check "back to 90% of the two-path rate $back s after the link returned (<= $BACK_MAX s)" \
    awk -v s="$back" -v m="$BACK_MAX" 'BEGIN { exit !(s >= 0 && s <= m) }'
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
grep -E "uplink [01] \($DEV\)" "$WORK/client.log" >&2
finish
