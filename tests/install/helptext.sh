# helptext.sh: what a program's --help says it has, for the tests that keep
# the completions and the man pages in step with it (sourced, POSIX sh).
#
#   help_commands PROG        the commands `PROG --help` lists, one a line
#   help_options PROG CMD     the options `PROG CMD --help` defines, one a line
#
# Commands are the lines "  name ..." (two spaces, a lowercase word) before
# any "example:" section. Options are taken where a help text defines them,
# not where its prose mentions another command's: the usage lines ("usage:"
# and the lines under it that start with the program's name or '['), an
# "options: [...]" line, and the option column of lines that start with '-'
# indented at most 4 spaces. Text in backquotes is a quotation, skipped.

help_commands() {
    prog=$(basename "$1")
    "$1" --help 2>&1 | awk -v prog="$prog" '
        /^examples?( \(.*\))?:/ { exit }
        /^  [a-z][a-z0-9-]*( |$)/ {
            w = $1
            if (w != prog) print w
        }' | sort -u
}

help_options() {
    prog=$(basename "$1")
    "$1" "$2" --help 2>&1 | awk -v prog="$prog" '
        function emit(s,   t) {
            gsub(/`[^`]*`/, "", s)
            while (match(s, /(^|[ \[(|,])--?[A-Za-z][A-Za-z0-9-]*/)) {
                t = substr(s, RSTART, RLENGTH)
                sub(/^[ \[(|,]/, "", t)
                print t
                s = substr(s, RSTART + RLENGTH)
            }
        }
        /^examples?( \(.*\))?:/ { exit }
        /^usage:/ { inusage = 1; emit(substr($0, 7)); next }
        inusage && ($0 ~ "^[ \t]+\\[" || $0 ~ "^[ \t]+" prog " ") { emit($0); next }
        { inusage = 0 }
        /^[ \t]*options:/ { emit($0); next }
        /^ ( |  |   )?-/ {
            s = $0
            sub(/^ +/, "", s)
            split(s, f, /   */)
            emit(f[1])
        }' | sort -u
}
