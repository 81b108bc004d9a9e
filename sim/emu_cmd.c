/*
 * emu_cmd.c: `triglav-sim emulate` (emu.h): the command line, the scenario,
 * the iteration's environment, then the relay loop.
 */
#include "emu.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"
#include "scenario.h"

const char sim_usage_emulate[] =
    "usage: triglav-sim emulate FILE.scn --link NAME=IF_A,IF_B... [options]\n"
    "\n"
    "Relays real frames, in wall-clock time, through the scenario's uplinks as the\n"
    "simulator models them: rate (fixed, schedule or Mahimahi trace), delay and\n"
    "jitter, Bernoulli or Gilbert-Elliott loss, a byte-limited drop-tail queue,\n"
    "and the scenario's events (outages, rate and loss changes), drawn from the\n"
    "random streams of one iteration: iteration I here meets the same capacities\n"
    "and outages as iteration I of `triglav-sim run` with the same seed.\n"
    "\n"
    "For each --link, frames arriving on IF_A (the laptop side) go through the\n"
    "uplink's up direction and leave on IF_B (the router side); frames arriving on\n"
    "IF_B go through the down direction to IF_A. Uplinks without a --link are not\n"
    "emulated. The interfaces (veth ends, usually in a namespace of their own) must\n"
    "exist and be up. A GSO super-frame a local sender hands a veth (UDP_SEGMENT,\n"
    "TSO over IPv4 or IPv6) is cut into the wire frames a network card would send;\n"
    "the links charge a frame's IP packet (the frame less its 14-byte Ethernet\n"
    "header), as the simulator charges a datagram's. Needs root\n"
    "(AF_PACKET).\n"
    "\n"
    "At the end (--duration, SIGINT or SIGTERM) it prints, per uplink and direction,\n"
    "frames passed and dropped by the queue, by loss (incl. LOSS events) and by\n"
    "outages, frames the kernel refused to send, and frames the kernel dropped\n"
    "before the emulator read them (rx-drop: the emulator was too slow), and the\n"
    "GSO super-frames it cut (gso-cut; one it cannot cut counts as a queue drop).\n"
    "\n"
    "options:\n"
    "  --link NAME=IF_A,IF_B  emulate uplink NAME between IF_A and IF_B (repeatable)\n"
    "  --iteration I       the iteration whose draws to use, from 0 (default 0)\n"
    "  --seed S            base seed, decimal or 0x-hex (default: the scenario's `seed`)\n"
    "  --duration SECONDS  stop after this long; 0: only at SIGINT/SIGTERM\n"
    "                      (default: the scenario's duration)\n"
    "  --ready-file PATH   once every interface is open, write to PATH the time 0 of\n"
    "                      the links (CLOCK_MONOTONIC seconds, e.g. 8123.456789)\n"
    "  --data-dir DIR      where `data:` trace paths resolve\n"
    "  --series PATH       every 100 ms of the links' time, one line per uplink and\n"
    "                      direction: t_ms uplink dir mbps queue_bytes drops (outer\n"
    "                      bit rate delivered in the interval, the queue then, frames\n"
    "                      dropped so far), the simulator's series_uplinks measured live\n"
    "  -h, --help          this text\n"
    "\n"
    "exit status: 0 done; 1 an interface, permission or scenario error; 2 bad usage\n"
    "\n"
    "example:\n"
    "  ip netns exec emu triglav-sim emulate agg_loss.scn \\\n"
    "      --link path1=veth-a1,veth-b1 --link path2=veth-a2,veth-b2 --duration 60\n";

static int parse_link(const char *v, struct sim_emu_link *l)
{
    const char *eq = strchr(v, '='), *comma = eq ? strchr(eq, ',') : NULL;
    if (!eq || !comma || eq == v || comma == eq + 1 || !comma[1])
        return -1;
    size_t nn = (size_t)(eq - v), na = (size_t)(comma - eq - 1), nb = strlen(comma + 1);
    if (nn >= sizeof l->name || na >= sizeof l->if_a || nb >= sizeof l->if_b ||
        strchr(comma + 1, ','))
        return -1;
    memcpy(l->name, v, nn);
    l->name[nn] = '\0';
    memcpy(l->if_a, eq + 1, na);
    l->if_a[na] = '\0';
    memcpy(l->if_b, comma + 1, nb + 1);
    return 0;
}

int sim_emulate_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim emulate";
    static struct sim_emu_spec spec;
    memset(&spec, 0, sizeof spec);
    const char *file = NULL, *data_dir = NULL;
    uint64_t iteration = 0, seed = 0;
    bool has_seed = false, has_duration = false, options = true;
    double duration = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (!options || a[0] != '-') {
            if (file)
                return sim_usage_error("one scenario file only ('%s' and '%s')", file, a);
            file = a;
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(sim_usage_emulate, stdout);
            return 0;
        } else if ((m = sim_opt_value(argc, argv, &i, "--link", &v)) != 0) {
            if (m < 0)
                return 2;
            if (spec.n == SIM_MAX_UPLINKS)
                return sim_usage_error("--link: at most %d links", SIM_MAX_UPLINKS);
            if (parse_link(v, &spec.link[spec.n]))
                return sim_usage_error("--link: expected NAME=IF_A,IF_B (uplink name, two "
                                       "interface names), got '%s'", v);
            spec.n++;
        } else if ((m = sim_opt_iteration(argc, argv, &i, &iteration)) != 0) {
            if (m < 0)
                return 2;
        } else if ((m = sim_opt_seed(argc, argv, &i, &seed)) != 0) {
            if (m < 0)
                return 2;
            has_seed = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--duration", &v)) != 0) {
            if (m < 0)
                return 2;
            char *end;
            duration = strtod(v, &end);
            if (!*v || *end || !(duration >= 0) || duration > 1e7)
                return sim_usage_error("--duration: expected seconds (0 or more), got '%s'", v);
            has_duration = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--ready-file", &v)) != 0) {
            if (m < 0)
                return 2;
            spec.ready_file = v;
        } else if ((m = sim_opt_value(argc, argv, &i, "--series", &v)) != 0) {
            if (m < 0)
                return 2;
            spec.series_file = v;
        } else if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0)
                return 2;
            data_dir = v;
        } else {
            return sim_usage_error("unknown option '%s'", a);
        }
    }
    if (!file)
        return sim_usage_error("no scenario file given");
    if (!spec.n)
        return sim_usage_error("no --link given: name the interfaces of at least one uplink");
    struct stat sb;
    if (stat(file, &sb) != 0) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return 1;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "%s: not a regular file\n", file);
        return 1;
    }
    struct sim_scenario *sc = NULL;
    char err[1024];
    if (sim_scenario_load(file, data_dir, &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int ret = 1;
    for (size_t i = 0; i < spec.n; i++) {
        size_t k = 0;
        while (k < sc->n_uplinks && strcmp(sc->uplinks[k].name, spec.link[i].name) != 0)
            k++;
        if (k == sc->n_uplinks) {
            fprintf(stderr, "%s: --link %s: the scenario has no uplink of that name (it has:",
                    sim_cmd_name, spec.link[i].name);
            for (size_t j = 0; j < sc->n_uplinks; j++)
                fprintf(stderr, " %s", sc->uplinks[j].name);
            fprintf(stderr, ")\n");
            goto out;
        }
        for (size_t j = 0; j < i; j++)
            if (spec.link[j].uplink == k) {
                fprintf(stderr, "%s: --link %s given twice\n", sim_cmd_name, spec.link[i].name);
                goto out;
            }
        spec.link[i].uplink = k;
    }
    struct sim_env env;
    uint64_t iseed = sim_iteration_seed(has_seed ? seed : sc->seed, sc, (uint32_t)iteration);
    if (sim_env_build(sc, iseed, &env) != 0) {
        fprintf(stderr, "%s: out of memory\n", sim_cmd_name);
        goto out;
    }
    spec.env = &env;
    spec.duration_s = has_duration ? duration : (double)sc->duration_us / 1e6;
    fprintf(stderr, "%s: %s iteration %" PRIu64 " (seed 0x%016" PRIx64 "), %zu link%s, %s\n",
            sim_cmd_name, sc->name, iteration, iseed, spec.n, spec.n == 1 ? "" : "s",
            spec.duration_s > 0 ? "until the duration ends" : "until SIGINT/SIGTERM");
    ret = sim_emu_run(&spec) == 0 ? 0 : 1;
    sim_env_free(&env);
out:
    sim_scenario_free(sc);
    return ret;
}
