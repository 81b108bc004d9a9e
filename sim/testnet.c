/*
 * testnet.c: `triglav-sim live plan|has|record` (testnet.h). The key of a
 * live run is computed here from the scenario file, exactly as `run` and
 * `emulate` compute it (content hash, sim_iteration_seed), so the script
 * never has to know how seeds are made.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r, open flags (infile.h) */
#include "testnet.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "infile.h"
#include "db.h"
#include "run.h"
#include "scenario.h"

const char sim_usage_live[] =
    "usage: triglav-sim live plan FILE.scn [--iteration I] [--seed S]\n"
    "       triglav-sim live has --db DB --scenario FILE.scn --strategy S --aggregation A\n"
    "                            [--iteration I] [--seed S]\n"
    "       triglav-sim live record --db DB --scenario FILE.scn --strategy S --aggregation A\n"
    "                            [--iteration I] [--seed S] --duration-s X [measurements]\n"
    "       triglav-sim live probe send|recv ...   (triglav-sim live probe --help)\n"
    "       triglav-sim live web serve|fetch ...   (triglav-sim live web --help)\n"
    "\n"
    "The simulator's side of the testnet (scripts/testnet.sh), which runs a scenario\n"
    "with the live programs through `triglav-sim emulate`:\n"
    "  plan    prints the scenario as the testnet plays it, one 'key value...' per\n"
    "          line: scenario, file, hash, duration_s, iteration, seed (the\n"
    "          iteration's, as `run` and `emulate` draw it), strategies, aggregations,\n"
    "          'uplink INDEX NAME' and 'flow INDEX KIND DIR CC COUNT START_S STOP_S\n"
    "          BYTES PPS PACKET_BYTES THINK_S VIDEO_BPS MSS' (STOP_S '-': until the\n"
    "          end)\n"
    "  has     prints 'yes' if a live run of that key is stored, else 'no'\n"
    "  record  stores one live run in the results database (table live_runs),\n"
    "          under the key of the simulated run of the same scenario, strategy,\n"
    "          aggregation, iteration and seed, so `report --fidelity` pairs them\n"
    "\n"
    "options:\n"
    "  --db PATH            results database (created, or upgraded, if needed)\n"
    "  --scenario FILE.scn  the scenario the live run played\n"
    "  --strategy S, --aggregation A   what both live ends ran with\n"
    "  --iteration I        the emulator's iteration (default 0)\n"
    "  --seed S             base seed, decimal or 0x-hex (default: the scenario's)\n"
    "  --data-dir DIR       where `data:` trace paths resolve\n"
    "record's measurements (each optional but --duration-s; a missing one is NULL):\n"
    "  --duration-s X       wall-clock seconds the traffic ran\n"
    "  --goodput-mbps X     bulk TCP flows together (application bytes)\n"
    "  --owd-p50-ms X, --owd-p95-ms X, --owd-p99-ms X   the voice flow's one-way delay\n"
    "  --loss X             voice datagrams lost / sent (0..1)\n"
    "  --session-up-ms X    the tunnel was up this long after the client started\n"
    "  --from FILE          the same measurements as 'KEY VALUE' lines (duration_s,\n"
    "                       goodput_mbps, owd_p50_ms, owd_p95_ms, owd_p99_ms, loss,\n"
    "                       session_up_ms; '#' starts a comment); a key given twice,\n"
    "                       in the file or also as an option, is an error\n"
    "  --method TEXT        how it was measured (for people)\n"
    "  --replace            replace a stored live run of the same key (default: keep\n"
    "                       it, store nothing and say so)\n"
    "\n"
    "exit status: 0 done; 1 a scenario, database or --from file error; 2 bad usage\n";

/* The measurements record takes, by index: option, key in a --from file,
 * largest value. */
enum { M_DURATION, M_GOODPUT, M_P50, M_P95, M_P99, M_LOSS, M_SESSION_UP, M_COUNT };
static const struct {
    const char *opt, *key;
    double max;
} meas[M_COUNT] = {
    [M_DURATION] = {"--duration-s", "duration_s", 1e7},
    [M_GOODPUT] = {"--goodput-mbps", "goodput_mbps", 1e7},
    [M_P50] = {"--owd-p50-ms", "owd_p50_ms", 1e7},
    [M_P95] = {"--owd-p95-ms", "owd_p95_ms", 1e7},
    [M_P99] = {"--owd-p99-ms", "owd_p99_ms", 1e7},
    [M_LOSS] = {"--loss", "loss", 1},
    [M_SESSION_UP] = {"--session-up-ms", "session_up_ms", 1e7},
};

/* Everything the three verbs take; a measurement not given stays NAN. */
struct live_args {
    const char *file, *db, *data_dir, *method, *from;
    const char *strategy, *aggregation;
    uint64_t iteration, seed;
    bool has_seed, replace;
    double m[M_COUNT];
    bool given[M_COUNT];
};

/* A number in [0, max] (no NaN, no infinity); false if v is not one. */
static bool parse_number(const char *v, double max, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno != 0 || !(x >= 0) || x > max)
        return false;
    *out = x;
    return true;
}

/* Read "KEY VALUE" lines (meas[].key; '#' comments and blank lines skipped)
 * from a->from into a->m. A key given twice, in the file or also on the
 * command line, is an error. Returns 0, or 1 after saying "FILE:LINE: what
 * was expected" (never the line's bytes). */
static int read_from(struct live_args *a)
{
    char why[256];
    int64_t size;
    FILE *f = sim_infile_open(a->from, 1 << 20, &size, why, sizeof why);
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", sim_cmd_name, a->from, why);
        return 1;
    }
    char line[256];
    unsigned no = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "%s: %s:%u: line longer than %zu bytes\n", sim_cmd_name, a->from, no,
                    sizeof line - 2);
            rc = 1;
            break;
        }
        char *save, *key = strtok_r(line, " \t\r\n", &save);
        if (!key || key[0] == '#')
            continue;
        char *val = strtok_r(NULL, " \t\r\n", &save), *extra = strtok_r(NULL, " \t\r\n", &save);
        size_t k = 0;
        while (k < M_COUNT && strcmp(key, meas[k].key) != 0)
            k++;
        if (k == M_COUNT) {
            fprintf(stderr, "%s: %s:%u: unknown key; expected one of", sim_cmd_name, a->from, no);
            for (size_t j = 0; j < M_COUNT; j++)
                fprintf(stderr, "%s %s", j ? "," : "", meas[j].key);
            fputc('\n', stderr);
            rc = 1;
        } else if (a->given[k]) {
            fprintf(stderr, "%s: %s:%u: %s given twice (in this file or also as %s)\n",
                    sim_cmd_name, a->from, no, meas[k].key, meas[k].opt);
            rc = 1;
        } else if (!val || extra || !parse_number(val, meas[k].max, &a->m[k])) {
            fprintf(stderr, "%s: %s:%u: %s: expected 'KEY VALUE' with one number from 0 to %g\n",
                    sim_cmd_name, a->from, no, meas[k].key, meas[k].max);
            rc = 1;
        } else {
            a->given[k] = true;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: %s: read error\n", sim_cmd_name, a->from);
        rc = 1;
    }
    fclose(f);
    return rc;
}

/* Returns 0; 1 (a --from file is wrong) or 2 (bad usage) after saying what is
 * wrong; 3: --help printed. */
static int parse_args(int argc, char **argv, bool measurements, struct live_args *a)
{
    for (size_t k = 0; k < M_COUNT; k++)
        a->m[k] = NAN;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        int m;
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(sim_usage_live, stdout);
            return 3;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--db", &v)) != 0) {
            if (m < 0)
                return 2;
            a->db = v;
            continue;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--scenario", &v)) != 0) {
            if (m < 0)
                return 2;
            a->file = v;
            continue;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--strategy", &v)) != 0) {
            if (m < 0)
                return 2;
            a->strategy = v;
            continue;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--aggregation", &v)) != 0) {
            if (m < 0)
                return 2;
            a->aggregation = v;
            continue;
        }
        if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0)
                return 2;
            a->data_dir = v;
            continue;
        }
        if ((m = sim_opt_iteration(argc, argv, &i, &a->iteration)) != 0) {
            if (m < 0)
                return 2;
            continue;
        }
        if ((m = sim_opt_seed(argc, argv, &i, &a->seed)) != 0) {
            if (m < 0)
                return 2;
            a->has_seed = true;
            continue;
        }
        bool matched = false;
        for (size_t k = 0; measurements && k < M_COUNT; k++) {
            if ((m = sim_opt_value(argc, argv, &i, meas[k].opt, &v)) != 0) {
                if (m < 0)
                    return 2;
                if (a->given[k])
                    return sim_usage_error("%s given twice", meas[k].opt);
                if (!parse_number(v, meas[k].max, &a->m[k]))
                    return sim_usage_error("%s: expected a number from 0 to %g, got '%s'",
                                           meas[k].opt, meas[k].max, v);
                a->given[k] = matched = true;
                break;
            }
        }
        if (matched)
            continue;
        if (measurements && (m = sim_opt_value(argc, argv, &i, "--from", &v)) != 0) {
            if (m < 0)
                return 2;
            if (a->from)
                return sim_usage_error("--from given twice");
            a->from = v;
            continue;
        }
        if (measurements && (m = sim_opt_value(argc, argv, &i, "--method", &v)) != 0) {
            if (m < 0)
                return 2;
            a->method = v;
            continue;
        }
        if (measurements && strcmp(o, "--replace") == 0) {
            a->replace = true;
            continue;
        }
        return sim_usage_error("unknown option '%s'", o);
    }
    if (!a->db)
        return sim_usage_error("no --db given");
    if (!a->file)
        return sim_usage_error("no --scenario given");
    if (!a->strategy || !a->aggregation)
        return sim_usage_error("--strategy and --aggregation are required");
    if (a->from && read_from(a) != 0)
        return 1;
    if (measurements && !a->given[M_DURATION])
        return sim_usage_error("no --duration-s given (how long the traffic ran)");
    return 0;
}

/* A regular file, loaded; NULL after saying why. */
static struct sim_scenario *load(const char *file, const char *data_dir)
{
    struct stat sb;
    if (stat(file, &sb) != 0) {
        fprintf(stderr, "%s: %s: %s\n", sim_cmd_name, file, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "%s: %s: not a regular file\n", sim_cmd_name, file);
        return NULL;
    }
    struct sim_scenario *sc = NULL;
    char err[1024];
    if (sim_scenario_load(file, data_dir, &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return sc;
}

static int cmd_plan(int argc, char **argv)
{
    const char *file = NULL, *data_dir = NULL;
    uint64_t iteration = 0, seed = 0;
    bool has_seed = false;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        int m;
        if (o[0] != '-') {
            if (file)
                return sim_usage_error("one scenario file only ('%s' and '%s')", file, o);
            file = o;
        } else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(sim_usage_live, stdout);
            return 0;
        } else if ((m = sim_opt_iteration(argc, argv, &i, &iteration)) != 0) {
            if (m < 0)
                return 2;
        } else if ((m = sim_opt_seed(argc, argv, &i, &seed)) != 0) {
            if (m < 0)
                return 2;
            has_seed = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0)
                return 2;
            data_dir = v;
        } else {
            return sim_usage_error("unknown option '%s'", o);
        }
    }
    if (!file)
        return sim_usage_error("no scenario file given");
    struct sim_scenario *sc = load(file, data_dir);
    if (!sc)
        return 1;
    uint64_t base = has_seed ? seed : sc->seed;
    printf("scenario %s\nfile %s\nhash %016" PRIx64 "\nduration_s %.3f\n", sc->name, file,
           sc->content_hash, (double)sc->duration_us / 1e6);
    printf("base_seed %" PRIu64 "\niteration %" PRIu64 "\nseed 0x%016" PRIx64 "\n", base, iteration,
           sim_iteration_seed(base, sc, (uint32_t)iteration));
    printf("strategies");
    for (size_t i = 0; i < sc->n_strategies; i++)
        printf("%s%s", i ? "," : " ", tg_strategy_name(sc->strategies[i]));
    printf("\naggregations");
    for (size_t i = 0; i < sc->n_aggregations; i++)
        printf("%s%s", i ? "," : " ", tg_aggregation_name(sc->aggregations[i]));
    printf("\n");
    for (size_t i = 0; i < sc->n_uplinks; i++)
        printf("uplink %zu %s\n", i, sc->uplinks[i].name);
    for (size_t i = 0; i < sc->n_flows; i++) {
        const struct sim_flow_config *c = &sc->flows[i].cfg;
        bool tcp = c->kind == SIM_FLOW_TCP || c->kind == SIM_FLOW_WEB;
        printf("flow %zu %s %s %s %" PRIu32 " %.3f ", i, sim_flow_kind_name(c->kind),
               c->dir == SIM_DIR_UP ? "up" : "down", tcp ? sim_cc_name(c->cc) : "-", sc->flows[i].count,
               (double)c->start_us / 1e6);
        if (c->stop_us == TG_TIME_NEVER)
            printf("-");
        else
            printf("%.3f", (double)c->stop_us / 1e6);
        printf(" %" PRIu64 " %g %" PRIu32 " %.3f %.0f %" PRIu32 "\n", c->bytes, c->pkt_rate,
               c->pkt_bytes, (double)c->think_us / 1e6, c->video_bps, c->mss);
    }
    sim_scenario_free(sc);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* The key and the open database of has/record; 0, 1 (said why) or 2. */
static int open_key(struct live_args *a, struct sim_scenario **sc, struct sim_db_run_key *k,
                    struct sim_db **db)
{
    if (tg_strategy_parse(a->strategy, &k->strategy) != 0)
        return sim_usage_error("--strategy: no strategy '%s'", a->strategy);
    if (tg_aggregation_parse(a->aggregation, &k->aggregation) != 0)
        return sim_usage_error("--aggregation: expected none, full or adaptive, got '%s'",
                               a->aggregation);
    if ((*sc = load(a->file, a->data_dir)) == NULL)
        return 1;
    k->scenario_hash = (*sc)->content_hash;
    k->iteration = (uint32_t)a->iteration;
    k->seed = sim_iteration_seed(a->has_seed ? a->seed : (*sc)->seed, *sc, k->iteration);
    char err[1024];
    if (sim_make_parent(a->db) != 0)
        return 1;
    if (sim_db_open(a->db, db, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        return 1;
    }
    return 0;
}

static int cmd_has_record(int argc, char **argv, bool record)
{
    struct live_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, record, &a);
    if (rc)
        return rc == 3 ? 0 : rc;
    struct sim_scenario *sc = NULL;
    struct sim_db *db = NULL;
    struct sim_db_run_key k;
    char err[1024] = "";
    rc = open_key(&a, &sc, &k, &db);
    if (rc)
        goto out;
    rc = 1;
    if (!record) {
        bool found;
        if (sim_db_has_live(db, &k, &found, err, sizeof err) != 0)
            fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        else
            rc = printf("%s\n", found ? "yes" : "no") > 0 ? 0 : 1;
        goto out;
    }
    struct sim_db_live l = {
        .scenario = sc->name,
        .scenario_file = a.file,
        .key = k,
        .duration_s = a.m[M_DURATION],
        .goodput_mbps = a.m[M_GOODPUT],
        .owd_p50_ms = a.m[M_P50],
        .owd_p95_ms = a.m[M_P95],
        .owd_p99_ms = a.m[M_P99],
        .loss = a.m[M_LOSS],
        .session_up_ms = a.m[M_SESSION_UP],
        .method = a.method,
    };
    int stored = sim_db_insert_live(db, &l, a.replace, err, sizeof err);
    if (stored < 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        goto out;
    }
    printf("%s: live run of %s %s/%s iteration %" PRIu32 " (seed 0x%016" PRIx64 ") %s\n", a.db,
           sc->name, a.strategy, a.aggregation, k.iteration, k.seed,
           stored ? "stored" : "already stored: kept the earlier one (--replace replaces it)");
    rc = 0;
out:
    sim_db_close(db);
    sim_scenario_free(sc);
    return rc;
}

int sim_live_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim live";
    if (argc < 3 || strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) {
        fputs(sim_usage_live, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    const char *verb = argv[2];
    if (strcmp(verb, "plan") == 0)
        return cmd_plan(argc, argv);
    if (strcmp(verb, "has") == 0)
        return cmd_has_record(argc, argv, false);
    if (strcmp(verb, "record") == 0)
        return cmd_has_record(argc, argv, true);
    if (strcmp(verb, "probe") == 0)
        return sim_live_probe_main(argc - 2, argv + 2);
    if (strcmp(verb, "web") == 0)
        return sim_live_web_main(argc - 2, argv + 2);
    return sim_usage_error("unknown verb '%s' (plan, has, record, probe, web)", verb);
}
