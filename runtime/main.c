/*
 * triglav: the live program (DESIGN.md §6).
 *   triglav keygen --output FILE [--address IP:PORT]...
 *   triglav server (--key FILE | --generate-key) --listen ADDR:PORT... [options]
 *   triglav tun tg1_... (-i IFACE... | --auto-discover) [options]
 *   triglav connect tg1_... [--socks PORT] [--http-proxy PORT] (-i IFACE... | ...)
 *   triglav config (--server | --client) [--output FILE]
 * and the commands on a running tunnel (cmds.h). The options of the first
 * four come from one table (opts.c); flags override what a --config file
 * says. A new command is one row of `commands` below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "completions.h"
#include "keyfile.h"
#include "log.h"
#include "opts.h"
#include "sys.h"

static const char usage_keygen[] =
    "usage: triglav keygen --output FILE [--address IP:PORT]...\n"
    "  Writes a new server private key to FILE and prints the tg1_ key clients use;\n"
    "  --address puts where the server listens in it.\n";

static const char usage_server[] =
    "usage: triglav server (--key FILE | --generate-key [--key FILE]) --listen ADDR:PORT...\n"
    "       triglav server --print-key --key FILE [--advertise IP:PORT]... [--listen "
    "ADDR:PORT]...\n";

static const char usage_tun[] =
    "usage: triglav tun tg1_KEY (-i IFACE... | --auto-discover) [options]\n";

static const char usage_connect[] =
    "usage: triglav connect tg1_KEY [--socks PORT] [--http-proxy PORT] (-i IFACE... | "
    "--auto-discover) [options]\n"
    "  Proxy mode, no root needed: SOCKS5 and HTTP proxies on 127.0.0.1 whose connections go\n"
    "  through the tunnel (a userspace TCP/IP stack holds the tunnel address). Without\n"
    "  privileges the uplink sockets are bound to their interfaces but not marked (SO_MARK\n"
    "  needs CAP_NET_ADMIN), so uplinks must reach the server by their own routes; nothing\n"
    "  outside the proxies goes through the tunnel.\n";

static const char usage_config[] =
    "usage: triglav config (--server | --client) [--output FILE]\n"
    "  Writes a config file with every table and key, its default and what it does;\n"
    "  `triglav server --config FILE` or `triglav tun --config FILE` reads it.\n";

static int start_logging(const struct rt_common_opts *o)
{
    rt_log_init(o->verbose ? RT_LOG_DEBUG : RT_LOG_INFO);
    if (o->log_file[0] != '\0') {
        int rc = rt_log_to_file(o->log_file);
        if (rc != 0) {
            fprintf(stderr, "triglav: cannot open log file %s: %s\n", o->log_file,
                    rt_file_strerror(rc));
            return 1;
        }
    }
    if (o->daemon && o->pid_file[0] == '\0')
        fprintf(stderr, "triglav: note: --daemon without --pid-file\n");
    return 0;
}

/* --print-config, or `triglav config` to stdout: o as a config file. */
static int print_config(unsigned cmd, const void *o, const char *title)
{
    char t[120];
    if (title == NULL) {
        snprintf(t, sizeof t,
                 "triglav %s: the configuration in effect (defaults, then --config FILE, then "
                 "flags).",
                 rt_cmd_name(cmd));
        title = t;
    }
    if (rt_config_write(stdout, cmd, o, title) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "triglav: cannot write the configuration: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* The tg1_ key given on the command line (at most one) into o->key. */
static int take_key(struct rt_client_opts *o, const char *cmd, int n, char **args)
{
    if (n > 1) {
        fprintf(stderr, "triglav %s: only one key is expected\n", cmd);
        return 2;
    }
    if (n == 1 && strlen(args[0]) >= sizeof o->key) {
        fprintf(stderr, "triglav %s: the key is too long\n", cmd);
        return 2;
    }
    if (n == 1)
        snprintf(o->key, sizeof o->key, "%s", args[0]);
    return 0;
}

static int cmd_tun(int argc, char **argv)
{
    static struct rt_client_opts o;
    rt_client_opts_default(&o);
    int argi, rc = rt_cli_parse(RT_CMD_TUN, argc, argv, &o, usage_tun, &argi);
    if (rc >= 0)
        return rc;
    if ((rc = take_key(&o, "tun", argc - argi, argv + argi)) != 0)
        return rc;
    if (o.c.print_config)
        return print_config(RT_CMD_TUN, &o, NULL);
    if (start_logging(&o.c) != 0)
        return 1;
    if (o.c.cleanup)
        return rt_client_cleanup(&o);
    if ((rc = rt_cli_check(RT_CMD_TUN, &o)) != 0)
        return rc;
    if (o.key[0] == '\0') {
        fprintf(stderr, "triglav tun: the server's tg1_ key is missing\n%s", usage_tun);
        return 2;
    }
    return rt_client_run(&o);
}

static int cmd_connect(int argc, char **argv)
{
    static struct rt_client_opts o;
    rt_client_opts_default(&o);
    o.fwmark = 0; /* marking needs CAP_NET_ADMIN, and nothing routes into a TUN here */
    snprintf(o.tun_name, sizeof o.tun_name, "proxy"); /* names its control socket */
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < sizeof o.c.state_dir - 9)
        snprintf(o.c.state_dir, sizeof o.c.state_dir, "%s/triglav", xdg);
    else if (geteuid() != 0)
        snprintf(o.c.state_dir, sizeof o.c.state_dir, "/tmp/triglav-%u", (unsigned)geteuid());
    int argi, rc = rt_cli_parse(RT_CMD_CONNECT, argc, argv, &o, usage_connect, &argi);
    if (rc >= 0)
        return rc;
    if ((rc = take_key(&o, "connect", argc - argi, argv + argi)) != 0)
        return rc;
    if (o.c.print_config)
        return print_config(RT_CMD_CONNECT, &o, NULL);
    if (start_logging(&o.c) != 0)
        return 1;
    if (o.c.cleanup) {
        rt_info("proxy mode changes nothing on the system: nothing to clean up");
        return 0;
    }
    if ((rc = rt_cli_check(RT_CMD_CONNECT, &o)) != 0)
        return rc;
    if (o.key[0] == '\0') {
        fprintf(stderr, "triglav connect: the server's tg1_ key is missing\n%s", usage_connect);
        return 2;
    }
    o.proxy = true;
    return rt_client_run(&o);
}

static int cmd_server(int argc, char **argv)
{
    static struct rt_server_opts o;
    rt_server_opts_default(&o);
    int argi, rc = rt_cli_parse(RT_CMD_SERVER, argc, argv, &o, usage_server, &argi);
    if (rc >= 0)
        return rc;
    if (argi < argc) {
        fprintf(stderr, "triglav server: it takes no arguments, only options\n");
        return 2;
    }
    if (o.c.print_config)
        return print_config(RT_CMD_SERVER, &o, NULL);
    if (o.print_key) {
        if (o.generate_key || o.key_file[0] == '\0') {
            fprintf(stderr, "triglav server: --print-key prints the key of an existing key file: "
                            "give --key FILE (`triglav keygen --output FILE` makes one)\n");
            return 2;
        }
        return rt_server_print_key(&o);
    }
    if (start_logging(&o.c) != 0)
        return 1;
    if (o.c.cleanup)
        return rt_server_cleanup(&o);
    return rt_server_run(&o);
}

static int cmd_keygen(int argc, char **argv)
{
    struct rt_keygen_opts o;
    rt_keygen_opts_default(&o);
    int argi, rc = rt_cli_parse(RT_CMD_KEYGEN, argc, argv, &o, usage_keygen, &argi);
    if (rc >= 0)
        return rc;
    if (argi < argc) {
        fprintf(stderr, "triglav keygen: it takes no arguments, only options\n");
        return 2;
    }
    if (o.output[0] == '\0') {
        fputs("triglav keygen: --output FILE is required (the private key goes there)\n", stderr);
        return 2;
    }
    uint8_t priv[32], pub[32];
    char key[TG_KEY_STRING_MAX];
    rt_key_generate(priv);
    rt_key_public(priv, pub);
    rc = rt_keyfile_write(o.output, priv);
    sodium_memzero(priv, sizeof priv);
    if (rc != 0) {
        fprintf(stderr, "triglav keygen: cannot write %s: %s%s\n", o.output, strerror(-rc),
                rc == -EEXIST ? " (it is not overwritten; delete it first)" : "");
        return 1;
    }
    rc = rt_key_string(pub, o.addrs, (size_t)o.n_addrs, key, sizeof key);
    if (rc != TG_OK) {
        fprintf(stderr, "triglav keygen: %s\n", tg_strerror(rc));
        return 1;
    }
    printf("%s\n", key);
    if (o.n_addrs == 0)
        fprintf(stderr, "triglav keygen: note: the key names no address; give --address "
                        "IP:PORT so clients know where to connect\n");
    return 0;
}

static int cmd_config(int argc, char **argv)
{
    static struct rt_config_opts o;
    static struct rt_client_opts dc;
    static struct rt_server_opts ds;
    rt_config_opts_default(&o);
    int argi, rc = rt_cli_parse(RT_CMD_CONFIG, argc, argv, &o, usage_config, &argi);
    if (rc >= 0)
        return rc;
    if (argi < argc || o.server == o.client) {
        fprintf(stderr, "triglav config: say which file: --server or --client\n%s", usage_config);
        return 2;
    }
    unsigned cmd = o.server ? RT_CMD_SERVER : RT_CMD_TUN;
    const void *defaults;
    if (o.server) {
        rt_server_opts_default(&ds);
        defaults = &ds;
    } else {
        rt_client_opts_default(&dc);
        defaults = &dc;
    }
    char title[200];
    snprintf(title, sizeof title,
             "Triglav %s configuration: every key with its default (written by `triglav config "
             "--%s`).",
             o.server ? "server" : "client", o.server ? "server" : "client");
    if (o.output[0] == '\0')
        return print_config(cmd, defaults, title);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m == NULL || rt_config_write(m, cmd, defaults, title) != 0 || fclose(m) != 0) {
        fprintf(stderr, "triglav config: out of memory\n");
        free(text);
        return 1;
    }
    rc = rt_file_create(o.output, text, len, 0644);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "triglav config: cannot write %s: %s%s\n", o.output, rt_file_strerror(rc),
                rc == -EEXIST ? " (it is not overwritten; delete it or choose another name)" : "");
        return 1;
    }
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("triglav %s (protocol %d)\n", TG_VERSION, TG_PROTOCOL_VERSION);
    return 0;
}

/* Every command: its name, what runs it (argv[0] is the name), and its line
 * in `triglav --help`. */
static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"keygen", cmd_keygen, "make a server key file and print its tg1_ connection key"},
    {"server", cmd_server, "run the server: UDP listeners, TUN, address pool, masquerade"},
    {"tun", cmd_tun, "connect: a TUN device carried over every uplink at once"},
    {"connect", cmd_connect,
     "proxy mode without root: SOCKS5 and HTTP proxies whose streams use the tunnel"},
    {"config", cmd_config, "write a commented config file with every key and its default"},
    {"status", rt_cmd_status, "uplinks and counters of a running tun or server (--json, --watch)"},
    {"uplink", rt_cmd_uplink,
     "list, show, add, remove, enable or disable the running tunnel's uplinks"},
    {"benchmark", rt_cmd_benchmark,
     "throughput and latency through the tunnel, per uplink and in all"},
    {"diagnose", rt_cmd_diagnose,
     "what a tunnel needs here (permissions, uplinks, reachability, MTU, NAT), and fixes"},
    {"completions", rt_cmd_completions, "print a shell completion script: bash, zsh or fish"},
    {"version", cmd_version, "print the version"},
};

static void usage_main(FILE *f)
{
    fputs("usage: triglav <command> [options]\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s%s\n", commands[i].name, commands[i].help);
    fputs("`triglav <command> --help` shows the command's options.\n", f);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("triglav: libsodium failed to initialise\n", stderr);
        return 1;
    }
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage_main(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    char name[64];
    snprintf(name, sizeof name, "%s", cmd);
    fprintf(stderr, "triglav: unknown command '%s'\n", rt_printable(name));
    usage_main(stderr);
    return 2;
}
