/*
 * resolver.h: names of proxy mode's destinations, resolved through the
 * tunnel. An A query goes to the configured DNS server over the userspace
 * stack (stack.h), so the local network's resolver never sees the name;
 * it is asked again after 2 s, and given up after 3 tries. The first
 * address of the answer is used (IPv4 only: the tunnel is IPv4 first).
 *
 * rt_dns_query and rt_dns_answer are the message parts alone: no sockets,
 * and an answer is read only within its length (they are fuzzed).
 */
#ifndef RT_RESOLVER_H
#define RT_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

#define RT_RESOLVER_SLOTS 256

/* A query for `name`'s A records with id; returns its length, or 0 when
 * the name is not a valid host name or does not fit. */
size_t rt_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name);
/* The first A record of an answer to id: 0 and addr, or -1 (not an answer
 * to id, malformed, an error code, no A record). */
int rt_dns_answer(const uint8_t *msg, size_t len, uint16_t id, uint8_t addr[4]);

/* The answer for query `slot`: addr, or NULL when there is none. */
typedef void (*rt_resolved_fn)(void *ctx, unsigned slot, const uint8_t addr[4]);

struct rt_resolver_q {
    bool used;
    uint16_t id;
    int tries;
    tg_time sent;
    char name[256];
};

struct rt_resolver {
    void *pcb; /* lwIP's udp_pcb */
    uint8_t server[4];
    rt_resolved_fn fn;
    void *ctx;
    uint16_t next_id;
    tg_time now;
    struct rt_resolver_q q[RT_RESOLVER_SLOTS];
};

int rt_resolver_open(struct rt_resolver *r, const uint8_t server[4], rt_resolved_fn fn, void *ctx);
void rt_resolver_close(struct rt_resolver *r);
/* Asks for name on behalf of slot; the answer comes through fn (maybe at
 * once, never from inside this call). Returns 0, or -1 (bad name). */
int rt_resolver_ask(struct rt_resolver *r, unsigned slot, const char *name);
void rt_resolver_cancel(struct rt_resolver *r, unsigned slot);
/* Asks again or gives up; call now and then. */
void rt_resolver_tick(struct rt_resolver *r, tg_time now);

#endif
