/* Fuzz the TUN offloads of the live program (runtime/offload.c).
 *
 * Byte 0 chooses the side.
 *
 * Even: splitting. Bytes 1-3 are a length (17 bits) of filler appended to
 * the rest, so that a short input can stand for a 64 KiB super-packet; the
 * rest is a virtio_net_hdr and a packet, in a buffer that ends where they
 * end, and a scratch of exactly RT_OFFLOAD_SCRATCH bytes (ASan sees any byte
 * past either). Every packet passed on fits; the count returned is the
 * number passed on; the segments of a TSO packet are valid IPv4/TCP
 * (lengths, both checksums), no longer than gso_size of payload, in
 * sequence, and their payloads add up to the super-packet's.
 *
 * Odd: coalescing. The rest drives a TCP flow (a header whose options come
 * from the input, then operations: the next segment, a segment with one
 * header byte changed, a raw packet of input bytes) pushed into a
 * coalescer that writes to a datagram socket pair. Each record read back is
 * either a pushed packet unchanged, or a super-packet that rt_offload_split
 * turns back into exactly the pushed segments, but for the IP ID and the
 * checksums (which must be valid). Nothing is lost, added or reordered. */
#define _GNU_SOURCE
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static uint64_t sum16(const uint8_t *p, size_t len, uint64_t acc)
{
    for (; len >= 2; p += 2, len -= 2)
        acc += be16(p);
    if (len == 1)
        acc += (uint64_t)p[0] << 8;
    return acc;
}

static uint16_t fold(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* A segment as rt_offload_split makes it: IPv4 length and checksum, TCP
 * checksum over the pseudo-header. */
static void check_segment(const uint8_t *p, size_t len, size_t ihl, size_t thl)
{
    CHECK(len >= ihl + thl && len <= 65535);
    CHECK(be16(p + 2) == len);
    CHECK(fold(sum16(p, ihl, 0)) == 0xffff);
    size_t tcp = len - ihl;
    CHECK(fold(sum16(p + ihl, tcp, sum16(p + 12, 8, 6 + tcp))) == 0xffff);
}

/* ---- splitting */

struct split {
    const uint8_t *buf, *scratch;
    size_t buf_len;
    unsigned calls;
    bool tso;
    size_t ihl, thl, mss, payload, seen;
    uint32_t seq0;
};

static void on_split(void *ctx, const uint8_t *pkt, size_t len)
{
    struct split *s = ctx;
    bool in_buf = pkt >= s->buf && pkt + len <= s->buf + s->buf_len;
    bool in_scratch = pkt >= s->scratch && pkt + len <= s->scratch + RT_OFFLOAD_SCRATCH;
    CHECK(in_buf || in_scratch);
    CHECK(len > 0);
    s->calls++;
    if (!s->tso)
        return;
    size_t hlen = s->ihl + s->thl, seg = len - hlen;
    check_segment(pkt, len, s->ihl, s->thl);
    CHECK(seg <= s->mss);
    CHECK(be32(pkt + s->ihl + 4) == s->seq0 + (uint32_t)s->seen);
    if (s->seen + seg < s->payload)
        CHECK(seg == s->mss); /* only the last is short */
    s->seen += seg;
}

/* Static, so no input pays for mapping 64 KiB or more; ASan still sees a
 * byte past either: the scratch ends at a global's redzone, and the input
 * sits at the end of `space`. */
static uint8_t scratch[RT_OFFLOAD_SCRATCH];
static uint8_t space[(1 << 17) + (1 << 16)];

static void split_side(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    size_t pad = (size_t)(data[0] & 1) << 16 | (size_t)data[1] << 8 | data[2];
    data += 3, size -= 3;
    size_t len = size + pad;
    if (len > sizeof space)
        return;
    uint8_t *buf = space + sizeof space - len;
    if (size > 0)
        memcpy(buf, data, size);
    for (size_t i = 0; i < pad; i++)
        buf[size + i] = (uint8_t)(i * 7 + 1);
    struct split s = {.buf = buf, .scratch = scratch, .buf_len = len};
    struct virtio_net_hdr h;
    const uint8_t *p = buf + RT_VNET_HDR_LEN;
    size_t plen = len > RT_VNET_HDR_LEN ? len - RT_VNET_HDR_LEN : 0;
    if (len > RT_VNET_HDR_LEN) {
        memcpy(&h, buf, sizeof h);
        s.tso = (h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4;
        if (s.tso && plen >= 40) {
            s.ihl = (size_t)(p[0] & 15) * 4;
            s.thl = plen > s.ihl + 12 ? (size_t)(p[s.ihl + 12] >> 4) * 4 : 0;
            s.mss = h.gso_size;
            s.payload = plen >= s.ihl + s.thl ? plen - s.ihl - s.thl : 0;
            s.seq0 = plen >= s.ihl + 8 ? be32(p + s.ihl + 4) : 0;
        }
    }
    unsigned n = rt_offload_split(buf, len, scratch, on_split, &s);
    CHECK(n == s.calls);
    if (s.tso && n > 0)
        CHECK(s.seen == s.payload);
    if (!s.tso)
        CHECK(n <= 1);
}

/* ---- coalescing */

enum { MAX_PUSH = 256, STORE = 1 << 20 };

static uint8_t store[STORE]; /* the pushed packets, back to back */
static size_t store_at[MAX_PUSH + 1], n_pushed;
static int sock[2] = {-1, -1};
static size_t n_checked;
static uint8_t record[65536 + 64], scratch_co[RT_OFFLOAD_SCRATCH];

static void on_resplit(void *ctx, const uint8_t *pkt, size_t len)
{
    CHECK(n_checked < n_pushed);
    const uint8_t *want = store + store_at[n_checked];
    size_t want_len = store_at[n_checked + 1] - store_at[n_checked];
    n_checked++;
    CHECK(len == want_len && len >= 40);
    size_t thl = (size_t)(pkt[32] >> 4) * 4;
    check_segment(pkt, len, 20, thl);
    /* all equal but the IP ID (4-5) and the checksums (10-11, 36-37) */
    CHECK(memcmp(pkt, want, 4) == 0 && memcmp(pkt + 6, want + 6, 4) == 0 &&
          memcmp(pkt + 12, want + 12, 24) == 0 && memcmp(pkt + 38, want + 38, len - 38) == 0);
}

/* Read and check every record waiting on the socket. */
static void drain(void)
{
    static const uint8_t valid[RT_VNET_HDR_LEN] = {VIRTIO_NET_HDR_F_DATA_VALID};
    for (;;) {
        ssize_t r = recv(sock[1], record, sizeof record, MSG_DONTWAIT);
        if (r < 0)
            return;
        CHECK((size_t)r >= RT_VNET_HDR_LEN && (size_t)r <= RT_VNET_HDR_LEN + 65535);
        struct virtio_net_hdr h;
        memcpy(&h, record, sizeof h);
        if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
            CHECK(memcmp(record, valid, sizeof valid) == 0 && n_checked < n_pushed);
            size_t len = (size_t)r - RT_VNET_HDR_LEN;
            CHECK(len == store_at[n_checked + 1] - store_at[n_checked]);
            CHECK(memcmp(record + RT_VNET_HDR_LEN, store + store_at[n_checked], len) == 0);
            n_checked++;
        } else {
            CHECK(h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.gso_size > 0);
            size_t before = n_checked;
            unsigned n = rt_offload_split(record, (size_t)r, scratch_co, on_resplit, NULL);
            CHECK(n >= 2 && n == n_checked - before && n <= 64);
        }
    }
}

static void push(struct rt_coalescer *k, const uint8_t *pkt, size_t len)
{
    if (n_pushed >= MAX_PUSH || store_at[n_pushed] + len > STORE)
        return;
    memcpy(store + store_at[n_pushed], pkt, len);
    store_at[n_pushed + 1] = store_at[n_pushed] + len;
    n_pushed++;
    rt_coalesce_push(k, pkt, len);
    drain();
}

static void set_len_csum(uint8_t *p, size_t len)
{
    p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
    p[10] = p[11] = 0;
    uint16_t c = (uint16_t)~fold(sum16(p, 20, 0));
    p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
}

static void coalesce_side(const uint8_t *data, size_t size)
{
    if (sock[0] < 0) {
        /* non-blocking: a record that does not fit is missing, not a hang */
        CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sock) == 0);
        int big = 1 << 20;
        setsockopt(sock[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        setsockopt(sock[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    }
    if (size < 2)
        return;
    /* the flow's header: IPv4 without options, TCP with 0-40 bytes of options */
    static uint8_t pkt[65536];
    size_t opts = (size_t)(data[0] % 11) * 4, thl = 20 + opts;
    uint8_t flow_flags = data[1];
    data += 2, size -= 2;
    if (size < opts)
        return;
    static const uint8_t ip[20] = {0x45, 0, 0,   0,  0x12, 0x34, 0x40, 0, 64,  6,
                                   0,    0, 198, 18, 0,    2,    203,  0, 113, 2};
    static const uint8_t tcp[20] = {0x9c, 0x40, 0x1f, 0x90, 0, 0,    0,    0,
                                    0,    0,    0x20, 0,    0, 0x10, 0x01, 0xf5};
    uint8_t hdr[80];
    memcpy(hdr, ip, 20);
    memcpy(hdr + 20, tcp, 20);
    hdr[32] = (uint8_t)(thl / 4 << 4); /* data offset */
    memcpy(hdr + 40, data, opts);
    data += opts, size -= opts;
    if (flow_flags & 1)
        hdr[1] = 0xb8; /* TOS */
    uint32_t seq = 1000;
    uint16_t id = 1;
    struct rt_coalescer k;
    rt_coalesce_init(&k, sock[0]);
    n_pushed = n_checked = 0;
    store_at[0] = 0;
    while (size >= 2) {
        uint8_t op = data[0], arg = data[1];
        data += 2, size -= 2;
        size_t payload = (size_t)arg * 8 + (op >> 4);
        if ((op & 3) == 3) { /* raw bytes of the input */
            size_t n = arg < size ? arg : size;
            push(&k, data, n);
            data += n, size -= n;
            continue;
        }
        size_t len = 20 + thl + payload;
        memcpy(pkt, hdr, 20 + thl);
        for (size_t i = 0; i < payload; i++)
            pkt[20 + thl + i] = (uint8_t)(seq + i);
        pkt[4] = (uint8_t)(id >> 8), pkt[5] = (uint8_t)id;
        id++;
        pkt[24] = (uint8_t)(seq >> 24), pkt[25] = (uint8_t)(seq >> 16);
        pkt[26] = (uint8_t)(seq >> 8), pkt[27] = (uint8_t)seq;
        if (op & 4)
            pkt[33] |= 0x08;              /* PSH */
        if ((op & 3) == 1 && size >= 2) { /* one header byte changed */
            pkt[data[0] % (20 + thl)] ^= data[1] != 0 ? data[1] : 1;
            data += 2, size -= 2;
        }
        if ((op & 3) != 2) /* 2: the sequence number jumps (a gap) */
            seq += (uint32_t)payload;
        else
            seq += (uint32_t)payload + 1;
        set_len_csum(pkt, len);
        push(&k, pkt, len);
    }
    rt_coalesce_flush(&k);
    drain();
    CHECK(n_checked == n_pushed);
    CHECK(k.packets == n_pushed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        coalesce_side(data + 1, size - 1);
    else
        split_side(data + 1, size - 1);
    return 0;
}
