#!/bin/sh
# purity.sh LIBRARY [NM]: the core must stay pure (DESIGN.md §1). Lists the
# undefined symbols of every object in the static library and fails on any
# clock, socket, file, printing, process or OS-randomness function, and on
# any heap function outside alloc.c (the allocator hook).
set -eu
lib=$1
nm=${2:-nm}
[ -f "$lib" ] || { echo "purity: no library at $lib" >&2; exit 1; }

deny='clock_gettime|clock|time|gettimeofday|timespec_get|ftime|socket|bind|connect|listen|accept|accept4|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|ioctl|open|open64|openat|openat64|creat|fopen|fopen64|fdopen|freopen|fread|fwrite|read|write|pread|pwrite|readv|writev|close|printf|fprintf|vprintf|vfprintf|dprintf|puts|fputs|putchar|fputc|putc|perror|syslog|getrandom|getentropy|rand|rand_r|random|srand|srandom|drand48|arc4random|randombytes|randombytes_buf|randombytes_random|randombytes_uniform|randombytes_stir|sodium_init|exit|_exit|abort|signal|sigaction|sleep|usleep|nanosleep|poll|select|epoll_wait|getenv|system|fork|pthread_create'
heap='malloc|calloc|realloc|free|aligned_alloc|posix_memalign|memalign|valloc|strdup|strndup|sodium_malloc|sodium_allocarray'

# nm -A prints "lib.a:object.o: U symbol" (or "lib.a:object.o:   U symbol").
symbols=$("$nm" -A -u "$lib" 2>/dev/null | awk '{ n = split($1, p, ":"); print p[n-1], $NF }')
[ -n "$symbols" ] || { echo "purity: nm listed no undefined symbols in $lib" >&2; exit 1; }
count=$(printf '%s\n' "$symbols" | wc -l)

bad=$(printf '%s\n' "$symbols" | grep -E " ($deny)\$" || true)
heap_bad=$(printf '%s\n' "$symbols" | grep -E " ($heap)\$" | grep -vE '^alloc\.c\.o ' || true)
status=0
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
[ $status -eq 0 ] && echo "purity: $count undefined symbol references checked, none forbidden"
exit $status
