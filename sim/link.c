/*
 * link.c: the link as three FIFOs (queue, in flight, free buffers) and three
 * chained events: "the head of the queue has been served", "the head of the
 * flight list arrives", "the next outage starts". Each chain has at most one
 * live event, so the event queue holds O(links) entries whatever the load.
 *
 * Rate-driven capacity (fixed, steps, throughput trace) computes when the
 * head's last bit leaves by walking the piecewise-constant rate from the
 * moment the transmitter becomes free; finish times are kept as fractional
 * µs so back-to-back packets do not accumulate rounding, and events fire at
 * the next whole µs. Mahimahi capacity is a sequence of opportunities
 * indexed over the repeated trace; the next useful one is found by binary
 * search, so wasted opportunities cost nothing.
 *
 * The transmitter event carries a generation number: a flush at an outage
 * start bumps it, turning the pending event into a no-op (the queue has no
 * cancellation).
 */
#include "link.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_PKTS          64
#define DEFAULT_QUEUE_BYTES 65536
/* finish times beyond this (µs, ~584,000 years) mean "never" */
#define NEVER_US 1.8e19

struct pkt {
    struct pkt *next;
    tg_time t; /* arrival while queued, delivery time while in flight */
    size_t len;
    uint8_t data[SIM_PKT_MAX];
};

struct chunk {
    struct chunk *next;
    struct pkt pkt[CHUNK_PKTS];
};

enum capacity {
    CAP_UNLIMITED, /* rate_bps == 0: no serialisation delay */
    CAP_FIXED,
    CAP_STEPS,
    CAP_RATE_TRACE,    /* throughput log */
    CAP_OPPORTUNITIES, /* Mahimahi */
};

struct sim_link {
    struct sim_link_config c;
    struct sim_rate_step *steps; /* own copy of c.steps */
    size_t n_steps;
    struct sim_interval *down; /* own copy of c.down, empty intervals left out */
    size_t n_down;
    struct sim_evq *q;
    gsl_rng *loss_rng, *jitter_rng;
    sim_deliver_fn deliver;
    void *ctx;

    enum capacity cap;
    uint64_t queue_limit; /* bytes */
    double scale;         /* trace capacity multiplier */
    double period_bits;   /* CAP_RATE_TRACE: capacity of one period */
    size_t opp_bytes;     /* CAP_OPPORTUNITIES: bytes per opportunity */
    int32_t header_bytes; /* charged per packet beyond its length */

    struct pkt *q_head, *q_tail;   /* waiting or being served; head first */
    struct pkt *fl_head, *fl_tail; /* serialised, not lost, not yet delivered */
    struct pkt *free_pkts;
    struct chunk *chunks;

    /* transmitter */
    uint64_t tx_gen;      /* bumped by a flush; stale events are ignored */
    bool tx_pending;      /* an event is armed, or the head waits forever */
    bool head_started;    /* rate path: head_done_us is valid */
    double head_done_us;  /* rate path: when the head's last bit leaves */
    double busy_until_us; /* rate path: when the previous packet's last bit left */
    uint64_t opp_idx;     /* Mahimahi: next unused opportunity over repeats */
    size_t head_served;   /* Mahimahi: bytes of the head already served */

    bool ge_bad;           /* Gilbert-Elliott state, starts good */
    bool dlv_pending;      /* a delivery event is armed for fl_head */
    tg_time last_delivery; /* FIFO: nobody is delivered before this */
    struct sim_link_stats st;
};

static bool valid_prob(double p)
{
    return p >= 0 && p <= 1; /* false for NaN */
}

static bool valid_rate(double r)
{
    return r >= 0 && isfinite(r);
}

static bool valid_steps(const struct sim_rate_step *s, size_t n)
{
    if (n == 0 || !s || s[0].at_us != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!valid_rate(s[i].rate_bps) || (i > 0 && s[i].at_us < s[i - 1].at_us))
            return false;
    return true;
}

static bool valid_trace(const struct sim_trace *t)
{
    if (t->period_us == 0)
        return false;
    if (t->kind == SIM_TRACE_MAHIMAHI) {
        if (!t->opp_us || t->n_opp == 0 || t->opp_us[t->n_opp - 1] > t->period_us)
            return false;
        for (size_t i = 1; i < t->n_opp; i++)
            if (t->opp_us[i] < t->opp_us[i - 1])
                return false;
        return true;
    }
    if (t->kind == SIM_TRACE_THROUGHPUT)
        return valid_steps(t->steps, t->n_steps) && t->steps[t->n_steps - 1].at_us <= t->period_us;
    return false;
}

/* ---- buffers ---- */

static bool grow_pool(struct sim_link *l)
{
    struct chunk *c = malloc(sizeof *c);
    if (!c)
        return false;
    c->next = l->chunks;
    l->chunks = c;
    for (size_t i = CHUNK_PKTS; i-- > 0;) {
        c->pkt[i].next = l->free_pkts;
        l->free_pkts = &c->pkt[i];
    }
    return true;
}

static struct pkt *get_pkt(struct sim_link *l)
{
    if (!l->free_pkts && !grow_pool(l))
        return NULL;
    struct pkt *p = l->free_pkts;
    l->free_pkts = p->next;
    p->next = NULL;
    return p;
}

static void put_pkt(struct sim_link *l, struct pkt *p)
{
    p->next = l->free_pkts;
    l->free_pkts = p;
}

static void schedule(struct sim_link *l, tg_time at, sim_event_fn fn, uint64_t arg)
{
    if (sim_evq_push(l->q, at, fn, l, arg) < 0)
        l->st.alloc_fail++;
}

/* ---- capacity ---- */

/* First index in steps[0..n) whose at_us > t. */
static size_t step_after(const struct sim_rate_step *s, size_t n, tg_time t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].at_us <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The rate at time t and when it next changes (TG_TIME_NEVER: never). */
static double rate_at(const struct sim_link *l, tg_time t, tg_time *until)
{
    if (l->cap == CAP_STEPS) {
        size_t i = step_after(l->steps, l->n_steps, t); /* >= 1: steps[0] is at 0 */
        *until = i < l->n_steps ? l->steps[i].at_us : TG_TIME_NEVER;
        return l->steps[i - 1].rate_bps;
    }
    if (l->cap == CAP_RATE_TRACE) {
        const struct sim_trace *tr = l->c.trace;
        tg_time tau = t + l->c.trace_offset_us, period = tr->period_us;
        tg_time k = tau / period, rel = tau % period;
        size_t i = step_after(tr->steps, tr->n_steps, rel);
        tg_time next = i < tr->n_steps ? tr->steps[i].at_us : period;
        *until = k * period + next - l->c.trace_offset_us;
        return tr->steps[i - 1].rate_bps * l->scale;
    }
    *until = TG_TIME_NEVER;
    return l->c.rate_bps;
}

/* When `bits` started at `start` (µs) have all left; INFINITY if never. */
static double finish_time(const struct sim_link *l, double start, double bits)
{
    if (l->cap == CAP_UNLIMITED)
        return start;
    if (l->cap == CAP_RATE_TRACE && !(l->period_bits > 0))
        return INFINITY;
    double t = start;
    for (;;) {
        if (t >= NEVER_US)
            return INFINITY;
        tg_time until;
        double r = rate_at(l, (tg_time)t, &until);
        if (r > 0) {
            double dt = bits * 1e6 / r;
            if (until == TG_TIME_NEVER || t + dt <= (double)until)
                return t + dt;
            bits -= r * ((double)until - t) / 1e6;
            if (bits <= 0)
                return (double)until;
        } else if (until == TG_TIME_NEVER) {
            return INFINITY;
        }
        t = (double)until;
        /* every whole period carries period_bits, wherever it starts */
        if (l->cap == CAP_RATE_TRACE && bits > l->period_bits) {
            double skip = ceil(bits / l->period_bits) - 1;
            t += skip * (double)l->c.trace->period_us;
            bits -= skip * l->period_bits;
        }
    }
}

/* Mahimahi: sim time of opportunity `idx`, counted over the repeated trace. */
static tg_time opp_time(const struct sim_link *l, uint64_t idx)
{
    const struct sim_trace *tr = l->c.trace;
    uint64_t k = idx / tr->n_opp;
    return k * tr->period_us + tr->opp_us[idx % tr->n_opp] - l->c.trace_offset_us;
}

/* Mahimahi: index of the first opportunity at or after sim time t. */
static uint64_t opp_first_at(const struct sim_link *l, tg_time t)
{
    const struct sim_trace *tr = l->c.trace;
    tg_time tau = t + l->c.trace_offset_us;
    uint64_t k = tau / tr->period_us;
    if (k > 0)
        k--; /* the previous period's last opportunity sits at k * period */
    for (;; k++) {
        tg_time rel = tau - k * tr->period_us;
        size_t lo = 0, hi = tr->n_opp;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (tr->opp_us[mid] < rel)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < tr->n_opp)
            return k * tr->n_opp + lo;
    }
}

/* ---- the packet's way ---- */

static bool lost(struct sim_link *l)
{
    if (l->c.loss == SIM_LOSS_BERNOULLI)
        return gsl_rng_uniform(l->loss_rng) < l->c.loss_p;
    if (l->c.loss == SIM_LOSS_GE) {
        const struct sim_ge *g = &l->c.ge;
        bool drop = gsl_rng_uniform(l->loss_rng) < (l->ge_bad ? g->loss_bad : g->loss_good);
        double u = gsl_rng_uniform(l->loss_rng);
        l->ge_bad = l->ge_bad ? !(u < g->p_bg) : u < g->p_gb;
        return drop;
    }
    return false;
}

static void on_deliver(void *ctx, uint64_t arg, tg_time now);

static void arm_delivery(struct sim_link *l)
{
    l->dlv_pending = true;
    if (sim_evq_push(l->q, l->fl_head->t, on_deliver, l, 0) < 0) {
        l->st.alloc_fail++;
        l->dlv_pending = false; /* retried at the next departure */
    }
}

/* What a packet of `len` bytes costs the link: len + header_bytes, at least 1. */
static size_t wire(const struct sim_link *l, size_t len)
{
    int64_t charged = (int64_t)len + l->header_bytes;
    return charged < 1 ? 1 : (size_t)charged;
}

/* The head of the queue has been serialised at `at`: loss, then flight. */
static void depart(struct sim_link *l, tg_time at)
{
    struct pkt *p = l->q_head;
    l->q_head = p->next;
    if (!l->q_head)
        l->q_tail = NULL;
    l->st.queued_bytes -= wire(l, p->len);
    l->st.queued_pkts--;
    if (lost(l)) {
        l->st.drop_loss++;
        put_pkt(l, p);
        return;
    }
    tg_time d = tg_time_add(at, l->c.delay_us);
    if (l->c.jitter_us > 0) {
        tg_time span = 2 * l->c.jitter_us + 1;
        tg_time j = (tg_time)(gsl_rng_uniform(l->jitter_rng) * (double)span);
        d = tg_time_add(d, j < span ? j : span - 1);
    }
    if (d < l->last_delivery)
        d = l->last_delivery; /* FIFO: jitter never reorders */
    l->last_delivery = d;
    p->t = d;
    p->next = NULL;
    if (l->fl_tail)
        l->fl_tail->next = p;
    else
        l->fl_head = p;
    l->fl_tail = p;
    if (!l->dlv_pending)
        arm_delivery(l);
}

static void on_deliver(void *ctx, uint64_t arg, tg_time now)
{
    struct sim_link *l = ctx;
    struct pkt *p = l->fl_head;
    l->dlv_pending = false;
    if (!p)
        return;
    l->fl_head = p->next;
    if (!l->fl_head)
        l->fl_tail = NULL;
    if (l->fl_head)
        arm_delivery(l);
    l->st.delivered_pkts++;
    l->st.delivered_bytes += wire(l, p->len);
    /* p is off every list: deliver() may send on this link (even p's bytes) */
    if (l->deliver)
        l->deliver(l->ctx, p->data, p->len, now);
    put_pkt(l, p);
}

/* Rate path: every packet whose last bit has left by `now` departs. */
static void rate_serve(struct sim_link *l, tg_time now)
{
    while (l->q_head) {
        if (!l->head_started) {
            double start = (double)l->q_head->t;
            if (start < l->busy_until_us)
                start = l->busy_until_us;
            l->head_done_us = finish_time(l, start, (double)wire(l, l->q_head->len) * 8.0);
            l->head_started = true;
        }
        if (!(l->head_done_us <= (double)now))
            return;
        l->busy_until_us = l->head_done_us;
        l->head_started = false;
        depart(l, (tg_time)ceil(l->busy_until_us));
    }
}

/* Mahimahi: an opportunity serves only packets that arrived before it (as
 * Mahimahi itself handles the clock before enqueueing), so a new head skips
 * the opportunities up to its own arrival, wasted or used by others. */
static void opp_align(struct sim_link *l)
{
    if (l->head_served == 0 && opp_time(l, l->opp_idx) <= l->q_head->t) {
        uint64_t first = opp_first_at(l, l->q_head->t + 1);
        if (first > l->opp_idx)
            l->opp_idx = first;
    }
}

/* Mahimahi path: opportunities up to `now` serve the queue byte by byte. */
static void opp_serve(struct sim_link *l, tg_time now)
{
    while (l->q_head) {
        opp_align(l);
        tg_time at = opp_time(l, l->opp_idx);
        if (at > now)
            return;
        size_t budget = l->opp_bytes;
        l->opp_idx++;
        while (budget > 0 && l->q_head && l->q_head->t < at) {
            size_t need = wire(l, l->q_head->len) - l->head_served;
            size_t take = need < budget ? need : budget;
            budget -= take;
            l->head_served += take;
            if (l->head_served == wire(l, l->q_head->len)) {
                l->head_served = 0;
                depart(l, at);
            }
        }
    }
}

static void on_tx(void *ctx, uint64_t gen, tg_time now);

/* Arm the transmitter for the moment the head of the queue is done. */
static void arm_tx(struct sim_link *l)
{
    if (l->tx_pending || !l->q_head)
        return;
    tg_time at;
    if (l->cap == CAP_OPPORTUNITIES) {
        opp_align(l);
        size_t need = wire(l, l->q_head->len) - l->head_served;
        uint64_t n = need == 0 ? 1 : (need + l->opp_bytes - 1) / l->opp_bytes;
        at = opp_time(l, l->opp_idx + n - 1);
    } else {
        rate_serve(l, l->q->now); /* makes sure the head has a finish time */
        if (!l->q_head)
            return;
        if (!(l->head_done_us < NEVER_US)) {
            l->tx_pending = true; /* waits forever: the schedule ends at rate 0 */
            return;
        }
        at = (tg_time)ceil(l->head_done_us);
    }
    l->tx_pending = true;
    schedule(l, at, on_tx, l->tx_gen);
}

static void serve(struct sim_link *l, tg_time now)
{
    if (l->cap == CAP_OPPORTUNITIES)
        opp_serve(l, now);
    else
        rate_serve(l, now);
}

static void on_tx(void *ctx, uint64_t gen, tg_time now)
{
    struct sim_link *l = ctx;
    if (gen != l->tx_gen)
        return;
    /* an opportunity at an outage start is not used; the flush event at
     * that same time empties the queue and bumps the generation */
    if (l->cap == CAP_OPPORTUNITIES && !sim_link_is_up(l, now))
        return;
    l->tx_pending = false;
    serve(l, now);
    arm_tx(l);
}

static void on_down(void *ctx, uint64_t idx, tg_time now)
{
    struct sim_link *l = ctx;
    /* a packet whose last bit left by the outage start got out */
    if (l->cap != CAP_OPPORTUNITIES)
        rate_serve(l, now);
    while (l->q_head) {
        struct pkt *p = l->q_head;
        l->q_head = p->next;
        l->st.drop_down++;
        put_pkt(l, p);
    }
    l->q_tail = NULL;
    l->st.queued_bytes = 0;
    l->st.queued_pkts = 0;
    l->head_served = 0;
    l->head_started = false;
    l->tx_pending = false;
    l->tx_gen++;
    if (idx + 1 < l->n_down)
        schedule(l, l->down[idx + 1].start_us, on_down, idx + 1);
}

/* ---- API ---- */

struct sim_link *sim_link_new(const struct sim_link_config *c, struct sim_evq *q, gsl_rng *loss_rng,
                              gsl_rng *jitter_rng, sim_deliver_fn deliver, void *ctx)
{
    if (!c || !q || !valid_rate(c->rate_bps))
        return NULL;
    if (c->trace && !valid_trace(c->trace))
        return NULL;
    if (!c->trace && c->n_steps > 0 && !valid_steps(c->steps, c->n_steps))
        return NULL;
    if (!valid_rate(c->trace_scale))
        return NULL;
    if (c->loss == SIM_LOSS_BERNOULLI) {
        if (!valid_prob(c->loss_p) || !loss_rng)
            return NULL;
    } else if (c->loss == SIM_LOSS_GE) {
        if (!valid_prob(c->ge.p_gb) || !valid_prob(c->ge.p_bg) || !valid_prob(c->ge.loss_good) ||
            !valid_prob(c->ge.loss_bad) || !loss_rng)
            return NULL;
    } else if (c->loss != SIM_LOSS_NONE) {
        return NULL;
    }
    if (c->jitter_us > 0 && (!jitter_rng || c->jitter_us > TG_TIME_NEVER / 4))
        return NULL;
    if (c->n_down > 0 && !c->down)
        return NULL;
    for (size_t i = 0; i < c->n_down; i++)
        if (c->down[i].end_us < c->down[i].start_us ||
            (i > 0 && c->down[i].start_us < c->down[i - 1].end_us))
            return NULL;

    struct sim_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->c = *c;
    l->q = q;
    l->loss_rng = loss_rng;
    l->jitter_rng = jitter_rng;
    l->deliver = deliver;
    l->ctx = ctx;
    l->queue_limit = c->queue_bytes ? c->queue_bytes : DEFAULT_QUEUE_BYTES;
    l->header_bytes = c->header_bytes;
    l->scale = c->trace_scale > 0 ? c->trace_scale : 1.0;
    if (c->trace && c->trace->kind == SIM_TRACE_MAHIMAHI) {
        l->cap = CAP_OPPORTUNITIES;
        double b = floor(SIM_MAHIMAHI_MTU * l->scale + 0.5);
        l->opp_bytes = b < 1 ? 1 : b > 1e9 ? 1000000000u : (size_t)b;
    } else if (c->trace) {
        l->cap = CAP_RATE_TRACE;
        const struct sim_trace *tr = c->trace;
        for (size_t i = 0; i < tr->n_steps; i++) {
            tg_time next = i + 1 < tr->n_steps ? tr->steps[i + 1].at_us : tr->period_us;
            l->period_bits +=
                tr->steps[i].rate_bps * l->scale * (double)(next - tr->steps[i].at_us) / 1e6;
        }
    } else if (c->n_steps > 0) {
        l->cap = CAP_STEPS;
        l->steps = malloc(c->n_steps * sizeof *l->steps);
        if (!l->steps)
            goto oom;
        memcpy(l->steps, c->steps, c->n_steps * sizeof *l->steps);
        l->n_steps = c->n_steps;
    } else {
        l->cap = c->rate_bps > 0 ? CAP_FIXED : CAP_UNLIMITED;
    }
    l->c.steps = NULL; /* use the copies */
    l->c.down = NULL;
    if (c->n_down > 0) {
        l->down = malloc(c->n_down * sizeof *l->down);
        if (!l->down)
            goto oom;
        for (size_t i = 0; i < c->n_down; i++)
            if (c->down[i].end_us > c->down[i].start_us)
                l->down[l->n_down++] = c->down[i];
    }
    if (!grow_pool(l))
        goto oom;
    if (l->cap == CAP_OPPORTUNITIES)
        l->opp_idx = opp_first_at(l, q->now);
    /* the first outage that has not ended yet; its start flushes the queue */
    size_t first = 0;
    while (first < l->n_down && l->down[first].end_us <= q->now)
        first++;
    if (first < l->n_down && sim_evq_push(q, l->down[first].start_us, on_down, l, first) < 0)
        goto oom;
    return l;
oom:
    sim_link_free(l);
    return NULL;
}

void sim_link_free(struct sim_link *l)
{
    if (!l)
        return;
    while (l->chunks) {
        struct chunk *c = l->chunks;
        l->chunks = c->next;
        free(c);
    }
    free(l->steps);
    free(l->down);
    free(l);
}

bool sim_link_send(struct sim_link *l, const uint8_t *pkt, size_t len)
{
    tg_time now = l->q->now;
    size_t charged = wire(l, len);
    l->st.sent_pkts++;
    l->st.sent_bytes += charged;
    if (!sim_link_is_up(l, now)) {
        l->st.drop_down++;
        return false;
    }
    if (len > SIM_PKT_MAX || l->st.queued_bytes + charged > l->queue_limit) {
        l->st.drop_queue++;
        return false;
    }
    struct pkt *p = get_pkt(l);
    if (!p) {
        l->st.alloc_fail++;
        l->st.drop_queue++;
        return false;
    }
    memcpy(p->data, pkt, len);
    p->len = len;
    p->t = now;
    if (l->q_tail)
        l->q_tail->next = p;
    else
        l->q_head = p;
    l->q_tail = p;
    l->st.queued_bytes += charged;
    l->st.queued_pkts++;
    if (l->st.queued_bytes > l->st.max_queue_bytes)
        l->st.max_queue_bytes = l->st.queued_bytes;
    if (!l->tx_pending) {
        serve(l, now);
        arm_tx(l);
    }
    return true;
}

bool sim_link_is_up(const struct sim_link *l, tg_time t)
{
    /* the last interval starting at or before t */
    size_t lo = 0, hi = l->n_down;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->down[mid].start_us <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 || t >= l->down[lo - 1].end_us;
}

const struct sim_link_stats *sim_link_stats(const struct sim_link *l)
{
    return &l->st;
}
