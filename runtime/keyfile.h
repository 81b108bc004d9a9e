/*
 * keyfile.h: the server's private key on disk and the tg1_ connection key
 * made from it. The file is TOML-shaped text, mode 0600:
 *   # Triglav server private key: keep it secret.
 *   private_key = "<standard base64 of 32 bytes>"
 */
#ifndef RT_KEYFILE_H
#define RT_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/key.h"

/* A fresh X25519 private key from the OS random source. */
void rt_key_generate(uint8_t priv[32]);
void rt_key_public(const uint8_t priv[32], uint8_t pub[32]);
/* Write a new key file (refuses to overwrite: -EEXIST). Returns 0 or -errno. */
int rt_keyfile_write(const char *path, const uint8_t priv[32]);
/* Read a key file; returns 0, or -errno / -EINVAL (not a key file) with a
 * sentence in err. */
int rt_keyfile_read(const char *path, uint8_t priv[32], char *err, size_t errcap);
/* The tg1_ key of public key `pub` and addresses; returns 0 or a TG_ERR_*. */
int rt_key_string(const uint8_t pub[32], const struct tg_key_addr *addrs, size_t n, char *out,
                  size_t cap);

#endif
