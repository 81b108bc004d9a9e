/* Fuzz the live program's config loader and writer (runtime/config.c,
 * optval.c, opts.c): any bytes load or fail without reading outside them;
 * a message, when there is one, is one line that starts with the name and a
 * line:col; what loaded, written as a config file, loads again and writes
 * the same text (the writer's output is always valid input, and no value
 * changes on the way). Both commands' loaders run on each input. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static char *write_out(unsigned cmd, const void *o, size_t *len)
{
    char *text = NULL;
    FILE *m = open_memstream(&text, len);
    CHECK(m != NULL);
    CHECK(rt_config_write(m, cmd, o, "fuzz") == 0);
    CHECK(fclose(m) == 0);
    return text;
}

static void one(unsigned cmd, const uint8_t *data, size_t size)
{
    static struct rt_client_opts c1, c2;
    static struct rt_server_opts s1, s2;
    void *a = cmd == RT_CMD_TUN ? (void *)&c1 : (void *)&s1;
    void *b = cmd == RT_CMD_TUN ? (void *)&c2 : (void *)&s2;
    if (cmd == RT_CMD_TUN) {
        rt_client_opts_default(&c1);
        rt_client_opts_default(&c2);
    } else {
        rt_server_opts_default(&s1);
        rt_server_opts_default(&s2);
    }
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *err = open_memstream(&msg, &msg_len);
    CHECK(err != NULL);
    int rc = rt_config_load_text(cmd, "f.toml", (const char *)data, size, a, err);
    CHECK(fclose(err) == 0);
    if (rc != 0) {
        /* "triglav: f.toml:LINE:COL: ..." on one line, no control bytes */
        unsigned line, col;
        CHECK(sscanf(msg, "triglav: f.toml:%u:%u: ", &line, &col) == 2);
        CHECK(msg_len > 0 && msg[msg_len - 1] == '\n' && strchr(msg, '\n') == msg + msg_len - 1);
        for (size_t i = 0; i + 1 < msg_len; i++)
            CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
        free(msg);
        return;
    }
    CHECK(msg_len == 0);
    free(msg);
    size_t n1, n2;
    char *t1 = write_out(cmd, a, &n1);
    CHECK(rt_config_load_text(cmd, "w.toml", t1, n1, b, NULL) == 0);
    char *t2 = write_out(cmd, b, &n2);
    CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0);
    free(t1);
    free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(RT_CMD_TUN, data, size);
    one(RT_CMD_SERVER, data, size);
    return 0;
}
