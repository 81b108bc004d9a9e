/* Counters to the log, the status table, measured rates and the Prometheus
 * text (stats.h). The metric families are tables below: one row each, in
 * the order they are written, so a family's samples are always together
 * and its HELP and TYPE come first, as the exposition format requires. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "stats.h"

void rt_stats_log(const char *who, const struct tg_endpoint_counters *c,
                  const struct tg_uplink_snapshot *up, size_t n)
{
    char drops[600] = "";
    size_t len = 0;
    for (int d = 0; d < TG_DROP_COUNT && len < sizeof drops - 40; d++)
        if (c->drops[d] != 0)
            len += (size_t)snprintf(drops + len, sizeof drops - len, " %s=%llu",
                                    tg_drop_name((enum tg_drop)d), (unsigned long long)c->drops[d]);
    rt_info("%s: tun in %llu out %llu packets, datagrams in %llu out %llu, handshakes %llu/%llu, "
            "reorder peak %llu, failovers %llu, retransmitted %llu, drops:%s",
            who, (unsigned long long)c->tun_in, (unsigned long long)c->tun_out,
            (unsigned long long)c->dgram_in, (unsigned long long)c->dgram_out,
            (unsigned long long)c->handshakes_done, (unsigned long long)c->handshakes_sent,
            (unsigned long long)c->reorder_peak, (unsigned long long)c->failovers,
            (unsigned long long)c->retransmitted, len ? drops : " none");
    for (size_t i = 0; i < n; i++)
        rt_info("%s: uplink %u: tx %llu rx %llu packets, srtt %.1f ms, loss %.3f, rate %.1f "
                "Mbit/s (estimate), probes lost %llu/%llu",
                who, up[i].uplink, (unsigned long long)up[i].tx_packets,
                (unsigned long long)up[i].rx_packets, (double)up[i].srtt_us / 1000.0, up[i].loss,
                up[i].rate_bps / 1e6, (unsigned long long)up[i].probes_lost,
                (unsigned long long)up[i].probes_sent);
}

void rt_stats_log_peer(const char *who, const struct tg_uplink_snapshot *up, size_t n)
{
    uint64_t txp = 0, txb = 0, rxp = 0, rxb = 0;
    for (size_t i = 0; i < n; i++) {
        txp += up[i].tx_packets;
        txb += up[i].tx_bytes;
        rxp += up[i].rx_packets;
        rxb += up[i].rx_bytes;
    }
    rt_info("%s: %zu uplinks, %u active; sent %llu datagrams (%llu bytes), received %llu "
            "(%llu bytes of data)",
            who, n, rt_stats_active_uplinks(up, n), (unsigned long long)txp,
            (unsigned long long)txb, (unsigned long long)rxp, (unsigned long long)rxb);
    for (size_t i = 0; i < n; i++)
        rt_info("%s: uplink %u: tx %llu rx %llu packets, srtt %.1f ms, loss %.3f, rate %.1f "
                "Mbit/s (estimate), probes lost %llu/%llu",
                who, up[i].uplink, (unsigned long long)up[i].tx_packets,
                (unsigned long long)up[i].rx_packets, (double)up[i].srtt_us / 1000.0, up[i].loss,
                up[i].rate_bps / 1e6, (unsigned long long)up[i].probes_lost,
                (unsigned long long)up[i].probes_sent);
}

const char *rt_health_name(enum tg_health h)
{
    static const char *const n[] = {"unknown", "healthy", "degraded", "unhealthy", "down"};
    return (unsigned)h < 5 ? n[h] : "?";
}

void rt_text_add(struct rt_text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}

/* ------------------------------------------------------------ throughput */

void rt_rate_update(struct rt_rate *r, tg_time now, uint64_t bytes)
{
    if (!r->have || bytes < r->bytes) {
        *r = (struct rt_rate){.have = true, .at = now, .bytes = bytes};
        return;
    }
    if (now - r->at < RT_RATE_INTERVAL_US)
        return;
    r->bps = (double)(bytes - r->bytes) * 8e6 / (double)(now - r->at);
    r->at = now;
    r->bytes = bytes;
}

double rt_rate_bps(const struct rt_rate *r, tg_time now, uint64_t bytes)
{
    if (!r->have || bytes < r->bytes)
        return 0;
    if (now > r->at && now - r->at >= RT_RATE_INTERVAL_US)
        return (double)(bytes - r->bytes) * 8e6 / (double)(now - r->at);
    return r->bps;
}

bool rt_uplink_rates_due(const struct rt_uplink_rates *r, tg_time now)
{
    return now >= r->next;
}

void rt_uplink_rates_update(struct rt_uplink_rates *r, tg_time now,
                            const struct tg_uplink_snapshot *up, size_t n)
{
    r->next = now + RT_RATE_INTERVAL_US;
    for (size_t i = 0; i < n; i++)
        if (up[i].uplink < TG_MAX_UPLINKS) {
            rt_rate_update(&r->tx[up[i].uplink], now, up[i].tx_bytes);
            rt_rate_update(&r->rx[up[i].uplink], now, up[i].rx_bytes);
        }
}

static const char *mbps(double bps, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.2f Mbit/s", bps / 1e6);
    return buf;
}

void rt_stats_table(struct rt_text *t, const struct tg_uplink_snapshot *up, size_t n,
                    const char *const names[TG_MAX_UPLINKS], const struct rt_uplink_rates *rates,
                    tg_time now)
{
    rt_text_add(t, "%-6s %-15s %-9s %5s %9s %7s %15s %15s %15s %10s %10s\n", "uplink", "interface",
                "health", "keys", "srtt", "loss", "tx now", "rx now", "est. tx rate", "tx pkts",
                "rx pkts");
    for (size_t i = 0; i < n; i++) {
        const struct tg_uplink_snapshot *u = &up[i];
        bool slot = u->uplink < TG_MAX_UPLINKS;
        const char *name =
            names != NULL && slot && names[u->uplink] != NULL ? names[u->uplink] : "-";
        char tx[32] = "-", rx[32] = "-", est[32];
        if (rates != NULL && slot) {
            mbps(rt_rate_bps(&rates->tx[u->uplink], now, u->tx_bytes), tx, sizeof tx);
            mbps(rt_rate_bps(&rates->rx[u->uplink], now, u->rx_bytes), rx, sizeof rx);
        }
        rt_text_add(t, "%-6u %-15s %-9s %5s %6.1f ms %6.2f%% %15s %15s %15s %10llu %10llu\n",
                    u->uplink, name, rt_health_name(u->health), u->keyed ? "yes" : "no",
                    (double)u->srtt_us / 1000.0, u->loss * 100, tx, rx,
                    mbps(u->rate_bps, est, sizeof est), (unsigned long long)u->tx_packets,
                    (unsigned long long)u->rx_packets);
    }
    if (rates != NULL)
        rt_text_add(t,
                    "(tx/rx now: measured over the last %.0f s; est. tx rate: the rate the "
                    "peer's feedback says it receives at, the scheduler's estimate)\n",
                    (double)RT_RATE_INTERVAL_US / 1e6);
}

/* ------------------------------------------------------------ Prometheus */

int rt_stats_connection_state(bool session_up, const struct tg_uplink_snapshot *up, size_t n)
{
    if (!session_up)
        return RT_CONN_CONNECTING;
    return rt_stats_active_uplinks(up, n) > 0 ? RT_CONN_CONNECTED : RT_CONN_NO_PATH;
}

unsigned rt_stats_active_uplinks(const struct tg_uplink_snapshot *up, size_t n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += up[i].keyed && up[i].health != TG_HEALTH_DOWN;
    return k;
}

static void family(struct rt_text *t, const char *name, const char *type, const char *help)
{
    rt_text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(char *out, size_t cap, const char *v)
{
    size_t o = 0;
    for (; *v != '\0' && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            out[o++] = '\\';
            out[o++] = *v == '\n' ? 'n' : *v;
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

/* The labels of one uplink of one peer: `uplink="wlan0"` on a client,
 * `client="198.18.0.2",uplink="0"` on a server. */
static void uplink_labels(const struct rt_metrics *m, const struct rt_metrics_peer *p,
                          const struct tg_uplink_snapshot *u, char *out, size_t cap)
{
    char name[80], a[RT_ADDRSTRLEN];
    if (!m->server && m->names != NULL && u->uplink < TG_MAX_UPLINKS && m->names[u->uplink] != NULL)
        label_value(name, sizeof name, m->names[u->uplink]);
    else
        snprintf(name, sizeof name, "%u", u->uplink);
    if (m->server)
        snprintf(out, cap, "client=\"%s\",uplink=\"%s\"", rt_ipv4_str(p->addr, a), name);
    else
        snprintf(out, cap, "uplink=\"%s\"", name);
}

struct endpoint_family {
    const char *name, *type, *help, *label; /* label: NULL, or the one label's name */
    const char *values[2];                  /* its two values (direction, state) */
    size_t off[2];                          /* offsetof the counters, per value */
};

/* clang-format off */
#define K(f) offsetof(struct tg_endpoint_counters, f)
static const struct endpoint_family endpoint_families[] = {
    {"triglav_tun_packets_total", "counter",
     "IP packets read from the TUN device (in: into the tunnel) and written to it (out)",
     "direction", {"in", "out"}, {K(tun_in), K(tun_out)}},
    {"triglav_tun_bytes_total", "counter", "Bytes of those IP packets", "direction",
     {"in", "out"}, {K(tun_in_bytes), K(tun_out_bytes)}},
    {"triglav_datagrams_total", "counter",
     "UDP datagrams received (in) and queued to send (out) on every uplink or listener",
     "direction", {"in", "out"}, {K(dgram_in), K(dgram_out)}},
    {"triglav_handshakes_total", "counter",
     "Handshakes started (sent) and completed (done)", "state", {"sent", "done"},
     {K(handshakes_sent), K(handshakes_done)}},
    {"triglav_cookies_total", "counter",
     "Handshake cookies: sent by a server under load, received by a client", NULL, {NULL},
     {K(cookies_sent)}},
    {"triglav_failovers_total", "counter",
     "Times the scheduler left an uplink because it went bad", NULL, {NULL}, {K(failovers)}},
    {"triglav_packets_retransmitted_total", "counter",
     "Striped packets sent again because the peer reported them lost", NULL, {NULL},
     {K(retransmitted)}},
    {"triglav_nacks_sent_total", "counter", "Loss reports (NACK frames) sent to the peer", NULL,
     {NULL}, {K(nacks_sent)}},
    {"triglav_reorder_peak_packets", "gauge", "Highest reorder-buffer occupancy seen", NULL,
     {NULL}, {K(reorder_peak)}},
};
#undef K
/* clang-format on */

static uint64_t counter_at(const struct tg_endpoint_counters *c, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)c + off, sizeof v);
    return v;
}

struct uplink_family {
    const char *name, *type, *help;
    int kind; /* 0: integer field, 1: seconds from microseconds, 2: double field */
    size_t off;
    double scale; /* kind 2: factor */
};

/* clang-format off */
#define U(f) offsetof(struct tg_uplink_snapshot, f)
static const struct uplink_family uplink_families[] = {
    {"triglav_uplink_health", "gauge",
     "Uplink health: 0 unknown, 1 healthy, 2 degraded, 3 unhealthy, 4 down", 3, 0, 0},
    {"triglav_uplink_rtt_seconds", "gauge", "Smoothed round-trip time (RFC 6298 SRTT)", 1,
     U(srtt_us), 0},
    {"triglav_uplink_rttvar_seconds", "gauge", "Round-trip time variation (RFC 6298 RTTVAR)", 1,
     U(rttvar_us), 0},
    {"triglav_uplink_min_rtt_seconds", "gauge", "Lowest round-trip time seen", 1, U(min_rtt_us),
     0},
    {"triglav_uplink_loss_ratio", "gauge", "Loss over the recent window of probes and data, 0..1",
     2, U(loss), 1},
    {"triglav_uplink_delivery_rate_bytes_per_second", "gauge",
     "Estimated rate at which the peer receives what is sent on the uplink, from its feedback (the scheduler's estimate, not traffic)", 2,
     U(rate_bps), 0.125},
    {"triglav_uplink_queued_bytes", "gauge", "Bytes sent on the uplink and not yet acknowledged",
     0, U(queued_bytes), 0},
    {"triglav_bytes_sent_total", "counter", "Bytes of datagrams sent on the uplink", 0,
     U(tx_bytes), 0},
    {"triglav_bytes_received_total", "counter",
     "Bytes of IP packets received in data datagrams on the uplink", 0, U(rx_bytes), 0},
    {"triglav_packets_sent_total", "counter", "Datagrams sent on the uplink", 0, U(tx_packets),
     0},
    {"triglav_packets_received_total", "counter", "Datagrams received on the uplink", 0,
     U(rx_packets), 0},
    {"triglav_uplink_probes_sent_total", "counter", "Probes sent on the uplink", 0,
     U(probes_sent), 0},
    {"triglav_uplink_probes_lost_total", "counter", "Probes that got no answer", 0,
     U(probes_lost), 0},
};
#undef U
/* clang-format on */

static void uplink_family(struct rt_text *t, const struct rt_metrics *m,
                          const struct uplink_family *f)
{
    family(t, f->name, f->type, f->help);
    char l[200];
    for (size_t p = 0; p < m->n_peers; p++)
        for (size_t i = 0; i < m->peers[p].n; i++) {
            const struct tg_uplink_snapshot *u = &m->peers[p].up[i];
            const char *base = (const char *)u + f->off;
            uplink_labels(m, &m->peers[p], u, l, sizeof l);
            if (f->kind == 3) {
                rt_text_add(t, "%s{%s} %d\n", f->name, l, (int)u->health);
            } else if (f->kind == 0) {
                uint64_t v;
                memcpy(&v, base, sizeof v);
                rt_text_add(t, "%s{%s} %llu\n", f->name, l, (unsigned long long)v);
            } else if (f->kind == 1) {
                tg_time v;
                memcpy(&v, base, sizeof v);
                if (v != TG_TIME_NEVER) /* a minimum not measured yet: no sample */
                    rt_text_add(t, "%s{%s} %.6f\n", f->name, l, (double)v / 1e6);
            } else {
                double v;
                memcpy(&v, base, sizeof v);
                rt_text_add(t, "%s{%s} %.9g\n", f->name, l, v * f->scale);
            }
        }
}

void rt_stats_prometheus(struct rt_text *t, const struct rt_metrics *m)
{
    char a[RT_ADDRSTRLEN];
    if (m->server) {
        family(t, "triglav_sessions", "gauge", "Client sessions the server holds");
        rt_text_add(t, "triglav_sessions %u\n", m->sessions);
        family(t, "triglav_active_uplinks", "gauge",
               "Uplinks of each client that carry traffic (keyed and not down)");
        for (size_t p = 0; p < m->n_peers; p++)
            rt_text_add(t, "triglav_active_uplinks{client=\"%s\"} %u\n",
                        rt_ipv4_str(m->peers[p].addr, a),
                        rt_stats_active_uplinks(m->peers[p].up, m->peers[p].n));
    } else {
        unsigned active = 0;
        for (size_t p = 0; p < m->n_peers; p++)
            active += rt_stats_active_uplinks(m->peers[p].up, m->peers[p].n);
        family(t, "triglav_connection_state", "gauge",
               "0 connecting (no session), 1 connected, 2 session without a usable uplink");
        rt_text_add(t, "triglav_connection_state %d\n", m->connection_state);
        family(t, "triglav_active_uplinks", "gauge",
               "Uplinks that carry traffic (keyed and not down)");
        rt_text_add(t, "triglav_active_uplinks %u\n", active);
        family(t, "triglav_nat_active_entries", "gauge",
               "Mappings in the NAT table for local sources other than the tunnel address");
        rt_text_add(t, "triglav_nat_active_entries %u\n", m->nat_entries);
    }
    const struct tg_endpoint_counters *c = m->counters;
    for (size_t f = 0; f < sizeof endpoint_families / sizeof endpoint_families[0]; f++) {
        const struct endpoint_family *e = &endpoint_families[f];
        family(t, e->name, e->type, e->help);
        if (e->label == NULL) {
            rt_text_add(t, "%s %llu\n", e->name, (unsigned long long)counter_at(c, e->off[0]));
            continue;
        }
        for (int v = 0; v < 2; v++)
            rt_text_add(t, "%s{%s=\"%s\"} %llu\n", e->name, e->label, e->values[v],
                        (unsigned long long)counter_at(c, e->off[v]));
    }
    family(t, "triglav_drops_total", "counter", "Datagrams and packets dropped, by reason");
    for (int d = 0; d < TG_DROP_COUNT; d++)
        rt_text_add(t, "triglav_drops_total{reason=\"%s\"} %llu\n", tg_drop_name((enum tg_drop)d),
                    (unsigned long long)c->drops[d]);
    for (size_t f = 0; f < sizeof uplink_families / sizeof uplink_families[0]; f++)
        uplink_family(t, m, &uplink_families[f]);
}

/* ------------------------------------------------- a server's clients */

bool rt_peer_rates_due(const struct rt_peer_rates *r, tg_time now)
{
    return now >= r->next;
}

static const struct rt_peer_rate *peer_find(const struct rt_peer_rates *r, const uint8_t addr[4])
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(r->v[mid].addr, addr, 4);
        if (c == 0)
            return &r->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool rt_peer_rates_update(struct rt_peer_rates *r, tg_time now, const struct rt_metrics_peer *peers,
                          size_t n)
{
    struct rt_peer_rate *v = malloc((n > 0 ? n : 1) * sizeof *v);
    if (v == NULL)
        return false;
    double secs = (double)(now - r->at) / 1e6;
    for (size_t i = 0; i < n; i++) {
        struct rt_peer_rate *p = &v[i];
        *p = (struct rt_peer_rate){0};
        memcpy(p->addr, peers[i].addr, 4);
        for (size_t k = 0; k < peers[i].n; k++) {
            p->tx += peers[i].up[k].tx_bytes;
            p->rx += peers[i].up[k].rx_bytes;
        }
        const struct rt_peer_rate *o = peer_find(r, p->addr);
        if (o != NULL && secs > 0) {
            p->tx_bps = p->tx >= o->tx ? (double)(p->tx - o->tx) * 8 / secs : 0;
            p->rx_bps = p->rx >= o->rx ? (double)(p->rx - o->rx) * 8 / secs : 0;
        }
    }
    free(r->v);
    r->v = v;
    r->n = n;
    r->at = now;
    r->next = now + RT_RATE_INTERVAL_US;
    return true;
}

bool rt_peer_rates_get(const struct rt_peer_rates *r, const uint8_t addr[4], double *tx_bps,
                       double *rx_bps)
{
    const struct rt_peer_rate *p = peer_find(r, addr);
    *tx_bps = p != NULL ? p->tx_bps : 0;
    *rx_bps = p != NULL ? p->rx_bps : 0;
    return p != NULL;
}

void rt_peer_rates_free(struct rt_peer_rates *r)
{
    free(r->v);
    *r = (struct rt_peer_rates){0};
}
