#!/usr/bin/env bash
# `setcap cap_net_admin+ep` instead of root (issue 5): the client runs as
# user nobody from a copy of the binary that has only CAP_NET_ADMIN as a
# file capability, brings up a full tunnel, and restores the rules on exit.
# /dev/net/tun is made usable for nobody only inside a private mount
# namespace (a bind-mounted device node), never on the host.
. "$(dirname "$0")/lib.sh" || exit 1
need_root
command -v setcap >/dev/null || { log "SKIP: setcap (libcap2-bin) is not installed"; exit 77; }
command -v unshare >/dev/null || { log "SKIP: unshare is not installed"; exit 77; }
topology
snapshot "$LAP" > "$WORK/snap.$LAP.before"
start_server

chmod 755 "$WORK"
mkdir -p "$WORK/bin" "$WORK/capstate"
chmod 777 "$WORK/capstate"
cp "$TRIGLAV" "$WORK/bin/triglav"
setcap cap_net_admin+ep "$WORK/bin/triglav" || { log "SKIP: this filesystem keeps no file capabilities"; exit 77; }
mknod "$WORK/tun" c 10 200 && chmod 666 "$WORK/tun"

bg "$LAP" "$WORK/client.log" unshare -m sh -c "mount --bind '$WORK/tun' /dev/net/tun && exec setpriv --reuid 65534 --regid 65534 --clear-groups '$WORK/bin/triglav' tun '$KEY' -i l1 -i l2 --full-tunnel --tun-name tgcap --state-dir '$WORK/capstate'"
CLIENT_PID=$LAST_PID
check "nobody + cap_net_admin: tunnel up" wait_for "$WORK/client.log" "tunnel up" 15
check "runs as nobody" sh -c "ps -o user= -C triglav | grep -q nobody"
check "ping through the tunnel" lap "$NETTOOL" icmp-ping 203.0.113.2 3 10
# the process that holds the tunnel is the setpriv'd triglav (exec'd by sh)
stop "$CLIENT_PID" client
snapshot "$LAP" > "$WORK/snap.$LAP.after"
if diff -u "$WORK/snap.$LAP.before" "$WORK/snap.$LAP.after" >&2; then log "ok: laptop restored"; else fail "laptop not restored"; fi
stop "$SERVER_PID" server
finish
