#!/bin/sh
# man_pages.sh PROG MANPAGE [PROG MANPAGE]...: each man page documents
# exactly what its program's --help has: a SYNOPSIS line and a section
# (.SS) for every command, and in a command's section every option the
# command's --help defines; the option tags (.TP) of a section name no
# option the command lacks. Then the page renders without a warning.
set -eu
here=$(dirname "$0")
. "$here/helptext.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The roff source as plain text: \- is -, font changes and \& go.
plain() {
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1"
}

while [ $# -ge 2 ]; do
    bin=$1 page=$2
    shift 2
    prog=$(basename "$bin")
    plain "$page" > "$tmp/page"
    for cmd in $(help_commands "$bin"); do
        if ! grep -q "^\.B $prog $cmd\( \|$\)" "$tmp/page"; then
            echo "FAIL $page: no SYNOPSIS line '.B $prog $cmd'" >&2
            fail=1
        fi
        # the section: from ".SS cmd" to the next .SS or .SH
        awk -v c="$cmd" '
            /^\.S[SH] / { on = ($1 == ".SS" && $2 == c) ; if (on) found = 1; next }
            on { print }
            END { if (!found) exit 1 }' "$tmp/page" > "$tmp/section" || {
            echo "FAIL $page: no section '.SS $cmd'" >&2
            fail=1
            continue
        }
        n=0
        for opt in $(help_options "$bin" "$cmd" | grep -vx -e -h -e --help); do
            n=$((n + 1))
            if ! grep -q -e "\(^\|[^A-Za-z0-9-]\)$opt\([^A-Za-z0-9-]\|$\)" "$tmp/section"; then
                echo "FAIL $page: $prog $cmd --help has $opt, its section does not" >&2
                fail=1
            fi
        done
        # option tags in the section: the line after each .TP
        help_options "$bin" "$cmd" > "$tmp/opts"
        awk '/^\.TP/ { tag = 1; next } tag { print; tag = 0 }' "$tmp/section" |
            grep -oE '(^|[ ,(|])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[ ,(|]//' |
            sort -u > "$tmp/tags" || true
        for t in $(cat "$tmp/tags"); do
            if ! grep -qx -e "$t" "$tmp/opts"; then
                echo "FAIL $page: section $cmd documents $t, which $prog $cmd --help lacks" >&2
                fail=1
            fi
        done
        echo "ok   $page: $cmd ($n options)"
    done
    if command -v man >/dev/null 2>&1; then
        if ! MANWIDTH=80 man --warnings -l "$page" > "$tmp/out" 2> "$tmp/err" ||
            [ -s "$tmp/err" ] || ! grep -q "$prog" "$tmp/out"; then
            echo "FAIL $page: man -l does not render it cleanly:" >&2
            cat "$tmp/err" >&2
            fail=1
        fi
    fi
done
exit $fail
