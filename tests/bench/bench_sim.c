/*
 * bench_sim: the simulator's speed, each figure on its own `name: value unit`
 * line (issue 4):
 *  1. events per second of the bare engine: a hold model (10,000 pending
 *     events; each one run schedules another at a random later time);
 *  2. simulated packets per wall-clock second through the real cores with
 *     crypto on, one thread, for a bulk TCP transfer, beside the ceiling: the
 *     rate at which AEAD seal + open alone processes the same datagram sizes
 *     (the run records every datagram's size), and `ratio` = achieved /
 *     ceiling;
 *  3. the wall time of every bundled scenario at its default iteration count
 *     with -j 2, and the total number of runs (skip with --no-campaign).
 *
 *   bench_sim [--rounds N] [--no-campaign] [--sim PATH] [--scenarios DIR]
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "sim/evq.h"
#include "sim/hist.h"
#include "sim/run.h"

/* ------------------------------------------------------------ 1. engine */

struct hold {
    struct sim_evq *q;
    uint64_t x;
};

static void hold_event(void *ctx, uint64_t arg, tg_time now)
{
    struct hold *h = ctx;
    h->x ^= h->x << 13;
    h->x ^= h->x >> 7;
    h->x ^= h->x << 17;
    if (sim_evq_push(h->q, now + 1 + h->x % 1000, hold_event, h, arg))
        abort();
}

static double engine_round(uint64_t events)
{
    struct sim_evq q;
    if (sim_evq_init(&q, 16384))
        abort();
    struct hold h = {&q, 88172645463325252u};
    for (uint64_t i = 0; i < 10000; i++)
        if (sim_evq_push(&q, i % 1000, hold_event, &h, i))
            abort();
    double t0 = now_ns();
    uint64_t ran = 0;
    while (ran < events)
        ran += sim_evq_run(&q, q.now + 1000);
    double t1 = now_ns();
    sim_evq_clear(&q);
    return (double)ran / ((t1 - t0) / 1e9);
}

/* ------------------------------------------------------------ 2. cores */

static const char bulk_scn[] =
    "[scenario]\n"
    "description = \"bench: one bulk TCP download over two clean uplinks\"\n"
    "duration = 20s\n"
    "[[uplink]]\n"
    "name = \"a\"\n"
    "rate = 50Mbit\n"
    "delay = 10ms\n"
    "queue = 300KB\n"
    "[[uplink]]\n"
    "name = \"b\"\n"
    "rate = 50Mbit\n"
    "delay = 15ms\n"
    "queue = 300KB\n"
    "[[traffic]]\n"
    "kind = \"tcp\"\n";

/* Seconds to seal and open every datagram size in h once per count. */
static double aead_seconds(const struct sim_hist *h)
{
    static uint8_t buf[SIM_PKT_MAX + 64];
    uint8_t key[32] = {1}, nonce[12] = {0}, mac[16];
    double t0 = now_ns();
    for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++) {
        if (!h->bucket[b])
            continue;
        /* the bucket's lower bound: exact below 64, within 1.6% above */
        size_t len = b < SIM_HIST_SUB ? b
                                      : (size_t)(b % SIM_HIST_SUB + SIM_HIST_SUB)
                                            << (b / SIM_HIST_SUB + 5 - 6);
        if (len > SIM_PKT_MAX)
            len = SIM_PKT_MAX;
        for (uint32_t k = 0; k < h->bucket[b]; k++) {
            nonce[0]++;
            crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, mac, NULL, buf, len, NULL, 0,
                                                               NULL, nonce, key);
            if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(buf, NULL, buf, len, mac, NULL,
                                                                   0, nonce, key))
                abort();
        }
    }
    return (now_ns() - t0) / 1e9;
}

static int write_tmp(char *path, size_t cap, const char *text)
{
    snprintf(path, cap, "/tmp/bench_sim_%d.scn", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* ------------------------------------------------------------ 3. campaign */

static int scn_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && strcmp(d->d_name + n - 4, ".scn") == 0;
}

static int campaign(const char *sim, const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, scn_filter, alphasort);
    if (n <= 0) {
        fprintf(stderr, "bench_sim: no .scn files in %s\n", dir);
        return -1;
    }
    size_t cap = 64 + (size_t)n * 300;
    char *cmd = malloc(cap);
    char db[64];
    snprintf(db, sizeof db, "/tmp/bench_sim_%d.db", (int)getpid());
    size_t len = (size_t)snprintf(cmd, cap, "%s run -j 2 --db %s", sim, db);
    uint64_t runs = 0, iterations = 0;
    double sim_seconds = 0;
    for (int i = 0; i < n; i++) {
        char path[600], err[600];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) >= (int)sizeof path) {
            fprintf(stderr, "bench_sim: path too long in %s\n", dir);
            return -1;
        }
        struct sim_scenario *sc;
        if (sim_scenario_load(path, NULL, &sc, err, sizeof err)) {
            fprintf(stderr, "bench_sim: %s\n", err);
            return -1;
        }
        uint64_t r = (uint64_t)sc->iterations * sc->n_strategies * sc->n_aggregations;
        runs += r;
        iterations += sc->iterations;
        sim_seconds += (double)r * (double)sc->duration_us / 1e6;
        sim_scenario_free(sc);
        len += (size_t)snprintf(cmd + len, cap - len, " %s", path);
        free(names[i]);
    }
    free(names);
    len += (size_t)snprintf(cmd + len, cap - len, " > /dev/null");
    unlink(db);
    double t0 = now_ns();
    int rc = system(cmd);
    double wall = (now_ns() - t0) / 1e9;
    free(cmd);
    char wal[80];
    unlink(db);
    snprintf(wal, sizeof wal, "%s-wal", db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db);
    unlink(wal);
    if (rc != 0) {
        fprintf(stderr, "bench_sim: the campaign failed (status %d)\n", rc);
        return -1;
    }
    printf("scenarios: %d files\n", n);
    printf("campaign_iterations: %llu iterations\n", (unsigned long long)iterations);
    printf("campaign_runs: %llu runs (iterations x strategies x aggregation modes)\n",
           (unsigned long long)runs);
    printf("campaign_simulated: %.0f s\n", sim_seconds);
    printf("campaign_wall_j2: %.1f s\n", wall);
    printf("campaign_runs_per_s: %.2f runs/s\n", (double)runs / wall);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = 5;
    bool do_campaign = true;
    const char *sim = "sim/triglav-sim", *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-campaign") == 0)
            do_campaign = false;
        else if (strcmp(argv[i], "--sim") == 0 && i + 1 < argc)
            sim = argv[++i];
        else if (strcmp(argv[i], "--scenarios") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_sim [--rounds N] [--no-campaign] [--sim PATH] "
                            "[--scenarios DIR]\n");
            return 2;
        }
    }
    if (rounds < 1 || sodium_init() < 0)
        return 1;
#ifdef TG_SOURCE_DIR
    static char default_dir[512];
    snprintf(default_dir, sizeof default_dir, "%s/scenarios", TG_SOURCE_DIR);
    if (!dir)
        dir = default_dir;
#endif

    /* 1 */
    double *ev = malloc(sizeof(double) * (size_t)rounds);
    for (int r = 0; r < rounds; r++)
        ev[r] = engine_round(5000000);
    printf("engine_events_per_s: %.2f M/s (median of %d rounds, hold model, 10k pending)\n",
           median(ev, rounds) / 1e6, rounds);

    /* 2 */
    char path[128], err[600];
    struct sim_scenario *sc;
    if (write_tmp(path, sizeof path, bulk_scn) || sim_scenario_load(path, NULL, &sc, err, sizeof err)) {
        fprintf(stderr, "bench_sim: %s\n", err);
        return 1;
    }
    unlink(path);
    double *ach = malloc(sizeof(double) * (size_t)rounds), *ceil = malloc(sizeof(double) * (size_t)rounds);
    double *ratio = malloc(sizeof(double) * (size_t)rounds);
    static struct sim_hist sizes;
    static struct sim_run_result res;
    double goodput = 0;
    for (int r = 0; r < rounds; r++) {
        sim_hist_init(&sizes);
        struct sim_run_spec spec = {.sc = sc, .strategy = TG_STRATEGY_ADAPTIVE,
                                    .aggregation = TG_AGG_FULL, .iteration = (uint32_t)r,
                                    .seed = sim_iteration_seed(1, sc, (uint32_t)r),
                                    .dgram_sizes = &sizes};
        double t0 = now_ns();
        if (sim_run(&spec, &res, err, sizeof err)) {
            fprintf(stderr, "bench_sim: %s\n", err);
            return 1;
        }
        double wall = (now_ns() - t0) / 1e9;
        double aead = aead_seconds(&sizes);
        ach[r] = (double)sizes.count / wall;
        ceil[r] = (double)sizes.count / aead;
        ratio[r] = ach[r] / ceil[r];
        goodput = res.goodput_bps;
    }
    printf("bulk_run: %.0f s simulated, %llu datagrams, mean %.0f bytes, goodput %.1f Mbit/s\n",
           (double)sc->duration_us / 1e6, (unsigned long long)sizes.count, sim_hist_mean(&sizes),
           goodput / 1e6);
    printf("sim_packets_per_s: %.0f packets/s (median of %d runs)\n", median(ach, rounds), rounds);
    printf("aead_ceiling_packets_per_s: %.0f packets/s\n", median(ceil, rounds));
    printf("ratio: %.3f (achieved / ceiling, median; target >= 0.5)\n", median(ratio, rounds));
    sim_scenario_free(sc);

    /* 3 */
    if (do_campaign) {
        if (!dir) {
            fprintf(stderr, "bench_sim: say where the scenarios are with --scenarios DIR\n");
            return 1;
        }
        if (campaign(sim, dir))
            return 1;
    } else {
        printf("campaign_wall_j2: skipped (--no-campaign)\n");
    }
    free(ev);
    free(ach);
    free(ceil);
    free(ratio);
    return 0;
}
