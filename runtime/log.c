/* Log lines with a relative timestamp from the runtime's clock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "sys.h"

static enum rt_log_level max_level = RT_LOG_INFO;
static tg_time start_us;
static FILE *out;

void rt_log_init(enum rt_log_level level)
{
    max_level = level;
    start_us = rt_now();
}

int rt_log_to_file(const char *path)
{
    int fd = rt_file_open_out(path, O_APPEND, 0644); /* a FIFO without reader: no hang */
    if (fd < 0)
        return fd;
    FILE *f = fdopen(fd, "a");
    if (f == NULL) {
        int e = -errno;
        close(fd);
        return e;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    out = f;
    return 0;
}

void rt_log(enum rt_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (level > max_level)
        return;
    FILE *f = out != NULL ? out : stderr;
    tg_time t = rt_now() - start_us;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(f, "[%7.3f] %s: %s\n", (double)t / 1e6, names[level], line);
}
