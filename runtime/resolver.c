/* Names resolved through the tunnel (resolver.h). */
#define _GNU_SOURCE
#include <limits.h> /* SSIZE_MAX, before lwIP */
#include <stdio.h>

#include "resolver.h"

#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#define RETRY TG_SEC(2)
#define TRIES 3

size_t rt_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name)
{
    size_t n = strlen(name), at = 12;
    if (n == 0 || n > 253 || cap < 12 + n + 2 + 4)
        return 0;
    static const uint8_t hdr[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}; /* RD, 1 question */
    memcpy(out, hdr, 12);
    out[0] = (uint8_t)(id >> 8);
    out[1] = (uint8_t)id;
    for (const char *p = name; *p != '\0';) {
        size_t l = strcspn(p, ".");
        if (l == 0 || l > 63)
            return 0;
        for (size_t i = 0; i < l; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                return 0;
        }
        out[at++] = (uint8_t)l;
        memcpy(out + at, p, l);
        at += l;
        p += l;
        if (*p == '.')
            p++;
    }
    out[at++] = 0;
    out[at++] = 0, out[at++] = 1; /* A */
    out[at++] = 0, out[at++] = 1; /* IN */
    return at;
}

/* Past one name at msg[at] (labels or a pointer); 0 when malformed. */
static size_t skip_name(const uint8_t *msg, size_t len, size_t at)
{
    for (int labels = 0; at < len && labels < 128; labels++) {
        uint8_t l = msg[at];
        if (l == 0)
            return at + 1;
        if ((l & 0xc0) == 0xc0)
            return at + 2 <= len ? at + 2 : 0;
        if (l & 0xc0)
            return 0;
        at += 1u + l;
    }
    return 0;
}

int rt_dns_answer(const uint8_t *msg, size_t len, uint16_t id, uint8_t addr[4])
{
    if (len < 12 || ((msg[0] << 8) | msg[1]) != id || !(msg[2] & 0x80) || (msg[3] & 0x0f) != 0)
        return -1;
    unsigned qd = (unsigned)(msg[4] << 8 | msg[5]), an = (unsigned)(msg[6] << 8 | msg[7]);
    size_t at = 12;
    for (unsigned i = 0; i < qd; i++) {
        if ((at = skip_name(msg, len, at)) == 0 || at + 4 > len)
            return -1;
        at += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        if ((at = skip_name(msg, len, at)) == 0 || at + 10 > len)
            return -1;
        unsigned type = (unsigned)(msg[at] << 8 | msg[at + 1]);
        unsigned cls = (unsigned)(msg[at + 2] << 8 | msg[at + 3]);
        size_t rdlen = (size_t)(msg[at + 8] << 8 | msg[at + 9]);
        at += 10;
        if (at + rdlen > len)
            return -1;
        if (type == 1 && cls == 1 && rdlen == 4) {
            memcpy(addr, msg + at, 4);
            return 0;
        }
        at += rdlen;
    }
    return -1;
}

static void send_query(struct rt_resolver *r, struct rt_resolver_q *q)
{
    uint8_t buf[300];
    size_t n = rt_dns_query(buf, sizeof buf, q->id, q->name);
    struct pbuf *p = n > 0 ? pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM) : NULL;
    q->sent = r->now;
    q->tries++;
    if (p == NULL)
        return;
    pbuf_take(p, buf, (u16_t)n);
    ip_addr_t to;
    IP_ADDR4(&to, r->server[0], r->server[1], r->server[2], r->server[3]);
    udp_sendto(r->pcb, p, &to, 53);
    pbuf_free(p);
}

static void on_answer(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *from,
                      u16_t port)
{
    struct rt_resolver *r = arg;
    (void)pcb, (void)from, (void)port;
    uint8_t msg[1500];
    u16_t n = pbuf_copy_partial(p, msg, sizeof msg, 0);
    pbuf_free(p);
    if (n < 2)
        return;
    uint16_t id = (uint16_t)(msg[0] << 8 | msg[1]);
    for (unsigned i = 0; i < RT_RESOLVER_SLOTS; i++) {
        struct rt_resolver_q *q = &r->q[i];
        uint8_t addr[4];
        if (!q->used || q->id != id)
            continue;
        q->used = false;
        r->fn(r->ctx, i, rt_dns_answer(msg, n, id, addr) == 0 ? addr : NULL);
        return;
    }
}

int rt_resolver_open(struct rt_resolver *r, const uint8_t server[4], rt_resolved_fn fn, void *ctx)
{
    memset(r, 0, sizeof *r);
    struct udp_pcb *pcb = udp_new();
    if (pcb == NULL)
        return -1;
    udp_recv(pcb, on_answer, r);
    r->pcb = pcb;
    memcpy(r->server, server, 4);
    r->fn = fn;
    r->ctx = ctx;
    r->next_id = 0x5a5a;
    return 0;
}

void rt_resolver_close(struct rt_resolver *r)
{
    if (r->pcb != NULL)
        udp_remove(r->pcb);
    r->pcb = NULL;
}

int rt_resolver_ask(struct rt_resolver *r, unsigned slot, const char *name)
{
    uint8_t probe[300];
    if (slot >= RT_RESOLVER_SLOTS || rt_dns_query(probe, sizeof probe, 0, name) == 0)
        return -1;
    struct rt_resolver_q *q = &r->q[slot];
    *q = (struct rt_resolver_q){.used = true, .id = r->next_id};
    r->next_id = (uint16_t)(r->next_id * 75u + 74u); /* ids differ between queries */
    snprintf(q->name, sizeof q->name, "%s", name);
    send_query(r, q);
    return 0;
}

void rt_resolver_cancel(struct rt_resolver *r, unsigned slot)
{
    if (slot < RT_RESOLVER_SLOTS)
        r->q[slot].used = false;
}

void rt_resolver_tick(struct rt_resolver *r, tg_time now)
{
    r->now = now;
    for (unsigned i = 0; i < RT_RESOLVER_SLOTS; i++) {
        struct rt_resolver_q *q = &r->q[i];
        if (!q->used || now - q->sent < RETRY)
            continue;
        if (q->tries >= TRIES) {
            q->used = false;
            r->fn(r->ctx, i, NULL);
        } else {
            send_query(r, q);
        }
    }
}
