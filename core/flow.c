#include "flow.h"

#include <sodium.h>
#include <string.h>

_Static_assert(crypto_shorthash_siphash24_BYTES == 8, "SipHash-2-4 gives 64 bits");
_Static_assert(crypto_shorthash_siphash24_KEYBYTES == TG_FLOW_KEY_LEN, "SipHash key is 16 bytes");

static void encode(uint8_t out[TG_FLOW_ENCODING_LEN], const struct tg_ip_info *ip)
{
    /* Only the bytes the version uses are copied, so whatever a caller left
     * in the rest of a hand-built tg_ip_info does not reach the hash. */
    size_t alen = ip->version == 4 ? 4 : 16;
    uint16_t sport = ip->has_ports ? ip->src_port : 0;
    uint16_t dport = ip->has_ports ? ip->dst_port : 0;

    memset(out, 0, TG_FLOW_ENCODING_LEN);
    out[0] = ip->version;
    out[1] = ip->proto;
    memcpy(out + 2, ip->src, alen);
    memcpy(out + 18, ip->dst, alen);
    out[34] = (uint8_t)(sport >> 8);
    out[35] = (uint8_t)sport;
    out[36] = (uint8_t)(dport >> 8);
    out[37] = (uint8_t)dport;
}

uint64_t tg_flow_hash(const uint8_t key[TG_FLOW_KEY_LEN], const struct tg_ip_info *ip)
{
    uint8_t msg[TG_FLOW_ENCODING_LEN];
    uint8_t h[crypto_shorthash_siphash24_BYTES];

    encode(msg, ip);
    crypto_shorthash_siphash24(h, msg, sizeof msg, key);
    uint64_t v = 0;
    for (size_t i = sizeof h; i-- > 0;)
        v = v << 8 | h[i];
    return v;
}

int tg_flow_hash_packet(const uint8_t key[TG_FLOW_KEY_LEN], const uint8_t *pkt, size_t len,
                        uint64_t *out)
{
    struct tg_ip_info ip;
    *out = 0;
    int err = tg_ip_parse(pkt, len, &ip);
    if (err != TG_OK)
        return err;
    *out = tg_flow_hash(key, &ip);
    return TG_OK;
}
