/* Fuzz the SOCKS5 server side (runtime/socks5.c). Byte 0: bit 0 requires
 * user and password, bits 1-7 seed the chunk sizes; the rest is what a
 * client sends, any bytes. Fed whole and fed in chunks, the conversation
 * gives the same status, replies and destination; a finished parser takes
 * nothing more; a READY destination can be written back in a reply. The
 * same bytes are read as a UDP ASSOCIATE datagram: a header that parses is
 * written back byte for byte the same, and the payload is what follows it. */
#include <stdint.h>
#include <string.h>

#include "runtime/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

struct result {
    enum rt_socks5_status st;
    uint8_t out[64];
    size_t out_len, used;
    struct rt_socks5 p;
};

static void run(const struct rt_socks5_config *cfg, const uint8_t *in, size_t len, unsigned seed,
                struct result *r)
{
    rt_socks5_init(&r->p, cfg);
    r->st = RT_SOCKS5_MORE;
    r->out_len = r->used = 0;
    size_t off = 0;
    while (r->st == RT_SOCKS5_MORE && off < len) {
        size_t k = len - off;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 9;
            if (k > len - off)
                k = len - off;
        }
        uint8_t out[RT_SOCKS5_OUT_MAX];
        size_t used = 0, out_len = 0;
        r->st = rt_socks5_feed(&r->p, in + off, k, &used, out, &out_len);
        CHECK(used <= k && out_len <= RT_SOCKS5_OUT_MAX);
        CHECK(r->st != RT_SOCKS5_MORE || used == k);
        CHECK(r->out_len + out_len <= sizeof r->out);
        memcpy(r->out + r->out_len, out, out_len);
        r->out_len += out_len;
        r->used = off + used;
        off += k;
    }
    if (r->st != RT_SOCKS5_MORE) {
        uint8_t out[RT_SOCKS5_OUT_MAX];
        size_t used = 1, out_len = 1;
        CHECK(rt_socks5_feed(&r->p, in, len, &used, out, &out_len) == r->st);
        CHECK(used == 0 && out_len == 0);
    }
}

static void udp(const uint8_t *d, size_t len)
{
    struct rt_socks5_addr dst;
    const uint8_t *pl = NULL;
    size_t pl_len = 0;
    if (rt_socks5_udp_parse(d, len, &dst, &pl, &pl_len) != 0)
        return;
    CHECK(pl >= d && pl + pl_len == d + len);
    size_t h = (size_t)(pl - d);
    uint8_t out[RT_SOCKS5_UDP_HDR_MAX];
    CHECK(rt_socks5_udp_header(out, sizeof out, &dst) == h);
    CHECK(memcmp(out, d, h) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const struct rt_socks5_config open_cfg = {.require_auth = false};
    static const struct rt_socks5_config auth_cfg = {
        .require_auth = true, .user = "user", .pass = "pass"};
    const struct rt_socks5_config *cfg = data[0] & 1 ? &auth_cfg : &open_cfg;
    static struct result whole, parts;
    run(cfg, data + 1, size - 1, 0, &whole);
    run(cfg, data + 1, size - 1, 1u + (data[0] >> 1), &parts);
    CHECK(whole.st == parts.st && whole.out_len == parts.out_len);
    CHECK(memcmp(whole.out, parts.out, whole.out_len) == 0);
    CHECK(whole.p.rep == parts.p.rep);
    if (whole.st == RT_SOCKS5_READY) {
        CHECK(whole.used == parts.used);
        CHECK(memcmp(&whole.p.dst, &parts.p.dst, sizeof whole.p.dst) == 0);
        CHECK(whole.p.cmd == RT_SOCKS5_CONNECT || whole.p.cmd == RT_SOCKS5_UDP_ASSOCIATE);
        uint8_t r[RT_SOCKS5_REPLY_MAX];
        CHECK(rt_socks5_reply(r, sizeof r, 0, &whole.p.dst) > 0);
    }
    udp(data + 1, size - 1);
    return 0;
}
