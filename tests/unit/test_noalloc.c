/* No allocation on the per-packet path: 100 000 packets through wire framing,
 * seal, parse and open (with the replay check), while every malloc, calloc,
 * realloc and free the core makes is counted (the link redirects them here
 * with --wrap). A control allocation through tg_alloc_zeroed proves the
 * counter sees the core's calls. */
#include "check.h"
#include "core/alloc.h"
#include "core/transport.h"

#include <sodium.h>
#include <stdlib.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

static long allocations;

void *__wrap_malloc(size_t size)
{
    allocations++;
    return __real_malloc(size);
}
void *__wrap_calloc(size_t n, size_t size)
{
    allocations++;
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t size)
{
    allocations++;
    return __real_realloc(p, size);
}
void __wrap_free(void *p)
{
    allocations++;
    __real_free(p);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    struct tg_noise_cipher k1 = {.has_key = true}, k2 = {.has_key = true};
    struct tg_noise_cipher k3 = {.has_key = true}, k4 = {.has_key = true};
    randombytes_buf(k1.k, sizeof k1.k);
    randombytes_buf(k2.k, sizeof k2.k);
    k3 = k2;
    k4 = k1;
    static struct tg_transport tx, rx;
    tg_transport_init(&tx, &k1, &k2, 1, 2);
    tg_transport_init(&rx, &k3, &k4, 2, 1);

    /* control: the counter sees allocations made inside the core */
    long before = allocations;
    void *p = tg_alloc_zeroed(NULL, 64);
    tg_alloc_free(NULL, p);
    CHECK_EQ(allocations - before, 2);

    static uint8_t pkt[2048], ip[1400];
    randombytes_buf(ip, sizeof ip);
    long opened = 0;
    before = allocations;
    for (uint64_t n = 0; n < 100000; n++) {
        size_t off = 0, len = 0, plain = 0;
        uint8_t *inner = pkt + TG_DATA_HEADER_LEN;
        int rc = tg_frame_put_data(inner, sizeof pkt - TG_DATA_OVERHEAD, &off, 0, n, n * 10, 1, ip,
                                   (uint16_t)(n % sizeof ip));
        rc |= tg_transport_seal(&tx, pkt, off, sizeof pkt, &len);
        struct tg_wire_msg m;
        rc |= tg_wire_parse(pkt, len, &m);
        rc |= tg_transport_open(&rx, &m, pkt, &plain);
        size_t r = 0;
        struct tg_frame f;
        rc |= tg_frame_next(inner, plain, &r, &f) == 1 ? 0 : -1;
        opened += rc == TG_OK && f.u.data.seq == n;
    }
    CHECK_EQ(opened, 100000);
    CHECK_EQ(allocations - before, 0);
    printf("allocations over 100000 packets: %ld\n", allocations - before);
    return check_exit("test_noalloc");
}
