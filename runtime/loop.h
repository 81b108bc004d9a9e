/*
 * loop.h: the event loop (Redis ae / ngtcp2 example style). One epoll set;
 * the caller computes the core's next deadline, waits until it or until an
 * fd is ready, then feeds every ready fd in batches with one `now`, runs the
 * core's on_timeout when the deadline passed, and drains the outputs.
 * SIGINT, SIGTERM and SIGHUP arrive as readable events on a signalfd, so a
 * signal never interrupts the core half-way.
 */
#ifndef RT_LOOP_H
#define RT_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "core/time.h"

#define RT_TAG_SIGNAL UINT64_MAX

struct rt_loop {
    int epfd;
    int sigfd;
};

/* Returns 0 or -errno. */
int rt_loop_init(struct rt_loop *l);
void rt_loop_close(struct rt_loop *l);
/* Watch fd for input; `tag` comes back in ev.data.u64. */
int rt_loop_add(struct rt_loop *l, int fd, uint64_t tag);
/* Watch an added fd for output too (out), or for input only again. */
int rt_loop_watch(struct rt_loop *l, int fd, uint64_t tag, bool out);
int rt_loop_del(struct rt_loop *l, int fd);
/* Wait until `deadline` (absolute, TG_TIME_NEVER = no limit) or an event;
 * returns the number of events (0 on timeout) and the time after waking. */
int rt_loop_wait(struct rt_loop *l, tg_time deadline, struct epoll_event *ev, int cap,
                 tg_time *now);
/* After fork (daemonizing): a signalfd wakes epoll only in the process that
 * registered it, so the child makes its own. Returns 0 or -errno. */
int rt_loop_after_fork(struct rt_loop *l);
/* The pending signal's number (after an RT_TAG_SIGNAL event), 0 if none. */
int rt_loop_signal(struct rt_loop *l);

#endif
