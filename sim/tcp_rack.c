/*
 * tcp_rack.c: see tcp_rack.h. Linux keeps the same four fields
 * (reo_wnd_steps, reo_wnd_persist, dsack_seen, last_delivered); the round
 * trip guard compares delivered counts, so a burst of DSACKs from one
 * reordering event widens the window by one step, not by one per segment.
 */
#include "tcp_rack.h"

void sim_rack_reo_init(struct sim_rack_reo *r)
{
    r->steps = 1;
    r->persist = 0;
    r->dsack_seen = false;
    r->last_delivered = 0;
}

void sim_rack_reo_on_dsack(struct sim_rack_reo *r)
{
    r->dsack_seen = true;
}

void sim_rack_reo_update(struct sim_rack_reo *r, uint64_t prior_delivered, uint64_t delivered)
{
    if (prior_delivered < r->last_delivered)
        r->dsack_seen = false; /* sent before the last widening: same round trip */
    if (r->dsack_seen) {
        if (r->steps < SIM_RACK_STEPS_MAX)
            r->steps++;
        r->dsack_seen = false;
        r->last_delivered = delivered;
        r->persist = SIM_RACK_RECOVERY_KEEP;
    } else if (r->persist == 0) {
        r->steps = 1;
    }
}

void sim_rack_reo_on_recovery(struct sim_rack_reo *r)
{
    if (r->persist > 0)
        r->persist--;
}

tg_time sim_rack_reo_wnd(const struct sim_rack_reo *r, tg_time min_rtt_us, tg_time srtt_us)
{
    if (min_rtt_us == TG_TIME_NEVER)
        return 0;
    tg_time w = min_rtt_us / 4 * r->steps;
    return srtt_us > 0 && w > srtt_us ? srtt_us : w;
}
