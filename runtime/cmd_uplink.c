/*
 * `triglav uplink list|show|add|remove|enable|disable`: a running `triglav
 * tun`'s uplinks, read and changed through its control socket. add and
 * remove change the set the tunnel uses (like --auto-discover when an
 * interface appears or goes); disable keeps an uplink but sends nothing on
 * it until enable (its keys are dropped, enable joins it again).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "control.h"

static const char usage[] =
    "usage: triglav uplink list [--json]\n"
    "       triglav uplink show IFACE [--json]\n"
    "       triglav uplink add|remove|enable|disable IFACE\n"
    "  options: [--tun-name NAME] [--state-dir DIR] (as `triglav tun` was started; tg0)\n"
    "  list     every uplink of the running tunnel: state, health, round trip, loss, counters\n"
    "  show     every estimate and counter of one uplink\n"
    "  add      use IFACE as an uplink now (it stays one while it exists, default route or\n"
    "           not, like -i)\n"
    "  remove   stop using IFACE (with --auto-discover it stays out until `uplink add`)\n"
    "  disable  keep IFACE as an uplink but send nothing on it; enable brings it back\n";

enum { O_JSON = 1000, O_TUN, O_DIR };

#define ANSWER_CAP (1 << 20)


static int find_uplink(const struct rt_json *j, const char *name)
{
    int ups = rt_json_get(j, 0, "uplinks");
    for (int i = 0; i < rt_json_len(j, ups); i++) {
        char n[32];
        int u = rt_json_at(j, ups, i);
        if (strcmp(rt_json_mstr(j, u, "interface", n, sizeof n, ""), name) == 0)
            return u;
    }
    return -1;
}

static void list(const struct rt_json *j)
{
    int ups = rt_json_get(j, 0, "uplinks");
    char a[64], b[64], c[64], name[32], st[16], h[16], m[64];
    printf("%-6s %-15s %-8s %-9s %9s %7s %12s %12s %s\n", "uplink", "interface", "state",
           "health", "srtt", "loss", "sent", "received", "mapped address");
    for (int i = 0; i < rt_json_len(j, ups); i++) {
        int u = rt_json_at(j, ups, i);
        rt_json_mstr(j, u, "mapped_address", m, sizeof m, "");
        if (m[0] != '\0')
            snprintf(m + strlen(m), sizeof m - strlen(m), ":%.0f",
                     rt_json_mnum(j, u, "mapped_port", 0));
        printf("%-6.0f %-15s %-8s %-9s %9s %6.2f%% %12s %12s %s\n",
               rt_json_mnum(j, u, "slot", -1),
               rt_json_mstr(j, u, "interface", name, sizeof name, "-"),
               rt_json_mstr(j, u, "state", st, sizeof st, "?"),
               rt_json_mstr(j, u, "health", h, sizeof h, "-"),
               rt_fmt_us(rt_json_mnum(j, u, "srtt_us", 0), a, sizeof a),
               100 * rt_json_mnum(j, u, "loss_ratio", 0),
               rt_fmt_bytes(rt_json_mnum(j, u, "tx_bytes", 0), b, sizeof b),
               rt_fmt_bytes(rt_json_mnum(j, u, "rx_bytes", 0), c, sizeof c), m[0] ? m : "-");
    }
    if (rt_json_len(j, ups) == 0)
        printf("(no uplinks: add one with `triglav uplink add IFACE`)\n");
}

int rt_cmd_uplink(int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, O_JSON},
        {"tun-name", required_argument, NULL, O_TUN},
        {"state-dir", required_argument, NULL, O_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char tun[16] = "", dir[200] = "", sock[300];
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == O_JSON) {
            json = true;
        } else if (c == O_TUN || c == O_DIR) {
            char *dst = c == O_TUN ? tun : dir;
            size_t cap = c == O_TUN ? sizeof tun : sizeof dir;
            if (strlen(optarg) >= cap) {
                fprintf(stderr, "triglav uplink: '%s' is too long\n", optarg);
                return 2;
            }
            snprintf(dst, cap, "%s", optarg);
        } else if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *iface = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool is_list = verb != NULL && strcmp(verb, "list") == 0;
    bool is_show = verb != NULL && strcmp(verb, "show") == 0;
    bool is_change = verb != NULL && (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0 ||
                                      strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0);
    if (!is_list && !is_show && !is_change) {
        fprintf(stderr, "triglav uplink: %s%s%s\n%s", verb ? "unknown action '" : "an action is missing",
                verb ? verb : "", verb ? "'" : "", usage);
        return 2;
    }
    if (is_list ? iface != NULL : iface == NULL || optind + 2 < argc) {
        fprintf(stderr, "triglav uplink %s: %s\n", verb,
                is_list ? "takes no interface" : "expects one interface name");
        return 2;
    }
    if (iface != NULL && !rt_ifname_ok(iface)) {
        fprintf(stderr, "triglav uplink %s: '%s' is not an interface name (1 to 15 characters, "
                        "no '/' or spaces)\n", verb, iface);
        return 2;
    }
    if (json && is_change) {
        fprintf(stderr, "triglav uplink %s: --json goes with list and show\n", verb);
        return 2;
    }
    if (rt_cmd_find("uplink", tun, dir, true, sock, sizeof sock) != 0)
        return 1;
    if (is_change) {
        char line[64], answer[512];
        size_t n;
        snprintf(line, sizeof line, "uplink %s %s", verb, iface);
        int rc = rt_control_ask(sock, line, answer, sizeof answer, &n, 5000);
        if (rc != 0) {
            fprintf(stderr, "triglav uplink %s: %s: %s\n", verb, sock, strerror(-rc));
            return 1;
        }
        bool ok = strncmp(answer, "ok: ", 4) == 0;
        fputs(ok ? answer + 4 : strncmp(answer, "error: ", 7) == 0 ? answer + 7 : answer,
              ok ? stdout : stderr);
        if (!ok && strncmp(answer, "error: ", 7) != 0)
            fprintf(stderr, "triglav uplink: the program at %s does not know `uplink %s`; is it "
                            "an older triglav, or a server?\n", sock, verb);
        return ok ? 0 : 1;
    }
    char *buf = malloc(ANSWER_CAP);
    struct rt_json j;
    if (buf == NULL || rt_cmd_status_json("uplink", sock, buf, ANSWER_CAP, &j) != 0) {
        free(buf);
        return 1;
    }
    int rc = 0;
    if (is_list) {
        int ups = rt_json_get(&j, 0, "uplinks");
        if (json)
            printf("%.*s\n", ups >= 0 ? (int)j.n[ups].raw_len : 2, ups >= 0 ? j.n[ups].raw : "[]");
        else
            list(&j);
    } else {
        int u = find_uplink(&j, iface);
        if (u < 0) {
            fprintf(stderr, "triglav uplink show: %s is not an uplink of %s (see `triglav uplink "
                            "list`)\n", iface, sock);
            rc = 1;
        } else if (json) {
            printf("%.*s\n", (int)j.n[u].raw_len, j.n[u].raw);
        } else {
            rt_status_print_uplink(stdout, &j, u);
        }
    }
    rt_json_free(&j);
    free(buf);
    return rc;
}
