/*
 * campaign.c: plan, run on worker threads, store from the calling thread.
 *
 * Workers take the next planned run under a mutex, run it without any lock
 * and queue the result; the calling thread waits on a condition variable
 * (waking at least every 200 ms to notice signals and redraw the progress
 * line) and stores each result in its own transaction. Only this thread
 * touches SQLite, so the database needs no locking of ours. Workers block
 * SIGINT and SIGTERM, so the handler always runs on the storing thread.
 */
#define _POSIX_C_SOURCE 200809L

#include "campaign.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "errf.h"
#include "run.h"
#include "infile.h"
#include "scenario.h"
#include "sweep.h"

/* One process keeps at most this many planned runs of its shard in memory. */
#define MAX_SHARD_RUNS 50000000u
#define TICK_NS        200000000L /* progress redraw and signal check: 5 per second */

/* A scenario of the plan with its resolved sweep. */
struct scen {
    struct sim_scenario *sc;
    const char *file;
    enum tg_strategy strategies[TG_STRATEGY_COUNT];
    size_t n_strategies;
    enum tg_aggregation aggregations[TG_AGG_COUNT];
    size_t n_aggregations;
    uint32_t iterations;
    uint64_t base_seed;
    const char *sweep_value;        /* with a sweep: this scenario's value (NULL: none) */
    uint32_t sweep_pos;
};

/* A run of this shard that is not stored yet. */
struct job {
    uint32_t scen;
    uint32_t iteration;
    uint64_t seed;
    enum tg_strategy strategy;
    enum tg_aggregation aggregation;
};

struct done {
    const struct job *job;
    struct sim_run_result *res; /* NULL when the run failed (err) */
    double wall_s;
    char err[256];
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a run finished or a worker left */
    const struct scen *scens;
    tg_time series_interval_us;
    const struct job *jobs;
    size_t n_jobs;
    size_t next;     /* next job to hand out */
    bool stop;       /* hand out nothing more */
    unsigned active; /* workers still running */
    size_t running;  /* runs handed out and not yet queued */
    struct done *q;  /* finished runs, FIFO; room for every job */
    size_t q_head, q_tail;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ workers */

static void *worker(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->next < p->n_jobs) {
        const struct job *j = &p->jobs[p->next++];
        p->running++;
        pthread_mutex_unlock(&p->mu);

        struct done d = {.job = j};
        d.res = calloc(1, sizeof *d.res);
        if (d.res == NULL) {
            snprintf(d.err, sizeof d.err, "out of memory");
        } else {
            struct sim_run_spec spec = {
                .sc = p->scens[j->scen].sc,
                .strategy = j->strategy,
                .aggregation = j->aggregation,
                .iteration = j->iteration,
                .seed = j->seed,
                .series_interval_us = p->series_interval_us,
            };
            double t0 = mono_s();
            if (sim_run(&spec, d.res, d.err, sizeof d.err) != 0) {
                free(d.res);
                d.res = NULL;
                if (d.err[0] == '\0')
                    snprintf(d.err, sizeof d.err, "the run failed");
            }
            d.wall_s = mono_s() - t0;
        }

        pthread_mutex_lock(&p->mu);
        p->q[p->q_tail++] = d;
        p->running--;
        pthread_cond_signal(&p->cv);
    }
    p->active--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ------------------------------------------------------------ progress */

struct progress {
    bool on;
    uint64_t total; /* runs of the shard */
    uint64_t base;  /* stored before this call */
    uint64_t done;  /* stored by this call (or found stored meanwhile) */
    double t0, last_draw;
};

static void fmt_duration(char *out, size_t cap, double s)
{
    if (!(s >= 0) || s > 99 * 3600.0) {
        snprintf(out, cap, "--:--");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

static void draw(struct progress *pr, bool force)
{
    if (!pr->on)
        return;
    double now = mono_s();
    if (!force && now - pr->last_draw < (double)TICK_NS * 1e-9)
        return;
    pr->last_draw = now;
    enum { WIDTH = 30 };
    uint64_t have = pr->base + pr->done;
    size_t fill = pr->total ? (size_t)(have * WIDTH / pr->total) : WIDTH;
    char bar[WIDTH + 1];
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    double elapsed = now - pr->t0;
    double rate = elapsed > 0 ? (double)pr->done / elapsed : 0;
    char eta[32];
    if (pr->done > 0 && rate > 0)
        fmt_duration(eta, sizeof eta, (double)(pr->total - have) / rate);
    else
        snprintf(eta, sizeof eta, "--:--");
    fprintf(stderr, "\r[%s] %" PRIu64 "/%" PRIu64 " runs  %.2f runs/s  ETA %s\033[K", bar, have,
            pr->total, rate, eta);
    fflush(stderr);
}

static void clear_line(const struct progress *pr)
{
    if (pr->on) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ------------------------------------------------------------ plan */

/* The file's text, malloc'd (NULL with err). */
static char *read_text(const char *path, size_t *len, char *err, size_t errlen)
{
    char why[256];
    int64_t size;
    FILE *f = sim_infile_open(path, SIM_SCENARIO_MAX_BYTES, &size, why, sizeof why);
    if (f == NULL) {
        sim_errf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    char *text = malloc((size_t)size + 1);
    size_t got = text ? fread(text, 1, (size_t)size, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (text == NULL || bad) {
        sim_errf(err, errlen, "%s: %s", path, text ? "cannot read" : "out of memory");
        free(text);
        return NULL;
    }
    text[got] = '\0';
    *len = got;
    return text;
}

/* The scenario of file `file`, value v of the sweep (v = 0 without one). */
static int load_one(const struct sim_campaign_opts *o, const char *file, size_t v,
                    struct sim_scenario **sc, char *err, size_t errlen)
{
    if (o->sweep == NULL)
        return sim_scenario_load(file, o->data_dir, sc, err, errlen);
    size_t len, out_len;
    char *text = read_text(file, &len, err, errlen);
    if (text == NULL)
        return -1;
    const char *key = o->sweep->key, *value = o->sweep->values[v];
    char *swept = sim_sweep_apply(file, text, len, key, value, &out_len, err, errlen);
    free(text);
    if (swept == NULL)
        return -1;
    char why[1024];
    int rc = sim_scenario_load_text(file, swept, out_len, o->data_dir, NULL, sc, why, sizeof why);
    free(swept);
    if (rc != 0)
        sim_errf(err, errlen, "--sweep %s=%s: %s", key, value, why);
    return rc;
}

static int load_scenarios(const struct sim_campaign_opts *o, struct scen *scens, size_t *n,
                          char *err, size_t errlen)
{
    *n = 0;
    size_t n_values = o->sweep ? o->sweep->n : 1;
    for (size_t fv = 0; fv < o->n_files * n_values; fv++) {
        size_t i = fv / n_values, v = fv % n_values;
        struct scen *s = &scens[*n];
        memset(s, 0, sizeof *s);
        if (load_one(o, o->files[i], v, &s->sc, err, errlen) != 0)
            return -1;
        if (o->sweep) {
            s->sweep_value = o->sweep->values[v];
            s->sweep_pos = (uint32_t)v;
        }
        s->file = o->files[i];
        bool dup = false;
        for (size_t j = 0; j < *n && !dup; j++) {
            if (scens[j].sc->content_hash == s->sc->content_hash) {
                if (o->sweep)
                    fprintf(stderr, "%s: %s=%s gives the same scenario as %s=%s, run once\n",
                            s->file, o->sweep->key, s->sweep_value, o->sweep->key,
                            scens[j].sweep_value);
                else
                    fprintf(stderr, "%s: same content as %s, run once\n", s->file,
                            scens[j].file);
                dup = true;
            }
        }
        if (dup) {
            sim_scenario_free(s->sc);
            s->sc = NULL;
            continue;
        }
        if (o->n_strategies > 0) {
            memcpy(s->strategies, o->strategies, o->n_strategies * sizeof *o->strategies);
            s->n_strategies = o->n_strategies;
        } else {
            memcpy(s->strategies, s->sc->strategies, s->sc->n_strategies * sizeof *s->strategies);
            s->n_strategies = s->sc->n_strategies;
        }
        if (o->n_aggregations > 0) {
            memcpy(s->aggregations, o->aggregations, o->n_aggregations * sizeof *o->aggregations);
            s->n_aggregations = o->n_aggregations;
        } else {
            memcpy(s->aggregations, s->sc->aggregations,
                   s->sc->n_aggregations * sizeof *s->aggregations);
            s->n_aggregations = s->sc->n_aggregations;
        }
        s->iterations = o->iterations > 0 ? o->iterations : s->sc->iterations;
        s->base_seed = o->has_seed ? o->seed : s->sc->seed;
        (*n)++;
    }
    return 0;
}

static struct sim_db_run_key job_key(const struct scen *scens, const struct job *j)
{
    return (struct sim_db_run_key){
        .scenario_hash = scens[j->scen].sc->content_hash,
        .strategy = j->strategy,
        .aggregation = j->aggregation,
        .iteration = j->iteration,
        .seed = j->seed,
    };
}

/* The shard's runs that are not stored yet, in plan order. */
static int plan(const struct sim_campaign_opts *o, const struct scen *scens, size_t n_scens,
                struct sim_db *db, struct job **out, size_t *n_out,
                struct sim_campaign_summary *sum, char *err, size_t errlen)
{
    uint64_t total = 0;
    for (size_t s = 0; s < n_scens; s++)
        total += (uint64_t)scens[s].iterations * scens[s].n_strategies * scens[s].n_aggregations;
    uint64_t mine = total / o->shard_n + (total % o->shard_n > o->shard_k - 1);
    if (mine > MAX_SHARD_RUNS) {
        sim_errf(err, errlen,
             "the plan gives this process %" PRIu64 " runs; at most %u are supported: split it "
             "with --shard K/N",
             mine, MAX_SHARD_RUNS);
        return -1;
    }
    struct job *jobs = malloc((mine ? mine : 1) * sizeof *jobs);
    if (jobs == NULL) {
        sim_errf(err, errlen, "out of memory for %" PRIu64 " runs", mine);
        return -1;
    }
    /* one read transaction for all the lookups, not one each */
    if (sim_db_read_begin(db, err, errlen)) {
        free(jobs);
        return -1;
    }
    size_t n = 0;
    uint64_t index = 0;
    sum->planned = mine;
    for (size_t s = 0; s < n_scens; s++) {
        const struct scen *sc = &scens[s];
        for (uint32_t i = 0; i < sc->iterations; i++) {
            uint64_t seed = sim_iteration_seed(sc->base_seed, sc->sc, i);
            for (size_t a = 0; a < sc->n_strategies; a++) {
                for (size_t b = 0; b < sc->n_aggregations; b++, index++) {
                    if (index % o->shard_n != o->shard_k - 1)
                        continue;
                    struct job j = {(uint32_t)s, i, seed, sc->strategies[a], sc->aggregations[b]};
                    struct sim_db_run_key k = job_key(scens, &j);
                    bool found;
                    if (sim_db_has_run(db, &k, &found, err, errlen)) {
                        sim_db_read_end(db);
                        free(jobs);
                        return -1;
                    }
                    if (found)
                        sum->already++;
                    else
                        jobs[n++] = j;
                }
            }
        }
    }
    sim_db_read_end(db);
    *out = jobs;
    *n_out = n;
    return 0;
}

static int record_campaign(const struct sim_campaign_opts *o, const struct scen *scens,
                           size_t n_scens, struct sim_db *db, int64_t *id, char *err, size_t errlen)
{
    struct sim_db_campaign_scenario *cs = calloc(n_scens ? n_scens : 1, sizeof *cs);
    if (cs == NULL) {
        sim_errf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t total = 0;
    for (size_t s = 0; s < n_scens; s++) {
        cs[s] = (struct sim_db_campaign_scenario){
            .name = scens[s].sc->name,
            .file = scens[s].file,
            .hash = scens[s].sc->content_hash,
            .strategies = scens[s].strategies,
            .n_strategies = scens[s].n_strategies,
            .aggregations = scens[s].aggregations,
            .n_aggregations = scens[s].n_aggregations,
            .iterations = scens[s].iterations,
            .base_seed = scens[s].base_seed,
        };
        total += (uint64_t)scens[s].iterations * scens[s].n_strategies * scens[s].n_aggregations;
    }
    struct sim_db_campaign c = {cs, n_scens, total, o->command};
    int rc = sim_db_campaign(db, &c, id, err, errlen);
    free(cs);
    return rc;
}

/* ------------------------------------------------------------ running */

/* Store one finished run (the calling thread). Returns 0, or -1 (err). */
static int store(struct sim_db *db, const struct scen *scens, const char *o_sweep_key,
                 int64_t campaign_id, const struct done *d, struct sim_campaign_summary *sum, char *err, size_t errlen)
{
    const struct job *j = d->job;
    const struct scen *s = &scens[j->scen];
    if (d->res == NULL) {
        sim_errf(err, errlen, "%s: %s/%s iteration %" PRIu32 " (seed 0x%016" PRIx64 "): %s", s->file,
             tg_strategy_name(j->strategy), tg_aggregation_name(j->aggregation), j->iteration,
             j->seed, d->err);
        return -1;
    }
    struct sim_db_run run = {
        .campaign_id = campaign_id,
        .scenario = s->sc->name,
        .scenario_file = s->file,
        .key = job_key(scens, j),
        .duration_s = (double)s->sc->duration_us * 1e-6,
        .wall_s = d->wall_s,
        .sweep_key = s->sweep_value ? o_sweep_key : NULL,
        .sweep_value = s->sweep_value,
        .sweep_position = s->sweep_pos,
    };
    int rc = sim_db_insert_run(db, &run, d->res, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 1)
        sum->added++;
    else
        sum->raced++;
    return 0;
}

static void deadline_in(struct timespec *ts, long ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ns;
    while (ts->tv_nsec >= 1000000000L) {
        ts->tv_nsec -= 1000000000L;
        ts->tv_sec++;
    }
}

static int run_pool(const struct sim_campaign_opts *o, const struct scen *scens,
                    const struct job *jobs, size_t n_jobs, struct sim_db *db, int64_t campaign_id,
                    struct sim_campaign_summary *sum, struct progress *pr, char *err, size_t errlen)
{
    struct pool p = {.scens = scens,
                     .series_interval_us = o->series_interval_us,
                     .jobs = jobs,
                     .n_jobs = n_jobs};
    p.q = calloc(n_jobs ? n_jobs : 1, sizeof *p.q);
    if (p.q == NULL) {
        sim_errf(err, errlen, "out of memory");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, &ca);
    pthread_condattr_destroy(&ca);

    unsigned n_threads = o->jobs < n_jobs ? o->jobs : (unsigned)n_jobs;
    pthread_t *th = calloc(n_threads ? n_threads : 1, sizeof *th);
    int ret = 0;
    if (th == NULL) {
        sim_errf(err, errlen, "out of memory");
        ret = -1;
        n_threads = 0;
    }
    /* workers inherit a mask without SIGINT and SIGTERM */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    unsigned started = 0;
    for (; started < n_threads; started++) {
        pthread_mutex_lock(&p.mu);
        p.active++;
        pthread_mutex_unlock(&p.mu);
        int rc = pthread_create(&th[started], NULL, worker, &p);
        if (rc != 0) {
            pthread_mutex_lock(&p.mu);
            p.active--;
            pthread_mutex_unlock(&p.mu);
            if (started == 0) {
                sim_errf(err, errlen, "cannot start a worker thread: %s", strerror(rc));
                ret = -1;
            }
            break; /* run with the threads we have */
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    bool announced = false, db_failed = false;
    pthread_mutex_lock(&p.mu);
    for (;;) {
        for (;;) {
            if (got_signal && !announced) {
                announced = true;
                p.stop = true;
                sum->signal = got_signal;
                clear_line(pr);
                fprintf(stderr,
                        "%s: finishing the %zu run(s) in progress, then stopping (a second "
                        "signal abandons them)\n",
                        got_signal == SIGINT ? "interrupted" : "terminated", p.running);
            }
            if (p.q_head != p.q_tail || p.active == 0)
                break;
            struct timespec ts;
            deadline_in(&ts, TICK_NS);
            pthread_cond_timedwait(&p.cv, &p.mu, &ts);
            pthread_mutex_unlock(&p.mu);
            draw(pr, false);
            pthread_mutex_lock(&p.mu);
        }
        if (p.q_head == p.q_tail)
            break; /* no worker left, nothing queued */
        struct done d = p.q[p.q_head++];
        pthread_mutex_unlock(&p.mu);
        /* After a failed run, the runs that did finish are still stored (they
         * need not run again); after a database error nothing more is. */
        char why[1024];
        int rc = db_failed ? 0 : store(db, scens, o->sweep ? o->sweep->key : NULL, campaign_id, &d, sum,
                                         why, sizeof why);
        if (rc != 0) {
            db_failed = d.res != NULL;
            if (ret == 0)
                sim_errf(err, errlen, "%s", why);
        }
        if (d.res != NULL)
            sim_series_free(d.res->series);
        free(d.res);
        pr->done = sum->added + sum->raced;
        draw(pr, false);
        pthread_mutex_lock(&p.mu);
        if (rc != 0) {
            ret = -1;
            p.stop = true;
        }
    }
    pthread_mutex_unlock(&p.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    free(p.q);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return ret;
}

int sim_campaign_run(const struct sim_campaign_opts *o, struct sim_campaign_summary *sum, char *err,
                     size_t errlen)
{
    memset(sum, 0, sizeof *sum);
    double t0 = mono_s();
    if (o->jobs == 0 || o->shard_n == 0 || o->shard_k == 0 || o->shard_k > o->shard_n ||
        o->n_files == 0) {
        sim_errf(err, errlen, "invalid campaign options (jobs, shard or files)");
        return -1;
    }
    size_t cap_scens = o->n_files * (o->sweep ? o->sweep->n : 1);
    struct scen *scens = calloc(cap_scens, sizeof *scens);
    struct sim_db *db = NULL;
    struct job *jobs = NULL;
    size_t n_scens = 0, n_jobs = 0;
    int ret = -1;
    if (scens == NULL) {
        sim_errf(err, errlen, "out of memory");
        return -1;
    }
    if (load_scenarios(o, scens, &n_scens, err, errlen) ||
        sim_db_open(o->db_path, &db, err, errlen) ||
        record_campaign(o, scens, n_scens, db, &sum->campaign_id, err, errlen) ||
        plan(o, scens, n_scens, db, &jobs, &n_jobs, sum, err, errlen))
        goto out;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = (int)SA_RESETHAND; /* a second signal takes the default action */
    got_signal = 0;
    /* a signal ignored by whoever started us (a background job) stays ignored */
    sigaction(SIGINT, NULL, &old_int);
    sigaction(SIGTERM, NULL, &old_term);
    if (old_int.sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);
    if (old_term.sa_handler != SIG_IGN)
        sigaction(SIGTERM, &sa, NULL);

    struct progress pr = {.on = o->progress, .total = sum->planned, .base = sum->already};
    pr.t0 = pr.last_draw = mono_s();
    draw(&pr, true);
    ret = run_pool(o, scens, jobs, n_jobs, db, sum->campaign_id, sum, &pr, err, errlen);
    clear_line(&pr);
    if (ret == 0 && got_signal) {
        sum->signal = got_signal;
        ret = sum->already + sum->added + sum->raced < sum->planned ? 1 : 0;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    free(jobs);
    sim_db_close(db);
    for (size_t i = 0; i < cap_scens; i++)
        if (scens[i].sc != NULL)
            sim_scenario_free(scens[i].sc);
    free(scens);
    sum->wall_s = mono_s() - t0;
    return ret;
}
