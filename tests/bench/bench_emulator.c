/*
 * bench_emulator: `triglav-sim emulate` against a plain veth pair, in the
 * same run (root; not a test). Three namespaces (tests/emu/lib.sh): a UDP
 * sender, the emulator with one uplink and no impairment
 * (tests/emu/bench_none.scn), a receiver; and a veth pair straight from the
 * sender to the receiver. Measures, per path, 1500-byte IP packets per second
 * and Mbit/s from one sender going as fast as it can, and the one-way delay
 * p50/p99 of 1000 packets/s; the emulator's added delay is the difference.
 *
 *   bench_emulator [TRIGLAV_SIM] [TG_EMUPROBE]
 *       (defaults: ./sim/triglav-sim, ./tests/emu/tg_emuprobe; run from the
 *        build tree; BENCH_COUNT=N packets in the bulk run, default 200000)
 *
 * Prints `name: value unit` lines, then the targets: at least 1 Gbit/s at
 * 1500 bytes and at most 0.3 ms of added p99 delay.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZE_IP 1500.0
#define SIZE_UDP 1472.0

struct fig {
    double received, sent, rate_bps, p50, p99;
    double lat_received, lat_sent;
};

static void take(struct fig *f, const char *key, double v)
{
    if (strcmp(key, "bulk_received") == 0)
        f->received = v;
    else if (strcmp(key, "bulk_sent") == 0)
        f->sent = v;
    else if (strcmp(key, "bulk_rate_bps") == 0)
        f->rate_bps = v;
    else if (strcmp(key, "lat_owd_p50_us") == 0)
        f->p50 = v;
    else if (strcmp(key, "lat_owd_p99_us") == 0)
        f->p99 = v;
    else if (strcmp(key, "lat_received") == 0)
        f->lat_received = v;
    else if (strcmp(key, "lat_sent") == 0)
        f->lat_sent = v;
}

int main(int argc, char **argv)
{
    const char *sim = argc > 1 ? argv[1] : "./sim/triglav-sim";
    const char *probe = argc > 2 ? argv[2] : "./tests/emu/tg_emuprobe";
    if (geteuid() != 0) {
        fprintf(stderr, "bench_emulator: needs root (namespaces, AF_PACKET)\n");
        return 77;
    }
    if (access(sim, X_OK) != 0 || access(probe, X_OK) != 0) {
        fprintf(stderr, "bench_emulator: %s or %s is missing (run from the build tree)\n", sim,
                probe);
        return 1;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "timeout 120 bash '%s/tests/emu/bench.sh' '%s' '%s'", TG_SOURCE_DIR,
             sim, probe);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("bench_emulator: popen");
        return 1;
    }
    struct fig emu = {0}, veth = {0};
    double queue_drops = -1, send_errors = -1, rx_drops = -1;
    char line[512], path[32], key[64];
    double v;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "%31s %63s %lf", path, key, &v) != 3) {
            fputs(line, stderr);
            continue;
        }
        if (strcmp(path, "emu") == 0) {
            if (strcmp(key, "queue_drops") == 0)
                queue_drops = v;
            else if (strcmp(key, "send_errors") == 0)
                send_errors = v;
            else if (strcmp(key, "rx_drops") == 0)
                rx_drops = v;
            else
                take(&emu, key, v);
        } else if (strcmp(path, "veth") == 0) {
            take(&veth, key, v);
        }
    }
    int rc = pclose(p);
    if (rc != 0 || emu.received <= 0 || veth.received <= 0) {
        fprintf(stderr, "bench_emulator: the measurement failed (status %d)\n", rc);
        return 1;
    }
    const struct fig *f[2] = {&veth, &emu};
    const char *name[2] = {"veth", "emulator"};
    for (int i = 0; i < 2; i++) {
        double bps_ip = f[i]->rate_bps * SIZE_IP / SIZE_UDP;
        printf("%s_pps_1500: %.0f packets/s\n", name[i], bps_ip / (SIZE_IP * 8));
        printf("%s_mbit_1500: %.1f Mbit/s (IP)\n", name[i], bps_ip / 1e6);
        printf("%s_bulk_delivered: %.0f of %.0f packets\n", name[i], f[i]->received, f[i]->sent);
        printf("%s_owd_p50: %.0f us\n", name[i], f[i]->p50);
        printf("%s_owd_p99: %.0f us\n", name[i], f[i]->p99);
        printf("%s_lat_delivered: %.0f of %.0f packets\n", name[i], f[i]->lat_received,
               f[i]->lat_sent);
    }
    double gbit = emu.rate_bps * SIZE_IP / SIZE_UDP / 1e9;
    double add50 = emu.p50 - veth.p50, add99 = emu.p99 - veth.p99;
    printf("emulator_queue_drops: %.0f packets\n", queue_drops);
    printf("emulator_send_errors: %.0f packets\n", send_errors);
    printf("emulator_rx_drops: %.0f packets (not read in time: the sender outran it)\n", rx_drops);
    printf("emulator_added_p50: %.0f us\n", add50);
    printf("emulator_added_p99: %.0f us\n", add99);
    printf("target_throughput: >= 1.0 Gbit/s at 1500 bytes: %.2f Gbit/s (%s)\n", gbit,
           gbit >= 1.0 ? "met" : "NOT met");
    printf("target_added_p99: <= 300 us: %.0f us (%s)\n", add99,
           add99 <= 300 ? "met" : "NOT met");
    return 0;
}
