/*
 * evq.h: the simulator's clock and agenda. Events run in order of (time,
 * insertion sequence), so two runs with the same inputs execute the same
 * events in the same order: that is what makes a seed reproduce its rows.
 *
 * An event is a function, a context pointer and a 64-bit argument. There is
 * no cancellation: a component that reschedules keeps a generation number in
 * its own state and ignores events that carry a stale one (cheaper than
 * deleting from the heap, and events are 32 bytes). The queue is a 4-ary
 * heap that grows by doubling; it allocates only when it grows.
 */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

typedef void (*sim_event_fn)(void *ctx, uint64_t arg, tg_time now);

struct sim_event {
    tg_time at;         /* virtual time, µs */
    uint64_t seq;       /* insertion order, breaks ties */
    sim_event_fn fn;
    void *ctx;
    uint64_t arg;
};

struct sim_evq {
    struct sim_event *heap;
    size_t n, cap;
    uint64_t next_seq;
    tg_time now;        /* time of the event being run (or last run) */
    uint64_t executed;  /* events run so far */
    bool stop;          /* set by an event to end sim_evq_run early */
    bool failed;        /* a push ran out of memory and its event was lost (sticky:
                           the run is not trustworthy; sim_run fails it) */
};

/* Returns 0, or -1 when memory runs out. */
int sim_evq_init(struct sim_evq *q, size_t initial_cap);
void sim_evq_clear(struct sim_evq *q);

/* Schedule fn(ctx, arg, at). `at` earlier than now is run at now (it never
 * goes back in time). Returns 0, or -1 when memory runs out; then the event
 * is lost and q->failed is set for good, so a caller may ignore the result. */
int sim_evq_push(struct sim_evq *q, tg_time at, sim_event_fn fn, void *ctx, uint64_t arg);

/* Run events in order while their time is <= until (and q->stop is false).
 * Afterwards now = until unless stopped. Returns the number of events run. */
uint64_t sim_evq_run(struct sim_evq *q, tg_time until);

/* Time of the earliest pending event, or TG_TIME_NEVER. */
tg_time sim_evq_next(const struct sim_evq *q);

#endif
