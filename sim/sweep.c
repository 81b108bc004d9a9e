/*
 * sweep.c: a scenario's text with one key set (sweep.h). The text is read
 * line by line for table headers ([scenario], [[uplink]], ...) and `key =`
 * lines; everything else is copied as it is, so the loader sees the file
 * the user wrote except for the swept line, and checks it the same way.
 */
#define _POSIX_C_SOURCE 200809L

#include "sweep.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "scenario.h"

enum kind { K_NONE, K_SCENARIO, K_UPLINK, K_EVENT, K_TRAFFIC, K_OTHER };

static const char *const kind_word[] = {"", "scenario", "uplink", "event", "traffic", ""};

struct line {
    const char *p;
    size_t len; /* with its newline */
};

struct table {
    enum kind kind;
    size_t idx;          /* among the tables of its kind */
    size_t head, end;    /* header line, first line after the table */
    char name[SIM_NAME_MAX];
    size_t name_line;    /* SIZE_MAX: none */
};

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->len + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

void sim_sweep_clear(struct sim_sweep *s)
{
    free(s->key);
    for (size_t i = 0; i < s->n; i++)
        free(s->values[i]);
    memset(s, 0, sizeof *s);
}

int sim_sweep_parse(const char *arg, struct sim_sweep *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        sim_errf(err, errlen,
                 "--sweep: expected KEY=V1,V2,... (e.g. uplink.path2.delay=10ms,50ms), got '%s'",
                 arg);
        return -1;
    }
    out->key = strndup(arg, (size_t)(eq - arg));
    const char *v = eq + 1;
    int depth = 0;
    const char *start = v;
    for (const char *p = v;; p++) {
        if (*p == '(' || *p == '[')
            depth++;
        else if ((*p == ')' || *p == ']') && depth > 0)
            depth--;
        if (*p == '\0' || (*p == ',' && depth == 0)) {
            size_t n = (size_t)(p - start);
            while (n > 0 && isspace((unsigned char)*start))
                start++, n--;
            while (n > 0 && isspace((unsigned char)start[n - 1]))
                n--;
            if (n == 0 || out->n == SIM_SWEEP_MAX_VALUES) {
                sim_errf(err, errlen, "--sweep %s: expected 1 to %d non-empty values separated by "
                         "commas, got '%s'", out->key, SIM_SWEEP_MAX_VALUES, v);
                sim_sweep_clear(out);
                return -1;
            }
            out->values[out->n++] = strndup(start, n);
            start = p + 1;
        }
        if (*p == '\0')
            break;
    }
    if (out->key == NULL) {
        sim_errf(err, errlen, "--sweep: out of memory");
        sim_sweep_clear(out);
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        if (out->values[i] == NULL) {
            sim_errf(err, errlen, "--sweep: out of memory");
            sim_sweep_clear(out);
            return -1;
        }
    return 0;
}

/* "[name]" or "[[name]]" alone on the line (a comment may follow): its kind. */
static enum kind header_kind(const struct line *l)
{
    const char *p = l->p, *e = l->p + l->len;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e || *p != '[')
        return K_NONE;
    int open = 0;
    while (p < e && *p == '[')
        p++, open++;
    const char *w = p;
    while (p < e && (isalnum((unsigned char)*p) || *p == '_'))
        p++;
    size_t wl = (size_t)(p - w);
    int close = 0;
    while (p < e && *p == ']')
        p++, close++;
    if (wl == 0 || open > 2 || open != close)
        return K_NONE;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p < e && *p != '#' && *p != '\n' && *p != '\r')
        return K_NONE;
    for (int k = K_SCENARIO; k <= K_TRAFFIC; k++)
        if (strlen(kind_word[k]) == wl && strncmp(kind_word[k], w, wl) == 0)
            return (enum kind)k;
    return K_OTHER;
}

/* If the line is `key = ...`, where its value starts (else NULL). */
static const char *key_value(const struct line *l, const char *key)
{
    const char *p = l->p, *e = l->p + l->len;
    size_t kl = strlen(key);
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(e - p) < kl || strncmp(p, key, kl) != 0)
        return NULL;
    p += kl;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e || *p != '=')
        return NULL;
    p++;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A value that the format reads as a string: quote it. */
static bool wants_quotes(const char *value, const char *old)
{
    if (value[0] == '"')
        return false;
    if (old != NULL)
        return old[0] == '"';
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0)
        return false;
    for (const char *p = value; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return isalpha((unsigned char)value[0]);
}

static void put_value(struct buf *b, const char *value, bool quote)
{
    if (quote)
        puts_(b, "\"");
    puts_(b, value);
    if (quote)
        puts_(b, "\"");
}

static bool is_index(const char *s, size_t *out)
{
    if (!*s)
        return false;
    size_t v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 1000)
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return true;
}

char *sim_sweep_apply(const char *path, const char *text, size_t len, const char *key,
                      const char *value, size_t *out_len, char *err, size_t errlen)
{
    size_t n_lines = 0, cap_lines = 256, n_tab = 0, cap_tab = 16;
    struct line *lines = malloc(cap_lines * sizeof *lines);
    struct table *tabs = malloc(cap_tab * sizeof *tabs);
    struct buf b = {0};
    char *ret = NULL;
    if (!lines || !tabs)
        goto nomem;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
        if (n_lines == cap_lines) {
            struct line *q = realloc(lines, (cap_lines *= 2) * sizeof *lines);
            if (!q)
                goto nomem;
            lines = q;
        }
        lines[n_lines++] = (struct line){text + i, l};
        i += l;
    }
    size_t count[K_OTHER + 1] = {0};
    for (size_t i = 0; i < n_lines; i++) {
        enum kind k = header_kind(&lines[i]);
        if (k != K_NONE) {
            if (n_tab > 0)
                tabs[n_tab - 1].end = i;
            if (n_tab == cap_tab) {
                struct table *q = realloc(tabs, (cap_tab *= 2) * sizeof *tabs);
                if (!q)
                    goto nomem;
                tabs = q;
            }
            tabs[n_tab++] = (struct table){k, count[k]++, i, n_lines, "", SIZE_MAX};
            continue;
        }
        const char *v = n_tab ? key_value(&lines[i], "name") : NULL;
        if (v && *v == '"') {
            struct table *t = &tabs[n_tab - 1];
            size_t q = strcspn(v + 1, "\"\n");
            snprintf(t->name, sizeof t->name, "%.*s", (int)q, v + 1);
            t->name_line = i;
        }
    }

    /* uplinks = N: the first N [[uplink]] tables, or the last one repeated */
    if (strcmp(key, "uplinks") == 0) {
        size_t want;
        if (!is_index(value, &want) || want < 1 || want > SIM_MAX_UPLINKS) {
            sim_errf(err, errlen, "--sweep uplinks=%s: expected a whole number of uplinks from 1 "
                     "to %d", value, SIM_MAX_UPLINKS);
            goto fail;
        }
        const struct table *last = NULL;
        for (size_t t = 0; t < n_tab; t++)
            if (tabs[t].kind == K_UPLINK)
                last = &tabs[t];
        if (last == NULL) {
            sim_errf(err, errlen, "--sweep uplinks: %s has no [[uplink]] table", path);
            goto fail;
        }
        size_t t = 0;
        for (size_t i = 0; i < n_lines; i++) {
            while (t + 1 < n_tab && tabs[t + 1].head <= i)
                t++;
            bool in = n_tab && tabs[t].head <= i && i < tabs[t].end;
            if (!(in && tabs[t].kind == K_UPLINK && tabs[t].idx >= want))
                put(&b, lines[i].p, lines[i].len);
            if (i + 1 == last->end || (i + 1 == n_lines && last->end == n_lines)) {
                if (lines[i].len && lines[i].p[lines[i].len - 1] != '\n')
                    puts_(&b, "\n");
                for (size_t k = last->idx + 1; k < want; k++) {
                    for (size_t j = last->head; j < last->end; j++) {
                        if (j == last->name_line) {
                            char nm[SIM_NAME_MAX + 32];
                            snprintf(nm, sizeof nm, "name = \"%s_%zu\"\n", last->name, k + 1);
                            puts_(&b, nm);
                        } else {
                            put(&b, lines[j].p, lines[j].len);
                        }
                    }
                    if (last->end > last->head && lines[last->end - 1].len &&
                        lines[last->end - 1].p[lines[last->end - 1].len - 1] != '\n')
                        puts_(&b, "\n");
                }
            }
        }
        goto done;
    }

    /* SECTION[.SEL].KEY */
    char sect[32], sel[SIM_NAME_MAX], field[64];
    const char *d1 = strchr(key, '.');
    enum kind kind = K_NONE;
    if (d1 != NULL && (size_t)(d1 - key) < sizeof sect) {
        snprintf(sect, sizeof sect, "%.*s", (int)(d1 - key), key);
        for (int k = K_SCENARIO; k <= K_TRAFFIC; k++)
            if (strcmp(sect, kind_word[k]) == 0)
                kind = (enum kind)k;
    }
    if (kind == K_NONE) {
        sim_errf(err, errlen, "--sweep %s: expected scenario.KEY, uplink.SEL.KEY, event.SEL.KEY, "
                 "traffic.SEL.KEY (SEL: a name, an index from 0, or *) or uplinks", key);
        goto fail;
    }
    sel[0] = '\0';
    const char *rest = d1 + 1;
    if (kind != K_SCENARIO) {
        const char *d2 = strrchr(rest, '.');
        if (d2 == NULL || d2 == rest || (size_t)(d2 - rest) >= sizeof sel) {
            sim_errf(err, errlen, "--sweep %s: expected %s.SEL.KEY (SEL: a name, an index from 0, "
                     "or *)", key, sect);
            goto fail;
        }
        snprintf(sel, sizeof sel, "%.*s", (int)(d2 - rest), rest);
        rest = d2 + 1;
    }
    if (!*rest || strlen(rest) >= sizeof field || strchr(rest, '.')) {
        sim_errf(err, errlen, "--sweep %s: expected a key of [%s%s%s] after the last '.'", key,
                 kind == K_SCENARIO ? "" : "[", sect, kind == K_SCENARIO ? "" : "]");
        goto fail;
    }
    for (const char *p = rest; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') {
            sim_errf(err, errlen, "--sweep %s: '%s' is not a key name (letters, digits, _)", key,
                     rest);
            goto fail;
        }
    snprintf(field, sizeof field, "%s", rest);
    size_t idx = 0;
    bool by_idx = kind != K_SCENARIO && is_index(sel, &idx), all = strcmp(sel, "*") == 0;
    size_t matched = 0;
    for (size_t t = 0; t < n_tab; t++) {
        struct table *tb = &tabs[t];
        bool m = tb->kind == kind &&
                 (kind == K_SCENARIO || all || (by_idx ? tb->idx == idx : strcmp(tb->name, sel) == 0));
        if (!m)
            tb->kind = K_NONE; /* not touched */
        else
            matched++;
    }
    if (matched == 0) {
        char names[512] = "";
        size_t nl = 0;
        for (size_t t = 0; t < n_tab && nl < sizeof names; t++)
            if (tabs[t].kind == K_NONE && header_kind(&lines[tabs[t].head]) == kind)
                nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", nl ? ", " : "",
                                       tabs[t].name[0] ? tabs[t].name : "(unnamed)");
        if (kind == K_SCENARIO)
            sim_errf(err, errlen, "--sweep %s: %s has no [scenario] table", key, path);
        else
            sim_errf(err, errlen, "--sweep %s: %s has no [[%s]] %s '%s' (expected a name, an "
                     "index from 0, or *; its [[%s]] tables: %s)", key, path, sect,
                     by_idx ? "number" : "named", sel, sect, names[0] ? names : "none");
        goto fail;
    }
    size_t t = 0;
    for (size_t i = 0; i < n_lines; i++) {
        while (t + 1 < n_tab && tabs[t + 1].head <= i)
            t++;
        const struct table *tb = n_tab && tabs[t].head <= i ? &tabs[t] : NULL;
        const char *old = tb && tb->kind != K_NONE && i != tb->head ? key_value(&lines[i], field)
                                                                    : NULL;
        if (old == NULL) {
            put(&b, lines[i].p, lines[i].len);
        } else {
            if (*old == '[' && memchr(old, ']', (size_t)(lines[i].p + lines[i].len - old)) == NULL) {
                sim_errf(err, errlen, "--sweep %s: %s:%zu: the value spans several lines; a "
                         "sweep replaces one-line values only", key, path, i + 1);
                goto fail;
            }
            put(&b, lines[i].p, (size_t)(old - lines[i].p));
            put_value(&b, value, wants_quotes(value, old));
            puts_(&b, "\n");
        }
        if (tb && tb->kind != K_NONE && i == tb->head) {
            bool has = false;
            for (size_t j = tb->head + 1; j < tb->end && !has; j++)
                has = key_value(&lines[j], field) != NULL;
            if (!has) {
                if (lines[i].len && lines[i].p[lines[i].len - 1] != '\n')
                    puts_(&b, "\n");
                puts_(&b, field);
                puts_(&b, " = ");
                put_value(&b, value, wants_quotes(value, NULL));
                puts_(&b, "\n");
            }
        }
    }
done:
    if (b.oom)
        goto nomem;
    if (b.p == NULL)
        puts_(&b, "");
    if (b.oom)
        goto nomem;
    *out_len = b.len;
    ret = b.p;
    b.p = NULL;
    goto fail;
nomem:
    sim_errf(err, errlen, "--sweep %s: out of memory", key);
fail:
    free(b.p);
    free(lines);
    free(tabs);
    return ret;
}
