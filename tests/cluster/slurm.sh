#!/usr/bin/env bash
# A campaign on a real Slurm cluster (label cluster, root): this test starts a
# single-node cluster from Debian's packages (munged, slurmctld, slurmd) with
# every file in its own temporary folder, submits README.md's job script
# (the block between the "campaign.sbatch" markers, taken verbatim) as a
# 4-task array, merges the 4 shard databases and checks that the merged rows
# equal those of the same campaign run on this machine in one piece.
#
# Nothing system-wide is touched: the munge key, socket and seed, slurm.conf,
# state, spool, logs and pid files are all under the temporary folder, the
# daemons listen on free ports (never 6817/6818), and the Slurm commands find
# the cluster through SLURM_CONF. Every daemon started here is stopped, and
# the folder removed, on exit, whatever the outcome.
#
# usage: slurm.sh TRIGLAV-SIM README.md SCENARIO.scn
# Exit 0 pass, 1 fail, 77 skip (not root: slurmd runs jobs only as root).
set -u

SIM="${1:?usage: slurm.sh TRIGLAV-SIM README.md SCENARIO.scn}"
README="${2:?usage: slurm.sh TRIGLAV-SIM README.md SCENARIO.scn}"
SCN="${3:?usage: slurm.sh TRIGLAV-SIM README.md SCENARIO.scn}"
SHARDS=4
ITERATIONS=2   # x the scenario's 2 strategies x 2 aggregations = 8 runs, 2 per shard
SEED=1
JOB_TIMEOUT=120 # seconds for the whole array; all bounds add up to less than the ctest timeout

log() { printf '%s\n' "$*" >&2; }
FAILED=0
fail() { log "FAIL: $*"; FAILED=1; }
die() { log "FAIL: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    log "SKIP: needs root (slurmd runs as root to start jobs)"
    exit 77
fi
missing=""
for c in munged mungekey munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel sqlite3 ss; do
    command -v "$c" >/dev/null || missing="$missing $c"
done
[ -z "$missing" ] || die "not installed:$missing (run .ci/install-deps: slurm-wlm, munge, sqlite3, iproute2)"
[ -x "$SIM" ] || die "$SIM is not an executable triglav-sim"
case "$SIM" in /*) ;; *) SIM="$PWD/$SIM" ;; esac # the job's PATH gets its folder
[ -r "$README" ] || die "$README: cannot read"
case "$SCN" in /*) ;; *) SCN="$PWD/$SCN" ;; esac
[ -r "$SCN" ] || die "$SCN: cannot read"

# A Slurm job's own variables (when ctest itself runs inside a job) would be
# taken for options by sbatch; this cluster is found through SLURM_CONF alone.
for v in $(compgen -e | grep '^SLURM_'); do unset "$v"; done

# In /tmp on purpose: munged refuses a socket whose folder or any parent is
# writable by others unless sticky, which a build tree may well be.
T="$(mktemp -d /tmp/triglav-slurm.XXXXXX)" && [ -d "$T" ] || die "mktemp failed"
chmod 0711 "$T" # munged: every user must be able to reach the socket
mkdir -m 0755 "$T/munge" && mkdir "$T/state" "$T/spool" "$T/log" "$T/work" || die "mkdir in $T"
MUNGED_PID="" CTLD_PID="" SLURMD_PID="" JOB=""
export SLURM_CONF="$T/slurm.conf"

stop() { # stop PID: TERM, up to 10 s, then KILL; only a process this script started
    local pid="$1" i=0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
show_logs() {
    local f
    for f in "$T"/log/*.log "$T"/work/*.log; do
        [ -f "$f" ] || continue
        log "--- ${f#"$T"/} (last 30 lines)"
        tail -n 30 "$f" >&2
    done
}
cleanup() {
    local rc=$? i=0
    trap - EXIT
    if [ -n "$JOB" ] && [ -n "$CTLD_PID" ] && kill -0 "$CTLD_PID" 2>/dev/null; then
        # Cancel what is left so slurmd's job steps end before slurmd does
        # (a step that ignores SIGTERM is killed after KillWait, 5 s).
        scancel "$JOB" 2>/dev/null
        while [ -n "$(squeue -h -j "$JOB" 2>/dev/null)" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    # A job step's slurmstepd outlives the job by a moment and is no child of
    # slurmd; it is gone when its socket in the spool folder is.
    i=0
    while compgen -G "$T/spool/tgnode_*" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$rc" -eq 0 ] || show_logs
    stop "$SLURMD_PID"
    stop "$CTLD_PID"
    stop "$MUNGED_PID"
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- the job script, verbatim from README.md --------------------------------
awk '/<!-- campaign.sbatch: begin/ { on = 1; next }
     /<!-- campaign.sbatch: end/ { on = 0 }
     on && !/^```/' "$README" >"$T/work/campaign.sbatch"
[ -s "$T/work/campaign.sbatch" ] || die "$README: no block between <!-- campaign.sbatch: begin --> and <!-- campaign.sbatch: end -->"
head -n 1 "$T/work/campaign.sbatch" | grep -q '^#!' || die "$README: the campaign.sbatch block does not start with #!"
grep -q '^#SBATCH --array=' "$T/work/campaign.sbatch" || die "$README: the campaign.sbatch block has no #SBATCH --array line"

# --- munge: a fresh key, a private socket -----------------------------------
mungekey --create --keyfile="$T/munge.key" 2>"$T/log/mungekey.log" || die "mungekey: $(cat "$T/log/mungekey.log")"
munged --foreground --key-file="$T/munge.key" --socket="$T/munge/munge.sock" \
    --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" \
    >"$T/log/munged.log" 2>&1 &
MUNGED_PID=$!
i=0
while [ ! -S "$T/munge/munge.sock" ] && kill -0 "$MUNGED_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
munge --socket="$T/munge/munge.sock" --no-input 2>/dev/null | unmunge --socket="$T/munge/munge.sock" >/dev/null 2>&1 ||
    die "munged does not answer on $T/munge/munge.sock"
log "ok: munged on its own socket and key"

# --- slurm.conf: one node, two CPUs, no accounting --------------------------
used_ports="$(ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')"
free_port() { # a TCP port nothing listens on, from a range away from Slurm's 6817-6819
    local p n=0
    while [ $n -lt 200 ]; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! printf '%s\n' $used_ports "$@" | grep -qx "$p"; then echo "$p"; return 0; fi
        n=$((n + 1))
    done
    return 1
}
CTLD_PORT="$(free_port)" && SLURMD_PORT="$(free_port "$CTLD_PORT")" || die "no free TCP port"
: >"$T/plugstack.conf" # not the system's /etc/slurm/plugstack.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=triglavtest
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$T/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
KillWait=5
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=tgnode NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=2 State=UNKNOWN
PartitionName=triglav Nodes=tgnode Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -c -f "$SLURM_CONF" >>"$T/log/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D -f "$SLURM_CONF" -N tgnode >>"$T/log/slurmd.out" 2>&1 &
SLURMD_PID=$!

t0=$SECONDS state=""
while [ $((SECONDS - t0)) -lt 60 ]; do
    kill -0 "$CTLD_PID" 2>/dev/null || die "slurmctld exited: $(tail -n 5 "$T/log/slurmctld.out" "$T/log/slurmctld.log" 2>/dev/null)"
    kill -0 "$SLURMD_PID" 2>/dev/null || die "slurmd exited: $(tail -n 5 "$T/log/slurmd.out" "$T/log/slurmd.log" 2>/dev/null)"
    state="$(sinfo -h -N -n tgnode -o '%t' 2>/dev/null)"
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "$state" = idle ] || die "node tgnode not idle after 60 s (sinfo says '${state}')"
log "ok: single-node cluster up in $((SECONDS - t0)) s (slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT, node idle)"

# --- the job array, as README.md submits it ---------------------------------
cd "$T/work" || die "cd $T/work"
t0=$SECONDS
JOB="$(PATH="$(dirname "$SIM"):$PATH" sbatch --parsable --array=1-$SHARDS campaign.sbatch \
    "$SCN" --iterations $ITERATIONS --seed $SEED 2>"$T/log/sbatch.err")" ||
    die "sbatch refused the README's job: $(cat "$T/log/sbatch.err")"
JOB="${JOB%%;*}"
log "ok: submitted array job $JOB (1-$SHARDS)"
while [ -n "$(squeue -h -j "$JOB" 2>/dev/null)" ]; do
    [ $((SECONDS - t0)) -lt $JOB_TIMEOUT ] || die "array job $JOB still queued or running after $JOB_TIMEOUT s: $(squeue -j "$JOB")"
    sleep 1
done
# Without accounting, slurmctld keeps finished jobs for MinJobAge (300 s):
# each array task's state and exit code are still there.
tasks="$(scontrol -o show job "$JOB" 2>/dev/null)"
for k in $(seq 1 $SHARDS); do
    line="$(printf '%s\n' "$tasks" | grep -E "ArrayJobId=$JOB ArrayTaskId=$k ")"
    if printf '%s\n' "$line" | grep -q 'JobState=COMPLETED .*ExitCode=0:0'; then
        log "ok: array task $k completed with exit code 0"
    else
        fail "array task $k: $(printf '%s\n' "$line" | grep -oE 'JobState=[^ ]+|ExitCode=[^ ]+|Reason=[^ ]+' | tr '\n' ' ')"
    fi
    [ -s "shard-$k.db" ] || fail "array task $k wrote no shard-$k.db"
done
log "array of $SHARDS done in $((SECONDS - t0)) s"
[ "$FAILED" -eq 0 ] || exit 1

# --- merge, and the same campaign on one machine ----------------------------
"$SIM" merge campaign.db shard-*.db >"$T/log/merge.log" 2>&1 || die "triglav-sim merge: $(cat "$T/log/merge.log")"
t0=$SECONDS
timeout -k 5 90 "$SIM" run "$SCN" --iterations $ITERATIONS --seed $SEED --db single.db >"$T/log/single.log" 2>&1 ||
    die "single-machine campaign: $(cat "$T/log/single.log")"
log "single-machine campaign in $((SECONDS - t0)) s"

# Every row of every per-run table, with the run named by its key (scenario
# hash, strategy, aggregation, iteration, seed) instead of its row id; what
# depends on the machine or the moment (ids, wall_s, created) is left out.
dump() {
    local db="$1" t cols
    sqlite3 "$db" "SELECT count(*) || ' runs' FROM runs"
    cols="$(sqlite3 "$db" "SELECT group_concat('r.' || name) FROM pragma_table_info('runs')
                           WHERE name NOT IN ('id', 'campaign_id', 'wall_s', 'created')")"
    sqlite3 "$db" "SELECT $cols FROM runs r ORDER BY r.scenario_hash, r.strategy, r.aggregation, r.iteration, r.seed"
    for t in metrics uplink_results flow_results event_counts; do
        cols="$(sqlite3 "$db" "SELECT group_concat('x.' || name) FROM pragma_table_info('$t') WHERE name != 'run_id'")"
        [ -n "$cols" ] || { echo "no table $t"; continue; }
        echo "-- $t"
        sqlite3 "$db" "SELECT r.scenario_hash, r.strategy, r.aggregation, r.iteration, r.seed, $cols
                       FROM $t x JOIN runs r ON r.id = x.run_id
                       ORDER BY r.scenario_hash, r.strategy, r.aggregation, r.iteration, r.seed, 6, 7"
    done
    echo "-- campaigns"
    sqlite3 "$db" "SELECT key, planned_runs FROM campaigns ORDER BY key"
}
dump campaign.db >merged.txt
dump single.db >single.txt

planned="$(sqlite3 single.db 'SELECT planned_runs FROM campaigns')"
runs="$(sqlite3 campaign.db 'SELECT count(*) FROM runs')"
metrics="$(sqlite3 campaign.db 'SELECT count(*) FROM metrics WHERE goodput_mbps IS NOT NULL')"
[ "$planned" -eq $((ITERATIONS * 4)) ] || fail "the plan has $planned runs, expected $((ITERATIONS * 4)) (scenario with 2 strategies x 2 aggregations)"
[ "$runs" = "$planned" ] || fail "merged database has $runs runs, the plan $planned"
[ "$metrics" = "$planned" ] || fail "merged database has $metrics runs with a goodput, expected $planned"
sum=0
for k in $(seq 1 $SHARDS); do
    n="$(sqlite3 "shard-$k.db" 'SELECT count(*) FROM runs')"
    [ "$n" -gt 0 ] || fail "shard $k stored no run"
    sum=$((sum + n))
done
[ "$sum" = "$runs" ] || fail "the shards hold $sum runs together, the merge $runs (a run in two shards?)"
if cmp -s merged.txt single.txt; then
    log "ok: merged shards = single-machine campaign ($runs runs, $(wc -l <single.txt) rows compared)"
else
    fail "merged shards differ from the single-machine campaign:"
    diff merged.txt single.txt | head -n 20 >&2
fi
[ "$FAILED" -eq 0 ] || exit 1
log "PASS"
exit 0
