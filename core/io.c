/* The fixed rings an endpoint owns once (datagrams out, IP packets for the
 * TUN side, events) and the counters of what passed through them. */
#include "mpath.h"

#include <string.h>


int tg_queue_init(struct tg_queue *q, uint32_t slots, uint32_t slot_bytes,
                  const struct tg_allocator *a)
{
    memset(q, 0, sizeof *q);
    if (slots == 0 || slot_bytes == 0)
        return TG_ERR_INVAL;
    q->buf = tg_alloc_zeroed(a, (size_t)slots * slot_bytes);
    q->meta = tg_alloc_zeroed(a, (size_t)slots * sizeof *q->meta);
    if (q->buf == NULL || q->meta == NULL) {
        tg_queue_clear(q, a);
        return TG_ERR_NOMEM;
    }
    q->slots = slots;
    q->slot_bytes = slot_bytes;
    return TG_OK;
}

void tg_queue_clear(struct tg_queue *q, const struct tg_allocator *a)
{
    tg_alloc_free(a, q->buf);
    tg_alloc_free(a, q->meta);
    memset(q, 0, sizeof *q);
}

uint8_t *tg_queue_reserve(struct tg_queue *q)
{
    if (q->count == q->slots)
        return NULL;
    if (q->count == 0)
        q->head = 0; /* the slot used last: still in the cache */
    uint32_t i = (q->head + q->count) % q->slots;
    return q->buf + (size_t)i * q->slot_bytes;
}

void tg_queue_push(struct tg_queue *q, const struct tg_datagram *meta, size_t len)
{
    uint32_t i = (q->head + q->count) % q->slots;
    q->meta[i] = *meta;
    q->meta[i].data = q->buf + (size_t)i * q->slot_bytes;
    q->meta[i].len = len;
    q->count++;
}

bool tg_queue_pop(struct tg_queue *q, struct tg_datagram *out)
{
    if (q->count == 0)
        return false;
    *out = q->meta[q->head];
    q->head = (q->head + 1) % q->slots;
    q->count--;
    return true;
}

void tg_io_event(struct tg_io *io, const struct tg_event *ev)
{
    enum { N = sizeof io->events / sizeof io->events[0] };
    if (io->ev_count == N) { /* keep the newest: drop the oldest */
        io->ev_head = (io->ev_head + 1) % N;
        io->ev_count--;
    }
    io->events[(io->ev_head + io->ev_count) % N] = *ev;
    io->ev_count++;
}

void tg_io_drop(struct tg_io *io, enum tg_drop why)
{
    io->counters.drops[why]++;
}

void tg_io_tun_push(struct tg_io *io, const uint8_t *pkt, size_t len)
{
    if (len > io->tun.slot_bytes) { /* a peer with a larger max_packet */
        tg_io_drop(io, TG_DROP_TOO_BIG);
        return;
    }
    uint8_t *slot = tg_queue_reserve(&io->tun);
    if (slot == NULL) {
        tg_io_drop(io, TG_DROP_QUEUE_FULL);
        return;
    }
    memcpy(slot, pkt, len);
    const struct tg_datagram d = {0};
    tg_queue_push(&io->tun, &d, len);
    io->counters.tun_out++;
    io->counters.tun_out_bytes += len;
}

uint8_t *tg_io_reserve_out(struct tg_io *io)
{
    uint8_t *buf = tg_queue_reserve(&io->out);
    if (buf == NULL)
        tg_io_drop(io, TG_DROP_QUEUE_FULL);
    return buf;
}

void tg_io_push_out(struct tg_io *io, const struct tg_datagram *meta, size_t len)
{
    tg_queue_push(&io->out, meta, len);
    io->counters.dgram_out++;
}

bool tg_io_pop_tun(struct tg_io *io, const uint8_t **pkt, size_t *len)
{
    struct tg_datagram d;
    if (!tg_queue_pop(&io->tun, &d))
        return false;
    *pkt = d.data;
    *len = d.len;
    return true;
}

bool tg_io_pop_event(struct tg_io *io, struct tg_event *out)
{
    if (io->ev_count == 0)
        return false;
    *out = io->events[io->ev_head];
    io->ev_head = (io->ev_head + 1) % (sizeof io->events / sizeof io->events[0]);
    io->ev_count--;
    return true;
}

