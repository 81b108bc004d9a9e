/* Pacing over the in-memory harness (pace.h): the tunnel keeps an uplink's
 * queue short and holds the rest, measures the rate it lets through, keeps
 * striped packets in order while it holds them, drops at its valve, and asks
 * again for a run the link dropped while it paced. */
#include "check.h"
#include "once.h"
#include "harness/harness.h"
#include "core/pace.h"

#include <stdlib.h>
#include <string.h>

/* An uplink of 20 Mbit/s with a 32 KB drop-tail queue, fed 40 KB bursts
 * every 20 ms (16 Mbit/s on average): sent at once, each burst overflows the
 * queue. With the tunnel keeping at most 16 KB in the uplink's queue (pace.h)
 * the rest of each burst waits in the tunnel and nothing is dropped once the
 * uplink's rate is known; with the limit off, the queue drops packets of
 * every burst. Returns the link's drops in the last two seconds. */
static uint64_t burst_drops(uint32_t limit)
{
    const tg_time d[1] = {TG_MSEC(10)};
    struct h_net n;
    h_uplink_queue_limit = limit;
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    h_uplink_queue_limit = 0;
    n.up[0].rate_bps = 20000000;
    n.up[0].queue_bytes = 32768;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    enum { BURSTS = 150, PER = 40 };
    uint64_t seq = 0, drops_before = 0;
    uint32_t rx_before = 0;
    for (int b = 0; b < BURSTS; b++) {
        if (b == BURSTS / 3) { /* the first second teaches the tunnel the uplink's rate */
            drops_before = n.up[0].dropped;
            rx_before = n.n_rx_server;
        }
        for (int k = 0; k < PER; k++)
            h_net_send(&n, seq++, 1000, false);
        h_net_run(&n, n.now + TG_MSEC(20));
    }
    h_net_run(&n, n.now + TG_SEC(1));
    uint64_t drops = n.up[0].dropped - drops_before;
    uint32_t rx = n.n_rx_server - rx_before;
    printf("bursts into a 32 KB queue, %s: %llu dropped by the link, %u of %d delivered\n",
           limit == UINT32_MAX ? "sent at once" : "at most 16 KB queued",
           (unsigned long long)drops, rx, (BURSTS - BURSTS / 3) * PER);
    if (limit != UINT32_MAX)
        CHECK(rx >= (uint32_t)(BURSTS - BURSTS / 3) * PER);
    h_net_free(&n);
    return drops;
}

static void test_pace_small_queue(void)
{
    CHECK_EQ(burst_drops(16384), 0);
    CHECK(burst_drops(UINT32_MAX) > 0);
}

/* The rate the tunnel measures while it holds packets back is the rate it
 * let through. An uplink that was 5 Mbit/s and becomes 50 Mbit/s, offered
 * 30 Mbit/s all along: within a second of the change it carries the
 * offered rate, not the 5 Mbit/s the tunnel last measured. */
static void test_pace_rate_rises(void)
{
    const tg_time d[1] = {TG_MSEC(10)};
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    n.up[0].rate_bps = 5000000;
    n.up[0].queue_bytes = 65536; /* (the harness fixes a queued packet's exit at its entry) */
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint64_t seq = 0;
    uint32_t rx_from = 0;
    for (int ms = 0; ms < 4000; ms += 4) { /* 15 x 1000 B every 4 ms: 30 Mbit/s */
        if (ms == 2000)
            n.up[0].rate_bps = 50000000;
        if (ms == 3000)
            rx_from = n.n_rx_server;
        for (int k = 0; k < 15; k++)
            h_net_send(&n, seq++, 1000, false);
        h_net_run(&n, n.now + TG_MSEC(4));
    }
    double mbps = (double)(n.n_rx_server - rx_from) * 1000 * 8 / 1e6;
    printf("rate rises 5 -> 50 Mbit/s under 30 Mbit/s offered: %.1f Mbit/s 1-2 s after\n", mbps);
    CHECK(mbps > 27);
    h_net_free(&n);
}

/* Striped over 20 Mbit/s (10 ms, 32 KB queue) and 10 Mbit/s (30 ms), fed 40 KB
 * bursts every 20 ms: the fast uplink holds part of each burst in the tunnel
 * while later packets go out on the slow one. Held packets carry the time
 * they were scheduled, so nothing the fast uplink sends past them (probes
 * above all) tells the receiver it will not deliver them: every packet
 * arrives once, in order, none given up on as late. */
static void test_pace_striped_in_order(void)
{
    struct h_net n;
    CHECK(h_net_paced_pair(&n));
    enum { N = 6000, WARM = 2000 };
    uint32_t from = 0;
    uint64_t link_drops = 0;
    for (uint64_t k = 0; k < WARM + N; k++) { /* the first 2000 teach the tunnel the rates */
        if (k == WARM) {
            from = n.n_rx_server;
            link_drops = n.up[0].dropped;
        }
        h_net_send(&n, k < WARM ? N + k : k - WARM, 1000, false);
        if (k % 40 == 39)
            h_net_run(&n, n.now + TG_MSEC(20));
    }
    h_net_run(&n, n.now + TG_SEC(5));
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    uint64_t *got = calloc(n.n_rx_server - from + 1, sizeof *got);
    uint32_t n_got = 0;
    for (uint32_t i = from; i < n.n_rx_server && got != NULL; i++)
        if (n.rx_at_server[i] < N) /* the warm-up's stragglers aside */
            got[n_got++] = n.rx_at_server[i];
    long disorder = check_exactly_once(got, n_got, N);
    free(got);
    printf("striped bursts, fast uplink held: %u of %d delivered, %ld out of order, %llu late, "
           "%llu dropped by the link\n", n_got, N, disorder,
           (unsigned long long)c->drops[TG_DROP_LATE],
           (unsigned long long)(n.up[0].dropped - link_drops));
    CHECK_EQ(disorder, 0);
    CHECK_EQ(c->drops[TG_DROP_LATE], 0);
    h_net_free(&n);
}

/* A long uplink: 50 Mbit/s, 50 ms each way, a 1 MB queue, offered bursts
 * of 160 KB every 30 ms (43 Mbit/s). About 600 datagrams are in flight
 * before the receiver reports the first of them; the queue model must still
 * know where it stands (a mark for each of them), or it lets go of what the
 * tunnel holds and each burst lands in the link's queue at once. The link's
 * queue stays near the tunnel's limit (48 KB, 8 ms), not a burst's 26 ms. */
static void test_pace_long_flight(void)
{
    const tg_time d[1] = {TG_MSEC(50)};
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    n.up[0].rate_bps = 50000000;
    n.up[0].queue_bytes = 1 << 20;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    tg_time worst = 0;
    uint64_t seq = 0;
    for (int b = 0; b < 100; b++) { /* 3 s */
        for (int k = 0; k < 160; k++)
            h_net_send(&n, seq++, 1000, false);
        for (int t = 0; t < 30; t++) {
            h_net_run(&n, n.now + TG_MSEC(1));
            tg_time q = n.up[0].busy_until > n.now ? n.up[0].busy_until - n.now : 0;
            if (b >= 50 && q > worst) /* once the rate is known */
                worst = q;
        }
    }
    printf("bursts over a 50 Mbit/s uplink, 50 ms each way: its queue at most %.1f ms, %llu dropped by "
           "the tunnel's queue\n",
           (double)worst / 1e3,
           (unsigned long long)tg_client_counters(n.client)->drops[TG_DROP_QUEUE_FULL]);
    CHECK(worst <= TG_MSEC(20));
    h_net_free(&n);
}

/* The model can be far off: an uplink of 20 Mbit/s drops to 1 Mbit/s under
 * 10 Mbit/s offered. Whatever the model says, no packet waits in the tunnel
 * longer than TG_PACE_MAX_WAIT_US (100 ms), so none arrives later than that
 * plus the link's own 16 KB queue (131 ms at 1 Mbit/s) and its delay. */
static void test_pace_max_wait(void)
{
    const tg_time d[1] = {TG_MSEC(10)};
    struct h_net n;
    tg_time *sent = calloc(6000, sizeof *sent);
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    n.up[0].rate_bps = 20000000;
    n.up[0].queue_bytes = 16384;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint32_t from = n.n_rx_server;
    for (uint64_t s = 0; s < 6000 && sent != NULL; s++) { /* 1000 B every 0.8 ms */
        if (s == 2500)
            n.up[0].rate_bps = 1000000;
        sent[s] = n.now;
        h_net_send(&n, s, 1000, false);
        h_net_run(&n, n.now + 800);
    }
    h_net_run(&n, n.now + TG_SEC(1));
    tg_time worst = 0;
    for (uint32_t i = from; i < n.n_rx_server && sent != NULL; i++) {
        uint64_t s = n.rx_at_server[i];
        tg_time late = s < 6000 ? n.rx_time_at_server[i] - sent[s] : 0;
        worst = late > worst ? late : worst;
    }
    printf("rate drops 20 -> 1 Mbit/s: the latest packet arrived %.1f ms after it was sent\n",
           (double)worst / 1e3);
    CHECK(worst <= TG_MSEC(100 + 131 + 10 + 40));
    h_net_free(&n);
    free(sent);
}

/* Half as much again as an uplink of `rate_bps` carries, for 4 s, from the
 * client, with nothing slowing the sender, and a quarter of the packets back:
 * packets the valve dropped, packets the link dropped, and the spread of the
 * one-way delays the client learned (largest - smallest). */
struct valve_run {
    uint64_t valve, link;
    int64_t owd_spread_us;
};

static struct valve_run valve_over(uint64_t rate_bps, uint32_t queue_bytes)
{
    const tg_time d[1] = {TG_MSEC(10)};
    struct h_net n;
    struct valve_run r = {0};
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    n.up[0].rate_bps = rate_bps;
    n.up[0].queue_bytes = queue_bytes;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    const uint64_t *drops = tg_client_counters(n.client)->drops;
    uint64_t before = drops[TG_DROP_QUEUE_FULL];
    tg_time every = (tg_time)(1000 * 8e6 / (1.5 * (double)rate_bps)); /* 1000 B each */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint64_t k = 0;
    for (tg_time t = 0; t < TG_SEC(4); t += every, k++) {
        h_net_send(&n, k, 1000, false);
        if (k % 4 == 0) /* and a little the other way, which the client reports on */
            h_net_send(&n, k, 1000, true);
        h_net_run(&n, n.now + every);
        struct tg_uplink_snapshot s;
        if (tg_client_snapshot(n.client, &s, 1) == 1 && s.owd_us != 0) {
            lo = s.owd_us < lo ? s.owd_us : lo;
            hi = s.owd_us > hi ? s.owd_us : hi;
        }
    }
    r.valve = drops[TG_DROP_QUEUE_FULL] - before;
    r.link = n.up[0].dropped;
    r.owd_spread_us = hi - lo;
    h_net_free(&n);
    return r;
}

/* The inner flows keep the tunnel's queue full for 100 ms: the valve drops
 * one packet a second at most, whatever the link's queue; an uplink too slow
 * for the tunnel to hold much for it is never dropped for. A feedback
 * reports the delay of the newest DATA or PING beside the newest counter,
 * which may be a datagram without one (a PONG): corrected by the wrong hold
 * time, that delay read 100 ms of queue the link never had. */
static void test_valve_drop(void)
{
    struct valve_run big = valve_over(20000000, 1 << 20);
    struct valve_run small = valve_over(20000000, 65536);
    struct valve_run slow = valve_over(1000000, 65536);
    printf("offered 1.5 x the uplink for 4 s: the valve dropped %llu at 20 Mbit/s with a 1 MB link "
           "queue (the link %llu), %llu with 64 KB (the link %llu, delays spread %.1f ms), %llu at "
           "1 Mbit/s with 64 KB (the link %llu, delays spread %.1f ms)\n",
           (unsigned long long)big.valve, (unsigned long long)big.link,
           (unsigned long long)small.valve, (unsigned long long)small.link,
           (double)small.owd_spread_us / 1e3, (unsigned long long)slow.valve,
           (unsigned long long)slow.link, (double)slow.owd_spread_us / 1e3);
    CHECK(big.valve >= 1 && big.valve <= 4);
    CHECK(small.valve >= 1 && small.valve <= 4);
    CHECK(small.link > 0); /* overloaded all the same */
    CHECK_EQ(slow.valve, 0);
    CHECK(slow.link > 0);
    /* no delay beyond what the link's queue holds: 64 KB drain in 26.2 ms at
     * 20 Mbit/s, in 524 ms at 1 Mbit/s */
    CHECK(small.owd_spread_us <= (int64_t)TG_MSEC(30));
    CHECK(slow.owd_spread_us <= (int64_t)TG_MSEC(545));
}

/* The way back jitters (0-3 ms each datagram, as a cellular uplink's
 * scheduler or a busy router does): the feedbacks about an uplink arrive
 * bunched and spread, and timed by their arrivals the 10 ms samples of a
 * 20 Mbit/s uplink read up to 22.2 Mbit/s. The estimate keeps the highest
 * sample while the uplink has no queue, so it stayed that high, and the
 * queue model drained the bottleneck faster than it drains: a long path's
 * small buffer overflowed again and again. The receiver's own spacing of the
 * packets (their send times plus the delays it reports) has no such error. */
static void test_rate_jittered_feedback(void)
{
    const tg_time d[1] = {TG_MSEC(30)};
    const uint64_t rate = 20000000;
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    n.up[0].rate_bps = rate;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint64_t x = 12345; /* the jitter's draws: a fixed LCG, the same every run */
    double highest = 0;
    uint64_t k = 0;
    for (tg_time t = 0; t < TG_SEC(4); t += 400, k++) { /* 1000 B each 0.4 ms: more than it carries */
        x = x * 6364136223846793005u + 1442695040888963407u;
        n.down[0].delay_us = d[0] + (tg_time)((x >> 33) % 3001);
        h_net_send(&n, k, 1000, false);
        h_net_run(&n, n.now + 400);
        struct tg_uplink_snapshot s;
        if (t > TG_SEC(1) && tg_client_snapshot(n.client, &s, 1) == 1 && s.rate_bps > highest)
            highest = s.rate_bps;
    }
    printf("20 Mbit/s offered to a 20 Mbit/s uplink, the way back jittering 0-3 ms: the rate "
           "estimate reached %.2f Mbit/s\n",
           highest / 1e6);
    CHECK(highest > 0);
    CHECK(highest <= 1.02 * (double)rate); /* what it carried, within its samples' rounding */
    h_net_free(&n);
}

/* Both uplinks are full and the tunnel holds the rest of the striped stream
 * in its own queue, feeding each by its model: a run of datagrams one of them
 * then drops is the model's error (here: the link goes dark for 8 ms). The
 * DATA after the run says it was held (TG_DATA_FLAG_HELD), so the receiver
 * asks for the run although it came at the top of the queue, where a loss
 * otherwise tells the inner flows of the queue they built and is left to
 * them. Passed on, such runs cut the inner window again and again on a long
 * path whose small buffer the model misses by a few packets. */
static void test_held_run_recovered(void)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(10)};
    enum { N = 4000, DARK_AT = 3000 };
    struct h_net n;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    n.up[0].rate_bps = n.up[1].rate_bps = 10000000;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint32_t from = n.n_rx_server;
    const uint64_t *drops = tg_client_counters(n.client)->drops;
    uint64_t valve = drops[TG_DROP_QUEUE_FULL];
    for (uint64_t s = 0; s < N; s++) { /* 1000 B each 0.375 ms: 1.1 x what they carry */
        if (s == DARK_AT) {
            n.up[0].down_from = n.now;
            n.up[0].down_until = n.now + TG_MSEC(8);
        }
        h_net_send(&n, s, 1000, false);
        h_net_run(&n, n.now + 375);
    }
    h_net_run(&n, n.now + TG_SEC(1));
    valve = drops[TG_DROP_QUEUE_FULL] - valve;
    long dup, missing;
    tally_delivery(n.rx_at_server + from, n.n_rx_server - from, N, &dup, &missing);
    printf("a run dropped while the tunnel held the stream: "
           "%llu sent again, %llu never delivered (%llu dropped by the valve)\n",
           (unsigned long long)tg_client_counters(n.client)->retransmitted,
           (unsigned long long)missing, (unsigned long long)valve);
    CHECK(tg_client_counters(n.client)->retransmitted >= 6);
    CHECK((uint64_t)missing <= valve);
    h_net_free(&n);
}

/* An uplink held at the tunnel's limit all along never empties by itself,
 * and once the 5 s bucket in which it last did has passed (its one-way
 * delay's floor is the least of two: uplink.h), the standing queue would
 * read as the floor: the model would see the limit's worth less than is
 * queued, and the link would overflow. The tunnel lets the queue empty
 * briefly when the floor has not been met in the current bucket (pace.h).
 * 20 Mbit/s, 20 ms each way, a 64 KB queue of which the tunnel keeps 16 KB,
 * a sender that keeps 200 KB in flight (as a TCP flow would: the rest waits
 * in the tunnel) for 16 s: the least one-way delay the client learns from
 * 10 s on is within a millisecond of the path's 20 ms (without the drain:
 * 26 ms, the standing queue), and the link drops nothing after the first
 * second. */
static void test_pace_floor_kept(void)
{
    const tg_time d[1] = {TG_MSEC(20)};
    struct h_net n;
    h_uplink_queue_limit = 16384;
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    h_uplink_queue_limit = 0;
    n.up[0].rate_bps = 20000000;
    n.up[0].queue_bytes = 65536;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint64_t k = 0, early = 0;
    int64_t lo = INT64_MAX; /* the least one-way delay from 10 s on */
    uint32_t rx0 = n.n_rx_server;
    for (tg_time t = 0; t < TG_SEC(16); t += TG_USEC(500)) {
        if (t < TG_SEC(1))
            early = n.up[0].dropped;
        while (k - (n.n_rx_server - rx0) < 200) { /* 200 x 1000 B in flight */
            h_net_send(&n, k, 1000, false);
            if (k++ % 4 == 0) /* and a little the other way, which the client reports on */
                h_net_send(&n, k, 1000, true);
        }
        h_net_run(&n, n.now + TG_USEC(500));
        struct tg_uplink_snapshot s;
        if (t >= TG_SEC(10) && tg_client_snapshot(n.client, &s, 1) == 1 && s.owd_us != 0 &&
            s.owd_us < lo)
            lo = s.owd_us;
    }
    uint64_t late = n.up[0].dropped - early;
    printf("200 KB in flight for 16 s over 20 Mbit/s, 20 ms: the least one-way delay from 10 s on "
           "%.2f ms; the link dropped %llu after the first second\n",
           (double)lo / 1e3, (unsigned long long)late);
    CHECK(lo <= (int64_t)(d[0] + TG_MSEC(1))); /* the queue emptied: the floor was met again */
    CHECK_EQ(late, 0);
    h_net_free(&n);
}

int main(void)
{
    test_pace_small_queue();
    test_pace_rate_rises();
    test_pace_max_wait();
    test_pace_long_flight();
    test_valve_drop();
    test_rate_jittered_feedback();
    test_held_run_recovered();
    test_pace_striped_in_order();
    test_pace_floor_kept();
    return check_exit("test_pace");
}
