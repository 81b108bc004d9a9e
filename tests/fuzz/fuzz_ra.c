/* Fuzz the tunnel's IPv6 address messages (core/ra.c): any bytes either
 * parse as a Router Advertisement, and then an advertisement built from
 * what was read parses to the same prefix, or are refused with zeros; the
 * solicitation test and the host-number arithmetic never read out of
 * bounds, and an address built from a host number gives it back. */
#include "core/ra.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t prefix[16], plen, again[16], again_len, pkt[TG_RA_ADVERT_LEN];
    memset(prefix, 0xa5, sizeof prefix);
    int rc = tg_ra_parse(data, size, prefix, &plen);
    if (rc == TG_OK) {
        if (plen < TG_RA_PREFIX_MIN || plen > TG_RA_PREFIX_MAX)
            __builtin_trap();
        if (tg_ra_advertise(pkt, sizeof pkt, prefix, plen) != TG_OK ||
            tg_ra_parse(pkt, sizeof pkt, again, &again_len) != TG_OK || again_len != plen ||
            memcmp(again, prefix, 16) != 0)
            __builtin_trap();
    } else {
        static const uint8_t zero[16];
        if (rc != TG_ERR_MALFORMED || plen != 0 || memcmp(prefix, zero, 16) != 0)
            __builtin_trap();
    }
    (void)tg_ra_is_solicit(data, size);
    if (size >= 37) { /* prefix, length, host number */
        uint8_t p[16], a[16];
        uint32_t host = 0, back = 0;
        memcpy(p, data, 16);
        uint8_t l = (uint8_t)(data[16] % (TG_RA_PREFIX_MAX + 1));
        memcpy(&host, data + 17, 4);
        tg_ra_addr(p, l, host, a);
        if (!tg_ra_host(p, l, a, &back) || back != host)
            __builtin_trap();
        (void)tg_ra_host(p, l, data + 21, &back);
    }
    return 0;
}
