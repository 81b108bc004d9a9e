/* Write-ahead journal of system changes; see journal.h for the format. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "control.h"
#include "journal.h"
#include "log.h"
#include "sys.h"

static void undo_line(const char *line, struct rt_nl *nl)
{
    char a[300], b[300], c[64], d[64], e[64];
    unsigned long prio, table, mark, mask;
    int inv, sup;
    struct rt_prefix p;
    if (strncmp(line, "rule6 ", 6) == 0) {
        if (sscanf(line, "rule6 %lu %lu %lu %lu %d %d", &prio, &table, &mark, &mask, &inv, &sup) !=
            6)
            return;
        struct rt_rule r = {.family = AF_INET6,
                            .priority = (uint32_t)prio,
                            .table = (uint32_t)table,
                            .fwmark = (uint32_t)mark,
                            .fwmask = (uint32_t)mask,
                            .invert = inv != 0,
                            .suppress_prefixlen = sup};
        int rc = rt_nl_rule(nl, false, &r);
        if (rc != 0 && rc != -ENOENT && rc != -ESRCH)
            rt_warn("could not remove IPv6 rule '%s': %s", line + 6, strerror(-rc));
        return;
    }
    if (strncmp(line, "route6 ", 7) == 0) {
        if (sscanf(line, "route6 %lu %63s", &table, c) != 2)
            return;
        struct rt_route r = {
            .family = AF_INET6, .table = (uint32_t)table, .type = (uint8_t)atoi(c)};
        int rc = rt_nl_route(nl, false, &r);
        if (rc != 0 && rc != -ESRCH && rc != -ENOENT)
            rt_warn("could not remove IPv6 route '%s': %s", line + 7, strerror(-rc));
        return;
    }
    if (sscanf(line, "rule %lu %lu %lu %lu %d %d %63s", &prio, &table, &mark, &mask, &inv, &sup,
               c) == 7 &&
        rt_prefix_parse(c, &p, false) == 0) {
        struct rt_rule r = {.priority = (uint32_t)prio,
                            .table = (uint32_t)table,
                            .fwmark = (uint32_t)mark,
                            .fwmask = (uint32_t)mask,
                            .invert = inv != 0,
                            .suppress_prefixlen = sup,
                            .dst_len = p.len};
        memcpy(r.dst, p.addr, 4);
        int rc = rt_nl_rule(nl, false, &r);
        if (rc != 0 && rc != -ENOENT && rc != -ESRCH)
            rt_warn("could not remove rule '%s': %s", line + 5, strerror(-rc));
    } else if (sscanf(line, "route %lu %63s %63s %63s %63s", &table, c, d, e, a) == 5 &&
               rt_prefix_parse(c, &p, false) == 0) {
        struct rt_route r = {.table = (uint32_t)table, .dst_len = p.len, .type = (uint8_t)atoi(a)};
        memcpy(r.dst, p.addr, 4);
        if (strcmp(d, "-") != 0) {
            r.oif = (int)if_nametoindex(d);
            if (r.oif == 0)
                return; /* the device is gone, and its routes with it */
        }
        if (strcmp(e, "-") != 0 && rt_ipv4_parse(e, r.gw) == 0)
            r.has_gw = true;
        int rc = rt_nl_route(nl, false, &r);
        if (rc != 0 && rc != -ESRCH && rc != -ENOENT && rc != -ENODEV)
            rt_warn("could not remove route '%s': %s", line + 6, strerror(-rc));
    } else if (sscanf(line, "sysctl %299s %63s", a, c) == 2) {
        int rc = rt_sysctl_set(a, c);
        if (rc != 0)
            rt_warn("could not restore %s to %s: %s", a, c, rt_file_strerror(rc));
    } else if (sscanf(line, "nft %63s %63s", c, d) == 2) {
        char script[200], err[512];
        snprintf(script, sizeof script, "delete table %s %s\n", c, d);
        int rc = rt_nft(script, err, sizeof err);
        if (rc != 0 && strstr(err, "No such file") == NULL)
            rt_warn("could not delete nftables table %s %s: %s", c, d, err);
    } else if (sscanf(line, "file %299s %299s", a, b) == 2) {
        static char buf[65536];
        ssize_t n = rt_file_read(b, buf, sizeof buf);
        if (n < 0) {
            rt_warn("could not read the backup %s of %s: %s", b, a, rt_file_strerror((int)n));
            return;
        }
        int rc = rt_file_write(a, buf, (size_t)n, 0644);
        if (rc != 0)
            rt_warn("could not restore %s: %s", a, rt_file_strerror(rc));
        else
            unlink(b);
    }
}

static void undo_text(char *text, struct rt_nl *nl)
{
    char *lines[RT_JOURNAL_MAX];
    int n = 0;
    for (char *s = strtok(text, "\n"); s != NULL && n < RT_JOURNAL_MAX; s = strtok(NULL, "\n"))
        lines[n++] = s;
    for (int i = n - 1; i >= 0; i--)
        undo_line(lines[i], nl);
}

/* "pid <pid> <start time>" (journal.h); journals of older versions have no
 * start time. */
static int pid_line(char *out, size_t cap)
{
    unsigned long long start = 0;
    rt_pid_start(getpid(), &start);
    return snprintf(out, cap, "pid %ld %llu", (long)getpid(), start);
}

/* "DIR/NAME.state" -> "DIR/NAME.sock" (rt_state_path), into out. */
static int sibling_socket(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path), ext = strlen(".state");
    if (n <= ext || strcmp(path + n - ext, ".state") != 0 || n - ext + 6 > cap)
        return -EINVAL;
    snprintf(out, cap, "%.*s.sock", (int)(n - ext), path);
    return 0;
}

int rt_journal_cleanup(const char *path, struct rt_nl *nl)
{
    static char text[65536];
    char sock[300];
    int have_sock = sibling_socket(path, sock, sizeof sock) == 0;
    ssize_t n = rt_file_read(path, text, sizeof text);
    if (n == -ENOENT && have_sock)
        rt_control_remove_stale(sock); /* a socket left without its journal */
    if (n < 0) {
        if (n != -ENOENT)
            rt_warn("journal %s: %s", path, rt_file_strerror((int)n));
        return (int)n;
    }
    long pid = 0;
    unsigned long long start = 0;
    if (sscanf(text, "pid %ld %llu", &pid, &start) >= 1 && pid != (long)getpid() &&
        rt_pid_alive((pid_t)pid, start))
        return -EBUSY;
    undo_text(text, nl);
    unlink(path);
    if (have_sock)
        rt_control_remove_stale(sock);
    return 0;
}

int rt_journal_open(struct rt_journal *j, const char *path, struct rt_nl *nl)
{
    memset(j, 0, sizeof *j);
    j->fd = -1;
    j->nl = nl;
    snprintf(j->path, sizeof j->path, "%s", path);
    int rc = rt_journal_cleanup(path, nl);
    if (rc == -EBUSY)
        return rc;
    if (rc == 0)
        rt_warn("restored what a previous run left behind (journal %s)", path);
    int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY;
    j->fd = open(path, flags | O_CLOEXEC, 0600);
    if (j->fd < 0)
        return -errno;
    struct stat st;
    if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(j->fd);
        j->fd = -1;
        return -EINVAL;
    }
    char line[64];
    pid_line(line, sizeof line);
    return rt_journal_add(j, "%s", line);
}

static int rewrite(struct rt_journal *j)
{
    if (ftruncate(j->fd, 0) != 0)
        return -errno;
    for (int i = 0; i < j->n; i++)
        if (dprintf(j->fd, "%s\n", j->lines[i]) < 0)
            return -errno;
    return 0;
}

int rt_journal_add(struct rt_journal *j, const char *fmt, ...)
{
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (j->n >= RT_JOURNAL_MAX)
        return -ENOSPC;
    j->lines[j->n] = strdup(line);
    if (j->lines[j->n] == NULL)
        return -ENOMEM;
    j->n++;
    if (dprintf(j->fd, "%s\n", line) < 0) {
        int e = -errno;
        free(j->lines[--j->n]); /* not recorded after all: the caller makes no change */
        rewrite(j);
        return e;
    }
    return 0;
}

void rt_journal_pop(struct rt_journal *j)
{
    if (j->n <= 1)
        return;
    free(j->lines[--j->n]);
    rewrite(j);
}

int rt_journal_sysctl(struct rt_journal *j, const char *path, const char *value)
{
    char old[64];
    if (rt_sysctl_get(path, old, sizeof old) != 0 || strcmp(old, value) == 0)
        return 0;
    int rc = rt_journal_add(j, "sysctl %s %s", path, old);
    if (rc != 0)
        return rc;
    rc = rt_sysctl_set(path, value);
    if (rc != 0)
        rt_journal_pop(j);
    return rc;
}

void rt_journal_undo(struct rt_journal *j)
{
    for (int i = j->n - 1; i >= 1; i--) {
        undo_line(j->lines[i], j->nl);
        free(j->lines[i]);
    }
    if (j->n > 0)
        free(j->lines[0]);
    j->n = 0;
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
        unlink(j->path);
    }
}

void rt_journal_set_pid(struct rt_journal *j)
{
    char line[64];
    pid_line(line, sizeof line);
    char *s = strdup(line);
    if (s == NULL || j->n == 0) {
        free(s);
        return;
    }
    free(j->lines[0]);
    j->lines[0] = s;
    rewrite(j);
}
