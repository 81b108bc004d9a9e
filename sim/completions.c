/*
 * completions.c: `triglav-sim completions bash|zsh|fish`, the shell
 * completion scripts of triglav-sim (completion/completion.h writes them
 * from the table below). The table mirrors each command's --help; the test
 * completions_help (tests/install/) fails when an option is in one and not
 * the other. Scenario arguments complete to .scn files and to the names of
 * the scenarios `triglav-sim list --names` finds.
 */
#include <stddef.h>

#include "completion/completion.h"
#include "completions.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NONE     {COMP_NONE, NULL, NULL, NULL}
#define TEXT     {COMP_TEXT, NULL, NULL, NULL}
#define FILE_ARG {COMP_FILE, NULL, NULL, NULL}
#define DIR      {COMP_DIR, NULL, NULL, NULL}
#define DB       {COMP_FILE, NULL, "*.db", NULL}
#define PCAP     {COMP_FILE, NULL, "*.pcap*", NULL}
#define SCENARIO {COMP_FILE, NULL, "*.scn", "triglav-sim list --names"}
#define STRATEGIES                                                                                 \
    "adaptive lowest_latency lowest_loss weighted_round_robin bandwidth_proportional redundant "  \
    "primary_backup ecmp_aware"
#define STRATEGY     {COMP_WORDS, STRATEGIES, NULL, NULL}
#define AGGREGATION  {COMP_WORDS, "none full adaptive", NULL, NULL}

#define DATA_DIR {"--data-dir", 0, DIR, "folder of data: trace paths"}
#define SHARE_DIR {"--share-dir", 0, DIR, "folder of the bundled scenarios, queries and traces"}

static const struct comp_opt run_opts[] = {
    {"--iterations", 0, TEXT, "iterations per strategy x aggregation"},
    {"--seed", 0, TEXT, "base seed"},
    {"--strategy", 0, {COMP_WORDS, STRATEGIES " all", NULL, NULL}, "comma-separated strategies, or all"},
    {"--aggregation", 0, {COMP_WORDS, "none full adaptive all", NULL, NULL},
     "comma-separated aggregation modes, or all"},
    {"--jobs", 'j', TEXT, "runs in parallel"},
    {"--db", 0, DB, "results database"},
    {"--shard", 0, TEXT, "run only part K/N"},
    {"--series-interval", 0, TEXT, "store time series every MS milliseconds (0: none)"},
    {"--series", 0, NONE, "store time series every 100 ms"},
    {"--sweep", 0, TEXT, "KEY=V1,V2,...: run once per value of a scenario key"},
    DATA_DIR,
    SHARE_DIR,
};
static const struct comp_opt check_opts[] = {DATA_DIR, SHARE_DIR};
static const struct comp_opt list_opts[] = {
    {"--names", 0, NONE, "only the scenario names"},
    DATA_DIR,
    SHARE_DIR,
};
static const struct comp_opt paths_opts[] = {SHARE_DIR};
static const struct comp_opt replay_opts[] = {
    {"--scenario", 0, SCENARIO, "the uplinks and events"},
    {"--strategy", 0, STRATEGY, "scheduling strategy"},
    {"--aggregation", 0, AGGREGATION, "aggregation mode"},
    {"--direction", 0, {COMP_WORDS, "auto up down", NULL, NULL}, "direction of every packet"},
    {"--seed", 0, TEXT, "base seed"},
    {"--out", 0, PCAP, "write the delivered packets"},
    {"--db", 0, DB, "results database"},
    {"--no-db", 0, NONE, "do not store anything"},
    DATA_DIR,
    SHARE_DIR,
};
static const struct comp_opt emulate_opts[] = {
    {"--link", 0, TEXT, "NAME=IF_A,IF_B: emulate uplink NAME between two interfaces"},
    {"--iteration", 0, TEXT, "iteration whose draws to use (from 0)"},
    {"--seed", 0, TEXT, "base seed"},
    {"--duration", 0, TEXT, "seconds to run (0: until SIGINT/SIGTERM)"},
    {"--ready-file", 0, FILE_ARG, "write the links' time 0 here once ready"},
    {"--series", 0, FILE_ARG, "write per-link samples every 100 ms here"},
    DATA_DIR,
};
static const struct comp_opt live_opts[] = {
    {"--db", 0, DB, "results database"},
    {"--scenario", 0, SCENARIO, "the scenario the live run played"},
    {"--strategy", 0, STRATEGY, "strategy of both live ends"},
    {"--aggregation", 0, AGGREGATION, "aggregation of both live ends"},
    {"--iteration", 0, TEXT, "the emulator's iteration (from 0)"},
    {"--seed", 0, TEXT, "base seed"},
    {"--duration-s", 0, TEXT, "seconds the traffic ran"},
    {"--goodput-mbps", 0, TEXT, "bulk TCP flows together"},
    {"--owd-p50-ms", 0, TEXT, "voice one-way delay, p50"},
    {"--owd-p95-ms", 0, TEXT, "voice one-way delay, p95"},
    {"--owd-p99-ms", 0, TEXT, "voice one-way delay, p99"},
    {"--loss", 0, TEXT, "voice datagrams lost / sent"},
    {"--session-up-ms", 0, TEXT, "tunnel up after the client started"},
    {"--from", 0, FILE_ARG, "measurements as KEY VALUE lines"},
    {"--method", 0, TEXT, "how it was measured"},
    {"--replace", 0, NONE, "replace a stored live run of the key"},
    DATA_DIR,
};
static const struct comp_opt query_opts[] = {
    {"--saved", 0, {COMP_WORDS, "", NULL, "triglav-sim query --list 2>/dev/null | cut -d' ' -f1"},
     "run a saved query"},
    {"--list", 0, NONE, "list the saved queries"},
    {"--param", 0, TEXT, "bind :NAME in the SQL"},
    {"--csv", 0, NONE, "CSV instead of a table"},
    {"--queries", 0, DIR, "folder of saved queries"},
    SHARE_DIR,
};
static const struct comp_opt report_opts[] = {
    {"--out", 0, DIR, "output folder"},
    {"--baseline", 0, STRATEGY, "strategy the others are compared with"},
    {"--metric", 0, TEXT, "comma-separated metrics columns, or all"},
    {"--run", 0, TEXT, "run whose uplink use is shown"},
    {"--gnuplot", 0, FILE_ARG, "gnuplot to use, or none"},
    {"--series", 0, TEXT, "draw a run's time series as text"},
    {"--sweep", 0, NONE, "draw a metric against the swept value as text"},
    {"--fidelity", 0, NONE, "live runs against their simulated twins"},
};

static const struct comp_cmd cmds[] = {
    {"run", "run campaigns and store the results", run_opts, N(run_opts), SCENARIO, SCENARIO},
    {"check", "validate scenario files", check_opts, N(check_opts), SCENARIO, SCENARIO},
    {"list", "list the scenarios", list_opts, N(list_opts), DIR, NONE},
    {"paths", "where the bundled scenarios, queries and traces are", paths_opts, N(paths_opts),
     NONE, NONE},
    {"merge", "merge results databases", NULL, 0, DB, DB},
    {"replay", "replay a capture through the tunnel", replay_opts, N(replay_opts), PCAP, NONE},
    {"emulate", "the scenario's links in real time between interfaces", emulate_opts,
     N(emulate_opts), SCENARIO, NONE},
    {"live", "the testnet's side: plan and store live runs, voice and web flows", live_opts, N(live_opts),
     {COMP_WORDS, "plan has record probe web", NULL, NULL}, NONE},
    {"query", "query a results database", query_opts, N(query_opts), DB, TEXT},
    {"report", "Markdown report with confidence intervals and plots", report_opts,
     N(report_opts), DB, NONE},
    {"completions", "print a shell completion script", NULL, 0,
     {COMP_WORDS, "bash zsh fish", NULL, NULL}, NONE},
};

static const struct comp_prog prog = {"triglav-sim", cmds, N(cmds), "--help --version"};

int sim_completions_main(int argc, char **argv)
{
    return comp_main(&prog, argc - 1, argv + 1);
}
