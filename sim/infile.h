/*
 * infile.h: how the simulator opens a file it reads (a scenario, a trace, a
 * capture). Only a regular file of bounded size is read: a FIFO never blocks
 * the open (it is opened non-blocking, and refused), a device such as
 * /dev/zero or a folder is refused before a byte is read, and a file larger
 * than the caller's limit is refused from its size. The caller still counts
 * what it reads, for a file that grows while it is read.
 *
 * Header-only so that a file compiled on its own into a fuzz target has it.
 * Needs POSIX 2008 (fdopen, O_CLOEXEC): _POSIX_C_SOURCE 200809L or
 * _DEFAULT_SOURCE defined before any include.
 */
#ifndef SIM_INFILE_H
#define SIM_INFILE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not regular is, for messages. */
static inline const char *sim_infile_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a folder"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a file";
}

/* Open path for reading if it is a regular file of at most max_bytes. Returns
 * the stream (blocking, close-on-exec) with *size_bytes set, or NULL with the
 * reason in why (no file name: "No such file or directory", "not a regular
 * file (a FIFO)", "larger than 256 MiB"). */
static inline FILE *sim_infile_open(const char *path, int64_t max_bytes, int64_t *size_bytes,
                                    char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file (%s)", sim_infile_kind(st.st_mode));
        close(fd);
        return NULL;
    }
    if ((int64_t)st.st_size > max_bytes) {
        if (max_bytes % (1 << 20) == 0)
            snprintf(why, whylen, "larger than %lld MiB", (long long)(max_bytes >> 20));
        else
            snprintf(why, whylen, "larger than %lld bytes", (long long)max_bytes);
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || (f = fdopen(fd, "rb")) == NULL) {
        snprintf(why, whylen, "%s", strerror(errno));
        close(fd);
        return NULL;
    }
    *size_bytes = (int64_t)st.st_size;
    return f;
}

#endif
