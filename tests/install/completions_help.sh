#!/bin/sh
# completions_help.sh PROG...: each program's bash completion offers exactly
# the commands its --help lists and, for each command, exactly the options
# that command's --help defines (plus -h/--help). The completions are the
# program's own (`PROG completions bash`), asked the way bash asks them.
set -eu
here=$(dirname "$0")
. "$here/helptext.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# complete_words PROG SCRIPT WORD...: what the completion function offers for the
# command line WORD... (the last one is the word being completed), sorted.
complete_words() {
    prog=$1 script=$2
    shift 2
    bash -c '
        source "$1"; shift
        fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p"); shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
        "$fn"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$script" "$prog" "$@" | sed '/^$/d' | sort -u
}

for bin in "$@"; do
    prog=$(basename "$bin")
    script=$tmp/$prog.bash
    "$bin" completions bash > "$script"
    help_commands "$bin" > "$tmp/help_cmds"
    [ -s "$tmp/help_cmds" ] || { echo "FAIL $prog: no commands found in --help" >&2; fail=1; }
    complete_words "$prog" "$script" "$prog" "" > "$tmp/comp_cmds"
    if ! cmp -s "$tmp/help_cmds" "$tmp/comp_cmds"; then
        echo "FAIL $prog: commands in --help (<) and in the completions (>) differ:" >&2
        diff "$tmp/help_cmds" "$tmp/comp_cmds" >&2 || true
        fail=1
    fi
    for cmd in $(cat "$tmp/help_cmds"); do
        help_options "$bin" "$cmd" | grep -vx -e -h -e --help > "$tmp/help_opts" || true
        complete_words "$prog" "$script" "$prog" "$cmd" - | grep -vx -e -h -e --help \
            > "$tmp/comp_opts" || true
        if ! cmp -s "$tmp/help_opts" "$tmp/comp_opts"; then
            echo "FAIL $prog $cmd: options in --help (<) and in the completions (>) differ:" >&2
            diff "$tmp/help_opts" "$tmp/comp_opts" >&2 || true
            fail=1
        else
            echo "ok   $prog $cmd: $(wc -l < "$tmp/help_opts") options"
        fi
    done
done
exit $fail
