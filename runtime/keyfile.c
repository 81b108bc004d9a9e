/* Server key files. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "keyfile.h"
#include "sys.h"

void rt_key_generate(uint8_t priv[32])
{
    randombytes_buf(priv, 32);
}

void rt_key_public(const uint8_t priv[32], uint8_t pub[32])
{
    crypto_scalarmult_base(pub, priv);
}

int rt_keyfile_write(const char *path, const uint8_t priv[32])
{
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    char text[200];
    sodium_bin2base64(b64, sizeof b64, priv, 32, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(text, sizeof text,
                     "# Triglav server private key: keep it secret.\nprivate_key = \"%s\"\n", b64);
    int rc = rt_file_create(path, text, (size_t)n, 0600);
    sodium_memzero(b64, sizeof b64);
    sodium_memzero(text, sizeof text);
    return rc;
}

int rt_keyfile_read(const char *path, uint8_t priv[32], char *err, size_t errcap)
{
    if (errcap > 0)
        err[0] = '\0';
    char text[4096];
    ssize_t n = rt_file_read(path, text, sizeof text);
    if (n < 0) {
        snprintf(err, errcap, "cannot read key file %s: %s", path, rt_file_strerror((int)n));
        return (int)n;
    }
    int rc = -EINVAL;
    int line = 0;
    for (char *s = strtok(text, "\n"); s != NULL; s = strtok(NULL, "\n")) {
        line++;
        char b64[128];
        if (sscanf(s, " private_key = \"%127[^\"]\"", b64) != 1)
            continue;
        size_t len = 0;
        if (sodium_base642bin(priv, 32, b64, strlen(b64), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            len == 32)
            rc = 0;
        else
            snprintf(err, errcap,
                     "%s:%d: private_key is not 32 bytes of base64; make a new key with "
                     "`triglav keygen --output FILE`",
                     path, line);
        sodium_memzero(b64, sizeof b64);
        break;
    }
    if (rc != 0 && err[0] == '\0')
        snprintf(err, errcap,
                 "%s has no line `private_key = \"...\"`: it is not a Triglav key file "
                 "(make one with `triglav keygen --output FILE`)",
                 path);
    sodium_memzero(text, sizeof text);
    return rc;
}

int rt_key_string(const uint8_t pub[32], const struct tg_key_addr *addrs, size_t n, char *out,
                  size_t cap)
{
    struct tg_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.server_public, pub, 32);
    if (n > TG_KEY_MAX_ADDRS)
        n = TG_KEY_MAX_ADDRS;
    memcpy(k.addrs, addrs, n * sizeof *addrs);
    k.n_addrs = n;
    size_t len;
    return tg_key_encode(&k, out, cap, &len);
}
