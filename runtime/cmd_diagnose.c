/*
 * `triglav diagnose`: what stands between this machine and a working
 * tunnel, each check answered OK, WARN or FAIL with the fix. Local checks
 * (permissions, /dev/net/tun, the clock), the uplinks (up, carrier, an
 * address, a route to the server), and over each uplink a real handshake
 * with the server; with --connectivity or --full also each uplink's path
 * MTU and NAT (the address the server sees, and whether it depends on the
 * destination); --full adds kernel settings and a running tunnel's state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmds.h"
#include "control.h"
#include "diag.h"
#include "netlink.h"
#include "opts.h"
#include "sys.h"

static const char usage[] =
    "usage: triglav diagnose (KEY | --config FILE) [-i IFACE]... [--connectivity] [--full]\n"
    "                        [--timeout S] [--mtu N] [--tun-name NAME] [--state-dir DIR]\n"
    "  Checks what a tunnel to the server of KEY needs and says how to fix what is wrong;\n"
    "  each check prints OK, WARN or FAIL (with a fix). Exit status 1 when one fails.\n"
    "  Default: permissions (CAP_NET_ADMIN, /dev/net/tun), the clock, the uplinks (-i, else\n"
    "  every interface with a default route) and the server's answer to a real handshake\n"
    "  through each uplink.\n"
    "  --connectivity  only the network: uplinks, handshakes, and each uplink's path MTU\n"
    "                  (ICMP echo with DF set) and NAT (the address and port the server\n"
    "                  sees; with two server addresses in the key, whether it changes per\n"
    "                  destination)\n"
    "  --full          all of it, plus kernel settings and a running tunnel's state\n"
    "  --config FILE   the client config: key, interfaces and mtu from it\n"
    "  --timeout S     how long a handshake may take (3)\n"
    "  --mtu N         the TUN MTU the tunnel will use (1428), for the path MTU check\n"
    "  The probes need root (or CAP_NET_ADMIN and CAP_NET_RAW) like the tunnel itself.\n";

enum { O_FULL = 1000, O_CONN, O_CONFIG, O_TIMEOUT, O_MTU, O_TUN, O_DIR };
enum level { L_OK, L_WARN, L_FAIL };

struct report {
    int n[3];
};

static void say(struct report *r, enum level l, const char *what, const char *fix, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
static void say(struct report *r, enum level l, const char *what, const char *fix, const char *fmt,
                ...)
{
    static const char *const tag[] = {"OK", "WARN", "FAIL"};
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%-4s  %s: %s\n", tag[l], what, msg);
    if (l != L_OK && fix != NULL)
        printf("      fix: %s\n", fix);
    fflush(stdout);
    r->n[l]++;
}

/* Effective capability bit `cap` of this process. */
static bool has_cap(int cap)
{
    char buf[4096];
    if (rt_file_read("/proc/self/status", buf, sizeof buf) < 0)
        return geteuid() == 0;
    const char *p = strstr(buf, "\nCapEff:");
    return p != NULL && (strtoull(p + 8, NULL, 16) >> cap & 1) != 0;
}

static void check_permissions(struct report *r)
{
    if (has_cap(12))
        say(r, L_OK, "permissions", NULL, "%s (CAP_NET_ADMIN: TUN, routes, marks)",
            geteuid() == 0 ? "root" : "not root, with CAP_NET_ADMIN");
    else
        say(r, L_FAIL, "permissions",
            "run it as root (sudo triglav tun ...), or give the program the capability once: "
            "sudo setcap cap_net_admin+ep \"$(command -v triglav)\"",
            "no CAP_NET_ADMIN: the tunnel cannot create its TUN device or routes");
    struct stat st;
    if (stat("/dev/net/tun", &st) != 0) {
        say(r, L_FAIL, "/dev/net/tun",
            "load the module: sudo modprobe tun (in a container: start it with --device "
            "/dev/net/tun and --cap-add NET_ADMIN)",
            "missing (%s)", strerror(errno));
        return;
    }
    if (!S_ISCHR(st.st_mode)) {
        say(r, L_FAIL, "/dev/net/tun", "recreate it: sudo mknod /dev/net/tun c 10 200",
            "is not a character device");
        return;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        say(r, L_FAIL, "/dev/net/tun",
            "run as root, or let the user open it (sudo chmod 0666 /dev/net/tun is the usual "
            "mode)",
            "cannot be opened: %s", strerror(errno));
        return;
    }
    close(fd);
    say(r, L_OK, "/dev/net/tun", NULL, "present and can be opened");
}

static void check_clock(struct report *r)
{
    long long now;
    int synced = rt_clock_synced(&now);
    time_t t = (time_t)now;
    struct tm tm;
    char when[40] = "?";
    if (gmtime_r(&t, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (now < 1704067200) /* 2024-01-01 */
        say(r, L_FAIL, "clock", "set the time: sudo timedatectl set-ntp true (or set-time)",
            "says %s, which is in the past: logs and capture files get wrong dates", when);
    else if (synced == 1)
        say(r, L_OK, "clock", NULL, "%s, synchronised", when);
    else
        say(r, L_WARN, "clock",
            "enable time synchronisation: sudo timedatectl set-ntp true (or install chrony); "
            "the tunnel itself does not need the exact time, logs and captures do",
            "%s, %s", when,
            synced == 0 ? "not synchronised (no NTP)" : "cannot tell whether it is synchronised");
}

/* Can a socket bound to `ifname` reach dst? 0, or -errno (no route). */
static int route_through(const char *ifname, uint32_t mark, const struct tg_key_addr *dst,
                         uint8_t src[4])
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0)
        rc = -errno;
    if (rc == 0 && mark != 0)
        setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    struct sockaddr_storage ss;
    socklen_t sl;
    rt_addr_to_sockaddr(dst, &ss, &sl);
    if (rc == 0 && connect(fd, (struct sockaddr *)&ss, sl) != 0)
        rc = -errno;
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    if (rc == 0 && getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
        memcpy(src, &me.sin_addr, 4);
    close(fd);
    return rc;
}

/* The uplinks to probe into up[]; returns how many are usable. */
static int check_interfaces(struct report *r, char names[][16], int n_names,
                            const struct tg_key_addr *server, uint32_t mark,
                            struct rt_diag_uplink *up)
{
    struct rt_nl nl;
    struct rt_iface ifs[128];
    int n = -1, n_up = 0;
    if (rt_nl_open(&nl, 0) == 0) {
        n = rt_nl_ifaces(&nl, ifs, 128);
        rt_nl_close(&nl);
    }
    if (n < 0) {
        say(r, L_FAIL, "interfaces", "run it where rtnetlink works (a normal Linux host)",
            "cannot list them through rtnetlink");
        return 0;
    }
    int cand[TG_MAX_UPLINKS], n_cand = 0;
    if (n_names > 0) {
        for (int k = 0; k < n_names; k++) {
            int found = -1;
            for (int i = 0; i < n; i++)
                if (strcmp(ifs[i].name, names[k]) == 0)
                    found = i;
            if (found < 0)
                say(r, L_FAIL, names[k], "list the interfaces with `ip link` and name one that exists",
                    "no such interface");
            else
                cand[n_cand++] = found;
        }
    } else {
        for (int i = 0; i < n && n_cand < TG_MAX_UPLINKS; i++)
            if (!ifs[i].loopback && ifs[i].has_default)
                cand[n_cand++] = i;
        if (n_cand == 0)
            say(r, L_FAIL, "uplinks",
                "connect to a network (an interface with a default route), or name the uplinks "
                "with -i IFACE",
                "no interface has a default route");
    }
    char a[RT_ADDRSTRLEN];
    for (int k = 0; k < n_cand; k++) {
        const struct rt_iface *it = &ifs[cand[k]];
        char fix[200];
        if (!it->up) {
            snprintf(fix, sizeof fix, "bring it up: sudo ip link set %s up", it->name);
            say(r, L_FAIL, it->name, fix, "is down");
            continue;
        }
        if (!it->running) {
            say(r, L_FAIL, it->name, "plug the cable in, or join the Wi-Fi / mobile network",
                "has no carrier (no link)");
            continue;
        }
        if (!it->has_ipv4) {
            snprintf(fix, sizeof fix,
                     "get an address: DHCP (NetworkManager, `sudo dhclient %s`) or `sudo ip addr "
                     "add ADDR/LEN dev %s`",
                     it->name, it->name);
            say(r, L_FAIL, it->name, fix, "has no IPv4 address");
            continue;
        }
        uint8_t src[4] = {0};
        int rc = route_through(it->name, mark, server, src);
        if (rc != 0) {
            snprintf(fix, sizeof fix,
                     "add a route through it, e.g. sudo ip route add default via GATEWAY dev %s "
                     "metric 200",
                     it->name);
            say(r, L_FAIL, it->name, fix, "up, %s, but no route to the server through it (%s)",
                rt_ipv4_str(it->ipv4, a), strerror(-rc));
            continue;
        }
        say(r, L_OK, it->name, NULL, "up, %s, %s", rt_ipv4_str(it->ipv4, a),
            it->has_default ? "default route" : "a route to the server (no default route)");
        struct rt_diag_uplink *u = &up[n_up++];
        memset(u, 0, sizeof *u);
        snprintf(u->ifname, sizeof u->ifname, "%s", it->name);
        memcpy(u->ipv4, it->ipv4, 4);
    }
    return n_up;
}

static void check_reach(struct report *r, const struct tg_key_addr *dst, int n_dst,
                        struct rt_diag_uplink *up, int n_up, tg_time timeout)
{
    char a[RT_ADDRSTRLEN], what[40], fix[400];
    for (int k = 0; k < n_up; k++) {
        struct rt_diag_uplink *u = &up[k];
        snprintf(what, sizeof what, "%.15s reachability", u->ifname);
        if (u->open_err != 0) {
            say(r, L_FAIL, what, "run it as root (or with CAP_NET_ADMIN), like the tunnel", "%s",
                u->err);
            continue;
        }
        for (int d = 0; d < n_dst; d++) {
            rt_addr_str(&dst[d], a);
            if (u->keyed[d]) {
                say(r, L_OK, what, NULL, "%s answers: handshake in %.1f ms", a,
                    (double)u->hs_us[d] / 1e3);
                continue;
            }
            const char *why = "no answer";
            if (u->icmp_type == 3 && u->icmp_code == 3) {
                why = "its host answers that nothing listens on that UDP port";
                snprintf(fix, sizeof fix,
                         "start `triglav server` there, or check its --listen (UDP %u)", dst[d].port);
            } else if (u->icmp_type == 3 && (u->icmp_code == 9 || u->icmp_code == 10 ||
                                             u->icmp_code == 13)) {
                why = "a firewall refuses it (ICMP administratively prohibited)";
                snprintf(fix, sizeof fix, "open UDP %u towards the server on the network of %.15s",
                         dst[d].port, u->ifname);
            } else if (u->icmp_type == 3) {
                why = "a router says it is unreachable";
                snprintf(fix, sizeof fix,
                         "check the routes of the network behind %.15s (`ip route get %s oif %.15s`)",
                         u->ifname, a, u->ifname);
            } else {
                snprintf(fix, sizeof fix,
                         "check that `triglav server` runs at %s, that UDP %u is not blocked on the "
                         "network of %.15s (a captive portal or firewall; try another uplink), and "
                         "that the key is the one that server printed (a wrong key gets no "
                         "answer)",
                         a, dst[d].port, u->ifname);
            }
            say(r, d == 0 ? L_FAIL : L_WARN, what, fix, "%s: %s (%llu handshakes sent in %.1f s)",
                a, why, (unsigned long long)u->hs_sent[d], (double)timeout / 1e6);
        }
    }
}

static void check_nat(struct report *r, const struct tg_key_addr *dst, int n_dst,
                      const struct rt_diag_uplink *up, int n_up)
{
    char a[RT_ADDRSTRLEN], b[RT_ADDRSTRLEN], c[RT_ADDRSTRLEN], d[RT_ADDRSTRLEN],
        e[RT_ADDRSTRLEN], what[40];
    for (int k = 0; k < n_up; k++) {
        const struct rt_diag_uplink *u = &up[k];
        snprintf(what, sizeof what, "%s NAT", u->ifname);
        if (u->open_err != 0 || !u->keyed[0])
            continue; /* said above */
        if (u->mapped[0].type == 0) {
            say(r, L_WARN, what, "update the server: it is an older triglav",
                "the server does not say which address it sees");
            continue;
        }
        struct tg_key_addr local = {.type = TG_ADDR_IPV4, .port = u->local_port};
        memcpy(local.addr, u->ipv4, 4);
        rt_addr_str(&local, a);
        rt_addr_str(&u->mapped[0], b);
        bool nat = memcmp(&local.addr, u->mapped[0].addr, 16) != 0 || local.port != u->mapped[0].port;
        bool other = n_dst > 1 && u->keyed[1] && u->mapped[1].type != 0;
        if (other && (memcmp(u->mapped[1].addr, u->mapped[0].addr, 16) != 0 ||
                      u->mapped[1].port != u->mapped[0].port)) {
            say(r, L_WARN, what,
                "nothing for triglav, which only talks to its server (it follows the source "
                "it sees, and probes every 100 ms keep the mapping); peer-to-peer programs on "
                "this network need a relay",
                "%s appears as %s to %s but as %s to %s: the NAT maps each destination "
                "separately (address/port-dependent, \"symmetric\")",
                a, b, rt_addr_str(&dst[0], c), rt_addr_str(&u->mapped[1], d),
                rt_addr_str(&dst[1], e));
            continue;
        }
        const char *how = !other ? " (whether it depends on the destination needs a second "
                                   "server address in the key)"
                          : nat  ? "; the same for both server addresses: the mapping does not "
                                   "depend on the destination (endpoint-independent)"
                                 : "";
        if (!nat)
            say(r, L_OK, what, NULL, "none: the server sees %s, this host's own address%s", b, how);
        else
            say(r, L_OK, what, NULL, "%s appears as %s (%s)%s", a, b,
                local.port == u->mapped[0].port ? "port kept" : "port changed", how);
    }
}

static void check_mtu(struct report *r, const struct tg_key_addr *server, unsigned tun_mtu,
                      const struct rt_diag_uplink *up, int n_up, uint32_t mark)
{
    char what[40], fix[300];
    unsigned need = tun_mtu + 72; /* IPv4 20, UDP 8, header 16, tag 16, DATA frame 12 */
    for (int k = 0; k < n_up; k++) {
        const struct rt_diag_uplink *u = &up[k];
        if (u->open_err != 0)
            continue;
        struct rt_diag_mtu m;
        snprintf(what, sizeof what, "%.15s path MTU", u->ifname);
        rt_diag_pmtu(u->ifname, mark, server->addr, &m);
        if (m.err[0] != '\0') {
            say(r, L_WARN, what, "run it as root (or with CAP_NET_RAW) to probe", "%s", m.err);
            continue;
        }
        if (!m.answered) {
            snprintf(fix, sizeof fix,
                     "let the server answer ping to measure it; if large transfers stall, lower "
                     "the tunnel's --mtu (the interface allows %d)",
                     m.if_mtu);
            say(r, L_WARN, what, fix, "unknown: the server does not answer ICMP echo through %s%s",
                u->ifname, m.told_mtu ? " (a router named a smaller MTU)" : "");
            continue;
        }
        if ((unsigned)m.path_mtu >= need) {
            say(r, L_OK, what, NULL, "%d bytes: full-size tunnel datagrams (%u for --mtu %u) pass",
                m.path_mtu, need, tun_mtu);
            continue;
        }
        snprintf(fix, sizeof fix,
                 "start the tunnel with --mtu %d (path MTU minus 72), or [transport] mtu = %d in "
                 "its config",
                 m.path_mtu - 72, m.path_mtu - 72);
        say(r, m.told_mtu ? L_WARN : L_FAIL, what, fix,
            "%d bytes: full-size tunnel datagrams (%u for --mtu %u) %s", m.path_mtu, need,
            tun_mtu,
            m.told_mtu ? "are fragmented (a router says the path takes no more)"
                       : "vanish (nothing says why: an ICMP black hole)");
    }
}

static void check_kernel(struct report *r, const struct rt_diag_uplink *up, int n_up)
{
    char path[128], v[16], all[16] = "0", what[40], fix[200];
    rt_sysctl_get("/proc/sys/net/ipv4/conf/all/rp_filter", all, sizeof all);
    for (int k = 0; k < n_up && n_up > 1; k++) {
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%.15s/rp_filter", up[k].ifname);
        if (rt_sysctl_get(path, v, sizeof v) != 0)
            continue;
        int eff = atoi(v) > atoi(all) ? atoi(v) : atoi(all);
        snprintf(what, sizeof what, "%.15s rp_filter", up[k].ifname);
        snprintf(fix, sizeof fix,
                 "loose mode: sudo sysctl -w net.ipv4.conf.%.15s.rp_filter=2 "
                 "net.ipv4.conf.all.rp_filter=2",
                 up[k].ifname);
        bool lost = up[k].open_err == 0 && !up[k].keyed[0] && up[k].hs_sent[0] > 0;
        if (eff == 1)
            say(r, lost ? L_FAIL : L_WARN, what, fix,
                "strict reverse-path filtering: answers that arrive on %s while the default "
                "route leaves by another uplink are dropped%s",
                up[k].ifname, lost ? " (this is why its handshake got no answer)" : "");
        else
            say(r, L_OK, what, NULL, "%s", eff == 2 ? "loose" : "off");
    }
}

static void check_running(struct report *r, const char *tun, const char *dir)
{
    char d[200], sock[300], probe[8];
    size_t len;
    if (dir[0] != '\0')
        snprintf(d, sizeof d, "%s", dir);
    else
        rt_cmd_state_dir(d, sizeof d);
    rt_state_path(sock, sizeof sock, d, tun[0] ? tun : "tg0", "sock");
    if (rt_control_ask(sock, "", probe, sizeof probe, &len, 2000) != 0) {
        say(r, L_OK, "running tunnel", NULL, "none at %s (nothing to check)", sock);
        return;
    }
    static char buf[1 << 20];
    struct rt_json j;
    if (rt_cmd_status_json("diagnose", sock, buf, sizeof buf, &j) != 0) {
        say(r, L_WARN, "running tunnel", "update it, or stop it and start the new one",
            "%s does not answer `status json`", sock);
        return;
    }
    int s = rt_json_get(&j, 0, "session"), ups = rt_json_get(&j, 0, "uplinks");
    char name[32], st[16], h[16], fix[160];
    if (!rt_json_bool(&j, rt_json_get(&j, s, "up"), false))
        say(r, L_FAIL, "running tunnel", "see its log; `triglav status` shows its uplinks",
            "%s has no session", sock);
    else
        say(r, L_OK, "running tunnel", NULL, "session up at %s", sock);
    for (int i = 0; i < rt_json_len(&j, ups); i++) {
        int u = rt_json_at(&j, ups, i);
        rt_json_mstr(&j, u, "interface", name, sizeof name, "?");
        rt_json_mstr(&j, u, "state", st, sizeof st, "?");
        rt_json_mstr(&j, u, "health", h, sizeof h, "-");
        snprintf(fix, sizeof fix, "`triglav uplink show %s` has its estimates; `uplink enable %s`",
                 name, name);
        if (strcmp(st, "active") == 0 && strcmp(h, "healthy") == 0)
            say(r, L_OK, "running uplink", NULL, "%s active, healthy", name);
        else
            say(r, L_WARN, "running uplink", fix, "%s is %s (%s)", name, st, h);
    }
    rt_json_free(&j);
}

int rt_cmd_diagnose(int argc, char **argv)
{
    static const struct option lo[] = {
        {"full", no_argument, NULL, O_FULL},
        {"connectivity", no_argument, NULL, O_CONN},
        {"config", required_argument, NULL, O_CONFIG},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"mtu", required_argument, NULL, O_MTU},
        {"interface", required_argument, NULL, 'i'},
        {"tun-name", required_argument, NULL, O_TUN},
        {"state-dir", required_argument, NULL, O_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct rt_client_opts o;
    static char names[TG_MAX_UPLINKS][16];
    const char *config = NULL;
    char tun[16] = "", dir[200] = "";
    int n_names = 0, c;
    bool full = false, conn = false, mtu_set = false;
    tg_time timeout = TG_SEC(3);
    unsigned mtu = RT_DEFAULT_MTU;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
        switch (c) {
        case O_FULL: full = true; break;
        case O_CONN: conn = true; break;
        case O_CONFIG: config = optarg; break;
        case O_TIMEOUT:
            if (rt_parse_seconds(optarg, TG_MSEC(200), TG_SEC(60), &timeout) != 0) {
                fprintf(stderr, "triglav diagnose: --timeout '%s': expected 0.2 to 60 seconds\n",
                        optarg);
                return 2;
            }
            break;
        case O_MTU: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 576 || v > 9000) {
                fprintf(stderr, "triglav diagnose: --mtu '%s': expected 576..9000\n", optarg);
                return 2;
            }
            mtu = (unsigned)v;
            mtu_set = true;
            break;
        }
        case 'i':
            if (n_names >= TG_MAX_UPLINKS || !rt_ifname_ok(optarg)) {
                fprintf(stderr, "triglav diagnose: -i '%s': %s\n", optarg,
                        n_names >= TG_MAX_UPLINKS ? "16 uplinks at most" : "not an interface name");
                return 2;
            }
            snprintf(names[n_names++], 16, "%s", optarg);
            break;
        case O_TUN:
        case O_DIR: {
            char *dst = c == O_TUN ? tun : dir;
            size_t cap = c == O_TUN ? sizeof tun : sizeof dir;
            if (strlen(optarg) >= cap) {
                fprintf(stderr, "triglav diagnose: '%s' is too long\n", optarg);
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
    rt_client_opts_default(&o);
    if (config != NULL && rt_config_load_client(config, &o) != 0)
        return 2;
    const char *key = optind < argc ? argv[optind] : o.key[0] ? o.key : NULL;
    if (key == NULL || optind + 1 < argc) {
        fprintf(stderr, "triglav diagnose: %s\n%s",
                key == NULL ? "give the server's tg1_ key (or --config FILE with auth_key)"
                            : "only one key is expected",
                usage);
        return 2;
    }
    if (n_names == 0)
        for (int i = 0; i < o.n_ifaces; i++)
            snprintf(names[n_names++], 16, "%s", o.ifaces[i]);
    if (!mtu_set)
        mtu = o.c.mtu;
    struct tg_key k;
    struct report r = {{0}};
    int rc = tg_key_decode(key, strlen(key), &k);
    if (rc != TG_OK) {
        say(&r, L_FAIL, "key", "paste the whole tg1_... key that `triglav server` printed", "%s",
            tg_strerror(rc));
        return 1;
    }
    struct tg_key_addr dst[RT_DIAG_DESTS];
    int n_dst = 0;
    for (size_t i = 0; i < k.n_addrs && n_dst < RT_DIAG_DESTS; i++)
        if (k.addrs[i].type == TG_ADDR_IPV4)
            dst[n_dst++] = k.addrs[i];
    char a[RT_ADDRSTRLEN];
    if (n_dst == 0) {
        say(&r, L_FAIL, "key", "make a key with `triglav keygen --address IP:PORT`",
            "names no IPv4 server address");
        return 1;
    }
    say(&r, L_OK, "key", NULL, "server %s%s", rt_addr_str(&dst[0], a),
        n_dst > 1 ? " (and a second address, for the NAT check)" : "");
    if (!conn || full) {
        check_permissions(&r);
        check_clock(&r);
    }
    uint32_t mark = has_cap(12) ? o.fwmark : 0;
    static struct rt_diag_uplink up[TG_MAX_UPLINKS];
    int n_up = check_interfaces(&r, names, n_names, &dst[0], mark, up);
    if (n_up > 0) {
        rt_diag_handshakes(k.server_public, dst, conn || full ? n_dst : 1, up, n_up, mark, timeout);
        check_reach(&r, dst, conn || full ? n_dst : 1, up, n_up, timeout);
    }
    if (conn || full) {
        check_nat(&r, dst, n_dst, up, n_up);
        check_mtu(&r, &dst[0], mtu, up, n_up, mark);
    }
    if (full) {
        check_kernel(&r, up, n_up);
        check_running(&r, tun, dir);
    }
    printf("%d OK, %d WARN, %d FAIL%s\n", r.n[L_OK], r.n[L_WARN], r.n[L_FAIL],
           r.n[L_FAIL] ? ": the fixes are above" : "");
    return r.n[L_FAIL] ? 1 : 0;
}
