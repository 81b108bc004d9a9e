/*
 * ctlreq.h: the requests of the control socket and of the metrics listener,
 * and their answers, as bytes in memory (no sockets: control.c moves the
 * bytes, these functions decide what they mean).
 *
 * Control socket: one line, `status`, `status json`, `metrics` or `uplink
 * add|remove|enable|disable IFACE` (trailing spaces, tabs and a carriage
 * return are ignored); anything else gets a one-line error. The answer to
 * an uplink command is one line starting with `ok:` or `error:`.
 * Metrics listener: an HTTP/1.x request; the request line must be
 * `METHOD TARGET HTTP/x.y`. GET /metrics (a query string after it is
 * ignored) is answered with the Prometheus text (Content-Type
 * `text/plain; version=0.0.4`), another method on /metrics with 405, any
 * other target with 404, anything that is not a request line with 400.
 * The request may hold any bytes (NUL included); nothing of it is echoed
 * back.
 */
#ifndef RT_CTLREQ_H
#define RT_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>

enum rt_ctl_what { RT_CTL_STATUS, RT_CTL_METRICS, RT_CTL_STATUS_JSON };

/* Writes the answer into buf[0..cap); returns its length (<= cap). */
typedef size_t (*rt_ctl_render)(void *ctx, enum rt_ctl_what what, char *buf, size_t cap);

enum rt_uplink_verb { RT_UPLINK_ADD, RT_UPLINK_REMOVE, RT_UPLINK_ENABLE, RT_UPLINK_DISABLE };
/* Carries out `uplink VERB IFACE` (iface: 1..15 characters, no '/' or space)
 * and writes the one-line answer (`ok: ...` or `error: ...`) into
 * buf[0..cap); returns its length (<= cap). */
typedef size_t (*rt_ctl_command)(void *ctx, enum rt_uplink_verb verb, const char *iface,
                                 char *buf, size_t cap);

enum rt_req {
    RT_REQ_MORE,        /* incomplete: wait for more bytes */
    RT_REQ_STATUS,      /* control: `status` */
    RT_REQ_METRICS,     /* control: `metrics`; HTTP: GET /metrics */
    RT_REQ_UNKNOWN,     /* control: any other line */
    RT_REQ_STATUS_JSON, /* control: `status json` */
    RT_REQ_UPLINK,      /* control: a line starting with `uplink ` (rt_req_uplink_answer) */
    RT_REQ_HTTP_METHOD, /* HTTP: /metrics with another method than GET */
    RT_REQ_HTTP_BAD,    /* HTTP: not a request line, or headers that never end */
    RT_REQ_HTTP_NOT_FOUND, /* HTTP: a well-formed request for another target */
};

/* What the bytes req[0..len) received so far on a connection ask for.
 * `http`: from the metrics listener. `final`: no more bytes will come (the
 * buffer is full or the peer finished sending); then the answer is never
 * RT_REQ_MORE. */
enum rt_req rt_req_parse(const char *req, size_t len, bool http, bool final);

/* The whole answer to `r` (not RT_REQ_MORE) into out[0..cap), the HTTP
 * status line and headers included; `render` writes the status or metrics
 * text. Returns its length, at most cap. cap must be at least 256. */
size_t rt_req_answer(enum rt_req r, bool http, rt_ctl_render render, void *ctx, char *out,
                     size_t cap);

/* The answer to an RT_REQ_UPLINK request req[0..len): `command` is called
 * with the verb and interface when the line is well formed; otherwise, or
 * when command is NULL (a program without uplinks), an `error:` line says
 * what was expected. Returns its length, at most cap. */
size_t rt_req_uplink_answer(const char *req, size_t len, rt_ctl_command command, void *ctx,
                            char *out, size_t cap);

#endif
