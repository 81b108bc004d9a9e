/*
 * key.c: the tg1_ connection key. A hand-written base64url codec (RFC 4648
 * §5, no padding) rather than sodium_base642bin, because the decoder must say
 * *which* rule a pasted key breaks, and libsodium only says "invalid" (and
 * 1.0.18 even decodes bytes >= 0x80 as if they were '_').
 */
#include "key.h"

#include <string.h>

/* Most base64 characters and bytes a valid key can have. The character count
 * is a multiple of 4, so its first KEY_CHARS_MAX characters are whole quads. */
#define KEY_CHARS_MAX (TG_KEY_STRING_MAX - 1 - TG_KEY_PREFIX_LEN)
#define KEY_BYTES_MAX (KEY_CHARS_MAX / 4 * 3)
#define RECORD_MAX    (1 + 16 + 2) /* an IPv6 record */

_Static_assert(KEY_CHARS_MAX % 4 == 0, "the decode cut-off must fall on a quad boundary");
_Static_assert(KEY_BYTES_MAX == TG_KEY_PUBLIC_LEN + TG_KEY_MAX_ADDRS * RECORD_MAX,
               "the decode buffer holds exactly the longest valid key");

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a base64url character, or -1. Ranges rather than a
 * 256-entry table: bytes >= 0x80 and NUL fall out naturally. */
static int b64_value(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Address bytes of a record type, or 0 for an unknown type. */
static size_t addr_len(uint8_t type)
{
    return type == TG_ADDR_IPV4 ? 4 : type == TG_ADDR_IPV6 ? 16 : 0;
}

int tg_key_encode(const struct tg_key *key, char *out, size_t cap, size_t *out_len)
{
    uint8_t bin[KEY_BYTES_MAX];
    size_t n = TG_KEY_PUBLIC_LEN;
    int err = TG_OK;

    if (key->n_addrs > TG_KEY_MAX_ADDRS) {
        err = TG_ERR_KEY_TOO_MANY;
        goto out;
    }
    memcpy(bin, key->server_public, TG_KEY_PUBLIC_LEN);
    for (size_t i = 0; i < key->n_addrs; i++) {
        const struct tg_key_addr *a = &key->addrs[i];
        size_t alen = addr_len(a->type);
        if (alen == 0) {
            err = TG_ERR_KEY_ADDR_TYPE;
            goto out;
        }
        if (a->port == 0) {
            err = TG_ERR_KEY_PORT;
            goto out;
        }
        bin[n] = a->type;
        memcpy(bin + n + 1, a->addr, alen);
        bin[n + 1 + alen] = (uint8_t)(a->port >> 8);
        bin[n + 2 + alen] = (uint8_t)(a->port & 0xff);
        n += 3 + alen;
    }

    size_t len = TG_KEY_PREFIX_LEN + (n * 4 + 2) / 3; /* no padding */
    if (cap < len + 1) {
        err = TG_ERR_NOBUF;
        goto out;
    }
    memcpy(out, TG_KEY_PREFIX, TG_KEY_PREFIX_LEN);
    size_t o = TG_KEY_PREFIX_LEN;
    uint32_t acc = 0; /* bits not yet written, at most 12 */
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | bin[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0) /* the unused low bits of the last character are zero */
        out[o++] = alphabet[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    *out_len = o;
out:
    if (err != TG_OK) {
        if (cap > 0)
            out[0] = '\0';
        *out_len = 0;
    }
    return err;
}

static int decode(const char *s, size_t len, struct tg_key *out)
{
    if (len < TG_KEY_PREFIX_LEN || memcmp(s, TG_KEY_PREFIX, TG_KEY_PREFIX_LEN) != 0)
        return TG_ERR_KEY_PREFIX;
    const char *b64 = s + TG_KEY_PREFIX_LEN;
    size_t b64_len = len - TG_KEY_PREFIX_LEN;

    /* The base64 layer is checked over the whole string before anything is
     * decoded, so its errors take precedence over the records'. */
    for (size_t i = 0; i < b64_len; i++)
        if (b64_value(b64[i]) < 0)
            return TG_ERR_KEY_CHAR;
    size_t tail = b64_len % 4; /* characters after the last whole quad */
    if (tail == 1)
        return TG_ERR_KEY_LENGTH; /* 6 bits: not even one byte */
    /* 2 tail characters carry 1 byte and 4 unused bits, 3 carry 2 bytes and 2 */
    if (tail > 0 && (b64_value(b64[b64_len - 1]) & (tail == 2 ? 0x0f : 0x03)) != 0)
        return TG_ERR_KEY_BITS;
    size_t n = b64_len / 4 * 3 + (tail > 0 ? tail - 1 : 0); /* decoded bytes */
    if (n < TG_KEY_PUBLIC_LEN)
        return TG_ERR_KEY_SHORT;

    /* A key longer than the longest valid one is an error, but not
     * necessarily TG_ERR_KEY_TOO_MANY: a bad record among the first 16 comes
     * first. The first 16 records, and the start of a 17th, all lie within
     * KEY_BYTES_MAX bytes (asserted above), so decoding only that much into
     * the fixed buffer and parsing against the true length `n` reports
     * exactly what a decoder with an unbounded buffer would. */
    uint8_t bin[KEY_BYTES_MAX];
    size_t n_chars = b64_len < KEY_CHARS_MAX ? b64_len : KEY_CHARS_MAX;
    size_t o = 0;
    uint32_t acc = 0; /* bits not yet stored, at most 12 */
    unsigned bits = 0;
    for (size_t i = 0; i < n_chars; i++) {
        acc = (acc << 6) | (uint32_t)b64_value(b64[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bin[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    memcpy(out->server_public, bin, TG_KEY_PUBLIC_LEN);
    size_t pos = TG_KEY_PUBLIC_LEN;
    while (pos < n) {
        if (out->n_addrs == TG_KEY_MAX_ADDRS)
            return TG_ERR_KEY_TOO_MANY;
        /* Here at most 15 records precede pos, so a whole record from pos
         * ends within KEY_BYTES_MAX: every byte read below was decoded. */
        uint8_t type = bin[pos];
        size_t alen = addr_len(type);
        if (alen == 0)
            return TG_ERR_KEY_ADDR_TYPE;
        if (n - pos < 3 + alen)
            return TG_ERR_KEY_ADDR_TRUNCATED;
        struct tg_key_addr *a = &out->addrs[out->n_addrs++];
        a->type = type;
        memcpy(a->addr, bin + pos + 1, alen);
        a->port = (uint16_t)(bin[pos + 1 + alen] << 8 | bin[pos + 2 + alen]);
        if (a->port == 0)
            return TG_ERR_KEY_PORT;
        pos += 3 + alen;
    }
    return TG_OK;
}

int tg_key_decode(const char *s, size_t len, struct tg_key *out)
{
    memset(out, 0, sizeof *out);
    int err = decode(s, len, out);
    if (err != TG_OK)
        memset(out, 0, sizeof *out);
    return err;
}
