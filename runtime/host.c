/* What the core's front ends share: the TUN's I/O and the loop's wait (host.h). */
#include "host.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sys.h"
#include "tun.h"

int rt_tun_io_open(struct rt_tun_io *t, const char *want, bool no_offload, char name[16],
                   char *err, size_t errcap)
{
    t->fd = rt_tun_open(want, !no_offload, &t->offload, name, err, errcap);
    if (t->fd < 0)
        return -1;
    rt_coalesce_init(&t->co, t->fd);
    return 0;
}

void rt_tun_io_close(struct rt_tun_io *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static void counted(void *ctx, const uint8_t *pkt, size_t len)
{
    struct rt_tun_io *t = ctx;
    t->feed(t->ctx, pkt, len);
    if (++t->fed >= 64) {
        t->drain(t->ctx);
        t->fed = 0;
    }
}

void rt_tun_io_read(struct rt_tun_io *t, rt_packet_fn feed, void (*drain)(void *ctx), void *ctx)
{
    t->feed = feed;
    t->drain = drain;
    t->ctx = ctx;
    t->fed = 0;
    for (int i = 0; i < RT_TUN_BATCH; i++) {
        ssize_t n = read(t->fd, t->pkt, sizeof t->pkt);
        if (n <= 0)
            break;
        if (t->offload)
            rt_offload_split(t->pkt, (size_t)n, t->seg, counted, t);
        else
            counted(t, t->pkt, (size_t)n);
    }
}

void rt_tun_io_write(struct rt_tun_io *t, const uint8_t *pkt, size_t len)
{
    if (t->offload)
        rt_coalesce_push(&t->co, pkt, len);
    else if (rt_tun_write(t->fd, 0, pkt, len) < 0 && errno != EAGAIN)
        rt_debug("TUN write: %s", strerror(errno));
}

void rt_tun_io_flush(struct rt_tun_io *t)
{
    if (t->offload)
        rt_coalesce_flush(&t->co);
}

int rt_host_journal(struct rt_journal *j, struct rt_nl *nl, const char *state_dir,
                    const char *name)
{
    char path[300];
    int rc = rt_mkdir(state_dir, 0755);
    if (rc != 0) {
        rt_err("cannot create the state directory %s: %s (give --state-dir DIR)", state_dir,
               strerror(-rc));
        return 1;
    }
    rt_state_path(path, sizeof path, state_dir, name, "state");
    rc = rt_journal_open(j, path, nl);
    if (rc == -EBUSY)
        rt_err("another triglav owns %s (is one running for %s already?)", path, name);
    else if (rc != 0)
        rt_err("cannot write the state file %s: %s", path, strerror(-rc));
    return rc != 0;
}

int rt_host_wait(struct rt_loop *l, tg_time deadline, struct epoll_event *ev, int cap,
                 tg_time *now, bool *stop, const char *what)
{
    int n = rt_loop_wait(l, deadline, ev, cap, now), k = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 != RT_TAG_SIGNAL) {
            ev[k++] = ev[i];
            continue;
        }
        int sig = rt_loop_signal(l);
        if (sig != 0) {
            rt_info("signal %d: %s", sig, what);
            *stop = true;
        }
    }
    return k;
}
