/* Discard and echo on the server's tunnel address (svc.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "svc.h"

/* Work per readiness event: level-triggered epoll calls again when more is
 * waiting, so one busy connection never holds the loop (and the tunnel). */
enum { READS_PER_EVENT = 4, ECHOES_PER_EVENT = 64 };

int rt_svc_owns(uint64_t tag)
{
    return tag >= RT_TAG_SVC_TCP && tag < RT_TAG_SVC_CONN + RT_SVC_CONNS;
}

static int bound(int type, const uint8_t addr[4], uint16_t port)
{
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    memcpy(&sin.sin_addr, addr, 4);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        (type == SOCK_STREAM && listen(fd, 16) != 0)) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int rt_svc_open(struct rt_svc *s, struct rt_loop *loop, const uint8_t addr[4], uint16_t discard_port,
                uint16_t echo_port, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->udp_fd = -1;
    for (int i = 0; i < RT_SVC_CONNS; i++)
        s->conn[i] = -1;
    s->tcp_fd = bound(SOCK_STREAM, addr, discard_port);
    if (s->tcp_fd >= 0)
        s->udp_fd = bound(SOCK_DGRAM, addr, echo_port);
    int rc = s->tcp_fd < 0 ? s->tcp_fd : s->udp_fd < 0 ? s->udp_fd : 0;
    if (rc == 0 && ((rc = rt_loop_add(loop, s->tcp_fd, RT_TAG_SVC_TCP)) != 0 ||
                    (rc = rt_loop_add(loop, s->udp_fd, RT_TAG_SVC_UDP)) != 0))
        rt_loop_del(loop, s->tcp_fd);
    if (rc != 0) {
        snprintf(err, errcap,
                 "the benchmark services (TCP discard %u, UDP echo %u on %u.%u.%u.%u) are off: "
                 "%s%s",
                 discard_port, echo_port, addr[0], addr[1], addr[2], addr[3], strerror(-rc),
                 rc == -EADDRINUSE ? " (another program holds the port)" : "");
        if (s->tcp_fd >= 0)
            close(s->tcp_fd);
        if (s->udp_fd >= 0)
            close(s->udp_fd);
        s->tcp_fd = s->udp_fd = -1;
        return rc;
    }
    return 0;
}

static void conn_close(struct rt_svc *s, int i)
{
    if (s->conn[i] >= 0) {
        rt_loop_del(s->loop, s->conn[i]);
        close(s->conn[i]);
    }
    s->conn[i] = -1;
}

void rt_svc_event(struct rt_svc *s, uint64_t tag)
{
    static uint8_t buf[65536];
    if (tag == RT_TAG_SVC_TCP) {
        int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        for (int i = 0; i < RT_SVC_CONNS; i++)
            if (s->conn[i] < 0 && rt_loop_add(s->loop, fd, RT_TAG_SVC_CONN + (uint64_t)i) == 0) {
                s->conn[i] = fd;
                return;
            }
        close(fd); /* full */
        return;
    }
    if (tag == RT_TAG_SVC_UDP) {
        for (int k = 0; k < ECHOES_PER_EVENT; k++) {
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(s->udp_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n < 0)
                return;
            if (sendto(s->udp_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
                s->echoed_datagrams++;
        }
        return;
    }
    int i = (int)(tag - RT_TAG_SVC_CONN);
    if (i < 0 || i >= RT_SVC_CONNS || s->conn[i] < 0)
        return;
    for (int k = 0; k < READS_PER_EVENT; k++) {
        ssize_t n = recv(s->conn[i], buf, sizeof buf, 0);
        if (n > 0) {
            s->discarded_bytes += (uint64_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            conn_close(s, i);
        return;
    }
}

void rt_svc_close(struct rt_svc *s)
{
    for (int i = 0; i < RT_SVC_CONNS; i++)
        conn_close(s, i);
    if (s->tcp_fd >= 0) {
        rt_loop_del(s->loop, s->tcp_fd);
        close(s->tcp_fd);
    }
    if (s->udp_fd >= 0) {
        rt_loop_del(s->loop, s->udp_fd);
        close(s->udp_fd);
    }
    s->tcp_fd = s->udp_fd = -1;
}
