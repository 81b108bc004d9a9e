#!/usr/bin/env bash
# Split tunnel and excludes (issue 5): --route sends only the named prefix
# through the tunnel; --exclude bypasses a full tunnel; `triglav tun
# --cleanup` restores rules and DNS after a crash (kill -9); after each run
# rules, routing tables and nftables equal what they were.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before
start_server

# the server's own uplink address answers UDP too: it tells who sent what
bg "$SRV" "$WORK/echo_srv.log" "$NETTOOL" udp-echo 6000 1000 120
bg "$OUT" "$WORK/echo_out.log" "$NETTOOL" udp-echo 6000 1000 120
wait_for "$WORK/echo_srv.log" listening 5
wait_for "$WORK/echo_out.log" listening 5

# peer_of DEST: "none" when the echo server at DEST does not answer, else the
# laptop's device towards DEST (tgc: through the tunnel)
peer_of() {
    lap "$NETTOOL" udp-ping "$1" 6000 1 5 >/dev/null || { echo none; return; }
    # udp-echo prints only its first peer: ask the kernel instead
    lap ip -o route get "$1" | sed -n 's/.* dev \([^ ]*\).*/\1/p'
}

# ---- split: only 203.0.113.0/24 goes through the tunnel
start_client -i l1 -i l2 --route 203.0.113.0/24
check "split: 203.0.113.2 routes into the tunnel" test "$(peer_of 203.0.113.2)" = tgc
check "split: 198.51.100.2 stays outside the tunnel" test "$(peer_of 198.51.100.2)" = l1
check "split: the outside host sees the server's address" grep -q '^peer 203.0.113.1$' "$WORK/echo_out.log"
check "split: the server's uplink address sees the laptop directly" grep -q '^peer 192.0.2.2$' "$WORK/echo_srv.log"
check "split: no default route in our table" sh -c "! ip netns exec $LAP ip route show table 7467 | grep -q '^default'"
stop "$CLIENT_PID" client
snapshot "$LAP" > "$WORK/snap.$LAP.after"
# the server is still running: compare only the laptop here
if diff -u "$WORK/snap.$LAP.before" "$WORK/snap.$LAP.after" >&2; then log "ok: split: laptop restored"; else fail "split: laptop not restored"; fi

# ---- full tunnel with an exclude: 198.51.100.0/24 bypasses
start_client -i l1 -i l2 --full-tunnel --exclude 198.51.100.0/24
check "exclude: 203.0.113.2 through the tunnel" test "$(peer_of 203.0.113.2)" = tgc
check "exclude: 198.51.100.2 bypasses the tunnel" test "$(peer_of 198.51.100.2)" = l1
check "exclude: rule present" sh -c "ip netns exec $LAP ip rule | grep -q 'to 198.51.100.0/24 lookup main'"
stop "$CLIENT_PID" client
snapshot "$LAP" > "$WORK/snap.$LAP.after"
if diff -u "$WORK/snap.$LAP.before" "$WORK/snap.$LAP.after" >&2; then log "ok: exclude: laptop restored"; else fail "exclude: laptop not restored"; fi

# ---- a crash leaves rules behind; --cleanup removes them
start_client -i l1 -i l2 --full-tunnel --dns --dns-server 203.0.113.2
kill -9 "$CLIENT_PID"; wait "$CLIENT_PID" 2>/dev/null
check "crash: rules were left behind" sh -c "ip netns exec $LAP ip rule | grep -q 'lookup 7467'"
check "crash: resolv.conf was left rewritten" grep -q 'written by triglav' "/etc/netns/$LAP/resolv.conf"
lap "$TRIGLAV" tun --cleanup --tun-name tgc --state-dir "$STATE" 2>&1 | tee "$WORK/cleanup.log" >&2
snapshot "$LAP" > "$WORK/snap.$LAP.after"
if diff -u "$WORK/snap.$LAP.before" "$WORK/snap.$LAP.after" >&2; then log "ok: --cleanup restored the laptop"; else fail "--cleanup did not restore the laptop"; fi

stop "$SERVER_PID" server
snapshot_all after
check_restored
finish
