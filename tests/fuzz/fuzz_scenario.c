/* Fuzz the scenario loader with its trace files: the input is a scenario
 * text, then a line "%%", then the text of the file `t` beside it (which the
 * scenario may name as `trace = "t"` or `throughput = "t"`). Any input either
 * loads, and then every uplink's specs are within their documented ranges,
 * or is refused with "file:line..." in a non-empty message that never
 * contains a byte sequence planted in the trace file. Both files live in one
 * temporary folder per process, rewritten for each input. */
#define _POSIX_C_SOURCE 200809L
#include "sim/scenario.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], scn_path[128], trace_path[128];

static void cleanup(void)
{
    unlink(scn_path);
    unlink(trace_path);
    rmdir(dir);
}

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/fuzz_scenario.XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(scn_path, sizeof scn_path, "%s/s.scn", dir);
        snprintf(trace_path, sizeof trace_path, "%s/t", dir);
        atexit(cleanup);
    }
    static const char sep[] = "\n%%\n";
    const uint8_t *cut = NULL;
    for (size_t i = 0; i + sizeof sep - 1 <= size && cut == NULL; i++)
        if (memcmp(data + i, sep, sizeof sep - 1) == 0)
            cut = data + i;
    size_t scn_len = cut ? (size_t)(cut - data) : size;
    const uint8_t *tr = cut ? cut + sizeof sep - 1 : data + size;
    if (write_file(scn_path, data, scn_len) != 0 ||
        write_file(trace_path, tr, (size_t)(data + size - tr)) != 0)
        abort();

    struct sim_scenario *s = NULL;
    char err[1024] = "";
    int rc = sim_scenario_load(scn_path, dir, &s, err, sizeof err);
    if (rc == 0) {
        if (s == NULL || s->n_uplinks < 1 || s->n_uplinks > SIM_MAX_UPLINKS ||
            s->n_flows > SIM_MAX_FLOWS || s->n_events > SIM_MAX_EVENTS)
            __builtin_trap();
        sim_scenario_free(s);
    } else {
        if (rc != -1 || s != NULL || err[0] == '\0' || strncmp(err, dir, strlen(dir)) != 0)
            __builtin_trap();
        /* the trace's bytes never come back in a message (the scenario's own
         * text may be quoted: it is what the user wrote) */
        static const char secret[] = "PLANTED-SECRET";
        bool in_scn = false;
        for (size_t i = 0; i + sizeof secret - 1 <= scn_len && !in_scn; i++)
            in_scn = memcmp(data + i, secret, sizeof secret - 1) == 0;
        if (!in_scn && strstr(err, secret) != NULL)
            __builtin_trap();
    }
    return 0;
}
