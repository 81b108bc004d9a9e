/*
 * config.c: --config FILE, TOML read by the core's text parser
 * (core/conf.h), and `triglav config`, which writes one. Every table and
 * key comes from the option table (opts.c): the loader looks each key up
 * there, the writer walks it. A key that is not in the table is an error
 * naming FILE:LINE:COL and the keys the table has, so a typo never
 * silently does nothing; keys of features Triglav does not have (proxy
 * modes, NAT timeouts, TCP socket tuning) are refused by name.
 * Messages never quote the file: its position says where.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "opts.h"
#include "sys.h"

/* Keys people know (from the design this program grew from) that name a
 * feature it does not have. `off_ok`: false or 0 is accepted (the feature
 * is off, which is true). */
static const struct {
    const char *table, *key;
    bool off_ok;
    const char *why;
} refused[] = {
    {"server", "rate_limit", true,
     "a packet rate limit is not implemented (handshakes are rate-limited per source)"},
    {"transport", "tcp_nodelay", false,
     "not configurable: the TCP fallback always sends at once (TCP_NODELAY)"},
    {"transport", "tcp_keepalive", false,
     "not configurable: the tunnel's own probes keep TCP fallback connections alive"},
    {"transport", "keepalive_interval", false,
     "not configurable here: [multipath] probe_interval sets how often uplinks are probed"},
    {"transport", "tcp_fast_open", false, "TCP Fast Open is not used by the TCP fallback"},
    {"transport", "mss", false,
     "not configurable: TCP fallback connections take their segment size from the path"},
    {"tun", "ipv6_addr", false, "IPv6 inside the tunnel is not implemented"},
    {"nat", "tunnel_ipv6", false, "IPv6 inside the tunnel is not implemented"},
    {"nat", "udp_timeout", false,
     "setting NAT timeouts is not implemented (UDP 3m, TCP 2h, ICMP 30s)"},
    {"nat", "tcp_timeout", false,
     "setting NAT timeouts is not implemented (UDP 3m, TCP 2h, ICMP 30s)"},
    {"nat", "icmp_timeout", false,
     "setting NAT timeouts is not implemented (UDP 3m, TCP 2h, ICMP 30s)"},
    {"nat", "port_range_start", false,
     "setting the NAT port range is not implemented (32768 to 61000)"},
    {"nat", "port_range_end", false,
     "setting the NAT port range is not implemented (32768 to 61000)"},
};

struct loader {
    const char *path;
    FILE *err;   /* where messages go (NULL: nowhere) */
    unsigned cmd;
    void *mine;  /* this command's options */
    void *other_server, *other_client; /* other commands' options, to check their keys */
};

static int fail(const struct loader *l, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const struct loader *l, uint32_t line, uint32_t col, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->err != NULL)
        fprintf(l->err, "triglav: %s:%u:%u: %s\n", l->path, line, col, rt_printable(msg));
    return -1;
}

static bool known_table(const char *t)
{
    for (size_t i = 0; i < rt_n_opts; i++)
        if (rt_opts[i].table != NULL && strcmp(rt_opts[i].table, t) == 0)
            return true;
    return false;
}

/* Does `list` ("a.b c.d ...") hold table.key? */
static bool in_aliases(const char *list, const char *table, const char *key)
{
    size_t tl = strlen(table), kl = strlen(key);
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == tl + 1 + kl && strncmp(p, table, tl) == 0 && p[tl] == '.' &&
            strncmp(p + tl + 1, key, kl) == 0)
            return true;
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* The option spelled table.key in a file: this command's first, then the
 * other command's (checked, not applied); its own spelling before an alias. */
static const struct rt_opt *lookup(unsigned cmd, const char *table, const char *key)
{
    for (int pass = 0; pass < 4; pass++)
        for (size_t i = 0; i < rt_n_opts; i++) {
            const struct rt_opt *op = &rt_opts[i];
            if (pass < 2 && !(op->cmds & cmd))
                continue;
            if (pass % 2 == 0 ? op->table != NULL && strcmp(op->table, table) == 0 &&
                                    strcmp(op->key, key) == 0
                              : in_aliases(op->aliases, table, key))
                return op;
        }
    return NULL;
}

/* The keys of `table`, for "expected one of ...". */
static const char *keys_of(const char *table, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rt_n_opts && k < cap; i++)
        if (rt_opts[i].table != NULL && strcmp(rt_opts[i].table, table) == 0)
            k += (size_t)snprintf(out + k, cap - k, "%s%s", k > 0 ? ", " : "", rt_opts[i].key);
    return out;
}

static const char *tables_list(char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rt_n_opts && k < cap; i++) {
        const char *t = rt_opts[i].table;
        bool seen = t == NULL;
        for (size_t j = 0; j < i && !seen; j++)
            seen = rt_opts[j].table != NULL && strcmp(rt_opts[j].table, t) == 0;
        if (!seen)
            k += (size_t)snprintf(out + k, cap - k, "%s[%s]", k > 0 ? " " : "", t);
    }
    return out;
}

static int entry(const struct loader *l, const char *t, const struct tg_conf_entry *e)
{
    char list[500];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (strcmp(refused[i].table, t) != 0 || strcmp(refused[i].key, e->key) != 0)
            continue;
        const struct tg_conf_value *v = &e->value;
        if (refused[i].off_ok &&
            ((v->type == TG_CONF_BOOL && !v->u.b) || (v->type == TG_CONF_INT && v->u.i == 0)))
            return 0;
        return fail(l, e->line, e->col, "[%s] %s: %s; remove the key%s", t, e->key, refused[i].why,
                    refused[i].off_ok ? " or set it to false" : "");
    }
    const struct rt_opt *op = lookup(l->cmd, t, e->key);
    if (op == NULL)
        return fail(l, e->line, e->col, "unknown key in [%s]; its keys are: %s", t,
                    keys_of(t, list, sizeof list));
    struct rt_opt_err err;
    memset(&err, 0, sizeof err);
    void *o = (op->cmds & l->cmd)          ? l->mine
              : (op->cmds & RT_CMD_SERVER) ? l->other_server
                                           : l->other_client;
    if (rt_opt_set_value(op, o, &e->value, &err) != 0)
        return fail(l, err.line != 0 ? err.line : e->line, err.line != 0 ? err.col : e->col,
                    "[%s] %s: %s", t, e->key, err.why);
    return 0;
}

int rt_config_load_text(unsigned cmd, const char *name, const char *text, size_t len, void *o,
                        FILE *errors)
{
    static struct rt_client_opts other_client;
    static struct rt_server_opts other_server;
    struct loader l = {.path = name, .err = errors, .cmd = cmd, .mine = o};
    rt_server_opts_default(&other_server);
    rt_client_opts_default(&other_client);
    l.other_server = &other_server;
    l.other_client = &other_client;
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    memset(&err, 0, sizeof err);
    int rc = tg_conf_parse(text, len, NULL, &doc, &err);
    if (rc != TG_OK) {
        if (errors != NULL)
            fprintf(errors, "triglav: %s:%u:%u: %s\n", name, err.line, err.col,
                    rc == TG_ERR_PARSE ? rt_printable(err.msg) : tg_strerror(rc));
        return -1;
    }
    char list[300];
    rc = 0;
    for (size_t si = 0; si < doc->n_sections && rc == 0; si++) {
        const struct tg_conf_section *sec = &doc->sections[si];
        const char *t = sec->name;
        if (t[0] == '\0') {
            if (sec->n_entries > 0)
                rc = fail(&l, sec->entries[0].line, sec->entries[0].col,
                          "a key before the first [table] header; the tables are: %s",
                          tables_list(list, sizeof list));
            continue;
        }
        if (!known_table(t) || sec->is_array_element) {
            rc = fail(&l, sec->line, 1, "unknown table%s; the tables are: %s",
                      sec->is_array_element ? " (an array of tables)" : "",
                      tables_list(list, sizeof list));
            break;
        }
        for (size_t ei = 0; ei < sec->n_entries && rc == 0; ei++)
            rc = entry(&l, t, &sec->entries[ei]);
    }
    tg_conf_free(doc);
    return rc;
}

int rt_config_load(unsigned cmd, const char *path, void *o)
{
    static char text[RT_FILE_MAX + 1];
    ssize_t n = rt_file_read(path, text, sizeof text);
    if (n < 0) {
        fprintf(stderr, "triglav: cannot read config %s: %s%s\n", path, rt_file_strerror((int)n),
                n == -EFBIG ? " (a config file has at most 1 MiB)" : "");
        return -1;
    }
    return rt_config_load_text(cmd, path, text, (size_t)n, o, stderr);
}

int rt_config_load_client(const char *path, struct rt_client_opts *o)
{
    return rt_config_load(RT_CMD_TUN, path, o);
}

int rt_config_load_server(const char *path, struct rt_server_opts *o)
{
    return rt_config_load(RT_CMD_SERVER, path, o);
}

/* ------------------------------------------------------------ writing */

/* "# text" lines of at most 79 columns. */
static void comment(FILE *f, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        size_t n = strlen(p);
        if (n > 77) {
            n = 77;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = strcspn(p, " ");
        }
        fprintf(f, "# %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

int rt_config_write(FILE *f, unsigned cmd, const void *o, const char *title)
{
    const char *const *tables = cmd == RT_CMD_SERVER ? rt_server_tables : rt_client_tables;
    comment(f, title);
    fprintf(f, "#\n");
    comment(f, cmd != RT_CMD_SERVER
                   ? "Read with `triglav tun --config FILE` or `triglav connect --config FILE` "
                     "(the [proxy] table); flags given to the command override the file."
                   : "Read with `triglav server --config FILE`; flags given to triglav server "
                     "override the file.");
    comment(f, "Durations are written \"500ms\", \"15s\", \"5m\" or \"2h\"; sizes \"4MiB\", "
               "\"2MB\" or a number of bytes; rates \"10Mbit\". A key that is commented out "
               "has no value by default; the line shows an example.");
    for (size_t t = 0; tables[t] != NULL; t++) {
        bool any = false; /* a table with no key for this command is left out */
        for (size_t i = 0; i < rt_n_opts; i++)
            any |= (rt_opts[i].cmds & cmd) && rt_opts[i].table != NULL &&
                   strcmp(rt_opts[i].table, tables[t]) == 0;
        if (!any)
            continue;
        fprintf(f, "\n[%s]\n", tables[t]);
        for (size_t i = 0; i < rt_n_opts; i++) {
            const struct rt_opt *op = &rt_opts[i];
            if (!(op->cmds & cmd) || op->table == NULL || strcmp(op->table, tables[t]) != 0)
                continue;
            char text[2048], help[600];
            bool set = rt_opt_format(op, o, text, sizeof text);
            if (op->flag != NULL)
                snprintf(help, sizeof help, "%s (--%s)", op->khelp ? op->khelp : op->help,
                         op->flag);
            else
                snprintf(help, sizeof help, "%s", op->khelp ? op->khelp : op->help);
            comment(f, help);
            if (set || op->example == NULL)
                fprintf(f, "%s = %s\n", op->key, text);
            else
                fprintf(f, "# %s = %s\n", op->key, op->example);
        }
    }
    return ferror(f) ? -1 : 0;
}
