# Files named on the command line that are not what they claim (label unit;
# needs no root and no namespace). Every case must fail at once (a FIFO
# nobody writes would block a plain open or read forever), exit non-zero,
# name the file and say what is wrong with it, and never print the file's
# bytes.
#
# Needs: TRIGLAV (the binary).
set -u
: "${TRIGLAV:?set TRIGLAV to the triglav binary}"

WORK="$(mktemp -d /tmp/triglav-files.XXXXXX)" && [ -d "$WORK" ] || exit 1
trap 'rm -rf "$WORK"' EXIT
FAILED=0
log() { printf '%s\n' "$*" >&2; }
fail() { log "FAIL: $*"; FAILED=1; }

# expect NAME WANT_RC PATTERN CMD...: CMD ends within 10 s with status
# WANT_RC, and its output matches PATTERN (grep -E) and holds no SECRET
expect() {
    local name="$1" want="$2" pat="$3"; shift 3
    timeout 10 "$@" >"$WORK/out" 2>&1 </dev/null
    local rc=$?
    if [ $rc -eq 124 ]; then fail "$name: still blocked after 10 s"; return; fi
    if [ $rc -ne "$want" ]; then fail "$name: exit status $rc, expected $want"; cat "$WORK/out" >&2; return; fi
    if ! grep -Eq -- "$pat" "$WORK/out"; then fail "$name: message does not match /$pat/"; cat "$WORK/out" >&2; return; fi
    if grep -q SECRET "$WORK/out"; then fail "$name: the file's bytes were printed"; cat "$WORK/out" >&2; return; fi
    log "ok: $name: $(head -1 "$WORK/out")"
}

mkfifo "$WORK/fifo" || exit 1
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'S' | sed 's/^/SECRET/' > "$WORK/big.toml"
printf 'root:$6$SECRET:19000:0:99999:7:::\n' > "$WORK/shadow"
printf '# Triglav server private key\nprivate_key = "SECRETSECRETnotbase64"\n' > "$WORK/bad.key"

NOTREG='not a regular file'
for cmd in tun server; do
    expect "$cmd --config FIFO" 2 "config $WORK/fifo: $NOTREG" "$TRIGLAV" "$cmd" --config "$WORK/fifo"
    expect "$cmd --config /dev/zero" 2 "config /dev/zero: $NOTREG" "$TRIGLAV" "$cmd" --config /dev/zero
    expect "$cmd --config /dev/null" 2 "config /dev/null: $NOTREG" "$TRIGLAV" "$cmd" --config /dev/null
    expect "$cmd --config DIRECTORY" 2 "config $WORK: it is a directory" "$TRIGLAV" "$cmd" --config "$WORK"
    expect "$cmd --config 2 MiB" 2 "config $WORK/big.toml: too large \\(a config file has at most 1 MiB\\)" \
        "$TRIGLAV" "$cmd" --config "$WORK/big.toml"
    expect "$cmd --config not TOML" 2 "^triglav: $WORK/shadow:1:[0-9]+: " "$TRIGLAV" "$cmd" --config "$WORK/shadow"
    expect "$cmd --log-file FIFO" 1 "log file $WORK/fifo: a FIFO that nothing reads" \
        "$TRIGLAV" "$cmd" --log-file "$WORK/fifo" --cleanup --state-dir "$WORK/state"
done

# the key is read before anything is changed, root or not
for k in "$WORK/fifo" /dev/zero; do
    expect "server --key $k" 2 "cannot read key file $k: $NOTREG" \
        "$TRIGLAV" server --key "$k" --listen 127.0.0.1:9 --state-dir "$WORK/state"
done
expect "server --key (not a key)" 2 "$WORK/bad.key:2: private_key is not 32 bytes of base64" \
    "$TRIGLAV" server --key "$WORK/bad.key" --listen 127.0.0.1:9 --state-dir "$WORK/state"

if [ $FAILED -ne 0 ]; then exit 1; fi
log "PASS"
