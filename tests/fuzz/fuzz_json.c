/* Fuzz the JSON reader of the live program's commands (runtime/json.c):
 * any bytes parse or fail without reading outside them; every node's text
 * lies inside the input and its children inside its own; a member found by
 * its key is the first with that key; a string read out and written again
 * with rt_json_str reads back the same. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* json.c writes through stats.c's rt_text_add; this is the same contract. */
void rt_text_add(struct rt_text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}

static void round_trip(const char *s)
{
    char buf[2048], back[600], err[100];
    struct rt_text t = {.buf = buf, .cap = sizeof buf};
    rt_json_str(&t, s);
    if (t.len + 1 >= t.cap)
        return; /* cut */
    struct rt_json j;
    CHECK(rt_json_parse(buf, t.len, &j, err, sizeof err) == 0);
    CHECK(j.count == 1 && j.n[0].type == RT_JSTR);
    rt_json_str_get(&j, 0, back, sizeof back, "");
    CHECK(strcmp(back, s) == 0);
    rt_json_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size > 0 ? size : 1); /* exactly sized: ASan sees a byte past it */
    CHECK(in != NULL);
    memcpy(in, data, size);
    struct rt_json j;
    char err[100];
    if (rt_json_parse(in, size, &j, err, sizeof err) != 0) {
        CHECK(err[0] != '\0');
        rt_json_free(&j);
        free(in);
        return 0;
    }
    CHECK(j.count >= 1 && j.n[0].raw >= in);
    for (int i = 0; i < j.count; i++) {
        const struct rt_jnode *n = &j.n[i];
        CHECK(n->raw >= in && n->raw + n->raw_len <= in + size && n->raw_len > 0);
        for (int c = n->child; c >= 0; c = j.n[c].next) {
            CHECK(c > i && c < j.count);
            CHECK(j.n[c].raw >= n->raw && j.n[c].raw + j.n[c].raw_len <= n->raw + n->raw_len);
            if (n->type == RT_JOBJ) {
                char key[64];
                CHECK(j.n[c].key != NULL);
                if (j.n[c].key_len < sizeof key && memchr(j.n[c].key, '\0', j.n[c].key_len) == NULL) {
                    memcpy(key, j.n[c].key, j.n[c].key_len);
                    key[j.n[c].key_len] = '\0';
                    int f = rt_json_get(&j, i, key);
                    CHECK(f >= 0 && f <= c && j.n[f].key_len == j.n[c].key_len);
                }
            }
        }
        if (n->type == RT_JARR)
            CHECK(rt_json_at(&j, i, rt_json_len(&j, i)) == -1);
        if (n->type == RT_JSTR) {
            char s[512];
            rt_json_str_get(&j, i, s, sizeof s, "");
            round_trip(s);
        }
    }
    rt_json_free(&j);
    free(in);
    return 0;
}
