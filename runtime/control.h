/*
 * control.h: the control socket and the metrics endpoint.
 *
 * Control: a Unix stream socket <state dir>/<tun>.sock (mode 0600). A
 * client sends one line (ctlreq.h: "status", "status json", "metrics",
 * "uplink VERB IFACE") and reads the answer until the program closes the
 * connection; `triglav status` and `triglav uplink` do exactly that.
 * Metrics: with --metrics-addr ADDR:PORT, an HTTP/1.0 listener answers
 * GET /metrics with the Prometheus text format (404 for other paths). Both
 * live in the program's one event loop; connections are short and bounded
 * (8 at once, the oldest closed for a new one; 4 KiB of request). An answer
 * grows to what it needs (a server's status and metrics list every session;
 * up to RT_CTL_ANSWER_MAX) and is sent as the peer reads it, without
 * blocking the loop. What a request means and the answer's bytes are
 * ctlreq.h's.
 */
#ifndef RT_CONTROL_H
#define RT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "core/key.h"
#include "ctlreq.h"
#include "loop.h"

#define RT_CTL_CONNS    8
#define RT_CTL_ANSWER_MAX (256u << 20) /* bytes; a longer answer is cut */
#define RT_TAG_CTL_UNIX 300 /* loop tags 300 .. 300 + 2 + RT_CTL_CONNS */
#define RT_TAG_CTL_HTTP 301
#define RT_TAG_CTL_CONN 302

struct rt_ctl_conn {
    int fd;   /* -1 = free */
    int http; /* came from the metrics listener */
    size_t got;
    char req[4096];
    char *out;             /* the answer being sent (heap), NULL before it */
    size_t out_len, out_off;
    uint64_t since;        /* accept order: the oldest goes when all are busy */
};

struct rt_control {
    int unix_fd, http_fd;
    char path[256];
    struct rt_ctl_conn conn[RT_CTL_CONNS];
    struct rt_loop *loop;
    rt_ctl_render render;
    rt_ctl_command command; /* `uplink ...` requests (NULL: refused); set after open */
    void *ctx;
    uint64_t accepted;      /* connections so far */
    size_t hint[16];        /* by enum rt_req: the last answer's size, where the next
                               one's buffer starts */
    bool filled;            /* the last render filled its buffer (it may be cut) */
};

/* Open the control socket at `path` and, if metrics != NULL, the metrics
 * listener. Returns 0 or -errno with a sentence in err. */
int rt_control_open(struct rt_control *c, struct rt_loop *loop, const char *path,
                    const struct tg_key_addr *metrics, rt_ctl_render render, void *ctx, char *err,
                    size_t errcap);
/* A loop event with a tag in the control range. */
void rt_control_event(struct rt_control *c, uint64_t tag);
void rt_control_close(struct rt_control *c);
/* Is `tag` one of ours? */
int rt_control_owns(uint64_t tag);

/* Remove the socket file `path` if nothing listens on it any more (its
 * program is gone). Returns 0 when removed, -ENOENT when there is none,
 * -EBUSY when a program answers there, -EINVAL when it is not a socket. */
int rt_control_remove_stale(const char *path);

/* Client side of `triglav status`: send `line`, copy the answer to stdout.
 * Returns 0, or -errno (-ENOENT: nothing running there). */
int rt_control_query(const char *path, const char *line);
/* The same into out[0..cap) (NUL-terminated; an answer that does not fit is
 * cut); *len gets its length. Waits at most timeout_ms for the answer. */
int rt_control_ask(const char *path, const char *line, char *out, size_t cap, size_t *len,
                   int timeout_ms);

#endif
