/*
 * errf.h: sim_errf, the simulator's way to report an error through a
 * caller's (err, errlen) buffer. Header-only so that a file compiled on its
 * own (replay.c in the pcap fuzzer, without db.c) has it too.
 */
#ifndef SIM_ERRF_H
#define SIM_ERRF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Format a message into err[errlen] (nothing when err is NULL or errlen 0). */
__attribute__((format(printf, 3, 4))) static inline void sim_errf(char *err, size_t errlen,
                                                                  const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
