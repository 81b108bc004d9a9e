/*
 * key.h: the `tg1_` connection key that a server hands to its clients.
 *
 *   tg1_ || base64url-no-padding( server_public_key[32] || record* )
 *   record = 1 || IPv4[4]  || port[2, big-endian]
 *          | 2 || IPv6[16] || port[2, big-endian]
 *
 * The key is parsed after the fixed 4-character prefix; '_' and '-' belong to
 * the base64url alphabet and are never separators. Decoding is strict: each
 * kind of malformation has its own TG_ERR_KEY_* code so the user is told what
 * is wrong with what they pasted. Pure: no allocation, no I/O.
 */
#ifndef TG_KEY_H
#define TG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TG_KEY_PREFIX "tg1_"
#define TG_KEY_PREFIX_LEN 4
#define TG_KEY_PUBLIC_LEN 32
#define TG_KEY_MAX_ADDRS 16
/* Longest encoded key including the terminating NUL:
 * prefix + base64 of 32 + 16 * 19 bytes, rounded up. */
#define TG_KEY_STRING_MAX (TG_KEY_PREFIX_LEN + ((TG_KEY_PUBLIC_LEN + TG_KEY_MAX_ADDRS * 19) * 4 + 2) / 3 + 1)

enum tg_addr_type { TG_ADDR_IPV4 = 1, TG_ADDR_IPV6 = 2 };

struct tg_key_addr {
    uint8_t type;     /* enum tg_addr_type */
    uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 bytes, rest zero */
    uint16_t port;    /* host byte order, never 0 */
};

struct tg_key {
    uint8_t server_public[TG_KEY_PUBLIC_LEN]; /* X25519 public key */
    size_t n_addrs;                           /* 0..TG_KEY_MAX_ADDRS */
    struct tg_key_addr addrs[TG_KEY_MAX_ADDRS];
};

/* Encode `key` as a NUL-terminated string in out[0..cap); *out_len gets the
 * length without the NUL. The output is canonical: tg_key_decode() of it gives
 * back `key`, and re-encoding that gives the same string. Only the first 4
 * bytes of an IPv4 address are encoded (they decode with the rest zero). A
 * buffer of TG_KEY_STRING_MAX always suffices. On error *out_len is 0
 * and, if cap > 0, out is the empty string.
 * Returns TG_OK; TG_ERR_NOBUF; TG_ERR_KEY_TOO_MANY (n_addrs above
 * TG_KEY_MAX_ADDRS); TG_ERR_KEY_ADDR_TYPE; TG_ERR_KEY_PORT. */
int tg_key_encode(const struct tg_key *key, char *out, size_t cap, size_t *out_len) TG_MUST_CHECK;

/* Decode the `len` characters at s (no NUL needed; surrounding whitespace is
 * not trimmed and is an error). Reads only s[0..len); s may be NULL when len
 * is 0. Never allocates: decodes into a stack buffer of the longest valid key.
 * On error *out is zeroed.
 * Returns TG_OK or one of TG_ERR_KEY_PREFIX, _CHAR, _LENGTH, _BITS, _SHORT,
 * _ADDR_TYPE, _ADDR_TRUNCATED, _TOO_MANY, _PORT (checked in that order of
 * precedence: prefix, then every character, then length, then bits, then the
 * decoded bytes front to back). Zero address records is valid here; whether
 * such a key is usable is the caller's decision. A key longer than the
 * longest valid one gives _TOO_MANY unless one of its first 16 records is
 * already bad. */
int tg_key_decode(const char *s, size_t len, struct tg_key *out) TG_MUST_CHECK;

#endif
