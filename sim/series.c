/*
 * series.c: sampling a run's time series (series.h). Each sample turns the
 * cumulative counters into the interval's differences and keeps the
 * counters for the next one.
 */
#include "series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* per flow in prev_flow: delivered bytes, retransmits, owd samples, owd sum (double bits) */
#define FLOW_PREV 4

struct sim_series *sim_series_new(tg_time interval_us)
{
    if (interval_us < SIM_SERIES_MIN_US)
        return NULL;
    struct sim_series *s = calloc(1, sizeof *s);
    if (s)
        s->interval_us = interval_us;
    return s;
}

void sim_series_free(struct sim_series *s)
{
    if (!s)
        return;
    free(s->up);
    free(s->flow);
    free(s->tun);
    free(s->prev_flow);
    free(s);
}

/* Room for `more` elements of `size` bytes after *n in *v (capacity *cap). */
static int grow(void **v, size_t *cap, size_t n, size_t more, size_t size)
{
    if (n + more <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < n + more)
        c *= 2;
    void *p = realloc(*v, c * size);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t link_drops(const struct sim_link_stats *st)
{
    return st->drop_queue + st->drop_loss + st->drop_down;
}

int sim_series_sample(struct sim_series *s, const struct sim_series_view *v, tg_time now)
{
    size_t nu = v->n_uplinks < SIM_MAX_UPLINKS ? v->n_uplinks : SIM_MAX_UPLINKS;
    if (now <= s->last_us && s->n_tun > 0)
        return 0;
    double secs = (double)(now - s->last_us) / 1e6;
    if (grow((void **)&s->up, &s->cap_up, s->n_up, nu, sizeof *s->up) ||
        grow((void **)&s->flow, &s->cap_flow, s->n_flow, v->n_flows, sizeof *s->flow) ||
        grow((void **)&s->tun, &s->cap_tun, s->n_tun, 1, sizeof *s->tun))
        return -1;
    if (v->n_flows > s->n_prev_flow) {
        uint64_t *p = realloc(s->prev_flow, v->n_flows * FLOW_PREV * sizeof *p);
        if (!p)
            return -1;
        memset(p + s->n_prev_flow * FLOW_PREV, 0,
               (v->n_flows - s->n_prev_flow) * FLOW_PREV * sizeof *p);
        s->prev_flow = p;
        s->n_prev_flow = v->n_flows;
    }

    struct tg_uplink_snapshot csnap[TG_MAX_UPLINKS], ssnap[TG_MAX_UPLINKS];
    size_t nc = tg_client_snapshot(v->client, csnap, TG_MAX_UPLINKS);
    size_t ns = v->laptop_addr ? tg_server_snapshot(v->server, v->laptop_addr, ssnap,
                                                    TG_MAX_UPLINKS)
                               : 0;

    /* sent bytes of every uplink in the interval, for the shares */
    uint64_t sent[SIM_MAX_UPLINKS][2], total[2] = {0, 0};
    for (size_t i = 0; i < nu; i++)
        for (int d = 0; d < 2; d++) {
            sent[i][d] = sim_link_stats(v->links[i][d])->sent_bytes - s->prev_link_sent[i][d];
            total[d] += sent[i][d];
        }
    for (size_t i = 0; i < nu; i++) {
        const struct sim_link_stats *su = sim_link_stats(v->links[i][0]);
        const struct sim_link_stats *sd = sim_link_stats(v->links[i][1]);
        struct sim_series_uplink *o = &s->up[s->n_up++];
        memset(o, 0, sizeof *o);
        o->t_us = now;
        o->uplink = (uint32_t)i;
        o->up_bps = (double)(su->delivered_bytes - s->prev_link_delivered[i][0]) * 8 / secs;
        o->down_bps = (double)(sd->delivered_bytes - s->prev_link_delivered[i][1]) * 8 / secs;
        o->share_up = total[0] ? (double)sent[i][0] / (double)total[0] : NAN;
        o->share_down = total[1] ? (double)sent[i][1] / (double)total[1] : NAN;
        o->queue_up_bytes = su->queued_bytes;
        o->queue_down_bytes = sd->queued_bytes;
        o->owd_up_us = o->owd_down_us = o->srtt_us = NAN;
        o->health = -1;
        for (size_t k = 0; k < nc; k++)
            if (csnap[k].uplink == i && csnap[k].present) {
                if (csnap[k].owd_us != 0)
                    o->owd_up_us = (double)(csnap[k].owd_us - v->clock_offset_us);
                if (csnap[k].srtt_us != 0 && csnap[k].srtt_us != TG_TIME_NEVER)
                    o->srtt_us = (double)csnap[k].srtt_us;
                o->rate_est_up_bps = csnap[k].rate_bps;
                o->health = (int)csnap[k].health;
            }
        for (size_t k = 0; k < ns; k++)
            if (ssnap[k].uplink == i && ssnap[k].present) {
                if (ssnap[k].owd_us != 0)
                    o->owd_down_us = (double)(ssnap[k].owd_us + v->clock_offset_us);
                o->rate_est_down_bps = ssnap[k].rate_bps;
            }
        uint64_t drops = link_drops(su) + link_drops(sd);
        o->drops = drops - s->prev_link_drops[i];
        s->prev_link_drops[i] = drops;
        s->prev_link_delivered[i][0] = su->delivered_bytes;
        s->prev_link_delivered[i][1] = sd->delivered_bytes;
        s->prev_link_sent[i][0] = su->sent_bytes;
        s->prev_link_sent[i][1] = sd->sent_bytes;
    }

    for (size_t i = 0; i < v->n_flows; i++) {
        const struct sim_flow_stats *st = sim_flow_stats(v->flows[i]);
        uint64_t *p = &s->prev_flow[i * FLOW_PREV];
        struct sim_series_flow *o = &s->flow[s->n_flow++];
        memset(o, 0, sizeof *o);
        o->t_us = now;
        o->flow = (uint32_t)i;
        o->goodput_bps = (double)(st->bytes_delivered - p[0]) * 8 / secs;
        o->retransmits = st->retransmits - p[1];
        uint64_t n = st->owd_us.count - p[2];
        o->owd_us = n ? (st->owd_us.sum - bitsd(p[3])) / (double)n : NAN;
        o->cwnd_bytes = NAN;
        if (!sim_flow_window(v->flows[i], &o->cwnd_bytes, &o->inflight_bytes))
            o->cwnd_bytes = NAN;
        p[0] = st->bytes_delivered;
        p[1] = st->retransmits;
        p[2] = st->owd_us.count;
        p[3] = dbits(st->owd_us.sum);
    }

    const struct tg_endpoint_counters *cc = tg_client_counters(v->client);
    const struct tg_endpoint_counters *sc = tg_server_counters(v->server);
    struct sim_series_tunnel *t = &s->tun[s->n_tun++];
    uint64_t retx = cc->retransmitted + sc->retransmitted, nacks = cc->nacks_sent + sc->nacks_sent;
    uint64_t late = cc->drops[TG_DROP_LATE] + sc->drops[TG_DROP_LATE];
    t->t_us = now;
    t->reorder_peak_pkts = cc->reorder_peak > sc->reorder_peak ? cc->reorder_peak : sc->reorder_peak;
    t->retransmitted = retx - s->prev_retx;
    t->nacks = nacks - s->prev_nacks;
    t->late_drops = late - s->prev_late;
    s->prev_retx = retx;
    s->prev_nacks = nacks;
    s->prev_late = late;
    s->last_us = now;
    return 0;
}
