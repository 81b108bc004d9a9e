/* test_tcp_rack: RACK's adaptive reordering window (sim/tcp_rack.c) as a
 * table of events against the window they leave, plus the cap at srtt and
 * the decay after 16 recoveries without a DSACK. The window's effect on a
 * whole flow (spurious retransmits undone, the window grown) is in
 * test_traffic's "reordering" case. */
#include <stdio.h>

#include "check.h"
#include "sim/tcp_rack.h"

enum { EV_DSACK, EV_ACK, EV_RECOVERY };

static void test_table(void)
{
    /* min_rtt 40 ms, srtt 100 ms: one step is 10 ms, the cap 100 ms */
    static const struct {
        int ev;
        uint64_t prior_delivered, delivered; /* EV_ACK's rate sample */
        unsigned steps;                      /* after the event */
        tg_time wnd_us;
    } rows[] = {
        {EV_ACK, 0, 1000, 1, 10000},    /* nothing seen: min_rtt/4 */
        {EV_DSACK, 0, 0, 1, 10000},     /* a DSACK alone changes nothing yet */
        {EV_ACK, 1000, 2000, 2, 20000}, /* the next ACK widens by one step */
        {EV_DSACK, 0, 0, 2, 20000},     /* another in the same round trip: */
        {EV_ACK, 1500, 3000, 2, 20000}, /* sent before the widening, ignored */
        {EV_DSACK, 0, 0, 2, 20000},     /* a round trip later: */
        {EV_ACK, 2000, 4000, 3, 30000}, /* counts */
        {EV_ACK, 4000, 5000, 3, 30000}, /* no DSACK, persist > 0: kept */
        {EV_RECOVERY, 0, 0, 3, 30000},  /* recoveries count persist down */
    };
    struct sim_rack_reo r;
    sim_rack_reo_init(&r);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].ev == EV_DSACK)
            sim_rack_reo_on_dsack(&r);
        else if (rows[i].ev == EV_ACK)
            sim_rack_reo_update(&r, rows[i].prior_delivered, rows[i].delivered);
        else
            sim_rack_reo_on_recovery(&r);
        CHECK_EQ(r.steps, rows[i].steps);
        CHECK_EQ(sim_rack_reo_wnd(&r, TG_MSEC(40), TG_MSEC(100)), rows[i].wnd_us);
    }
    /* 15 more recoveries without a DSACK: still kept until the 16th */
    for (unsigned k = 0; k < SIM_RACK_RECOVERY_KEEP - 2; k++)
        sim_rack_reo_on_recovery(&r);
    sim_rack_reo_update(&r, 5000, 6000);
    CHECK_EQ(r.steps, 3);
    sim_rack_reo_on_recovery(&r);
    sim_rack_reo_update(&r, 6000, 7000);
    CHECK_EQ(r.steps, 1);
}

static void test_cap(void)
{
    struct sim_rack_reo r;
    sim_rack_reo_init(&r);
    uint64_t d = 0;
    for (unsigned k = 0; k < 300; k++) {
        sim_rack_reo_on_dsack(&r);
        sim_rack_reo_update(&r, d, d + 100);
        d += 100;
    }
    CHECK_EQ(r.steps, SIM_RACK_STEPS_MAX);
    CHECK_EQ(sim_rack_reo_wnd(&r, TG_MSEC(40), TG_MSEC(100)), TG_MSEC(100)); /* srtt caps */
    CHECK_EQ(sim_rack_reo_wnd(&r, TG_MSEC(40), 0), (tg_time)SIM_RACK_STEPS_MAX * TG_MSEC(10));
    CHECK_EQ(sim_rack_reo_wnd(&r, TG_TIME_NEVER, TG_MSEC(100)), 0); /* no RTT yet */
}

int main(void)
{
    test_table();
    test_cap();
    return check_exit("test_tcp_rack");
}
