/*
 * replay_cmd.c: `triglav-sim replay`, a capture through one run of a
 * scenario (replay.h), its packets stored in the results database and the
 * delivered ones written to a capture. Exit status: 0 done, 1 error, 2 bad
 * usage.
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/error.h"
#include "db.h"
#include "replay.h"
#include "run.h"
#include "scenario.h"
#include "share.h"

#define DEFAULT_DB "results/triglav.db"
/* How long the run goes on after the last packet's time, so what is on the
 * way gets there; what is still in flight then counts as lost. */
#define DRAIN_US TG_SEC(5)

static const char usage[] =
    "usage: triglav-sim replay FILE.pcap --scenario FILE.scn [OPTIONS]\n"
    "\n"
    "Replays a packet capture (pcap or pcapng: Ethernet, raw IP or Linux cooked) through\n"
    "the tunnel over the scenario's simulated uplinks, open loop: each IP packet goes\n"
    "in at its capture time, counted from when the tunnel is up, on the laptop's side\n"
    "(up) or the outside (down). The scenario's [[traffic]] is not run. The run lasts\n"
    "the scenario's duration, or until 5 s after the last packet if that is later;\n"
    "a packet not delivered by then is lost. Non-IP frames are skipped.\n"
    "\n"
    "options:\n"
    "  --scenario FILE.scn   the uplinks and events (required; a name such as `ice`\n"
    "                        is found as `triglav-sim run` finds it)\n"
    "  --strategy S          scheduling strategy (default: the scenario's first)\n"
    "  --aggregation A       none, full, adaptive (default: the scenario's first)\n"
    "  --direction D         auto (default), up or down: every packet that way.\n"
    "                        auto: the laptop is the address seen in the most packets\n"
    "                        (ties: a private one, then the first source); packets\n"
    "                        from it go up, to it down, others up if their source is\n"
    "                        private\n"
    "  --seed S              base seed, decimal or 0x-hex (default: the scenario's);\n"
    "                        the run uses iteration 0's seed, as `run` would\n"
    "  --out FILE.pcap       write the delivered packets, restored byte for byte, in\n"
    "                        arrival order (raw IP; timestamps: capture start + arrival)\n"
    "  --db PATH             results database (default " DEFAULT_DB "): one row in\n"
    "                        `replays`, one per packet in `replay_packets`\n"
    "  --no-db               do not store anything\n"
    "  --data-dir DIR        folder of the scenario's `data:` trace paths\n"
    "  --share-dir DIR       folder of the bundled scenarios and traces\n"
    "  -h, --help            this text\n"
    "\n"
    "The last line sums up: `injected: N delivered: M lost: L` (N = M + L), reordered\n"
    "packets and the one-way delay's p50 and p99.\n"
    "Exit status: 0 done, 1 error (unreadable or truncated capture, unsupported link\n"
    "type, database), 2 bad usage.\n"
    "\n"
    "example:\n"
    "  triglav-sim replay call.pcap --scenario scenarios/ice.scn --strategy redundant \\\n"
    "      --out delivered.pcap\n";

static const char *lost_reason(const struct sim_replay_packet *p, size_t tunnel_len, char *buf,
                               size_t cap)
{
    if (p->delivered_us != TG_TIME_NEVER)
        return NULL;
    if (p->sent_us == TG_TIME_NEVER)
        return "not sent";
    if (p->rc != TG_OK) {
        if (p->rc == TG_ERR_NOBUF && tunnel_len > 1500)
            return "too big";
        snprintf(buf, cap, "refused: %s", tg_strerror(p->rc));
        return buf;
    }
    return "network";
}

static int store(const char *db_path, const struct sim_db_replay *row,
                 const struct sim_replay *rp, int64_t *id, char *err, size_t errlen)
{
    size_t n = sim_replay_count(rp);
    struct sim_db_replay_packet *rows = calloc(n ? n : 1, sizeof *rows);
    char (*why)[96] = calloc(n ? n : 1, sizeof *why);
    if (rows == NULL || why == NULL) {
        free(rows);
        free(why);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sim_replay_packet *p = sim_replay_packet(rp, i);
        size_t tunnel_len = p->len + (p->version == 6 ? 20 : 0);
        rows[i] = (struct sim_db_replay_packet){
            .packet = i,
            .frame = p->frame,
            .up = p->from == SIM_SIDE_LAPTOP,
            .size_bytes = p->len,
            .capture_us = p->capture_us,
            .sent_us = p->sent_us,
            .delivered_us = p->delivered_us,
            .uplink_mask = p->uplinks,
            .reordered = p->reordered,
            .lost_reason = lost_reason(p, tunnel_len, why[i], sizeof why[i]),
        };
    }
    struct sim_db *db = NULL;
    int rc = sim_db_open(db_path, &db, err, errlen);
    if (rc == 0)
        rc = sim_db_insert_replay(db, row, rows, n, id, err, errlen);
    sim_db_close(db);
    free(rows);
    free(why);
    return rc;
}

static int run_replay(const char *pcap, const char *scn_path, const char *data_dir,
                      const char *strategy, const char *aggregation, const char *direction,
                      bool has_seed, uint64_t base_seed, const char *out, const char *db_path,
                      const char *command)
{
    enum sim_replay_mode mode = SIM_REPLAY_AUTO;
    if (strcmp(direction, "up") == 0)
        mode = SIM_REPLAY_UP;
    else if (strcmp(direction, "down") == 0)
        mode = SIM_REPLAY_DOWN;
    else if (strcmp(direction, "auto") != 0)
        return sim_usage_error("--direction: expected auto, up or down, got '%s'", direction);

    char err[1024];
    struct sim_scenario *sc = NULL;
    struct sim_replay *rp = NULL;
    struct sim_run_result *res = NULL;
    int ret = 1;
    if (sim_scenario_load(scn_path, data_dir, &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    struct sim_run_spec spec = {.sc = sc, .iteration = 0};
    spec.strategy = sc->strategies[0];
    spec.aggregation = sc->aggregations[0];
    if (strategy != NULL && tg_strategy_parse(strategy, &spec.strategy) != TG_OK) {
        fprintf(stderr, "%s: --strategy: unknown strategy '%s'; valid:", sim_cmd_name, strategy);
        for (int v = 0; v < TG_STRATEGY_COUNT; v++)
            fprintf(stderr, "%s %s", v ? "," : "", tg_strategy_name((enum tg_strategy)v));
        fputc('\n', stderr);
        ret = 2;
        goto out;
    }
    if (aggregation != NULL && tg_aggregation_parse(aggregation, &spec.aggregation) != TG_OK) {
        fprintf(stderr, "%s: --aggregation: unknown mode '%s'; valid: none, full, adaptive\n",
                sim_cmd_name, aggregation);
        ret = 2;
        goto out;
    }
    spec.seed = sim_iteration_seed(has_seed ? base_seed : sc->seed, sc, 0);
    if (sim_replay_load(pcap, mode, &rp, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        goto out;
    }
    res = malloc(sizeof *res);
    if (res == NULL) {
        fprintf(stderr, "%s: out of memory\n", sim_cmd_name);
        goto out;
    }
    spec.replay = sim_replay_source(rp, DRAIN_US);
    if (sim_run(&spec, res, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        goto out;
    }
    struct sim_replay_stats st;
    sim_replay_stats(rp, &st);
    if (st.oom || st.corrupt || st.unmatched) {
        fprintf(stderr,
                "%s: %s: the replay went wrong (out of memory: %s, corrupt: %" PRIu64
                ", unmatched: %" PRIu64 "); this is a bug, please report it\n",
                sim_cmd_name, pcap, st.oom ? "yes" : "no", st.corrupt, st.unmatched);
        goto out;
    }

    /* what the run lasted: the scenario, or the last packet + drain time */
    tg_time end = sc->duration_us;
    size_t n = sim_replay_count(rp);
    if (st.session_up_us != TG_TIME_NEVER && n > 0) {
        tg_time last = st.session_up_us + sim_replay_packet(rp, n - 1)->capture_us + DRAIN_US;
        if (last > end)
            end = last;
    }
    char uplinks[SIM_MAX_UPLINKS * (SIM_NAME_MAX + 2)] = "";
    for (size_t i = 0; i < sc->n_uplinks; i++) {
        size_t l = strlen(uplinks);
        snprintf(uplinks + l, sizeof uplinks - l, "%s%s", i ? "," : "", sc->uplinks[i].name);
    }

    if (out != NULL && sim_replay_write_pcap(rp, out, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        goto out;
    }
    int64_t id = 0;
    if (db_path != NULL) {
        struct sim_db_replay row = {
            .pcap = pcap,
            .scenario = sc->name,
            .scenario_file = scn_path,
            .scenario_hash = sc->content_hash,
            .strategy = spec.strategy,
            .aggregation = spec.aggregation,
            .seed = spec.seed,
            .direction = direction,
            .local_addr = sim_replay_local(rp),
            .uplinks = uplinks,
            .frames = st.frames,
            .skipped = st.skipped,
            .injected = st.injected,
            .delivered = st.delivered,
            .lost = st.lost,
            .reordered = st.reordered,
            .owd_p50_us = st.owd_p50_us,
            .owd_p99_us = st.owd_p99_us,
            .session_up_us = st.session_up_us,
            .duration_s = (double)end / 1e6,
            .command = command,
        };
        if (sim_make_parent(db_path) != 0)
            goto out;
        if (store(db_path, &row, rp, &id, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
            goto out;
        }
    }

    const char *local = sim_replay_local(rp);
    printf("%s: %" PRIu64 " records, %" PRIu64 " IP packets (%" PRIu64 " IPv6), %" PRIu64
           " non-IP skipped; %" PRIu64 " up, %" PRIu64 " down%s%s%s\n",
           pcap, st.frames, st.injected, st.ipv6, st.skipped, st.up, st.down,
           *local ? " (laptop " : "", local, *local ? ")" : "");
    printf("scenario %s (%s), %s, aggregation %s, seed 0x%016" PRIx64, sc->name, uplinks,
           tg_strategy_name(spec.strategy), tg_aggregation_name(spec.aggregation), spec.seed);
    if (st.session_up_us != TG_TIME_NEVER)
        printf(", tunnel up at %.1f ms\n", (double)st.session_up_us / 1e3);
    else
        printf(", the tunnel never came up\n");
    if (db_path != NULL || out != NULL) {
        if (db_path != NULL)
            printf("stored as replay %" PRId64 " in %s", id, db_path);
        if (out != NULL)
            printf("%sdelivered packets in %s", db_path != NULL ? "; " : "", out);
        putchar('\n');
    }
    printf("injected: %" PRIu64 " delivered: %" PRIu64 " lost: %" PRIu64 " (too big: %" PRIu64
           ") reordered: %" PRIu64 " delay p50: %.2f ms p99: %.2f ms\n",
           st.injected, st.delivered, st.lost, st.too_big, st.reordered, st.owd_p50_us / 1e3,
           st.owd_p99_us / 1e3);
    ret = 0;
out:
    free(res);
    sim_replay_free(rp);
    sim_scenario_free(sc);
    return ret;
}

int sim_replay_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim replay";
    const char *pcap = NULL, *scn = NULL, *data_dir = NULL, *strategy = NULL,
               *aggregation = NULL, *direction = "auto", *out = NULL, *db = DEFAULT_DB;
    const char *seed_text = NULL;
    bool no_db = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(a, "--no-db") == 0) {
            no_db = true;
            continue;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--scenario", &scn)) ||
            (m = sim_opt_value(argc, argv, &i, "--strategy", &strategy)) ||
            (m = sim_opt_value(argc, argv, &i, "--aggregation", &aggregation)) ||
            (m = sim_opt_value(argc, argv, &i, "--direction", &direction)) ||
            (m = sim_opt_value(argc, argv, &i, "--seed", &seed_text)) ||
            (m = sim_opt_value(argc, argv, &i, "--out", &out)) ||
            (m = sim_opt_value(argc, argv, &i, "--db", &db)) ||
            (m = sim_opt_value(argc, argv, &i, "--data-dir", &data_dir))) {
            if (m < 0)
                return 2;
            continue;
        }
        if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                return 2;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return sim_usage_error("unknown option '%s'", a);
        if (pcap != NULL)
            return sim_usage_error("one capture at a time (got '%s' and '%s')", pcap, a);
        pcap = a;
    }
    if (pcap == NULL)
        return sim_usage_error("no capture given (FILE.pcap or FILE.pcapng)");
    if (scn == NULL)
        return sim_usage_error("--scenario FILE.scn is required (the uplinks to replay over)");
    uint64_t seed = 0;
    if (seed_text != NULL && !sim_parse_u64(seed_text, 0, UINT64_MAX, true, &seed))
        return sim_usage_error("--seed: expected a whole number (decimal or 0x-hex, 64 bits), "
                           "got '%s'",
                           seed_text);
    if (*db == '\0')
        return sim_usage_error("--db: expected a database path");
    char scn_path[PATH_MAX];
    scn = sim_share_scenario(scn, scn_path, sizeof scn_path);
    char *command = sim_command_line("triglav-sim", argc, argv);
    int rc = run_replay(pcap, scn, data_dir, strategy, aggregation, direction, seed_text != NULL,
                        seed, out, no_db ? NULL : db, command);
    free(command);
    return rc;
}
