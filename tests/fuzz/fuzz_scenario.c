/* Fuzz the scenario loader with its trace files, all in memory (no file is
 * written): the input is a scenario text, then a line "%%", then the text of
 * the trace file `t` beside it, which the scenario may name as `trace = "t"`,
 * `throughput = "t"` or `"data:t"`; any other path is a missing file.
 *
 * Any input either loads, and then every uplink's specs are within their
 * documented ranges and every trace is sorted within its period, or is
 * refused with "fuzz/s.scn..." in a non-empty message that never contains a
 * byte sequence planted in the trace. The trace text alone goes through both
 * trace parsers too, with the same two outcomes ("fuzz/t..." when refused). */
#include "sim/scenario.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCN_PATH   "fuzz/s.scn"
#define TRACE_PATH "fuzz/t"
#define DATA_DIR   "fuzz-data"

struct trace_text {
    const char *text;
    size_t len;
};

static int read_trace(void *ctx, const char *path, const char **text, size_t *len)
{
    const struct trace_text *t = ctx;
    if (strcmp(path, TRACE_PATH) != 0 && strcmp(path, DATA_DIR "/t") != 0) {
        errno = ENOENT;
        return -1;
    }
    *text = t->text;
    *len = t->len;
    return 0;
}

static bool contains(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return true;
    return false;
}

static void check_trace(const struct sim_trace *t)
{
    if (t->period_us == 0 || !(t->mean_bps >= 0))
        __builtin_trap();
    for (size_t i = 0; i < t->n_opp; i++)
        if (t->opp_us[i] > t->period_us || (i && t->opp_us[i] < t->opp_us[i - 1]))
            __builtin_trap();
    for (size_t i = 0; i < t->n_steps; i++)
        if (t->steps[i].at_us >= t->period_us || (i && t->steps[i].at_us < t->steps[i - 1].at_us) ||
            !(t->steps[i].rate_bps >= 0))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n%%\n";
    static const char secret[] = "PLANTED-SECRET";
    const uint8_t *cut = NULL;
    for (size_t i = 0; i + sizeof sep - 1 <= size && cut == NULL; i++)
        if (memcmp(data + i, sep, sizeof sep - 1) == 0)
            cut = data + i;
    size_t scn_len = cut ? (size_t)(cut - data) : size;
    const uint8_t *tr = cut ? cut + sizeof sep - 1 : data + size;
    struct trace_text t = {(const char *)tr, (size_t)(data + size - tr)};
    const struct sim_scenario_files files = {read_trace, &t};
    /* the scenario's own text may be quoted by the parser (core/conf.c); the
     * trace's never */
    bool planted = contains(tr, t.len, secret) && !contains(data, scn_len, secret);

    struct sim_scenario *s = NULL;
    char err[1024] = "";
    int rc = sim_scenario_load_text(SCN_PATH, (const char *)data, scn_len, DATA_DIR, &files, &s,
                                    err, sizeof err);
    if (rc == 0) {
        if (s == NULL || s->n_uplinks < 1 || s->n_uplinks > SIM_MAX_UPLINKS || s->n_flows < 1 ||
            s->n_flows > SIM_MAX_FLOWS || s->n_events > SIM_MAX_EVENTS ||
            s->n_traces > 2 * SIM_MAX_UPLINKS || s->duration_us == 0 || s->iterations < 1)
            __builtin_trap();
        for (size_t i = 0; i < s->n_traces; i++)
            check_trace(&s->traces[i]);
        sim_scenario_free(s);
    } else if (rc != -1 || s != NULL || strncmp(err, SCN_PATH, strlen(SCN_PATH)) != 0 ||
               (planted && strstr(err, secret) != NULL)) {
        __builtin_trap();
    }

    for (int kind = SIM_TRACE_MAHIMAHI; kind <= SIM_TRACE_THROUGHPUT; kind++) {
        struct sim_trace tt;
        err[0] = '\0';
        if (sim_trace_load_text(&tt, (enum sim_trace_kind)kind, TRACE_PATH, t.text, t.len,
                                kind == SIM_TRACE_THROUGHPUT ? 3000000 : 0, err, sizeof err) == 0) {
            check_trace(&tt);
            sim_trace_clear(&tt);
        } else if (strncmp(err, TRACE_PATH ":", strlen(TRACE_PATH) + 1) != 0 ||
                   strstr(err, secret) != NULL || tt.opp_us != NULL || tt.steps != NULL) {
            __builtin_trap();
        }
    }
    return 0;
}
