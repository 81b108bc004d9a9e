#!/usr/bin/env bash
# Random loss: both uplinks (30 Mbit/s each, tbf on the router's side) lose
# LOSS_PER_MILLE (5: 0.5 %) of their packets in each direction at random
# (nftables `numgen random` in the router: this kernel has no netem). One
# TCP download of 30 MB goes through the tunnel twice, in the same run: with
# the tunnel's loss recovery switched off in the client (retransmit_slots =
# 0: it asks for nothing again) and at its defaults. Asserted: both
# transfers are complete and sha256-identical to what was sent; with
# recovery the download is at least GAIN_MIN (1.0) times as fast as without,
# and reaches SHARE_MIN (0.3) of the 54.5 Mbit/s ceiling (60 Mbit/s of
# frames, 1376 payload bytes per 1514-byte frame); the server reports
# packets sent again.
# Measured on 2026-12-05 (shared 2-core machine, ASan build, CUBIC, 2 runs):
# 38.1 and 54.2 Mbit/s with recovery (0.70 and 0.995 of the ceiling) against
# 14.2 and 11.3 without (gain 2.7 and 4.8); earlier runs of 8, with the
# host's BBR, gave 0.38-0.92. The spread is the scheduler, not the recovery:
# one uplink is at times left out of striping for seconds on a chance high
# reading of its loss (adaptive_candidates in core/sched.c), and its
# simulator twin, scenarios/live_loss.scn, shows the same (0.78 of the 60
# Mbit/s of frames, mean of 8 iterations). Judging the reading by its
# standard error would give 0.91 there but costs the cafe 18% of its
# goodput (its WiFi's bursty losses read the same in one window), so the
# bounds follow what the scheduler does today.
# Measured on 2026-12-06 (7 runs): without recovery 21.1-26.3 Mbit/s (the
# receiver now gives up a gap as soon as no uplink can fill it, where it
# used to wait for an idle uplink's probes), with it 27.6-54.3: gain
# 1.87-2.36 when both uplinks stripe, 1.05-1.27 when one is left out on a
# chance reading. So the gain bound is 1.0 (recovery never costs
# throughput); the share bound and the resends show that it works. Veths add no delay, so each
# loss is repaired within a millisecond here: the cost of loss over real
# round trips is the simulator's agg_loss case.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
shape "$RTR" r1 30mbit
shape "$RTR" r2 30mbit
LOSS_PER_MILLE=${LOSS_PER_MILLE:-5} GAIN_MIN=${GAIN_MIN:-1.0} SHARE_MIN=${SHARE_MIN:-0.3}
BYTES=$((30 * 1000 * 1000))
ceiling=$(awk 'BEGIN { printf "%.1f", 60 * 1376 / 1514 }')
rtr nft -f - <<NFT || { fail "nft: cannot add the loss rules"; finish; }
table inet tgloss {
    chain lossy {
        type filter hook forward priority 0;
        iifname { "br1", "br2" } numgen random mod 1000 < $LOSS_PER_MILLE drop
        oifname { "br1", "br2" } numgen random mod 1000 < $LOSS_PER_MILLE drop
    }
}
NFT
printf '[multipath]\nretransmit_slots = 0\n' > "$WORK/norecovery.conf"

start_server --metrics-addr 127.0.0.1:9474
# download LABEL PORT: one transfer; sets mbit and checks it arrived whole (a
# port of its own: the last one's socket may still be closing over the loss)
download() {
    bg "$OUT" "$WORK/serve.$1.log" "$NETTOOL" tcp-serve "$2" "$BYTES" 120
    wait_for "$WORK/serve.$1.log" listening 5 || fail "$1: the outside host cannot listen on $2"
    lap "$NETTOOL" tcp-fetch 203.0.113.2 "$2" 120 > "$WORK/fetch.$1.log" 2>&1
    check_transfer "$1" "$BYTES"
    mbit=$(sed -n 's/^mbit_after_1s //p' "$WORK/fetch.$1.log")
    mbit=${mbit:-0}
    log "loss_${1}_mbit: $mbit ($(awk -v m="$mbit" -v c="$ceiling" 'BEGIN { printf "%.3f", m / c }') of the ${ceiling} ceiling)"
}

start_client -i l1 -i l2 --full-tunnel --config "$WORK/norecovery.conf"
download off 8080
off=$mbit
stop "$CLIENT_PID" client
start_client -i l1 -i l2 --full-tunnel
download on 8081
on=$mbit
retx=$(srv "$NETTOOL" http-get 127.0.0.1 9474 /metrics 2>/dev/null |
    sed -n "s/^triglav_packets_retransmitted_total \([0-9]*\).*/\1/p" | head -1)
stop "$CLIENT_PID" client
stop "$SERVER_PID" server
log "loss_gain: $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }') (with recovery / without)"
log "loss_server_retransmitted: ${retx:-none}"
check "recovery: $on Mbit/s >= $GAIN_MIN x $off without" \
    awk -v a="$on" -v b="$off" -v g="$GAIN_MIN" 'BEGIN { exit !(a >= g * b) }'
check "recovery: $on Mbit/s >= $SHARE_MIN of the ${ceiling} Mbit/s ceiling" \
    awk -v m="$on" -v c="$ceiling" -v s="$SHARE_MIN" 'BEGIN { exit !(m >= s * c) }'
check "the server sent packets again (${retx:-none})" test "${retx:-0}" -gt 0
finish
