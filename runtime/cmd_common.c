/* What the control-socket commands share (cmds.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmds.h"
#include "control.h"
#include "sys.h"

void rt_cmd_state_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(out, cap, "/run/triglav");
    else if (xdg != NULL && xdg[0] == '/' && strlen(xdg) + 9 < cap)
        snprintf(out, cap, "%s/triglav", xdg);
    else
        snprintf(out, cap, "/tmp/triglav-%u", (unsigned)geteuid());
}

int rt_cmd_find(const char *who, const char *tun, const char *dir, bool client_only, char *sock,
                size_t cap)
{
    char d[200];
    if (dir != NULL && dir[0] != '\0')
        snprintf(d, sizeof d, "%s", dir);
    else
        rt_cmd_state_dir(d, sizeof d);
    const char *names[2] = {tun[0] ? tun : "tg0", tun[0] || client_only ? NULL : "tgsrv0"};
    for (int i = 0; i < 2 && names[i] != NULL; i++) {
        rt_state_path(sock, cap, d, names[i], "sock");
        char probe[8];
        size_t n;
        int rc = rt_control_ask(sock, "", probe, sizeof probe, &n, 2000);
        if (rc == 0)
            return 0;
        if (rc != -ENOENT) {
            fprintf(stderr, "triglav %s: %s: %s%s\n", who, sock, strerror(-rc),
                    rc == -EACCES ? " (run it as the user that started triglav, e.g. with sudo)"
                                  : "");
            return 1;
        }
    }
    fprintf(stderr,
            "triglav %s: nothing is running for %s (no control socket in %s; pass --tun-name "
            "and --state-dir as the program was started)\n",
            who, tun[0] ? tun : client_only ? "tg0" : "tg0 or tgsrv0", d);
    return 1;
}

int rt_cmd_status_json(const char *who, const char *sock, char *buf, size_t cap,
                       struct rt_json *j)
{
    size_t n;
    char err[160];
    memset(j, 0, sizeof *j);
    int rc = rt_control_ask(sock, "status json", buf, cap, &n, 5000);
    if (rc != 0) {
        fprintf(stderr, "triglav %s: %s: %s\n", who, sock, strerror(-rc));
        return 1;
    }
    if (rt_json_parse(buf, n, j, err, sizeof err) != 0 ||
        rt_json_mnum(j, 0, "schema_version", 0) < 1) {
        fprintf(stderr,
                "triglav %s: the program at %s does not answer `status json` (%s); is it an "
                "older triglav?\n",
                who, sock, err[0] ? err : "no schema_version");
        rt_json_free(j);
        return 1;
    }
    return 0;
}

const char *rt_fmt_rate(double bps, char *out, size_t cap)
{
    if (!(bps >= 0))
        bps = 0;
    if (bps >= 1e9)
        snprintf(out, cap, "%.2f Gbit/s", bps / 1e9);
    else if (bps >= 1e6)
        snprintf(out, cap, "%.1f Mbit/s", bps / 1e6);
    else
        snprintf(out, cap, "%.1f kbit/s", bps / 1e3);
    return out;
}

const char *rt_fmt_us(double us, char *out, size_t cap)
{
    if (us >= 1e6)
        snprintf(out, cap, "%.2f s", us / 1e6);
    else
        snprintf(out, cap, "%.1f ms", us / 1e3);
    return out;
}

const char *rt_fmt_bytes(double b, char *out, size_t cap)
{
    if (b >= 1e9)
        snprintf(out, cap, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(out, cap, "%.1f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(out, cap, "%.1f kB", b / 1e3);
    else
        snprintf(out, cap, "%.0f B", b);
    return out;
}

const char *rt_fmt_now(char *out, size_t cap)
{
    time_t t = (time_t)((rt_now() + rt_wall_offset()) / 1000000u);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "?");
    return out;
}

int rt_parse_seconds(const char *s, tg_time min_us, tg_time max_us, tg_time *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0)
        return -1;
    double us = v * 1e6;
    if (us < (double)min_us || us > (double)max_us)
        return -1;
    *out = (tg_time)(us + 0.5);
    return 0;
}

bool rt_ifname_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '/')
            return false;
    return true;
}
