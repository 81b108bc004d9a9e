/*
 * run.c: one run. The environment (uplink parameters, event occurrences,
 * loss and jitter, traffic) is drawn from streams keyed by (seed, purpose),
 * then a client core and a server core are wired through the links:
 *
 *   flow (laptop) -> client core -> up link u -> server core -> flow (outside)
 *   flow (outside) -> server core -> down link u -> client core -> flow (laptop)
 *
 * The cores' outputs are drained after every input. A flow may answer a
 * packet at once (an ACK), which would re-enter the core whose outputs are
 * being drained, so packets from the hosts are queued as events at the same
 * instant instead of being fed directly.
 */
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "core/endpoint.h"
#include "core/noise.h"
#include "env.h"
#include "hash.h"
#include "link.h"
#include "traffic.h"

/* Stream numbers: one per random process, independent of the strategy. */
enum {
    ST_CLIENT = 1,
    ST_SERVER,
    ST_UPLINK = 100,     /* + uplink: its parameters */
    ST_EVENT = 200,      /* + event: its occurrences */
    ST_LOSS = 300,       /* + 2*uplink + dir */
    ST_JITTER = 400,     /* + 2*uplink + dir */
    ST_EXTRA_LOSS = 500, /* + 2*uplink + dir: loss events */
    ST_FLOW = 600,       /* + flow */
};

#define MAX_FLOWS (SIM_MAX_FLOWS * 4)
#define FAILOVER_WINDOW_US TG_SEC(2)

/* Each core reads its own clock, as two real machines do: simulated time
 * plus an offset like a monotonic clock after days of uptime (laptop about
 * 18 h, server about 3 days), unequal and past 2^32 us, so that a core which
 * mixed up clocks or kept a time in 32 bits fails here as it would live. */
static const tg_time core_clock[2] = {
    (tg_time)15 << 32 | 123456789u, /* client */
    (tg_time)60 << 32 | 987654321u, /* server */
};

static tg_time core_now(int who, tg_time now)
{
    return now + core_clock[who];
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint64_t sim_iteration_seed(uint64_t base, const struct sim_scenario *sc, uint32_t i)
{
    uint64_t h = sim_fnv1a(SIM_FNV1A_BASIS, sc->name, strlen(sc->name));
    return mix64(mix64(base ^ h) + i);
}

/* ------------------------------------------------------------ state */

struct interval_list {
    struct sim_interval *v;
    size_t n, cap;
};

struct factor_iv {
    tg_time start, end;
    double factor;
};

struct uplink_rt {
    struct sim_link *link[2];            /* 0 up (laptop -> server), 1 down */
    struct sim_link_config cfg[2];
    struct sim_rate_step *steps[2];      /* owned when rates were combined with events */
    struct interval_list down;           /* merged DOWN intervals */
    struct factor_iv *rate_iv, *loss_iv; /* RATE and LOSS occurrences */
    size_t n_rate, n_loss, cap_rate, cap_loss;
    gsl_rng *extra_loss[2];
    gsl_rng *loss_rng_owned[2], *jitter_rng_owned[2];
    uint64_t extra_drops[2];
    uint32_t outages;
    struct run *run;
    unsigned index;
};

struct link_ctx {
    struct uplink_rt *u;
    int dir;
};

/* A packet from a host, waiting for its instant (see the header comment). */
struct pending {
    struct pending *next;
    enum sim_side from;
    size_t len;
    uint8_t data[SIM_PKT_MAX];
};

struct run {
    const struct sim_run_spec *spec;
    const struct sim_scenario *sc;
    struct sim_evq q;
    gsl_rng *core_rng[2];
    struct tg_client *client;
    struct tg_server *server;
    tg_time armed[2];                    /* core timer events: client, server */
    struct uplink_rt up[SIM_MAX_UPLINKS];
    struct link_ctx lctx[SIM_MAX_UPLINKS][2];
    struct sim_flow *flows[MAX_FLOWS];
    gsl_rng *flow_rng[MAX_FLOWS];
    size_t n_flows;
    bool flows_started;
    uint8_t laptop_addr[4];
    tg_time session_up;
    struct pending *free_pending;
    struct sim_event_count evc[SIM_MAX_EVENTS];
    tg_time *down_starts;                /* starts of DOWN occurrences, sorted */
    size_t n_down_starts, cap_down_starts;
    tg_time last_delivery[MAX_FLOWS];    /* per flow: last application delivery */
    tg_time failover_us;
    uint64_t delivered_bytes_seen[MAX_FLOWS];
    bool oom;                            /* an allocation here failed (see out_of_memory) */
    tg_time replay_last;                 /* replay: time of the last packet (run.h) */
    struct sim_series *series;           /* spec->series_interval_us > 0 (series.h) */
    uint64_t series_events;              /* sampling events run (not counted in sim_events) */
};

static const uint8_t outside_addr[4] = {203, 0, 113, 10};
static const uint8_t pool_addr[4] = {198, 18, 0, 0};

/* ------------------------------------------------------------ helpers */

static gsl_rng *stream(uint64_t seed, uint64_t id)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r)
        gsl_rng_set(r, (unsigned long)mix64(seed ^ mix64(id * 0x632be59bd9b4e019u)));
    return r;
}

static void rng_fill(void *ctx, uint8_t *buf, size_t len)
{
    gsl_rng *r = ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(gsl_rng_get(r) >> 8);
}

static int push_iv(struct run *r, struct interval_list *l, tg_time s, tg_time e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        struct sim_interval *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return r->oom = true, -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct sim_interval){s, e};
    return 0;
}

static int push_factor(struct run *r, struct factor_iv **v, size_t *n, size_t *cap,
                       struct factor_iv f)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        struct factor_iv *nv = realloc(*v, c * sizeof *nv);
        if (!nv)
            return r->oom = true, -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = f;
    return 0;
}

static int cmp_iv(const void *a, const void *b)
{
    const struct sim_interval *x = a, *y = b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

static int cmp_time(const void *a, const void *b)
{
    tg_time x = *(const tg_time *)a, y = *(const tg_time *)b;
    return x < y ? -1 : x > y;
}

/* Sort and merge overlapping intervals. */
static void merge_ivs(struct interval_list *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof l->v[0], cmp_iv);
    size_t w = 0;
    for (size_t i = 1; i < l->n; i++) {
        if (l->v[i].start_us <= l->v[w].end_us) {
            if (l->v[i].end_us > l->v[w].end_us)
                l->v[w].end_us = l->v[i].end_us;
        } else {
            l->v[++w] = l->v[i];
        }
    }
    l->n = w + 1;
}

static tg_time draw_time(const struct sim_dist *d, gsl_rng *g)
{
    double x = sim_dist_draw(d, g);
    if (!(x > 0))
        return 0;
    return x > 1e15 ? (tg_time)1e15 : (tg_time)x;
}

/* ------------------------------------------------------------ environment */

/* Occurrences of every event, drawn from the event's own stream. */
static int draw_events(struct run *r)
{
    const struct sim_scenario *sc = r->sc;
    tg_time dur = sc->duration_us;
    for (size_t e = 0; e < sc->n_events; e++) {
        const struct sim_event_spec *ev = &sc->events[e];
        struct sim_event_count *cnt = &r->evc[e];
        snprintf(cnt->name, sizeof cnt->name, "%s", ev->name);
        gsl_rng *g = stream(r->spec->seed, ST_EVENT + e);
        if (!g)
            return r->oom = true, -1;
        tg_time t = ev->n_at ? ev->at_us[0] : draw_time(&ev->first_us, g);
        for (uint32_t k = 0; t < dur; k++) {
            if (ev->count && k >= ev->count)
                break;
            if (ev->n_at && k >= ev->n_at)
                break;
            tg_time len = draw_time(&ev->length_us, g);
            bool happens = ev->probability >= 1 || gsl_rng_uniform(g) < ev->probability;
            if (happens && len > 0) {
                cnt->occurrences++;
                tg_time end = tg_time_add(t, len);
                cnt->total_us += (end < dur ? end : dur) - t;
                for (unsigned i = 0; i < sc->n_uplinks; i++) {
                    if (!(ev->uplink_mask & (1u << i)))
                        continue;
                    /* drawn only when given: scenarios without coverage keep
                     * the random streams they always had */
                    if (ev->coverage[i] > 0 && gsl_rng_uniform(g) < ev->coverage[i])
                        continue;
                    tg_time s = tg_time_add(t, draw_time(&ev->stagger_us, g));
                    tg_time en = tg_time_add(s, len);
                    struct uplink_rt *u = &r->up[i];
                    if (ev->effect == SIM_EFFECT_DOWN) {
                        if (push_iv(r, &u->down, s, en))
                            return -1;
                    } else if (ev->effect == SIM_EFFECT_RATE) {
                        if (push_factor(r, &u->rate_iv, &u->n_rate, &u->cap_rate,
                                        (struct factor_iv){s, en, ev->factor}))
                            return -1;
                    } else if (push_factor(r, &u->loss_iv, &u->n_loss, &u->cap_loss,
                                           (struct factor_iv){s, en, ev->loss})) {
                        return -1;
                    }
                }
            }
            if (ev->n_at)
                t = k + 1 < ev->n_at ? ev->at_us[k + 1] : TG_TIME_NEVER;
            else
                t = tg_time_add(tg_time_add(t, len), draw_time(&ev->every_us, g));
        }
        gsl_rng_free(g);
    }
    return 0;
}

/* Base rate at t of a FIXED or SCHEDULE direction. */
static double base_rate(const struct sim_link_config *c, tg_time t)
{
    if (!c->n_steps)
        return c->rate_bps;
    double rate = c->steps[0].rate_bps;
    for (size_t i = 0; i < c->n_steps && c->steps[i].at_us <= t; i++)
        rate = c->steps[i].rate_bps;
    return rate;
}

/* Fold RATE occurrences into a step schedule. */
static int combine_rates(struct run *r, struct uplink_rt *u, int dir)
{
    struct sim_link_config *c = &u->cfg[dir];
    size_t nb = c->n_steps + 2 * u->n_rate + 1;
    tg_time *bp = malloc(nb * sizeof *bp);
    struct sim_rate_step *steps = malloc(nb * sizeof *steps);
    if (!bp || !steps) {
        free(bp);
        free(steps);
        return r->oom = true, -1;
    }
    size_t n = 0;
    bp[n++] = 0;
    for (size_t i = 0; i < c->n_steps; i++)
        bp[n++] = c->steps[i].at_us;
    for (size_t i = 0; i < u->n_rate; i++) {
        bp[n++] = u->rate_iv[i].start;
        bp[n++] = u->rate_iv[i].end;
    }
    qsort(bp, n, sizeof bp[0], cmp_time);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && bp[i] == bp[i - 1])
            continue;
        double rate = base_rate(c, bp[i]);
        for (size_t k = 0; k < u->n_rate; k++)
            if (u->rate_iv[k].start <= bp[i] && bp[i] < u->rate_iv[k].end)
                rate *= u->rate_iv[k].factor;
        steps[m++] = (struct sim_rate_step){bp[i], rate};
    }
    free(bp);
    u->steps[dir] = steps;
    c->steps = steps;
    c->n_steps = m;
    return 0;
}

static void link_deliver(void *ctx, uint8_t *pkt, size_t len, tg_time now);

/* Link configs, events and down intervals of the iteration (no links yet). */
static int build_env(struct run *r)
{
    const struct sim_scenario *sc = r->sc;
    for (unsigned i = 0; i < sc->n_uplinks; i++) {
        struct uplink_rt *u = &r->up[i];
        u->run = r;
        u->index = i;
        gsl_rng *g = stream(r->spec->seed, ST_UPLINK + i);
        if (!g)
            return r->oom = true, -1;
        const struct sim_dir_spec *ds[2] = {&sc->uplinks[i].up, &sc->uplinks[i].down};
        for (int d = 0; d < 2; d++) {
            const struct sim_dir_spec *s = ds[d];
            struct sim_link_config *c = &u->cfg[d];
            memset(c, 0, sizeof *c);
            /* draw in a fixed order whatever the kind, so streams line up */
            double rate = sim_dist_draw(&s->rate_bps, g);
            double offset = sim_dist_draw(&s->trace_offset_us, g);
            double delay = sim_dist_draw(&s->delay_us, g);
            double jitter = sim_dist_draw(&s->jitter_us, g);
            double loss = sim_dist_draw(&s->loss_p, g);
            double queue = sim_dist_draw(&s->queue_bytes, g);
            if (s->rate_kind == SIM_RATE_FIXED) {
                c->rate_bps = rate > 1000 ? rate : 1000;
            } else if (s->rate_kind == SIM_RATE_SCHEDULE) {
                c->steps = s->steps;
                c->n_steps = s->n_steps;
            } else {
                c->trace = s->trace;
                c->trace_offset_us = offset > 0 ? (tg_time)offset : 0;
                c->trace_scale = s->trace_scale;
            }
            c->delay_us = delay > 0 ? (tg_time)delay : 0;
            c->jitter_us = jitter > 0 ? (tg_time)jitter : 0;
            c->loss = s->loss;
            c->loss_p = loss < 0 ? 0 : loss > 1 ? 1 : loss;
            c->ge = s->ge;
            c->queue_bytes = queue >= 1500 ? (uint64_t)queue : 1500;
        }
        gsl_rng_free(g);
    }
    if (draw_events(r))
        return -1;
    for (unsigned i = 0; i < sc->n_uplinks; i++) {
        struct uplink_rt *u = &r->up[i];
        merge_ivs(&u->down);
        for (size_t k = 0; k < u->down.n; k++)
            if (u->down.v[k].start_us < sc->duration_us) {
                u->outages++;
                if (r->n_down_starts == r->cap_down_starts) {
                    size_t cap = r->cap_down_starts ? 2 * r->cap_down_starts : 16;
                    tg_time *v = realloc(r->down_starts, cap * sizeof *v);
                    if (!v)
                        return r->oom = true, -1;
                    r->down_starts = v;
                    r->cap_down_starts = cap;
                }
                r->down_starts[r->n_down_starts++] = u->down.v[k].start_us;
            }
        for (int d = 0; d < 2; d++) {
            struct sim_link_config *c = &u->cfg[d];
            c->down = u->down.v;
            c->n_down = u->down.n;
            if (u->n_rate && !c->trace && combine_rates(r, u, d))
                return -1;
        }
    }
    if (r->n_down_starts)
        qsort(r->down_starts, r->n_down_starts, sizeof r->down_starts[0], cmp_time);
    return 0;
}

/* The random streams of uplink u's direction d: loss, jitter, loss events.
 * Each depends only on (seed, stream number). Freed with the run. */
static int open_streams(struct run *r, struct uplink_rt *u, int d)
{
    uint64_t id = 2 * (uint64_t)u->index + (unsigned)d;
    u->loss_rng_owned[d] = stream(r->spec->seed, ST_LOSS + id);
    u->jitter_rng_owned[d] = stream(r->spec->seed, ST_JITTER + id);
    u->extra_loss[d] = stream(r->spec->seed, ST_EXTRA_LOSS + id);
    if (!u->loss_rng_owned[d] || !u->jitter_rng_owned[d] || !u->extra_loss[d])
        return r->oom = true, -1;
    return 0;
}

/* The links of the environment (build_env first). Each link's streams depend
 * only on (seed, stream number), so building them after the whole
 * environment draws the same numbers as building them uplink by uplink. */
static int build_links(struct run *r)
{
    const struct sim_scenario *sc = r->sc;
    for (unsigned i = 0; i < sc->n_uplinks; i++) {
        struct uplink_rt *u = &r->up[i];
        for (int d = 0; d < 2; d++) {
            if (open_streams(r, u, d))
                return -1;
            r->lctx[i][d] = (struct link_ctx){u, d};
            /* the link keeps using the streams: they are freed with the run */
            u->cfg[d].header_bytes = SIM_UDP4_HEADERS; /* it carries datagram payloads */
            u->link[d] = sim_link_new(&u->cfg[d], &r->q, u->loss_rng_owned[d],
                                      u->jitter_rng_owned[d], link_deliver, &r->lctx[i][d]);
            if (!u->link[d])
                return r->oom = true, -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ the cores */

static void arm(struct run *r, int who);
static void drain_client(struct run *r);
static void drain_server(struct run *r);

static bool in_loss_event(const struct uplink_rt *u, tg_time t, double *p)
{
    for (size_t k = 0; k < u->n_loss; k++)
        if (u->loss_iv[k].start <= t && t < u->loss_iv[k].end) {
            *p = u->loss_iv[k].factor;
            return true;
        }
    return false;
}

static void from_addr(unsigned uplink, struct tg_key_addr *a)
{
    memset(a, 0, sizeof *a);
    a->type = 1;
    a->addr[0] = 192;
    a->addr[1] = 0;
    a->addr[2] = 2;
    a->addr[3] = (uint8_t)(10 + uplink);
    a->port = (uint16_t)(50000 + uplink);
}

/* A LOSS event drops this packet (drawn from the direction's own stream). */
static bool event_drops(const struct uplink_rt *u, int dir, tg_time now)
{
    double p;
    return u->n_loss && in_loss_event(u, now, &p) && gsl_rng_uniform(u->extra_loss[dir]) < p;
}

static void link_deliver(void *ctx, uint8_t *pkt, size_t len, tg_time now)
{
    struct link_ctx *lc = ctx;
    struct uplink_rt *u = lc->u;
    struct run *r = u->run;
    if (event_drops(u, lc->dir, now)) {
        u->extra_drops[lc->dir]++;
        return;
    }
    if (lc->dir == 0) {
        struct tg_key_addr from;
        from_addr(u->index, &from);
        (void)tg_server_udp_input(r->server, 0, &from, pkt, len, core_now(1, now));
        drain_server(r);
    } else {
        (void)tg_client_udp_input(r->client, u->index, pkt, len, core_now(0, now));
        drain_client(r);
    }
}

static void start_flows(struct run *r);

static void deliver_to_host(struct run *r, enum sim_side at, const uint8_t *pkt, size_t len,
                            tg_time now)
{
    const struct sim_replay_src *rp = r->spec->replay; /* replay: see run.h */
    if (rp) {
        rp->deliver(rp->ctx, at, pkt, len, now);
        return;
    }
    int id = sim_flow_demux(pkt, len);
    if (id < 0 || (size_t)id >= r->n_flows)
        return;
    struct sim_flow *f = r->flows[id];
    tg_time busy = sim_flow_outstanding_since(f);
    sim_flow_input(f, at, pkt, len, now);
    uint64_t got = sim_flow_stats(f)->bytes_delivered;
    if (got == r->delivered_bytes_seen[id])
        return;
    r->delivered_bytes_seen[id] = got;
    /* failover: the longest application-level delivery gap of one flow
     * overlapping the first seconds after an uplink went down, counted
     * only from when the flow had data outstanding (an idle or app-limited
     * sender's pause is not a failover) */
    tg_time last = r->last_delivery[id];
    r->last_delivery[id] = now;
    if (last == TG_TIME_NEVER || busy == TG_TIME_NEVER)
        return;
    if (busy > last)
        last = busy;
    for (size_t k = 0; k < r->n_down_starts; k++) {
        tg_time s = r->down_starts[k];
        if (s > now)
            break;
        if (last < s + FAILOVER_WINDOW_US && now > s && now - last > r->failover_us)
            r->failover_us = now - last;
    }
}

static void drain_client(struct run *r)
{
    struct tg_datagram d;
    while (tg_client_next_datagram(r->client, &d)) {
        if (r->spec->dgram_sizes)
            sim_hist_add(r->spec->dgram_sizes, d.len);
        if (d.uplink < r->sc->n_uplinks)
            (void)sim_link_send(r->up[d.uplink].link[0], d.data, d.len);
    }
    const uint8_t *pkt;
    size_t len;
    while (tg_client_next_tun_packet(r->client, &pkt, &len))
        deliver_to_host(r, SIM_SIDE_LAPTOP, pkt, len, r->q.now);
    struct tg_event ev;
    while (tg_client_next_event(r->client, &ev))
        if (ev.type == TG_EV_SESSION_UP && r->session_up == TG_TIME_NEVER) {
            r->session_up = r->q.now;
            memcpy(r->laptop_addr, ev.tunnel_addr, 4);
            start_flows(r);
        }
    arm(r, 0);
}

static void drain_server(struct run *r)
{
    struct tg_datagram d;
    while (tg_server_next_datagram(r->server, &d)) {
        if (r->spec->dgram_sizes)
            sim_hist_add(r->spec->dgram_sizes, d.len);
        unsigned u = (unsigned)d.to.addr[3] - 10;
        if (d.to.type == 1 && u < r->sc->n_uplinks)
            (void)sim_link_send(r->up[u].link[1], d.data, d.len);
    }
    const uint8_t *pkt;
    size_t len;
    while (tg_server_next_tun_packet(r->server, &pkt, &len))
        deliver_to_host(r, SIM_SIDE_OUTSIDE, pkt, len, r->q.now);
    struct tg_event ev;
    while (tg_server_next_event(r->server, &ev)) {
    }
    arm(r, 1);
}

static void on_core_timer(void *ctx, uint64_t who, tg_time now)
{
    struct run *r = ctx;
    if (r->armed[who] != now)
        return; /* superseded by an earlier deadline */
    r->armed[who] = TG_TIME_NEVER;
    if (who == 0) {
        tg_client_on_timeout(r->client, core_now(0, now));
        drain_client(r);
    } else {
        tg_server_on_timeout(r->server, core_now(1, now));
        drain_server(r);
    }
}

/* Keep one timer event at the core's next deadline. An event armed for a
 * later time is left in the queue and ignored when it fires. */
static void arm(struct run *r, int who)
{
    tg_time d = who == 0 ? tg_client_next_deadline(r->client) : tg_server_next_deadline(r->server);
    if (d == TG_TIME_NEVER)
        return;
    d = d > core_clock[who] ? d - core_clock[who] : 0;
    if (d >= r->armed[who])
        return;
    if (d < r->q.now)
        d = r->q.now;
    r->armed[who] = d;
    if (sim_evq_push(&r->q, d, on_core_timer, r, (uint64_t)who))
        r->oom = true;
}

/* ------------------------------------------------------------ hosts */

static void inject(void *ctx, uint64_t arg, tg_time now)
{
    struct run *r = ctx;
    struct pending *p = (struct pending *)(uintptr_t)arg;
    if (p->from == SIM_SIDE_LAPTOP) {
        (void)tg_client_tun_input(r->client, p->data, p->len, core_now(0, now));
        drain_client(r);
    } else {
        (void)tg_server_tun_input(r->server, p->data, p->len, core_now(1, now));
        drain_server(r);
    }
    p->next = r->free_pending;
    r->free_pending = p;
}

static void emit(void *ctx, enum sim_side from, const uint8_t *pkt, size_t len, tg_time now)
{
    struct run *r = ctx;
    if (len > SIM_PKT_MAX)
        return;
    struct pending *p = r->free_pending;
    if (p) {
        r->free_pending = p->next;
    } else if (!(p = malloc(sizeof *p))) {
        r->oom = true;
        return;
    }
    p->from = from;
    p->len = len;
    memcpy(p->data, pkt, len);
    if (sim_evq_push(&r->q, now, inject, r, (uint64_t)(uintptr_t)p)) {
        free(p);
        r->oom = true;
    }
}

/* ------------------------------------------------------------ replay (run.h) */

static uint32_t sent_mask(const struct run *r, int dir, const uint64_t *before)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < r->sc->n_uplinks; i++)
        if (sim_link_stats(r->up[i].link[dir])->sent_pkts != before[i])
            mask |= 1u << i;
    return mask;
}

/* Packet `i` goes into its core; the next one is scheduled after it. The
 * uplinks that carry it are those offered a datagram while the core took it
 * in (a TUN input sends at once; nothing is queued in between). */
static void replay_inject(void *ctx, uint64_t i, tg_time now)
{
    struct run *r = ctx;
    const struct sim_replay_src *rp = r->spec->replay;
    const struct sim_replay_pkt *p = &rp->pkts[i];
    int dir = p->from == SIM_SIDE_LAPTOP ? 0 : 1;
    uint64_t before[SIM_MAX_UPLINKS];
    for (unsigned u = 0; u < r->sc->n_uplinks; u++)
        before[u] = sim_link_stats(r->up[u].link[dir])->sent_pkts;
    int rc;
    if (dir == 0) {
        rc = tg_client_tun_input(r->client, p->data, p->len, core_now(0, now));
        drain_client(r);
    } else {
        rc = tg_server_tun_input(r->server, p->data, p->len, core_now(1, now));
        drain_server(r);
    }
    rp->sent(rp->ctx, (size_t)i, rc, sent_mask(r, dir, before), now);
    if (i + 1 < rp->n &&
        sim_evq_push(&r->q, tg_time_add(r->session_up, rp->pkts[i + 1].at_us), replay_inject, r,
                     i + 1))
        r->oom = true;
}

static void start_replay(struct run *r)
{
    const struct sim_replay_src *rp = r->spec->replay;
    rp->session_up(rp->ctx, r->laptop_addr, r->q.now);
    if (rp->n == 0)
        return;
    r->replay_last = tg_time_add(r->session_up, rp->pkts[rp->n - 1].at_us);
    if (sim_evq_push(&r->q, tg_time_add(r->session_up, rp->pkts[0].at_us), replay_inject, r, 0))
        r->oom = true;
}

/* Flows start once the tunnel has an address (the laptop's traffic uses it). */
static void start_flows(struct run *r)
{
    if (r->flows_started)
        return;
    r->flows_started = true;
    if (r->spec->replay) {
        start_replay(r);
        return;
    }
    const struct sim_scenario *sc = r->sc;
    size_t n = 0;
    for (size_t i = 0; i < sc->n_flows; i++) {
        for (uint32_t k = 0; k < sc->flows[i].count && n < MAX_FLOWS; k++, n++) {
            r->flow_rng[n] = stream(r->spec->seed, ST_FLOW + n);
            struct sim_flow_io io = {emit, r, &r->q, r->flow_rng[n], {0}, {0}};
            memcpy(io.laptop_addr, r->laptop_addr, 4);
            memcpy(io.outside_addr, outside_addr, 4);
            r->flows[n] = r->flow_rng[n] ? sim_flow_new(&sc->flows[i].cfg, &io, (unsigned)n) : NULL;
            if (!r->flows[n]) {
                r->oom = true;
                r->n_flows = n;
                return;
            }
        }
    }
    r->n_flows = n;
    for (size_t i = 0; i < n; i++)
        sim_flow_start(r->flows[i]);
}

/* ------------------------------------------------------------ time series */

/* A sample at `now`, and the next one an interval later within the run. */
static void on_series(void *ctx, uint64_t arg, tg_time now)
{
    (void)arg;
    struct run *r = ctx;
    const struct sim_link *links[SIM_MAX_UPLINKS][2];
    for (unsigned i = 0; i < r->sc->n_uplinks; i++)
        for (int d = 0; d < 2; d++)
            links[i][d] = r->up[i].link[d];
    struct sim_series_view v = {
        .links = (const struct sim_link *const(*)[2])links,
        .n_uplinks = r->sc->n_uplinks,
        .flows = r->flows,
        .n_flows = r->n_flows,
        .client = r->client,
        .server = r->server,
        .laptop_addr = r->session_up != TG_TIME_NEVER ? r->laptop_addr : NULL,
        .clock_offset_us = (int64_t)(core_clock[1] - core_clock[0]),
    };
    r->series_events++;
    if (sim_series_sample(r->series, &v, now))
        r->oom = true;
    else if (now + r->series->interval_us <= r->sc->duration_us &&
             sim_evq_push(&r->q, now + r->series->interval_us, on_series, r, 0))
        r->oom = true;
}

/* ------------------------------------------------------------ measuring */

/* Bits the direction could carry in [0, dur) while up. Stretches of at least
 * a second with no capacity at all (gaps in a trace, a schedule at 0) are
 * outages too: their time and number are added to *gap_us and *gaps. */
static double capacity_bits(const struct uplink_rt *u, int d, tg_time dur, tg_time *gap_us,
                            uint32_t *gaps)
{
    tg_time zero_since = TG_TIME_NEVER;
    const struct sim_link_config *c = &u->cfg[d];
    /* up time per unit: sample the capacity in 10 ms slices; exact enough
     * for a mean and independent of how the capacity is described */
    const tg_time slice = TG_MSEC(10);
    double bits = 0;
    size_t k = 0, nd = u->down.n;
    for (tg_time t = 0; t < dur; t += slice) {
        while (k < nd && u->down.v[k].end_us <= t)
            k++;
        if (k < nd && u->down.v[k].start_us <= t) {
            /* an outage event: counted by down_time(), not as a gap */
            if (zero_since != TG_TIME_NEVER && t - zero_since >= TG_SEC(1)) {
                *gap_us += t - zero_since;
                (*gaps)++;
            }
            zero_since = TG_TIME_NEVER;
            continue;
        }
        double rate;
        if (c->trace) {
            const struct sim_trace *tr = c->trace;
            tg_time pos = (t + c->trace_offset_us) % tr->period_us;
            if (tr->kind == SIM_TRACE_MAHIMAHI) {
                /* opportunities in [pos, pos + slice) */
                size_t lo = 0, hi = tr->n_opp;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (tr->opp_us[mid] < pos)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                size_t cnt = 0;
                for (size_t j = lo; j < tr->n_opp && tr->opp_us[j] < pos + slice; j++)
                    cnt++;
                rate = (double)cnt * SIM_MAHIMAHI_MTU * 8 / ((double)slice / 1e6);
            } else {
                rate = tr->steps[0].rate_bps;
                for (size_t j = 0; j < tr->n_steps && tr->steps[j].at_us <= pos; j++)
                    rate = tr->steps[j].rate_bps;
            }
            rate *= c->trace_scale > 0 ? c->trace_scale : 1;
        } else {
            rate = base_rate(c, t);
        }
        tg_time len = dur - t < slice ? dur - t : slice;
        bits += rate * ((double)len / 1e6);
        if (rate > 0 || t + len >= dur) {
            tg_time end = rate > 0 ? t : dur;
            if (zero_since != TG_TIME_NEVER && end - zero_since >= TG_SEC(1)) {
                *gap_us += end - zero_since;
                (*gaps)++;
            }
            zero_since = TG_TIME_NEVER;
        } else if (zero_since == TG_TIME_NEVER) {
            zero_since = t;
        }
    }
    return bits;
}

static tg_time down_time(const struct uplink_rt *u, tg_time dur)
{
    tg_time total = 0;
    for (size_t k = 0; k < u->down.n; k++) {
        tg_time s = u->down.v[k].start_us, e = u->down.v[k].end_us;
        if (s >= dur)
            break;
        total += (e < dur ? e : dur) - s;
    }
    return total;
}

static void measure(struct run *r, struct sim_run_result *res)
{
    const struct sim_scenario *sc = r->sc;
    tg_time dur = sc->duration_us;
    double secs = (double)dur / 1e6;
    struct sim_hist *owd = malloc(sizeof *owd);
    if (!owd) {
        r->oom = true;
        return;
    }
    sim_hist_init(owd);

    /* the bulk direction: that of the first TCP flow, else down */
    int bulk_dir = 1;
    for (size_t i = 0; i < sc->n_flows; i++)
        if (sc->flows[i].cfg.kind == SIM_FLOW_TCP) {
            bulk_dir = sc->flows[i].cfg.dir == SIM_DIR_UP ? 0 : 1;
            break;
        }

    double bytes_dir[2] = {0, 0}, jitter_sum = 0;
    /* sized transfers in the bulk direction: efficiency over the time they
     * took, not over the whole run (a 5 MB download done in 3 s of 60) */
    bool all_sized = true;
    tg_time sized_from = TG_TIME_NEVER, sized_to = 0;
    double sized_bytes = 0;
    uint64_t udp_sent = 0, udp_lost = 0;
    size_t n_udp = 0;
    res->n_flows = r->n_flows;
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct sim_flow_stats *st = sim_flow_stats(r->flows[i]);
        const struct sim_flow_config *cfg = NULL;
        size_t idx = 0;
        for (size_t k = 0; k < sc->n_flows && !cfg; k++) {
            if (i < idx + sc->flows[k].count)
                cfg = &sc->flows[k].cfg;
            idx += sc->flows[k].count;
        }
        struct sim_flow_result *fr = &res->flows[i];
        fr->id = (unsigned)i;
        fr->kind = cfg->kind;
        fr->cc = cfg->cc;
        fr->dir = cfg->dir;
        fr->bytes_delivered = st->bytes_delivered;
        tg_time start = cfg->start_us > r->session_up ? cfg->start_us : r->session_up;
        tg_time end = cfg->stop_us < dur ? cfg->stop_us : dur;
        if (st->completion_us != TG_TIME_NEVER && start + st->completion_us < end)
            end = start + st->completion_us;
        double active = end > start ? (double)(end - start) / 1e6 : 0;
        fr->goodput_bps = active > 0 ? (double)st->bytes_delivered * 8 / active : 0;
        if ((cfg->dir == SIM_DIR_UP ? 0 : 1) == bulk_dir) {
            if (cfg->kind == SIM_FLOW_TCP && cfg->bytes > 0 && st->completion_us != TG_TIME_NEVER) {
                sized_from = start < sized_from ? start : sized_from;
                sized_to = end > sized_to ? end : sized_to;
                sized_bytes += (double)st->bytes_delivered;
            } else {
                all_sized = false;
            }
        }
        fr->completion_us = st->completion_us;
        fr->owd_p50_us = sim_hist_quantile(&st->owd_us, 0.50);
        fr->owd_p95_us = sim_hist_quantile(&st->owd_us, 0.95);
        fr->owd_p99_us = sim_hist_quantile(&st->owd_us, 0.99);
        fr->jitter_us = st->jitter_us;
        bool udp = cfg->kind == SIM_FLOW_VOICE || cfg->kind == SIM_FLOW_VIDEO;
        fr->loss = udp ? (st->pkts_sent ? (double)st->pkts_lost / (double)st->pkts_sent : 0)
                       : (st->pkts_sent ? (double)st->retransmits / (double)st->pkts_sent : 0);
        fr->longest_stall_us = st->longest_stall_us;
        fr->retransmits = st->retransmits;
        fr->spurious_retransmits = st->spurious_retransmits;
        fr->rto_count = st->rto_count;
        fr->objects_done = st->objects_done;
        sim_hist_merge(owd, &st->owd_us);
        bytes_dir[cfg->dir == SIM_DIR_UP ? 0 : 1] += (double)st->bytes_delivered;
        if (udp) {
            jitter_sum += st->jitter_us;
            n_udp++;
            udp_sent += st->pkts_sent;
            udp_lost += st->pkts_lost;
        }
        if (st->longest_stall_us > res->longest_stall_us)
            res->longest_stall_us = st->longest_stall_us;
    }
    double active = secs - (double)(r->session_up < dur ? r->session_up : dur) / 1e6;
    if (active <= 0)
        active = secs;
    res->goodput_up_bps = bytes_dir[0] * 8 / active;
    res->goodput_down_bps = bytes_dir[1] * 8 / active;
    res->goodput_bps = res->goodput_up_bps + res->goodput_down_bps;
    res->owd_p50_us = sim_hist_quantile(owd, 0.50);
    res->owd_p95_us = sim_hist_quantile(owd, 0.95);
    res->owd_p99_us = sim_hist_quantile(owd, 0.99);
    free(owd);
    res->jitter_us = n_udp ? jitter_sum / (double)n_udp : 0;
    res->loss = udp_sent ? (double)udp_lost / (double)udp_sent : 0;

    const struct tg_endpoint_counters *cc = tg_client_counters(r->client);
    const struct tg_endpoint_counters *scn = tg_server_counters(r->server);
    res->reorder_peak = cc->reorder_peak > scn->reorder_peak ? cc->reorder_peak : scn->reorder_peak;
    res->failovers = (uint32_t)(cc->failovers + scn->failovers);
    res->failover_us = r->n_down_starts ? r->failover_us : TG_TIME_NEVER;
    res->session_up_us = r->session_up;
    res->packets = cc->dgram_in + scn->dgram_in;
    res->sim_events = r->q.executed - r->series_events;

    double capacity = 0;
    res->n_uplinks = sc->n_uplinks;
    for (unsigned i = 0; i < sc->n_uplinks; i++) {
        struct uplink_rt *u = &r->up[i];
        struct sim_uplink_result *ur = &res->uplinks[i];
        const struct sim_link_stats *su = sim_link_stats(u->link[0]);
        const struct sim_link_stats *sd = sim_link_stats(u->link[1]);
        snprintf(ur->name, sizeof ur->name, "%s", sc->uplinks[i].name);
        ur->bytes_up = su->sent_bytes;
        ur->bytes_down = sd->sent_bytes;
        ur->delivered_up = su->delivered_bytes;
        ur->delivered_down = sd->delivered_bytes;
        ur->drops_up = su->drop_queue + su->drop_loss + su->drop_down + u->extra_drops[0];
        ur->drops_down = sd->drop_queue + sd->drop_loss + sd->drop_down + u->extra_drops[1];
        tg_time gap_us[2] = {0, 0};
        uint32_t gaps[2] = {0, 0};
        ur->capacity_up_bps = capacity_bits(u, 0, dur, &gap_us[0], &gaps[0]) / secs;
        ur->capacity_down_bps = capacity_bits(u, 1, dur, &gap_us[1], &gaps[1]) / secs;
        /* the direction with the longer gaps stands for the uplink */
        int g = gap_us[0] > gap_us[1] ? 0 : 1;
        ur->down_us = down_time(u, dur) + gap_us[g];
        ur->outages = u->outages + gaps[g];
        capacity += bulk_dir ? ur->capacity_down_bps : ur->capacity_up_bps;
    }
    res->capacity_bps = capacity;
    double bulk_goodput = bulk_dir ? res->goodput_down_bps : res->goodput_up_bps;
    if (all_sized && sized_to > sized_from && sized_from != TG_TIME_NEVER)
        bulk_goodput = sized_bytes * 8 / ((double)(sized_to - sized_from) / 1e6);
    res->efficiency = capacity > 0 ? bulk_goodput / capacity : 0;
    double once = (double)(cc->data_bytes + scn->data_bytes);
    double copies = (double)(cc->data_copy_bytes + scn->data_copy_bytes);
    res->redundancy_overhead = once > 0 ? copies / once - 1 : 0;

    res->n_events = sc->n_events;
    for (size_t e = 0; e < sc->n_events; e++) {
        res->events[e] = r->evc[e];
        if (strcmp(sc->events[e].name, sc->defining) == 0)
            res->defining_events = r->evc[e].occurrences;
    }
}

/* ------------------------------------------------------------ the run */

/* Memory ran out somewhere in the run: in this file (r->oom), in any event
 * push (the queue's sticky flag) or in a link's packet buffers. */
static bool out_of_memory(const struct run *r)
{
    if (r->oom || r->q.failed)
        return true;
    for (unsigned i = 0; i < r->sc->n_uplinks; i++)
        for (int d = 0; d < 2; d++)
            if (r->up[i].link[d] && sim_link_stats(r->up[i].link[d])->alloc_fail != 0)
                return true;
    return false;
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n_flows; i++) {
        sim_flow_free(r->flows[i]);
        gsl_rng_free(r->flow_rng[i]);
    }
    for (unsigned i = 0; i < SIM_MAX_UPLINKS; i++) {
        struct uplink_rt *u = &r->up[i];
        for (int d = 0; d < 2; d++) {
            sim_link_free(u->link[d]);
            gsl_rng_free(u->loss_rng_owned[d]);
            gsl_rng_free(u->jitter_rng_owned[d]);
            gsl_rng_free(u->extra_loss[d]);
            free(u->steps[d]);
        }
        free(u->down.v);
        free(u->rate_iv);
        free(u->loss_iv);
    }
    tg_client_free(r->client);
    tg_server_free(r->server);
    gsl_rng_free(r->core_rng[0]);
    gsl_rng_free(r->core_rng[1]);
    /* pending packets still queued as events are reachable only from the queue */
    for (size_t i = 0; i < r->q.n; i++)
        if (r->q.heap[i].fn == inject)
            free((void *)(uintptr_t)r->q.heap[i].arg);
    sim_evq_clear(&r->q);
    while (r->free_pending) {
        struct pending *p = r->free_pending;
        r->free_pending = p->next;
        free(p);
    }
    free(r->down_starts);
    sim_series_free(r->series);
    free(r);
}

static int make_cores(struct run *r)
{
    const struct sim_run_spec *sp = r->spec;
    r->core_rng[0] = stream(sp->seed, ST_CLIENT);
    r->core_rng[1] = stream(sp->seed, ST_SERVER);
    if (!r->core_rng[0] || !r->core_rng[1])
        return r->oom = true, -1;
    struct tg_rng crng = {rng_fill, r->core_rng[0]}, srng = {rng_fill, r->core_rng[1]};
    struct tg_server_config scfg;
    tg_server_config_default(&scfg);
    rng_fill(r->core_rng[1], scfg.static_private, 32);
    memcpy(scfg.pool_addr, pool_addr, 4);
    scfg.pool_prefix = 24;
    scfg.mp.sched.strategy = sp->strategy;
    scfg.mp.sched.aggregation = sp->aggregation;
    scfg.mp.playout_max_us = r->sc->playout_us;
    if (r->sc->light_flow_rate >= 0)
        scfg.mp.light_flow_rate = (uint32_t)r->sc->light_flow_rate;
    if (tg_server_new(&scfg, &srng, NULL, 0, &r->server) != TG_OK)
        return -1;
    struct tg_client_config ccfg;
    tg_client_config_default(&ccfg);
    tg_noise_public_key(scfg.static_private, ccfg.server_public);
    ccfg.mp.sched.strategy = sp->strategy;
    ccfg.mp.sched.aggregation = sp->aggregation;
    ccfg.mp.playout_max_us = r->sc->playout_us;
    if (r->sc->light_flow_rate >= 0)
        ccfg.mp.light_flow_rate = (uint32_t)r->sc->light_flow_rate;
    ccfg.nat = false;
    if (tg_client_new(&ccfg, &crng, NULL, 0, &r->client) != TG_OK)
        return -1;
    return 0;
}

int sim_run(const struct sim_run_spec *spec, struct sim_run_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    struct run *r = calloc(1, sizeof *r);
    if (!r || sim_evq_init(&r->q, 1024)) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->spec = spec;
    r->sc = spec->sc;
    r->session_up = TG_TIME_NEVER;
    for (size_t i = 0; i < MAX_FLOWS; i++)
        r->last_delivery[i] = TG_TIME_NEVER;
    r->armed[0] = r->armed[1] = TG_TIME_NEVER;
    int rc = -1;
    if (make_cores(r) || build_env(r) || build_links(r)) {
        snprintf(err, errlen, "%s: %s", r->sc->name,
                 out_of_memory(r) ? "out of memory" : "the cores refused their configuration");
        goto out;
    }
    for (unsigned i = 0; i < r->sc->n_uplinks; i++)
        if (tg_client_uplink_up(r->client, i, core_now(0, 0)) != TG_OK) {
            snprintf(err, errlen, "%s: uplink %u refused", r->sc->name, i);
            goto out;
        }
    if (spec->series_interval_us > 0) {
        r->series = sim_series_new(spec->series_interval_us);
        if (!r->series || (spec->series_interval_us <= r->sc->duration_us &&
                           sim_evq_push(&r->q, spec->series_interval_us, on_series, r, 0))) {
            snprintf(err, errlen, "%s: %s", r->sc->name,
                     r->series ? "out of memory" : "a series interval below 1 ms");
            goto out;
        }
    }
    drain_client(r);
    drain_server(r);
    sim_evq_run(&r->q, r->sc->duration_us);
    /* replay: on until the last packet + drain time (run.h) */
    if (spec->replay && r->session_up != TG_TIME_NEVER &&
        tg_time_add(r->replay_last, spec->replay->drain_us) > r->sc->duration_us)
        sim_evq_run(&r->q, tg_time_add(r->replay_last, spec->replay->drain_us));
    for (size_t i = 0; i < r->n_flows; i++)
        sim_flow_finish(r->flows[i], r->sc->duration_us);
    measure(r, res);
    if (out_of_memory(r)) {
        snprintf(err, errlen, "%s: out of memory", r->sc->name);
        goto out;
    }
    res->series = r->series; /* the caller's now */
    r->series = NULL;
    rc = 0;
out:
    run_free(r);
    return rc;
}

/* ------------------------------------------------------------ env.h */

struct env_priv {
    struct run r;
    struct sim_run_spec spec;
};

int sim_env_build(const struct sim_scenario *sc, uint64_t seed, struct sim_env *env)
{
    memset(env, 0, sizeof *env);
    struct env_priv *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->spec = (struct sim_run_spec){.sc = sc, .seed = seed};
    p->r.spec = &p->spec;
    p->r.sc = sc;
    env->priv = p;
    if (build_env(&p->r)) {
        sim_env_free(env);
        return -1;
    }
    env->n_uplinks = sc->n_uplinks;
    for (unsigned i = 0; i < sc->n_uplinks; i++) {
        struct uplink_rt *u = &p->r.up[i];
        for (int d = 0; d < 2; d++) {
            if (open_streams(&p->r, u, d)) {
                sim_env_free(env);
                return -1;
            }
            env->up[i].cfg[d] = u->cfg[d];
            env->up[i].loss_rng[d] = u->loss_rng_owned[d];
            env->up[i].jitter_rng[d] = u->jitter_rng_owned[d];
        }
    }
    return 0;
}

bool sim_env_extra_loss(struct sim_env *env, size_t uplink, int dir, tg_time now)
{
    struct env_priv *p = env->priv;
    return event_drops(&p->r.up[uplink], dir, now);
}

void sim_env_free(struct sim_env *env)
{
    struct env_priv *p = env->priv;
    if (p) {
        /* run_free frees the struct it is given: hand it the whole block */
        run_free(&p->r);
    }
    memset(env, 0, sizeof *env);
}
