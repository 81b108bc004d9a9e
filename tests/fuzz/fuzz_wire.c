/* Fuzz the cleartext message parser and the inner frame decoder: any input
 * is either refused with an error or parsed into fields that stay inside it. */
#include "core/cookie.h"
#include "core/wire.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_wire_msg m;
    if (tg_wire_parse(data, size, &m) == TG_OK) {
        /* the body runs to the end, or to the MACs of a handshake message */
        const uint8_t *end = m.macs != NULL ? m.macs : data + size;
        if (m.body < data || m.body + m.body_len != end ||
            (m.macs != NULL && m.macs + TG_MACS_LEN != data + size))
            __builtin_trap();
    }
    /* the same bytes as a decrypted plaintext */
    size_t off = 0;
    struct tg_frame f;
    int rc;
    unsigned sum = 0;
    while ((rc = tg_frame_next(data, size, &off, &f)) == 1) {
        if (off > size)
            __builtin_trap();
        if (f.type == TG_FRAME_DATA) {
            if (f.u.data.packet < data || f.u.data.packet + f.u.data.len > data + size)
                __builtin_trap();
            for (uint16_t k = 0; k < f.u.data.len; k++) /* touch every byte: ASan checks */
                sum += f.u.data.packet[k];
        }
    }
    return (int)(sum & 0);
}
