/* Fuzz the tg1_ key decoder: any input either decodes, and then encodes back
 * to exactly the same bytes (the accepted form is canonical), or is refused
 * with a TG_ERR_KEY_* code and an all-zero *out. */
#include "core/key.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_key key;
    memset(&key, 0xa5, sizeof key); /* so that a missed zeroing shows */
    int rc = tg_key_decode((const char *)data, size, &key);
    if (rc == TG_OK) {
        char s[TG_KEY_STRING_MAX];
        size_t len;
        if (key.n_addrs > TG_KEY_MAX_ADDRS)
            __builtin_trap();
        if (tg_key_encode(&key, s, sizeof s, &len) != TG_OK)
            __builtin_trap();
        if (len != size || s[len] != '\0' || memcmp(s, data, size) != 0)
            __builtin_trap();
    } else {
        if (rc > TG_ERR_KEY_PREFIX || rc < TG_ERR_KEY_PORT)
            __builtin_trap();
        const uint8_t *p = (const uint8_t *)&key;
        for (size_t i = 0; i < sizeof key; i++)
            if (p[i] != 0)
                __builtin_trap();
    }
    return 0;
}
