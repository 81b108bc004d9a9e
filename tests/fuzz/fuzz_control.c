/* Fuzz the requests of the control socket and of the metrics listener
 * (runtime/ctlreq.c). Byte 0: bit 0 chooses HTTP, bits 1-3 how much text
 * the status/metrics renderer writes (nothing, a line, up to its capacity);
 * the rest is the request, any bytes. A request that is complete stays the
 * same request when more bytes follow; nothing is incomplete once no more
 * can come; the answer fits its buffer (exactly sized, so ASan sees a byte
 * past it); an HTTP answer is a status line, headers and a body of exactly
 * Content-Length bytes; the request's bytes are never echoed. An uplink
 * command reaches its callback only with a valid verb and interface name,
 * and its answer is one `ok:` or `error:` line. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ctlreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static size_t render(void *ctx, enum rt_ctl_what what, char *buf, size_t cap)
{
    unsigned mode = *(const unsigned *)ctx;
    CHECK(what == RT_CTL_STATUS || what == RT_CTL_METRICS || what == RT_CTL_STATUS_JSON);
    size_t n = mode == 0 ? 0 : mode == 1 ? 20 : mode == 2 ? cap / 2 : cap;
    if (n > cap)
        n = cap;
    memset(buf, what == RT_CTL_METRICS ? 'm' : what == RT_CTL_STATUS_JSON ? 'j' : 's', n);
    return n;
}

static size_t command(void *ctx, enum rt_uplink_verb verb, const char *iface, char *buf,
                      size_t cap)
{
    (void)ctx;
    size_t il = strlen(iface);
    CHECK(verb <= RT_UPLINK_DISABLE && il >= 1 && il <= 15);
    for (size_t i = 0; i < il; i++)
        CHECK(iface[i] > 0x20 && iface[i] < 0x7f && iface[i] != '/');
    static const char ok[] = "ok: done\n";
    size_t n = sizeof ok - 1 < cap ? sizeof ok - 1 : cap;
    memcpy(buf, ok, n);
    return n;
}

static void uplink_answer(const char *req, size_t len, bool with_command, size_t cap)
{
    char *out = malloc(cap);
    CHECK(out != NULL);
    size_t n = rt_req_uplink_answer(req, len, with_command ? command : NULL, NULL, out, cap);
    CHECK(n <= cap);
    CHECK((n >= 4 && memcmp(out, "ok: ", 4) == 0) || (n >= 7 && memcmp(out, "error: ", 7) == 0) ||
          n == cap);
    free(out);
}

static void answer(enum rt_req r, bool http, unsigned mode, size_t cap)
{
    char *out = malloc(cap);
    CHECK(out != NULL);
    size_t n = rt_req_answer(r, http, render, &mode, out, cap);
    CHECK(n <= cap);
    if (http) {
        CHECK(n > 9 && memcmp(out, "HTTP/1.0 ", 9) == 0);
        const char *end = memmem(out, n, "\r\n\r\n", 4);
        CHECK(end != NULL);
        size_t head = (size_t)(end - out) + 4;
        const char *cl = memmem(out, head, "Content-Length: ", 16);
        CHECK(cl != NULL);
        CHECK(strtoul(cl + 16, NULL, 10) == n - head);
        CHECK((r == RT_REQ_METRICS) == (memcmp(out + 9, "200 ", 4) == 0));
        CHECK((r == RT_REQ_HTTP_NOT_FOUND) == (memcmp(out + 9, "404 ", 4) == 0));
        /* only the metrics are in the Prometheus format */
        CHECK((r == RT_REQ_METRICS) == (memmem(out, head, "version=0.0.4", 13) != NULL));
        if (r == RT_REQ_METRICS)
            for (size_t i = head; i < n; i++)
                CHECK(out[i] == 'm');
    } else if (r == RT_REQ_STATUS || r == RT_REQ_METRICS || r == RT_REQ_STATUS_JSON) {
        for (size_t i = 0; i < n; i++)
            CHECK(out[i] == (r == RT_REQ_METRICS ? 'm' : r == RT_REQ_STATUS_JSON ? 'j' : 's'));
    } else {
        CHECK(n > 0 && memcmp(out, "unknown request", 15) == 0);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool http = data[0] & 1;
    unsigned mode = (data[0] >> 1) & 3;
    const char *req = (const char *)data + 1;
    size_t len = size - 1;
    char *copy = malloc(len > 0 ? len : 1); /* exactly sized */
    CHECK(copy != NULL);
    if (len > 0)
        memcpy(copy, req, len);
    enum rt_req half = rt_req_parse(copy, len / 2, http, false);
    enum rt_req whole = rt_req_parse(copy, len, http, false);
    enum rt_req last = rt_req_parse(copy, len, http, true);
    CHECK(last != RT_REQ_MORE);
    if (half != RT_REQ_MORE)
        CHECK(whole == half);
    if (whole != RT_REQ_MORE)
        CHECK(last == whole);
    if (http)
        CHECK(last == RT_REQ_METRICS || last == RT_REQ_HTTP_METHOD || last == RT_REQ_HTTP_BAD ||
              last == RT_REQ_HTTP_NOT_FOUND);
    else
        CHECK(last == RT_REQ_STATUS || last == RT_REQ_METRICS || last == RT_REQ_UNKNOWN ||
              last == RT_REQ_STATUS_JSON || last == RT_REQ_UPLINK);
    if (last == RT_REQ_UPLINK) {
        uplink_answer(copy, len, true, 512);
        uplink_answer(copy, len, false, 512);
        uplink_answer(copy, len, true, 5);
    } else {
        answer(last, http, mode, 512);
        answer(last, http, mode, (1 << 16) + 512);
    }
    free(copy);
    return 0;
}
