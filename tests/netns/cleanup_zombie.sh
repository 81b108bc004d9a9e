#!/usr/bin/env bash
# --cleanup after `kill -9` while the parent has not reaped the process yet
# (a zombie: kill(pid, 0) still succeeds): `triglav tun --cleanup` and
# `triglav server --cleanup` must see that the program is gone, restore
# rules, routes, DNS, nftables and forwarding, and remove the control
# socket. They must still refuse while the program runs, and a journal
# whose pid now belongs to another process (same pid, another start time)
# is a dead run's.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
topology
snapshot_all before

# wait_zombie PID NAME: up to 5 s for PID to be a zombie
wait_zombie() {
    local i=0
    while [ "$(proc_state "$1")" != Z ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    check "$2 is a zombie after kill -9 (state $(proc_state "$1"))" test "$(proc_state "$1")" = Z
}

bg_unreaped "$SRV" "$WORK/server.log" "$TRIGLAV" server --generate-key --listen 198.51.100.2:7443 \
    --pool 198.18.0.0/24 --tun-name tgs --state-dir "$STATE"
SERVER_PID=$LAST_PID SERVER_PARENT=$LAST_PARENT
wait_for "$WORK/server.log" '^tg1_' 10 || { cat "$WORK/server.log" >&2; fail "server did not start"; exit 1; }
KEY=$(grep '^tg1_' "$WORK/server.log" | head -1)

bg_unreaped "$LAP" "$WORK/client.log" "$TRIGLAV" tun "$KEY" --tun-name tgc --state-dir "$STATE" \
    -i l1 -i l2 --full-tunnel --dns --dns-server 203.0.113.2
CLIENT_PID=$LAST_PID
wait_for "$WORK/client.log" 'tunnel up' 15 || { cat "$WORK/client.log" >&2; fail "client did not connect"; exit 1; }
check "the client's control socket answers" lap "$TRIGLAV" status --tun-name tgc --state-dir "$STATE"

# ---- the client: killed, a zombie, cleaned up
kill -9 "$CLIENT_PID"
wait_zombie "$CLIENT_PID" client
check "client: rules were left behind" sh -c "ip netns exec $LAP ip rule | grep -q 'lookup 7467'"
check "client: resolv.conf was left rewritten" grep -q 'written by triglav' "/etc/netns/$LAP/resolv.conf"
check "client: the control socket was left behind" test -S "$STATE/tgc.sock"
lap timeout 20 "$TRIGLAV" tun --cleanup --tun-name tgc --state-dir "$STATE" >"$WORK/cleanup.log" 2>&1
rc=$?
cat "$WORK/cleanup.log" >&2
check "client: --cleanup succeeds (status $rc)" test $rc -eq 0
check "client: --cleanup says it restored" grep -q 'restored what triglav had changed' "$WORK/cleanup.log"
snapshot "$LAP" > "$WORK/snap.$LAP.after"
if diff -u "$WORK/snap.$LAP.before" "$WORK/snap.$LAP.after" >&2; then log "ok: client: --cleanup restored the laptop"; else fail "client: --cleanup did not restore the laptop"; fi
check "client: the control socket is gone" test ! -e "$STATE/tgc.sock"
check "client: the journal is gone" test ! -e "$STATE/tgc.state"
lap "$TRIGLAV" tun --cleanup --tun-name tgc --state-dir "$STATE" >"$WORK/cleanup2.log" 2>&1
check "client: a second --cleanup has nothing to do" grep -q 'nothing to clean up' "$WORK/cleanup2.log"

# ---- journals that name other processes (never undone while one may be ours)
SLEEP_START=$(proc_start "$SERVER_PARENT")
cleanup_fake() { # cleanup_fake JOURNAL_LINE: status of `tun --cleanup` for it
    printf '%s\n' "$1" > "$STATE/fake.state"
    "$TRIGLAV" tun --cleanup --tun-name fake --state-dir "$STATE" >"$WORK/fake.log" 2>&1
}
cleanup_fake "pid $SERVER_PARENT $SLEEP_START"
check "a journal of a live process (same start time) is refused" test $? -eq 1 -a -e "$STATE/fake.state"
cleanup_fake "pid $SERVER_PARENT"
check "a journal of a live process (no start time recorded) is refused" test $? -eq 1 -a -e "$STATE/fake.state"
cleanup_fake "pid $SERVER_PARENT $((SLEEP_START + 1))"
check "a journal whose pid was reused (another start time) is cleaned" test $? -eq 0 -a ! -e "$STATE/fake.state"

# ---- a live client is never cleaned up under its feet
bg "$LAP" "$WORK/client2.log" "$TRIGLAV" tun "$KEY" --tun-name tgc --state-dir "$STATE" -i l1 --full-tunnel
CLIENT_PID=$LAST_PID
wait_for "$WORK/client2.log" 'tunnel up' 15 || { cat "$WORK/client2.log" >&2; fail "client did not connect again"; }
lap "$TRIGLAV" tun --cleanup --tun-name tgc --state-dir "$STATE" >"$WORK/cleanup3.log" 2>&1
rc=$?
check "a running client: --cleanup refuses (status $rc)" test $rc -eq 1
check "a running client: its socket and journal stay" test -S "$STATE/tgc.sock" -a -e "$STATE/tgc.state"
stop "$CLIENT_PID" client
check "a stopped client removes its socket" test ! -e "$STATE/tgc.sock"

# ---- the server: killed, a zombie, cleaned up
kill -9 "$SERVER_PID"
wait_zombie "$SERVER_PID" server
check "server: the nftables table was left behind" sh -c "ip netns exec $SRV nft list tables | grep -q triglav"
check "server: the control socket was left behind" test -S "$STATE/tgs.sock"
srv timeout 20 "$TRIGLAV" server --cleanup --tun-name tgs --state-dir "$STATE" >"$WORK/cleanup4.log" 2>&1
rc=$?
cat "$WORK/cleanup4.log" >&2
check "server: --cleanup succeeds (status $rc)" test $rc -eq 0
check "server: the control socket is gone" test ! -e "$STATE/tgs.sock"
check "server: the journal is gone" test ! -e "$STATE/tgs.state"

snapshot_all after
check_restored
finish
