/* Light flows (light.h): which packets pass the tunnel's queue, and what
 * that does end to end. A voice-like flow beside a bulk one whose packets
 * wait in the tunnel arrives with the fast uplink's delay, while the bulk
 * flow stays in order with nothing given up on as late. */
#include "check.h"
#include "once.h"
#include "harness/harness.h"
#include "core/light.h"

#include <stdlib.h>
#include <string.h>

#define RATE  65536u /* bytes a second: 16 KB a window */
#define PER_W (RATE / 4)

/* One flow at `len` bytes every `gap_us` from `t0` until `t1`: how many of
 * its packets passed, and how many of those sent from `from` on did not. */
static unsigned run_flow(struct tg_light *l, uint64_t hash, size_t len, tg_time gap_us, tg_time t0,
                         tg_time t1, tg_time from, unsigned *held_after)
{
    unsigned pass = 0;
    *held_after = 0;
    for (tg_time t = t0; t < t1; t += gap_us) {
        bool p = tg_light_pass(l, RATE, hash, len, t);
        pass += p;
        *held_after += t >= from && !p;
    }
    return pass;
}

static void test_light_rules(void)
{
    struct tg_light l;
    unsigned pass, held;
    const tg_time w = TG_LIGHT_WINDOW_US, t0 = TG_SEC(1);

    /* a call: 160 B every 20 ms (8 KB/s). A new flow shows it is light over a
     * whole window first, and a quarter of a second passes after its last
     * packet that was not; from then on every packet passes */
    memset(&l, 0, sizeof l);
    pass = run_flow(&l, 7, 160, TG_MSEC(20), t0, t0 + TG_SEC(3), t0 + 2 * w + TG_MSEC(20), &held);
    printf("voice, 8 KB/s for 3 s: %u passed, %u held after its first half second\n", pass, held);
    CHECK_EQ(held, 0);
    CHECK(pass >= 3000 / 20 - 2 * 250 / 20 - 1);
    CHECK(!tg_light_pass(&l, RATE, 8, 160, t0)); /* another new flow */

    /* a download never passes, and a trickle right after it neither (the
     * window before was heavy), nor a quarter of a second after its last
     * heavy packet; quiet for two windows, it is light again */
    memset(&l, 0, sizeof l);
    pass = run_flow(&l, 9, 1000, TG_USEC(100), t0, t0 + TG_MSEC(500), t0, &held);
    printf("bulk, 10 MB/s for 0.5 s: %u passed\n", pass);
    CHECK_EQ(pass, 0);
    CHECK(!tg_light_pass(&l, RATE, 9, 100, t0 + TG_MSEC(600)));
    CHECK(!tg_light_pass(&l, RATE, 9, 100, t0 + TG_MSEC(840)));
    CHECK(tg_light_pass(&l, RATE, 9, 100, t0 + TG_MSEC(1400)));

    /* a flow whose two entries are both other flows', active: not light (a
     * collision costs delay, never order); one that shares only one entry
     * takes the other; once the others have been quiet two windows, the
     * entry is the newcomer's, as a new flow */
    const uint64_t a = 5, both = 7 + ((uint64_t)5 << 32); /* entries 5, 0 and 7, 5 */
    const uint64_t one = 5 + ((uint64_t)9 << 32);         /* 5, 9: shares one */
    const uint64_t b = 5 + ((uint64_t)7 << 32);           /* 5, 7: shares both */
    memset(&l, 0, sizeof l);
    unsigned late = 0;
    for (tg_time t = t0; t < t0 + TG_SEC(1); t += TG_MSEC(20)) {
        bool settled = t >= t0 + 2 * w + TG_MSEC(20);
        late += !tg_light_pass(&l, RATE, a, 160, t) && settled;
        late += !tg_light_pass(&l, RATE, both, 160, t) && settled;
        late += !tg_light_pass(&l, RATE, one, 160, t) && settled;
    }
    CHECK_EQ(late, 0);
    CHECK(!tg_light_pass(&l, RATE, b, 160, t0 + TG_SEC(1)));
    pass = run_flow(&l, b, 160, TG_MSEC(20), t0 + TG_SEC(2), t0 + TG_SEC(3),
                    t0 + TG_SEC(2) + 2 * w + TG_MSEC(20), &held);
    CHECK(pass > 0);
    CHECK_EQ(held, 0);

    /* eight flows at 15 KB a window each: together they may pass at most
     * TG_LIGHT_ALL flows' worth a window */
    memset(&l, 0, sizeof l);
    unsigned passed_bytes = 0;
    for (tg_time t = t0; t < t0 + TG_SEC(1) + w; t += TG_MSEC(10)) {
        if (t == t0 + TG_SEC(1))
            passed_bytes = 0; /* the last window alone */
        for (uint64_t f = 0; f < 8; f++)
            passed_bytes += tg_light_pass(&l, RATE, f, 375, t) ? 375 : 0;
    }
    printf("8 flows of 37 KB/s: %u bytes passed in one window (at most %u)\n", passed_bytes,
           TG_LIGHT_ALL * PER_W);
    CHECK(passed_bytes <= TG_LIGHT_ALL * PER_W);
    CHECK(passed_bytes > 0);

    /* the rate: light_flow_rate, or 1/TG_LIGHT_SHARE of the uplinks' */
    CHECK_EQ(tg_light_rate(RATE, 0), RATE);
    CHECK_EQ(tg_light_rate(RATE, 100e6), RATE);
    CHECK_EQ(tg_light_rate(RATE, 8e6), 8000000 / 8 / TG_LIGHT_SHARE);

    /* light_flow_rate 0: nothing passes */
    memset(&l, 0, sizeof l);
    run_flow(&l, 7, 160, TG_MSEC(20), t0, t0 + TG_SEC(1), t0, &held);
    CHECK(!tg_light_pass(&l, 0, 7, 160, t0 + TG_SEC(1)));
}

static int cmp_time(const void *a, const void *b)
{
    tg_time x = *(const tg_time *)a, y = *(const tg_time *)b;
    return (x > y) - (x < y);
}

/* Over 20 Mbit/s (10 ms, 32 KB queue, the tunnel keeping at most 16 KB in it)
 * and 10 Mbit/s (30 ms), a bulk upload in 240 KB bursts every 100 ms waits
 * in the tunnel and the reorder buffer, and a call (200 B every 20 ms) goes
 * beside it. Returns the call's largest one-way delay after its first
 * second; checks that everything arrived once and the bulk flow in order. */
static tg_time call_beside_bulk(bool light)
{
    struct h_net n;
    h_light_flow_rate = light ? RATE : UINT32_MAX;
    CHECK(h_net_paced_pair(&n));
    h_light_flow_rate = 0;
    /* a call packet every 20 ms, a 240 KB burst every 100 ms before it */
    enum { STEPS = 300, EVERY = 5, PER = 240, BULK = STEPS / EVERY * PER, CALL = 1u << 20 };
    tg_time sent_at[BULK], call_at[STEPS];
    static const uint8_t outside[4] = {203, 0, 113, 7};
    uint32_t from = n.n_rx_server;
    for (unsigned b = 0; b < STEPS; b++) {
        for (unsigned k = 0; b % EVERY == 0 && k < PER; k++) {
            uint64_t s = b / EVERY * PER + k;
            sent_at[s] = n.now;
            h_net_send(&n, s, 1000, false);
        }
        uint8_t pkt[256];
        uint16_t l = h_packet(pkt, n.client_addr, outside, CALL + b, 200);
        pkt[21] = 0x41; /* port 40001: another flow */
        call_at[b] = n.now;
        CHECK_EQ(tg_client_tun_input(n.client, pkt, l, n.now), TG_OK);
        h_net_drain(&n);
        h_net_run(&n, n.now + TG_MSEC(20));
    }
    h_net_run(&n, n.now + TG_SEC(2));

    uint32_t m = n.n_rx_server - from, n_bulk = 0, n_call = 0;
    uint64_t *bulk = calloc(m + 1, sizeof *bulk), *call = calloc(m + 1, sizeof *call);
    tg_time *bulk_d = calloc(m + 1, sizeof *bulk_d), worst = 0, bulk_p50;
    CHECK(bulk != NULL && call != NULL && bulk_d != NULL);
    for (uint32_t i = from; i < n.n_rx_server && bulk && call && bulk_d; i++) {
        uint64_t s = n.rx_at_server[i];
        tg_time at = n.rx_time_at_server[i];
        if (s >= CALL && s < CALL + STEPS) {
            call[n_call++] = s - CALL;
            /* a new flow is light after its first half second */
            if (s - CALL >= 50 && at - call_at[s - CALL] > worst)
                worst = at - call_at[s - CALL];
        } else if (s < BULK) {
            bulk_d[n_bulk] = at - sent_at[s];
            bulk[n_bulk++] = s;
        }
    }
    /* the first bursts, before the uplinks' rates are known, overflow the
     * fast uplink's queue */
    long dup, lost;
    long bulk_disorder = tally_delivery(bulk, n_bulk, BULK, &dup, &lost);
    CHECK_EQ(dup, 0);
    CHECK(lost <= BULK / 100);
    long call_disorder = check_exactly_once(call, n_call, STEPS);
    qsort(bulk_d, n_bulk, sizeof *bulk_d, cmp_time);
    bulk_p50 = n_bulk ? bulk_d[n_bulk / 2] : 0;
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    printf("a call beside bursts held in the tunnel, light flows %s: call %u of %d, worst %.1f "
           "ms, %ld out of order; bulk %u of %d, p50 %.1f ms, %ld out of order, %llu late\n",
           light ? "on" : "off", n_call, STEPS, (double)worst / 1e3, call_disorder, n_bulk, BULK,
           (double)bulk_p50 / 1e3, bulk_disorder, (unsigned long long)c->drops[TG_DROP_LATE]);
    CHECK_EQ(call_disorder, 0);
    CHECK_EQ(bulk_disorder, 0);
    CHECK_EQ(c->drops[TG_DROP_LATE], 0);
    free(bulk);
    free(call);
    free(bulk_d);
    h_net_free(&n);
    return worst;
}

static void test_light_call_beside_bulk(void)
{
    tg_time on = call_beside_bulk(true), off = call_beside_bulk(false);
    /* on: the fast uplink's 10 ms, its queue (at most 16 KB: 6.6 ms) and a
     * packet's time on it; off: the call waits behind each burst in the
     * tunnel and the reorder buffer */
    CHECK(on <= TG_MSEC(18));
    CHECK(off >= TG_MSEC(50));
}

int main(void)
{
    test_light_rules();
    test_light_call_beside_bulk();
    return check_exit("test_light");
}
