/* SOCKS5 server side (runtime/socks5.c): each conversation of the table gives
 * the same status, replies and destination whole, byte by byte, cut at any
 * one point and in random chunks; every malformed message fails with the
 * reply RFC 1928/1929 asks for; replies and UDP headers read back as built. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "splits.h"
#include "socks5.h"

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const struct rt_socks5_config open_cfg = {.require_auth = false};
static const struct rt_socks5_config auth_cfg = {
    .require_auth = true, .user = "user", .pass = "pass"};
static const struct rt_socks5_config null_cfg = {.require_auth = true};

struct result {
    enum rt_socks5_status st;
    uint8_t out[64];
    size_t out_len, used;
    uint8_t rep, cmd;
    struct rt_socks5_addr dst;
};

/* Feeds in as chunks ending at the given cut points (then the rest), until
 * the parser stops asking for more; collects everything it said. */
static void run(const struct rt_socks5_config *cfg, const uint8_t *in, size_t len,
                const size_t *cuts, size_t ncuts, struct result *r)
{
    struct rt_socks5 p;
    rt_socks5_init(&p, cfg);
    memset(r, 0, sizeof *r);
    r->st = RT_SOCKS5_MORE;
    size_t off = 0;
    for (size_t c = 0; c <= ncuts && r->st == RT_SOCKS5_MORE; c++) {
        size_t end = c < ncuts && cuts[c] < len ? cuts[c] : len;
        if (end < off)
            continue;
        uint8_t out[RT_SOCKS5_OUT_MAX];
        size_t used = 99, out_len = 99;
        r->st = rt_socks5_feed(&p, in + off, end - off, &used, out, &out_len);
        CHECK(used <= end - off);
        CHECK(out_len <= RT_SOCKS5_OUT_MAX);
        if (r->st == RT_SOCKS5_MORE)
            CHECK_EQ(used, end - off);
        if (r->out_len + out_len <= sizeof r->out) {
            memcpy(r->out + r->out_len, out, out_len);
            r->out_len += out_len;
        }
        r->used = off + used;
        off = end;
    }
    r->rep = p.rep;
    r->cmd = p.cmd;
    r->dst = p.dst;
    /* once done, it stays done and takes nothing */
    if (r->st != RT_SOCKS5_MORE) {
        uint8_t out[RT_SOCKS5_OUT_MAX];
        size_t used = 99, out_len = 99;
        CHECK_EQ(rt_socks5_feed(&p, in, len, &used, out, &out_len), r->st);
        CHECK_EQ(used, 0);
        CHECK_EQ(out_len, 0);
    }
}

static int same_result(const struct result *a, const struct result *b)
{
    return a->st == b->st && a->out_len == b->out_len && memcmp(a->out, b->out, a->out_len) == 0 &&
           (a->st == RT_SOCKS5_FAIL || a->used == b->used) && a->rep == b->rep &&
           a->cmd == b->cmd && memcmp(&a->dst, &b->dst, sizeof a->dst) == 0;
}

struct split_ctx {
    const struct rt_socks5_config *cfg;
    const uint8_t *in;
    size_t len;
    const struct result *whole;
};

static void try_split(void *ctx, const size_t *cuts, size_t n)
{
    const struct split_ctx *x = ctx;
    struct result r;
    run(x->cfg, x->in, x->len, cuts, n, &r);
    CHECK(same_result(x->whole, &r));
}

/* Every split of in gives what the whole gives; returns the whole's result. */
static struct result splits(const struct rt_socks5_config *cfg, const uint8_t *in, size_t len)
{
    struct result whole;
    size_t cuts[600];
    run(cfg, in, len, NULL, 0, &whole);
    struct split_ctx x = {cfg, in, len, &whole};
    split_plans(len, 1, 20, 7, 32, cuts, sizeof cuts / sizeof cuts[0], try_split, &x);
    return whole;
}

struct row {
    const char *what;
    const struct rt_socks5_config *cfg;
    const uint8_t *in;
    size_t len;
    int st;
    const uint8_t *out;
    size_t out_len;
    size_t used; /* READY: where the request ends */
    uint8_t rep;
};

#define V4REQ(cmd) 5, cmd, 0, 1, 192, 0, 2, 1, 0x01, 0xbb
#define ERR(rep)   5, rep, 0, 1, 0, 0, 0, 0, 0, 0

static const struct row rows[] = {
    {"connect ipv4, payload after it", &open_cfg, BYTES(5, 1, 0, V4REQ(1), 'G', 'E', 'T'),
     RT_SOCKS5_READY, BYTES(5, 0), 13, 0},
    {"two methods offered, no auth picked", &open_cfg, BYTES(5, 2, 2, 0, V4REQ(1)), RT_SOCKS5_READY,
     BYTES(5, 0), 14, 0},
    {"udp associate", &open_cfg, BYTES(5, 1, 0, V4REQ(3)), RT_SOCKS5_READY, BYTES(5, 0), 13, 0},
    {"half a request", &open_cfg, BYTES(5, 1, 0, 5, 1, 0, 1, 192, 0), RT_SOCKS5_MORE, BYTES(5, 0),
     0, 0},
    {"half a greeting", &open_cfg, BYTES(5, 3, 0, 1), RT_SOCKS5_MORE, NULL, 0, 0, 0},
    {"greeting version 4", &open_cfg, BYTES(4, 1, 0), RT_SOCKS5_FAIL, NULL, 0, 0, 0},
    {"no acceptable method", &open_cfg, BYTES(5, 1, 2), RT_SOCKS5_FAIL, BYTES(5, 0xff), 0, 0},
    {"no methods at all", &open_cfg, BYTES(5, 0), RT_SOCKS5_FAIL, BYTES(5, 0xff), 0, 0},
    {"auth required, none offered", &auth_cfg, BYTES(5, 1, 0), RT_SOCKS5_FAIL, BYTES(5, 0xff), 0,
     0},
    {"bind refused", &open_cfg, BYTES(5, 1, 0, V4REQ(2)), RT_SOCKS5_FAIL, BYTES(5, 0, ERR(7)), 0,
     7},
    {"unknown command", &open_cfg, BYTES(5, 1, 0, V4REQ(9)), RT_SOCKS5_FAIL, BYTES(5, 0, ERR(7)), 0,
     7},
    {"request version 4", &open_cfg, BYTES(5, 1, 0, 4, 1, 0, 1, 1, 2, 3, 4, 0, 80), RT_SOCKS5_FAIL,
     BYTES(5, 0, ERR(1)), 0, 1},
    {"reserved byte set", &open_cfg, BYTES(5, 1, 0, 5, 1, 1, 1, 1, 2, 3, 4, 0, 80), RT_SOCKS5_FAIL,
     BYTES(5, 0, ERR(1)), 0, 1},
    {"address type 2", &open_cfg, BYTES(5, 1, 0, 5, 1, 0, 2, 1, 2, 3, 4, 0, 80), RT_SOCKS5_FAIL,
     BYTES(5, 0, ERR(8)), 0, 8},
    {"empty name", &open_cfg, BYTES(5, 1, 0, 5, 1, 0, 3, 0, 0, 80), RT_SOCKS5_FAIL,
     BYTES(5, 0, ERR(1)), 0, 1},
    {"NUL in a name", &open_cfg, BYTES(5, 1, 0, 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80), RT_SOCKS5_FAIL,
     BYTES(5, 0, ERR(1)), 0, 1},
    {"auth ok", &auth_cfg,
     BYTES(5, 2, 0, 2, 1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 's', V4REQ(1)), RT_SOCKS5_READY,
     BYTES(5, 2, 1, 0), 25, 0},
    {"auth wrong password", &auth_cfg,
     BYTES(5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 'x', V4REQ(1)), RT_SOCKS5_FAIL,
     BYTES(5, 2, 1, 1), 0, 0},
    {"auth wrong user", &auth_cfg, BYTES(5, 1, 2, 1, 4, 'u', 's', 'e', 'x', 4, 'p', 'a', 's', 's'),
     RT_SOCKS5_FAIL, BYTES(5, 2, 1, 1), 0, 0},
    {"auth password a prefix", &auth_cfg,
     BYTES(5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 3, 'p', 'a', 's'), RT_SOCKS5_FAIL, BYTES(5, 2, 1, 1),
     0, 0},
    {"auth password longer", &auth_cfg,
     BYTES(5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 5, 'p', 'a', 's', 's', 's'), RT_SOCKS5_FAIL,
     BYTES(5, 2, 1, 1), 0, 0},
    {"auth empty user and password", &auth_cfg, BYTES(5, 1, 2, 1, 0, 0), RT_SOCKS5_FAIL,
     BYTES(5, 2, 1, 1), 0, 0},
    {"auth version 5", &auth_cfg, BYTES(5, 1, 2, 5, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 's'),
     RT_SOCKS5_FAIL, BYTES(5, 2, 1, 1), 0, 0},
    {"auth with no user configured", &null_cfg, BYTES(5, 1, 2, 1, 0, 0), RT_SOCKS5_FAIL,
     BYTES(5, 2, 1, 1), 0, 0},
    {"half the auth", &auth_cfg, BYTES(5, 1, 2, 1, 4, 'u', 's'), RT_SOCKS5_MORE, BYTES(5, 2), 0, 0},
};

static void table(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *w = &rows[i];
        struct result r = splits(w->cfg, w->in, w->len);
        if (r.st != w->st || r.out_len != w->out_len ||
            (w->out_len && memcmp(r.out, w->out, w->out_len) != 0) ||
            (w->st == RT_SOCKS5_READY && r.used != w->used) || r.rep != w->rep)
            fprintf(stderr, "row \"%s\": got status %d, %zu reply bytes, used %zu, rep %u\n",
                    w->what, (int)r.st, r.out_len, r.used, r.rep);
        CHECK_EQ(r.st, w->st);
        CHECK_EQ(r.out_len, w->out_len);
        if (w->out_len == r.out_len && w->out_len > 0)
            CHECK_MEM(r.out, w->out, w->out_len);
        if (w->st == RT_SOCKS5_READY)
            CHECK_EQ(r.used, w->used);
        if (w->st == RT_SOCKS5_MORE)
            CHECK_EQ(r.used, w->len);
        CHECK_EQ(r.rep, w->rep);
    }
}

/* What READY exposes: command, address of each type, port. */
static void destinations(void)
{
    struct result r = splits(&open_cfg, BYTES(5, 1, 0, V4REQ(1)));
    CHECK_EQ(r.cmd, RT_SOCKS5_CONNECT);
    CHECK_EQ(r.dst.atyp, RT_SOCKS5_IPV4);
    CHECK_MEM(r.dst.ip, ((const uint8_t[]){192, 0, 2, 1}), 4);
    CHECK_EQ(r.dst.port, 443);

    r = splits(&open_cfg, BYTES(5, 1, 0, V4REQ(3)));
    CHECK_EQ(r.cmd, RT_SOCKS5_UDP_ASSOCIATE);

    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    uint8_t req[3 + 22] = {5, 1, 0, 5, 1, 0, 4};
    memcpy(req + 7, v6, 16);
    req[23] = 0x1f;
    req[24] = 0x90;
    r = splits(&open_cfg, req, sizeof req);
    CHECK_EQ(r.st, RT_SOCKS5_READY);
    CHECK_EQ(r.used, sizeof req);
    CHECK_EQ(r.dst.atyp, RT_SOCKS5_IPV6);
    CHECK_MEM(r.dst.ip, v6, 16);
    CHECK_EQ(r.dst.port, 8080);

    /* names of 1 and of 255 bytes (the largest request), NUL-terminated */
    static const size_t lens[] = {1, 11, 255};
    for (size_t k = 0; k < 3; k++) {
        uint8_t big[3 + RT_SOCKS5_REQUEST_MAX + 4] = {5, 1, 0, 5, 1, 0, 3, (uint8_t)lens[k]};
        for (size_t i = 0; i < lens[k]; i++)
            big[8 + i] = (uint8_t)('a' + i % 26);
        big[8 + lens[k]] = 0;
        big[9 + lens[k]] = 53;
        memcpy(big + 10 + lens[k], "xyz", 3); /* early payload: not taken */
        r = splits(&open_cfg, big, 13 + lens[k]);
        CHECK_EQ(r.st, RT_SOCKS5_READY);
        CHECK_EQ(r.used, 10 + lens[k]);
        CHECK_EQ(r.dst.atyp, RT_SOCKS5_NAME);
        CHECK_EQ(strlen(r.dst.name), lens[k]);
        CHECK_MEM(r.dst.name, big + 8, lens[k]);
        CHECK_EQ(r.dst.port, 53);
    }

    /* the largest greeting: 255 methods, the acceptable one last */
    uint8_t g[2 + 255 + 10] = {5, 255};
    for (size_t i = 0; i < 255; i++)
        g[2 + i] = (uint8_t)(0x80 + i % 0x7f);
    g[256] = 0;
    memcpy(g + 257, (const uint8_t[]){V4REQ(1)}, 10);
    r = splits(&open_cfg, g, sizeof g);
    CHECK_EQ(r.st, RT_SOCKS5_READY);
    CHECK_EQ(r.used, sizeof g);
    g[256] = 1; /* now nothing acceptable */
    r = splits(&open_cfg, g, sizeof g);
    CHECK_EQ(r.st, RT_SOCKS5_FAIL);
    CHECK_EQ(r.out_len, 2);
    CHECK_EQ(r.out[1], 0xff);

    /* the largest credentials match when configured */
    static char u[256], pw[256];
    memset(u, 'U', 255);
    memset(pw, 'P', 255);
    const struct rt_socks5_config long_cfg = {.require_auth = true, .user = u, .pass = pw};
    uint8_t a[3 + RT_SOCKS5_AUTH_MAX + 10] = {5, 1, 2, 1, 255};
    memcpy(a + 5, u, 255);
    a[260] = 255;
    memcpy(a + 261, pw, 255);
    memcpy(a + 516, (const uint8_t[]){V4REQ(1)}, 10);
    r = splits(&long_cfg, a, sizeof a);
    CHECK_EQ(r.st, RT_SOCKS5_READY);
    CHECK_MEM(r.out, ((const uint8_t[]){5, 2, 1, 0}), 4);
    a[515] = 'Q'; /* the last byte of the password */
    r = splits(&long_cfg, a, sizeof a);
    CHECK_EQ(r.st, RT_SOCKS5_FAIL);
}

static void replies(void)
{
    uint8_t out[RT_SOCKS5_REPLY_MAX];
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 0, NULL), 10);
    CHECK_MEM(out, ((const uint8_t[]){5, 0, 0, 1, 0, 0, 0, 0, 0, 0}), 10);
    struct rt_socks5_addr b = {.atyp = RT_SOCKS5_IPV4, .ip = {198, 18, 0, 2}, .port = 40000};
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 0, &b), 10);
    CHECK_MEM(out, ((const uint8_t[]){5, 0, 0, 1, 198, 18, 0, 2, 0x9c, 0x40}), 10);
    CHECK_EQ(rt_socks5_reply(out, 9, 0, &b), 0); /* cap too small */
    b.atyp = RT_SOCKS5_IPV6;
    memset(b.ip, 0, 16);
    b.ip[0] = 0x20;
    b.ip[15] = 1;
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 5, &b), 22);
    CHECK_MEM(out, ((const uint8_t[]){5, 5, 0, 4, 0x20}), 5);
    CHECK_EQ(out[19], 1);
    CHECK_EQ(out[20], 0x9c);
    CHECK_EQ(rt_socks5_reply(out, 21, 5, &b), 0);
    b.atyp = 2;
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 0, &b), 0);
    b.atyp = RT_SOCKS5_NAME;
    strcpy(b.name, "example.org");
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 0, &b), 4 + 1 + 11 + 2);
    CHECK_EQ(out[4], 11);
    b.name[0] = 0;
    CHECK_EQ(rt_socks5_reply(out, sizeof out, 0, &b), 0);
}

/* A header built for each address type reads back as the same address and
 * payload; every cut-short header and each bad field is dropped. */
static void udp(void)
{
    struct rt_socks5_addr from[3] = {
        {.atyp = RT_SOCKS5_IPV4, .ip = {203, 0, 113, 9}, .port = 53},
        {.atyp = RT_SOCKS5_IPV6, .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x53}, .port = 5353},
        {.atyp = RT_SOCKS5_NAME, .name = "dns.example", .port = 65535},
    };
    static const size_t hdr[3] = {10, 22, 18};
    for (size_t k = 0; k < 3; k++) {
        uint8_t d[RT_SOCKS5_UDP_HDR_MAX + 5];
        size_t h = rt_socks5_udp_header(d, sizeof d, &from[k]);
        CHECK_EQ(h, hdr[k]);
        CHECK_EQ(rt_socks5_udp_header(d, h - 1, &from[k]), 0);
        memcpy(d + h, "hello", 5);
        struct rt_socks5_addr got;
        const uint8_t *pl = NULL;
        size_t pl_len = 0;
        CHECK_EQ(rt_socks5_udp_parse(d, h + 5, &got, &pl, &pl_len), 0);
        CHECK(memcmp(&got, &from[k], sizeof got) == 0);
        CHECK(pl == d + h);
        CHECK_EQ(pl_len, 5);
        CHECK_EQ(rt_socks5_udp_parse(d, h, &got, &pl, &pl_len), 0); /* empty payload */
        CHECK_EQ(pl_len, 0);
        int cut = 0;
        for (size_t n = 0; n < h; n++)
            cut += rt_socks5_udp_parse(d, n, &got, &pl, &pl_len) == -1;
        CHECK_EQ(cut, h);
        d[2] = 1; /* a fragment */
        CHECK_EQ(rt_socks5_udp_parse(d, h + 5, &got, &pl, &pl_len), -1);
        d[2] = 0;
        d[0] = 1; /* RSV */
        CHECK_EQ(rt_socks5_udp_parse(d, h + 5, &got, &pl, &pl_len), -1);
        d[0] = 0;
        d[1] = 1;
        CHECK_EQ(rt_socks5_udp_parse(d, h + 5, &got, &pl, &pl_len), -1);
        d[1] = 0;
        d[3] = 2; /* ATYP */
        CHECK_EQ(rt_socks5_udp_parse(d, h + 5, &got, &pl, &pl_len), -1);
    }
    const struct rt_socks5_addr bad = {.atyp = 9};
    uint8_t d[64];
    CHECK_EQ(rt_socks5_udp_header(d, sizeof d, &bad), 0);
    struct rt_socks5_addr got;
    const uint8_t *pl;
    size_t pl_len;
    CHECK_EQ(rt_socks5_udp_parse(BYTES(0, 0, 0, 3, 0, 0, 53), &got, &pl, &pl_len), -1);
    CHECK_EQ(rt_socks5_udp_parse(BYTES(0, 0, 0, 3, 2, 'a', 0, 0, 53), &got, &pl, &pl_len), -1);
    CHECK_EQ(rt_socks5_udp_parse(BYTES(0, 0, 0, 3, 2, 'a', 'b', 0, 53, 'x'), &got, &pl, &pl_len),
             0);
    CHECK(strcmp(got.name, "ab") == 0);
    CHECK_EQ(pl_len, 1);
}

int main(void)
{
    srand(1928);
    table();
    destinations();
    replies();
    udp();
    return check_exit("test_socks5");
}
