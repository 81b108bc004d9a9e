#!/usr/bin/env bash
# The command line around config files (label unit; no root, no namespace):
#   - `triglav config --client|--server` writes every table and key, and
#     `tun|server --config FILE --print-config` reads it back to exactly the
#     defaults (the same values `--print-config` shows without a file);
#   - values in a file are applied, flags override them, a list flag
#     replaces the file's list, durations and sizes may be TOML strings;
#   - an existing file is never overwritten;
#   - `server --print-key` prints the key file's tg1_ key, the same one
#     `keygen` printed;
#   - every command's --help answers, `triglav --help` lists every command;
#   - README (the first argument, runtime/README.md) documents every key
#     under its table.
#
# Needs: TRIGLAV (the binary).
set -u
: "${TRIGLAV:?set TRIGLAV to the triglav binary}"

WORK="$(mktemp -d /tmp/triglav-config.XXXXXX)" && [ -d "$WORK" ] || exit 1
trap 'rm -rf "$WORK"' EXIT
FAILED=0
log() { printf '%s\n' "$*" >&2; }
fail() { log "FAIL: $*"; FAILED=1; }
ok() { log "ok: $*"; }

# run NAME WANT_RC CMD...: CMD exits WANT_RC within 10 s; its stdout is in
# $WORK/NAME.out, its stderr in $WORK/NAME.err
run() {
    local name="$1" want="$2"; shift 2
    timeout 10 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    local rc=$?
    if [ $rc -ne "$want" ]; then
        fail "$name: exit status $rc, expected $want"; cat "$WORK/$name.err" >&2; return 1
    fi
    return 0
}
# the values of a config file: no comments, no blank lines
values() { grep -v -e '^#' -e '^$' "$1"; }
# has NAME PATTERN FILE: FILE has a line matching PATTERN (grep -E)
has() {
    if grep -Eq -- "$2" "$3"; then ok "$1"; else fail "$1: no /$2/ in $3"; cat "$3" >&2; fi
}

# -- the files `triglav config` writes, read back to the defaults
for side in client server; do
    cmd=$([ $side = client ] && echo tun || echo server)
    f="$WORK/$side.toml"
    run "config_$side" 0 "$TRIGLAV" config --$side --output "$f" || continue
    [ -s "$f" ] && ok "config --$side --output writes $(values "$f" | wc -l) keys" ||
        fail "config --$side: $f is empty"
    run "config_${side}_stdout" 0 "$TRIGLAV" config --$side
    cmp -s "$f" "$WORK/config_${side}_stdout.out" && ok "config --$side: stdout is the same file" ||
        fail "config --$side: stdout and --output differ"
    run "load_$side" 0 "$TRIGLAV" $cmd --config "$f" --print-config
    run "defaults_$side" 0 "$TRIGLAV" $cmd --print-config
    values "$f" > "$WORK/written"
    values "$WORK/load_$side.out" > "$WORK/loaded"
    values "$WORK/defaults_$side.out" > "$WORK/defaults"
    if [ "$(wc -l < "$WORK/written")" -gt 20 ] && cmp -s "$WORK/written" "$WORK/loaded" &&
        cmp -s "$WORK/loaded" "$WORK/defaults"; then
        ok "$cmd --config (config --$side) --print-config: the defaults, key for key"
    else
        fail "$cmd: the file written, loaded and the defaults differ:"
        diff "$WORK/written" "$WORK/loaded" >&2; diff "$WORK/loaded" "$WORK/defaults" >&2
    fi
    # the written tables are the documented ones
    tables=$(grep '^\[' "$f" | tr '\n' ' ')
    if [ $side = client ]; then
        want="[client] [tun] [routing] [nat] [transport] [multipath] [multipath.aggregator] [multipath.scheduler] [metrics] [logging] "
    else
        want="[server] [transport] [multipath] [multipath.aggregator] [multipath.scheduler] [metrics] [logging] "
    fi
    [ "$tables" = "$want" ] && ok "config --$side: tables $tables" ||
        fail "config --$side: tables '$tables', expected '$want'"
    # every flag the file names is in the command's --help
    run "help_$cmd" 0 "$TRIGLAV" $cmd --help
    for flag in $(grep -o '(--[a-z0-9-]*)' "$f" | tr -d '()' | sort -u); do
        grep -q -- "  $flag\b\|, $flag\b" "$WORK/help_$cmd.out" ||
            fail "$cmd --help lacks $flag, which config --$side names"
    done
done

# never over an existing file
cp "$WORK/client.toml" "$WORK/before"
run config_again 1 "$TRIGLAV" config --client --output "$WORK/client.toml" &&
    has "config --output: an existing file is refused" "not overwritten" "$WORK/config_again.err"
cmp -s "$WORK/before" "$WORK/client.toml" || fail "config --output changed the existing file"
run config_neither 2 "$TRIGLAV" config && has "config: --server or --client is needed" \
    "say which file: --server or --client" "$WORK/config_neither.err"
run config_both 2 "$TRIGLAV" config --server --client

# -- values from a file, flags over them
sed -e 's/^mtu = 1428$/mtu = 1350/' -e 's/^connect_timeout = "15s"$/connect_timeout = "2m"/' \
    -e 's|^include_routes = \[\]$|include_routes = ["203.0.113.0/24", "198.51.100.0/24"]|' \
    -e 's/^buffer_size = "4MiB"$/buffer_size = "2MB"/' \
    -e 's/^reorder_buffer_size = 2048$/reorder_buffer_size = 4096/' \
    -e 's/^rtt_weight = 0.35$/rtt_weight = 0.5/' \
    "$WORK/client.toml" > "$WORK/edited.toml"
run edited 0 "$TRIGLAV" tun --config "$WORK/edited.toml" --print-config
p="$WORK/edited.out"
has "file: [tun] mtu" '^mtu = 1350$' "$p"
has "file: connect_timeout as a string \"2m\"" '^connect_timeout = "2m"$' "$p"
has "file: include_routes" '^include_routes = \["203.0.113.0/24", "198.51.100.0/24"\]$' "$p"
has "file: buffer_size = \"2MB\" is 2000000 bytes" '^buffer_size = 2000000$' "$p"
has "file: reorder buffer size" '^reorder_buffer_size = 4096$' "$p"
has "file: scheduler weight" '^rtt_weight = 0.5$' "$p"
run flags 0 "$TRIGLAV" tun tg1_KEYTEXT --config "$WORK/edited.toml" --mtu 1300 \
    --route 192.0.2.0/24 --connect-timeout 500ms --strategy redundant --print-config
p="$WORK/flags.out"
has "flag over file: --mtu" '^mtu = 1300$' "$p"
has "flag over file: --route replaces the file's list" '^include_routes = \["192.0.2.0/24"\]$' "$p"
has "flag over file: --connect-timeout 500ms" '^connect_timeout = "500ms"$' "$p"
has "flag: --strategy" '^strategy = "redundant"$' "$p"
has "the command line's key" '^auth_key = "tg1_KEYTEXT"$' "$p"
has "what the flags left alone stays the file's" '^reorder_buffer_size = 4096$' "$p"

printf '[server]\nlisten = ["198.51.100.2:7443"]\nidle_timeout = "5m"\n[metrics]\nenabled = true\nlisten = "127.0.0.1:9100"\n' \
    > "$WORK/s.toml"
run server_file 0 "$TRIGLAV" server --config "$WORK/s.toml" --print-config
p="$WORK/server_file.out"
has "server file: idle_timeout = \"5m\"" '^idle_timeout = "5m"$' "$p"
has "server file: [metrics] listen" '^listen = "127.0.0.1:9100"$' "$p"
has "server file: listen" '^listen = \["198.51.100.2:7443"\]$' "$p"

# broken files: FILE:LINE:COL, what was expected, never the file's text
printf '[server]\nlisten = ["198.51.100.2:7443"]\nSECRET_key = 1\n' > "$WORK/typo.toml"
run typo 2 "$TRIGLAV" server --config "$WORK/typo.toml" --print-config &&
    has "a typo names file:line:col" "typo.toml:3:1: unknown key in \[server\]; its keys are: listen" "$WORK/typo.err"
grep -q SECRET "$WORK/typo.err" && fail "the typo's text was printed"
printf '[multipath]\nSECRET = "x"\n' > "$WORK/mp.toml"
run multipath_typo 2 "$TRIGLAV" tun --config "$WORK/mp.toml" --print-config &&
    has "[multipath] refuses unknown keys" "mp.toml:2:1: unknown key in \[multipath\]" "$WORK/multipath_typo.err"

# -- server --print-key
run keygen 0 "$TRIGLAV" keygen --output "$WORK/k" --address 203.0.113.1:7443
K=$(cat "$WORK/keygen.out")
run print_key 0 "$TRIGLAV" server --print-key --key "$WORK/k" --advertise 203.0.113.1:7443
[ "$(cat "$WORK/print_key.out")" = "$K" ] && ok "server --print-key --advertise: keygen's key" ||
    fail "server --print-key printed '$(cat "$WORK/print_key.out")', keygen '$K'"
run print_key_listen 0 "$TRIGLAV" server --print-key --key "$WORK/k" --listen 203.0.113.1:7443
[ "$(cat "$WORK/print_key_listen.out")" = "$K" ] && ok "server --print-key --listen: the same" ||
    fail "server --print-key --listen printed '$(cat "$WORK/print_key_listen.out")'"
printf '[server]\nkey_file = "%s"\nlisten = ["203.0.113.1:7443"]\n' "$WORK/k" > "$WORK/pk.toml"
run print_key_config 0 "$TRIGLAV" server --config "$WORK/pk.toml" --print-key
[ "$(cat "$WORK/print_key_config.out")" = "$K" ] && ok "server --config --print-key: the same" ||
    fail "server --config --print-key printed '$(cat "$WORK/print_key_config.out")'"
run print_key_bare 0 "$TRIGLAV" server --print-key --key "$WORK/k"
B=$(cat "$WORK/print_key_bare.out")
[ "${B:0:44}" = "${K:0:44}" ] && [ ${#B} -lt ${#K} ] &&
    ok "server --print-key without addresses: the same public key, no address" ||
    fail "server --print-key without addresses printed '$B'"
has "server --print-key without addresses says so" "names no address" "$WORK/print_key_bare.err"
run print_key_nokey 2 "$TRIGLAV" server --print-key &&
    has "server --print-key without --key" "give --key FILE" "$WORK/print_key_nokey.err"
printf 'hello\n' > "$WORK/junk.key"
run print_key_junk 2 "$TRIGLAV" server --print-key --key "$WORK/junk.key" &&
    has "server --print-key of a file that is no key" "not a Triglav key file" "$WORK/print_key_junk.err"

# -- --help
run help_main 0 "$TRIGLAV" --help
for c in keygen server tun config status uplink benchmark diagnose completions version; do
    grep -q "^  $c " "$WORK/help_main.out" || fail "triglav --help does not list $c"
done
for c in keygen server tun config; do
    run "help_$c" 0 "$TRIGLAV" $c --help && has "$c --help" "^usage: triglav $c" "$WORK/help_$c.out"
done

# -- every key is documented: a row "| `key` |" under "### `[table]`"
if [ $# -ge 1 ]; then
    n=0
    for f in "$WORK/client.toml" "$WORK/server.toml"; do
        # "table key" for every key, set or commented out
        awk '/^\[/ { t = substr($0, 2, length($0) - 2); next }
             /^(# )?[a-z0-9_]+ = / { sub(/^# /, ""); print t, $1 }' "$f"
    done | sort -u > "$WORK/keys"
    while read -r t k; do
        n=$((n + 1))
        awk -v h="### \`[$t]\`" -v row="| \`$k\` |" '
            $0 == h { on = 1; next } /^#/ { on = 0 } on && index($0, row) == 1 { found = 1 }
            END { exit !found }' "$1" || fail "$1 does not document [$t] $k"
    done < "$WORK/keys"
    [ $n -gt 40 ] && ok "$1 documents all $n keys" || fail "only $n keys found"
fi

if [ $FAILED -ne 0 ]; then exit 1; fi
log "PASS"
