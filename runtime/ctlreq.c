/* Control and metrics requests: parsing and answers (see ctlreq.h). Every
 * look at the request is bounded by its length, never by a NUL. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "ctlreq.h"

enum { HEAD_MAX = 192 }; /* room for the HTTP status line and headers */

static size_t trim_end(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n;
}

static enum rt_req control_line(const char *req, size_t len, bool final)
{
    const char *nl = memchr(req, '\n', len);
    if (nl == NULL && !final)
        return RT_REQ_MORE;
    size_t n = trim_end(req, nl != NULL ? (size_t)(nl - req) : len);
    if (n == 6 && memcmp(req, "status", 6) == 0)
        return RT_REQ_STATUS;
    if (n == 7 && memcmp(req, "metrics", 7) == 0)
        return RT_REQ_METRICS;
    if (n == 11 && memcmp(req, "status json", 11) == 0)
        return RT_REQ_STATUS_JSON;
    if (n >= 7 && memcmp(req, "uplink ", 7) == 0)
        return RT_REQ_UPLINK;
    return RT_REQ_UNKNOWN;
}

/* `METHOD SP TARGET SP HTTP/d.d` (RFC 9112 §3, the target any visible
 * ASCII): for the target /metrics (or /metrics?query) RT_REQ_METRICS with
 * GET, RT_REQ_HTTP_METHOD with another method; RT_REQ_HTTP_NOT_FOUND for
 * any other target. */
static enum rt_req request_line(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i <= 16 && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    size_t method = i;
    if (method == 0 || method > 16 || i >= n || s[i++] != ' ')
        return RT_REQ_HTTP_BAD;
    size_t target = i;
    while (i < n && s[i] > 0x20 && s[i] < 0x7f)
        i++;
    if (i == target || i >= n || s[i++] != ' ')
        return RT_REQ_HTTP_BAD;
    if (n - i != 8 || memcmp(s + i, "HTTP/", 5) != 0 || s[i + 5] < '0' || s[i + 5] > '9' ||
        s[i + 6] != '.' || s[i + 7] < '0' || s[i + 7] > '9')
        return RT_REQ_HTTP_BAD;
    size_t tlen = i - 1 - target; /* i is past the space after the target */
    bool metrics = tlen >= 8 && memcmp(s + target, "/metrics", 8) == 0 &&
                   (tlen == 8 || s[target + 8] == '?');
    if (!metrics)
        return RT_REQ_HTTP_NOT_FOUND;
    return method == 3 && memcmp(s, "GET", 3) == 0 ? RT_REQ_METRICS : RT_REQ_HTTP_METHOD;
}

static enum rt_req http_request(const char *req, size_t len, bool final)
{
    bool ended = memmem(req, len, "\r\n\r\n", 4) != NULL || memmem(req, len, "\n\n", 2) != NULL;
    if (!ended && !final)
        return RT_REQ_MORE;
    /* when no more comes, the request line is enough */
    const char *nl = memchr(req, '\n', len);
    if (nl == NULL)
        return RT_REQ_HTTP_BAD;
    size_t n = (size_t)(nl - req);
    if (n > 0 && req[n - 1] == '\r')
        n--;
    return request_line(req, n);
}

enum rt_req rt_req_parse(const char *req, size_t len, bool http, bool final)
{
    return http ? http_request(req, len, final) : control_line(req, len, final);
}

static size_t copy_text(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap)
        n = cap;
    memcpy(out, s, n);
    return n;
}

size_t rt_req_answer(enum rt_req r, bool http, rt_ctl_render render, void *ctx, char *out,
                     size_t cap)
{
    if (!http) {
        if (r == RT_REQ_STATUS || r == RT_REQ_METRICS || r == RT_REQ_STATUS_JSON) {
            size_t n = render(ctx,
                              r == RT_REQ_METRICS       ? RT_CTL_METRICS
                              : r == RT_REQ_STATUS_JSON ? RT_CTL_STATUS_JSON
                                                        : RT_CTL_STATUS,
                              out, cap);
            return n < cap ? n : cap;
        }
        return copy_text(out, cap,
                         "unknown request: expected `status`, `status json`, `metrics` or "
                         "`uplink add|remove|enable|disable IFACE`\n");
    }
    if (cap < 2 * HEAD_MAX)
        return 0;
    const char *status, *extra = "", *type = "text/plain; charset=utf-8";
    size_t n;
    char *body = out + HEAD_MAX;
    if (r == RT_REQ_METRICS) {
        status = "200 OK";
        type = "text/plain; version=0.0.4; charset=utf-8"; /* Prometheus text format */
        n = render(ctx, RT_CTL_METRICS, body, cap - HEAD_MAX);
        if (n > cap - HEAD_MAX)
            n = cap - HEAD_MAX;
    } else if (r == RT_REQ_HTTP_METHOD) {
        status = "405 Method Not Allowed";
        extra = "Allow: GET\r\n";
        n = copy_text(body, cap - HEAD_MAX, "only GET is served here\n");
    } else if (r == RT_REQ_HTTP_NOT_FOUND) {
        status = "404 Not Found";
        n = copy_text(body, cap - HEAD_MAX, "metrics are served at /metrics\n");
    } else {
        status = "400 Bad Request";
        n = copy_text(body, cap - HEAD_MAX, "expected an HTTP request: GET /metrics HTTP/1.0\n");
    }
    char head[HEAD_MAX];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.0 %s\r\n%sContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, extra, type, n);
    if (h < 0 || (size_t)h >= sizeof head)
        return 0;
    memmove(out + h, body, n);
    memcpy(out, head, (size_t)h);
    return (size_t)h + n;
}

size_t rt_req_uplink_answer(const char *req, size_t len, rt_ctl_command command, void *ctx,
                            char *out, size_t cap)
{
    static const char *const verbs[] = {"add", "remove", "enable", "disable"};
    const char *nl = memchr(req, '\n', len);
    size_t n = trim_end(req, nl != NULL ? (size_t)(nl - req) : len);
    size_t i = 7; /* after "uplink " */
    int verb = -1;
    for (int v = 0; v < 4 && verb < 0 && n > i && memcmp(req, "uplink ", i) == 0; v++) {
        size_t vl = strlen(verbs[v]);
        if (n - i > vl && memcmp(req + i, verbs[v], vl) == 0 && req[i + vl] == ' ') {
            verb = v;
            i += vl + 1;
        }
    }
    char iface[16];
    size_t il = n > i ? n - i : 0;
    bool ok = verb >= 0 && il >= 1 && il < sizeof iface;
    for (size_t k = 0; ok && k < il; k++)
        ok = req[i + k] > 0x20 && req[i + k] < 0x7f && req[i + k] != '/';
    if (!ok)
        return copy_text(out, cap,
                         "error: expected `uplink add|remove|enable|disable IFACE` (an "
                         "interface name of 1 to 15 characters)\n");
    if (command == NULL)
        return copy_text(out, cap, "error: this program has no uplinks (it is a server)\n");
    memcpy(iface, req + i, il);
    iface[il] = '\0';
    size_t w = command(ctx, (enum rt_uplink_verb)verb, iface, out, cap);
    return w < cap ? w : cap;
}
