/*
 * --config FILE: TOML read by the core's text parser (core/conf.h). Tables
 * and keys (the seed's names where it had them):
 *   [server]    listen_addrs = ["ADDR:PORT", ...]  (or listen), key_file,
 *               max_connections, idle_timeout, pool, tun_name, egress,
 *               advertise = [...], tcp_fallback (false only), rate_limit (0 only)
 *   [client]    auth_key, interfaces = [...] (or uplinks), auto_discover,
 *               full_tunnel, routes = [...], exclude = [...], dns,
 *               dns_server = [...], tun_name, ipv4, strategy, aggregation,
 *               connect_timeout, reconnect_after, capture
 *   [transport] send_buffer_size, recv_buffer_size (sizes: 2MiB or bytes),
 *               mtu, connect_timeout; TCP-only keys are refused
 *   [metrics]   enabled, listen_addr / bind_address (127.0.0.1:9091)
 *   [logging]   level (info|debug), file
 * Unknown tables and keys are errors with file:line, so a typo never
 * silently does nothing.
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

int rt_parse_strategy(const char *s, enum tg_strategy *out);

struct ctx {
    const char *path;
    struct rt_client_opts *client;
    struct rt_server_opts *server;
};

/* A message may quote a name or value of the file (cut to the message's
 * size): its control bytes never reach the terminal. */
static char *printable(char *msg)
{
    for (char *p = msg; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return msg;
}

static int fail(const struct ctx *x, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const struct ctx *x, uint32_t line, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "triglav: %s:%u: %s\n", x->path, line, printable(msg));
    return -1;
}

static int conv(const struct ctx *x, int rc, const struct tg_conf_error *err)
{
    if (rc == TG_OK)
        return 0;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    fprintf(stderr, "triglav: %s:%u:%u: %s\n", x->path, err->line, err->col, printable(msg));
    return -1;
}

static int get_str(const struct ctx *x, const struct tg_conf_entry *e, const char **s)
{
    struct tg_conf_error err;
    return conv(x, tg_conf_string(&e->value, s, &err), &err);
}

static int get_bool(const struct ctx *x, const struct tg_conf_entry *e, bool *b)
{
    struct tg_conf_error err;
    return conv(x, tg_conf_bool(&e->value, b, &err), &err);
}

static int get_copy(const struct ctx *x, const struct tg_conf_entry *e, char *dst, size_t cap)
{
    const char *s;
    if (get_str(x, e, &s) != 0)
        return -1;
    if (strlen(s) >= cap)
        return fail(x, e->line, "%s: value too long", e->key);
    snprintf(dst, cap, "%s", s);
    return 0;
}

/* A string, or an array of strings: call fn on each. */
static int each_str(const struct ctx *x, const struct tg_conf_entry *e,
                    int (*fn)(const struct ctx *, const char *, void *, uint32_t), void *arg)
{
    const struct tg_conf_value *v = &e->value;
    if (v->type == TG_CONF_STRING)
        return fn(x, v->u.str.s, arg, v->line);
    if (v->type != TG_CONF_ARRAY)
        return fail(x, e->line, "%s: expected a string or an array of strings", e->key);
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const struct tg_conf_value *it = &v->u.arr.v[i];
        if (it->type != TG_CONF_STRING)
            return fail(x, it->line, "%s: expected strings in the array", e->key);
        if (fn(x, it->u.str.s, arg, it->line) != 0)
            return -1;
    }
    return 0;
}

static int add_listen(const struct ctx *x, const char *s, void *arg, uint32_t line)
{
    struct rt_server_opts *o = x->server;
    bool adv = arg != NULL;
    struct tg_key_addr *v = adv ? o->advertise : o->listen;
    int *n = adv ? &o->n_advertise : &o->n_listen;
    if (*n >= RT_MAX_LISTEN)
        return fail(x, line, "too many addresses (at most 8): %s", s);
    if (rt_addr_parse(s, &v[*n]) != 0)
        return fail(x, line, "'%s' is not ADDR:PORT (e.g. 0.0.0.0:7443)", s);
    (*n)++;
    return 0;
}

static int add_iface(const struct ctx *x, const char *s, void *arg, uint32_t line)
{
    struct rt_client_opts *o = x->client;
    if (o->n_ifaces >= TG_MAX_UPLINKS || strlen(s) >= 16)
        return fail(x, line, "interface '%s': too many interfaces or name too long", s);
    snprintf(o->ifaces[o->n_ifaces++], 16, "%s", s);
    return 0;
}

static int add_prefix(const struct ctx *x, const char *s, void *arg, uint32_t line)
{
    struct rt_client_opts *o = x->client;
    bool excl = arg != NULL;
    struct rt_prefix *v = excl ? o->excludes : o->routes;
    int *n = excl ? &o->n_excludes : &o->n_routes;
    if (*n >= RT_MAX_PREFIXES || rt_prefix_parse(s, &v[*n], false) != 0)
        return fail(x, line, "'%s' is not an IPv4 prefix like 203.0.113.0/24", s);
    (*n)++;
    return 0;
}

static int add_dns(const struct ctx *x, const char *s, void *arg, uint32_t line)
{
    struct rt_client_opts *o = x->client;
    char host[64];
    snprintf(host, sizeof host, "%s", s);
    char *colon = strchr(host, ':'); /* the seed wrote 1.1.1.1:53 */
    if (colon != NULL) {
        if (strcmp(colon, ":53") != 0)
            return fail(x, line, "'%s': only port 53 is supported for DNS servers", s);
        *colon = '\0';
    }
    if (o->n_dns >= RT_MAX_DNS || rt_ipv4_parse(host, o->dns_servers[o->n_dns]) != 0)
        return fail(x, line, "'%s' is not an IPv4 resolver address", s);
    o->n_dns++;
    return 0;
}

static int duration(const struct ctx *x, const struct tg_conf_entry *e, tg_time *us)
{
    struct tg_conf_error err;
    if (e->value.type == TG_CONF_INT && e->value.u.i > 0) { /* bare seconds */
        *us = TG_SEC((uint64_t)e->value.u.i);
        return 0;
    }
    return conv(x, tg_conf_duration(&e->value, us, &err), &err);
}

static int common_key(const struct ctx *x, const char *table, const struct tg_conf_entry *e,
                      struct rt_common_opts *c)
{
    struct tg_conf_error err;
    const char *k = e->key;
    if (strcmp(table, "transport") == 0) {
        if (strcmp(k, "send_buffer_size") == 0 || strcmp(k, "recv_buffer_size") == 0) {
            uint64_t b;
            if (conv(x, tg_conf_bytes(&e->value, &b, &err), &err) != 0)
                return -1;
            if (b < 65536 || b > (1u << 30))
                return fail(x, e->line, "%s: expected 64KiB..1GiB", k);
            if ((int)b > c->buffer_bytes || strcmp(k, "send_buffer_size") == 0)
                c->buffer_bytes = (int)b;
            return 0;
        }
        if (strcmp(k, "mtu") == 0) {
            if (e->value.type != TG_CONF_INT || e->value.u.i < 576 || e->value.u.i > 9000)
                return fail(x, e->line, "mtu: expected an integer 576..9000");
            c->mtu = (unsigned)e->value.u.i;
            return 0;
        }
        if (strcmp(k, "ip_version") == 0 || strcmp(k, "io_timeout") == 0 ||
            strcmp(k, "reuse_addr") == 0)
            return 0; /* meaningless for one UDP socket per uplink: harmless */
        if (strcmp(k, "tcp_nodelay") == 0 || strcmp(k, "keepalive_interval") == 0 ||
            strcmp(k, "mss") == 0 || strcmp(k, "tcp_fast_open") == 0 ||
            strcmp(k, "reuse_port") == 0)
            return fail(x, e->line,
                        "%s: not supported (Triglav carries uplinks over UDP only; there is no "
                        "TCP fallback)",
                        k);
        return 1;
    }
    if (strcmp(table, "metrics") == 0) {
        if (strcmp(k, "enabled") == 0) {
            bool b;
            if (get_bool(x, e, &b) != 0)
                return -1;
            if (b && c->metrics.port == 0) { /* the seed's default address */
                c->metrics = (struct tg_key_addr){
                    .type = TG_ADDR_IPV4, .addr = {127, 0, 0, 1}, .port = 9091};
            }
            c->has_metrics = b;
            return 0;
        }
        if (strcmp(k, "listen_addr") == 0 || strcmp(k, "bind_address") == 0) {
            const char *s;
            if (get_str(x, e, &s) != 0)
                return -1;
            if (rt_addr_parse(s, &c->metrics) != 0)
                return fail(x, e->line, "%s '%s' is not ADDR:PORT", k, s);
            return 0;
        }
        if (strcmp(k, "collection_interval") == 0)
            return 0; /* samples are taken when scraped */
        return 1;
    }
    if (strcmp(table, "logging") == 0) {
        if (strcmp(k, "level") == 0) {
            const char *s;
            if (get_str(x, e, &s) != 0)
                return -1;
            if (strcmp(s, "debug") == 0 || strcmp(s, "trace") == 0)
                c->verbose = 1;
            else if (strcmp(s, "info") != 0 && strcmp(s, "warn") != 0 && strcmp(s, "error") != 0)
                return fail(x, e->line, "level '%s': expected info or debug", s);
            return 0;
        }
        if (strcmp(k, "file") == 0)
            return get_copy(x, e, c->log_file, sizeof c->log_file);
        if (strcmp(k, "format") == 0 || strcmp(k, "color") == 0)
            return 0;
        return 1;
    }
    return 1;
}

static int server_key(const struct ctx *x, const struct tg_conf_entry *e)
{
    struct rt_server_opts *o = x->server;
    const char *k = e->key;
    const char *s;
    if (strcmp(k, "listen_addrs") == 0 || strcmp(k, "listen") == 0) {
        o->n_listen = 0;
        return each_str(x, e, add_listen, NULL);
    }
    if (strcmp(k, "advertise") == 0)
        return each_str(x, e, add_listen, (void *)1);
    if (strcmp(k, "key_file") == 0)
        return get_copy(x, e, o->key_file, sizeof o->key_file);
    if (strcmp(k, "tun_name") == 0)
        return get_copy(x, e, o->tun_name, sizeof o->tun_name);
    if (strcmp(k, "egress") == 0)
        return get_copy(x, e, o->egress, sizeof o->egress);
    if (strcmp(k, "pool") == 0) {
        if (get_str(x, e, &s) != 0)
            return -1;
        if (rt_prefix_parse(s, &o->pool, false) != 0)
            return fail(x, e->line, "pool '%s' is not an IPv4 prefix", s);
        return 0;
    }
    if (strcmp(k, "max_connections") == 0 || strcmp(k, "max_sessions") == 0) {
        if (e->value.type != TG_CONF_INT || e->value.u.i < 1)
            return fail(x, e->line, "%s: expected a positive integer", k);
        o->max_sessions = e->value.u.i > 100000 ? 100000 : (uint32_t)e->value.u.i;
        return 0;
    }
    if (strcmp(k, "idle_timeout") == 0)
        return duration(x, e, &o->idle_timeout_us);
    if (strcmp(k, "enabled") == 0)
        return 0;
    if (strcmp(k, "tcp_fallback") == 0 || strcmp(k, "rate_limit") == 0) {
        bool on = e->value.type == TG_CONF_BOOL ? e->value.u.b
                                                : e->value.type == TG_CONF_INT && e->value.u.i != 0;
        if (on)
            return fail(x, e->line,
                        "%s: not implemented (UDP only; handshakes are rate-limited per source "
                        "already); remove it or set it to false/0",
                        k);
        return 0;
    }
    return 1;
}

static int client_key(const struct ctx *x, const struct tg_conf_entry *e)
{
    struct rt_client_opts *o = x->client;
    const char *k = e->key;
    const char *s;
    if (strcmp(k, "auth_key") == 0 || strcmp(k, "key") == 0)
        return get_copy(x, e, o->key, sizeof o->key);
    if (strcmp(k, "interfaces") == 0 || strcmp(k, "uplinks") == 0)
        return each_str(x, e, add_iface, NULL);
    if (strcmp(k, "routes") == 0 || strcmp(k, "route") == 0)
        return each_str(x, e, add_prefix, NULL);
    if (strcmp(k, "exclude") == 0)
        return each_str(x, e, add_prefix, (void *)1);
    if (strcmp(k, "dns_server") == 0)
        return each_str(x, e, add_dns, NULL);
    if (strcmp(k, "auto_discover") == 0)
        return get_bool(x, e, &o->auto_discover);
    if (strcmp(k, "full_tunnel") == 0)
        return get_bool(x, e, &o->full_tunnel);
    if (strcmp(k, "dns") == 0)
        return get_bool(x, e, &o->dns);
    if (strcmp(k, "capture") == 0)
        return get_copy(x, e, o->capture, sizeof o->capture);
    if (strcmp(k, "tun_name") == 0)
        return get_copy(x, e, o->tun_name, sizeof o->tun_name);
    if (strcmp(k, "connect_timeout") == 0)
        return duration(x, e, &o->connect_timeout_us);
    if (strcmp(k, "reconnect_after") == 0)
        return duration(x, e, &o->reconnect_after_us);
    if (strcmp(k, "enabled") == 0)
        return 0;
    if (strcmp(k, "ipv4") == 0) {
        if (get_str(x, e, &s) != 0)
            return -1;
        if (rt_prefix_parse(s, &o->ipv4, true) != 0)
            return fail(x, e->line, "ipv4 '%s' is not an IPv4 address", s);
        o->has_ipv4 = true;
        return 0;
    }
    if (strcmp(k, "strategy") == 0) {
        if (get_str(x, e, &s) != 0)
            return -1;
        if (rt_parse_strategy(s, &o->strategy) != 0)
            return fail(x, e->line, "strategy '%s' is not known (see triglav tun --help)", s);
        o->strategy_set = true;
        return 0;
    }
    if (strcmp(k, "aggregation") == 0) {
        if (get_str(x, e, &s) != 0)
            return -1;
        if (tg_aggregation_parse(s, &o->aggregation) != TG_OK)
            return fail(x, e->line, "aggregation '%s': expected none, full or adaptive", s);
        o->aggregation_set = true;
        return 0;
    }
    if (strcmp(k, "socks_port") == 0 || strcmp(k, "http_proxy_port") == 0)
        return fail(x, e->line, "%s: proxy modes are not implemented (use triglav tun)", k);
    return 1;
}

static int load(struct ctx *x, struct rt_common_opts *c)
{
    static char text[RT_FILE_MAX + 1];
    ssize_t n = rt_file_read(x->path, text, sizeof text);
    if (n < 0) {
        fprintf(stderr, "triglav: cannot read config %s: %s%s\n", x->path, rt_file_strerror((int)n),
                n == -EFBIG ? " (a config file has at most 1 MiB)" : "");
        return -1;
    }
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    memset(&err, 0, sizeof err);
    int rc = tg_conf_parse(text, (size_t)n, NULL, &doc, &err);
    if (rc != TG_OK) {
        fprintf(stderr, "triglav: %s:%u:%u: %s\n", x->path, err.line, err.col,
                rc == TG_ERR_PARSE ? printable(err.msg) : tg_strerror(rc));
        return -1;
    }
    rc = 0;
    for (size_t si = 0; si < doc->n_sections && rc == 0; si++) {
        const struct tg_conf_section *sec = &doc->sections[si];
        const char *t = sec->name;
        bool known = (t[0] == '\0' && sec->n_entries == 0) || strcmp(t, "transport") == 0 ||
                     strcmp(t, "metrics") == 0 || strcmp(t, "logging") == 0 ||
                     strcmp(t, "server") == 0 || strcmp(t, "client") == 0 ||
                     strcmp(t, "multipath") == 0;
        if (!known || sec->is_array_element || (t[0] == '\0' && sec->n_entries > 0)) {
            rc = fail(x, sec->n_entries > 0 && t[0] == '\0' ? sec->entries[0].line : sec->line,
                      "unknown table [%s]: expected [server], [client], [transport], [metrics] "
                      "or [logging]",
                      t);
            break;
        }
        for (size_t ei = 0; ei < sec->n_entries && rc == 0; ei++) {
            const struct tg_conf_entry *e = &sec->entries[ei];
            int r = common_key(x, t, e, c);
            if (r == 1 && strcmp(t, "server") == 0)
                r = x->server != NULL ? server_key(x, e) : 0; /* a shared file: not ours */
            else if (r == 1 && strcmp(t, "client") == 0)
                r = x->client != NULL ? client_key(x, e) : 0;
            else if (r == 1 && strcmp(t, "multipath") == 0 && x->client != NULL &&
                     (strcmp(e->key, "strategy") == 0 || strcmp(e->key, "aggregation") == 0))
                r = client_key(x, e);
            else if (r == 1 && strcmp(t, "multipath") == 0)
                r = 0;
            if (r == 1)
                r = fail(x, e->line, "unknown key '%s' in [%s]", e->key, t);
            rc = r;
        }
    }
    tg_conf_free(doc);
    return rc;
}

int rt_config_load_client(const char *path, struct rt_client_opts *o)
{
    struct ctx x = {.path = path, .client = o};
    return load(&x, &o->c);
}

int rt_config_load_server(const char *path, struct rt_server_opts *o)
{
    struct ctx x = {.path = path, .server = o};
    return load(&x, &o->c);
}
