/* TCP fallback connections (runtime/tcpconn.c) over socket pairs: datagrams
 * round-trip framed; a full table makes room by closing its oldest
 * unauthenticated connection and refuses one only when all are authenticated; a bad length
 * and a closed peer close the connection and are counted; an unauthenticated
 * connection is closed after its idle time, an authenticated one is kept. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "tcpconn.h"

static size_t got_n, got_len[8];
static uint8_t got_first[8];

static void on_frame(void *ctx, size_t slot, uint8_t *data, size_t len)
{
    (void)ctx;
    (void)slot;
    if (got_n < 8) {
        got_len[got_n] = len;
        got_first[got_n] = data[0];
    }
    got_n++;
}

static int pair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

int main(void)
{
    static struct rt_tcp_table t;
    int a[2], b[2], c[2];
    CHECK_EQ(rt_tcp_table_init(&t, 2, 3000), 0);
    CHECK_EQ(pair(a), 0);
    CHECK_EQ(pair(b), 0);
    CHECK_EQ(pair(c), 0);
    int sa = rt_tcp_adopt(&t, a[0], 0), sb = rt_tcp_adopt(&t, b[0], 0);
    CHECK_EQ(sa, 0);
    CHECK_EQ(sb, 1);
    t.c[sa].authenticated = t.c[sb].authenticated = true;
    CHECK_EQ(rt_tcp_adopt(&t, c[0], 0), -1); /* full of proven peers: refused and closed */
    CHECK_EQ(t.refused, 1);
    CHECK_EQ(t.evicted, 0);
    close(c[1]);
    t.c[sa].authenticated = t.c[sb].authenticated = false;

    /* a[1] plays the peer: adopt it in a second table to send framed. */
    static struct rt_tcp_table peer;
    CHECK_EQ(rt_tcp_table_init(&peer, 1, 3000), 0);
    CHECK_EQ(rt_tcp_adopt(&peer, a[1], 0), 0);
    static uint8_t big[TG_TCPFRAME_MAX];
    memset(big, 0x5a, sizeof big);
    uint8_t small[3] = {7, 8, 9};
    CHECK_EQ(rt_tcp_send(&peer, 0, small, sizeof small), 0);
    CHECK_EQ(rt_tcp_send(&peer, 0, big, 1420), 0);
    CHECK_EQ(rt_tcp_send(&peer, 0, small, 0), 1); /* bad length: dropped, not sent */
    CHECK_EQ(rt_tcp_flush(&peer, 0), 0);
    CHECK_EQ(rt_tcp_read(&t, (size_t)sa, on_frame, NULL), 0);
    CHECK_EQ(got_n, 2);
    CHECK_EQ(got_len[0], 3);
    CHECK_EQ(got_first[0], 7);
    CHECK_EQ(got_len[1], 1420);
    CHECK_EQ(got_first[1], 0x5a);

    /* Garbage with a length of 0 on b: closed and counted, a stays open. */
    uint8_t junk[] = {0, 0, 'G', 'E', 'T'};
    CHECK_EQ(write(b[1], junk, sizeof junk), (ssize_t)sizeof junk);
    CHECK_EQ(rt_tcp_read(&t, (size_t)sb, on_frame, NULL), -1);
    CHECK_EQ(t.bad_frames, 1);
    CHECK_EQ(t.c[sb].fd, -1);
    CHECK(t.c[sa].fd >= 0);
    close(b[1]);

    /* Oversized length on a fresh connection in the freed slot. */
    CHECK_EQ(pair(b), 0);
    CHECK_EQ(rt_tcp_adopt(&t, b[0], 0), 1);
    uint8_t over[] = {0xff, 0xff, 1};
    CHECK_EQ(write(b[1], over, sizeof over), (ssize_t)sizeof over);
    CHECK_EQ(rt_tcp_read(&t, 1, on_frame, NULL), -1);
    CHECK_EQ(t.bad_frames, 2);
    close(b[1]);

    /* Half a frame and a stall, unauthenticated: closed at its idle time. */
    CHECK_EQ(pair(b), 0);
    CHECK_EQ(rt_tcp_adopt(&t, b[0], 1000), 1);
    uint8_t half[] = {0x05, 0x00, 1, 2, 3};
    CHECK_EQ(write(b[1], half, sizeof half), (ssize_t)sizeof half);
    CHECK_EQ(rt_tcp_read(&t, 1, on_frame, NULL), 0);
    t.c[sa].authenticated = true;
    CHECK_EQ(rt_tcp_expire(&t, 3999), 0);
    CHECK_EQ(rt_tcp_expire(&t, 4000), 1);
    CHECK_EQ(t.c[1].fd, -1);
    CHECK(t.c[sa].fd >= 0);
    CHECK_EQ(t.closed_idle, 1);
    close(b[1]);

    /* The peer closes: the connection is closed. */
    rt_tcp_table_free(&peer); /* closes a[1] */
    CHECK_EQ(rt_tcp_read(&t, (size_t)sa, on_frame, NULL), -1);
    CHECK_EQ(t.c[sa].fd, -1);
    CHECK_EQ(got_n, 2);

    /* Full of strangers: the oldest unauthenticated one makes room; the slot's
     * generation tells the new connection from the old. */
    CHECK_EQ(pair(a), 0);
    CHECK_EQ(pair(b), 0);
    CHECK_EQ(pair(c), 0);
    CHECK_EQ(rt_tcp_adopt(&t, a[0], 5000), 0);
    CHECK_EQ(rt_tcp_adopt(&t, b[0], 4000), 1);
    uint32_t gen = t.c[1].gen;
    CHECK_EQ(rt_tcp_adopt(&t, c[0], 6000), 1); /* b was the older */
    CHECK_EQ(t.evicted, 1);
    CHECK_EQ(t.c[1].gen, gen + 1);
    CHECK_EQ(t.c[1].started_ms, 6000);
    CHECK_EQ(recv(b[1], junk, 1, 0), 0); /* b's peer sees it closed */
    close(a[1]);
    close(b[1]);
    close(c[1]);
    rt_tcp_table_free(&t);
    return check_exit("test_tcpconn");
}
