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

/* One flow at `len` bytes every `gap_us` for `dur_us` from `t0`: how many
 * of its packets passed. */
static unsigned run_flow(struct tg_light *l, uint64_t hash, size_t len, tg_time gap_us, tg_time t0,
                         tg_time dur_us, unsigned *sent)
{
    unsigned pass = 0, n = 0;
    for (tg_time t = t0; t < t0 + dur_us; t += gap_us, n++)
        pass += tg_light_pass(l, RATE, hash, len, t);
    *sent = n;
    return pass;
}

static void test_light_rules(void)
{
    struct tg_light l;
    unsigned n, pass;

    /* a call: 160 B every 20 ms (8 KB/s) passes all along */
    memset(&l, 0, sizeof l);
    pass = run_flow(&l, 7, 160, TG_MSEC(20), TG_SEC(1), TG_SEC(3), &n);
    printf("voice, 8 KB/s: %u of %u passed\n", pass, n);
    CHECK_EQ(pass, n);

    /* a download: its first 16 KB pass, then nothing, in this window and the
     * next (it sent more than 16 KB in the one before) */
    memset(&l, 0, sizeof l);
    pass = run_flow(&l, 9, 1000, TG_USEC(100), TG_SEC(1), TG_MSEC(500), &n);
    printf("bulk, 10 MB/s for 0.5 s: %u of %u passed\n", pass, n);
    CHECK_EQ(pass, PER_W / 1000);
    /* a trickle right after it does not pass: the window before was heavy */
    CHECK(!tg_light_pass(&l, RATE, 9, 100, TG_SEC(1) + TG_MSEC(600)));
    /* ... nor a quarter of a second after its last heavy packet */
    CHECK(!tg_light_pass(&l, RATE, 9, 100, TG_SEC(1) + TG_MSEC(840)));
    /* quiet for two windows, it is light again */
    CHECK(tg_light_pass(&l, RATE, 9, 100, TG_SEC(2) + TG_MSEC(400)));

    /* another flow in the same slot while the first is active: not light
     * (a collision costs delay, never order); once the first has been quiet
     * two windows, the slot is the newcomer's */
    memset(&l, 0, sizeof l);
    CHECK(tg_light_pass(&l, RATE, 5, 160, TG_SEC(1)));
    CHECK(!tg_light_pass(&l, RATE, 5 + TG_LIGHT_SLOTS, 160, TG_SEC(1) + TG_MSEC(100)));
    CHECK(tg_light_pass(&l, RATE, 5 + TG_LIGHT_SLOTS, 160, TG_SEC(1) + TG_MSEC(600)));

    /* eight flows at 15 KB a window each: together they may pass at most
     * TG_LIGHT_ALL flows' worth */
    memset(&l, 0, sizeof l);
    unsigned passed_bytes = 0;
    for (tg_time t = TG_SEC(1); t < TG_SEC(1) + TG_LIGHT_WINDOW_US; t += TG_MSEC(10))
        for (uint64_t f = 0; f < 8; f++)
            passed_bytes += tg_light_pass(&l, RATE, f, 600, t) ? 600 : 0;
    printf("8 flows of 60 KB/s: %u bytes passed in one window (at most %u)\n", passed_bytes,
           TG_LIGHT_ALL * PER_W);
    CHECK(passed_bytes <= TG_LIGHT_ALL * PER_W);
    CHECK(passed_bytes >= TG_LIGHT_ALL * PER_W - 8 * 600);

    /* light_flow_rate 0: nothing passes */
    memset(&l, 0, sizeof l);
    CHECK(!tg_light_pass(&l, 0, 7, 160, TG_SEC(1)));
}

static int cmp_time(const void *a, const void *b)
{
    tg_time x = *(const tg_time *)a, y = *(const tg_time *)b;
    return (x > y) - (x < y);
}

/* Over 20 Mbit/s (10 ms, 32 KB queue, the tunnel keeping at most 16 KB in it)
 * and 10 Mbit/s (30 ms), a bulk upload in 40 KB bursts every 20 ms waits in
 * the tunnel and the reorder buffer, and a call (200 B every 20 ms) goes
 * beside it. Returns the call's largest one-way delay; checks that
 * everything arrived once and the bulk flow in order. */
static tg_time call_beside_bulk(bool light)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(30)};
    struct h_net n;
    h_uplink_queue_limit = 16384;
    h_light_flow_rate = light ? 0 : UINT32_MAX;
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    h_uplink_queue_limit = 0;
    h_light_flow_rate = 0;
    n.up[0].rate_bps = 20000000;
    n.up[0].queue_bytes = 32768;
    n.up[1].rate_bps = 10000000;
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(1));
    enum { BURSTS = 300, PER = 40, CALL = 1u << 20 };
    tg_time sent_at[BURSTS * PER], call_at[BURSTS];
    static const uint8_t outside[4] = {203, 0, 113, 7};
    uint32_t from = n.n_rx_server;
    for (unsigned b = 0; b < BURSTS; b++) {
        uint8_t pkt[256];
        uint16_t l = h_packet(pkt, n.client_addr, outside, CALL + b, 200);
        pkt[21] = 0x41; /* port 40001: another flow */
        call_at[b] = n.now;
        CHECK_EQ(tg_client_tun_input(n.client, pkt, l, n.now), TG_OK);
        h_net_drain(&n);
        for (unsigned k = 0; k < PER; k++) {
            sent_at[b * PER + k] = n.now;
            h_net_send(&n, b * PER + k, 1000, false);
        }
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
        if (s >= CALL && s < CALL + BURSTS) {
            call[n_call++] = s - CALL;
            if (at - call_at[s - CALL] > worst)
                worst = at - call_at[s - CALL];
        } else if (s < BURSTS * PER) {
            bulk_d[n_bulk] = at - sent_at[s];
            bulk[n_bulk++] = s;
        }
    }
    long bulk_disorder = check_exactly_once(bulk, n_bulk, BURSTS * PER);
    long call_disorder = check_exactly_once(call, n_call, BURSTS);
    qsort(bulk_d, n_bulk, sizeof *bulk_d, cmp_time);
    bulk_p50 = n_bulk ? bulk_d[n_bulk / 2] : 0;
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    printf("a call beside a held bulk upload, light flows %s: call %u of %d, worst %.1f ms, "
           "%ld out of order; bulk %u of %d, p50 %.1f ms, %ld out of order, %llu late\n",
           light ? "on" : "off", n_call, BURSTS, (double)worst / 1e3, call_disorder, n_bulk,
           BURSTS * PER, (double)bulk_p50 / 1e3, bulk_disorder,
           (unsigned long long)c->drops[TG_DROP_LATE]);
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
     * packet's time on it; off: the call waits with the bulk flow's packets
     * in the tunnel and the reorder buffer */
    CHECK(on <= TG_MSEC(18));
    CHECK(off >= TG_MSEC(40));
}

int main(void)
{
    test_light_rules();
    test_light_call_beside_bulk();
    return check_exit("test_light");
}
