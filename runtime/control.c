/* Control socket and metrics listener, both served from the event loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "control.h"

int rt_control_owns(uint64_t tag)
{
    return tag >= RT_TAG_CTL_UNIX && tag < RT_TAG_CTL_CONN + RT_CTL_CONNS;
}

int rt_control_open(struct rt_control *c, struct rt_loop *loop, const char *path,
                    const struct tg_key_addr *metrics, rt_ctl_render render, void *ctx, char *err,
                    size_t errcap)
{
    memset(c, 0, sizeof *c);
    c->unix_fd = c->http_fd = -1;
    for (int i = 0; i < RT_CTL_CONNS; i++)
        c->conn[i].fd = -1;
    c->loop = loop;
    c->render = render;
    c->ctx = ctx;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errcap, "control socket path %s is too long", path);
        return -ENAMETOOLONG;
    }
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    unlink(path); /* a stale socket of a dead run (the journal lock says we own the name) */
    c->unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(077);
    int rc = c->unix_fd < 0 || bind(c->unix_fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
                     listen(c->unix_fd, 8) != 0
                 ? -errno
                 : 0;
    umask(old);
    if (rc != 0) {
        snprintf(err, errcap, "cannot open the control socket %s: %s", path, strerror(-rc));
        return rc;
    }
    rt_loop_add(loop, c->unix_fd, RT_TAG_CTL_UNIX);
    if (metrics != NULL) {
        char as[RT_ADDRSTRLEN];
        struct sockaddr_storage ss;
        socklen_t sl;
        int one = 1;
        rt_addr_to_sockaddr(metrics, &ss, &sl);
        c->http_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->http_fd >= 0)
            setsockopt(c->http_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (c->http_fd < 0 || bind(c->http_fd, (struct sockaddr *)&ss, sl) != 0 ||
            listen(c->http_fd, 8) != 0) {
            rc = -errno;
            snprintf(err, errcap, "cannot serve metrics on %s: %s%s", rt_addr_str(metrics, as),
                     strerror(-rc),
                     rc == -EADDRINUSE ? " (the port is in use: choose another --metrics-addr)"
                                       : "");
            return rc;
        }
        rt_loop_add(loop, c->http_fd, RT_TAG_CTL_HTTP);
    }
    return 0;
}

static void conn_close(struct rt_control *c, struct rt_ctl_conn *k)
{
    if (k->fd >= 0) {
        rt_loop_del(c->loop, k->fd);
        close(k->fd);
    }
    k->fd = -1;
    free(k->out);
    k->out = NULL;
}

static void accept_one(struct rt_control *c, int lfd, int http)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int slot = 0;
    for (int i = 0; i < RT_CTL_CONNS; i++) {
        if (c->conn[i].fd < 0) {
            slot = i;
            break;
        }
        if (c->conn[i].since < c->conn[slot].since)
            slot = i;
    }
    /* all busy: the oldest (a peer that never sends or never reads) makes room */
    conn_close(c, &c->conn[slot]);
    c->conn[slot] = (struct rt_ctl_conn){.fd = fd, .http = http, .since = ++c->accepted};
    rt_loop_add(c->loop, fd, RT_TAG_CTL_CONN + (uint64_t)slot);
}

static void write_all(int fd, const char *s, size_t len)
{
    /* answers are small; a peer that does not read loses the rest */
    for (int tries = 0; len > 0 && tries < 1000; tries++) {
        ssize_t w = send(fd, s, len, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return;
        if (w > 0) {
            s += w;
            len -= (size_t)w;
        }
    }
}

/* The program's render, noting whether the text filled the buffer. */
static size_t measured(void *ctx, enum rt_ctl_what what, char *buf, size_t cap)
{
    struct rt_control *c = ctx;
    size_t n = c->render(c->ctx, what, buf, cap);
    c->filled = n + 1 >= cap;
    return n;
}

/* Send what the peer takes now; true when the whole answer is out (or the
 * peer is gone). */
static bool send_more(struct rt_ctl_conn *k)
{
    while (k->out_off < k->out_len) {
        ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno != EAGAIN;
        k->out_off += (size_t)w;
    }
    return true;
}

static void answer(struct rt_control *c, struct rt_ctl_conn *k, enum rt_req r)
{
    size_t cap = 1u << 16, n = 0, *hint = &c->hint[(unsigned)r % 16];
    while (cap <= *hint && cap < RT_CTL_ANSWER_MAX)
        cap *= 2; /* start above the last answer of its kind: one render, not ten */
    char *out = NULL;
    for (;;) {
        char *more = realloc(out, cap + 512);
        if (more == NULL)
            break;
        out = more;
        c->filled = false;
        n = r == RT_REQ_UPLINK && k->http == 0
                ? rt_req_uplink_answer(k->req, k->got, c->command, c->ctx, out, cap + 512)
                : rt_req_answer(r, k->http != 0, measured, c, out, cap + 512);
        if (!c->filled || cap >= RT_CTL_ANSWER_MAX)
            break;
        cap *= 2;
    }
    *hint = n;
    if (out == NULL) {
        conn_close(c, k);
        return;
    }
    k->out = out;
    k->out_len = n;
    k->out_off = 0;
    if (!send_more(k)) {
        /* the rest as the peer reads it: wait for room instead of input */
        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = RT_TAG_CTL_CONN +
                                                                (uint64_t)(k - c->conn)};
        if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, k->fd, &ev) == 0)
            return;
    }
    shutdown(k->fd, SHUT_WR);
    conn_close(c, k);
}

void rt_control_event(struct rt_control *c, uint64_t tag)
{
    if (tag == RT_TAG_CTL_UNIX) {
        accept_one(c, c->unix_fd, 0);
        return;
    }
    if (tag == RT_TAG_CTL_HTTP) {
        accept_one(c, c->http_fd, 1);
        return;
    }
    struct rt_ctl_conn *k = &c->conn[tag - RT_TAG_CTL_CONN];
    if (k->fd < 0)
        return;
    if (k->out != NULL) { /* room to send more of the answer */
        if (send_more(k)) {
            shutdown(k->fd, SHUT_WR);
            conn_close(c, k);
        }
        return;
    }
    ssize_t r = recv(k->fd, k->req + k->got, sizeof k->req - k->got, 0);
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_close(c, k);
        return;
    }
    if (r == 0 && k->got == 0) {
        conn_close(c, k);
        return;
    }
    k->got += (size_t)r;
    /* the peer finished sending (r == 0) or the buffer is full: answer now */
    enum rt_req q = rt_req_parse(k->req, k->got, k->http != 0, r == 0 || k->got == sizeof k->req);
    if (q != RT_REQ_MORE)
        answer(c, k, q);
}

void rt_control_close(struct rt_control *c)
{
    for (int i = 0; i < RT_CTL_CONNS; i++)
        conn_close(c, &c->conn[i]);
    if (c->unix_fd >= 0) {
        close(c->unix_fd);
        unlink(c->path);
    }
    if (c->http_fd >= 0)
        close(c->http_fd);
    c->unix_fd = c->http_fd = -1;
}

int rt_control_remove_stale(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EINVAL;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* a listener, even a busy one, accepts or says EAGAIN; no listener: refused */
    int rc = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ? -EBUSY : -errno;
    close(fd);
    if (rc != -ECONNREFUSED)
        return rc == -EAGAIN ? -EBUSY : rc;
    return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int rt_control_ask(const char *path, const char *line, char *out, size_t cap, size_t *len,
                   int timeout_ms)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    *len = 0;
    if (cap > 0)
        out[0] = '\0';
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = -errno;
        close(fd);
        return e == -ECONNREFUSED ? -ENOENT : e;
    }
    write_all(fd, line, strlen(line));
    write_all(fd, "\n", 1);
    ssize_t r = 1;
    while (cap > 1 && *len < cap - 1 && (r = recv(fd, out + *len, cap - 1 - *len, 0)) > 0)
        *len += (size_t)r;
    if (cap > 0)
        out[*len] = '\0';
    int e = r < 0 ? -errno : 0;
    close(fd);
    return e;
}

int rt_control_query(const char *path, const char *line)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        int e = -errno;
        close(fd);
        return e == -ECONNREFUSED ? -ENOENT : e;
    }
    write_all(fd, line, strlen(line));
    write_all(fd, "\n", 1);
    char buf[4096];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
        fwrite(buf, 1, (size_t)r, stdout);
    close(fd);
    return r < 0 ? -errno : 0;
}
