/* Counters to the log, one line for the totals, one per uplink. */
#include <stdarg.h>
#include <stdio.h>

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
            "reorder peak %llu, failovers %llu, drops:%s",
            who, (unsigned long long)c->tun_in, (unsigned long long)c->tun_out,
            (unsigned long long)c->dgram_in, (unsigned long long)c->dgram_out,
            (unsigned long long)c->handshakes_done, (unsigned long long)c->handshakes_sent,
            (unsigned long long)c->reorder_peak, (unsigned long long)c->failovers,
            len ? drops : " none");
    for (size_t i = 0; i < n; i++)
        rt_info("%s: uplink %u: tx %llu rx %llu packets, srtt %.1f ms, loss %.3f, rate %.1f "
                "Mbit/s, probes lost %llu/%llu",
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

void rt_stats_table(struct rt_text *t, const struct tg_uplink_snapshot *up, size_t n,
                    const char *const names[TG_MAX_UPLINKS])
{
    rt_text_add(t, "%-6s %-15s %-9s %5s %9s %7s %12s %10s %10s\n", "uplink", "interface", "health",
                "keys", "srtt", "loss", "rate", "tx pkts", "rx pkts");
    for (size_t i = 0; i < n; i++) {
        const struct tg_uplink_snapshot *u = &up[i];
        const char *name = names != NULL && u->uplink < TG_MAX_UPLINKS && names[u->uplink] != NULL
                               ? names[u->uplink]
                               : "-";
        rt_text_add(t, "%-6u %-15s %-9s %5s %6.1f ms %6.2f%% %6.1f Mbit/s %10llu %10llu\n",
                    u->uplink, name, rt_health_name(u->health), u->keyed ? "yes" : "no",
                    (double)u->srtt_us / 1000.0, u->loss * 100, u->rate_bps / 1e6,
                    (unsigned long long)u->tx_packets, (unsigned long long)u->rx_packets);
    }
}

void rt_stats_prometheus(struct rt_text *t, const char *labels,
                         const struct tg_endpoint_counters *c, const struct tg_uplink_snapshot *up,
                         size_t n, const char *const names[TG_MAX_UPLINKS])
{
    const char *sep = labels[0] != '\0' ? "," : "";
    if (c != NULL) {
        rt_text_add(t, "triglav_tun_packets_total{%s%sdirection=\"in\"} %llu\n", labels, sep,
                    (unsigned long long)c->tun_in);
        rt_text_add(t, "triglav_tun_packets_total{%s%sdirection=\"out\"} %llu\n", labels, sep,
                    (unsigned long long)c->tun_out);
        rt_text_add(t, "triglav_tun_bytes_total{%s%sdirection=\"in\"} %llu\n", labels, sep,
                    (unsigned long long)c->tun_in_bytes);
        rt_text_add(t, "triglav_tun_bytes_total{%s%sdirection=\"out\"} %llu\n", labels, sep,
                    (unsigned long long)c->tun_out_bytes);
        rt_text_add(t, "triglav_datagrams_total{%s%sdirection=\"in\"} %llu\n", labels, sep,
                    (unsigned long long)c->dgram_in);
        rt_text_add(t, "triglav_datagrams_total{%s%sdirection=\"out\"} %llu\n", labels, sep,
                    (unsigned long long)c->dgram_out);
        rt_text_add(t, "triglav_handshakes_total{%s%sstate=\"sent\"} %llu\n", labels, sep,
                    (unsigned long long)c->handshakes_sent);
        rt_text_add(t, "triglav_handshakes_total{%s%sstate=\"done\"} %llu\n", labels, sep,
                    (unsigned long long)c->handshakes_done);
        rt_text_add(t, "triglav_failovers_total{%s} %llu\n", labels,
                    (unsigned long long)c->failovers);
        rt_text_add(t, "triglav_reorder_peak_packets{%s} %llu\n", labels,
                    (unsigned long long)c->reorder_peak);
        for (int d = 0; d < TG_DROP_COUNT; d++)
            rt_text_add(t, "triglav_drops_total{%s%sreason=\"%s\"} %llu\n", labels, sep,
                        tg_drop_name((enum tg_drop)d), (unsigned long long)c->drops[d]);
    }
    for (size_t i = 0; i < n; i++) {
        const struct tg_uplink_snapshot *u = &up[i];
        char l[200];
        const char *name = names != NULL && u->uplink < TG_MAX_UPLINKS && names[u->uplink] != NULL
                               ? names[u->uplink]
                               : "";
        snprintf(l, sizeof l, "%s%suplink=\"%u\",interface=\"%s\"", labels, sep, u->uplink, name);
        rt_text_add(t, "triglav_uplink_health{%s} %d\n", l, (int)u->health);
        rt_text_add(t, "triglav_uplink_srtt_seconds{%s} %.6f\n", l, (double)u->srtt_us / 1e6);
        rt_text_add(t, "triglav_uplink_rttvar_seconds{%s} %.6f\n", l, (double)u->rttvar_us / 1e6);
        rt_text_add(t, "triglav_uplink_loss_ratio{%s} %.4f\n", l, u->loss);
        rt_text_add(t, "triglav_uplink_delivery_rate_bps{%s} %.0f\n", l, u->rate_bps);
        rt_text_add(t, "triglav_uplink_packets_total{%s,direction=\"tx\"} %llu\n", l,
                    (unsigned long long)u->tx_packets);
        rt_text_add(t, "triglav_uplink_packets_total{%s,direction=\"rx\"} %llu\n", l,
                    (unsigned long long)u->rx_packets);
        rt_text_add(t, "triglav_uplink_bytes_total{%s,direction=\"tx\"} %llu\n", l,
                    (unsigned long long)u->tx_bytes);
        rt_text_add(t, "triglav_uplink_bytes_total{%s,direction=\"rx\"} %llu\n", l,
                    (unsigned long long)u->rx_bytes);
        rt_text_add(t, "triglav_uplink_probes_lost_total{%s} %llu\n", l,
                    (unsigned long long)u->probes_lost);
    }
}
