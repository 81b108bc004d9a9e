/* cli.c: see cli.h. */
#define _DEFAULT_SOURCE /* PATH_MAX */

#include "cli.h"
#include "share.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *sim_cmd_name = "triglav-sim";

int sim_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", sim_cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", sim_cmd_name);
    return 2;
}

bool sim_parse_u64(const char *s, uint64_t min, uint64_t max, bool hex, uint64_t *out)
{
    int base = 10;
    if (hex && (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)) {
        base = 16;
        s += 2;
    }
    /* strtoull would accept a sign or spaces */
    bool digit =
        (*s >= '0' && *s <= '9') || (base == 16 && *s != '\0' && strchr("abcdefABCDEF", *s));
    if (!digit)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int sim_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        sim_usage_error("%s: missing value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int sim_opt_seed(int argc, char **argv, int *i, uint64_t *out)
{
    const char *v;
    int m = sim_opt_value(argc, argv, i, "--seed", &v);
    if (m == 1 && !sim_parse_u64(v, 0, UINT64_MAX, true, out)) {
        sim_usage_error("--seed: expected a whole number (decimal or 0x-hex, 64 bits), got '%s'",
                        v);
        return -1;
    }
    return m;
}

int sim_opt_iteration(int argc, char **argv, int *i, uint64_t *out)
{
    const char *v;
    int m = sim_opt_value(argc, argv, i, "--iteration", &v);
    if (m == 1 && !sim_parse_u64(v, 0, UINT32_MAX, false, out)) {
        sim_usage_error("--iteration: expected a whole number from 0, got '%s'", v);
        return -1;
    }
    return m;
}

int sim_opt_share_dir(int argc, char **argv, int *i)
{
    const char *v;
    int m = sim_opt_value(argc, argv, i, "--share-dir", &v);
    if (m <= 0)
        return m;
    struct stat sb;
    if (stat(v, &sb) != 0) {
        sim_usage_error("--share-dir %s: %s", v, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        sim_usage_error("--share-dir %s: not a folder", v);
        return -1;
    }
    sim_share_set(v);
    return 1;
}

void sim_fmt_duration(char *out, size_t cap, tg_time us)
{
    double s = (double)us * 1e-6;
    if (s < 1)
        snprintf(out, cap, "%.4g ms", s * 1e3);
    else if (s < 120)
        snprintf(out, cap, "%.4g s", s);
    else if (s < 7200)
        snprintf(out, cap, "%.4g min", s / 60);
    else
        snprintf(out, cap, "%.4g h", s / 3600);
}

int sim_make_parent(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "%s: cannot create folder %s: %s\n", sim_cmd_name, dir,
                        strerror(errno));
                return -1;
            }
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* a, shell-quoted unless it is made of safe characters only */
static size_t quote(char *out, const char *a)
{
    size_t len = 0;
    bool plain = *a != '\0' && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_./,:=@%+-") == strlen(a);
    if (!plain)
        out[len++] = '\'';
    for (; *a; a++) {
        if (*a == '\'' && !plain) {
            memcpy(out + len, "'\\''", 4);
            len += 4;
        } else {
            out[len++] = *a;
        }
    }
    if (!plain)
        out[len++] = '\'';
    return len;
}

char *sim_command_line(const char *prog, int argc, char **argv)
{
    size_t cap = 4 * strlen(prog) + 3;
    for (int i = 0; i < argc; i++)
        cap += 4 * strlen(argv[i]) + 3;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = quote(out, prog);
    for (int i = 0; i < argc; i++) {
        out[len++] = ' ';
        len += quote(out + len, argv[i]);
    }
    out[len] = '\0';
    return out;
}
