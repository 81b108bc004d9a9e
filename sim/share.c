/* share.c: see share.h. */
#define _DEFAULT_SOURCE /* readlink, realpath, PATH_MAX */

#include "share.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compiled in by sim/CMakeLists.txt; these defaults serve a build by hand. */
#ifndef TG_SHARE_REL
#define TG_SHARE_REL "../share/triglav"
#endif
#ifndef TG_SOURCE_DIR
#define TG_SOURCE_DIR "."
#endif
#ifndef TG_DATA_DIR
#define TG_DATA_DIR "../shared/data"
#endif

/* Set once, from the command line, before any thread starts. */
static const char *share_flag;

void sim_share_set(const char *dir)
{
    share_flag = dir;
}

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* snprintf that reports truncation as failure. */
static bool put(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s%s", a, b);
    return n >= 0 && (size_t)n < cap;
}

/* <the executable's folder>/TG_SHARE_REL, when that is a folder (without
 * the ../ of the relative path: people read it in `triglav-sim paths`). */
static bool next_to_program(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return false;
    slash[1] = '\0';
    char dir[PATH_MAX], real[PATH_MAX];
    if (!put(dir, sizeof dir, exe, TG_SHARE_REL) || realpath(dir, real) == NULL || !is_dir(real))
        return false;
    return put(out, cap, real, "");
}

const char *sim_share_dir(char *out, size_t cap)
{
    const char *env = getenv("TRIGLAV_SHARE");
    if (share_flag != NULL && put(out, cap, share_flag, ""))
        return "--share-dir";
    if (env != NULL && env[0] != '\0' && put(out, cap, env, ""))
        return "$TRIGLAV_SHARE";
    if (next_to_program(out, cap))
        return "next to the program";
    put(out, cap, TG_SOURCE_DIR, "");
    return "the source tree";
}

const char *sim_share_scenarios(char *out, size_t cap)
{
    if (is_dir("scenarios") && put(out, cap, "scenarios", ""))
        return "the current folder";
    char dir[PATH_MAX];
    const char *why = sim_share_dir(dir, sizeof dir);
    put(out, cap, dir, "/scenarios");
    return why;
}

/* dir/name, then dir/name.scn: the first regular file, into out. */
static bool find_in(const char *dir, const char *name, bool add_suffix, char *out, size_t cap)
{
    char base[PATH_MAX];
    int n = snprintf(base, sizeof base, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof base)
        return false;
    if (is_file(base))
        return put(out, cap, base, "");
    return add_suffix && put(out, cap, base, ".scn") && is_file(out);
}

const char *sim_share_scenario(const char *arg, char *out, size_t cap)
{
    size_t n = strlen(arg);
    bool add_suffix = !(n > 4 && strcmp(arg + n - 4, ".scn") == 0);
    if (n == 0 || strchr(arg, '/') != NULL || is_file(arg) ||
        strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0) {
        put(out, cap, arg, "");
        return out;
    }
    if (add_suffix && put(out, cap, arg, ".scn") && is_file(out))
        return out;
    if (find_in("scenarios", arg, add_suffix, out, cap))
        return out;
    char share[PATH_MAX], dir[PATH_MAX];
    sim_share_dir(share, sizeof share);
    if (put(dir, sizeof dir, share, "/scenarios") && find_in(dir, arg, add_suffix, out, cap))
        return out;
    put(out, cap, arg, "");
    return out;
}

const char *sim_share_queries(char *out, size_t cap)
{
    char dir[PATH_MAX];
    sim_share_dir(dir, sizeof dir);
    put(out, cap, dir, "/results/queries");
    return out;
}

const char *sim_share_data(char *out, size_t cap)
{
    char dir[PATH_MAX];
    const char *why = sim_share_dir(dir, sizeof dir);
    if (put(out, cap, dir, "/data") && is_dir(out))
        return why;
    put(out, cap, TG_DATA_DIR, "");
    return "configured at build time";
}
