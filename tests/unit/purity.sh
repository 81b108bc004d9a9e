#!/bin/sh
# purity.sh LIBRARY [NM]: the core must stay pure (DESIGN.md §1). Two checks
# on the static library built from core/ (every member is a core/ object):
#
# 1. Calls. The undefined symbols of every object, against a deny list: no
#    clock, socket, file, printing, process or OS-randomness function, and no
#    heap function outside alloc.c (the allocator hook).
# 2. Mutable static storage. No object may define writable data (.bss, .data,
#    thread-local, common): all state lives in the structs the caller owns, so
#    two endpoints, or two simulator threads each running its own, never share
#    a byte. Const tables are fine, including tables of pointers that PIE puts
#    in .data.rel.ro (nm calls those 'd' too; the section tells them apart).
set -eu
lib=$1
nm=${2:-nm}
[ -f "$lib" ] || { echo "purity: no library at $lib" >&2; exit 1; }
status=0

# ------------------------------------------------------------------ calls

deny='clock_gettime|clock|time|gettimeofday|timespec_get|ftime|socket|bind|connect|listen|accept|accept4|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|ioctl|open|open64|openat|openat64|creat|fopen|fopen64|fdopen|freopen|fread|fwrite|read|write|pread|pwrite|readv|writev|close|printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|fputc|putc|perror|syslog|getrandom|getentropy|rand|rand_r|random|srand|srandom|drand48|arc4random|randombytes|randombytes_buf|randombytes_random|randombytes_uniform|randombytes_stir|sodium_init|exit|_exit|abort|signal|sigaction|sleep|usleep|nanosleep|poll|select|epoll_wait|getenv|system|fork|pthread_create'
heap='malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|valloc|strdup|strndup|sodium_malloc|sodium_allocarray'

# nm -A prints "lib.a:object.o: U symbol" (or "lib.a:object.o:   U symbol").
symbols=$("$nm" -A -u "$lib" 2>/dev/null | awk '{ n = split($1, p, ":"); print p[n-1], $NF }')
if [ -z "$symbols" ]; then
    echo "purity: nm listed no undefined symbols in $lib" >&2
    status=1
else
    count=$(printf '%s\n' "$symbols" | wc -l)
    bad=$(printf '%s\n' "$symbols" | grep -E " ($deny)\$" || true)
    heap_bad=$(printf '%s\n' "$symbols" | grep -E " ($heap)\$" | grep -vE '^alloc\.c\.o ' || true)
    if [ -n "$bad" ]; then
        echo "purity: the core references functions it must not (object symbol):" >&2
        printf '%s\n' "$bad" >&2
        status=1
    fi
    if [ -n "$heap_bad" ]; then
        echo "purity: heap functions outside alloc.c (use tg_alloc_zeroed at creation time):" >&2
        printf '%s\n' "$heap_bad" >&2
        status=1
    fi
    [ -z "$bad$heap_bad" ] &&
        echo "purity: $count undefined symbol references checked, none forbidden"
fi

# ------------------------------------------------------- mutable statics

# Writable data objects the core may define, one "object symbol" a line, each
# with a comment saying why it is safe. Empty: the core keeps no state of its
# own.
allow=''

# nm's System V format names each symbol's section:
#   lib.a:object.o: name |value|class|type|size|line|section
# (GNU nm leaves out the space after the last colon). Candidates are the
# classes of data objects: b/B .bss, d/D .data, C common, v/V weak objects,
# g/G s/S small data; a candidate is writable unless its section is read-only
# after relocation (.data.rel.ro) or not a data section at all (.rodata, for
# a weak const object). Names that start with "__" or "." are reserved to the
# implementation and are the compiler's and the sanitizers' own objects
# (__unnamed_N global descriptors and __odr_asan_gen_* of ASan, __sancov_*,
# __profc_*/__profd_* of clang coverage, __gcov*, .L* locals); core code never
# uses such names, so skipping them keeps the check meaningful in an
# instrumented build.
if ! table=$("$nm" -A -f sysv --defined-only "$lib"); then
    echo "purity: '$nm -A -f sysv --defined-only' failed on $lib" >&2
    exit 1
fi
defined=$(printf '%s\n' "$table" | awk -F'|' 'NF >= 7' | wc -l)
if [ "$defined" -eq 0 ]; then
    echo "purity: nm listed no defined symbols in $lib" >&2
    exit 1
fi
writable=$(printf '%s\n' "$table" | awk -F'|' '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    NF >= 7 {
        n = split($1, p, ":")
        obj = trim(p[n - 1]); name = trim(p[n])
        class = trim($3); sec = trim($7)
        if (class !~ /^[bBdDCvVgGsS]$/) next
        if (name ~ /^(__|\.)/) next
        if (class != "C" && sec !~ /^\.(bss|data|tbss|tdata|sbss|sdata)(\.|$)/) next
        if (sec ~ /^\.data\.rel\.ro(\.|$)/) next
        print obj, name, "(" class ", " (sec == "" ? "common" : sec) ")"
    }')
if [ -n "$allow" ] && [ -n "$writable" ]; then
    writable=$(printf '%s\n' "$writable" | while read -r obj name rest; do
        printf '%s\n' "$allow" | grep -qxF "$obj $name" || printf '%s %s %s\n' "$obj" "$name" "$rest"
    done)
fi
if [ -n "$writable" ]; then
    n=$(printf '%s\n' "$writable" | wc -l)
    echo "purity: $n writable data objects in the core (mutable static storage; make it const or move it into the caller's struct):" >&2
    printf '%s\n' "$writable" >&2
    status=1
else
    echo "purity: $defined defined symbols checked, no writable data objects"
fi
exit $status
