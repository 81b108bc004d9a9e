/* proxy mode's userspace TCP/IP stack: lwIP over the tunnel (stack.h). */
#define _GNU_SOURCE
#include <limits.h> /* SSIZE_MAX, before lwIP */
#include <stdio.h>

#include "stack.h"

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

static struct {
    bool open, has_addr;
    struct netif nif;
    unsigned mtu;
    rt_stack_out_fn out;
    void *ctx;
    uint64_t drops;
    uint8_t buf[65536];
} st;

static err_t send_out(struct pbuf *p)
{
    const uint8_t *data = p->payload;
    if (p->next != NULL) { /* a chain: gather it */
        pbuf_copy_partial(p, st.buf, p->tot_len, 0);
        data = st.buf;
    }
    st.out(st.ctx, data, p->tot_len);
    return ERR_OK;
}

static err_t out4(struct netif *n, struct pbuf *p, const ip4_addr_t *to)
{
    (void)n, (void)to;
    return send_out(p);
}

static err_t out6(struct netif *n, struct pbuf *p, const ip6_addr_t *to)
{
    (void)n, (void)to;
    return send_out(p);
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 't';
    n->name[1] = 'g';
    n->output = out4;
    n->output_ip6 = out6;
    n->mtu = (u16_t)st.mtu;
    return ERR_OK;
}

int rt_stack_open(unsigned mtu, rt_stack_out_fn out, void *ctx)
{
    static bool initialised; /* lwIP's globals are set up once per process */
    if (st.open)
        return -1;
    if (!initialised) {
        lwip_init();
        initialised = true;
    }
    st.open = true;
    st.has_addr = false;
    st.mtu = mtu;
    st.out = out;
    st.ctx = ctx;
    st.drops = 0;
    if (netif_add(&st.nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, nif_init, ip_input) ==
        NULL) {
        st.open = false;
        return -1;
    }
    netif_set_default(&st.nif);
    return 0;
}

void rt_stack_close(void)
{
    if (!st.open)
        return;
    netif_remove(&st.nif);
    st.open = false;
}

void rt_stack_set_addr(const uint8_t addr[4], uint8_t prefix)
{
    ip4_addr_t ip, mask, gw;
    uint32_t m = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    IP4_ADDR(&ip, addr[0], addr[1], addr[2], addr[3]);
    IP4_ADDR(&mask, m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
    gw = ip; /* every destination is on the tunnel "wire" */
    netif_set_addr(&st.nif, &ip, &mask, &gw);
    netif_set_up(&st.nif);
    netif_set_link_up(&st.nif);
    st.has_addr = true;
}

bool rt_stack_has_addr(void)
{
    return st.has_addr;
}

void rt_stack_input(const uint8_t *pkt, size_t len)
{
    if (!st.open || !st.has_addr || len == 0 || len > 0xffff) {
        st.drops++;
        return;
    }
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM); /* one piece */
    if (p == NULL) {
        st.drops++;
        return;
    }
    pbuf_take(p, pkt, (u16_t)len);
    if (st.nif.input(p, &st.nif) != ERR_OK) {
        pbuf_free(p);
        st.drops++;
    }
}

tg_time rt_stack_deadline(tg_time now)
{
    if (!st.open)
        return TG_TIME_NEVER;
    u32_t ms = sys_timeouts_sleeptime();
    return ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? TG_TIME_NEVER : now + TG_MSEC(ms);
}

void rt_stack_tick(void)
{
    if (st.open)
        sys_check_timeouts();
}

uint64_t rt_stack_drops(void)
{
    return st.drops;
}
