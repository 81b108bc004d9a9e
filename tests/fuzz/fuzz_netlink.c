/* Fuzz the rtnetlink answer parser of the live program (runtime/nlmsg.c):
 * the input is what one recv() on a NETLINK_ROUTE socket returned, walked
 * at an odd address (no alignment is assumed) into interface discovery's
 * table, as the dumps of links, addresses and routes are. The walk reads
 * only inside the buffer (ASan) and returns one of its documented values;
 * every message handed on lies inside the buffer, is at least a header
 * long and has the sequence number asked for; the table never grows past
 * its capacity and its names stay NUL-terminated. Byte 0 chooses the
 * table's capacity and whether the walk asks for the first message's
 * sequence number or another one (then nothing is handed on). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nlmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

struct walk {
    const uint8_t *buf;
    size_t len;
    uint32_t seq;
    unsigned messages;
    struct rt_nlmsg_ifaces tab;
};

static void on_msg(void *ctx, const struct nlmsghdr *h, const uint8_t *msg)
{
    struct walk *w = ctx;
    struct nlmsghdr copy;
    CHECK(msg >= w->buf && (size_t)(msg - w->buf) + sizeof copy <= w->len);
    memcpy(&copy, msg, sizeof copy);
    CHECK(memcmp(&copy, h, sizeof copy) == 0);
    CHECK(h->nlmsg_len >= sizeof copy && (size_t)(msg - w->buf) + h->nlmsg_len <= w->len);
    CHECK(h->nlmsg_seq == w->seq && h->nlmsg_type != NLMSG_DONE && h->nlmsg_type != NLMSG_ERROR);
    w->messages++;
    rt_nlmsg_iface(&w->tab, h, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++, size--;
    uint8_t *buf = malloc(size + 1);
    CHECK(buf != NULL);
    memcpy(buf + 1, data, size); /* odd address */
    struct rt_iface ifaces[8];
    memset(ifaces, 0xa5, sizeof ifaces); /* no NUL to find by chance */
    struct walk w = {.buf = buf + 1, .len = size};
    w.tab = (struct rt_nlmsg_ifaces){.v = ifaces, .cap = 1 + mode % 8};
    if (size >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr h;
        memcpy(&h, data, sizeof h);
        w.seq = h.nlmsg_seq + (mode & 0x80 ? 1u : 0u);
    }
    int rc = rt_nlmsg_walk(w.buf, w.len, w.seq, on_msg, &w);
    CHECK(rc == RT_NLMSG_MORE || rc == 0 || (rc < 0 && rc > -4096));
    CHECK(w.tab.n >= 0 && w.tab.n <= w.tab.cap);
    for (int i = 0; i < w.tab.n; i++)
        CHECK(memchr(ifaces[i].name, '\0', sizeof ifaces[i].name) != NULL);
    /* the same walk without a callback gives the same answer */
    CHECK(rt_nlmsg_walk(w.buf, w.len, w.seq, NULL, NULL) == rc);
    free(buf);
    return 0;
}
