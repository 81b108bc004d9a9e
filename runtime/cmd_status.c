/*
 * `triglav status`: what a running `triglav tun` or `triglav server` says
 * on its control socket, once or every --interval seconds (--watch). On a
 * terminal the watch redraws the screen in place (ANSI: home, clear to the
 * end); otherwise it prints one line per interval (one JSON document per
 * line with --json), so a log or a pipe gets a time series.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cmds.h"
#include "control.h"

static const char usage[] =
    "usage: triglav status [--json] [--detailed] [--watch [--interval S] [--count N]]\n"
    "                      [--metrics] [--tun-name NAME] [--state-dir DIR]\n"
    "  Asks a running `triglav tun` (tg0) or `triglav server` (tgsrv0) through its control\n"
    "  socket (DIR/NAME.sock) for its session, uplinks and counters.\n"
    "  --json          the status as JSON (schema in runtime/README.md, \"status --json\")\n"
    "  --detailed      every estimate and counter of every uplink\n"
    "  --watch         again every --interval seconds (1): redrawn in place on a terminal,\n"
    "                  one line per interval (one JSON document with --json) otherwise\n"
    "  --count N       with --watch: stop after N updates\n"
    "  --metrics       the Prometheus text instead\n";

enum { O_JSON = 1000, O_DETAILED, O_WATCH, O_INTERVAL, O_COUNT, O_METRICS, O_TUN, O_DIR };

#define ANSWER_CAP (1 << 20)

/* Counters of the previous update, for the rates of a watch. */
struct prev {
    bool have;
    tg_time at;
    double up_bytes, down_bytes;
    char name[TG_MAX_UPLINKS][16];
    double tx[TG_MAX_UPLINKS], rx[TG_MAX_UPLINKS];
};

static double rate(double now_v, double before, double secs)
{
    return now_v > before && secs > 0 ? (now_v - before) * 8 / secs : 0;
}

/* Rates of uplink `slot` (named `ifname`) since the last update, in bit/s. */
static void uplink_rates(const struct prev *p, int slot, const char *ifname, double tx, double rx,
                         double secs, double *tx_bps, double *rx_bps)
{
    *tx_bps = *rx_bps = 0;
    if (p->have && slot >= 0 && slot < TG_MAX_UPLINKS && strcmp(p->name[slot], ifname) == 0) {
        *tx_bps = rate(tx, p->tx[slot], secs);
        *rx_bps = rate(rx, p->rx[slot], secs);
    }
}

static void remember(struct prev *p, const struct rt_json *j, tg_time now)
{
    int ups = rt_json_get(j, 0, "uplinks"), k = rt_json_get(j, 0, "counters");
    bool server = rt_json_get(j, 0, "sessions") >= 0;
    memset(p, 0, sizeof *p);
    p->have = true;
    p->at = now;
    p->up_bytes = rt_json_mnum(j, k, server ? "tun_out_bytes" : "tun_in_bytes", 0);
    p->down_bytes = rt_json_mnum(j, k, server ? "tun_in_bytes" : "tun_out_bytes", 0);
    for (int i = 0; i < rt_json_len(j, ups); i++) {
        int u = rt_json_at(j, ups, i);
        int slot = (int)rt_json_mnum(j, u, "slot", -1);
        if (slot < 0 || slot >= TG_MAX_UPLINKS)
            continue;
        rt_json_mstr(j, u, "interface", p->name[slot], sizeof p->name[slot], "");
        p->tx[slot] = rt_json_mnum(j, u, "tx_bytes", 0);
        p->rx[slot] = rt_json_mnum(j, u, "rx_bytes", 0);
    }
}

void rt_status_print_uplink(FILE *f, const struct rt_json *j, int u)
{
    char a[64], b[64], c[64], name[32], state[32], s[64];
    rt_json_mstr(j, u, "interface", name, sizeof name, "-");
    rt_json_mstr(j, u, "state", state, sizeof state, "?");
    fprintf(f, "uplink %d: %s (%s%s)\n", (int)rt_json_mnum(j, u, "slot", -1), name, state,
            rt_json_bool(j, rt_json_get(j, u, "pinned"), false) ? ", by name" : "");
    if (rt_json_get(j, u, "local_address") >= 0) /* clients only */
        fprintf(f, "  local address      %s\n", rt_json_mstr(j, u, "local_address", a, sizeof a, "-"));
    const char *ak = rt_json_get(j, u, "mapped_address") >= 0 ? "mapped" : "peer";
    snprintf(s, sizeof s, "%s_address", ak);
    rt_json_mstr(j, u, s, a, sizeof a, "");
    snprintf(s, sizeof s, "%s_port", ak);
    if (a[0] != '\0')
        fprintf(f, "  %-18s %s:%.0f%s\n", ak[0] == 'm' ? "mapped address" : "peer address", a,
                rt_json_mnum(j, u, s, 0),
                ak[0] == 'm' ? " (the source the server sees, after NAT)" : "");
    if (rt_json_type(j, rt_json_get(j, u, "health")) != RT_JSTR) {
        fprintf(f, "  (no estimates: the uplink is not in use)\n");
    } else {
        fprintf(f, "  health             %s, keys %s (%s old)\n",
                rt_json_mstr(j, u, "health", a, sizeof a, "?"),
                rt_json_bool(j, rt_json_get(j, u, "keyed"), false) ? "yes" : "no",
                rt_fmt_us(rt_json_mnum(j, u, "keys_age_us", 0), b, sizeof b));
        fprintf(f, "  srtt               %s (rttvar %s, min %s)\n",
                rt_fmt_us(rt_json_mnum(j, u, "srtt_us", 0), a, sizeof a),
                rt_fmt_us(rt_json_mnum(j, u, "rttvar_us", 0), b, sizeof b),
                rt_fmt_us(rt_json_mnum(j, u, "min_rtt_us", 0), c, sizeof c));
        fprintf(f, "  one-way delay      %s (receiver clock minus sender clock)\n",
                rt_fmt_us(rt_json_mnum(j, u, "owd_us", 0), a, sizeof a));
        fprintf(f, "  loss               %.2f %%\n", 100 * rt_json_mnum(j, u, "loss_ratio", 0));
        fprintf(f, "  delivery rate      %s (estimate)\n",
                rt_fmt_rate(rt_json_mnum(j, u, "delivery_rate_bps", 0), a, sizeof a));
        fprintf(f, "  queued             %s\n",
                rt_fmt_bytes(rt_json_mnum(j, u, "queued_bytes", 0), a, sizeof a));
        fprintf(f, "  sent               %.0f datagrams, %s; the peer received %s of data\n",
                rt_json_mnum(j, u, "tx_packets", 0),
                rt_fmt_bytes(rt_json_mnum(j, u, "tx_bytes", 0), a, sizeof a),
                rt_fmt_bytes(rt_json_mnum(j, u, "delivered_bytes", 0), b, sizeof b));
        fprintf(f, "  received           %.0f datagrams, %s of data\n",
                rt_json_mnum(j, u, "rx_packets", 0),
                rt_fmt_bytes(rt_json_mnum(j, u, "rx_bytes", 0), a, sizeof a));
        fprintf(f, "  probes             %.0f sent, %.0f lost\n",
                rt_json_mnum(j, u, "probes_sent", 0), rt_json_mnum(j, u, "probes_lost", 0));
    }
    if (rt_json_get(j, u, "datagrams_sent") >= 0)
        fprintf(f, "  socket             %.0f datagrams sent (%.0f refused), %.0f received (%s)\n",
                rt_json_mnum(j, u, "datagrams_sent", 0), rt_json_mnum(j, u, "datagrams_refused", 0),
                rt_json_mnum(j, u, "datagrams_received", 0),
                rt_fmt_bytes(rt_json_mnum(j, u, "received_bytes", 0), a, sizeof a));
}

static void print_counters(FILE *f, const struct rt_json *j)
{
    int k = rt_json_get(j, 0, "counters");
    char a[64], b[64];
    fprintf(f, "TUN packets in %.0f (%s) out %.0f (%s); datagrams in %.0f out %.0f\n",
            rt_json_mnum(j, k, "tun_in_packets", 0),
            rt_fmt_bytes(rt_json_mnum(j, k, "tun_in_bytes", 0), a, sizeof a),
            rt_json_mnum(j, k, "tun_out_packets", 0),
            rt_fmt_bytes(rt_json_mnum(j, k, "tun_out_bytes", 0), b, sizeof b),
            rt_json_mnum(j, k, "datagrams_in", 0), rt_json_mnum(j, k, "datagrams_out", 0));
    fprintf(f, "handshakes %.0f sent, %.0f done; failovers %.0f; reorder peak %.0f; "
               "retransmitted %.0f, NACKs %.0f\n",
            rt_json_mnum(j, k, "handshakes_sent", 0), rt_json_mnum(j, k, "handshakes_done", 0),
            rt_json_mnum(j, k, "failovers", 0), rt_json_mnum(j, k, "reorder_peak_packets", 0),
            rt_json_mnum(j, k, "retransmitted_packets", 0), rt_json_mnum(j, k, "nacks_sent", 0));
    int d = rt_json_get(j, k, "drops");
    fprintf(f, "drops:");
    int shown = 0;
    for (int i = 0; i < rt_json_len(j, d); i++) {
        int n = rt_json_at(j, d, i);
        double v = rt_json_num(j, n, 0);
        if (v > 0) {
            fprintf(f, " %.*s %.0f", (int)j->n[n].key_len, j->n[n].key, v);
            shown++;
        }
    }
    fprintf(f, "%s\n", shown ? "" : " none");
}

static void header(FILE *f, const struct rt_json *j)
{
    char role[16], tun[32], a[64], b[64], mode[32];
    rt_json_mstr(j, 0, "role", role, sizeof role, "?");
    rt_json_mstr(j, 0, "tun", tun, sizeof tun, "?");
    if (strcmp(role, "server") == 0) {
        fprintf(f, "triglav server %s: %s, pool %s, %.0f sessions\n", tun,
                rt_json_mstr(j, 0, "tunnel_address", a, sizeof a, "?"),
                rt_json_mstr(j, 0, "pool", b, sizeof b, "?"), rt_json_mnum(j, 0, "session_count", 0));
        return;
    }
    int s = rt_json_get(j, 0, "session");
    if (rt_json_bool(j, rt_json_get(j, s, "up"), false))
        snprintf(a, sizeof a, "%s/%.0f", rt_json_mstr(j, s, "tunnel_address", b, sizeof b, "?"),
                 rt_json_mnum(j, s, "tunnel_prefix_len", 0));
    else
        snprintf(a, sizeof a, "connecting");
    rt_json_mstr(j, 0, "server_address", b, sizeof b, "?");
    fprintf(f, "triglav tun %s: %s, server %s:%.0f, %s, %s/%s\n", tun, a, b,
            rt_json_mnum(j, 0, "server_port", 0), rt_json_mstr(j, 0, "mode", mode, sizeof mode, "?"),
            rt_json_mstr(j, 0, "strategy", role, sizeof role, "?"),
            rt_json_mstr(j, 0, "aggregation", tun, sizeof tun, "?"));
}

/* The whole picture: a table (with the rates since the last update when
 * there was one), or every field of every uplink with `detailed`. */
static void print_view(FILE *f, const struct rt_json *j, const struct prev *p, tg_time now,
                       bool detailed)
{
    char a[64], b[64], c[64], d[64], e[64];
    double secs = p->have ? (double)(now - p->at) / 1e6 : 0;
    header(f, j);
    bool server = rt_json_get(j, 0, "sessions") >= 0;
    if (p->have) {
        int k = rt_json_get(j, 0, "counters");
        fprintf(f, "up %s, down %s (through the tunnel, last %.1f s)\n",
                rt_fmt_rate(rate(rt_json_mnum(j, k, server ? "tun_out_bytes" : "tun_in_bytes", 0),
                                 p->up_bytes, secs),
                            a, sizeof a),
                rt_fmt_rate(rate(rt_json_mnum(j, k, server ? "tun_in_bytes" : "tun_out_bytes", 0),
                                 p->down_bytes, secs),
                            b, sizeof b),
                secs);
    }
    if (server) {
        int ss = rt_json_get(j, 0, "sessions");
        for (int i = 0; i < rt_json_len(j, ss); i++) {
            int s = rt_json_at(j, ss, i), ups = rt_json_get(j, s, "uplinks");
            fprintf(f, "client %s:\n", rt_json_mstr(j, s, "tunnel_address", a, sizeof a, "?"));
            for (int k = 0; k < rt_json_len(j, ups); k++) {
                int u = rt_json_at(j, ups, k);
                if (detailed) {
                    rt_status_print_uplink(f, j, u);
                    continue;
                }
                fprintf(f, "  uplink %-2.0f %-22s %-9s srtt %-9s loss %5.2f%%  tx %s  rx %s\n",
                        rt_json_mnum(j, u, "slot", -1),
                        rt_json_mstr(j, u, "peer_address", a, sizeof a, "-"),
                        rt_json_mstr(j, u, "health", b, sizeof b, "-"),
                        rt_fmt_us(rt_json_mnum(j, u, "srtt_us", 0), c, sizeof c),
                        100 * rt_json_mnum(j, u, "loss_ratio", 0),
                        rt_fmt_bytes(rt_json_mnum(j, u, "tx_bytes", 0), d, sizeof d),
                        rt_fmt_bytes(rt_json_mnum(j, u, "rx_bytes", 0), e, sizeof e));
            }
        }
    } else {
        int ups = rt_json_get(j, 0, "uplinks");
        if (!detailed)
            fprintf(f, "%-6s %-15s %-8s %-9s %9s %7s %13s %13s %13s\n", "uplink", "interface",
                    "state", "health", "srtt", "loss", "estimate", "tx now", "rx now");
        for (int i = 0; i < rt_json_len(j, ups); i++) {
            int u = rt_json_at(j, ups, i);
            if (detailed) {
                rt_status_print_uplink(f, j, u);
                continue;
            }
            char name[32], st[16], h[16];
            double tx, rx;
            int slot = (int)rt_json_mnum(j, u, "slot", -1);
            rt_json_mstr(j, u, "interface", name, sizeof name, "-");
            uplink_rates(p, slot, name, rt_json_mnum(j, u, "tx_bytes", 0),
                         rt_json_mnum(j, u, "rx_bytes", 0), secs, &tx, &rx);
            fprintf(f, "%-6d %-15s %-8s %-9s %9s %6.2f%% %13s %13s %13s\n", slot, name,
                    rt_json_mstr(j, u, "state", st, sizeof st, "?"),
                    rt_json_mstr(j, u, "health", h, sizeof h, "-"),
                    rt_fmt_us(rt_json_mnum(j, u, "srtt_us", 0), a, sizeof a),
                    100 * rt_json_mnum(j, u, "loss_ratio", 0),
                    rt_fmt_rate(rt_json_mnum(j, u, "delivery_rate_bps", 0), b, sizeof b),
                    p->have ? rt_fmt_rate(tx, c, sizeof c) : "-",
                    p->have ? rt_fmt_rate(rx, d, sizeof d) : "-");
        }
    }
    print_counters(f, j);
}

/* One line per update for logs and pipes. */
static void print_line(FILE *f, const struct rt_json *j, const struct prev *p, tg_time now)
{
    char t[32], a[64], tun[32];
    double secs = p->have ? (double)(now - p->at) / 1e6 : 0;
    int k = rt_json_get(j, 0, "counters");
    bool server = rt_json_get(j, 0, "sessions") >= 0;
    double up = p->have ? rate(rt_json_mnum(j, k, server ? "tun_out_bytes" : "tun_in_bytes", 0),
                               p->up_bytes, secs)
                        : 0;
    double down = p->have ? rate(rt_json_mnum(j, k, server ? "tun_in_bytes" : "tun_out_bytes", 0),
                                 p->down_bytes, secs)
                          : 0;
    fprintf(f, "%s %s", rt_fmt_now(t, sizeof t), rt_json_mstr(j, 0, "tun", tun, sizeof tun, "?"));
    if (server) {
        fprintf(f, " sessions %.0f up_mbps %.3f down_mbps %.3f\n",
                rt_json_mnum(j, 0, "session_count", 0), up / 1e6, down / 1e6);
        return;
    }
    int s = rt_json_get(j, 0, "session"), ups = rt_json_get(j, 0, "uplinks");
    bool on = rt_json_bool(j, rt_json_get(j, s, "up"), false);
    int n = rt_json_len(j, ups), active = 0;
    for (int i = 0; i < n; i++) {
        char st[16];
        rt_json_mstr(j, rt_json_at(j, ups, i), "state", st, sizeof st, "");
        active += strcmp(st, "active") == 0;
    }
    fprintf(f, " session %s %s uplinks %d/%d up_mbps %.3f down_mbps %.3f", on ? "up" : "down",
            on ? rt_json_mstr(j, s, "tunnel_address", a, sizeof a, "-") : "-", active, n,
            up / 1e6, down / 1e6);
    for (int i = 0; i < n; i++) {
        int u = rt_json_at(j, ups, i);
        char name[32], st[16], h[16];
        double tx, rx;
        rt_json_mstr(j, u, "interface", name, sizeof name, "-");
        uplink_rates(p, (int)rt_json_mnum(j, u, "slot", -1), name, rt_json_mnum(j, u, "tx_bytes", 0),
                     rt_json_mnum(j, u, "rx_bytes", 0), secs, &tx, &rx);
        fprintf(f, " | %s %s %s srtt_ms %.1f tx_mbps %.3f rx_mbps %.3f", name,
                rt_json_mstr(j, u, "state", st, sizeof st, "?"),
                rt_json_mstr(j, u, "health", h, sizeof h, "-"),
                rt_json_mnum(j, u, "srtt_us", 0) / 1e3, tx / 1e6, rx / 1e6);
    }
    fprintf(f, "\n");
}

static int watch(const char *sock, bool json, bool detailed, tg_time interval, long count)
{
    char *buf = malloc(ANSWER_CAP);
    if (buf == NULL)
        return 1;
    bool tty = isatty(STDOUT_FILENO) == 1;
    struct prev p = {0};
    tg_time next = rt_now();
    int rc = 0;
    for (long i = 0; count <= 0 || i < count; i++) {
        struct rt_json j;
        if (rt_cmd_status_json("status", sock, buf, ANSWER_CAP, &j) != 0) {
            rc = 1;
            break;
        }
        tg_time now = rt_now();
        if (json && !tty) {
            size_t n = strlen(buf);
            while (n > 0 && buf[n - 1] == '\n')
                n--;
            printf("%.*s\n", (int)n, buf); /* JSON lines */
        } else if (!tty) {
            print_line(stdout, &j, &p, now);
        } else {
            char t[32];
            printf("\033[H\033[J"); /* home, clear to the end of the screen */
            printf("%s  every %.1f s (Ctrl-C to stop)\n\n", rt_fmt_now(t, sizeof t),
                   (double)interval / 1e6);
            if (json)
                fputs(buf, stdout);
            else
                print_view(stdout, &j, &p, now, detailed);
        }
        fflush(stdout);
        remember(&p, &j, now);
        rt_json_free(&j);
        if (count > 0 && i + 1 >= count)
            break;
        next += interval;
        tg_time after = rt_now();
        if (next > after)
            poll(NULL, 0, (int)((next - after + 999) / 1000));
        else
            next = after; /* slow answers: never a burst to catch up */
    }
    free(buf);
    return rc;
}

int rt_cmd_status(int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, O_JSON},
        {"detailed", no_argument, NULL, O_DETAILED},
        {"watch", no_argument, NULL, O_WATCH},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"count", required_argument, NULL, O_COUNT},
        {"metrics", no_argument, NULL, O_METRICS},
        {"tun-name", required_argument, NULL, O_TUN},
        {"state-dir", required_argument, NULL, O_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char tun[16] = "", dir[200] = "", sock[300];
    bool json = false, detailed = false, watching = false, metrics = false;
    tg_time interval = TG_SEC(1);
    long count = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = true; break;
        case O_DETAILED: detailed = true; break;
        case O_WATCH: watching = true; break;
        case O_METRICS: metrics = true; break;
        case O_INTERVAL:
            if (rt_parse_seconds(optarg, TG_MSEC(100), TG_SEC(86400), &interval) != 0) {
                fprintf(stderr, "triglav status: --interval '%s': expected seconds, 0.1 to 86400\n",
                        optarg);
                return 2;
            }
            break;
        case O_COUNT: {
            char *end;
            count = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || count < 1 || count > 100000000) {
                fprintf(stderr, "triglav status: --count '%s': expected a positive number\n",
                        optarg);
                return 2;
            }
            break;
        }
        case O_TUN:
        case O_DIR: {
            char *dst = c == O_TUN ? tun : dir;
            size_t cap = c == O_TUN ? sizeof tun : sizeof dir;
            if (strlen(optarg) >= cap) {
                fprintf(stderr, "triglav status: %s '%s' is too long\n",
                        c == O_TUN ? "--tun-name" : "--state-dir", optarg);
                return 2;
            }
            snprintf(dst, cap, "%s", optarg);
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "triglav status: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    if (metrics && (json || detailed || watching)) {
        fputs("triglav status: --metrics goes alone (scrape the metrics address to watch it)\n",
              stderr);
        return 2;
    }
    if (count > 0 && !watching) {
        fputs("triglav status: --count goes with --watch\n", stderr);
        return 2;
    }
    if (rt_cmd_find("status", tun, dir, false, sock, sizeof sock) != 0)
        return 1;
    if (watching)
        return watch(sock, json, detailed, interval, count);
    if (!json && !detailed) {
        int rc = rt_control_query(sock, metrics ? "metrics" : "status");
        if (rc != 0)
            fprintf(stderr, "triglav status: %s: %s\n", sock, strerror(-rc));
        return rc != 0;
    }
    char *buf = malloc(ANSWER_CAP);
    struct rt_json j;
    if (buf == NULL || rt_cmd_status_json("status", sock, buf, ANSWER_CAP, &j) != 0) {
        free(buf);
        return 1;
    }
    if (json) {
        fputs(buf, stdout);
    } else {
        struct prev p = {0};
        print_view(stdout, &j, &p, rt_now(), true);
    }
    rt_json_free(&j);
    free(buf);
    return 0;
}
