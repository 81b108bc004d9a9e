/*
 * test_options: the option table of the live program (runtime/opts.h), its
 * config loader and writer and its command-line parser, without root.
 *
 *   - broken configs: every row is a file that must be refused with
 *     FILE:LINE:COL and the expected words, without a byte of the file's
 *     own text (each row says which text must not appear); one row per
 *     table checks that an unknown key is refused there;
 *   - accepted forms: durations and sizes as TOML strings, bare numbers and
 *     quantities, the seed's spellings (aliases), "off" values of keys for
 *     features that do not exist;
 *   - round trip: a file with every key set away from its default loads into
 *     exactly those values (each option differs from its default after
 *     loading, and writing it again gives the same file); the defaults
 *     written by the writer load back to the defaults;
 *   - the command line: flags override the file, a list flag replaces the
 *     file's list, bad values are refused.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "runtime/opts.h"

static char dir[64];
static char path[128];
static char errtext[4096];

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Load `text` for command cmd into o; stderr goes to errtext. */
static int load(unsigned cmd, const char *text, void *o)
{
    write_file(text);
    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    int rc = rt_config_load(cmd, path, o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(errpath, "r");
    size_t n = f != NULL ? fread(errtext, 1, sizeof errtext - 1, f) : 0;
    errtext[n] = '\0';
    if (f != NULL)
        fclose(f);
    return rc;
}

static void *fresh(unsigned cmd)
{
    static struct rt_client_opts c;
    static struct rt_server_opts s;
    if (cmd == RT_CMD_TUN) {
        rt_client_opts_default(&c);
        return &c;
    }
    rt_server_opts_default(&s);
    return &s;
}

/* ------------------------------------------------------------ broken files */

static const struct broken {
    unsigned cmd;
    const char *text;
    unsigned line, col; /* col 0: not checked */
    const char *expect;
    const char *secret; /* must not be printed (NULL: "SECRET") */
} broken[] = {
    {RT_CMD_TUN, "[client]\nSECRETkey = 1\n", 2, 1,
     "unknown key in [client]; its keys are: auth_key", NULL},
    {RT_CMD_TUN, "# c\n[SECRET]\n", 2, 1, "unknown table; the tables are: [client] [tun]", NULL},
    {RT_CMD_TUN, "SECRET = 1\n", 1, 1, "a key before the first [table] header", NULL},
    {RT_CMD_TUN, "[[client]]\nSECRET = 1\n", 1, 1, "unknown table (an array of tables)", NULL},
    {RT_CMD_TUN, "[multipath]\nSECRET = 1\n", 2, 1, "unknown key in [multipath]; its keys are",
     NULL},
    {RT_CMD_SERVER, "[tun]\nSECRET = 1\n", 2, 1, "unknown key in [tun]", NULL},
    {RT_CMD_SERVER, "[tun]\nmtu = 10\n", 2, 7, "[tun] mtu: expected an integer from 576 to 9000",
     NULL},
    {RT_CMD_TUN, "[server]\nidle_timeout = \"SECRET\"\n", 2, 16,
     "[server] idle_timeout: expected a duration like \"5m\"", NULL},
    {RT_CMD_TUN, "[server]\nidle_timeout = \"5 m\"\n", 2, 16, "found a string in another form",
     "5 m"},
    {RT_CMD_TUN, "[server]\nidle_timeout = 0\n", 2, 16, "from 1s to 168h; this one is out of range",
     NULL},
    {RT_CMD_TUN, "[client]\nconnect_timeout = true\n", 2, 19, "found a boolean", NULL},
    {RT_CMD_TUN, "[client]\nconnect_timeout = 5MB\n", 2, 19, "found a quantity with another unit",
     NULL},
    {RT_CMD_TUN, "[transport]\nbuffer_size = \"2XB\"\n", 2, 15, "expected a size like \"2MB\"",
     "2XB"},
    {RT_CMD_TUN, "[transport]\nbuffer_size = 1\n", 2, 15, "from 64KiB to 1GiB; this one is out",
     NULL},
    {RT_CMD_TUN, "[tun]\nmtu = 123456\n", 2, 7, "expected an integer from 576 to 9000", "123456"},
    {RT_CMD_TUN, "[tun]\nmtu = \"1400\"\n", 2, 7, "found a string", "1400"},
    {RT_CMD_TUN, "[tun]\nname = \"SECRET/x\"\n", 2, 8, "[tun] name: expected an interface name",
     NULL},
    {RT_CMD_TUN, "[tun]\nname = \"SECRETSECRETSECRET\"\n", 2, 8, "1 to 15 characters", NULL},
    {RT_CMD_TUN, "[tun]\nipv4 = \"SECRET\"\n", 2, 8, "expected an IPv4 address, optionally /LEN",
     NULL},
    {RT_CMD_TUN, "[tun]\nipv6_addr = \"SECRET\"\n", 2, 1,
     "[tun] ipv6_addr: IPv6 inside the tunnel is not implemented; remove the key", NULL},
    {RT_CMD_TUN, "[routing]\ninclude_routes = [\"198.51.100.0/24\",\n  \"SECRET\"]\n", 3, 3,
     "[routing] include_routes: expected an IPv4 prefix like 203.0.113.0/24", NULL},
    {RT_CMD_TUN, "[routing]\nexclude_routes = 5\n", 2, 18, "found an integer", NULL},
    {RT_CMD_TUN, "[routing]\ndns_servers = [\"192.0.2.53:54\"]\n", 2, 16,
     "expected an IPv4 address like 192.0.2.53", "192.0.2.53:54"},
    {RT_CMD_TUN, "[routing]\ntable = 254\n", 2, 9, "not 253, 254 or 255", NULL},
    {RT_CMD_TUN, "[routing]\nfwmark = 0\n", 2, 10, "from 0x1 to 0xffffffff", NULL},
    {RT_CMD_TUN, "[routing]\nfull_tunnel = \"SECRET\"\n", 2, 15, "expected true or false", NULL},
    {RT_CMD_TUN, "[nat]\nudp_timeout = \"3m\"\n", 2, 1, "setting NAT timeouts is not implemented",
     NULL},
    {RT_CMD_TUN, "[nat]\nenabled = 1\n", 2, 11, "[nat] enabled: expected true or false", NULL},
    {RT_CMD_TUN, "[proxy]\nsocks_port = 70000\n", 2, 14, "[proxy] socks_port:", "70000"},
    {RT_CMD_CONNECT, "[client]\nhttp_proxy_port = \"x\"\n", 2, 19, "[client] http_proxy_port:",
     NULL},
    {RT_CMD_CONNECT, "[proxy]\nlisten = \"localhost\"\n", 2, 10, "[proxy] listen:", NULL},
    {RT_CMD_TUN, "[client]\nauth_key = \"\"\n", 2, 12, "not empty", NULL},
    {RT_CMD_TUN,
     "[client]\ninterfaces = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", "
     "\"i\", \"j\", \"k\", \"l\", \"m\", \"n\", \"o\", \"p\", \"q\"]\n",
     2, 14, "an array of at most 16 values", NULL},
    {RT_CMD_TUN, "[client]\ncapture = 5\n", 2, 11, "[client] capture: expected a string", NULL},
    {RT_CMD_SERVER, "[server]\ntcp_fallback = 1\n", 2, 16, "[server] tcp_fallback: expected true or false",
     NULL},
    {RT_CMD_TUN, "[client]\ntransport = \"quic\"\n", 2, 13, "expected one of: auto, udp, tcp", "quic"},
    {RT_CMD_SERVER, "[server]\nrate_limit = 1000\n", 2, 1, "not implemented", "1000"},
    {RT_CMD_SERVER, "[transport]\ntcp_nodelay = false\n", 2, 1,
     "not configurable: the TCP fallback always sends at once", NULL},
    {RT_CMD_SERVER, "[transport]\nmss = 1400\n", 2, 1, "segment size from the path", NULL},
    {RT_CMD_SERVER, "[transport]\noffload = 1\n", 2, 11, "expected true or false", NULL},
    {RT_CMD_SERVER, "[server]\nlisten = [\"0.0.0.0:7443\", \"SECRET\"]\n", 2, 27,
     "[server] listen: expected IP:PORT", NULL},
    {RT_CMD_SERVER, "[server]\nadvertise = [\"0.0.0.0:7443\"]\n", 2, 14, "(not a wildcard)", NULL},
    {RT_CMD_SERVER, "[server]\npool = \"198.18.0.0/31\"\n", 2, 8, "/30 or larger", NULL},
    {RT_CMD_SERVER, "[server]\nmax_connections = 0\n", 2, 19, "from 1 to 100000", NULL},
    {RT_CMD_SERVER, "[server]\nkey_file = 5\n", 2, 12, "found an integer", NULL},
    {RT_CMD_SERVER, "[multipath.scheduler]\nstrategy = \"SECRET\"\n", 2, 12,
     "expected one of: adaptive, lowest_latency", NULL},
    {RT_CMD_SERVER, "[multipath.scheduler]\nrtt_weight = 2\n", 2, 14,
     "expected a number from 0 to 1", NULL},
    {RT_CMD_SERVER, "[multipath.scheduler]\nrtt_weight = \"0.5\"\n", 2, 14, "found a string", NULL},
    {RT_CMD_SERVER, "[multipath.scheduler]\ndefault_rate = 5\n", 2, 16,
     "found a bare number (give a unit)", NULL},
    {RT_CMD_SERVER, "[multipath.scheduler]\nflow_timeout = \"SECRET\"\n", 2, 16,
     "expected a duration", NULL},
    {RT_CMD_SERVER, "[multipath.aggregator]\nreorder_buffer_size = 1000\n", 2, 23,
     "expected a power of two from 2 to 16384", "1000"},
    {RT_CMD_SERVER, "[multipath.aggregator]\nreorder_timeout = 0\n", 2, 19, "from 1ms to 10s",
     NULL},
    {RT_CMD_SERVER, "[multipath]\nretransmit_slots = 100\n", 2, 20, "a power of two from 0 to",
     NULL},
    {RT_CMD_SERVER, "[multipath]\naggregation_mode = \"SECRET\"\n", 2, 20,
     "expected one of: none, full, adaptive", NULL},
    {RT_CMD_SERVER, "[metrics]\nlisten = \"SECRET\"\n", 2, 10, "[metrics] listen: expected IP:PORT",
     NULL},
    {RT_CMD_SERVER, "[metrics]\nenabled = \"SECRET\"\n", 2, 11, "expected true or false", NULL},
    {RT_CMD_SERVER, "[logging]\nlevel = \"SECRET\"\n", 2, 9, "expected one of: info, debug", NULL},
    {RT_CMD_SERVER, "[logging]\nfile = 1\n", 2, 8, "[logging] file: expected a string", NULL},
    {RT_CMD_SERVER, "[server]\nlisten = [\n", 3, 0, ":3:", "listen = ["}, /* the core's parser */
};

static void test_broken(void)
{
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        const struct broken *b = &broken[i];
        void *o = fresh(b->cmd);
        int rc = load(b->cmd, b->text, o);
        char where[200];
        if (b->col != 0)
            snprintf(where, sizeof where, "triglav: %s:%u:%u: ", path, b->line, b->col);
        else
            snprintf(where, sizeof where, "triglav: %s:%u:", path, b->line);
        const char *secret = b->secret != NULL ? b->secret : "SECRET";
        bool ok = rc == -1 && strncmp(errtext, where, strlen(where)) == 0 &&
                  strstr(errtext, b->expect) != NULL &&
                  strstr(errtext + strlen(where), secret) == NULL &&
                  strchr(errtext, '\n') == errtext + strlen(errtext) - 1;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  row %zu: rc %d, wanted \"%s...%s\" without \"%s\", got: %s", i, rc,
                    where, b->expect, secret, errtext);
    }
}

/* An unknown key is an error in every table, for both commands. */
static void test_unknown_everywhere(void)
{
    const char *const *lists[] = {rt_client_tables, rt_server_tables};
    unsigned cmds[] = {RT_CMD_TUN, RT_CMD_SERVER};
    int tables = 0;
    for (int c = 0; c < 2; c++)
        for (const char *const *t = lists[c]; *t != NULL; t++) {
            char text[200], want[100];
            snprintf(text, sizeof text, "# the table\n[%s]\nSECRET_nope = \"SECRET\"\n", *t);
            snprintf(want, sizeof want, "unknown key in [%s]; its keys are: ", *t);
            int rc = load(cmds[c], text, fresh(cmds[c]));
            bool ok = rc == -1 && strstr(errtext, ":3:1: ") != NULL &&
                      strstr(errtext, want) != NULL && strstr(errtext, "SECRET") == NULL;
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "  table [%s]: %s", *t, errtext);
            tables++;
        }
    CHECK(tables >= 17);
}

/* ------------------------------------------------------------ accepted forms */

static void test_forms(void)
{
    struct rt_server_opts *s = fresh(RT_CMD_SERVER);
    CHECK_EQ(load(RT_CMD_SERVER, "[server]\nidle_timeout = \"5m\"\n", s), 0);
    CHECK_EQ(s->idle_timeout_us, TG_SEC(300));
    CHECK_EQ(load(RT_CMD_SERVER, "[server]\nidle_timeout = 5m\n", s), 0);
    CHECK_EQ(s->idle_timeout_us, TG_SEC(300));
    CHECK_EQ(load(RT_CMD_SERVER, "[server]\nidle_timeout = 90\n", s), 0);
    CHECK_EQ(s->idle_timeout_us, TG_SEC(90));
    CHECK_EQ(load(RT_CMD_SERVER, "[server]\nidle_timeout = \"1.5h\"\n", s), 0);
    CHECK_EQ(s->idle_timeout_us, TG_SEC(5400));
    CHECK_EQ(load(RT_CMD_SERVER, "[transport]\nbuffer_size = \"2MB\"\n", s), 0);
    CHECK_EQ(s->c.buffer_bytes, 2000000);
    CHECK_EQ(load(RT_CMD_SERVER, "[transport]\nsend_buffer_size = 2MiB\n", s), 0);
    CHECK_EQ(s->c.buffer_bytes, 2 << 20);
    CHECK_EQ(load(RT_CMD_SERVER, "[transport]\nrecv_buffer_size = 131072\n", s), 0);
    CHECK_EQ(s->c.buffer_bytes, 131072);
    /* the seed's server file */
    CHECK_EQ(load(RT_CMD_SERVER,
                  "[server]\nlisten_addrs = [\"0.0.0.0:7443\", \"[::]:7443\"]\n"
                  "key_file = \"/etc/triglav/server.key\"\nmax_connections = 500\n"
                  "idle_timeout = \"5m\"\ntcp_fallback = false\nrate_limit = 0\n"
                  "[transport]\nsend_buffer_size = 2097152\nrecv_buffer_size = 2097152\n"
                  "[metrics]\nenabled = true\nlisten = \"127.0.0.1:9090\"\n",
                  s),
             0);
    CHECK_EQ(s->n_listen, 2);
    CHECK_EQ(s->listen[1].type, TG_ADDR_IPV6);
    CHECK_EQ(s->max_sessions, 500);
    CHECK(strcmp(s->key_file, "/etc/triglav/server.key") == 0);
    CHECK(s->c.has_metrics);
    CHECK_EQ(s->c.metrics.port, 9090);
    CHECK_EQ(load(RT_CMD_SERVER, "[metrics]\nlisten_addr = \"127.0.0.1:9093\"\n", s), 0);
    CHECK_EQ(s->c.metrics.port, 9093);

    /* the seed's client file (TUN mode), as far as Triglav has it */
    struct rt_client_opts *c = fresh(RT_CMD_TUN);
    CHECK_EQ(load(RT_CMD_TUN,
                  "[client]\nauth_key = \"tg1_x\"\nauto_discover = true\n"
                  "[tun]\nname = \"tg7\"\nmtu = 1420\n"
                  "[routing]\nfull_tunnel = true\nexclude_routes = [\"203.0.113.0/24\"]\n"
                  "dns_servers = [\"192.0.2.53\", \"198.51.100.53:53\"]\n"
                  "[nat]\nenabled = false\n"
                  "[multipath]\naggregation_mode = \"full\"\n"
                  "[multipath.aggregator]\nreorder_buffer_size = 2048\nreorder_timeout = "
                  "\"300ms\"\n"
                  "[multipath.scheduler]\nstrategy = \"lowest_latency\"\nrtt_weight = 0.5\n"
                  "loss_weight = 0.3\nbandwidth_weight = 0.1\nnat_penalty_weight = 0\n",
                  c),
             0);
    CHECK(strcmp(c->key, "tg1_x") == 0);
    CHECK(c->auto_discover && c->full_tunnel && !c->nat);
    CHECK(strcmp(c->tun_name, "tg7") == 0);
    CHECK_EQ(c->c.mtu, 1420);
    CHECK_EQ(c->n_excludes, 1);
    CHECK_EQ(c->excludes[0].len, 24);
    CHECK_EQ(c->n_dns, 2);
    CHECK_EQ(c->dns_servers[1][0], 198);
    CHECK_EQ(c->c.mp.sched.aggregation, TG_AGG_FULL);
    CHECK_EQ(c->c.mp.reorder.capacity, 2048);
    CHECK_EQ(c->c.mp.reorder.max_hold_us, TG_MSEC(300));
    CHECK_EQ(c->c.mp.sched.strategy, TG_STRATEGY_LOWEST_LATENCY);
    CHECK(c->c.mp.sched.w_rtt == 0.5 && c->c.mp.sched.w_nat == 0);
    /* older spellings of this program's own files */
    CHECK_EQ(load(RT_CMD_TUN,
                  "[client]\ninterfaces = \"eth1\"\nroutes = [\"203.0.113.0/24\"]\n"
                  "strategy = \"wrr\"\naggregation = \"none\"\ntun_name = \"tg9\"\n"
                  "[transport]\nmtu = 1300\n[multipath.aggregator]\nreorder_timeout = 250\n",
                  c),
             0);
    CHECK_EQ(c->n_ifaces, 1);
    CHECK_EQ(c->n_routes, 1);
    CHECK_EQ(c->c.mp.sched.strategy, TG_STRATEGY_WEIGHTED_ROUND_ROBIN);
    CHECK_EQ(c->c.mp.sched.aggregation, TG_AGG_NONE);
    CHECK_EQ(c->c.mtu, 1300);
    CHECK_EQ(c->c.mp.reorder.max_hold_us, TG_MSEC(250)); /* a bare number is ms here */
    CHECK(strcmp(c->tun_name, "tg9") == 0);
    /* a file may hold both commands' tables: the other's are checked, not applied */
    c = fresh(RT_CMD_TUN);
    CHECK_EQ(load(RT_CMD_TUN, "[server]\npool = \"198.18.0.0/24\"\n[transport]\nmtu = 1400\n", c),
             0);
    CHECK_EQ(c->c.mtu, 1400);
}

/* ------------------------------------------------------------ round trip */

/* A value of op's kind that is not the default's, as TOML. */
static void other_value(const struct rt_opt *op, const void *def, char *out, size_t cap)
{
    char d[1200];
    rt_opt_format(op, def, d, sizeof d);
    enum rt_opt_kind k = op->kind == RT_OPT_LIST ? op->elem : op->kind;
    const char *a = NULL, *b = NULL;
    char ta[64], tb[64];
    switch (k) {
    case RT_OPT_STRING:
        a = "\"/tmp/x1\"", b = "\"/tmp/x2\"";
        break;
    case RT_OPT_IFACE:
        a = "\"eth9\"", b = "\"eth8\"";
        break;
    case RT_OPT_DURATION: /* the ends of its range, in microseconds */
        snprintf(ta, sizeof ta, "\"%lluus\"", (unsigned long long)op->min);
        snprintf(tb, sizeof tb, "\"%lluus\"", (unsigned long long)op->max);
        a = op->min == 0 && strcmp(d, "\"0s\"") == 0 ? tb : ta; /* a default of 0 reads "0s" */
        b = tb;
        break;
    case RT_OPT_SIZE:
        snprintf(ta, sizeof ta, "%llu", (unsigned long long)op->min);
        snprintf(tb, sizeof tb, "\"%lluB\"", (unsigned long long)op->max);
        a = ta, b = tb;
        break;
    case RT_OPT_RATE:
        snprintf(ta, sizeof ta, "\"%.0fbit\"", op->min);
        snprintf(tb, sizeof tb, "\"%.0fbit\"", op->max);
        a = ta, b = tb;
        break;
    case RT_OPT_INT:
    case RT_OPT_NUMBER:
        snprintf(ta, sizeof ta, op->flags & RT_OF_HEX ? "0x%llx" : "%llu",
                 (unsigned long long)op->min);
        snprintf(tb, sizeof tb, op->flags & RT_OF_HEX ? "0x%llx" : "%llu",
                 (unsigned long long)op->max);
        a = ta, b = tb;
        break;
    case RT_OPT_BOOL:
        a = "true", b = "false";
        break;
    case RT_OPT_ADDR:
        a = "\"203.0.113.9:1234\"", b = "\"203.0.113.8:1234\"";
        break;
    case RT_OPT_PREFIX:
        a = op->flags & RT_OF_HOST ? "\"198.18.0.9/24\"" : "\"203.0.113.0/24\"";
        b = "\"198.51.100.0/24\"";
        break;
    case RT_OPT_IPV4:
        a = "\"9.9.9.9\"", b = "\"8.8.4.4\"";
        break;
    case RT_OPT_CHOICE: {
        /* the first name that is not the default */
        const char *w = op->choice->words;
        while (*w != '\0') {
            size_t n = strcspn(w, " ");
            snprintf(ta, sizeof ta, "\"%.*s\"", (int)n, w);
            if (strcmp(ta, d) != 0)
                break;
            w += n + (w[n] == ' ');
        }
        a = b = ta;
        break;
    }
    default:
        a = b = "?";
        break;
    }
    const char *pick = a;
    if (op->kind == RT_OPT_LIST) {
        char la[80];
        snprintf(la, sizeof la, "[%s]", a);
        snprintf(out, cap, "%s", strcmp(la, d) != 0 ? la : "[]");
        if (strcmp(la, d) == 0)
            snprintf(out, cap, "[%s]", b);
        return;
    }
    if (strcmp(a, d) == 0)
        pick = b;
    snprintf(out, cap, "%s", pick);
}

static void test_round_trip(unsigned cmd)
{
    const char *const *tables = cmd == RT_CMD_TUN ? rt_client_tables : rt_server_tables;
    static struct rt_client_opts dc, lc;
    static struct rt_server_opts ds, ls;
    void *def = cmd == RT_CMD_TUN ? (void *)&dc : (void *)&ds;
    void *got = cmd == RT_CMD_TUN ? (void *)&lc : (void *)&ls;
    if (cmd == RT_CMD_TUN) {
        rt_client_opts_default(&dc);
        rt_client_opts_default(&lc);
    } else {
        rt_server_opts_default(&ds);
        rt_server_opts_default(&ls);
    }
    /* every key away from its default */
    static char text[32768];
    size_t k = 0;
    int keys = 0;
    for (const char *const *t = tables; *t != NULL; t++) {
        k += (size_t)snprintf(text + k, sizeof text - k, "[%s]\n", *t);
        for (size_t i = 0; i < rt_n_opts; i++) {
            const struct rt_opt *op = &rt_opts[i];
            if (!(op->cmds & cmd) || op->table == NULL || strcmp(op->table, *t) != 0)
                continue;
            char v[200];
            other_value(op, def, v, sizeof v);
            k += (size_t)snprintf(text + k, sizeof text - k, "%s = %s\n", op->key, v);
            keys++;
        }
    }
    CHECK(keys > 20);
    int rc = load(cmd, text, got);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        fprintf(stderr, "%s\n%s", errtext, text);
    for (size_t i = 0; i < rt_n_opts; i++) {
        const struct rt_opt *op = &rt_opts[i];
        if (!(op->cmds & cmd) || op->table == NULL)
            continue;
        char a[1200], b[1200];
        bool sa = rt_opt_format(op, def, a, sizeof a);
        bool sb = rt_opt_format(op, got, b, sizeof b);
        bool differs = strcmp(a, b) != 0 || sa != sb;
        CHECK(differs);
        if (!differs)
            fprintf(stderr, "  [%s] %s: still %s after loading another value\n", op->table, op->key,
                    a);
    }
    /* written again, the loaded values read back the same */
    char p1[160], p2[160];
    snprintf(p1, sizeof p1, "%s/one.toml", dir);
    snprintf(p2, sizeof p2, "%s/two.toml", dir);
    FILE *f = fopen(p1, "w");
    CHECK_EQ(rt_config_write(f, cmd, got, "changed"), 0);
    fclose(f);
    void *again = fresh(cmd);
    CHECK_EQ(rt_config_load(cmd, p1, again), 0);
    f = fopen(p2, "w");
    CHECK_EQ(rt_config_write(f, cmd, again, "changed"), 0);
    fclose(f);
    char c1[32768], c2[32768];
    f = fopen(p1, "r");
    size_t n1 = fread(c1, 1, sizeof c1 - 1, f);
    fclose(f);
    f = fopen(p2, "r");
    size_t n2 = fread(c2, 1, sizeof c2 - 1, f);
    fclose(f);
    c1[n1] = c2[n2] = '\0';
    CHECK(n1 > 1000 && n1 == n2 && memcmp(c1, c2, n1) == 0);
    /* the defaults as written load back to the defaults */
    f = fopen(p1, "w");
    CHECK_EQ(rt_config_write(f, cmd, def, "defaults"), 0);
    fclose(f);
    memcpy(again, got, cmd == RT_CMD_TUN ? sizeof dc : sizeof ds); /* start from the others */
    CHECK_EQ(rt_config_load(cmd, p1, again), 0);
    for (size_t i = 0; i < rt_n_opts; i++) {
        const struct rt_opt *op = &rt_opts[i];
        if (!(op->cmds & cmd) || op->table == NULL)
            continue;
        char a[1200], b[1200];
        bool sa = rt_opt_format(op, def, a, sizeof a);
        bool sb = rt_opt_format(op, again, b, sizeof b);
        bool same = sa == sb && (!sa || strcmp(a, b) == 0);
        /* keys with no default are written commented out: they keep what was there */
        CHECK(same || (!sa && op->example != NULL));
        if (!(same || (!sa && op->example != NULL)))
            fprintf(stderr, "  [%s] %s: %s after loading the default %s\n", op->table, op->key, b,
                    a);
    }
}

/* ------------------------------------------------------------ command line */

static int cli(unsigned cmd, void *o, const char *const *args, int *argi)
{
    static char store[32][256];
    char *argv[32];
    int argc = 0;
    for (; args[argc] != NULL && argc < 31; argc++) { /* getopt may permute them */
        snprintf(store[argc], sizeof store[argc], "%s", args[argc]);
        argv[argc] = store[argc];
    }
    argv[argc] = NULL;
    fflush(stderr);
    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    int saved = dup(2);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    int rc = rt_cli_parse(cmd, argc, argv, o, "usage\n", argi);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(errpath, "r");
    size_t n = f != NULL ? fread(errtext, 1, sizeof errtext - 1, f) : 0;
    errtext[n] = '\0';
    if (f != NULL)
        fclose(f);
    return rc;
}

static void test_cli(void)
{
    write_file("[client]\ninterfaces = [\"eth1\", \"eth2\"]\nconnect_timeout = \"20s\"\n"
               "[tun]\nmtu = 1300\n[routing]\ninclude_routes = [\"203.0.113.0/24\"]\n");
    struct rt_client_opts *c = fresh(RT_CMD_TUN);
    int argi = 0;
    const char *a1[] = {"tun",
                        "--mtu",
                        "1280",
                        "tg1_K",
                        "--config",
                        path,
                        "-i",
                        "wlan0",
                        "--connect-timeout",
                        "500ms",
                        "--reorder-hold-ms",
                        "40",
                        NULL};
    CHECK_EQ(cli(RT_CMD_TUN, c, a1, &argi), -1);
    CHECK_EQ(c->c.mtu, 1280); /* the flag wins */
    CHECK_EQ(c->n_ifaces, 1); /* -i replaces the file's list */
    CHECK(strcmp(c->ifaces[0], "wlan0") == 0);
    CHECK_EQ(c->connect_timeout_us, TG_MSEC(500));
    CHECK_EQ(c->n_routes, 1); /* the file's, untouched */
    CHECK_EQ(c->c.mp.reorder.max_hold_us, TG_MSEC(40));
    CHECK_EQ(argi, 11); /* getopt moved the key (argv[3] of 12) last */

    c = fresh(RT_CMD_TUN);
    const char *a2[] = {
        "tun", "--connect-timeout", "15", "--no-offload", "-v", "--metrics-addr", "127.0.0.1:9099",
        NULL};
    CHECK_EQ(cli(RT_CMD_TUN, c, a2, &argi), -1);
    CHECK_EQ(c->connect_timeout_us, TG_SEC(15)); /* a bare number is seconds */
    CHECK(c->c.no_offload && c->c.verbose == 1);
    CHECK(c->c.has_metrics && c->c.metrics.port == 9099);

    static const struct {
        unsigned cmd;
        const char *args[6];
        const char *expect;
    } bad[] = {
        {RT_CMD_TUN,
         {"tun", "--mtu", "12", NULL},
         "triglav tun: --mtu '12': expected an integer from 576 to 9000"},
        {RT_CMD_TUN, {"tun", "--mtu", "abc", NULL}, "--mtu 'abc': expected an integer"},
        {RT_CMD_TUN, {"tun", "--strategy", "fast", NULL}, "expected one of: adaptive"},
        {RT_CMD_TUN, {"tun", "--route", "198.51.100.0/33", NULL}, "expected an IPv4 prefix"},
        {RT_CMD_TUN, {"tun", "--connect-timeout", "2MB", NULL}, "expected a duration"},
        {RT_CMD_TUN, {"tun", "--table", "255", NULL}, "not 253, 254 or 255"},
        {RT_CMD_TUN, {"tun", "--nosuch", NULL}, "triglav tun: unknown option '--nosuch'"},
        {RT_CMD_TUN, {"tun", "--mtu", NULL}, "a value is missing after '--mtu'"},
        {RT_CMD_SERVER,
         {"server", "--listen", "nowhere", NULL},
         "--listen 'nowhere': expected IP:PORT"},
        {RT_CMD_SERVER, {"server", "--advertise", "0.0.0.0:1", NULL}, "not a wildcard"},
        {RT_CMD_SERVER, {"server", "--max-sessions", "0", NULL}, "from 1 to 100000"},
        {RT_CMD_SERVER, {"server", "--interface", "x", NULL}, "unknown option"},
        {RT_CMD_KEYGEN, {"keygen", "--address", "0.0.0.0:7443", NULL}, "not a wildcard"},
        {RT_CMD_CONFIG, {"config", "--listen", "1.2.3.4:5", NULL}, "unknown option"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static union {
            struct rt_client_opts c;
            struct rt_server_opts s;
            struct rt_keygen_opts k;
            struct rt_config_opts g;
        } u;
        if (bad[i].cmd == RT_CMD_TUN)
            rt_client_opts_default(&u.c);
        else if (bad[i].cmd == RT_CMD_SERVER)
            rt_server_opts_default(&u.s);
        else if (bad[i].cmd == RT_CMD_KEYGEN)
            rt_keygen_opts_default(&u.k);
        else
            rt_config_opts_default(&u.g);
        int rc = cli(bad[i].cmd, &u, bad[i].args, &argi);
        bool ok =
            bad[i].expect == NULL ? rc == -1 : rc == 2 && strstr(errtext, bad[i].expect) != NULL;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  cli row %zu: rc %d: %s", i, rc, errtext);
    }
}

/* Checks across options, made before a command runs. */
static void test_check(void)
{
    const struct rt_opt *op = NULL;
    struct rt_client_opts *c = fresh(RT_CMD_TUN);
    c->dns = true;
    CHECK(rt_opts_check(RT_CMD_TUN, c, &op) == NULL); /* the default resolver */
    c->n_dns = 0;
    CHECK(rt_opts_check(RT_CMD_TUN, c, &op) != NULL && op != NULL &&
          strcmp(op->key, "dns_servers") == 0);
    c = fresh(RT_CMD_TUN);
    int argi;
    const char *a[] = {"tun", "-i", "a", "--auto-discover", NULL};
    CHECK_EQ(cli(RT_CMD_TUN, c, a, &argi), -1);
    const char *why = rt_opts_check(RT_CMD_TUN, c, &op);
    CHECK(why != NULL && strstr(why, "either interfaces") != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_options.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/b.toml", dir);
    test_broken();
    test_unknown_everywhere();
    test_forms();
    test_round_trip(RT_CMD_TUN);
    test_round_trip(RT_CMD_SERVER);
    test_cli();
    test_check();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_options");
}
