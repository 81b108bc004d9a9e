#include "sched.h"

#include <float.h>
#include <string.h>

_Static_assert(TG_SCHED_MAX_UPLINKS <= 32, "the pick mask is 32 bits");

/* Sets of uplinks are bitmasks over view indexes (bit i = v[i]). */
typedef uint32_t set_t;

struct flow {
    uint64_t hash;    /* the flow's full hash: a different flow in the slot is a miss */
    tg_time last_use; /* us */
    uint8_t uplink;   /* view index */
    bool used;
};

struct tg_sched {
    struct tg_sched_config cfg;
    struct tg_allocator alloc; /* zeroed: the C library (alloc.h) */
    double credit[TG_SCHED_MAX_UPLINKS]; /* smooth WRR credit */
    set_t credit_set;                    /* candidates the credits belong to */
    struct flow *flows;                  /* cfg.flow_slots, allocated after the struct */
    bool striped;                        /* last pick was per packet (full) */
};

/* ---------------------------------------------------------------- names */

/* Fixed-width names: plain read-only data, no table of pointers. */
static const char strategy_names[TG_STRATEGY_COUNT][24] = {
    [TG_STRATEGY_ADAPTIVE] = "adaptive",
    [TG_STRATEGY_LOWEST_LATENCY] = "lowest_latency",
    [TG_STRATEGY_LOWEST_LOSS] = "lowest_loss",
    [TG_STRATEGY_WEIGHTED_ROUND_ROBIN] = "weighted_round_robin",
    [TG_STRATEGY_BANDWIDTH_PROPORTIONAL] = "bandwidth_proportional",
    [TG_STRATEGY_REDUNDANT] = "redundant",
    [TG_STRATEGY_PRIMARY_BACKUP] = "primary_backup",
    [TG_STRATEGY_ECMP_AWARE] = "ecmp_aware",
};

static const char aggregation_names[TG_AGG_COUNT][12] = {
    [TG_AGG_NONE] = "none",
    [TG_AGG_FULL] = "full",
    [TG_AGG_ADAPTIVE] = "adaptive",
};

const char *tg_strategy_name(enum tg_strategy s)
{
    if ((unsigned)s >= TG_STRATEGY_COUNT)
        return "invalid";
    return strategy_names[s];
}

const char *tg_aggregation_name(enum tg_aggregation a)
{
    if ((unsigned)a >= TG_AGG_COUNT)
        return "invalid";
    return aggregation_names[a];
}

int tg_strategy_parse(const char *s, enum tg_strategy *out)
{
    if (s == NULL)
        return TG_ERR_INVAL;
    for (unsigned i = 0; i < TG_STRATEGY_COUNT; i++) {
        if (strcmp(s, strategy_names[i]) == 0) {
            *out = (enum tg_strategy)i;
            return TG_OK;
        }
    }
    return TG_ERR_INVAL;
}

int tg_aggregation_parse(const char *s, enum tg_aggregation *out)
{
    if (s == NULL)
        return TG_ERR_INVAL;
    for (unsigned i = 0; i < TG_AGG_COUNT; i++) {
        if (strcmp(s, aggregation_names[i]) == 0) {
            *out = (enum tg_aggregation)i;
            return TG_OK;
        }
    }
    return TG_ERR_INVAL;
}

/* ------------------------------------------------------------ lifecycle */

void tg_sched_config_default(struct tg_sched_config *c)
{
    memset(c, 0, sizeof *c);
    c->strategy = TG_STRATEGY_ADAPTIVE;
    c->aggregation = TG_AGG_ADAPTIVE;
    c->w_rtt = 0.35;
    c->w_loss = 0.35;
    c->w_bw = 0.2;
    c->w_nat = 0.1;
    c->loss_floor = 0.01;
    c->stripe_loss_margin = 0.01;
    c->adaptive_spread_us = TG_MSEC(100);
    c->flow_idle_us = TG_SEC(30);
    c->flow_slots = TG_SCHED_FLOW_SLOTS;
    c->default_rate_bps = 1e6;
}

int tg_sched_new(const struct tg_sched_config *c, const struct tg_allocator *a,
                 struct tg_sched **out)
{
    if (out == NULL)
        return TG_ERR_INVAL;
    *out = NULL;
    if (c == NULL || (unsigned)c->strategy >= TG_STRATEGY_COUNT ||
        (unsigned)c->aggregation >= TG_AGG_COUNT || c->flow_slots == 0 ||
        (c->flow_slots & (c->flow_slots - 1)) != 0 || c->flow_slots > (1u << 20))
        return TG_ERR_INVAL;
    struct tg_sched *s = tg_alloc_zeroed(a, sizeof *s + sizeof *s->flows * c->flow_slots);
    if (s == NULL)
        return TG_ERR_NOMEM;
    s->cfg = *c;
    s->flows = (struct flow *)(s + 1);
    if (a != NULL)
        s->alloc = *a;
    *out = s;
    return TG_OK;
}

void tg_sched_free(struct tg_sched *s)
{
    if (s == NULL)
        return;
    struct tg_allocator a = s->alloc; /* s is what is freed */
    tg_alloc_free(&a, s);
}

/* ---------------------------------------------------------------- pools */

static bool known_rate(double r)
{
    return r > 0.0 && r <= DBL_MAX; /* also false for NaN */
}

static double clean_loss(double l)
{
    if (!(l > 0.0))
        return 0.0;
    return l > 1.0 ? 1.0 : l;
}

/* 0 Healthy/Unknown, 1 Degraded, 2 Unhealthy, 3 not usable. */
static int health_class(const struct tg_sched_view *v)
{
    if (!v->present)
        return 3;
    switch (v->health) {
    case TG_HEALTH_UNKNOWN:
    case TG_HEALTH_HEALTHY:
        return 0;
    case TG_HEALTH_DEGRADED:
        return 1;
    case TG_HEALTH_UNHEALTHY:
        return 2;
    case TG_HEALTH_DOWN:
        break;
    }
    return 3;
}

static set_t class_set(const struct tg_sched_view *v, size_t n, int cls)
{
    set_t set = 0;
    for (size_t i = 0; i < n; i++)
        if (health_class(&v[i]) == cls)
            set |= (set_t)1 << i;
    return set;
}

/* Healthy, Unknown and Degraded; Unhealthy only when nothing else. */
static set_t spread_pool(const struct tg_sched_view *v, size_t n)
{
    set_t set = class_set(v, n, 0) | class_set(v, n, 1);
    return set ? set : class_set(v, n, 2);
}

/* The best non-empty class. */
static set_t best_class(const struct tg_sched_view *v, size_t n)
{
    for (int cls = 0; cls < 3; cls++) {
        set_t set = class_set(v, n, cls);
        if (set)
            return set;
    }
    return 0;
}

static bool in(set_t set, size_t i)
{
    return (set >> i) & 1u;
}

/* ------------------------------------------------------ single choices */

/* a before b for lowest_latency: known srtt first, then smaller. */
static bool faster(tg_time a, tg_time b)
{
    if (a == 0 || b == 0)
        return a != 0 && b == 0;
    return a < b;
}

static size_t lowest_latency(const struct tg_sched_view *v, size_t n, set_t pool)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (in(pool, i) && (best == n || faster(v[i].srtt_us, v[best].srtt_us)))
            best = i;
    return best;
}

static size_t lowest_loss(const struct tg_sched_view *v, size_t n, set_t pool)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (!in(pool, i))
            continue;
        if (best == n) {
            best = i;
            continue;
        }
        double li = clean_loss(v[i].loss), lb = clean_loss(v[best].loss);
        if (li < lb || (li == lb && faster(v[i].srtt_us, v[best].srtt_us)))
            best = i;
    }
    return best;
}

static size_t primary_backup(const struct tg_sched_view *v, size_t n, set_t pool)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (in(pool, i) && (best == n || v[i].priority < v[best].priority))
            best = i;
    return best;
}

/* ------------------------------------------------------------- adaptive */

/* Scores of the pool's uplinks (others left untouched); returns the best. */
static size_t adaptive_scores(const struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                              set_t pool, double *score)
{
    const struct tg_sched_config *c = &s->cfg;
    double max_srtt = 0, max_rate = 0, max_loss = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in(pool, i))
            continue;
        if ((double)v[i].srtt_us > max_srtt)
            max_srtt = (double)v[i].srtt_us;
        if (known_rate(v[i].rate_bps) && v[i].rate_bps > max_rate)
            max_rate = v[i].rate_bps;
        if (clean_loss(v[i].loss) > max_loss)
            max_loss = clean_loss(v[i].loss);
    }
    double loss_div = max_loss > c->loss_floor ? max_loss : c->loss_floor;

    /* Means of the known normalised values stand in for unknown ones. */
    double rtt_sum = 0, bw_sum = 0;
    unsigned rtt_known = 0, bw_known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in(pool, i))
            continue;
        if (v[i].srtt_us > 0) {
            rtt_sum += (double)v[i].srtt_us / max_srtt;
            rtt_known++;
        }
        if (known_rate(v[i].rate_bps)) {
            bw_sum += v[i].rate_bps / max_rate;
            bw_known++;
        }
    }
    double rtt_mean = rtt_known ? rtt_sum / rtt_known : 0.0;
    double bw_mean = bw_known ? bw_sum / bw_known : 0.0;

    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (!in(pool, i))
            continue;
        double rtt = v[i].srtt_us > 0 ? (double)v[i].srtt_us / max_srtt : rtt_mean;
        double bw = known_rate(v[i].rate_bps) ? v[i].rate_bps / max_rate : bw_mean;
        double loss = loss_div > 0 ? clean_loss(v[i].loss) / loss_div : 0.0;
        score[i] = c->w_rtt * rtt + c->w_loss * loss + c->w_bw * (1.0 - bw) +
                   c->w_nat * (v[i].behind_nat ? 1.0 : 0.0);
        if (best == n || score[i] < score[best])
            best = i;
    }
    return best;
}

/* Whether `loss` measured over n outcomes is above `limit` beyond chance:
 * the lost count exceeds the count expected at `limit` by more than two
 * binomial standard deviations (one-sided, about 2% by chance when the
 * uplink loses exactly `limit`, far less when it loses less). */
static bool loses_beyond(double loss, uint32_t n, double limit)
{
    double excess = (loss - limit) * n, expected = limit * n;
    return excess > 0 && excess * excess > 4.0 * expected * (1.0 - limit);
}

/* Striping candidates of the adaptive strategy: the best health class, less
 * the uplinks that lose clearly more than the best of it (more than twice
 * its loss plus stripe_loss_margin, one point, beyond what chance explains
 * over the outcomes measured). Chance matters: a loss window of 256
 * datagrams at 0.5% random loss reads 0-2% from chance alone, and an uplink
 * left out carries no data to correct its estimate for seconds. The margin
 * is a trade: with 3 points the cafe's WiFi is striped onto during its loss
 * bursts and the cafe loses 16% of its goodput. Latency and rate are not
 * judged here: earliest arrival weighs them packet by packet, so a longer or
 * slower uplink still carries what reaches the receiver in time. A score
 * cut-off would drop it from the set whenever the faster uplink's queue is
 * short, the inner flow would see one path's capacity, and its window would
 * never grow past it. */
static set_t adaptive_candidates(const struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                                 set_t pool)
{
    double min_loss = 1.0;
    for (size_t i = 0; i < n; i++)
        if (in(pool, i) && clean_loss(v[i].loss) < min_loss)
            min_loss = clean_loss(v[i].loss);
    double limit = 2.0 * min_loss + s->cfg.stripe_loss_margin;
    set_t set = 0;
    for (size_t i = 0; i < n; i++)
        if (in(pool, i) && !loses_beyond(clean_loss(v[i].loss), v[i].loss_samples, limit))
            set |= (set_t)1 << i;
    return set;
}

/* ------------------------------------------------------------ spreading */

/* Smooth weighted round robin (nginx): every candidate earns its weight, the
 * richest is chosen and pays the total. Over any run of W = sum of weights
 * picks with fixed weights, each uplink gets exactly its weight. */
static size_t wrr(struct tg_sched *s, size_t n, set_t pool, const double *w)
{
    if (pool != s->credit_set) {
        memset(s->credit, 0, sizeof s->credit);
        s->credit_set = pool;
    }
    double total = 0;
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
        if (!in(pool, i))
            continue;
        s->credit[i] += w[i];
        total += w[i];
        if (best == n || s->credit[i] > s->credit[best])
            best = i;
    }
    s->credit[best] -= total;
    return best;
}

static size_t weighted_round_robin(struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                                   set_t pool)
{
    double w[TG_SCHED_MAX_UPLINKS];
    for (size_t i = 0; i < n; i++)
        w[i] = known_rate(v[i].weight) ? v[i].weight : 1.0;
    return wrr(s, n, pool, w);
}

static size_t bandwidth_proportional(struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                                     set_t pool)
{
    double w[TG_SCHED_MAX_UPLINKS], sum = 0;
    unsigned known = 0;
    for (size_t i = 0; i < n; i++) {
        if (in(pool, i) && known_rate(v[i].rate_bps)) {
            sum += v[i].rate_bps;
            known++;
        }
    }
    double fill = known ? sum / known : 1.0;
    for (size_t i = 0; i < n; i++)
        w[i] = known_rate(v[i].rate_bps) ? v[i].rate_bps : fill;
    return wrr(s, n, pool, w);
}

static size_t ecmp(size_t n, set_t pool, uint64_t flow_hash)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += in(pool, i);
    uint64_t nth = flow_hash % k;
    for (size_t i = 0; i < n; i++) {
        if (in(pool, i) && nth-- == 0)
            return i;
    }
    return n; /* not reached: pool has k members */
}

/* ---------------------------------------------------------- aggregation */

static bool all_have_owd(const struct tg_sched_view *v, size_t n, set_t cand)
{
    for (size_t i = 0; i < n; i++)
        if (in(cand, i) && !v[i].has_owd)
            return false;
    return true;
}

/* The uplink on which a packet of `len` bytes is expected to arrive first. */
static size_t earliest_arrival(const struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                               set_t cand, size_t len)
{
    bool owd = all_have_owd(v, n, cand);
    int64_t min_owd = INT64_MAX;
    double half_srtt_sum = 0, rate_sum = 0;
    unsigned srtt_known = 0, rate_known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in(cand, i))
            continue;
        if (v[i].has_owd && v[i].owd_us < min_owd)
            min_owd = v[i].owd_us;
        if (v[i].srtt_us > 0) {
            half_srtt_sum += (double)v[i].srtt_us / 2.0;
            srtt_known++;
        }
        if (known_rate(v[i].rate_bps)) {
            rate_sum += v[i].rate_bps;
            rate_known++;
        }
    }
    double half_srtt_fill = srtt_known ? half_srtt_sum / srtt_known : 0.0;
    double rate_fill = rate_known ? rate_sum / rate_known : s->cfg.default_rate_bps;
    if (!known_rate(rate_fill))
        rate_fill = 1e6;

    size_t best = n;
    double best_us = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in(cand, i))
            continue;
        double delay_us;
        if (owd) /* owd >= min_owd: the difference fits a uint64_t exactly */
            delay_us = (double)((uint64_t)v[i].owd_us - (uint64_t)min_owd);
        else
            delay_us = v[i].srtt_us > 0 ? (double)v[i].srtt_us / 2.0 : half_srtt_fill;
        double rate = known_rate(v[i].rate_bps) ? v[i].rate_bps : rate_fill;
        /* an uplink that only ever carried a trickle (acknowledgements), a
         * sixteenth of the mean or less, is judged at the others' mean until
         * a queue shows what it can carry: judged at its trickle it would
         * never carry more */
        if (v[i].rate_floor && rate * 16 < rate_fill)
            rate = rate_fill;
        double bits = ((double)v[i].queued_bytes + (double)len) * 8.0;
        double at_us = delay_us + bits * 1e6 / rate;
        if (best == n || at_us < best_us) {
            best = i;
            best_us = at_us;
        }
    }
    return best;
}

/* Adaptive aggregation's stripe set: the candidates whose latency (owd when
 * every candidate has one, else srtt) is within adaptive_spread_us of the
 * lowest; one whose latency is unknown yet stays in. */
static set_t near_fastest(const struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                          set_t cand)
{
    bool owd = all_have_owd(v, n, cand);
    uint64_t key[TG_SCHED_MAX_UPLINKS], lo = UINT64_MAX; /* owd as offset-binary */
    set_t known = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in(cand, i))
            continue;
        if (owd)
            key[i] = (uint64_t)v[i].owd_us ^ ((uint64_t)1 << 63);
        else if (v[i].srtt_us > 0)
            key[i] = v[i].srtt_us;
        else
            continue;
        known |= (set_t)1 << i;
        if (key[i] < lo)
            lo = key[i];
    }
    set_t set = cand;
    for (size_t i = 0; i < n; i++)
        if (in(known, i) && key[i] - lo > s->cfg.adaptive_spread_us)
            set &= ~((set_t)1 << i);
    return set;
}

/* One choice by the strategy alone, for a new flow (aggregation none). */
static size_t strategy_choice(struct tg_sched *s, const struct tg_sched_view *v, size_t n,
                              set_t spread, set_t best, uint64_t flow_hash)
{
    switch (s->cfg.strategy) {
    case TG_STRATEGY_ADAPTIVE: {
        double score[TG_SCHED_MAX_UPLINKS];
        return adaptive_scores(s, v, n, best, score);
    }
    case TG_STRATEGY_WEIGHTED_ROUND_ROBIN:
        return weighted_round_robin(s, v, n, spread);
    case TG_STRATEGY_BANDWIDTH_PROPORTIONAL:
        return bandwidth_proportional(s, v, n, spread);
    case TG_STRATEGY_ECMP_AWARE:
        return ecmp(n, spread, flow_hash);
    default:
        return n; /* not reached: the other strategies ignore aggregation */
    }
}

/* Flow-sticky choice: the flow's entry if it is still valid, else a new one. */
static size_t sticky(struct tg_sched *s, const struct tg_sched_view *v, size_t n, set_t spread,
                     set_t best, uint64_t flow_hash, tg_time now)
{
    struct flow *f = &s->flows[flow_hash & (s->cfg.flow_slots - 1)];
    bool hit = f->used && f->hash == flow_hash &&
               now < tg_time_add(f->last_use, s->cfg.flow_idle_us) && in(spread, f->uplink);
    if (!hit) {
        size_t i = strategy_choice(s, v, n, spread, best, flow_hash);
        f->used = true;
        f->hash = flow_hash;
        f->uplink = (uint8_t)i;
    }
    f->last_use = now;
    return f->uplink;
}

int tg_sched_pick(struct tg_sched *s, const struct tg_sched_view *v, size_t n, uint64_t flow_hash,
                  size_t len, tg_time now, uint32_t *mask)
{
    *mask = 0;
    s->striped = false;
    if (n > TG_SCHED_MAX_UPLINKS || (v == NULL && n > 0))
        return TG_ERR_INVAL;
    set_t spread = spread_pool(v, n);
    set_t best = best_class(v, n);
    if (spread == 0)
        return TG_ERR_STATE;

    size_t i;
    switch (s->cfg.strategy) {
    case TG_STRATEGY_LOWEST_LATENCY:
        i = lowest_latency(v, n, best);
        break;
    case TG_STRATEGY_LOWEST_LOSS:
        i = lowest_loss(v, n, best);
        break;
    case TG_STRATEGY_PRIMARY_BACKUP:
        i = primary_backup(v, n, best);
        break;
    case TG_STRATEGY_REDUNDANT:
        *mask = spread;
        return TG_OK;
    default: {
        set_t cand =
            s->cfg.strategy == TG_STRATEGY_ADAPTIVE ? adaptive_candidates(s, v, n, best) : spread;
        enum tg_aggregation agg = s->cfg.aggregation;
        if (agg == TG_AGG_ADAPTIVE) {
            cand = near_fastest(s, v, n, cand);
            agg = TG_AGG_FULL;
        }
        s->striped = agg == TG_AGG_FULL;
        if (agg == TG_AGG_FULL)
            i = earliest_arrival(s, v, n, cand, len);
        else
            i = sticky(s, v, n, spread, best, flow_hash, now);
        break;
    }
    }
    *mask = (uint32_t)1 << i;
    return TG_OK;
}

bool tg_sched_last_striped(const struct tg_sched *s)
{
    return s->striped;
}
