/*
 * sched.h: the scheduler: which uplink(s) carry the next packet.
 *
 * Strategies (seed names) rank or weight the usable uplinks:
 *   adaptive               score = w_rtt*rtt' + w_loss*loss' + w_bw*(1-bw') + w_nat*nat
 *                          (defaults 0.35/0.35/0.2/0.1), lowest wins
 *   lowest_latency         lowest srtt
 *   lowest_loss            lowest loss, then lowest srtt
 *   weighted_round_robin   smooth weighted round robin over configured weights
 *   bandwidth_proportional share proportional to delivery rate
 *   redundant              every usable uplink (receiver deduplicates)
 *   primary_backup         the first usable uplink in priority order
 *   ecmp_aware             flow hash spread evenly, like an ECMP router
 * Aggregation modes decide how much a flow may be spread:
 *   none      flow-sticky: a flow stays on the uplink first chosen for it
 *             while that uplink stays usable;
 *   full      per packet: among the strategy's candidate uplinks, the one on
 *             which the packet is expected to ARRIVE first (one-way delay +
 *             queued bytes / delivery rate), so the receiver sees little
 *             reordering;
 *   adaptive  full among the candidates whose latency is within
 *             `adaptive_spread_us` (100 ms) of the lowest: a much slower
 *             uplink carries nothing while a faster one is a candidate.
 * Usable: present and not Down. Two candidate pools, by strategy kind:
 *   spread pool (weighted_round_robin, bandwidth_proportional, ecmp_aware,
 *     redundant): every Healthy, Unknown and Degraded uplink; the Unhealthy
 *     ones only when none of those exists;
 *   best class (adaptive, lowest_latency, lowest_loss, primary_backup): the
 *     Healthy and Unknown uplinks if any, else the Degraded, else the
 *     Unhealthy ones. So Degraded ones are avoided when a Healthy one exists.
 * Unknown uplinks (no sample yet) are usable and rank with the Healthy ones.
 * No usable uplink: TG_ERR_STATE. Ties always go to the lower index.
 *
 * Decisions, strategy by strategy:
 *   adaptive: each term is normalised over the best class: rtt' = srtt / max
 *     srtt, bw' = rate / max rate, loss' = loss / max(max loss, loss_floor)
 *     (the floor keeps 0.1% vs 0.2% from weighing like 10% vs 20%); an
 *     unknown srtt or rate takes the mean of the known normalised values (0 if
 *     none is known), so a new uplink is neither favoured nor punished.
 *   lowest_latency / lowest_loss: an unknown srtt (0) ranks after every known
 *     one; loss compares exactly.
 *   weighted_round_robin: nginx's smooth WRR (credit += weight; the largest
 *     credit wins; the winner pays the total), deterministic. A weight <= 0
 *     counts as 1. All credits restart from 0 whenever the set of candidates
 *     changes, so a returning uplink gets no burst.
 *   bandwidth_proportional: the same smooth WRR with weight = rate_bps; an
 *     unknown rate takes the mean of the candidates' known rates (1 if none).
 *   ecmp_aware: the (flow_hash mod k)-th of the k spread-pool uplinks in index
 *     order.
 *   primary_backup: lowest priority value in the best class (then index).
 * Aggregation (applies to adaptive, weighted_round_robin,
 * bandwidth_proportional, ecmp_aware; the others pick the same way every
 * packet, redundant sends on the whole spread pool):
 *   candidates for full: adaptive: the best class, less the uplinks whose
 *     loss is above 2 x the class's lowest loss + stripe_loss_margin beyond
 *     chance (the lost count exceeds the count expected at that limit over
 *     `loss_samples` outcomes by more than two binomial standard
 *     deviations; latency and rate are left to earliest arrival, which
 *     weighs them per packet); the others: the whole spread pool (their
 *     weights then do not matter: arrival time does).
 *   earliest arrival: delay + (queued_bytes + len) * 8 / rate, where delay is
 *     owd - min owd when every candidate has an owd, else srtt/2 for all (an
 *     unknown srtt takes the mean of the known ones, 0 if none), and an
 *     unknown rate takes the mean of the candidates' known rates, else
 *     `default_rate_bps`. The host adds each sent packet to queued_bytes of
 *     its uplink; the scheduler keeps no per-packet queue state.
 *   none: a direct-mapped table of flow_slots entries (slot = hash
 *     mod slots) stores the full hash, the uplink and the last use. A hit
 *     keeps the flow on its uplink while that uplink is in the spread pool
 *     (present, not Down, and not Unhealthy while something better is
 *     usable), even if another uplink became better. Otherwise (miss,
 *     another flow's entry, expired, uplink gone) the strategy makes one fresh
 *     choice (adaptive: best score; WRR/bandwidth: next WRR turn;
 *     ecmp: the hash) and overwrites the slot. An entry used at t is expired
 *     from t + flow_idle_us on (exactly then, not one microsecond later).
 *   adaptive: latency = owd when every candidate has one, else srtt; full
 *     among the candidates whose latency is at most the lowest +
 *     adaptive_spread_us (an unknown srtt stays a candidate). It never
 *     touches the flow table.
 *
 * The scheduler sees only views (numbers), never the session. Its state
 * (round-robin credit, flow table) is fixed-size: picking never allocates.
 */
#ifndef TG_SCHED_H
#define TG_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "time.h"
#include "uplink.h"

#define TG_SCHED_MAX_UPLINKS 16
#define TG_SCHED_FLOW_SLOTS  4096

enum tg_strategy {
    TG_STRATEGY_ADAPTIVE = 0,
    TG_STRATEGY_LOWEST_LATENCY,
    TG_STRATEGY_LOWEST_LOSS,
    TG_STRATEGY_WEIGHTED_ROUND_ROBIN,
    TG_STRATEGY_BANDWIDTH_PROPORTIONAL,
    TG_STRATEGY_REDUNDANT,
    TG_STRATEGY_PRIMARY_BACKUP,
    TG_STRATEGY_ECMP_AWARE,
    TG_STRATEGY_COUNT
};

enum tg_aggregation { TG_AGG_NONE = 0, TG_AGG_FULL, TG_AGG_ADAPTIVE, TG_AGG_COUNT };

struct tg_sched_config {
    enum tg_strategy strategy;         /* (adaptive) */
    enum tg_aggregation aggregation;   /* (adaptive) */
    double w_rtt, w_loss, w_bw, w_nat; /* adaptive weights (0.35 0.35 0.2 0.1) */
    double loss_floor;                 /* adaptive: loss' denominator at least this (0.01) */
    double stripe_loss_margin;         /* adaptive: an uplink losing more than 2 x the best
                                          plus this is not striped onto (0.01) */
    tg_time adaptive_spread_us;        /* (100 ms) */
    tg_time flow_idle_us;              /* a sticky flow entry expires after this (30 s) */
    double default_rate_bps;           /* full: rate when no candidate knows one (1 Mbit/s) */
    uint32_t flow_slots;               /* none: flow table entries, a power of two (4096;
                                          the server uses 256 per session) */
};

/* What the scheduler sees of uplink i. */
struct tg_sched_view {
    bool present; /* slot in use (uplink exists and has keys) */
    enum tg_health health;
    tg_time srtt_us; /* 0 = unknown */
    double loss;     /* 0..1 */
    uint32_t loss_samples; /* outcomes the loss was measured over (0 = none) */
    double rate_bps; /* delivery rate, bits per second; 0 = unknown */
    bool rate_floor; /* rate_bps is only the most the uplink carried so far: no
                        queue on it has shown its capacity yet */
    int64_t owd_us;  /* receiver-reported one-way delay; only differences matter */
    bool has_owd;
    uint64_t queued_bytes; /* sent but not yet reported received (estimate) */
    double weight;         /* weighted_round_robin weight (> 0), default 1 */
    uint32_t priority;     /* primary_backup order: lower first */
    bool behind_nat;       /* adaptive's NAT penalty applies */
};

struct tg_sched;

void tg_sched_config_default(struct tg_sched_config *c);
/* Names: "adaptive", "lowest_latency", ... and "none", "full", "adaptive";
 * "invalid" for values outside the enums. Parsers take exactly those names
 * and return TG_OK or TG_ERR_INVAL (*out untouched). */
const char *tg_strategy_name(enum tg_strategy s);
const char *tg_aggregation_name(enum tg_aggregation a);
int tg_strategy_parse(const char *s, enum tg_strategy *out) TG_MUST_CHECK;
int tg_aggregation_parse(const char *s, enum tg_aggregation *out) TG_MUST_CHECK;

/* Returns TG_OK, TG_ERR_INVAL (strategy or aggregation out of range, NULL
 * argument), TG_ERR_NOMEM. */
int tg_sched_new(const struct tg_sched_config *c, const struct tg_allocator *a,
                 struct tg_sched **out) TG_MUST_CHECK;
/* NULL is fine. */
void tg_sched_free(struct tg_sched *s);

/* Choose the uplinks for one packet of `len` bytes belonging to flow
 * `flow_hash`; v[0..n-1] are the uplinks, bit i of *mask is v[i]. Writes a
 * bitmask of uplink indexes to *mask (several bits only for redundant).
 * Returns TG_OK, TG_ERR_STATE when no uplink is usable (*mask = 0), or
 * TG_ERR_INVAL when n > TG_SCHED_MAX_UPLINKS or v is NULL with n > 0
 * (*mask = 0). */
int tg_sched_pick(struct tg_sched *s, const struct tg_sched_view *v, size_t n, uint64_t flow_hash,
                  size_t len, tg_time now, uint32_t *mask) TG_MUST_CHECK;

/* Whether the last pick striped per packet (`full`, or `adaptive` while the
 * latencies were close) rather than following a flow or duplicating. The
 * receiver reorders only striped packets, so flow-sticky traffic never waits
 * behind another flow on a slower uplink. */
bool tg_sched_last_striped(const struct tg_sched *s);

#endif
