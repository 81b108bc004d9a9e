/* The live program's metrics and status figures without a network
 * (runtime/stats.c, ctlreq.c): the Prometheus text of a client and of a
 * server is well formed (each family once, HELP and TYPE before its
 * samples, counters end in _total, label values escaped, no series twice),
 * carries the figures it was given under the documented names and labels,
 * and every family is in runtime/README.md's table with its type (and the
 * table names nothing else); the measured throughput follows its counter;
 * only /metrics is served over HTTP.
 *   test_metrics path/to/runtime/README.md */
#define _GNU_SOURCE
#include "check.h"
#include "runtime/ctlreq.h"
#include "runtime/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ a checker */

#define MAX_FAM 128
struct families {
    char name[MAX_FAM][96], type[MAX_FAM][16];
    int n;
};

static int find(const struct families *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return i;
    return -1;
}

/* Checks the exposition format line by line and collects the families. */
static void check_format(const char *text, struct families *f)
{
    char cur[96] = "", help[96] = "";
    char *copy = strdup(text), *save = NULL;
    char **series = calloc(20000, sizeof *series);
    int n_series = 0;
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char name[96], type[16];
        if (strncmp(l, "# HELP ", 7) == 0) {
            CHECK(sscanf(l + 7, "%95s", help) == 1);
            CHECK(strlen(l) > 8 + strlen(help)); /* a text after the name */
            CHECK(find(f, help) < 0);            /* a family once */
            continue;
        }
        if (strncmp(l, "# TYPE ", 7) == 0) {
            CHECK(sscanf(l + 7, "%95s %15s", name, type) == 2);
            CHECK_EQ(strcmp(name, help), 0); /* HELP just before */
            CHECK(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
            size_t nl = strlen(name);
            CHECK((strcmp(type, "counter") == 0) ==
                  (nl > 6 && strcmp(name + nl - 6, "_total") == 0));
            CHECK(strncmp(name, "triglav_", 8) == 0);
            CHECK(f->n < MAX_FAM);
            if (f->n < MAX_FAM) {
                snprintf(f->name[f->n], sizeof f->name[0], "%s", name);
                snprintf(f->type[f->n++], sizeof f->type[0], "%s", type);
            }
            snprintf(cur, sizeof cur, "%s", name);
            continue;
        }
        CHECK(l[0] != '#');
        /* a sample of the current family: NAME[{labels}] VALUE */
        size_t k = strcspn(l, "{ ");
        CHECK(k == strlen(cur) && strncmp(l, cur, k) == 0);
        const char *sp = strrchr(l, ' ');
        CHECK(sp != NULL);
        if (sp == NULL)
            continue;
        char *end;
        strtod(sp + 1, &end);
        CHECK(*end == '\0' && end > sp + 1);
        if (l[k] == '{') {
            /* label="value" pairs, values with \\ \" \n escapes only */
            const char *p = l + k + 1;
            for (;;) {
                while ((*p >= 'a' && *p <= 'z') || *p == '_')
                    p++;
                CHECK(p[0] == '=' && p[1] == '"');
                p += 2;
                while (*p != '"' && *p != '\0') {
                    if (*p == '\\') {
                        CHECK(p[1] == '\\' || p[1] == '"' || p[1] == 'n');
                        p++;
                    }
                    p++;
                }
                CHECK(*p == '"');
                p++;
                if (*p != ',')
                    break;
                p++;
            }
            CHECK(*p == '}' && p + 1 == sp);
        }
        for (int i = 0; i < n_series; i++) /* no series twice */
            CHECK(strncmp(series[i], l, (size_t)(sp - l)) != 0 || series[i][sp - l] != ' ');
        if (n_series < 20000)
            series[n_series++] = l;
    }
    free(series);
    free(copy);
}

/* The value of the sample `series` (name and labels as written), or -1. */
static double value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; (p = strstr(p, series)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* ------------------------------------------------------------ endpoints */

static struct tg_uplink_snapshot snap(unsigned slot, tg_time srtt_us, uint64_t tx_bytes, bool keyed,
                                      enum tg_health h)
{
    struct tg_uplink_snapshot s = {.uplink = slot,
                                   .present = true,
                                   .keyed = keyed,
                                   .health = h,
                                   .srtt_us = srtt_us,
                                   .rttvar_us = srtt_us / 4,
                                   .min_rtt_us = srtt_us / 2,
                                   .loss = 0.25,
                                   .rate_bps = 8e6,
                                   .tx_packets = tx_bytes / 100,
                                   .tx_bytes = tx_bytes,
                                   .rx_packets = 7,
                                   .rx_bytes = 700,
                                   .queued_bytes = 1500,
                                   .probes_sent = 10,
                                   .probes_lost = 1};
    return s;
}

static char *render_client(struct families *f)
{
    static struct tg_endpoint_counters k;
    k.retransmitted = 42;
    k.tun_in = 5;
    k.drops[TG_DROP_DECRYPT] = 3;
    struct tg_uplink_snapshot up[3] = {
        snap(0, 25000, 1000, true, TG_HEALTH_HEALTHY),
        snap(2, 40000, 2000, true, TG_HEALTH_DOWN),
        snap(3, 0, 0, false, TG_HEALTH_UNKNOWN),
    };
    up[2].min_rtt_us = TG_TIME_NEVER; /* not measured: no sample */
    const char *names[TG_MAX_UPLINKS] = {[0] = "wlan0", [2] = "we\"ird\\", [3] = "eth0"};
    struct rt_metrics_peer peer = {.up = up, .n = 3};
    struct rt_metrics m = {.counters = &k,
                           .connection_state = rt_stats_connection_state(true, up, 3),
                           .nat_entries = 17,
                           .names = names,
                           .peers = &peer,
                           .n_peers = 1};
    char *buf = malloc(1 << 16);
    struct rt_text t = {.buf = buf, .cap = 1 << 16};
    rt_stats_prometheus(&t, &m);
    CHECK(t.len + 1 < t.cap);
    check_format(buf, f);
    return buf;
}

static char *render_server(struct families *f)
{
    static struct tg_endpoint_counters k;
    k.handshakes_done = 9;
    struct tg_uplink_snapshot a[2] = {snap(0, 10000, 5000, true, TG_HEALTH_HEALTHY),
                                      snap(1, 20000, 6000, true, TG_HEALTH_DEGRADED)};
    struct tg_uplink_snapshot b[1] = {snap(0, 30000, 700, true, TG_HEALTH_DOWN)};
    struct rt_metrics_peer peers[2] = {{.addr = {198, 18, 0, 2}, .up = a, .n = 2},
                                       {.addr = {198, 18, 0, 3}, .up = b, .n = 1}};
    struct rt_metrics m = {
        .server = true, .counters = &k, .sessions = 2, .peers = peers, .n_peers = 2};
    char *buf = malloc(1 << 16);
    struct rt_text t = {.buf = buf, .cap = 1 << 16};
    rt_stats_prometheus(&t, &m);
    check_format(buf, f);
    return buf;
}

static void test_client(void)
{
    struct families f = {0};
    char *t = render_client(&f);
    struct {
        const char *series;
        double v;
    } rows[] = {
        {"triglav_connection_state", 1}, /* wlan0 carries traffic */
        {"triglav_active_uplinks", 1},   /* keyed and not down: wlan0 only */
        {"triglav_nat_active_entries", 17},
        {"triglav_packets_retransmitted_total", 42},
        {"triglav_tun_packets_total{direction=\"in\"}", 5},
        {"triglav_drops_total{reason=\"decrypt\"}", 3},
        {"triglav_uplink_rtt_seconds{uplink=\"wlan0\"}", 0.025},
        {"triglav_uplink_rtt_seconds{uplink=\"we\\\"ird\\\\\"}", 0.04}, /* escaped */
        {"triglav_uplink_min_rtt_seconds{uplink=\"wlan0\"}", 0.0125},
        {"triglav_uplink_min_rtt_seconds{uplink=\"eth0\"}", -1}, /* not measured */
        {"triglav_uplink_health{uplink=\"we\\\"ird\\\\\"}", 4},
        {"triglav_uplink_loss_ratio{uplink=\"wlan0\"}", 0.25},
        {"triglav_uplink_delivery_rate_bytes_per_second{uplink=\"wlan0\"}", 1e6},
        {"triglav_bytes_sent_total{uplink=\"wlan0\"}", 1000},
        {"triglav_bytes_sent_total{uplink=\"eth0\"}", 0},
        {"triglav_bytes_received_total{uplink=\"wlan0\"}", 700},
        {"triglav_packets_sent_total{uplink=\"we\\\"ird\\\\\"}", 20},
        {"triglav_uplink_probes_lost_total{uplink=\"wlan0\"}", 1},
        {"triglav_sessions", -1}, /* a server's */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v = value(t, rows[i].series);
        CHECK(v > rows[i].v - 1e-9 && v < rows[i].v + 1e-9);
        if (!(v > rows[i].v - 1e-9 && v < rows[i].v + 1e-9))
            fprintf(stderr, "  %s: %g, want %g\n", rows[i].series, v, rows[i].v);
    }
    /* before the session: connecting, and the families are still declared */
    CHECK_EQ(rt_stats_connection_state(false, NULL, 0), RT_CONN_CONNECTING);
    struct tg_uplink_snapshot down = snap(0, 1, 1, true, TG_HEALTH_DOWN);
    CHECK_EQ(rt_stats_connection_state(true, &down, 1), RT_CONN_NO_PATH);
    free(t);
}

static void test_server(void)
{
    struct families f = {0};
    char *t = render_server(&f);
    struct {
        const char *series;
        double v;
    } rows[] = {
        {"triglav_sessions", 2},
        {"triglav_active_uplinks{client=\"198.18.0.2\"}", 2},
        {"triglav_active_uplinks{client=\"198.18.0.3\"}", 0},
        {"triglav_handshakes_total{state=\"done\"}", 9}, /* server-wide: no client label */
        {"triglav_bytes_sent_total{client=\"198.18.0.2\",uplink=\"1\"}", 6000},
        {"triglav_bytes_sent_total{client=\"198.18.0.3\",uplink=\"0\"}", 700},
        {"triglav_uplink_rtt_seconds{client=\"198.18.0.3\",uplink=\"0\"}", 0.03},
        {"triglav_uplink_health{client=\"198.18.0.2\",uplink=\"1\"}", 2},
        {"triglav_connection_state", -1},   /* a client's */
        {"triglav_nat_active_entries", -1}, /* a client's */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double v = value(t, rows[i].series);
        CHECK(v > rows[i].v - 1e-9 && v < rows[i].v + 1e-9);
        if (!(v > rows[i].v - 1e-9 && v < rows[i].v + 1e-9))
            fprintf(stderr, "  %s: %g, want %g\n", rows[i].series, v, rows[i].v);
    }
    free(t);
}

/* Every family of either role is a row of README's metrics table with the
 * same type, and the table has no other row. */
static void test_readme(const char *path)
{
    struct families c = {0}, s = {0}, all = {0};
    free(render_client(&c));
    free(render_server(&s));
    for (int r = 0; r < 2; r++) {
        const struct families *f = r == 0 ? &c : &s;
        for (int i = 0; i < f->n; i++) {
            int j = find(&all, f->name[i]);
            if (j >= 0) {
                CHECK_EQ(strcmp(all.type[j], f->type[i]), 0); /* one type in both roles */
                continue;
            }
            memcpy(all.name[all.n], f->name[i], sizeof all.name[0]);
            memcpy(all.type[all.n++], f->type[i], sizeof all.type[0]);
        }
    }
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    char line[1024];
    bool in = false;
    int rows = 0;
    bool seen[MAX_FAM] = {false};
    while (fgets(line, sizeof line, fp) != NULL) {
        if (strncmp(line, "## ", 3) == 0)
            in = strncmp(line, "## Metrics", 10) == 0;
        char name[96], type[16];
        if (!in || sscanf(line, "| `%95[a-z_]` | %15[a-z] |", name, type) != 2)
            continue;
        rows++;
        int j = find(&all, name);
        if (j < 0) {
            fprintf(stderr, "README names %s, which neither role exports\n", name);
            CHECK(j >= 0);
            continue;
        }
        CHECK(!seen[j]);
        seen[j] = true;
        if (strcmp(type, all.type[j]) != 0)
            fprintf(stderr, "README: %s is a %s, the program says %s\n", name, type, all.type[j]);
        CHECK_EQ(strcmp(type, all.type[j]), 0);
    }
    fclose(fp);
    for (int j = 0; j < all.n; j++) {
        if (!seen[j])
            fprintf(stderr, "%s is not in README's metrics table\n", all.name[j]);
        CHECK(seen[j]);
    }
    CHECK_EQ(rows, all.n);
    CHECK(all.n >= 25);
}

/* ------------------------------------------------------------ rates */

static void test_rate(void)
{
    struct rt_rate r = {0};
    const tg_time s = TG_SEC(1);
    CHECK(rt_rate_bps(&r, 0, 100) == 0); /* no sample yet */
    /* (time, counter) in; the rate reported at that time, after the update */
    struct {
        tg_time at;
        uint64_t bytes;
        double bps;
    } rows[] = {
        {10 * s, 1000, 0},              /* first sample */
        {10 * s + s / 2, 2000, 0},      /* half an interval: no new rate */
        {11 * s, 126000, 1e6},          /* 125000 bytes in 1 s */
        {11 * s + s / 2, 200000, 1e6},  /* the last whole interval */
        {12 * s, 126000 + 250000, 2e6}, /* 250000 bytes in 1 s */
        {13 * s, 126000 + 250000, 0},   /* idle: 0, not the last rate */
        {14 * s, 50, 0},                /* the counter went back: from 0 again */
        {15 * s, 50 + 12500, 1e5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rt_rate_update(&r, rows[i].at, rows[i].bytes);
        double got = rt_rate_bps(&r, rows[i].at, rows[i].bytes);
        CHECK(got > rows[i].bps - 1e-6 && got < rows[i].bps + 1e-6);
        if (!(got > rows[i].bps - 1e-6 && got < rows[i].bps + 1e-6))
            fprintf(stderr, "  rate row %zu: %g, want %g\n", i, got, rows[i].bps);
    }
    /* no sample for 4 s: the rate is over those 4 s up to now, not stale */
    CHECK(rt_rate_bps(&r, 19 * s, 50 + 12500 + 500000) > 1e6 - 1e-6);
    CHECK(rt_rate_bps(&r, 19 * s, 50 + 12500 + 500000) < 1e6 + 1e-6);

    /* per uplink slot: a sample only when due; the table shows both */
    struct rt_uplink_rates u = {0};
    struct tg_uplink_snapshot up[2] = {snap(0, 1000, 0, true, TG_HEALTH_HEALTHY),
                                       snap(5, 1000, 0, true, TG_HEALTH_HEALTHY)};
    CHECK(rt_uplink_rates_due(&u, 0));
    rt_uplink_rates_update(&u, 0, up, 2);
    CHECK(!rt_uplink_rates_due(&u, s - 1));
    CHECK(rt_uplink_rates_due(&u, s));
    up[0].tx_bytes = 1250000; /* 10 Mbit/s on slot 0, downloads on slot 5 */
    up[1].rx_bytes = 700 + 2500000;
    rt_uplink_rates_update(&u, s, up, 2);
    char buf[4096];
    struct rt_text t = {.buf = buf, .cap = sizeof buf};
    const char *names[TG_MAX_UPLINKS] = {[0] = "wlan0", [5] = "wwan0"};
    rt_stats_table(&t, up, 2, names, &u, s);
    CHECK(strstr(buf, "tx now") != NULL && strstr(buf, "est. tx rate") != NULL);
    CHECK(strstr(buf, "10.00 Mbit/s") != NULL); /* wlan0 sends */
    CHECK(strstr(buf, "20.00 Mbit/s") != NULL); /* wwan0 receives */
    CHECK(strstr(buf, "8.00 Mbit/s") != NULL);  /* the estimate, beside them */
}

/* A server's clients: matched by address from one sample to the next. */
static void test_peer_rates(void)
{
    struct rt_peer_rates r = {0};
    const tg_time s = TG_SEC(1);
    struct tg_uplink_snapshot a[2] = {snap(0, 1, 1000, true, TG_HEALTH_HEALTHY),
                                      snap(1, 1, 2000, true, TG_HEALTH_HEALTHY)};
    struct tg_uplink_snapshot b[1] = {snap(0, 1, 500, true, TG_HEALTH_HEALTHY)};
    struct rt_metrics_peer p1[2] = {{.addr = {198, 18, 0, 2}, .up = a, .n = 2},
                                    {.addr = {198, 18, 0, 3}, .up = b, .n = 1}};
    double tx, rx;
    CHECK(!rt_peer_rates_get(&r, p1[0].addr, &tx, &rx));
    CHECK(rt_peer_rates_due(&r, 0));
    CHECK(rt_peer_rates_update(&r, 0, p1, 2));
    CHECK(!rt_peer_rates_due(&r, s - 1));
    CHECK(rt_peer_rates_due(&r, s));
    CHECK(rt_peer_rates_get(&r, p1[0].addr, &tx, &rx)); /* sampled once: no rate yet */
    CHECK(tx == 0 && rx == 0);
    /* a second later: .2 sent 250000 bytes more over its two uplinks and
     * received 12500; .3 is gone, .4 is new */
    a[0].tx_bytes += 125000;
    a[1].tx_bytes += 125000;
    a[1].rx_bytes += 12500;
    struct tg_uplink_snapshot d[1] = {snap(0, 1, 99999, true, TG_HEALTH_HEALTHY)};
    struct rt_metrics_peer p2[2] = {{.addr = {198, 18, 0, 2}, .up = a, .n = 2},
                                    {.addr = {198, 18, 0, 4}, .up = d, .n = 1}};
    CHECK(rt_peer_rates_update(&r, s, p2, 2));
    CHECK(rt_peer_rates_get(&r, p2[0].addr, &tx, &rx));
    CHECK(tx > 2e6 - 1e-6 && tx < 2e6 + 1e-6);
    CHECK(rx > 1e5 - 1e-6 && rx < 1e5 + 1e-6);
    CHECK(!rt_peer_rates_get(&r, p1[1].addr, &tx, &rx)); /* gone */
    CHECK(rt_peer_rates_get(&r, p2[1].addr, &tx, &rx));  /* new: no rate from its total */
    CHECK(tx == 0 && rx == 0);
    /* its uplink was replaced: counters lower than before read as 0, not huge */
    d[0].tx_bytes = 10;
    CHECK(rt_peer_rates_update(&r, 2 * s, p2, 2));
    CHECK(rt_peer_rates_get(&r, p2[1].addr, &tx, &rx));
    CHECK(tx == 0);
    /* no sessions */
    CHECK(rt_peer_rates_update(&r, 3 * s, NULL, 0));
    CHECK(!rt_peer_rates_get(&r, p2[0].addr, &tx, &rx));
    rt_peer_rates_free(&r);
}

/* ------------------------------------------------------------ HTTP paths */

static size_t fake_render(void *ctx, enum rt_ctl_what what, char *buf, size_t cap)
{
    (void)ctx;
    (void)what;
    return (size_t)snprintf(buf, cap, "triglav_sessions 0\n");
}

static void test_paths(void)
{
    struct {
        const char *req;
        enum rt_req want;
        const char *status;
    } rows[] = {
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", RT_REQ_METRICS, "200 OK"},
        {"GET /metrics?x=1 HTTP/1.0\r\n\r\n", RT_REQ_METRICS, "200 OK"},
        {"GET / HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"GET /foo HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"GET /metricsx HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"GET /metric HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"GET /metrics/ HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"POST /metrics HTTP/1.1\r\n\r\n", RT_REQ_HTTP_METHOD, "405 Method Not Allowed"},
        {"POST /other HTTP/1.1\r\n\r\n", RT_REQ_HTTP_NOT_FOUND, "404 Not Found"},
        {"GET /metrics\r\n\r\n", RT_REQ_HTTP_BAD, "400 Bad Request"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enum rt_req r = rt_req_parse(rows[i].req, strlen(rows[i].req), true, false);
        CHECK_EQ(r, rows[i].want);
        char out[1024];
        size_t n = rt_req_answer(r, true, fake_render, NULL, out, sizeof out);
        CHECK(n > 9 && strncmp(out + 9, rows[i].status, strlen(rows[i].status)) == 0);
        bool prom = memmem(out, n, "Content-Type: text/plain; version=0.0.4", 39) != NULL;
        CHECK_EQ(prom, r == RT_REQ_METRICS);
        CHECK_EQ(memmem(out, n, "triglav_sessions", 16) != NULL, r == RT_REQ_METRICS);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_metrics runtime/README.md\n");
        return 2;
    }
    test_client();
    test_server();
    test_readme(argv[1]);
    test_rate();
    test_peer_rates();
    test_paths();
    return check_exit("test_metrics");
}
