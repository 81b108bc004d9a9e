/* Files, sysctls, nft and daemonizing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"

/* -EISDIR for a directory, -EINVAL for anything else that is not a regular
 * file (FIFO, device, socket), 0 for a regular one. */
static int regular(const struct stat *st)
{
    if (S_ISREG(st->st_mode))
        return 0;
    return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
}

ssize_t rt_file_read(const char *path, char *buf, size_t cap)
{
    if (cap > (size_t)RT_FILE_MAX + 1)
        cap = (size_t)RT_FILE_MAX + 1;
    /* look before opening: opening a device can do things (rewind a tape,
     * take a terminal); a FIFO would block until someone writes */
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    int rc = regular(&st);
    if (rc != 0)
        return rc;
    if ((unsigned long long)st.st_size >= cap)
        return -EFBIG;
    /* it may have been replaced since: non-blocking, and check again */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || (rc = regular(&st)) != 0) {
        rc = rc != 0 ? rc : -errno;
        close(fd);
        return rc;
    }
    size_t n = 0;
    for (;;) {
        if (n + 1 >= cap) { /* /proc files say size 0: the bound is here */
            close(fd);
            return -EFBIG;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

const char *rt_file_strerror(int rc)
{
    switch (rc) {
    case -EINVAL:
        return "not a regular file (a FIFO, socket or device is never read)";
    case -EISDIR:
        return "it is a directory";
    case -EFBIG:
        return "too large";
    case -ENXIO:
        return "a FIFO that nothing reads (or a device that is not there)";
    default:
        return strerror(-rc);
    }
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* open(path, O_WRONLY | O_CREAT | flags), regular files only, write
 * everything, close. */
static int write_file(const char *path, int flags, const char *data, size_t len, unsigned mode)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags, (mode_t)mode);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) != 0 ? -errno : regular(&st);
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int rt_file_open_out(const char *path, int flags, unsigned mode)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags, (mode_t)mode);
    if (fd < 0)
        return -errno;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int rt_file_write(const char *path, const char *data, size_t len, unsigned mode)
{
    return write_file(path, O_TRUNC, data, len, mode);
}

int rt_file_create(const char *path, const char *data, size_t len, unsigned mode)
{
    return write_file(path, O_EXCL, data, len, mode);
}

int rt_sysctl_get(const char *path, char *buf, size_t cap)
{
    ssize_t n = rt_file_read(path, buf, cap);
    if (n < 0)
        return (int)n;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

int rt_sysctl_set(const char *path, const char *value)
{
    return rt_file_write(path, value, strlen(value), 0644);
}

/* With file capabilities only (setcap cap_net_admin+ep, not root), exec drops
 * CAP_NET_ADMIN; make it ambient so `nft` keeps it. */
static void keep_net_admin(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return;
    d[0].inheritable |= 1u << CAP_NET_ADMIN;
    if (syscall(SYS_capset, &h, d) != 0)
        return;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
}

int rt_nft(const char *script, char *err, size_t errcap)
{
    int in[2], out[2];
    if (errcap > 0)
        err[0] = '\0';
    if (pipe2(in, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(out, O_CLOEXEC) != 0) {
        int e = -errno;
        close(in[0]);
        close(in[1]);
        return e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return e;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        if (geteuid() != 0)
            keep_net_admin();
        execlp("nft", "nft", "-f", "-", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    signal(SIGPIPE, SIG_IGN);
    write_all(in[1], script, strlen(script));
    close(in[1]);
    size_t n = 0;
    char tmp[512];
    for (;;) {
        ssize_t r = read(out[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r && n + 1 < errcap; i++)
            err[n++] = tmp[i];
    }
    if (errcap > 0)
        err[n < errcap ? n : errcap - 1] = '\0';
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return -ENOENT;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -EIO;
    return 0;
}

int rt_daemonize(const char *pid_file)
{
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        close(sync[1]);
        char c = 1;
        ssize_t r;
        while ((r = read(sync[0], &c, 1)) < 0 && errno == EINTR) {
        }
        _exit(r == 1 && c == 0 ? 0 : 1);
    }
    close(sync[0]);
    setsid();
    char ok = 0;
    if (pid_file != NULL) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (rt_file_write(pid_file, buf, (size_t)n, 0644) != 0)
            ok = 1;
    }
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    write_all(sync[1], &ok, 1);
    close(sync[1]);
    return ok == 0 ? 0 : -EIO;
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime ...": comm may hold
 * spaces and parentheses, so the fields are counted from the last ')'. */
static int pid_stat(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    ssize_t n = rt_file_read(path, text, sizeof text);
    if (n < 0)
        return (int)n;
    const char *p = strrchr(text, ')');
    if (p == NULL || p[1] != ' ' || p[2] == '\0')
        return -EINVAL;
    *state = p[2];
    p += 3;
    for (int field = 4; field < 22; field++) { /* state is field 3, starttime 22 */
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -EINVAL;
    }
    char *end;
    errno = 0;
    *start = strtoull(p + 1, &end, 10);
    return errno != 0 || end == p + 1 ? -EINVAL : 0;
}

int rt_pid_start(pid_t pid, unsigned long long *start)
{
    char state;
    *start = 0;
    return pid_stat(pid, &state, start);
}

int rt_pid_alive(pid_t pid, unsigned long long start)
{
    if (pid <= 0)
        return 0;
    char state;
    unsigned long long now_start;
    int rc = pid_stat(pid, &state, &now_start);
    if (rc == 0)
        /* Z: exited, its parent has not reaped it; X: being reaped */
        return state != 'Z' && state != 'X' && (start == 0 || start == now_start);
    /* no /proc, or one that hides the process (hidepid, another pid
     * namespace): only the pid can be asked about */
    return kill(pid, 0) == 0 || errno == EPERM;
}

void rt_state_path(char *out, size_t cap, const char *dir, const char *name, const char *ext)
{
    snprintf(out, cap, "%s/%s.%s", dir, name, ext);
}

int rt_mkdir(const char *path, unsigned mode)
{
    if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}
