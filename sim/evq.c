/*
 * evq.c: a 4-ary min-heap keyed by (at, seq). Four children per node halve
 * the depth of a binary heap and keep siblings in one or two cache lines;
 * sift-down compares them in a row.
 */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

static bool before(const struct sim_event *a, const struct sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int sim_evq_init(struct sim_evq *q, size_t initial_cap)
{
    memset(q, 0, sizeof *q);
    q->cap = initial_cap ? initial_cap : 64;
    q->heap = malloc(q->cap * sizeof *q->heap);
    return q->heap ? 0 : -1;
}

void sim_evq_clear(struct sim_evq *q)
{
    free(q->heap);
    memset(q, 0, sizeof *q);
}

int sim_evq_push(struct sim_evq *q, tg_time at, sim_event_fn fn, void *ctx, uint64_t arg)
{
    if (q->n == q->cap) {
        size_t cap = q->cap * 2;
        struct sim_event *h = realloc(q->heap, cap * sizeof *h);
        if (!h) {
            q->failed = true;
            return -1;
        }
        q->heap = h;
        q->cap = cap;
    }
    struct sim_event e = {at < q->now ? q->now : at, q->next_seq++, fn, ctx, arg};
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&e, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = e;
    return 0;
}

static void pop_top(struct sim_evq *q)
{
    struct sim_event last = q->heap[--q->n];
    size_t i = 0, n = q->n;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c, end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++)
            if (before(&q->heap[k], &q->heap[best]))
                best = k;
        if (!before(&q->heap[best], &last))
            break;
        q->heap[i] = q->heap[best];
        i = best;
    }
    if (n > 0)
        q->heap[i] = last;
}

uint64_t sim_evq_run(struct sim_evq *q, tg_time until)
{
    uint64_t ran = 0;
    q->stop = false;
    while (q->n > 0 && q->heap[0].at <= until && !q->stop) {
        struct sim_event e = q->heap[0];
        pop_top(q);
        q->now = e.at;
        e.fn(e.ctx, e.arg, e.at);
        ran++;
    }
    if (!q->stop && until != TG_TIME_NEVER && until > q->now)
        q->now = until;
    q->executed += ran;
    return ran;
}

tg_time sim_evq_next(const struct sim_evq *q)
{
    return q->n ? q->heap[0].at : TG_TIME_NEVER;
}
