/* list.c: see list.h. */
#define _XOPEN_SOURCE 700 /* strdup */

#include "list.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/query.h"
#include "cli.h"
#include "scenario.h"
#include "share.h"

const char sim_usage_list[] =
    "usage: triglav-sim list [DIR] [--names] [--data-dir DIR] [--share-dir DIR]\n"
    "\n"
    "Loads every .scn file in DIR and prints a table sorted by name: name,\n"
    "description, uplinks, duration of a run, default iterations. Files that do not\n"
    "load are listed with their error. Without DIR: ./scenarios when the current\n"
    "folder has one, else the bundled scenarios (`triglav-sim paths` shows where).\n"
    "\n"
    "options:\n"
    "  --names             only the scenario names (file names without .scn), one a\n"
    "                      line, without loading them\n"
    "  --data-dir DIR      folder of `data:` trace paths\n"
    "  --share-dir DIR     folder of the bundled files (default: $TRIGLAV_SHARE, else\n"
    "                      ../share/triglav from the program's folder, else the source tree)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 every file loads, 1 some do not (or DIR cannot be read), 2 bad usage.\n"
    "\n"
    "example:\n"
    "  triglav-sim list\n";

const char sim_usage_paths[] =
    "usage: triglav-sim paths [--share-dir DIR]\n"
    "\n"
    "Prints where this program finds its bundled files, and why there: the share\n"
    "folder, the scenarios `list` shows, the saved queries of `query --saved`, and\n"
    "the folder of `data:` trace paths. The share folder is --share-dir, else\n"
    "$TRIGLAV_SHARE, else ../share/triglav from the program's folder when it exists,\n"
    "else the source tree it was built from.\n"
    "\n"
    "options:\n"
    "  --share-dir DIR     folder of the bundled files\n"
    "  -h, --help          this text\n";

struct entry {
    char *file;
    char name[SIM_NAME_MAX];
    char description[256];
    size_t uplinks;
    tg_time duration_us;
    uint32_t iterations;
    char *error; /* NULL when it loaded */
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->file, y->file);
}

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

/* Print s padded or cut (with "...") to exactly `width` columns. */
static void print_cell(const char *s, size_t width)
{
    size_t w = text_width(s);
    if (w <= width) {
        fputs(s, stdout);
        for (; w < width; w++)
            putchar(' ');
        return;
    }
    size_t cols = 0;
    const char *p = s;
    for (; *p && cols < width - 3; p++) {
        if (((unsigned char)p[1] & 0xc0) != 0x80)
            cols++;
    }
    fwrite(s, 1, (size_t)(p - s), stdout);
    fputs("...", stdout);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static void print_table(const struct entry *v, size_t nv)
{
    size_t name_w = 4;
    for (size_t i = 0; i < nv; i++)
        if (text_width(v[i].name) > name_w)
            name_w = text_width(v[i].name);
    enum { DESC_W = 50 };
    print_cell("NAME", name_w);
    fputs("  ", stdout);
    print_cell("DESCRIPTION", DESC_W);
    printf("  UPLINKS  DURATION  ITERATIONS\n");
    for (size_t i = 0; i < nv; i++) {
        const struct entry *e = &v[i];
        print_cell(e->name, name_w);
        fputs("  ", stdout);
        if (e->error != NULL) {
            printf("ERROR %s\n", e->error);
        } else {
            char dur[32];
            sim_fmt_duration(dur, sizeof dur, e->duration_us);
            print_cell(e->description, DESC_W);
            printf("  %7zu  %8s  %10" PRIu32 "\n", e->uplinks, dur, e->iterations);
        }
    }
}

/* Load every .scn of dir into *out. Returns 0 all loaded, 1 some did not
 * (they carry their error), -1 dir unreadable or out of memory (said). */
static int load_dir(const char *dir, const char *data_dir, struct entry **out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: %s\n", sim_cmd_name, dir, strerror(errno));
        return -1;
    }
    struct entry *v = NULL;
    size_t nv = 0, cap = 0;
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, ".scn"))
            continue;
        if (nv == cap) {
            cap = cap ? cap * 2 : 64;
            struct entry *bigger = realloc(v, cap * sizeof *v);
            if (bigger == NULL) {
                ret = -1;
                break;
            }
            v = bigger;
        }
        struct entry *e = &v[nv];
        memset(e, 0, sizeof *e);
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        if ((e->file = malloc(len)) == NULL) {
            ret = -1;
            break;
        }
        snprintf(e->file, len, "%s/%s", dir, de->d_name);
        nv++;
        struct sim_scenario *sc = NULL;
        char err[1024];
        if (sim_scenario_load(e->file, data_dir, &sc, err, sizeof err) != 0) {
            snprintf(e->name, sizeof e->name, "%.*s", (int)(strlen(de->d_name) - 4), de->d_name);
            e->error = strdup(err);
            ret = 1;
            continue;
        }
        snprintf(e->name, sizeof e->name, "%s", sc->name);
        snprintf(e->description, sizeof e->description, "%s", sc->description);
        e->uplinks = sc->n_uplinks;
        e->duration_us = sc->duration_us;
        e->iterations = sc->iterations;
        sim_scenario_free(sc);
    }
    closedir(d);
    if (ret < 0)
        fprintf(stderr, "%s: out of memory\n", sim_cmd_name);
    *out = v;
    *n_out = nv;
    return ret;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .scn file names of dir without the suffix, sorted, one a line. */
static int list_names(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: %s\n", sim_cmd_name, dir, strerror(errno));
        return 1;
    }
    char **v = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!has_suffix(de->d_name, ".scn"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(v, cap * sizeof *v);
            if (bigger == NULL) {
                ret = 1;
                break;
            }
            v = bigger;
        }
        if ((v[n] = strndup(de->d_name, strlen(de->d_name) - 4)) == NULL) {
            ret = 1;
            break;
        }
        n++;
    }
    closedir(d);
    if (ret != 0)
        fprintf(stderr, "%s: out of memory\n", sim_cmd_name);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (ret == 0)
            puts(v[i]);
        free(v[i]);
    }
    free(v);
    return ret;
}

int sim_list_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim list";
    const char *dir = NULL, *data_dir = NULL;
    bool options = true, names = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!options || a[0] != '-' || strcmp(a, "-") == 0) {
            if (dir != NULL)
                return sim_usage_error("expected at most one folder, got '%s' and '%s'", dir, a);
            dir = a;
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (is_help(a)) {
            fputs(sim_usage_list, stdout);
            return 0;
        } else if (strcmp(a, "--names") == 0) {
            names = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0)
                return 2;
            data_dir = v;
        } else if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                return 2;
        } else {
            return sim_usage_error("unknown option '%s'", a);
        }
    }
    char bundled[PATH_MAX];
    if (dir == NULL) {
        sim_share_scenarios(bundled, sizeof bundled);
        dir = bundled;
    }
    if (names)
        return list_names(dir);
    struct entry *v = NULL;
    size_t nv = 0;
    int rc = load_dir(dir, data_dir, &v, &nv);
    if (rc >= 0 && nv == 0)
        fprintf(stderr, "%s: no .scn files in %s\n", sim_cmd_name, dir);
    else if (rc >= 0) {
        qsort(v, nv, sizeof *v, cmp_entry);
        print_table(v, nv);
    }
    for (size_t i = 0; i < nv; i++) {
        free(v[i].file);
        free(v[i].error);
    }
    free(v);
    return rc == 0 ? 0 : 1;
}

int sim_paths_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim paths";
    for (int i = 2; i < argc; i++) {
        int m;
        if (is_help(argv[i])) {
            fputs(sim_usage_paths, stdout);
            return 0;
        }
        if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                return 2;
            continue;
        }
        return sim_usage_error("unexpected argument '%s'", argv[i]);
    }
    char share[PATH_MAX], scenarios[PATH_MAX], queries[PATH_MAX], data[PATH_MAX];
    const char *why = sim_share_dir(share, sizeof share);
    printf("share      %s  (%s)\n", share, why);
    why = sim_share_scenarios(scenarios, sizeof scenarios);
    printf("scenarios  %s  (%s)\n", scenarios, why);
    const char *q = an_queries_dir(NULL, sim_share_queries(queries, sizeof queries));
    const char *env = getenv("TRIGLAV_QUERIES");
    printf("queries    %s  (%s)\n", q,
           env != NULL && env[0] != '\0' ? "$TRIGLAV_QUERIES"
           : q == queries                ? "share folder"
                                         : "the current folder");
    env = getenv("TRIGLAV_DATA");
    if (env != NULL && env[0] != '\0') {
        printf("data       %s  ($TRIGLAV_DATA)\n", env);
    } else {
        why = sim_share_data(data, sizeof data);
        printf("data       %s  (%s)\n", data, why);
    }
    return 0;
}
