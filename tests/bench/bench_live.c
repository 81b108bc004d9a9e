/*
 * bench_live: the live program's throughput. Root only; not a
 * test. Two network namespaces joined by one unshaped veth pair (the
 * uplink); `triglav server` in one, `triglav tun` in the other; iperf3 TCP
 * through the tunnel (to the server's tunnel address) and over the raw veth
 * path, in the same run, plus the CPU the two triglav processes used; then
 * the same through a client whose uplink goes over TCP (`--transport tcp`,
 * the fallback for networks that block UDP), beside the UDP tunnel; and one
 * HTTP download by curl through the TUN and through proxy mode's SOCKS5
 * (`triglav connect --socks`), 1 GB each from a one-shot server
 * (tg_nettool http-serve) on the server's tunnel address.
 *
 *   bench_live [TRIGLAV] [SECONDS] [TG_NETTOOL]   (./tests/netns/tg_nettool)
 *   (defaults: ./runtime/triglav, 5)
 *
 * Prints `name: value unit` lines. Namespaces are named with the pid and
 * deleted on exit; addresses are 192.0.2.0/24 and 198.18.0.0/24 only.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static char ns_c[32], ns_s[32];
static pid_t server_pid, client_pid, iperf_pid;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void cleanup(void)
{
    pid_t pids[] = {client_pid, server_pid, iperf_pid};
    for (size_t i = 0; i < 3; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
        }
    client_pid = server_pid = iperf_pid = 0;
    if (ns_c[0] != '\0') {
        sh("ip netns del %s 2>/dev/null", ns_c);
        sh("ip netns del %s 2>/dev/null", ns_s);
        ns_c[0] = '\0';
    }
}

static void on_signal(int sig)
{
    (void)sig;
    exit(1); /* runs cleanup through atexit */
}

/* Start argv inside namespace ns with stdout to `out` (NULL = /dev/null). */
static pid_t spawn(const char *ns, const char *out, char *const argv[])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (freopen(out != NULL ? out : "/dev/null", "w", stdout) == NULL ||
        freopen(out != NULL ? out : "/dev/null", "a", stderr) == NULL)
        _exit(127);
    char *args[32] = {"ip", "netns", "exec", (char *)(uintptr_t)ns};
    int n = 4;
    for (int i = 0; argv[i] != NULL && n < 31; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    execvp("ip", args);
    _exit(127);
}

static int wait_file(const char *path, const char *needle, double seconds)
{
    double until = now_ns() + seconds * 1e9;
    while (now_ns() < until) {
        char buf[8192] = "";
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            if (strstr(buf, needle) != NULL)
                return 0;
        }
        usleep(50000);
    }
    return -1;
}

/* CPU seconds (user + system) of pid so far. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* iperf3 -J from the client namespace; returns received Mbit/s or -1. */
static double iperf(const char *dst, int seconds, int reverse, const char *json)
{
    char t[16];
    snprintf(t, sizeof t, "%d", seconds);
    char *argv[] = {"iperf3", "-J", "-c", (char *)(uintptr_t)dst, "-t",
                    t,        "-O", "1",  reverse ? "-R" : NULL,  NULL};
    pid_t pid = spawn(ns_c, json, argv);
    int status;
    waitpid(pid, &status, 0);
    FILE *f = fopen(json, "r");
    if (f == NULL)
        return -1;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strstr(buf, "\"sum_received\"");
    if (p == NULL || (p = strstr(p, "\"bits_per_second\"")) == NULL)
        return -1;
    return atof(strchr(p, ':') + 1) / 1e6;
}

/* curl in the client namespace fetches `bytes` from a one-shot HTTP server
 * (tg_nettool http-serve) in the server namespace, at 198.18.0.1:port, through
 * `proxy` (NULL: directly); returns Mbit/s or -1. */
static double http_fetch(const char *nettool, const char *dir, int port, long bytes,
                         const char *proxy)
{
    char p[16], b[24], url[64], out[300], slog[300];
    snprintf(p, sizeof p, "%d", port);
    snprintf(b, sizeof b, "%ld", bytes);
    snprintf(url, sizeof url, "http://198.18.0.1:%d/file", port);
    snprintf(out, sizeof out, "%s/curl.%d", dir, port);
    snprintf(slog, sizeof slog, "%s/serve.%d", dir, port);
    char *sargv[] = {(char *)(uintptr_t)nettool, "http-serve", p, b, "60", NULL};
    pid_t srv = spawn(ns_s, slog, sargv);
    if (wait_file(slog, "listening", 5) != 0) {
        kill(srv, SIGTERM);
        waitpid(srv, NULL, 0);
        return -1;
    }
    char *cargv[] = {"curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}", "--max-time",
                     "60", url, proxy != NULL ? "--socks5" : NULL, (char *)(uintptr_t)proxy,
                     NULL};
    pid_t pid = spawn(ns_c, out, cargv);
    waitpid(pid, NULL, 0);
    waitpid(srv, NULL, 0);
    FILE *f = fopen(out, "r");
    double bps = -1;
    if (f == NULL || fscanf(f, "%lf", &bps) != 1)
        bps = -1;
    if (f != NULL)
        fclose(f);
    return bps > 0 ? bps * 8 / 1e6 : -1;
}

int main(int argc, char **argv)
{
    const char *triglav = argc > 1 ? argv[1] : "./runtime/triglav";
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    const char *nettool = argc > 3 ? argv[3] : "./tests/netns/tg_nettool";
    const long http_bytes = 1000L * 1000 * 1000;
    if (geteuid() != 0) {
        fprintf(stderr, "bench_live: needs root (network namespaces, TUN)\n");
        return 77;
    }
    if (access(triglav, X_OK) != 0) {
        fprintf(stderr, "bench_live: %s is not executable; pass the triglav binary\n", triglav);
        return 2;
    }
    snprintf(ns_c, sizeof ns_c, "tgb%dc", (int)getpid());
    snprintf(ns_s, sizeof ns_s, "tgb%ds", (int)getpid());
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char dir[] = "/tmp/bench_live.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    if (sh("ip netns add %s && ip netns add %s", ns_c, ns_s) != 0 ||
        sh("ip link add u0 netns %s type veth peer name u1 netns %s", ns_c, ns_s) != 0 ||
        sh("ip -n %s link set lo up && ip -n %s link set lo up", ns_c, ns_s) != 0 ||
        sh("ip -n %s addr add 192.0.2.1/24 dev u0 && ip -n %s link set u0 up", ns_c, ns_c) != 0 ||
        sh("ip -n %s addr add 192.0.2.2/24 dev u1 && ip -n %s link set u1 up", ns_s, ns_s) != 0 ||
        sh("ip -n %s route add default via 192.0.2.2", ns_c) != 0) {
        fprintf(stderr, "bench_live: cannot build the namespaces\n");
        return 1;
    }
    char slog[300], clog[300], json[300], state[300];
    snprintf(slog, sizeof slog, "%s/server.log", dir);
    snprintf(clog, sizeof clog, "%s/client.log", dir);
    snprintf(json, sizeof json, "%s/iperf.json", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    char *sargv[] = {(char *)(uintptr_t)triglav,
                     "server",
                     "--generate-key",
                     "--listen",
                     "192.0.2.2:7443",
                     "--pool",
                     "198.18.0.0/24",
                     "--no-nat",
                     "--state-dir",
                     state,
                     "--log-file",
                     slog,
                     NULL};
    server_pid = spawn(ns_s, slog, sargv);
    if (wait_file(slog, "tg1_", 5) != 0) {
        fprintf(stderr, "bench_live: the server did not start (%s)\n", slog);
        return 1;
    }
    char line[1024], key[sizeof line] = ""; /* as long as a line: gcc's format-truncation */
    FILE *f = fopen(slog, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "tg1_", 4) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(key, sizeof key, "%s", line);
            break;
        }
    if (f != NULL)
        fclose(f);
    char transport[8] = "udp";
    char *cargv[] = {(char *)(uintptr_t)triglav,
                     "tun",
                     key,
                     "-i",
                     "u0",
                     "--state-dir",
                     state,
                     "--log-file",
                     clog,
                     "--transport",
                     transport,
                     NULL};
    client_pid = spawn(ns_c, NULL, cargv);
    if (wait_file(clog, "tunnel up", 10) != 0) {
        fprintf(stderr, "bench_live: the client did not connect (%s)\n", clog);
        return 1;
    }
    char *iargv[] = {"iperf3", "-s", NULL};
    iperf_pid = spawn(ns_s, NULL, iargv);
    usleep(300000);

    double raw_up = iperf("192.0.2.2", seconds, 0, json);
    double raw_down = iperf("192.0.2.2", seconds, 1, json);
    double c0 = cpu_s(client_pid), s0 = cpu_s(server_pid), t0 = now_ns();
    double tun_up = iperf("198.18.0.1", seconds, 0, json);
    double t1 = now_ns(), c1 = cpu_s(client_pid), s1 = cpu_s(server_pid);
    double tun_down = iperf("198.18.0.1", seconds, 1, json);
    double t2 = now_ns(), c2 = cpu_s(client_pid), s2 = cpu_s(server_pid);
    double http_tun = http_fetch(nettool, dir, 8090, http_bytes, NULL);

    /* the same client over TCP */
    kill(client_pid, SIGTERM);
    waitpid(client_pid, NULL, 0);
    snprintf(transport, sizeof transport, "tcp");
    snprintf(clog, sizeof clog, "%s/client-tcp.log", dir);
    client_pid = spawn(ns_c, NULL, cargv);
    double tcp_up = -1, tcp_down = -1;
    if (wait_file(clog, "tunnel up", 10) != 0) {
        fprintf(stderr, "bench_live: the client over TCP did not connect (%s)\n", clog);
    } else {
        tcp_up = iperf("198.18.0.1", seconds, 0, json);
        tcp_down = iperf("198.18.0.1", seconds, 1, json);
    }

    /* proxy mode: one SOCKS5 stream through `triglav connect` */
    kill(client_pid, SIGTERM);
    waitpid(client_pid, NULL, 0);
    snprintf(clog, sizeof clog, "%s/client-proxy.log", dir);
    char *pargv[] = {(char *)(uintptr_t)triglav, "connect", key, "-i", "u0", "--socks", "1080",
                     "--state-dir", state, "--log-file", clog, NULL};
    client_pid = spawn(ns_c, NULL, pargv);
    double http_proxy = -1;
    if (wait_file(clog, "tunnel up", 10) != 0)
        fprintf(stderr, "bench_live: proxy mode did not connect (%s)\n", clog);
    else
        http_proxy = http_fetch(nettool, dir, 8091, http_bytes, "127.0.0.1:1080");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("cores: %ld\n", cores);
    printf("raw_veth_upload: %.0f Mbit/s\n", raw_up);
    printf("raw_veth_download: %.0f Mbit/s\n", raw_down);
    printf("tunnel_upload: %.0f Mbit/s\n", tun_up);
    printf("tunnel_download: %.0f Mbit/s\n", tun_down);
    printf("ratio_upload: %.3f\n", raw_up > 0 ? tun_up / raw_up : 0);
    printf("ratio_download: %.3f\n", raw_down > 0 ? tun_down / raw_down : 0);
    printf("cpu_client_upload: %.0f %%\n", 100 * (c1 - c0) / ((t1 - t0) / 1e9));
    printf("cpu_server_upload: %.0f %%\n", 100 * (s1 - s0) / ((t1 - t0) / 1e9));
    printf("cpu_client_download: %.0f %%\n", 100 * (c2 - c1) / ((t2 - t1) / 1e9));
    printf("cpu_server_download: %.0f %%\n", 100 * (s2 - s1) / ((t2 - t1) / 1e9));
    printf("tcp_fallback_upload: %.0f Mbit/s\n", tcp_up);
    printf("tcp_fallback_download: %.0f Mbit/s\n", tcp_down);
    printf("tcp_fallback_ratio_upload: %.3f (of the UDP tunnel; target >= 0.7)\n",
           tun_up > 0 ? tcp_up / tun_up : 0);
    printf("tcp_fallback_ratio_download: %.3f (of the UDP tunnel; target >= 0.7)\n",
           tun_down > 0 ? tcp_down / tun_down : 0);
    if (getenv("BENCH_VERBOSE") != NULL) {
        cleanup();
        sh("grep -E '(client|server)' %s/client.log %s/server.log | grep -E 'tun in|uplink'", dir,
           dir);
    }
    if (getenv("BENCH_KEEP") == NULL)
        sh("rm -rf %s", dir);
    else
        fprintf(stderr, "logs kept in %s\n", dir);
    printf("http_download_tunnel: %.0f Mbit/s (one curl through the TUN)\n", http_tun);
    printf("http_download_socks5: %.0f Mbit/s (one curl through connect --socks)\n", http_proxy);
    printf("proxy_ratio: %.3f (of the UDP tunnel; target >= 0.5)\n",
           http_tun > 0 ? http_proxy / http_tun : 0);
    return tun_up > 0 && tun_down > 0 && tcp_up > 0 && tcp_down > 0 && http_proxy > 0 ? 0 : 1;
}
