/* epoll + signalfd. Timeouts use epoll_pwait2's nanoseconds so timers fire
 * on time, not a millisecond late. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"

int rt_loop_init(struct rt_loop *l)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -errno;
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sigfd < 0)
        return -errno;
    return rt_loop_add(l, l->sigfd, RT_TAG_SIGNAL);
}

void rt_loop_close(struct rt_loop *l)
{
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->epfd >= 0)
        close(l->epfd);
    l->sigfd = l->epfd = -1;
}

int rt_loop_add(struct rt_loop *l, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

int rt_loop_watch(struct rt_loop *l, int fd, uint64_t tag, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.u64 = tag};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

int rt_loop_del(struct rt_loop *l, int fd)
{
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno;
}

int rt_loop_wait(struct rt_loop *l, tg_time deadline, struct epoll_event *ev, int cap, tg_time *now)
{
    static int no_pwait2;
    int n;
    if (deadline == TG_TIME_NEVER) {
        n = epoll_wait(l->epfd, ev, cap, -1);
    } else {
        tg_time t = rt_now();
        tg_time wait_us = deadline > t ? deadline - t : 0;
        if (!no_pwait2) {
            struct timespec ts = {.tv_sec = (time_t)(wait_us / 1000000u),
                                  .tv_nsec = (long)(wait_us % 1000000u) * 1000};
            n = epoll_pwait2(l->epfd, ev, cap, &ts, NULL);
            if (n < 0 && errno == ENOSYS) {
                no_pwait2 = 1;
                n = epoll_wait(l->epfd, ev, cap, (int)((wait_us + 999) / 1000));
            }
        } else {
            n = epoll_wait(l->epfd, ev, cap, (int)((wait_us + 999) / 1000));
        }
    }
    if (n < 0)
        n = errno == EINTR ? 0 : -errno;
    *now = rt_now();
    return n;
}

int rt_loop_signal(struct rt_loop *l)
{
    struct signalfd_siginfo si;
    ssize_t r = read(l->sigfd, &si, sizeof si);
    return r == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}

int rt_loop_after_fork(struct rt_loop *l)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    rt_loop_del(l, l->sigfd);
    close(l->sigfd);
    l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sigfd < 0)
        return -errno;
    return rt_loop_add(l, l->sigfd, RT_TAG_SIGNAL);
}
