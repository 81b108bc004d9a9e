/* The multipath engine end to end over the in-memory harness: sessions,
 * striping, failover, redundancy, attacks, and no allocation per packet. */
#include "check.h"
#include "once.h"
#include "harness/harness.h"
#include "core/cookie.h"
#include "core/noise.h"
#include "core/pace.h"
#include "core/wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static long allocs;
static void *count_alloc(void *ctx, size_t n)
{
    (void)ctx;
    allocs++;
    return malloc(n);
}
static void count_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static const struct tg_allocator counting = {count_alloc, count_free, NULL};

/* A handshake message as a client builds it, MACs included (mac2 zero). */
static size_t hs_message(const struct h_net *n, struct tg_noise_hs *h, uint8_t type,
                         const uint8_t *hello, size_t hello_len, uint8_t *out, size_t cap)
{
    size_t len = 0;
    tg_wire_put_hs_init_header(out, type, 1234);
    CHECK_EQ(tg_noise_write_message(h, hello, hello_len, out + 8, cap - 8 - TG_MACS_LEN, &len),
             TG_OK);
    len += 8 + TG_MACS_LEN;
    struct tg_mac_keys k;
    tg_mac_keys_init(&k, n->server_public);
    tg_mac1_put(&k, out, len);
    tg_mac2_put(NULL, out, len);
    return len;
}

static void test_connect(void)
{
    struct h_net n;
    const tg_time d[3] = {TG_MSEC(10), TG_MSEC(30), TG_MSEC(50)};
    CHECK_EQ(h_net_init(&n, 3, d, TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    CHECK_EQ(tg_server_session_count(n.server), 1);
    CHECK_EQ(n.client_addr[0], 198);
    CHECK_EQ(n.client_addr[3], 2);
    /* a few round trips both ways */
    for (uint64_t s = 0; s < 100; s++) {
        h_net_send(&n, s, 200, false);
        h_net_send(&n, s, 200, true);
        h_net_run(&n, n.now + TG_MSEC(5));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    check_exactly_once(n.rx_at_server, n.n_rx_server, 100);
    check_exactly_once(n.rx_at_client, n.n_rx_client, 100);
    struct tg_uplink_snapshot s[4];
    CHECK_EQ(tg_client_snapshot(n.client, s, 4), 3);
    /* what each end says it received on an uplink is what the other reports
     * as delivered there, and in all it is every packet sent (no loss here) */
    struct tg_uplink_snapshot ss[4];
    CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, ss, 4), 3);
    uint64_t up = 0, down = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(s[i].peer_rx_bytes, ss[i].rx_bytes);
        CHECK_EQ(ss[i].peer_rx_bytes, s[i].rx_bytes);
        up += s[i].peer_rx_bytes;
        down += ss[i].peer_rx_bytes;
    }
    CHECK_EQ(up, 100 * 200);
    CHECK_EQ(down, 100 * 200);
    CHECK(s[0].srtt_us >= TG_MSEC(20) && s[0].srtt_us < TG_MSEC(25));
    CHECK(s[2].srtt_us >= TG_MSEC(100) && s[2].srtt_us < TG_MSEC(110));
    CHECK_EQ(s[1].health, TG_HEALTH_HEALTHY);
    h_net_free(&n);
}

/* `full` over 2 uplinks with different delays and rates: everything arrives,
 * in order, and both uplinks carry traffic. */
static void test_full_striping(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(40)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_FULL, NULL),
             TG_OK);
    for (int i = 0; i < 2; i++)
        n.up[i].rate_bps = n.down[i].rate_bps = 20000000;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    enum { N = 20000 };
    for (uint64_t s = 0; s < N; s++) { /* 1000 B every 250 us = 32 Mbit/s */
        h_net_send(&n, s, 1000, false);
        h_net_run(&n, n.now + 250);
    }
    h_net_run(&n, n.now + TG_SEC(2));
    long ooo = check_exactly_once(n.rx_at_server, n.n_rx_server, N);
    CHECK_EQ(ooo, 0);
    struct tg_uplink_snapshot s[2];
    CHECK_EQ(tg_client_snapshot(n.client, s, 2), 2);
    CHECK(s[0].tx_bytes > 3000000 && s[1].tx_bytes > 3000000);
    printf("full striping: %u delivered in order, reorder peak %llu packets, uplink bytes %llu / %llu\n",
           n.n_rx_server, (unsigned long long)tg_server_counters(n.server)->reorder_peak,
           (unsigned long long)s[0].tx_bytes, (unsigned long long)s[1].tx_bytes);
    h_net_free(&n);
}

/* Clocks past 2^32 us (any machine up longer than 72 minutes): a DATA frame
 * carries only its send time's low 32 bits, yet every one-way delay and
 * queue estimate stays true, both ways. Widened against 0 instead of the
 * peer's clock, the delays of DATA were off by multiples of 2^32 us and the
 * queue estimates by gigabytes, and the scheduler chose at random. */
static void test_owd_past_2_32(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(50)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    n.now = ((tg_time)15 << 32) + 123456789;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    for (uint64_t s = 0; s < 2000; s++) {
        h_net_send(&n, s, 1000, false);
        h_net_send(&n, s, 1000, true);
        h_net_run(&n, n.now + TG_MSEC(1));
        if (s % 100 != 99)
            continue;
        struct tg_uplink_snapshot c[2], v[2];
        CHECK_EQ(tg_client_snapshot(n.client, c, 2), 2);
        CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, v, 2), 2);
        for (int i = 0; i < 2; i++) {
            const struct tg_uplink_snapshot *u[2] = {&c[i], &v[i]};
            for (int k = 0; k < 2; k++) {
                int64_t owd = u[k]->owd_us, lo = (int64_t)d[i];
                CHECK(owd >= lo && owd < lo + (int64_t)TG_MSEC(20));
                CHECK(u[k]->queued_bytes < 100000);
            }
        }
    }
    h_net_free(&n);
}

/* Playout: with it on, every striped packet reaches the host with the
 * slowest uplink's delay, whichever uplink carried it; off, a flow that
 * earliest arrival keeps on the fast uplink mostly arrives with that one's
 * delay. (No light flows: the flow's first 16 KB would go unordered and
 * not be played out, light.h.) */
static void test_playout(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(50)};
    enum { N = 2000 };
    tg_time *sent = calloc(N, sizeof *sent);
    for (int on = 0; on < 2 && sent != NULL; on++) {
        struct h_net n;
        h_playout_max_us = on ? TG_MSEC(100) : 0;
        h_light_flow_rate = UINT32_MAX;
        CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
        h_light_flow_rate = 0;
        CHECK(h_net_connect(&n, TG_SEC(2)));
        h_net_run(&n, n.now + TG_SEC(1)); /* PINGs measure both uplinks */
        uint32_t first = n.n_rx_server;
        for (uint64_t s = 0; s < N; s++) {
            sent[s] = n.now;
            h_net_send(&n, s, 500, false);
            h_net_run(&n, n.now + TG_MSEC(1));
        }
        h_net_run(&n, n.now + TG_SEC(1));
        tg_time lo = TG_TIME_NEVER, hi = 0;
        uint32_t got = 0, quick = 0; /* quick: within the fast uplink's delay + 10 ms */
        for (uint32_t i = first; i < n.n_rx_server; i++) {
            uint64_t s = n.rx_at_server[i];
            CHECK(s < N);
            if (s >= N)
                continue;
            tg_time late = n.rx_time_at_server[i] - sent[s];
            lo = late < lo ? late : lo;
            hi = late > hi ? late : hi;
            quick += late < d[0] + TG_MSEC(10);
            got++;
        }
        printf("playout %s: %u of %d delivered, %.1f-%.1f ms after they were sent, %u quick\n",
               on ? "on" : "off", got, N, (double)lo / 1e3, (double)hi / 1e3, quick);
        CHECK_EQ(got, N);
        if (on)
            CHECK(lo >= d[1] && hi <= d[1] + TG_MSEC(5));
        else
            CHECK(quick >= N * 9 / 10);
        h_net_free(&n);
    }
    h_playout_max_us = 0;
    free(sent);
}

/* A burst lost on the uplink that carries the stream, while a slower one
 * stands by idle: the packet after the burst names only the last lost one,
 * so the rest are gaps the idle uplink could in principle still fill. The
 * receiver knows when whatever that uplink carries must have come (its
 * one-way delay, from its PINGs), and gives the gaps up then, not after
 * the reorder buffer's 500 ms. */
static void test_burst_loss_idle_uplink(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(50)};
    enum { N = 400, BURST_AT = 200 };
    tg_time *sent = calloc(N, sizeof *sent);
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1)); /* PINGs measure both uplinks */
    uint32_t first = n.n_rx_server;
    for (uint64_t s = 0; s < N && sent != NULL; s++) {
        if (s == BURST_AT) { /* 6 datagrams in a row lost on uplink 0 */
            n.up[0].down_from = n.now;
            n.up[0].down_until = n.now + TG_MSEC(6);
        }
        sent[s] = n.now;
        h_net_send(&n, s, 500, false);
        h_net_run(&n, n.now + TG_MSEC(1));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    tg_time worst = 0;
    uint32_t after = 0, on_slow = 0;
    for (uint32_t i = first; i < n.n_rx_server && sent != NULL; i++) {
        uint64_t s = n.rx_at_server[i];
        if (s < BURST_AT + 6 || s >= N)
            continue;
        tg_time late = n.rx_time_at_server[i] - sent[s];
        worst = late > worst ? late : worst;
        on_slow += late >= d[1];
        after++;
    }
    printf("burst on the busy uplink: the %u packets after it arrived within %.1f ms "
           "(%u after the slow uplink's delay)\n",
           after, (double)worst / 1e3, on_slow);
    CHECK_EQ(after, N - BURST_AT - 6);
    CHECK(worst <= d[1] + d[0] + TG_MSEC(30));
    h_net_free(&n);
    free(sent);
}

/* The first DATA an uplink carries can meet a queue its PINGs never did: a
 * download's first burst striped onto a slow uplink (2 Mbit/s: 6 ms per
 * datagram) waits there tens of ms. The receiver knew that uplink only by its
 * PINGs; it must not give the burst's gaps up 10 ms after the PINGs' delay
 * (the packets would then arrive late and be dropped, and the inner flow
 * would end its slow start for losses the tunnel made), but wait for them. */
static void test_first_data_queued(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    enum { N = 30 };
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    n.up[0].rate_bps = 20000000;
    n.up[1].rate_bps = 500000;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1)); /* PINGs measure both uplinks */
    uint32_t from = n.n_rx_server;
    for (uint64_t s = 0; s < N; s++) /* a burst: all at once */
        h_net_send(&n, s, 1400, false);
    h_net_run(&n, n.now + TG_SEC(1));
    uint64_t late = tg_server_counters(n.server)->drops[TG_DROP_LATE];
    long disorder = check_exactly_once(n.rx_at_server + from, n.n_rx_server - from, N);
    printf("a burst striped onto an uplink that carried no DATA yet: %u of %d delivered, "
           "%llu late\n",
           n.n_rx_server - from, N, (unsigned long long)late);
    CHECK_EQ(late, 0);
    CHECK_EQ(disorder, 0);
    h_net_free(&n);
}

/* Sends packets 0 .. n-1 from the client, 1 ms apart; as packet `at` goes,
 * the uplinks in `mask` go silent for `len`. One second later, returns how
 * far what the server delivered is from 0 .. n-1 once each, in order
 * (check_exactly_once), and in *delivered how many it delivered. */
static long send_across_outage(struct h_net *n, uint64_t count, uint64_t at, unsigned mask,
                               tg_time len, uint32_t *delivered)
{
    uint32_t from = n->n_rx_server;
    for (uint64_t s = 0; s < count; s++) {
        for (unsigned i = 0; s == at && i < 2; i++)
            if (mask & (1u << i)) {
                n->up[i].down_from = n->now;
                n->up[i].down_until = n->now + len;
            }
        h_net_send(n, s, 500, false);
        h_net_run(n, n->now + TG_MSEC(1));
    }
    h_net_run(n, n->now + TG_SEC(1));
    *delivered = n->n_rx_server - from;
    return check_exactly_once(n->rx_at_server + from, *delivered, count);
}

/* Six datagrams in a row lost on the uplink carrying a striped stream: the
 * datagram after the burst names only the last of them (PREV), but its
 * counter tells the receiver five more went missing; it asks for the run
 * (LOST_RUN) and holds its gaps, and the sender, which knows what each
 * datagram carried, sends all six again. Every packet arrives once, in
 * order, none given up on. */
static void test_burst_recovered(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(50)};
    enum { N = 400, BURST_AT = 200 };
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    uint32_t delivered;
    long disorder = send_across_outage(&n, N, BURST_AT, 0x1, TG_MSEC(6), &delivered);
    const struct tg_endpoint_counters *c = tg_client_counters(n.client);
    printf("six in a row lost on the busy uplink: %u of %d delivered, %ld out of order, "
           "%llu sent again, %llu late\n",
           delivered, N, disorder, (unsigned long long)c->retransmitted,
           (unsigned long long)tg_server_counters(n.server)->drops[TG_DROP_LATE]);
    CHECK_EQ(disorder, 0);
    CHECK(c->retransmitted >= 6);
    CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_LATE], 0);
    h_net_free(&n);
}

/* A striped packet lost among the session's very first ones (a download
 * that starts as the tunnel comes up): recovered like any later one. The
 * retransmission budget starts full on both sides; started empty, it let
 * nothing be sent again before ten striped packets had gone, and one such
 * loss ended the inner flow's slow start at a fraction of the path's rate.
 * (No light flows: a flow's first 16 KB would go unordered, light.h.) */
static void test_first_loss_recovered(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(12)};
    enum { N = 40, LOST_AT = 2 };
    struct h_net n;
    h_light_flow_rate = UINT32_MAX;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    h_light_flow_rate = 0;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint32_t delivered;
    long disorder = send_across_outage(&n, N, LOST_AT, 0x3, TG_USEC(500), &delivered);
    const struct tg_endpoint_counters *c = tg_client_counters(n.client);
    printf("the third striped packet of the session lost: %u of %d delivered, %ld out of "
           "order, %llu sent again\n",
           delivered, N, disorder, (unsigned long long)c->retransmitted);
    CHECK_EQ(delivered, N);
    CHECK_EQ(disorder, 0);
    CHECK(c->retransmitted >= 1);
    h_net_free(&n);
}

/* An uplink that pauses longer than the probe timeout (a cellular link's
 * scheduler does) answers late: the probe counts lost when it times out,
 * and the late answer takes the loss back, so the uplink is not left with
 * a loss rate it never had (adaptive leaves an uplink with 1% more loss
 * than the best one out of striping). */
static void test_late_probe_not_lost(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(10)};
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(2));
    struct tg_uplink_snapshot s[2];
    tg_client_snapshot(n.client, s, 2);
    uint64_t lost_before = s[1].probes_lost;
    n.down[1].delay_us = TG_MSEC(700); /* answers on uplink 1 now take 0.7 s */
    h_net_run(&n, n.now + TG_MSEC(250));
    n.down[1].delay_us = d[1];
    h_net_run(&n, n.now + TG_MSEC(600));
    tg_client_snapshot(n.client, s, 2);
    uint64_t timed_out = s[1].probes_lost - lost_before;
    h_net_run(&n, n.now + TG_SEC(1));
    tg_client_snapshot(n.client, s, 2);
    printf("late probes: %llu timed out during a 0.7 s pause; loss afterwards %.4f\n",
           (unsigned long long)timed_out, s[1].loss);
    CHECK(timed_out >= 1);
    CHECK(s[1].loss == 0.0);
    h_net_free(&n);
}

/* The active uplink goes silent mid-stream (both directions, no error):
 * traffic resumes on the other within the detection time, nothing arrives
 * twice, and the uplink comes back when the link does. */
static void test_failover(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(30)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_LOWEST_LATENCY, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    tg_time fail_at = n.now + TG_SEC(1), back_at = fail_at + TG_SEC(4);
    n.up[0].down_from = n.down[0].down_from = fail_at;
    n.up[0].down_until = n.down[0].down_until = back_at;
    enum { N = 8000 };
    for (uint64_t s = 0; s < N; s++) { /* one packet per ms */
        h_net_send(&n, s, 500, false);
        h_net_run(&n, n.now + TG_MSEC(1));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    tg_time stall = 0;
    for (uint32_t i = 1; i < n.n_rx_server; i++)
        if (n.rx_time_at_server[i] - n.rx_time_at_server[i - 1] > stall)
            stall = n.rx_time_at_server[i] - n.rx_time_at_server[i - 1];
    long dup = 0;
    uint8_t *seen = calloc(N, 1);
    uint32_t after = 0;
    for (uint32_t i = 0; i < n.n_rx_server; i++) {
        dup += seen[n.rx_at_server[i]]++ > 0;
        after += n.rx_time_at_server[i] > fail_at + TG_SEC(2);
    }
    free(seen);
    printf("failover: longest delivery stall %.3f s, %u of %d delivered\n", (double)stall / 1e6,
           n.n_rx_server, N);
    CHECK_EQ(dup, 0);
    CHECK(stall < TG_MSEC(1500));
    CHECK(after > 4000); /* traffic flows after the failure */
    struct tg_uplink_snapshot s[2];
    tg_client_snapshot(n.client, s, 2);
    if (getenv("TG_DEBUG"))
        fprintf(stderr, "uplink0: health %d loss %.3f srtt %llu probes %llu lost %llu\n", s[0].health,
                s[0].loss, (unsigned long long)s[0].srtt_us,
                (unsigned long long)s[0].probes_sent, (unsigned long long)s[0].probes_lost);
    CHECK_EQ(s[0].health, TG_HEALTH_HEALTHY); /* came back */
    CHECK(tg_client_counters(n.client)->failovers >= 1);
    h_net_free(&n);
}

/* Redundant sending with one uplink dropping everything: zero loss. */
static void test_redundant(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_REDUNDANT, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    n.up[1].down_from = n.down[1].down_from = n.now;
    n.up[1].down_until = n.down[1].down_until = TG_TIME_NEVER;
    enum { N = 3000 };
    for (uint64_t s = 0; s < N; s++) {
        h_net_send(&n, s, 300, false);
        h_net_run(&n, n.now + TG_MSEC(1));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    check_exactly_once(n.rx_at_server, n.n_rx_server, N);
    CHECK_EQ(n.n_rx_server, N);
    h_net_free(&n);
}

/* A replayed join (the attacker has the client's real HS_JOIN but not the
 * join key) creates nothing; forged data under a handshake the attacker
 * did answer leaves the session untouched. */
static void test_join_without_key(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    CHECK(n.last_join_len > 0);
    struct tg_uplink_snapshot before[2], after[2];
    CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, before, 2), 2);

    const struct tg_key_addr evil = {.type = TG_ADDR_IPV4, .addr = {198, 51, 100, 66}, .port = 4444};
    uint8_t buf[1600];
    memcpy(buf, n.last_join, n.last_join_len);
    uint64_t replays = tg_server_counters(n.server)->drops[TG_DROP_REPLAY];
    tg_server_udp_input(n.server, 0, &evil, buf, n.last_join_len, n.now);
    CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_REPLAY] - replays, 1);
    struct tg_datagram resp;
    while (tg_server_next_datagram(n.server, &resp))
        CHECK(resp.to.port != 4444); /* no answer, no Diffie-Hellman */
    /* a fresh initiation (anyone holding the tg1_ key can make one) is
     * answered, but becomes nothing until its keys are proven */
    uint32_t pending_index = 0;
    {
        struct tg_noise_hs h;
        uint8_t e[32], msg[200];
        randombytes_buf(e, 32);
        CHECK_EQ(tg_noise_init(&h, TG_NOISE_NK, TG_NOISE_INITIATOR,
                               (const uint8_t *)"triglav/1", 9, NULL, n.server_public),
                 TG_OK);
        tg_noise_set_ephemeral(&h, e);
        const uint8_t hello[2] = {1, 0};
        size_t len = hs_message(&n, &h, TG_MSG_HS_INIT, hello, sizeof hello, msg, sizeof msg);
        tg_server_udp_input(n.server, 0, &evil, msg, len, n.now);
        tg_noise_clear(&h);
    }
    while (tg_server_next_datagram(n.server, &resp))
        if (resp.data[0] == TG_MSG_HS_RESP && resp.to.port == 4444)
            pending_index = tg_get_u32(resp.data + 8);
    CHECK(pending_index != 0); /* the server answered: it cannot tell yet */
    CHECK_EQ(tg_server_session_count(n.server), 1);
    uint64_t dec = tg_server_counters(n.server)->drops[TG_DROP_DECRYPT];
    for (uint64_t ctr = 0; ctr < 5; ctr++) { /* forged transport messages */
        uint8_t forged[100];
        randombytes_buf(forged, sizeof forged);
        tg_wire_put_data_header(forged, pending_index, ctr);
        tg_server_udp_input(n.server, 0, &evil, forged, sizeof forged, n.now);
    }
    CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_DECRYPT] - dec, 5);
    /* a join naming no session is refused outright */
    uint64_t hs = tg_server_counters(n.server)->drops[TG_DROP_HANDSHAKE];
    {
        struct tg_noise_hs h;
        uint8_t psk[32], e[32], msg[200];
        randombytes_buf(psk, 32);
        randombytes_buf(e, 32);
        CHECK_EQ(tg_noise_init(&h, TG_NOISE_NKPSK2, TG_NOISE_INITIATOR,
                               (const uint8_t *)"triglav/1", 9, NULL, n.server_public),
                 TG_OK);
        tg_noise_set_ephemeral(&h, e);
        CHECK_EQ(tg_noise_set_psk(&h, psk), TG_OK);
        const uint8_t hello[10] = {1, 1, 9, 9, 9, 9, 9, 9, 9, 9};
        size_t len = hs_message(&n, &h, TG_MSG_HS_JOIN, hello, sizeof hello, msg, sizeof msg);
        tg_server_udp_input(n.server, 0, &evil, msg, len, n.now);
        tg_noise_clear(&h);
    }
    CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_HANDSHAKE] - hs, 1);
    CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, after, 2), 2);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(after[i].rx_packets, before[i].rx_packets);
    CHECK_EQ(tg_server_session_count(n.server), 1);
    /* and the real session still carries traffic on both uplinks */
    for (uint64_t s = 0; s < 50; s++)
        h_net_send(&n, s, 100, false);
    h_net_run(&n, n.now + TG_SEC(1));
    CHECK_EQ(n.n_rx_server, 50);
    h_net_free(&n);
}

/* Malformed, truncated, replayed and forged datagrams: dropped, counted by
 * reason, nothing else changes. */
static void test_bad_datagrams(void)
{
    struct h_net n;
    const tg_time d[1] = {TG_MSEC(10)};
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_send(&n, 0, 200, false);
    h_net_run(&n, n.now + TG_MSEC(1));
    uint8_t sent[1600]; /* a DATA datagram the server has received by the time we replay it */
    size_t sent_len = n.last_data_len;
    memcpy(sent, n.last_data, sent_len);
    h_net_run(&n, n.now + TG_MSEC(100));
    const struct tg_key_addr from = {.type = TG_ADDR_IPV4, .addr = {192, 0, 2, 10}, .port = 1000};
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    uint64_t before[TG_DROP_COUNT];
    memcpy(before, c->drops, sizeof before);
    uint8_t buf[1600];
    static const struct {
        const char *what;
        enum tg_drop why;
    } rows[] = {
        {"empty", TG_DROP_MALFORMED},   {"3 bytes", TG_DROP_MALFORMED},
        {"type 9", TG_DROP_MALFORMED},  {"short data", TG_DROP_MALFORMED},
        {"reserved set", TG_DROP_MALFORMED}, {"unknown index", TG_DROP_UNKNOWN_INDEX},
        {"bad tag", TG_DROP_DECRYPT},   {"replay", TG_DROP_REPLAY},
        {"garbage init", TG_DROP_MAC},
    };
    uint64_t expect[TG_DROP_COUNT] = {0};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t len = 0;
        memcpy(buf, sent, sent_len);
        switch (r) {
        case 0: len = 0; break;
        case 1: len = 3; break;
        case 2: buf[0] = 9; len = 40; break;
        case 3: len = 20; break;
        case 4: buf[2] = 1; len = sent_len; break;
        case 5: tg_put_u32(buf + 4, tg_get_u32(buf + 4) ^ 0x5a5a); len = sent_len; break;
        case 6: buf[sent_len - 1] ^= 1; tg_put_u64(buf + 8, 1u << 20); len = sent_len; break;
        case 7: len = sent_len; break;
        default: tg_wire_put_hs_init_header(buf, TG_MSG_HS_INIT, 5); memset(buf + 8, 0x42, 90); len = 98; break;
        }
        int rc = tg_server_udp_input(n.server, 0, &from, buf, len, n.now);
        if (getenv("TG_DEBUG"))
            fprintf(stderr, "row %s: %s\n", rows[r].what, tg_strerror(rc));
        expect[rows[r].why]++;
    }
    for (int k = 0; k < TG_DROP_COUNT; k++) {
        if (c->drops[k] - before[k] != expect[k])
            fprintf(stderr, "drop reason %s: %llu, expected %llu\n", tg_drop_name((enum tg_drop)k),
                    (unsigned long long)(c->drops[k] - before[k]), (unsigned long long)expect[k]);
        CHECK_EQ(c->drops[k] - before[k], expect[k]);
    }
    CHECK_EQ(tg_server_session_count(n.server), 1);
    h_net_free(&n);
}

/* No allocation per packet: 100 000 packets each way through client and
 * server (seal, schedule, open, reorder) with a counting allocator. */
static void test_no_allocation(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(5), TG_MSEC(15)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL, &counting),
             TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    /* the first striped packets create the reorder buffers, the first burst
     * that outruns an uplink's estimated rate the pool of held packets
     * (pace.h): after that, nothing */
    for (uint64_t s = 0; s < 20000; s++) {
        h_net_send(&n, s, 1400, (s & 1) != 0);
        if (s % 16 == 0)
            h_net_run(&n, n.now + 100);
    }
    h_net_run(&n, n.now + TG_SEC(1));
    long before = allocs;
    uint32_t rx_before = n.n_rx_server + n.n_rx_client;
    for (uint64_t s = 0; s < 100000; s++) {
        h_net_send(&n, s, 1400, (s & 1) != 0);
        if (s % 16 == 0)
            h_net_run(&n, n.now + 100);
    }
    h_net_run(&n, n.now + TG_SEC(1));
    uint32_t rx = n.n_rx_server + n.n_rx_client - rx_before;
    printf("no allocation: %ld allocator calls over 100000 packets, %u delivered\n",
           allocs - before, rx);
    CHECK_EQ(allocs - before, 0);
    CHECK(rx > 90000);
    h_net_free(&n);
}

/* Keys are replaced while traffic flows (rekey every 2 s), and an uplink whose
 * source address changes (NAT rebinding) keeps working: nothing is lost. */
/* Each uplink's mapped address (OBSERVED on the server's PONGs) is the
 * source the server sees, at both ends; it follows the client when it roams. */
static void check_mapped(struct h_net *n, uint8_t base)
{
    struct tg_uplink_snapshot c[TG_MAX_UPLINKS], s[TG_MAX_UPLINKS];
    size_t nc = tg_client_snapshot(n->client, c, TG_MAX_UPLINKS);
    size_t ns = tg_server_snapshot(n->server, n->client_addr, s, TG_MAX_UPLINKS);
    CHECK_EQ(nc, n->n_uplinks);
    CHECK_EQ(ns, n->n_uplinks);
    for (size_t i = 0; i < nc && i < ns; i++) {
        const uint8_t want[4] = {192, 0, 2, (uint8_t)(base + c[i].uplink)};
        CHECK_EQ(c[i].mapped.type, TG_ADDR_IPV4);
        CHECK_MEM(c[i].mapped.addr, want, 4);
        CHECK_EQ(c[i].mapped.port, 1000 + c[i].uplink);
        CHECK_EQ(s[i].mapped.type, TG_ADDR_IPV4);
        CHECK_MEM(s[i].mapped.addr, c[i].mapped.addr, 16);
        CHECK_EQ(s[i].mapped.port, c[i].mapped.port);
    }
}

static void test_mapped_address(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, NULL), TG_OK);
    struct tg_uplink_snapshot c[TG_MAX_UPLINKS];
    size_t nc = tg_client_snapshot(n.client, c, TG_MAX_UPLINKS);
    for (size_t i = 0; i < nc; i++)
        CHECK_EQ(c[i].mapped.type, 0); /* nothing heard yet */
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_MSEC(500)); /* a few probes and their PONGs */
    check_mapped(&n, 10);
    n.client_host_base = 60; /* a NAT rebinding moves both uplinks */
    for (uint64_t s = 0; s < 20; s++) {
        h_net_send(&n, s, 200, false);
        h_net_run(&n, n.now + TG_MSEC(50));
    }
    check_mapped(&n, 60);
    h_net_free(&n);
}

static void test_rekey_and_roaming(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(25)};
    h_rekey_after_us = TG_SEC(2);
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL, NULL), TG_OK);
    h_rekey_after_us = 0;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    enum { N = 7000 };
    for (uint64_t s = 0; s < N; s++) {
        if (s == N / 2)
            n.client_host_base = 50; /* both uplinks appear from new addresses */
        h_net_send(&n, s, 400, false);
        h_net_send(&n, s, 400, true);
        h_net_run(&n, n.now + TG_MSEC(1));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    printf("rekey: %u rekeys in %d s, %u + %u of %d delivered each way\n", n.rekeys, N / 1000,
           n.n_rx_server, n.n_rx_client, N);
    CHECK(n.rekeys >= 4);
    check_exactly_once(n.rx_at_server, n.n_rx_server, N);
    check_exactly_once(n.rx_at_client, n.n_rx_client, N);
    h_net_free(&n);
}

/* Two uplinks come up together, one 50 ms slower, and a striped upload of
 * 24 Mbit/s over 2 x 20 starts as soon as the session is up, while the slow
 * uplink's join is still on its way. The client stripes onto it as soon as
 * the server's answer arrives; the server binds the keys only when the
 * first message under them arrives, 60 ms later. Its reorder buffer waits
 * for the uplink meanwhile (tg_mp_expect): every packet arrives once, in
 * order, none given up on as late (without it: 49 late). */
static void test_join_mid_stream(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(60)};
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    n.up[0].rate_bps = n.up[1].rate_bps = 20000000; /* 24 Mbit/s offered: both needed */
    CHECK_EQ(tg_client_uplink_up(n.client, 0, n.now), TG_OK);
    CHECK_EQ(tg_client_uplink_up(n.client, 1, n.now), TG_OK);
    h_net_drain(&n);
    while (!n.session_up && n.now < TG_SEC(2))
        h_net_run(&n, n.now + TG_MSEC(1));
    CHECK(n.session_up);
    uint32_t from = n.n_rx_server;
    enum { N = 4000 };
    for (uint64_t k = 0; k < N; k++) {
        h_net_send(&n, k, 1000, false);
        if (k % 3 == 2)
            h_net_run(&n, n.now + TG_MSEC(1));
    }
    h_net_run(&n, n.now + TG_SEC(2));
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    uint64_t bytes[2] = {0, 0};
    struct tg_uplink_snapshot s[TG_MAX_UPLINKS];
    size_t k = tg_client_snapshot(n.client, s, TG_MAX_UPLINKS);
    for (size_t i = 0; i < k && i < 2; i++)
        bytes[i] = s[i].tx_bytes;
    long disorder = check_exactly_once(n.rx_at_server + from, n.n_rx_server - from, N);
    printf("a slower uplink joins as a striped upload starts: %u of %d delivered, %ld out of order, "
           "%llu late, %llu + %llu bytes sent\n", n.n_rx_server - from, N, disorder,
           (unsigned long long)c->drops[TG_DROP_LATE], (unsigned long long)bytes[0],
           (unsigned long long)bytes[1]);
    CHECK(bytes[1] > 300000); /* the joining uplink carried its share */
    CHECK_EQ(disorder, 0);
    CHECK_EQ(c->drops[TG_DROP_LATE], 0);
    h_net_free(&n);
}


/* One striped uplink's packets are suddenly 200 ms late, so the reorder
 * buffer holds the other uplink's packets behind the gap: hundreds of them,
 * more than the TUN queue (256). When the late ones arrive the whole run
 * is ready at once; it must reach the TUN side in order and whole, not be
 * cut at the queue's length. Both directions: the client refills its queue
 * as the host empties it, the server on its next timeout. */
static void test_release_burst(bool from_server)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(5), TG_MSEC(5)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL, NULL), TG_OK);
    for (int i = 0; i < 2; i++)
        n.up[i].rate_bps = n.down[i].rate_bps = 50000000;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    enum { N = 20000 };
    for (uint64_t s = 0; s < N; s++) { /* 1000 B every 200 us = 40 Mbit/s */
        if (s == N / 2)
            (from_server ? n.down : n.up)[1].delay_us = TG_MSEC(205);
        h_net_send(&n, s, 1000, from_server);
        h_net_run(&n, n.now + 200);
    }
    h_net_run(&n, n.now + TG_SEC(2));
    const uint64_t *rx = from_server ? n.rx_at_client : n.rx_at_server;
    uint32_t n_rx = from_server ? n.n_rx_client : n.n_rx_server;
    CHECK_EQ(check_exactly_once(rx, n_rx, N), 0);
    const struct tg_endpoint_counters *c =
        from_server ? tg_client_counters(n.client) : tg_server_counters(n.server);
    CHECK_EQ(c->drops[TG_DROP_QUEUE_FULL], 0);
    CHECK(c->reorder_peak > 256);
    printf("release burst to the %s: reorder peak %llu packets, all %u delivered in order\n",
           from_server ? "client" : "server", (unsigned long long)c->reorder_peak, n_rx);
    h_net_free(&n);
}

int main(void)
{
    test_connect();
    test_full_striping();
    test_owd_past_2_32();
    test_playout();
    test_burst_loss_idle_uplink();
    test_burst_recovered();
    test_first_loss_recovered();
    test_first_data_queued();
    test_release_burst(true);
    test_release_burst(false);
    test_join_mid_stream();
    test_late_probe_not_lost();
    test_failover();
    test_redundant();
    test_join_without_key();
    test_bad_datagrams();
    test_no_allocation();
    test_rekey_and_roaming();
    test_mapped_address();
    return check_exit("test_engine");
}
