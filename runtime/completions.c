/*
 * completions.c: `triglav completions bash|zsh|fish`, the shell completion
 * scripts of triglav (completion/completion.h writes them from the table
 * below). The options of keygen, server, tun and config come from the
 * option table their --help is written from (opts.h); the others' mirror
 * each command's --help: the test completions_help (tests/install/) fails
 * when a command or an option is in one and not the other, so a new option
 * is added here and in its --help together.
 */
#include "completions.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "completion/completion.h"
#include "opts.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NONE   {COMP_NONE, NULL, NULL, NULL}
#define TEXT   {COMP_TEXT, NULL, NULL, NULL}
#define FILE_A {COMP_FILE, NULL, NULL, NULL}
#define DIR    {COMP_DIR, NULL, NULL, NULL}
#define IFACE  {COMP_IFACE, NULL, NULL, NULL}
#define TOML   {COMP_FILE, NULL, "*.toml", NULL}
/* Where a running tunnel or server answers (cmds.h). */
#define FIND_OPTS                                                               \
    {"--tun-name", 0, TEXT, "TUN device of the running program"},              \
    {"--state-dir", 0, DIR, "its state folder"}

static const struct comp_opt status_opts[] = {
    {"--json", 0, NONE, "the status as JSON"},
    {"--detailed", 0, NONE, "every estimate and counter of every uplink"},
    {"--watch", 0, NONE, "again every --interval seconds"},
    {"--interval", 0, TEXT, "seconds between updates"},
    {"--count", 0, TEXT, "with --watch: stop after N updates"},
    {"--metrics", 0, NONE, "the Prometheus text instead"},
    FIND_OPTS,
};

static const struct comp_opt uplink_opts[] = {
    {"--json", 0, NONE, "as JSON"},
    FIND_OPTS,
};

static const struct comp_opt benchmark_opts[] = {
    {"--duration", 0, TEXT, "seconds of load"},
    {"--streams", 0, TEXT, "TCP streams at once"},
    {"--json", 0, NONE, "the results as one JSON object"},
    {NULL, 'i', IFACE, "with a tunnel of its own: use this interface as an uplink"},
    {"--auto-discover", 0, NONE, "with a tunnel of its own: every interface with a default route"},
    FIND_OPTS,
};

static const struct comp_opt diagnose_opts[] = {
    {"--connectivity", 0, NONE, "only the network: uplinks, handshakes, path MTU, NAT"},
    {"--full", 0, NONE, "all of it, plus kernel settings and a running tunnel"},
    {"--config", 0, TOML, "the client config: key, interfaces and mtu from it"},
    {"--timeout", 0, TEXT, "how long a handshake may take"},
    {"--mtu", 0, TEXT, "the TUN MTU the tunnel will use"},
    {NULL, 'i', IFACE, "check this uplink (default: every one with a default route)"},
    FIND_OPTS,
};

/* The commands whose options the option table has; filled from it. */
static const unsigned table_cmds[] = {RT_CMD_KEYGEN, RT_CMD_SERVER, RT_CMD_TUN, RT_CMD_CONNECT,
                                      RT_CMD_CONFIG};
static struct comp_opt table_opts[N(table_cmds)][96];
static char table_names[N(table_cmds)][96][40];

static size_t from_table(size_t t, unsigned cmd)
{
    size_t n = 0;
    for (size_t i = 0; i < rt_n_opts && n < N(table_opts[t]); i++) {
        const struct rt_opt *op = &rt_opts[i];
        if (!(op->cmds & cmd) || op->flag == NULL || op->kind == RT_OPT_HELP)
            continue;
        enum rt_opt_kind k = op->kind == RT_OPT_LIST ? op->elem : op->kind;
        struct comp_arg v = TEXT;
        if (k == RT_OPT_BOOL)
            v = (struct comp_arg)NONE;
        else if (k == RT_OPT_CHOICE)
            v = (struct comp_arg){COMP_WORDS, op->choice->words, NULL, NULL};
        else if (op->comp == RT_COMP_IFACE)
            v = (struct comp_arg)IFACE;
        else if (op->comp == RT_COMP_DIR)
            v = (struct comp_arg)DIR;
        else if (op->comp == RT_COMP_FILE)
            v = (struct comp_arg){COMP_FILE, NULL, op->glob, NULL};
        snprintf(table_names[t][n], sizeof table_names[t][n], "--%s", op->flag);
        table_opts[t][n] = (struct comp_opt){table_names[t][n], op->short_flag, v, op->help};
        n++;
    }
    return n;
}

static struct comp_cmd cmds[] = {
    {"keygen", "make a server key file and print its tg1_ key", NULL, 0, NONE, NONE},
    {"server", "run the server", NULL, 0, NONE, NONE},
    {"tun", "connect: a TUN device over every uplink at once", NULL, 0, TEXT, NONE},
    {"connect", "proxy mode: SOCKS5 and HTTP proxies over the tunnel", NULL, 0, TEXT, NONE},
    {"config", "write a commented config file with every key", NULL, 0, NONE, NONE},
    {"status", "uplinks and counters of a running tun or server", status_opts, N(status_opts),
     NONE, NONE},
    {"uplink", "the running tunnel's uplinks", uplink_opts, N(uplink_opts),
     {COMP_WORDS, "list show add remove enable disable", NULL, NULL}, IFACE},
    {"benchmark", "throughput and latency through the tunnel", benchmark_opts,
     N(benchmark_opts), TEXT, NONE},
    {"diagnose", "what a tunnel needs here, and fixes", diagnose_opts, N(diagnose_opts), TEXT,
     NONE},
    {"completions", "print a shell completion script", NULL, 0,
     {COMP_WORDS, "bash zsh fish", NULL, NULL}, NONE},
    {"version", "print the version", NULL, 0, NONE, NONE},
};

static const struct comp_prog prog = {"triglav", cmds, N(cmds), "--help --version"};

int rt_cmd_completions(int argc, char **argv)
{
    for (size_t c = 0; c < N(cmds); c++)
        for (size_t t = 0; t < N(table_cmds); t++)
            if (strcmp(cmds[c].name, rt_cmd_name(table_cmds[t])) == 0) {
                cmds[c].n_opts = from_table(t, table_cmds[t]);
                cmds[c].opts = table_opts[t];
            }
    return comp_main(&prog, argc, argv);
}
