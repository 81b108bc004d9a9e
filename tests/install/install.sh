#!/bin/sh
# install.sh CMAKE BUILD SRC BINDIR SYSCONFDIR: `cmake --install` into a
# staging folder, then the installed programs run from another folder with
# nothing pointing at the source tree: triglav answers --help; triglav-sim
# finds its bundled scenarios (by name), traces and saved queries next to
# itself and stores a campaign's rows; the man pages render and are found
# through MANPATH; the systemd units pass systemd-analyze verify and name the
# installed program; the completions load from where the shells look and
# complete `triglav st` to `status`. Then a DESTDIR install: the units name
# BINDIR and SYSCONFDIR (the configured prefix's), not the staging folder.
# No root needed. Shells or tools that are missing skip only their checks.
set -u
cmake=$1 build=$2 src=$3 bindir=$4 sysconfdir=$5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
stage=$tmp/stage
fail=0
unset TRIGLAV_SHARE TRIGLAV_DATA TRIGLAV_QUERIES

ok() { echo "ok   $*"; }
bad() {
    echo "FAIL $*" >&2
    fail=1
}
# check DESCRIPTION COMMAND...: the command succeeds; its output is in
# $tmp/out and $tmp/err afterwards.
check() {
    desc=$1
    shift
    if "$@" > "$tmp/out" 2> "$tmp/err"; then
        ok "$desc"
    else
        bad "$desc (exit $?)"
        sed 's/^/    /' "$tmp/out" "$tmp/err" | head -20 >&2
    fi
}
# expect DESCRIPTION TEXT FILE: FILE holds the line TEXT (a fixed string;
# CSV's CRLF line ends are taken as LF).
expect() {
    if tr -d '\r' < "$3" | grep -qxF -e "$2"; then
        ok "$1"
    else
        bad "$1: no line '$2' in:"
        sed 's/^/    /' "$3" | head -20 >&2
    fi
}

echo "installing $build into $stage"
if ! "$cmake" --install "$build" --prefix "$stage" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "FAIL cmake --install (is the build complete? cmake --build $build)" >&2
    exit 1
fi

# ------------------------------------------------------------ files
share=$stage/share/triglav
for f in bin/triglav bin/triglav-sim \
    share/triglav/scenarios/ice.scn share/triglav/scenarios/README.md \
    share/triglav/results/schema.sql share/triglav/results/README.md \
    share/triglav/results/queries/ranking.sql \
    share/triglav/data/README.md share/triglav/data/mahimahi/TMobile-LTE-short.down \
    share/man/man8/triglav.8 share/man/man1/triglav-sim.1 \
    lib/systemd/system/triglav-server.service lib/systemd/system/triglav@.service \
    share/bash-completion/completions/triglav share/bash-completion/completions/triglav-sim \
    share/zsh/site-functions/_triglav share/zsh/site-functions/_triglav-sim \
    share/fish/vendor_completions.d/triglav.fish \
    share/fish/vendor_completions.d/triglav-sim.fish \
    share/doc/triglav/README.md share/doc/triglav/design.md; do
    [ -f "$stage/$f" ] || bad "installed: $f is missing"
done
n_src=$(ls "$src"/scenarios/*.scn | wc -l)
n_inst=$(ls "$share"/scenarios/*.scn | wc -l)
[ "$n_src" -eq "$n_inst" ] && ok "installed: $n_inst scenarios" ||
    bad "installed: $n_inst scenarios, the source has $n_src"
n_q=$(ls "$src"/results/queries/*.sql | wc -l)
[ -x "$stage/bin/triglav" ] && [ -x "$stage/bin/triglav-sim" ] && ok "installed: programs" ||
    bad "installed: programs not executable"

# ------------------------------------------------------------ programs
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1
T=$stage/bin/triglav
S=$stage/bin/triglav-sim
check "triglav --help" "$T" --help
grep -q '^usage: triglav' "$tmp/out" || bad "triglav --help: no usage line"
check "triglav version" "$T" version

check "triglav-sim paths" "$S" paths
expect "paths: the share folder is next to the program" \
    "share      $share  (next to the program)" "$tmp/out"
expect "paths: the scenarios are the bundled ones" \
    "scenarios  $share/scenarios  (next to the program)" "$tmp/out"
expect "paths: the traces are the installed ones" \
    "data       $share/data  (next to the program)" "$tmp/out"
expect "paths: the saved queries are the installed ones" \
    "queries    $share/results/queries  (share folder)" "$tmp/out"

check "triglav-sim list (the bundled scenarios)" "$S" list
rows=$(($(wc -l < "$tmp/out") - 1))
[ "$rows" -eq "$n_src" ] && ok "list: $rows scenarios" || bad "list: $rows rows, expected $n_src"
grep -q ERROR "$tmp/out" && bad "list: some scenarios do not load: $(grep ERROR "$tmp/out")"
grep -q '^ice ' "$tmp/out" || bad "list: no ice"
check "triglav-sim list --names" "$S" list --names
[ "$(wc -l < "$tmp/out")" -eq "$n_src" ] || bad "list --names: $(wc -l < "$tmp/out") names"
expect "list --names: ice" "ice" "$tmp/out"

check "triglav-sim run ice.scn (by name)" \
    "$S" run ice.scn --iterations 1 --strategy adaptive,redundant --aggregation none,full \
    --db "$tmp/x.db" -j 2
check "query the campaign's rows" "$S" query "$tmp/x.db" --csv \
    "SELECT count(*), count(DISTINCT strategy || aggregation), min(scenario), max(scenario),
            min(scenario_file), max(scenario_file), sum(m.goodput_mbps > 0)
       FROM runs JOIN metrics m ON m.run_id = runs.id"
expect "run ice.scn: 4 runs of ice from the bundled file, each with goodput" \
    "4,4,ice,ice,$share/scenarios/ice.scn,$share/scenarios/ice.scn,4" "$tmp/out"

check "triglav-sim run single_lte (a name without .scn, the installed traces)" \
    "$S" run single_lte --iterations 1 --strategy adaptive --aggregation none --db "$tmp/y.db"
check "query its row" "$S" query "$tmp/y.db" --csv "SELECT count(*), scenario_file FROM runs"
expect "run single_lte: 1 run from the bundled file" "1,$share/scenarios/single_lte.scn" \
    "$tmp/out"
check "triglav-sim check ice" "$S" check ice
expect "check ice: the bundled file" \
    "$share/scenarios/ice.scn: ok (ice, 3 uplinks, 90 s, 10 iterations)" "$tmp/out"
check "triglav-sim query --list (the installed saved queries)" "$S" query --list
[ "$(wc -l < "$tmp/out")" -eq "$n_q" ] || bad "query --list: $(wc -l < "$tmp/out") of $n_q"
check "triglav-sim query --saved ranking" "$S" query "$tmp/x.db" --saved ranking
grep -q adaptive "$tmp/out" || bad "query --saved ranking: no adaptive row"

if "$S" run nosuch --db "$tmp/z.db" > "$tmp/out" 2> "$tmp/err"; then
    bad "run nosuch: succeeded"
elif grep -q "nosuch: No such file or directory (nor in ./scenarios or the bundled" "$tmp/err"; then
    ok "run nosuch: names where it looked"
else
    bad "run nosuch: $(cat "$tmp/err")"
fi

# --share-dir and $TRIGLAV_SHARE move the share folder (the flag wins)
mkdir -p "$tmp/alt/scenarios"
cp "$src/scenarios/ice.scn" "$tmp/alt/scenarios/only.scn"
check "TRIGLAV_SHARE=DIR list --names" env TRIGLAV_SHARE="$tmp/alt" "$S" list --names
[ "$(cat "$tmp/out")" = only ] && ok "TRIGLAV_SHARE: its scenarios" ||
    bad "TRIGLAV_SHARE: listed $(cat "$tmp/out")"
check "list --names --share-dir DIR" env TRIGLAV_SHARE="$share" "$S" list --names \
    --share-dir "$tmp/alt"
[ "$(cat "$tmp/out")" = only ] && ok "--share-dir: its scenarios, over TRIGLAV_SHARE" ||
    bad "--share-dir: listed $(cat "$tmp/out")"
check "paths --share-dir DIR" "$S" paths --share-dir "$tmp/alt"
expect "paths --share-dir: says so" "share      $tmp/alt  (--share-dir)" "$tmp/out"

# a scenarios/ in the current folder comes first
mkdir -p "$tmp/project/scenarios"
cp "$src/scenarios/ice.scn" "$tmp/project/scenarios/mine.scn"
cd "$tmp/project" || exit 1
check "list in a folder with scenarios/" "$S" list --names
[ "$(cat "$tmp/out")" = mine ] && ok "list: ./scenarios first" || bad "list: $(cat "$tmp/out")"
check "run mine (from ./scenarios)" "$S" run mine --iterations 1 --strategy adaptive \
    --aggregation none --db "$tmp/p.db"
check "query its row" "$S" query "$tmp/p.db" --csv "SELECT scenario_file FROM runs"
expect "run mine: ./scenarios/mine.scn" "scenarios/mine.scn" "$tmp/out"
cd "$tmp/elsewhere" || exit 1

# ------------------------------------------------------------ man pages
if command -v man > /dev/null 2>&1; then
    for p in man8/triglav.8 man1/triglav-sim.1; do
        check "man -l $p" env MANWIDTH=80 man --warnings -l "$stage/share/man/$p"
        [ -s "$tmp/err" ] && bad "man -l $p: warnings: $(cat "$tmp/err")"
        grep -q "^NAME" "$tmp/out" || bad "man -l $p: no NAME section"
    done
    check "man -w 8 triglav (through MANPATH)" env MANPATH="$stage/share/man" man -w 8 triglav
    expect "man finds triglav(8)" "$stage/share/man/man8/triglav.8" "$tmp/out"
    check "man -w 1 triglav-sim" env MANPATH="$stage/share/man" man -w 1 triglav-sim
    expect "man finds triglav-sim(1)" "$stage/share/man/man1/triglav-sim.1" "$tmp/out"
else
    echo "skip man -l: no man here (the pages are installed)"
fi

# ------------------------------------------------------------ systemd units
units=$stage/lib/systemd/system
expect "server unit runs the installed program" \
    "ExecStart=$stage/bin/triglav server --config $stage/etc/triglav/server.toml" \
    "$units/triglav-server.service"
expect "server unit cleans up after it" \
    "ExecStopPost=$stage/bin/triglav server --cleanup --config $stage/etc/triglav/server.toml" \
    "$units/triglav-server.service"
expect "client unit: one config per instance" \
    "ExecStart=$stage/bin/triglav tun --config $stage/etc/triglav/%i.toml" \
    "$units/triglav@.service"
expect "client unit: tun --cleanup on stop" \
    "ExecStopPost=$stage/bin/triglav tun --cleanup --config $stage/etc/triglav/%i.toml" \
    "$units/triglav@.service"
if command -v systemd-analyze > /dev/null 2>&1; then
    for u in triglav-server.service triglav@office.service; do
        check "systemd-analyze verify $u" env MANPATH="$stage/share/man" \
            systemd-analyze verify "$units/$u"
        [ -s "$tmp/err" ] && bad "systemd-analyze verify $u: $(cat "$tmp/err")"
    done
else
    echo "skip systemd-analyze verify: not installed (package systemd)"
fi

# ------------------------------------------------------------ completions
comp=$stage/share
bashc='
    fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
    shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    echo "${COMPREPLY[*]}"'
check "bash: the installed script completes 'triglav st'" \
    bash -c ". '$comp/bash-completion/completions/triglav'; $bashc" _ triglav triglav st
expect "bash: triglav st -> status" "status" "$tmp/out"
check "bash: 'triglav-sim run ic' (bundled names)" env PATH="$stage/bin:$PATH" \
    bash -c ". '$comp/bash-completion/completions/triglav-sim'; $bashc" _ triglav-sim \
    triglav-sim run ic
expect "bash: triglav-sim run ic -> ice" "ice" "$tmp/out"
if [ -f /usr/share/bash-completion/bash_completion ]; then
    check "bash-completion loads it from XDG_DATA_DIRS" env XDG_DATA_DIRS="$comp" \
        bash -c ". /usr/share/bash-completion/bash_completion
                 __load_completion triglav || exit 1; $bashc" _ triglav triglav st
    expect "bash-completion: triglav st -> status" "status" "$tmp/out"
else
    echo "skip bash-completion's loader: package bash-completion not installed"
fi
if command -v zsh > /dev/null 2>&1; then
    for f in _triglav _triglav-sim; do
        check "zsh -n $f" zsh -n "$comp/zsh/site-functions/$f"
    done
    # A real interactive zsh on a pseudo-terminal: TAB after the words, then
    # the line is echoed back.
    cat > "$tmp/zcomp.zsh" << 'EOF'
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='>'; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PATH=$2:\$PATH"
zpty -w -n z "$3"$'\t'
sleep 2
zpty -w -n z $'\x01print -r -- RESULT:\x05:END\n'
sleep 1
all=
while zpty -r -t z out; do all+=$out; done
print -r -- "$all" | tr '\r' '\n' | grep -a '^RESULT:' | tail -1
zpty -d z
EOF
    for t in "triglav st|RESULT:triglav status:END" "triglav-sim run ic|RESULT:triglav-sim run ice:END"; do
        words=${t%%|*} want=${t#*|}
        check "zsh: '$words' TAB" timeout 30 zsh -f "$tmp/zcomp.zsh" \
            "$comp/zsh/site-functions" "$stage/bin" "$words"
        got=$(sed 's/ *:END$/:END/' "$tmp/out") # zsh takes the space back before ':'

        [ "$got" = "$want" ] && ok "zsh: $words -> ${want#RESULT:}" ||
            bad "zsh: '$words' TAB gave '$(cat "$tmp/out")'"
    done
else
    echo "skip zsh: not installed"
fi
if command -v fish > /dev/null 2>&1; then
    for f in triglav.fish triglav-sim.fish; do
        check "fish -n $f" fish -n "$comp/fish/vendor_completions.d/$f"
    done
    check "fish: complete -C 'triglav st' from vendor_completions.d" env PATH="$stage/bin:$PATH" \
        fish --no-config -c "set -p fish_complete_path $comp/fish/vendor_completions.d
                             complete -C 'triglav st'"
    cut -f1 "$tmp/out" > "$tmp/words"
    expect "fish: triglav st -> status" "status" "$tmp/words"
    check "fish: complete -C 'triglav-sim run ic'" env PATH="$stage/bin:$PATH" \
        fish --no-config -c "set -p fish_complete_path $comp/fish/vendor_completions.d
                             complete -C 'triglav-sim run ic'"
    cut -f1 "$tmp/out" > "$tmp/words"
    expect "fish: triglav-sim run ic -> ice" "ice" "$tmp/words"
else
    echo "skip fish: not installed"
fi

# ------------------------------------------------------------ DESTDIR
if DESTDIR="$tmp/dd" "$cmake" --install "$build" > "$tmp/install2.log" 2>&1; then
    ok "DESTDIR install"
    u=$(find "$tmp/dd" -name triglav-server.service | head -1)
    if [ -n "$u" ]; then
        expect "DESTDIR: the unit names the configured prefix's program, not DESTDIR" \
            "ExecStart=$bindir/triglav server --config $sysconfdir/triglav/server.toml" "$u"
    else
        bad "DESTDIR: no triglav-server.service under $tmp/dd"
    fi
else
    bad "DESTDIR install"
    cat "$tmp/install2.log" >&2
fi

exit $fail
