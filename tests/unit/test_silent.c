/*
 * Uplinks that go silent (both directions, no error): what was in flight on
 * one is sent again on another once the silence is overdue, a light flow's
 * packets too; and what an inner TCP sends while every uplink is silent is
 * sent again as soon as one answers (recover.h, tg_rtx_replay).
 */
#include "check.h"
#include "once.h"
#include "harness/harness.h"
#include "core/ip.h"

#include <stdlib.h>
#include <string.h>

/* A light flow's uplink goes silent (both directions, no error) beside a
 * bulk flow: what the call had in flight there is sent again on the other
 * uplink once the silence is overdue, like the striped packets, so none of
 * it is lost. An inner TCP's retransmission after a timeout can be such a
 * packet: lost with the uplink, it would cost the flow a doubled timeout. */
static void test_light_silent_uplink(void)
{
    struct h_net n;
    h_light_flow_rate = 65536;
    CHECK(h_net_paced_pair(&n));
    h_light_flow_rate = 0;
    /* 4 Mbit/s of bulk, a call packet every 20 ms; uplink 0 (the one with
     * the least delay, where the call goes) silent from 2 s on */
    enum { STEPS = 200, CALL = 1u << 20 };
    static const uint8_t outside[4] = {203, 0, 113, 7};
    tg_time fail_at = n.now + TG_SEC(2);
    n.up[0].down_from = n.down[0].down_from = fail_at;
    n.up[0].down_until = n.down[0].down_until = TG_TIME_NEVER;
    uint32_t from = n.n_rx_server;
    uint64_t bulk = 0;
    for (unsigned b = 0; b < STEPS; b++) {
        for (unsigned k = 0; k < 10; k++)
            h_net_send(&n, bulk++, 1000, false);
        uint8_t pkt[256];
        uint16_t l = h_packet(pkt, n.client_addr, outside, CALL + b, 200);
        pkt[21] = 0x41; /* port 40001: another flow */
        CHECK_EQ(tg_client_tun_input(n.client, pkt, l, n.now), TG_OK);
        h_net_drain(&n);
        h_net_run(&n, n.now + TG_MSEC(20));
    }
    h_net_run(&n, n.now + TG_SEC(2));
    uint32_t m = n.n_rx_server - from, n_call = 0;
    uint64_t *call = calloc(m + 1, sizeof *call);
    CHECK(call != NULL);
    for (uint32_t i = from; call != NULL && i < n.n_rx_server; i++)
        if (n.rx_at_server[i] >= CALL && n.rx_at_server[i] < CALL + STEPS)
            call[n_call++] = n.rx_at_server[i] - CALL;
    long dup, lost;
    tally_delivery(call, n_call, STEPS, &dup, &lost);
    const struct tg_endpoint_counters *c = tg_client_counters(n.client);
    printf("a light flow's uplink goes silent: call %u of %d, %ld twice; %llu packets sent again\n",
           n_call, STEPS, dup, (unsigned long long)c->retransmitted);
    CHECK_EQ(dup, 0);
    CHECK_EQ(lost, 0);
    free(call);
    h_net_free(&n);
}

/* One TCP packet from the laptop to the outside host (`seq` in its
 * payload, as h_packet puts it), or a UDP one. Returns the client's
 * answer (a UDP packet with every uplink down is refused). */
static int send_proto(struct h_net *n, uint64_t seq, uint8_t proto)
{
    static const uint8_t outside[4] = {203, 0, 113, 7};
    uint8_t pkt[256];
    uint16_t l = h_packet(pkt, n->client_addr, outside, seq, 120);
    pkt[9] = proto;
    pkt[10] = pkt[11] = 0;
    uint16_t c = tg_ip_fold(tg_ip_sum(pkt, 20, 0));
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
    int rc = tg_client_tun_input(n->client, pkt, l, n->now);
    h_net_drain(n);
    return rc;
}

/* When did packet `seq` reach the server's TUN (TG_TIME_NEVER: never)? */
static tg_time arrived(const struct h_net *n, uint64_t seq)
{
    for (uint32_t i = 0; i < n->n_rx_server; i++)
        if (n->rx_at_server[i] == seq)
            return n->rx_time_at_server[i];
    return TG_TIME_NEVER;
}

/* How long after `back` packet `seq` reached the server's TUN
 * (TG_TIME_NEVER: never, or before). */
static tg_time after_return(const struct h_net *n, uint64_t seq, tg_time back)
{
    tg_time got = arrived(n, seq);
    return got == TG_TIME_NEVER || got < back ? TG_TIME_NEVER : got - back;
}

/* Uplink i (both directions) passes nothing from `from` until `until`. */
static void silence(struct h_net *n, unsigned i, tg_time from, tg_time until)
{
    n->up[i].down_from = n->down[i].down_from = from;
    n->up[i].down_until = n->down[i].down_until = until;
}

/* Prints how long after a return `what` arrived: `after` (TG_TIME_NEVER:
 * never). */
static void print_after(const char *what, tg_time after)
{
    if (after == TG_TIME_NEVER)
        printf("%s: never came\n", what);
    else
        printf("%s: came %.3f s after the return\n", what, (double)after / 1e6);
}

/* Every uplink silent for `len` from now; `seq` sent `at` into it as
 * `proto`. Returns when it arrived at the server's TUN (TG_TIME_NEVER:
 * never) and sets *back to when the uplinks came back. */
static tg_time through_outage(struct h_net *n, uint64_t seq, uint8_t proto, tg_time at,
                              tg_time len, tg_time *back)
{
    tg_time down = n->now;
    *back = down + len;
    for (unsigned i = 0; i < 2; i++)
        silence(n, i, down, *back);
    h_net_run(n, down + at);
    int rc = send_proto(n, seq, proto);
    if (proto == TG_PROTO_TCP)
        CHECK_EQ(rc, TG_OK);
    h_net_run(n, *back + TG_SEC(3));
    return arrived(n, seq);
}

/* Two uplinks (10 and 20 ms) and a TCP flow of 20 packets a second over
 * them for 2.5 s: a session carrying data when the silences below begin. */
static void tcp_session(struct h_net *n)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    CHECK(h_net_connect(n, TG_SEC(2)));
    for (uint64_t s = 0; s < 50; s++) {
        CHECK_EQ(send_proto(n, s, TG_PROTO_TCP), TG_OK);
        h_net_run(n, n->now + TG_MSEC(50));
    }
}

/* A TCP packet sent while every uplink is silent (an inner TCP's
 * retransmission after its timeout: nothing else is sent until its next
 * one, seconds later) arrives soon after the uplinks are back, once: one
 * sent 2 s into the silence (every uplink failing its probes: sent, lost,
 * sent again) and one sent 4 s into it (every uplink down: kept until one
 * is back). A UDP packet sent alone in the same silence does not (a call's
 * packet that late is of no use). */
static void test_blind_replay(void)
{
    struct h_net n;
    tcp_session(&n);
    tg_time back[4], got[4];
    got[0] = through_outage(&n, 1000, TG_PROTO_TCP, TG_SEC(2), TG_SEC(5), &back[0]);
    got[1] = through_outage(&n, 1001, TG_PROTO_TCP, TG_SEC(4), TG_SEC(5), &back[1]);
    uint64_t again = tg_client_counters(n.client)->retransmitted;
    got[2] = through_outage(&n, 2000, TG_PROTO_UDP, TG_SEC(2), TG_SEC(5), &back[2]);
    got[3] = through_outage(&n, 2001, TG_PROTO_UDP, TG_SEC(4), TG_SEC(5), &back[3]);
    for (unsigned i = 0; i < 4; i++)
        if (got[i] == TG_TIME_NEVER)
            printf("every uplink silent for 5 s: a %s packet sent %d s into it never came\n",
                   i < 2 ? "TCP" : "UDP", i % 2 ? 4 : 2);
        else
            printf("every uplink silent for 5 s: a %s packet sent %d s into it came %.3f s after "
                   "they were back\n", i < 2 ? "TCP" : "UDP", i % 2 ? 4 : 2,
                   (double)(got[i] - back[i]) / 1e6);
    for (unsigned i = 0; i < 2; i++)
        CHECK(got[i] != TG_TIME_NEVER && got[i] >= back[i] && got[i] - back[i] <= TG_MSEC(1500));
    CHECK_EQ(got[2], TG_TIME_NEVER);
    CHECK_EQ(got[3], TG_TIME_NEVER);
    CHECK_EQ(tg_client_counters(n.client)->retransmitted, again);
    long dup, lost;
    tally_delivery(n.rx_at_server, n.n_rx_server, 1002, &dup, &lost);
    CHECK_EQ(dup, 0);
    h_net_free(&n);
}

/* A TCP packet sent into a silence of every uplink too short for them to be
 * judged failing (1 s) is lost with its uplink; the first datagram on it
 * after the return names it, and it is sent again: it arrives a round trip
 * after the return, not at the inner TCP's next timeout (seconds, backed
 * off). */
static void test_short_outage(void)
{
    struct h_net n;
    tcp_session(&n);
    tg_time back;
    tg_time got = through_outage(&n, 4000, TG_PROTO_TCP, TG_MSEC(500), TG_SEC(1), &back);
    print_after("every uplink silent for 1 s, a TCP packet sent 0.5 s into it",
                got == TG_TIME_NEVER ? TG_TIME_NEVER : got - back);
    CHECK(got != TG_TIME_NEVER && got >= back && got - back <= TG_MSEC(300));
    h_net_free(&n);
}

/* Uplink 0 silent for 6 s; uplink 1 silent too for `len` from `from` (too
 * short for it to be judged failing). A TCP packet sent halfway into that
 * goes on uplink 1, the one that answered last, and is lost with it; uplink
 * 1 comes back alone, so no other uplink takes it over. Returns how long
 * after its return the packet arrived (TG_TIME_NEVER: never). */
static tg_time staggered(tg_time from, tg_time len)
{
    struct h_net n;
    tcp_session(&n);
    tg_time t0 = n.now, back = t0 + from + len;
    silence(&n, 0, t0, t0 + TG_SEC(6));
    silence(&n, 1, t0 + from, back);
    h_net_run(&n, t0 + from + len / 2);
    CHECK_EQ(send_proto(&n, 5000, TG_PROTO_TCP), TG_OK);
    h_net_run(&n, t0 + TG_SEC(7));
    tg_time after = after_return(&n, 5000, back);
    h_net_free(&n);
    return after;
}

/* Every uplink silent, one for long, the other briefly: what the inner TCP
 * sent into the brief silence arrives soon after that uplink is back, alone,
 * for silences of 0.3-1.5 s starting 1-3 s into the long one. */
static void test_staggered_outage(void)
{
    tg_time worst = 0;
    for (int from = 1000; from <= 3000; from += 1000)
        for (int len = 300; len <= 1500; len += 300) {
            tg_time t = staggered(TG_MSEC(from), TG_MSEC(len));
            worst = t > worst ? t : worst;
        }
    print_after("one uplink back alone after a brief silence, a TCP packet lost in it (worst)",
                worst);
    CHECK(worst <= TG_MSEC(500));
}

/* An inner TCP backing off through a silence of every uplink of 20 s and
 * `extra`: its retries 1, 3, 7 and 15 s into it are kept. Returns how long
 * after the uplinks' return the last one arrived (TG_TIME_NEVER: never). */
static tg_time long_outage(tg_time extra)
{
    struct h_net n;
    tcp_session(&n);
    tg_time down = n.now, back = down + TG_SEC(20) + extra;
    for (unsigned i = 0; i < 2; i++)
        silence(&n, i, down, back);
    static const unsigned retry_s[] = {1, 3, 7, 15};
    for (unsigned i = 0; i < 4; i++) {
        h_net_run(&n, down + TG_SEC(retry_s[i]));
        CHECK_EQ(send_proto(&n, 3000 + i, TG_PROTO_TCP), TG_OK);
    }
    h_net_run(&n, back + TG_SEC(3));
    tg_time after = after_return(&n, 3003, back);
    h_net_free(&n);
    return after;
}

/* The kept retries count as the session carrying data: the uplinks are
 * probed at a busy session's pace through the outage, not once a second
 * as an idle one's, so the last retry arrives within a fifth of a second
 * of their return (plus a round trip) wherever the return falls. */
static void test_long_outage(void)
{
    tg_time worst = 0;
    for (unsigned k = 0; k < 4; k++) {
        tg_time t = long_outage(TG_MSEC(250) * k);
        worst = t > worst ? t : worst;
    }
    print_after("every uplink silent for 20 s, a retry sent 15 s into it (worst)", worst);
    CHECK(worst <= TG_MSEC(400));
}

int main(void)
{
    test_light_silent_uplink();
    test_blind_replay();
    test_long_outage();
    test_short_outage();
    test_staggered_outage();
    return check_exit("test_silent");
}
