/* test_cc: CUBIC's window in congestion avoidance (sim/cc.c) against Linux's
 * tcp_cubic. Until a loss has set a maximum the window grows at least 5% per
 * round trip (Linux caps cnt at 20 then), so a flow whose slow start HyStart
 * ended early still fills a long path within seconds; after a loss it
 * follows the cubic curve back towards the old maximum, far slower near it;
 * a timeout forgets the maximum, as Linux's reset on TCP_CA_Loss does. */
#include <stdio.h>

#include "check.h"
#include "sim/cc.h"

#define MSS 1448
#define RTT TG_MSEC(20)

/* One round trip: the whole window ACKed, one segment per ACK, no delay
 * increase (HyStart stays quiet). */
static void round_trip(struct sim_cc_state *cc, tg_time *now, uint64_t *seq)
{
    unsigned n = (unsigned)(cc->cwnd / MSS);
    uint64_t end = *seq + (uint64_t)n * MSS;
    for (unsigned i = 0; i < n; i++) {
        *seq += MSS;
        const struct sim_cc_ack a = {.acked = MSS, .una = *seq, .nxt = end + MSS,
                                     .rtt_us = RTT, .min_rtt_us = RTT, .srtt_us = RTT,
                                     .grow = true, .delivered = *seq};
        (void)sim_cc_on_ack(cc, &a, *now + RTT * i / n);
    }
    *now += RTT;
}

int main(void)
{
    struct sim_cc_state cc;
    sim_cc_init(&cc, SIM_CC_CUBIC, MSS);
    tg_time now = TG_SEC(1);
    uint64_t seq = 0;
    cc.ssthresh = cc.cwnd; /* slow start ended at 10 segments, no loss yet */
    for (int r = 0; r < 40; r++)
        round_trip(&cc, &now, &seq);
    double w = cc.cwnd / MSS;
    printf("no loss yet: 10 -> %.1f segments in 40 round trips\n", w);
    CHECK(w >= 10 * 6.5 && w <= 10 * 8.0); /* 1.05^40 = 7.04 */

    sim_cc_on_loss(&cc);
    double w_max = cc.cubic.w_max;
    CHECK(w_max > 60);
    for (int r = 0; r < 10; r++)
        round_trip(&cc, &now, &seq);
    w = cc.cwnd / MSS;
    printf("after a loss at %.1f: %.1f segments 10 round trips later\n", w_max, w);
    CHECK(w >= 0.7 * w_max && w < 0.85 * w_max); /* not 5% per round trip */

    sim_cc_on_rto(&cc, true);
    CHECK(cc.cubic.w_max == 0);
    CHECK(cc.cwnd == MSS);
    return check_exit("test_cc");
}
