/*
 * cli.c: the command line of `tun`, `server`, `keygen` and `config`, and
 * their --help, both from the option table (opts.h). getopt_long's table is
 * built from the rows of the command; --config is read first (its values
 * are the base the flags override), and a list flag given on the command
 * line replaces the file's list rather than adding to it.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define MAX_FLAGS  96
#define HELP_COL   26 /* where the help text starts */
#define HELP_WIDTH 79

/* Print `text` from column `col` on, wrapped at HELP_WIDTH. */
static void wrap(FILE *f, const char *text, int col)
{
    const char *p = text;
    bool first = true;
    size_t room = (size_t)(HELP_WIDTH - col);
    while (*p != '\0') {
        size_t n = strlen(p);
        if (n > room) {
            n = room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = strcspn(p, " ");
        }
        fprintf(f, "%*s%.*s\n", first ? 0 : col, "", (int)n, p);
        first = false;
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* The value for people: the TOML text without quotes and brackets. */
static void shown(const char *toml, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = toml; *p != '\0' && k + 1 < cap; p++)
        if (*p != '"' && *p != '[' && *p != ']')
            out[k++] = *p;
    out[k] = '\0';
}

void rt_cli_help(FILE *f, unsigned cmd, const char *usage)
{
    static struct rt_client_opts dc;
    static struct rt_server_opts ds;
    const void *defaults = NULL;
    if (cmd == RT_CMD_TUN || cmd == RT_CMD_CONNECT) {
        rt_client_opts_default(&dc);
        defaults = &dc;
    } else if (cmd == RT_CMD_SERVER) {
        rt_server_opts_default(&ds);
        defaults = &ds;
    }
    fputs(usage, f);
    for (size_t k = 0; k < 2 * rt_n_opts; k++) { /* the command's own flags, then shared ones */
        const struct rt_opt *op = &rt_opts[k % rt_n_opts];
        if (!(op->cmds & cmd) || op->flag == NULL || (op->cmds == cmd) != (k < rt_n_opts))
            continue;
        char col1[80], text[1400], val[600], show[600];
        int n = op->short_flag ? snprintf(col1, sizeof col1, "  -%c, --%s%s%s", op->short_flag,
                                          op->flag, op->arg ? " " : "", op->arg ? op->arg : "")
                               : snprintf(col1, sizeof col1, "  --%s%s%s", op->flag,
                                          op->arg ? " " : "", op->arg ? op->arg : "");
        bool has_default = defaults != NULL && op->kind != RT_OPT_BOOL &&
                           !(op->flags & RT_OF_ENABLES) && op->kind != RT_OPT_CONFIG &&
                           op->kind != RT_OPT_HELP && rt_opt_format(op, defaults, val, sizeof val);
        size_t hl = strlen(op->help);
        if (!has_default)
            snprintf(text, sizeof text, "%s", op->help);
        else if (hl > 0 && op->help[hl - 1] == ')') /* "(0 = never)": "(0 = never; default 15s)" */
            snprintf(text, sizeof text, "%.*s; default %s)", (int)(hl - 1), op->help,
                     (shown(val, show, sizeof show), show));
        else
            snprintf(text, sizeof text, "%s (default %s)", op->help,
                     (shown(val, show, sizeof show), show));
        if (n >= HELP_COL - 1)
            fprintf(f, "%s\n%*s", col1, HELP_COL, "");
        else
            fprintf(f, "%-*s", HELP_COL, col1);
        wrap(f, text, HELP_COL);
    }
    if (cmd & RT_CMD_RUN)
        wrap(f,
             cmd != RT_CMD_SERVER
                 ? "A --config file takes these and more ([multipath] probes, the reorder "
                   "buffer, scheduler weights, [nat]): `triglav config --client` writes one "
                   "with every key and its default."
                 : "A --config file takes these and more ([multipath] probes, the reorder "
                   "buffer, scheduler weights): `triglav config --server` writes one with "
                   "every key and its default.",
             0);
}

static const struct rt_opt *flag_of(unsigned cmd, int c)
{
    if (c >= 1000 && (size_t)(c - 1000) < rt_n_opts)
        return &rt_opts[c - 1000];
    for (size_t i = 0; i < rt_n_opts; i++)
        if ((rt_opts[i].cmds & cmd) && rt_opts[i].short_flag == c)
            return &rt_opts[i];
    return NULL;
}

static bool takes_value(const struct rt_opt *op)
{
    enum rt_opt_kind k = op->kind == RT_OPT_LIST ? op->elem : op->kind;
    return k != RT_OPT_BOOL && k != RT_OPT_HELP;
}

int rt_cli_parse(unsigned cmd, int argc, char **argv, void *o, const char *usage, int *argi)
{
    static struct option lo[MAX_FLAGS + 1];
    char shorts[2 * MAX_FLAGS + 2] = ":";
    size_t n = 0, ns = 1;
    const char *who = rt_cmd_name(cmd);
    for (size_t i = 0; i < rt_n_opts && n < MAX_FLAGS; i++) {
        const struct rt_opt *op = &rt_opts[i];
        if (!(op->cmds & cmd) || op->flag == NULL)
            continue;
        lo[n++] = (struct option){op->flag, takes_value(op) ? required_argument : no_argument, NULL,
                                  1000 + (int)i};
        if (op->short_flag) {
            shorts[ns++] = op->short_flag;
            if (takes_value(op))
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    lo[n] = (struct option){NULL, 0, NULL, 0};

    /* first pass: --help and --config only */
    const char *config = NULL;
    bool help = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct rt_opt *op = flag_of(cmd, c);
        if (op != NULL && op->kind == RT_OPT_HELP)
            help = true;
        else if (op != NULL && op->kind == RT_OPT_CONFIG)
            config = optarg;
    }
    if (help) {
        rt_cli_help(stdout, cmd, usage);
        return 0;
    }
    if (config != NULL && rt_config_load(cmd, config, o) != 0)
        return 2;

    /* second pass: every flag, over the file's values */
    bool seen[256] = {false};
    optind = 0;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct rt_opt *op = flag_of(cmd, c);
        if (c == ':' || c == '?' || op == NULL) {
            const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            char what[80];
            if (c == '?' && optopt != 0)
                snprintf(what, sizeof what, "-%c", optopt);
            else
                snprintf(what, sizeof what, "%.70s", arg);
            fprintf(stderr, "triglav %s: %s '%s'; see `triglav %s --help`\n", who,
                    c == ':' ? "a value is missing after" : "unknown option", rt_printable(what),
                    who);
            return 2;
        }
        if (op->kind == RT_OPT_CONFIG || op->kind == RT_OPT_HELP)
            continue;
        size_t idx = (size_t)(op - rt_opts);
        if (op->kind == RT_OPT_LIST && idx < sizeof seen && !seen[idx])
            *(int *)((char *)o + op->count_off) = 0; /* the command line replaces the file's */
        if (idx < sizeof seen)
            seen[idx] = true;
        struct rt_opt_err err;
        if (rt_opt_set_arg(op, o, optarg, &err) != 0) {
            char v[300];
            snprintf(v, sizeof v, "%s", optarg != NULL ? optarg : "");
            fprintf(stderr, "triglav %s: --%s '%s': %s\n", who, op->flag, rt_printable(v), err.why);
            return 2;
        }
    }
    *argi = optind;
    return -1;
}

int rt_cli_check(unsigned cmd, const void *o)
{
    const struct rt_opt *bad = NULL;
    const char *why = rt_opts_check(cmd, o, &bad);
    if (why == NULL)
        return 0;
    fprintf(stderr, "triglav %s: %s", rt_cmd_name(cmd), why);
    if (bad != NULL && bad->flag != NULL)
        fprintf(stderr, " (--%s, [%s] %s)", bad->flag, bad->table, bad->key);
    fputc('\n', stderr);
    return 2;
}
